"""What the importer did to a file, for the user: the data-quality section of `data inspect`.

Each field is one kind of change or oddity, summarised (counts, codes, countries), never a
list of every cell: a researcher should learn from one screen what valuesim did to the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field


@dataclass
class ImportReport:
    # Value items: codes the bank does not know, loaded as missing (-5): column -> {code: cells}
    unknown_codes: dict[str, dict[int, int]] = field(default_factory=dict)
    # Cells that are no whole number at all (text, fractions), loaded as missing: column -> {text: cells}
    unreadable_cells: dict[str, dict[str, int]] = field(default_factory=dict)
    # Code lists (country of birth, language, party, ethnic group): codes kept without a bank
    # label, shown by name or as the code: column -> {code: cells}
    unlabelled_codes: dict[str, dict[int, int]] = field(default_factory=dict)
    # Counts above the bank's top code: column -> {"cells", "top_code", "largest"}
    top_coded: dict[str, dict[str, int]] = field(default_factory=dict)
    # Items with "not asked" (-4) for every respondent of a country: country -> item ids
    not_asked: dict[str, list[str]] = field(default_factory=dict)
    # D_INTERVIEW values shared by several rows: {"rows", "ids", "countries": {country: rows}}
    duplicate_ids: dict = field(default_factory=dict)
    # Rows identical to an earlier row in every column read: {"rows", "dropped", "first_rows"}
    duplicate_rows: dict = field(default_factory=dict)
    # Columns of the file that valuesim does not use (count, and the first few names)
    extra_columns: int = 0
    extra_examples: list[str] = field(default_factory=list)
    # Column names that appear more than once in the header (only unused ones are tolerated)
    duplicate_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    # Country codes that are not ISO 3166-1 alpha-3 or WVS codes: code -> rows
    unknown_countries: dict[str, int] = field(default_factory=dict)
    # How the respondent key was made: "D_INTERVIEW", "derived" (some rows), "row number"
    keys: str = "D_INTERVIEW"
    # Labelled exports: how headers and cells were mapped (None for coded files)
    labelled: dict | None = None
    # WVS derived indices kept as value-dimension positions: index -> {"column", "values"}
    derived_indices: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("unknown_codes", "unlabelled_codes"):  # JSON object keys are text
            out[key] = {q: {str(c): n for c, n in codes.items()} for q, codes in out[key].items()}
        return out


_MAX_COUNTRIES = 10  # countries listed one per line; the rest summarised (one screen)
_MAX_LISTED = 8  # names listed in one line; the rest counted ("and N more"), --json has them all


def listing(items: list[str], limit: int = _MAX_LISTED, sep: str = ", ") -> str:
    """``a, b, c and 5 more``: the first ``limit`` items, the rest counted, never cut silently."""
    items = list(items)
    shown = sep.join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


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



def _codes(counts: dict[int, int], limit: int = 6) -> str:
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{c} ({n})" for c, n in top[:limit])
    return shown + (f" and {len(top) - limit} more codes" if len(top) > limit else "")


def format_quality(report: ImportReport, order: list[str] | None = None) -> list[str]:
    """The data-quality section of `valuesim data inspect`, as text lines."""
    lines = ["data quality (what valuesim did to this file):"]
    add = lines.append
    if report.labelled:
        _labelled_lines(report.labelled, add)
    if report.derived_indices:
        add("  WVS derived indices kept as value-dimension positions (survey.data columns, not items): "
            + listing([f"{k} ({v['values']:,} values)" for k, v in report.derived_indices.items()]))
    if report.encoding and report.encoding != "utf-8":
        add(f"  encoding: read as {report.encoding} (the file is not UTF-8)")
    d = report.duplicate_ids
    if d:
        where = ", ".join(f"{c} {n:,}" for c, n in d["countries"].items())
        add(f"  duplicated ids: {d['rows']:,} rows share {d['ids']:,} D_INTERVIEW values ({where}); "
            f"they got keys COUNTRY-ID-N, the original id is kept in column D_INTERVIEW")
    elif report.keys == "row number":
        add("  no id column: respondents are keyed by their row number (row1, row2 ...)")
    r = report.duplicate_rows
    if r:
        action = "dropped" if r["dropped"] else "kept (drop them with --drop-duplicate-rows)"
        add(f"  identical rows: {r['rows']:,} rows repeat an earlier row exactly "
            f"(first at rows {', '.join(map(str, r['first_rows']))}); {action}")
    if report.unknown_countries:
        add("  country codes not in ISO 3166-1 / WVS: "
            + ", ".join(f"{c} ({n:,} rows)" for c, n in report.unknown_countries.items()))
    for q, codes in report.unknown_codes.items():
        add(f"  {q}: {sum(codes.values()):,} cells with codes the bank does not know, loaded as "
            f"missing (-5): {_codes(codes)}")
    for q, cells in report.unreadable_cells.items():
        shown = listing([f"{t!r} ({n})" for t, n in cells.items()], 4)
        add(f"  {q}: {sum(cells.values()):,} cells that are not answer codes, loaded as missing (-5): {shown}")
    for q, t in report.top_coded.items():
        add(f"  {q}: {t['cells']:,} counts above {t['top_code']} (largest {t['largest']}) top-coded "
            f"to {t['top_code']} (the bank's 'or more' answer)")
    for q, codes in report.unlabelled_codes.items():
        add(f"  {q}: {sum(codes.values()):,} answers with codes the bank has no label for, kept: "
            f"{_codes(codes, 5)}")
    if report.not_asked:
        add(f"  items not asked in a whole country (-4 for every respondent), {len(report.not_asked)} countries:")
        ranked = sorted(report.not_asked.items(), key=lambda kv: -len(kv[1]))
        for c, items in ranked[:_MAX_COUNTRIES]:
            shown = compact_ids(items, order or _bank_order())
            add(f"    {c}: {len(items)} item{'s' if len(items) != 1 else ''}: {shown if len(shown) < 80 else shown[:77] + '...'}")
        if len(ranked) > _MAX_COUNTRIES:
            rest = ranked[_MAX_COUNTRIES:]
            add(f"    ... and {len(rest)} more countries ({sum(len(i) for _, i in rest)} items in all; --json lists them)")
    if report.duplicate_columns:
        add(f"  repeated column names (ignored, not used by valuesim): {listing(report.duplicate_columns)}")
    if report.extra_columns and not report.labelled:  # a labelled export's lines above name them
        add(f"  {report.extra_columns} columns not used by valuesim were ignored: "
            f"{listing(report.extra_examples)}")
    if len(lines) == 1:
        add("  nothing: every code was known, every id unique, no column ignored")
    return lines


def _labelled_lines(lab: dict, add) -> None:
    from .labels import collapse

    steps = lab.get("header_steps", {})
    how = ", ".join(f"{n} {step}" for step, n in steps.items() if step != "exact" and n)
    add(f"  labelled export: {lab['mapped_columns']} columns mapped to items by their header "
        f"({lab['normalised_matches']} after normalising{': ' + how if how else ''}); "
        f"{lab['cells_mapped']:,} cells mapped by label")
    if lab.get("other_variables"):
        add(f"    other WVS variables, recognised and not used: {listing(list(lab['other_variables']))}")
    for col, names in lab.get("ambiguous_columns", {}).items():
        add(f"    header {collapse(col)[:70]!r} could name {' or '.join(names)}; not used (rename it to one)")
    for col, name in lab.get("repeated_columns", {}).items():
        add(f"    header {collapse(col)[:70]!r} names {name} again; the first such column is used")
    if lab["unmapped_columns"]:
        nearest = lab.get("nearest_items", {})
        shown = [f"{collapse(c)[:70]!r}" + (f" (resembles {', '.join(nearest[c])})" if c in nearest else "")
                 for c in lab["unmapped_examples"]]
        add(f"    headers not mapped ({lab['unmapped_columns']}): {listing(shown, sep='; ')}")
    for q, labels in lab["unmapped_labels"].items():
        add(f"    {q}: labels not in the bank, loaded as missing: "
            + listing([f"{t!r} ({n})" for t, n in labels.items()], 4))
    for q, labels in lab.get("ambiguous_labels", {}).items():
        add(f"    {q}: labels that could be several answers, loaded as missing: "
            + listing([f"{t!r} ({u['cells']}; codes {', '.join(u['codes'])})" for t, u in labels.items()], 4))


def _bank_order() -> list[str]:
    from .bank import load_codebook

    return load_codebook().ids
