"""The cost estimate: made without a model call, and close to what a real run then spends."""

from __future__ import annotations

import pytest
from eval_helpers import small_survey
from test_story_checks import is_story

from valuesim.evaluation import run_study
from valuesim.evaluation.dryrun import story_placeholder
from valuesim.evaluation.estimate import estimate_study
from valuesim.runs.rundir import RunDir
from valuesim.evaluation.usage import actual_by_method, method_usage_rows, summary_lines
from valuesim.llm import ScriptedModel, get_model
from dataclasses import replace

from valuesim.llm.base import ModelInfo, ModelOutput, Usage


class WordModel(ScriptedModel):
    """A scripted model with a tokenizer (one token per word, as its usage counts) and long
    replies that the engine-like word cap cuts at max_tokens."""

    def __init__(self, **kw):
        super().__init__(default="Answer: 1\nAnalysis:" + " because" * 600, supports_logprobs=False, **kw)

    def info(self) -> ModelInfo:
        return replace(super().info(), tokenizer="one token per word")  # its count_tokens is its tokenizer

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_prompt_tokens(self, messages) -> int:
        return sum(self.count_tokens(m["content"]) for m in messages)

    def generate(self, messages, config):
        if not is_story(messages):
            return super().generate(messages, config)
        # a story of STORY_SHARE of its room that passes the story checks, as the estimate assumes
        prompt = "\n".join(m["content"] for m in messages)
        text = story_placeholder(int(STORY_SHARE * config.max_tokens), seed=len(prompt))
        self._record("complete", list(messages), {"max_tokens": config.max_tokens})
        return ModelOutput(text, Usage(len(prompt.split()), 0, len(text.split())), 0.0, False, "stop")


class NoCall(WordModel):
    def generate(self, *a, **kw):  # pragma: no cover - failing is the point
        raise AssertionError("the estimate called the model")


STORY_SHARE = 0.9


METHODS = ["valuesim", "full-info", "no-profile", "knn"]
# the scripted audit recovers nothing, so the fidelity gate is off (min_fidelity 0: measured, not a gate)
OPTIONS = {"valuesim": {"story_max_tokens": 400, "min_fidelity": 0.0}}


