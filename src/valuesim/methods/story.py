"""The story module: a person's profile (question, options, their answer) -> a second-person backstory.

The prompt (prompts/story.txt) keeps the paper's ten instructions: reorganise by theme, include
every data point, keep exact values, second person, paragraphs by aspect, completeness over
brevity, output only the story. A profile too long for the model's context is written theme by
theme (the paper's nine value categories, a long theme split further) with
prompts/story_theme.txt, and the parts are joined in category order.

Backstories are cached per (respondent, profile item set, model): computed once under a
per-key lock even when many threads ask at once; the LLM response cache makes re-runs free.

``audit_backstory`` measures the paper's "information preservation" claim: it answers a
sample of the profile's own questions from the backstory alone and reports the share recovered.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field

from ..errors import ModelError
from ..survey.model import Profile
from ..survey.wvs7.bank import CATEGORIES, CATEGORY_NAMES
from .base import PersonContext
from .prompting import Generation, ask, context_window, count_tokens, load_prompt, render, user


@dataclass
class Backstory:
    text: str
    key: str
    n_items: int
    parts: list[dict] = field(default_factory=list)  # one per story call: theme, items, usage, seconds

    @property
    def themed(self) -> bool:
        return len(self.parts) > 1

    def summary(self) -> dict:
        """What a trace keeps about the story (the text itself goes in trace['context'])."""
        return {
            "key": self.key,
            "items": self.n_items,
            "chars": len(self.text),
            "themed": self.themed,
            "parts": [{k: v for k, v in p.items() if k not in ("messages", "text")} for p in self.parts],
        }


def profile_key(person: PersonContext, model) -> str:
    """(respondent, profile item set, model) -> a short stable key."""
    ident = model.identity() if callable(getattr(model, "identity", None)) else {"spec": getattr(model, "spec", "")}
    items = sorted((q.id, int(c)) for q, c in person.profile.items)
    raw = json.dumps([person.respondent_id, items, ident], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def theme_chunks(profile: Profile, budget_tokens: int, model) -> list[tuple[str, Profile]]:
    """The profile split by the nine categories (paper order), a category that is still too
    long split into consecutive parts of at most ``budget_tokens`` each."""
    groups: dict[str, list] = {}
    for q, code in profile.items:
        cat = q.category if q.category in CATEGORIES else "Other"
        groups.setdefault(cat, []).append((q, code))
    chunks: list[tuple[str, Profile]] = []
    for cat in [c for c in CATEGORIES if c in groups] + (["Other"] if "Other" in groups else []):
        title = CATEGORY_NAMES.get(cat, "other information")
        parts: list[list] = [[]]
        for item in groups[cat]:
            trial = Profile(tuple(parts[-1] + [item]))
            if parts[-1] and count_tokens(model, trial.as_qa_list()) > budget_tokens:
                parts.append([item])
            else:
                parts[-1].append(item)
        for i, part in enumerate(parts):
            label = title if len(parts) == 1 else f"{title} (part {i + 1} of {len(parts)})"
            chunks.append((label, Profile(tuple(part))))
    return chunks


class StoryWriter:
    """Writes (and caches) backstories with one model. Thread-safe.

    ``max_tokens``: cap on one story call's output. ``context_tokens``: the model's context
    (read from the backend when None). A profile is written in one call when its prompt takes at
    most ``single_share`` of the context (the rest is left for the story), else theme by theme."""

    def __init__(self, model, *, max_tokens: int = 4096, context_tokens: int | None = None,
                 single_share: float = 0.45, seed: int = 0):
        self.model = model
        self.max_tokens = max_tokens
        self.context_tokens = context_tokens or context_window(model)
        self.single_share = single_share
        self.seed = seed
        self._cache: dict[str, Backstory] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def backstory(self, person: PersonContext) -> Backstory:
        key = profile_key(person, self.model)
        with self._guard:
            if key in self._cache:
                return self._cache[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._cache:
                    return self._cache[key]
            story = self.write(person.profile, key)
            with self._guard:
                self._cache[key] = story
            return story

    def _output_budget(self, prompt: str, profile_text: str) -> int:
        """Room for the story: at most ``max_tokens``, what the context has left, and about as
        many tokens as the Q/options/answer list it retells (a story that needs more than its
        own source is a model stuck in a loop, not completeness)."""
        cap = min(self.max_tokens, max(512, count_tokens(self.model, profile_text)))
        if not self.context_tokens:
            return cap
        room = self.context_tokens - count_tokens(self.model, prompt) - 64
        if room < 256:
            raise ModelError(f"story prompt of ~{count_tokens(self.model, prompt)} tokens leaves no room "
                             f"for the story in a {self.context_tokens}-token context")
        return min(cap, room)

    def _call(self, prompt: str, theme: str, n_items: int, profile_text: str) -> dict:
        messages = user(prompt)
        completion = self.model.complete(messages, max_tokens=self._output_budget(prompt, profile_text),
                                         temperature=0.0, seed=self.seed)
        text = completion.text.strip()
        if not text:
            raise ModelError(f"the story module returned an empty backstory ({theme})")
        return {
            "theme": theme, "items": n_items, "messages": messages, "text": text,
            "usage": completion.usage.as_dict(), "seconds": round(completion.seconds, 3),
            "cached": completion.cached, "finish_reason": completion.finish_reason,
        }

    def write(self, profile: Profile, key: str = "") -> Backstory:
        if len(profile) == 0:
            return Backstory("(No information about this person is available.)", key, 0, [])
        text = profile.as_qa_list()
        prompt = render("story", profile=text)
        window = self.context_tokens
        if not window or count_tokens(self.model, prompt) <= window * self.single_share:
            part = self._call(prompt, "all", len(profile), text)
            return Backstory(part["text"], key, len(profile), [part])
        template_tokens = count_tokens(self.model, load_prompt("story_theme"))
        budget = max(200, int(window * self.single_share) - template_tokens)
        parts = [self._call(render("story_theme", theme=theme, profile=chunk.as_qa_list()), theme, len(chunk),
                            chunk.as_qa_list())
                 for theme, chunk in theme_chunks(profile, budget, self.model)]
        return Backstory("\n\n".join(p["text"] for p in parts), key, len(profile), parts)


# --- fidelity audit -----------------------------------------------------------------------------


@dataclass
class AuditResult:
    n: int
    recovered: int
    failed: int
    chance: float  # expected share recovered by guessing uniformly
    rows: list[dict]

    @property
    def share(self) -> float:
        return self.recovered / self.n if self.n else float("nan")

    def summary(self) -> str:
        return (f"{self.recovered} of {self.n} sampled profile answers recovered from the backstory "
                f"({self.share:.1%}; uniform guessing: {self.chance:.1%}; unparsable: {self.failed})")


def audit_backstory(model, backstory: str, profile: Profile, *, sample: int = 20, seed: int = 0,
                    gen: Generation | None = None) -> AuditResult:
    """Answer ``sample`` of the profile's own questions from the backstory alone."""
    gen = gen or Generation(max_tokens=16, use_logprobs=False)
    items = list(profile.items)
    rng = random.Random(seed)
    chosen = rng.sample(items, min(sample, len(items)))
    rows = []
    for q, truth in chosen:
        prompt = render("audit", context=backstory, question=q.render())
        row: dict = {"question": q.id, "category": q.category, "truth": int(truth)}
        try:
            turn = ask(model, "audit", user(prompt), q, gen, want_analysis=False)
            row.update(answer=turn.answer, correct=turn.answer == int(truth), completion=turn.text)
        except ModelError as exc:
            row.update(answer=None, correct=False, error=str(exc))
        rows.append(row)
    recovered = sum(1 for r in rows if r["correct"])
    failed = sum(1 for r in rows if r["answer"] is None)
    chance = sum(1.0 / max(1, len(q.codes)) for q, _ in chosen) / len(chosen) if chosen else float("nan")
    return AuditResult(len(rows), recovered, failed, chance, rows)

