"""``Trace``: what a prediction recorded (prompts, replies, usage, story), read through one type.

Methods write their trace as a plain dict (``Prediction.trace``: it is JSON in the store); every
module that *reads* one (the store, the usage tables, the story table, ``valuesim ask``) goes
through ``Trace`` instead of looking up keys of its own, so the trace's layout is spelled here
once. Unknown keys are kept: a trace is a record of what happened, not a schema to enforce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(frozen=True)
class Trace:
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, value: "Trace | dict | str | None") -> "Trace":
        """A Trace from a prediction's dict, the store's JSON text, or nothing."""
        if isinstance(value, Trace):
            return value
        if isinstance(value, str):
            value = json.loads(value) if value else {}
        return cls(value if isinstance(value, dict) else {})

    def __bool__(self) -> bool:
        return bool(self.data)

    # --- the person's context (the profile or backstory the prompts start with) -------------
    @property
    def context(self) -> dict:
        ctx = self.data.get("context")
        return ctx if isinstance(ctx, dict) else {}

    @property
    def context_text(self) -> str | None:
        text = self.context.get("text")
        return text if isinstance(text, str) else None

    @property
    def context_id(self) -> str | None:
        """The id of the context text the store keeps once (set by ``with_context_id``)."""
        return self.context.get("text_id")

    def with_context_id(self, cid: str) -> "Trace":
        """The trace with its context text replaced by the id of one stored copy."""
        ctx = {k: v for k, v in self.context.items() if k != "text"}
        return Trace({**self.data, "context": {**ctx, "text_id": cid}})

    def with_context_text(self, text: str | None) -> "Trace":
        ctx = {k: v for k, v in self.context.items() if k != "text_id"}
        return Trace({**self.data, "context": {**ctx, "text": text}})

    # --- how the answer was read ----------------------------------------------------------
    @property
    def dist_method(self) -> str:
        """How the distribution was read: 'logprobs', 'sampling', 'parsed', ..."""
        return str(self.data.get("dist_method") or "")

    @property
    def seconds(self) -> float | None:
        s = self.data.get("seconds")
        return float(s) if isinstance(s, (int, float)) else None

    @property
    def cached(self) -> bool:
        """Served from the LLM response cache."""
        return bool(self.data.get("cached", False))

    # --- the parts ``valuesim ask`` shows --------------------------------------------------
    @property
    def story(self) -> dict | None:
        s = self.data.get("story")
        return s if isinstance(s, dict) else None

    @property
    def retrieved(self) -> list[dict]:
        return list(self.data.get("retrieved") or [])

    @property
    def modules(self) -> dict[str, dict]:
        return dict(self.data.get("modules") or {})

    @property
    def decision(self) -> dict | None:
        d = self.data.get("decision")
        return d if isinstance(d, dict) else None

    # --- what the model requests cost ------------------------------------------------------
    def usages(self, seen_stories: set | None = None) -> Iterator[dict]:
        """Every usage record (one per model turn) in the trace; a story's parts only the first
        time its key is seen in ``seen_stories`` (every prediction of a person repeats it)."""
        seen = set() if seen_stories is None else seen_stories
        yield from _usages(self.data, seen)

    def json(self) -> str:
        return json.dumps(self.data, default=str)


def _usages(node, seen: set) -> Iterator[dict]:
    if isinstance(node, dict):
        if "parts" in node and "key" in node and isinstance(node.get("parts"), list):
            if node["key"] in seen:
                return
            seen.add(node["key"])
        usage = node.get("usage")
        if isinstance(usage, dict) and "prompt_tokens" in usage:
            yield usage
        for key, value in node.items():
            if key != "usage":
                yield from _usages(value, seen)
    elif isinstance(node, list):
        for value in node:
            yield from _usages(value, seen)
