"""The population protocol: every (method, country, persona, question) as a work item for the
one runner (``runs.runner``), stored in the run's one store.

A persona is a ``PersonContext`` whose ``context`` is its text: the value descriptors
(value-persona), the demographic facts (demographic) or the country alone (no-persona, one
context per country). The references are simulators too: ``country-marginal`` is the
registered country marginal without shrinkage or smoothing, fitted on the persona-source
halves (so it *is* each country's weighted persona-source distribution), and ``uniform`` is
the registered ``chance``; each predicts once per country and question (persona -1).
"""

from __future__ import annotations

from ..methods.base import PersonContext
from ..runs.people import persona_context
from ..runs.runner import StudyMethod, WorkItem
from ..survey.survey import Survey
from .personas import MARGINAL, NO_PERSONA, UNIFORM, Persona, no_persona_text

# the registered simulator behind each population reference, with its options
REFERENCES = {MARGINAL: ("country-marginal", {"shrinkage": 0.0, "smoothing": 0.0}), UNIFORM: ("chance", {})}


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
    if method in REFERENCES:
        return [(-1, persona_context(country, survey=survey))]
    return [(p.index, persona_context(country, p.text(method), p.respondent_id, survey)) for p in people]


class PopulationProtocol:
    """Countries × personas × questions. ``llm_qids``: what persona methods answer (targets and
    calibration questions); ``targets``: what the references answer; ``source``: the
    persona-source halves the references are fitted on."""

    def __init__(self, survey: Survey, countries: list[str], people: dict[str, list[Persona]], llm_qids: list[str],
                 targets: list[str], source: Survey | None = None):
        self.codebook = survey.codebook
        self.countries, self.people, self.llm_qids, self.targets, self.source = (countries, people, llm_qids,
                                                                                targets, source)

    def items(self, method: StudyMethod) -> list[WorkItem]:
        """One persona's questions in a row (a server's prefix cache then reuses the persona part)."""
        name = method.name
        qids = self.targets if name in REFERENCES else self.llm_qids
        return [WorkItem((name, -1, -1, c, idx, person.respondent_id, q), None, person)
                for c in self.countries for idx, person in contexts(name, c, self.people[c], self.codebook.title)
                for q in qids]

    def context(self, item: WorkItem) -> PersonContext:
        return item.source

    def prefetch(self, items: list[WorkItem]) -> None:
        pass

    def fits(self, method: StudyMethod) -> list[tuple[Survey | None, None]]:
        return [(self.source if method.name in REFERENCES else None, None)]
