"""Read the official WVS-7 file into a :class:`~valuesim.survey.survey.Survey`.

WVS distributes wave 7 as CSV (v5/v6, comma or semicolon), SPSS ``.sav``, Stata ``.dta``;
users also keep it as Parquet. Whatever the format, only the columns valuesim needs are read
(the official file has ~600), codes are kept raw (negative missing codes included, so "don't
know" and "not asked" stay apart), and every problem a user can cause ends in one
:class:`~valuesim.errors.DataError` that names the file, the column and the row.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ...errors import DataError
from ..model import MISSING_CODES, Codebook, MissingCode, Question
from ..survey import COUNTRY, ID, WEIGHT, Survey
from .bank import load_codebook

ID_COLUMN = "D_INTERVIEW"
COUNTRY_COLUMN = "B_COUNTRY_ALPHA"
WEIGHT_COLUMN = "W_WEIGHT"
# The synthetic generator writes this column with 1 on every row, so a demo population can
# never be mistaken for the real survey.
SYNTHETIC_COLUMN = "SYNTHETIC"

FORMATS = ("csv", "sav", "dta", "parquet")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".sav": "sav", ".zsav": "sav",
               ".dta": "dta", ".parquet": "parquet", ".pq": "parquet"}
_MISSING_SORTED = np.array(sorted(MISSING_CODES), dtype=np.int64)


class WVSFileWarning(UserWarning):
    """The file loads, but not all of it is what valuesim expects (absent items, no weight)."""


def load_wvs7(path, *, codebook: Codebook | None = None, questions: Iterable[str] | None = None,
              strict: bool = True) -> Survey:
    """Load an official WVS-7 file (or a synthetic one in the same layout).

    ``questions`` restricts which items are read (faster); by default every item of the
    codebook that the file has. Items of the codebook the file lacks are listed in
    ``Survey.absent`` and reported in one warning. A code that is neither an option of its
    question nor a missing code is an error; with ``strict=False`` such cells are loaded as
    missing (-5) instead, with one warning (an escape hatch for a file release whose codes
    the question bank does not know yet).
    """
    path = Path(path)
    name = str(path)
    codebook = codebook or load_codebook()
    wanted = codebook.subset(questions) if questions is not None else codebook
    _check_readable(path)
    fmt = detect_format(path)
    reader = _READERS[fmt]

    actual = reader.columns(path)
    by_upper: dict[str, str] = {}
    for col in actual:
        by_upper.setdefault(str(col).strip().upper(), col)
    missing_keys = [c for c in (ID_COLUMN, COUNTRY_COLUMN) if c not in by_upper]
    present = [q.id for q in wanted if q.id.upper() in by_upper]
    if missing_keys or not present:
        what = (f"no {' or '.join(missing_keys)} column" if missing_keys
                else "no question columns (Q1 ... Q290)")
        shown = ", ".join(map(str, actual[:8])) + (" ..." if len(actual) > 8 else "")
        raise DataError(
            f"{name} is not a WVS-7 file: it has {what} "
            f"(columns found: {shown or 'none'}). Pass the official WVS wave 7 file "
            f"(e.g. WVS_Cross-National_Wave_7_csv_v6_0.csv)."
        )
    absent = [q.id for q in wanted if q.id.upper() not in by_upper]

    canonical = [ID_COLUMN, COUNTRY_COLUMN] + present
    for extra in (WEIGHT_COLUMN, SYNTHETIC_COLUMN):
        if extra in by_upper:
            canonical.append(extra)
    frame = reader.read(path, {c: by_upper[c.upper()] for c in canonical}, present)
    if len(frame[ID_COLUMN]) == 0:
        raise DataError(f"{name} has a header but no respondents (no data rows); is the file complete?")

    ids = _respondent_ids(frame[ID_COLUMN], name)
    countries = _countries(frame[COUNTRY_COLUMN], name)
    if WEIGHT_COLUMN in frame:
        weights = _weights(frame[WEIGHT_COLUMN], name, ids)
    else:
        weights = np.ones(len(ids))
        warnings.warn(f"{name} has no {WEIGHT_COLUMN} column; every respondent gets weight 1.0",
                      WVSFileWarning, stacklevel=2)

    codes = {q: _integer_codes(frame[q], name, q, ids) for q in present}
    _validate_codes(codes, [wanted[q] for q in present], name, ids, strict)

    columns: dict[str, object] = {COUNTRY: countries, WEIGHT: weights}
    for q in present:
        values, null = codes[q]
        columns[q] = pd.arrays.IntegerArray(values.astype(np.int32, copy=False), null)
    data = pd.DataFrame(columns, index=pd.Index(ids, name=ID, dtype=object), copy=False)

    synthetic = False
    if SYNTHETIC_COLUMN in frame:
        marker = pd.to_numeric(frame[SYNTHETIC_COLUMN], errors="coerce")
        synthetic = bool((marker == 1).all())

    if absent:
        warnings.warn(
            f"{name} has {len(present)} of the {len(wanted)} items; absent: "
            f"{compact_ids(absent, wanted.ids)}",
            WVSFileWarning,
            stacklevel=2,
        )
    return Survey(codebook, data, source=name, synthetic=synthetic, absent=absent)


def compact_ids(ids: Iterable[str], order: list[str]) -> str:
    """``Q1, Q2, Q3, Q7`` -> ``"Q1-Q3, Q7"`` (runs follow ``order``, e.g. the codebook's)."""
    position = {q: i for i, q in enumerate(order)}
    items = sorted(set(ids), key=lambda q: position.get(q, len(order)))
    runs: list[list[str]] = []
    for q in items:
        if runs and q in position and runs[-1][-1] in position and position[q] == position[runs[-1][-1]] + 1:
            runs[-1].append(q)
        else:
            runs.append([q])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{run[0]}-{run[-1]}")
        else:
            parts.extend(run)
    return ", ".join(parts)


# --------------------------------------------------------------------------- format detection


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file. Download the WVS-7 file from worldvaluessurvey.org "
                        f"(or run `valuesim data synth --out FILE` for a synthetic one).")
    if path.is_dir():
        raise DataError(f"{path} is a directory; pass the WVS-7 data file itself")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes); the download or copy did not finish")


