"""Any OpenAI-compatible server (OpenAI, DeepSeek, vLLM, Ollama, llama-server) via the official SDK.

Requests go through ``Transport`` (replicas, one deadline per attempt, bounded retries, every
attempt counted). The API key is read from the environment only and scrubbed from every message
we raise; it never reaches the cache (``identity`` holds model and public URL only).

One request per answer: ``complete(..., logprobs=True)`` asks for the top log-probabilities of
every written token with the completion itself, and callers read the option distribution at the
position where the reply writes its answer code (``options.probs_from_written``). Whether a
server gave log-probabilities is decided per reply, never for the whole process.

``option_distribution`` (for callers that want a distribution only) makes the model write a
short ``Answer: N`` reply with logprobs: the distribution from those, else one-hot at the parsed
answer, or votes over ``samples`` sampled replies when the caller asks for sampling.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from ..errors import ConfigError, ModelError
from .base import (ANSWER_PREFIX, Completion, Message, ModelAPI, OptionDistribution, TokenLogprob, Usage,
                   check_messages, estimate_tokens)
from .options import parse_answer, probs_from_written, vote_distribution
from .secrets import api_key, scrub
from .transport import RequestError, Transport, public_url, split_urls

TOP_LOGPROBS = 20
ANSWER_MAX_TOKENS = 16  # room for "**Answer:** 10" in any tokenizer
SAMPLE_MAX_TOKENS = 48
SERVER_CONCURRENCY = 8  # requests in flight against a model server unless told otherwise
DEFAULT_URL = "https://api.openai.com/v1"


def effective_seed(seed: int, sample_index: int) -> int:
    return (int(seed) * 1_000_003 + int(sample_index)) % (2**31 - 1)


def written_tokens(choice: Any) -> list[TokenLogprob] | None:
    """The reply's per-token log-probabilities, or None when the server sent none."""
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    out = []
    for item in content:
        top = {}
        for alt in item.top_logprobs or []:
            top[alt.token] = max(top.get(alt.token, float("-inf")), float(alt.logprob))
        out.append(TokenLogprob(item.token, float(item.logprob), top))
    return out


def _root(url: str) -> str:
    """The server root of an OpenAI base URL (llama.cpp and vLLM serve /tokenize, /props there)."""
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


