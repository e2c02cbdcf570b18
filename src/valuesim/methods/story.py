"""The story module: a person's profile -> a second-person backstory, checked before use.

Three ways to write it (``StoryWriter(kind=..., prompt=...)``), each reproducible and labelled
in every trace:

* ``kind="model", prompt="paper"``: the paper's prompt (prompts/story.txt, its ten
  instructions) over the question/options/answer list; a profile too long for one call is
  written theme by theme (the paper's nine categories, prompts/story_theme.txt).
* ``kind="model", prompt="small"``: for small models (chosen by ``prompt="auto"`` for the
  embedded engine): the bank's second-person statements, theme by theme in parts of at most
  ``part_items`` facts, with rules and no content example a story could copy (prompts/story_small.txt).
* ``kind="statements"``: no model call, the statements grouped by theme into paragraphs
  (lossless by construction; an ablation and a fallback).

Every model-written part is validated (story_checks) and retried with another sample (then in
smaller parts); a story that stays invalid, or whose fidelity audit (story_audit) is below
``min_fidelity``, is regenerated once more and then recorded as the person's StoryFailure,
which every prediction needing it reports. A failed story is never used as a context; with
``fallback="statements"`` the statements story is used instead, labelled as such.

Each part's length is planned from the model's context window so the finished story leaves
``reserve_tokens`` for the module prompts. Stories are cached per (respondent, items, model,
variant) in memory under a per-key lock; the LLM response cache makes re-runs free.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass, field
from typing import Callable

from ..llm import as_model
from ..llm.batch import gather
from ..errors import ModelError
from ..survey.model import Profile
from .base import PersonContext
from .prompting import context_window, count_tokens, load_prompt, render, user
from .story_audit import AuditResult, audit_backstory, audit_items  # noqa: F401  (re-exported)
from .story_checks import Problem, check_story, describe
from .story_parts import by_category, small_chunks, statements_story, theme_chunks  # noqa: F401  (re-exported)

KINDS = ("model", "statements")
PROMPTS = ("auto", "paper", "small")
FALLBACKS = ("fail", "statements")
RETRY_TEMPERATURE = 0.7  # later attempts sample, so they can differ from the greedy first one
# llama.cpp's repetition control (1.0: off), used on the attempt after one that looped or ran to
# the length limit; mild, because a second-person story must repeat "you" and "your"
LOOP_REPEAT_PENALTY = 1.15
FACTS_HEADER = "\nFacts:\n"  # where the small prompt's statements start (prompts/story_small.txt)
REJECTED_CHARS = 300  # of each rejected reply, kept in the trace
BUDGET_PER_PART = 3.0  # default request budget: this many requests per story part and audited item


class StoryBudget:
    """The requests one person's story may make: parts, retries, smaller parts and audits
    together, in every round. Every request counts, cached or not, so a re-run decides the same."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.used = 0

    def spend(self, n: int, what: str) -> None:
        if self.limit is not None and self.used + n > self.limit:
            raise StoryFailure(
                f"request budget spent: {self.used} story requests made, {what} needs {n} more "
                f"(limit {self.limit} for this person; option story_budget)",
                {"status": "failed", "reason": "budget", "requests": self.used, "limit": self.limit})
        self.used += n


class StoryFailure(ModelError):
    """No valid backstory for this person: the reason, and what was tried (for the trace)."""

    def __init__(self, reason: str, summary: dict):
        super().__init__(f"no valid backstory: {reason}")
        self.reason = reason
        self.summary = summary


