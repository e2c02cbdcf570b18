"""CSV reader for WVS-7 files: v5 (semicolon) and v6 (comma) layouts, any common encoding.

The header is parsed as CSV, not as the first physical line: labelled exports carry the
official variable labels, some of which contain line breaks, so their headers are quoted
multi-line fields. The data after the header are parsed by pyarrow (multi-threaded, only
the needed columns). A file that is not UTF-8 (real exports are often Windows-1252 or
Latin-1, Excel writes UTF-16) is read in its encoding with one warning; a ragged or
truncated row is named in one line.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ...errors import DataError
from .fileformat import WVSFileWarning, arrow_columns, first_line

# Tried in order when a CSV is not UTF-8: real exports are mostly Windows-1252 or Latin-1.
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")
_SAMPLE = 1 << 20  # the first read; a header longer than that is read on, up to _HEADER_LIMIT
_HEADER_LIMIT = 16 << 20  # a labelled WVS-7 header is ~100 KB; 16 MB without a row end is no table
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# What binary files users pass instead of a CSV, by their first bytes.
_MAGIC = ((b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one): save or unpack it as .csv"),
          (b"\x1f\x8b", "gzip-compressed: unpack it first"),
          (b"%PDF", "a PDF document"),
          (b"\xd0\xcf\x11\xe0", "an old Excel/Office document: save it as .csv"),
          (b"SQLite format 3", "an SQLite database"))


@dataclass(frozen=True)
class CSVHeader:
    names: list[str]  # header fields, whitespace (line breaks in labels) collapsed to one space
    sep: str
    encoding: str  # what pyarrow reads the data in: utf-8, cp1252, latin-1, utf-16-le/-be
    data_start: int  # byte offset of the first data row
    note: str | None = None  # the encoding warning, said on every read of the header


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """(text, encoding): UTF-8 when it is, else the first fallback that decodes."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # a multi-byte character cut by the sample's end
            return data[:exc.start].decode("utf-8"), "utf-8"
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


def _utf16(head: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) of UTF-16 text (a BOM, or ASCII with every other byte NUL)."""
    for bom, codec in _BOMS[1:]:
        if head.startswith(bom):
            return codec, len(bom)
    sample = head[:400]
    if len(sample) >= 8 and len(sample) % 2 == 0:
        if sample[1::2].count(0) > 0.9 * len(sample) / 2 and sample[0::2].count(0) == 0:
            return "utf-16-le", 0
        if sample[0::2].count(0) > 0.9 * len(sample) / 2 and sample[1::2].count(0) == 0:
            return "utf-16-be", 0
    return None


def _record_end(text: str) -> int | None:
    """Where the first CSV record of ``text`` ends (after its line break: LF, CRLF or a lone CR),
    or None when the text ends inside it. A quote opens a quoted field only at a field's start;
    "" inside is a quote."""
    specials = re.compile(r'[",;\t\n\r]')
    i, field_start = 0, True
    while True:
        m = specials.search(text, i)
        if m is None:
            return None
        c = m.group()
        if c == '"':
            if field_start and m.start() == i:  # a quoted field: on to its closing quote
                j = m.end()
                while True:
                    j = text.find('"', j)
                    if j < 0:
                        return None
                    if not text.startswith('"', j + 1):
                        break
                    j += 2
                i = j + 1
            else:
                i = m.end()
            field_start = False
        elif c == "\n":
            return m.end()
        elif c == "\r":  # "\r\n", or a lone "\r" (old Mac line ends)
            return m.end() + 1 if text.startswith("\n", m.end()) else m.end()
        else:
            i, field_start = m.end(), True


def _read_head(path: Path) -> tuple[bytes, int]:
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            return fh.read(_SAMPLE), size
    except PermissionError:
        raise DataError(f"{path}: permission denied; valuesim cannot read this file "
                        f"(check its permissions, e.g. chmod u+r)") from None
    except OSError as exc:
        raise DataError(f"{path} could not be read ({first_line(exc)})") from None


@lru_cache(maxsize=8)
def _header_of(path_text: str, size: int, mtime: int) -> CSVHeader:
    path = Path(path_text)
    head, size = _read_head(path)
    utf16 = _utf16(head)
    if utf16 is None and b"\x00" in head:
        what = next((w for magic, w in _MAGIC if head.startswith(magic)), "binary, not CSV text")
        raise DataError(f"{path} is not a WVS-7 file: it is {what} "
                        f"(expected .csv, .sav, .dta or .parquet)")
    note = None
    while True:
        if utf16:
            encoding, bom = utf16
            text = head[bom:len(head) - (len(head) - bom) % 2].decode(encoding, errors="replace")
            note = (f"{path} is not UTF-8 (it is UTF-16 text, as Excel's 'Unicode text' writes it); "
                    f"read it as {encoding}")
        else:
            bom = 3 if head.startswith(_BOMS[0][0]) else 0
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")
                text, encoding = _decode(head[bom:], path)
            note = str(said[0].message) if said else None
        end = _record_end(text)
        if end is not None or len(head) >= size:
            break
        if len(head) >= _HEADER_LIMIT:
            raise DataError(f"{path}: its first row (the header) runs on past the first "
                            f"{_HEADER_LIMIT >> 20} MB without a line end; this is not a table of "
                            f"respondents (a header row, then one row per respondent)")
        with open(path, "rb") as fh:
            head = fh.read(min(len(head) * 4, _HEADER_LIMIT))
    record = text[:end] if end is not None else text
    data_start = bom + len(record.encode(encoding, errors="replace"))
    line = record.rstrip("\r\n")
    counts = _separators(line)
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        sep = ","
    names = _fields(line, sep, path)
    return CSVHeader([" ".join(h.split()) for h in names], sep, encoding, data_start, note)


def _separators(line: str) -> dict[str, int]:
    """Separator counts outside quoted fields."""
    outside = re.sub(r'"(?:[^"]|"")*"', "", line)
    return {sep: outside.count(sep) for sep in (",", ";", "\t")}


def _fields(line: str, sep: str, path: Path) -> list[str]:
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(line) + 1))
    try:
        return next(csv.reader(io.StringIO(line, newline=""), delimiter=sep), [])
    except csv.Error as exc:
        raise DataError(f"{path}: the header row is not valid CSV ({exc})") from None
    finally:
        csv.field_size_limit(limit)


def csv_header(path: Path) -> CSVHeader:
    """The header of a CSV file (cached per file version; the encoding warning is repeated)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise DataError(f"{path} could not be read ({first_line(exc)})") from None
    head = _header_of(str(path), st.st_size, st.st_mtime_ns)
    if head.note:
        warnings.warn(head.note, WVSFileWarning, stacklevel=3)
    return head


