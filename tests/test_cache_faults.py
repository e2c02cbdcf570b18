"""The response cache failing (issue 30 item 12), through the CLI: a cache that is not a
database, a disk that fills during a run, a cache another process keeps locked. Each names the
cache file and the cause (the run's store is fine); a run that meets it during its work warns
once and goes on, its predictions stored."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from fake_server import method_reply
from valuesim.cli import main
from valuesim.errors import sqlite_cause
from valuesim.llm import cache as cache_module


@pytest.fixture(scope="module")
def synth(synthetic_file):
    return synthetic_file(60, ["DEU", "NGA"], seed=7)


def eval_argv(synth, server, out) -> list[str]:
    return ["eval", str(synth), "--methods", "no-profile", "--users", "2", "--folds", "2", "--items", "Q1-Q4",
            "--no-progress", "--model", "openai:fake-model", "--base-url", server.url, "--out", str(out)]


def stored(out) -> int:
    with closing(sqlite3.connect(out / "predictions.sqlite")) as db:
        return db.execute("SELECT COUNT(*) FROM predictions WHERE NOT failed").fetchone()[0]


def make_cache(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL,"
                   " value TEXT NOT NULL, created REAL NOT NULL)")


def test_a_cache_that_is_not_a_database_is_one_line_naming_it_before_the_run(serve, synth, tmp_path, monkeypatch,
                                                                             capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache.sqlite").write_bytes(b"garbage" * 1000)
    monkeypatch.setenv("VALUESIM_HOME", str(home))
    server = serve(("call", method_reply))
    out = tmp_path / "run"
    assert main(eval_argv(synth, server, out)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"the response cache {home / 'cache.sqlite'} failed" in err
    assert "not a SQLite database" in err and "run's store" not in err
    assert not out.exists() and (home / "cache.sqlite").read_bytes() == b"garbage" * 1000  # kept to inspect


def test_a_disk_that_fills_during_a_run_switches_the_cache_off_with_one_warning(serve, synth, tmp_path, monkeypatch,
                                                                                capsys):
    home = tmp_path / "home"
    make_cache(home / "cache.sqlite")
    monkeypatch.setenv("VALUESIM_HOME", str(home))
    connect = cache_module.ResponseCache._connect

    def full(self):  # the file may not grow past what it holds now: SQLite's own "disk is full"
        conn = connect(self)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(cache_module.ResponseCache, "_connect", full)
    monkeypatch.setattr(cache_module, "FLUSH_SECONDS", 0.0)  # every reply is written at once
    server = serve(("call", lambda body: method_reply(body, text="Answer: 2\nAnalysis: " + "long " * 400)))
    out = tmp_path / "run"
    assert main(eval_argv(synth, server, out)) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and f"the response cache {home / 'cache.sqlite'} failed: the disk is full" in warnings[0]
    assert "continuing without it" in warnings[0] and stored(out) == 8  # the run itself is fine


def test_a_cache_locked_by_another_process_is_named_and_the_run_goes_on(serve, synth, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    make_cache(home / "cache.sqlite")
    monkeypatch.setenv("VALUESIM_HOME", str(home))
    monkeypatch.setattr(cache_module, "LOCK_WAIT_SECONDS", 0.2)  # valuesim waits a minute; the test does not
    monkeypatch.setattr(cache_module, "FLUSH_SECONDS", 0.0)
    holder = sqlite3.connect(home / "cache.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for minutes
    try:
        server = serve(("call", method_reply))
        out = tmp_path / "run"
        assert main(eval_argv(synth, server, out)) == 0
    finally:
        holder.close()
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "locked" in warnings[0] and str(home / "cache.sqlite") in warnings[0]
    assert stored(out) == 8


def test_causes_are_named_from_sqlites_own_codes(tmp_path):
    path = tmp_path / "x.sqlite"
    path.write_bytes(b"not a database at all" * 300)
    with pytest.raises(sqlite3.DatabaseError) as info, closing(sqlite3.connect(path)) as db:
        db.execute("SELECT 1 FROM sqlite_master").fetchall()
    assert sqlite_cause(info.value).startswith("the file is not a SQLite database")


def test_the_run_store_failing_is_named_as_the_run_store(synth, tmp_path, capsys, monkeypatch):
    from valuesim.runs import store as store_module

    def fail(*args, **kwargs):  # SQLite's own "disk is full", from a database that may not grow
        with closing(sqlite3.connect(":memory:")) as db:
            db.execute("CREATE TABLE t (x TEXT)")
            db.execute("PRAGMA max_page_count = 2")
            db.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 100)

    out = tmp_path / "run"
    monkeypatch.setattr(store_module.Store, "add", fail)
    code = main(["eval", str(synth), "--methods", "country-marginal", "--users", "2", "--folds", "2", "--no-progress",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "the run's store (predictions.sqlite in the run directory) failed: the disk is full" in err
    assert "response cache" not in err


# --- 9. --concurrency is capped, and a high value warned -----------------------------------------


@pytest.mark.parametrize("asked, used, said", [(100000, 256, "using 256"), (100, 100, "is high"), (8, 8, None)])
def test_concurrency_is_capped_and_a_high_value_warned(serve, synth, tmp_path, monkeypatch, capsys, asked, used, said):
    import json
    import threading

    import valuesim.llm

    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(valuesim.llm, "_WARNED", set())
    peak = [0]

    def reply(body):
        peak[0] = max(peak[0], threading.active_count())
        return method_reply(body)

    server = serve(("call", reply))
    out = tmp_path / "run"
    assert main(eval_argv(synth, server, out) + ["--concurrency", str(asked)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    if said:
        assert len(warnings) == 1 and said in warnings[0] and "--concurrency" in warnings[0], warnings
    else:
        assert not warnings, warnings
    assert json.loads((out / "run.json").read_text())["concurrency"] == used
    assert peak[0] < 400  # never one thread per asked-for request


def test_population_concurrency_is_capped_too(synth, tmp_path, capsys, monkeypatch):
    import valuesim.llm

    monkeypatch.setattr(valuesim.llm, "_WARNED", set())
    out = tmp_path / "pop"
    assert main(["population", str(synth), "--countries", "DEU", "--questions", "Q1", "--method", "no-persona",
                 "--model", "scripted", "--personas", "2", "--no-progress", "--concurrency", "100000",
                 "--out", str(out)]) == 0
    assert "using 256" in capsys.readouterr().err
    assert main(["population", str(synth), "--countries", "DEU", "--questions", "Q1", "--method", "no-persona",
                 "--model", "scripted", "--personas", "2", "--no-progress", "--concurrency", "0",
                 "--out", str(tmp_path / "pop0")]) == 2
    assert "--concurrency must be at least 1" in capsys.readouterr().err


# --- 13. a server whose model list answers anyone, and refuses the key on completions ------------


def test_preflight_asks_for_one_token_when_the_model_list_says_nothing_of_the_key(serve, synth, tmp_path,
                                                                                  monkeypatch, capsys):
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    server = serve(("status", 401, "Invalid API key"))
    server.models = True
    out = tmp_path / "run"
    assert main(eval_argv(synth, server, out)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "failed its check before the first prediction" in err
    assert "rejected the API key (401)" in err and not out.exists()  # no run directory, no failed predictions
    assert len(server.requests) == 1 and server.requests[0]["max_tokens"] == 1  # one minimal completion


def test_the_preflight_completion_is_the_one_request_before_the_run(serve, synth, tmp_path, monkeypatch, capsys):
    import json

    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    server = serve(("call", method_reply))
    server.models = True
    out = tmp_path / "run"
    assert main(eval_argv(synth, server, out)) == 0
    # 8 predictions: 8 study requests, or 7 when two users' identical no-profile prompts meet in the
    # response cache one after the other (in flight together, both are sent): timing decides.
    assert server.requests[0]["max_tokens"] == 1 and len(server.requests) - 1 in (7, 8)
    with closing(sqlite3.connect(out / "predictions.sqlite")) as db:
        usage = [json.loads(r[0]) for r in db.execute("SELECT usage FROM sessions") if r[0]]
    # the run's sessions count the study's requests; the check came before the run existed
    assert sum(u["requests"] for u in usage) == len(server.requests) - 1
