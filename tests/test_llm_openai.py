"""The openai backend against the small fake OpenAI-compatible server of fake_server.py (a script
of behaviours: 429 with Retry-After, 500, slow, garbage, truncated, good answers with or without
logprobs; it records what it received)."""

from __future__ import annotations

import json
import threading

import pytest

from fake_server import SECRET, USER, backend, retrying, token
from valuesim.errors import ModelError
from valuesim.llm import get_model
from valuesim.llm.openai_backend import OpenAIModel


def test_good_answer_usage_and_key_sent(serve):
    server = serve(("good", "Answer: 3"))
    c = backend(server).complete(USER, max_tokens=20)
    assert c.text == "Answer: 3"
    assert (c.usage.prompt_tokens, c.usage.cached_tokens, c.usage.completion_tokens) == (12, 8, 3)
    assert server.requests[0]["model"] == "fake-model" and server.requests[0]["max_tokens"] == 20
    headers = {k.lower(): v for k, v in server.headers[0].items()}
    assert headers["authorization"] == f"Bearer {SECRET}"


def test_repeat_penalty_reaches_the_server_only_when_set(serve, tmp_path):
    server = serve(("good", "Answer: 3"), ("good", "Answer: 3"))
    model = backend(server)
    model.complete(USER, max_tokens=20)
    model.complete(USER, max_tokens=20, repeat_penalty=1.15)
    assert "repeat_penalty" not in server.requests[0] and server.requests[1]["repeat_penalty"] == 1.15


def test_429_honours_retry_after_then_succeeds(serve):
    server = serve(("429", 7), ("good", "Answer: 1"))
    model = retrying(server)
    assert model.complete(USER).text == "Answer: 1"
    assert len(server.requests) == 2
    assert model.waits and model.waits[0] >= 7.0


def test_500_is_retried_with_growing_backoff(serve):
    server = serve(("status", 500, "boom"), ("status", 502, "bad gateway"), ("good", "Answer: 4"))
    model = retrying(server)
    assert model.complete(USER).text == "Answer: 4"
    assert len(server.requests) == 3 and len(model.waits) == 2


def test_persistent_500_gives_one_clear_error(serve):
    server = serve(("status", 500, "boom"))
    with pytest.raises(ModelError, match=r"HTTP 500.*after 4 attempts"):
        retrying(server).complete(USER)
    assert len(server.requests) == 4


def test_slow_answer_times_out_and_is_retried(serve):
    server = serve(("slow", 1.5), ("good", "Answer: 2"))
    model = retrying(server, timeout=0.3)
    assert model.complete(USER).text == "Answer: 2"
    assert len(server.requests) == 2


def test_garbage_and_truncated_replies_end_in_a_clear_error(serve):
    server = serve(("garbage",), ("truncated",), ("garbage",))
    with pytest.raises(ModelError, match="not a valid API reply|cannot reach"):
        retrying(server, max_retries=2).complete(USER)
    assert len(server.requests) == 3


def test_truncated_reply_is_retried(serve):
    server = serve(("truncated",), ("good", "Answer: 1"))
    assert retrying(server).complete(USER).text == "Answer: 1"


def test_wrong_key_message_never_contains_the_key(serve):
    server = serve(("status", 401, f"Incorrect API key provided: {SECRET}"))
    with pytest.raises(ModelError) as info:
        backend(server).complete(USER)
    assert "401" in str(info.value) and SECRET not in str(info.value) and "sk-" not in str(info.value)
    assert len(server.requests) == 1  # not retried


def test_unknown_model_is_one_clear_error(serve):
    server = serve(("status", 404, "The model `fake-model` does not exist"))
    with pytest.raises(ModelError, match="no model 'fake-model'"):
        backend(server).complete(USER)


def test_unreachable_server(monkeypatch):
    model = OpenAIModel("m", base_url="http://127.0.0.1:9/v1", max_retries=1, timeout=2, backoff_base=0.01)
    with pytest.raises(ModelError, match="cannot reach the model server at http://127.0.0.1:9/v1"):
        model.complete(USER)


def test_option_distribution_from_logprobs_multi_digit(serve):
    # The model writes "Answer: 10"; at the answer position "1" is likely, and after "1"
    # the next token decides between "10" (token "0") and "1" (end of answer).
    lp = [
        token("Answer", {"Answer": 1.0}),
        token(":", {":": 1.0}),
        token(" ", {" ": 1.0}),
        token("1", {"1": 0.6, "2": 0.3, "7": 0.1}),
        token("0", {"0": 0.5, "\n": 0.25, "<|end|>": 0.25}),
    ]
    server = serve(("good", "Answer: 10", lp))
    model = get_model(backend(server), cache=False)
    dist = model.option_distribution(USER, [str(i) for i in range(1, 11)])
    assert dist.method == "logprobs"
    assert dist.probs["10"] == pytest.approx(0.3)
    assert dist.probs["1"] == pytest.approx(0.3)
    assert dist.probs["2"] == pytest.approx(0.3)
    assert dist.probs["7"] == pytest.approx(0.1)
    assert sum(dist.probs.values()) == pytest.approx(1.0)
    assert server.requests[0]["logprobs"] is True and server.requests[0]["top_logprobs"] == 20


def test_without_logprobs_one_hot_by_default_and_sampling_only_when_asked(serve):
    server = serve(("good", "Answer: 2"))
    model = get_model(backend(server), cache=False)
    dist = model.option_distribution(USER, ["1", "2", "3", "4"])
    assert dist.method == "parsed" and dist.probs == {"1": 0.0, "2": 1.0, "3": 0.0, "4": 0.0}
    assert len(server.requests) == 1 and model.info.logprobs  # decided per reply, no switch
    replies = ["Answer: 2", "Answer: 2", "I think... Answer: 3", "Answer: 2"]
    server2 = serve(("good", "Answer: 2"), *[("good", r) for r in replies])
    model = get_model(backend(server2), cache=False)
    dist = model.option_distribution(USER, ["1", "2", "3", "4"], samples=4)
    assert dist.method == "sampling"
    assert dist.probs == {"1": 0.0, "2": 0.75, "3": 0.25, "4": 0.0}
    assert len(dist.samples) == 4 and dist.attempts == 5
    temps = [r["temperature"] for r in server2.requests[1:]]
    seeds = {r["seed"] for r in server2.requests[1:]}
    assert temps == [1.0] * 4 and len(seeds) == 4  # distinct seeds: samples are not collapsed


def test_unparsable_sampled_answers_are_one_clear_error(serve):
    server = serve(("good", "I would rather not say."))
    with pytest.raises(ModelError, match="no parsable answer among 3 sampled replies"):
        get_model(backend(server), cache=False).option_distribution(USER, ["1", "2"], samples=3)


def test_concurrency_is_bounded(serve):
    server = serve(("slow", 0.2))
    model = retrying(server, concurrency=2)
    threads = [threading.Thread(target=model.complete, args=(USER,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.requests) == 6 and server.max_inflight <= 2


def test_cache_rows_and_identity_hold_no_key(serve, tmp_path):
    server = serve(("good", "Answer: 3"))
    model = get_model(backend(server), cache=tmp_path / "c.sqlite")
    model.complete(USER)
    model.complete(USER)
    assert len(server.requests) == 1 and model.accounting.cache_hits == 1
    raw = (tmp_path / "c.sqlite").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("c.sqlite*"))
    assert SECRET.encode() not in raw
    assert SECRET not in json.dumps(model.identity())
