"""Turning model output into a probability for every option code.

Two ways, shared by all backends:

* ``score_codes``: from next-token log-probabilities after the ``Answer: `` prefix. A code's
  probability is the product of its tokens' probabilities, and a code that is a prefix of
  another ("1" vs "10") only counts when the next token does not continue it into a longer
  code. Tokenizers differ (Qwen writes "10" as "1","0"; GPT-style ones as "10"), so the walk
  works on text, asking the backend for the next distribution whenever a branch is ambiguous.
* ``vote_distribution``: from sampled answers parsed with ``parse_answer`` (the fallback when a
  backend gives no log-probabilities).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Callable, Mapping, Sequence

from ..errors import ModelError
from .base import ANSWER_PREFIX, TokenLogprob

# A function giving the next-token distribution {token text: logprob} after an answer text
# already written (e.g. "" right after "Answer: ", or "1"); None when it cannot be known.
NextTokens = Callable[[str], "Mapping[str, float] | None"]

MIN_BRANCH_PROB = 1e-6  # branches less likely than this are not expanded (saves calls)


def _continues(ch: str) -> bool:
    """Whether a character would make a code longer (letters/digits) rather than end it."""
    return ch.isalnum()


def score_codes(first: Mapping[str, float], next_tokens: NextTokens, codes: Sequence[str]) -> dict[str, float]:
    """Probability of each code (normalised over the codes) from token log-probabilities.

    ``first`` is the distribution right after the prefix; ``next_tokens(text)`` gives the one
    after the answer text ``text``. Returns {} when no code received any probability."""
    codes = [str(c) for c in codes]
    mass = {c: 0.0 for c in codes}

    def walk(dist: Mapping[str, float], written: str, p_written: float) -> None:
        ending_mass = 0.0  # mass of tokens that end ``written`` (only matters if it is a code)
        for token, logprob in dist.items():
            p = p_written * math.exp(logprob)
            if p <= 0.0:
                continue
            text = written + token
            if not written:
                text = text.lstrip()  # "Answer: " may be followed by " 3" in some tokenizers
                if not text:
                    continue  # a bare space: rare; its continuation is not followed
            if text[: len(written)] != written:
                continue
            if written and (not token or not _continues(token[0])):
                ending_mass += p
                continue
            # the longest code that ``text`` starts with and then ends (non-continuing char)
            done = [c for c in codes if text.startswith(c) and len(text) > len(c) and not _continues(text[len(c)])]
            if done:
                mass[max(done, key=len)] += p
                continue
            if text in mass or any(c.startswith(text) for c in codes):
                longer = [c for c in codes if c.startswith(text) and c != text]
                if not longer:
                    mass[text] += p  # nothing can extend it: it is complete
                    continue
                if p < MIN_BRANCH_PROB:
                    if text in mass:
                        mass[text] += p
                    continue
                nxt = next_tokens(text)
                if nxt is None:
                    # The continuation is unknown (backend cannot be asked): a code counts as
                    # complete. Exact for tokenizers that write multi-digit codes as one token.
                    if text in mass:
                        mass[text] += p
                    continue
                walk(nxt, text, p)
            # otherwise: text is not (the start of) any code: its mass is discarded
        if written in mass:
            mass[written] += ending_mass

    walk(first, "", 1.0)
    total = sum(mass.values())
    if total <= 0.0:
        return {}
    return {c: v / total for c, v in mass.items()}


def _code_alternation(codes: Sequence[str]) -> str:
    return "|".join(re.escape(str(c)) for c in sorted(codes, key=len, reverse=True))


def find_answer(text: str | None, codes: Sequence[str]) -> tuple[str, int] | None:
    """(code, character offset where it is written) for the answer a free-text reply gives.

    Looks, in order, for "Answer: N" (any case, markdown/brackets allowed, first valid one),
    a reply that starts with a code, then a reply containing exactly one distinct code.
    A longer code is never read as a shorter one ("10" is not "1")."""
    if not text or not codes:
        return None
    alt = _code_alternation(codes)
    code_re = rf"(?<![\w.])({alt})(?![\w]|\.\d)"
    answer = re.search(rf"answer\W{{0,6}}?{code_re}", text, flags=re.IGNORECASE)
    if answer:
        return answer.group(1), answer.start(1)
    start = re.match(rf"[\s*#>\[(\"']*{code_re}", text)
    if start:
        return start.group(1), start.start(1)
    found = list(re.finditer(code_re, text))
    if len({m.group(1) for m in found}) == 1:
        return found[0].group(1), found[0].start(1)
    return None


def parse_answer(text: str | None, codes: Sequence[str]) -> str | None:
    """The option code a free-text reply gives, or None (see ``find_answer``)."""
    found = find_answer(text, codes)
    return None if found is None else found[0]


def vote_distribution(texts: Sequence[str], codes: Sequence[str]) -> dict[str, float]:
    """Share of parsable sampled replies per code; raises ModelError when none parses."""
    votes = Counter(a for a in (parse_answer(t, codes) for t in texts) if a is not None)
    n = sum(votes.values())
    if n == 0:
        shown = (texts[0] if texts else "")[:120].replace("\n", " ")
        raise ModelError(
            f"no parsable answer among {len(texts)} sampled replies (expected one of "
            f"{', '.join(map(str, codes))}); first reply: {shown!r}"
        )
    return {str(c): votes.get(str(c), 0) / n for c in codes}


_LEAD_CHARS = re.compile(r"[\s*#>\[(\"']")


def answer_position(tokens: Sequence[TokenLogprob], codes: Sequence[str], prefix: str = ANSWER_PREFIX) -> int | None:
    """Index of the written token where the answer code starts: the token holding the first
    character of the code ``find_answer`` reads from the reply ("Answer: 3", "The answer is
    3."), else the first token after "Answer:" or at the very start that could begin a code.
    None when the reply never writes an answer code at a token boundary."""
    text = "".join(t.token for t in tokens)
    found = find_answer(text, codes)
    if found is not None:
        offset = 0
        for i, item in enumerate(tokens):
            end = offset + len(item.token)
            if offset <= found[1] < end:
                # the code must open the token (leading spaces aside) for its alternatives to be codes
                return i if item.token.lstrip() and found[1] == end - len(item.token.lstrip()) else None
            offset = end
    label = prefix.strip().rstrip(":") or "Answer"
    lead = re.compile(re.escape(label) + r"\W*$", re.IGNORECASE)
    before = ""
    for i, item in enumerate(tokens):
        stripped = item.token.lstrip()
        if stripped and any(code.startswith(stripped[:1]) for code in codes):
            if lead.search(before) or not _LEAD_CHARS.sub("", before):
                return i
        before += item.token
    return None


def probs_from_written(tokens: Sequence[TokenLogprob], codes: Sequence[str], prefix: str = ANSWER_PREFIX) -> dict[str, float]:
    """Code probabilities from the logprobs of a written reply such as ``Answer: 10``.

    Scores codes from the alternatives at the answer position; multi-token codes follow the
    written path (the alternatives after "1" are known only where the reply wrote "1"; off the
    path a code counts as complete, exact for tokenizers that write codes as one token).
    Returns {} when the reply's logprobs do not cover an answer position."""
    codes = [str(c) for c in codes]
    start = answer_position(tokens, codes, prefix)
    if start is None:
        return {}
    positions: dict[str, int] = {}
    written = ""
    for j in range(start, len(tokens)):
        positions[written] = j
        written = (written + tokens[j].token).lstrip() if not written else written + tokens[j].token

    def next_tokens(text: str) -> dict[str, float] | None:
        j = positions.get(text)
        return None if j is None else tokens[j].alternatives()

    return score_codes(tokens[start].alternatives(), next_tokens, codes)


# --- reading a distribution through a Model -----------------------------------------------------

ANSWER_MAX_TOKENS = 16  # a short "Answer: N" reply: room for "**Answer:** 10" in any tokenizer
SAMPLE_MAX_TOKENS = 48


def prefilled(messages: Sequence[dict], text: str) -> list[dict]:
    """``messages`` with an assistant turn that already says ``text`` (continued if the last
    message is an assistant turn): the engine writes on from there."""
    msgs = [dict(m) for m in messages]
    if msgs and msgs[-1]["role"] == "assistant":
        msgs[-1]["content"] += text
        return msgs
    return msgs + [{"role": "assistant", "content": text}]


class _Tally:
    """Usage, time and requests of the calls one distribution took."""

    def __init__(self) -> None:
        self.usage, self.seconds, self.attempts, self.cached = None, 0.0, 0, True

    def add(self, out) -> None:
        self.usage = out.usage if self.usage is None else self.usage + out.usage
        self.seconds += out.seconds
        self.attempts += out.attempts
        self.cached = self.cached and out.cached

    def result(self, probs: dict, method: str, samples: list | None = None):
        from .base import OptionDistribution, Usage

        return OptionDistribution(probs, method, self.usage or Usage(), self.seconds, self.cached, samples or [],
                                  self.attempts)


def read_prefilled(model, messages: Sequence[dict], codes: Sequence[str], prefix: str = ANSWER_PREFIX):
    """The distribution from one-token reads after an assistant turn pre-filled with ``prefix``
    (a model whose ModelInfo declares ``prefill``: the embedded engine's prefix cache makes each
    read nearly free). Multi-token codes take one more read per ambiguous branch."""
    from .base import GenerateConfig

    codes = [str(c) for c in codes]
    tally = _Tally()
    read = GenerateConfig(max_tokens=1, logprobs=True)

    def next_tokens(written: str) -> dict[str, float]:
        out = model.generate(prefilled(messages, prefix + written), read)
        tally.add(out)
        if not out.logprobs:
            raise ModelError(f"{model.spec} returned no log-probabilities for a pre-filled read")
        return out.logprobs[0].alternatives()

    probs = score_codes(next_tokens(""), next_tokens, codes)
    if not probs:
        raise ModelError(f"the model gave no probability to any of the codes {', '.join(codes)} after {prefix!r}")
    return tally.result(probs, "logprobs")


def read_options(model, messages: Sequence[dict], codes: Sequence[str], *, prefix: str = ANSWER_PREFIX,
                 samples: int = 0, sample_temperature: float = 1.0):
    """The option distribution the model gives for ``messages``, read the best way its
    ModelInfo declares: one-token reads after a pre-filled ``prefix`` (``prefill``), else the
    log-probabilities of a short reply at the position where it writes its code, else votes
    over ``samples`` sampled replies, else one-hot at the parsed answer. An unreadable reply is
    never cached; it raises ModelError."""
    from .base import GenerateConfig

    codes = [str(c) for c in codes]
    if not codes:
        raise ModelError("an option distribution needs at least one option code")
    info = model.info
    if info.prefill and info.logprobs:
        return read_prefilled(model, messages, codes, prefix)
    tally = _Tally()

    def usable(out) -> bool:
        return parse_answer(out.text, codes) is not None or bool(out.logprobs and probs_from_written(out.logprobs, codes, prefix))

    reply = model.generate(messages, GenerateConfig(max_tokens=ANSWER_MAX_TOKENS, logprobs=info.logprobs), accept=usable)
    tally.add(reply)
    if reply.logprobs:
        probs = probs_from_written(reply.logprobs, codes, prefix)
        if probs:
            return tally.result(probs, "logprobs")
    if samples > 0:
        texts = []
        for i in range(samples):
            out = model.generate(messages, GenerateConfig(max_tokens=SAMPLE_MAX_TOKENS, temperature=sample_temperature,
                                                          sample_index=i + 1))
            tally.add(out)
            texts.append(out.text)
        return tally.result(vote_distribution(texts, codes), "sampling", texts)
    answer = parse_answer(reply.text, codes)
    if answer is None:
        from .secrets import scrub

        shown = scrub(reply.text[:120].replace("\n", " "))
        error = ModelError(f"no parsable answer (expected one of {', '.join(codes)}) in the reply {shown!r}")
        error.attempts = tally.attempts
        raise error
    return tally.result({c: float(c == answer) for c in codes}, "parsed")
