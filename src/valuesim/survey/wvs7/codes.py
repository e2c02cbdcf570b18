"""Answer codes as real WVS-7 files have them, against the question bank.

- code lists (country of birth, language, party, ethnic group) accept any code: the label file
  of one release never lists every country's codes;
- counts the bank top-codes ("7 or more") are stored uncapped: larger counts become that code;
- any other code the bank does not know is loaded as missing (-5) with one warning per column
  (column, codes, cells), or refused with ``strict=True``;
- the WVS missing codes -1 ... -5 always pass, so "don't know" and "not asked" stay apart.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...errors import DataError
from ..model import MISSING_CODES, Codebook, MissingCode, Question, missing_kind
from .quality import ImportReport
from .readers import WVSFileWarning

_MISSING_SORTED = np.array(sorted(MISSING_CODES), dtype=np.int64)


def _is_missing(values: np.ndarray) -> np.ndarray:
    return (values >= -5) & (values <= -1)


def _listed(q: Question, values: np.ndarray) -> np.ndarray:
    """Cells holding a code the bank lists for ``q`` (or within its numeric range)."""
    codes = q.codes
    contiguous = bool(codes) and len(codes) == max(codes) - min(codes) + 1
    if q.options and not contiguous:
        return np.isin(values, np.array(codes, dtype=np.int64))
    if q.options:
        return (values >= min(codes)) & (values <= max(codes))
    lo, hi = q.valid_range or (np.iinfo(np.int64).min, np.iinfo(np.int64).max)
    return (values >= lo) & (values <= hi)


def _counts(values: np.ndarray) -> dict[int, int]:
    codes, n = np.unique(values, return_counts=True)
    return {int(c): int(k) for c, k in zip(codes, n)}


def interpret(codes: dict[str, tuple[np.ndarray, np.ndarray]], questions: list[Question], name: str,
              ids: np.ndarray, report: ImportReport, strict: bool = False,
              positions: np.ndarray | None = None) -> None:
    """Rewrite ``codes`` in place as the module docstring says, recording it in ``report``.
    ``positions``: each row's 0-based row in the file (rows may have been left out)."""
    refused: list[tuple] = []  # (question, first row, code, cells, its row in the file)
    for q in questions:
        values, null = codes[q.id]
        if q.code_list:
            kept = ~null & (values >= 0)
            unlabelled = kept & ~np.isin(values, np.array(q.codes, dtype=np.int64))
            if unlabelled.any():
                report.unlabelled_codes[q.id] = _counts(values[unlabelled])
            ok = kept | _is_missing(values)
        else:
            if q.count and q.codes:
                top = max(q.codes)
                above = ~null & (values > top)
                if above.any():
                    report.top_coded[q.id] = {"cells": int(above.sum()), "top_code": int(top),
                                              "largest": int(values[above].max())}
                    values = np.where(above, top, values)
            ok = _listed(q, values) | _is_missing(values)
        bad = ~ok & ~null
        if not bad.any():
            codes[q.id] = (values, null)
            continue
        row = int(np.argmax(bad))
        file_row = int(positions[row]) if positions is not None else row
        if strict:
            refused.append((q, row, int(values[row]), int(bad.sum()), file_row))
            continue
        report.unknown_codes[q.id] = _counts(values[bad])
        codes[q.id] = (np.where(bad, int(MissingCode.MISSING), values), null)
        listed = ", ".join(f"{c} ({n:,})" for c, n in list(report.unknown_codes[q.id].items())[:8])
        warnings.warn(f"{name}: {q.id} has {int(bad.sum()):,} cells with codes the question bank does not "
                      f"know, loaded as missing (-5): code (cells) {listed}; first at row {file_row + 1}. "
                      f"strict=True / --strict refuses such files", WVSFileWarning, stacklevel=3)
    if report.top_coded:
        listed = "; ".join(f"{q} {t['cells']:,} cells above {t['top_code']} (largest {t['largest']})"
                           for q, t in report.top_coded.items())
        warnings.warn(f"{name}: counts stored uncapped were top-coded to the bank's 'or more' answer: "
                      f"{listed}", WVSFileWarning, stacklevel=3)
    if refused:
        q, row, value, count, file_row = refused[0]
        others = ""
        if len(refused) > 1:
            cols = [r[0].id for r in refused]
            total = sum(r[3] for r in refused)
            others = (f"; {total} such cells in {len(cols)} columns "
                      f"({', '.join(cols[:5])}{' ...' if len(cols) > 5 else ''})")
        raise DataError(
            f"{name}: column {q.id}, row {file_row + 1} (respondent {ids[row]}): code {value} is not a code of {q.id} "
            f"(valid: {_describe_codes(q)}; missing: -1 to -5); {count} such cells in {q.id}{others}. "
            f"Without --strict (strict=False) such cells are loaded as missing, with a warning"
        )


def own_missing_codes(codes: dict[str, tuple[np.ndarray, np.ndarray]], codebook: Codebook,
                      present: list[str]) -> None:
    """Rewrite, in place, each item's own missing codes (a codebook's ``missing``: ESS 7/8/9, or
    77/88/99 on an eleven-point scale) into valuesim's missing kinds (-1 don't know, -2 no answer,
    -3 not applicable, -4 not asked, -5 missing), by their labels; WVS-7's codes are already those."""
    for qid in present:
        own = {code: int(missing_kind(label)) for code, label in codebook.missing_codes(codebook[qid]).items()
               if code not in MISSING_CODES}
        if not own:
            continue
        values, null = codes[qid]
        values = values.copy()
        for code, kind in own.items():  # a handful of codes per item
            values[(values == code) & ~null] = kind
        codes[qid] = (values, null)


def not_asked_by_country(codes: dict[str, tuple[np.ndarray, np.ndarray]], country: np.ndarray,
                         order: list[str]) -> dict[str, list[str]]:
    """Per country, the items whose every respondent has -4 (the country did not ask them)."""
    labels, index = np.unique(country, return_inverse=True)
    sizes = np.bincount(index, minlength=len(labels))
    out: dict[str, list[str]] = {}
    for q in order:
        if q not in codes:
            continue
        values, null = codes[q]
        per = np.bincount(index, weights=(values == int(MissingCode.NOT_ASKED)) & ~null, minlength=len(labels))
        for i in np.flatnonzero(per == sizes):
            out.setdefault(str(labels[i]), []).append(q)
    return dict(sorted(out.items()))


def _describe_codes(q: Question) -> str:
    codes = q.codes
    if not codes:
        return "none"
    if q.options and len(codes) > 12:
        return f"{len(codes)} codes from {min(codes)} to {max(codes)}"
    if list(codes) == list(range(min(codes), max(codes) + 1)):
        return f"{min(codes)} to {max(codes)}"
    return ", ".join(map(str, codes))
