"""The population report: Markdown + one self-contained HTML file, from a run directory.

Reuses the evaluation report's page builders (tables, escaping, CSS) and the evaluation
plots' PNG helper, so both reports look alike and escape data the same way: everything that
comes from data or models (countries, question text, persona text, model labels) is escaped.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Mapping

import pandas as pd

from ..errors import DataError
from ..evaluation.plots import COLORS
from ..runs.names import STORE_FILE, data_file_name
from ..runs.render import Table, html_page, markdown_page, png, write_atomic
from ..runs.rundir import RunDir
from ..survey.codebook_file import codebook_of_run
from ..survey.model import Dimension
from ..survey.countries import country_name
from .personas import ALL_METHODS, LLM_METHODS, UNIFORM
from .score import run_record, score, tables_dir, write_results
from .science_report import METHOD_ORDER, is_reference, protocol_line, science_sections

METRIC_LABELS = {
    "wasserstein_score": "1−nW1 ↑ (ordinal)",
    "js_distance": "JS distance ↓",
    "total_variation": "TV ↓",
    "entropy_deviation": "entropy dev. (bits)",
    "abs_entropy_deviation": "|entropy dev.| ↓",
}


def _f(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:+.{digits}f}" if digits < 0 else f"{x:.{digits}f}"


def _variant(method: str, calibrated) -> str:
    if is_reference(method):
        return f"{method} (reference)"
    return f"{method} + calibration" if bool(calibrated) else method


def _order(df: pd.DataFrame) -> pd.DataFrame:
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return df.assign(_r=df.method.map(lambda m: rank.get(m, 99)), _c=df.calibrated.astype(bool)) \
        .sort_values(["_r", "_c"]).drop(columns=["_r", "_c"])


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _country(code: str) -> str:
    name = country_name(code)
    return code if name == code else f"{code} ({name})"


def _load(run: RunDir, survey=None) -> dict:
    """The run's tables, recomputed from its store (``score``) and written to report/; a run of
    an in-memory survey (no file to read the real answers from) reads the tables it wrote."""
    info = run_record(run)
    result = score(run, survey)
    if result is not None:
        write_results(run, result)
    where = tables_dir(run)
    if not (where / "metrics.csv").exists():
        command = info.get("command") or "valuesim population FILE ... --out DIR"
        raise DataError(f"{run.path} has no result tables, and its survey cannot be read again (an in-memory "
                        "survey, or its data file is gone): it has not finished, or its tables were deleted; run "
                        f"its command again (what is stored is kept): {command}")
    read = lambda name: pd.read_csv(where / name, dtype={"country": str}) if (where / name).stat().st_size > 1 else pd.DataFrame()  # noqa: E731
    calibration = where / "calibration.json"
    return {
        "info": info, "tables": where,
        "metrics": read("metrics.csv"),
        "distributions": read("distributions.csv"),
        "country_summary": read("country_summary.csv"),
        "summary": read("summary.csv"),
        "calibration": json.loads(calibration.read_text()) if calibration.exists() else {},
    }


def summary_table(summary: pd.DataFrame, model: str) -> Table:
    header = ["method"] + [METRIC_LABELS[k] for k in ("wasserstein_score", "js_distance", "total_variation",
                                                      "entropy_deviation", "abs_entropy_deviation")] + \
             ["country gap JS ↓", "country gap 1−nW1 ↓", "best country", "worst country", "pairs"]
    rows, bold = [], set()
    s = _order(summary).reset_index(drop=True)
    for i, r in s.iterrows():
        rows.append([_variant(r.method, r.calibrated), _f(r.wasserstein_score), _f(r.js_distance),
                     _f(r.total_variation), _f(r.entropy_deviation), _f(r.abs_entropy_deviation), _f(r.gap_js),
                     _f(r.gap_wasserstein), str(r.best_country), str(r.worst_country), str(int(r.pairs))])
    llm = s[s.method.isin(LLM_METHODS)]
    for col, j, best in (("wasserstein_score", 1, "max"), ("js_distance", 2, "min"), ("total_variation", 3, "min"),
                         ("abs_entropy_deviation", 5, "min"), ("gap_js", 6, "min"), ("gap_wasserstein", 7, "min")):
        vals = llm[col].dropna()
        if len(vals):
            bold.add((int(vals.idxmax() if best == "max" else vals.idxmin()), j))
    return Table(f"All countries — model: {model}", header, rows,
                 "Means over every (country, target question). 1−nW1: one minus the Wasserstein-1 distance "
                 "divided by the scale range (ordinal items only; 1 = identical). JS: Jensen–Shannon distance, "
                 "log base 2 (0 = identical, 1 = disjoint). TV: total variation. Entropy deviation: simulated "
                 "minus real entropy (negative = less diverse than people). Country gap: worst minus best "
                 "country on the per-country mean (smaller = more even across countries). Bold: best LLM "
                 "method per column. The country marginal uses real answers of the other half of each "
                 "country's respondents (an upper reference); uniform is the floor.", bold)


def country_gap_table(cs: pd.DataFrame, metric: str, model: str) -> Table:
    countries = list(dict.fromkeys(cs.country))
    rows = []
    for (m, cal), g in _order(cs).groupby(["method", "calibrated"], sort=False):
        vals = {r.country: r[metric] for _, r in g.iterrows()}
        v = pd.Series(vals).dropna()
        gap = (v.max() - v.min()) if len(v) else float("nan")
        rows.append([_variant(m, cal)] + [_f(vals.get(c)) for c in countries] + [_f(gap)])
    return Table(f"Per-country mean {METRIC_LABELS[metric]} — model: {model}", ["method"] +
                 [_country(c) for c in countries] + ["gap (max − min)"], rows,
                 "Each cell averages the country's target questions.")


def country_table(metrics: pd.DataFrame, country: str, questions: list[str], texts: dict, model: str) -> Table:
    m = _order(metrics[metrics.country == country])
    variants = list(dict.fromkeys(zip(m.method, m.calibrated)))
    rows = []
    for q in questions:
        g = m[m.question == q]
        real = g.entropy_real.dropna()
        row = [f"{q} {texts.get(q, '')}"[:70], str(int(g.n_real.max())) if len(g) else "–",
               _f(real.iloc[0]) if len(real) else "–"]
        for meth, cal in variants:
            r = g[(g.method == meth) & (g.calibrated == cal)]
            row.append(_f(r.js_distance.iloc[0]) if len(r) else "–")
        rows.append(row)
    return Table(f"{_country(country)}: JS distance per question — model: {model}",
                 ["question", "real n", "real entropy"] + [_variant(a, b) for a, b in variants], rows,
                 "Jensen–Shannon distance between the simulated and the real (evaluation-half, W_WEIGHT-weighted) "
                 "distribution; lower is better. Full metrics per cell: metrics.csv.")


def calibration_table(cal: dict, model: str) -> Table | None:
    temps = cal.get("temperatures") or {}
    if not temps:
        return None
    rows = []
    for m, t in temps.items():
        fit = (cal.get("fit") or {}).get(m, {})
        rows.append([m, _f(t), str(fit.get("items", "–")), _f(fit.get("loss_before")), _f(fit.get("loss_after"))])
    return Table(f"Calibration — model: {model}", ["method", "fitted T", "calibration pairs",
                                                   "loss at T=1 (bits²)", "loss at fitted T (bits²)"], rows,
                 "T is fitted on the calibration questions " + ", ".join(cal.get("questions", [])) +
                 " (never evaluated) to match the entropy of the persona-source half's real answers. "
                 "Aggregate p is tempered (p^(1/T)) and, on ordinal items, exponentially tilted back to p's "
                 "exact mean; nominal/binary items are tempered only. Because the mean is kept, 1−nW1 moves only "
                 "through the shape, and not at all where one distribution lies wholly above the other (then "
                 "W1 equals the difference of the means).")


def distribution_figure(dist: pd.DataFrame, question: str, countries: list[str], text: str, model: str) -> bytes | None:
    import matplotlib.pyplot as plt

    d = dist[dist.question == question]
    if d.empty:
        return None
    fig, axes = plt.subplots(1, len(countries), figsize=(4.2 * len(countries), 3.4), squeeze=False, sharey=True)
    for ax, c in zip(axes[0], countries):
        g = d[d.country == c]
        if g.empty:
            ax.set_visible(False)
            continue
        codes = list(dict.fromkeys(g.code))
        real = g.drop_duplicates("code").set_index("code").real.reindex(codes)
        ax.bar(range(len(codes)), real.values, color="#bbbbbb", label="real (evaluation half)")
        for i, ((m, cal), h) in enumerate(_order(g).groupby(["method", "calibrated"], sort=False)):
            if m == UNIFORM:
                continue
            y = h.set_index("code").simulated.reindex(codes)
            ax.plot(range(len(codes)), y.values, marker="o", ms=3, linewidth=1.4,
                    linestyle="--" if bool(cal) else "-", color=COLORS[ALL_METHODS.index(m) % 10] if m in ALL_METHODS else "k",
                    label=_variant(m, cal))
        ax.set_xticks(range(len(codes)))
        ax.set_xticklabels([str(c) for c in codes], fontsize=8)
        ax.set_title(_country(c), fontsize=10)
        ax.set_xlabel("answer code")
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("share")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, bbox_to_anchor=(0.5, -0.12))
    fig.suptitle(f"{question} {text} — model: {model}", fontsize=10)
    fig.tight_layout()
    return png(fig)


def _methods_line(info: dict, summary: pd.DataFrame) -> str:
    """The methods the tables score (the stored ones, the statistical twin included) and the references."""
    scored = list(dict.fromkeys(summary["method"])) if not summary.empty else list(info.get("methods", []))
    refs = [m for m in scored if is_reference(m)]
    methods = [m for m in scored if not is_reference(m)]
    return (", ".join(methods) or "none (references only)") + (f"; references: {', '.join(refs)}" if refs else "")


def write_population_report(run_dir, questions=None, survey=None) -> dict[str, Path]:
    """Recompute the run's tables from its store, then write report.md, report.html and
    figures/*.png beside them, in the run's report/ folder (as for every run).

    ``questions``: ids to plot (default: the first four targets); ``survey``: the run's survey
    when the caller has it (default: read again from the run's data file)."""
    run = RunDir(run_dir)
    run_dir = run.path
    data = _load(run, survey)
    out = run.report_dir
    info, metrics, summary = data["info"], data["metrics"], data["summary"]
    model = info.get("model", "?")
    cb = codebook_of_run(info.get("settings", {}).get("data", {}))
    texts = {q.id: _shorten(q.short or q.text) for q in cb}
    targets = info.get("questions", [])
    countries = info.get("countries", [])
    sessions = info.get("sessions", [])
    last = sessions[-1] if sessions else {}
    wall_total = sum(s.get("wall_seconds", 0) for s in sessions)
    acct = last.get("accounting", {})
    from ..runs.status import run_status

    meta = [
        ("Status", run_status(run_dir, list(info.get("methods", [])))),  # first: unfinished must not pass as done
        ("Survey", cb.title),
        ("Data", f"{info.get('source', '?')}"),
        ("Model", model),
        ("Countries", ", ".join(_country(c) for c in countries)),
        ("Personas", f"{info.get('personas')} per country, drawn with replacement ∝ W_WEIGHT from the persona-source "
                     f"half (seed {info.get('seed')}); {info.get('split', '')}"),
        ("Methods", _methods_line(info, summary)),
        protocol_line(info),
        ("Target questions", ", ".join(targets)),
        ("Calibration", ("on; calibration questions " + ", ".join(info.get("calibration_questions", [])))
         if info.get("calibrate") else "off"),
        ("Wall time", f"{wall_total:.1f} s over {len(sessions)} session(s); last session {last.get('wall_seconds', 0):.1f} s "
                      f"with {last.get('new_predictions', 0)} new persona distributions"),
        ("LLM use (last session)", f"{acct.get('calls', 0)} model calls ({acct.get('requests', 0)} HTTP requests, "
                                   f"retries included), {acct.get('cache_hits', 0)} cache hits, "
                                   f"{acct.get('failures', 0)} failures, {acct.get('prompt_tokens', 0)} prompt tokens "
                                   f"({acct.get('cached_tokens', 0)} from prefix cache)"),
        ("Command", last.get("command", "") or "(Python API)"),
        ("Created", f"{info.get('created', '')} with valuesim {info.get('valuesim_version', '')}"),
    ]
    sections: list[tuple[str, list]] = []
    if not summary.empty:
        sections.append(("Summary", [summary_table(summary, model)]))
        cs = data["country_summary"]
        sections.append(("Country gap", [country_gap_table(cs, "js_distance", model),
                                         country_gap_table(cs, "wasserstein_score", model)]))
        sections += science_sections(data["tables"], cs, model)
    cal = calibration_table(data["calibration"], model)
    if cal:
        sections.append(("Calibration", [cal]))
    if not metrics.empty:
        sections.append(("Per country", [country_table(metrics, c, targets, texts, model) for c in countries]))
    figures, images = [], {}
    plot_qs = [q.strip() for q in (questions.split(",") if isinstance(questions, str) else questions or targets[:4])]
    for q in plot_qs:
        image = distribution_figure(data["distributions"], q, countries, texts.get(q, ""), model) \
            if not data["distributions"].empty else None
        if image:
            name = "figures/" + data_file_name("distribution_", q, ".png")
            write_atomic(out / name, image)
            images[name] = image
            figures.append(("figure", name, f"{q} {texts.get(q, '')}: real (grey bars) vs simulated; dashed = calibrated"))
    if figures:
        sections.append(("Real vs simulated distributions", figures))
    sections.append(("Personas", [persona_table(run_dir, countries, cb.dimensions)]))
    from ..runs.readings import reading_table

    if (rt := reading_table(run_dir)) is not None:
        sections.append(("How answers were read", [rt]))
    title = f"valuesim population — {run_dir.name}"
    paths = {"markdown": out / "report.md", "html": out / "report.html"}
    write_atomic(paths["markdown"], _markdown(title, meta, sections))
    write_atomic(paths["html"], _html(title, meta, sections, images))
    return paths


def persona_table(run_dir: Path, countries: list[str], dimensions: Mapping[str, Dimension] | None = None) -> Table:
    """Per country: the personas drawn and their mean level per dimension (``dimensions``: the
    codebook's)."""
    p = RunDir(run_dir).personas()
    rows = []
    for c in countries:
        g = p[p.country == c]
        if g.empty:
            continue
        levels = [json.loads(x) for x in g.levels]
        dims = list(levels[0]) if levels else []
        mean_levels = []
        for d in dims:
            vals = [lv[d] for lv in levels if lv.get(d) is not None]
            mean_levels.append(f"{d}: {sum(vals) / len(vals):.2f}" if vals else f"{d}: –")
        rows.append([_country(c), str(len(g)), str(g.respondent_id.nunique()), str(g.value_text.nunique()),
                     "; ".join(mean_levels)])
    scale = ("1 = lowest fifth, 5 = highest fifth of the people surveyed" if dimensions
             else "1 = traditional / survival / left")
    items = "; ".join(f"{name}: " + ", ".join(f"{q} (reversed)" if q in d.reverse else q for q in d.items)
                      for name, d in (dimensions or {}).items())
    return Table("Value personas drawn", ["country", "personas", "distinct people", "distinct descriptors",
                                          f"mean quintile level per dimension ({scale})"],
                 rows, (f"The codebook's dimensions and their items: {items}. " if items else "")
                 + f"Full persona texts: the personas table of the run's store ({STORE_FILE}).")


FILES = ("Tables: metrics.csv, distributions.csv, country_summary.csv, summary.csv; "
         f"persona distributions: {STORE_FILE}.")


def _markdown(title: str, meta, sections) -> str:
    return markdown_page(title, meta, sections, "", FILES)


def _html(title: str, meta, sections, images: dict[str, bytes]) -> str:
    return html_page(title, meta, sections, images, "", FILES)
