"""A synthetic WVS-7 population in the official CSV layout, for demos and tests (NOT research).

Each person gets demographics and seven latent values (religiosity, traditional vs
secular, self-expression vs survival, trust, economic left-right, well-being, engagement)
drawn from a country-specific distribution; every item answer is generated from those
values through item loadings and ordered thresholds (or a multinomial logit), a battery
factor, a response style and idiosyncratic noise. So answers hang together within a person
as real ones do: a profile predicts held-out answers better than the country's marginal
distribution, but far from perfectly. All parameters are invented (see ``countries.py`` and
``items.py``); the file says so in its ``SYNTHETIC`` column (1 on every row).

    >>> from valuesim.survey.synthetic import generate, write_synthetic
    >>> frame = generate(respondents=2000, countries=8, seed=0)
    >>> write_synthetic("synthetic.csv", respondents=2000, seed=0)  # same seed, same bytes
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import ConfigError
from ..model import Codebook
from .answers import answer_item
from .countries import COUNTRIES, DIMS, Country, select_countries
from .items import BATTERIES
from .missing import apply_missing
from .people import People, draw_people, split_sizes

SYNTHETIC_COLUMN = "SYNTHETIC"
# Official WVS-7 names and order for the columns before the questions.
META_COLUMNS = ("A_WAVE", "A_YEAR", "B_COUNTRY", "B_COUNTRY_ALPHA", "D_INTERVIEW", "G_TOWNSIZE",
                "H_URBRURAL", "W_WEIGHT")
WAVE = 7


def generate(respondents: int = 2000, countries: int | list[str] = 8, seed: int = 0,
             codebook: Codebook | None = None, quirks: bool = False) -> pd.DataFrame:
    """The synthetic population as a DataFrame in the official WVS-7 CSV layout.

    Columns: the official meta columns (``META_COLUMNS``), then one integer column per
    codebook item (Q1 ... Q290, raw codes incl. WVS missing codes -1 ... -5), then
    ``SYNTHETIC`` = 1. ``countries`` is a number (the first K of ``COUNTRIES``) or a list of
    ISO alpha-3 / numeric codes. Same arguments, same frame. ``quirks=True`` adds the official
    file's quirks (shared D_INTERVIEW, unlisted codes, uncapped counts, extra columns; see
    ``quirks.py``) so tests meet what real files do.
    """
    frame, _ = generate_with_people(respondents, countries, seed, codebook)
    if quirks:
        from ..wvs7.bank import load_codebook
        from .quirks import add_quirks

        frame = add_quirks(frame, codebook or load_codebook(), seed)
    return frame


def generate_with_people(respondents: int = 2000, countries: int | list[str] = 8, seed: int = 0,
                         codebook: Codebook | None = None) -> tuple[pd.DataFrame, People]:
    """Like :func:`generate`, also returning the people (latent values, demographics) behind it."""
    if codebook is None:
        from ..wvs7.bank import load_codebook

        codebook = load_codebook()
    chosen = select_countries(countries)
    respondents = _check_respondents(respondents, len(chosen))
    rng = np.random.default_rng(seed)
    counts = split_sizes(respondents, chosen)
    people = draw_people(rng, chosen, counts, BATTERIES)

    answers: dict[str, np.ndarray] = {}
    utilities: dict = {}
    for q in codebook:
        answers[q.id] = answer_item(q, people, rng, utilities)
    apply_missing(answers, codebook, people, rng)

    columns: dict[str, np.ndarray] = _meta(people, counts, rng)
    columns.update(answers)
    columns[SYNTHETIC_COLUMN] = np.ones(len(people), dtype=np.int64)
    return pd.DataFrame(columns), people


def write_synthetic(path, respondents: int = 2000, countries: int | list[str] = 8, seed: int = 0,
                    quirks: bool = False) -> Path:
    """Write the synthetic population as a comma-separated CSV (like the official v6 CSV)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    frame = generate(respondents=respondents, countries=countries, seed=seed, quirks=quirks)
    if path.parent and not path.parent.exists():
        raise ConfigError(f"cannot write {path}: folder {path.parent} does not exist")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    try:
        pacsv.write_csv(table, str(path), write_options=pacsv.WriteOptions(quoting_style="needed"))
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _check_respondents(respondents, n_countries: int) -> int:
    if isinstance(respondents, bool) or not isinstance(respondents, (int, np.integer)):
        raise ConfigError(f"respondents must be a whole number, not {respondents!r}")
    if respondents < n_countries:
        raise ConfigError(f"respondents={respondents} is too few for {n_countries} countries "
                          f"(each country needs at least one respondent)")
    return int(respondents)


def _meta(people: People, counts: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    d = people.demo
    countries = people.countries
    n = len(people)
    code = people.per_country([c.code for c in countries]).astype(np.int64)
    within = np.concatenate([np.arange(1, k + 1) for k in counts]).astype(np.int64)
    # Official format: country code, "07", then the interview number (AA/AAA07XXXX).
    interview = code * 1_000_000 + 70_000 + within

    edu_rel = d["edu"] - people.per_country([c.edu for c in countries])
    raw = np.exp(-0.25 * edu_rel + 0.08 * d["age_z"] + 0.1 * (d["female"] - 0.5) + rng.normal(0, 0.2, n))
    weight = np.ones(n)
    for i, c in enumerate(countries):
        rows = people.country == i
        if c.weighted:
            w = np.clip(raw[rows] / raw[rows].mean(), 0.2, 4.0)
            weight[rows] = w / w.mean()
    return {
        "A_WAVE": np.full(n, WAVE, dtype=np.int64),
        "A_YEAR": d["year"].astype(np.int64),
        "B_COUNTRY": code,
        "B_COUNTRY_ALPHA": people.per_country([c.alpha for c in countries]).astype(object),
        "D_INTERVIEW": interview,
        "G_TOWNSIZE": d["town"].astype(np.int64),
        "H_URBRURAL": np.where(d["town"] >= 5, 1, 2).astype(np.int64),
        "W_WEIGHT": np.round(weight, 6),
    }


__all__ = ["generate", "generate_with_people", "write_synthetic", "COUNTRIES", "Country", "DIMS",
           "META_COLUMNS", "SYNTHETIC_COLUMN", "select_countries"]
