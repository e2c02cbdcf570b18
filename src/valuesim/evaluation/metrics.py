"""Scores: per prediction, then per user, then averaged over users (as the paper did).

Per prediction:
- ``abs_error``: |predicted − true| in codes, ordinal items only (``nmae`` × steps).
- ``correct``: predicted code == true code (every item).
- ``nmae``: |predicted − true| / (number of ordinal steps = max code − min code), ordinal items
  only (nominal and binary items count for accuracy only).
- Ties: when the predicted code is one of several codes that share the distribution's highest
  probability, any of them was as likely an answer, so both scores are their expected values
  over the tied codes (a uniform distribution scores 1/K and the mean distance), never the
  tie-break's pick (which would always be the lowest code).
- ``logloss``: −ln p(true code) with p clipped at 1e-6 (every item; every method returns a
  distribution).
- ``rps``: ranked probability score, Σ_k (F_pred(k) − F_true(k))² / (K − 1) over the K codes,
  ordinal items only.
- ``chance_acc`` / ``chance_nmae``: what a uniform random guess scores on the same item and
  truth (1/K; mean |c − true| / steps over the codes c).

Aggregation: a user's score is the mean over their scored predictions (in a category, a
country, ...), a method's score is the mean over users. Failed predictions are left out of
every score and counted separately. Confidence intervals: seeded bootstrap over users.
Significance: paired t-test over users (scipy.stats.ttest_rel) on the per-user scores.
Survey weights (``weights``: respondent id -> design weight): the mean over users becomes the
weighted mean of the users' scores, and the bootstrap resamples users and takes that weighted
mean; a user's own score stays the plain mean over their items. A metric nothing scored (no
ordinal item for normalized MAE, no successful prediction) gives an empty table, never an error.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

EPS = 1e-6
METRICS = ("accuracy", "nmae", "logloss", "rps")
HIGHER_IS_BETTER = {"accuracy": True, "nmae": False, "logloss": False, "rps": False,
                    "chance_acc": True, "chance_nmae": False}
COLUMN = {"accuracy": "correct", "nmae": "nmae", "logloss": "logloss", "rps": "rps",
          "chance_acc": "chance_acc", "chance_nmae": "chance_nmae"}


def normalized_abs_error(answer: float, truth: float, n_steps: int) -> float:
    """|answer − truth| / n_steps; NaN when the item has no steps."""
    return abs(float(answer) - float(truth)) / n_steps if n_steps else math.nan


def ranked_probability_score(distribution: dict, truth: int, codes: list[int]) -> float:
    """Σ_k (F_pred(k) − F_true(k))² / (K − 1): 0 is a certain correct answer, 1 the far end."""
    if len(codes) < 2:
        return math.nan
    p = np.array([float(distribution.get(c, distribution.get(str(c), 0.0))) for c in codes])
    total = p.sum()
    p = p / total if total > 0 else np.full(len(codes), 1.0 / len(codes))
    cdf_pred = np.cumsum(p)
    cdf_true = (np.asarray(codes) >= truth).astype(float)
    return float(((cdf_pred - cdf_true)[:-1] ** 2).sum() / (len(codes) - 1))


def _rps_fast(dist: dict, truth: int, codes: list[int]) -> float:
    """ranked_probability_score for a JSON-keyed distribution, in plain Python (K is small)."""
    k = len(codes)
    if k < 2:
        return math.nan
    probs = [float(dist.get(str(c), 0.0)) for c in codes]
    total = sum(probs)
    probs = [p / total for p in probs] if total > 0 else [1.0 / k] * k
    acc = score = 0.0
    for c, p in zip(codes[:-1], probs[:-1]):
        acc += p
        score += (acc - (1.0 if c >= truth else 0.0)) ** 2
    return score / (k - 1)


def score_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Add per-prediction scores to a predictions frame (from ``store.read_predictions``)."""
    df = df.copy()
    ok = ~df["failed"].astype(bool)
    ordinal = df["kind"].eq("ordinal")
    steps = df["n_steps"].astype(float).where(lambda s: s > 0)
    answer = pd.to_numeric(df["answer"], errors="coerce")
    truth = df["truth"].astype(float)
    df["correct"] = (answer == truth).astype(float).where(ok)
    df["nmae"] = ((answer - truth).abs() / steps).where(ok & ordinal)
    correct, nmae = df["correct"].tolist(), df["nmae"].tolist()
    logloss, rps, chance_acc, chance_nmae = [], [], [], []
    parsed: dict[str, tuple[list[int], int]] = {}  # codes JSON -> (codes, span): few distinct
    chance_cache: dict[tuple[str, int], float] = {}
    for i, (dist_json, codes_json, t, is_ord, fine, said) in enumerate(
            zip(df["distribution"], df["codes"], df["truth"], ordinal, ok, answer)):
        key = codes_json if isinstance(codes_json, str) else json.dumps(list(codes_json or []))
        if key not in parsed:
            codes = json.loads(key)
            parsed[key] = (codes, (max(codes) - min(codes)) if codes else 0)
        codes, span = parsed[key]
        t = int(t)
        k = len(codes)
        chance_acc.append(1.0 / k if k else math.nan)
        if is_ord and span:
            if (key, t) not in chance_cache:
                chance_cache[(key, t)] = sum(abs(c - t) for c in codes) / k / span
            chance_nmae.append(chance_cache[(key, t)])
        else:
            chance_nmae.append(math.nan)
        if not fine:
            logloss.append(math.nan)
            rps.append(math.nan)
            continue
        dist = json.loads(dist_json) if isinstance(dist_json, str) else {str(c): v for c, v in dict(dist_json).items()}
        tied = _tied_codes(dist, codes, said)
        if tied:
            correct[i] = float(t in tied) / len(tied)
            if is_ord and span:
                nmae[i] = sum(abs(c - t) for c in tied) / len(tied) / span
        logloss.append(-math.log(max(float(dist.get(str(t), 0.0)), EPS)))
        rps.append(_rps_fast(dist, t, codes) if is_ord else math.nan)
    df["correct"] = correct
    df["nmae"] = nmae
    df["abs_error"] = df["nmae"] * steps
    df["logloss"] = logloss
    df["rps"] = rps
    df["chance_acc"] = chance_acc
    df["chance_nmae"] = chance_nmae
    return df


