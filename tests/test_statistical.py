"""Statistical simulators on tiny hand-computable data: marginals, kNN vote, regression, leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuesim.errors import ConfigError
from valuesim.methods.base import PersonContext
from valuesim.methods.registry import get_method, method_info
from valuesim.methods.statistical import (
    ChanceSimulator,
    CountryMarginalSimulator,
    GlobalMarginalSimulator,
    KNNSimulator,
    RegressionSimulator,
)
from valuesim.methods.statistical.ordinal import CumulativeLogit
from valuesim.survey.model import Profile
from valuesim.survey.survey import Survey
from valuesim.survey.wvs7.bank import load_codebook

CB = load_codebook()
STAT = ["chance", "global-marginal", "country-marginal", "knn", "regression"]


def survey_from(rows: list[dict], qids: list[str]) -> Survey:
    """rows: {"id", "country", "weight", qid: code or None}."""
    data = pd.DataFrame(
        {
            "country": [r["country"] for r in rows],
            "weight": [float(r.get("weight", 1.0)) for r in rows],
            **{q: pd.array([r.get(q) for r in rows], dtype="Int64") for q in qids},
        },
        index=pd.Index([str(r["id"]) for r in rows], name="respondent_id"),
    )
    return Survey(CB.subset(qids), data, source="test")


def person(survey_or_answers, country="AAA", rid="p") -> PersonContext:
    answers = survey_or_answers
    items = tuple((CB[q], int(c)) for q, c in answers.items() if c is not None)
    return PersonContext(rid, country, Profile(items))


def structured(n: int, seed: int = 0, missing: float = 0.0) -> Survey:
    """Q1..Q5 and target Q6 (4 codes each) all driven by one latent trait; Q152 nominal."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    country = np.where(rng.random(n) < 0.5, "AAA", "BBB")
    z = z + np.where(country == "AAA", 0.3, -0.3)
    rows = []
    for i in range(n):
        r = {"id": i, "country": country[i], "weight": 1.0}
        for q in ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"]:
            eta = z[i] + rng.normal(scale=0.35)
            code = int(np.searchsorted([-0.8, 0.0, 0.8], eta)) + 1
            r[q] = code if rng.random() >= missing else -1
        r["Q152"] = int(1 + (z[i] > 0) * 2 + (rng.random() < 0.2))
        rows.append(r)
    return survey_from(rows, ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q152"])


def split_contexts(survey: Survey, test_ids: list[str], profile_ids: list[str]) -> list[PersonContext]:
    """What an evaluation runner hands a method: each test person's answers on profile items only."""
    out = []
    valid = survey.valid(profile_ids)
    for rid in test_ids:
        items = tuple((CB[q], int(v)) for q, v in valid.loc[rid].items() if not np.isnan(v))
        out.append(PersonContext(rid, str(survey.data.at[rid, "country"]), Profile(items)))
    return out


# -- marginals ---------------------------------------------------------------------------

def hand_survey() -> Survey:
    return survey_from(
        [
            {"id": 1, "country": "AAA", "weight": 1.0, "Q1": 1},
            {"id": 2, "country": "AAA", "weight": 1.0, "Q1": 1},
            {"id": 3, "country": "AAA", "weight": 2.0, "Q1": 2},
            {"id": 4, "country": "BBB", "weight": 1.0, "Q1": 4},
            {"id": 5, "country": "BBB", "weight": 1.0, "Q1": -1},  # don't know: not an answer
        ],
        ["Q1"],
    )


def test_chance_is_uniform_over_valid_codes():
    q = CB["Q1"]
    pred = ChanceSimulator().fit(hand_survey()).predict(person({}), q)
    assert pred.distribution == {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25}


def test_global_marginal_weighted():
    pred = GlobalMarginalSimulator(smoothing=0).fit(hand_survey()).predict(person({}), CB["Q1"])
    assert pred.distribution == pytest.approx({1: 0.4, 2: 0.4, 3: 0.0, 4: 0.2})


def test_country_marginal_weighted_and_shrunk_toward_global():
    sim = CountryMarginalSimulator(shrinkage=2.0, smoothing=0).fit(hand_survey())
    # AAA: weighted counts (2, 2, 0, 0), total 4; global (.4, .4, 0, .2); (counts + 2*global) / 6
    a = sim.predict(person({}, "AAA"), CB["Q1"]).distribution
    assert a == pytest.approx({1: 2.8 / 6, 2: 2.8 / 6, 3: 0.0, 4: 0.4 / 6})
    # BBB: counts (0, 0, 0, 1), total 1 -> (counts + 2*global) / 3
    b = sim.predict(person({}, "BBB"), CB["Q1"]).distribution
    assert b == pytest.approx({1: 0.8 / 3, 2: 0.8 / 3, 3: 0.0, 4: 1.4 / 3})
    # unknown country: the global marginal; no shrinkage: the country's own shares
    assert sim.predict(person({}, "ZZZ"), CB["Q1"]).distribution == pytest.approx({1: .4, 2: .4, 3: 0, 4: .2})
    raw = CountryMarginalSimulator(shrinkage=0.0, smoothing=0).fit(hand_survey())
    assert raw.predict(person({}, "AAA"), CB["Q1"]).distribution == pytest.approx({1: .5, 2: .5, 3: 0, 4: 0})


def test_smoothing_leaves_no_zero_probability():
    pred = CountryMarginalSimulator().fit(hand_survey()).predict(person({}, "AAA"), CB["Q1"])
    assert min(pred.distribution.values()) > 0


def test_unfitted_method_says_so():
    with pytest.raises(ConfigError, match="fit"):
        CountryMarginalSimulator().predict(person({}), CB["Q1"])


# -- kNN -----------------------------------------------------------------------------------

def knn_survey() -> Survey:
    return survey_from(
        [
            {"id": "r1", "country": "AAA", "Q1": 1, "Q2": 1, "Q152": 2, "Q3": 2},
            {"id": "r2", "country": "AAA", "Q1": 2, "Q2": 1, "Q152": 2, "Q3": 3},
            {"id": "r3", "country": "AAA", "Q1": 4, "Q2": 4, "Q152": 3, "Q3": 1},
            {"id": "r4", "country": "AAA", "Q1": 1, "Q2": 1, "Q152": 2, "Q3": None},  # cannot vote on Q3
        ],
        ["Q1", "Q2", "Q152", "Q3"],
    )


def test_knn_similarity_by_hand():
    sim = KNNSimulator(k=2, scope="all").fit(knn_survey())
    me = person({"Q1": 1, "Q2": 1, "Q152": 2})
    s = sim.similarities([me], ("Q1", "Q2", "Q152"), np.arange(4))[0]
    # r2: Q1 differs by 1/3 of the scale -> squared 1/9; mean over 3 shared items
    # r3: Q1, Q2 differ fully (1 each), Q152 mismatches (1) -> similarity 0
    assert s == pytest.approx([1.0, 1 - (1 / 9) / 3, 0.0, 1.0], abs=1e-6)


def test_knn_vote_by_hand():
    sim = KNNSimulator(k=2, scope="all", prior_strength=0.0).fit(knn_survey())
    me = person({"Q1": 1, "Q2": 1, "Q152": 2})
    pred = sim.predict(me, CB["Q3"])
    w1, w2 = 1.0, 1 - (1 / 9) / 3  # r1 (answered 2) and r2 (answered 3); r4 did not answer Q3
    assert pred.distribution[2] == pytest.approx(w1 / (w1 + w2), abs=1e-5)
    assert pred.distribution[3] == pytest.approx(w2 / (w1 + w2), abs=1e-5)
    assert pred.answer == 2
    assert pred.trace["neighbours"] == 2


def test_knn_country_scope_uses_own_country():
    rows = [{"id": i, "country": "AAA", "Q1": 1, "Q3": 1} for i in range(5)]
    rows += [{"id": 10 + i, "country": "BBB", "Q1": 1, "Q3": 4} for i in range(5)]
    s = survey_from(rows, ["Q1", "Q3"])
    me = person({"Q1": 1}, "BBB")
    assert KNNSimulator(k=3, scope="country", prior_strength=0).fit(s).predict(me, CB["Q3"]).answer == 4


# -- regression ------------------------------------------------------------------------------

@pytest.mark.parametrize("family", ["multinomial", "ordinal"])
def test_regression_beats_marginal_on_structured_data(family):
    s = structured(900, seed=1, missing=0.05)
    ids = list(s.data.index)
    test_ids, train_ids = ids[:150], ids[150:]
    train = s.subset(train_ids)
    people = split_contexts(s, test_ids, ["Q1", "Q2", "Q3", "Q4", "Q5", "Q152"])
    truth = s.valid(["Q6"]).loc[test_ids, "Q6"].to_numpy()
    ok = ~np.isnan(truth)
    pairs = [(p, CB["Q6"]) for p in people]

    def accuracy(sim):
        preds = sim.fit(train).predict_batch(pairs)
        return np.mean([p.answer == t for p, t, k in zip(preds, truth, ok) if k])

    reg = accuracy(RegressionSimulator(family=family))
    marg = accuracy(CountryMarginalSimulator())
    knn = accuracy(KNNSimulator(k=25))
    assert reg > marg + 0.2, (reg, marg)
    assert knn > marg + 0.15, (knn, marg)


def test_regression_numeric_target_is_distribution_over_valid_range():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        age = int(rng.integers(20, 80))
        rows.append({"id": i, "country": "AAA", "Q262": age, "Q261": 2018 - age, "Q1": int(rng.integers(1, 5))})
    s = survey_from(rows, ["Q261", "Q262", "Q1"])
    sim = RegressionSimulator().fit(s)
    pred = sim.predict(person({"Q261": 1978, "Q1": 2}), CB["Q262"])
    assert set(pred.distribution) == set(CB["Q262"].codes)
    assert abs(pred.answer - 40) <= 3  # age follows from year of birth


def test_cumulative_logit_recovers_a_known_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 2))
    y = np.searchsorted([-1.0, 0.5], X @ np.array([1.5, -1.0]) + rng.logistic(size=2000))
    model = CumulativeLogit(C=100).fit(X, y)
    assert model.coef_ == pytest.approx([1.5, -1.0], abs=0.2)
    assert model.theta_ == pytest.approx([-1.0, 0.5], abs=0.2)
    assert model.predict_proba(X[:5]).sum(axis=1) == pytest.approx(np.ones(5))


