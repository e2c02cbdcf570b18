"""Two runs on the same split, compared (``valuesim report RUN_A --compare RUN_B``).

A comparison pairs the same person on the same targets, so both runs must have the same split
(users, items, folds) of the same data: anything else is refused in one line. Per method (the
methods both runs have; when they share none, every method of A against every method of B):
each user's mean over the targets *both* runs scored, in A and in B; the mean of the paired
differences A − B with a 95% bootstrap interval over users and a paired t-test.
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import ConfigError
from ..runs.render import fmt
from ..runs.rundir import RunDir
from . import metrics as M
from .scored import scored

SPLIT_KEYS = ("users", "items", "folds")
DATA_KEYS = ("size", "sha256_first_mb", "sha256_data", "sha256")
ROW_KEYS = ["fold", "respondent_id", "question_id"]
COLUMNS = ["method_a", "method_b", "metric", "users", "mean_a", "mean_b", "difference", "ci_low", "ci_high", "t", "p"]


def check_same_split(a: RunDir, b: RunDir) -> None:
    """One ConfigError line when ``a`` and ``b`` are not on the same split of the same data."""
    sa, sb = a.split_json(), b.split_json()
    for run, split in ((a, sa), (b, sb)):
        if not split:
            raise ConfigError(f"{run.path} has no split.json: only individual runs made by `valuesim eval` compare")
    differ = [k for k in SPLIT_KEYS if sa.get(k) != sb.get(k)]
    da = ((a.info() or {}).get("settings") or {}).get("data") or {}
    db = ((b.info() or {}).get("settings") or {}).get("data") or {}
    if any(da.get(k) != db.get(k) for k in DATA_KEYS if k in da or k in db):
        differ.append("data file")
    if differ:
        raise ConfigError(f"{a.path} and {b.path} are not on the same split ({', '.join(differ)} differ): a "
                          f"comparison pairs the same users on the same items; re-run one with `valuesim eval ... "
                          f"--split {a.split_file}`")


def _pairs(methods_a: list[str], methods_b: list[str]) -> list[tuple[str, str]]:
    common = [m for m in methods_a if m in methods_b]
    return [(m, m) for m in common] or [(x, y) for x in methods_a for y in methods_b]


def compare_runs(run_a, run_b, metrics=("accuracy", "nmae"), seed: int = 0, n_boot: int = 2000) -> pd.DataFrame:
    """One row per method pair and metric: users, the user-averaged means in A and in B (on the
    targets both scored), the mean paired difference A − B with its 95% bootstrap interval over
    users, t and p of the paired t-test."""
    a, b = RunDir(run_a), RunDir(run_b)
    check_same_split(a, b)
    sa, sb = (s[s["overall"]] for s in (scored(a), scored(b)))
    rows = []
    for ma, mb in _pairs(list(pd.unique(sa["method"])), list(pd.unique(sb["method"]))):
        for metric in metrics:
            col = M.COLUMN[metric]
            both = sa.loc[sa["method"] == ma, ROW_KEYS + [col]].merge(
                sb.loc[sb["method"] == mb, ROW_KEYS + [col]], on=ROW_KEYS, suffixes=("_a", "_b")).dropna()
            per_user = both.groupby("respondent_id")[[f"{col}_a", f"{col}_b"]].mean()
            if per_user.empty:
                continue
            ua, ub = per_user[f"{col}_a"].to_numpy(), per_user[f"{col}_b"].to_numpy()
            lo, hi = M.bootstrap_ci(ua - ub, n_boot=n_boot, seed=seed)
            if len(ua) < 2:
                lo = hi = math.nan
            t, p, n = M.paired_t(ua, ub)
            rows.append([ma, mb, metric, n, float(ua.mean()), float(ub.mean()), float((ua - ub).mean()), lo, hi, t, p])
    return pd.DataFrame(rows, columns=COLUMNS)


def compare_text(table: pd.DataFrame, run_a, run_b) -> str:
    """The comparison as a plain-text table for the terminal."""
    a, b = RunDir(run_a), RunDir(run_b)
    label = {r: (r.info() or {}).get("model_label") or "no LLM" for r in (a, b)}
    head = (f"comparison on the same split: A = {a.path} (model {label[a]}), B = {b.path} (model {label[b]}); "
            "per-user means over the targets both scored, paired over users")
    if table.empty:
        return head + "\n  no method has targets scored in both runs"
    rows = [["method A", "method B", "metric", "users", "A", "B", "A − B [95% CI]", "p (paired t)"]]
    for r in table.itertuples():
        ci = f" [{fmt(r.ci_low)}, {fmt(r.ci_high)}]" if r.users > 1 else " (one user: no interval)"
        rows.append([r.method_a, r.method_b, r.metric, str(r.users), fmt(r.mean_a), fmt(r.mean_b),
                     f"{r.difference:+.3f}{ci}", f"{r.p:.2g}" if not math.isnan(r.p) else "–"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in rows]
    return head + "\n" + "\n".join("  " + line for line in lines)
