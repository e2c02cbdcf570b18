"""Labelled exports: variable labels as headers, value labels in the cells.

What R's ``haven::as_factor`` or ``pandas.read_spss(convert_categoricals=True)`` followed by
``to_csv`` write, and ``.sav``/``.dta`` files saved the same way. Headers are matched to items
through the official variable labels and the bank's short labels, cells through the official
value labels and the bank's option labels (numbers as themselves), both with the steps of
:mod:`.labels` (exact, normalised, loose, truncated): exports shorten and prefix labels ("A:
Protect environment" / "Economic growth", "Orthodox", "I am not"), change articles and spelling
("Confidence: The Churches", "Labour Unions") and cut long labels. A text that could name two
things is reported, never guessed.

Headers that name other WVS variables are recognised: the derived indices (Y001-Y003,
SACSECVAL, RESEMAVAL and their components, kept as value-dimension positions, see
:mod:`.derived`) and variables valuesim does not use (recoded items such as Q94R "Membership:
church or religious organization", weights, regions). What cannot be mapped is reported with
counts (and, for headers, the items they resemble), and the rest is loaded.
"""

from __future__ import annotations

import difflib
import json
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ...errors import DataError
from ..model import Codebook, MissingCode, Question
from .bank import is_wvs7
from .checks import COUNTRY_COLUMN, ID_COLUMN
from .countries import alpha3_for, normalise
from .derived import INDICES, index_labels
from .labels import LabelIndex, Match, collapse, loose
from .quality import ImportReport, listing
from .readers import WVSFileWarning

# How exports spell the WVS missing codes (an empty cell is blank, not -5).
_MISSING_LABELS = {
    -1: ("Don't know", "DK"), -2: ("No answer", "Refused", "No answer/refused"),
    -3: ("Not applicable",), -4: ("Not asked", "Not asked in this country", "Item not included"),
    -5: ("Missing", "Missing; Not available", "Missing; Unknown", "Not available", "Other missing"),
}
META = ("D_INTERVIEW", "B_COUNTRY_ALPHA", "B_COUNTRY", "W_WEIGHT", "H_URBRURAL", "A_YEAR")
_NEAREST_CUTOFF = 0.75  # how alike (difflib ratio of loose forms) a header must be to an item's label


@lru_cache(maxsize=1)
def _file_labels() -> dict:
    return json.loads(resources.files(__package__).joinpath("file_labels.json").read_text(encoding="utf-8"))


