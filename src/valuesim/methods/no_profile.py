"""No-profile baseline: the question alone, so the answer is the model's prior."""

from __future__ import annotations

from ..survey.model import Question
from .base import PersonContext
from .single_prompt import SinglePromptSimulator


class NoProfile(SinglePromptSimulator):
    name = "no-profile"
    prompt = "no_profile"

    def context(self, person: PersonContext, question: Question, trace: dict) -> None:
        return None


def make_no_profile(model=None, **options) -> NoProfile:
    return NoProfile(model, **options)
