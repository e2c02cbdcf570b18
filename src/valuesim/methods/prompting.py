"""Prompt files, prompt layout, and reading an answer (and its distribution) from a model.

Prompt files live in ``methods/prompts/*.txt`` and use ``string.Template`` placeholders
(``${context}``, ``${question}``). A file may be split into sections by lines ``## NAME``; the
section holding the long shared context is called ``context``. Two layouts:

* ``context-first`` (default): the context section goes first, then the other sections in file
  order. Every prompt about the same person then starts with the same tokens (their backstory
  or profile), so the engine's prefix cache serves the three CAB modules and every further
  question of that person from memory.
* ``paper``: the sections in file order, which follows the paper's appendix.

How an answer's distribution is read: the paper's modules reply "Answer: N" first and the
analysis after it, at temperature 0. On a model server the completion itself carries the top
log-probabilities of every written token, and the distribution is read at the position where
the reply writes its code: one request per turn. Only when those do not cover the answer
position does a second request read it (the turn's note says why). The embedded engine reads it
with a 1-token request on the same messages pre-filled with "Answer: " (its prefix cache makes
that nearly free). Without log-probabilities the distribution is one-hot at the parsed answer
(or votes over ``samples`` sampled answers when asked for). ``distribution_method`` and
``distribution_request`` in the trace say, per turn, which it was. Questions with more than
``max_logprob_options`` codes (ages, years) use the one-hot: walking ~100 multi-digit codes
token by token costs more than it tells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

from ..errors import ConfigError, ModelError
from ..llm.base import ANSWER_PREFIX, GenerateConfig
from ..llm.model import Model
from ..llm.options import parse_answer, probs_from_written, read_options, vote_distribution
from ..llm.secrets import scrub
from ..survey.model import Question
from .consistency import contradiction

LAYOUTS = ("context-first", "paper")
ANSWER_FALLBACK_TOKENS = 6  # a pre-filled "Answer: " continued far enough for a multi-digit code
CONTEXT_MARK = "<<{name}: see trace['context']>>"


class UnparsableAnswer(ModelError):
    """A model reply with no recognisable option: recorded as a failure for that item.
    ``retries``: every reply that was asked for and could not be read."""

    retries: list[dict] = []


@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    return resources.files(__package__).joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8")


def sections(name: str) -> list[tuple[str, str]]:
    """The file's ``## NAME`` sections in order; a file without markers is one section "body"."""
    text = load_prompt(name)
    parts = re.split(r"^## (\w+)[ \t]*\n", text, flags=re.MULTILINE)
    if len(parts) == 1:
        return [("body", text.strip())]
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts), 2)]


def fill(template: str, **fields: Any) -> str:
    return Template(template).substitute({k: str(v) for k, v in fields.items()})


def render(name: str, layout: str = "context-first", **fields: Any) -> str:
    """The prompt ``name`` with ``fields`` filled in, its sections in ``layout`` order."""
    if layout not in LAYOUTS:
        raise ValueError(f"prompt layout must be one of {LAYOUTS}, got {layout!r}")
    parts = sections(name)
    if layout == "context-first":
        parts = [p for p in parts if p[0] == "context"] + [p for p in parts if p[0] != "context"]
    return "\n\n".join(fill(body, **fields) for _, body in parts)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


# --- questions and answers -------------------------------------------------------------------------


def options_text(question: Question) -> str:
    if question.options:
        return "\n".join(question.answer_text(o.code) for o in question.options)
    lo, hi = question.valid_range or (0, 0)
    return f"a number from {lo} to {hi}"


def read_answer(text: str, question: Question) -> int | None:
    """The option code in a reply: "Answer: 3", "**Answer:** 3. Very happy", "[3]", or the
    option's label ("Answer: Very happy") when no number is given. None when unreadable."""
    codes = [str(c) for c in question.codes]
    found = parse_answer(text, codes)
    if found is not None:
        return int(found)
    if question.options:
        # a label instead of a number: the longest label that follows "Answer" (or opens the
        # reply) wins, so "Not very happy" is not read as "Very happy"
        match = re.search(r"answer\W{0,6}(.*)", text or "", flags=re.IGNORECASE)
        candidates = [match.group(1)] if match else []
        candidates.append((text or "").strip())
        for segment in candidates:
            seg = segment.strip(" *[]()\"'").lower()
            hits = [o for o in question.options if o.label and seg.startswith(o.label.lower())]
            if hits:
                return max(hits, key=lambda o: len(o.label)).code
    return None


