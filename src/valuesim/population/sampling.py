"""Who the personas are: a seeded split of each country into halves and a weighted draw.

For every country the respondents (sorted by id, then shuffled with a seed derived from the run
seed and the country code) are cut into two halves:

* the **persona-source half** (the first ceil(n/2)): value profiles are drawn from it, and its
  real answers serve as the "country marginal" reference and as the calibration target;
* the **evaluation half**: its W_WEIGHT-weighted answer distribution is the real distribution
  every method is compared with. No answer of these people reaches a prompt.

Personas are drawn *with replacement*, with probability proportional to W_WEIGHT, among the
persona-source respondents who are eligible (positive weight and, for value personas, a position
on at least one value dimension). The same drawn people serve every persona method, so value and
demographic personas are compared on identical samples.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..survey.survey import COUNTRY, WEIGHT, Survey


def country_rng(seed: int, country: str, purpose: str) -> np.random.Generator:
    """A generator that depends only on (seed, country, purpose): stable across runs and Pythons."""
    return np.random.default_rng([int(seed), zlib.crc32(str(country).encode()), zlib.crc32(purpose.encode())])


@dataclass
class CountrySplit:
    country: str
    source_ids: list[str]
    eval_ids: list[str]


def split_country(survey: Survey, country: str, seed: int) -> CountrySplit:
    ids = sorted(map(str, survey.data.index[survey.data[COUNTRY].astype(str) == str(country)]))
    if len(ids) < 2:
        raise DataError(
            f"country {country!r} has {len(ids)} respondents in {survey.source or 'the survey'}; "
            f"it needs at least 2 (countries present: {', '.join(survey.countries[:20])})"
        )
    order = country_rng(seed, country, "split").permutation(len(ids))
    shuffled = [ids[i] for i in order]
    half = (len(ids) + 1) // 2
    return CountrySplit(str(country), shuffled[:half], shuffled[half:])


def check_weights(survey: Survey) -> None:
    """One line when no respondent has a positive survey weight: nobody could be drawn as a
    persona and no distribution weighted (said as such, not as unanswered value items)."""
    w = pd.to_numeric(survey.data[WEIGHT], errors="coerce")
    if not (w > 0).any():
        column = survey.codebook.columns.weight or "weight"
        raise DataError(f"{survey.source or 'the survey'}: every respondent's survey weight ({column}) is 0 or "
                        "missing, so nobody can be drawn as a persona and no answer distribution can be weighted; "
                        f"fix the weights, or remove the {column} column (every respondent then weighs 1.0)")


def weighted_draw(ids: list[str], weights, n: int, rng: np.random.Generator) -> list[str]:
    """n ids drawn with replacement, probability proportional to weight (non-positive = never)."""
    w = np.asarray(weights, dtype="float64")
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    if len(ids) == 0 or w.sum() <= 0:
        raise DataError("no respondent with a positive weight to draw personas from")
    picks = rng.choice(len(ids), size=int(n), replace=True, p=w / w.sum())
    return [ids[i] for i in picks]


def draw_personas(survey: Survey, split: CountrySplit, n: int, seed: int, eligible: pd.Series | None = None) -> list[str]:
    """``n`` respondent ids from the persona-source half, W_WEIGHT-weighted, seeded.

    ``eligible`` (bool Series by respondent id) restricts who may be drawn."""
    ids = list(split.source_ids)
    if eligible is not None:
        ids = [i for i in ids if bool(eligible.get(i, False))]
    if not ids:
        raise DataError(f"no respondent of {split.country} in the persona-source half can be a persona "
                        "(every one lacks the value items or has weight 0)")
    weights = survey.data.loc[ids, WEIGHT].astype("float64").to_numpy()
    return weighted_draw(ids, weights, n, country_rng(seed, split.country, "personas"))


class RealAnswers:
    """The valid answers and weights of a group of respondents, for fast distributions."""

    def __init__(self, survey: Survey, ids: list[str]):
        frame = survey.data.loc[list(ids)]
        self.survey, self.frame = survey, frame
        w = frame[WEIGHT].astype("float64").to_numpy()
        self.weights = np.where(np.isfinite(w) & (w > 0), w, 0.0)
        self._cols: dict[str, np.ndarray] = {}

    def distribution(self, qid: str, codes: tuple[int, ...]) -> tuple[np.ndarray, int]:
        """W_WEIGHT-weighted total of each valid code (missing answers dropped), and how many
        people gave a valid answer (with positive weight)."""
        if qid not in self._cols:
            self._cols[qid] = self.frame[qid].astype("float64").to_numpy()
        col = self._cols[qid]
        counts = np.array([float(self.weights[col == c].sum()) for c in codes])
        n = int(((np.isin(col, codes)) & (self.weights > 0)).sum())
        return counts, n

