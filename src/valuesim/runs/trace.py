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
        """How the prediction's distribution was read: 'logprobs', 'sampling', 'parsed', ... as the
        trace says, else from its answering turns: the coordinator's turn when it decided, the
        one module's when there is one, "mean of ..." when the modules' distributions were
        averaged; a hybrid's says what it mixed. '' for a trace without turns (statistical)."""
        if self.data.get("dist_method"):
            return str(self.data["dist_method"])
        if isinstance(self.data.get("llm"), dict):  # a hybrid: the LLM part mixed with the statistical one
            llm = Trace.of(self.data["llm"]).dist_method or "llm"
            fallback = self.data.get("fallback")
            if fallback:  # one part failed: the other one's distribution stands
                return "statistical" if fallback == "stat" else llm
            return f"mixture of {llm} and statistical"
        coord = self.data.get("coordinator")
        if isinstance(coord, dict) and coord.get("distribution_method"):
            return str(coord["distribution_method"])
        methods = [str(t.get("distribution_method")) for t in self.modules.values()
                   if isinstance(t, dict) and t.get("distribution_method")]
        if len(methods) == 1:
            return methods[0]
        return f"mean of {'+'.join(sorted(set(methods)))}" if methods else ""

    def turns(self) -> list[tuple[str, dict]]:
        """(name, turn record) of every answering turn: the modules in order, then the
        coordinator; a hybrid's are its LLM part's."""
        if isinstance(self.data.get("llm"), dict):
            return Trace.of(self.data["llm"]).turns()
        out = [(str(n), t) for n, t in self.modules.items() if isinstance(t, dict)]
        coord = self.data.get("coordinator")
        if isinstance(coord, dict):
            out.append(("coordinator", coord))
        return out

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


TURN_COLUMNS = ("method", "fold", "profile_limit", "country", "persona", "respondent_id", "question_id", "failed",
                "module", "prompt", "reply", "answer", "distribution_method", "distribution_request", "cached",
                "seconds", "prompt_tokens", "completion_tokens", "note", "context_kind", "contradiction")


def prompt_text(messages) -> str:
    """A turn's messages as one text: the one message's content, or "role: content" blocks.
    The shared context (backstory, profile) stays a marker; it is stored once per person."""
    msgs = [m for m in (messages or []) if isinstance(m, dict)]
    if len(msgs) == 1:
        return str(msgs[0].get("content", ""))
    return "\n\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in msgs)


def turn_frame(keyed: list[tuple]):
    """One row per answering turn of ``keyed`` ((*key, failed, Trace) from the store)."""
    import pandas as pd

    rows = []
    for *key, failed, trace in keyed:
        kind = trace.context.get("kind", "")
        for name, t in trace.turns():
            usage = t.get("usage") if isinstance(t.get("usage"), dict) else {}
            rows.append((*key, failed, name, prompt_text(t.get("messages")), str(t.get("completion") or ""),
                         t.get("answer"), str(t.get("distribution_method") or ""),
                         str(t.get("distribution_request") or ""), bool(t.get("cached", False)), t.get("seconds"),
                         usage.get("prompt_tokens"), usage.get("completion_tokens"), str(t.get("note") or ""), kind,
                         str(t.get("contradiction") or "")))
    df = pd.DataFrame(rows, columns=list(TURN_COLUMNS))
    for col in ("answer", "prompt_tokens", "completion_tokens"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    return df