def read_analysis(text: str) -> str:
    """The text after "Analysis:" (markdown allowed); the whole reply minus the answer line
    when the label is missing."""
    match = re.search(r"\**analysis\**\s*:\**\s*(.*)", text or "", flags=re.IGNORECASE | re.DOTALL)
    if match:
        return match.group(1).strip()
    lines = [ln for ln in (text or "").splitlines() if not re.match(r"\W*answer\W", ln, flags=re.IGNORECASE)]
    return "\n".join(lines).strip()


# --- one model turn: completion + distribution ------------------------------------------------------


@dataclass
class Turn:
    """One prompt sent, what came back, and what was read from it."""

    name: str
    messages: list[dict]
    text: str = ""
    answer: int | None = None
    analysis: str = ""
    distribution: dict[int, float] = field(default_factory=dict)
    distribution_method: str = ""
    distribution_request: str = ""  # "reply" | "prefilled" | "second" | "samples" | "prefilled-fallback" | "" (parsed)
    usage: dict = field(default_factory=dict)
    seconds: float = 0.0
    cached: bool = False
    requests: int = 0  # model requests this turn made (retries included; 0 when all cached)
    retries: list[dict] = field(default_factory=list)  # replies that had no answer, re-asked
    note: str = ""
    contradiction: str = ""  # the analysis names another option than the answer (methods.consistency)

    def trace(self, context: str | None = None, context_name: str = "context") -> dict:
        """This turn for a Prediction trace; the shared context is replaced by a marker so one
        copy of the backstory/profile is kept per trace, not one per prompt."""
        msgs = self.messages
        if context:
            mark = CONTEXT_MARK.format(name=context_name)
            msgs = [{**m, "content": m["content"].replace(context, mark)} for m in msgs]
        out = {
            "messages": msgs,
            "completion": self.text,
            "answer": self.answer,
            "analysis": self.analysis,
            "distribution": {str(k): v for k, v in self.distribution.items()},
            "distribution_method": self.distribution_method,
            "distribution_request": self.distribution_request,
            "usage": self.usage,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
        }
        if self.retries:
            out["retries"] = self.retries
        if self.note:
            out["note"] = self.note
        if self.contradiction:
            out["contradiction"] = self.contradiction
        return out


@dataclass(frozen=True)
class Generation:
    """How every answering turn is generated (temperature 0, as the paper).

    ``samples``: with a backend or reply without log-probabilities, vote over this many sampled
    answers (at ``sample_temperature``) instead of the one-hot parsed answer; 0 = one-hot (the
    paper's protocol, and one request per turn). ``parse_retries``: a reply without a readable
    answer is asked again this many times with the next sample index (never from the cache)."""

    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    use_logprobs: bool = True
    max_logprob_options: int = 20
    samples: int = 0
    sample_temperature: float = 1.0
    parse_retries: int = 1


def _add_usage(turn: Turn, usage, prefix: str = "") -> None:
    for key, value in usage.as_dict().items():
        turn.usage[prefix + key] = turn.usage.get(prefix + key, 0) + value


def ask(model, name: str, messages: list[dict], question: Question, gen: Generation,
        want_analysis: bool = True) -> Turn:
    """Send ``messages``, read "Answer: N" (+ analysis) and the option distribution.

    One request per turn where the backend can: the completion asks for log-probabilities and
    the distribution is read at the position where the reply writes its answer code. A second
    request only when those do not cover the answer position (the note says so); the embedded
    engine reads it with a 1-token pre-filled request instead. Without log-probabilities: the
    parsed answer one-hot, or votes over ``gen.samples`` samples when asked for.

    A reply with no readable option is asked again ``gen.parse_retries`` times; when none has
    one, an engine that continues a pre-filled turn (``info.prefill``) is asked to continue
    "Answer: " and the answer and distribution are read there (``prefilled-fallback``).

    An analysis that names another option than the answer is flagged (``turn.contradiction``).

    Raises ModelError (backend failure) or UnparsableAnswer (no option in the reply, also after
    the re-asks and where no pre-filled read can be made; ``exc.retries`` lists the replies)."""
    turn = _ask(model, name, messages, question, gen, want_analysis)
    if want_analysis:
        turn.contradiction = contradiction(turn.analysis, turn.answer, question)
    return turn


