"""WVS missing codes in realistic places and amounts.

-3 not applicable is set by the item generators (no spouse, never had a job). Here:
-4 not asked: whole batteries some countries did not field (decided per country and battery,
   deterministically), and every item of an item set a country lacks (no parties, languages);
-1 don't know / -2 no answer: item base rate x the person's don't-know habit x a country factor;
-5 missing: rare.
"""

from __future__ import annotations

import numpy as np

from ..model import Codebook, MissingCode
from .items import DEFAULT_DK, DEFAULT_DK_OTHER, DEFAULT_NA, NOT_ASKED, SECOND_CHOICE, SPECS, item_rng
from .people import People

# Items where "don't know" is rare whatever the default of their category says.
_LOW_DK = {"Q260": 0.0, "Q261": 0.002, "Q262": 0.0005, "Q263": 0.001, "Q273": 0.001, "Q275": 0.002}
_HIGH_DK = {"Q91": 0.12, "Q92": 0.2, "Q93": 0.15, "Q223": 0.10, "Q288": 0.03, "Q287": 0.01}
_HIGH_NA = {"Q223": 0.05, "Q288": 0.02, "Q289": 0.01, "Q290": 0.01}


def not_asked(alpha: str, qid: str) -> bool:
    for items, share in NOT_ASKED:
        if qid in items:
            return item_rng("not-asked", alpha, items[0]).random() < share
    return False


def apply_missing(answers: dict[str, np.ndarray], codebook: Codebook, people: People, rng: np.random.Generator) -> None:
    n = len(people)
    country_factor = np.array([item_rng("dk-country", c.alpha).lognormal(0, 0.35) for c in people.countries])[people.country]
    habit = people.dk_propensity * country_factor
    na_habit = np.sqrt(people.dk_propensity)
    for q in codebook:
        codes = answers.get(q.id)
        if codes is None:
            continue
        for i, c in enumerate(people.countries):
            if not_asked(c.alpha, q.id):
                codes[people.country == i] = int(MissingCode.NOT_ASKED)
        spec = SPECS.get(q.id)
        dk = _LOW_DK.get(q.id, _HIGH_DK.get(q.id))
        if dk is None:
            dk = spec.dk if spec and spec.dk is not None else DEFAULT_DK.get(q.category, DEFAULT_DK_OTHER)
        na = _HIGH_NA.get(q.id, spec.na if spec and spec.na is not None else DEFAULT_NA)
        if q.category == "Demo" and q.id not in _HIGH_NA:
            na = min(na, 0.003)
        jitter = item_rng("dk-item", q.id).uniform(0.7, 1.3)
        u = rng.random(n)
        p_dk = np.minimum(dk * jitter * habit, 0.6)
        p_na = np.minimum(na * na_habit, 0.3)
        answered = codes >= 0
        codes[answered & (u < p_dk)] = int(MissingCode.DONT_KNOW)
        codes[answered & (u >= p_dk) & (u < p_dk + p_na)] = int(MissingCode.NO_ANSWER)
        codes[answered & (u >= 1 - 0.0005)] = int(MissingCode.MISSING)
    # A second choice is missing whenever the first choice is.
    for second, first in SECOND_CHOICE.items():
        if second in answers and first in answers:
            gone = answers[first] < 0
            answers[second][gone] = answers[first][gone]
