"""Cross-fitting: every respondent can be evaluated, and nobody by a model that saw their answers.

A method that learns from respondents (statistical methods, the hybrid's weight) used to be
fitted once on the respondents *outside* the evaluated users, so ``--users`` could never reach
the whole file. With ``fit_groups`` G >= 2 the evaluated users are dealt (seeded) into G groups;
each group is predicted by the method fitted on every other respondent of the file (the other
groups included). With G = 1 the method is fitted once on the respondents who are not
evaluated, as before.
"""

from __future__ import annotations

import random

import pandas as pd

from ..errors import ConfigError
from ..survey.survey import Survey
from .protocol import Split


def user_groups(split: Split) -> list[list[str]]:
    """The evaluated users dealt into ``split.fit_groups`` seeded groups of (nearly) equal size."""
    users = sorted(split.users)
    random.Random(f"{split.seed}:fit-groups").shuffle(users)
    g = max(1, int(split.fit_groups))
    return [sorted(users[i::g]) for i in range(g) if users[i::g]]


def fit_plan(survey: Survey, split: Split) -> list[tuple[pd.Index, set[str] | None]]:
    """[(training respondent ids, users predicted by that fit)]; None = every evaluated user."""
    ids = survey.data.index
    if split.fit_groups <= 1:
        train = ids.difference(pd.Index(split.users))
        if len(train) == 0:
            raise ConfigError("every respondent is evaluated, so nobody is left to fit the statistical methods "
                              "on; use --fit-groups 5 (cross-fitting) or fewer --users")
        return [(train, None)]
    return [(ids.difference(pd.Index(group)), set(group)) for group in user_groups(split)]
