"""The one interface every LLM backend speaks, and the records it returns.

Backends (scripted, local llama.cpp, OpenAI-compatible servers) implement ``ChatModel``; the
rest of valuesim only sees these types. Every method must be safe to call from many threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

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
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    cached: bool = False  # True when served from valuesim's response cache (no model call)
    finish_reason: str = ""  # "stop", "length", ... as the backend reports it


@dataclass
class OptionDistribution:
    """A probability for every option code (sums to 1).

    ``method`` says how it was obtained: "logprobs" (next-token probabilities after the
    ``Answer: `` prefix) or "sampling" (votes over parsed sampled answers; ``samples`` holds
    the raw sampled texts so the trace can show them)."""

    probs: dict[str, float]
    method: str  # "logprobs" | "sampling"
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    cached: bool = False
    samples: list[str] = field(default_factory=list)

    @property
    def answer(self) -> str:
        """The most probable code (ties go to the code listed first)."""
        return max(self.probs, key=lambda c: self.probs[c]) if self.probs else ""


@runtime_checkable
class ChatModel(Protocol):
    """What every backend offers. Implementations are thread-safe."""

    spec: str
    supports_logprobs: bool

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
    ) -> Completion: ...

    def option_distribution(
        self,
        messages: Sequence[Message],
        option_codes: Sequence[str],
        *,
        prefix: str = ANSWER_PREFIX,
        samples: int = 10,
    ) -> OptionDistribution: ...


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
