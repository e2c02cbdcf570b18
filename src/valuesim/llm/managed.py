"""A backend wrapped in the response cache and the run's accounting.

``get_model`` returns one of these; it is itself a ChatModel, so callers never see the
difference except that repeated requests cost nothing and ``.accounting`` adds everything up.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from ..errors import ModelError
from .accounting import Accounting
from .base import ANSWER_PREFIX, ChatModel, Completion, Message, OptionDistribution, Usage, check_messages
from .cache import ResponseCache, cache_key


class ManagedModel:
    """ChatModel = backend + cache (optional) + accounting. Thread-safe."""

    def __init__(self, backend: ChatModel, cache: ResponseCache | None = None, accounting: Accounting | None = None):
        self.backend = backend
        self.cache = cache
        self.accounting = accounting or Accounting()

    @property
    def spec(self) -> str:
        return self.backend.spec

    @property
    def supports_logprobs(self) -> bool:
        return self.backend.supports_logprobs

    def identity(self) -> dict[str, Any]:
        """What distinguishes this model's answers in the cache (never holds a secret)."""
        ident = getattr(self.backend, "cache_identity", None)
        return ident() if callable(ident) else {"spec": self.backend.spec}

    def _cached(self, kind: str, request: dict, call, to_value, from_value):
        key = cache_key(kind=kind, model=self.identity(), **request) if self.cache is not None else None
        if key is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.accounting.record_hit()
                return from_value(hit)
        start = time.perf_counter()
        try:
            result = call()
        except ModelError:
            self.accounting.record_failure(time.perf_counter() - start)
            raise
        self.accounting.record_call(result.usage, result.seconds or (time.perf_counter() - start))
        if key is not None:
            self.cache.put(key, kind, self.spec, to_value(result))
        return result

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        stop: Sequence[str] | None = None,
        grammar: str | None = None,
        sample_index: int = 0,
    ) -> Completion:
        msgs = check_messages(messages)
        params = dict(max_tokens=max_tokens, temperature=temperature, seed=seed,
                      stop=list(stop) if stop else None, grammar=grammar, sample_index=sample_index)

        def call() -> Completion:
            return self.backend.complete(msgs, **params)

        def to_value(c: Completion) -> dict:
            return {"text": c.text, "usage": c.usage.as_dict(), "seconds": c.seconds, "finish_reason": c.finish_reason}

        def from_value(v: dict) -> Completion:
            return Completion(v["text"], Usage(**v["usage"]), v["seconds"], True, v.get("finish_reason", ""))

        return self._cached("complete", dict(messages=msgs, **params), call, to_value, from_value)

    def option_distribution(
        self,
        messages: Sequence[Message],
        option_codes: Sequence[str],
        *,
        prefix: str = ANSWER_PREFIX,
        samples: int = 10,
    ) -> OptionDistribution:
        msgs = check_messages(messages)
        codes = [str(c) for c in option_codes]
        if not codes:
            raise ModelError("option_distribution needs at least one option code")

        def call() -> OptionDistribution:
            return self.backend.option_distribution(msgs, codes, prefix=prefix, samples=samples)

        def to_value(d: OptionDistribution) -> dict:
            return {"probs": d.probs, "method": d.method, "usage": d.usage.as_dict(), "seconds": d.seconds,
                    "samples": d.samples}

        def from_value(v: dict) -> OptionDistribution:
            return OptionDistribution(v["probs"], v["method"], Usage(**v["usage"]), v["seconds"], True, v["samples"])

        request = dict(messages=msgs, codes=codes, prefix=prefix, samples=samples)
        return self._cached("option_distribution", request, call, to_value, from_value)

    def __repr__(self) -> str:
        where = self.cache.path if self.cache is not None else "no cache"
        return f"<ManagedModel {self.spec} ({where})>"
