"""Retries at the model boundary (issue 25 item 3): a backend declares which failures are worth
retrying and how long to wait; the Model runs the one retry loop and the one concurrency limit;
replica failover stays inside the backend's one try. Against the fake OpenAI server of
fake_server.py, and a ModelAPI that fails as the embedded engine does."""

from __future__ import annotations

import inspect
import threading
from dataclasses import replace

import pytest

from fake_server import USER, backend, retrying
from valuesim.errors import ModelError
from valuesim.llm import GenerateConfig, Model, ModelAPI, ModelOutput, get_model
from valuesim.llm import transport
from valuesim.llm.base import RetryPolicy
from valuesim.llm.local import EngineError, _refusal
from valuesim.llm.openai_backend import OpenAIModel


def test_429_with_retry_after_500_and_a_timeout_are_retried_by_the_model(serve):
    server = serve(("429", 3), ("status", 500, "boom"), ("slow", 1.0), ("good", "Answer: 2"))
    model = retrying(server, timeout=0.3)
    out = model.complete(USER)
    assert out.text == "Answer: 2" and out.attempts == 4
    assert len(server.requests) == 4 == model.accounting.requests and model.accounting.calls == 1
    assert len(model.waits) == 3 and model.waits[0] >= 3.0  # Retry-After honoured, then backoff


def test_the_backend_alone_makes_one_try_and_declares_what_it_was(serve):
    server = serve(("429", 5), ("status", 503, "down"), ("status", 400, "bad request"))
    api = backend(server)
    for status, retryable, wait in ((429, True, 5.0), (503, True, None), (400, False, None)):
        with pytest.raises(ModelError) as info:
            api.complete(USER)
        err = info.value
        assert (err.status, err.retryable, err.retry_after, err.attempts) == (status, retryable, wait, 1)
    assert len(server.requests) == 3 and api.waits == []  # no request repeated, no wait: no loop in the backend


def test_transport_has_no_retry_loop_and_no_semaphore_of_its_own():
    source = inspect.getsource(transport)
    assert "sleep" not in source and "Semaphore" not in source and "backoff" not in source
    assert "retries" not in inspect.signature(transport.Transport.send).parameters


def test_failover_is_at_once_and_backoff_only_after_every_replica_failed(serve):
    bad1, bad2 = serve(("status", 500, "one down")), serve(("status", 502, "two down"))
    api = OpenAIModel("fake-model", base_url=[bad1.url, bad2.url], max_retries=2, timeout=5, backoff_base=0.01)
    waits: list[float] = []
    api.retry = replace(api.retry, sleep=waits.append)
    model = Model(api)
    with pytest.raises(ModelError, match="after 6 attempts") as info:
        model.complete(USER)
    assert len(bad1.requests) == len(bad2.requests) == 3  # three rounds over both replicas
    assert len(waits) == 2  # one wait per failed round, none between replicas
    assert info.value.attempts == 6 == model.accounting.requests and model.accounting.failures == 1


def test_refusals_are_not_retried(serve):
    server = serve(("status", 401, "no"), ("good", "Answer: 1"))
    model = retrying(server)
    with pytest.raises(ModelError, match="401"):
        model.complete(USER)
    assert len(server.requests) == 1 and model.waits == [] and model.accounting.requests == 1


def test_a_server_refusing_logprobs_is_one_clear_error_not_a_silent_resend(serve):
    server = serve(("status", 400, "logprobs are not supported with this model"))
    model = retrying(server)
    with pytest.raises(ModelError, match="use_logprobs=false"):
        model.complete(USER, logprobs=True)
    assert len(server.requests) == 1
    declared = serve(("good", "Answer: 3"))
    quiet = get_model(OpenAIModel("fake-model", base_url=declared.url, logprobs=False), cache=False)
    assert not quiet.info.logprobs
    assert quiet.option_distribution(USER, ["1", "2", "3"]).method == "parsed"
    assert "logprobs" not in declared.requests[0]  # declared: never asked for


def test_the_one_concurrency_limit_is_the_models_and_holds_across_retries(serve):
    server = serve(("429", 0), ("slow", 0.2))
    model = retrying(server, concurrency=2)
    threads = [threading.Thread(target=model.complete, args=(USER + [{"role": "user", "content": str(i)}],))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.requests) == 7 and server.max_inflight <= 2


# --- the embedded engine's failures go through the same loop ------------------------------------


class FlakyEngine(ModelAPI):
    """Fails as the embedded engine does (``EngineError``) for the first ``failures`` calls."""

    spec = "flaky-engine"

    def __init__(self, failures: list[EngineError]):
        self.failures = list(failures)
        self.calls = 0
        self.waits: list[float] = []
        self.retry = RetryPolicy(retries=2, backoff_base=0.2, sleep=self.waits.append)

    def generate(self, messages, config: GenerateConfig) -> ModelOutput:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return ModelOutput("Answer: 1")


def test_engine_failures_are_retried_by_the_model_and_counted():
    busy = _refusal({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})
    crash = EngineError("the embedded engine failed on a request: boom", retryable=True)
    api = FlakyEngine([busy, crash])
    model = Model(api)
    assert model.complete(USER).text == "Answer: 1"
    assert api.calls == 3 and len(api.waits) == 2 and model.accounting.requests == 3


def test_engine_refusals_are_not_retried_and_a_failing_engine_gives_up():
    too_long = _refusal({"error": {"code": 400, "message": "request exceeds the available context size",
                                   "type": "exceed_context_size_error"}})
    assert not too_long.retryable
    api = FlakyEngine([too_long])
    with pytest.raises(ModelError, match="context size"):
        Model(api).complete(USER)
    assert api.calls == 1 and api.waits == []
    broken = FlakyEngine([EngineError("boom", retryable=True) for _ in range(5)])
    model = Model(broken)
    with pytest.raises(ModelError, match="after 3 attempts"):
        model.complete(USER)
    assert broken.calls == 3 and model.accounting.failures == 1 and model.accounting.requests == 3