def detect_format(path: Path) -> str:
    """The file's format, from its first bytes when they are telling, else from its extension."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith((b"$FL2", b"$FL3")):
        return "sav"
    if head.startswith(b"<stata_dta>") or (len(head) > 1 and head[0] in (0x71, 0x72, 0x73) and head[1] in (1, 2)):
        return "dta"
    if head.startswith(b"PAR1"):
        return "parquet"
    suffix = path.suffix.lower()
    if suffix in (".zip", ".gz", ".bz2", ".xz", ".rdata", ".rds"):
        raise DataError(f"{path}: {suffix} files are not read directly; unpack it and pass the "
                        f".csv, .sav, .dta or .parquet file inside")
    fmt = _EXTENSIONS.get(suffix, "csv")
    if fmt != "csv":
        raise DataError(f"{path} does not look like a {fmt} file (its first bytes are not a {fmt} "
                        f"header); it may be damaged or renamed")
    return fmt


# --------------------------------------------------------------------------- readers


@dataclass(frozen=True)
class _Reader:
    columns: Callable[[Path], list[str]]
    # read(path, {canonical name: name in file}, question ids) -> {canonical name: column}
    read: Callable[[Path, dict[str, str], list[str]], dict[str, pd.Series]]


def _csv_header(path: Path) -> tuple[list[str], str]:
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if b"\x00" in head:
        raise DataError(f"{path} is not a WVS-7 file: it is binary, not CSV text "
                        f"(expected .csv, .sav, .dta or .parquet)")
    text = head.decode("utf-8-sig", errors="replace")
    line = text.splitlines()[0] if text else ""
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        sep = ","
    header = next(csv.reader([line], delimiter=sep), [])
    return [h.strip() for h in header], sep


def _csv_columns(path: Path) -> list[str]:
    return _csv_header(path)[0]


def _csv_read(path: Path, names: dict[str, str], questions: list[str]) -> dict[str, pd.Series]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header, sep = _csv_header(path)
    types = {names[q]: pa.int32() for q in questions}  # the largest WVS code is 909039
    types[names[ID_COLUMN]] = pa.string()
    types[names[COUNTRY_COLUMN]] = pa.string()
    if WEIGHT_COLUMN in names:
        types[names[WEIGHT_COLUMN]] = pa.float64()
    if SYNTHETIC_COLUMN in names:
        types[names[SYNTHETIC_COLUMN]] = pa.string()
    bad_rows: list = []

    def on_invalid(row):
        bad_rows.append(row)
        return "skip"

    def read(column_types):
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(names.values()), column_types=column_types,
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = read(types)
    except pa.ArrowInvalid as exc:
        if "conversion error" not in str(exc):
            raise DataError(f"{path} could not be parsed as CSV ({_first_line(exc)}); is it the WVS-7 csv file?") from None
        # A cell that is not a plain integer: read everything as text and let the common
        # checks find the exact column and row (also accepts "1.0"-style integers).
        bad_rows.clear()
        table = read({col: pa.string() for col in names.values()})
    if bad_rows:
        raise _bad_row_error(path, sep, len(header))
    return _arrow_columns(table, names)


def _arrow_columns(table, names: dict[str, str]) -> dict[str, pd.Series]:
    # Column by column, complete integer columns straight to numpy: no consolidation of ~300
    # columns into one pandas block (slow at 97k rows).
    import pyarrow as pa

    out = {}
    for canonical, actual in names.items():
        column = table.column(actual)
        if pa.types.is_integer(column.type) and column.null_count == 0:
            out[canonical] = pd.Series(column.to_numpy(), copy=False)
        else:
            out[canonical] = column.to_pandas()
    return out


def _pandas_columns(frame: pd.DataFrame, names: dict[str, str]) -> dict[str, pd.Series]:
    return {canonical: frame[actual] for canonical, actual in names.items()}


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _bad_row_error(path: Path, sep: str, n_fields: int) -> DataError:
    """Find the first row whose field count differs from the header's (slow path, errors only)."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        rows = csv.reader(fh, delimiter=sep)
        next(rows, None)
        first = None
        last_row = 0
        for i, fields in enumerate(rows, start=1):
            last_row = i
            if first is None and len(fields) != n_fields and fields:
                first = (i, len(fields))
    if first is None:
        return DataError(f"{path} could not be parsed: some row does not have {n_fields} fields")
    row, got = first
    if row == last_row and got < n_fields:
        return DataError(
            f"{path} is truncated: its last row (row {row}) has {got} of the {n_fields} fields "
            f"in the header; download or copy the file again"
        )
    return DataError(f"{path}: row {row} has {got} fields but the header has {n_fields}; "
                     f"the file is damaged or not a plain WVS-7 CSV")


