"""Checks of the columns every WVS-7 file has: respondent keys, countries, weights, codes.

What a real file does and the printed questionnaire does not (shared D_INTERVIEW values,
non-UTF-8 names, odd country codes) is interpreted and reported here; only what cannot be
interpreted at all ends in one :class:`DataError` naming file, column and row.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ...errors import DataError
from .countries import alpha3_name, is_country_shaped
from .readers import WVSFileWarning

ID_COLUMN = "D_INTERVIEW"
COUNTRY_COLUMN = "B_COUNTRY_ALPHA"
WEIGHT_COLUMN = "W_WEIGHT"
YEAR_COLUMN = "A_YEAR"


def shown(value) -> str:
    """A cell as a user reads it: -1.5, not np.float64(-1.5); text quoted."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def where(name: str, column: str, row: int, ids: np.ndarray | None = None) -> str:
    who = f" (respondent {ids[row]})" if ids is not None else ""
    return f"{name}: column {column}, row {row + 1}{who}"


def text(series: pd.Series) -> pd.Series:
    """Stripped text with "" for empty cells (vectorised; ids and country codes)."""
    return series.astype("string").str.strip().fillna("")


def id_text(series: pd.Series) -> np.ndarray:
    """Respondent ids as text ("" where empty); whole-number floats lose their ".0"."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("float64").to_numpy()
        whole = ~np.isnan(numbers)
        if (numbers[whole] == np.floor(numbers[whole])).all():
            series = pd.Series(numbers, dtype="float64").astype("Int64")
    return text(series).to_numpy(dtype=object)


def duplicated_ids(ids: np.ndarray) -> np.ndarray:
    """Rows whose id is empty or shared with another row (all of them, not only the later ones)."""
    return pd.Index(ids).duplicated(keep=False) | (ids == "")


def respondent_keys(ids: np.ndarray, countries: np.ndarray, name: str,
                    column: str = ID_COLUMN) -> tuple[np.ndarray, dict]:
    """A unique, stable key per row: the id where it is unique, else ``COUNTRY-ID-N`` (N counts
    that id's rows within the country, in file order; an empty id counts as the id "row").
    Same file, any format, same keys: a resumed run finds its rows. Returns (keys, summary)."""
    shared = duplicated_ids(ids)
    keys = ids.copy()
    if not shared.any():
        return keys, {}
    sub = pd.DataFrame({"c": countries[shared], "i": np.where(ids[shared] == "", "row", ids[shared])})
    n = sub.groupby(["c", "i"], sort=False).cumcount().to_numpy() + 1
    keys[shared] = (sub["c"] + "-" + sub["i"] + "-" + pd.Series(n).astype(str)).to_numpy(dtype=object)
    if pd.Index(keys).duplicated().any():  # a plain id spelled like a derived key: never silently merge
        row = int(np.argmax(pd.Index(keys).duplicated()))
        raise DataError(f"{where(name, column, row)}: respondent key {keys[row]} is not unique even "
                        f"after numbering shared ids; make the id column unique in the file")
    per_country = pd.Series(countries[shared]).value_counts()
    summary = {"rows": int(shared.sum()), "ids": int(pd.Index(ids[shared]).nunique()),
               "countries": {str(c): int(k) for c, k in per_country.items()}}
    where_ = ", ".join(f"{c} ({k:,} rows)" for c, k in summary["countries"].items())
    warnings.warn(f"{name}: {summary['rows']:,} rows share {summary['ids']:,} {column} values "
                  f"(in {where_}); they are keyed COUNTRY-ID-N (e.g. {keys[shared][0]}), the original "
                  f"id stays in column {column}", WVSFileWarning, stacklevel=3)
    return keys, summary


def countries(series: pd.Series, name: str, column: str = COUNTRY_COLUMN) -> tuple[np.ndarray, dict[str, int]]:
    """Country codes as text; (codes, {unknown code: rows}). A value that cannot be a code at
    all (markup, a path, a formula) is refused; an unknown but code-like one is kept, warned.
    ``column`` is the file's column the codes came from (B_COUNTRY, a labelled header ...)."""
    values = text(series)
    array = values.to_numpy(dtype=object)
    counts = values.value_counts()
    if "" in counts.index:
        row = int(np.argmax(array == ""))
        raise DataError(f"{where(name, column, row)}: country code is empty "
                        f"({int(counts['']):,} such rows); fix the file, or name the country with --country")
    unknown: dict[str, int] = {}
    for code, n in counts.items():
        if not is_country_shaped(code):
            row = int(np.argmax(array == code))
            raise DataError(f"{where(name, column, row)}: {code[:40]!r} is not a country code "
                            f"(ISO 3166-1 alpha-3 such as DEU, or a WVS code such as NIR); {int(n):,} "
                            f"such rows. Fix the file, or name the country with --country")
        if alpha3_name(code) is None:
            unknown[str(code)] = int(n)
    if unknown:
        listed = ", ".join(f"{c} ({n:,} rows)" for c, n in unknown.items())
        kind = "alpha-3" if column == COUNTRY_COLUMN else "country codes"
        warnings.warn(f"{name}: {column} values that are not ISO 3166-1 {kind} or WVS country "
                      f"codes, kept as they are: {listed}", WVSFileWarning, stacklevel=3)
    return array, unknown


def weights(series: pd.Series, name: str, ids: np.ndarray, column: str = WEIGHT_COLUMN) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(series.dtype):  # "0,8765": a decimal comma (v5 CSV, ";")
        cells = text(series)
        if cells.str.contains(",", regex=False).any() and not cells.str.contains(".", regex=False).any():
            series = cells.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(numbers) | (numbers < 0) | np.isinf(numbers)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{where(name, column, row, ids)}: weight {shown(series.iloc[row])} is not a "
                        f"non-negative number ({int(bad.sum())} such rows)")
    return numbers


