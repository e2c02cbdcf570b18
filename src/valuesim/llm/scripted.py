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
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union

from ..errors import ModelError
from .base import ANSWER_PREFIX, GenerateConfig, Message, ModelAPI, ModelInfo, ModelOutput, TokenLogprob, Usage
from .options import parse_answer

Reply = Union[str, Sequence[str], Callable[[list], str]]
Pattern = Union[str, "re.Pattern[str]", Callable[[list], bool]]
OptionsRule = Union[Mapping[str, float], Callable[[list, list], Mapping[str, float]]]


@dataclass
class ScriptedCall:
    kind: str  # "complete" | "read" (a one-token read after a pre-filled assistant turn)
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

    With ``supports_logprobs`` (the default) it declares pre-filled reads, like the embedded
    engine: a distribution is read with one-token ``read`` calls after ``Answer: `` (recorded
    in ``calls`` with kind "read"). ``options`` fixes the probabilities those reads give: a
    {code: prob} mapping or a callable ``(messages, codes) -> {code: prob}`` (``codes``: the
    options the last user message lists, see ``prompt_codes``). Without it all mass goes to
    the code the scripted reply gives. Without ``supports_logprobs`` callers get the parsed
    reply (or votes over sampled replies). ``fail_on``: a pattern; matching conversations
    raise ModelError (to test failure paths). ``context_tokens`` declares a context window,
    ``size`` a size hint ("small" | "large").
    """

    cache_replies = False  # its rules live in the test, not in its identity: never in the default cache

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
        size: str = "large",
    ):
        self.context_tokens = context_tokens
        self.size = size
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

    def info(self) -> ModelInfo:
        return ModelInfo(self.spec, context_window=self.context_tokens, logprobs=self.supports_logprobs,
                         prefill=self.supports_logprobs, concurrency=1, size=self.size)

    # -- ModelAPI ----------------------------------------------------------------------
    def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        if messages[-1]["role"] == "assistant" and config.logprobs and self.supports_logprobs:
            return self._read(messages[:-1], messages[-1]["content"])
        params = dict(max_tokens=config.max_tokens, temperature=config.temperature, seed=config.seed,
                      stop=list(config.stop), grammar=config.grammar, sample_index=config.sample_index,
                      repeat_penalty=config.repeat_penalty)
        self._record("complete", messages, params)
        text = self._reply(messages, config.sample_index)
        finish = "stop"
        for s in config.stop:
            if s and s in text:
                text = text[: text.index(s)]
        words = text.split()
        if len(words) > config.max_tokens:
            text, finish = " ".join(words[: config.max_tokens]), "length"
        usage = Usage(_tokens(conversation_text(messages)), 0, _tokens(text))
        return ModelOutput(text, usage, 0.0, False, finish)

    def _read(self, convo: list[dict], prefill: str) -> ModelOutput:
        """The next token after a pre-filled assistant turn, with its alternatives: after
        ``Answer: `` every code is one token, with the ``options`` rule's probabilities (or
        all mass on the code the scripted reply gives); after a code, the end of the line."""
        self._record("read", convo, {"prefix": prefill})
        if prefill.endswith(ANSWER_PREFIX):
            top = {c: math.log(p) for c, p in self._distribution(convo).items() if p > 0}
        else:
            top = {"\n": 0.0}
        token = max(top, key=lambda t: top[t])
        usage = Usage(_tokens(conversation_text(convo)), 0, 1)
        return ModelOutput(token, usage, 0.0, False, "length", [TokenLogprob(token, top[token], top)])

    def _distribution(self, convo: list[dict]) -> dict[str, float]:
        text = conversation_text(convo)
        if self.fail_on is not None and self._matches(self.fail_on, convo, text):
            raise ModelError("scripted failure: the conversation matched fail_on")
        if self.options is not None:
            codes = [str(c) for c in self.options] if not callable(self.options) else prompt_codes(convo)
            raw = self.options(convo, codes) if callable(self.options) else self.options
            probs = {str(c): max(0.0, float(p)) for c, p in raw.items()}
            total = sum(probs.values())
            if total <= 0:
                raise ModelError("scripted options rule gave no probability to any code")
            return {c: p / total for c, p in probs.items()}
        reply = self._reply(convo, 0)
        codes = prompt_codes(convo)
        answer = parse_answer(reply, codes) if codes else None
        if answer is None:
            found = re.search(r"answer\W{0,6}?(-?\d+)", reply, flags=re.IGNORECASE)
            answer = found.group(1) if found else None
        if answer is None:
            raise ModelError(f"scripted reply has no answer: {reply[:80]!r}")
        return {answer: 1.0}


def prompt_codes(messages: Sequence[Message]) -> list[str]:
    """The option codes the last user message lists last ("1. Very important" lines, or "(a
    number from A to B)"; 1-10 when it lists none): what a test double can know of the
    question asked."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    text = users[-1] if users else ""
    runs, current = [], []
    for line in text.splitlines():
        found = re.match(r"\s*(-?\d+)\.\s", line)
        if found:
            current.append(found.group(1))
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    ranges = list(re.finditer(r"a number from (-?\d+) to (-?\d+)", text))
    if ranges and (not runs or ranges[-1].start() > text.rfind(runs[-1][-1] + ". ")):
        lo, hi = int(ranges[-1].group(1)), int(ranges[-1].group(2))
        return [str(c) for c in range(lo, hi + 1)]
    return runs[-1] if runs else [str(c) for c in range(1, 11)]  # nothing listed: the codes 1-10


def hashed_options(messages: Sequence[Message], codes: Sequence[str]) -> dict[str, float]:
    """A deterministic, prompt-dependent distribution (for demos and smoke runs of ``scripted``)."""
    digest = hashlib.sha256(conversation_text(messages).encode()).digest()
    weights = [1 + digest[i % len(digest)] for i in range(len(codes))]
    total = sum(weights)
    return {str(c): w / total for c, w in zip(codes, weights)}