def _sav_columns(path: Path) -> list[str]:
    import pyreadstat

    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    except Exception as exc:
        raise DataError(f"{path} is not a readable SPSS .sav file ({_first_line(exc)})") from None
    return list(meta.column_names)


def _sav_read(path: Path, names: dict[str, str], questions: list[str]) -> dict[str, pd.Series]:
    import pyreadstat

    cols = list(names.values())
    try:
        # user_missing=True keeps the WVS missing codes (-1 ... -5) instead of blanking them.
        frame, _ = pyreadstat.read_sav(str(path), usecols=cols, user_missing=True, apply_value_formats=False)
    except Exception as exc:
        if "expected number of rows" in str(exc):
            _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
            row = _first_unreadable_row(
                lambda k: pyreadstat.read_sav(str(path), usecols=cols[:1], row_limit=k), meta.number_rows)
            raise DataError(f"{path} is truncated: row {row} of the {meta.number_rows} its header "
                            f"announces cannot be read; download or copy the file again") from None
        raise DataError(f"{path} is not a readable SPSS .sav file ({_first_line(exc)})") from None
    return _pandas_columns(frame, names)


def _dta_columns(path: Path) -> list[str]:
    try:
        with pd.read_stata(path, iterator=True) as reader:
            return list(reader.variable_labels())
    except Exception as exc:
        raise DataError(f"{path} is not a readable Stata .dta file ({_first_line(exc)})") from None


def _dta_read(path: Path, names: dict[str, str], questions: list[str]) -> dict[str, pd.Series]:
    cols = list(names.values())
    options = dict(convert_categoricals=False, convert_dates=False, convert_missing=False,
                   preserve_dtypes=True)
    try:
        frame = pd.read_stata(path, columns=cols, **options)
    except Exception as exc:
        row = _first_unreadable_dta_row(path, cols[:1], options)
        if row is not None:
            raise DataError(f"{path} is truncated: its data end inside row {row}; "
                            f"download or copy the file again") from None
        raise DataError(f"{path} is not a readable Stata .dta file ({_first_line(exc)})") from None
    return _pandas_columns(frame, names)