@dataclass
class Backstory:
    text: str
    key: str
    n_items: int
    parts: list[dict] = field(default_factory=list)  # one per story call: theme, items, usage, checks
    kind: str = "model"  # "model" | "statements"
    prompt: str = ""  # "paper" | "small" ("" for statements)
    status: str = "valid"  # "valid" | "fallback" (statements used because the model story failed)
    rounds: int = 1  # whole-story writes (a failed fidelity gate writes it again)
    retries: int = 0  # part calls beyond the first per part (invalid parts written again)
    requests: int = 0  # story and audit requests made for this story, retries and rounds included
    fidelity: dict | None = None
    reason: str = ""  # why the model story failed (status "fallback")

    @property
    def themed(self) -> bool:
        return len(self.parts) > 1

    def summary(self) -> dict:
        """What a trace keeps about the story (the text itself goes in trace['context'])."""
        return {
            "key": self.key, "kind": self.kind, "prompt": self.prompt, "status": self.status,
            "items": self.n_items, "chars": len(self.text), "themed": self.themed, "rounds": self.rounds,
            "retries": self.retries, "requests": self.requests, "fidelity": self.fidelity, "reason": self.reason,
            "parts": [{k: v for k, v in p.items() if k not in ("messages", "text")} for p in self.parts],
        }


