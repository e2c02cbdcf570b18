"""The checks every reply passes before anyone sees it, stores it or caches it (Model runs them).

A hostile or broken server can send log-probabilities that are no probabilities (+Infinity,
NaN, +2.5: a probability above 1), a reply of 50 MB, or echo the API key inside an otherwise
valid answer. Each would have been read, scored, written to the run's traces and to the
response cache, and replayed from there. So:

* log-probabilities that are NaN, +Infinity or above 0 make the reply unreadable: an
  ``UnreadableReply`` the Model asks again (it is retryable) and never caches (-Infinity is
  a probability of 0, which an engine reports for tokens a grammar excludes: it is kept);
* a reply larger than ``MAX_REPLY_CHARS`` is refused (``ReplyTooLarge``): it is stored nowhere;
* every credential the backend holds (``ModelAPI.secrets``: the key, URL passwords) and the
  environment's key are replaced by ``***`` in the text and in the tokens that spell them, so no
  trace and no cache entry holds one.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

from ..errors import ModelError
from .base import ModelOutput, TokenLogprob
from .secrets import MASK, api_key

MAX_REPLY_CHARS = 1_000_000  # 1 MB of text: a long backstory is ~10 kB; more is a broken or hostile server
TOKEN_OVERHEAD = 32  # characters a stored token or alternative costs beside its text (the JSON around it)
LOGPROB_SLACK = 1e-6  # rounding: llama.cpp may report a certain token as +1e-7
MIN_SECRET_CHARS = 6  # shorter values would mask ordinary words of the reply


class UnreadableReply(ModelError):
    """A reply whose log-probabilities are not log-probabilities: asked again, never cached."""

    retryable = True


class ReplyTooLarge(ModelError):
    """A reply over the size limit: refused, stored nowhere."""


def reply_size(out: ModelOutput) -> int:
    """Characters the reply would take in a trace or the cache (text, tokens, alternatives)."""
    size = len(out.text)
    for t in out.logprobs or []:
        size += len(t.token) + TOKEN_OVERHEAD + sum(len(k) + TOKEN_OVERHEAD for k in t.top)
    return size


def check_reply(out: ModelOutput, spec: str, secrets: Sequence[str] = ()) -> ModelOutput:
    """``out`` with every credential masked; raises ReplyTooLarge or UnreadableReply."""
    size = reply_size(out)
    if size > MAX_REPLY_CHARS:
        error: ModelError = ReplyTooLarge(f"{spec} sent a reply of {size / 1e6:.1f} MB, over the "
                                          f"{MAX_REPLY_CHARS / 1e6:g} MB a reply may take: refused (stored nowhere)")
        error.attempts = out.attempts
        raise error
    for t in out.logprobs or []:
        for value in (t.logprob, *t.top.values()):
            if math.isnan(value) or value > LOGPROB_SLACK:  # +inf is above 0 too
                error = UnreadableReply(f"{spec} sent log-probabilities that are not log-probabilities "
                                        f"({value!r}; each must be a number at most 0): the reply is unreadable")
                error.attempts = out.attempts
                raise error
    return mask_secrets(out, secrets)


def _secrets(secrets: Sequence[str]) -> list[str]:
    found = {s for s in (*secrets, api_key() or "") if s and len(s) >= MIN_SECRET_CHARS}
    return sorted(found, key=len, reverse=True)


def mask_secrets(out: ModelOutput, secrets: Sequence[str] = ()) -> ModelOutput:
    """``out`` with every secret replaced by ``***`` in its text and its tokens (the tokens
    that spell a secret are merged into one ``***`` token, so the joined tokens still equal
    the text and no token list spells the secret either)."""
    wanted = [s for s in _secrets(secrets) if s in out.text or any(s in t.token for t in out.logprobs or [])]
    if not wanted:
        return out
    text = out.text
    for s in wanted:
        text = text.replace(s, MASK)
    tokens = out.logprobs
    if tokens:
        tokens = _mask_tokens(tokens, wanted)
    return replace(out, text=text, logprobs=tokens)


def _mask_tokens(tokens: list[TokenLogprob], secrets: list[str]) -> list[TokenLogprob]:
    joined = "".join(t.token for t in tokens)
    spans = []
    for s in secrets:
        start = joined.find(s)
        while start >= 0:
            spans.append((start, start + len(s)))
            start = joined.find(s, start + len(s))
    out: list[TokenLogprob] = []
    offset = 0
    pending: list[TokenLogprob] = []  # tokens that overlap a secret, merged when the secret ends
    for t in tokens:
        end = offset + len(t.token)
        if any(a < end and offset < b for a, b in spans):
            pending.append(t)
        else:
            if pending:
                out.append(TokenLogprob(_masked("".join(p.token for p in pending), secrets), 0.0, {}))
                pending = []
            out.append(t)
        offset = end
    if pending:
        out.append(TokenLogprob(_masked("".join(p.token for p in pending), secrets), 0.0, {}))
    return [TokenLogprob(t.token, t.logprob, {k: v for k, v in t.top.items() if not any(s in k for s in secrets)})
            for t in out]


def _masked(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, MASK)
    return text
