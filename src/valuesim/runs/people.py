"""The one place a ``PersonContext`` is built: from a respondent's answers (individual studies,
``valuesim ask``, the estimate) or from a persona's text (population studies)."""

from __future__ import annotations

from typing import Iterable

from ..methods.base import PersonContext
from ..survey.model import Profile, Respondent

NO_PROFILE = Profile(())


def respondent_context(survey, respondent: "Respondent | str", *, include: Iterable[str] | None = None,
                       exclude: Iterable[str] | None = None) -> tuple[Respondent, PersonContext]:
    """A respondent (or their id) and what a simulator may know about them: the profile of their
    answers to ``include`` (default: every item they answered, minus ``exclude``)."""
    resp = survey.respondent(respondent) if isinstance(respondent, str) else respondent
    profile = Profile.from_respondent(resp, survey.codebook, include=include, exclude=exclude or ())
    return resp, PersonContext(resp.id, resp.country, profile, resp.weight, survey=survey.codebook.title,
                               year=resp.year)


def persona_context(country: str, text: str | None = None, respondent_id: str = "", survey: str = "") -> PersonContext:
    """A persona (or a whole country, ``respondent_id`` ''): who it is, in words, and no profile;
    ``survey``: the survey's name, as the persona prompt says it."""
    return PersonContext(str(respondent_id), str(country), NO_PROFILE, 1.0, text, survey=survey)
