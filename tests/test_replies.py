"""Hostile replies at the model boundary (issue 30 items 3, 6, 8), through the CLI against the
fake OpenAI server: log-probabilities that are no probabilities, the API key echoed inside a
valid answer, a reply of megabytes. Each is checked by the Model before anything reads,
stores or caches the reply (llm/replies.py)."""

from __future__ import annotations

import copy
import math
import sqlite3
from contextlib import closing

import pandas as pd
import pytest

from fake_server import ANSWER_LP, SECRET, USER, method_reply, retrying
from valuesim.cli import main
from valuesim.errors import ModelError
from valuesim.llm import ModelOutput, TokenLogprob
from valuesim.llm.base import RetryPolicy
from valuesim.llm.cache import _flush_all
from valuesim.llm.replies import MAX_REPLY_CHARS, ReplyTooLarge, UnreadableReply, check_reply, mask_secrets


@pytest.fixture(scope="module")
def synth(synthetic_file):
    return synthetic_file(60, ["DEU", "NGA"], seed=5)


@pytest.fixture
def no_waits(monkeypatch):
    """The Model's retry loop without its backoff (the CLI builds its own models)."""
    monkeypatch.setattr(RetryPolicy, "wait", lambda self, tries, hint: 0.0)


def first_id(path) -> str:
    return str(pd.read_csv(path, usecols=["D_INTERVIEW"])["D_INTERVIEW"].iloc[0])


def files_bytes(*roots) -> list[bytes]:
    _flush_all()  # the response cache writes in batches: what is pending reaches the file first
    return [p.read_bytes() for root in roots for p in root.rglob("*") if p.is_file()]


def cache_rows(home) -> list[str]:
    _flush_all()
    path = home / "cache.sqlite"
    if not path.exists():
        return []
    with closing(sqlite3.connect(path)) as db:
        return [r[0] for r in db.execute("SELECT value FROM responses WHERE kind = 'complete'")]


def broken_logprobs(value: float) -> list:
    """ANSWER_LP with the answer token's alternatives given ``value`` as a log-probability."""
    lp = copy.deepcopy(ANSWER_LP)
    lp[3]["top_logprobs"][0]["logprob"] = value
    lp[3]["logprob"] = value
    return lp


# --- 3. log-probabilities that are not finite or are above 0 ------------------------------------


@pytest.mark.parametrize("value", [math.inf, 2.5, math.nan])
def test_unreadable_logprobs_are_asked_again_never_cached_never_a_success(serve, synth, tmp_path, monkeypatch,
                                                                          capsys, no_waits, value):
    home = tmp_path / "home"
    monkeypatch.setenv("VALUESIM_HOME", str(home))
    healthy = {"on": False}

    def reply(body):
        status, payload = method_reply(body)
        if body.get("logprobs") and not healthy["on"]:
            payload["choices"][0]["logprobs"] = {"content": broken_logprobs(value)}
        return status, payload

    server = serve(("call", reply))
    ask = ["ask", str(synth), "--respondent", first_id(synth), "--question", "Q46", "--method", "no-profile",
           "--model", "openai:fake-model", "--base-url", server.url]
    assert main(ask) == 1  # not predicted: no distribution was read, none is shown
    out = capsys.readouterr().out
    assert "not log-probabilities" in out and "Final distribution:" not in out
    assert len(server.requests) == 7  # the first try and six more: each reply re-asked, none accepted
    assert cache_rows(home) == []  # nothing cached
    healthy["on"] = True
    assert main(ask) == 0  # the healthy server is asked, not a replay of the broken reply
    out = capsys.readouterr().out
    assert "Final distribution:" in out and len(server.requests) == 8 and len(cache_rows(home)) == 1


def test_unreadable_logprobs_in_an_eval_are_failures_not_results(serve, synth, tmp_path, monkeypatch, capsys,
                                                                 no_waits):
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))

    def reply(body):
        status, payload = method_reply(body)
        if body.get("logprobs"):
            payload["choices"][0]["logprobs"] = {"content": broken_logprobs(math.inf)}
        return status, payload

    server = serve(("call", reply))
    out = tmp_path / "run"
    code = main(["eval", str(synth), "--methods", "no-profile", "--users", "2", "--folds", "2", "--items", "Q1-Q4",
                 "--no-progress", "--model", "openai:fake-model", "--base-url", server.url, "--out", str(out)])
    assert code == 1 and "all 8 predictions" in capsys.readouterr().err
    with closing(sqlite3.connect(out / "predictions.sqlite")) as db:
        rows = db.execute("SELECT failed, error FROM predictions").fetchall()
    assert len(rows) == 8 and all(failed and "not log-probabilities" in error for failed, error in rows)


