"""The individual protocol: every (method, fold, user, target, profile size) of a split.

Users × folds × the profile-size curve become work items for the one runner
(``runs.runner``); a person's context is their answers to the unit's profile items. Methods
that learn are fitted on the respondents outside the evaluated users, or cross-fitted
(``crossfit.fit_plan``).
"""

from __future__ import annotations

from typing import Iterator

import pandas as pd

from ..methods.base import PersonContext
from ..runs.people import respondent_context
from ..runs.runner import StudyMethod, WorkItem, WorkKey
from ..survey.model import Respondent
from ..survey.survey import COUNTRY, Survey
from .crossfit import fit_plan, load_respondents
from .protocol import Split, Unit, answered_items


class IndividualProtocol:
    def __init__(self, survey: Survey, split: Split, curve_methods: set[str] | None = None):
        self.survey, self.split, self.codebook = survey, split, survey.codebook
        shown = split.items + [q for q in split.profile_only if q not in set(split.items)]
        self.units: list[Unit] = list(split.units(answered_items(survey, split.users, shown)))
        self.curve_methods = curve_methods
        valid = survey.subset(split.users).valid(split.items)
        self.truth = {str(u): {q: int(v) for q, v in row.items() if pd.notna(v)} for u, row in valid.iterrows()}
        self.country = survey.data.loc[split.users, COUNTRY].astype(str).to_dict()
        self._respondents: dict[str, Respondent] = {}

    def method_units(self, method: str) -> list[Unit]:
        """The units of ``method``: the profile-size curve only for the curve methods."""
        if self.curve_methods is None or method in self.curve_methods:
            return self.units
        return [u for u in self.units if u.profile_limit < 0]

    def items(self, method: StudyMethod) -> list[WorkItem]:
        """In user order, so a person's context is reused (and a server's prefix cache too)."""
        name, out = method.name, []
        for u in self.method_units(name):
            truth, country = self.truth[u.user], self.country[u.user]
            out += [WorkItem(WorkKey(name, u.fold, u.profile_limit, country, -1, u.user, q), truth[q], u)
                    for q in u.targets]
        return out

    def context(self, item: WorkItem) -> PersonContext:
        unit: Unit = item.source
        resp = self._respondents.get(unit.user)
        if resp is None:
            resp = self._respondents[unit.user] = self.survey.respondent(unit.user)
        return respondent_context(self.survey, resp, include=unit.profile)[1]

    def prefetch(self, items: list[WorkItem]) -> None:
        wanted = {i.key.respondent_id for i in items} - set(self._respondents)
        self._respondents.update(load_respondents(self.survey, sorted(wanted)))  # one block read, not one per user

    def fits(self, method: StudyMethod) -> Iterator[tuple[Survey, set[str] | None]]:
        for train, group in fit_plan(self.survey, self.split):  # one training subset at a time
            yield self.survey.subset(train), group


class OnePerson:
    """The protocol of ``valuesim ask``: one respondent, one question held out of their profile;
    a method that learns is fitted on everyone else in the file."""

    def __init__(self, survey: Survey, respondent_id: str, question_id: str):
        self.survey, self.codebook, self.question_id = survey, survey.codebook, question_id
        self.respondent, self.person = respondent_context(survey, respondent_id, exclude=[question_id])

    def items(self, method: StudyMethod) -> list[WorkItem]:
        p = self.person
        return [WorkItem(WorkKey(method.name, -1, -1, p.country, -1, p.respondent_id, self.question_id),
                         self.respondent.answers.get(self.question_id))]

    def context(self, item: WorkItem) -> PersonContext:
        return self.person

    def prefetch(self, items: list[WorkItem]) -> None:
        pass

    def fits(self, method: StudyMethod) -> list[tuple[Survey, None]]:
        others = [i for i in self.survey.data.index if i != self.respondent.id]
        return [(self.survey.subset(others), None)]
