"""The prediction step of a population run: every (method, country, persona, question) not yet
stored, predicted by a registered simulator and stored in population.sqlite.

A persona is a ``PersonContext`` whose ``context`` is its text: the value descriptors
(value-persona), the demographic facts (demographic) or the country alone (no-persona, one
context per country). The references are simulators too: ``country-marginal`` is the
registered country marginal without shrinkage or smoothing, fitted on the persona-source
halves (so it *is* each country's weighted persona-source distribution), and ``uniform`` is
the registered ``chance``; each predicts once per country and question (persona -1).
LLM methods run through ``runs.execute`` with ``workers`` in flight, the same loop as
``valuesim eval``; the store commits in batches.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from tqdm import tqdm

from ..errors import ValuesimError
from ..methods.base import PersonContext, Prediction, predict_many
from ..methods.persona import NO_PERSONA
from ..runs.execute import execute
from ..runs.store import PopulationStore
from ..survey.model import Profile
from ..survey.survey import Survey
from .personas import MARGINAL, UNIFORM, Persona, no_persona_text

# the registered simulator behind each population reference, with its options
REFERENCES = {MARGINAL: ("country-marginal", {"shrinkage": 0.0, "smoothing": 0.0}), UNIFORM: ("chance", {})}


@dataclass(frozen=True)
class Task:
    method: str
    country: str
    persona: int  # -1: one context per country (no-persona, references)
    question: str
    person: PersonContext


def contexts(method: str, country: str, people: list[Persona]) -> list[tuple[int, PersonContext]]:
    """The persona contexts one method predicts for in one country."""
    empty = Profile(())
    if method == NO_PERSONA:
        return [(-1, PersonContext("", country, empty, 1.0, no_persona_text(country)))]
    if method in REFERENCES:
        return [(-1, PersonContext("", country, empty))]
    return [(p.index, PersonContext(p.respondent_id, country, empty, 1.0, p.text(method))) for p in people]


def tasks(survey: Survey, countries: list[str], method: str, people: dict[str, list[Persona]],
          qids: list[str], done: set) -> list[Task]:
    """Every missing (country, persona, question) of ``method``, one persona's questions in a
    row (a server's prefix cache then reuses the persona part)."""
    return [Task(method, c, idx, q, person) for c in countries for idx, person in contexts(method, c, people[c])
            for q in qids if (method, c, idx, q) not in done]


def _save(store: PopulationStore, t: Task, pred: Prediction, seconds: float) -> None:
    trace = pred.trace or {}
    store.put(t.method, t.country, t.persona, t.question, t.person.respondent_id,
              {} if pred.failed else pred.distribution, trace.get("dist_method", ""), pred.failed,
              str(pred.error or "")[:2000], trace.get("seconds") or seconds, bool(trace.get("cached", False)))


def run_llm_method(sim, todo: list[Task], survey: Survey, store: PopulationStore, workers: int, bar) -> int:
    cb = survey.codebook

    def work(t: Task) -> tuple[Prediction, float]:
        start = time.perf_counter()
        try:
            pred = sim.predict(t.person, cb[t.question])
        except ValuesimError as exc:  # the server failed or the reply was unusable: recorded, retried next run
            pred = Prediction.failure(cb[t.question], str(exc))
        return pred, time.perf_counter() - start

    n = [0]

    def handle(t: Task, result) -> None:
        _save(store, t, *result)
        n[0] += 1
        bar.update(1)

    execute(todo, work, handle, workers, name=f"population-{sim.name}")
    return n[0]


def run_reference(sim, todo: list[Task], survey: Survey, store: PopulationStore, bar) -> int:
    cb = survey.codebook
    start = time.perf_counter()
    preds = predict_many(sim, [(t.person, cb[t.question]) for t in todo])
    each = (time.perf_counter() - start) / max(1, len(todo))
    for t, p in zip(todo, preds):
        _save(store, t, p, each)
    bar.update(len(todo))
    return len(todo)


def predict_all(survey: Survey, source: Survey, countries: list[str], methods: list[str],
                people: dict[str, list[Persona]], llm_qids: list[str], targets: list[str],
                model, store: PopulationStore, workers: int, progress: bool, references: dict = REFERENCES) -> int:
    """Predict and store everything missing; returns the number of new rows. ``references``: the
    reference simulators to store (REFERENCES; none under held-out-country, whose references are
    computed from the other countries when scoring)."""
    from ..methods.registry import get_method

    done = store.done_keys()
    plan = [(m, tasks(survey, countries, m, people, llm_qids, done)) for m in methods]
    plan += [(m, tasks(survey, countries, m, people, targets, done)) for m in references]
    total = sum(len(t) for _, t in plan)
    bar = tqdm(total=total, desc="population", unit="pred", file=sys.stderr, disable=not progress or not total,
               mininterval=0.5)
    new = 0
    try:
        for method, todo in plan:
            if not todo:
                continue
            if method in references:
                name, options = references[method]
                sim = get_method(name, **options)
                sim.fit(source)
                new += run_reference(sim, todo, survey, store, bar)
            else:
                new += run_llm_method(get_method(method, model=model), todo, survey, store, workers, bar)
            store.flush()
    finally:
        bar.close()
        store.flush()
    return new
