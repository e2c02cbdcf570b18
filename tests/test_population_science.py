"""Population science: held-out-country protocol, statistical twin, noise floor, LLM-prior groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_population_run import random_survey, religious_model

from valuesim.errors import ConfigError
from valuesim.llm import get_model
from valuesim.population import run_population, write_population_report
from valuesim.population.dimensions import DimensionScaler
from valuesim.population.groups import (
    LLM_BASIS,
    POOLED_BASIS,
    assign_groups,
    group_summary,
)
from valuesim.population.noise import noise_floor
from valuesim.population.personas import Persona
from valuesim.population.protocol import (
    HELD_OUT,
    OTHERS,
    TWIN,
    assert_masked,
    method_view,
    pooled_marginal,
    resolve_protocol,
)
from valuesim.population.twin import twin_predictions
from valuesim.survey.survey import Survey

COUNTRIES = ("DEU", "NGA", "JPN", "USA")
TARGETS = ["Q1", "Q49", "Q111", "Q173"]


@pytest.fixture(scope="module")
def survey():
    return random_survey(60, countries=COUNTRIES)


def scrambled(survey: Survey, country: str, qids) -> Survey:
    """The same survey with ``country``'s answers to ``qids`` replaced by the opposite code."""
    data = survey.data.copy()
    rows = data.country == country
    for q in qids:
        codes = survey.codebook[q].codes
        flip = {a: b for a, b in zip(codes, reversed(codes))}
        data.loc[rows, q] = data.loc[rows, q].map(flip).fillna(data.loc[rows, q]).astype("Int64")
    return Survey(survey.codebook, data, survey.source, survey.synthetic)


def run(survey, out, model=None, **kw):
    args = {"countries": ",".join(COUNTRIES), "personas": 6, "questions": ",".join(TARGETS),
            "methods": "value-persona,demographic,no-persona", "calibrate": False, "seed": 2, "progress": False,
            "protocol": HELD_OUT}
    args.update(kw)
    return run_population(survey, model=model or get_model(religious_model()), out=out, **args)


def test_protocol_names():
    assert resolve_protocol(None) == "split-half" and resolve_protocol("Held-Out-Country") == HELD_OUT
    with pytest.raises(ConfigError, match="split-half or held-out-country"):
        resolve_protocol("leave-one-out")


def test_held_out_needs_another_country(tmp_path):
    with pytest.raises(ConfigError, match="holds only DEU"):
        run(random_survey(20, countries=("DEU",)), tmp_path / "one", countries="DEU")
    assert not (tmp_path / "one").exists()  # refused before the run directory exists


def test_method_view_masks_only_the_evaluated_countries_targets(survey):
    view = method_view(survey, HELD_OUT, ["DEU", "NGA"], ["Q1", "Q173"])
    assert_masked(view, ["DEU", "NGA"], ["Q1", "Q173"])
    with pytest.raises(AssertionError, match="reached the methods"):
        assert_masked(survey, ["DEU", "NGA"], ["Q1", "Q173"])  # the original is untouched
    other = view.data.country.isin(["JPN", "USA"])
    pd.testing.assert_frame_equal(view.data[other], survey.data[other])
    pd.testing.assert_frame_equal(view.data.drop(columns=["Q1", "Q173"]), survey.data.drop(columns=["Q1", "Q173"]))
    assert method_view(survey, "split-half", ["DEU"], ["Q1"]) is survey


def test_held_out_target_answers_cannot_reach_any_method(survey, tmp_path):
    """Reversing DEU's target answers changes DEU's truth but no method's prediction for DEU."""
    changed = scrambled(survey, "DEU", TARGETS)
    a_model, b_model = religious_model(), religious_model()
    a = run(survey, tmp_path / "a", model=get_model(a_model), calibrate=True)
    b = run(changed, tmp_path / "b", model=get_model(b_model), calibrate=True)
    assert [c.last_user for c in a_model.calls] == [c.last_user for c in b_model.calls]  # same prompts
    key = ["method", "calibrated", "country", "question", "code"]
    da, db = (r.distributions.sort_values(key).reset_index(drop=True) for r in (a, b))
    deu = da.country == "DEU"
    assert {"value-persona", "demographic", "no-persona", TWIN, OTHERS} <= set(da[deu].method)
    assert "country-marginal" not in set(da.method)
    np.testing.assert_allclose(da[deu].simulated, db[deu].simulated, atol=1e-9)
    assert not np.allclose(da[deu].real, db[deu].real)  # the truth did change
    assert a.temperatures == pytest.approx(b.temperatures) and TWIN in a.temperatures
    # under split-half the same change reaches the country-marginal reference: the check can fail
    sa = run(survey, tmp_path / "sa", protocol="split-half", methods="no-persona", calibrate=False)
    sb = run(changed, tmp_path / "sb", protocol="split-half", methods="no-persona", calibrate=False)
    def pick(r):
        return r.distributions[(r.distributions.method == "country-marginal") & (r.distributions.country == "DEU")]
    assert not np.allclose(pick(sa).simulated, pick(sb).simulated)


