"""The one interface every LLM backend speaks, and the records it returns.

Backends (scripted, local llama.cpp, OpenAI-compatible servers, the dry run) subclass
``ModelAPI``: one ``generate(messages, GenerateConfig) -> ModelOutput`` and a declared
``ModelInfo``. The rest of valuesim talks to a ``Model`` (model.py), which owns the cache,
accounting and concurrency around a ModelAPI.
"""

from __future__ import annotations

import abc
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

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
class ModelOutput:
    """What one generation returned: the text, its token log-probabilities (when asked for and
    given), usage, time and the requests it took (retries included; 0 when served from cache)."""

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


CHARS_PER_TOKEN = 4  # the one stated estimate where no tokenizer is reachable (English survey text)


def estimate_tokens(text: str) -> int:
    """Tokens at ``CHARS_PER_TOKEN`` characters each: used only where a model has no tokenizer
    valuesim can reach."""
    return -(-len(text) // CHARS_PER_TOKEN)


def effective_seed(seed: int, sample_index: int) -> int:
    """A distinct engine seed per sample, so repeated samples at temperature > 0 differ."""
    return (int(seed) * 1_000_003 + int(sample_index)) % (2**31 - 1)


@dataclass(frozen=True)
class GenerateConfig:
    """How to generate: every setting a request carries, frozen so it can key the cache.

    ``sample_index`` tells repeated samples of the same request apart (a new engine seed, a
    new cache entry); ``logprobs`` asks for the top log-probabilities of every written token;
    ``repeat_penalty`` is llama.cpp's repetition control (1.0: off; servers that do not know
    it ignore it)."""

    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    grammar: str | None = None
    sample_index: int = 0
    logprobs: bool = False
    repeat_penalty: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop", tuple(self.stop or ()))

    @property
    def engine_seed(self) -> int:
        return effective_seed(self.seed, self.sample_index)

    def key(self) -> dict[str, Any]:
        """The cache key's parameters (the layout older caches were written with, so their
        entries stay valid: ``logprobs`` and ``repeat_penalty`` only when not the default)."""
        out: dict[str, Any] = dict(max_tokens=self.max_tokens, temperature=self.temperature, seed=self.seed,
                                   stop=list(self.stop) or None, grammar=self.grammar, sample_index=self.sample_index)
        if self.logprobs:
            out["logprobs"] = True
        if self.repeat_penalty != 1.0:
            out["repeat_penalty"] = float(self.repeat_penalty)
        return out


SIZES = ("small", "large")


@dataclass(frozen=True)
class ModelInfo:
    """What a backend declares about its model; callers ask this, never the spec string.

    ``context_window``: tokens the engine accepts for prompt + reply, as it enforces them
    (None: unknown, treated as large). ``tokenizer``: what counts tokens exactly ("": none
    reachable; counts are ``CHARS_PER_TOKEN`` estimates). ``logprobs``: replies can carry
    token log-probabilities. ``prefill``: the engine continues a trailing assistant message, so
    an option distribution is a one-token read after a pre-filled ``Answer: ``. ``concurrency``:
    requests worth keeping in flight. ``size``: "small" models get prompts written for them
    (e.g. the small-model backstory prompt); the user can override it (``get_model(size=)``).
    ``prefix_cache``: "previous" (reuses the prefix of the request just before: one engine
    sequence) or "any" (a server's cache of any earlier prefix); ``prefix_cache_min``: the
    shortest prefix it caches, in tokens (OpenAI: 1,024, then steps of 128). ``embeddings``:
    serves embedding vectors."""

    spec: str = ""
    context_window: int | None = None
    tokenizer: str = ""
    logprobs: bool = False
    prefill: bool = False
    concurrency: int = 1
    size: str = "large"
    prefix_cache: str = "any"
    prefix_cache_min: int = 0
    embeddings: bool = False

    @property
    def exact_tokens(self) -> bool:
        return bool(self.tokenizer)


@dataclass(frozen=True)
class RetryPolicy:
    """How the one retry loop (``Model``) treats a backend's retryable failures (errors it
    raises with ``retryable`` set): up to ``retries`` more tries after the first, each wait
    exponential backoff with full jitter (``backoff_base`` doubling, at most ``backoff_max``)
    and at least what the error's ``retry_after`` asks (capped at ``wait_max``). A backend
    declares its policy as ``ModelAPI.retry``; ``sleep`` is replaced by tests to observe waits."""

    retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    wait_max: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def wait(self, failed_tries: int, retry_after: float | None) -> float:
        """Seconds to wait after the ``failed_tries``-th failed try (1, 2, ...)."""
        delay = random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (failed_tries - 1)))
        if retry_after is not None:
            delay = max(delay, min(max(0.0, retry_after), self.wait_max))
        return delay


class ModelAPI(abc.ABC):
    """The provider-facing model interface: a backend generates and declares what it is.

    Implement ``generate`` (one try: messages in, ``ModelOutput`` out; a backend with
    replicas may fail over between them inside it) and override ``info`` with what the model
    can do. A failure raises ModelError with ``attempts`` (requests made) and, when asking again
    may help, ``retryable`` and ``retry_after`` set: the ``Model`` retries it under ``retry``
    (the backend's declared policy); a backend never retries on its own. ``identity`` is what
    distinguishes its answers in the cache (never a secret); ``count_tokens`` the model's own
    tokenizer where there is one; ``preflight`` the cheapest proof that it answers. Everything
    else (cache, retries, accounting, concurrency, reading answers) is the ``Model``'s job.
    Every method must be safe to call from many threads."""

    spec: str = ""
    retry: RetryPolicy = RetryPolicy()
    cache_replies: bool = True  # False: its replies are no model's answers (a test double, the dry run)

    @abc.abstractmethod
    def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        """One generation for ``messages`` (validated plain dicts) under ``config``."""

    def info(self) -> ModelInfo:
        return ModelInfo(self.spec)

    def identity(self) -> dict[str, Any]:
        return {"spec": self.spec}

    def secrets(self) -> tuple[str, ...]:
        """Credentials this backend holds (an API key, URL passwords): the Model masks them in
        every reply before it is returned, stored or cached (the environment's key always)."""
        return ()

    def load(self) -> float | None:
        """Load whatever the backend needs now (an in-process engine); seconds it took, or
        None when there is nothing to load (a server)."""
        return None

    def preflight(self) -> int:
        """Raise ValuesimError unless the model can answer, as cheaply as the backend can tell
        (default: it loads); the requests it sent (the run counts them)."""
        self.load()
        return 0

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of a whole prompt, chat template included where the backend can apply it
        (default: the contents counted, plus a few tokens of role markers per message)."""
        return sum(self.count_tokens(m["content"]) + TEMPLATE_TOKENS_PER_MESSAGE for m in messages) + 3

    def embed(self, texts: Sequence[str], model: str | None = None) -> tuple[list[list[float]], Usage, int]:
        """(vectors, usage, attempts) for ``texts``; backends without embeddings raise."""
        from ..errors import ModelError

        raise ModelError(f"{self.spec or type(self).__name__} does not serve embeddings")

    def complete(self, messages: Sequence[Message], config: GenerateConfig | None = None, **settings: Any) -> ModelOutput:
        """``generate`` with the settings as keywords (``GenerateConfig``'s fields): one try,
        uncached, not retried (a ``Model`` retries)."""
        return self.generate(check_messages(messages), config or GenerateConfig(**settings))


TEMPLATE_TOKENS_PER_MESSAGE = 4  # role markers around each message (estimates only)


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
