"""Full Info baseline (section 5.1, appendix D.1): the whole original profile with the question.

The profile is the paper's Q/options/answer list. When it does not fit the model's context (a
full WVS profile is ~30k tokens; the embedded model has 8k) it is cut to the items that fit,
in questionnaire order, and the trace says so (``overflow="fail"`` records a failure instead).
"""

from __future__ import annotations

from ..survey.model import Question
from .base import PersonContext
from .prompting import OVERFLOW, fit_profile
from .single_prompt import SinglePromptSimulator

RESERVE_TOKENS = 600  # instructions + question + reply


class FullInfo(SinglePromptSimulator):
    name = "full-info"
    prompt = "full_info"
    context_kind = "profile"

    def __init__(self, model, *, overflow: str = "truncate", context_tokens: int | None = None,
                 residence: bool = True, **options):
        super().__init__(model, **options)
        self.residence = bool(residence)
        if overflow not in OVERFLOW:
            raise ValueError(f"overflow must be one of {OVERFLOW}, got {overflow!r}")
        self.overflow = overflow
        self.context_tokens = context_tokens

    def context(self, person: PersonContext, question: Question, trace: dict) -> str:
        text, note = fit_profile(self.model, person.profile, RESERVE_TOKENS, self.overflow, self.context_tokens)
        trace["context"] = {"kind": "profile", "text": text, "items": len(person.profile)}
        if note:
            trace["context"]["note"] = note
        return text


class FullInfoNoResidence(FullInfo):
    """Ablation: Full Info as the paper prompted it, without the country-of-residence line."""

    name = "full-info-no-residence"

    def __init__(self, model, *, residence: bool = False, **options):
        super().__init__(model, residence=residence, **options)


def make_full_info(model=None, **options) -> FullInfo:
    return FullInfo(model, **options)


def make_no_residence(model=None, **options) -> FullInfoNoResidence:
    return FullInfoNoResidence(model, **options)
