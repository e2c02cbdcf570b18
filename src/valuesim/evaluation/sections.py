"""The report's sections beyond the paper's tables, one function each: survey-weighted scores
beside the unweighted ones, items side by side (hardest and easiest value items), confusion
matrices, countries as a chart, backstory excerpts. Each takes the scored ``RunData`` frames
and returns ``runs.render`` Tables (or chart bytes); ``report.py`` decides where they go."""

from __future__ import annotations

import pandas as pd

from ..runs.render import Table, fmt
from . import metrics as M
from .rundata import RunData
from .scored import weights_of
from .tables import with_ci


def weight_column(run: RunData) -> str:
    """The name of the file's design-weight column (WVS-7: W_WEIGHT)."""
    return run.codebook.columns.weight or "W_WEIGHT"


def scores_note(run: RunData, weighted: bool) -> str:
    """What the report's scores are: unweighted, or unweighted with survey-weighted figures beside."""
    col = weight_column(run)
    if weighted:
        return (f"unweighted (each evaluated user counts once) in every table; survey-weighted by {col} beside them "
                "in 'Survey-weighted scores'")
    return (f"unweighted: each evaluated user counts once; the survey's design weights ({col}) are not applied "
            "(`valuesim report --weighted` adds weighted figures beside)")


def weights_table(run: RunData, scope: pd.DataFrame, seed: int = 0) -> Table:
    """Per method: accuracy and normalized MAE unweighted and survey-weighted, side by side, with
    95% bootstrap intervals over users. A DataError when the run recorded no weights."""
    w = weights_of(scope, run.run_dir)
    plain = {m: M.summary_table(scope, m, seed=seed).set_index("method") for m in ("accuracy", "nmae")}
    weighted = {m: M.summary_table(scope, m, seed=seed, weights=w).set_index("method") for m in ("accuracy", "nmae")}
    rows = []
    for m in run.methods:
        cells = [m, run.method_model(m)]
        for metric in ("accuracy", "nmae"):
            for t in (plain[metric], weighted[metric]):
                cells.append(with_ci(t.loc[m]) if m in t.index else "–")
        users = plain["accuracy"].loc[m, "users"] if m in plain["accuracy"].index else 0
        rows.append(cells + [str(int(users))])
    col = weight_column(run)
    values = w.dropna()
    caption = (f"Survey weights ({col}) of the {len(values)} evaluated users: min {fmt(values.min(), 2)}, median "
               f"{fmt(values.median(), 2)}, max {fmt(values.max(), 2)}. Weighted: each user's mean over their items "
               "counts in proportion to the user's design weight (the bootstrap resamples users and takes the "
               "weighted mean). The other tables and the t-tests are unweighted. ")
    if values.nunique() <= 1:
        caption += ("Every evaluated user has the same weight (the file has no weight column, or equal weights), "
                    "so weighted and unweighted agree. ")
    header = ["Method", "Model", "Accuracy (unweighted)", f"Accuracy (weighted by {col})",
              "Normalized MAE (unweighted)", f"Normalized MAE (weighted by {col})", "Users"]
    return Table("Survey-weighted scores beside the unweighted ones", header, rows, caption)


def weighted_summaries(scope: pd.DataFrame, run_dir, seed: int = 0) -> dict[str, pd.DataFrame]:
    """metric -> the survey-weighted summary per method (accuracy, nmae), for the terminal."""
    w = weights_of(scope, run_dir)
    return {m: M.summary_table(scope, m, seed=seed, weights=w).set_index("method") for m in ("accuracy", "nmae")}

