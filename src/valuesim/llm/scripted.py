"""A deterministic test double: answers from rules written in the test, records every call.

    model = ScriptedModel([("Cognitive", "Answer: 3\\nbecause ..."), (re.compile(r"Q(\\d+)"), "Answer: 2")],
                          default="Answer: 1")
    model.complete([{"role": "user", "content": "Cognitive view ..."}]).text  # "Answer: 3\\nbecause ..."
    model.calls[-1].prompt   # the whole conversation as one string, for assertions

Rules are matched against the whole conversation text (all message contents joined). A reply
may be a string, a list of strings (picked by ``sample_index``, so repeated samples differ) or
a callable ``(messages) -> str``. ``rules`` may also be a single callable.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union

from ..errors import ModelError
from .base import ANSWER_PREFIX, Completion, Message, ModelAPI, OptionDistribution, Usage, check_messages
from .options import parse_answer, vote_distribution

Reply = Union[str, Sequence[str], Callable[[list], str]]
Pattern = Union[str, "re.Pattern[str]", Callable[[list], bool]]
OptionsRule = Union[Mapping[str, float], Callable[[list, list], Mapping[str, float]]]


@dataclass
class ScriptedCall:
    kind: str  # "complete" | "option_distribution"
    messages: list[dict]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        """The conversation as one string: handy for ``assert "..." in call.prompt``."""
        return conversation_text(self.messages)

    @property
    def last_user(self) -> str:
        users = [m["content"] for m in self.messages if m["role"] == "user"]
        return users[-1] if users else ""


def conversation_text(messages: Sequence[Message]) -> str:
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)


def _tokens(text: str) -> int:
    """A stand-in token count (words), so accounting has numbers to add up."""
    return len(text.split())


class ScriptedModel(ModelAPI):
    """Deterministic ModelAPI for tests. See the module docstring for the rule forms.

    ``options`` fixes what ``option_distribution`` returns: a {code: prob} mapping or a
    callable ``(messages, codes) -> {code: prob}``. Without it, the distribution comes from the
    scripted reply: one-hot on its parsed answer when ``supports_logprobs`` (method
    "logprobs"), else votes over ``samples`` sampled replies (method "sampling") or, with
    ``samples=0``, one-hot at the parsed reply (method "parsed").
    ``fail_on``: a pattern; matching conversations raise ModelError (to test failure paths).
    Distributions are read like the embedded engine's (``reads_prefilled``), so tests see the
    ``option_distribution`` calls; ``context_tokens`` declares a context window.
    """

    reads_prefilled = True

    def __init__(
        self,
        rules: Union[Sequence[tuple[Pattern, Reply]], Callable[[list], str], None] = None,
        *,
        default: Reply = "Answer: 1",
        options: OptionsRule | None = None,
        supports_logprobs: bool = True,
        fail_on: Pattern | None = None,
        spec: str = "scripted",
        context_tokens: int | None = None,
    ):
        self.context_tokens = context_tokens
        if callable(rules):
            rules = [(lambda _m: True, rules)]
        self.rules = list(rules or [])
        self.default = default
        self.options = options
        self.supports_logprobs = supports_logprobs
        self.fail_on = fail_on
        self.spec = spec
        self.calls: list[ScriptedCall] = []
        self._lock = threading.Lock()

    def context_window(self) -> int | None:
        return self.context_tokens

    # -- helpers for tests -------------------------------------------------------------
    @property
    def prompts(self) -> list[str]:
        return [c.prompt for c in self.calls]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- rule matching -----------------------------------------------------------------
    @staticmethod
    def _matches(pattern: Pattern, messages: list, text: str) -> bool:
        if isinstance(pattern, str):
            return pattern in text
        if isinstance(pattern, re.Pattern):
            return pattern.search(text) is not None
        return bool(pattern(messages))

    def _reply(self, messages: list, sample_index: int) -> str:
        text = conversation_text(messages)
        if self.fail_on is not None and self._matches(self.fail_on, messages, text):
            raise ModelError("scripted failure: the conversation matched fail_on")
        reply = self.default
        for pattern, candidate in self.rules:
            if self._matches(pattern, messages, text):
                reply = candidate
                break
        if callable(reply):
            reply = reply(messages)
        elif not isinstance(reply, str):
            replies = list(reply)
            reply = replies[sample_index % len(replies)]
        return str(reply)

    def _record(self, kind: str, messages: list, params: dict) -> None:
        with self._lock:
            self.calls.append(ScriptedCall(kind, messages, params))

    # -- ChatModel ---------------------------------------------------------------------
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
        params = dict(max_tokens=max_tokens, temperature=temperature, seed=seed, stop=list(stop or []),
                      grammar=grammar, sample_index=sample_index, repeat_penalty=repeat_penalty)
        self._record("complete", msgs, params)
        text = self._reply(msgs, sample_index)
        finish = "stop"
        for s in stop or []:
            if s and s in text:
                text = text[: text.index(s)]
        words = text.split()
        if len(words) > max_tokens:
            text, finish = " ".join(words[:max_tokens]), "length"
        usage = Usage(_tokens(conversation_text(msgs)), 0, _tokens(text))
        return Completion(text, usage, 0.0, False, finish)

    def option_distribution(
        self,
        messages: Sequence[Message],
        option_codes: Sequence[str],
        *,
        prefix: str = ANSWER_PREFIX,
        samples: int = 0,
        temperature: float = 1.0,
    ) -> OptionDistribution:
        msgs = check_messages(messages)
        codes = [str(c) for c in option_codes]
        self._record("option_distribution", msgs, dict(codes=codes, prefix=prefix, samples=samples))
        usage = Usage(_tokens(conversation_text(msgs)), 0, 1)
        if self.options is not None:
            text = conversation_text(msgs)
            if self.fail_on is not None and self._matches(self.fail_on, msgs, text):
                raise ModelError("scripted failure: the conversation matched fail_on")
            raw = self.options(msgs, codes) if callable(self.options) else self.options
            probs = {c: max(0.0, float(raw.get(c, raw.get(int(c), 0.0) if c.lstrip("-").isdigit() else 0.0)))
                     for c in codes}
            total = sum(probs.values())
            if total <= 0:
                raise ModelError("scripted options rule gave no probability to any code")
            method = "logprobs" if self.supports_logprobs else "sampling"
            return OptionDistribution({c: p / total for c, p in probs.items()}, method, usage)
        if self.supports_logprobs:
            reply = self._reply(msgs, 0)
            answer = parse_answer(reply, codes)
            if answer is None:
                raise ModelError(f"scripted reply has no answer among {codes}: {reply[:80]!r}")
            return OptionDistribution({c: float(c == answer) for c in codes}, "logprobs", usage)
        if samples <= 0:  # one-hot at the parsed answer, as a server without logprobs gives
            reply = self._reply(msgs, 0)
            answer = parse_answer(reply, codes)
            if answer is None:
                raise ModelError(f"scripted reply has no answer among {codes}: {reply[:80]!r}")
            return OptionDistribution({c: float(c == answer) for c in codes}, "parsed", usage)
        texts = [self._reply(msgs, i) for i in range(samples)]
        usage = Usage(usage.prompt_tokens * samples, 0, sum(_tokens(t) for t in texts))
        return OptionDistribution(vote_distribution(texts, codes), "sampling", usage, samples=texts)


def hashed_options(messages: Sequence[Message], codes: Sequence[str]) -> dict[str, float]:
    """A deterministic, prompt-dependent distribution (for demos and smoke runs of ``scripted``)."""
    digest = hashlib.sha256(conversation_text(messages).encode()).digest()
    weights = [1 + digest[i % len(digest)] for i in range(len(codes))]
    total = sum(weights)
    return {str(c): w / total for c, w in zip(codes, weights)}