def _tied_codes(dist: dict, codes: list[int], answer: float, rel: float = 1e-9) -> list[int] | None:
    """The codes sharing the highest probability with ``answer`` when there are several (else None)."""
    probs = {c: float(dist.get(str(c), 0.0)) for c in codes}
    top = max(probs.values(), default=0.0)
    if top <= 0 or answer != answer or abs(probs.get(int(answer), -1.0) - top) > rel * top:
        return None
    tied = [c for c, p in probs.items() if abs(p - top) <= rel * top]
    return tied if len(tied) > 1 else None


def per_user(scored: pd.DataFrame, metric: str, by: list[str] | None = None) -> pd.DataFrame:
    """One row per (method, [by...], user): the user's mean of ``metric`` over scored items."""
    col = COLUMN[metric]
    keys = list(dict.fromkeys(["method"] + list(by or []) + ["respondent_id"]))  # (by may name the user)
    sub = scored.dropna(subset=[col])
    return sub.groupby(keys, sort=False)[col].mean().rename(metric).reset_index()


def user_average(scored: pd.DataFrame, metric: str, by: list[str] | None = None) -> pd.DataFrame:
    """Mean over users of each user's mean (the paper's averaging), with the number of users."""
    pu = per_user(scored, metric, by)
    keys = ["method"] + list(by or [])
    return pu.groupby(keys, sort=False)[metric].agg(["mean", "count"]).rename(columns={"count": "users"}).reset_index()