def test_a_cache_entry_with_unreadable_logprobs_is_never_served():
    bad = ModelOutput("Answer: 2", logprobs=[TokenLogprob("2", math.inf, {"2": math.inf})])
    with pytest.raises(UnreadableReply):
        check_reply(bad, "m")
    assert UnreadableReply("x").retryable and not ReplyTooLarge("x").retryable
    fine = ModelOutput("Answer: 2", logprobs=[TokenLogprob("2", 1e-9, {"2": 1e-9, "3": -4.0, "4": -math.inf})])
    assert check_reply(fine, "m") is fine  # rounding noise above 0 is no probability above 1; -inf is p = 0


# --- 6. the key echoed inside a valid reply -----------------------------------------------------


@pytest.mark.parametrize("key", [SECRET, "Zq8wT1mK0pLx44uY"])  # an sk- key, and a key of no known shape
def test_a_key_echoed_in_a_valid_reply_is_nowhere_on_disk(serve, synth, tmp_path, monkeypatch, capsys, key):
    home = tmp_path / "home"
    monkeypatch.setenv("VALUESIM_HOME", str(home))
    server = serve(("call", lambda body: method_reply(body, text=f"Answer: 2\nAnalysis: my key is {key}, see {key}.")))
    monkeypatch.setenv("OPENAI_API_KEY", key)
    out = tmp_path / "run"
    code = main(["eval", str(synth), "--methods", "no-profile", "--users", "2", "--folds", "2", "--items", "Q1-Q4",
                 "--no-progress", "--model", "openai:fake-model", "--base-url", server.url, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    blobs = files_bytes(out, home)
    assert any(b"my key is ***, see ***." in b for b in blobs)  # the answer was kept, the key masked
    assert not any(key.encode() in b for b in blobs)
    rows = cache_rows(home)
    assert rows and not any(key in r for r in rows)


def test_a_key_spelled_across_tokens_is_masked_in_the_tokens_too():
    key = "Zq8wT1mK0pLx44uY"
    tokens = [TokenLogprob(t, -0.1, {t: -0.1}) for t in ("Answer", ": ", "2", " key ", "Zq8w", "T1mK0p", "Lx44uY", ".")]
    tokens[5].top["Zq8wT1mK0pLx44uY"] = -3.0
    out = mask_secrets(ModelOutput("".join(t.token for t in tokens), logprobs=tokens), [key])
    assert out.text == "Answer: 2 key ***." and "".join(t.token for t in out.logprobs) == out.text
    assert not any(key in t.token or any(key in k for k in t.top) for t in out.logprobs)
    assert [t.token for t in out.logprobs][:3] == ["Answer", ": ", "2"]  # the answer position is untouched


# --- 8. a reply of megabytes --------------------------------------------------------------------


def test_a_huge_reply_is_refused_and_stored_nowhere(serve, synth, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("VALUESIM_HOME", str(home))
    huge = "Answer: 2\nAnalysis: " + "na " * (MAX_REPLY_CHARS // 2)  # 1.5 MB
    server = serve(("call", lambda body: method_reply(body, text=huge)))
    out = tmp_path / "run"
    code = main(["eval", str(synth), "--methods", "no-profile", "--users", "2", "--folds", "2", "--items", "Q1-Q2",
                 "--no-progress", "--model", "openai:fake-model", "--base-url", server.url, "--out", str(out)])
    assert code == 1 and "all 4 predictions" in capsys.readouterr().err
    with closing(sqlite3.connect(out / "predictions.sqlite")) as db:
        errors = [r[0] for r in db.execute("SELECT error FROM predictions WHERE failed")]
    assert len(errors) == 4 and all("over the 1 MB" in e for e in errors)
    assert len(server.requests) == 4  # refused, not asked again
    assert sum(len(b) for b in files_bytes(out, home)) < 1_000_000  # neither the run nor the cache holds it
    assert cache_rows(home) == []


def test_the_model_refuses_a_huge_reply_once(serve):
    server = serve(("good", "x" * (MAX_REPLY_CHARS + 1)))
    model = retrying(server)
    with pytest.raises(ModelError, match="over the 1 MB"):
        model.complete(USER)
    assert len(server.requests) == 1 and model.accounting.requests == 1 and model.accounting.failures == 1
    big = ModelOutput("Answer: 2", logprobs=[TokenLogprob("a", -0.1, {f"t{i}": -1.0 for i in range(20)})] * 3000)
    with pytest.raises(ReplyTooLarge):
        check_reply(big, "m")


def test_a_reply_announced_over_16_mb_is_refused_before_it_is_read(serve):
    from valuesim.llm.transport import MAX_BODY_BYTES

    server = serve(("good", "x" * (MAX_BODY_BYTES + 1000)))
    model = retrying(server)
    with pytest.raises(ModelError, match="over the 16 MB a reply may take: refused before it was read"):
        model.complete(USER)
    assert len(server.requests) == 1 and model.waits == []  # not retried: the next one would be as large
