"""`valuesim report RUN_DIR`: Markdown + one self-contained HTML file + CSV/Parquet.

The tables follow the paper's Tables 1 and 3 (methods × the 9 value categories + overall, for
normalized MAE and accuracy, with a chance row), marked with paired t-tests over users; the
HTML embeds every chart as a base64 PNG, so the one file can be mailed or opened offline.
Everything that comes from data or models (method names, countries, question text, model
labels, error messages) is escaped before it reaches HTML or Markdown.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..survey.wvs7.bank import CATEGORIES, CATEGORY_NAMES
from . import metrics as M
from .runner import DB_FILE, RUN_FILE, SPLIT_FILE
from .store import read_predictions, read_sessions

CHANCE = "chance (uniform guess)"


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    caption: str = ""
    bold: set[tuple[int, int]] = field(default_factory=set)  # (row, col) cells to emphasise


def _fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def _md_cell(text: str) -> str:
    """Markdown cell: no raw HTML tags (renderers pass them through), no table breaks."""
    return str(text).replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")


def table_markdown(t: Table) -> str:
    lines = [f"### {_md_cell(t.title)}", ""]
    if t.caption:
        lines += [_md_cell(t.caption), ""]
    lines.append("| " + " | ".join(_md_cell(h) for h in t.header) + " |")
    lines.append("|" + "|".join("---" for _ in t.header) + "|")
    for i, row in enumerate(t.rows):
        cells = [(f"**{_md_cell(c)}**" if (i, j) in t.bold else _md_cell(c)) for j, c in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_NUMERIC = re.compile(r"^[\s\d.,%\[\]*–+\-e]*$")


def table_html(t: Table) -> str:
    out = [f"<h3>{html.escape(t.title)}</h3>"]
    if t.caption:
        out.append(f'<p class="caption">{html.escape(t.caption)}</p>')
    first = t.rows[0] if t.rows else []
    text_col = [j < len(first) and not _NUMERIC.match(str(first[j])) for j in range(len(t.header))]
    heads = [(' class="t"' if text_col[j] else "", html.escape(h)) for j, h in enumerate(t.header)]
    out.append("<table><thead><tr>" + "".join(f"<th{cls}>{h}</th>" for cls, h in heads) + "</tr></thead><tbody>")
    for i, row in enumerate(t.rows):
        cells = []
        for j, c in enumerate(row):
            text = html.escape(str(c))
            cls = "" if _NUMERIC.match(str(c)) else ' class="t"'  # words: left-aligned, may wrap
            cells.append(f"<td{cls}><b>{text}</b></td>" if (i, j) in t.bold else f"<td{cls}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


# --- loading --------------------------------------------------------------------------------
@dataclass
class RunData:
    run_dir: Path
    info: dict
    split: dict
    predictions: pd.DataFrame  # scored
    sessions: pd.DataFrame

    @property
    def model_label(self) -> str:
        return self.info.get("model_label") or ""

    def method_model(self, method: str) -> str:
        needs = self.info.get("methods", {}).get(method, {}).get("needs_llm", False)
        return (self.model_label or "LLM") if needs else "no LLM"

    @property
    def methods(self) -> list[str]:
        """Methods in the order the run lists them (then any others found in the store)."""
        if not hasattr(self, "_methods"):
            listed = self.info.get("settings", {}).get("methods", [])
            have = list(pd.unique(self.predictions["method"]))
            self._methods = [m for m in listed if m in have] + [m for m in have if m not in listed]
        return self._methods


def load_run(run_dir: str | Path) -> RunData:
    run_dir = Path(run_dir)
    db = run_dir / DB_FILE
    if not (run_dir / RUN_FILE).exists() or not db.exists():
        raise DataError(f"{run_dir} is not a valuesim run directory (no {RUN_FILE} / {DB_FILE}); "
                        "create one with `valuesim eval FILE --out RUN_DIR`")
    info = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    split_path = run_dir / SPLIT_FILE
    split = json.loads(split_path.read_text(encoding="utf-8")) if split_path.exists() else {}
    preds = read_predictions(db)
    if preds.empty:
        raise DataError(f"{run_dir} has no predictions yet; run `valuesim eval` first")
    return RunData(run_dir, info, split, M.score_rows(preds), read_sessions(db))


# --- tables ---------------------------------------------------------------------------------
def _categories(scored: pd.DataFrame) -> list[str]:
    present = set(scored["category"].dropna())
    return [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))


def category_table(run: RunData, main: pd.DataFrame, metric: str, reference: str | None, seed: int) -> Table:
    """The paper's Table 1 (nmae) / Table 3 (accuracy) layout, with significance marks."""
    cats = _categories(main)
    higher = M.HIGHER_IS_BETTER[metric]
    by_cat = M.user_average(main, metric, ["category"])
    overall = M.user_average(main, metric)
    tests = {}
    if reference:
        pu = M.per_user(main, metric, ["category"])
        for cat, g in pu.groupby("category"):
            wide = g.pivot_table(index="respondent_id", columns="method", values=metric)
            if reference in wide:
                for m in wide.columns:
                    if m != reference:
                        tests[(m, cat)] = M.paired_t(wide[m].to_numpy(), wide[reference].to_numpy())[1]
        for t in M.compare_methods(main, metric, reference):
            tests[(t.method, "Overall")] = t.p
    chance_src = M.chance_rows(main)
    chance_metric = "chance_acc" if metric == "accuracy" else "chance_nmae"
    chance_cat = M.user_average(chance_src, chance_metric, ["category"]).set_index("category")["mean"]
    chance_all = M.user_average(chance_src, chance_metric)["mean"]
    failed = main.groupby("method")["failed"].sum()
    header = ["Method", "Model"] + cats + ["Overall", "Users", "Failed"]
    rows, bold = [], set()
    values = {}
    for m in run.methods:
        row_vals = {}
        for c in cats:
            v = by_cat[(by_cat["method"] == m) & (by_cat["category"] == c)]["mean"]
            row_vals[c] = float(v.iloc[0]) if len(v) else math.nan
        v = overall[overall["method"] == m]
        row_vals["Overall"] = float(v["mean"].iloc[0]) if len(v) else math.nan
        users = int(v["users"].iloc[0]) if len(v) else 0
        values[m] = row_vals
        cells = [m + (" (ref)" if m == reference else ""), run.method_model(m)]
        for c in cats + ["Overall"]:
            p = tests.get((m, c))
            cells.append(_fmt(row_vals[c]) + (M.significance_stars(p) if p is not None else ""))
        cells += [str(users), str(int(failed.get(m, 0)))]
        rows.append(cells)
    for j, c in enumerate(cats + ["Overall"]):  # bold the best method in each column
        col = [(values[m][c], i) for i, m in enumerate(run.methods) if not math.isnan(values[m][c])]
        if col:
            best = max(col) if higher else min(col)
            bold.add((best[1], j + 2))
    rows.append([CHANCE, "–"] + [_fmt(chance_cat.get(c, math.nan)) for c in cats]
                + [_fmt(float(chance_all.iloc[0]) if len(chance_all) else math.nan), "", ""])
    name = "Top-1 accuracy (higher is better)" if metric == "accuracy" else \
        "Normalized MAE (lower is better; ordinal items only)"
    caption = (f"model: {run.model_label or 'no LLM'} (statistical methods: no LLM). "
               "Each user's mean over their target items, averaged over users; all folds. "
               + (f"Marks: paired t-test over users vs {reference}: * p<0.05, ** p<0.01. " if reference else "")
               + "Bold: best in column. Failed predictions are left out and counted in 'Failed'.")
    return Table(name, header, rows, caption, bold)


