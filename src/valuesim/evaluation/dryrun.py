"""What a study would send to the model, without sending it: a recording stand-in model and
the token counters the estimate uses.

``DryRunModel`` takes the place of the real model inside the real methods, so every prompt the
estimate counts is rendered by the methods' own prompt code (backstory, CAB modules,
coordinator, Full Info, RAG...), and a change to a prompt or to the number of requests a method
makes shows up in the estimate by itself. Anything the methods ask of the model other than a
completion (context window, token counts, identity) is answered by the real backend, so that
profile cutting and theme-by-theme backstories happen exactly as in a real run.

Replies are placeholders of the expected length: ``Answer: N`` + filler words for answering
turns (``answer_share`` of the turn's max_tokens), filler for other calls (``story_share`` of
their max_tokens: the backstory, whose length then feeds every module prompt).

Token counts come from the model's own tokenizer where valuesim can reach one (the embedded
engine's llama.cpp server and llama.cpp/vLLM servers answer ``/tokenize``, and the chat template
is applied with ``/apply-template`` where the server offers it); otherwise from a stated
estimate of 4 characters per token.
"""

from __future__ import annotations

import json
import math
import threading
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..llm.base import (
    ANSWER_PREFIX,
    Completion,
    OptionDistribution,
    Usage,
    check_messages,
)
from ..llm.options import score_codes
from ..methods.story import small_prompt_facts

FILLER = " the"  # one token in every BPE vocabulary valuesim meets; four characters
# a backstory's placeholder: short common words (one token, four characters with the space) in a
# seeded order, so it passes the story checks (second person, no loop) as a real story would
STORY_WORDS = ("you", "the", "and", "for", "are", "was", "her", "his", "one", "all", "can", "had", "not",
               "but", "our", "out", "day", "get", "has", "him", "how", "new", "now", "old", "see", "two",
               "way", "who", "did", "its", "let", "put", "say", "she", "too", "use", "end", "own", "far")
CHARS_PER_TOKEN = 4.0
TEMPLATE_TOKENS_PER_MESSAGE = 4  # role markers around each message (chars/4 estimate only)


