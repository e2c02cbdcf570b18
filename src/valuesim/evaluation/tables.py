"""The evaluation report's tables (paper Tables 1 and 3 layout, CIs, tests, countries, curve,
usage, items, failures), each built from a scored ``RunData``; rendering is ``runs.render``'s."""

from __future__ import annotations

import json
import math

import pandas as pd

from ..runs.render import Table, fmt
from . import metrics as M
from .rundata import RunData
from .scored import overall_mask
from ..survey.countries import alpha3_name

CHANCE = "chance (uniform guess)"
FEW_USERS = 5  # a country with fewer users gets its numbers flagged


def overall_scope(run: RunData, main: pd.DataFrame, demographics: bool = False) -> pd.DataFrame:
    """The predictions "Overall" scores: the value items; the codebook's demographic items (sex,
    household size, ...) only with ``demographics`` (or when the run has nothing else)."""
    return main[overall_mask(main, run.codebook.demographic_ids, demographics)]


def scope_note(run: RunData, main: pd.DataFrame, demographics: bool) -> str:
    if demographics or len(overall_scope(run, main)) in (0, len(main)):
        return ""
    return ("Overall: value items only; demographic items (sex, age, household size, ...) are in their own "
            "category column and left out (`valuesim report --demographics` includes them). ")


METRIC_NAMES = {"accuracy": "accuracy", "nmae": "normalized MAE", "logloss": "log-loss", "rps": "RPS"}


def empty_note(scored: pd.DataFrame, metric: str) -> str:
    """Why ``metric`` has no value in ``scored`` (a sentence), or '' when something scored it."""
    if len(scored) and scored[M.COLUMN[metric]].notna().any():
        return ""
    name = METRIC_NAMES.get(metric, metric)
    if metric in ("nmae", "rps") and not scored.get("kind", pd.Series(dtype=str)).eq("ordinal").any():
        return f"No ordinal item among these targets, so no {name} (it is defined for ordinal items only). "
    return f"No successful prediction here, so no {name}. "


def empty_notes(scored: pd.DataFrame, metrics=M.METRICS) -> str:
    return "".join(dict.fromkeys(empty_note(scored, m) for m in metrics))


def with_ci(r) -> str:
    """"mean [low, high]" of a summary row; one user has no interval, and says so."""
    if r["users"] < 2:
        return f"{fmt(r['mean'])} (one user: no interval)"
    return f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"


def one_country_note(run: RunData, main: pd.DataFrame) -> str:
    """In a one-country study the country's answer distribution is the whole sample's: the
    country-marginal and global-marginal baselines predict the same, and their lines coincide."""
    countries = main["country"].dropna().astype(str).unique()
    if len(countries) != 1 or not {"country-marginal", "global-marginal"} & set(run.methods):
        return ""
    return (f"One country ({countries[0]}): country-marginal equals global-marginal here (the country's answer "
            "distribution is the whole sample's), so their scores are the same and their radar lines coincide. ")


# --- tables ---------------------------------------------------------------------------------
def _categories(run: RunData, scored: pd.DataFrame) -> list[str]:
    present = set(scored["category"].dropna())
    order = run.codebook.category_order
    return [c for c in order if c in present] + sorted(present - set(order))


