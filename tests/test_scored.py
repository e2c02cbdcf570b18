"""Results as data: scored predictions, metrics and traces as DataFrames that agree with the
report; survey weights; empty metrics (no ordinal item, one user, one country, all failed)
handled with a note through the CLI, never an exception."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from eval_helpers import FirstCode, small_survey
from fake_server import method_reply
from valuesim.cli import main
from valuesim.evaluation import run_study, write_report
from valuesim.evaluation.report import results_text
from valuesim.llm import ScriptedModel
from valuesim.runs.rundir import RunDir
from valuesim.survey.io import load_survey
from valuesim.survey.survey import Survey
from valuesim.survey.synthetic import write_synthetic


def weighted_survey(n: int = 60) -> Survey:
    s = small_survey(n=n)
    data = s.data.copy()
    data["weight"] = np.random.default_rng(1).uniform(0.2, 3.0, n)  # unequal design weights
    return Survey(s.codebook, data, source=s.source, synthetic=True)


@pytest.fixture(scope="module")
def stat_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("scored") / "run"
    result = run_study(weighted_survey(), methods=[FirstCode("first"), "country-marginal"], users=12, folds=5,
                       out=out, progress=False)
    return result, RunDir(out)


def report_accuracy(md: str) -> dict[str, float]:
    """Method -> the Overall scores table's accuracy, as the report prints it."""
    table = md.split("### Overall scores with confidence intervals", 1)[1].split("\n###", 1)[0]
    out = {}
    for line in table.splitlines():
        m = re.match(r"\| ([\w-]+) \| [^|]+ \| \d+ \| \d+ \| ([\d.]+)", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def test_scored_rows_and_metrics_are_the_reports_figures(stat_run):
    result, run = stat_run
    s = run.scored()
    assert {"correct", "abs_error", "nmae", "logloss", "category", "country", "weight", "overall"} <= set(s.columns)
    ordinal = s[s["kind"].eq("ordinal") & ~s["failed"]]
    assert np.allclose(ordinal["abs_error"], ordinal["nmae"] * ordinal["n_steps"])
    assert s["weight"].notna().all() and s["weight"].nunique() > 1
    acc = run.metrics().query("metric == 'accuracy'").set_index("method")["mean"]
    user_avg = s[s["overall"]].groupby(["method", "respondent_id"])["correct"].mean().groupby("method").mean()
    assert np.allclose(acc.sort_index(), user_avg.sort_index())  # the report's averaging: per user, then users
    printed = report_accuracy(write_report(run.path)["markdown"].read_text(encoding="utf-8"))
    assert printed.keys() == set(acc.index)
    for method, value in printed.items():
        assert round(acc[method], 3) == value
    assert result.metrics.equals(run.metrics())
    assert (run.report_dir / "metrics.csv").exists()


def test_metrics_per_user_item_category_country_with_intervals(stat_run):
    _, run = stat_run
    per_user = run.metrics(by=("method", "respondent_id"), metrics=("accuracy",))
    assert len(per_user) == 2 * 12 and (per_user["users"] == 1).all() and per_user["ci_low"].isna().all()
    per_item = run.metrics(by=("question_id",), metrics=("accuracy",))  # method is always a group
    assert {"method", "question_id"} <= set(per_item.columns) and (per_item["users"] > 0).all()
    per_cat = run.metrics(by=("method", "category"))
    assert "Demo" in set(per_cat["category"])  # per category, the demographic items are their own column
    per_country = run.metrics(by=("method", "country"), metrics=("accuracy", "nmae"))
    many = per_country[per_country["users"] > 1]
    assert (many["ci_low"] <= many["mean"]).all() and (many["mean"] <= many["ci_high"]).all()
    assert per_country["chance"].notna().all()


def test_survey_weights_change_the_scores(stat_run):
    _, run = stat_run
    plain = run.metrics(metrics=("accuracy", "nmae"))
    weighted = run.metrics(weighted=True, metrics=("accuracy", "nmae"))
    assert weighted["weighted"].all() and not plain["weighted"].any()
    assert not np.allclose(plain["mean"], weighted["mean"])
    s = run.scored()
    s = s[s["overall"] & s["method"].eq("first")]
    pu = s.groupby("respondent_id").agg(acc=("correct", "mean"), w=("weight", "first"))
    expect = float((pu["acc"] * pu["w"]).sum() / pu["w"].sum())
    got = weighted.query("metric == 'accuracy' and method == 'first'")["mean"].iloc[0]
    assert math.isclose(got, expect)


def test_traces_are_one_row_per_turn_and_every_llm_prediction_has_its_dist_method(tmp_path):
    survey = load_survey(write_synthetic(tmp_path / "syn.csv", respondents=40, countries=2, seed=1))
    items = [q.id for q in survey.codebook if q.options and 2 <= len(q.codes) <= 5][:3]
    model = ScriptedModel(default="Answer: 1\nAnalysis: fine.")
    story = {"story": "statements"}
    run_study(survey, methods=["valuesim", "valuesim-average", "full-info"], users=2, folds=3, model=model,
              out=tmp_path / "run", items=items, progress=False,
              method_options={"valuesim": story, "valuesim-average": story})
    run = RunDir(tmp_path / "run")
    preds = run.predictions()
    assert (preds["dist_method"] != "").all()
    by_method = preds.groupby("method")["dist_method"].first()
    assert by_method["valuesim"] == "logprobs" and by_method["valuesim-average"] == "mean of logprobs"
    turns = run.traces()
    assert set(turns[turns["method"] == "valuesim"]["module"]) == {"cognitive", "affective", "behavioral",
                                                                   "coordinator"}
    assert len(turns[turns["method"] == "full-info"]) == len(preds[preds["method"] == "full-info"])
    first = turns.iloc[0]
    assert first["reply"].startswith("Answer: 1") and first["answer"] == 1 and first["distribution_method"]
    assert "Question" in first["prompt"] or "?" in first["prompt"]
    write_report(run.path)  # the usage tables (which read the traces) still work


# --- empty metrics, through the CLI ---------------------------------------------------------------


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("synth") / "s.csv", respondents=120, countries=3, seed=2)


