"""The demo end to end with the scripted model: every step runs and the report is written."""

import re

import pandas as pd

from valuesim.demo import run_demo
from valuesim.survey.wvs7.bank import load_codebook


def test_demo_runs_study_and_writes_report(tmp_path, capsys):
    result = run_demo(out=tmp_path / "demo", model="scripted", users=2, targets=4, respondents=600,
                      countries=3, methods=("valuesim", "full-info", "country-marginal", "regression"),
                      progress=False)
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "Report:" in out
    assert re.search(r"country-marginal +no LLM +0\.\d{3} \[", out) and "accuracy [95% CI]" in out  # results table
    # a line for every stage of ValueSim while it runs: story parts, the audit, each module, the coordinator
    # (each line names who answers which question)
    for stage in ("backstory", "module cognitive", "coordinator"):
        assert re.search(rf"\] valuesim: respondent \S+ · Q\d+: {stage}", out), stage
    # the scripted "story" is a one-line reply: the demo says plainly that it used statements
    assert "Backstories the ValueSim numbers stand on" in out
    assert "STATEMENTS used: the model story failed" in out and "fidelity" in out
    assert "use the statements story, not a model-written backstory" in out

    html = result.report["html"].read_text(encoding="utf-8")
    assert "valuesim" in html and "<script>" not in html and "Backstories: validity and fidelity" in html
    predictions = pd.read_parquet(result.report["parquet"])
    main = predictions[predictions["profile_limit"] < 0]
    # 2 users × 4 targets (all answered in the synthetic file at most) for each method
    per_method = main.groupby("method").size()
    assert set(per_method.index) == {"valuesim", "full-info", "country-marginal", "regression"}
    assert per_method.max() <= 8 and per_method.min() >= 6
    errors = main[(main["method"] == "valuesim") & main["failed"]]["error"]
    assert not errors.str.contains("backstory").any()  # statements fallback, never a story failure


def test_demo_targets_never_reach_the_prompts(tmp_path):
    """What the LLM methods were actually shown (their traces) never holds the target's answer."""
    result = run_demo(out=tmp_path / "demo", model="scripted", users=2, targets=4, respondents=600,
                      countries=3, methods=("valuesim", "full-info"), progress=False)
    book = load_codebook()
    from valuesim.runs.rundir import RunDir

    preds = RunDir(result.run_dir).predictions()
    rows = preds[preds.trace_id.notna()][["method", "question_id", "truth", "trace_id"]].values.tolist()
    assert len(rows) >= 12
    store = RunDir(result.run_dir).store()  # puts the shared context text back
    for method, qid, truth, trace_id in rows:
        trace = store.trace(trace_id)
        context = trace.context_text
        assert f"{qid}:" not in context, (method, qid)  # no Q/options/answer block of the target
        assert book[qid].statement(truth) not in context, (method, qid)  # nor its answer as a statement
        assert trace.context["kind"] == ("backstory" if method == "valuesim" else "profile")
        assert len(context) > 200  # the other items were there


def test_the_demo_command_runs_the_study_run_demo_is_sized_for():
    """`make demo` ran 5 targets per user while the help and run_demo said 2 (twice the minutes)."""
    import inspect

    from valuesim.cli import build_parser

    args = build_parser().parse_args(["demo"])
    defaults = inspect.signature(run_demo).parameters
    assert (args.users, args.targets) == (defaults["users"].default, defaults["targets"].default)
