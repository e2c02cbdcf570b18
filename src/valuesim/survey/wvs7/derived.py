"""WVS's derived indices: computed by WVS from the answers, shipped in the file next to them.

The post-materialism indices (Y001 12-item, Y002 4-item), the autonomy index (Y003), Welzel's
secular values (SACSECVAL) and emancipative values (RESEMAVAL) with their sub-indices and
I_... components. They are not questions (nobody was asked them), so they are never items;
the importer keeps them as value-dimension positions: a float column per index in
``Survey.data``, named by the WVS variable (``survey.data["RESEMAVAL"]``), NaN where the file
has a missing code or a value outside the index's range. ``present_indices(survey)`` lists
them. Labels are the official variable labels (as the integrated WVS/EVS files carry them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .labels import normalised


@dataclass(frozen=True)
class DerivedIndex:
    name: str
    label: str
    low: float
    high: float
    value_labels: tuple[tuple[str, float], ...] = ()  # how labelled exports write some values


_WELZEL = (
    ("SACSECVAL", "SACSECVAL.- Welzel Overall Secular Values"),
    ("DEFIANCE", "DEFIANCE.- Welzel defiance sub-index"),
    ("DISBELIEF", "DISBELIEF.- Welzel disbelief sub-index"),
    ("RELATIVISM", "RELATIVISM.- Welzel relativism"),
    ("SCEPTICISM", "SCEPTICISM.- Welzel scepticism index"),
    ("RESEMAVAL", "RESEMAVAL.- Welzel emancipative values"),
    ("AUTONOMY", "AUTONOMY.- Wezel Autonomy subindex"),
    ("EQUALITY", "EQUALITY.- Welzel equality sub-index"),
    ("CHOICE", "CHOICE.- Welzel choice sub-index"),
    ("VOICE", "VOICE.- Welzel voice sub-index"),
    ("I_AUTHORITY", "AUTHORITY - Welzel defiance - 1: Inverse respect for authority"),
    ("I_NATIONALISM", "NATIONALISM - Welzel defiance - 2: Inverse national pride"),
    ("I_DEVOUT", "DEVOUT- Welzel defiance - 3: Inverse devoutness"),
    ("I_RELIGIMP", "RELIGIMP - Welzel disbelief- 1: Inverse importance of religion"),
    ("I_RELIGBEL", "RELIGBEL - Welzel disbelief- 2: Inverse religious person"),
    ("I_RELIGPRAC", "RELIGPRAC - Welzel disbelief- 3: Inverse religious practice"),
    ("I_NORM1", "NORM1 - Welzel relativism- 1: Inverse norm conform1"),
    ("I_NORM2", "NORM2 - Welzel relativism- 2: Inverse norm conform2"),
    ("I_NORM3", "NORM3 - Welzel relativism- 3: Inverse norm conform3"),
    ("I_TRUSTARMY", "TRUSTARMY- Welzel scepticism- 1: Inverse trust in army"),
    ("I_TRUSTPOLICE", "TRUSTPOLICE- Welzel scepticism- 2: Inverse trust in police"),
    ("I_TRUSTCOURTS", "TRUSTCOURTS- Welzel scepticism- 3: Inverse trust in courts"),
    ("I_INDEP", "INDEP- Welzel autonomy-1: Independence as kid quality"),
    ("I_IMAGIN", "IMAGIN- Welzel autonomy-2: Imagination as kid quality"),
    ("I_NONOBED", "NONOBED- Welzel autonomy-3: Obedience as kid quality"),
    ("I_WOMJOB", "WOMJOB- Welzel equality-1: Gender equality: job"),
    ("I_WOMPOL", "WOMPOL- Welzel equality-2: Gender equality: politics"),
    ("I_WOMEDU", "WOMEDU- Welzel equality-3: Gender equality: education"),
    ("I_HOMOLIB", "HOMOLIB- Welzel choice-1: Homosexuality acceptance"),
    ("I_ABORTLIB", "ABORTLIB- Welzel choice-2: Abortion acceptable"),
    ("I_DIVORLIB", "DIVORLIB- Welzel choice-3: Divorce acceptable"),
    ("I_VOICE1", "VOICE1- Welzel voice-1"),
    ("I_VOICE2", "VOICE2- Welzel voice-2"),
    ("I_VOI2_00", "VOI2_00- Welzel voice-3 (auxiliary)"),
)

INDICES: dict[str, DerivedIndex] = {
    "Y001": DerivedIndex("Y001", "Post-Materialist index 12-item", 0, 5,
                         (("Materialist", 0), ("Postmaterialist", 5), ("Post-materialist", 5))),
    "Y002": DerivedIndex("Y002", "Post-Materialist index 4-item", 1, 3,
                         (("Materialist", 1), ("Mixed", 2), ("Postmaterialist", 3), ("Post-materialist", 3))),
    "Y003": DerivedIndex("Y003", "Autonomy Index", -2, 2),
    **{name: DerivedIndex(name, label, 0.0, 1.0) for name, label in _WELZEL},
}


def index_labels() -> dict[str, list[str]]:
    """Index name -> the header texts that name it (the official label, the name, and the
    label's own short name: "SACSECVAL", "AUTHORITY", "NONOBED" ...)."""
    out = {}
    for name, index in INDICES.items():
        stem = index.label.split("-")[0].split(".")[0].strip()
        out[name] = [index.label, name] + ([stem] if stem != name and len(stem) > 4 else [])
    return out


def index_values(series: pd.Series, name: str) -> np.ndarray:
    """An index column as float64: numbers (also with a decimal comma, or as text), the value
    labels of a labelled export; NaN for missing codes, other text and values out of range."""
    index = INDICES[name]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.astype("float64").to_numpy()
    else:
        by_label = {normalised(t): v for t, v in index.value_labels}
        inverse, uniques = pd.factorize(series, use_na_sentinel=True)
        values = np.array([_number(u, by_label) for u in uniques], dtype="float64")
        numbers = np.where(inverse < 0, np.nan, values[inverse.clip(0)] if len(values) else np.nan)
    inside = (numbers >= index.low) & (numbers <= index.high)
    return np.where(inside, numbers, np.nan)


def _number(cell, by_label: dict[str, float]) -> float:
    text = str(cell).strip()
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return by_label.get(normalised(text), np.nan)


def present_indices(survey) -> list[str]:
    """The derived indices a loaded survey carries (columns of ``survey.data``)."""
    return [name for name in INDICES if name in survey.data.columns]