def csv_columns(path: Path) -> list[str]:
    return csv_header(path).names


def _unique(names: list[str]) -> list[str]:
    """Header names made unique for the parser (a repeated name gets "#2", "#3" ...)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def csv_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False,
             decimals: tuple[str, ...] = ()) -> dict[str, pd.Series]:
    """The ``names`` columns ({canonical: header}); ``integers`` as int32, ``decimals`` as float64
    (both as text when a cell is not such a number), the rest as text; all text if ``labels``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    head = csv_header(path)
    encoding = head.encoding
    if labels:
        types = {col: pa.string() for col in names.values()}
    else:
        types = {names[q]: pa.int32() for q in integers}  # the largest WVS code is 909039
        types.update({col: pa.float64() if c in decimals else pa.string()
                      for c, col in names.items() if c not in integers})
    bad_rows: list = []

    def on_invalid(row):
        bad_rows.append(row)
        return "skip"

    def read(column_types, encoding):
        with pa.OSFile(str(path)) as stream:
            stream.seek(head.data_start)
            return pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=_unique(head.names), block_size=8 << 20,
                                               encoding=encoding),
                parse_options=pacsv.ParseOptions(delimiter=head.sep, invalid_row_handler=on_invalid,
                                                 newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    include_columns=list(names.values()), column_types=column_types,
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                ),
            )

    if head.data_start >= path.stat().st_size:  # a header and nothing else
        return {canonical: pd.Series([], dtype=object) for canonical in names}
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
            if "Empty CSV file" in message:  # only blank lines after the header
                return {canonical: pd.Series([], dtype=object) for canonical in names}
            if "straddling" in message or "block size" in message.lower():
                raise DataError(f"{path}: a row is longer than 8 MB or a quoted field never closes; "
                                f"the file is damaged or not a WVS-7 CSV") from None
            raise DataError(f"{path} could not be parsed as CSV ({first_line(exc)}); "
                            f"is it the WVS-7 csv file?") from None
        except UnicodeDecodeError:
            if encoding == _FALLBACK_ENCODINGS[-1]:
                raise DataError(f"{path}: the text encoding could not be read; re-save it as UTF-8") from None
            encoding = _FALLBACK_ENCODINGS[-1]
        except PermissionError:
            raise DataError(f"{path}: permission denied; valuesim cannot read this file") from None
    if table is None:
        raise DataError(f"{path} could not be parsed as CSV; re-save it as UTF-8 comma-separated text")
    if bad_rows:
        raise _bad_row_error(path, head.sep, len(head.names), encoding)
    return arrow_columns(table, names)


def _bad_row_error(path: Path, sep: str, n_fields: int, encoding: str) -> DataError:
    """Find the first row whose field count differs from the header's (slow path, errors only)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(1 << 30)
    try:
        with open(path, newline="", encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                  errors="replace") as fh:
            rows = csv.reader(fh, delimiter=sep)
            next(rows, None)
            first = None
            last_row = 0
            for i, fields in enumerate(rows, start=1):
                last_row = i
                if first is None and len(fields) != n_fields and fields:
                    first = (i, len(fields))
    finally:
        csv.field_size_limit(limit)
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
