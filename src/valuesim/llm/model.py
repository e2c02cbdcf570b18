"""The user-facing model: a ModelAPI behind the response cache, the one retry loop, accounting
and the one concurrency limit. ``get_model`` returns one; methods, runners and the CLI only ever
talk to this.

``Model`` is not a ModelAPI: a backend generates, a Model decides whether it has to. The cache
key is the model's identity + the messages + the frozen ``GenerateConfig`` (sample index
included), and a reply the caller does not ``accept`` (no readable answer) is returned but
never cached, so asking again asks the model again. A failure the backend declares
``retryable`` (ModelError.retryable, .retry_after) is tried again under the backend's
``RetryPolicy``, waiting between tries outside the concurrency slot (as inspect_ai's Model
does; replica failover stays inside the backend's one try). Every request a backend reports
(``ModelOutput.attempts``, ``ModelError.attempts``) is counted, retries and failures included.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Sequence, TypeVar

from ..errors import ConfigError, ModelError
from .accounting import Accounting
from .base import (ANSWER_PREFIX, SIZES, GenerateConfig, Message, ModelAPI, ModelInfo, ModelOutput,
                   OptionDistribution, TokenLogprob, Usage, check_messages)
from .cache import ResponseCache, cache_key
from .replies import check_reply

T = TypeVar("T")


class Model:
    """ModelAPI + cache (optional) + retries + accounting + concurrency. Thread-safe.

    ``size``: overrides the backend's declared size hint ("small" | "large");
    ``concurrency``: requests in flight at most (None: what the backend declares)."""

    def __init__(self, api: ModelAPI, cache: ResponseCache | None = None, accounting: Accounting | None = None,
                 *, size: str | None = None, concurrency: int | None = None):
        if not isinstance(api, ModelAPI):
            raise ConfigError(f"a Model wraps a ModelAPI, got {type(api).__name__}")
        if size is not None and size not in SIZES:
            raise ConfigError(f"model size must be one of {', '.join(SIZES)}, got {size!r}")
        self.api = api
        self.cache = cache
        self.accounting = accounting or Accounting()
        self._size = size
        self._concurrency = concurrency
        self._info: ModelInfo | None = None
        self._lock = threading.Lock()
        self._slots: threading.BoundedSemaphore | None = None
        self._token_counts: dict[str, int] = {}
        self.collector = None  # a batch.BatchCollector in batch mode: a cache miss waits for a batch reply

    # -- what the model is -------------------------------------------------------------------
    @property
    def backend(self) -> ModelAPI:
        return self.api

    @property
    def spec(self) -> str:
        return self.api.spec

    @property
    def info(self) -> ModelInfo:
        """The backend's declared ModelInfo (asked once), with the user's overrides."""
        with self._lock:
            if self._info is None:
                info = self.api.info()
                if self._size is not None:
                    info = replace(info, size=self._size)
                if self._concurrency is not None:
                    from . import MAX_CONCURRENCY

                    info = replace(info, concurrency=min(MAX_CONCURRENCY, max(1, int(self._concurrency))))
                self._info = info
            return self._info

    def identity(self) -> dict[str, Any]:
        """What distinguishes this model's answers in the cache (never holds a secret)."""
        return self.api.identity()

    def context_window(self) -> int | None:
        return self.info.context_window

    def load(self) -> float | None:
        return self.api.load()

    def count_tokens(self, text: str) -> int:
        """The backend's count, remembered per text (fitting a profile asks about the same
        prefixes again and again)."""
        key = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        n = self._token_counts.get(key)
        if n is None:
            n = int(self.api.count_tokens(text))
            if len(self._token_counts) > 50_000:
                self._token_counts.clear()
            self._token_counts[key] = n
        return n

    # -- generating --------------------------------------------------------------------------
    def _slot(self) -> threading.BoundedSemaphore:
        if self._slots is None:
            n = self.info.concurrency
            with self._lock:
                if self._slots is None:
                    self._slots = threading.BoundedSemaphore(max(1, n))
        return self._slots

    def _retrying(self, call: Callable[[], T]) -> tuple[T, int]:
        """``call()`` in a concurrency slot, tried again while it fails with a retryable
        ModelError (at most ``retry.retries`` times); (result, requests of the failed tries).
        The error that ends it carries every request made and says how many there were."""
        policy = self.api.retry
        failed, tries = 0, 0
        while True:
            tries += 1
            try:
                with self._slot():
                    return call(), failed
            except ModelError as exc:
                failed += max(0, int(exc.attempts))
                if not exc.retryable or tries > policy.retries:
                    exc.attempts = failed
                    if failed > 1:
                        exc.args = (f"{exc} (after {failed} attempts)",)
                    raise
                wait = policy.wait(tries, exc.retry_after)
            policy.sleep(wait)

    def generate(self, messages: Sequence[Message], config: GenerateConfig = GenerateConfig(), *,
                 accept: Callable[[ModelOutput], bool] | None = None, remember_rejected: bool = False) -> ModelOutput:
        """A generation, from the cache when the same request was answered before.
        ``accept``: a reply it rejects (e.g. no readable answer) is returned but not cached as an
        answer. ``remember_rejected``: it is stored as rejected instead, and the same request
        later gets that reply back without a model call while ``accept`` still rejects it (a
        caller that checks, e.g. a story draft, then goes straight to its next attempt); a
        stored rejection is never returned to a caller that does not ask for it."""
        msgs = check_messages(messages)
        key = cache_key(kind="complete", model=self.identity(), messages=msgs, **config.key()) \
            if self.cache is not None else None
        if key is not None:
            hit = self.cache.get(key)
            if hit is not None and hit.get("rejected"):
                out = _from_cache(hit)
                if remember_rejected and accept is not None and not accept(out):
                    self.accounting.record_hit()
                    return out
                hit = None  # not asked for, or the caller's rule now accepts it: ask the model
            if hit is not None:
                try:  # an entry written before a check existed passes it too, or is asked again
                    out = check_reply(_from_cache(hit), self.spec, self.api.secrets())
                except ModelError:
                    out = None
                if out is not None:
                    self.accounting.record_hit()
                    return out
            if self.collector is not None:  # batch mode: a batch reply, or BatchPending (the item waits)
                return self._from_batch(key, msgs, config, accept)
        start = time.perf_counter()
        try:
            out, failed = self._retrying(lambda: check_reply(self.api.generate(msgs, config), self.spec,
                                                             self.api.secrets()))
        except ModelError as exc:
            self.accounting.record_failure(time.perf_counter() - start, exc.attempts)
            raise
        if failed:
            out = replace(out, attempts=out.attempts + failed)
        self.accounting.record_call(out.usage, out.seconds or (time.perf_counter() - start), out.attempts)
        if key is not None and (accept is None or accept(out)):
            self.cache.put(key, "complete", self.spec, _to_cache(out))
        elif key is not None and remember_rejected:
            self.cache.put(key, "rejected", self.spec, {**_to_cache(out), "rejected": True})
        return out

    def _from_batch(self, key: str, msgs: list, config: GenerateConfig,
                    accept: Callable[[ModelOutput], bool] | None) -> ModelOutput:
        """A batch reply under the same acceptance rule as a live one (llm/batch.py)."""
        out = self.collector.reply(key, msgs, config)
        self.accounting.record_call(out.usage, out.seconds, out.attempts)
        try:  # the same checks as a live reply: a refused one is asked again in the next round
            out = check_reply(out, self.spec, self.api.secrets())
        except ModelError:
            self.collector.rejected(key)
            raise
        if accept is None or accept(out):
            self.cache.put(key, "complete", self.spec, _to_cache(out))
        else:
            self.collector.rejected(key)
        return out

    def complete(self, messages: Sequence[Message], config: GenerateConfig | None = None, *,
                 accept: Callable[[ModelOutput], bool] | None = None, remember_rejected: bool = False,
                 **settings: Any) -> ModelOutput:
        """``generate`` with the settings as keywords (``GenerateConfig``'s fields)."""
        return self.generate(messages, config or GenerateConfig(**settings), accept=accept,
                             remember_rejected=remember_rejected)

    def option_distribution(self, messages: Sequence[Message], option_codes: Sequence[str], *,
                            prefix: str = ANSWER_PREFIX, samples: int = 0) -> OptionDistribution:
        """The model's distribution over ``option_codes`` (see ``options.read_options``)."""
        from .options import read_options

        return read_options(self, check_messages(messages), option_codes, prefix=prefix, samples=samples)

    def embed(self, texts: Sequence[str], model: str | None = None) -> tuple[list[list[float]], Usage, int]:
        """Embeddings through the backend, one cache entry per text, counted like any call."""
        texts = [str(t) for t in texts]
        out: list = [None] * len(texts)
        keys = [cache_key(kind="embed", model=self.identity(), embed_model=model, text=t) if self.cache is not None
                else None for t in texts]
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
                (vectors, usage, attempts), failed = self._retrying(
                    lambda: self.api.embed([texts[i] for i in missing], model))
                attempts += failed
            except ModelError as exc:
                self.accounting.record_failure(time.perf_counter() - start, exc.attempts)
                raise
            self.accounting.record_call(usage, time.perf_counter() - start, attempts)
            for i, vector in zip(missing, vectors, strict=True):
                out[i] = list(vector)
                if keys[i]:
                    self.cache.put(keys[i], "embed", self.spec, {"vector": out[i]})
        return out, usage, attempts

    def __repr__(self) -> str:
        where = self.cache.path if self.cache is not None else "no cache"
        return f"<Model {self.spec} ({where})>"


def _to_cache(out: ModelOutput) -> dict:
    """A reply as the response cache (and a batch run's state) stores it."""
    value = {"text": out.text, "usage": out.usage.as_dict(), "seconds": out.seconds, "finish_reason": out.finish_reason}
    if out.logprobs is not None:
        value["logprobs"] = [t.as_list() for t in out.logprobs]
    return value


def _from_cache(v: dict, cached: bool = True, requests: int = 0) -> ModelOutput:
    """A stored reply back as a ModelOutput: a cache hit by default (no request made)."""
    tokens = v.get("logprobs")
    return ModelOutput(v["text"], Usage(**v["usage"]), v["seconds"], cached, v.get("finish_reason", ""),
                       None if tokens is None else [TokenLogprob.from_list(t) for t in tokens], requests)


