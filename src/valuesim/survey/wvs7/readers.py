"""Format readers for WVS-7 files: CSV (v5/v6, comma or semicolon, any common encoding), SPSS
``.sav``, Stata ``.dta`` and Parquet.

A reader lists a file's columns and reads only the ones asked for (the official file has ~600;
valuesim needs ~300), as raw codes: WVS missing codes stay what they are. Labelled exports are
read as text (``labels=True``). Problems a user can cause end in one :class:`DataError`.
Validation of what was read lives in ``checks.py`` and ``codes.py``.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ...errors import DataError

FORMATS = ("csv", "sav", "dta", "parquet")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".sav": "sav", ".zsav": "sav",
               ".dta": "dta", ".parquet": "parquet", ".pq": "parquet"}
# Tried in order when a CSV is not UTF-8: real exports are mostly Windows-1252 or Latin-1.
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")


class WVSFileWarning(UserWarning):
    """The file loads, but not all of it is what valuesim expects (absent items, no weight)."""


@dataclass(frozen=True)
class Reader:
    columns: Callable[[Path], list[str]]
    # read(path, {canonical: name in file}, integer columns (canonical), labels) -> {canonical: column}
    read: Callable[..., dict[str, pd.Series]]
    # {column name: variable label} (empty for CSV and Parquet, which carry none)
    variable_labels: Callable[[Path], dict[str, str]] = lambda path: {}


def check_readable(path: Path) -> None:
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


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --------------------------------------------------------------------------- CSV


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """(text, encoding): UTF-8 when it is, else the first fallback that decodes."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a multi-byte character cut by the sample's end
            return data[:exc.start].decode("utf-8-sig"), "utf-8"
        bad = exc.start
    for encoding in _FALLBACK_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        _warn_encoding(path, encoding, f"byte 0x{data[bad]:02x} at offset {bad:,}")
        return text, encoding
    raise DataError(f"{path} is not UTF-8 text (byte {bad:,}) and no fallback encoding reads it")


def _warn_encoding(path: Path, encoding: str, where: str) -> None:
    warnings.warn(f"{path} is not UTF-8 ({where}); read it as {encoding} (Windows/Latin-1 export). "
                  f"If names look wrong, re-save the file as UTF-8", WVSFileWarning, stacklevel=4)


def _csv_header(path: Path) -> tuple[list[str], str, str]:
    """(header fields, separator, encoding) from the start of the file."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if b"\x00" in head:
        raise DataError(f"{path} is not a WVS-7 file: it is binary, not CSV text "
                        f"(expected .csv, .sav, .dta or .parquet)")
    first = head.split(b"\n", 1)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the full sample below decides and warns once
        line = _decode(first, path)[0].lstrip("\ufeff").rstrip("\r")
    encoding = _decode(head, path)[1] if head else "utf-8"
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        sep = ","
    header = next(csv.reader([line], delimiter=sep), [])
    return [h.strip() for h in header], sep, encoding


def _csv_columns(path: Path) -> list[str]:
    return _csv_header(path)[0]


def _unique(names: list[str]) -> list[str]:
    """Header names made unique for the parser (a repeated name gets "#2", "#3" ...)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def _csv_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False) -> dict[str, pd.Series]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header, sep, encoding = _csv_header(path)
    if labels:
        types = {col: pa.string() for col in names.values()}
    else:
        types = {names[q]: pa.int32() for q in integers}  # the largest WVS code is 909039
        types.update({col: pa.string() for c, col in names.items() if c not in integers})
    bad_rows: list = []

    def on_invalid(row):
        bad_rows.append(row)
        return "skip"

    def read(column_types, encoding):
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=_unique(header), skip_rows=1, block_size=8 << 20,
                                           encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(names.values()), column_types=column_types,
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )

    as_text = {col: pa.string() for col in names.values()}
    table = None
    for attempt in range(3):
        try:
            table = read(types, encoding)
            break
        except pa.ArrowInvalid as exc:
            message = str(exc)
            bad_rows.clear()
            if "utf8" in message.lower().replace("-", "") and encoding == "utf-8":
                # A non-UTF-8 byte beyond the header sample: Windows-1252 reads every byte value
                # that Latin-1 exports contain except five; Latin-1 reads all.
                encoding = _FALLBACK_ENCODINGS[0]
                _warn_encoding(path, encoding, "a non-UTF-8 byte inside the data")
                continue
            if "conversion error" in message and types is not as_text:
                # A cell that is not a plain integer: read as text, let the checks name the cell.
                types = as_text
                continue
            raise DataError(f"{path} could not be parsed as CSV ({first_line(exc)}); "
                            f"is it the WVS-7 csv file?") from None
        except UnicodeDecodeError:
            if encoding == _FALLBACK_ENCODINGS[-1]:
                raise DataError(f"{path}: the text encoding could not be read; re-save it as UTF-8") from None
            encoding = _FALLBACK_ENCODINGS[-1]
    if table is None:
        raise DataError(f"{path} could not be parsed as CSV; re-save it as UTF-8 comma-separated text")
    if bad_rows:
        raise _bad_row_error(path, sep, len(header), encoding)
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