def _ask(model, name: str, messages: list[dict], question: Question, gen: Generation, want_analysis: bool) -> Turn:
    if not isinstance(model, Model):
        raise ConfigError(f"methods ask a Model (valuesim.llm.get_model / as_model), got {type(model).__name__}")
    turn = Turn(name, messages)
    codes = [str(c) for c in question.codes]
    info = model.info
    read = gen.use_logprobs and info.logprobs and len(codes) <= gen.max_logprob_options
    from_reply = read and not info.prefill

    def usable(c) -> bool:
        return read_answer(c.text, question) is not None

    completion = None
    for index in range(max(0, gen.parse_retries) + 1):
        config = GenerateConfig(max_tokens=gen.max_tokens, temperature=gen.temperature, seed=gen.seed,
                                sample_index=index, logprobs=from_reply)
        # on a pre-fill engine a reply without an answer is remembered as rejected (a re-run goes
        # straight to the next sample, and the pre-filled read always answers); on a server it is
        # asked again next run, since the server may have been at fault
        completion = model.generate(messages, config, accept=usable, remember_rejected=info.prefill)
        turn.requests += completion.attempts
        turn.seconds += completion.seconds
        turn.answer = read_answer(completion.text, question)
        if turn.answer is not None:
            break
        turn.retries.append({"sample_index": index, "completion": scrub(completion.text[:500]),
                             "cached": completion.cached})
    turn.text = completion.text
    turn.usage = completion.usage.as_dict()
    turn.cached = completion.cached
    if want_analysis:
        turn.analysis = read_analysis(completion.text)
    if turn.answer is None and info.prefill:  # the engine can still be asked to continue "Answer: "
        _prefilled_fallback(model, turn, messages, codes, question, read)
        return turn
    if turn.answer is None:
        shown = scrub(completion.text[:160].replace("\n", " "))
        tries = f" (asked {len(turn.retries)} times)" if len(turn.retries) > 1 else ""
        error = UnparsableAnswer(f"{name}: no option of {question.id} in the reply{tries}: {shown!r}")
        error.retries = turn.retries
        raise error

    if from_reply and completion.logprobs:
        probs = probs_from_written(completion.logprobs, codes, ANSWER_PREFIX)
        if probs:
            _set_distribution(turn, probs, "logprobs", "reply")
            return turn
        turn.note = "the reply's log-probabilities do not cover the answer position: read with a second request"
        _read_separately(model, turn, messages, codes, "second")
    elif read and info.prefill:
        _read_separately(model, turn, messages, codes, "prefilled")
    elif gen.samples > 0 and len(codes) <= gen.max_logprob_options:
        _sample(model, turn, messages, codes, gen)
    else:
        turn.distribution = {int(c): float(int(c) == turn.answer) for c in codes}
        turn.distribution_method = "parsed"
        if from_reply:
            turn.note = "the server sent no log-probabilities with this reply: one-hot at the parsed answer"
    return turn


def _set_distribution(turn: Turn, probs: dict, method: str, request: str) -> None:
    turn.distribution = {int(c): float(p) for c, p in probs.items()}
    turn.distribution_method = method
    turn.distribution_request = request
    best = max(turn.distribution, key=lambda c: turn.distribution[c]) if turn.distribution else None
    if best is not None and best != turn.answer and turn.distribution[best] > turn.distribution.get(turn.answer, 0.0):
        turn.note = (turn.note + "; " if turn.note else "") + (
            f"the reply says {turn.answer}, the most probable option at the answer position is {best}")


def _read_separately(model, turn: Turn, messages: list[dict], codes: list[str], request: str) -> None:
    """The distribution with more requests: one-token reads after a pre-filled ``Answer: ``
    (engines that continue an assistant turn), else a short reply with log-probabilities."""
    dist = read_options(model, messages, codes, prefix=ANSWER_PREFIX)
    turn.requests += dist.attempts
    turn.seconds += dist.seconds
    _add_usage(turn, dist.usage, "distribution_")
    _set_distribution(turn, dist.probs, dist.method, request)


