"""Labelled exports: variable labels as headers, value labels in the cells.

What R's ``haven::as_factor`` or ``pandas.read_spss(convert_categoricals=True)`` followed by
``to_csv`` write, and ``.sav``/``.dta`` files saved the same way. Headers are matched to items
through the official variable labels and the bank's short labels (exactly, then normalised:
case, punctuation, curly quotes and the "´" real exports contain); cells through the official
value labels and the bank's option labels, numbers as themselves. What cannot be mapped is
reported with counts, and the rest is loaded.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ..model import Codebook, MissingCode, Question
from .checks import COUNTRY_COLUMN, ID_COLUMN
from .countries import alpha3_for, normalise
from .quality import ImportReport
from .readers import WVSFileWarning

# Labels of the WVS missing codes as exports spell them (an empty cell is blank, not -5).
_MISSING_LABELS = {
    "dontknow": -1, "noanswer": -2, "notapplicable": -3, "notasked": -4, "notaskedinthiscountry": -4,
    "missing": -5, "missingnotavailable": -5, "missingunknown": -5, "notavailable": -5,
}


@lru_cache(maxsize=1)
def _file_labels() -> dict:
    return json.loads(resources.files(__package__).joinpath("file_labels.json").read_text(encoding="utf-8"))


@dataclass
class HeaderMapping:
    items: dict[str, str]  # item id -> file column
    meta: dict[str, str]  # D_INTERVIEW, B_COUNTRY_ALPHA, W_WEIGHT ... -> file column
    normalised: int = 0  # headers matched only after normalising
    unmapped: list[str] = field(default_factory=list)

    def country_codes(self, series: pd.Series) -> pd.Series:
        return country_codes(series)

    def codes(self, frame: dict, present: list[str], codebook: Codebook,
              report: ImportReport) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(codes, null mask) per item from the cells' labels; unmapped labels become -5."""
        out = {}
        unmapped: dict[str, dict[str, int]] = {}
        mapped_cells = 0
        for q in present:
            values, null, missed = _cells_to_codes(frame[q], codebook[q])
            out[q] = (values, null)
            mapped_cells += int((~null).sum()) - sum(missed.values())
            if missed:
                unmapped[q] = missed
        report.labelled = {
            "mapped_columns": len(self.items), "normalised_matches": self.normalised,
            "cells_mapped": mapped_cells, "unmapped_columns": len(self.unmapped),
            "unmapped_examples": self.unmapped[:6], "unmapped_labels": unmapped,
        }
        if unmapped:
            listed = "; ".join(f"{q}: " + ", ".join(f"{t!r} ({n})" for t, n in list(m.items())[:3])
                               for q, m in list(unmapped.items())[:5])
            warnings.warn(f"labelled export: {sum(sum(m.values()) for m in unmapped.values()):,} cells in "
                          f"{len(unmapped)} columns have labels the bank does not know, loaded as missing "
                          f"(-5): {listed}", WVSFileWarning, stacklevel=3)
        return out


def map_headers(columns: list[str], variable_labels: dict[str, str], wanted: Codebook) -> HeaderMapping | None:
    """Which file column holds which item (None when no header is an item's label)."""
    labels = _file_labels()["variables"]
    exact: dict[str, str] = {}
    loose: dict[str, str | None] = {}

    def add(label: str, target: str) -> None:
        exact.setdefault(label.strip(), target)
        key = normalise(label)
        if key:
            loose[key] = target if loose.get(key, target) == target else None  # ambiguous: no match

    for target, label in labels.items():
        if target in wanted or not target.startswith("Q"):
            add(label, target)
    for q in wanted:
        if q.short:
            add(q.short, q.id)
    mapping = HeaderMapping({}, {})
    for col in columns:
        found = None
        for candidate in (str(col), variable_labels.get(col) or ""):
            found = exact.get(candidate.strip())
            if found:
                break
        if not found:
            for candidate in (str(col), variable_labels.get(col) or ""):
                found = loose.get(normalise(candidate)) if candidate else None
                if found:
                    mapping.normalised += 1
                    break
        if found and found.startswith("Q") and found not in mapping.items:
            mapping.items[found] = col
        elif found and not found.startswith("Q") and found not in mapping.meta:
            mapping.meta[found] = col
        elif str(col).strip().upper() not in (ID_COLUMN, COUNTRY_COLUMN):
            mapping.unmapped.append(str(col))
    if "B_COUNTRY" in mapping.meta and COUNTRY_COLUMN not in mapping.meta:
        mapping.meta[COUNTRY_COLUMN] = mapping.meta["B_COUNTRY"]
    return mapping if mapping.items else None


@cache
def _label_codes(question: Question) -> dict[str, int]:
    """Normalised label -> code, from the official value labels and the bank's option labels."""
    out = dict(_MISSING_LABELS)
    for code, label in _file_labels()["values"].get(question.id, {}).items():
        out[normalise(label)] = int(code)
    for o in question.options:
        out[normalise(o.label)] = o.code
    return out


def _cells_to_codes(series: pd.Series, question: Question) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    inverse, uniques = pd.factorize(series, use_na_sentinel=True)
    lookup = _label_codes(question)
    codes = np.zeros(len(uniques), dtype=np.int64)
    known = np.ones(len(uniques), dtype=bool)
    blank = np.zeros(len(uniques), dtype=bool)
    for i, u in enumerate(uniques):
        code = _one_cell(u, question, lookup)
        if code is None:
            if str(u).strip() == "":
                blank[i] = True
            else:
                known[i] = False
                code = int(MissingCode.MISSING)
        codes[i] = code if code is not None else 0
    null = (inverse < 0) | np.where(inverse < 0, False, blank[inverse.clip(0)])
    values = np.where(inverse < 0, 0, codes[inverse.clip(0)])
    missed: dict[str, int] = {}
    if not known.all():
        counts = np.bincount(inverse[inverse >= 0], minlength=len(uniques))
        missed = {str(uniques[i]): int(counts[i]) for i in np.flatnonzero(~known)}
    return values, null, missed


def _one_cell(value, question: Question, lookup: dict[str, int]) -> int | None:
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else None
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
        if number.is_integer():
            return int(number)
    except ValueError:
        pass
    code = lookup.get(normalise(text))
    if code is None and question.code_list == "country":
        alpha = alpha3_for(text)
        if alpha:
            from .countries import numeric_for_alpha

            code = numeric_for_alpha(alpha)
    return code


def country_codes(series: pd.Series) -> pd.Series:
    """Country names, numeric or alpha-3 codes as alpha-3 (names via the label file and the ISO
    list); what cannot be mapped stays as it is, for the country check to judge."""
    names = {normalise(v): k for k, v in _file_labels()["values"]["B_COUNTRY_ALPHA"].items()}
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("float64")
        series = numbers.astype("Int64") if (numbers.dropna() % 1 == 0).all() else numbers
    inverse, uniques = pd.factorize(series.astype("string").str.strip().fillna("").to_numpy(dtype=object))
    mapped = [names.get(normalise(u)) or alpha3_for(u) or u for u in uniques]
    return pd.Series(np.asarray(mapped, dtype=object)[inverse])