def overall_table(run: RunData, main: pd.DataFrame, reference: str | None, seed: int) -> tuple[Table, dict]:
    rows = []
    summaries = {}
    for metric in M.METRICS:
        summaries[metric] = M.summary_table(main, metric, seed=seed).set_index("method")
    tests = {metric: {t.method: t for t in M.compare_methods(main, metric, reference)} if reference else {}
             for metric in M.METRICS}
    counts = main.groupby("method").agg(predictions=("failed", "size"), failed=("failed", "sum"))
    for m in run.methods:
        cells = [m, run.method_model(m), str(int(counts.loc[m, "predictions"])) if m in counts.index else "0",
                 str(int(counts.loc[m, "failed"])) if m in counts.index else "0"]
        for metric in M.METRICS:
            s = summaries[metric]
            if m in s.index:
                r = s.loc[m]
                stars = tests[metric][m].stars if m in tests[metric] else ""
                cells.append(f"{_fmt(r['mean'])}{stars} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]")
            else:
                cells.append("–")
        rows.append(cells)
    header = ["Method", "Model", "Predictions", "Failed", "Accuracy [95% CI]", "Normalized MAE [95% CI]",
              "Log-loss [95% CI]", "RPS [95% CI]"]
    caption = ("Per-user means averaged over users; 95% CIs from a seeded bootstrap over users (2000 resamples). "
               "Log-loss: −ln p(true answer), every item. RPS: ranked probability score, ordinal items. "
               + (f"Marks: paired t-test over users vs {reference}." if reference else ""))
    return Table("Overall scores with confidence intervals", header, rows, caption), summaries


