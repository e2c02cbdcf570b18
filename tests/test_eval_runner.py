"""The runner: every prediction stored once, fit on non-evaluated users, resume after an
interruption without losses or duplicates, failures recorded and retried, settings guarded."""

from __future__ import annotations

import json
import sqlite3

import pytest

from eval_helpers import FakeLLM, FirstCode, small_survey
from valuesim.errors import ConfigError, ModelError
from valuesim.evaluation import RunDir, Split, read_predictions, run_study
from valuesim.evaluation.protocol import answered_items

KEY = ["method", "fold", "respondent_id", "question_id", "profile_limit"]


def expected_count(survey, split: Split, methods: int) -> int:
    answered = answered_items(survey, split.users, split.items + split.profile_only)
    return methods * sum(len(u.targets) for u in split.units(answered))


def rows(run_dir):
    return read_predictions(RunDir(run_dir))


def test_run_stores_every_prediction_once_and_fits_without_evaluated_users(tmp_path):
    survey = small_survey(n=50)
    stat, llm = FirstCode(), FakeLLM()
    res = run_study(survey, methods=[stat, llm], users=8, folds=5, out=tmp_path / "run", model=object(),
                    progress=False, concurrency=3)
    split = Split.load(tmp_path / "run" / "split.json")
    df = rows(tmp_path / "run")
    assert res.predictions == len(df) == expected_count(survey, split, 2) == res.new
    assert not df.duplicated(KEY).any()
    assert len(stat.fitted_on) == 1 and not stat.fitted_on[0] & set(split.users)
    assert stat.fitted_on[0] | set(split.users) == set(survey.data.index)
    # truth is the person's real code; a target is never in the profile the method saw
    valid = survey.valid()
    for r in df.itertuples():
        assert r.truth == valid.loc[r.respondent_id, r.question_id]
    for user, qid, profile in llm.seen:
        assert qid not in profile
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["settings"]["methods"] == ["first-code", "fake-llm"]
    assert info["settings"]["data"]["sha256_data"]
    # re-running a finished study does nothing
    llm2 = FakeLLM()
    again = run_study(survey, methods=[FirstCode(), llm2], users=8, folds=5, out=tmp_path / "run",
                      model=object(), progress=False)
    assert again.new == 0 and llm2.calls == 0 and again.predictions == res.predictions


@pytest.mark.parametrize("kind", ["batched", "threaded"])
def test_resume_after_interrupt_loses_and_duplicates_nothing(tmp_path, kind):
    survey = small_survey(n=40)
    out = tmp_path / "run"
    make = (lambda **kw: FirstCode("m", **kw)) if kind == "batched" else (lambda **kw: FakeLLM("m", **kw))
    with pytest.raises(KeyboardInterrupt):
        run_study(survey, methods=[make(interrupt_after=57)], users=6, folds=5, out=out, model=object(),
                  progress=False, concurrency=2)
    first = rows(out)
    assert 0 < len(first) < expected_count(survey, Split.load(out / "split.json"), 1)
    sessions = [(s,) for s in RunDir(out).sessions().status]
    assert sessions == [("interrupted",)]

    res = run_study(survey, methods=[make()], users=6, folds=5, out=out, model=object(), progress=False,
                    concurrency=2)
    after = rows(out)
    split = Split.from_json(RunDir(out).split_json())
    assert len(after) == expected_count(survey, split, 1) == res.predictions
    assert res.new == len(after) - len(first)
    assert not after.duplicated(KEY).any()
    # what the first session stored is still there, unchanged
    merged = first.merge(after, on=KEY, suffixes=("", "_after"))
    assert len(merged) == len(first)
    assert (merged["created"] == merged["created_after"]).all()


def test_killed_subprocess_resumes(tmp_path):
    """A real kill -9 in the middle of a run, then the same call again."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    out = tmp_path / "run"
    script = tmp_path / "slow.py"
    tests_dir = Path(__file__).parent
    script.write_text(f"""
import sys, time
sys.path.insert(0, {str(tests_dir)!r})
from eval_helpers import FakeLLM, small_survey
from valuesim.evaluation import run_study
class Slow(FakeLLM):
    def predict(self, person, question):
        time.sleep(float(sys.argv[1]))
        return super().predict(person, question)
run_study(small_survey(n=30), methods=[Slow("slow")], users=4, folds=5, out={str(out)!r}, model=object(),
          progress=False, concurrency=2)