@dataclass
class HeaderMapping:
    items: dict[str, str]  # item id -> file column
    meta: dict[str, str]  # D_INTERVIEW, B_COUNTRY_ALPHA, W_WEIGHT ... -> file column
    derived: dict[str, str] = field(default_factory=dict)  # Y002, RESEMAVAL ... -> file column
    other: dict[str, str] = field(default_factory=dict)  # other WVS variables (Q94R, S018 ...) -> column
    steps: Counter = field(default_factory=Counter)  # how the item headers matched: step -> columns
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # column -> variables it could name
    repeated: dict[str, str] = field(default_factory=dict)  # column -> variable an earlier column had
    unmapped: list[str] = field(default_factory=list)
    nearest: dict[str, list[str]] = field(default_factory=dict)  # unmapped column -> items it resembles

    @property
    def normalised(self) -> int:
        """Item headers matched only after normalising (any step but exact)."""
        return sum(n for step, n in self.steps.items() if step != "exact")

    def country_codes(self, series: pd.Series) -> pd.Series:
        return country_codes(series)

    def undecided(self, wanted: Codebook) -> list[tuple[str, str]]:
        """Ambiguous headers whose candidates hold exactly one wanted, unmapped item: (column,
        that item), in file order. Their cells decide (``decide``); the importer reads them."""
        out = []
        for col, names in self.ambiguous.items():
            items = [n for n in names if n.startswith("Q") and n in _file_labels()["variables"]]
            if len(items) == 1 and items[0] in wanted and items[0] not in self.items:
                out.append((col, items[0]))
        return out

    def settle(self) -> None:
        """Ambiguous headers left with one candidate that is no mapped item (the recode Q33_3
        once Q33 has its column) name that variable: recognised, not used."""
        for col, names in list(self.ambiguous.items()):
            rest = [n for n in names if n not in self.items]
            if len(rest) == 1 and len(names) > 1 and rest[0] in _file_labels()["other_variables"]:
                self.other.setdefault(rest[0], col)
                del self.ambiguous[col]

    def decide(self, col: str, item: str, series: pd.Series, question: Question) -> bool:
        """Map ``col`` to ``item`` when its cells say so: every label is an answer of the item and
        some label is no answer of the other candidates whose answers are known (Q33 "Agree
        strongly" is no answer of its 3-point recode Q33_3, whose header is the same). Cells
        that are answers of exactly one other candidate and not of the item name that variable
        (Q94R "Mentioned (member)"): recognised, not used. Else the column stays ambiguous."""
        others = [n for n in self.ambiguous[col] if n != item]
        cells = [c for c in pd.unique(series.astype("string").str.strip().dropna()) if c]
        if not cells:
            return False
        item_fits = all(_one_cell(c, question, _value_index(question))[0] is not None for c in cells)
        fitting = [other for other in others if _answers_of(other, cells)]
        if item_fits and not fitting:
            del self.ambiguous[col]
            self.items[item] = col
            self.steps["by its answers"] += 1
            return True
        if not item_fits and len(fitting) == 1:
            del self.ambiguous[col]
            self.other.setdefault(fitting[0], col)
        return False

    def codes(self, frame: dict, present: list[str], codebook: Codebook, report: ImportReport,
              strict: bool = False, name: str = "") -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(codes, null mask) per item from the cells' labels; unknown or ambiguous labels
        become -5 (``strict``: refused, one line naming column and label)."""
        out = {}
        unknown: dict[str, dict[str, int]] = {}
        ambiguous: dict[str, dict[str, dict]] = {}
        mapped_cells = 0
        for q in present:
            values, null, missed, unclear = _cells_to_codes(frame[q], codebook[q], codebook)
            if strict and (missed or unclear):
                text, n = next(iter((missed or {k: v["cells"] for k, v in unclear.items()}).items()))
                why = "could be several answers" if not missed else "is no answer"
                raise DataError(f"{name}: column {collapse(self.items.get(q, q))!r} ({q}): label {text!r} "
                                f"{why} of {q} ({n:,} cells); --strict refuses such files (without it they "
                                f"load as missing, -5)")
            out[q] = (values, null)
            mapped_cells += int((~null).sum()) - sum(missed.values()) - sum(u["cells"] for u in unclear.values())
            if missed:
                unknown[q] = missed
            if unclear:
                ambiguous[q] = unclear
        report.labelled = {
            "mapped_columns": len(self.items), "normalised_matches": self.normalised,
            "header_steps": dict(self.steps), "cells_mapped": mapped_cells,
            "unmapped_columns": len(self.unmapped), "unmapped_examples": list(self.unmapped),
            "nearest_items": dict(self.nearest), "ambiguous_columns": dict(self.ambiguous),
            "repeated_columns": dict(self.repeated), "derived_indices": dict(self.derived),
            "other_variables": dict(self.other),
            "unmapped_labels": unknown, "ambiguous_labels": ambiguous,
        }
        if unknown:
            listed = listing([f"{q}: " + listing([f"{t!r} ({n})" for t, n in m.items()], 3)
                              for q, m in unknown.items()], 5, sep="; ")
            warnings.warn(f"labelled export: {sum(sum(m.values()) for m in unknown.values()):,} cells in "
                          f"{len(unknown)} columns have labels the bank does not know, loaded as missing "
                          f"(-5): {listed}", WVSFileWarning, stacklevel=3)
        if ambiguous:
            listed = listing([f"{q}: {t!r} (codes {', '.join(u['codes'])})" for q, m in ambiguous.items()
                              for t, u in m.items()], 5, sep="; ")
            warnings.warn(f"labelled export: {sum(u['cells'] for m in ambiguous.values() for u in m.values()):,} "
                          f"cells have labels that could be more than one answer, loaded as missing (-5): "
                          f"{listed}", WVSFileWarning, stacklevel=3)
        return out


def _header_index(wanted: Codebook) -> LabelIndex:
    labels: dict[str, list[str]] = {}
    if not is_wvs7(wanted):  # another survey: its own question texts and short labels
        for q in wanted:
            labels.setdefault(q.id, []).extend(t for t in (q.text, q.short) if t)
        return LabelIndex(labels, truncated="both", min_truncated=20, brackets=False)
    for target, label in _file_labels()["variables"].items():
        labels.setdefault(target, []).append(label)
    for target, label in _file_labels()["other_variables"].items():
        labels.setdefault(target, []).append(label)
    for target, texts in index_labels().items():
        labels.setdefault(target, []).extend(texts)
    for q in wanted:
        if q.short:
            labels.setdefault(q.id, []).append(q.short)
    return LabelIndex(labels, truncated="both", min_truncated=20, brackets=False)


def map_headers(columns: list[str], variable_labels: dict[str, str], wanted: Codebook) -> HeaderMapping | None:
    """Which file column holds which item (None when no header is an item's label)."""
    index = _header_index(wanted)
    items = {q for q in _file_labels()["variables"] if q.startswith("Q")} if is_wvs7(wanted) else set(wanted.ids)
    mapping = HeaderMapping({}, {})
    seen: Counter = Counter()
    for raw in columns:
        # a header repeated in the file (Q33 and its recode Q33_3 share one label) is addressed
        # by its occurrence, as the CSV reader names it: "label", "label#2" ...
        seen[str(raw)] += 1
        col = str(raw) if seen[str(raw)] == 1 else f"{raw}#{seen[str(raw)]}"
        match = Match(None)
        for candidate in (str(raw), variable_labels.get(raw) or ""):
            if candidate.strip():
                match = index.lookup(candidate)
                if match.target or match.ambiguous:
                    break
        target = match.target
        if target is None:
            if match.ambiguous:
                mapping.ambiguous[str(col)] = list(match.candidates)
            elif str(raw).strip().upper() not in (ID_COLUMN, COUNTRY_COLUMN, "SYNTHETIC"):
                mapping.unmapped.append(str(col))
            continue
        if target in items and target not in wanted:
            continue  # an item that was not asked for
        item = _recode_of(target)
        if item in wanted:
            # a recode's label (Q94R "Membership: church or religious organization"): the
            # item itself when the cells are the item's answers, decided once read
            mapping.ambiguous[col] = [item, target]
            continue
        group = (mapping.items if target in items else mapping.meta if target in META
                 else mapping.derived if target in INDICES else mapping.other)
        if target in group:
            mapping.repeated[str(col)] = target
            continue
        group[target] = col
        if group is mapping.items:
            mapping.steps[match.step] += 1
    if "B_COUNTRY" in mapping.meta and COUNTRY_COLUMN not in mapping.meta:
        mapping.meta[COUNTRY_COLUMN] = mapping.meta["B_COUNTRY"]
    if not mapping.items:
        return None
    mapping.nearest = _nearest(mapping.unmapped, wanted, set(mapping.items))
    return mapping


def _answers_of(variable: str, cells: list[str]) -> bool:
    """Whether every cell is an answer (or a number) of a non-item variable whose answers the
    label file lists (Q33_3, Q94R ...); False when they are not listed."""
    values = _file_labels()["other_values"].get(variable)
    if values is None:
        return False
    index = LabelIndex({str(int(k)): [v] for k, v in values.items()}, brackets=True)
    return all(_number(c) is not None or index.lookup(c).target for c in cells)


def _recode_of(name: str) -> str | None:
    """The item a WVS recode is made from: Q94R -> Q94, Q33_3 -> Q33 (None for other names)."""
    match = re.fullmatch(r"(Q\d+)(?:R|_3)", name)
    return match.group(1) if match else None


def _nearest(columns: list[str], wanted: Codebook, taken: set[str]) -> dict[str, list[str]]:
    """Unmapped headers that resemble item labels -> those items (best first, up to 3)."""
    by_form: dict[str, list[str]] = {}
    for q, label in _file_labels()["variables"].items():
        if q in wanted:
            by_form.setdefault(loose(label, brackets=False), []).append(q)
    for q in wanted:
        if q.short:
            by_form.setdefault(loose(q.short, brackets=False), []).append(q.id)
    out = {}
    for col in columns:
        close = difflib.get_close_matches(loose(col, brackets=False), list(by_form), n=5, cutoff=_NEAREST_CUTOFF)
        found = list(dict.fromkeys(q for form in close for q in by_form[form]))[:3]
        if found:
            out[col] = found
    return out


@cache
def _value_index(question: Question, missing: tuple[tuple[int, str], ...] = (), wvs: bool = True) -> LabelIndex:
    """Answer code (as text) by label: the official value labels (WVS-7), the bank's option labels,
    the codebook's own missing codes and the usual spellings of the missing codes."""
    labels: dict[str, list[str]] = {str(code): list(texts) for code, texts in _MISSING_LABELS.items()}
    for code, label in missing:
        labels.setdefault(str(code), []).append(label)
    for code, label in (_file_labels()["values"].get(question.id, {}) if wvs else {}).items():
        labels.setdefault(str(int(code)), []).append(label)
    for o in question.options:
        labels.setdefault(str(o.code), []).append(o.label)
    return LabelIndex(labels, truncated="start", min_truncated=6, brackets=True)


def _cells_to_codes(series: pd.Series, question: Question, codebook: Codebook | None = None
                    ) -> tuple[np.ndarray, np.ndarray, dict[str, int], dict[str, dict]]:
    """(codes, null mask, {unknown label: cells}, {ambiguous label: {"cells", "codes"}})."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    inverse, uniques = pd.factorize(series, use_na_sentinel=True)
    index = (_value_index(question) if codebook is None
             else _value_index(question, tuple(codebook.missing_codes(question).items()), is_wvs7(codebook)))
    codes = np.zeros(len(uniques), dtype=np.int64)
    known = np.ones(len(uniques), dtype=bool)
    blank = np.zeros(len(uniques), dtype=bool)
    unclear_codes: dict[int, tuple[str, ...]] = {}
    for i, u in enumerate(uniques):
        code, candidates = _one_cell(u, question, index)
        if code is None:
            if str(u).strip() == "":
                blank[i] = True
            else:
                known[i] = False
                if candidates:
                    unclear_codes[i] = candidates
                code = int(MissingCode.MISSING)
        codes[i] = code if code is not None else 0
    null = (inverse < 0) | np.where(inverse < 0, False, blank[inverse.clip(0)])
    values = np.where(inverse < 0, 0, codes[inverse.clip(0)])
    missed: dict[str, int] = {}
    unclear: dict[str, dict] = {}
    if not known.all():
        counts = np.bincount(inverse[inverse >= 0], minlength=len(uniques))
        for i in np.flatnonzero(~known):
            if i in unclear_codes:
                unclear[str(uniques[i])] = {"cells": int(counts[i]), "codes": list(unclear_codes[i])}
            else:
                missed[str(uniques[i])] = int(counts[i])
    return values, null, missed, unclear


def _number(text: str) -> int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _one_cell(value, question: Question, index: LabelIndex) -> tuple[int | None, tuple[str, ...]]:
    """(code, ()) for a known cell; (None, candidates) for an ambiguous one; (None, ()) else."""
    if isinstance(value, (int, np.integer)):
        return int(value), ()
    if isinstance(value, (float, np.floating)):
        return (int(value) if float(value).is_integer() else None), ()
    text = str(value).strip()
    if not text:
        return None, ()
    number = _number(text)
    if number is not None:
        return number, ()
    match = index.lookup(text)
    if match.target is not None:
        return int(match.target), ()
    if match.ambiguous:
        return None, match.candidates
    if question.code_list == "country":
        alpha = alpha3_for(text)
        if alpha:
            from .countries import numeric_for_alpha

            return numeric_for_alpha(alpha), ()
    return None, ()


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
