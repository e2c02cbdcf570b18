"""`valuesim report RUN_DIR`: Markdown + one self-contained HTML file + CSV/Parquet.

The tables follow the paper's Tables 1 and 3 (methods × the 9 value categories + overall, for
normalized MAE and accuracy, with a chance row), marked with paired t-tests over users; the
HTML embeds every chart as a base64 PNG, so the one file can be mailed or opened offline.
Everything that comes from data or models (method names, countries, question text, model
labels, error messages) is escaped before it reaches HTML or Markdown.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..runs.readings import reading_table
from ..runs.render import Table, html_page, markdown_page, write_atomic, write_csv, write_parquet
from ..runs.rundir import RunDir
from . import metrics as M
from .rundata import RunData, load_run
from .scored import metrics_table, weights_of
from .sections import (confusion_item, confusion_tables, country_chart, item_scores, items_tables, scores_note,
                       story_excerpts, weight_column, weighted_summaries, weights_table)
from .stories import story_table
from .tables import (CHANCE, _categories, category_table, country_table, curve_frame, curve_table, empty_notes,
                     failures_table, one_country_note, overall_scope, overall_table, scope_note,
                     tests_table, usage_table, with_ci)

__all__ = ["RunData", "load_run", "results_text", "write_report"]


def _uses_llm(run: RunData) -> bool:
    return any(m.get("needs_llm") for m in run.info.get("methods", {}).values())


def write_report(run_dir: str | Path, reference: str | None = None, seed: int = 0,
                 demographics: bool = False, weighted: bool = False, item: str | None = None) -> dict[str, Path]:
    """Write report/report.md, report/report.html (self-contained), predictions.csv/.parquet and
    the PNG charts; returns their paths by name. ``reference``: the method every other is tested
    against (default: the best by overall accuracy). ``demographics``: count the demographic
    items (sex, household size, ...) in the Overall scores too (default: value items only; the
    Demo column shows them either way). ``weighted``: survey-weighted scores beside the
    unweighted ones (the design weights the run recorded, e.g. W_WEIGHT). ``item``: the item
    of the confusion matrices (default: the hardest value item with few options)."""
    from .plots import bars_with_ci, profile_curve, radar

    if RunDir(run_dir).is_population():  # the same call serves both kinds of run: the run's own protocol
        from ..runs.study import report

        return report(run_dir)
    run = load_run(run_dir)
    run.weighted = weighted
    if weighted:
        weights_of(run.predictions, run.run_dir)  # no recorded weights: one line, before anything is written
    if item is not None:
        confusion_item(run, run.predictions[run.predictions["profile_limit"] < 0], item)  # checked before writing
    out = run.run.report_dir
    out.mkdir(parents=True, exist_ok=True)
    df = run.predictions
    main = df[df["profile_limit"] < 0]
    if reference is not None and reference not in set(main["method"]):
        raise DataError(f"reference method {reference!r} is not in this run ({', '.join(run.methods)})")
    scope = overall_scope(run, main, demographics)
    note = scope_note(run, main, demographics)
    reference = reference or M.best_method(scope, "accuracy")
    usage = ("LLM usage", [usage_table(run)]) if _uses_llm(run) else ("Run sessions", [usage_table(run, llm=False)])

    paths: dict[str, Path] = {}
    export = df.drop(columns=["codes"]).copy()
    paths["csv"] = write_csv(export, out / "predictions.csv")
    paths["parquet"] = write_parquet(export, out / "predictions.parquet")
    paths["metrics"] = write_csv(metrics_table(df, weighted=weighted, seed=seed), out / "metrics.csv")
    paths["items"] = write_csv(item_scores(run, df[df["profile_limit"] < 0], min_predictions=1), out / "items.csv")

    if main.empty or main["failed"].all():  # nothing to score yet: say so, show the failures
        return _write_pages(run, out, main, paths, {}, [
            ("Results", [Table("No scores yet", ["Method", "Predictions", "Failed"],
                               [[m, str(int((df["method"] == m).sum())), str(int(df.loc[df["method"] == m, "failed"].sum()))]
                                for m in run.methods],
                               "This run has no successful prediction yet, so there is nothing to score; the failures "
                               "below say why. Fix the cause and re-run `valuesim eval` (failed predictions are retried).")]),
            ("Failures", [failures_table(df)]), usage])

    acc_t = category_table(run, main, "accuracy", reference, seed, demographics)
    mae_t = category_table(run, main, "nmae", reference, seed, demographics)
    overall_t, summaries = overall_table(run, scope, reference, seed, note)
    sections: list[tuple[str, list]] = []  # (heading, [Table | ("img", name, caption)])

    cats = _categories(run, main)
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
    if len(mae_summary):  # (no ordinal item: no normalized MAE, and the tables say so)
        images["overall_nmae.png"] = bars_with_ci(mae_summary, "normalized MAE (95% bootstrap CI over users)",
                                                  "Overall normalized MAE")

    sections.append(("Main results (paper Tables 1 and 3 layout)", [mae_t, acc_t]))
    sections.append(("Overall scores", [overall_t, ("img", "overall_accuracy.png", "Overall accuracy per method")]
                     + ([("img", "overall_nmae.png", "Overall normalized MAE per method")] if len(mae_summary) else [])
                     + ([weights_table(run, scope, seed)] if weighted else [])
                     + ([tests_table(scope, reference)] if reference and len(run.methods) > 1 else [])))
    sections.append(("Accuracy by value category (radar, paper appendix B)",
                     [("img", "radar_accuracy.png", "Accuracy by category; dashed: uniform-guess chance. "
                       + one_country_note(run, main))]))
    curve = curve_frame(run)
    if curve is not None:
        images["profile_curve.png"] = profile_curve(curve, f"Profile-size curve — model: {run.model_label or 'no LLM'}")
        sections.append(("Profile-size curve (paper section 5.3)",
                         [curve_table(run, curve), ("img", "profile_curve.png", "Accuracy and MAE against profile size")]))
    chart = country_chart(run, scope, seed)
    if chart is not None:
        images["countries_accuracy.png"] = chart
    sections.append(("Results by country", [country_table(run, scope, seed, note)]
                     + ([("img", "countries_accuracy.png", "Accuracy per country with 95% intervals")] if chart else [])))
    sections.append(("Items", items_section(run, main, item)))
    if (st := story_table(run.run)) is not None:
        sections.append(("Backstories", [st] + [t for t in [story_excerpts(run)] if t is not None]))
    if (rt := reading_table(run.run)) is not None:
        sections.append(("How answers were read", [rt]))
    ft = failures_table(df)
    if ft is not None:
        sections.append(("Failures", [ft]))
    if _uses_llm(run):
        from .usage import method_usage_tables

        usage[1].extend(method_usage_tables(run.run_dir))
    sections.append(usage)

    return _write_pages(run, out, main, paths, images, sections)


def items_section(run: RunData, main: pd.DataFrame, item: str | None) -> list:
    """The hardest and easiest value items side by side, then the confusion matrices of one item."""
    out = items_tables(run, main)
    chosen = confusion_item(run, main, item)
    return out + (confusion_tables(run, main, chosen) if chosen else [])


def results_text(run_dir: str | Path, seed: int = 0, demographics: bool = False, weighted: bool = False) -> str:
    """The overall results as a plain-text table for the terminal: per method, accuracy and
    normalized MAE with 95% bootstrap CIs over users (the report's Overall scores);
    ``weighted``: the survey-weighted figures beside them."""
    run = load_run(run_dir)
    main = run.predictions[run.predictions["profile_limit"] < 0]
    scope = overall_scope(run, main, demographics)
    if scope.empty or scope["failed"].all():
        return "results: no successful prediction yet (see the report's failures)"
    stats = {metric: M.summary_table(scope, metric, seed=seed).set_index("method") for metric in ("accuracy", "nmae")}
    wstats = weighted_summaries(scope, run.run_dir, seed) if weighted else {}
    failed = main.groupby("method")["failed"].sum()
    col = weight_column(run)
    rows = [["method", "model", "accuracy [95% CI]", "normalized MAE [95% CI]"]
            + ([f"accuracy weighted by {col}", f"normalized MAE weighted by {col}"] if weighted else [])
            + ["users", "failed"]]
    for m in run.methods:
        cells = [m, run.method_model(m)]
        for table in (stats, wstats):
            for metric in ("accuracy", "nmae") if table else ():
                t = table[metric]
                cells.append(with_ci(t.loc[m]) if m in t.index else "–")
        users = stats["accuracy"].loc[m, "users"] if m in stats["accuracy"].index else 0
        rows.append(cells + [str(int(users)), str(int(failed.get(m, 0)))])
    if "chance" not in run.methods:
        chance = M.chance_rows(scope)
        acc, mae = (M.user_average(chance, k)["mean"] for k in ("chance_acc", "chance_nmae"))
        rows.append([CHANCE, "–", f"{acc.iloc[0]:.3f}" if len(acc) else "–", f"{mae.iloc[0]:.3f}" if len(mae) else "–"]
                    + ["", ""] * (1 + weighted))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    scope_words = ("value items" if len(scope) < len(main) else "all target items") + (
        "; unweighted, and weighted by the survey's design weights" if weighted else "; unweighted")
    notes = empty_notes(scope, ("accuracy", "nmae")) + one_country_note(run, main)
    return (f"results ({scope_words}; per-user means averaged over users, 95% bootstrap CIs over users):\n"
            + "\n".join("  " + line for line in lines) + (f"\n  note: {notes.strip()}" if notes else ""))


def _write_pages(run: RunData, out: Path, main: pd.DataFrame, paths: dict, images: dict, sections) -> dict[str, Path]:
    for name, data in images.items():
        paths[name] = write_atomic(out / name, data)
    meta = _meta_rows(run, main)
    title = f"valuesim evaluation — {run.run_dir.name}"
    legend = category_legend(run.codebook)
    paths["markdown"] = write_atomic(out / "report.md", _markdown(title, meta, sections, legend))
    paths["html"] = write_atomic(out / "report.html", _html(title, meta, sections, images, legend))
    return paths


def _meta_rows(run: RunData, main: pd.DataFrame) -> list[tuple[str, str]]:
    s = run.info.get("settings", {})
    data = s.get("data", {})
    split = run.split
    n_items = len(split.get("items", []))
    folds = split.get("folds", [])
    per_fold = sorted({len(f) for f in folds})
    survey = run.codebook.short or run.codebook.title
    synthetic = f" (SYNTHETIC population, not real {survey} answers)" if data.get("synthetic") else ""
    from ..runs.status import run_status

    return [
        ("Status", run_status(run.run_dir, list(run.methods))),  # first: an unfinished run must not pass as done
        ("Survey", run.codebook.title),
        ("Data", f"{data.get('path') or data.get('source') or '(in memory)'}{synthetic}; "
                 f"{data.get('respondents', '?')} respondents, {data.get('items', '?')} items"),
        ("Model", f"{run.model_label or 'no LLM'} (statistical methods: no LLM)"),
        ("Methods", ", ".join(run.methods)),
        ("Scores", scores_note(run, run.weighted)),
        ("Users", f"{main['respondent_id'].nunique()} evaluated (seed {s.get('seed')}, "
                  f"{'stratified by country' if split.get('stratify') == 'country' else 'simple random sample'})"),
        ("Items", f"{n_items} target items in {len(folds)} folds ({'/'.join(map(str, per_fold))} per fold); "
                  f"{len(split.get('profile_only', []))} more items only ever shown in profiles "
                  "(numeric and country-specific code lists)"),
        ("Sizes", _sizes(split, main)),
        ("Protocol", "5-fold cross-validation over questions: for each user and fold, the fold's items they "
                     "answered are the targets and every other item they answered is the profile. Scores are "
                     "per-user means averaged over users; normalized MAE = |predicted − true| / ordinal steps, "
                     "ordinal items only."),
        ("Failures", run.info.get("failure_policy", "")),
        ("Created", f"{run.info.get('created', '')} with valuesim {run.info.get('valuesim_version', '')}"),
        ("Command", run.info.get("command", "")),
        ("Data fingerprint", f"size {data.get('size', '?')} bytes, sha256 {data['sha256']}" if data.get("sha256")
                             else f"size {data.get('size', '?')} bytes, sha256 of first MB "
                                  f"{data.get('sha256_first_mb') or data.get('sha256_data', '?')}"),
    ]


def _sizes(split: dict, main: pd.DataFrame) -> str:
    from .protocol import Split

    shown = main.groupby(["respondent_id", "fold"])["profile_n"].first() if len(main) else pd.Series(dtype=float)
    real = f"; profiles shown: mean {shown.mean():.0f} items (min {shown.min()}, max {shown.max()})" if len(shown) else ""
    return (Split.from_json(split).sizes() if split else "") + real


def category_legend(codebook) -> str:
    """The full names of the codebook's categories, where it gives them."""
    named = [(k, codebook.category_name(k)) for k in codebook.category_order if codebook.category_name(k) != k]
    return ("Categories: " + "; ".join(f"{k} = {v}" for k, v in named)) if named else ""


def _markdown(title: str, meta, sections, legend: str = "") -> str:
    return markdown_page(title, meta, sections, legend,
                         "Predictions: predictions.csv, predictions.parquet (one row per prediction); metrics.csv "
                         "(per method, category and country, with intervals); items.csv (every value item's "
                         "accuracy per method).")


def _html(title: str, meta, sections, images: dict[str, bytes], legend: str = "") -> str:
    return html_page(title, meta, sections, images, legend,
                     "All predictions: predictions.csv and predictions.parquet next to this file; metrics.csv "
                     "and items.csv: the scores as tables.")


