"""Fidelity audit: does the backstory still carry the profile? (seeds/002's "information
preservation" claim, measured.)

A seeded sample of the profile's own items, drawn from every theme, is answered from the backstory alone, one option
distribution each (prompts/audit.txt; the response cache makes a repeat free). The recovery rate
(most probable option = the person's answer) is reported beside the chance rate of the same
items (uniform guessing), so "40%" can be read as good for 10-point scales or poor for yes/no.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..errors import ModelError
from ..llm.base import ANSWER_PREFIX, Usage
from ..llm.batch import gather
from ..survey.model import Profile
from .prompting import render, user

MAX_AUDIT_OPTIONS = 20  # items with more codes (ages, years, country lists) are not sampled


@dataclass
class AuditResult:
    n: int
    recovered: int
    failed: int
    chance: float  # expected share recovered by guessing uniformly
    rows: list[dict]
    usage: Usage = field(default_factory=Usage)
    requests: int = 0  # option distributions the model computed (not served from the cache)

    @property
    def share(self) -> float:
        return self.recovered / self.n if self.n else float("nan")

    def as_dict(self) -> dict:
        return {"n": self.n, "recovered": self.recovered, "failed": self.failed,
                "share": round(self.share, 4) if self.n else None, "chance": round(self.chance, 4) if self.n else None,
                "items": [r["question"] for r in self.rows],
                # which sampled answers the story gave back, which not (the viewer's person page)
                "results": [{k: r.get(k) for k in ("question", "truth", "answer", "correct")} for r in self.rows],
                "usage": {**self.usage.as_dict(), "requests": self.requests}}

    def summary(self) -> str:
        return (f"{self.recovered} of {self.n} sampled profile answers recovered from the backstory "
                f"({self.share:.1%}; uniform guessing: {self.chance:.1%}; unanswered: {self.failed})")


def audit_items(profile: Profile, sample: int, seed: int) -> list:
    """A seeded sample of the profile's items drawn theme by theme (the paper's categories) in
    turn, so every theme is audited: ``sample`` items, at least one per theme the profile holds
    (a story that changed its religion paragraph cannot pass on eight items from elsewhere)."""
    items = [(q, c) for q, c in profile.items if 0 < len(q.codes) <= MAX_AUDIT_OPTIONS]
    if sample <= 0 or not items:
        return []
    rng = random.Random(seed)
    themes: dict[str, list] = {}
    for q, c in items:
        themes.setdefault(q.category or "", []).append((q, c))
    order = sorted(themes)
    rng.shuffle(order)
    for name in order:
        rng.shuffle(themes[name])
    n = min(len(items), max(sample, len(themes)))
    chosen: list = []
    for i in range(max(len(v) for v in themes.values())):
        chosen += [themes[name][i] for name in order if i < len(themes[name])]
        if len(chosen) >= n:
            break
    return chosen[:n]


def audit_backstory(model, backstory: str, profile: Profile, *, sample: int = 20, seed: int = 0, gen=None) -> AuditResult:
    """Answer ``sample`` of the profile's own questions from ``backstory`` alone (``gen`` is
    accepted for compatibility and unused: the audit reads one option distribution per item)."""
    chosen = audit_items(profile, sample, seed)
    rows, usage, requests = [], Usage(), 0
    def answer(q, truth) -> tuple[dict, object]:
        messages = user(render("audit", context=backstory, question=q.render()))
        row: dict = {"question": q.id, "category": q.category, "truth": int(truth)}
        dist = None
        try:
            dist = model.option_distribution(messages, [str(c) for c in q.codes], prefix=ANSWER_PREFIX)
            answer = int(dist.answer)
            row.update(answer=answer, correct=answer == int(truth), p_truth=round(dist.probs.get(str(truth), 0.0), 4))
        except (ModelError, ValueError) as exc:
            row.update(answer=None, correct=False, error=str(exc))
        return row, dist

    # the items are independent: in batch mode their requests go out in one round
    for row, dist in gather(lambda q=q, t=t: answer(q, t) for q, t in chosen):
        if dist is not None:
            usage, requests = usage + dist.usage, requests + (not dist.cached)
        rows.append(row)
    recovered = sum(1 for r in rows if r["correct"])
    failed = sum(1 for r in rows if r["answer"] is None)
    chance = sum(1.0 / len(q.codes) for q, _ in chosen) / len(chosen) if chosen else float("nan")
    return AuditResult(len(rows), recovered, failed, chance, rows, usage, requests)
