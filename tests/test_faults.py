"""The faults of issue 20 (secrets, provenance, refused commands, one-line errors, small CLI
checks), each reproduced as a user meets it: the CLI on a synthetic file, a fake OpenAI server."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from contextlib import closing

import pytest

from fake_server import method_reply
from valuesim.cli import main
from valuesim.llm.secrets import scrub, scrub_argv


@pytest.fixture(scope="module")
def synth(synthetic_file):
    return synthetic_file(120, ["DEU", "NGA"], seed=3)


@pytest.fixture(autouse=True)
def collected():
    """Objects earlier tests left to the collector (an HTTP client's event loop) are collected
    here, not during the next command, whose stderr the tests read line by line."""
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


STAT = ["--methods", "country-marginal", "--folds", "3", "--no-progress"]


def ok(capsys, argv: list[str]) -> str:
    """Run a command that must succeed; its output (notes included) is consumed."""
    code = main(argv)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    return printed.out


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("valuesim: error: "), err
    return err


# --- 1. secrets: URL user info parsed up to the LAST "@" of the authority -------------------

PASSWORDS = ["PASS@WORD999", "pa:ss:wd@w0rd", "pa%40ss%3Aword", "pässwörd€@üxy"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_scrub_masks_every_password_form(password):
    url = f"http://alice:{password}@127.0.0.1:8080/v1"
    for text in (url, f"cannot reach {url}: refused", f"--base-url={url}", f"({url})",
                 f"{url},http://bob:{password}@other/v1", url.replace("/v1", "")):
        out = scrub(text)
        for part in {password, *[p for p in password.replace(":", "@").split("@") if len(p) > 2]}:
            assert part not in out, (text, out)
        assert "127.0.0.1:8080" in out and "alice" not in out
    assert scrub_argv(["valuesim", "--base-url", url.replace("pa", "p a")]).count("***@127.0.0.1:8080") == 1
    assert scrub("http://host:8/v1/x@y and http://h/v1") == "http://host:8/v1/x@y and http://h/v1"


@pytest.mark.parametrize("password", PASSWORDS)
def test_password_reaches_no_artefact_and_no_message(serve, synth, tmp_path, monkeypatch, capsys, password):
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    server = serve(("call", method_reply))
    url = server.url.replace("http://", f"http://alice:{password}@")
    out = tmp_path / "run"
    argv = ["eval", str(synth), "--methods", "no-profile", "--users", "2", "--folds", "2", "--items", "Q1-Q4",
            "--model", "openai:fake-model", "--base-url", url, "--out", str(out), "--no-progress", "--report"]
    monkeypatch.setattr(sys, "argv", ["valuesim", *argv])  # what run.json and the lock record
    code = main(argv)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert server.requests  # the server was used ...
    record = json.loads((out / "run.json").read_text())
    assert "***@" in record["command"]
    secrets = {password, *[p for p in password.replace(":", "@").split("@") if len(p) > 2]}
    files = [p for p in list(out.rglob("*")) + list((tmp_path / "home").rglob("*")) if p.is_file()]
    assert any(p.name == "report.html" for p in files)
    for p in files:  # ... and the password is written nowhere, in no encoding
        blob = p.read_bytes()
        for s in secrets:
            for form in {s.encode(), s.encode("unicode_escape"), json.dumps(s)[1:-1].encode()}:
                assert form not in blob, (p, s)
    for s in secrets:
        assert s not in printed.out + printed.err


# --- 2. provenance: the store keeps the run's identity --------------------------------------


def rows(out) -> int:
    with closing(sqlite3.connect(out / "predictions.sqlite")) as db:
        return db.execute("SELECT count(*) FROM predictions").fetchone()[0]


def test_a_run_without_run_json_is_refused_with_other_settings_and_repaired_with_the_same(synth, tmp_path, capsys):
    out = tmp_path / "run"
    ok(capsys, ["eval", str(synth), *STAT, "--users", "4", "--out", str(out)])
    original = json.loads((out / "run.json").read_text())
    (out / "run.json").unlink()
    before = (out / "split.json").read_bytes(), rows(out)
    assert main(["eval", str(synth), *STAT, "--users", "3", "--seed", "5", "--out", str(out)]) == 2
    err = one_error_line(capsys)
    assert "no run.json" in err and "seed: was 0, now 5" in err and "users: was 4, now 3" in err
    assert not (out / "run.json").exists()  # never rewritten with the new settings
    assert ((out / "split.json").read_bytes(), rows(out)) == before
    # the original settings resume, and run.json is rebuilt from the store
    assert "0 written by this session" in ok(capsys, ["eval", str(synth), *STAT, "--users", "4", "--out", str(out)])
    repaired = json.loads((out / "run.json").read_text())
    assert repaired["settings"] == original["settings"] and "repaired" in repaired


def test_a_run_json_that_disagrees_with_its_store_is_refused(synth, tmp_path, capsys):
    out = tmp_path / "run"
    ok(capsys, ["eval", str(synth), *STAT, "--users", "4", "--out", str(out)])
    record = json.loads((out / "run.json").read_text())
    record["settings"]["seed"] = 9  # edited (or copied from another run)
    (out / "run.json").write_text(json.dumps(record))
    assert main(["eval", str(synth), *STAT, "--users", "4", "--seed", "9", "--out", str(out)]) == 2
    err = one_error_line(capsys)
    assert "disagrees with" in err and "predictions.sqlite" in err and "seed" in err
    # --force discards the mislabelled results instead of keeping them under the new label
    assert "0 were stored before" in ok(capsys, ["eval", str(synth), *STAT, "--users", "4", "--seed", "9", "--out",
                                                 str(out), "--force"])


def test_results_without_run_json_or_identity_are_refused(synth, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "split.json").write_text("{}")  # results of an unknown run
    assert main(["eval", str(synth), *STAT, "--users", "4", "--out", str(out)]) == 2
    assert "holds results (split.json) but no run.json" in one_error_line(capsys)


def test_population_run_without_run_json_is_refused_with_another_seed(synth, tmp_path, capsys):
    out = tmp_path / "pop"
    pop = ["population", str(synth), "--countries", "DEU,NGA", "--questions", "Q1", "--method", "no-persona",
           "--model", "scripted", "--personas", "2", "--no-progress", "--no-report", "--out", str(out)]
    ok(capsys, pop)
    (out / "run.json").unlink()
    assert main([*pop, "--seed", "4"]) == 2
    assert "seed: was 0, now 4" in one_error_line(capsys) and not (out / "run.json").exists()
    ok(capsys, pop)
    assert json.loads((out / "run.json").read_text())["settings"]["seed"] == 0


# --- 3. a refused command leaves nothing behind ---------------------------------------------


def test_too_many_users_is_refused_before_the_directory_exists(synth, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["eval", str(synth), *STAT, "--users", "100000", "--out", str(out)]) == 2
    assert "nobody is left to fit" in one_error_line(capsys)
    assert not out.exists()
    ok(capsys, ["eval", str(synth), *STAT, "--users", "2", "--out", str(out)])  # the corrected command runs


@pytest.mark.parametrize("command", ["eval", "population"])
def test_empty_out_is_refused(synth, tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    args = ([*STAT, "--users", "2"] if command == "eval" else
            ["--countries", "DEU", "--questions", "Q1", "--method", "no-persona", "--model", "scripted",
             "--personas", "2", "--no-progress"])
    assert main([command, str(synth), *args, "--out", ""]) == 2
    assert "--out is empty" in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


# --- 8. one line, exit 2 --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["eval", "population"])
def test_out_naming_an_existing_file_is_one_line(synth, tmp_path, capsys, command):
    target = tmp_path / "afile"
    target.write_text("keep me")
    args = ([*STAT, "--users", "2"] if command == "eval" else
            ["--countries", "DEU", "--questions", "Q1", "--method", "no-persona", "--model", "scripted",
             "--personas", "2", "--no-progress"])
    assert main([command, str(synth), *args, "--out", str(target)]) == 2
    assert "is an existing file" in one_error_line(capsys)
    assert main([command, str(synth), *args, "--out", str(target / "sub")]) == 2
    assert "is a file" in one_error_line(capsys)
    assert target.read_text() == "keep me"


def test_out_in_a_read_only_folder_is_one_line(synth, tmp_path, capsys, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):  # root writes anywhere: make the OS answer as it would for a user
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(ro) else real(p, mode, **kw))
    try:
        assert main(["eval", str(synth), *STAT, "--users", "2", "--out", str(ro / "run")]) == 2
        err = one_error_line(capsys)
        assert "not writable" in err and str(ro) in err
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_an_os_refusal_while_creating_the_run_is_one_line(synth, tmp_path, capsys, monkeypatch):
    from pathlib import Path

    def refuse(self, *a, **kw):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["eval", str(synth), *STAT, "--users", "2", "--out", str(tmp_path / "run")]) == 2
    assert "Permission denied" in one_error_line(capsys)


def test_a_corrupted_store_is_one_line_on_resume_and_on_report(synth, tmp_path, capsys):
    out = tmp_path / "run"
    ok(capsys, ["eval", str(synth), *STAT, "--users", "2", "--out", str(out)])
    capsys.readouterr()
    (out / "predictions.sqlite").write_bytes(b"garbage" * 300)
    for argv in (["eval", str(synth), *STAT, "--users", "2", "--out", str(out)], ["report", str(out)]):
        assert main(argv) == 2
        err = one_error_line(capsys)
        assert "predictions.sqlite is damaged or not a SQLite database" in err
    assert (out / "predictions.sqlite").read_bytes() == b"garbage" * 300  # kept for the user to inspect


# --- 10. flags that meant nothing were accepted silently -------------------------------------


@pytest.mark.parametrize("bad, message", [
    (["--curve-sizes", "5,10"], "--curve-sizes needs --curve"),
    (["--curve-methods", "country-marginal"], "--curve-methods needs --curve"),
    (["--rate", "-1"], "--rate must be a positive number"),
    (["--rate", "0", "--estimate"], "--rate must be a positive number"),
])
def test_meaningless_eval_flags_are_refused(synth, tmp_path, capsys, bad, message):
    out = tmp_path / "run"
    assert main(["eval", str(synth), *STAT, "--users", "2", *bad, "--out", str(out)]) == 2
    assert message in one_error_line(capsys)
    assert not out.exists()


def test_plot_questions_outside_the_targets_are_refused_before_the_run(synth, tmp_path, capsys):
    out = tmp_path / "pop"
    pop = ["population", str(synth), "--countries", "DEU,NGA", "--questions", "Q1,Q2", "--method", "no-persona",
           "--model", "scripted", "--personas", "2", "--no-progress", "--out", str(out)]
    assert main([*pop, "--plot-questions", "Q999"]) == 2
    assert "--plot-questions Q999: not among this run's target questions (Q1, Q2)" in one_error_line(capsys)
    assert not out.exists()
    assert main([*pop, "--rate", "-1"]) == 2 and "--rate" in one_error_line(capsys)
    ok(capsys, [*pop, "--plot-questions", "q2"])


# --- 5. the model is checked before the first prediction; all failed is not success --------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LLM = ["--methods", "no-profile", "--users", "2", "--folds", "2", "--items", "Q1-Q4", "--no-progress"]


def test_a_file_that_is_not_a_model_fails_at_once_in_one_line(synth, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["eval", str(synth), *LLM, "--model", f"local:{synth}", "--out", str(out)]) == 2
    err = one_error_line(capsys)  # not one "loading synth.csv" line per prediction
    assert "is not a GGUF model file" in err and not out.exists()
    assert main(["eval", str(synth), *LLM, "--model", "local:/no/such/model.gguf", "--out", str(out)]) == 2
    assert "no model file" in one_error_line(capsys) and not out.exists()


@pytest.mark.parametrize("command", ["eval", "population"])
def test_an_unreachable_server_is_one_line_before_the_run(synth, tmp_path, capsys, monkeypatch, command):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-unused-123456")
    out = tmp_path / "run"
    url = f"http://127.0.0.1:{free_port()}/v1"
    args = (LLM if command == "eval" else ["--countries", "DEU", "--questions", "Q1", "--method", "value-persona",
                                           "--personas", "2", "--no-progress"])
    assert main([command, str(synth), *args, "--model", "openai:fake-model", "--base-url", url,
                 "--out", str(out)]) == 2
    err = one_error_line(capsys)
    assert "failed its check before the first prediction" in err and "cannot reach the model server" in err
    assert not out.exists()  # nothing to resume: the corrected command starts clean


def test_a_resumed_run_checks_the_model_only_when_work_is_left(serve, synth, tmp_path, capsys):
    server = serve(("call", method_reply))
    out = tmp_path / "run"
    argv = ["eval", str(synth), *LLM, "--model", "openai:fake-model", "--base-url", server.url, "--out", str(out)]
    ok(capsys, argv)
    n = len(server.requests)
    dead = f"http://127.0.0.1:{free_port()}/v1"
    ok(capsys, argv[:-4] + ["--base-url", dead, "--out", str(out)])  # finished: nothing to ask, no check
    assert len(server.requests) == n
    with closing(sqlite3.connect(out / "predictions.sqlite")) as db, db:
        db.execute("DELETE FROM predictions WHERE question_id = 'Q1'")  # work left over
    assert main(argv[:-4] + ["--base-url", dead, "--out", str(out)]) == 2
    assert "failed its check before the first prediction" in one_error_line(capsys)


def test_a_run_whose_every_prediction_failed_exits_non_zero(serve, synth, tmp_path, capsys):
    def reply(body):  # a server that is there, and never answers a question
        return method_reply(body, text="I would rather not say.")

    server = serve(("call", reply))
    out = tmp_path / "run"
    code = main(["eval", str(synth), *LLM, "--model", "openai:fake-model", "--base-url", server.url,
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "valuesim: error: all 8 predictions" in err and "failed" in err


# --- 7. SIGTERM is handled like Ctrl-C ------------------------------------------------------


@pytest.mark.parametrize("command", ["eval", "population"])
def test_sigterm_saves_marks_the_session_interrupted_and_exits_143(serve, synth, tmp_path, capsys, command):
    import signal
    import subprocess
    import time

    def slow(body):
        time.sleep(0.15)
        return method_reply(body)

    server = serve(("call", slow))
    out = tmp_path / "run"
    args = (["--methods", "no-profile", "--users", "3", "--folds", "2", "--items", "Q1-Q8", "--no-progress"]
            if command == "eval" else
            ["--countries", "DEU,NGA", "--questions", "Q1,Q2,Q3", "--method", "value-persona", "--personas", "4",
             "--no-progress", "--no-report"])
    argv = [command, str(synth), *args, "--model", "openai:fake-model", "--base-url", server.url,
            "--concurrency", "1", "--out", str(out)]
    store = out / "predictions.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from valuesim.cli import main; sys.exit(main(sys.argv[1:]))",
                             *argv], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(server.requests) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM); everything computed so far is saved" in err
    with closing(sqlite3.connect(store)) as db:
        assert [r[0] for r in db.execute("SELECT status FROM sessions")] == ["interrupted"]
    if command == "population":
        assert json.loads((out / "run.json").read_text())["sessions"][-1]["status"] == "interrupted"
    ok(capsys, argv)  # resumed to the end
    with closing(sqlite3.connect(store)) as db:
        assert [r[0] for r in db.execute("SELECT status FROM sessions")] == ["interrupted", "finished"]


# --- 9. control characters from models and files never reach the terminal raw ----------------

HOSTILE = "\x1b]0;PWNED\x07\x1b[31mred\x1b[0m\x9b2J\u202eevil\rhidden"


def test_neutralise_shows_every_control_character_as_an_escape():
    from valuesim.cli.terminal import neutralise

    out = neutralise("a\tb\n" + HOSTILE)
    assert out.startswith("a\tb\n") and "\\x1b]0;PWNED\\x07\\x1b[31m" in out
    assert "\\x9b2J" in out and "\\u202eevil" in out and "\\x0dhidden" in out
    assert not any(ord(c) < 32 and c not in "\t\n" or 0x7f <= ord(c) <= 0x9f for c in out)
    assert neutralise("50%|###\r", keep_carriage_return=True) == "50%|###\r"  # the progress bar redraws


def raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 32 and c not in "\t\n\r") or 0x7f <= ord(c) <= 0x9f or c == "\u202e"]


def test_model_text_is_neutralised_on_the_terminal(serve, synth, tmp_path, monkeypatch, capsys):
    """(`story` prints through the same streams; its fake story would have to pass the story
    checks to be printed, so `ask`, which prints every module's analysis, stands for both.)"""
    import pandas as pd

    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    from fake_server import STORY, chat_body

    def reply(body):  # a model whose story and analyses carry escape sequences
        if "writer of background stories" in body["messages"][-1]["content"]:
            return 200, chat_body(STORY + " " + HOSTILE)
        return method_reply(body, text="Answer: 2\nAnalysis: it fits." + HOSTILE)

    server = serve(("call", reply))
    rid = str(pd.read_csv(synth, usecols=["D_INTERVIEW"])["D_INTERVIEW"].iloc[0])
    args = ["--option", "valuesim.story_audit=0", "--question", "Q46", "--method", "valuesim", "--story", "statements"]
    code = main(["ask", str(synth), "--respondent", rid, "--model", "openai:fake-model", "--base-url", server.url,
                 "--no-cache", *args])
    printed = capsys.readouterr()
    assert server.requests, printed.err
    shown = printed.out + printed.err
    assert "\\x1b]0;PWNED\\x07" in shown, (code, shown[-2000:])  # the model's text is shown, defused
    assert raw_controls(shown) == [] and "\r" not in printed.out


def test_file_and_argument_text_in_an_error_line_is_neutralised(synth, capsys):
    assert main(["ask", str(synth), "--respondent", "\x1b[2Jnobody\x07", "--question", "Q46",
                 "--method", "country-marginal"]) == 2
    err = capsys.readouterr().err
    assert raw_controls(err) == [] and ("\\x1b[2Jnobody" in err or "nobody" in err)


# --- 6. a report of an unfinished or running study says so at the top ------------------------


def status_line(report_md) -> str:
    return next(line for line in report_md.read_text().splitlines() if line.startswith("| Status |"))


def test_report_of_an_unfinished_or_running_study_says_so_at_the_top(synth, tmp_path, capsys):
    import subprocess

    out = tmp_path / "run"
    ok(capsys, ["eval", str(synth), *STAT, "--users", "3", "--out", str(out), "--report"])
    first = out / "report" / "report.md"
    assert status_line(first).startswith("| Status | complete: country-marginal ")
    assert first.read_text().index("| Status |") < first.read_text().index("| Survey |")  # at the top
    n = rows(out)
    with closing(sqlite3.connect(out / "predictions.sqlite")) as db, db:  # stopped before the end
        db.execute("DELETE FROM predictions WHERE rowid IN (SELECT rowid FROM predictions LIMIT ?)", (n - 7,))
        db.execute("UPDATE sessions SET status = 'interrupted'")
    ok(capsys, ["report", str(out)])
    line = status_line(first)
    assert f"UNFINISHED (last session interrupted): country-marginal 7/{n} done" in line
    holder = subprocess.Popen(  # another process working in the run
        [sys.executable, "-c", "import sys, time; from valuesim.runs.rundir import RunLock; "
                               f"RunLock({str(out)!r}, 'valuesim eval other').acquire(); print('held', flush=True); "
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        ok(capsys, ["report", str(out)])
        assert "RUNNING: a valuesim process is working in this run (pid" in status_line(first)
    finally:
        holder.kill()
        holder.wait()
    ok(capsys, ["eval", str(synth), *STAT, "--users", "3", "--out", str(out), "--report"])  # finished again
    assert status_line(first).startswith("| Status | complete")


def test_population_report_of_an_unfinished_run_says_so(synth, tmp_path, capsys):
    out = tmp_path / "pop"
    pop = ["population", str(synth), "--countries", "DEU,NGA", "--questions", "Q1,Q2", "--method", "no-persona",
           "--model", "scripted", "--personas", "2", "--no-progress", "--out", str(out)]
    ok(capsys, pop)
    assert status_line(out / "report" / "report.md").startswith("| Status | complete: no-persona 4/4 done")
    with closing(sqlite3.connect(out / "predictions.sqlite")) as db, db:
        db.execute("DELETE FROM predictions WHERE method = 'no-persona' AND rowid IN "
                   "(SELECT rowid FROM predictions WHERE method = 'no-persona' LIMIT 3)")
    from valuesim.population import write_population_report

    write_population_report(out)
    assert "UNFINISHED (predictions missing): no-persona 1/4 done" in status_line(out / "report" / "report.md")


# --- 10. HTTP attempts beside LLM calls; no division by ~0 in `models check` ------------------


def test_reports_show_http_requests_beside_llm_calls(serve, synth, tmp_path, capsys):
    calls = {"n": 0}

    def flaky(body):  # every other request fails once: more HTTP requests than LLM calls
        calls["n"] += 1
        return (500, {"error": {"message": "try again", "type": "x"}}) if calls["n"] % 2 else method_reply(body)

    server = serve(("call", flaky))
    out = tmp_path / "run"
    printed = ok(capsys, ["eval", str(synth), *LLM, "--model", "openai:fake-model", "--base-url", server.url,
                          "--out", str(out), "--report"])
    report = (out / "report" / "report.md").read_text()
    assert "| LLM calls | HTTP requests |" in report
    row = next(line for line in report.splitlines() if line.startswith("| all |")).split("|")
    header = next(line for line in report.splitlines() if "| HTTP requests |" in line).split("|")
    llm_calls, http = int(row[header.index(" LLM calls ")]), int(row[header.index(" HTTP requests ")])
    assert llm_calls == 8 and http == len([r for r in server.requests if "messages" in r]) > llm_calls
    assert f"8 calls ({http} HTTP requests, retries included)" in printed


def test_models_check_does_not_divide_by_almost_zero(serve, capsys):
    from valuesim.llm.check import _rate

    assert _rate(3, 1e-6, 0.002) is None and _rate(3, 0.0004, 0.0004) is None
    assert _rate(48, 0.5, 0.6) == 96.0
    server = serve(("call", method_reply))  # answers at once: nothing to time
    code = main(["models", "check", "--model", "openai:fake-model", "--base-url", server.url])
    printed = capsys.readouterr().out
    assert code == 0
    line = next(x for x in printed.splitlines() if x.startswith("generated_tokens_per_second"))
    value = line.split()[-1]
    assert "n/a" in line or float(value) < 1e5, line
