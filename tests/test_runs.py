"""Run directories that cannot be corrupted: refused commands leave nothing, one process at a
time, settings recorded at the start, atomic reports, safe CSV, interrupted sessions."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from eval_helpers import FakeLLM, FirstCode, small_survey
from valuesim.runs.rundir import RunDir
from valuesim.cli import main
from valuesim.errors import ConfigError
from valuesim.evaluation import run_study, write_report
from valuesim.runs import render
from valuesim.runs.rundir import RunLock, RunLocked


@pytest.fixture(scope="module")
def synth(synthetic_file):
    return synthetic_file(240, ["DEU", "NGA", "JPN"], seed=1)


EVAL = ["--methods", "country-marginal", "--users", "4", "--folds", "3", "--no-progress"]


@pytest.mark.parametrize("bad, message", [
    (["--users", "0"], "--users must be positive"),
    (["--folds", "1"], "--folds must be at least 2"),
    (["--items", "Q999"], "unknown question id 'Q999'"),
    (["--methods", "country-marginal,nosuch"], "unknown method 'nosuch'"),
    (["--concurrency", "0"], "--concurrency must be at least 1"),
    (["--curve", "--curve-sizes", "10,-5"], "--curve-sizes must be 0 or more"),
    (["--methods", "value-persona"], "use `valuesim population"),
    (["--option", "country-marginal.shrinkagee=3"], "country-marginal"),
])
def test_refused_eval_arguments_touch_nothing(synth, tmp_path, capsys, bad, message):
    out = tmp_path / "run"
    code = main(["eval", str(synth), *EVAL, *bad, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing created, so the corrected command runs
    assert main(["eval", str(synth), *EVAL, "--out", str(out)]) == 0
    # and a refused argument on an existing run leaves it as it was
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != ".lock"}
    assert main(["eval", str(synth), *EVAL, *bad, "--out", str(out)]) == 2
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name != ".lock"}
    assert after.keys() == before.keys() and after["run.json"] == before["run.json"]


POP = ["--countries", "DEU,NGA", "--questions", "Q1", "--method", "no-persona", "--model", "scripted",
       "--personas", "2", "--no-progress", "--no-report"]


@pytest.mark.parametrize("bad, message", [
    (["--personas", "0"], "--personas must be at least 1"),
    (["--countries", "DEU,XXX"], "country XXX is not in"),
    (["--questions", "Q999"], "Q999"),
    (["--method", "valuepersona"], "unknown population method"),
    (["--concurrency", "0"], "--concurrency must be at least 1"),
])
def test_refused_population_arguments_touch_nothing(synth, tmp_path, capsys, bad, message):
    out = tmp_path / "pop"
    code = main(["population", str(synth), *POP, *bad, "--out", str(out)])
    assert code == 2 and message in capsys.readouterr().err
    assert not out.exists()


def test_population_killed_then_resumed_with_another_seed_is_refused(synth, tmp_path):
    from valuesim.llm import ScriptedModel, get_model
    from valuesim.population import run_population

    calls = {"n": 0}

    def options(messages, codes):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt  # the run is killed in its first seconds
        return {c: 1.0 / len(codes) for c in codes}

    out = tmp_path / "pop"
    args = dict(countries="DEU,NGA", personas=3, questions="Q1,Q106", methods="value-persona", progress=False)
    with pytest.raises(KeyboardInterrupt):
        run_population(synth, model=get_model(ScriptedModel(options=options)), out=out, seed=1, **args)
    record = json.loads((out / "run.json").read_text())
    assert record["settings"]["seed"] == 1 and record["sessions"][-1]["status"] == "interrupted"
    with pytest.raises(ConfigError, match="seed"):
        run_population(synth, model="scripted", out=out, seed=2, **args)
    assert len(RunDir(out).predictions()) == 3  # nothing of seed 2 reached the store
    result = run_population(synth, model="scripted", out=out, seed=1, **args)  # the same seed resumes
    assert result.new_predictions == 2 * 2 * 3 - 3 + 2 * 2 * 2  # the rest, plus the two references
    preds = RunDir(out).predictions()
    people = set(RunDir(out).personas().respondent_id)
    used = set(preds[preds.persona >= 0].respondent_id)
    assert used <= people


def test_population_without_llm_methods_loads_no_model(synth, tmp_path):
    from valuesim.population import run_population

    result = run_population(synth, countries="DEU,NGA", personas=2, questions="Q1", methods="country-marginal",
                            model="local:/no/such/model.gguf", out=tmp_path / "pop", progress=False)
    assert set(result.metrics.method) == {"country-marginal", "uniform"} and result.accounting == {}


def test_a_second_process_on_the_same_run_directory_is_refused(synth, tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from valuesim.runs.rundir import RunLock; "
                               f"RunLock({str(out)!r}, 'valuesim eval holder').acquire(); print('held', flush=True); "
                               "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout.readline().strip() == "held"
        code = main(["eval", str(synth), *EVAL, "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and f"pid {holder.pid}" in err and "valuesim eval holder" in err
        assert not (out / "run.json").exists()
    finally:
        holder.kill()
        holder.wait()
    assert main(["eval", str(synth), *EVAL, "--out", str(out)]) == 0  # the OS dropped the dead holder's lock


def test_lock_in_one_process(tmp_path):
    with RunLock(tmp_path / "r", "first"):
        with pytest.raises(RunLocked, match="first"):
            RunLock(tmp_path / "r", "second").acquire()
    RunLock(tmp_path / "r", "third").acquire().release()


def test_report_on_a_run_where_every_prediction_failed(tmp_path):
    survey = small_survey(n=30, items=["Q1", "Q2", "Q3", "Q4"], missing=0.0)
    out = tmp_path / "run"
    run_study(survey, methods=[FakeLLM("m", fail_items={"Q1", "Q2", "Q3", "Q4"}, reply="=HYPERLINK(\"x\")")],
              users=2, folds=2, out=out, model=object(), progress=False)
    paths = write_report(out)
    md = paths["markdown"].read_text()
    assert "Failed predictions" in md and "no successful prediction" in md
    csv = pd.read_csv(paths["csv"])
    assert csv["failed"].all() and csv["error"].str.startswith("'=HYPERLINK").all()


def test_csv_cells_that_look_like_formulas_are_neutralised(tmp_path):
    df = pd.DataFrame({"text": ["=1+1", "+cmd", "-x", "@SUM(A1)", "plain", "-0.5"], "number": [-1, 2, 3, 4, 5, 6]})
    back = pd.read_csv(render.write_csv(df, tmp_path / "x.csv"))
    assert back["text"].tolist() == ["'=1+1", "'+cmd", "'-x", "'@SUM(A1)", "plain", "'-0.5"]
    assert back["number"].tolist() == [-1, 2, 3, 4, 5, 6]


def test_reports_are_replaced_atomically(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    render.write_atomic(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(render.os, "replace", broken_replace)
    with pytest.raises(OSError):
        render.write_atomic(target, "new and longer")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_killed_session_is_marked_interrupted_with_what_it_did(tmp_path):
    out = tmp_path / "run"
    tests_dir = Path(__file__).parent
    script = tmp_path / "slow.py"
    script.write_text(f"""
