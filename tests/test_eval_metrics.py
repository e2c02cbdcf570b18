"""Metrics on hand-computed examples: MAE normalization, per-user averaging, paired t-test,
bootstrap CI, RPS, log-loss and chance levels."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from valuesim.evaluation import metrics as M


def frame(rows):
    """rows: (method, user, question, kind, codes, answer, truth[, failed])."""
    out = []
    for r in rows:
        method, user, qid, kind, codes, answer, truth, *rest = r
        failed = rest[0] if rest else False
        dist = {str(c): (1.0 if c == answer else 0.0) for c in codes}
        out.append(dict(method=method, fold=0, respondent_id=user, question_id=qid, profile_limit=-1,
                        profile_n=10, country="AAA", answer=None if failed else answer, truth=truth,
                        distribution=json.dumps(dist), failed=failed, error="", category="Core", kind=kind,
                        codes=json.dumps(codes), n_steps=max(codes) - min(codes)))
    return pd.DataFrame(out)


def test_normalized_mae_hand_computed():
    # 1-10 scale: 9 steps; predicted 3, true 7 -> 4/9. 4-point scale: predicted 1, true 4 -> 3/3.
    assert M.normalized_abs_error(3, 7, 9) == pytest.approx(4 / 9)
    df = M.score_rows(frame([
        ("m", "u1", "Q1", "ordinal", list(range(1, 11)), 3, 7),
        ("m", "u1", "Q2", "ordinal", [1, 2, 3, 4], 1, 4),
        ("m", "u1", "Q3", "nominal", [1, 2, 3], 1, 3),   # nominal: accuracy only
        ("m", "u1", "Q4", "binary", [1, 2], 2, 2),
    ]))
    assert df["nmae"].tolist()[:2] == pytest.approx([4 / 9, 1.0])
    assert math.isnan(df["nmae"].iloc[2]) and math.isnan(df["nmae"].iloc[3])
    assert df["correct"].tolist() == [0, 0, 0, 1]
    avg = M.user_average(df, "nmae")
    assert avg["mean"].iloc[0] == pytest.approx((4 / 9 + 1.0) / 2)


def test_scores_are_averaged_per_user_then_over_users():
    # u1: 1 of 1 correct; u2: 1 of 3 correct. Per-user: (1 + 1/3) / 2 = 2/3, pooled would be 2/4.
    df = M.score_rows(frame([
        ("m", "u1", "Q1", "ordinal", [1, 2, 3, 4], 2, 2),
        ("m", "u2", "Q1", "ordinal", [1, 2, 3, 4], 2, 2),
        ("m", "u2", "Q2", "ordinal", [1, 2, 3, 4], 1, 2),
        ("m", "u2", "Q3", "ordinal", [1, 2, 3, 4], 1, 3),
    ]))
    avg = M.user_average(df, "accuracy")
    assert avg["mean"].iloc[0] == pytest.approx(2 / 3)
    assert avg["users"].iloc[0] == 2


def test_failed_predictions_are_left_out_of_scores():
    df = M.score_rows(frame([
        ("m", "u1", "Q1", "ordinal", [1, 2, 3, 4], 2, 2),
        ("m", "u1", "Q2", "ordinal", [1, 2, 3, 4], None, 4, True),
    ]))
    assert M.user_average(df, "accuracy")["mean"].iloc[0] == 1.0
    assert M.user_average(df, "nmae")["mean"].iloc[0] == 0.0


def test_paired_t_test_on_a_known_case():
    a = [0.50, 0.60, 0.55, 0.70, 0.65]
    b = [0.40, 0.52, 0.50, 0.58, 0.61]
    d = np.subtract(a, b)
    t_hand = d.mean() / (d.std(ddof=1) / math.sqrt(len(d)))
    p_hand = 2 * stats.t.sf(abs(t_hand), df=len(d) - 1)
    t, p, n = M.paired_t(a, b)
    assert n == 5
    assert t == pytest.approx(t_hand)
    assert p == pytest.approx(p_hand)
    assert M.significance_stars(p) == "**" and p < 0.01
    assert M.paired_t(a, a)[1] == 1.0  # identical: no difference
    assert M.paired_t([1, 2, np.nan], [0, 1, 5])[2] == 2  # NaN pairs dropped
    # a constant non-zero difference has no variance: undefined, and never marked significant
    t, p, n = M.paired_t([0.0, 0.0], [1 / 3, 1 / 3])
    assert n == 2 and math.isnan(t) and math.isnan(p) and M.significance_stars(p) == ""


def test_compare_methods_pairs_by_user():
    rows = []
    for i, (x, y) in enumerate([(1, 1), (1, 0), (1, 0), (1, 0), (0, 0), (1, 0)]):
        rows.append(("good", f"u{i}", "Q1", "ordinal", [1, 2], 1 if x else 2, 1))
        rows.append(("bad", f"u{i}", "Q1", "ordinal", [1, 2], 1 if y else 2, 1))
    df = M.score_rows(frame(rows))
    [test] = M.compare_methods(df, "accuracy", "good")
    t, p = stats.ttest_rel([1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 1])
    assert test.method == "bad" and test.users == 6
    assert test.p == pytest.approx(p) and test.t == pytest.approx(t)
    assert test.mean_diff == pytest.approx(-4 / 6)
    assert M.best_method(df, "accuracy") == "good"


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    v = np.random.default_rng(0).random(100)
    lo, hi = M.bootstrap_ci(v, seed=1)
    assert lo < v.mean() < hi
    assert (lo, hi) == M.bootstrap_ci(v, seed=1)


def test_rps_logloss_and_chance():
    codes = [1, 2, 3, 4, 5]
    assert M.ranked_probability_score({1: 1.0}, 1, codes) == 0.0
    assert M.ranked_probability_score({5: 1.0}, 1, codes) == pytest.approx(1.0)
    # uniform on a 3-point scale, truth 2: ((1/3 - 0)^2 + (2/3 - 1)^2) / 2 = 1/9
    assert M.ranked_probability_score({1: 1 / 3, 2: 1 / 3, 3: 1 / 3}, 2, [1, 2, 3]) == pytest.approx(1 / 9)
    df = M.score_rows(frame([("m", "u1", "Q1", "ordinal", [1, 2, 3, 4], 2, 4)]))
    assert df["logloss"].iloc[0] == pytest.approx(-math.log(M.EPS))
    assert df["chance_acc"].iloc[0] == 0.25
    # uniform guess vs truth 4 on 1-4: mean |c-4| = (3+2+1+0)/4 = 1.5, / 3 steps = 0.5
    assert df["chance_nmae"].iloc[0] == pytest.approx(0.5)


def test_fast_rps_matches_the_reference():
    rng = np.random.default_rng(0)
    for _ in range(50):
        codes = list(range(1, int(rng.integers(2, 11)) + 1))
        p = rng.random(len(codes))
        dist = {str(c): float(v) for c, v in zip(codes, p)}
        t = int(rng.choice(codes))
        assert M._rps_fast(dist, t, codes) == pytest.approx(M.ranked_probability_score({c: v for c, v in zip(codes, p)}, t, codes))