# --- token counters ------------------------------------------------------------------------
class CharTokenizer:
    """No tokenizer for this model: 4 characters per token plus the chat template's markers."""

    label = "estimate: 4 characters per token (no tokenizer reachable for this model)"
    exact = False

    def prompt(self, messages: Sequence[dict]) -> str:
        return "".join(f"<{m['role']}>{m['content']}</>" for m in messages)

    def count(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def count_prompt(self, messages: Sequence[dict]) -> int:
        return sum(self.count(m["content"]) + TEMPLATE_TOKENS_PER_MESSAGE for m in messages) + 3


class ServerTokenizer:
    """llama.cpp's (or vLLM's) own tokenizer over HTTP: exact counts, chat template included
    when the server can apply it."""

    exact = True
    slow = True  # one HTTP round trip per count: the estimate counts a sample exactly

    def __init__(self, root: str, label: str, model: str = "", timeout: float = 10.0):
        self.root = root.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.label = label
        self._template = True
        self._memo: dict[str, int] = {}
        self._lock = threading.Lock()

    def _post(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(self.root + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as r:
            return json.loads(r.read())

    def _tokens(self, text: str, special: bool) -> int:
        body = {"content": text, "add_special": special, "parse_special": special}
        if self.model:
            body.update(model=self.model, prompt=text)
        out = self._post("/tokenize", body)
        if "count" in out:
            return int(out["count"])
        return len(out["tokens"])

    def prompt(self, messages: Sequence[dict]) -> str:
        if self._template:
            try:
                return str(self._post("/apply-template", {"messages": list(messages)})["prompt"])
            except (OSError, ValueError, KeyError):  # no such endpoint: contents joined, counted as text
                self._template = False
        return "\n".join(m["content"] for m in messages)

    def count(self, text: str) -> int:
        with self._lock:
            if text in self._memo:
                return self._memo[text]
        n = self._tokens(text, special=True)
        with self._lock:
            self._memo[text] = n
        return n

    def count_prompt(self, messages: Sequence[dict]) -> int:
        return self.count(self.prompt(messages))

    @classmethod
    def probe(cls, root: str, label: str, model: str = "") -> ServerTokenizer | None:
        tok = cls(root, label, model, timeout=3.0)
        try:
            tok._tokens("Hello", special=False)
        except (OSError, ValueError, KeyError, TypeError):  # no tokenizer there: the estimate instead
            return None
        tok.timeout = 30.0
        return tok


class FunctionTokenizer:
    """The backend's own ``count_tokens(text)`` (the typed model API), over the conversation text."""

    exact = True
    label = "the model's own tokenizer (count_tokens)"

    def __init__(self, count):
        self._count = count

    def prompt(self, messages: Sequence[dict]) -> str:
        return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)

    def count(self, text: str) -> int:
        return int(self._count(text))


def tokenizer_for(backend: Any, spec: str):
    """The best token counter valuesim can reach for this model, never a model call."""
    if backend is None:
        return CharTokenizer()
    engine = getattr(type(backend), "engine", None)
    if engine is not None and spec.startswith("local"):  # the embedded engine runs llama.cpp's server
        address = backend.engine.server.listening_address
        return ServerTokenizer(address, "the model's own tokenizer (embedded llama.cpp)")
    if callable(getattr(backend, "count_tokens", None)) and getattr(backend, "exact_tokens", False):
        return FunctionTokenizer(backend.count_tokens)  # a backend whose count_tokens is its real tokenizer
    base = getattr(backend, "base_url", "") or ""
    host = urlsplit(base).hostname or ""
    if base and host and not host.endswith("openai.com"):
        root = base[: -len("/v1")] if base.rstrip("/").endswith("/v1") else base
        tok = ServerTokenizer.probe(root.rstrip("/"), f"the server's tokenizer ({getattr(backend, 'where', host)}/tokenize)")
        if tok is not None:
            return tok
    return CharTokenizer()


# --- the stand-in model --------------------------------------------------------------------
@dataclass
class Call:
    phase: str  # "unit" (once per person and profile: the backstory) or "prediction"
    kind: str  # "complete" | "read" (a one-token log-probability read of the embedded engine)
    messages: list[dict]
    reply: str
    max_tokens: int
    extra: dict = field(default_factory=dict)


class DryRunModel:
    """Records what the methods would send and replies with placeholders; never calls a model.

    ``reads``: whether the real backend reads option distributions with extra one-token
    requests (the embedded engine does; servers take them from the completion itself)."""

    def __init__(self, backend: Any, spec: str, *, reads: bool, answer_share: float, story_share: float):
        self._backend = backend
        self.spec = spec
        self.supports_logprobs = reads
        self.answer_share = answer_share
        self.story_share = story_share
        self.phase = "prediction"
        self.question = None
        self.calls: list[Call] = []
        self._turn = 0

    def __getattr__(self, name: str) -> Any:  # context window, token counts...: the real backend's
        backend = self.__dict__.get("_backend")
        if backend is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(backend, name)

    @property
    def backend(self) -> Any:
        return self._backend

    def identity(self) -> dict:
        ident = getattr(self._backend, "cache_identity", None)
        return ident() if callable(ident) else {"spec": self.spec}

    def _answer_reply(self, max_tokens: int) -> str:
        codes = list(self.question.codes) if self.question is not None else [1]
        code = codes[self._turn % len(codes)]  # modules disagree: the coordinator always runs
        self._turn += 1
        head = f"{ANSWER_PREFIX}{code}\nAnalysis:"
        return head + FILLER * max(0, round(self.answer_share * max_tokens) - 6)

    def complete(self, messages, *, max_tokens: int = 256, **params: Any) -> Completion:
        msgs = check_messages(messages)
        if self.phase == "prediction":
            reply = self._answer_reply(max_tokens)
        else:
            reply = story_placeholder(max(1, round(self.story_share * max_tokens)), seed=len(self.calls),
                                      facts=small_prompt_facts(msgs[-1]["content"]))
        self.calls.append(Call(self.phase, "complete", msgs, reply, int(max_tokens), dict(params)))
        return Completion(reply, Usage(), 0.0, False, "stop")

    def option_distribution(self, messages, option_codes, *, prefix: str = ANSWER_PREFIX, **params: Any
                            ) -> OptionDistribution:
        """The embedded engine's read: one request per position it walks (score_codes decides);
        a server's: one completion with log-probabilities (the fidelity audit asks these)."""
        msgs = check_messages(messages)
        codes = [str(c) for c in option_codes]
        if not self.supports_logprobs:  # a server: one short completion, counted at its cap
            from ..llm.openai_backend import ANSWER_MAX_TOKENS

            reply = f"{prefix}{codes[0]}" + FILLER * max(0, ANSWER_MAX_TOKENS - 4)
            self.calls.append(Call(self.phase, "complete", msgs, reply, ANSWER_MAX_TOKENS))
            return OptionDistribution({c: 1.0 / len(codes) for c in codes}, "logprobs", Usage())
        firsts = {c[0]: 0.0 for c in codes}

        def ask(written: str) -> dict[str, float]:
            convo = msgs + [{"role": "assistant", "content": prefix + written}]
            self.calls.append(Call(self.phase, "read", convo, "0", 1))
            return firsts if not written else {"0": 0.0, "\n": 0.0}

        probs = score_codes(ask(""), ask, codes) or {c: 1.0 / len(codes) for c in codes}
        return OptionDistribution(probs, "logprobs", Usage())


def story_placeholder(n_words: int, seed: int = 0, facts: str = "") -> str:
    """``n_words`` words starting "You", in a seeded order (no repeated sentence or 6-gram);
    with ``facts`` (the small-model prompt's statements, which its story check wants kept)
    they come first and the filler makes up the rest."""
    import random

    rng = random.Random(seed)
    kept = " ".join(facts.split())
    head = f"{kept} You" if kept else "You"
    return head + " " + " ".join(rng.choice(STORY_WORDS) for _ in range(max(0, n_words - 1 - len(kept.split()))))


class DryEmbedder:
    """Stands in for RAG's embedder: seeded vectors, so retrieval picks some 3 items (their
    length is what the estimate needs) without loading a model or calling an embeddings API."""

    name = "dry-run"

    def embed(self, texts: Sequence[str]):
        import numpy as np

        rng = np.random.default_rng(len(texts))
        v = rng.normal(size=(len(texts), 8))
        return v / np.linalg.norm(v, axis=1, keepdims=True)


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

    def __init__(self, tokenizer, cache: str, min_cached: int, exact_calls: int = 24):
        self.tok = tokenizer
        self.cache = cache  # "previous" (one engine sequence) | "any" (a server's prefix cache)
        self.min_cached = min_cached
        self.seen: list[str] = []
        self.exact_left = exact_calls if getattr(tokenizer, "slow", False) else 10**9
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
            n = self.tok.count(self.tok.prompt(messages))
            self.measured[0] += n
            self.measured[1] += len(text)
            return n
        return round(len(text) * self.measured[0] / self.measured[1])

    def call(self, c: Call) -> dict:
        text = CharTokenizer().prompt(c.messages)
        n = self._tokens(c.messages, text)
        if c.kind == "read":
            completion = 1
        elif self.tok.exact and not getattr(self.tok, "slow", False):
            completion = self.tok.count(c.reply)
        else:  # filler words: one token each in every vocabulary valuesim meets
            completion = CharTokenizer().count(c.reply)
        return {"requests": 1, "reads": int(c.kind == "read"), "prompt_tokens": n,
                "cached_tokens": self.cached(text, n), "completion_tokens": completion}


def _add(a: dict, b: dict, w: float = 1.0) -> dict:
    return {k: a.get(k, 0) + w * b.get(k, 0) for k in set(a) | set(b)}


KEYS = ("requests", "reads", "prompt_tokens", "cached_tokens", "completion_tokens")