def test_twin_is_fitted_on_the_other_countries_only(survey):
    scaler = DimensionScaler.fit(survey)
    scores = scaler.scores(survey)
    ids = survey.data.index[survey.data.country == "DEU"][:5]
    people = {"DEU": [Persona(k, rid, "DEU", levels={d: scaler.level(d, scores.at[rid, d]) for d in scaler.dimensions})
                      for k, rid in enumerate(ids)]}
    base = twin_predictions(survey, scaler, scores, people, ["Q173", "Q111"])
    same = twin_predictions(scrambled(survey, "DEU", ["Q173", "Q111"]), scaler, scores, people, ["Q173", "Q111"])
    other = twin_predictions(scrambled(survey, "JPN", ["Q173", "Q111"]), scaler, scores, people, ["Q173", "Q111"])
    def probs(df):
        return np.array([[p[k] for k in sorted(p)] for p in df.distribution])
    assert len(base) == 10 and (base.method == TWIN).all() and (base.failed == 0).all()
    np.testing.assert_allclose(probs(base), probs(same))  # the target country's answers play no part
    assert not np.allclose(probs(base), probs(other))  # the other countries' answers do
    assert np.allclose(probs(base).sum(axis=1), 1.0)


def test_twin_tracks_the_value_dimensions(survey, tmp_path):
    """In the test survey one latent drives descriptors and targets: the twin must beat the
    pooled other-country marginal, which ignores who the personas are."""
    r = run(survey, tmp_path / "r", methods="value-twin", calibrate=False)
    s = r.summary.set_index("method")
    assert s.loc[TWIN, "js_distance"] < s.loc[OTHERS, "js_distance"] - 0.05
    assert r.accounting == {} and r.model.startswith("none")  # a statistical-only run asks no model
    assert r.new_predictions > 0  # the twin's and the references' rows are stored like any method's


def test_noise_floor_shrinks_with_more_respondents():
    small, large = random_survey(40, countries=("DEU",), seed=3), random_survey(1600, countries=("DEU",), seed=3)
    f_small = noise_floor(small, ["DEU"], TARGETS, seed=0)
    f_large = noise_floor(large, ["DEU"], TARGETS, seed=0)
    assert (f_small.splits == 5).all() and (f_small.respondents == 40).all()
    assert f_large.js_distance.mean() < f_small.js_distance.mean() / 3
    assert (f_large.wasserstein_score.dropna() > f_small.wasserstein_score.dropna().to_numpy()).all()
    pd.testing.assert_frame_equal(f_small, noise_floor(small, ["DEU"], TARGETS, seed=0))  # seeded


def test_noise_floor_is_zero_when_everyone_agrees(survey):
    data = survey.data.copy()
    data["Q1"] = pd.array([1] * len(data), dtype="Int64")
    f = noise_floor(Survey(survey.codebook, data), ["DEU"], ["Q1"])
    assert f.js_distance.iloc[0] == pytest.approx(0.0) and f.wasserstein_score.iloc[0] == pytest.approx(1.0)


def test_groups_cut_countries_by_prior_distance():
    d = pd.DataFrame({"country": list("ABCDEFG"), "basis": "x",
                      "prior_distance": [0.5, 0.1, 0.3, np.nan, 0.2, 0.7, 0.6], "questions": 3})
    g = assign_groups(d).set_index("country")
    assert g.group_label.to_dict() == {"A": "middle", "B": "aligned", "C": "middle", "D": "", "E": "aligned",
                                       "F": "far", "G": "far"}
    assert list(g.loc[["B", "E", "C", "A", "G", "F"], "group"]) == [1, 1, 2, 2, 3, 3]
    assert pd.isna(g.loc["D", "group"])
    two = assign_groups(d.iloc[:2]).set_index("country")
    assert two.group_label.to_dict() == {"A": "far", "B": "aligned"}