""")
    proc = subprocess.Popen([sys.executable, str(script), "0.02"])
    db = RunDir(out).store_path
    deadline = time.time() + 60
    n = 0
    while time.time() < deadline:
        time.sleep(0.2)
        if db.exists():
            try:
                n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
            except sqlite3.OperationalError:
                n = 0
            if n >= 10:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = rows(out)
    assert len(killed) >= 10
    subprocess.run([sys.executable, str(script), "0"], check=True)
    after = rows(out)
    split = Split.from_json(RunDir(out).split_json())
    assert len(after) == expected_count(small_survey(n=30), split, 1)
    assert not after.duplicated(KEY).any()
    assert set(map(tuple, killed[KEY].values)) <= set(map(tuple, after[KEY].values))


def test_failures_are_stored_counted_and_retried(tmp_path):
    survey = small_survey(n=30)
    out = tmp_path / "run"
    res = run_study(survey, methods=[FakeLLM("m", fail_items={"Q1", "Q2"})], users=5, folds=5, out=out,
                    model=object(), progress=False)
    df = rows(out)
    failed = df[df["failed"]]
    assert res.failures == len(failed) > 0
    assert set(failed["question_id"]) <= {"Q1", "Q2"}
    assert failed["answer"].isna().all()
    res2 = run_study(survey, methods=[FakeLLM("m")], users=5, folds=5, out=out, model=object(), progress=False)
    df2 = rows(out)
    assert len(df2) == len(df) and res2.new == len(failed) and res2.failures == 0
    assert not df2["failed"].any()


def test_many_failures_in_a_row_stop_the_run_with_one_message(tmp_path):
    survey = small_survey(n=30, items=["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"], missing=0.0)
    with pytest.raises(ModelError, match="in a row"):
        run_study(survey, methods=[FakeLLM("m", fail_items={"Q1", "Q2", "Q3", "Q4", "Q5", "Q6"})], users=10,
                  folds=2, out=tmp_path / "run", model=object(), progress=False)
    assert len(rows(tmp_path / "run")) >= 25  # what was done is kept


def test_different_settings_refuse_unless_forced(tmp_path):
    survey = small_survey(n=30)
    out = tmp_path / "run"
    run_study(survey, methods=[FirstCode()], users=5, folds=5, out=out, progress=False)
    with pytest.raises(ConfigError, match="different settings.*folds"):
        run_study(survey, methods=[FirstCode()], users=5, folds=4, out=out, progress=False)
    res = run_study(survey, methods=[FirstCode()], users=5, folds=4, out=out, progress=False, force=True)
    assert len(Split.load(out / "split.json").folds) == 4
    assert res.resumed == 0


def test_llm_method_without_model_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="need a model"):
        run_study(small_survey(n=20), methods=[FakeLLM()], users=3, folds=5, out=tmp_path / "r", progress=False)


def test_saved_split_repeats_a_study(tmp_path):
    survey = small_survey(n=40)
    run_study(survey, methods=[FirstCode()], users=6, folds=5, out=tmp_path / "a", progress=False, seed=4)
    split = Split.load(tmp_path / "a" / "split.json")
    run_study(survey, methods=[FirstCode()], split=tmp_path / "a" / "split.json", folds=5, users=6,
              out=tmp_path / "b", progress=False, seed=99)
    assert Split.load(tmp_path / "b" / "split.json") == split
    a, b = rows(tmp_path / "a"), rows(tmp_path / "b")
    assert a[KEY + ["answer", "truth"]].equals(b[KEY + ["answer", "truth"]])


def test_retried_failures_that_fail_again_do_not_stop_the_run(tmp_path):
    items = [f"Q{i}" for i in range(1, 11)]
    survey = small_survey(n=30, items=items, missing=0.0)
    failing = {"Q1", "Q3", "Q5", "Q7", "Q9"}
    out = tmp_path / "run"
    first = run_study(survey, methods=[FakeLLM("m", fail_items=failing)], users=10, folds=2, out=out,
                      model=object(), progress=False)
    assert first.failures == 50
    again = run_study(survey, methods=[FakeLLM("m", fail_items=failing)], users=10, folds=2, out=out,
                      model=object(), progress=False)  # 50 retries in a row, all failing again
    assert again.failures == 50 and again.predictions == first.predictions


def test_curve_runs_only_for_the_curve_methods(tmp_path):
    survey = small_survey(n=30)
    run_study(survey, methods=[FirstCode("a"), FirstCode("b")], users=5, folds=5, out=tmp_path / "run",
              curve=True, curve_sizes=(0, 10), curve_methods=["b"], progress=False)
    df = rows(tmp_path / "run")
    assert set(df.loc[df["profile_limit"] >= 0, "method"]) == {"b"}
    assert set(df.loc[df["profile_limit"] >= 0, "profile_limit"]) == {0, 10}
    assert (df.loc[df["profile_limit"] == 0, "profile_n"] == 0).all()
    with pytest.raises(ConfigError, match="curve methods"):
        run_study(survey, methods=[FirstCode("a")], users=5, folds=5, out=tmp_path / "r2", curve=True,
                  curve_methods=["zzz"], progress=False)


def test_cli_method_options_are_parsed():
    from valuesim.cli.evaluate import parse_options

    assert parse_options(["knn.k=30", "regression.C=0.5", "valuesim.coordinator=average"]) == {
        "knn": {"k": 30}, "regression": {"C": 0.5}, "valuesim": {"coordinator": "average"}}
    with pytest.raises(ConfigError, match="METHOD.KEY=VALUE"):
        parse_options(["k=30"])
    with pytest.raises(ConfigError, match="unknown method 'x'"):  # more in test_options.py
        parse_options(["x.flag=true"])


def test_moved_file_resumes_but_other_data_refuses(tmp_path):
    survey = small_survey(n=30)
    path = tmp_path / "a.parquet"
    survey.data.to_parquet(path)
    out = tmp_path / "run"
    s1 = small_survey(n=30)
    s1.source = str(path)
    run_study(s1, methods=[FirstCode()], users=4, folds=5, out=out, progress=False)
    moved = tmp_path / "b.parquet"
    path.rename(moved)
    s1.source = str(moved)
    assert run_study(s1, methods=[FirstCode()], users=4, folds=5, out=out, progress=False).new == 0
    with pytest.raises(ConfigError, match="data"):
        run_study(small_survey(n=30, seed=5), methods=[FirstCode()], users=4, folds=5, out=out, progress=False)


def test_adding_a_method_to_a_run_keeps_the_rest(tmp_path):
    survey = small_survey(n=30)
    out = tmp_path / "run"
    first = run_study(survey, methods=[FirstCode("a")], users=4, folds=5, out=out, progress=False)
    res = run_study(survey, methods=[FirstCode("b")], users=4, folds=5, out=out, progress=False)
    assert res.new == first.predictions and res.predictions == 2 * first.predictions
    info = json.loads((out / "run.json").read_text())
    assert info["settings"]["methods"] == ["a", "b"]
    df = rows(out)
    assert set(df["method"]) == {"a", "b"} and not df.duplicated(KEY).any()


def test_hybrid_is_fitted_by_the_runner_without_the_evaluated_users(tmp_path):
    """The hybrid needs an LLM and a fit: the runner must fit it (on training respondents only)."""
    survey = small_survey(n=60)
    res = run_study(survey, methods=["hybrid"], users=4, folds=5, out=tmp_path / "run", model="scripted",
                    method_options={"hybrid": {"weight": 0.5}}, progress=False)
    df = rows(tmp_path / "run")
    assert res.predictions == len(df) > 0
    assert not df["failed"].any()


def test_users_all_cross_fits_and_no_prediction_comes_from_a_fit_that_saw_the_person(tmp_path):
    """Every respondent evaluated; each prediction made by a model fitted without that person."""

    class Recorder(FirstCode):
        def predict_batch(self, pairs):
            seen = self.fitted_on[-1]
            self.leaks = getattr(self, "leaks", 0) + sum(p.respondent_id in seen for p, _ in pairs)
            self.predicted = getattr(self, "predicted", set()) | {p.respondent_id for p, _ in pairs}
            return super().predict_batch(pairs)

    survey = small_survey(n=30)
    stat = Recorder()
    res = run_study(survey, methods=[stat], users="all", folds=3, run_folds=2, out=tmp_path / "run", progress=False)
    assert stat.leaks == 0
    assert stat.predicted == set(survey.data.index)  # nobody left out
    assert len(stat.fitted_on) == 5  # one fit per cross-fitting group
    assert set(rows(tmp_path / "run")["fold"]) == {0, 1}
    assert "cross-fitted over 5 groups" in res.summary() and "the first 2 of 3 folds" in res.summary()


def test_refused_protocol_arguments_leave_no_run_dir(tmp_path):
    survey = small_survey(n=20)
    for kwargs in ({"folds": 1}, {"users": 0}, {"run_folds": 4}, {"users": "most"}):
        args = {"users": 3, "folds": 3, **kwargs}
        with pytest.raises(ConfigError):
            run_study(survey, methods=[FirstCode()], out=tmp_path / "r", progress=False, **args)
        assert not (tmp_path / "r").exists()