def profile_key(person: PersonContext, model, variant: str = "") -> str:
    """(respondent, profile item set, model, story variant) -> a short stable key."""
    ident = model.identity()
    items = sorted((q.id, int(c)) for q, c in person.profile.items)
    raw = json.dumps([person.respondent_id, items, ident, variant], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


class StoryWriter:
    """Writes, checks, audits and caches backstories with one model. Thread-safe.

    ``max_tokens``: cap on one story call's output. ``context_tokens``: the model's context
    (read from the backend when None); ``reserve_tokens`` of it stay free for the module
    prompts. The paper prompt writes a profile in one call when its prompt takes at most
    ``single_share`` of the context, else theme by theme. ``attempts``: tries per story part.
    ``audit_sample`` profile items are answered from each finished story (0: no audit); below
    ``min_fidelity`` recovered (or not above chance) the story is written once more, then failed
    (``min_fidelity=0``: the audit is measured and reported, never a gate).
    ``budget``: requests one person's story may make (parts, retries, smaller parts, audits, in
    every round) per story part and audited item of the first round, e.g. 3.0 for a 40-part
    story audited on 8 items: 144 (0: no limit); then the story fails with that reason.
    ``progress``: called with a short stage text before each model call (for the CLI)."""

    def __init__(self, model, *, kind: str = "model", prompt: str = "auto", max_tokens: int = 4096,
                 context_tokens: int | None = None, reserve_tokens: int = 1200, single_share: float = 0.45,
                 part_items: int = 8, attempts: int = 3, audit_sample: int = 8, min_fidelity: float = 0.5,
                 fallback: str = "fail", seed: int = 0, budget: float = BUDGET_PER_PART,
                 progress: Callable[[str], None] | None = None):
        for name, value, allowed in (("story", kind, KINDS), ("story_prompt", prompt, PROMPTS),
                                     ("story_fallback", fallback, FALLBACKS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        self.model = model = as_model(model)  # a bare ModelAPI is wrapped once, here
        self.kind = kind
        self.prompt = resolve_prompt(prompt, model)
        self.max_tokens = max_tokens
        self.context_tokens = context_tokens or context_window(model)
        self.reserve_tokens = reserve_tokens
        self.single_share = single_share
        self.part_items = part_items
        self.attempts = max(1, attempts)
        self.audit_sample = audit_sample
        self.min_fidelity = min_fidelity
        self.fallback = fallback
        self.seed = seed
        if not budget >= 0:
            raise ValueError(f"story_budget must be 0 (no limit) or a positive number, got {budget!r}")
        self.budget = budget
        self.progress = progress
        self._cache: dict[str, Backstory | StoryFailure] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def variant(self) -> str:
        return (f"statements/audit{self.audit_sample}" if self.kind == "statements" else
                f"{self.prompt}/att{self.attempts}/audit{self.audit_sample}/min{self.min_fidelity}/"
                f"{self.fallback}/seed{self.seed}/parts{self.part_items}/budget{self.budget:g}")

    def backstory(self, person: PersonContext) -> Backstory:
        """The person's checked story (cached); raises StoryFailure (also cached) when none is valid."""
        key = profile_key(person, self.model, self.variant())
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                found = self._cache.get(key)
            if found is None:
                try:
                    found = self.write(person.profile, key)
                except StoryFailure as failure:
                    found = failure
                with self._guard:
                    self._cache[key] = found
        if isinstance(found, StoryFailure):
            raise found
        return found

    def _say(self, stage: str) -> None:
        if self.progress is not None:
            self.progress(stage)

    # -- writing -----------------------------------------------------------------------------
    def write(self, profile: Profile, key: str = "") -> Backstory:
        if len(profile) == 0:
            return Backstory("(No information about this person is available.)", key, 0, [], kind=self.kind)
        if self.kind == "statements":
            return self._statements(profile, key)
        tried: list[dict] = []
        rounds = 2 if self.audit_sample > 0 else 1
        chunks = self._chunks(profile)
        budget = StoryBudget(self.request_limit(profile, len(chunks)))
        for round_ in range(rounds):
            try:
                story = self._model_story(profile, key, round_, chunks, budget)
                story.rounds = round_ + 1
                story.fidelity = self._audit(story.text, profile, budget)
                story.requests = budget.used
            except StoryFailure as failure:
                tried.append({"round": round_ + 1, "reason": failure.reason,
                              "rejected": failure.summary.get("rejected", [])})
                break  # every part was already retried (or the budget is spent): another round repeats that
            if self._passes(story.fidelity):
                return story
            tried.append({"round": round_ + 1, "reason": f"fidelity {fidelity_text(story.fidelity)} below the gate "
                                                         f"(min_fidelity {self.min_fidelity}, and above chance)"})
        reason = tried[-1]["reason"]
        summary = {"key": key, "kind": "model", "prompt": self.prompt, "status": "failed", "items": len(profile),
                   "rounds": len(tried), "tried": tried, "reason": reason, "requests": budget.used,
                   "request_limit": budget.limit}
        if self.fallback == "statements":
            story = self._statements(profile, key)
            story.status, story.reason = "fallback", reason
            return story
        raise StoryFailure(reason, summary)

    def request_limit(self, profile: Profile, parts: int | None = None) -> int | None:
        """The most requests this person's model-written story may make (None: no limit):
        ``budget`` per first-round part and audited item."""
        if not self.budget or self.kind != "model":
            return None
        if parts is None:
            parts = len(self._chunks(profile))
        audited = len(audit_items(profile, self.audit_sample, self.seed)) if self.audit_sample > 0 else 0
        return max(1, math.ceil(self.budget * (parts + audited)))

    def _statements(self, profile: Profile, key: str) -> Backstory:
        text, parts = statements_story(profile)
        story = Backstory(text, key, len(profile), parts, kind="statements", prompt="")
        story.fidelity = self._audit(text, profile)
        story.requests = (story.fidelity or {}).get("n", 0)
        return story

    def _audit(self, text: str, profile: Profile, budget: StoryBudget | None = None) -> dict | None:
        if self.audit_sample <= 0:
            return None
        n = len(audit_items(profile, self.audit_sample, self.seed))
        if budget is not None:
            budget.spend(n, "the fidelity audit")
        self._say(f"backstory: fidelity audit ({n} items across the themes)")
        result = audit_backstory(self.model, text, profile, sample=self.audit_sample, seed=self.seed)
        return result.as_dict()

    def _passes(self, fidelity: dict | None) -> bool:
        if not fidelity or not fidelity.get("n") or self.min_fidelity <= 0:  # 0: measured, not a gate
            return True
        return fidelity["share"] >= self.min_fidelity and fidelity["share"] > fidelity["chance"]

    def _chunks(self, profile: Profile) -> list[tuple[str, Profile, str]]:
        """(theme, items, prompt) per story call."""
        if self.prompt == "small":
            return [(t, c, render("story_small", theme=t, statements=c.as_statements()))
                    for t, c in small_chunks(profile, self.part_items)]
        whole = render("story", profile=profile.as_qa_list())
        window = self.context_tokens
        if not window or count_tokens(self.model, whole) <= window * self.single_share:
            return [("the whole profile", profile, whole)]
        budget = max(200, int(window * self.single_share) - count_tokens(self.model, load_prompt("story_theme")))
        return [(t, c, render("story_theme", theme=t, profile=c.as_qa_list()))
                for t, c in theme_chunks(profile, budget, self.model)]

    def _model_story(self, profile: Profile, key: str, round_: int, chunks: list, budget: StoryBudget) -> Backstory:
        caps = self._plan(profile, chunks)
        parts: list[dict] = []
        retries = 0

        def part(i: int, theme: str, chunk: Profile, prompt: str, cap: int) -> list[dict]:
            self._say(f"backstory: theme {i + 1} of {len(chunks)} ({theme})")
            return self._part(theme, chunk, prompt, cap, round_, profile, budget)

        # the parts are independent: in batch mode their requests go out in one round
        for written in gather(lambda i=i, c=c, cap=cap: part(i, *c, cap) for i, (c, cap) in enumerate(zip(chunks, caps))):
            retries += sum(p["attempts"] - 1 for p in written)
            parts += written
        text = "\n\n".join(p["text"] for p in parts)
        return Backstory(text, key, len(profile), parts, kind="model", prompt=self.prompt, retries=retries)

    def _plan(self, profile: Profile, chunks: list[tuple[str, Profile, str]]) -> list[int]:
        """Output tokens per part: about what its facts need, capped by ``max_tokens``, by the
        room its own prompt leaves, and by its share of the story budget (context minus
        ``reserve_tokens``), so the joined story fits beside the module prompts."""
        need = [self._need(c) for _, c, _ in chunks]
        caps = [min(self.max_tokens, n) for n in need]
        window = self.context_tokens
        if not window:
            return caps
        budget = window - self.reserve_tokens
        total = sum(need)
        out = []
        for (theme, _, prompt), cap, n in zip(chunks, caps, need):
            room = window - count_tokens(self.model, prompt) - 64
            if room < 128:
                raise StoryFailure(f"the story prompt for {theme} leaves no room in a {window}-token context",
                                   {"status": "failed", "reason": "context"})
            share = int(budget * n / total) if total > budget else cap
            out.append(max(64, min(cap, room, share)))
        return out

    def _need(self, chunk: Profile) -> int:
        """Tokens a faithful retelling of ``chunk`` may take: twice its statements, and for the
        paper prompt at least 512 or its Q/options/answer list (the original rule)."""
        stated = count_tokens(self.model, chunk.as_statements())
        if self.prompt == "small":
            return 2 * stated + 48
        return max(512, count_tokens(self.model, chunk.as_qa_list()), 2 * stated + 48)

    def _part(self, theme: str, chunk: Profile, prompt: str, cap: int, round_: int, whole: Profile,
              budget: StoryBudget, depth: int = 0) -> list[dict]:
        """One story part, validated; retried with other samples, then in two halves, each
        tried the same way, down to single facts (one part that a small model cannot write must
        not sink a 268-item story: each split costs calls only where a part failed), all within
        the person's request ``budget``. ``whole``: the person's profile (a sentence may state
        any of its items, and none it does not hold). A reply that fails the checks is never
        cached as a story part: it is remembered as rejected, so a re-run checks it again without
        a model call and goes straight to the next attempt."""
        problems: list[str] = []
        rejected: list[str] = []
        rules = prompt.split(chunk.as_qa_list())[0] if self.prompt != "small" else prompt.split(FACTS_HEADER)[0]
        penalty = 1.0
        checked: dict[int, list[Problem]] = {}

        def check(c) -> list[Problem]:
            # the small prompt asks for every fact with its value, so a part that drops facts is
            # retried here, before the (costlier) fidelity audit of the whole story
            if id(c) not in checked:
                checked[id(c)] = check_story(c.text.strip(), len(chunk), finish_reason=c.finish_reason, prompt=rules,
                                             source=chunk.as_statements(), keep_facts=self.prompt == "small",
                                             profile=whole)
            return checked[id(c)]

        for attempt in range(self.attempts):
            sample = round_ * self.attempts + attempt
            temperature = 0.0 if sample == 0 else RETRY_TEMPERATURE
            messages = user(prompt)
            budget.spend(1, f"{theme} (attempt {attempt + 1})")
            completion = self.model.complete(
                messages, max_tokens=cap, temperature=temperature, seed=self.seed, sample_index=sample,
                repeat_penalty=penalty, accept=lambda c: not check(c), remember_rejected=True)
            text = completion.text.strip()
            found: list[Problem] = check(completion)
            part = {"theme": theme, "items": len(chunk), "messages": messages, "text": text,
                    "usage": completion.usage.as_dict(), "seconds": round(completion.seconds, 3),
                    "cached": completion.cached, "finish_reason": completion.finish_reason,
                    "max_tokens": cap, "temperature": temperature, "sample_index": sample, "repeat_penalty": penalty,
                    "attempts": attempt + 1, "problems": problems + ([describe(found)] if found else []),
                    "rejected": list(rejected)}
            if not found:
                return [part]
            problems.append(describe(found))
            rejected.append(text[:REJECTED_CHARS])  # what was rejected (stored as rejected, never as a part)
            if any(p.kind in ("loop", "cut_off") for p in found):
                penalty = LOOP_REPEAT_PENALTY
        if len(chunk) > 1:
            half = len(chunk) // 2
            title = theme.split(" (smaller part: ")[0]  # what the prompt names, at any depth
            out = []
            for j, items in enumerate((chunk.items[:half], chunk.items[half:])):
                sub = Profile(tuple(items))
                sub_theme = f"{title} (smaller part: {len(sub)} fact{'s' if len(sub) > 1 else ''})"
                sub_prompt = (render("story_small", theme=title, statements=sub.as_statements())
                              if self.prompt == "small" else render("story_theme", theme=title, profile=sub.as_qa_list()))
                self._say(f"backstory: {sub_theme}, smaller part after {self.attempts} invalid attempts")
                out += self._part(sub_theme, sub, sub_prompt, max(64, cap // 2 + 32), round_, whole, budget,
                                  depth + 1)
            for p in out:
                p["attempts"] += self.attempts
            return out
        raise StoryFailure(f"{theme}: {problems[-1]} (after {self.attempts} attempts"
                           + (", also in smaller parts)" if depth else ")"),
                           {"status": "failed", "theme": theme, "problems": problems, "rejected": rejected})


def small_prompt_facts(prompt: str) -> str:
    """The statements a small-prompt story call lists ("" for any other prompt)."""
    return prompt.rsplit(FACTS_HEADER, 1)[1] if FACTS_HEADER in prompt else ""


def resolve_prompt(prompt: str, model) -> str:
    """``auto`` -> ``small`` for a model whose declared size hint is small, else the paper's."""
    if prompt != "auto":
        return prompt
    return "small" if model.info.size == "small" else "paper"


def fidelity_text(fidelity: dict | None) -> str:
    if not fidelity or not fidelity.get("n"):
        return "not audited"
    return f"{fidelity['recovered']}/{fidelity['n']} = {fidelity['share']:.0%} (chance {fidelity['chance']:.0%})"


def story_status_line(summary: dict) -> str:
    """One line for the CLI: what the story is, whether it is valid, and its fidelity."""
    if not summary:
        return "no backstory"
    kind = summary.get("kind", "model")
    label = "statements (no model call)" if kind == "statements" else f"model-written, {summary.get('prompt')} prompt"
    status = summary.get("status", "valid")
    requests = f", {summary['requests']} requests" if summary.get("requests") else ""
    if status == "failed":
        return f"FAILED ({label}{requests}): {summary.get('reason', '')}"
    extra = f"; model story failed: {summary.get('reason')}" if status == "fallback" else ""
    retried = f", {summary['retries']} part retries" if summary.get("retries") else ""
    rounds = f", written {summary['rounds']}x (fidelity gate)" if summary.get("rounds", 1) > 1 else ""
    return (f"{status.upper()} ({label}; {summary.get('items', '?')} items, {summary.get('chars', '?')} chars"
            f"{retried}{rounds}{requests}); fidelity {fidelity_text(summary.get('fidelity'))}{extra}")
