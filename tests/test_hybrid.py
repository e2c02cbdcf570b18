"""Hybrid LLM + statistics: pooling, weight fitting on training respondents only, no leakage."""

from __future__ import annotations

import numpy as np
import pytest

from valuesim.errors import ConfigError
from valuesim.llm import ScriptedModel
from valuesim.methods.base import PersonContext, Prediction
from valuesim.methods.hybrid import HybridSimulator, pool
from valuesim.methods.registry import get_method, method_info
from valuesim.methods.statistical import CountryMarginalSimulator
from valuesim.survey.model import Question
from valuesim.survey.survey import Survey

from test_statistical import CB, split_contexts, structured

PROFILE, TARGETS = ["Q1", "Q2", "Q3", "Q152"], ["Q4", "Q5", "Q6"]


class FakeLLM:
    """A stand-in LLM simulator that records everyone it is asked about.

    ``informative``: puts most mass on the rounded mean of the person's Q1-Q6 profile answers
    (the structured data ties those items to one trait). Otherwise it always says code 1.
    """

    name = "fake-llm"

    def __init__(self, informative: bool):
        self.informative = informative
        self.seen: list[tuple[str, tuple[str, ...], str]] = []

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        self.seen.append((person.respondent_id, tuple(person.profile.question_ids), question.id))
        known = [c for q, c in person.profile.answers().items() if q in ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6")]
        guess = int(round(float(np.mean(known)))) if self.informative and known else 1
        dist = {c: (0.85 if c == guess else 0.05) for c in question.codes}
        return Prediction.from_distribution(dist)


def split(survey: Survey, n_test: int = 40):
    ids = list(survey.data.index)
    return ids[:n_test], ids[n_test:]


def test_pool_ends_and_normalisation():
    a = np.array([0.7, 0.2, 0.1])
    b = np.array([0.1, 0.3, 0.6])
    assert pool(a, b, 0.0, llm_floor=0.0) == pytest.approx(b)
    assert pool(a, b, 1.0, llm_floor=0.0) == pytest.approx(a)
    mid = pool(a, b, 0.5, llm_floor=0.0)
    expected = np.sqrt(a * b) / np.sqrt(a * b).sum()
    assert mid == pytest.approx(expected) and mid.sum() == pytest.approx(1.0)
    # a one-hot LLM answer cannot veto the other codes once floored
    assert pool(np.array([1.0, 0, 0]), b, 0.5).min() > 0


@pytest.mark.parametrize("informative", [True, False])
def test_weight_is_fitted_on_validation_respondents(informative):
    s = structured(600, seed=5)
    test_ids, train_ids = split(s)
    llm = FakeLLM(informative)
    hyb = HybridSimulator(llm, CountryMarginalSimulator(), validation_respondents=60)
    hyb.fit(s.subset(train_ids))
    people = split_contexts(s, test_ids, PROFILE)
    preds = hyb.predict_batch([(p, CB[t]) for p in people for t in TARGETS])
    (fit,) = hyb.fits
    w = fit["weights"]["*"]
    if informative:
        assert w >= 0.5, fit
    else:
        assert w <= 0.2, fit
    assert all(p.trace["weight"] == w for p in preds)
    assert all(sum(p.distribution.values()) == pytest.approx(1.0) for p in preds)
    assert set(fit["validation_ids"]) <= set(train_ids)
    # the informative pool beats the marginal alone
    if informative:
        truth = s.valid(TARGETS).loc[test_ids]
        pairs_truth = [truth.at[p.respondent_id, t] for p in people for t in TARGETS]
        marg = CountryMarginalSimulator().fit(s.subset(train_ids))
        mpreds = marg.predict_batch([(p, CB[t]) for p in people for t in TARGETS])
        acc = np.mean([p.answer == t for p, t in zip(preds, pairs_truth)])
        macc = np.mean([p.answer == t for p, t in zip(mpreds, pairs_truth)])
        assert acc > macc


def test_per_category_weights_fall_back_to_overall():
    s = structured(400, seed=6)
    test_ids, train_ids = split(s)
    hyb = HybridSimulator(FakeLLM(True), CountryMarginalSimulator(), per_category=True,
                          validation_respondents=20, min_category_answers=10_000)
    hyb.fit(s.subset(train_ids))
    people = split_contexts(s, test_ids, PROFILE)
    preds = hyb.predict_batch([(p, CB["Q6"]) for p in people])
    assert list(hyb.fits[0]["weights"]) == ["*"]  # too few answers for any category weight
    assert preds[0].trace["weight"] == hyb.fits[0]["weights"]["*"]


def test_hybrid_never_sees_held_out_answers():
    """Planting other answers in the test people's held-out cells changes neither the fitted
    weight nor any prediction, and the LLM is only ever asked about profile items it is given."""
    s = structured(500, seed=7, missing=0.05)
    test_ids, train_ids = split(s)

    def run(survey):
        llm = FakeLLM(True)
        hyb = HybridSimulator(llm, get_method("regression"), validation_respondents=10)
        hyb.fit(survey.subset(train_ids))
        people = split_contexts(survey, test_ids, PROFILE)
        preds = hyb.predict_batch([(p, CB[t]) for p in people for t in TARGETS])
        return hyb, llm, [(p.distribution, p.answer) for p in preds]

    planted = s.data.copy()
    for t in TARGETS:
        planted.loc[test_ids, t] = planted.loc[test_ids, t].map(lambda c: 5 - c if c and c > 0 else 1)
    hyb_a, llm_a, preds_a = run(s)
    hyb_b, llm_b, preds_b = run(Survey(s.codebook, planted))
    assert preds_a == preds_b
    assert hyb_a.fits[0]["weights"] == hyb_b.fits[0]["weights"]
    for rid, profile, target in llm_a.seen:
        assert target not in profile
        if rid in test_ids:
            assert set(profile) <= set(PROFILE)
        else:
            assert rid in train_ids  # validation respondents are training respondents
    assert not set(hyb_a.fits[0]["validation_ids"]) & set(test_ids)


def test_fixed_weight_makes_no_validation_calls():
    s = structured(200, seed=8)
    test_ids, train_ids = split(s, 5)
    llm = FakeLLM(True)
    hyb = HybridSimulator(llm, CountryMarginalSimulator(), weight=0.3).fit(s.subset(train_ids))
    people = split_contexts(s, test_ids, PROFILE)
    hyb.predict_batch([(p, CB["Q6"]) for p in people])
    assert {rid for rid, _, _ in llm.seen} == set(test_ids)
    with pytest.raises(ConfigError):
        HybridSimulator(llm, CountryMarginalSimulator(), weight=1.5)


def test_llm_failure_falls_back_to_statistics():
    class Broken(FakeLLM):
        def predict(self, person, question):
            return Prediction.failure(question, "model unreachable")

    s = structured(200, seed=9)
    test_ids, train_ids = split(s, 5)
    hyb = HybridSimulator(Broken(True), CountryMarginalSimulator(), weight=0.5).fit(s.subset(train_ids))
    pred = hyb.predict(split_contexts(s, test_ids, PROFILE)[0], CB["Q6"])
    assert not pred.failed and pred.trace["fallback"] == "stat"


def test_registry_builds_hybrid_by_name_with_scripted_model():
    assert method_info("hybrid").needs_llm
    model = ScriptedModel(options={"1": 0.1, "2": 0.2, "3": 0.3, "4": 0.4})
    hyb = get_method("hybrid", model=model, llm="no-profile", stat="country-marginal", weight=0.5)
    assert isinstance(hyb, HybridSimulator) and hyb.stat.name == "country-marginal"
    s = structured(200, seed=10)
    test_ids, train_ids = split(s, 3)
    hyb.fit(s.subset(train_ids))
    pred = hyb.predict(split_contexts(s, test_ids, PROFILE)[0], CB["Q6"])
    assert not pred.failed and sum(pred.distribution.values()) == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        get_method("hybrid", model=model, llm="knn")
    with pytest.raises(ConfigError):
        get_method("hybrid", model=model, llm="no-profile", stat="valuesim")