def tests_table(main: pd.DataFrame, reference: str) -> Table:
    rows = []
    for metric in ("accuracy", "nmae", "logloss", "rps"):
        for t in M.compare_methods(main, metric, reference):
            rows.append([metric, t.method, reference, str(t.users), _fmt(t.mean_diff, 4), _fmt(t.t, 2),
                         (f"{t.p:.2g}" if not math.isnan(t.p) else "–"), t.stars])
    return Table(f"Paired t-tests over users vs {reference}",
                 ["Metric", "Method", "Reference", "Users", "Mean difference", "t", "p", ""], rows,
                 "scipy.stats.ttest_rel on per-user scores (users that both methods scored).")


def country_table(run: RunData, main: pd.DataFrame) -> Table:
    acc = M.user_average(main, "accuracy", ["country"])
    mae = M.user_average(main, "nmae", ["country"])
    countries = sorted(main["country"].dropna().astype(str).unique())
    header = ["Country", "Users"] + [f"{m} acc" for m in run.methods] + [f"{m} MAE" for m in run.methods]
    rows = []
    for c in countries:
        a = acc[acc["country"] == c].set_index("method")
        e = mae[mae["country"] == c].set_index("method")
        users = int(main.loc[main["country"] == c, "respondent_id"].nunique())
        rows.append([c, str(users)] + [_fmt(a["mean"].get(m, math.nan)) for m in run.methods]
                    + [_fmt(e["mean"].get(m, math.nan)) for m in run.methods])
    return Table("Results by country", header, rows,
                 f"model: {run.model_label or 'no LLM'} (statistical methods: no LLM). User-averaged accuracy and "
                 "normalized MAE of the users from each country.")


def curve_frame(run: RunData) -> pd.DataFrame | None:
    fold = run.split.get("curve_fold")
    df = run.predictions
    if fold is None or not (df["profile_limit"] >= 0).any():
        return None
    curve_methods = set(df.loc[df["profile_limit"] >= 0, "method"])  # methods that ran the curve
    sub = df[(df["fold"] == fold) & df["method"].isin(curve_methods)]
    rows = []
    for (m, limit), g in sub.groupby(["method", "profile_limit"]):
        acc = M.user_average(g, "accuracy")
        mae = M.user_average(g, "nmae")
        size = float(g.groupby("respondent_id")["profile_n"].first().mean())
        rows.append({"method": m, "profile_limit": int(limit), "size": size,
                     "accuracy": float(acc["mean"].iloc[0]) if len(acc) else math.nan,
                     "nmae": float(mae["mean"].iloc[0]) if len(mae) else math.nan,
                     "users": int(acc["users"].iloc[0]) if len(acc) else 0})
    return pd.DataFrame(rows)


def curve_table(run: RunData, curve: pd.DataFrame) -> Table:
    limits = sorted(curve["profile_limit"].unique(), key=lambda x: (x < 0, x))
    labels = [("all" if lim < 0 else str(lim)) for lim in limits]
    header = ["Method", "Model", "Metric"] + [f"{lab} items" for lab in labels]
    rows = []
    for m in run.methods:
        g = curve[curve["method"] == m].set_index("profile_limit")
        if g.empty:
            continue
        for metric, name in (("accuracy", "accuracy"), ("nmae", "normalized MAE")):
            rows.append([m, run.method_model(m), name] + [_fmt(g[metric].get(lim, math.nan)) for lim in limits])
    mean_all = curve.loc[curve["profile_limit"] < 0, "size"]
    return Table("Profile-size curve", header, rows,
                 f"Fold {run.split.get('curve_fold')} targets; each user sees the first N items of a seeded random "
                 f"order of their profile items ('all' ≈ {_fmt(mean_all.mean() if len(mean_all) else math.nan, 0)} "
                 "items on average).")


