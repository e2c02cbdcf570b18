"""Any OpenAI-compatible server (OpenAI, DeepSeek, vLLM, Ollama, llama-server) via the official SDK.

The SDK's own retries are off; ours retry 429, 5xx, timeouts, dropped connections and garbled
replies with exponential backoff and full jitter, honour Retry-After, and give up after a bounded
number of attempts with one clear ModelError. A semaphore bounds concurrent requests. The API key
is read from the environment only ($OPENAI_API_KEY or $VALUESIM_API_KEY) and is scrubbed from
every message we raise; it never reaches the cache (see ``cache_identity``).

Option distributions use the server's log-probabilities when it returns them: the model writes
``Answer: N`` and we read the top alternatives at the position where N starts (and, for codes
such as 1 vs 10, at the next position along the written path). Servers without logprobs fall
back to voting over sampled, parsed answers; ``OptionDistribution.method`` says which was used.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError, ModelError
from .base import ANSWER_PREFIX, Completion, Message, OptionDistribution, Usage, check_messages
from .options import score_codes, vote_distribution

TOP_LOGPROBS = 20
ANSWER_MAX_TOKENS = 16  # room for "**Answer:** 10" in any tokenizer
SAMPLE_MAX_TOKENS = 48
KEY_ENV = ("OPENAI_API_KEY", "VALUESIM_API_KEY")
_SECRETISH = re.compile(r"(sk-[A-Za-z0-9_\-*]{4,}|Bearer\s+\S+)")


def effective_seed(seed: int, sample_index: int) -> int:
    return (int(seed) * 1_000_003 + int(sample_index)) % (2**31 - 1)


def _api_key() -> str | None:
    for name in KEY_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def public_url(url: str) -> str:
    """The URL without any user:password part (safe to show and to use as a cache key)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


