"""HTTP to OpenAI-compatible servers: replicas, one deadline per attempt, errors classified.

Every request runs on one background asyncio loop through the SDK's async client, wrapped in
``asyncio.wait_for``: the timeout is a deadline for the whole attempt (connect, headers and
body), so a server that trickles a byte a second is cut off when the deadline passes, not when
it pauses. Callers stay synchronous (they block on a future), so the thread-based runners need
no change, while the sockets themselves are served by one event loop.

Several replicas (``--base-url`` given more than once, or a comma list) share the work round
robin; an attempt that fails on one replica is tried at once on the next. Only when every
replica failed does the one try fail, saying whether it is worth retrying and how long the
servers asked to wait (Retry-After); the Model's one retry loop waits and tries again (a new
round). Every attempt is counted, so accounting matches what servers saw.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError, ModelError
from .secrets import scrub


class RequestError(ModelError):
    """A try that failed. ``attempts``: HTTP attempts made; ``status``: the last HTTP status
    (None for timeouts and connection errors); ``retryable``/``retry_after``: see ModelError."""

    def __init__(self, message: str, attempts: int = 1, status: int | None = None, *, retryable: bool = False,
                 retry_after: float | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


def public_url(url: str) -> str:
    """The URL without any user:password part (safe to show and to use as a cache key)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def split_urls(base_url: "str | Sequence[str] | None") -> list[str]:
    """One or more base URLs from a string (comma list allowed) or a list of them."""
    if base_url is None:
        return []
    items = [base_url] if isinstance(base_url, str) else list(base_url)
    urls = [u.strip().rstrip("/") for item in items for u in str(item).split(",") if u.strip()]
    for u in urls:
        if not urlsplit(u).scheme.startswith("http"):
            raise ConfigError(f"base URL must start with http:// or https://, got {public_url(u)!r}")
    return urls


MAX_BODY_BYTES = 16_000_000  # a reply body a server announces as larger is refused before it is read


class BodyTooLarge(Exception):
    """A reply whose Content-Length is over MAX_BODY_BYTES (raised before its body is read)."""


async def _refuse_huge_body(response: Any) -> None:
    """httpx response hook: a 50 MB reply costs neither the memory to parse it nor the time to read it
    (replies.py refuses what is over 1 MB of text after parsing, for bodies sent without a length)."""
    length = response.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"{int(length) / 1e6:.1f} MB")


@dataclass
class Replica:
    url: str
    where: str
    client: Any = None


