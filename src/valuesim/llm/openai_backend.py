"""Any OpenAI-compatible server (OpenAI, DeepSeek, vLLM, Ollama, llama-server) via the official SDK.

Requests go through ``Transport`` (replicas, one deadline per attempt, bounded retries, every
attempt counted). The API key is read from the environment only and scrubbed from every message
we raise; it never reaches the cache (``identity`` holds model and public URL only).

One request per answer: a generation with ``logprobs`` asks for the top log-probabilities of
every written token with the completion itself, and the reader finds the option distribution at
the position where the reply writes its answer code (``options.probs_from_written``). Whether a
server gave log-probabilities is decided per reply, never for the whole process. The server's
tokenizer and context window come from its own endpoints (tokenizer.py).
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from ..errors import ConfigError, ModelError
from .base import GenerateConfig, Message, ModelAPI, ModelInfo, ModelOutput, TokenLogprob, Usage, estimate_tokens
from .options import ANSWER_MAX_TOKENS  # noqa: F401  (the cap of a distribution request; estimates import it here)
from .secrets import api_key
from .tokenizer import FAILED, ServerTokenizer
from .transport import RequestError, Transport, public_url, split_urls

TOP_LOGPROBS = 20
SERVER_CONCURRENCY = 8  # requests in flight against a model server unless told otherwise
DEFAULT_URL = "https://api.openai.com/v1"


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
        size: str = "large",
    ):
        urls = split_urls(base_url) or split_urls(os.environ.get("OPENAI_BASE_URL")) or [DEFAULT_URL]
        key = api_key()
        if key is None and any(urlsplit(u).hostname == "api.openai.com" for u in urls):
            raise ConfigError("no API key: set $OPENAI_API_KEY (or $VALUESIM_API_KEY) in the environment")
        self.model = model
        self.spec = f"openai:{model}"
        self.concurrency = max(1, int(concurrency or SERVER_CONCURRENCY))
        self.transport = Transport(urls, key=key, timeout=timeout, max_retries=max_retries, model=model,
                                   concurrency=self.concurrency, backoff_base=backoff_base, backoff_max=backoff_max)
        self.where = self.transport.replicas[0].where
        self.timeout = timeout
        self.size = size
        self.server = ServerTokenizer(self._post, self._get, model, errors=(ModelError, *FAILED))

    @property
    def sleep(self) -> Callable[[float], None]:
        return self.transport.sleep

    @sleep.setter
    def sleep(self, fn: Callable[[float], None]) -> None:  # tests observe backoff without waiting
        self.transport.sleep = fn

    def identity(self) -> dict[str, Any]:
        """Model and the first replica's public URL (replicas serve the same model)."""
        return {"backend": "openai", "model": self.model, "base_url": self.where}

    def close(self) -> None:
        self.transport.close()

    # -- what the server can tell about the model ----------------------------------------
    def _get(self, path: str) -> Any:
        url = _root(self.transport.replicas[0].url) + path
        return self.transport.send(lambda c: c.get(url, cast_to=object), replica=0, retries=0)[0]

    def _post(self, path: str, body: dict) -> Any:
        url = _root(self.transport.replicas[0].url) + path
        return self.transport.send(lambda c: c.post(url, body=body, cast_to=object), replica=0, retries=0)[0]

    def _is_openai(self) -> bool:
        """OpenAI's own API: it has no /props or /tokenize, so valuesim does not probe it."""
        return (urlsplit(self.where).hostname or "").endswith("openai.com")

    def info(self) -> ModelInfo:
        """Context window and tokenizer as the server tells them (llama.cpp, vLLM; asked once);
        unknown for OpenAI and most hosted APIs. Replies carry log-probabilities when asked."""
        hosted = self._is_openai()
        window = None if hosted else self.server.context_window()
        dialect = None if hosted else self.server.dialect()
        return ModelInfo(self.spec, context_window=window, tokenizer=f"{dialect} /tokenize at {self.where}" if dialect else "",
                         logprobs=True, prefill=False, concurrency=self.concurrency, size=self.size,
                         prefix_cache="any", prefix_cache_min=1024 if hosted else 0, embeddings=True)

    def count_tokens(self, text: str) -> int:
        """The server's own tokenizer (llama.cpp, vLLM /tokenize); an estimate where it has none."""
        n = None if self._is_openai() else self.server.count(text)
        return estimate_tokens(text) if n is None else n

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        n = None if self._is_openai() else self.server.count_prompt(messages)
        return super().count_prompt_tokens(messages) if n is None else n

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

    def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        kwargs: dict[str, Any] = dict(messages=messages, max_tokens=int(config.max_tokens),
                                      temperature=float(config.temperature), seed=config.engine_seed)
        if config.stop:
            kwargs["stop"] = list(config.stop)
        extra = {}
        if config.grammar:
            extra["grammar"] = config.grammar  # llama-server; other servers ignore it
        if config.repeat_penalty != 1.0:
            extra["repeat_penalty"] = float(config.repeat_penalty)  # llama-server's name (vLLM: repetition_penalty)
        if extra:
            kwargs["extra_body"] = extra
        if config.logprobs:
            kwargs.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        start = time.perf_counter()
        attempts = 0
        try:
            response, attempts, _ = self.transport.send(
                lambda c: c.chat.completions.create(model=self.model, **kwargs), self._check)
        except RequestError as exc:
            if not (config.logprobs and exc.status == 400 and "logprob" in str(exc).lower()):
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
        return ModelOutput(text, self._usage(response), time.perf_counter() - start, False,
                           choice.finish_reason or "", written_tokens(choice) if config.logprobs else None, attempts)

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


__all__ = ["OpenAIModel", "public_url", "written_tokens"]
