"""Reasoning that contradicts its answer is flagged in the trace and counted in the report; a
reply with no option on a pre-fill engine is read after a pre-filled "Answer: " and counted too."""

from __future__ import annotations

import re

from valuesim.evaluation import run_study, write_report
from valuesim.llm import get_model
from valuesim.llm.scripted import ScriptedModel
from valuesim.methods.consistency import contradiction, named_options
from valuesim.methods.registry import get_method
from valuesim.runs.readings import reading_counts
from valuesim.survey.wvs7.bank import load_codebook

BOOK = load_codebook()
Q46 = BOOK["Q46"]  # 1 Very happy, 2 Quite happy, 3 Not very happy, 4 Not at all happy


def test_the_longest_label_wins_and_only_one_other_named_option_is_a_contradiction():
    assert named_options("You are not very happy these days.", Q46) == {3}  # not also "very happy"
    assert named_options("Very happy, or at least quite happy.", Q46) == {1, 2}
    assert contradiction("You are very happy and very satisfied with life.", 4, Q46).startswith(
        "the analysis names 1 (Very happy) but the answer is 4")
    assert contradiction("You are very happy.", 1, Q46) == ""  # agrees
    assert contradiction("Very happy or quite happy, hard to say.", 4, Q46) == ""  # two named: not flagged
    assert contradiction("Life has been hard.", 4, Q46) == ""  # none named


HAPPY = "Answer: 4\nAnalysis: You have always been very happy and very satisfied with your life."


def test_a_module_reasoning_very_happy_and_answering_4_is_flagged_in_trace_and_report(synthetic_file, tmp_path):
    data = synthetic_file(80, countries=2, seed=7)
    model = get_model(ScriptedModel(default=HAPPY), cache=False)
    sim = get_method("valuesim", model, story="statements", coordinator="always")
    result = run_study(data, methods=[sim], model=model, users=1, folds=2, items=["Q46", "Q1", "Q2", "Q3"],
                       out=tmp_path / "run", progress=False)
    from valuesim.runs.rundir import RunDir

    turns = RunDir(result.run_dir).traces()
    on_q46 = turns[turns.question_id == "Q46"]
    assert set(on_q46.module) == {"cognitive", "affective", "behavioral", "coordinator"}
    assert (on_q46.contradiction.str.startswith("the analysis names 1 (Very happy) but the answer is 4")).all()
    counts = reading_counts(result.run_dir).set_index("method")
    assert counts.loc["valuesim", "contradicted"] >= 4 and counts.loc["valuesim", "prefilled fallback"] == 0
    md = write_report(result.run_dir)["markdown"].read_text(encoding="utf-8")
    assert "How answers were read" in md
    assert re.search(r"\| valuesim \| \d+ \| 0 \| [1-9]\d* \|", md)


def test_prefilled_fallbacks_are_counted_per_method(synthetic_file, tmp_path):
    data = synthetic_file(80, countries=2, seed=7)
    model = get_model(ScriptedModel(default="I cannot quite decide.", options={"1": 0.1, "2": 0.6, "3": 0.3}),
                      cache=False)
    result = run_study(data, methods=["full-info"], model=model, users=1, folds=2, items=["Q46", "Q1"],
                       out=tmp_path / "run", progress=False)
    assert result.failures == 0
    counts = reading_counts(result.run_dir).set_index("method")
    assert counts.loc["full-info", "prefilled fallback"] == counts.loc["full-info", "turns"] == 2


def test_a_rerun_asks_no_rejected_answer_again_on_a_prefill_engine(tmp_path):
    """A reply with no option is remembered as rejected on a pre-fill engine: the re-run makes
    no model call at all (both rejected replies and the pre-filled read come from the cache)."""
    from valuesim.methods.base import PersonContext
    from valuesim.survey.model import Profile

    backend = ScriptedModel(default="Hard to say.", options={"1": 0.6, "2": 0.4})
    person = PersonContext("r", "DEU", Profile(((BOOK["Q1"], 1),)))
    first = get_model(backend, cache=tmp_path / "c.sqlite")
    one = get_method("full-info", first).predict(person, Q46)
    first.cache.flush()
    assert [c.kind for c in backend.calls] == ["complete", "complete", "read"]
    n = len(backend.calls)
    two = get_method("full-info", get_model(backend, cache=tmp_path / "c.sqlite")).predict(person, Q46)
    assert backend.calls[n:] == [] and two.answer == one.answer == 1
    assert two.trace["modules"]["full-info"]["distribution_request"] == "prefilled-fallback"