def category_table(run: RunData, main: pd.DataFrame, metric: str, reference: str | None, seed: int,
                   demographics: bool = False) -> Table:
    """The paper's Table 1 (nmae) / Table 3 (accuracy) layout, with significance marks; the
    Overall column scores ``overall_scope(main, demographics)``."""
    cats = _categories(run, main)
    higher = M.HIGHER_IS_BETTER[metric]
    scope = overall_scope(run, main, demographics)
    by_cat = M.user_average(main, metric, ["category"])
    overall = M.user_average(scope, metric)
    tests = {}
    if reference:
        pu = M.per_user(main, metric, ["category"])
        for cat, g in pu.groupby("category"):
            wide = g.pivot_table(index="respondent_id", columns="method", values=metric)
            if reference in wide:
                for m in wide.columns:
                    if m != reference:
                        tests[(m, cat)] = M.paired_t(wide[m].to_numpy(), wide[reference].to_numpy())[1]
        for t in M.compare_methods(scope, metric, reference):
            tests[(t.method, "Overall")] = t.p
    chance_metric = "chance_acc" if metric == "accuracy" else "chance_nmae"
    chance_cat = M.user_average(M.chance_rows(main), chance_metric, ["category"]).set_index("category")["mean"]
    chance_all = M.user_average(M.chance_rows(scope), chance_metric)["mean"]
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
            cells.append(fmt(row_vals[c]) + (M.significance_stars(p) if p is not None else ""))
        cells += [str(users), str(int(failed.get(m, 0)))]
        rows.append(cells)
    for j, c in enumerate(cats + ["Overall"]):  # bold the best method in each column
        col = [(values[m][c], i) for i, m in enumerate(run.methods) if not math.isnan(values[m][c])]
        if col:
            best = max(col) if higher else min(col)
            bold.add((best[1], j + 2))
    if "chance" not in run.methods:  # the chance method's own row is this row: one chance row, not two
        rows.append([CHANCE, "–"] + [fmt(chance_cat.get(c, math.nan)) for c in cats]
                    + [fmt(float(chance_all.iloc[0]) if len(chance_all) else math.nan), "", ""])
    name = "Top-1 accuracy (higher is better)" if metric == "accuracy" else \
        "Normalized MAE (lower is better; ordinal items only)"
    caption = (f"model: {run.model_label or 'no LLM'} (statistical methods: no LLM). "
               "Each user's mean over their target items, averaged over users; all folds. "
               + (f"Marks: paired t-test over users vs {reference}: * p<0.05, ** p<0.01. " if reference else "")
               + "Bold: best in column. Failed predictions are left out and counted in 'Failed'. "
               + scope_note(run, main, demographics) + empty_note(main, metric))
    return Table(name, header, rows, caption, bold)


def overall_table(run: RunData, main: pd.DataFrame, reference: str | None, seed: int,
                  note: str = "") -> tuple[Table, dict]:
    """``main``: the predictions Overall scores (see ``overall_scope``); ``note`` ends the caption."""
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
                mean, _, rest = with_ci(r).partition(" ")
                cells.append(f"{mean}{stars} {rest}")
            else:
                cells.append("–")
        rows.append(cells)
    header = ["Method", "Model", "Predictions", "Failed", "Accuracy [95% CI]", "Normalized MAE [95% CI]",
              "Log-loss [95% CI]", "RPS [95% CI]"]
    caption = ("Per-user means averaged over users; 95% CIs from a seeded bootstrap over users (2000 resamples). "
               "Log-loss: −ln p(true answer), every item. RPS: ranked probability score, ordinal items. "
               + (f"Marks: paired t-test over users vs {reference}. " if reference else "") + note
               + empty_notes(main) + one_country_note(run, main))
    return Table("Overall scores with confidence intervals", header, rows, caption), summaries


def tests_table(main: pd.DataFrame, reference: str) -> Table:
    rows = []
    for metric in ("accuracy", "nmae", "logloss", "rps"):
        for t in M.compare_methods(main, metric, reference):
            rows.append([metric, t.method, reference, str(t.users), fmt(t.mean_diff, 4), fmt(t.t, 2),
                         (f"{t.p:.2g}" if not math.isnan(t.p) else "–"), t.stars])
    return Table(f"Paired t-tests over users vs {reference}",
                 ["Metric", "Method", "Reference", "Users", "Mean difference", "t", "p", ""], rows,
                 "scipy.stats.ttest_rel on per-user scores (users that both methods scored).")


