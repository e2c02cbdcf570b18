"""The one call every simulator answers: predict(person, question) -> Prediction.

A Prediction carries a full distribution over the question's option codes, so the same
output serves individual metrics (accuracy, MAE), population aggregation and calibration.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, runtime_checkable

from ..survey.model import Profile, Question


@dataclass(frozen=True)
class PersonContext:
    """Everything a simulator may know about the target person: never the held-out answers."""

    respondent_id: str
    country: str
    profile: Profile
    weight: float = 1.0
    context: str | None = None  # a persona's text (population methods): who the person is, in words
    survey: str = ""  # the survey the person answered, as prompts name it (the codebook's title)
    year: int | None = None  # the year they answered, when the file says (named beside the country)


@dataclass
class Prediction:
    distribution: dict[int, float]  # option code -> probability, sums to 1
    answer: int  # the single predicted code
    trace: dict[str, Any] = field(default_factory=dict)  # prompts, completions, module analyses
    failed: bool = False  # True when the method could not produce an answer (recorded, not raised)
    error: str = ""

    @classmethod
    def from_distribution(cls, distribution: dict[int, float], trace: dict | None = None) -> "Prediction":
        total = sum(distribution.values())
        dist = {int(k): float(v) / total for k, v in distribution.items()} if total > 0 else {}
        answer = max(dist, key=lambda c: (dist[c], -c)) if dist else 0
        return cls(dist, answer, trace or {})

    @classmethod
    def failure(cls, question: Question, error: str, trace: dict | None = None) -> "Prediction":
        """A recorded failure: uniform distribution so aggregates stay defined, flagged failed."""
        codes = question.codes
        dist = {c: 1.0 / len(codes) for c in codes} if codes else {}
        return cls(dist, codes[0] if codes else 0, trace or {}, failed=True, error=error)


@runtime_checkable
class Simulator(Protocol):
    """A method that predicts a person's answer. What else it can do is declared: by the
    protocols below (methods it implements) and by subclassing ModelUser / EmbedderUser, which
    callers check with ``isinstance`` (never by probing attributes)."""

    name: str

    def predict(self, person: PersonContext, question: Question) -> Prediction: ...


# --- optional capabilities, declared --------------------------------------------------------------
@runtime_checkable
class Fittable(Protocol):
    """Learns from training respondents before it predicts (``fit`` sees training respondents
    only; it returns the simulator)."""

    def fit(self, train: Any) -> Any: ...


@runtime_checkable
class BatchPredictor(Protocol):
    """Predicts many (person, question) pairs at once, faster than one by one."""

    def predict_batch(self, pairs: list[tuple[PersonContext, Question]]) -> list[Prediction]: ...


@runtime_checkable
class PersonPreparer(Protocol):
    """Does per-person work once, before that person's predictions (ValueSim writes the
    backstory); ``prepare`` raises ValuesimError when it cannot."""

    def prepare(self, person: PersonContext) -> Any: ...


class ModelUser(abc.ABC):  # noqa: B024 - a declaration: nothing to implement beyond ``model``
    """Declares an LLM simulator: every request goes through ``model`` (a ``valuesim.llm.Model``,
    None until one is given). A simulator says it is one by subclassing, so an attribute that
    happens to be called ``model`` (a fitted regression, say) declares nothing."""

    model: Any = None


class EmbedderUser(abc.ABC):  # noqa: B024 - a declaration: nothing to implement beyond ``embedder``
    """Declares a simulator that embeds text (RAG's retrieval) through ``embedder``, which may be
    replaced (the estimate's stand-in). Declared by subclassing, as ModelUser."""

    embedder: Any = None


def predict_many(
    simulator: Simulator, pairs: Iterable[tuple[PersonContext, Question]]
) -> list[Prediction]:
    """Batch entry point: a BatchPredictor's own batch path, else one by one."""
    pairs = list(pairs)
    if isinstance(simulator, BatchPredictor):
        return simulator.predict_batch(pairs)
    return [simulator.predict(p, q) for p, q in pairs]