def test_group_summary_gap_says_which_group_is_served_worse():
    groups = assign_groups(pd.DataFrame({"country": ["A", "B"], "basis": "x", "prior_distance": [0.1, 0.9],
                                         "questions": 1}))
    cs = pd.DataFrame({"method": ["m", "m"], "calibrated": [False, False], "country": ["A", "B"],
                       "js_distance": [0.2, 0.5], "wasserstein_score": [0.9, 0.8]})
    floor = pd.DataFrame({"country": ["A", "B"], "respondents": [10, 10], "wasserstein_score": [0.95, 0.9],
                          "js_distance": [0.1, 0.15], "total_variation": [0.1, 0.1], "abs_entropy_deviation": [0, 0]})
    s = group_summary(cs, groups, floor).set_index("group")
    assert s.loc["gap", "js_distance"] == pytest.approx(0.3) and s.loc["gap", "wasserstein_score"] == pytest.approx(0.1)
    assert s.loc["1", "floor_js_distance"] == pytest.approx(0.1) and s.loc["worst-best", "js_distance"] == pytest.approx(0.3)


def test_run_writes_floor_and_groups_and_the_report_shows_them(survey, tmp_path):
    r = run(survey, tmp_path / "r")
    groups = pd.read_csv(tmp_path / "r" / "report" / "country_groups.csv")
    assert (groups.basis == LLM_BASIS).all() and set(groups.group_label) == {"aligned", "middle", "far"}
    per = pd.read_csv(tmp_path / "r" / "report" / "group_summary.csv")
    assert {TWIN, OTHERS, "value-persona"} <= set(per.method) and "gap" in set(per.group.astype(str))
    floor = pd.read_csv(tmp_path / "r" / "report" / "noise_floor.csv")
    assert len(floor) == len(COUNTRIES) * len(TARGETS) and floor.js_distance.between(0, 1).all()
    assert "noise floor" in r.text_summary()
    md = write_population_report(tmp_path / "r")["markdown"].read_text()
    for text in ("held-out-country", "noise floor (two random halves)", "far minus aligned",
                 "other-countries (reference)", "value-twin"):
        assert text in md
    stat = run(survey, tmp_path / "s", methods="value-twin", calibrate=False)
    assert (stat.science["groups"].basis == POOLED_BASIS).all()
    # the default protocol gets the floor and the groups too, and keeps its references
    split = run(survey, tmp_path / "h", methods="no-persona", protocol="split-half")
    per = split.science["group_summary"]
    assert set(per.method) == {"no-persona", "country-marginal", "uniform"}
    assert (split.science["groups"].basis == LLM_BASIS).all()
    pd.testing.assert_frame_equal(split.science["floor"], r.science["floor"])  # the floor is the data's, not the protocol's


def test_pooled_marginal_leaves_the_country_out(survey):
    vec, n = pooled_marginal(survey, "DEU", "Q173", survey.codebook["Q173"].codes)
    assert n == int(survey.data[survey.data.country != "DEU"].Q173.notna().sum())
    assert vec.sum() == pytest.approx(1.0)


def test_cli_held_out_protocol(tmp_path, capsys):
    from valuesim.cli import main
    from valuesim.survey.synthetic import write_synthetic

    path = write_synthetic(tmp_path / "synth.csv", respondents=400, countries=["DEU", "NGA", "JPN"], seed=1)
    code = main(["population", str(path), "--countries", "DEU,NGA,JPN", "--personas", "4", "--questions",
                 "Q1,Q106", "--method", "value-persona,no-persona", "--protocol", "held-out-country",
                 "--model", "scripted", "--out", str(tmp_path / "run"), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "value-twin" in out and "other-countries" in out and "country-marginal" not in out
    with pytest.raises(SystemExit) as exc:
        main(["population", str(path), "--countries", "DEU", "--protocol", "nope", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2 and not (tmp_path / "x").exists()


def test_cumulative_logit_counts_equal_repeated_rows():
    """The twin fits on distinct rows weighted by their counts: the same model as on every row."""
    from valuesim.methods.statistical.ordinal import CumulativeLogit

    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(300, 3)).astype(float)
    y = np.clip((X @ [1.0, -1.0, 0.5] + rng.normal(0, 1, 300)).round().astype(int) + 1, 0, 3)
    full = CumulativeLogit(C=2.0).fit(X, y)
    key = (X @ [1, 2, 4]).astype(int) * 10 + y
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    packed = CumulativeLogit(C=2.0).fit(X[first], y[first], sample_weight=counts)
    assert len(first) < 40
    np.testing.assert_allclose(packed.predict_proba(X), full.predict_proba(X), atol=1e-4)
