"""The population protocol: every (method, country, persona, question) as a work item for the
one runner (``runs.runner``), stored in the run's one store.

A persona is a ``PersonContext`` whose ``context`` is its text: the value descriptors
(value-persona), the demographic facts (demographic) or the country alone (no-persona, one
context per country). The references are registered simulators too, each predicting once per
country and question (persona -1): under split-half ``country-marginal`` is the registered
country marginal without shrinkage or smoothing, fitted on the persona-source halves (so it
*is* each country's weighted persona-source distribution); under held-out-country
``other-countries`` pools every other country (``methods/references.py``); ``uniform`` is the
registered ``chance``. The statistical twin (``value-twin``) answers for every value persona,
fitted once per country on the other countries (``twin.twin_fits``). Every one of them is
stored, so scores and reports are computed from the store alone.
"""

from __future__ import annotations

from ..methods.base import PersonContext
from ..runs.people import persona_context
from ..runs.runner import StudyMethod, WorkItem, WorkKey
from ..survey.survey import Survey
from .personas import MARGINAL, NO_PERSONA, UNIFORM, VALUE, Persona, no_persona_text
from .protocol import HELD_OUT, OTHERS, SPLIT_HALF, TWIN
from .twin import twin_fits

# the registered simulator behind each population reference, with its options, per protocol
PROTOCOL_REFERENCES = {
    SPLIT_HALF: {MARGINAL: ("country-marginal", {"shrinkage": 0.0, "smoothing": 0.0}), UNIFORM: ("chance", {})},
    HELD_OUT: {OTHERS: ("other-countries", {}), UNIFORM: ("chance", {})},
}
REFERENCES = PROTOCOL_REFERENCES[SPLIT_HALF]
ALL_REFERENCES = {name for refs in PROTOCOL_REFERENCES.values() for name in refs}


def reference_methods(references: dict = REFERENCES) -> list[StudyMethod]:
    return [StudyMethod(name, False, None, dict(options), registered) for name, (registered, options) in
            references.items()]


def persona_methods(names: list[str], options: dict | None = None) -> list[StudyMethod]:
    """The LLM persona methods, with their ``--option`` values."""
    return [StudyMethod(n, True, None, dict((options or {}).get(n, {}))) for n in names]


def contexts(method: str, country: str, people: list[Persona], survey: str = "") -> list[tuple[int, PersonContext]]:
    """The persona contexts one method predicts for in one country (``survey``: its name)."""
    if method == NO_PERSONA:
        return [(-1, persona_context(country, no_persona_text(country), survey=survey))]
    if method in ALL_REFERENCES:
        return [(-1, persona_context(country, survey=survey))]
    text = VALUE if method == TWIN else method  # the twin knows what the value persona says: its levels
    return [(p.index, persona_context(country, p.text(text), p.respondent_id, survey)) for p in people]


class PopulationProtocol:
    """Countries × personas × questions. ``llm_qids``: what persona methods (and the twin)
    answer (targets and calibration questions); ``targets``: what the references answer;
    ``source``: the persona-source halves the split-half marginal is fitted on; ``survey``:
    the unmasked survey, whose other countries the held-out methods learn from."""

    def __init__(self, survey: Survey, countries: list[str], people: dict[str, list[Persona]], llm_qids: list[str],
                 targets: list[str], source: Survey | None = None):
        self.survey, self.codebook = survey, survey.codebook
        self.countries, self.people, self.llm_qids, self.targets, self.source = (countries, people, llm_qids,
                                                                                targets, source)

    def items(self, method: StudyMethod) -> list[WorkItem]:
        """One persona's questions in a row (a server's prefix cache then reuses the persona part)."""
        name = method.name
        qids = self.targets if name in ALL_REFERENCES else self.llm_qids
        return [WorkItem(WorkKey(name, -1, -1, c, idx, person.respondent_id, q), None, person)
                for c in self.countries for idx, person in contexts(name, c, self.people[c], self.codebook.title)
                for q in qids]

    def context(self, item: WorkItem) -> PersonContext:
        return item.source

    def prefetch(self, items: list[WorkItem]) -> None:
        pass

    def fits(self, method: StudyMethod):
        if method.name == TWIN:
            return list(twin_fits(self.survey, self.people))
        if method.name == OTHERS:
            return [(self.survey, None)]
        return [(self.source if method.name in ALL_REFERENCES else None, None)]
