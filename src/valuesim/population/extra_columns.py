"""Read H_URBRURAL (1 urban, 2 rural) next to a loaded survey, for the demographic personas.

The WVS-7 importer keeps only the question columns; urban/rural is a file column outside the
Q1-Q290 bank, so the population method reads it itself, joined on the respondent id
(D_INTERVIEW). When the file has no such column (or cannot be read this way) the demographic
persona simply leaves urban/rural out.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from ..survey.survey import Survey

URBAN_COLUMN = "H_URBRURAL"


def _read(path: Path, wanted: list[str]) -> pd.DataFrame | None:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".gz"):
        header = pd.read_csv(path, nrows=0, sep=None, engine="python").columns
        cols = {c.strip().upper(): c for c in header}
        if not all(w in cols for w in wanted):
            return None
        sep = "," if "," in open(path, encoding="utf-8", errors="replace").readline() else ";"
        frame = pd.read_csv(path, usecols=[cols[w] for w in wanted], sep=sep)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        names = pq.ParquetFile(path).schema.names
        cols = {c.strip().upper(): c for c in names}
        if not all(w in cols for w in wanted):
            return None
        frame = pd.read_parquet(path, columns=[cols[w] for w in wanted])
    elif suffix == ".sav":
        import pyreadstat

        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
        cols = {c.strip().upper(): c for c in meta.column_names}
        if not all(w in cols for w in wanted):
            return None
        frame, _ = pyreadstat.read_sav(str(path), usecols=[cols[w] for w in wanted])
    elif suffix == ".dta":
        with pd.read_stata(path, iterator=True) as reader:
            names = list(reader.variable_labels())
        cols = {c.strip().upper(): c for c in names}
        if not all(w in cols for w in wanted):
            return None
        frame = pd.read_stata(path, columns=[cols[w] for w in wanted], convert_categoricals=False)
    else:
        return None
    frame.columns = [str(c).strip().upper() for c in frame.columns]
    return frame


def attach_urban_rural(survey: Survey, path: str | Path) -> bool:
    """Add an ``H_URBRURAL`` column to ``survey.data`` from ``path``; True when it was found."""
    if URBAN_COLUMN in survey.data:  # the importer keeps it, keyed like every other column
        return True
    id_column = (survey.codebook.columns.id or "D_INTERVIEW").upper()  # _read upper-cases the header
    try:
        frame = _read(Path(path), [id_column, URBAN_COLUMN])
    except Exception as exc:  # an optional extra: never fail the run over it
        warnings.warn(f"could not read {URBAN_COLUMN} from {path}: {exc}", stacklevel=2)
        return False
    if frame is None:
        return False
    ids = frame[id_column]
    if pd.api.types.is_numeric_dtype(ids.dtype) and (ids.dropna() == ids.dropna().round()).all():
        ids = ids.astype("Int64")
    values = pd.to_numeric(frame[URBAN_COLUMN], errors="coerce")
    mapping = pd.Series(values.to_numpy(), index=ids.astype(str).to_numpy())
    mapping = mapping[~mapping.index.duplicated()]
    survey.data[URBAN_COLUMN] = mapping.reindex(survey.data.index.astype(str)).to_numpy()
    return True