import sys, time
sys.path.insert(0, {str(tests_dir)!r})
from eval_helpers import FakeLLM, small_survey
from valuesim.evaluation import run_study
class Slow(FakeLLM):
    def predict(self, person, question):
        time.sleep(0.05)
        return super().predict(person, question)
run_study(small_survey(n=30), methods=[Slow("slow")], users=4, folds=5, out={str(out)!r}, model=object(),
          progress=False)
""")
    proc = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    db = RunDir(out).store_path
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.2)
        try:
            n = sqlite3.connect(db).execute("SELECT predictions FROM sessions").fetchone()[0] if db.exists() else 0
        except (sqlite3.OperationalError, TypeError):
            n = 0
        if n and n >= 5:
            break
    proc.kill()
    proc.wait()
    run_study(small_survey(n=30), methods=[FirstCode()], users=4, folds=5, out=out, progress=False)
    sessions = pd.read_sql("select * from sessions", sqlite3.connect(db))
    first = sessions.iloc[0]
    assert first["status"] == "interrupted" and first["predictions"] >= 5
    assert sessions.iloc[1]["status"] == "finished"


def test_session_usage_and_counts_are_recorded_with_every_commit(tmp_path):
    from valuesim.runs.store import Row

    run = RunDir(tmp_path)
    store = run.store()
    usage = {"calls": 0}
    store.start_session(usage=lambda: dict(usage))
    for i in range(3):
        usage["calls"] += 2
        store.add([Row("m", "Q1", {1: 1.0}, fold=0, respondent_id=f"u{i}", country="DEU", profile_n=5,
                       answer=None if i == 2 else 1, truth=1, failed=i == 2)])
    store.flush()  # a kill after this commit loses nothing of the session's record
    row = tuple(run.sessions()[["status", "predictions", "failures", "usage"]].iloc[0])
    assert row[:3] == ("running", 3, 1) and json.loads(row[3]) == {"calls": 6}
    store.db.close()  # the process dies without ending its session
    again = run.store()
    again.start_session()
    statuses = [r[0] for r in again.db.execute("select status from sessions order by session")]
    assert statuses == ["interrupted", "running"]
    again.close()


def test_a_context_every_target_repeats_is_stored_once(tmp_path):
    from valuesim.runs.store import Row

    profile = "Q1: Family ... Answer: 1\n" * 200  # ~5 KB, as Full Info's profile (often ~80 KB)
    store = RunDir(tmp_path).store()
    for q in ("Q1", "Q2", "Q3"):
        trace = {"context": {"kind": "profile", "text": profile, "items": 200}, "question": q}
        store.add([Row("full-info", q, {1: 1.0}, fold=0, respondent_id="u1", country="DEU", profile_n=200,
                       answer=1, truth=1, trace=trace)])
    store.add([Row("full-info", "Q1", {1: 1.0}, fold=0, respondent_id="u2", country="DEU", profile_n=1, answer=1,
                   truth=1, trace={"context": {"text": "short"}})])
    store.flush()
    db = store.db
    assert db.execute("select count(*) from contexts").fetchone()[0] == 1
    stored = db.execute("select max(length(trace)) from traces").fetchone()[0]
    assert stored < 300  # the traces name the context instead of repeating it
    back = store.trace("full-info/0/-1/DEU/-1/u1/Q2")
    assert back.context_text == profile and back.context["items"] == 200 and back.data["question"] == "Q2"
    assert store.trace("full-info/0/-1/DEU/-1/u2/Q1").context == {"text": "short"}  # short ones stay inline
    store.close()


def test_execute_keeps_what_was_handled_and_reraises(tmp_path):
    from valuesim.runs.execute import execute

    handled = []

    def work(i):
        if i == 50:
            raise RuntimeError("broken method")
        return i * i

    with pytest.raises(RuntimeError, match="broken"):
        execute(range(1000), work, lambda t, r: handled.append((t, r)), concurrency=8)
    assert handled and all(r == t * t for t, r in handled) and len(handled) < 1000
    def tasks():  # a task source that breaks is an error too, not a silently shorter run
        yield from range(10)
        raise ValueError("bad task source")

    with pytest.raises(ValueError, match="bad task source"):
        execute(tasks(), lambda i: i, lambda t, r: None, concurrency=4)
    out = []
    execute(range(200), lambda i: i + 1, lambda t, r: out.append(r), concurrency=16)
    assert sorted(out) == list(range(1, 201))


def test_two_population_runs_on_one_directory(synth, tmp_path):
    from valuesim.population import run_population

    out = tmp_path / "pop"
    with RunLock(out, "valuesim population first"), pytest.raises(RunLocked, match="population first"):
        run_population(synth, countries="DEU", personas=2, questions="Q1", methods="no-persona", model="scripted",
                       out=out, progress=False)
    assert not RunDir(out).exists() and not RunDir(out).has_store()
