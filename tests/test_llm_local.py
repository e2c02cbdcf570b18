"""The embedded llama.cpp backend with the tiny SmolLM2-135M model (real engine)."""

import pytest

from valuesim.errors import ConfigError, ModelError
from valuesim.llm import get_model

pytestmark = pytest.mark.engine

QUESTION = [
    {"role": "system", "content": "You answer survey questions about yourself."},
    {"role": "user", "content": "On a scale from 1 (not at all satisfied) to 10 (completely satisfied), "
                                "how satisfied are you with your life? Reply 'Answer: N'."},
]


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("xllamacpp")
    try:
        return get_model("local:smollm2-135m", cache=False)
    except ModelError as exc:
        pytest.skip(str(exc))


def test_full_option_distribution_sums_to_one(tiny):
    codes = [str(i) for i in range(1, 11)]
    dist = tiny.option_distribution(QUESTION, codes)
    assert dist.method == "logprobs"
    assert set(dist.probs) == set(codes)
    assert sum(dist.probs.values()) == pytest.approx(1.0)
    assert all(0.0 <= p <= 1.0 for p in dist.probs.values())
    assert sum(p > 0 for p in dist.probs.values()) >= 3  # a real distribution, not a one-hot
    assert dist.probs["10"] > 0 and dist.probs["1"] > 0  # "1" did not absorb "10"
    assert dist.usage.prompt_tokens > 0


def test_completion_usage_and_prefix_cache(tiny):
    first = tiny.complete(QUESTION, max_tokens=8)
    assert first.text.strip() and first.usage.completion_tokens >= 1
    again = tiny.complete(QUESTION[:1] + [{"role": "user", "content": QUESTION[1]["content"] + " Be brief."}], max_tokens=4)
    assert again.usage.cached_tokens > 0  # the shared system+question prefix was reused
    assert first.finish_reason in ("stop", "length")


def test_grammar_constrains_output(tiny):
    c = tiny.complete(QUESTION, max_tokens=16, grammar='root ::= "Answer: " [1-9]')
    assert c.text.startswith("Answer: ") and c.text[-1].isdigit() and len(c.text) == 9


def test_repeat_penalty_reaches_the_engine(tiny):
    loop = [{"role": "user", "content": "Write the sentence 'You are happy.' ten times."}]
    plain, penalised = (tiny.complete(loop, max_tokens=40, repeat_penalty=p).text for p in (1.0, 1.5))
    assert plain != penalised  # greedy both times: only the penalty can change the text


def test_samples_differ_by_index(tiny):
    texts = {tiny.complete(QUESTION, max_tokens=3, temperature=2.0, sample_index=i).text for i in range(3)}
    assert len(texts) > 1


def test_overlong_prompt_and_bad_specs_are_clear_errors(tiny, tmp_path):
    with pytest.raises(ModelError, match="context"):
        tiny.complete([{"role": "user", "content": "word " * 12000}], max_tokens=1)
    with pytest.raises(ConfigError, match="no model file"):  # refused before anything loads
        get_model(f"local:{tmp_path / 'missing.gguf'}", cache=False)
    with pytest.raises(ConfigError):
        get_model("local:no-such-model", cache=False)