class OpenAIModel:
    """ChatModel for an OpenAI-compatible chat-completions endpoint."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        concurrency: int = 4,
        timeout: float = 120.0,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        logprobs: bool | None = None,
        sample_temperature: float = 1.0,
    ):
        try:
            import openai
        except ImportError:  # a declared dependency; only a broken install lands here
            raise ModelError("the 'openai' package is not installed: pip install openai") from None
        self._openai = openai
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        if not urlsplit(self.base_url).scheme.startswith("http"):
            raise ConfigError(f"base URL must start with http:// or https://, got {public_url(self.base_url)!r}")
        self.where = public_url(self.base_url)
        self.spec = f"openai:{model}"
        key = _api_key()
        if key is None and urlsplit(self.base_url).hostname == "api.openai.com":
            raise ConfigError("no API key: set $OPENAI_API_KEY (or $VALUESIM_API_KEY) in the environment")
        self._secret = key or ""
        self.client = openai.OpenAI(api_key=key or "no-key-needed", base_url=self.base_url,
                                    max_retries=0, timeout=timeout)
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.concurrency = max(1, int(concurrency))
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._logprobs = logprobs  # None: find out from the first answer
        self.sample_temperature = sample_temperature
        self.sleep: Callable[[float], None] = time.sleep  # tests replace it to observe waits

    @property
    def supports_logprobs(self) -> bool:
        return self._logprobs is not False

    def cache_identity(self) -> dict[str, Any]:
        return {"backend": "openai", "model": self.model, "base_url": self.where}

    # -- errors and retries ----------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        if self._secret:
            text = text.replace(self._secret, "***")
        return _SECRETISH.sub("***", text)[:300]

    @staticmethod
    def _retry_after(exc: Exception) -> float | None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        if not headers:
            return None
        ms = headers.get("retry-after-ms")
        if ms:
            try:
                return float(ms) / 1000.0
            except ValueError:
                pass
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if value else None
            return max(0.0, when.timestamp() - time.time()) if when else None

    def _classify(self, exc: Exception) -> tuple[bool, str]:
        """(retryable, user-facing message) for an SDK exception."""
        o = self._openai
        where = f"the model server at {self.where}"
        if isinstance(exc, o.APITimeoutError):
            return True, f"{where} did not answer within {self.timeout:g} s"
        if isinstance(exc, o.APIConnectionError):
            return True, f"cannot reach {where} (connection refused, dropped or reset); check --base-url and that the server is running"
        if isinstance(exc, o.AuthenticationError):
            return False, f"{where} rejected the API key (401): check $OPENAI_API_KEY / $VALUESIM_API_KEY"
        if isinstance(exc, o.PermissionDeniedError):
            return False, f"{where} refused access (403): the API key may lack access to model {self.model!r}"
        if isinstance(exc, o.NotFoundError):
            return False, f"{where} has no model {self.model!r} (404): check the model name and --base-url"
        if isinstance(exc, o.RateLimitError):
            return True, f"{where} kept rate-limiting requests (429)"
        if isinstance(exc, o.APIStatusError):
            status = exc.status_code
            detail = self._scrub(str(getattr(exc, "message", "") or exc))
            if status >= 500 or status == 408:
                return True, f"{where} failed with HTTP {status}: {detail}"
            return False, f"{where} refused the request (HTTP {status}): {detail}"
        if isinstance(exc, (o.APIResponseValidationError, ValueError)):
            return True, f"{where} sent a reply that is not a valid chat completion"
        if isinstance(exc, o.OpenAIError):
            return False, f"{where}: {self._scrub(str(exc))}"
        raise exc

    def _call(self, **kwargs: Any) -> Any:
        """One request with bounded retries; returns a ChatCompletion or raises ModelError."""
        attempt = 0
        while True:
            try:
                with self._slots:
                    response = self.client.chat.completions.create(model=self.model, **kwargs)
                if not getattr(response, "choices", None):
                    raise ValueError("no choices")
                return response
            except Exception as exc:  # classified below; anything unknown is re-raised as is
                retryable, message = self._classify(exc)
                if not retryable or attempt >= self.max_retries:
                    tries = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise ModelError(message + tries) from None
                delay = random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))
                hinted = self._retry_after(exc)
                if hinted is not None:
                    delay = max(delay, min(hinted, 120.0))
                self.sleep(delay)
                attempt += 1

    @staticmethod
    def _usage(response: Any) -> Usage:
        u = getattr(response, "usage", None)
        if u is None:
            return Usage()
        details = getattr(u, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", 0) if details is not None else 0
        return Usage(int(u.prompt_tokens or 0), int(cached or 0), int(u.completion_tokens or 0))

    # -- ChatModel -----------------------------------------------------------------------
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
        kwargs: dict[str, Any] = dict(messages=msgs, max_tokens=int(max_tokens), temperature=float(temperature),
                                      seed=effective_seed(seed, sample_index))
        if stop:
            kwargs["stop"] = list(stop)
        if grammar:
            kwargs["extra_body"] = {"grammar": grammar}  # llama-server; other servers ignore it
        start = time.perf_counter()
        response = self._call(**kwargs)
        choice = response.choices[0]
        text = getattr(choice.message, "content", None)
        if text is None:
            raise ModelError(f"the model server at {self.where} returned an empty answer")
        return Completion(text, self._usage(response), time.perf_counter() - start, False,
                          choice.finish_reason or "")

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
        start = time.perf_counter()
        if self._logprobs is not False:
            response = self._call(messages=msgs, max_tokens=ANSWER_MAX_TOKENS, temperature=0.0, seed=0,
                                  logprobs=True, top_logprobs=TOP_LOGPROBS)
            usage = self._usage(response)
            content = getattr(getattr(response.choices[0], "logprobs", None), "content", None)
            if not content:
                self._logprobs = False  # the server gives none: sample from now on
            else:
                self._logprobs = True
                probs = probs_from_written_tokens(content, codes, prefix)
                if probs:
                    return OptionDistribution(probs, "logprobs", usage, time.perf_counter() - start)
        texts, usage = self._sample(msgs, samples)
        probs = vote_distribution(texts, codes)
        return OptionDistribution(probs, "sampling", usage, time.perf_counter() - start, samples=texts)

    def _sample(self, msgs: list[dict], samples: int) -> tuple[list[str], Usage]:
        def one(i: int) -> Completion:
            return self.complete(msgs, max_tokens=SAMPLE_MAX_TOKENS, temperature=self.sample_temperature,
                                 seed=0, sample_index=i)

        with ThreadPoolExecutor(max_workers=min(max(1, samples), self.concurrency)) as pool:
            results = list(pool.map(one, range(max(1, samples))))
        usage = Usage()
        for r in results:
            usage = usage + r.usage
        return [r.text for r in results], usage

    def __repr__(self) -> str:
        return f"<OpenAIModel {self.model} at {self.where}>"


def _top(item: Any) -> dict[str, float]:
    dist: dict[str, float] = {}
    for alt in getattr(item, "top_logprobs", None) or []:
        dist[alt.token] = max(dist.get(alt.token, float("-inf")), float(alt.logprob))
    if item.token not in dist:
        dist[item.token] = float(item.logprob)
    return dist


_ANSWER_LEAD = re.compile(r"answer\W*$", re.IGNORECASE)


def probs_from_written_tokens(content: Sequence[Any], codes: Sequence[str], prefix: str = ANSWER_PREFIX) -> dict[str, float]:
    """Code probabilities from the logprobs of a written reply such as ``Answer: 10``.

    Finds the first token where the answer starts (after "Answer:" or at the very start), then
    scores codes from the alternatives there; multi-token codes follow the written path. Returns
    {} when no answer position is found."""
    lead = re.compile(re.escape(prefix.strip().rstrip(":")) + r"\W*$", re.IGNORECASE) if prefix.strip() else _ANSWER_LEAD
    tokens = [c.token for c in content]
    start = None
    before = ""
    for i, tok in enumerate(tokens):
        stripped = tok.lstrip()
        if stripped and any(code.startswith(stripped[:1]) for code in codes):
            if lead.search(before) or not re.sub(r"[\s*#>\[(\"']", "", before):
                start = i
                break
        before += tok
    if start is None:
        return {}
    positions: dict[str, int] = {}
    written = ""
    for j in range(start, len(tokens)):
        positions[written] = j
        written = (written + tokens[j]).lstrip() if not written else written + tokens[j]

    def next_tokens(text: str) -> dict[str, float] | None:
        j = positions.get(text)
        return None if j is None else _top(content[j])

    return score_codes(_top(content[start]), next_tokens, codes)
