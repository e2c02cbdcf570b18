"""Read a survey file into a :class:`~valuesim.survey.survey.Survey`: the official WVS-7 file
(the built-in codebook) or any other survey's, through its codebook.

Designed for the official release as it is, not as the questionnaire prints it: shared
``D_INTERVIEW`` values get derived keys, code lists accept any code, uncapped counts are
top-coded, unknown codes become missing with one warning per column (``strict=True``
refuses instead), and hundreds of unused columns are skipped unread. What was changed is in
``Survey.quality`` (the data-quality section of `valuesim data inspect`). Format readers are
in ``wvs7/readers.py``; checks in ``wvs7/checks.py`` and ``wvs7/codes.py``; labelled exports in
``wvs7/labelled.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from .model import Codebook
from .survey import COUNTRY, ID, WEIGHT, YEAR, Survey
from .wvs7 import checks
from .wvs7.bank import is_wvs7, load_codebook
from .wvs7.checks import COUNTRY_COLUMN, ID_COLUMN, WEIGHT_COLUMN, YEAR_COLUMN
from .wvs7.codes import interpret, not_asked_by_country, own_missing_codes
from .wvs7.countries import alpha3_for, alpha3_name, is_country_shaped
from .wvs7.derived import INDICES, index_values
from .wvs7.quality import ImportReport, compact_ids
from .wvs7.readers import FORMATS, READERS, Reader, WVSFileWarning, check_readable, detect_format

# The synthetic generator writes this column with 1 on every row, so a demo population can
# never be mistaken for the real survey.
SYNTHETIC_COLUMN = "SYNTHETIC"


def load_wvs7(path, *, codebook: Codebook | None = None, questions: Iterable[str] | None = None,
              strict: bool = False, country: str | None = None,
              drop_duplicate_rows: bool = False, reader: Reader | None = None) -> Survey:
    """Load an official WVS-7 file (any release, any format; or a synthetic one, or a labelled
    export with variable labels as headers and value labels in the cells).

    ``questions`` restricts which items are read (faster). ``strict=True`` refuses a file with
    codes the bank does not know instead of loading them as missing. ``country`` (ISO alpha-3)
    names the country of a file without a country column, or keeps only that country's rows.
    ``drop_duplicate_rows`` drops rows that repeat an earlier row exactly (kept by default).
    ``reader``: how the file is read (default: its format's; ``load_survey`` passes one over
    data it has already read).
    Everything the importer changed is summarised in ``Survey.quality`` and in warnings.
    """
    path = Path(path)
    name = str(path)
    codebook = codebook or load_codebook()
    wanted = codebook.subset(questions) if questions is not None else codebook
    # The id/country/weight columns this survey's files use (WVS-7: D_INTERVIEW, B_COUNTRY_ALPHA, W_WEIGHT).
    id_col = codebook.columns.id.upper() or ID_COLUMN
    country_col = codebook.columns.country.upper() or COUNTRY_COLUMN
    weight_col = codebook.columns.weight.upper() or WEIGHT_COLUMN
    wvs = is_wvs7(codebook)
    year_col = codebook.columns.year.upper() or (YEAR_COLUMN if wvs else "")
    urban_col = codebook.columns.urban.upper()  # urban/rural, kept for the demographic personas
    check_readable(path)
    fmt = detect_format(path)
    reader = reader or READERS[fmt]
    report = ImportReport()

    with warnings.catch_warnings(record=True) as header_warnings:
        warnings.simplefilter("always")
        actual = reader.columns(path)
    by_upper: dict[str, str] = {}
    repeated: list[str] = []
    for col in actual:
        key = str(col).strip().upper()
        if key in by_upper and key not in repeated:
            repeated.append(key)
        by_upper.setdefault(key, col)
    numeric_country = wvs and country_col not in by_upper and "B_COUNTRY" in by_upper
    if numeric_country:  # only the ISO numeric country code (B_COUNTRY): its alpha-3 is known
        by_upper[country_col] = by_upper["B_COUNTRY"]
    present = [q.id for q in wanted if q.id.upper() in by_upper]
    columns = {q: by_upper[q.upper()] for q in present}
    mapping = None
    if not present:
        from .wvs7.labelled import map_headers

        mapping = map_headers(actual, reader.variable_labels(path), wanted)
        if mapping is not None:
            present = [q for q in wanted.ids if q in mapping.items]
            columns = dict(mapping.items)
            by_upper.update(mapping.meta)
    if not present and not wvs:
        shown = ", ".join(map(str, actual[:8])) + (f" and {len(actual) - 8} more" if len(actual) > 8 else "")
        ids = wanted.ids
        raise DataError(
            f"{name} has none of the items of codebook {codebook.short or codebook.name} as columns "
            f"({ids[0]} ... {ids[-1]}) (columns found: {shown or 'none'}). Pass the codebook that "
            f"describes this file (--codebook FILE; `valuesim codebook draft` writes one from a .sav/.dta)."
        )
    if not present:
        shown = ", ".join(map(str, actual[:8])) + (" ..." if len(actual) > 8 else "")
        raise DataError(
            f"{name} is not a WVS-7 file: it has no question columns (Q1 ... Q290, or their "
            f"variable labels as headers) (columns found: {shown or 'none'}). Pass the official "
            f"WVS wave 7 file (e.g. WVS_Cross-National_Wave_7_csv_v6_0.csv), or the codebook of "
            f"another survey with --codebook FILE."
        )
    if country_col not in by_upper and not country:
        raise DataError(f"{name} has no {country_col} (country) column; name the country of its "
                        f"respondents with --country ISO3 (country='AUS' in Python)")
    # Headers two variables share (Q33 and its recode Q33_3): read, and decided by their cells
    undecided = mapping.undecided(wanted) if mapping is not None else []
    for col, q in undecided:
        columns[f"?{col}"] = col
    absent = [q.id for q in wanted if q.id not in columns]
    for extra in (id_col, country_col, weight_col, year_col, SYNTHETIC_COLUMN, urban_col):
        if extra and extra in by_upper:
            columns[extra] = by_upper[extra]
    # WVS derived indices (Y001-Y003, SACSECVAL, RESEMAVAL, I_...): kept next to the items
    derived = dict(mapping.derived) if mapping is not None else {
        n: by_upper[n] for n in INDICES if wvs and n in by_upper and by_upper[n] not in columns.values()}
    columns.update(derived)
    # (a labelled export's mapping addresses repeated headers by their occurrence itself)
    clash = [c for c in columns.values() if str(c).strip().upper() in repeated and mapping is None]
    if clash:
        raise DataError(f"{name}: column {clash[0]} appears {sum(str(a).strip().upper() == str(clash[0]).strip().upper() for a in actual)} "
                        f"times in the header; which one holds the answers is unknowable. Remove the copies")
    used = {str(c).strip().upper() for c in columns.values()}
    # (a labelled export's repeated headers are each mapped or reported by the mapping itself)
    report.duplicate_columns = [by_upper[k] for k in repeated] if mapping is None else []
    unused = [str(c) for c in actual if str(c).strip().upper() not in used]
    report.extra_columns = len(unused)
    report.extra_examples = unused

    with warnings.catch_warnings(record=True) as read_warnings:
        warnings.simplefilter("always")
        frame = reader.read(path, columns, present, labels=mapping is not None, decimals=tuple(derived))
        if mapping is None and _holds_labels(frame, present):
            # Item names as headers but value labels in the cells (pandas.read_spss with
            # convert_categoricals, then to_csv): read it as a labelled export.
            from .wvs7.labelled import HeaderMapping

            mapping = HeaderMapping({q: columns[q] for q in present}, {})
            frame = reader.read(path, columns, present, labels=True)
    for col, q in undecided:
        series = frame.pop(f"?{col}")
        if q not in mapping.items and mapping.decide(col, q, series, wanted[q]):
            frame[q] = series
    if undecided:
        mapping.settle()
        present = [q for q in wanted.ids if q in mapping.items]
        absent = [q for q in wanted.ids if q not in mapping.items]
    said: set[str] = set()
    for w in header_warnings + read_warnings:  # header and data may both notice the encoding: say it once
        if issubclass(w.category, ResourceWarning):
            continue  # garbage collected during the read (e.g. another object's unclosed loop): not about this file
        if "is not UTF-8" in str(w.message):
            report.encoding = str(w.message).split(" read it as ")[-1].split(" ")[0]
            if "encoding" in said:
                continue
            said.add("encoding")
        warnings.warn(w.message, w.category, stacklevel=2)
    n = len(frame[present[0]])
    if n == 0:
        raise DataError(f"{name} has a header but no respondents (no data rows); is the file complete?")

    if id_col in frame:
        ids = checks.id_text(frame[id_col])
    else:
        ids = np.array([f"row{i}" for i in range(1, n + 1)], dtype=object)
        report.keys = "row number"
        warnings.warn(f"{name} has no {codebook.columns.id or id_col} column: respondents are keyed by their row "
                      "number (row1, row2 ...), so a resumed run or a --split needs the rows in the same order",
                      WVSFileWarning, stacklevel=2)
    if country_col in frame:
        raw_countries = frame[country_col]
        if mapping is not None or numeric_country or not wvs:
            from .wvs7.labelled import country_codes

            raw_countries = country_codes(raw_countries)
        country_codes, report.unknown_countries = checks.countries(raw_countries, name, str(columns[country_col]))
    else:
        country_codes = np.full(n, _country_option(country, name), dtype=object)
    keep = np.ones(n, dtype=bool)
    if country and country_col in frame:
        wanted_country = _country_option(country, name)
        keep = country_codes == wanted_country
        if not keep.any():
            raise DataError(f"{name} has no respondents of country {wanted_country} "
                            f"(countries: {', '.join(sorted(set(country_codes))[:12])})")

    weights = (checks.weights(frame[weight_col], name, ids, weight_col) if weight_col in frame else None)
    if mapping is not None:
        codes = mapping.codes(frame, present, codebook, report, strict=strict, name=name)
    else:
        unreadable = None if strict else report.unreadable_cells
        codes = {q: checks.integer_codes(frame[q], name, q, ids, unreadable) for q in present}

    if id_col in frame:
        copies = _identical_rows(ids, country_codes, weights, codes, keep)
        if copies.any():
            report.duplicate_rows = {"rows": int(copies.sum()), "dropped": bool(drop_duplicate_rows),
                                     "first_rows": [int(r) + 1 for r in np.flatnonzero(copies)[:5]]}
            warnings.warn(f"{name}: {int(copies.sum()):,} rows repeat an earlier row exactly (first at row "
                          f"{int(np.argmax(copies)) + 1}); "
                          + ("dropped as asked" if drop_duplicate_rows else
                             "kept (drop_duplicate_rows=True / --drop-duplicate-rows drops them)"),
                          WVSFileWarning, stacklevel=2)
            if drop_duplicate_rows:
                keep &= ~copies
    indices = {n: index_values(frame[n], n) for n in derived}
    years = checks.years(frame[year_col]) if year_col in frame else None
    positions = np.flatnonzero(keep)
    if not keep.all():
        indices = {n: v[keep] for n, v in indices.items()}
        years = years[keep] if years is not None else None
        ids, country_codes = ids[keep], country_codes[keep]
        weights = weights[keep] if weights is not None else None
        codes = {q: (v[keep], m[keep]) for q, (v, m) in codes.items()}
        frame = {k: s[keep].reset_index(drop=True) if k in (SYNTHETIC_COLUMN, urban_col) else s
                 for k, s in frame.items()}
    if id_col in frame:
        keys, report.duplicate_ids = checks.respondent_keys(ids, country_codes, name, id_col)
        if report.duplicate_ids:
            report.keys = "derived"
    else:
        keys = ids

    if weights is None:
        weights = np.ones(len(keys))
        warnings.warn(f"{name} has no {weight_col} column; every respondent gets weight 1.0",
                      WVSFileWarning, stacklevel=2)
    own_missing_codes(codes, wanted, present)
    interpret(codes, [wanted[q] for q in present], name, keys, report, strict, positions)
    report.not_asked = not_asked_by_country(codes, country_codes, present)

    data_columns: dict[str, object] = {COUNTRY: country_codes, WEIGHT: weights}
    for q in present:
        values, null = codes[q]
        data_columns[q] = pd.arrays.IntegerArray(values.astype(np.int32, copy=False), null)
    if id_col in frame:
        data_columns[codebook.columns.id or id_col] = ids  # the file's own id, also where the key was derived
    if years is not None and not np.isnan(years).all():
        data_columns[YEAR] = years
    if urban_col and urban_col in frame:
        data_columns[codebook.columns.urban] = pd.to_numeric(frame[urban_col], errors="coerce").to_numpy(dtype="float64")
    for n, values in indices.items():
        data_columns[n] = values
        report.derived_indices[n] = {"column": str(derived[n]), "values": int(np.isfinite(values).sum())}
    data = pd.DataFrame(data_columns, index=pd.Index(keys, name=ID, dtype=object), copy=False)

    synthetic = False
    if SYNTHETIC_COLUMN in frame:
        marker = pd.to_numeric(frame[SYNTHETIC_COLUMN], errors="coerce")
        synthetic = bool((marker == 1).all())
    if absent and mapping is None:
        warnings.warn(f"{name} has {len(present)} of the {len(wanted)} items; absent: "
                      f"{compact_ids(absent, wanted.ids)}", WVSFileWarning, stacklevel=2)
    return Survey(codebook, data, source=name, synthetic=synthetic, absent=absent, quality=report)


def _holds_labels(frame: dict, present: list[str]) -> bool:
    """Whether some item column holds mostly text labels rather than codes (a first-rows look)."""
    for q in present:
        column = frame[q]
        if pd.api.types.is_numeric_dtype(column.dtype):
            continue
        head = checks.text(column.iloc[:2000])
        head = head[head != ""]
        if len(head) and pd.to_numeric(head, errors="coerce").isna().mean() > 0.5:
            return True
    return False


def _country_option(country: str | None, name: str) -> str:
    code = str(country or "").strip().upper()
    if not is_country_shaped(code):
        raise DataError(f"--country {str(country)[:40]!r} is not a country code (ISO 3166-1 alpha-3 such as AUS)")
    code = code if alpha3_name(code) else (alpha3_for(code) or code)  # AU or 36: the file's codes are alpha-3
    if alpha3_name(code) is None:
        warnings.warn(f"{name}: --country {code} is not an ISO 3166-1 alpha-3 or WVS code; used as given",
                      WVSFileWarning, stacklevel=3)
    return code


def _identical_rows(ids, country_codes, weights, codes, keep) -> np.ndarray:
    candidates = checks.duplicated_ids(ids) & keep
    if candidates.sum() < 2:
        return np.zeros(len(ids), dtype=bool)
    columns = {"id": ids, "country": country_codes}
    if weights is not None:
        columns["weight"] = weights
    for q, (values, null) in codes.items():
        columns[q] = np.where(null, np.iinfo(np.int64).min, values)
    return checks.identical_rows(columns, candidates)


__all__ = [
    "COUNTRY_COLUMN",
    "FORMATS",
    "ID_COLUMN",
    "SYNTHETIC_COLUMN",
    "WEIGHT_COLUMN",
    "WVSFileWarning",
    "compact_ids",
    "detect_format",
    "load_wvs7",
]
