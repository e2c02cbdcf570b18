"""The one interface every LLM backend speaks, and the records it returns.

Backends (scripted, local llama.cpp, OpenAI-compatible servers) subclass ``ModelAPI``; the
rest of valuesim only sees these types. Every method must be safe to call from many threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

Message = dict  # {"role": "system" | "user" | "assistant", "content": str}

ANSWER_PREFIX = "Answer: "


@dataclass
class Usage:
    """Tokens spent by one or more calls. ``cached_tokens`` is the part of the prompt served
    from the engine's prefix cache (it is included in ``prompt_tokens``)."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.cached_tokens + other.cached_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    def as_dict(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "completion_tokens": self.completion_tokens,
        }


@dataclass
class TokenLogprob:
    """One written token with its log-probability and the top alternatives at its position."""

    token: str
    logprob: float
    top: dict[str, float] = field(default_factory=dict)

    def alternatives(self) -> dict[str, float]:
        """{token: logprob} at this position, the written token included."""
        out = dict(self.top)
        if self.token not in out:
            out[self.token] = self.logprob
        return out

    def as_list(self) -> list:
        return [self.token, self.logprob, self.top]

    @classmethod
    def from_list(cls, raw: list) -> "TokenLogprob":
        return cls(str(raw[0]), float(raw[1]), {str(k): float(v) for k, v in (raw[2] or {}).items()})


@dataclass
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    cached: bool = False  # True when served from valuesim's response cache (no model call)
    finish_reason: str = ""  # "stop", "length", ... as the backend reports it
    logprobs: list[TokenLogprob] | None = None  # per written token, when asked for and given
    attempts: int = 1  # HTTP requests (or engine calls) it took, retries included; 0 when cached


@dataclass
class OptionDistribution:
    """A probability for every option code (sums to 1).

    ``method`` says how it was obtained: "logprobs" (next-token probabilities after the
    ``Answer: `` prefix), "sampling" (votes over parsed sampled answers; ``samples`` holds
    the raw sampled texts so the trace can show them) or "parsed" (one-hot at the answer the
    model wrote, for backends without log-probabilities)."""

    probs: dict[str, float]
    method: str  # "logprobs" | "sampling" | "parsed"
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    cached: bool = False
    samples: list[str] = field(default_factory=list)
    attempts: int = 1

    @property
    def answer(self) -> str:
        """The most probable code (ties go to the code listed first)."""
        return max(self.probs, key=lambda c: self.probs[c]) if self.probs else ""


def estimate_tokens(text: str) -> int:
    """One token per 3 characters: errs on the long side for English survey text. Used only
    where a backend has no tokenizer of its own."""
    return len(text) // 3 + 1


class ModelAPI:
    """The one typed model interface. Backends subclass it and override what they know; the
    defaults say "unknown" honestly. Every method must be safe to call from many threads.

    Declared parts: ``spec`` and ``identity()`` (what produced an answer, never a secret),
    ``context_window()`` and ``count_tokens()`` (the model's own tokenizer where there is one;
    ``exact_tokens`` says whether it is), capabilities (``supports_logprobs``: completions can
    carry token log-probabilities; ``reads_prefilled``: ``option_distribution`` continues a
    pre-filled ``Answer: `` turn, a 1-token read), and ``default_concurrency`` (requests worth
    keeping in flight)."""

    spec: str = ""
    supports_logprobs: bool = False
    reads_prefilled: bool = False
    exact_tokens: bool = False
    default_concurrency: int = 1

    def identity(self) -> dict[str, Any]:
        return {"spec": self.spec}

    def load(self) -> float | None:
        """Load whatever the backend needs now (an in-process engine); seconds it took, or
        None when there is nothing to load (a server)."""
        return None

    def context_window(self) -> int | None:
        return None

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

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
        """One chat completion. ``repeat_penalty``: llama.cpp's repetition control (1.0: off),
        sent to a server as ``repeat_penalty``; servers that do not know it ignore it."""
        raise NotImplementedError

    def option_distribution(
        self,
        messages: Sequence[Message],
        option_codes: Sequence[str],
        *,
        prefix: str = ANSWER_PREFIX,
        samples: int = 0,
    ) -> OptionDistribution:
        raise NotImplementedError

    def embed(self, texts: Sequence[str], model: str | None = None) -> tuple[list[list[float]], Usage, int]:
        """(vectors, usage, attempts) for ``texts``; backends without embeddings raise."""
        from ..errors import ModelError

        raise ModelError(f"{self.spec or type(self).__name__} does not serve embeddings")


ChatModel = ModelAPI  # the name older code imports


def check_messages(messages: Sequence[Message]) -> list[dict]:
    """Validate and copy messages into plain dicts (one clear error for a bad shape)."""
    from ..errors import ConfigError

    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise ConfigError(f"message {i} must be a dict with 'role' and 'content', got {m!r:.80}")
        if m["role"] not in ("system", "user", "assistant"):
            raise ConfigError(f"message {i} has unknown role {m['role']!r}")
        out.append({"role": str(m["role"]), "content": str(m["content"])})
    if not out:
        raise ConfigError("no messages to send to the model")
    return out