def _bad_row_error(path: Path, sep: str, n_fields: int, encoding: str) -> DataError:
    """Find the first row whose field count differs from the header's (slow path, errors only)."""
    with open(path, newline="", encoding="utf-8-sig" if encoding == "utf-8" else encoding, errors="replace") as fh:
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


# --------------------------------------------------------------------------- SPSS, Stata, Parquet


def _sav_meta(path: Path):
    import pyreadstat

    try:
        return pyreadstat.read_sav(str(path), metadataonly=True)[1]
    except Exception as exc:
        raise DataError(f"{path} is not a readable SPSS .sav file ({first_line(exc)})") from None


def _sav_columns(path: Path) -> list[str]:
    return list(_sav_meta(path).column_names)


def _sav_labels(path: Path) -> dict[str, str]:
    return {k: v for k, v in _sav_meta(path).column_names_to_labels.items() if v}


def _sav_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False) -> dict[str, pd.Series]:
    import pyreadstat

    cols = list(dict.fromkeys(names.values()))
    try:
        # user_missing=True keeps the WVS missing codes (-1 ... -5) instead of blanking them.
        frame, _ = pyreadstat.read_sav(str(path), usecols=cols, user_missing=not labels,
                                       apply_value_formats=labels)
    except Exception as exc:
        if "expected number of rows" in str(exc):
            meta = _sav_meta(path)
            row = first_unreadable_row(
                lambda k: pyreadstat.read_sav(str(path), usecols=cols[:1], row_limit=k), meta.number_rows)
            raise DataError(f"{path} is truncated: row {row} of the {meta.number_rows} its header "
                            f"announces cannot be read; download or copy the file again") from None
        raise DataError(f"{path} is not a readable SPSS .sav file ({first_line(exc)})") from None
    return {canonical: frame[actual] for canonical, actual in names.items()}


def _dta_columns(path: Path) -> list[str]:
    return list(_dta_labels_all(path))


def _dta_labels_all(path: Path) -> dict[str, str]:
    try:
        with pd.read_stata(path, iterator=True) as reader:
            return reader.variable_labels()
    except Exception as exc:
        raise DataError(f"{path} is not a readable Stata .dta file ({first_line(exc)})") from None


def _dta_labels(path: Path) -> dict[str, str]:
    return {k: v for k, v in _dta_labels_all(path).items() if v}


def _dta_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False) -> dict[str, pd.Series]:
    cols = list(dict.fromkeys(names.values()))
    options = {"convert_categoricals": labels, "convert_dates": False, "convert_missing": False,
               "preserve_dtypes": True}
    try:
        frame = pd.read_stata(path, columns=cols, **options)
    except Exception as exc:
        row = _first_unreadable_dta_row(path, cols[:1], options)
        if row is not None:
            raise DataError(f"{path} is truncated: its data end inside row {row}; "
                            f"download or copy the file again") from None
        raise DataError(f"{path} is not a readable Stata .dta file ({first_line(exc)})") from None
    return {canonical: frame[actual] for canonical, actual in names.items()}


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
    return first_unreadable_row(read_rows, k)


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except Exception as exc:
        raise DataError(f"{path} is not a readable Parquet file; it may be truncated or damaged "
                        f"({first_line(exc)})") from None


def _parquet_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False) -> dict[str, pd.Series]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=list(dict.fromkeys(names.values())))
    except Exception as exc:
        raise DataError(f"{path}: Parquet data could not be read; the file may be truncated or "
                        f"damaged ({first_line(exc)})") from None
    return _arrow_columns(table, names)


def first_unreadable_row(can_read: Callable[[int], object], n_rows: int) -> int:
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


READERS = {
    "csv": Reader(_csv_columns, _csv_read),
    "sav": Reader(_sav_columns, _sav_read, _sav_labels),
    "dta": Reader(_dta_columns, _dta_read, _dta_labels),
    "parquet": Reader(_parquet_columns, _parquet_read),
}