def bootstrap_ci(values, n_boot: int = 2000, level: float = 0.95, seed: int = 0,
                 weights=None) -> tuple[float, float]:
    """Percentile bootstrap CI of the (``weights``-weighted) mean, resampling users (seeded)."""
    v = np.asarray(values, dtype=float)
    w = np.ones(len(v)) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(v) & (w > 0)
    v, w = v[keep], w[keep]
    if len(v) == 0:
        return (math.nan, math.nan)
    if len(v) == 1:
        return (float(v[0]), float(v[0]))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(v), size=(n_boot, len(v)))
    if weights is None:
        means = v[idx].mean(axis=1)
    else:
        means = (v[idx] * w[idx]).sum(axis=1) / w[idx].sum(axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def weighted_mean(values, weights=None) -> float:
    """The mean of ``values`` (NaN left out), weighted by ``weights`` (users of weight 0 count nothing)."""
    v = np.asarray(values, dtype=float)
    w = np.ones(len(v)) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(v) & (w > 0)
    return float((v[keep] * w[keep]).sum() / w[keep].sum()) if keep.any() else math.nan


@dataclass(frozen=True)
class PairedTest:
    method: str
    reference: str
    users: int
    mean_diff: float  # method − reference
    t: float
    p: float

    @property
    def stars(self) -> str:
        return significance_stars(self.p)


def significance_stars(p: float) -> str:
    if p is None or math.isnan(p):
        return ""
    return "**" if p < 0.01 else "*" if p < 0.05 else ""


def paired_t(a, b) -> tuple[float, float, int]:
    """Paired t-test of a vs b over the positions where both exist: (t, p, n).

    Identical pairs give p = 1. A constant non-zero difference has no variance, so the test is
    undefined (t and p are NaN, no significance mark): with few users, e.g. the demo's three,
    every user can differ by the same amount, which is no evidence of p = 0."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 2:
        return (math.nan, math.nan, n)
    d = a - b
    if np.allclose(d, d[0]):
        if abs(d[0]) < 1e-12:
            return (0.0, 1.0, n)
        return (math.nan, math.nan, n)
    from scipy import stats  # imported here: scipy.stats costs seconds at import time

    res = stats.ttest_rel(a, b)
    return (float(res.statistic), float(res.pvalue), n)


def compare_methods(scored: pd.DataFrame, metric: str, reference: str, by: list[str] | None = None) -> list[PairedTest]:
    """Paired t-test over users of every method vs ``reference`` (per group of ``by``)."""
    pu = per_user(scored, metric, by)
    out: list[PairedTest] = []
    keys = list(by or [])
    groups = pu.groupby(keys, sort=False) if keys else [((), pu)]
    for _, g in groups:
        wide = g.pivot_table(index="respondent_id", columns="method", values=metric)
        if reference not in wide:
            continue
        for m in wide.columns:
            if m == reference:
                continue
            t, p, n = paired_t(wide[m].to_numpy(), wide[reference].to_numpy())
            diff = float(np.nanmean(wide[m] - wide[reference])) if n else math.nan
            out.append(PairedTest(m, reference, n, diff, t, p))
    return out


def best_method(scored: pd.DataFrame, metric: str = "accuracy") -> str | None:
    avg = user_average(scored, metric)
    if avg.empty:
        return None
    avg = avg.sort_values("mean", ascending=not HIGHER_IS_BETTER[metric])
    return str(avg.iloc[0]["method"])


def chance_rows(scored: pd.DataFrame) -> pd.DataFrame:
    """Uniform-guess scores on the distinct (user, fold, item, profile) targets of the run."""
    uniq = scored.drop_duplicates(["fold", "respondent_id", "question_id", "profile_limit"]).copy()
    uniq["method"] = "chance (uniform guess)"
    return uniq


SUMMARY_COLUMNS = ("mean", "ci_low", "ci_high", "users")


def summary_table(scored: pd.DataFrame, metric: str, by: "str | list[str] | None" = None, seed: int = 0,
                  n_boot: int = 2000, weights: "pd.Series | None" = None) -> pd.DataFrame:
    """method × group (or overall) user-averaged ``metric`` with 95% bootstrap CI and user count;
    ``weights`` (respondent id -> weight): survey-weighted over users. Always has its columns
    (an empty table when nothing scored ``metric``)."""
    keys = [by] if isinstance(by, str) else list(by or [])
    pu = per_user(scored, metric, keys)
    rows = []
    for key, g in pu.groupby(["method"] + keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        w = None if weights is None else g["respondent_id"].map(weights).astype(float).fillna(0.0).to_numpy()
        values = g[metric].to_numpy()
        lo, hi = bootstrap_ci(values, n_boot=n_boot, seed=seed, weights=w)
        rows.append({"method": key[0], **dict(zip(keys, key[1:])), "mean": float(g[metric].mean()) if w is None else weighted_mean(values, w),
                     "ci_low": lo, "ci_high": hi, "users": len(g)})
    return pd.DataFrame(rows, columns=["method", *keys, *SUMMARY_COLUMNS])