class Transport:
    """Thread-safe sender of SDK calls to one or more replicas of one model server: one try
    (a round over the replicas), no retries and no concurrency limit of its own (the Model
    owns both)."""

    def __init__(self, urls: Sequence[str], *, key: str | None, timeout: float = 120.0, model: str = ""):
        try:
            import openai
        except ImportError:  # a declared dependency; only a broken install lands here
            raise ModelError("the 'openai' package is not installed: pip install openai") from None
        if not urls:
            raise ConfigError("no model server URL: pass --base-url or set $OPENAI_BASE_URL")
        self._openai = openai
        self._key = key or ""
        self.model = model
        self.replicas = [Replica(u, public_url(u)) for u in urls]
        self.secrets = tuple(s for s in [self._key] + [urlsplit(u).password for u in urls] if s)
        self.timeout = float(timeout)
        self._next = itertools.count()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.attempts_by_replica = {r.where: 0 for r in self.replicas}

    # -- the event loop ------------------------------------------------------------------
    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="valuesim-http", daemon=True)
                thread.start()
                self._loop = loop
            return self._loop

    def _client(self, replica: Replica) -> Any:
        if replica.client is None:  # created on the loop thread only, so no lock is needed
            http = self._openai.DefaultAsyncHttpxClient(event_hooks={"response": [_refuse_huge_body]})
            replica.client = self._openai.AsyncOpenAI(api_key=self._key or "no-key-needed", base_url=replica.url,
                                                      max_retries=0, timeout=self.timeout, http_client=http)
        return replica.client

    async def _attempt(self, replica: Replica, send: Callable[[Any], Any]) -> Any:
        return await asyncio.wait_for(send(self._client(replica)), timeout=self.timeout)

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return

        async def shut() -> None:
            for r in self.replicas:
                if r.client is not None:
                    await r.client.close()
                    r.client = None

        try:
            asyncio.run_coroutine_threadsafe(shut(), loop).result(timeout=5)
        except Exception:  # closing is best effort
            pass
        loop.call_soon_threadsafe(loop.stop)

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order varies
        loop = self._loop
        if loop is None:
            return
        clients = [r.client for r in self.replicas if r.client is not None]

        async def shut() -> None:  # close the clients on their own loop, then stop it
            for client in clients:
                try:
                    await client.close()
                except Exception:  # noqa: BLE001 - best effort while being collected
                    pass
            loop.stop()

        try:  # never wait here: the collector may run on the loop thread itself
            asyncio.run_coroutine_threadsafe(shut(), loop)
        except RuntimeError:
            pass

    # -- one try: a round over the replicas ---------------------------------------------
    def send(self, send: Callable[[Any], Any], check: Callable[[Any], None] | None = None,
             replica: int | None = None, failover: bool = True) -> tuple[Any, int, str]:
        """Run ``send(async_client)`` once: (result, attempts, where). A retryable failure on one
        replica is tried at once on the next, until each replica was tried once; then the
        RequestError says whether asking again may help (``retryable``, ``retry_after``).

        ``check`` may raise ValueError on a reply that is not usable (treated like garbage);
        ``replica`` starts at that replica (else round robin); ``failover`` False: that one only."""
        first = next(self._next) if replica is None else replica
        n = len(self.replicas) if failover else 1
        hints: list[float] = []
        for attempt in range(n):
            rep = self.replicas[(first + attempt) % len(self.replicas)]
            with self._lock:
                self.attempts_by_replica[rep.where] += 1
            try:
                future = asyncio.run_coroutine_threadsafe(self._attempt(rep, send), self._running_loop())
                result = future.result()
                if check is not None:
                    check(result)
                return result, attempt + 1, rep.where
            except Exception as exc:  # classified below; anything unknown is re-raised as is
                retryable, message, status = self._classify(exc, rep.where)
                hint = self._retry_after(exc)
                if hint is not None:
                    hints.append(hint)
                if not retryable or attempt + 1 == n:
                    raise RequestError(scrub(message, *self.secrets), attempt + 1, status, retryable=retryable,
                                       retry_after=max(hints) if hints else None) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_after(self, exc: Exception) -> float | None:
        """The wait a failed reply asks for (Retry-After-Ms, Retry-After in seconds or as a date)."""
        if not isinstance(exc, self._openai.APIStatusError):
            return None
        headers = exc.response.headers
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

    def _classify(self, exc: Exception, where_url: str) -> tuple[bool, str, int | None]:
        """(retryable, user-facing message, HTTP status) for an exception of one attempt."""
        o = self._openai
        where = f"the model server at {where_url}"
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError, o.APITimeoutError)):
            return True, f"{where} did not answer within {self.timeout:g} s", None
        too_large = exc if isinstance(exc, BodyTooLarge) else exc.__cause__
        if isinstance(too_large, BodyTooLarge):
            return False, (f"{where} sent a reply of {too_large}, over the {MAX_BODY_BYTES / 1e6:g} MB a reply "
                           "may take: refused before it was read"), None
        if isinstance(exc, o.APIConnectionError):
            return True, (f"cannot reach {where} (connection refused, dropped or reset); check --base-url and "
                          "that the server is running"), None
        if isinstance(exc, o.AuthenticationError) and not self._key:
            return False, f"{where} asks for an API key (401): set $OPENAI_API_KEY (or $VALUESIM_API_KEY)", 401
        if isinstance(exc, o.AuthenticationError):
            return False, f"{where} rejected the API key (401): check $OPENAI_API_KEY / $VALUESIM_API_KEY", 401
        if isinstance(exc, o.PermissionDeniedError):
            return False, f"{where} refused access (403): the API key may lack access to model {self.model!r}", 403
        if isinstance(exc, o.NotFoundError):
            return False, f"{where} has no model {self.model!r} (404): check the model name and --base-url", 404
        if isinstance(exc, o.RateLimitError):
            return True, f"{where} rate-limited the request (429)", 429
        if isinstance(exc, o.APIStatusError):
            status = exc.status_code
            detail = str(getattr(exc, "message", "") or exc)[:300]
            if status >= 500 or status == 408:
                return True, f"{where} failed with HTTP {status}: {detail}", status
            return False, f"{where} refused the request (HTTP {status}): {detail}", status
        if isinstance(exc, (o.APIResponseValidationError, ValueError)):
            return True, f"{where} sent a reply that is not a valid API reply", None
        if isinstance(exc, o.OpenAIError):
            return False, f"{where}: {exc}", None
        raise exc
