"""A population run reads persona answers with the same reader as an individual run: an
unparsable reply is asked again with the next sample index (a new request, never a cache hit),
and a failure left by a bad server is predicted again on the next run."""

from __future__ import annotations

import hashlib

import pytest

from fake_server import ANSWER_LP, backend, chat_body, chat_requests
from valuesim.llm import get_model
from valuesim.methods.base import PersonContext
from valuesim.methods.registry import get_method
from valuesim.population import run_population
from valuesim.survey.model import Profile
from valuesim.survey.wvs7.bank import load_codebook

ARGS = dict(countries="DEU,NGA", personas=3, questions="Q1,Q2", methods="value-persona,no-persona",
            calibrate=False, seed=1, progress=False, workers=1)


@pytest.fixture(scope="module")
def survey_file(synthetic_file):
    return synthetic_file(300, ["DEU", "NGA"], seed=3)


def faulty(share: int, always: bool = False):
    """A server whose first reply to ``share`` in 5 prompts has no option (decided by the
    prompt, so a run is repeatable); with ``always`` the re-ask gets no option either."""

    def reply(body):
        content = body["messages"][-1]["content"]
        bad = hashlib.sha256(content.encode()).digest()[0] % 5 < share
        if bad and (always or body["seed"] == 0):
            return 200, chat_body("I am not sure how to put this.")
        return 200, chat_body("Answer: 2", ANSWER_LP if body.get("logprobs") else None)

    return reply


def unparsable_prompts(server) -> set[str]:
    return {r["messages"][-1]["content"] for r in chat_requests(server) if r["seed"] == 0
            and hashlib.sha256(r["messages"][-1]["content"].encode()).digest()[0] % 5 < 2}


def test_population_reasks_unparsable_replies_like_an_individual_run(serve, survey_file, tmp_path):
    server = serve(("call", faulty(2)))
    model = get_model(backend(server), cache=tmp_path / "cache.sqlite")
    result = run_population(survey_file, model=model, out=tmp_path / "run", **ARGS)
    n = 2 * 3 * 2 + 2 * 2  # value-persona: countries x personas x questions; no-persona: countries x questions
    reasked = unparsable_prompts(server)
    assert 0 < len(reasked) < n
    # one request per prediction, plus one re-ask (the next sample index: a new seed) per unparsable reply
    assert len(chat_requests(server)) == n + len(reasked) == model.accounting.requests
    seeds = {}
    for r in chat_requests(server):
        seeds.setdefault(r["messages"][-1]["content"], []).append(r["seed"])
    assert all(seeds[p] == [0, 1] for p in reasked)
    persona = result.metrics[~result.metrics.method.isin(["country-marginal", "uniform"])]
    assert persona.n_failed.sum() == 0

    # an individual method on the same server re-asks the same way: two requests for an unparsable reply
    single = serve(("call", faulty(5)))  # every first reply unparsable
    prediction = get_method("no-profile", get_model(backend(single), cache=False)).predict(
        PersonContext("r", "DEU", Profile(())), load_codebook()["Q1"])
    assert not prediction.failed and prediction.trace["modules"]["no-profile"]["requests"] == 2
    assert [r["seed"] for r in chat_requests(single)] == [0, 1]


def test_a_rerun_on_a_healthy_server_leaves_no_failed_prediction(serve, survey_file, tmp_path):
    cache = tmp_path / "cache.sqlite"
    bad = serve(("call", faulty(2, always=True)))
    first = run_population(survey_file, model=get_model(backend(bad), cache=cache), out=tmp_path / "run", **ARGS)
    persona = first.metrics[first.metrics.method.isin(["value-persona", "no-persona"])]
    failed = int(persona.n_failed.sum())
    assert failed > 0
    requests_bad = len(chat_requests(bad))
    assert requests_bad == 16 + failed  # each failed prediction was asked twice (both unparsable)

    good = serve(("call", faulty(0)))
    model = get_model(backend(good), cache=cache)
    again = run_population(survey_file, model=model, out=tmp_path / "run", **ARGS)
    persona = again.metrics[again.metrics.method.isin(["value-persona", "no-persona"])]
    assert int(persona.n_failed.sum()) == 0 and again.new_predictions == failed
    # only the failed predictions were asked again: the unparsable replies were never cached
    assert len(chat_requests(good)) == failed == model.accounting.requests
    assert model.accounting.cache_hits == 0


def test_population_option_reaches_the_persona_method_and_a_changed_option_is_refused(serve, survey_file, tmp_path):
    from valuesim.cli import main
    from valuesim.errors import ConfigError

    server = serve(("call", faulty(0)))
    model = get_model(backend(server), cache=False)
    args = {**ARGS, "methods": "value-persona"}
    run_population(survey_file, model=model, out=tmp_path / "run", method_options={"value-persona": {"max_tokens": 7}},
                   **args)
    assert {r["max_tokens"] for r in chat_requests(server)} == {7}
    with pytest.raises(ConfigError, match="options of value-persona"):
        run_population(survey_file, model=model, out=tmp_path / "run", **args)
    code = main(["population", str(survey_file), "--countries", "DEU", "--personas", "2", "--questions", "Q1",
                 "--method", "value-persona", "--option", "value-persona.max_tokenz=3", "--model", "scripted",
                 "--out", str(tmp_path / "cli")])
    assert code == 2 and not (tmp_path / "cli").exists()
