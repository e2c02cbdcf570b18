"""`--batch files`: a study in rounds around any engine that reads OpenAI batch JSONL.

export -> the `vllm run-batch` stand-in -> import, round after round, stores the same
predictions as the online path against the same fake model; results from another run or
another model are refused in one line and import nothing; importing twice is harmless."""

from __future__ import annotations

import json

import pytest

from batch_helpers import cli, play_round, predictions
from fake_batch_server import FakeBatchServer
from fake_server import SECRET
from valuesim.llm.batch import BatchState

MAX_ROUNDS = 15


@pytest.fixture(scope="module")
def survey_file(synthetic_file):
    return synthetic_file(120, ["DEU", "NGA"], seed=5)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    s = FakeBatchServer()
    yield s
    s.close()


def eval_args(survey_file, out, url, methods="full-info", seed=0):
    """3 users x 2 folds on 8 target items; ValueSim audits its story on 4 items and measures
    fidelity without gating on it (the fake model answers 2 to everything)."""
    options = ["--option", "valuesim.story_audit=4", "--option", "valuesim.min_fidelity=0"] if "valuesim" in methods else []
    return ["eval", survey_file, "--methods", methods, "--users", 3, "--folds", 2, "--items", "Q1-Q8", "--seed", seed,
            "--model", "openai:fake-model", "--base-url", url, "--out", out, "--no-progress", *options]


def files_run(args, run, tmp_path, capsys) -> list[int]:
    """Run ``args`` with --batch files until no request is pending: the requests of each round."""
    rounds = []
    for k in range(MAX_ROUNDS):
        code, out, err = cli(*args, "--batch", "files", capsys=capsys)
        assert code == 0, err
        n = play_round(run, tmp_path, k)
        if not n:
            assert "the study is complete" in err
            return rounds
        rounds.append(n)
    raise AssertionError(f"not complete after {MAX_ROUNDS} rounds: {rounds}")


def test_files_rounds_store_what_the_online_path_stores(server, survey_file, tmp_path, monkeypatch, capsys):
    methods = "valuesim,full-info,regression"
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "online-home"))
    assert cli(*eval_args(survey_file, tmp_path / "online", server.url, methods))[0] == 0
    online_requests = len(server.chat)
    assert online_requests > 0
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "batch-home"))
    rounds = files_run(eval_args(survey_file, tmp_path / "batch", server.url, methods), tmp_path / "batch",
                       tmp_path, capsys)
    assert len(server.chat) == online_requests  # the batch run sent nothing online
    online, batch = predictions(tmp_path / "online"), predictions(tmp_path / "batch")
    assert len(batch) == 2 * 3 * 4 * 3 and not any(r[10] for r in batch)
    assert batch == online
    # ValueSim's stages: backstory, its audit, the three modules (one round), the coordinator;
    # Full Info answers in the first round with them
    assert len(rounds) == 4, rounds
    # every request a round wrote is the body the online path sent, each once (online, identical
    # requests in flight at the same time can both go out)
    sent = {json.dumps(b, sort_keys=True) for b in server.chat if b["max_tokens"] > 1}  # not the preflight's
    written = [json.dumps(json.loads(x)["body"], sort_keys=True) for k in range(len(rounds))
               for x in (tmp_path / f"round{k}.jsonl").read_text().splitlines()]
    assert len(written) == len(set(written)) == len(sent) and set(written) == sent


def test_results_of_another_run_or_model_are_refused_and_import_nothing(server, survey_file, tmp_path, monkeypatch,
                                                                        capsys):
    import vllm_run_batch_standin

    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    mine, other = tmp_path / "mine", tmp_path / "other"
    assert cli(*eval_args(survey_file, mine, server.url), "--batch", "files")[0] == 0
    assert cli(*eval_args(survey_file, other, server.url, seed=7), "--batch", "files")[0] == 0
    cli("batch", "export", other, "--out", tmp_path / "other.jsonl")
    vllm_run_batch_standin.main(["-i", str(tmp_path / "other.jsonl"), "-o", str(tmp_path / "other-out.jsonl"),
                                 "--model", "fake-model"])
    capsys.readouterr()
    code, out, err = cli("batch", "import", mine, tmp_path / "other-out.jsonl", capsys=capsys)
    cli("batch", "export", mine, "--out", tmp_path / "mine.jsonl")
    ids = [{json.loads(x)["custom_id"] for x in (tmp_path / f"{n}.jsonl").read_text().splitlines()}
           for n in ("mine", "other")]
    foreign = len(ids[1] - ids[0])
    assert foreign > 0
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "refused, nothing imported" in err and f"{foreign} lines answer requests this run never made" in err
    state = BatchState(mine, create=False)
    assert state.query("SELECT COUNT(*) FROM replies") == [(0,)]
    state.close()
    # the right requests answered by another model: refused too
    vllm_run_batch_standin.main(["-i", str(tmp_path / "mine.jsonl"), "-o", str(tmp_path / "wrong.jsonl"),
                                 "--model", "another-model"])
    capsys.readouterr()
    code, out, err = cli("batch", "import", mine, tmp_path / "wrong.jsonl", capsys=capsys)
    assert code == 2 and f"{len(ids[0])} lines were answered by another model (another-model; this run asks fake-model)" in err
    # a changed request (its key is another hash): refused
    lines = (tmp_path / "mine.jsonl").read_text().splitlines()
    changed = [json.loads(x) for x in lines]
    changed[0]["custom_id"] = "0" * 64
    (tmp_path / "changed.jsonl").write_text("".join(json.dumps(x) + "\n" for x in changed))
    vllm_run_batch_standin.main(["-i", str(tmp_path / "changed.jsonl"), "-o", str(tmp_path / "changed-out.jsonl"),
                                 "--model", "fake-model"])
    capsys.readouterr()
    code, out, err = cli("batch", "import", mine, tmp_path / "changed-out.jsonl", capsys=capsys)
    assert code == 2 and "1 lines answer requests this run never made" in err
    # the right file: accepted; importing it twice changes nothing
    vllm_run_batch_standin.main(["-i", str(tmp_path / "mine.jsonl"), "-o", str(tmp_path / "right.jsonl"),
                                 "--model", "fake-model"])
    capsys.readouterr()
    code, out, err = cli("batch", "import", mine, tmp_path / "right.jsonl", capsys=capsys)
    assert code == 0 and f"{len(ids[0])} replies accepted" in out
    code, out, err = cli("batch", "import", mine, tmp_path / "right.jsonl", capsys=capsys)
    assert code == 0 and f"0 replies accepted, {len(ids[0])} already imported" in out
    code, out, err = cli(*eval_args(survey_file, mine, server.url), "--batch", "files", capsys=capsys)
    assert code == 0 and "the study is complete" in err and f"predictions: {len(ids[0])} stored" in out
    code, out, err = cli("batch", "export", mine, "--out", tmp_path / "none.jsonl", capsys=capsys)
    assert code == 0 and "the study is complete" in out and (tmp_path / "none.jsonl").read_text() == ""


def test_batch_needs_an_openai_model(survey_file, tmp_path, capsys):
    code, out, err = cli("eval", survey_file, "--methods", "full-info", "--users", 2, "--folds", 2, "--model",
                         "scripted", "--out", tmp_path / "run", "--batch", "files", capsys=capsys)
    assert code == 2 and "--batch writes OpenAI chat-completions requests: use --model openai:MODEL" in err
    assert not (tmp_path / "run").exists()