# -- every method ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", STAT)
def test_distributions_cover_exactly_the_question_codes(name):
    s = structured(200, seed=2, missing=0.1)
    rows = [{"id": f"x{i}", "country": "AAA", "Q262": 20 + i % 50, "Q1": 1 + i % 4} for i in range(40)]
    extra = survey_from(rows, ["Q262", "Q1"]).data
    data = pd.concat([s.data, extra])
    for q in CB.ids:
        if q not in data.columns and q in ("Q262",):
            data[q] = pd.array([None] * len(data), dtype="Int64")
    full = Survey(CB.subset(["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q152", "Q262"]), data)
    sim = get_method(name).fit(full)
    me = person({"Q1": 2, "Q2": 3, "Q152": 4}, "AAA")
    for qid in ["Q6", "Q152", "Q262"]:
        q = CB[qid]
        pred = sim.predict(me, q)
        assert list(pred.distribution) == list(q.codes)
        assert sum(pred.distribution.values()) == pytest.approx(1.0)
        assert pred.answer in q.codes and not pred.failed


@pytest.mark.parametrize("name", STAT)
def test_registry_names(name):
    assert not method_info(name).needs_llm
    assert get_method(name).name == name


@pytest.mark.parametrize("name", STAT)
def test_planted_held_out_answer_changes_no_prediction(name):
    """Leakage: rewrite every held-out (target) answer of the test people -> same predictions."""
    s = structured(400, seed=3, missing=0.05)
    ids = list(s.data.index)
    test_ids, train_ids = ids[:40], ids[40:]
    profile_ids, targets = ["Q1", "Q2", "Q3", "Q152"], ["Q4", "Q5", "Q6"]

    def run(survey):
        sim = get_method(name).fit(survey.subset(train_ids))
        people = split_contexts(survey, test_ids, profile_ids)
        preds = sim.predict_batch([(p, CB[t]) for p in people for t in targets])
        return [(p.distribution, p.answer) for p in preds]

    planted = s.data.copy()
    for t in targets:  # the opposite answer everywhere, plus a missing code
        planted.loc[test_ids, t] = planted.loc[test_ids, t].map(lambda c: 5 - c if c and c > 0 else 4)
    planted.loc[test_ids[0], "Q6"] = -2
    assert not planted.equals(s.data)
    assert run(s) == run(Survey(s.codebook, planted))


def test_target_item_in_profile_is_never_used():
    """If a caller leaves the target in the profile by mistake, it is dropped, not used."""
    s = structured(300, seed=4)
    sim = RegressionSimulator().fit(s)
    base = {"Q1": 2, "Q2": 2, "Q3": 2}
    a = sim.predict(person(base), CB["Q6"])
    b = sim.predict(person({**base, "Q6": 4}), CB["Q6"])
    assert a.distribution == pytest.approx(b.distribution)



@pytest.mark.parametrize("name", ["chance", "global-marginal", "country-marginal", "regression"])
def test_plain_statistical_predictions_carry_no_trace_row(name):
    """A trace is stored as a row of its own: these methods have nothing to explain beyond their
    name (a column already), so they carry none; a whole-file study would write 26 M such rows."""
    from valuesim.runs.store import Row

    train = structured(200, seed=1)
    sim = get_method(name).fit(train)
    q = train.codebook[train.question_ids[0]]
    pred = sim.predict(person({}), q)
    assert pred.trace == {} and not pred.failed
    assert Row(name, 0, "p", q.id, -1, 0, "AAA", pred.answer, 1, pred.distribution, trace=pred.trace).trace_id is None
