"""Any OpenAI-compatible server (OpenAI, DeepSeek, vLLM, Ollama, llama-server) via the official SDK.

Requests go through ``Transport`` (replicas, one deadline per attempt, every attempt counted);
a failed try says whether it is worth retrying, and the Model's one loop retries it under the
policy this backend declares (``max_retries`` tries more, backoff between them). The API key is read from the environment only and scrubbed from every message
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
from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import ModelError
from .base import (GenerateConfig, Message, ModelAPI, ModelInfo, ModelOutput, RetryPolicy, TokenLogprob, Usage,
                   estimate_tokens)
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


def _chat_completion() -> type:
    from openai.types.chat import ChatCompletion

    return ChatCompletion


def completion_output(response: Any, logprobs: bool, seconds: float, attempts: int, where: str) -> ModelOutput:
    """A chat completion (the SDK's object, live or from a batch output line) as a ModelOutput;
    an empty answer is an error."""
    choice = response.choices[0]
    text = getattr(choice.message, "content", None)
    if text is None:
        raise RequestError(f"the model server at {where} returned an empty answer", attempts)
    return ModelOutput(text, OpenAIModel._usage(response), seconds, False, choice.finish_reason or "",
                       written_tokens(choice) if logprobs else None, attempts)


def _root(url: str) -> str:
    """The server root of an OpenAI base URL (llama.cpp and vLLM serve /tokenize, /props there)."""
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


@dataclass(frozen=True)
class ServerProfile:
    """What valuesim knows of a server before asking it anything. ``own_endpoints``: it may
    serve llama.cpp's or vLLM's /props and /tokenize (asked once each; where they are missing
    the counts are estimates); ``prefix_cache_min``: the shortest prompt prefix its cache
    reuses, in tokens (0: any shared prefix)."""

    name: str
    own_endpoints: bool = True
    prefix_cache_min: int = 0


OPENAI_API = ServerProfile("OpenAI's API", own_endpoints=False, prefix_cache_min=1024)  # documented: 1,024, then 128s
SELF_HOSTED = ServerProfile("an OpenAI-compatible server")


class OpenAIModel(ModelAPI):
    """ModelAPI for an OpenAI-compatible chat-completions endpoint (one or more replicas).

    ``server``: the ServerProfile (default: OPENAI_API for valuesim's default endpoint, which
    is OpenAI's, SELF_HOSTED for any URL the user gives); ``logprobs`` False declares a server
    that refuses log-probabilities (they are then never asked for); ``size`` the size hint."""

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
        logprobs: bool = True,
        server: ServerProfile | None = None,
    ):
        urls = split_urls(base_url) or split_urls(os.environ.get("OPENAI_BASE_URL")) or [DEFAULT_URL]
        key = api_key()  # none is fine until a server asks for one (its 401 says so)
        self.profile = server or (OPENAI_API if urls == [DEFAULT_URL] else SELF_HOSTED)
        self.model = model
        self.spec = f"openai:{model}"
        self.concurrency = max(1, int(concurrency or SERVER_CONCURRENCY))
        self.transport = Transport(urls, key=key, timeout=timeout, model=model)
        self.retry = RetryPolicy(max(0, int(max_retries)), backoff_base, backoff_max)
        self.where = self.transport.replicas[0].where
        self.timeout = timeout
        self.size = size
        self.logprobs = bool(logprobs)
        self.server = ServerTokenizer(self._post, self._get, model, errors=(ModelError, *FAILED))

    def identity(self) -> dict[str, Any]:
        """Model and the first replica's public URL (replicas serve the same model)."""
        return {"backend": "openai", "model": self.model, "base_url": self.where}

    def secrets(self) -> tuple[str, ...]:
        return self.transport.secrets

    def close(self) -> None:
        self.transport.close()

    # -- what the server can tell about the model ----------------------------------------
    def _get(self, path: str) -> Any:
        url = _root(self.transport.replicas[0].url) + path
        return self.transport.send(lambda c: c.get(url, cast_to=object), replica=0, failover=False)[0]

    def _post(self, path: str, body: dict) -> Any:
        url = _root(self.transport.replicas[0].url) + path
        return self.transport.send(lambda c: c.post(url, body=body, cast_to=object), replica=0, failover=False)[0]

    def info(self) -> ModelInfo:
        """Context window and tokenizer as the server tells them (llama.cpp, vLLM; asked once),
        where its profile says it may; the prefix-cache rule as the profile declares it."""
        own = self.profile.own_endpoints
        window = self.server.context_window() if own else None
        dialect = self.server.dialect() if own else None
        return ModelInfo(self.spec, context_window=window, tokenizer=f"{dialect} /tokenize at {self.where}" if dialect else "",
                         logprobs=self.logprobs, prefill=False, concurrency=self.concurrency, size=self.size,
                         prefix_cache="any", prefix_cache_min=self.profile.prefix_cache_min, embeddings=True)

    def count_tokens(self, text: str) -> int:
        """The server's own tokenizer (llama.cpp, vLLM /tokenize); an estimate where it has none."""
        n = self.server.count(text) if self.profile.own_endpoints else None
        return estimate_tokens(text) if n is None else n

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        n = self.server.count_prompt(messages) if self.profile.own_endpoints else None
        return super().count_prompt_tokens(messages) if n is None else n

    def preflight(self) -> int:
        """GET {base}/models on each replica in turn until one answers: any HTTP answer but a
        refused key or a failing gateway means a server speaks there. A model list that answers
        (200) says nothing of the key (llama-server serves it to anyone), so one completion of
        one token follows; a refused key or an unknown model there fails the check. Returns
        the completion requests sent."""
        try:
            self.transport.send(lambda c: c.get(str(c.base_url.join("models")), cast_to=object), replica=0)
        except RequestError as exc:
            if exc.status is None or exc.status in (401, 403, 502, 503, 504):
                raise
            return 0
        try:
            return self.generate([{"role": "user", "content": "Reply OK."}], GenerateConfig(max_tokens=1)).attempts
        except RequestError as exc:
            if exc.status is None or exc.status in (401, 403, 404):
                raise
            return exc.attempts  # e.g. rate-limited or busy: the server is there and knows the key

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

    def request_body(self, messages: list[Message], config: GenerateConfig) -> dict[str, Any]:
        """The chat-completions JSON body of one request: what ``generate`` sends, and what a
        batch line carries (llm/batch_jsonl.py), so the two cannot drift apart."""
        body: dict[str, Any] = dict(model=self.model, messages=messages, max_tokens=int(config.max_tokens),
                                    temperature=float(config.temperature), seed=config.engine_seed)
        if config.stop:
            body["stop"] = list(config.stop)
        if config.grammar:
            body["grammar"] = config.grammar  # llama-server; other servers ignore it
        if config.repeat_penalty != 1.0:
            body["repeat_penalty"] = float(config.repeat_penalty)  # llama-server's name (vLLM: repetition_penalty)
        if config.logprobs and self.logprobs:
            body.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        return body

    def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        body = self.request_body(messages, config)
        start = time.perf_counter()
        try:  # the body as it is (the SDK's typed create() re-walks every message: ~0.7 ms a request)
            response, attempts, _ = self.transport.send(
                lambda c: c.post("/chat/completions", body=body, cast_to=_chat_completion()), self._check)
        except RequestError as exc:
            if config.logprobs and exc.status == 400 and "logprob" in str(exc).lower():
                raise RequestError(f"{exc} -- this server refuses log-probabilities: run with --option "
                                   "use_logprobs=false (Python: OpenAIModel(..., logprobs=False))", exc.attempts,
                                   400) from None
            raise
        return completion_output(response, config.logprobs, time.perf_counter() - start, attempts, self.where)

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