class OpenAIModel(ModelAPI):
    """ModelAPI for an OpenAI-compatible chat-completions endpoint (one or more replicas)."""

    supports_logprobs = True  # asked for with every answer; each reply says whether it came
    reads_prefilled = False

    def __init__(
        self,
        model: str,
        *,
        base_url: "str | Sequence[str] | None" = None,
        concurrency: int | None = None,
        timeout: float = 120.0,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sample_temperature: float = 1.0,
    ):
        urls = split_urls(base_url) or split_urls(os.environ.get("OPENAI_BASE_URL")) or [DEFAULT_URL]
        key = api_key()
        if key is None and any(urlsplit(u).hostname == "api.openai.com" for u in urls):
            raise ConfigError("no API key: set $OPENAI_API_KEY (or $VALUESIM_API_KEY) in the environment")
        self.model = model
        self.spec = f"openai:{model}"
        self.default_concurrency = SERVER_CONCURRENCY
        self.concurrency = max(1, int(concurrency or SERVER_CONCURRENCY))
        self.transport = Transport(urls, key=key, timeout=timeout, max_retries=max_retries, model=model,
                                   concurrency=self.concurrency, backoff_base=backoff_base, backoff_max=backoff_max)
        self.where = self.transport.replicas[0].where
        self.timeout = timeout
        self.sample_temperature = sample_temperature
        self._probed: dict[str, Any] = {}
        self._probe_lock = threading.Lock()

    @property
    def sleep(self) -> Callable[[float], None]:
        return self.transport.sleep

    @sleep.setter
    def sleep(self, fn: Callable[[float], None]) -> None:  # tests observe backoff without waiting
        self.transport.sleep = fn

    def identity(self) -> dict[str, Any]:
        """Model and the first replica's public URL (replicas serve the same model)."""
        return {"backend": "openai", "model": self.model, "base_url": self.where}

    cache_identity = identity

    def close(self) -> None:
        self.transport.close()

    # -- what the server can tell about the model ----------------------------------------
    def _probe(self, name: str, fn: Callable[[], Any]) -> Any:
        with self._probe_lock:
            if name not in self._probed:
                try:
                    self._probed[name] = fn()
                except (ModelError, KeyError, TypeError, ValueError, IndexError):
                    self._probed[name] = None
            return self._probed[name]

    def _get(self, path: str) -> Any:
        url = _root(self.transport.replicas[0].url) + path
        return self.transport.send(lambda c: c.get(url, cast_to=object), replica=0, retries=0)[0]

    def _post(self, path: str, body: dict) -> Any:
        url = _root(self.transport.replicas[0].url) + path
        return self.transport.send(lambda c: c.post(url, body=body, cast_to=object), replica=0, retries=0)[0]

    def _is_openai(self) -> bool:
        """OpenAI's own API: it has no /props or /tokenize, so valuesim does not probe it."""
        return (urlsplit(self.where).hostname or "").endswith("openai.com")

    def context_window(self) -> int | None:
        """From llama.cpp's /props (n_ctx per slot) or vLLM's /v1/models (max_model_len);
        None where the server does not say (OpenAI and most hosted APIs)."""
        if self._is_openai():
            return None

        def ask() -> int | None:
            try:
                props = self._get("/props")
                n = (props.get("default_generation_settings") or {}).get("n_ctx") or props.get("n_ctx")
                if n:
                    return int(n)
            except ModelError:
                pass
            listing = self._get("/v1/models")
            for item in listing.get("data") or []:
                if item.get("max_model_len"):
                    return int(item["max_model_len"])
            return None

        return self._probe("context_window", ask)

    @property
    def exact_tokens(self) -> bool:
        return self._tokenizer() is not None

    def _tokenizer(self) -> str | None:
        """Which /tokenize dialect the server speaks ("llama.cpp", "vllm") or None."""
        if self._is_openai():  # no /tokenize there: do not ask
            return None

        def ask() -> str | None:
            if isinstance(self._post("/tokenize", {"content": "a b"}).get("tokens"), list):
                return "llama.cpp"
            return None

        def ask_vllm() -> str | None:
            reply = self._post("/tokenize", {"model": self.model, "prompt": "a b"})
            return "vllm" if isinstance(reply.get("count"), int) else None

        return self._probe("tokenizer", ask) or self._probe("tokenizer_vllm", ask_vllm)

    def count_tokens(self, text: str) -> int:
        """The server's own tokenizer (llama.cpp, vLLM /tokenize); an estimate where it has none."""
        dialect = self._tokenizer()
        try:
            if dialect == "llama.cpp":
                return len(self._post("/tokenize", {"content": text})["tokens"])
            if dialect == "vllm":
                return int(self._post("/tokenize", {"model": self.model, "prompt": text})["count"])
        except (ModelError, KeyError, TypeError, ValueError):
            pass  # a tokenizer hiccup must not stop a run
        return estimate_tokens(text)

    # -- requests --------------------------------------------------------------------------
    @staticmethod
    def _usage(response: Any) -> Usage:
        u = getattr(response, "usage", None)
        if u is None:
            return Usage()
        details = getattr(u, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", 0) if details is not None else 0
        return Usage(int(u.prompt_tokens or 0), int(cached or 0), int(u.completion_tokens or 0))

    @staticmethod
    def _check(response: Any) -> None:
        if not getattr(response, "choices", None):
            raise ValueError("no choices")

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
    ) -> Completion:
        msgs = check_messages(messages)
        kwargs: dict[str, Any] = dict(messages=msgs, max_tokens=int(max_tokens), temperature=float(temperature),
                                      seed=effective_seed(seed, sample_index))
        if stop:
            kwargs["stop"] = list(stop)
        extra = {}
        if grammar:
            extra["grammar"] = grammar  # llama-server; other servers ignore it
        if repeat_penalty != 1.0:
            extra["repeat_penalty"] = float(repeat_penalty)  # llama-server's name (vLLM: repetition_penalty)
        if extra:
            kwargs["extra_body"] = extra
        if logprobs:
            kwargs.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        start = time.perf_counter()
        attempts = 0
        try:
            response, attempts, _ = self.transport.send(
                lambda c: c.chat.completions.create(model=self.model, **kwargs), self._check)
        except RequestError as exc:
            if not (logprobs and exc.status == 400 and "logprob" in str(exc).lower()):
                raise
            # this server refuses logprobs outright: the same request without them (counted)
            attempts = exc.attempts
            kwargs.pop("logprobs"), kwargs.pop("top_logprobs")
            try:
                response, more, _ = self.transport.send(
                    lambda c: c.chat.completions.create(model=self.model, **kwargs), self._check)
            except RequestError as again:
                again.attempts += attempts
                raise
            attempts += more
        choice = response.choices[0]
        text = getattr(choice.message, "content", None)
        if text is None:
            raise RequestError(f"the model server at {self.where} returned an empty answer", attempts)
        return Completion(text, self._usage(response), time.perf_counter() - start, False,
                          choice.finish_reason or "", written_tokens(choice) if logprobs else None, attempts)

    def option_distribution(
        self,
        messages: Sequence[Message],
        option_codes: Sequence[str],
        *,
        prefix: str = ANSWER_PREFIX,
        samples: int = 0,
    ) -> OptionDistribution:
        """One short reply with logprobs; without them one-hot at its parsed answer, or votes
        over ``samples`` sampled replies when ``samples`` > 0."""
        msgs = check_messages(messages)
        codes = [str(c) for c in option_codes]
        start = time.perf_counter()
        reply = self.complete(msgs, max_tokens=ANSWER_MAX_TOKENS, temperature=0.0, logprobs=True)
        if reply.logprobs:
            probs = probs_from_written(reply.logprobs, codes, prefix)
            if probs:
                return OptionDistribution(probs, "logprobs", reply.usage, time.perf_counter() - start,
                                          attempts=reply.attempts)
        if samples > 0:
            texts, usage, attempts = self._sample(msgs, samples)
            return OptionDistribution(vote_distribution(texts, codes), "sampling", reply.usage + usage,
                                      time.perf_counter() - start, samples=texts, attempts=reply.attempts + attempts)
        answer = parse_answer(reply.text, codes)
        if answer is None:
            shown = scrub(reply.text[:120].replace("\n", " "))
            raise RequestError(f"no parsable answer (expected one of {', '.join(codes)}) in the reply {shown!r}",
                               reply.attempts)
        return OptionDistribution({c: float(c == answer) for c in codes}, "parsed", reply.usage,
                                  time.perf_counter() - start, attempts=reply.attempts)

    def _sample(self, msgs: list[dict], samples: int) -> tuple[list[str], Usage, int]:
        def one(i: int) -> Completion:
            return self.complete(msgs, max_tokens=SAMPLE_MAX_TOKENS, temperature=self.sample_temperature,
                                 seed=0, sample_index=i + 1)

        with ThreadPoolExecutor(max_workers=min(samples, self.concurrency)) as pool:
            results = list(pool.map(one, range(samples)))
        usage = Usage()
        for r in results:
            usage = usage + r.usage
        return [r.text for r in results], usage, sum(r.attempts for r in results)

    def embed(self, texts: Sequence[str], model: str | None = None) -> tuple[list[list[float]], Usage, int]:
        """Embedding vectors from the server's /embeddings endpoint, through the same transport."""
        chunk = [str(t) for t in texts]

        def check(response: Any) -> None:
            if len(getattr(response, "data", None) or []) != len(chunk):
                raise ValueError("wrong number of embeddings")

        response, attempts, _ = self.transport.send(
            lambda c: c.embeddings.create(model=model or self.model, input=chunk), check)
        rows = [d.embedding for d in sorted(response.data, key=lambda d: d.index)]
        u = getattr(response, "usage", None)
        return rows, Usage(int(getattr(u, "prompt_tokens", 0) or 0), 0, 0), attempts

    def __repr__(self) -> str:
        more = f" (+{len(self.transport.replicas) - 1} replicas)" if len(self.transport.replicas) > 1 else ""
        return f"<OpenAIModel {self.model} at {self.where}{more}>"


__all__ = ["OpenAIModel", "effective_seed", "public_url", "written_tokens"]