def _prefilled_fallback(model, turn: Turn, messages: list[dict], codes: list[str], question: Question,
                        read: bool) -> None:
    """No readable answer in the reply, also after the re-asks, on an engine that continues a
    pre-filled assistant turn: the answer and its distribution are read after "Answer: "
    (one-token reads; a short pre-filled reply, one-hot, where options are too many to read).
    The reply's reasoning stays the analysis; the trace says ``prefilled-fallback``."""
    asked = len(turn.retries)
    if read:
        dist = read_options(model, messages, codes, prefix=ANSWER_PREFIX)
        turn.requests += dist.attempts
        turn.seconds += dist.seconds
        _add_usage(turn, dist.usage, "distribution_")
        probs, method = dist.probs, dist.method
        turn.answer = int(max(probs, key=lambda c: probs[c]))
    else:
        out = model.generate(list(messages) + [{"role": "assistant", "content": ANSWER_PREFIX}],
                             GenerateConfig(max_tokens=ANSWER_FALLBACK_TOKENS),
                             accept=lambda c: read_answer(ANSWER_PREFIX + c.text, question) is not None)
        turn.requests += out.attempts
        turn.seconds += out.seconds
        _add_usage(turn, out.usage, "distribution_")
        turn.answer = read_answer(ANSWER_PREFIX + out.text, question)
        if turn.answer is None:
            shown = scrub(out.text[:80].replace("\n", " "))
            error = UnparsableAnswer(f"{turn.name}: no option of {question.id} in the reply (asked {asked} times), "
                                     f"nor after a pre-filled 'Answer: ' ({shown!r})")
            error.retries = turn.retries
            raise error
        probs, method = {c: float(int(c) == turn.answer) for c in codes}, "parsed"
    turn.note = (f"the reply had no readable answer (asked {asked} time{'s' if asked != 1 else ''}): answer and "
                 "distribution read from a pre-filled 'Answer: ' continuation")
    _set_distribution(turn, probs, method, "prefilled-fallback")


def _sample(model, turn: Turn, messages: list[dict], codes: list[str], gen: Generation) -> None:
    texts = []
    for i in range(gen.samples):
        c = model.generate(messages, GenerateConfig(max_tokens=gen.max_tokens, temperature=gen.sample_temperature,
                                                    seed=gen.seed, sample_index=1000 + i))
        turn.requests += c.attempts
        turn.seconds += c.seconds
        _add_usage(turn, c.usage, "distribution_")
        texts.append(c.text)
    _set_distribution(turn, vote_distribution(texts, codes), "sampling", "samples")


# --- context length ------------------------------------------------------------------------------


def context_window(model) -> int | None:
    """The context window the model's engine enforces, in tokens (None: unknown/large)."""
    return model.info.context_window


def count_tokens(model, text: str) -> int:
    """Tokens in ``text`` for this model: the backend's own tokenizer when it has one, else the
    stated estimate (``llm.CHARS_PER_TOKEN`` characters per token)."""
    return model.count_tokens(text)


class ContextOverflow(ModelError):
    """The context does not fit the model's window (with overflow="fail")."""


OVERFLOW = ("truncate", "fail")


def fit_profile(model, profile, reserve_tokens: int, overflow: str = "truncate",
                context_tokens: int | None = None) -> tuple[str, str]:
    """The profile as the paper's Q/options/answer list, cut to fit the model's context.

    ``reserve_tokens``: room kept for the rest of the prompt and the reply. Returns (text, note);
    the note says how many items were kept when the list had to be cut (items are kept in
    questionnaire order). With ``overflow="fail"`` a list that does not fit raises
    ContextOverflow, which the simulator records as a failure for that item."""
    if overflow not in OVERFLOW:
        raise ValueError(f"overflow must be one of {OVERFLOW}, got {overflow!r}")
    text = profile.as_qa_list()
    window = context_tokens or context_window(model)
    if not window:
        return text, ""
    budget = window - reserve_tokens
    if count_tokens(model, text) <= budget:
        return text, ""
    if overflow == "fail":
        raise ContextOverflow(f"the profile (~{count_tokens(model, text)} tokens, {len(profile)} items) does not "
                              f"fit the model's {window}-token context; use a model with a longer context "
                              "or overflow='truncate'")
    blocks = text.split("\n\n")
    lo, hi = 0, len(blocks)  # largest prefix of items that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(model, "\n\n".join(blocks[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    note = (f"profile cut to fit a {window}-token context: kept the first {lo} of {len(blocks)} items "
            "in questionnaire order")
    return "\n\n".join(blocks[:lo]), note
