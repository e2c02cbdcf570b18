"""A synthetic population for ANY codebook, written in that survey's own layout (NOT research).

Each person gets the latent values of the WVS-7 generator's countries (``countries.py``: a
country mean and spread on seven value dimensions); every item of the codebook gets loadings on
those dimensions, drawn from its id, so answers hang together within a person (a profile
predicts held-out answers better than the country's marginal distribution) whatever the survey.
Ordinal and binary items cut a noisy linear score at thresholds; nominal items take the option
with the highest noisy utility; numeric items map the score into their range. The file has the
codebook's id, country, weight and year columns (the year: the WVS country's fieldwork year), the survey's own missing codes (survey-wide or the
item's own) in a few cells, and ``SYNTHETIC`` = 1 on every row.

    >>> from valuesim.survey.codebook_file import load_codebook
    >>> frame = generate_for_codebook(load_codebook("ess9.yaml"), respondents=500)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import MISSING_CODES, Codebook, Kind, Question
from .countries import Country, select_countries
from .items import item_rng

SYNTHETIC_COLUMN = "SYNTHETIC"
MISSING_RATE = 0.03  # share of cells that get one of the item's missing codes


def generate_for_codebook(codebook: Codebook, respondents: int = 1000, countries: int | list[str] = 4,
                          seed: int = 0, country_format: str = "alpha2") -> pd.DataFrame:
    """The population as a frame in the codebook's layout. ``country_format``: how the country
    column writes a country ("alpha2" DE, "alpha3" DEU or "numeric" 276)."""
    from ...errors import ConfigError
    from ..wvs7.countries import _table

    chosen = select_countries(countries)
    if respondents < len(chosen):
        raise ConfigError(f"respondents={respondents} is too few for {len(chosen)} countries")
    rng = np.random.default_rng(seed)
    per_country = np.full(len(chosen), respondents // len(chosen))
    per_country[: respondents % len(chosen)] += 1
    country = np.repeat(np.arange(len(chosen)), per_country)
    latent = _latent(chosen, country, rng)
    alpha2 = {a3: a2 for a2, a3 in _table()[4].items()}
    code_of = {"alpha3": lambda c: c.alpha, "numeric": lambda c: c.code,
               "alpha2": lambda c: alpha2.get(c.alpha, c.alpha)}[country_format]

    cols = codebook.columns
    columns: dict[str, object] = {
        cols.id or "id": np.arange(1, respondents + 1) + 100_000,
        cols.country or "country": np.array([code_of(chosen[i]) for i in country], dtype=object),
    }
    if cols.weight:
        columns[cols.weight] = np.round(np.exp(rng.normal(0, 0.25, respondents)), 4)
    if cols.year:
        columns[cols.year] = np.array([chosen[i].year for i in country], dtype=np.int64)
    for q in codebook:
        values = _answers(q, latent, item_rng("generic", q.id, seed))
        columns[q.id] = _with_missing(values, codebook.missing_codes(q), rng)
    columns[SYNTHETIC_COLUMN] = np.ones(respondents, dtype=np.int64)
    return pd.DataFrame(columns)


def _latent(chosen: list[Country], country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    means = np.array([c.means for c in chosen])
    spread = np.array([c.spread for c in chosen])
    return means[country] + spread[country, None] * rng.standard_normal((len(country), means.shape[1]))


def _answers(q: Question, latent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n, dims = latent.shape
    loadings = rng.normal(0, 1, dims) * (rng.random(dims) < 0.5)  # each item draws on some dimensions
    loadings[rng.integers(dims)] += rng.choice([-1.5, 1.5])  # and mainly on one
    score = latent @ loadings / np.sqrt((loadings ** 2).sum()) + rng.normal(0, 0.8, n)
    codes = np.array(q.codes, dtype=np.int64)
    if q.kind == Kind.NOMINAL and len(codes) > 2:
        utilities = latent @ rng.normal(0, 0.8, (dims, len(codes))) + rng.normal(0, 1, len(codes))
        return codes[np.argmax(utilities + rng.gumbel(0, 1, (n, len(codes))), axis=1)]
    if q.kind == Kind.NUMERIC and not q.options and q.valid_range:
        lo, hi = q.valid_range
        share = 1 / (1 + np.exp(-score))
        return np.round(lo + share * (hi - lo)).astype(np.int64)
    # Ordinal or binary: thresholds at uneven quantiles of the score, so options differ in size.
    cuts = np.quantile(score, np.sort(rng.uniform(0.05, 0.95, len(codes) - 1)))
    return codes[np.searchsorted(cuts, score)]


def _with_missing(values: np.ndarray, missing: dict[int, str], rng: np.random.Generator) -> np.ndarray:
    own = [c for c in missing if c not in MISSING_CODES] or [c for c in missing]
    if not own:
        return values
    hit = rng.random(len(values)) < MISSING_RATE
    out = values.copy()
    out[hit] = rng.choice(np.array(own, dtype=np.int64), int(hit.sum()))
    return out
