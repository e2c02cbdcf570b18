"""Which answers a population method may see: the split-half and the held-out-country protocols.

* ``split-half`` (default): every method may use the persona-source half of the evaluated
  country, including its answers to the target question (the ``country-marginal`` reference is
  exactly those answers). The evaluation half is never shown to a method.
* ``held-out-country``: what a researcher has for a question never asked in that country. For
  every evaluated country the target questions' answers are masked (set to missing) in the data
  the methods receive (``method_view``); only its respondents' value-dimension positions (and
  their answers to other questions: calibration and demographic items) remain. The
  ``country-marginal`` reference is replaced by ``other-countries`` (the pooled answers of every
  other country in the file), and the statistical twin of value personas (``value-twin``,
  fitted on the other countries: ``twin.py``) is added.

The truth a method is scored against (the evaluation half) comes from the unmasked survey,
in both protocols.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import ConfigError
from ..survey.survey import COUNTRY, WEIGHT, Survey
from .metrics import normalise
from .personas import MARGINAL, UNIFORM

SPLIT_HALF, HELD_OUT = "split-half", "held-out-country"
PROTOCOLS = (SPLIT_HALF, HELD_OUT)
TWIN, OTHERS = "value-twin", "other-countries"
# Names a user may list in --method that every run of the protocol includes anyway.
PROTOCOL_METHODS = {SPLIT_HALF: (), HELD_OUT: (TWIN, OTHERS)}


def resolve_protocol(name: str | None) -> str:
    """The protocol name (default split-half); an unknown one is a ConfigError naming the choices."""
    value = (name or SPLIT_HALF).strip().lower()
    if value not in PROTOCOLS:
        raise ConfigError(f"unknown population protocol {name!r}; use {' or '.join(PROTOCOLS)}")
    return value


def check_protocol(protocol: str, survey: Survey, countries: Iterable[str]) -> None:
    """Held-out-country learns from the other countries: refuse a file with none (ConfigError)."""
    if protocol != HELD_OUT:
        return
    present = set(map(str, survey.data[COUNTRY].dropna().unique()))
    for c in countries:
        if not present - {str(c)}:
            raise ConfigError(f"--protocol {HELD_OUT} learns from the other countries, but "
                              f"{survey.source or 'the survey'} holds only {c}")


def reference_names(protocol: str) -> list[str]:
    """The reference methods every run of ``protocol`` reports (no model involved)."""
    return [OTHERS, UNIFORM] if protocol == HELD_OUT else [MARGINAL, UNIFORM]


def method_view(survey: Survey, protocol: str, countries: Iterable[str], targets: Iterable[str]) -> Survey:
    """The survey the methods receive. Held-out-country: a copy in which every evaluated
    country's answers to the target questions are missing (the original is left untouched);
    split-half: the survey itself."""
    if protocol != HELD_OUT:
        return survey
    data = survey.data.copy(deep=False)
    hidden = data[COUNTRY].astype(str).isin([str(c) for c in countries]).to_numpy()
    for q in targets:
        if q in data.columns:
            col = survey.data[q].copy()
            col[hidden] = None
            data[q] = col
    return Survey(survey.codebook, data, survey.source, survey.synthetic, list(survey.absent))


def assert_masked(view: Survey, countries: Iterable[str], targets: Iterable[str]) -> None:
    """Raise (AssertionError) when any evaluated country still has a target answer in ``view``."""
    rows = view.data[COUNTRY].astype(str).isin([str(c) for c in countries])
    cols = [q for q in targets if q in view.data.columns]
    leaked = view.data.loc[rows, cols].notna().sum()
    assert not leaked.any(), f"held-out target answers reached the methods: {leaked[leaked > 0].to_dict()}"


def other_countries(survey: Survey, country: str) -> np.ndarray:
    """Boolean mask of respondents NOT in ``country`` (what the held-out methods learn from)."""
    return (survey.data[COUNTRY].astype(str) != str(country)).to_numpy()


def pooled_marginal(survey: Survey, country: str, qid: str, codes: tuple[int, ...]) -> tuple[np.ndarray | None, int]:
    """W_WEIGHT-weighted answer shares of every respondent outside ``country`` (missing answers
    dropped), and how many valid answers they rest on. None when nobody answered."""
    keep = other_countries(survey, country)
    col = survey.data[qid].to_numpy(dtype="float64", na_value=np.nan)[keep]
    w = survey.data[WEIGHT].to_numpy(dtype="float64", na_value=np.nan)[keep]
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    counts = np.array([w[col == c].sum() for c in codes], dtype="float64")
    n = int((np.isin(col, codes) & (w > 0)).sum())
    return (normalise(counts) if counts.sum() > 0 else None), n


def held_out_references(survey: Survey, countries: list[str], targets: list[str], codebook) -> dict[tuple, tuple]:
    """(method, country, qid) -> (distribution | None, n real answers used, 0 failures) for the
    held-out-country references: the other countries' pooled answers, and uniform. (Split-half
    references are stored predictions: ``predict.REFERENCES``.)"""
    out: dict[tuple, tuple] = {}
    for c in countries:
        for q in targets:
            codes = codebook[q].codes
            out[(OTHERS, c, q)] = (*pooled_marginal(survey, c, q, codes), 0)
            out[(UNIFORM, c, q)] = (np.full(len(codes), 1.0 / len(codes)), 0, 0)
    return out