def country_table(run: RunData, main: pd.DataFrame, seed: int = 0, note: str = "") -> Table:
    """Per country: users, and each method's accuracy and normalized MAE with a 95% bootstrap CI
    over that country's users; countries with fewer than FEW_USERS users are flagged."""
    tables = {metric: M.summary_table(main, metric, by="country", seed=seed) for metric in ("accuracy", "nmae")}
    countries = sorted(main["country"].dropna().astype(str).unique())
    header = ["Country", "Users"] + [f"{m} accuracy [95% CI]" for m in run.methods] + \
        [f"{m} MAE [95% CI]" for m in run.methods]
    rows, few = [], 0
    for c in countries:
        users = int(main.loc[main["country"] == c, "respondent_id"].nunique())
        few += users < FEW_USERS
        name = alpha3_name(c)
        cells = [f"{name} ({c})" if name else c,
                 str(users) + (f" (under {FEW_USERS}: indicative only)" if users < FEW_USERS else "")]
        for metric in ("accuracy", "nmae"):
            t = tables[metric]
            t = t[t["country"].astype(str) == c].set_index("method") if len(t) else t
            for m in run.methods:
                if m not in t.index:
                    cells.append("–")
                    continue
                r = t.loc[m]
                ci = f" [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]" if r["users"] > 1 else " (one user: no interval)"
                cells.append(fmt(r["mean"]) + ci)
        rows.append(cells)
    caption = (f"model: {run.model_label or 'no LLM'} (statistical methods: no LLM). User-averaged accuracy and "
               "normalized MAE of the users from each country, with 95% bootstrap CIs over those users. "
               + (f"{few} of {len(countries)} countries have fewer than {FEW_USERS} users: their numbers say little "
                  "(sample more users, e.g. `valuesim eval --stratify country`). " if few else "") + note
               + empty_notes(main, ("accuracy", "nmae")))
    return Table("Accuracy and MAE per country", header, rows, caption)


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
            rows.append([m, run.method_model(m), name] + [fmt(g[metric].get(lim, math.nan)) for lim in limits])
    mean_all = curve.loc[curve["profile_limit"] < 0, "size"]
    return Table("Profile-size curve", header, rows,
                 f"Fold {run.split.get('curve_fold')} targets; each user sees the first N items of a seeded random "
                 f"order of their profile items ('all' ≈ {fmt(mean_all.mean() if len(mean_all) else math.nan, 0)} "
                 "items on average).")


def usage_table(run: RunData, llm: bool = True) -> Table:
    """One row per session; ``llm`` False (no LLM method in the run): sessions only, no LLM columns."""
    rows = []
    tot = {"calls": 0, "requests": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0, "wall_seconds": 0.0}
    for _, s in run.sessions.iterrows():
        u = json.loads(s["usage"]) if isinstance(s["usage"], str) and s["usage"] else None
        wall = (s["finished"] - s["started"]) if pd.notna(s["finished"]) else math.nan
        if u:
            for k in ("calls", "requests", "cache_hits", "prompt_tokens", "completion_tokens"):
                tot[k] += int(u.get(k) or 0)
        if not math.isnan(wall):
            tot["wall_seconds"] += wall
        rows.append([str(s["session"]), pd.Timestamp(s["started"], unit="s").strftime("%Y-%m-%d %H:%M:%S"),
                     str(s["status"]), str(s["predictions"]), str(s["failures"]),
                     str(u.get("calls", 0)) if u else "–", str(u.get("requests", 0)) if u else "–",
                     str(u.get("cache_hits", 0)) if u else "–",
                     str(u.get("prompt_tokens", 0)) if u else "–", str(u.get("completion_tokens", 0)) if u else "–",
                     fmt(wall, 1)])
    rows.append(["all", "", "", str(int(run.sessions["predictions"].fillna(0).sum())),
                 str(int(run.sessions["failures"].fillna(0).sum())), str(tot["calls"]), str(tot["requests"]),
                 str(tot["cache_hits"]),
                 str(tot["prompt_tokens"]), str(tot["completion_tokens"]), fmt(tot["wall_seconds"], 1)])
    header = ["Session", "Started (UTC)", "Status", "New predictions", "Failures", "LLM calls", "HTTP requests",
              "Cache hits", "Prompt tokens", "Completion tokens", "Wall s"]
    if not llm:
        keep = [0, 1, 2, 3, 4, 10]
        return Table("Sessions of this run", [header[i] for i in keep], [[r[i] for i in keep] for r in rows],
                     "One row per `valuesim eval` invocation (resumes add rows); no LLM method: no model was used.")
    return Table("LLM usage and run sessions", header, rows,
                 f"model: {run.model_label or 'no LLM'}. One row per `valuesim eval` invocation (resumes add rows). "
                 "LLM calls: answers asked of the model; HTTP requests: attempts sent, retries included.")


def failures_table(main: pd.DataFrame, n: int = 10) -> Table | None:
    f = main[main["failed"]]
    if f.empty:
        return None
    counts = f.groupby("method").size()
    rows = [[m, str(int(c)), f"{100 * c / max(1, (main['method'] == m).sum()):.1f}%",
             str(f.loc[f["method"] == m, "error"].iloc[0])[:200]] for m, c in counts.items()]
    return Table("Failed predictions", ["Method", "Failed", "Share", "First error"], rows,
                 "Failed predictions are stored (and retried by the next `valuesim eval`), and left out of every score.")