def test_estimate_calls_no_model_and_writes_nothing(tmp_path):
    survey = small_survey(n=40)
    est = estimate_study(survey, methods=METHODS, users=4, folds=5, model=NoCall(), method_options=OPTIONS,
                         run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    by = {m.method: m for m in est.methods}
    n = by["knn"].predictions
    assert n > 0 and all(m.predictions == n for m in est.methods)
    # the protocol: 4 requests per ValueSim answer + per person and fold one backstory and its fidelity audit
    # (8 profile items asked, at least one per theme: 9 here, one request each); 1 per baseline answer
    assert by["valuesim"].requests == pytest.approx(4 * n + by["valuesim"].units * (1 + 9))
    # the worst case of story retries: the story budget, 3 requests per part and audited item
    assert [x for x in by["valuesim"].notes if "at most 30 requests per person" in x and "story_budget 3" in x]
    assert by["full-info"].requests == pytest.approx(n) and by["no-profile"].requests == pytest.approx(n)
    assert by["knn"].requests == 0 and by["knn"].prompt_tokens == 0
    assert by["full-info"].prompt_tokens > by["no-profile"].prompt_tokens > 0
    assert "set VALUESIM_PRICES" in est.text() and "give --rate" in est.text()


def test_estimate_for_the_embedded_engine_writes_small_prompt_stories_that_pass(tmp_path):
    """The embedded engine gets the small-model story prompt, whose check wants the facts kept:
    the dry run's placeholder story must pass it, or the estimate counts retries and failures."""
    est = estimate_study(small_survey(n=30), methods=["valuesim"], users=2, folds=5, model=NoCall(spec="local", size="small"),
                         method_options=OPTIONS)
    (vs,) = est.methods
    assert vs.predictions > 0 and not [n for n in vs.notes if "failed in the dry run" in n], vs.notes


def test_prices_and_rate_give_cost_and_time(monkeypatch):
    monkeypatch.setenv("VALUESIM_PRICES", "1,2")
    est = estimate_study(small_survey(n=30), methods=["no-profile"], users=2, folds=5, model=NoCall(), rate=10)
    m = est.methods[0]
    assert est.cost(m) == pytest.approx((m.prompt_tokens * 1 + m.completion_tokens * 2) / 1e6, rel=1e-3)
    assert est.hours(m) == pytest.approx(m.requests / 10 / 3600)
    assert "$VALUESIM_PRICES" in est.text()


def test_estimate_matches_a_scripted_run(tmp_path):
    """Requests exactly, tokens within 20%: the estimate renders a sample of the real prompts."""
    survey = small_survey(n=40)
    kwargs = {"methods": METHODS, "users": 4, "folds": 5, "method_options": OPTIONS}
    est = estimate_study(survey, model=WordModel(), answer_share=1.0, story_share=STORY_SHARE, **kwargs)
    out = tmp_path / "run"
    run_study(survey, model=get_model(WordModel(), cache=None), out=out, progress=False, **kwargs)
    est.save(RunDir(out))
    actual = actual_by_method(out)
    for m in est.methods:
        if m.method == "knn":
            assert m.method not in actual or actual[m.method]["requests"] == 0
            continue
        a = actual[m.method]
        assert a["predictions"] == a["counted"] == m.predictions
        assert a["requests"] == pytest.approx(m.requests), m.method
        assert a["prompt_tokens"] == pytest.approx(m.prompt_tokens, rel=0.2), m.method
        assert a["completion_tokens"] == pytest.approx(m.completion_tokens, rel=0.2), m.method
    header, rows, _caption = method_usage_rows(out)
    assert [r[0] for r in rows] == ["full-info", "no-profile", "valuesim"]
    ratio = header.index("actual/est.")
    assert all(0.8 <= float(r[ratio]) <= 1.2 for r in rows)
    assert "valuesim:" in summary_lines(out) and "prefix cache" in summary_lines(out)


def test_report_shows_estimate_next_to_actual(tmp_path):
    from valuesim.evaluation import write_report

    survey = small_survey(n=30)
    out = tmp_path / "run"
    kwargs = {"methods": ["no-profile", "knn"], "users": 3, "folds": 5}
    run_study(survey, model=get_model(WordModel(), cache=None), out=out, progress=False, **kwargs)
    estimate_study(survey, model=WordModel(), **kwargs).save(RunDir(out))
    md = write_report(out)["markdown"].read_text(encoding="utf-8")
    assert "LLM usage per method: estimate and actual" in md and "Cached share" in md


def test_cli_estimate_prints_table_and_leaves_no_run_dir(tmp_path, capsys):
    from valuesim.cli import main
    from valuesim.survey.synthetic import write_synthetic

    data = write_synthetic(tmp_path / "syn.csv", respondents=200, countries=2)
    out = tmp_path / "run"
    assert main(["eval", str(data), "--methods", "valuesim,knn", "--users", "3", "--model", "scripted",
                 "--out", str(out), "--estimate", "--prices", "0.5,1.5", "--rate", "4"]) == 0
    text = capsys.readouterr().out
    assert "valuesim" in text and "requests" in text and "$" in text and "at 4 requests/s" in text
    assert not out.exists()
    code = main(["eval", str(data), "--methods", "knn", "--out", str(out), "--estimate", "--prices", "cheap"])
    assert code != 0 and "prices must be" in capsys.readouterr().err
    assert not out.exists()


def test_population_estimate_counts_every_task_and_matches_the_run(tmp_path):
    from test_population_run import random_survey

    from valuesim.population import run_population
    from valuesim.population.estimate import estimate_population

    survey = random_survey()
    args = {"countries": "DEU,NGA", "personas": 5, "questions": "Q1,Q49", "methods": "value-persona,no-persona", "seed": 0}
    est = estimate_population(survey, model=NoCall(), **args)
    by = {m.method: m for m in est.methods}
    assert by["value-persona"].predictions == 2 * 5 * 2 and by["no-persona"].predictions == 2 * 2
    assert by["value-persona"].requests == pytest.approx(20)
    model = get_model(WordModel(), cache=None)
    run_population(survey, model=model, out=tmp_path / "pop", progress=False, **args)
    assert model.accounting.calls == round(est.total().requests)
    from valuesim.evaluation.estimate import measured_rate

    assert measured_rate(tmp_path / "pop") > 0  # a later --estimate on this run uses its measured speed
