"""The report's Backstories table: stories counted per method, failed ones with their reason."""

from __future__ import annotations

from valuesim.evaluation import run_study, write_report
from valuesim.runs.rundir import RunDir
from valuesim.evaluation.stories import records_from_traces, story_records, story_summary
from valuesim.llm import ScriptedModel
from valuesim.survey.io import load_survey
from valuesim.survey.synthetic import write_synthetic


def test_eval_report_shows_story_validity_and_fidelity(tmp_path):
    survey = load_survey(write_synthetic(tmp_path / "syn.csv", respondents=60, countries=2, seed=1))
    items = [q.id for q in survey.codebook if q.options and 2 <= len(q.codes) <= 5][:5]
    model = ScriptedModel(default="Answer: 1\nAnalysis: a one-line reply, never a backstory.")
    run_study(survey, methods=["valuesim", "valuesim-no-cab"], users=3, folds=5, model=model, out=tmp_path / "run",
              items=items, progress=False,
              method_options={"valuesim": {"story": "statements", "story_audit": 3}})  # no-cab: model story
    records = story_records(RunDir(tmp_path / "run"))
    summary = story_summary(records).set_index("method")
    ok, bad = summary.loc["valuesim"], summary.loc["valuesim-no-cab"]
    assert ok["stories"] == 15 and ok["valid"] == 15 and ok["failed"] == 0 and ok["story"] == "statements"
    assert ok["audited"] == 15 and 0 < ok["chance"] < 1
    assert bad["failed"] == bad["stories"] == 15 and bad["valid"] == 0  # a one-line reply is no story
    md = write_report(tmp_path / "run")["markdown"].read_text(encoding="utf-8")
    assert "## Backstories" in md and "Backstories: validity and fidelity" in md
    assert "| valuesim | statements | 15 | 15 | 0 | 0 | 0 | 0 | 9.0 (9) |" in md  # 3 audit items asked, one per theme: 9
    assert "part retries" in md and "requests per story" in md


def test_story_records_count_each_story_once():
    story = {"key": "k1", "kind": "model", "prompt": "small", "status": "valid", "retries": 2, "rounds": 1,
             "requests": 12, "fidelity": {"share": 0.5, "chance": 0.25}}
    items = [("valuesim", 0, "r1", {"story": story}), ("valuesim", 0, "r1", {"story": story}),
             ("valuesim", 0, "r2", {"story": {**story, "key": "k2", "status": "failed", "fidelity": None,
                                              "reason": "refusal"}}),
             ("full-info", 0, "r1", {"context": {}})]
    summary = story_summary(records_from_traces(items)).set_index("method")
    row = summary.loc["valuesim"]
    assert (row["stories"], row["valid"], row["retried"], row["failed"], row["audited"]) == (2, 1, 2, 1, 1)
    assert row["fidelity"] == 0.5 and row["story"] == "model (small)" and "full-info" not in summary.index
    assert row["part retries"] == 4 and row["requests"] == 12 and row["most requests"] == 12
