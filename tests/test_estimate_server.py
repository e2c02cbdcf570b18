"""`--estimate` is the run's own plan over a dry-run model: against a fake OpenAI server, the
requests an estimate counts are exactly the requests the run then sends (both protocols,
ValueSim included), and the estimate itself sends none."""

from __future__ import annotations

import pytest

from fake_server import backend, chat_body, chat_requests, method_reply
from valuesim.evaluation import run_study
from valuesim.evaluation.dryrun import story_placeholder
from valuesim.evaluation.estimate import estimate_study
from valuesim.llm import get_model
from valuesim.population import run_population
from valuesim.population.estimate import estimate_population


def reply(body: dict) -> tuple:
    """A backstory that passes the story checks (as the estimate assumes of a healthy server)
    for story prompts, "Answer: 2" for the rest; no tokenizer endpoint (the estimate then
    counts with its own tokenizer)."""
    if "messages" not in body:
        return 404, {"error": {"message": "not found"}}
    content = body["messages"][-1]["content"]
    if "writer of background stories" in content:
        return 200, chat_body(story_placeholder(int(0.9 * body["max_tokens"]), seed=len(content)))
    return method_reply(body)


@pytest.fixture(scope="module")
def survey_file(synthetic_file):
    return synthetic_file(240, ["DEU", "NGA"], seed=5)


def test_eval_estimate_counts_the_requests_the_run_sends(serve, survey_file, tmp_path):
    server = serve(("call", reply))
    settings = dict(methods=["valuesim", "full-info", "no-profile", "knn"], users=3, folds=5, items="Q1-Q30",
                    method_options={"valuesim": {"story_audit": 0}}, seed=2)
    est = estimate_study(survey_file, model=backend(server), **settings)
    assert chat_requests(server) == []  # the estimate sent nothing
    by = {m.method: m for m in est.methods}
    assert by["valuesim"].requests > by["full-info"].requests > 0 and by["knn"].requests == 0
    run_study(survey_file, model=get_model(backend(server), cache=False), out=tmp_path / "run", progress=False,
              concurrency=1, **settings)
    assert len(chat_requests(server)) == round(est.total().requests)


@pytest.mark.parametrize("protocol", ["split-half", "held-out-country"])
def test_population_estimate_counts_the_requests_the_run_sends(serve, survey_file, tmp_path, protocol):
    server = serve(("call", reply))
    settings = dict(countries="DEU,NGA", personas=3, questions="Q1,Q2,Q49", calibrate=True,
                    methods="value-persona,demographic,no-persona", seed=1, protocol=protocol)
    est = estimate_population(survey_file, model=backend(server), **settings)
    assert chat_requests(server) == []
    run_population(survey_file, model=get_model(backend(server), cache=False), out=tmp_path / "pop",
                   progress=False, workers=1, **settings)
    assert len(chat_requests(server)) == round(est.total().requests)
