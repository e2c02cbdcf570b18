"""Open a survey file, and describe what was read (what `valuesim data inspect` prints).

``load_survey`` is the user-facing entry point (``valuesim.load_survey``); a file is read with
its survey's codebook (WVS-7 unless another is given), in any supported format.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable


from .model import Codebook, MissingCode
from .survey import COUNTRY, Survey


def load_survey(path: str | Path, *, codebook: "Codebook | str | Path | None" = None,
                questions: Iterable[str] | None = None, strict: bool = False,
                country: str | None = None, drop_duplicate_rows: bool = False) -> Survey:
    """Load a survey file (.csv, .sav, .dta or .parquet), official, synthetic or a labelled export.

    ``codebook`` describes the survey: a :class:`Codebook`, the path of a codebook file (YAML or
    JSON, see ``survey/codebook_file.py``) or a built-in name; the default is WVS-7.

    ``strict=True`` refuses codes the question bank does not know (default: loaded as missing,
    one warning per column); ``country`` names the country of a file without a country column
    (or keeps one country's rows); ``drop_duplicate_rows`` drops exact copies of a row.

    >>> survey = load_survey("WVS_Cross-National_Wave_7_csv_v6_0.csv")  # doctest: +SKIP
    >>> survey.quality  # what the importer changed: unknown codes, derived keys ...  # doctest: +SKIP
    """
    from .codebook_file import load_codebook
    from .importer import load_wvs7

    reader = None
    if codebook is None and _labelled_other_survey(Path(path)):
        import warnings

        from .codebook_draft import draft_codebook, read_labelled
        from .codebook_file import parse_codebook
        from .wvs7.readers import READERS, detect_format, frame_reader

        read = read_labelled(path)  # once: the draft and the import both use it
        codebook = parse_codebook(draft_codebook(path, read), f"draft of {path}")
        reader = frame_reader(read[0], read[1].column_names_to_labels or {}, READERS[detect_format(Path(path))])
        warnings.warn(f"{path} is not a WVS-7 file: read with a codebook drafted from its own labels "
                      f"({len(codebook)} items; `valuesim codebook draft {path} --out FILE` writes it for "
                      f"review, --codebook FILE uses the reviewed one)", stacklevel=2)
    return load_wvs7(path, codebook=load_codebook(codebook), questions=questions, strict=strict, country=country,
                     drop_duplicate_rows=drop_duplicate_rows, reader=reader)


def _labelled_other_survey(path: Path) -> bool:
    """A labelled .sav/.dta that holds no WVS-7 items (by name or variable label): it can be read
    with a codebook drafted from its own metadata."""
    if path.suffix.lower() not in (".sav", ".dta") or not path.is_file():
        return False
    from .wvs7.bank import load_codebook as wvs7_codebook
    from .wvs7.labelled import map_headers
    from .wvs7.readers import READERS, detect_format

    try:
        reader = READERS[detect_format(path)]
        columns = reader.columns(path)
        wvs = wvs7_codebook()
        if any(str(c).strip().upper() in wvs for c in columns):
            return False
        mapping = map_headers(columns, reader.variable_labels(path), wvs)
        # A few questions worded like WVS ones ("How often do you attend religious services?") do
        # not make a WVS file: most of its columns must be WVS items.
        return mapping is None or len(mapping.items) < max(5, len(columns) // 2)
    except Exception:  # unreadable: let the importer say what is wrong
        return False


def write_frame(frame, path: str | Path) -> Path:
    """Write a frame in the official WVS-7 layout in the format its extension names
    (.csv, .sav, .dta, .parquet/.pq): how synthetic data gets into every format WVS uses.
    SPSS files declare -5 ... -1 as user-missing, as the official .sav does."""
    from ..errors import ConfigError

    path = Path(path)
    suffix = path.suffix.lower()
    if not path.parent.exists():
        raise ConfigError(f"cannot write {path}: folder {path.parent} does not exist")
    if suffix in (".csv", ".txt"):
        frame.to_csv(path, index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    elif suffix == ".dta":
        frame.to_stata(path, write_index=False, version=118)
    elif suffix == ".sav":
        import pyreadstat

        numeric = [c for c in frame.columns if str(c).startswith("Q") and frame[c].dtype.kind in "iuf"]
        pyreadstat.write_sav(frame, str(path), missing_ranges={c: [{"lo": -5, "hi": -1}] for c in numeric})
    else:
        raise ConfigError(f"cannot write {path}: use a .csv, .sav, .dta or .parquet file name")
    return path


# Column order of the missing-rate table: each WVS missing code, then empty cells.
MISSING_KINDS = [
    ("don't know (-1)", int(MissingCode.DONT_KNOW)),
    ("no answer (-2)", int(MissingCode.NO_ANSWER)),
    ("n/a (-3)", int(MissingCode.NOT_APPLICABLE)),
    ("not asked (-4)", int(MissingCode.NOT_ASKED)),
    ("missing (-5)", int(MissingCode.MISSING)),
    ("blank", None),
]


@dataclass
class CategoryMissing:
    category: str
    items: int  # items of this category in the file
    cells: int  # respondents x items
    rates: dict[str, float] = field(default_factory=dict)  # kind label -> share of cells
    total: float = 0.0


@dataclass
class SurveySummary:
    source: str
    synthetic: bool
    respondents: int
    countries: dict[str, int]
    items_present: int
    items_total: int
    absent: str  # compact list, e.g. "Q1-Q45, Q260"
    missing_by_category: list[CategoryMissing]
    quality: dict = field(default_factory=dict)  # ImportReport.to_dict(): what the import changed

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(survey: Survey) -> SurveySummary:
    """Respondents, countries, items present, and missing rates by category and kind."""
    from .wvs7.quality import compact_ids

    counts = survey.data[COUNTRY].value_counts()
    countries = {str(c): int(counts[c]) for c in sorted(counts.index)}
    per_item = _missing_counts(survey)
    qids = survey.question_ids
    rows = []
    for category, questions in survey.codebook.by_category().items():
        in_file = [q.id for q in questions if q.id in per_item]
        if in_file:
            rows.append(_category_rates(category or "(none)", in_file, per_item, len(survey)))
    if len(rows) > 1:
        rows.append(_category_rates("All", qids, per_item, len(survey)))
    return SurveySummary(
        source=survey.source,
        synthetic=survey.synthetic,
        respondents=len(survey),
        countries=countries,
        items_present=len(qids),
        items_total=len(qids) + len(survey.absent),
        absent=compact_ids(survey.absent, survey.codebook.ids) if survey.absent else "",
        missing_by_category=rows,
        quality=survey.quality.to_dict() if survey.quality is not None else {},
    )


def _missing_counts(survey: Survey) -> dict[str, dict[str, int]]:
    """Per item: how many cells hold each missing code, and how many are blank."""
    qids = survey.question_ids
    if not qids:
        return {}
    block = survey.data[qids]
    blank = block.isna().to_numpy().sum(axis=0)
    codes = block.to_numpy(dtype="int32", na_value=0)  # 0 is never a missing code
    per_code = {label: (codes == code).sum(axis=0) for label, code in MISSING_KINDS if code is not None}
    out = {}
    for i, q in enumerate(qids):
        counts = {label: int(column[i]) for label, column in per_code.items()}
        counts["blank"] = int(blank[i])
        out[q] = counts
    return out


def _category_rates(category: str, qids: list[str], per_item: dict, n: int) -> CategoryMissing:
    cells = n * len(qids)
    rates = {label: (sum(per_item[q][label] for q in qids) / cells if cells else 0.0) for label, _ in MISSING_KINDS}
    return CategoryMissing(category, len(qids), cells, rates, float(sum(rates.values())))


def format_summary(summary: SurveySummary) -> str:
    """Plain-text report of a summary (what `valuesim data inspect` prints)."""
    lines = [
        f"file:         {summary.source}",
        f"synthetic:    {'yes (generated demo data, not real survey respondents)' if summary.synthetic else 'no'}",
        f"respondents:  {summary.respondents:,}",
        f"countries:    {len(summary.countries)}",
    ]
    lines += _wrap([f"{c} {n:,}" for c, n in summary.countries.items()], indent="  ")
    absent = f"; absent: {summary.absent}" if summary.absent else ""
    lines.append(f"items:        {summary.items_present} of {summary.items_total} present{absent}")
    lines.append("")
    lines.append("missing answers by category (share of cells):")
    labels = [label for label, _ in MISSING_KINDS]
    header = ["category", "items"] + labels + ["total"]
    table = [header]
    for row in summary.missing_by_category:
        table.append([row.category, str(row.items)] + [f"{100 * row.rates[l]:.1f}%" for l in labels]
                     + [f"{100 * row.total:.1f}%"])
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if summary.quality:
        from .wvs7.quality import ImportReport, format_quality

        report = ImportReport(**summary.quality)
        lines += [""] + format_quality(report)
    return "\n".join(lines)


def _wrap(parts: list[str], indent: str, width: int = 96) -> list[str]:
    lines, current = [], indent
    for p in parts:
        piece = p + ", "
        if len(current) + len(piece) > width and current.strip():
            lines.append(current.rstrip())
            current = indent
        current += piece
    if current.strip():
        lines.append(current.rstrip().rstrip(","))
    return lines
