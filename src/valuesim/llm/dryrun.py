"""The dry run: a registered backend (``dryrun:SPEC``) that records what a study would send to
SPEC and replies with placeholders, without calling any model; and the counters the estimate
uses on what it recorded.

``DryRunModel`` takes the place of the real backend under the real methods, so every prompt
the estimate counts is rendered by the methods' own prompt code (backstory, CAB modules,
coordinator, Full Info, RAG...), and a change to a prompt or to the number of requests a method
makes shows up in the estimate by itself. It declares the real backend's ModelInfo (context
window, pre-filled reads, log-probabilities), so profile cutting, theme-by-theme backstories
and distribution reads happen exactly as in a real run; token counts come from the real
backend's own tokenizer where valuesim can reach one (``ModelInfo.tokenizer``), otherwise from
the stated estimate (``CHARS_PER_TOKEN`` characters per token).

Replies are placeholders of the expected length: ``Answer: N`` + filler words for answering
turns (``answer_share`` of the turn's max_tokens, with the log-probabilities a server would
send when asked), filler for other calls (``story_share`` of their max_tokens: the backstory,
whose length then feeds every module prompt; ``text_reply`` may shape it, e.g. so that it
passes the story checks as a real story would).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Callable

from .base import (ANSWER_PREFIX, CHARS_PER_TOKEN, TEMPLATE_TOKENS_PER_MESSAGE, GenerateConfig, Message, ModelAPI,
                   ModelInfo, ModelOutput, TokenLogprob, Usage, estimate_tokens)

FILLER = " the"  # one token in every BPE vocabulary valuesim meets; four characters
WORDS = ("you", "the", "and", "for", "are", "was", "her", "his", "one", "all", "can", "had", "not",
         "but", "our", "out", "day", "get", "has", "him", "how", "new", "now", "old", "see", "two",
         "way", "who", "did", "its", "let", "put", "say", "she", "too", "use", "end", "own", "far")


def filler_text(n_words: int, seed: int = 0, head: str = "You") -> str:
    """``head`` and then short common words (one token, four characters with the space) in a
    seeded order: no repeated sentence or 6-gram, as a real text."""
    rng = random.Random(seed)
    return head + " " + " ".join(rng.choice(WORDS) for _ in range(max(0, n_words - len(head.split()))))


# --- token counters ------------------------------------------------------------------------
class Tokenizer:
    """The token counts a ModelAPI declares it can give: its own tokenizer (``ModelInfo.
    tokenizer``, exact; one request per count for engines and servers, so ``slow``), else the
    stated estimate of ``CHARS_PER_TOKEN`` characters per token plus the chat template's role
    markers."""

    def __init__(self, api: ModelAPI | None):
        self.api = api
        info = api.info() if api is not None else ModelInfo()
        self.exact = self.slow = info.exact_tokens
        self.label = (f"the model's own tokenizer ({info.tokenizer})" if self.exact else
                      f"estimate: {CHARS_PER_TOKEN} characters per token (no tokenizer reachable for this model)")

    def count(self, text: str) -> int:
        return self.api.count_tokens(text) if self.exact else estimate_tokens(text)

    def count_prompt(self, messages: Sequence[dict]) -> int:
        if self.exact:
            return self.api.count_prompt_tokens(messages)
        return sum(estimate_tokens(m["content"]) + TEMPLATE_TOKENS_PER_MESSAGE for m in messages) + 3


def tokenizer_for(backend: ModelAPI | None, spec: str = "") -> Tokenizer:
    """The best token counter valuesim can reach for this model, never a model call."""
    return Tokenizer(backend)


# --- the stand-in backend ------------------------------------------------------------------
@dataclass
class Call:
    phase: str  # "unit" (once per person and profile: the backstory) or "prediction"
    kind: str  # "complete" | "read" (a one-token log-probability read after a pre-filled turn)
    messages: list[dict]
    reply: str
    max_tokens: int
    extra: dict = field(default_factory=dict)


class DryRunModel(ModelAPI):
    """Records what the methods would send to ``backend`` and replies with placeholders; never
    calls a model. Set ``phase`` ("unit" while a person's backstory is written, "prediction"
    otherwise) and ``question`` (the question being answered, for a valid ``Answer: N``).

    ``backend``: the real ModelAPI, asked only for its ModelInfo, identity and token counts
    (None when it cannot be built, e.g. without an API key; then ``reads`` says whether it
    would read distributions with pre-filled one-token requests, as the embedded engine)."""

    cache_replies = False  # placeholders under the real model's identity: never in the default cache

    def __init__(self, backend: ModelAPI | None, spec: str, *, reads: bool = False, answer_share: float = 1.0,
                 story_share: float = 1.0, text_reply: Callable[[list[dict], int, int], str] | None = None):
        self._backend = backend
        self.spec = spec
        self.reads = reads
        self.answer_share = answer_share
        self.story_share = story_share
        self.text_reply = text_reply or (lambda messages, n_words, seed: filler_text(n_words, seed))
        self.phase = "prediction"
        self.question = None
        self.calls: list[Call] = []
        self._turn = 0

    @property
    def backend(self) -> ModelAPI | None:
        return self._backend

    def info(self) -> ModelInfo:
        if self._backend is not None:
            return replace(self._backend.info(), spec=self.spec)
        return ModelInfo(self.spec, logprobs=True, prefill=self.reads)

    def identity(self) -> dict:
        return self._backend.identity() if self._backend is not None else {"spec": self.spec}

    def count_tokens(self, text: str) -> int:
        return self._backend.count_tokens(text) if self._backend is not None else estimate_tokens(text)

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return self._backend.count_prompt_tokens(messages) if self._backend is not None \
            else super().count_prompt_tokens(messages)

    def _code(self) -> str:
        codes = list(self.question.codes) if self.question is not None else [1]
        code = codes[self._turn % len(codes)]  # modules disagree: the coordinator always runs
        self._turn += 1
        return str(code)

    def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        if messages[-1]["role"] == "assistant" and config.max_tokens == 1 and config.logprobs:
            # a pre-filled read: the first characters of every code are equally likely, and a
            # code already written ends here
            written = messages[-1]["content"]
            codes = [str(c) for c in (self.question.codes if self.question is not None else [1])]
            top = {c[0]: 0.0 for c in codes} if written.endswith(ANSWER_PREFIX) else {"0": 0.0, "\n": 0.0}
            token = next(iter(top))
            self.calls.append(Call(self.phase, "read", messages, token, 1))
            return ModelOutput(token, Usage(), 0.0, False, "length", [TokenLogprob(token, 0.0, top)], 1)
        if self.phase == "prediction":
            code = self._code()
            head = f"{ANSWER_PREFIX}{code}\nAnalysis:"
            reply = head + FILLER * max(0, round(self.answer_share * config.max_tokens) - 6)
            tokens = [TokenLogprob(ANSWER_PREFIX, 0.0, {}), TokenLogprob(code, 0.0, {code: 0.0}),
                      TokenLogprob(reply[len(ANSWER_PREFIX) + len(code):], 0.0, {})] if config.logprobs else None
        else:
            reply = self.text_reply(messages, max(1, round(self.story_share * config.max_tokens)), len(self.calls))
            tokens = None
        self.calls.append(Call(self.phase, "complete", messages, reply, int(config.max_tokens),
                               {"temperature": config.temperature, "sample_index": config.sample_index}))
        return ModelOutput(reply, Usage(), 0.0, False, "stop", tokens, 1)


# --- counting what the dry run recorded ---------------------------------------------------------
def _lcp(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on equal prefixes: fast for 30k-character prompts
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class Counter:
    """Tokens of recorded calls; the cached prefix of each against the earlier ones.

    A tokenizer behind HTTP (``slow``) counts the first ``exact_calls`` prompts exactly; later
    prompts are counted at the tokens-per-character ratio those measured (same method, same
    prompt files: the ratio holds to a few per cent, and the estimate stays fast)."""

    def __init__(self, tokenizer: Tokenizer, cache: str, min_cached: int, exact_calls: int = 24):
        self.tok = tokenizer
        self.cache = cache  # "previous" (one engine sequence) | "any" (a server's prefix cache)
        self.min_cached = min_cached
        self.seen: list[str] = []
        self.exact_left = exact_calls if tokenizer.slow else 10**9
        self.measured = [0, 0]  # tokens, characters of the exactly counted prompts

    def cached(self, prompt: str, tokens: int) -> int:
        """Tokens of ``prompt`` an earlier prompt already started with (in proportion to the
        shared characters: one tokenizer pass per prompt, not two)."""
        pool = self.seen[-1:] if self.cache == "previous" else self.seen
        best = max((_lcp(prompt, s) for s in pool), default=0)
        self.seen.append(prompt)
        if best < 16 or not prompt:
            return 0
        n = int(tokens * best / len(prompt))
        if n < self.min_cached:
            return 0
        return n if self.min_cached <= 0 else self.min_cached + (n - self.min_cached) // 128 * 128

    def _tokens(self, messages: list[dict], text: str) -> int:
        if not self.tok.exact:
            return self.tok.count_prompt(messages)
        if self.exact_left > 0 or not self.measured[1]:
            self.exact_left -= 1
            n = self.tok.count_prompt(messages)
            self.measured[0] += n
            self.measured[1] += len(text)
            return n
        return round(len(text) * self.measured[0] / self.measured[1])

    def call(self, c: Call) -> dict:
        text = "".join(f"<{m['role']}>{m['content']}</>" for m in c.messages)
        n = self._tokens(c.messages, text)
        if c.kind == "read":
            completion = 1
        else:  # filler words: one token (four characters) each in every vocabulary valuesim meets
            completion = estimate_tokens(c.reply)
        return {"requests": 1, "reads": int(c.kind == "read"), "prompt_tokens": n,
                "cached_tokens": self.cached(text, n), "completion_tokens": completion}


def _add(a: dict, b: dict, w: float = 1.0) -> dict:
    return {k: a.get(k, 0) + w * b.get(k, 0) for k in set(a) | set(b)}


KEYS = ("requests", "reads", "prompt_tokens", "cached_tokens", "completion_tokens")
