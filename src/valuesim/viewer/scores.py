"""The numbers the viewer shows, computed by the reports' own code (never a second scoring).

An evaluation run's headline tables are ``evaluation.tables``' (overall scores with their
bootstrap intervals, the category table with its chance row); a population run's are the
population report's. Results are cached per run until its store changes.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from ..runs.render import Table
from .source import RunSource

_CAUSE = re.compile(r"^([A-Z][A-Za-z]+(?:Error|Failure|Answer|Refusal|Timeout|Exception|Limit)?):")


def run_data(src: RunSource):
    """The run's scored predictions as the evaluation report reads them (``RunData``)."""
    from ..evaluation import metrics as M
    from ..evaluation.rundata import RunData
    from ..runs.store import read_predictions, read_sessions

    def compute():
        preds = read_predictions(src.run.store_path)
        return RunData(src.run.path, src.info(), src.run.split_json(), M.score_rows(preds) if len(preds) else preds,
                       read_sessions(src.run.store_path))

    return src.cached("run_data", compute)


def eval_overview(src: RunSource) -> dict:
    """Settings, the report's headline tables and the failures by cause of an evaluation run."""
    return src.cached("eval_overview", lambda: _eval_overview(src))


def _eval_overview(src: RunSource) -> dict:
    from ..evaluation import metrics as M
    from ..evaluation.report import _meta_rows
    from ..evaluation.tables import category_table, overall_scope, overall_table, scope_note

    run = run_data(src)
    df = run.predictions
    if df.empty:
        return {"meta": [("Status", src.status())], "tables": [], "failures": [], "methods": []}
    main = df[df["profile_limit"] < 0]
    meta = _meta_rows(run, main)
    tables: list[Table] = []
    scored = main[~main["failed"]]
    if len(scored):
        scope = overall_scope(run, main)
        reference = M.best_method(scope, "accuracy")
        overall, _ = overall_table(run, scope, reference, 0, scope_note(run, main, False))
        tables = [overall, category_table(run, main, "accuracy", reference, 0),
                  category_table(run, main, "nmae", reference, 0)]
    return {"meta": meta, "tables": tables, "failures": failure_causes(main), "methods": list(run.methods)}


def failure_causes(main: pd.DataFrame) -> list[dict]:
    """Failed predictions grouped by method and cause (the error's kind), most frequent first,
    with one example message each."""
    failed = main[main["failed"].astype(bool)]
    counts: Counter = Counter()
    example: dict = {}
    for method, error in zip(failed["method"], failed["error"].fillna("")):
        cause = cause_of(error)
        counts[(method, cause)] += 1
        example.setdefault((method, cause), error)
    totals = main.groupby("method").size()
    return [{"method": m, "cause": c, "count": n, "share": n / max(1, int(totals.get(m, 0))), "example": example[(m, c)]}
            for (m, c), n in counts.most_common()]


def cause_of(error: str) -> str:
    """The kind of a stored error: its exception name ("UnparsableAnswer: ...") or its first words."""
    text = str(error or "").strip()
    m = _CAUSE.match(text)
    if m:
        return m.group(1)
    return " ".join(text.split()[:6]) or "(no message)"


# --- population runs ----------------------------------------------------------------------------
def population_tables(src: RunSource) -> dict[str, pd.DataFrame]:
    """The population run's result tables (metrics, distributions, summary) as the runner wrote
    them; empty frames while the run has not written them yet."""

    def read(name: str) -> pd.DataFrame:
        # the run's report/ folder; runs from before one place for them kept them at the root
        path = src.run.report_dir / name if (src.run.report_dir / name).exists() else src.run / name
        try:
            return pd.read_csv(path, dtype={"country": str}) if path.exists() and path.stat().st_size > 1 else pd.DataFrame()
        except (OSError, ValueError, pd.errors.ParserError):
            return pd.DataFrame()

    return {n: read(f"{n}.csv") for n in ("metrics", "distributions", "summary")}  # written after the store: not cached


def population_overview(src: RunSource) -> dict:
    from ..population.report import summary_table

    info = src.info()
    settings = info.get("settings") or {}
    tables = population_tables(src)
    meta = [("Status", src.status()), ("Model", str(info.get("model") or settings.get("model") or "?")),
            ("Countries", ", ".join(map(str, info.get("countries") or []))),
            ("Personas", f"{info.get('personas', settings.get('personas', '?'))} per country"),
            ("Methods", ", ".join(map(str, info.get("methods") or []))),
            ("Target questions", ", ".join(map(str, info.get("questions") or []))),
            ("Calibration", "on" if info.get("calibrate") else "off"),
            ("Seed", str(info.get("seed", settings.get("seed", "")))), ("Protocol", str(info.get("protocol") or "")),
            ("Data", str((settings.get("data") or {}).get("source") or info.get("source") or "")),
            ("Created", f"{info.get('created', '')} with valuesim {info.get('valuesim_version', '')}"),
            ("Command", str(info.get("command") or ""))]
    summary = tables["summary"]
    out = [summary_table(summary, meta[1][1])] if not summary.empty else []
    return {"meta": meta, "tables": out}


def country_distributions(src: RunSource, country: str) -> list[dict]:
    """Per target question of ``country``: the real distribution and each method's simulated one,
    calibrated and not, as {question, codes, labels, series: [(name, calibrated, {code: p})], real}."""
    dist = population_tables(src)["distributions"]
    if dist.empty:
        return []
    d = dist[dist["country"].astype(str) == str(country)]
    out = []
    for q, g in d.groupby("question", sort=False):
        codes = list(dict.fromkeys(int(c) for c in g["code"]))
        labels = dict(zip(g["code"].astype(int), g["label"].astype(str))) if "label" in g else {}
        first = g.drop_duplicates("code")
        series = [{"name": str(m), "calibrated": bool(cal), "probs": dict(zip(h["code"].astype(int), h["simulated"]))}
                  for (m, cal), h in g.groupby(["method", "calibrated"], sort=False)]
        out.append({"question": str(q), "codes": codes, "labels": labels,
                    "real": dict(zip(first["code"].astype(int), first["real"])), "series": series})
    return out
