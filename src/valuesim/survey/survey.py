"""A loaded survey: a codebook plus one row of raw codes per respondent.

Raw codes are kept as they are in the file (negative WVS missing codes included) so that
"don't know" and "not asked" stay distinguishable; ``valid()`` gives the analysis view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .model import MISSING_CODES, Codebook, Respondent, answers_from_codes

ID, COUNTRY, WEIGHT = "respondent_id", "country", "weight"
YEAR = "year"  # the year each person answered (float, NaN unknown); only when the file says
ORIGINAL_ID = "D_INTERVIEW"  # the file's own id, kept next to the (possibly derived) key


def year_of(value) -> int | None:
    """A data cell of the ``year`` column as a year (None: unknown)."""
    return None if value is None or pd.isna(value) else int(value)


class UnknownRespondent(KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown respondent"


@dataclass
class Survey:
    """``data`` has index ``respondent_id`` (str), columns ``country``, ``weight`` (``year``
    when the file names it) and one nullable-integer column per question in ``codebook``
    holding the raw code."""

    codebook: Codebook
    data: pd.DataFrame
    source: str = ""
    synthetic: bool = False
    absent: list[str] = field(default_factory=list)  # codebook items the file did not have
    # What the importer changed or noticed (wvs7.quality.ImportReport); None when not imported
    quality: object = None

    @property
    def question_ids(self) -> list[str]:
        return [q for q in self.codebook.ids if q in self.data.columns]

    @property
    def countries(self) -> list[str]:
        return sorted(self.data[COUNTRY].dropna().unique().tolist())

    def __len__(self) -> int:
        return len(self.data)

    def valid(self, qids: list[str] | None = None) -> pd.DataFrame:
        """Codes with every missing code turned into NA (float matrix, NaN = missing)."""
        cols = qids if qids is not None else self.question_ids
        raw = self.data[cols].astype("float64")
        return raw.mask(raw.isin(list(MISSING_CODES)))

    def codes_array(self, qids: list[str] | None = None) -> np.ndarray:
        """Valid codes as a float array (NaN = missing), rows in ``data`` order."""
        return self.valid(qids).to_numpy(dtype="float64")

    def respondent(self, respondent_id: str) -> Respondent:
        rid = self._key(str(respondent_id))
        if rid not in self.data.index:
            raise UnknownRespondent(
                f"respondent {rid!r} is not in {self.source or 'this survey'} "
                f"({len(self.data)} respondents; ids look like {', '.join(map(str, self.data.index[:3]))})"
            )
        row = self.data.loc[rid]
        codes = {q: row[q] for q in self.question_ids if not pd.isna(row[q])}
        answers, missing = answers_from_codes(codes)
        return Respondent(rid, str(row[COUNTRY]), float(row[WEIGHT]), answers, missing, year_of(row.get(YEAR)))

    def _key(self, rid: str) -> str:
        """The row key of ``rid``: itself, or the derived key of a file id (D_INTERVIEW) that
        the importer had to number because several rows share it (an error if it is shared)."""
        id_column = self.codebook.columns.id or ORIGINAL_ID
        if rid in self.data.index or id_column not in self.data.columns:
            return rid
        keys = self.data.index[(self.data[id_column] == rid).to_numpy()]
        if len(keys) > 1:
            shown = ", ".join(map(str, keys[:3]))
            raise UnknownRespondent(f"respondent id {rid} is shared by {len(keys)} rows of "
                                    f"{self.source or 'this survey'}; pass one of their keys ({shown} ...)")
        return str(keys[0]) if len(keys) else rid

    def subset(self, ids) -> "Survey":
        return Survey(self.codebook, self.data.loc[list(ids)], self.source, self.synthetic, list(self.absent),
                      self.quality)
