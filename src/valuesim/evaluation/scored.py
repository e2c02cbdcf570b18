"""Scored predictions and metrics as DataFrames: the tables the report is made of, for a notebook.

    run = valuesim.RunDir("runs/x")
    run.scored()                                   # one row per prediction, with its scores
    run.metrics()                                  # accuracy, nmae, logloss, rps per method, 95% CIs
    run.metrics(by=("method", "category"), weighted=True)
    run.metrics(by=("method", "question_id"))      # per item; ("method", "respondent_id"): per user

One scoring code: rows are scored by ``metrics.score_rows`` and aggregated as the report does (a
user's mean over their items, then the mean over users; a seeded bootstrap over users for the
95% interval), so ``metrics()`` gives the report's figures. Both read ``RunDir.predictions()``.
The plain mean of ``scored()["correct"]`` pools predictions instead: it equals the report's
accuracy only when every user has as many scored items; ``metrics()`` is the user average.
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import DataError
from ..runs.rundir import RunDir
from . import metrics as M

GROUPS = ("method", "respondent_id", "question_id", "category", "country", "fold", "profile_limit", "kind",
          "dist_method")
CHANCE_OF = {"accuracy": "chance_acc", "nmae": "chance_nmae"}
METRIC_COLUMNS = ("metric", "mean", "ci_low", "ci_high", "users", "predictions", "chance", "weighted")


def overall_mask(df: pd.DataFrame, demographic_ids, demographics: bool = False) -> pd.Series:
    """The rows the report's Overall scores count: all profile items shown (not the curve), and
    the value items only, unless ``demographics`` or the run scored nothing else."""
    main = df["profile_limit"] < 0
    if demographics:
        return main
    values = main & ~df["question_id"].isin(set(demographic_ids))
    return values if values.any() else main


def score_predictions(preds: pd.DataFrame, respondents: pd.DataFrame, demographic_ids,
                      demographics: bool = False) -> pd.DataFrame:
    """``preds`` (``RunDir.predictions()``) scored, with each person's survey ``weight`` (NaN when
    the run did not record it), ``demographic`` and ``overall`` (counted in Overall)."""
    df = M.score_rows(preds)
    weights = respondents.set_index("respondent_id")["weight"] if len(respondents) else pd.Series(dtype=float)
    df["weight"] = df["respondent_id"].map(weights).astype(float)
    df["demographic"] = df["question_id"].isin(set(demographic_ids))
    df["overall"] = overall_mask(df, demographic_ids, demographics)
    return df


def _codebook(run: RunDir):
    from ..survey.codebook_file import codebook_of_run

    return codebook_of_run(((run.info() or {}).get("settings") or {}).get("data") or {})


def _individual(run: "RunDir | str") -> RunDir:
    run = RunDir(run)
    if run.is_population():
        raise DataError(f"{run.path} is a population run: its tables are metrics.csv, summary.csv and "
                        "distributions.csv in the run directory")
    if not run.exists() or not run.has_store():
        raise DataError(f"{run.path} is not a valuesim run directory (no run settings or predictions); "
                        "create one with `valuesim eval FILE --out RUN_DIR`")
    return run


def scored(run: "RunDir | str", demographics: bool = False) -> pd.DataFrame:
    """One row per stored prediction (failed ones too: their scores are NaN) with ``correct``,
    ``abs_error``, ``nmae``, ``logloss``, ``rps``, the chance levels, ``category``, ``country``,
    ``weight``, ``demographic`` and ``overall``."""
    run = _individual(run)
    return score_predictions(run.predictions(), run.respondents(), _codebook(run).demographic_ids, demographics)


def weights_of(df: pd.DataFrame, run_dir=None) -> pd.Series:
    """respondent id -> survey weight of a scored frame; a DataError when the run recorded none."""
    w = df.groupby("respondent_id", sort=False)["weight"].first()
    if len(df) and w.isna().all():
        where = f" {run_dir}" if run_dir is not None else ""
        raise DataError(f"the run{where} has no survey weights recorded (it was made before runs kept them); re-run "
                        "the same `valuesim eval` command: it records them and predicts nothing again")
    return w


def metrics(run: "RunDir | str | pd.DataFrame", by=("method",), weighted: bool = False, metrics=M.METRICS,
            demographics: bool = False, seed: int = 0, n_boot: int = 2000) -> pd.DataFrame:
    """One row per group of ``by`` and metric: the user-averaged ``mean`` with its 95% bootstrap
    interval over users (NaN with one user), ``users``, ``predictions`` scored and the uniform-
    guess ``chance`` (accuracy, nmae). ``method`` is always a group. The rows are the report's:
    the curve's only with ``profile_limit`` in ``by``; demographic items only per category or
    item (or with ``demographics``). ``weighted``: survey-weighted over users. ``run``: a run
    directory or a frame from ``scored()``. A metric nothing scored has no rows."""
    df = run if isinstance(run, pd.DataFrame) else scored(run, demographics)
    by = ["method"] + [b for b in dict.fromkeys(by) if b != "method"]
    unknown = [b for b in by if b not in df.columns]
    if unknown:
        raise DataError(f"cannot group metrics by {', '.join(unknown)}; groups: {', '.join(GROUPS)}")
    if "profile_limit" not in by:
        df = df[df["profile_limit"] < 0]
    if not {"category", "question_id"} & set(by):
        df = df[df["overall"]] if "overall" in df else df
    weights = weights_of(df, None if isinstance(run, pd.DataFrame) else RunDir(run).path) if weighted else None
    keys = by[1:]
    tables = []
    for metric in metrics:
        t = M.summary_table(df, metric, by=keys, seed=seed, n_boot=n_boot, weights=weights)
        if t.empty:
            continue
        t.loc[t["users"] < 2, ["ci_low", "ci_high"]] = math.nan
        counts = df.dropna(subset=[M.COLUMN[metric]]).groupby(by, sort=False).size().rename("predictions")
        t = t.join(counts, on=by)
        t["chance"] = _chance(df, metric, keys, t)
        t.insert(len(by), "metric", metric)
        tables.append(t)
    out = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=[*by, *METRIC_COLUMNS])
    out["weighted"] = bool(weighted)
    return out[[*by, *METRIC_COLUMNS]]


def _chance(df: pd.DataFrame, metric: str, keys: list[str], t: pd.DataFrame) -> pd.Series:
    """What a uniform guess scores on the same targets, per group (NaN for logloss and rps)."""
    if metric not in CHANCE_OF or not len(df):
        return pd.Series(math.nan, index=t.index)
    avg = M.user_average(M.chance_rows(df), CHANCE_OF[metric], keys)
    if not keys:
        return pd.Series(float(avg["mean"].iloc[0]) if len(avg) else math.nan, index=t.index)
    return t[keys].merge(avg[keys + ["mean"]], on=keys, how="left")["mean"].set_axis(t.index)


LEVELS = (("overall", ("method",)), ("category", ("method", "category")), ("country", ("method", "country")))


def metrics_table(df: pd.DataFrame, weighted: bool = False, seed: int = 0) -> pd.DataFrame:
    """What ``metrics.csv`` holds: per method overall, per category and per country (``level``
    says which; ``category``/``country`` empty where not grouped), unweighted, and weighted too
    when ``weighted``."""
    parts = []
    for w in (False, True) if weighted else (False,):
        for level, by in LEVELS:
            t = metrics(df, by=by, weighted=w, seed=seed)
            t.insert(0, "level", level)
            parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    return out[["level", "method", "category", "country", *METRIC_COLUMNS]]
