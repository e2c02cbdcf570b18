"""Token, time and cost accounting shared by every call through one model handle."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .base import Usage

PER_TOKEN_BELOW = 1e-3  # no provider charges under $0.001 per million tokens: such a price is per token


@dataclass
class Prices:
    """US dollars per million tokens. Cached prompt tokens cost ``cached`` when given, else
    ``prompt``."""

    prompt: float = 0.0
    completion: float = 0.0
    cached: float | None = None

    @classmethod
    def parse(cls, value: "Prices | dict | str | None") -> "Prices | None":
        """Accepts a Prices, a dict, or "PROMPT,COMPLETION[,CACHED]" (per million tokens)."""
        if value is None or isinstance(value, Prices):
            return value
        if isinstance(value, dict):
            return cls(**value)
        from ..errors import ConfigError

        try:
            parts = [float(x) for x in str(value).split(",")]
        except ValueError:
            parts = []
        if len(parts) not in (2, 3) or any(not (p >= 0) or p == float("inf") for p in parts):
            raise ConfigError(f"prices must be 'PROMPT,COMPLETION[,CACHED]' dollars per million tokens, got {value!r}")
        if any(0 < p < PER_TOKEN_BELOW for p in parts):  # $0.00000015 is a price per token: it would cost $0.00
            per_million = ",".join(f"{p * 1e6:g}" for p in parts)
            raise ConfigError(f"prices {value!r} look like dollars per token; valuesim takes dollars per MILLION "
                              f"tokens (as providers list them): did you mean {per_million}?")
        return cls(*parts)

    def cost(self, usage: Usage) -> float:
        cached_price = self.prompt if self.cached is None else self.cached
        fresh = usage.prompt_tokens - usage.cached_tokens
        return (fresh * self.prompt + usage.cached_tokens * cached_price + usage.completion_tokens * self.completion) / 1e6


@dataclass
class Accounting:
    """What a run cost: model calls, cache hits, failures, tokens, time and (with prices) money.

    ``calls`` counts answered calls; ``requests`` every request a server saw for them (a call
    that needed three attempts is one call and three requests; a failed call adds its attempts).

    ``model_seconds`` adds up the time of every model call (calls may overlap when concurrent);
    ``wall_seconds`` is the time from the first call's start to the last call's end."""

    prices: Prices | None = None
    calls: int = 0
    requests: int = 0  # every HTTP attempt (or engine call): retries, failures and extra reads included
    cache_hits: int = 0
    failures: int = 0
    usage: Usage = field(default_factory=Usage)
    model_seconds: float = 0.0
    _first: float | None = None
    _last: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_call(self, usage: Usage, seconds: float, attempts: int = 1) -> None:
        now = time.monotonic()
        with self._lock:
            self.calls += 1
            self.requests += max(0, int(attempts))
            self.usage = self.usage + usage
            self.model_seconds += seconds
            self._span(now - seconds, now)

    def record_requests(self, n: int) -> None:
        """Requests that answered no caller (the model's check before a run) but reached a server."""
        with self._lock:
            self.requests += max(0, int(n))

    def record_hit(self) -> None:
        with self._lock:
            self.cache_hits += 1

    def record_failure(self, seconds: float = 0.0, attempts: int = 1) -> None:
        now = time.monotonic()
        with self._lock:
            self.failures += 1
            self.requests += max(0, int(attempts))
            self.model_seconds += seconds
            self._span(now - seconds, now)

    def _span(self, start: float, end: float) -> None:
        self._first = start if self._first is None else min(self._first, start)
        self._last = end if self._last is None else max(self._last, end)

    @property
    def prompt_tokens(self) -> int:
        return self.usage.prompt_tokens

    @property
    def cached_tokens(self) -> int:
        return self.usage.cached_tokens

    @property
    def completion_tokens(self) -> int:
        return self.usage.completion_tokens

    @property
    def wall_seconds(self) -> float:
        return 0.0 if self._first is None else max(0.0, self._last - self._first)

    @property
    def cost(self) -> float | None:
        return None if self.prices is None else self.prices.cost(self.usage)

    def as_dict(self) -> dict:
        return {
            "calls": self.calls,
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "failures": self.failures,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "completion_tokens": self.completion_tokens,
            "model_seconds": round(self.model_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "cost_usd": None if self.cost is None else round(self.cost, 6),
        }

    def summary(self) -> str:
        text = (
            f"{self.calls} model calls ({self.requests} requests incl. retries), {self.cache_hits} cache hits, "
            f"{self.failures} failures; "
            f"tokens: {self.prompt_tokens} prompt ({self.cached_tokens} from prefix cache), "
            f"{self.completion_tokens} completion; {self.wall_seconds:.1f} s wall, "
            f"{self.model_seconds:.1f} s in model calls"
        )
        if self.cost is not None:
            text += f"; cost ${self.cost:.4f}"
        return text