def _first_unreadable_dta_row(path: Path, cols: list[str], options: dict) -> int | None:
    """The first row a damaged .dta cannot deliver, or None if every row reads (slow path)."""
    def read_rows(k: int) -> int:
        with pd.read_stata(path, iterator=True, columns=cols, **options) as reader:
            return len(reader.read(nrows=k))

    k = 1024
    while True:
        try:
            if read_rows(k) < k:
                return None  # all rows read: the problem is elsewhere
        except Exception:
            break
        k *= 2
    return _first_unreadable_row(read_rows, k)


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except Exception as exc:
        raise DataError(f"{path} is not a readable Parquet file; it may be truncated or damaged "
                        f"({_first_line(exc)})") from None


def _parquet_read(path: Path, names: dict[str, str], questions: list[str]) -> dict[str, pd.Series]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=list(names.values()))
    except Exception as exc:
        raise DataError(f"{path}: Parquet data could not be read; the file may be truncated or "
                        f"damaged ({_first_line(exc)})") from None
    return _arrow_columns(table, names)


def _first_unreadable_row(can_read: Callable[[int], object], n_rows: int) -> int:
    """Bisection for the first row count that fails to read; returns that row (1-based)."""
    def ok(k: int) -> bool:
        try:
            can_read(k)
            return True
        except Exception:
            return False

    lo, hi = 0, n_rows  # lo rows readable; hi rows not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return hi


_READERS = {
    "csv": _Reader(_csv_columns, _csv_read),
    "sav": _Reader(_sav_columns, _sav_read),
    "dta": _Reader(_dta_columns, _dta_read),
    "parquet": _Reader(_parquet_columns, _parquet_read),
}


# --------------------------------------------------------------------------- column checks


def _where(name: str, column: str, row: int, ids: np.ndarray | None = None) -> str:
    who = f" (respondent {ids[row]})" if ids is not None else ""
    return f"{name}: column {column}, row {row + 1}{who}"


