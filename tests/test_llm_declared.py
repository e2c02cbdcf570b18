"""Declared, not guessed (issue 25 item 4, the model's side): what a backend or a simulator can do
is what it declares, never a host name, a file size, an attribute that happens to exist, or a
guess at a backend that could not be built."""

from __future__ import annotations

import pytest

from fake_server import USER
from valuesim.errors import ConfigError
from valuesim.llm import ModelAPI, ScriptedModel, get_model, make_backend
from valuesim.llm.dryrun import DryRunModel
from valuesim.llm.openai_backend import DEFAULT_URL, OPENAI_API, SELF_HOSTED, OpenAIModel
from valuesim.methods.base import EmbedderUser, ModelUser, PersonContext, Prediction
from valuesim.methods.registry import get_method


def test_the_server_profile_is_declared_not_read_from_the_host_name(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("VALUESIM_API_KEY", raising=False)
    hosted = OpenAIModel("gpt-x")  # buildable without a key: a server that wants one says so (401)
    assert hosted.profile is OPENAI_API and hosted.transport.replicas[0].url == DEFAULT_URL
    info = hosted.info()  # asks nothing: OpenAI's API has no /props or /tokenize
    assert info.prefix_cache_min == 1024 and info.context_window is None and not info.exact_tokens
    lookalike = OpenAIModel("m", base_url="http://127.0.0.1:9/v1", server=OPENAI_API)
    assert lookalike.info().prefix_cache_min == 1024  # declared by the caller, whatever the host
    named = OpenAIModel("m", base_url="https://gateway.openai.com.example/v1")
    assert named.profile is SELF_HOSTED  # a host name decides nothing


def test_an_unbuildable_backend_under_the_dry_run_is_its_own_error(monkeypatch):
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    monkeypatch.delenv("VALUESIM_OPENAI_MODEL", raising=False)
    with pytest.raises(ConfigError, match="needs a model"):
        make_backend("dryrun:openai")  # not "an OpenAI model, probably"
    with pytest.raises(ConfigError, match="unknown model spec"):
        make_backend("dryrun:nonsense")
    dry = make_backend("dryrun:openai:gpt-x")
    assert isinstance(dry, DryRunModel) and dry.info().prefix_cache_min == 1024


def test_test_doubles_and_the_dry_run_declare_their_replies_uncacheable():
    assert get_model(ScriptedModel()).cache is None
    assert get_model(DryRunModel(None, "local")).cache is None
    assert not ScriptedModel.cache_replies and not DryRunModel.cache_replies and ModelAPI.cache_replies


class Regression:
    """A statistical method whose fitted estimator happens to be called ``model``."""

    name = "regression-like"
    model = object()

    def predict(self, person: PersonContext, question) -> Prediction:
        return Prediction.from_distribution({c: 1.0 for c in question.codes})


def test_an_llm_simulator_is_declared_not_recognised_by_an_attribute():
    assert not isinstance(Regression(), ModelUser)  # a ``model`` attribute declares nothing
    llm = get_method("full-info", ScriptedModel())
    rag = get_method("rag", ScriptedModel(), embedder=KeywordEmbedder())
    assert isinstance(llm, ModelUser) and not isinstance(llm, EmbedderUser)
    assert isinstance(rag, ModelUser) and isinstance(rag, EmbedderUser)
    assert isinstance(get_method("hybrid", ScriptedModel()), ModelUser)
    assert not isinstance(get_method("country-marginal"), ModelUser)


class KeywordEmbedder:
    name = "test:none"

    def embed(self, texts):
        import numpy as np

        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)


def test_the_embedded_models_size_hint_is_declared(monkeypatch):
    from valuesim.llm import local

    assert local.NAMED_SIZES == {"": "small", "smollm2-135m": "small"}
    assert "SMALL_FILE_BYTES" not in vars(local)  # no size read from the file's bytes on disk


def test_a_stand_in_object_is_not_checked_and_a_model_is_checked_once(serve):
    from valuesim.llm.preflight import preflight

    preflight(object())  # a caller's stand-in: its own business
    server = serve(("good", "Answer: 1"))
    server.models = True
    model = get_model(OpenAIModel("fake-model", base_url=server.url, timeout=5), cache=False)
    preflight(model)
    preflight(model)
    assert len(server.requests) == 1 and model.accounting.requests == 1 and model.accounting.calls == 0
    assert model.complete(USER).text == "Answer: 1"
