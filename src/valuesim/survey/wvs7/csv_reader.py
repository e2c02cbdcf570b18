"""CSV reader for WVS-7 files: v5 (semicolon) and v6 (comma) layouts, any common encoding.

Only the needed columns are parsed (pyarrow, multi-threaded). A file that is not UTF-8 (real
exports are often Windows-1252 or Latin-1) is read in its encoding with one warning; a ragged
or truncated row is named in one line.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd

from ...errors import DataError
from .fileformat import WVSFileWarning, arrow_columns, first_line

# Tried in order when a CSV is not UTF-8: real exports are mostly Windows-1252 or Latin-1.
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")


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


def csv_columns(path: Path) -> list[str]:
    return _csv_header(path)[0]


def _unique(names: list[str]) -> list[str]:
    """Header names made unique for the parser (a repeated name gets "#2", "#3" ...)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def csv_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False) -> dict[str, pd.Series]:
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
    return arrow_columns(table, names)


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