def usage_table(run: RunData) -> Table:
    rows = []
    tot = {"calls": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0, "wall_seconds": 0.0}
    for _, s in run.sessions.iterrows():
        u = json.loads(s["usage"]) if isinstance(s["usage"], str) and s["usage"] else None
        wall = (s["finished"] - s["started"]) if pd.notna(s["finished"]) else math.nan
        if u:
            for k in ("calls", "cache_hits", "prompt_tokens", "completion_tokens"):
                tot[k] += int(u.get(k) or 0)
        if not math.isnan(wall):
            tot["wall_seconds"] += wall
        rows.append([str(s["session"]), pd.Timestamp(s["started"], unit="s").strftime("%Y-%m-%d %H:%M:%S"),
                     str(s["status"]), str(s["predictions"]), str(s["failures"]),
                     str(u.get("calls", 0)) if u else "–", str(u.get("cache_hits", 0)) if u else "–",
                     str(u.get("prompt_tokens", 0)) if u else "–", str(u.get("completion_tokens", 0)) if u else "–",
                     _fmt(wall, 1)])
    rows.append(["all", "", "", str(int(run.sessions["predictions"].fillna(0).sum())),
                 str(int(run.sessions["failures"].fillna(0).sum())), str(tot["calls"]), str(tot["cache_hits"]),
                 str(tot["prompt_tokens"]), str(tot["completion_tokens"]), _fmt(tot["wall_seconds"], 1)])
    return Table("LLM usage and run sessions",
                 ["Session", "Started (UTC)", "Status", "New predictions", "Failures", "LLM calls", "Cache hits",
                  "Prompt tokens", "Completion tokens", "Wall s"], rows,
                 f"model: {run.model_label or 'no LLM'}. One row per `valuesim eval` invocation (resumes add rows).")


def hardest_items_table(run: RunData, main: pd.DataFrame, method: str, n: int = 10) -> Table:
    sub = main[(main["method"] == method)].dropna(subset=["correct"])
    g = sub.groupby("question_id").agg(accuracy=("correct", "mean"), nmae=("nmae", "mean"), n=("correct", "size"),
                                       category=("category", "first")).reset_index()
    g = g[g["n"] >= 3].sort_values("accuracy").head(n)
    texts = _question_texts(run)
    rows = [[r.question_id, r.category, _shorten(texts.get(r.question_id, "")), _fmt(r.accuracy), _fmt(r.nmae), str(r.n)]
            for r in g.itertuples()]
    return Table(f"Hardest items for {method}", ["Item", "Category", "Question", "Accuracy", "Normalized MAE", "Predictions"],
                 rows, f"model: {run.method_model(method)}. Item-level accuracy over all users (items with ≥ 3 predictions).")


