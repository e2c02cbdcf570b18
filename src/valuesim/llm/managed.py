"""A backend wrapped in the response cache and the run's accounting.

``get_model`` returns one of these; it is itself a ModelAPI, so callers never see the
difference except that repeated requests cost nothing and ``.accounting`` adds everything up
(every HTTP attempt included, retries and failures too).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Sequence

from ..errors import ModelError
from .accounting import Accounting
from .base import (ANSWER_PREFIX, Completion, Message, ModelAPI, OptionDistribution, TokenLogprob, Usage,
                   check_messages)
from .cache import ResponseCache, cache_key


class ManagedModel(ModelAPI):
    """ModelAPI = backend + cache (optional) + accounting. Thread-safe."""

    def __init__(self, backend: ModelAPI, cache: ResponseCache | None = None, accounting: Accounting | None = None):
        self.backend = backend
        self.cache = cache
        self.accounting = accounting or Accounting()
        self._token_counts: dict[str, int] = {}

    # -- the declared parts, as the backend states them ------------------------------------
    @property
    def spec(self) -> str:  # type: ignore[override]
        return self.backend.spec

    @property
    def supports_logprobs(self) -> bool:  # type: ignore[override]
        return self.backend.supports_logprobs

    @property
    def reads_prefilled(self) -> bool:  # type: ignore[override]
        return self.backend.reads_prefilled

    @property
    def exact_tokens(self) -> bool:  # type: ignore[override]
        return self.backend.exact_tokens

    @property
    def default_concurrency(self) -> int:  # type: ignore[override]
        return self.backend.default_concurrency

    def identity(self) -> dict[str, Any]:
        """What distinguishes this model's answers in the cache (never holds a secret)."""
        return self.backend.identity()

    def context_window(self) -> int | None:
        return self.backend.context_window()

    def load(self) -> float | None:
        return self.backend.load()

    def count_tokens(self, text: str) -> int:
        """The backend's count, remembered per text (fitting a profile asks about the same
        prefixes again and again)."""
        key = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        n = self._token_counts.get(key)
        if n is None:
            n = int(self.backend.count_tokens(text))
            if len(self._token_counts) > 50_000:
                self._token_counts.clear()
            self._token_counts[key] = n
        return n

    # -- calls -------------------------------------------------------------------------------
    def _cached(self, kind: str, request: dict, call, to_value, from_value, accept=None):
        key = cache_key(kind=kind, model=self.identity(), **request) if self.cache is not None else None
        if key is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.accounting.record_hit()
                return from_value(hit)
        start = time.perf_counter()
        try:
            result = call()
        except ModelError as exc:
            self.accounting.record_failure(time.perf_counter() - start, getattr(exc, "attempts", 1))
            raise
        self.accounting.record_call(result.usage, result.seconds or (time.perf_counter() - start),
                                    getattr(result, "attempts", 1))
        if key is not None and (accept is None or accept(result)):
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
        logprobs: bool = False,
        repeat_penalty: float = 1.0,
        accept: Callable[[Completion], bool] | None = None,
    ) -> Completion:
        """A completion, from the cache when the same request was answered before.
        ``accept``: a reply it rejects (e.g. no parsable answer) is returned but not cached."""
        msgs = check_messages(messages)
        params = dict(max_tokens=max_tokens, temperature=temperature, seed=seed,
                      stop=list(stop) if stop else None, grammar=grammar, sample_index=sample_index)
        if logprobs:  # only then part of the key, so older cache entries stay valid
            params["logprobs"] = True
        if repeat_penalty != 1.0:  # likewise
            params["repeat_penalty"] = float(repeat_penalty)

        def call() -> Completion:
            return self.backend.complete(msgs, **params)

        def to_value(c: Completion) -> dict:
            value = {"text": c.text, "usage": c.usage.as_dict(), "seconds": c.seconds, "finish_reason": c.finish_reason}
            if c.logprobs is not None:
                value["logprobs"] = [t.as_list() for t in c.logprobs]
            return value

        def from_value(v: dict) -> Completion:
            tokens = v.get("logprobs")
            return Completion(v["text"], Usage(**v["usage"]), v["seconds"], True, v.get("finish_reason", ""),
                              None if tokens is None else [TokenLogprob.from_list(t) for t in tokens], 0)

        return self._cached("complete", dict(messages=msgs, **params), call, to_value, from_value, accept)

    def option_distribution(
        self,
        messages: Sequence[Message],
        option_codes: Sequence[str],
        *,
        prefix: str = ANSWER_PREFIX,
        samples: int = 0,
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
            return OptionDistribution(v["probs"], v["method"], Usage(**v["usage"]), v["seconds"], True, v["samples"], 0)

        request = dict(messages=msgs, codes=codes, prefix=prefix, samples=samples)
        return self._cached("option_distribution", request, call, to_value, from_value)

    def embed(self, texts: Sequence[str], model: str | None = None) -> tuple[list[list[float]], Usage, int]:
        """Embeddings through the backend, one cache entry per text, counted like any call."""
        texts = [str(t) for t in texts]
        out: list = [None] * len(texts)
        keys = [cache_key(kind="embed", model=self.identity(), embed_model=model, text=t) if self.cache is not None else None
                for t in texts]
        missing = []
        for i, key in enumerate(keys):
            hit = self.cache.get(key) if key else None
            if hit is not None:
                self.accounting.record_hit()
                out[i] = hit["vector"]
            else:
                missing.append(i)
        usage, attempts = Usage(), 0
        if missing:
            start = time.perf_counter()
            try:
                vectors, usage, attempts = self.backend.embed([texts[i] for i in missing], model)
            except ModelError as exc:
                self.accounting.record_failure(time.perf_counter() - start, getattr(exc, "attempts", 1))
                raise
            self.accounting.record_call(usage, time.perf_counter() - start, attempts)
            for i, vector in zip(missing, vectors, strict=True):
                out[i] = list(vector)
                if keys[i]:
                    self.cache.put(keys[i], "embed", self.spec, {"vector": out[i]})
        return out, usage, attempts

    def __repr__(self) -> str:
        where = self.cache.path if self.cache is not None else "no cache"
        return f"<ManagedModel {self.spec} ({where})>"
