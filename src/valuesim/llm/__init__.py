"""The LLM layer: one interface over every backend, with a response cache, retries and accounting.

    from valuesim.llm import get_model
    model = get_model("local")                     # embedded llama.cpp, Qwen2.5-Coder-1.5B
    model = get_model("openai:gpt-4o-mini")        # any OpenAI-compatible server
    model.complete([{"role": "user", "content": "Say hi"}]).text
    model.option_distribution(messages, ["1", "2", "3", "4"]).probs
    print(model.accounting.summary())

Model specs: ``scripted``, ``local``, ``local:smollm2-135m``, ``local:/path/model.gguf``,
``openai:MODEL`` (server from ``base_url`` or $OPENAI_BASE_URL; key from $OPENAI_API_KEY or
$VALUESIM_API_KEY only). This layer knows nothing about surveys.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .accounting import Accounting, Prices
from .base import ANSWER_PREFIX, ChatModel, Completion, Message, OptionDistribution, Usage
from .cache import ResponseCache, cache_key, default_cache_path, valuesim_home
from .managed import ManagedModel
from .options import parse_answer, score_codes, vote_distribution
from .scripted import ScriptedCall, ScriptedModel, hashed_options

DEFAULT_CACHE: Any = "default"  # sentinel: $VALUESIM_HOME/cache.sqlite for real backends

SPEC_FORMS = "'scripted', 'local', 'local:smollm2-135m', 'local:/path/model.gguf', 'openai:MODEL'"


def _scripted_reply(messages: list) -> str:
    from .scripted import conversation_text
    import hashlib

    n = 1 + hashlib.sha256(conversation_text(messages).encode()).digest()[0] % 4
    return f"Answer: {n}\nA scripted reply: no language model was used."


def default_concurrency(spec: str) -> int:
    """Requests to keep in flight: a model server answers many at once, the in-process
    engine runs one prompt at a time (parallel requests would only queue and compete for cores)."""
    return 8 if (spec or "").strip().startswith("openai") else 1


def make_backend(
    spec: str,
    *,
    base_url: str | None = None,
    concurrency: int = 4,
    timeout: float = 120.0,
    max_retries: int = 6,
) -> ChatModel:
    """The raw backend for a model spec (no cache, no accounting)."""
    spec = (spec or "local").strip()
    name, _, arg = spec.partition(":")
    if name == "scripted":
        return ScriptedModel(default=_scripted_reply, options=hashed_options, spec="scripted")
    if name == "local":
        from .local import LocalModel

        return LocalModel.from_spec(arg)
    if name == "openai":
        from .openai_backend import OpenAIModel

        model = arg or os.environ.get("VALUESIM_OPENAI_MODEL") or os.environ.get("OPENAI_MODEL")
        if not model:
            raise ConfigError("the openai backend needs a model: use 'openai:MODEL' or set $OPENAI_MODEL")
        return OpenAIModel(model, base_url=base_url, concurrency=concurrency, timeout=timeout,
                           max_retries=max_retries)
    raise ConfigError(f"unknown model spec {spec!r}; use one of {SPEC_FORMS}")


def get_model(
    spec: "str | ChatModel" = "local",
    *,
    base_url: str | None = None,
    cache: "str | Path | None | bool" = DEFAULT_CACHE,
    concurrency: int = 4,
    timeout: float = 120.0,
    prices: "Prices | dict | str | None" = None,
    max_retries: int = 6,
) -> ManagedModel:
    """A ready model: the backend for ``spec`` behind the response cache and run accounting.

    ``spec`` may also be a ChatModel object (e.g. a ScriptedModel) to give it accounting; a
    ManagedModel is returned unchanged.
    ``cache``: a path, False/None for no cache, or the default ($VALUESIM_HOME/cache.sqlite;
    scripted models are not cached by default so test rules never leak between tests).
    ``prices``: dollars per million tokens, "PROMPT,COMPLETION[,CACHED]" or Prices (default:
    $VALUESIM_PRICES, else no cost is computed)."""
    if isinstance(spec, ManagedModel):
        return spec  # already wrapped: keep its cache and accounting
    if isinstance(spec, str):
        backend = make_backend(spec, base_url=base_url, concurrency=concurrency, timeout=timeout,
                               max_retries=max_retries)
    elif isinstance(spec, ChatModel):
        backend = spec
    else:
        raise ConfigError(f"model must be a spec string or a ChatModel, got {type(spec).__name__}")
    if cache is DEFAULT_CACHE:
        cache = None if isinstance(backend, ScriptedModel) else default_cache_path()
    store = ResponseCache(cache) if cache not in (None, False, True) else (
        ResponseCache(default_cache_path()) if cache is True else None)
    if prices is None:
        prices = os.environ.get("VALUESIM_PRICES") or None
    return ManagedModel(backend, store, Accounting(prices=Prices.parse(prices)))


__all__ = [
    "default_concurrency",
    "ANSWER_PREFIX",
    "Accounting",
    "ChatModel",
    "Completion",
    "ManagedModel",
    "Message",
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