def _integer_codes(series: pd.Series, name: str, column: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int64 codes, null mask) from whatever the reader produced; non-integers are an error."""
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
        text = series.astype("string").str.strip().fillna("")
        numbers = pd.to_numeric(text.mask(text == ""), errors="coerce").astype("float64").to_numpy()
        bad_text = (text != "").to_numpy(dtype=bool) & np.isnan(numbers)
    null = np.isnan(numbers) & ~bad_text
    fractional = ~null & ~bad_text & ~np.isinf(numbers) & (numbers != np.floor(np.nan_to_num(numbers)))
    bad = bad_text | fractional | np.isinf(numbers)
    if bad.any():
        row = int(np.argmax(bad))
        shown = series.iloc[row]
        raise DataError(
            f"{_where(name, column, row, ids)}: {shown!r} is not an integer answer code "
            f"({int(bad.sum())} such cells in {column}); WVS codes are whole numbers, "
            f"missing answers are -1 to -5"
        )
    values = np.where(null, 0, numbers)
    too_big = np.abs(values) > np.iinfo(np.int32).max
    if too_big.any():
        row = int(np.argmax(too_big))
        raise DataError(f"{_where(name, column, row, ids)}: {series.iloc[row]!r} is far outside every "
                        f"WVS answer code ({int(too_big.sum())} such cells in {column})")
    return values.astype(np.int64), null


def _validate_codes(codes: dict[str, tuple[np.ndarray, np.ndarray]], questions: list[Question],
                    name: str, ids: np.ndarray, strict: bool = True) -> None:
    """Every cell must be a code of its question, or a WVS missing code (-1 ... -5)."""
    first = None
    n_bad = 0
    bad_columns = []
    for q in questions:
        values, null = codes[q.id]
        codes_ = q.codes
        contiguous = bool(codes_) and len(codes_) == max(codes_) - min(codes_) + 1
        if q.options and not contiguous:
            allowed = np.union1d(np.array(codes_, dtype=np.int64), _MISSING_SORTED)
            ok = np.isin(values, allowed, kind="table")  # a lookup table: codes are small ints
        elif q.options:
            lo, hi = min(codes_), max(codes_)
            ok = ((values >= lo) & (values <= hi)) | ((values >= -5) & (values <= -1))
        else:
            lo, hi = q.valid_range or (np.iinfo(np.int64).min, np.iinfo(np.int64).max)
            ok = ((values >= lo) & (values <= hi)) | ((values >= -5) & (values <= -1))
        bad = ~ok & ~null
        count = int(bad.sum())
        if count:
            if not strict:
                values = np.where(bad, int(MissingCode.MISSING), values)
                codes[q.id] = (values, null)
            n_bad += count
            bad_columns.append(q.id)
            if first is None:
                row = int(np.argmax(bad))
                first = (q, row, int(values[row]), count)
    if first is None:
        return
    q, row, value, count = first
    if not strict:
        shown = ", ".join(bad_columns[:8]) + (" ..." if len(bad_columns) > 8 else "")
        warnings.warn(
            f"{name}: {n_bad} cells with codes unknown to the question bank were loaded as missing "
            f"(-5), in {shown}; the first is {q.id} row {row + 1} (respondent {ids[row]}): {value}",
            WVSFileWarning, stacklevel=3)
        return
    others = ""
    if len(bad_columns) > 1:
        shown = ", ".join(bad_columns[:5]) + (" ..." if len(bad_columns) > 5 else "")
        others = f"; {n_bad} invalid cells in {len(bad_columns)} columns ({shown})"
    raise DataError(
        f"{_where(name, q.id, row, ids)}: code {value} is out of range for {q.id} "
        f"(valid: {_describe_codes(q)}; missing: -1 to -5); {count} such cells in {q.id}{others}. "
        f"Is this the WVS wave 7 file? (load_wvs7(..., strict=False) loads such cells as missing)"
    )


def _describe_codes(q: Question) -> str:
    codes = q.codes
    if not codes:
        return "none"
    if q.options and len(codes) > 12:
        return f"{len(codes)} codes from {min(codes)} to {max(codes)}"
    if list(codes) == list(range(min(codes), max(codes) + 1)):
        return f"{min(codes)} to {max(codes)}"
    return ", ".join(map(str, codes))


def _text(series: pd.Series) -> pd.Series:
    """Stripped text with "" for empty cells (vectorised; ids and country codes)."""
    return series.astype("string").str.strip().fillna("")


def _respondent_ids(series: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("float64").to_numpy()
        if np.isnan(numbers).any():
            row = int(np.argmax(np.isnan(numbers)))
            raise DataError(f"{_where(name, ID_COLUMN, row)}: respondent id is empty")
        if (numbers == np.floor(numbers)).all():
            series = pd.Series(numbers.astype(np.int64))
    text = _text(series)
    empty = (text == "").to_numpy(dtype=bool)
    if empty.any():
        row = int(np.argmax(empty))
        raise DataError(f"{_where(name, ID_COLUMN, row)}: respondent id is empty")
    ids = text.to_numpy(dtype=object)
    dup = pd.Index(ids).duplicated()
    if dup.any():
        row = int(np.argmax(dup))
        first = int(np.argmax(ids == ids[row]))
        raise DataError(
            f"{_where(name, ID_COLUMN, row)}: respondent id {ids[row]} appears again (first at row "
            f"{first + 1}); {int(dup.sum())} duplicate ids. Respondent ids must be unique."
        )
    return ids


def _countries(series: pd.Series, name: str) -> np.ndarray:
    values = _text(series)
    empty = (values == "").to_numpy(dtype=bool)
    if empty.any():
        row = int(np.argmax(empty))
        raise DataError(f"{_where(name, COUNTRY_COLUMN, row)}: country code is empty")
    return values.to_numpy(dtype=object)


def _weights(series: pd.Series, name: str, ids: np.ndarray) -> np.ndarray:
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(numbers) | (numbers < 0) | np.isinf(numbers)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{_where(name, WEIGHT_COLUMN, row, ids)}: weight {series.iloc[row]!r} is not a "
                        f"non-negative number ({int(bad.sum())} such rows)")
    return numbers


__all__ = ["load_wvs7", "compact_ids", "detect_format", "WVSFileWarning", "ID_COLUMN", "COUNTRY_COLUMN",
           "WEIGHT_COLUMN", "SYNTHETIC_COLUMN", "FORMATS"]
