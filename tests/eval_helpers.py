"""Small hand-made surveys, people and fake simulators for the tests (no LLM, no data files)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from valuesim.methods.base import ModelUser, PersonContext, Prediction
from valuesim.survey.model import Profile, Question
from valuesim.survey.survey import Survey
from valuesim.survey.wvs7.bank import load_codebook

CODEBOOK = load_codebook()


def bank_person(seed: int, items: int, max_codes: int = 12, rid: str = "r1", country: str = "DEU") -> PersonContext:
    """A person whose profile answers the first ``items`` bank items with at most ``max_codes``
    options (never Q46, which the tests ask about), with codes drawn by ``seed``."""
    rng = random.Random(seed)
    picks = [q for q in CODEBOOK if q.options and len(q.codes) <= max_codes and q.id != "Q46"][:items]
    return PersonContext(rid, country, Profile(tuple((q, rng.choice(q.codes)) for q in picks)))


def small_survey(n: int = 60, items: list[str] | None = None, seed: int = 0, missing: float = 0.1,
                 countries=("AAA", "BBB", "CCC")) -> Survey:
    """Random valid answers (and some missing codes) to ``items`` (default: 40 bank items
    spread over the categories plus Q262 age and Q223 party)."""
    cb = CODEBOOK
    if items is None:
        by_cat = cb.by_category()
        items = []
        for cat in sorted(by_cat):
            items += [q.id for q in by_cat[cat] if q.kind.value in ("ordinal", "binary", "nominal")
                      and q.id not in ("Q223", "Q266", "Q267", "Q268", "Q272", "Q290")][:5]
        items += ["Q262", "Q223"]
    sub = cb.subset(items)
    rng = np.random.default_rng(seed)
    cols = {"country": rng.choice(list(countries), n), "weight": np.ones(n)}
    for q in sub:
        codes = np.array(q.codes[:12] if q.kind.value != "numeric" else [20, 30, 40, 50])
        v = rng.choice(codes, n).astype("int64")
        v[rng.random(n) < missing] = -1 if rng.random() < 0.5 else -2
        cols[q.id] = pd.array(v, dtype="Int64")
    data = pd.DataFrame(cols, index=pd.Index([f"R{i:04d}" for i in range(n)], name="respondent_id"))
    return Survey(sub, data, source="hand-made test survey", synthetic=True)


class FirstCode:
    """Statistical-style fake: always the lowest code, batch path, records fit calls."""

    def __init__(self, name: str = "first-code", interrupt_after: int | None = None):
        self.name = name
        self.fitted_on: list[set[str]] = []
        self.interrupt_after = interrupt_after
        self.calls = 0

    def fit(self, train: Survey) -> None:
        self.fitted_on.append(set(train.data.index))

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        return Prediction.from_distribution({question.codes[0]: 0.7, question.codes[-1]: 0.3})

    def predict_batch(self, pairs):
        out = []
        for p, q in pairs:
            self.calls += 1
            if self.interrupt_after is not None and self.calls > self.interrupt_after:
                raise KeyboardInterrupt
            out.append(self.predict(p, q))
        return out


class FakeLLM(ModelUser):
    """LLM-style fake (no predict_batch, threaded path): answers from the profile size parity,
    can fail on chosen items and interrupt after N calls. Declared an LLM simulator (ModelUser):
    the one-by-one, threaded path."""

    def __init__(self, name: str = "fake-llm", interrupt_after: int | None = None, fail_items=(),
                 reply: str | None = None):
        self.name = name
        self.interrupt_after = interrupt_after
        self.fail_items = set(fail_items)
        self.calls = 0
        self.seen: list[tuple[str, str, tuple]] = []
        self.reply = reply

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        self.calls += 1
        if self.interrupt_after is not None and self.calls > self.interrupt_after:
            raise KeyboardInterrupt
        self.seen.append((person.respondent_id, question.id, tuple(person.profile.question_ids)))
        if question.id in self.fail_items:
            return Prediction.failure(question, self.reply or "model said nothing usable")
        codes = question.codes
        pick = codes[len(person.profile) % len(codes)]
        trace = {"completion": self.reply or f"Answer: {pick}"}
        return Prediction.from_distribution({c: (0.6 if c == pick else 0.4 / max(1, len(codes) - 1)) for c in codes},
                                            trace=trace)
