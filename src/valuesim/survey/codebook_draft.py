"""A draft codebook from a labelled SPSS (.sav) or Stata (.dta) file's own metadata.

Variable labels become question texts, value labels options, user-missing values (SPSS) and
labels that name a missing answer ("Refusal", "Don't know", "No answer") the item's missing
codes; a column whose name or label says it is the respondent id, the country, a weight or the
year of the interview fills
``columns``. What is inferred (kinds above all) carries a ``review`` note for the researcher to
check; the draft loads the file it came from as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError, DataError
from .codebook_file import is_whole_number
from .model import MISSING_CODES, Kind, MissingCode, missing_kind

_ID = re.compile(r"(^|_)(id|idno|respid|caseid|respondent|interview)(_|$)|respondent.*(id|number)", re.I)
_COUNTRY = re.compile(r"^(cntry|country|cntry_?code|b_country_alpha|nation)$|country", re.I)
_DEMOGRAPHIC = re.compile(r"^(sex|gender|age\b|year of birth|in what year were you born|highest level of "
                          r"education)|\b(of (the )?respondent|respondent's (sex|age|gender))\b", re.I)
_WEIGHT = re.compile(r"(^|_)(w|wt|wght|weight)(_|$)|weight|wght", re.I)
# the year the person answered (ESS inwyys, WVS A_YEAR), never a year of birth
_YEAR = re.compile(r"^(a_year|year|s_?year|inwyys?|int_?year|survey_?year|interview_?year)$", re.I)
_YEAR_LABEL = re.compile(r"^year of (the )?(survey|interview|fieldwork)\b|\b(survey|interview|fieldwork),? year\b", re.I)


def read_labelled(path: str | Path):
    """``(frame, metadata)`` of a labelled .sav (raw codes, user-missing values kept as values,
    as the importer reads them) or .dta, read whole, once: the draft and the import share it."""
    import pyreadstat

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".sav":
            return pyreadstat.read_sav(str(path), user_missing=True)
        if suffix == ".dta":
            return pyreadstat.read_dta(str(path))
    except Exception as exc:
        raise DataError(f"{path} cannot be read as a labelled {suffix} file ({str(exc).splitlines()[0]})") from None
    raise ConfigError(f"codebook draft reads labelled .sav or .dta files, not {path.name}")


def draft_codebook(path: str | Path, read=None) -> dict:
    """The draft as a dict in the codebook-file format (``dump_codebook`` writes it). ``read``:
    the file's :func:`read_labelled` when the caller has it already (the file is not read again)."""
    path = Path(path)
    frame, meta = read if read is not None else read_labelled(path)
    labels = meta.column_names_to_labels or {}
    value_labels = meta.variable_value_labels or {}
    user_missing = getattr(meta, "missing_user_values", None) or {}
    missing_ranges = getattr(meta, "missing_ranges", None) or {}
    columns: dict[str, str] = {}
    items = []
    for name in meta.column_names:
        label = str(labels.get(name) or "").strip()
        role = _role(name, label)
        if role and role not in columns:
            columns[role] = name
            continue
        series = frame[name]
        values = {int(float(c)): str(v) for c, v in (value_labels.get(name) or {}).items() if is_whole_number(c)}
        declared = {int(float(v)) for v in user_missing.get(name, []) if is_whole_number(v)}
        for r in missing_ranges.get(name, []):
            lo, hi = r.get("lo"), r.get("hi")
            if is_whole_number(lo) and is_whole_number(hi) and hi - lo <= 20:
                declared |= set(range(int(lo), int(hi) + 1))
        missing = {c: values.get(c, "missing") for c in sorted(declared)}
        for code, text in values.items():
            if code not in missing and (code in MISSING_CODES or missing_kind(text) != MissingCode.MISSING
                                        or "missing" in text.lower()):
                missing[code] = text
        options = {c: t for c, t in values.items() if c not in missing}
        if not options and not _numeric_column(series):
            continue  # text columns (names, open answers): not an item
        item: dict = {"id": name, "text": label or name}
        if options and len(options) >= 2:
            kind = Kind.BINARY if len(options) == 2 else Kind.ORDINAL
            item["kind"] = kind.value
            item["options"] = dict(sorted(options.items()))
            item["review"] = (f"kind inferred from {len(options)} value labels: {kind.value}; say nominal "
                              f"if the options have no order")
        else:
            valid = series[~series.isin(list(missing))].dropna() if len(series) else series
            if valid.empty:
                continue
            lo, hi = int(valid.min()), int(valid.max())
            if lo == hi:
                continue  # a constant column (a wave or round number): not an item
            item["kind"] = Kind.NUMERIC.value
            item["range"] = [lo, hi]
            item["review"] = (f"no value labels: numeric, range {lo}..{hi} seen in the file; if it is a "
                              f"scale, give kind ordinal and its endpoint labels")
        if missing:
            item["missing"] = missing
        if _DEMOGRAPHIC.search(label):
            item["category"] = "Demographics"
        items.append(item)
    if not items:
        raise DataError(f"{path} has no columns that look like survey items (no value labels and no numbers)")
    survey = str(getattr(meta, "file_label", "") or path.stem)
    short = re.sub(r"[^A-Za-z0-9]+", "", path.stem)[:12] or "SURVEY"
    out: dict = {"survey": survey, "short": short, "columns": columns, "items": items}
    return out


def _role(name: str, label: str) -> str:
    if _ID.search(name) or (_ID.search(label) and "id" in name.lower()):
        return "id"
    if _COUNTRY.search(name) or re.search(r"^country\b", label, re.I):
        return "country"
    if _WEIGHT.search(name) or re.search(r"\bweight\b", label, re.I):
        return "weight"
    if _YEAR.search(name) or _YEAR_LABEL.search(label):
        return "year"
    return ""


def _numeric_column(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series.dtype)
