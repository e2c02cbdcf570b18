"""The scripted test double and the get_model wrapper (accounting, failures)."""

import re
import threading

import pytest

from valuesim.errors import ConfigError, ModelError
from valuesim.llm import ModelAPI, ScriptedModel, get_model


def user(text):
    return [{"role": "system", "content": "You simulate a respondent."}, {"role": "user", "content": text}]


def test_rules_match_in_order_and_calls_are_recorded():
    model = ScriptedModel([("Cognitive", "Answer: 3\nthinking"), (re.compile(r"Q\d+"), "Answer: 2")], default="Answer: 1")
    assert isinstance(model, ModelAPI)
    assert model.complete(user("Cognitive module, Q7")).text == "Answer: 3\nthinking"
    assert model.complete(user("About Q7")).text == "Answer: 2"
    assert model.complete(user("nothing")).text == "Answer: 1"
    assert len(model.calls) == 3
    assert "You simulate a respondent." in model.calls[0].prompt
    assert model.calls[1].last_user == "About Q7"
    assert model.calls[0].params["max_tokens"] == 256


def test_callable_rules_lists_per_sample_and_stop():
    model = ScriptedModel(lambda msgs: f"echo {msgs[-1]['content']}. END more")
    assert model.complete(user("x"), stop=[" END"]).text == "echo x."
    votes = ScriptedModel([("q", ["Answer: 1", "Answer: 2"])])
    texts = [votes.complete(user("q"), sample_index=i, temperature=1.0).text for i in range(4)]
    assert texts == ["Answer: 1", "Answer: 2", "Answer: 1", "Answer: 2"]


def test_option_distribution_paths():
    fixed = ScriptedModel(options={"1": 1, "2": 3})
    d = get_model(fixed).option_distribution(user("q"), ["1", "2"])
    assert d.method == "logprobs" and d.probs == {"1": 0.25, "2": 0.75} and d.answer == "2"
    assert fixed.calls[-1].kind == "read" and fixed.calls[-1].params["prefix"] == "Answer: "  # a pre-filled read
    onehot = ScriptedModel(default="Answer: 10")
    assert get_model(onehot).option_distribution(user("q"), [str(i) for i in range(1, 11)]).probs["10"] == 1.0
    listed = ScriptedModel(options=lambda msgs, codes: {codes[-1]: 1.0})  # reads the options the prompt lists
    assert get_model(listed).option_distribution(user("Q7\n1. Yes\n2. No\n3. Maybe"), ["1", "2", "3"]).answer == "3"
    sampled = ScriptedModel([("q", ["Answer: 1", "Answer: 2", "Answer: 2", "Answer: 2"])], supports_logprobs=False)
    d = get_model(sampled).option_distribution(user("q"), ["1", "2"], samples=4)
    assert d.method == "sampling" and d.probs == {"1": 0.25, "2": 0.75} and len(d.samples) == 4
    # one short reply (sample 0: "Answer: 1"), then the samples 1-4
    assert [c.params["sample_index"] for c in sampled.calls] == [0, 1, 2, 3, 4]


def test_unparsable_and_forced_failures_raise_model_error():
    with pytest.raises(ModelError):
        get_model(ScriptedModel(default="no idea")).option_distribution(user("q"), ["1", "2"])
    with pytest.raises(ModelError):
        ScriptedModel(fail_on="boom").complete(user("boom"))


def test_get_model_wraps_with_accounting_and_counts_failures():
    model = get_model(ScriptedModel(fail_on="bad"), prices="1.0,2.0")
    model.complete(user("one two three"))
    with pytest.raises(ModelError):
        model.complete(user("bad"))
    acc = model.accounting
    assert acc.calls == 1 and acc.failures == 1 and acc.cache_hits == 0
    assert acc.prompt_tokens > 0 and acc.completion_tokens == 2
    assert acc.cost == pytest.approx((acc.prompt_tokens * 1.0 + 2 * 2.0) / 1e6)
    assert "1 model calls" in acc.summary() and acc.as_dict()["failures"] == 1


def test_scripted_spec_is_deterministic_and_unknown_specs_are_clear():
    a = get_model("scripted").option_distribution(user("q1"), ["1", "2", "3"])
    b = get_model("scripted").option_distribution(user("q1"), ["1", "2", "3"])
    assert a.probs == b.probs and sum(a.probs.values()) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="unknown model spec"):
        get_model("banana:7b")
    with pytest.raises(ConfigError):
        get_model("scripted").complete([{"role": "robot", "content": "x"}])


def test_thread_safe_recording():
    model = get_model(ScriptedModel())
    threads = [threading.Thread(target=lambda: [model.complete(user("q")) for _ in range(50)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(model.backend.calls) == 200 and model.accounting.calls == 200


def test_get_model_does_not_wrap_twice():
    model = get_model(ScriptedModel())
    assert get_model(model) is model