def eval_and_report(capsys, argv: list[str], out) -> tuple[str, str]:
    code = main(["eval", *argv, "--out", str(out), "--no-progress"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Traceback" not in printed.err
    assert main(["report", str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return printed.out, (out / "report" / "report.md").read_text(encoding="utf-8")


def test_no_ordinal_item_gives_no_nmae_and_says_why(synth, tmp_path, capsys):
    out, md = eval_and_report(capsys, [str(synth), "--methods", "country-marginal", "--users", "5",
                                       "--items", "Q11-Q20"], tmp_path / "run")
    assert "accuracy" in out and "no normalized MAE (it is defined for ordinal items only)" in out
    assert "no normalized MAE (it is defined for ordinal items only)" in md
    assert RunDir(tmp_path / "run").metrics().query("metric == 'nmae'").empty


def test_one_user_has_no_interval_and_says_so(synth, tmp_path, capsys):
    out, md = eval_and_report(capsys, [str(synth), "--methods", "country-marginal,knn", "--users", "1"],
                              tmp_path / "run")
    assert "(one user: no interval)" in out and "(one user: no interval)" in md


def test_one_country_says_country_marginal_equals_global_marginal(tmp_path, capsys):
    one = write_synthetic(tmp_path / "one.csv", respondents=80, countries=1, seed=4)
    out, md = eval_and_report(capsys, [str(one), "--methods", "country-marginal,global-marginal", "--users", "4"],
                              tmp_path / "run")
    assert "country-marginal equals global-marginal here" in out and "country-marginal equals global-marginal" in md


def test_all_failed_then_a_successful_rerun_without_ordinal_items(serve, synth, tmp_path, capsys, monkeypatch):
    # a cache of its own: the shared one may hold good replies for a fake server that got the same port earlier
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    refusing = serve(("call", lambda body: method_reply(body, text="I would rather not say.")))
    argv = ["eval", str(synth), "--methods", "no-profile", "--users", "2", "--folds", "2", "--items", "Q11-Q14",
            "--model", "openai:fake-model", "--no-progress", "--out", str(tmp_path / "run")]
    assert main(argv + ["--base-url", refusing.url]) == 1
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err and "no successful prediction" in printed.out
    assert main(["report", str(tmp_path / "run")]) == 0
    assert RunDir(tmp_path / "run").metrics().empty
    capsys.readouterr()
    healthy = serve(("call", method_reply))
    assert main(argv + ["--base-url", healthy.url]) == 0
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err and "no normalized MAE" in printed.out
    assert main(["report", str(tmp_path / "run")]) == 0
    assert "no normalized MAE" in (tmp_path / "run" / "report" / "report.md").read_text(encoding="utf-8")
    assert results_text(tmp_path / "run").count("\n") >= 3


def test_report_weighted_prints_both_and_says_which(synth, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["eval", str(synth), "--methods", "country-marginal,knn", "--users", "12", "--out", str(out),
                 "--no-progress", "--weighted"])
    printed = capsys.readouterr().out
    assert code == 0 and "accuracy weighted by W_WEIGHT" in printed and "unweighted, and weighted" in printed
    assert main(["report", str(out)]) == 0
    md = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "| Scores | unweighted: each evaluated user counts once" in md and "Survey-weighted scores" not in md
    assert main(["report", str(out), "--weighted"]) == 0
    assert "accuracy weighted by W_WEIGHT" in capsys.readouterr().out
    md = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "survey-weighted by W_WEIGHT beside them" in md and "### Survey-weighted scores" in md
    table = md.split("### Survey-weighted scores", 1)[1].split("\n###", 1)[0]
    knn = next(line for line in table.splitlines() if line.startswith("| knn |")).split(" | ")
    assert knn[2] != knn[3]  # unequal weights: the weighted accuracy differs
    csv = pd.read_csv(out / "report" / "metrics.csv")
    assert set(csv["weighted"]) == {True, False} and set(csv["level"]) == {"overall", "category", "country"}


def test_weighted_scores_of_a_run_without_recorded_weights_are_refused_in_one_line(stat_run, tmp_path, capsys):
    import shutil
    import sqlite3
    from contextlib import closing

    old = tmp_path / "old"
    shutil.copytree(stat_run[1].path, old)
    with closing(sqlite3.connect(old / "predictions.sqlite")) as db, db:
        db.execute("DELETE FROM respondents")  # as a run made before runs kept the weights
    assert main(["report", str(old), "--weighted"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no survey weights recorded" in err
    assert main(["report", str(old)]) == 0  # unweighted: fine


def test_dist_method_is_read_from_every_kind_of_llm_trace():
    from valuesim.runs.trace import Trace

    turn = {"distribution_method": "logprobs"}
    parsed = {"distribution_method": "parsed"}
    assert Trace.of({"modules": {"direct": turn}}).dist_method == "logprobs"
    assert Trace.of({"modules": {"cognitive": turn, "affective": parsed},
                     "coordinator": {"distribution_method": "sampling"}}).dist_method == "sampling"
    assert Trace.of({"modules": {"cognitive": turn, "affective": parsed}}).dist_method == "mean of logprobs+parsed"
    llm = {"modules": {"full-info": turn}}
    assert Trace.of({"llm": llm, "stat": {}}).dist_method == "mixture of logprobs and statistical"
    assert Trace.of({"llm": llm, "stat": {}, "fallback": "stat"}).dist_method == "statistical"
    assert Trace.of({"llm": llm, "stat": {}, "fallback": "llm"}).dist_method == "logprobs"
    assert Trace.of({"dist_method": "votes", "modules": {"x": turn}}).dist_method == "votes"
    assert Trace.of({}).dist_method == "" and Trace.of({"llm": llm}).turns()[0][0] == "full-info"