def test_thread_count_follows_free_cores(monkeypatch):
    from valuesim.llm import local

    monkeypatch.setattr(local.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(local, "busy_cores", lambda: 0.0)
    assert local.default_threads() == 2
    monkeypatch.setattr(local, "busy_cores", lambda: 14.0)
    assert local.default_threads() == 1
    monkeypatch.setenv("VALUESIM_THREADS", "3")
    assert local.default_threads() == 3
    monkeypatch.setenv("VALUESIM_THREADS", "many")
    with pytest.raises(ConfigError):
        local.default_threads()


def test_busy_cores_reads_runnable_tasks_not_the_lagging_average(monkeypatch, tmp_path):
    """Work that just finished still weighs on the 1-minute load average; the runnable count
    in /proc/loadavg (less this process) is what is busy now."""
    import builtins

    from valuesim.llm import local

    real_open = builtins.open
    lines = iter(["9.50 8.00 7.00 1/300 123\n", "9.50 8.00 7.00 3/300 123\n", "9.50 8.00 7.00 1/300 123\n"])

    def fake_open(path, *args, **kwargs):
        if path == "/proc/loadavg":
            target = tmp_path / "loadavg"
            target.write_text(next(lines))
            return real_open(target, *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    assert local.busy_cores(samples=3, interval=0) == 0.0  # median of 0, 2, 0 others running


def test_declared_context_window_is_the_engines_and_a_full_profile_is_cut_to_fit(tiny):
    """llama.cpp caps the 10,240-token context valuesim asks for at SmolLM2's training length
    (8,192): the declared window is the engine's, so Full Info on a whole profile is cut to fit
    (and says so) instead of being refused by the engine."""
    from valuesim.methods.base import PersonContext
    from valuesim.methods.full_info import RESERVE_TOKENS
    from valuesim.methods.registry import get_method
    from valuesim.survey.model import Profile
    from valuesim.survey.wvs7.bank import load_codebook

    assert tiny.info.context_window == 8192 and tiny.info.size == "small" and tiny.info.prefill
    book = load_codebook()
    person = PersonContext("r", "DEU", Profile(tuple((q, q.codes[0]) for q in book if q.codes and q.id != "Q46")))
    sim = get_method("full-info", tiny)
    trace: dict = {}
    messages, _ = sim.messages(person, book["Q46"], trace)
    assert "cut to fit a 8192-token context" in trace["context"]["note"]
    assert trace["context"]["text"].count("\n\n") + 1 < len(person.profile)
    sent = tiny.api.count_prompt_tokens(messages)
    assert sent + sim.gen.max_tokens <= 8192 < tiny.count_tokens(person.profile.as_qa_list())
    assert sent > 8192 - RESERVE_TOKENS - 600  # cut to the window, not far below it


class _Injected:
    """The engine's server object with failures injected before the real answers."""

    def __init__(self, server, failures):
        self.server, self.failures = server, list(failures)

    @property
    def listening_address(self):
        return self.server.listening_address

    def handle_chat_completions(self, request, callback):  # streamed: llama.cpp hands an error reply to the callback
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            callback(failure)
            return
        self.server.handle_chat_completions(request, callback)


def test_engine_failures_go_through_the_models_one_retry_loop(tiny, monkeypatch):
    from dataclasses import replace

    engine = tiny.api.engine
    busy = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    monkeypatch.setattr(engine, "server", _Injected(engine.server, [busy, RuntimeError("injected crash")]))
    waits: list[float] = []
    monkeypatch.setattr(tiny.api, "retry", replace(tiny.api.retry, sleep=waits.append))
    before = tiny.accounting.requests
    out = tiny.complete(QUESTION, max_tokens=4)
    assert out.text.strip() and out.attempts == 3 and len(waits) == 2
    assert tiny.accounting.requests - before == 3  # both failed engine calls are counted
    too_long = {"error": {"code": 400, "message": "request exceeds the available context size", "type": "x"}}
    engine.server.failures = [too_long]
    with pytest.raises(ModelError, match="context size"):
        tiny.complete(QUESTION, max_tokens=5)
    assert len(waits) == 2  # a refused request is not retried


def _slot_busy(engine) -> bool:
    import json
    import urllib.request

    with urllib.request.urlopen(engine.server.listening_address.rstrip("/") + "/slots", timeout=10) as reply:
        return any(slot.get("is_processing") for slot in json.loads(reply.read()))


def _long_request() -> dict:  # ignore_eos: the engine would write all 4,000 tokens unless stopped
    return {"messages": [{"role": "user", "content": "Write a very long story about a cat."}],
            "max_tokens": 4000, "temperature": 0.0, "ignore_eos": True}


def test_an_interrupted_request_is_cancelled_in_the_engine(tiny):
    """Ctrl-C (or SIGTERM, which the CLI turns into the same exception) while the engine is
    generating: the caller gets the interrupt, the engine stops generating (its slot is idle
    long before 4,000 tokens could be written) and the next request is served normally."""
    import _thread
    import threading
    import time

    from valuesim.llm import local

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("an interrupt reaches the main thread only")
    engine = tiny.api.engine

    def interrupt_once_generating():
        while not any(call.text for call in list(local._active)):
            time.sleep(0.01)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_generating, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        engine.chat(_long_request())
    polls = 0
    while _slot_busy(engine) and polls < 100:  # the cancel task is handled between two tokens
        time.sleep(0.05)
        polls += 1
    assert not _slot_busy(engine)
    after = tiny.complete(QUESTION, max_tokens=4)
    assert after.usage.completion_tokens >= 1 and after.finish_reason in ("stop", "length")


def test_a_streamed_call_returns_what_a_plain_call_returns(tiny):
    """The streamed request is put back together into the non-streamed response: the same
    text, per-token logprobs and usage (the prefix cache included)."""
    from valuesim.llm import local

    engine = tiny.api.engine
    request = {"messages": QUESTION + [{"role": "assistant", "content": "Answer: "}], "max_tokens": 3,
               "temperature": 0.0, "logprobs": True, "top_logprobs": 5}
    with engine.lock:
        plain = engine.server.handle_chat_completions(dict(request))
    streamed = engine.chat(dict(request))
    p, s = plain["choices"][0], streamed["choices"][0]
    assert p["message"]["content"] == "Answer: " + s["message"]["content"]  # streamed: only the continuation
    # a token that adds no text (llama.cpp streams no chunk for it) is the only one missing
    assert [t["token"] for t in p["logprobs"]["content"] if t["token"]] == [t["token"] for t in s["logprobs"]["content"]]
    assert p["logprobs"]["content"][0] == s["logprobs"]["content"][0]  # where an option distribution is read
    assert s["finish_reason"] == p["finish_reason"] and streamed["usage"]["completion_tokens"] == 3
    assert streamed["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
    assert not local._active  # nothing left in flight
    call = local._StreamedCall(engine.server, _long_request())
    call.cancel.set()  # stopped at its first token
    with engine.lock:
        call.start()
        call.done.wait(30)
    with pytest.raises(ModelError, match="cancelled"):
        call.result()
