"""The LLM layer: one interface over every backend, with a response cache, retries and accounting.

    from valuesim.llm import get_model
    model = get_model("local")                     # embedded llama.cpp, Qwen2.5-Coder-1.5B
    model = get_model("openai:gpt-4o-mini")        # any OpenAI-compatible server
    model.complete([{"role": "user", "content": "Say hi"}]).text
    model.option_distribution(messages, ["1", "2", "3", "4"]).probs
    model.info.context_window, model.info.prefill  # what the backend declares
    print(model.accounting.summary())

Model specs: ``scripted``, ``local``, ``local:smollm2-135m``, ``local:/path/model.gguf``,
``openai:MODEL`` (server from ``base_url`` or $OPENAI_BASE_URL, several replicas as a list or
comma list; key from $OPENAI_API_KEY or $VALUESIM_API_KEY only), ``dryrun:SPEC`` (records what
would be sent to SPEC, sends nothing). Backends are ``ModelAPI`` subclasses (one ``generate``
and a declared ``ModelInfo``) registered by name with ``register_backend``, from inside the
package or outside it; ``get_model`` wraps one in a ``Model`` (cache, accounting, concurrency).
This layer knows nothing about surveys.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError
from .accounting import Accounting, Prices
from .base import (ANSWER_PREFIX, CHARS_PER_TOKEN, GenerateConfig, Message, ModelAPI, ModelInfo,
                   ModelOutput, OptionDistribution, TokenLogprob, Usage)
from .cache import ResponseCache, cache_key, default_cache_path, valuesim_home
from .model import Model
from .options import parse_answer, probs_from_written, score_codes, vote_distribution
from .secrets import scrub
from .scripted import ScriptedCall, ScriptedModel, hashed_options

DEFAULT_CACHE: Any = "default"  # sentinel: $VALUESIM_HOME/cache.sqlite for real backends

SPEC_FORMS = "'scripted', 'local', 'local:smollm2-135m', 'local:/path/model.gguf', 'openai:MODEL'"


def _scripted_reply(messages: list) -> str:
    from .scripted import conversation_text
    import hashlib

    n = 1 + hashlib.sha256(conversation_text(messages).encode()).digest()[0] % 4
    return f"Answer: {n}\nA scripted reply: no language model was used."


# --- backends, registered by name -----------------------------------------------------------------

BackendFactory = Callable[..., ModelAPI]
BACKENDS: dict[str, tuple[BackendFactory, int]] = {}


def register_backend(name: str, concurrency: int = 1) -> Callable[[BackendFactory], BackendFactory]:
    """Register ``factory(arg, **settings) -> ModelAPI`` for specs ``NAME`` and ``NAME:ARG``
    (settings: base_url, concurrency, timeout, max_retries; a factory takes what it needs and
    ``**_`` for the rest). ``concurrency``: the requests worth keeping in flight, known before
    the backend is built (the CLI's default number of workers)."""

    def add(factory: BackendFactory) -> BackendFactory:
        BACKENDS[name] = (factory, concurrency)
        return factory

    return add


@register_backend("scripted")
def _scripted(arg: str, **_: Any) -> ModelAPI:
    return ScriptedModel(default=_scripted_reply, options=hashed_options, spec="scripted")


@register_backend("local")
def _local(arg: str, **_: Any) -> ModelAPI:
    from .local import LocalModel

    return LocalModel.from_spec(arg)


SERVER_CONCURRENCY = 8


@register_backend("openai", concurrency=SERVER_CONCURRENCY)
def _openai(arg: str, *, base_url=None, concurrency=None, timeout=120.0, max_retries=6) -> ModelAPI:
    from .openai_backend import OpenAIModel

    model = arg or os.environ.get("VALUESIM_OPENAI_MODEL") or os.environ.get("OPENAI_MODEL")
    if not model:
        raise ConfigError("the openai backend needs a model: use 'openai:MODEL' or set $OPENAI_MODEL")
    return OpenAIModel(model, base_url=base_url, concurrency=concurrency, timeout=timeout, max_retries=max_retries)


@register_backend("dryrun")
def _dryrun(arg: str, **settings: Any) -> ModelAPI:
    """``dryrun:SPEC``: records what would be sent to SPEC, sends nothing (SPEC's ModelInfo and
    tokenizer; building SPEC calls no model and needs no API key). A SPEC that cannot be built
    is the error it raises, never a guess at what it would have been."""
    from .dryrun import DryRunModel

    return DryRunModel(make_backend(arg or "local", **settings), arg or "local")


def _lookup(spec: str) -> tuple[str, str, BackendFactory, int]:
    name, _, arg = (spec or "local").strip().partition(":")
    if name not in BACKENDS:
        raise ConfigError(f"unknown model spec {spec!r}; use one of {SPEC_FORMS}")
    factory, concurrency = BACKENDS[name]
    return name, arg, factory, concurrency


def default_concurrency(spec: "str | ModelAPI | Model | None") -> int:
    """The one default for requests to keep in flight: what the backend declares (a model
    server answers many at once: 8; the in-process engine runs one prompt at a time: 1)."""
    if isinstance(spec, ModelAPI):
        spec = Model(spec)
    if isinstance(spec, Model):
        return spec.info.concurrency
    if spec is not None and not isinstance(spec, str):  # a model object of another kind: one at a time
        return 1
    try:
        return _lookup(spec or "local")[3]
    except ConfigError:
        return 1


MAX_CONCURRENCY = 256  # requests in flight at most: one thread each; a server queues what its batch cannot hold
HIGH_CONCURRENCY = 64  # above this a value is allowed but said to be high
_WARNED: set[int] = set()


def concurrency_limit(n: int, flag: str = "--concurrency") -> int:
    """The number of requests to keep in flight, checked: at least 1 (else one ConfigError line),
    at most ``MAX_CONCURRENCY`` (capped, with a warning), a warning above ``HIGH_CONCURRENCY``
    (100,000 asked for once made 13,021 threads and 5.9 GB for ~7 requests/s)."""
    import sys

    try:
        n = int(n)
    except (TypeError, ValueError):
        raise ConfigError(f"{flag} must be a whole number, got {n!r}") from None
    if n < 1:
        raise ConfigError(f"{flag} must be at least 1, got {n}")
    if n > HIGH_CONCURRENCY and n in _WARNED:
        return min(n, MAX_CONCURRENCY)  # a study plans more than once: said once
    _WARNED.add(n)
    if n > MAX_CONCURRENCY:
        print(f"valuesim: warning: {flag} {n} is more than {MAX_CONCURRENCY}: using {MAX_CONCURRENCY} (each "
              "request in flight holds a thread; for more throughput add server replicas)", file=sys.stderr)
        return MAX_CONCURRENCY
    if n > HIGH_CONCURRENCY:
        print(f"valuesim: warning: {flag} {n} is high: a server answers what its batch holds and queues the rest, "
              "so more requests in flight rarely go faster", file=sys.stderr)
    return n


def make_backend(
    spec: str,
    *,
    base_url: "str | list[str] | None" = None,
    concurrency: int | None = None,
    timeout: float = 120.0,
    max_retries: int = 6,
) -> ModelAPI:
    """The raw backend for a model spec (no cache, no accounting). ``base_url`` may name
    several replicas (a list or a comma list); ``concurrency`` None = the backend's default."""
    _, arg, factory, _ = _lookup(spec)
    return factory(arg, base_url=base_url, concurrency=concurrency, timeout=timeout, max_retries=max_retries)


def get_model(
    spec: "str | ModelAPI | Model" = "local",
    *,
    base_url: "str | list[str] | None" = None,
    cache: "str | Path | None | bool" = DEFAULT_CACHE,
    concurrency: int | None = None,
    timeout: float = 120.0,
    prices: "Prices | dict | str | None" = None,
    max_retries: int = 6,
    size: str | None = None,
) -> Model:
    """A ready model: the backend for ``spec`` behind the response cache and run accounting.

    ``spec`` may also be a ModelAPI object (e.g. a ScriptedModel) to give it accounting; a
    Model is returned unchanged. ``concurrency``: requests in flight (None: the backend's
    default, see ``default_concurrency``); ``base_url``: one URL, a comma list or a list of
    replicas of the same model. ``size``: "small" or "large", overriding the size hint the
    backend declares (it picks prompts written for small models, e.g. the backstory's).
    ``cache``: a path, False/None for no cache, or the default ($VALUESIM_HOME/cache.sqlite for
    a backend whose ModelAPI.cache_replies says its replies are a model's answers; scripted
    models and the dry run say not, so test rules and placeholders never reach the cache).
    ``prices``: dollars per million tokens, "PROMPT,COMPLETION[,CACHED]" or Prices (default:
    $VALUESIM_PRICES, else no cost is computed)."""
    if isinstance(spec, Model):
        return spec  # already wrapped: keep its cache and accounting
    if isinstance(spec, str):
        backend = make_backend(spec, base_url=base_url, concurrency=concurrency, timeout=timeout,
                               max_retries=max_retries)
    elif isinstance(spec, ModelAPI):
        backend = spec
    else:
        raise ConfigError(f"model must be a spec string or a ModelAPI, got {type(spec).__name__}")
    if cache is DEFAULT_CACHE:
        cache = default_cache_path() if backend.cache_replies else None
    store = ResponseCache.open(cache) if cache not in (None, False, True) else (
        ResponseCache.open(default_cache_path()) if cache is True else None)
    if prices is None:
        prices = os.environ.get("VALUESIM_PRICES") or None
    return Model(backend, store, Accounting(prices=Prices.parse(prices)), size=size, concurrency=concurrency)


def as_model(model: "Model | ModelAPI | None") -> "Model | None":
    """A Model for a method to call: a Model unchanged, a bare ModelAPI wrapped once (no cache,
    its own accounting), None for statistical methods."""
    if model is None or isinstance(model, Model):
        return model
    if isinstance(model, ModelAPI):
        return Model(model)
    raise ConfigError(f"model must be a Model or a ModelAPI, got {type(model).__name__}")


__all__ = [
    "CHARS_PER_TOKEN",
    "GenerateConfig",
    "Model",
    "ModelInfo",
    "ModelOutput",
    "as_model",
    "concurrency_limit",
    "default_concurrency",
    "ANSWER_PREFIX",
    "Accounting",
    "Message",
    "ModelAPI",
    "TokenLogprob",
    "register_backend",
    "probs_from_written",
    "scrub",
    "OptionDistribution",
    "Prices",
    "ResponseCache",
    "ScriptedCall",
    "ScriptedModel",
    "Usage",
    "cache_key",
    "default_cache_path",
    "get_model",
    "hashed_options",
    "make_backend",
    "parse_answer",
    "score_codes",
    "valuesim_home",
    "vote_distribution",
]
