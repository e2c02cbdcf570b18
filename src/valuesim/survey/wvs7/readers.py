"""Format readers for WVS-7 files: CSV (``csv_reader.py``), SPSS ``.sav``, Stata ``.dta`` and
Parquet, registered by format name in ``READERS``. Shared pieces (format detection, the
reader interface, the warning class) are in ``fileformat.py`` and re-exported here.
Validation of what was read lives in ``checks.py`` and ``codes.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import DataError
from .csv_reader import csv_columns, csv_read
from .fileformat import (
    FORMATS,
    Reader,
    WVSFileWarning,
    arrow_columns,
    check_readable,
    detect_format,
    first_line,
    first_unreadable_row,
    frame_reader,
)

__all__ = ["FORMATS", "READERS", "Reader", "WVSFileWarning", "check_readable", "detect_format", "first_line",
           "frame_reader"]


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


def _sav_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False,
              decimals: tuple[str, ...] = ()) -> dict[str, pd.Series]:
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


def _dta_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False,
              decimals: tuple[str, ...] = ()) -> dict[str, pd.Series]:
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


def _parquet_read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False,
              decimals: tuple[str, ...] = ()) -> dict[str, pd.Series]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=list(dict.fromkeys(names.values())))
    except Exception as exc:
        raise DataError(f"{path}: Parquet data could not be read; the file may be truncated or "
                        f"damaged ({first_line(exc)})") from None
    return arrow_columns(table, names)


READERS = {
    "csv": Reader(csv_columns, csv_read),
    "sav": Reader(_sav_columns, _sav_read, _sav_labels),
    "dta": Reader(_dta_columns, _dta_read, _dta_labels),
    "parquet": Reader(_parquet_columns, _parquet_read),
}
