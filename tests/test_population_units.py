"""Population method: dimension scores, descriptors, sampling, aggregation, calibration, metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from valuesim.errors import ConfigError
from valuesim.population import metrics as M
from valuesim.population.aggregate import average_distributions
from valuesim.population.calibration import CalibrationItem, calibrate, calibration_loss, fit_temperature, temper, tilt_to_mean
from valuesim.population.dimensions import DimensionScaler, component_scores, descriptor_items
from valuesim.population.personas import value_descriptors
from valuesim.population.sampling import RealAnswers, split_country, weighted_draw
from valuesim.population.targets import resolve_calibration, resolve_questions
from valuesim.survey.survey import Survey
from valuesim.survey.wvs7.bank import load_codebook

ITEMS = ["Q8", "Q14", "Q15", "Q17", "Q164", "Q184", "Q254", "Q154", "Q155", "Q182", "Q209", "Q57", "Q46", "Q240"]
# A traditional / survival / right-leaning person and a secular / self-expression / left-leaning one.
TRADITIONAL = dict(Q8=2, Q14=2, Q15=1, Q17=1, Q164=10, Q184=1, Q254=1, Q154=1, Q155=3, Q182=1, Q209=3, Q57=2,
                   Q46=4, Q240=9)
SECULAR = dict(Q8=1, Q14=1, Q15=2, Q17=2, Q164=1, Q184=10, Q254=4, Q154=2, Q155=4, Q182=10, Q209=1, Q57=1,
               Q46=1, Q240=2)


def survey_of(rows: dict[str, dict], weights=None, country="DEU") -> Survey:
    cb = load_codebook()
    data = pd.DataFrame.from_dict(rows, orient="index")
    data.index = pd.Index(list(rows), name="respondent_id", dtype=object)
    for q in ITEMS:
        data[q] = data[q].astype("Int64") if q in data else pd.array([pd.NA] * len(data), dtype="Int64")
    data.insert(0, "weight", weights if weights is not None else 1.0)
    data.insert(0, "country", country)
    return Survey(cb.subset(ITEMS), data, source="test")


# --- dimensions ---------------------------------------------------------------------------
def test_component_recoding_by_hand():
    raw = component_scores(survey_of({"t": TRADITIONAL, "s": SECULAR}))
    t, s = raw.loc["t"], raw.loc["s"]
    assert t.god_unimportant == 1 and s.god_unimportant == 10  # 11 - Q164
    assert t.autonomy == -2 and s.autonomy == 2  # (Q8 + Q14 mentioned) - (Q15 + Q17 mentioned)
    assert t.abortion_justifiable == 1 and t.low_national_pride == 1 and s.low_national_pride == 4
    assert t.postmaterialism == 1 and s.postmaterialism == 3  # both materialist / both post-materialist
    assert t.petition == 1 and s.petition == 3  # 4 - Q209
    assert t.trust == 0 and s.trust == 1
    assert t.happiness == 1 and s.happiness == 4  # 5 - Q46
    assert t.left_right == 9 and s.left_right == 2


def test_dimension_scores_by_hand():
    # Two equally weighted people: every component's z-score is exactly -1 / +1 where they differ.
    mixed = dict(SECULAR, Q164=10)  # secular on everything but the importance of God
    scaler = DimensionScaler.fit(survey_of({"t": TRADITIONAL, "m": mixed}))
    scores = scaler.scores(survey_of({"t": TRADITIONAL, "m": mixed}))
    # god_unimportant is 1 for both (sd 0): both sit at its mean (z = 0); the other three give +/-1.
    assert scores.loc["m", "traditional_secular"] == pytest.approx((0 + 1 + 1 + 1) / 4)
    assert scores.loc["t", "traditional_secular"] == pytest.approx(-(0 + 1 + 1 + 1) / 4)
    assert scores.loc["m", "survival_selfexpression"] == pytest.approx(1.0)
    assert scores.loc["t", "left_right"] == pytest.approx(1.0)

    scaler = DimensionScaler.fit(survey_of({"t": TRADITIONAL, "s": SECULAR}))
    half = dict(SECULAR, Q164=10, Q184=1)  # two of four traditional components flipped
    s = scaler.scores(survey_of({"h": half}))
    assert s.loc["h", "traditional_secular"] == pytest.approx((-1 - 1 + 1 + 1) / 4)


def test_missing_components_and_minimum():
    scaler = DimensionScaler.fit(survey_of({"t": TRADITIONAL, "s": SECULAR}))
    # Q254 = 5 ("I am not [nationality]") is missing; the other three give the average.
    s = scaler.scores(survey_of({"a": dict(SECULAR, Q254=5)}))
    assert s.loc["a", "traditional_secular"] == pytest.approx(1.0)
    # Only two traditional/secular components left: below the minimum of three -> missing.
    sparse = {k: v for k, v in SECULAR.items() if k not in ("Q164", "Q184")}
    sparse["Q254"] = -1
    s = scaler.scores(survey_of({"b": sparse}))
    assert math.isnan(s.loc["b", "traditional_secular"])
    assert s.loc["b", "survival_selfexpression"] == pytest.approx(1.0)


def test_levels_and_descriptors():
    rows = {f"r{i}": dict(SECULAR, Q164=1 + i % 10, Q184=10 - i % 10) for i in range(50)}
    scaler = DimensionScaler.fit(survey_of(rows))
    assert scaler.levels == 5 and len(scaler.cuts["traditional_secular"]) == 4
    assert scaler.level("traditional_secular", -99) == 1 and scaler.level("traditional_secular", 99) == 5
    assert scaler.level("left_right", float("nan")) is None
    text = value_descriptors({"traditional_secular": 1, "survival_selfexpression": 5, "left_right": None},
                             load_codebook().dimensions)
    assert text.startswith("You hold strongly traditional views")
    assert "self-expression" in text and "Politically" not in text


def test_descriptor_items_are_never_targets():
    cb = load_codebook()
    every = resolve_questions("all", cb, cb.ids)
    assert not set(every) & descriptor_items(cb)
    assert {"Q260", "Q262", "Q275", "Q288", "Q223", "Q272"}.isdisjoint(every)
    for qid in ("Q164", "Q46", "Q152", "Q262", "Q223"):
        with pytest.raises(ConfigError):
            resolve_questions(qid, cb, cb.ids)
    assert resolve_questions(None, cb, cb.ids) == list(cb.targets)
    assert resolve_questions("q1,Q2", cb, cb.ids) == ["Q1", "Q2"]
    assert set(resolve_questions("Trust", cb, cb.ids)) <= {q.id for q in cb if q.category == "Trust"}
    calib = resolve_calibration(None, list(cb.targets), cb, cb.ids)
    assert calib == list(cb.calibration) and not set(calib) & set(cb.targets)
    with pytest.raises(ConfigError):
        resolve_calibration("Q1", ["Q1"], cb, cb.ids)


# --- sampling -----------------------------------------------------------------------------
def test_weighted_draw_follows_weights_and_seed():
    ids = ["a", "b", "c"]
    draws = weighted_draw(ids, [1.0, 0.0, 3.0], 20000, np.random.default_rng(5))
    counts = pd.Series(draws).value_counts()
    assert "b" not in counts
    assert counts["c"] / counts["a"] == pytest.approx(3.0, rel=0.08)
    again = weighted_draw(ids, [1.0, 0.0, 3.0], 50, np.random.default_rng(5))
    assert again == draws[:50] or again == weighted_draw(ids, [1.0, 0.0, 3.0], 50, np.random.default_rng(5))


def test_split_is_seeded_disjoint_and_complete():
    survey = survey_of({f"p{i}": TRADITIONAL for i in range(11)})
    a, b = split_country(survey, "DEU", 3), split_country(survey, "DEU", 3)
    assert a.source_ids == b.source_ids and len(a.source_ids) == 6 and len(a.eval_ids) == 5
    assert set(a.source_ids).isdisjoint(a.eval_ids)
    assert set(a.source_ids) | set(a.eval_ids) == set(survey.data.index)
    assert split_country(survey, "DEU", 4).source_ids != a.source_ids


def test_real_distribution_is_weighted_and_drops_missing():
    survey = survey_of({"a": dict(TRADITIONAL, Q46=1), "b": dict(TRADITIONAL, Q46=2),
                        "c": dict(TRADITIONAL, Q46=-1)}, weights=[1.0, 3.0, 5.0])
    counts, n = RealAnswers(survey, ["a", "b", "c"]).distribution("Q46", (1, 2, 3, 4))
    assert list(counts) == [1.0, 3.0, 0.0, 0.0] and n == 2


# --- aggregation --------------------------------------------------------------------------
def test_average_distributions():
    avg = average_distributions([{1: 1.0}, {"1": 0.5, "2": 0.5}, {2: 2.0, 3: 2.0}], (1, 2, 3))
    assert np.allclose(avg, [0.5, 1 / 3, 1 / 6])
    assert average_distributions([], (1, 2)) is None


# --- calibration --------------------------------------------------------------------------
CODES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
PEAKED = np.array([0.01, 0.02, 0.05, 0.1, 0.5, 0.2, 0.06, 0.03, 0.02, 0.01])


@pytest.mark.parametrize("p", [PEAKED, np.array([0.7, 0.2, 0.05, 0.05, 0, 0, 0, 0, 0, 0]), np.full(10, 0.1),
                               np.array([0.45, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.45])])
@pytest.mark.parametrize("temperature", [0.3, 0.7, 1.5, 4.0])
def test_calibration_preserves_the_mean_exactly(p, temperature):
    out = calibrate(p, CODES, True, temperature)
    assert out.sum() == pytest.approx(1.0, abs=1e-12)
    assert abs(M.mean(out, CODES) - M.mean(p, CODES)) < 1e-9


def test_calibration_moves_entropy_in_the_intended_direction():
    h = M.entropy(PEAKED)
    assert M.entropy(calibrate(PEAKED, CODES, True, 2.0)) > h
    assert M.entropy(calibrate(PEAKED, CODES, True, 0.5)) < h
    assert np.allclose(calibrate(PEAKED, CODES, True, 1.0), PEAKED)
    # nominal items: tempered only, the ranking of the options is kept
    p = np.array([0.6, 0.3, 0.1])
    flat = calibrate(p, (1, 2, 3), False, 3.0)
    assert M.entropy(flat) > M.entropy(p) and list(np.argsort(flat)) == list(np.argsort(p))


def test_tilt_reaches_the_target_mean():
    q = temper(PEAKED, 3.0)
    r = tilt_to_mean(q, CODES, 4.2)
    assert abs(M.mean(r, CODES) - 4.2) < 1e-12
    with pytest.raises(ValueError):
        tilt_to_mean(q, CODES, 11)


def test_fit_temperature_matches_human_entropy():
    # The simulation is too concentrated compared with people: the fitted T spreads it out.
    real = np.array([0.05, 0.05, 0.08, 0.12, 0.2, 0.2, 0.12, 0.08, 0.05, 0.05])
    items = [CalibrationItem(PEAKED, real, CODES, True), CalibrationItem(np.array([0.8, 0.15, 0.05]),
                                                                        np.array([0.5, 0.3, 0.2]), (1, 2, 3), True)]
    t = fit_temperature(items)
    assert t > 1.0
    assert calibration_loss(items, t) < 0.5 * calibration_loss(items, 1.0)
    # With one item the human entropy is reachable at its mean: the fit matches it.
    assert calibration_loss(items[:1], fit_temperature(items[:1])) < 1e-6
    # Too diverse: T < 1.
    items = [CalibrationItem(real, PEAKED, CODES, True)]
    assert fit_temperature(items) < 1.0
    assert fit_temperature([]) == 1.0


# --- metrics ------------------------------------------------------------------------------
def test_wasserstein_score_on_known_distributions():
    codes = (1, 2, 3, 4)
    assert M.wasserstein_score([1, 0, 0, 0], [0, 0, 0, 1], codes) == pytest.approx(0.0)
    assert M.wasserstein_score([0.2, 0.3, 0.5, 0], [0.2, 0.3, 0.5, 0], codes) == pytest.approx(1.0)
    assert M.wasserstein_score([0.5, 0.5, 0, 0], [0, 0.5, 0.5, 0], codes) == pytest.approx(1 - 1 / 3)
    assert M.wasserstein1([1, 0, 0], [0, 0, 1], (0, 1, 10)) == pytest.approx(10.0)  # uneven code gaps


def test_js_tv_entropy_on_known_distributions():
    assert M.js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert M.js_distance([0.3, 0.7], [0.3, 0.7]) == pytest.approx(0.0, abs=1e-12)
    expected = math.sqrt(0.5 * math.log2(1 / 0.75) + 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(2)))
    assert M.js_distance([1, 0], [0.5, 0.5]) == pytest.approx(expected)
    assert M.js_distance([0.1, 0.6, 0.3], [0.4, 0.4, 0.2]) == pytest.approx(
        jensenshannon([0.1, 0.6, 0.3], [0.4, 0.4, 0.2], base=2))
    assert M.total_variation([0.5, 0.5, 0], [0, 0.5, 0.5]) == pytest.approx(0.5)
    assert M.entropy([0.25] * 4) == pytest.approx(2.0) and M.entropy([1, 0, 0]) == 0.0
    assert M.entropy_deviation([1, 0], [0.5, 0.5]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        M.total_variation([0.5, 0.5], [1, 0, 0])
    row = M.compare([0.5, 0.5], [0.5, 0.5], (1, 2), ordinal=False)
    assert row["wasserstein_score"] is None and row["js_distance"] == pytest.approx(0.0, abs=1e-12)