def _shorten(text: str, n: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + " …"


def failures_table(main: pd.DataFrame, n: int = 10) -> Table | None:
    f = main[main["failed"]]
    if f.empty:
        return None
    counts = f.groupby("method").size()
    rows = [[m, str(int(c)), f"{100 * c / max(1, (main['method'] == m).sum()):.1f}%",
             str(f.loc[f["method"] == m, "error"].iloc[0])[:200]] for m, c in counts.items()]
    return Table("Failed predictions", ["Method", "Failed", "Share", "First error"], rows,
                 "Failed predictions are stored (and retried by the next `valuesim eval`), and left out of every score.")


def _question_texts(run: RunData) -> dict[str, str]:
    import sqlite3

    with sqlite3.connect(run.run_dir / DB_FILE) as db:
        return {q: (f"{short}: {text}" if short and short not in text else text)
                for q, short, text in db.execute("SELECT question_id, short, text FROM questions")}


# --- the report -----------------------------------------------------------------------------
CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1250px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{margin-bottom:.3em} table{border-collapse:collapse;font-size:13px;margin:.4em 0 1.2em}
th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f3f3f3} td:first-child,th:first-child,td.t,th.t{text-align:left} td.t{white-space:normal;min-width:6em} tbody tr:nth-child(even){background:#fafafa}
.caption{color:#555;font-size:13px;max-width:1100px} .meta td{text-align:left;white-space:normal}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} .scroll{overflow-x:auto}
"""


def write_report(run_dir: str | Path, reference: str | None = None, seed: int = 0) -> dict[str, Path]:
    """Write report/report.md, report/report.html (self-contained), predictions.csv/.parquet and
    the PNG charts; returns their paths by name. ``reference``: the method every other is tested
    against (default: the best by overall accuracy)."""
    from .plots import bars_with_ci, profile_curve, radar

    run = load_run(run_dir)
    out = run.run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    df = run.predictions
    main = df[df["profile_limit"] < 0]
    if reference is not None and reference not in set(main["method"]):
        raise DataError(f"reference method {reference!r} is not in this run ({', '.join(run.methods)})")
    reference = reference or M.best_method(main, "accuracy")

    paths: dict[str, Path] = {}
    export = df.drop(columns=["codes"]).copy()
    paths["csv"] = out / "predictions.csv"
    export.to_csv(paths["csv"], index=False)
    paths["parquet"] = out / "predictions.parquet"
    export.to_parquet(paths["parquet"], index=False)

    acc_t = category_table(run, main, "accuracy", reference, seed)
    mae_t = category_table(run, main, "nmae", reference, seed)
    overall_t, summaries = overall_table(run, main, reference, seed)
    sections: list[tuple[str, list]] = []  # (heading, [Table | ("img", name, caption)])

    cats = _categories(main)
    acc_cat = M.user_average(main, "accuracy", ["category"]).pivot(index="method", columns="category", values="mean")
    acc_cat = acc_cat.reindex([m for m in run.methods if m in acc_cat.index])
    chance_cat = M.user_average(M.chance_rows(main), "chance_acc", ["category"]).set_index("category")["mean"]
    images: dict[str, bytes] = {}
    images["radar_accuracy.png"] = radar(acc_cat, cats, f"Accuracy by value category — model: {run.model_label or 'no LLM'}",
                                         chance_cat)
    acc_summary = summaries["accuracy"].reindex(run.methods).dropna(how="all").reset_index()
    images["overall_accuracy.png"] = bars_with_ci(acc_summary, "top-1 accuracy (95% bootstrap CI over users)",
                                                  "Overall accuracy")
    mae_summary = summaries["nmae"].reindex(run.methods).dropna(how="all").reset_index()
    images["overall_nmae.png"] = bars_with_ci(mae_summary, "normalized MAE (95% bootstrap CI over users)",
                                              "Overall normalized MAE")

    sections.append(("Main results (paper Tables 1 and 3 layout)", [mae_t, acc_t]))
    sections.append(("Overall scores", [overall_t, ("img", "overall_accuracy.png", "Overall accuracy per method"),
                                        ("img", "overall_nmae.png", "Overall normalized MAE per method")]
                     + ([tests_table(main, reference)] if reference and len(run.methods) > 1 else [])))
    sections.append(("Accuracy by value category (radar, paper appendix B)",
                     [("img", "radar_accuracy.png", "Accuracy by category; dashed: uniform-guess chance")]))
    curve = curve_frame(run)
    if curve is not None:
        images["profile_curve.png"] = profile_curve(curve, f"Profile-size curve — model: {run.model_label or 'no LLM'}")
        sections.append(("Profile-size curve (paper section 5.3)",
                         [curve_table(run, curve), ("img", "profile_curve.png", "Accuracy and MAE against profile size")]))
    sections.append(("Results by country", [country_table(run, main)]))
    if reference:
        sections.append(("Items", [hardest_items_table(run, main, reference)]))
    ft = failures_table(df)
    if ft is not None:
        sections.append(("Failures", [ft]))
    from .usage import method_usage_tables

    sections.append(("LLM usage", [usage_table(run)] + method_usage_tables(run.run_dir)))

    for name, data in images.items():
        (out / name).write_bytes(data)
        paths[name] = out / name

    meta = _meta_rows(run, main)
    title = f"valuesim evaluation — {run.run_dir.name}"
    paths["markdown"] = out / "report.md"
    paths["markdown"].write_text(_markdown(title, meta, sections), encoding="utf-8")
    paths["html"] = out / "report.html"
    paths["html"].write_text(_html(title, meta, sections, images), encoding="utf-8")
    return paths


def _meta_rows(run: RunData, main: pd.DataFrame) -> list[tuple[str, str]]:
    s = run.info.get("settings", {})
    data = s.get("data", {})
    split = run.split
    n_items = len(split.get("items", []))
    folds = split.get("folds", [])
    per_fold = sorted({len(f) for f in folds})
    synthetic = " (SYNTHETIC population, not real WVS answers)" if data.get("synthetic") else ""
    return [
        ("Data", f"{data.get('path') or data.get('source') or '(in memory)'}{synthetic}; "
                 f"{data.get('respondents', '?')} respondents, {data.get('items', '?')} items"),
        ("Model", f"{run.model_label or 'no LLM'} (statistical methods: no LLM)"),
        ("Methods", ", ".join(run.methods)),
        ("Users", f"{main['respondent_id'].nunique()} evaluated (seed {s.get('seed')}, "
                  f"{'stratified by country' if split.get('stratify') == 'country' else 'simple random sample'})"),
        ("Items", f"{n_items} target items in {len(folds)} folds ({'/'.join(map(str, per_fold))} per fold); "
                  f"{len(split.get('profile_only', []))} more items only ever shown in profiles "
                  "(numeric and country-specific code lists)"),
        ("Protocol", "5-fold cross-validation over questions: for each user and fold, the fold's items they "
                     "answered are the targets and every other item they answered is the profile. Scores are "
                     "per-user means averaged over users; normalized MAE = |predicted − true| / ordinal steps, "
                     "ordinal items only."),
        ("Failures", run.info.get("failure_policy", "")),
        ("Created", f"{run.info.get('created', '')} with valuesim {run.info.get('valuesim_version', '')}"),
        ("Command", run.info.get("command", "")),
        ("Data fingerprint", f"size {data.get('size', '?')} bytes, sha256 of first MB "
                             f"{data.get('sha256_first_mb') or data.get('sha256_data', '?')}"),
    ]


CATEGORY_LEGEND = "Categories: " + "; ".join(f"{k} = {v}" for k, v in CATEGORY_NAMES.items())


def _markdown(title: str, meta, sections) -> str:
    return markdown_page(title, meta, sections, CATEGORY_LEGEND,
                         "Predictions: predictions.csv, predictions.parquet (one row per prediction).")


def _html(title: str, meta, sections, images: dict[str, bytes]) -> str:
    return html_page(title, meta, sections, images, CATEGORY_LEGEND,
                     "All predictions: predictions.csv and predictions.parquet next to this file.")


def markdown_page(title: str, meta, sections, intro: str, footer: str) -> str:
    """A report as Markdown: title, a key/value table, ``intro``, then the sections' tables and
    figures ((kind, file name, caption) triples), then ``footer``. Shared by every report."""
    out = [f"# {_md_cell(title)}", ""]
    out += ["| | |", "|---|---|"] + [f"| {_md_cell(k)} | {_md_cell(v)} |" for k, v in meta] + [""]
    if intro:
        out += [intro, ""]
    for heading, items in sections:
        out += [f"## {_md_cell(heading)}", ""]
        for item in items:
            if isinstance(item, Table):
                out.append(table_markdown(item))
            else:
                _, name, caption = item
                out += [f"![{_md_cell(caption)}]({name})", ""]
    out.append(footer)
    return "\n".join(out) + "\n"


def html_page(title: str, meta, sections, images: dict[str, bytes], intro: str, footer: str) -> str:
    """The same report as one self-contained HTML page (figures embedded as base64 PNG).
    Everything that came from data or models is escaped here, in one place."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             '<table class="meta"><tbody>'
             + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in meta)
             + "</tbody></table>"]
    if intro:
        parts.append(f'<p class="caption">{html.escape(intro)}</p>')
    for heading, items in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        for item in items:
            if isinstance(item, Table):
                parts.append('<div class="scroll">' + table_html(item) + "</div>")
            else:
                _, name, caption = item
                b64 = base64.b64encode(images[name]).decode("ascii")
                parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
                             f'<figcaption class="caption">{html.escape(caption)}</figcaption></figure>')
    parts.append(f'<p class="caption">{html.escape(footer)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)