def years(series: pd.Series) -> np.ndarray:
    """The year each person answered (float, NaN where the cell is no plausible year: a survey's
    missing code, text, a date the file mangled). Only named in prompts, so never an error."""
    if not pd.api.types.is_numeric_dtype(series.dtype):  # text, or a labelled file's categories
        series = text(series)
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
    return np.where((numbers >= 1900) & (numbers <= 2100) & (numbers == np.round(numbers)), numbers, np.nan)


def integer_codes(series: pd.Series, name: str, column: str, ids: np.ndarray,
                  unreadable: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(int64 codes, null mask) from whatever the reader produced. Cells that are no whole
    number are an error, or, given ``unreadable`` (a dict), missing (-5), counted there by text."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        values = series.to_numpy()
        if values.dtype.kind == "u" or values.dtype.itemsize > 4:
            values = values.astype(np.int64)
        return values, np.zeros(len(values), dtype=bool)
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("Int64")
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("float64").to_numpy()
        bad_text = np.zeros(len(numbers), dtype=bool)
    else:
        cells = text(series)
        numbers = pd.to_numeric(cells.mask(cells == ""), errors="coerce").astype("float64").to_numpy()
        bad_text = (cells != "").to_numpy(dtype=bool) & np.isnan(numbers)
    null = np.isnan(numbers) & ~bad_text
    fractional = ~null & ~bad_text & ~np.isinf(numbers) & (numbers != np.floor(np.nan_to_num(numbers)))
    bad = bad_text | fractional | np.isinf(numbers)
    if bad.any() and unreadable is not None:
        cells = series[bad].astype(str).str.strip().value_counts()
        unreadable[column] = {str(k)[:40]: int(n) for k, n in cells.items()}
        row = int(np.argmax(bad))
        warnings.warn(f"{name}: {column} has {int(bad.sum()):,} cells that are not answer codes, loaded as "
                      f"missing (-5): " + ", ".join(f"{k!r} ({n})" for k, n in list(unreadable[column].items())[:5])
                      + f"; first at row {row + 1}. strict=True / --strict refuses such files",
                      WVSFileWarning, stacklevel=3)
        numbers = np.where(bad, -5.0, numbers)
        bad = np.zeros(len(numbers), dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"{where(name, column, row, ids)}: {shown(series.iloc[row])} is not an integer answer code "
            f"({int(bad.sum())} such cells in {column}); WVS codes are whole numbers, "
            f"missing answers are -1 to -5"
        )
    values = np.where(null, 0, numbers)
    too_big = np.abs(values) > np.iinfo(np.int32).max
    if too_big.any():
        row = int(np.argmax(too_big))
        raise DataError(f"{where(name, column, row, ids)}: {shown(series.iloc[row])} is far outside every "
                        f"WVS answer code ({int(too_big.sum())} such cells in {column})")
    return values.astype(np.int64), null


def identical_rows(columns: dict[str, np.ndarray], candidates: np.ndarray) -> np.ndarray:
    """Rows equal in every given column to an earlier row (only ``candidates`` can be: rows
    sharing an id). Boolean mask over all rows."""
    out = np.zeros(len(candidates), dtype=bool)
    rows = np.flatnonzero(candidates)
    if len(rows) < 2:
        return out
    sub = pd.DataFrame({k: v[rows] for k, v in columns.items()})
    out[rows[sub.duplicated(keep="first").to_numpy()]] = True
    return out
