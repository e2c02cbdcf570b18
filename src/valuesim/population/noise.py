"""The sampling-noise floor of every population metric, per country and question.

Real answers are a sample: even a perfect simulator is compared with a finite evaluation half,
and two random halves of the same country's respondents disagree by some amount. That amount
is the floor no method can be expected to go below. For each country, its respondents (sorted
by id) are shuffled with a seed derived from (run seed, country, split number) and cut into two
halves of ceil(n/2) and floor(n/2), the same sizes as the persona-source and evaluation halves;
each metric is computed between the halves' W_WEIGHT-weighted distributions, and averaged over
``splits`` independent splits. (In the split-half protocol the ``country-marginal`` reference
is one such pair of halves, so its expected error is this floor.)

The floor is an evaluation device: it reads the real answers of the evaluated country, and no
method ever sees it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..survey.model import Kind
from ..survey.survey import COUNTRY, Survey
from .metrics import compare, normalise
from .sampling import RealAnswers, country_rng

FLOOR_METRICS = ("wasserstein_score", "js_distance", "total_variation", "abs_entropy_deviation")


def _shares(col: np.ndarray, w: np.ndarray, codes: tuple[int, ...]) -> np.ndarray | None:
    counts = np.array([w[col == c].sum() for c in codes], dtype="float64")
    return normalise(counts) if counts.sum() > 0 else None


def half_split_distance(col: np.ndarray, weights: np.ndarray, question, rng: np.random.Generator) -> dict | None:
    """Every metric between two random halves of one country's answers ``col`` (raw codes,
    NaN = missing) to ``question``; None when a half has no valid answer."""
    order = rng.permutation(len(col))
    half = (len(col) + 1) // 2
    a = _shares(col[order[:half]], weights[order[:half]], question.codes)
    b = _shares(col[order[half:]], weights[order[half:]], question.codes)
    if a is None or b is None:
        return None
    out = compare(a, b, question.codes, question.kind == Kind.ORDINAL)
    out["abs_entropy_deviation"] = abs(out["entropy_deviation"])
    return out


def noise_floor(survey: Survey, countries: list[str], questions: list[str], seed: int = 0,
                splits: int = 5) -> pd.DataFrame:
    """One row per (country, question): the mean of each metric over ``splits`` random half
    splits, and the country's number of respondents."""
    rows = []
    for c in countries:
        ids = sorted(map(str, survey.data.index[survey.data[COUNTRY].astype(str) == str(c)]))
        real = RealAnswers(survey, ids)  # rows in sorted-id order, as the persona split uses
        for q in questions:
            question = survey.codebook[q]
            col = real.frame[q].to_numpy(dtype="float64", na_value=np.nan)
            found = []
            for k in range(splits if len(ids) >= 2 else 0):
                d = half_split_distance(col, real.weights, question, country_rng(seed, c, f"noise-floor {k}"))
                if d is not None:
                    found.append(d)
            row = {"country": c, "question": q, "respondents": len(ids), "splits": len(found)}
            for m in FLOOR_METRICS:
                vals = [d[m] for d in found if d[m] is not None]
                row[m] = float(np.mean(vals)) if vals else np.nan
            rows.append(row)
    return pd.DataFrame(rows, columns=["country", "question", "respondents", "splits", *FLOOR_METRICS])


def country_floor(floor: pd.DataFrame) -> pd.DataFrame:
    """Per country: the floor averaged over its questions (what a per-country mean error is
    compared with)."""
    if floor.empty:
        return pd.DataFrame(columns=["country", "respondents", *FLOOR_METRICS])
    return floor.groupby("country", sort=False).agg(
        respondents=("respondents", "first"), **{m: (m, "mean") for m in FLOOR_METRICS}).reset_index()
