"""What every format reader shares: format detection, the reader interface, the warning class.

A reader lists a file's columns and reads only the ones asked for (the official file has ~600;
valuesim needs ~300), as raw codes: WVS missing codes stay what they are. Labelled exports are
read as text (``labels=True``). Problems a user can cause end in one :class:`DataError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ...errors import DataError

FORMATS = ("csv", "sav", "dta", "parquet")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".sav": "sav", ".zsav": "sav",
               ".dta": "dta", ".parquet": "parquet", ".pq": "parquet"}


class WVSFileWarning(UserWarning):
    """The file loads, but not all of it is what valuesim expects (absent items, no weight)."""


@dataclass(frozen=True)
class Reader:
    columns: Callable[[Path], list[str]]
    # read(path, {canonical: name in file}, integer columns (canonical), labels, decimals=float
    # columns (canonical)) -> {canonical: column}
    read: Callable[..., dict[str, pd.Series]]
    # {column name: variable label} (empty for CSV and Parquet, which carry none)
    variable_labels: Callable[[Path], dict[str, str]] = lambda path: {}


def frame_reader(frame: pd.DataFrame, variable_labels: dict[str, str], fallback: Reader) -> Reader:
    """A reader over a file whose raw codes were already read whole into ``frame`` (as
    ``fallback.read`` would give them), so the file is not read again; cells read as labels
    (``labels=True``) still come from the file through ``fallback``."""
    def read(path: Path, names: dict[str, str], integers: list[str], labels: bool = False,
             decimals: tuple[str, ...] = ()) -> dict[str, pd.Series]:
        if labels:
            return fallback.read(path, names, integers, labels=True, decimals=decimals)
        return {canonical: frame[actual] for canonical, actual in names.items()}

    return Reader(lambda path: list(frame.columns), read,
                  lambda path: {k: v for k, v in variable_labels.items() if v})


def check_readable(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file. Download the WVS-7 file from worldvaluessurvey.org "
                        f"(or run `valuesim data synth --out FILE` for a synthetic one).")
    if path.is_dir():
        raise DataError(f"{path} is a directory; pass the WVS-7 data file itself")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes); the download or copy did not finish")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise DataError(f"{path}: permission denied; valuesim cannot read this file "
                        f"(check its permissions, e.g. chmod u+r)") from None
    except OSError as exc:
        raise DataError(f"{path} could not be opened ({first_line(exc)})") from None


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


def arrow_columns(table, names: dict[str, str]) -> dict[str, pd.Series]:
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
