"""What a person's page and a persona's page show, read from the run's predictions and traces:
per target question every method's distribution beside the truth, the backstory with its checks
and fidelity audit, the three module analyses and the coordinator, the prompts and raw replies."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

from ..runs.trace import Trace
from .source import RunSource

_SURVEYS: dict[str, object] = {}
_SURVEY_LOCK = threading.Lock()


def turn(name: str, part: dict) -> dict:
    """One model turn of a trace (a module, the coordinator, a single prompt) for the page."""
    messages = [m for m in part.get("messages") or [] if isinstance(m, dict)]
    return {"name": name, "answer": part.get("answer"), "analysis": str(part.get("analysis") or ""),
            "completion": str(part.get("completion") or ""), "note": str(part.get("note") or ""),
            "distribution": _dist(part.get("distribution")), "error": str(part.get("error") or ""),
            "messages": [{"role": str(m.get("role", "")), "content": str(m.get("content", ""))} for m in messages]}


def trace_view(trace: Trace) -> dict:
    """A trace as the page shows it: its modules, the coordinator and the decision, any retrieved items."""
    modules = [turn(name, part) for name, part in trace.modules.items() if isinstance(part, dict)]
    coordinator = trace.data.get("coordinator")
    return {"modules": modules, "coordinator": turn("coordinator", coordinator) if isinstance(coordinator, dict) else None,
            "decision": trace.decision or {}, "retrieved": trace.retrieved, "context_kind": trace.context.get("kind", ""),
            "residence": str(trace.context.get("residence") or "")}


def _dist(value) -> dict[int, float]:
    try:
        return {int(k): float(v) for k, v in dict(value or {}).items()}
    except (TypeError, ValueError):
        return {}


def person(src: RunSource, rid: str) -> dict | None:
    """Everything the person page shows for respondent ``rid``, fold by fold (None: not in the run)."""
    rows = src.rows("p.respondent_id = ? AND p.persona < 0", [rid])
    if not rows:
        return None
    traces = src.traces([r["trace_id"] for r in rows])
    questions = src.questions()
    methods = list(dict.fromkeys(r["method"] for r in rows))
    folds = []
    for fold in sorted({r["fold"] for r in rows}):
        in_fold = [r for r in rows if r["fold"] == fold]
        folds.append({"fold": fold, "stories": _stories(in_fold, traces), "profile": _profile(src, rid, fold, in_fold, traces),
                      "targets": _targets(in_fold, traces, questions, methods)})
    return {"id": rid, "country": rows[0]["country"], "methods": methods, "folds": folds}


def _targets(rows: list[dict], traces: dict, questions: dict, methods: list[str]) -> list[dict]:
    out: dict[str, dict] = {}
    for r in rows:
        q = questions.get(r["question_id"], {})
        entry = out.setdefault(r["question_id"], {"id": r["question_id"], "text": q.get("text", ""),
                                                   "short": q.get("short", ""), "codes": q.get("codes") or [],
                                                   "truth": r["truth"], "by_method": {}})
        t = traces.get(r["trace_id"])
        entry["by_method"][r["method"]] = {**r, "trace": trace_view(t) if t else None}
    for entry in out.values():
        entry["answers"] = [entry["by_method"][m] for m in methods if m in entry["by_method"]]
        if not entry["codes"]:
            entry["codes"] = sorted({c for a in entry["answers"] for c in a["distribution"]})
    return list(out.values())


def _stories(rows: list[dict], traces: dict) -> list[dict]:
    """Each method's backstory of this person and fold, with its checks and fidelity audit."""
    seen, out = set(), []
    for r in rows:
        t = traces.get(r["trace_id"])
        if not t or t.story is None or r["method"] in seen:
            continue
        seen.add(r["method"])
        story = t.story
        fid = story.get("fidelity") or {}
        results = fid.get("results") or []
        out.append({"method": r["method"], "text": t.context_text or "", "kind": story.get("kind", "model"),
                    "status": story.get("status", ""), "reason": str(story.get("reason") or ""),
                    "retries": story.get("retries", 0), "rounds": story.get("rounds", 1),
                    "requests": story.get("requests", 0), "chars": story.get("chars"), "n_items": story.get("items"),
                    "prompt": story.get("prompt") or "", "fidelity": fid, "audit": results,
                    "audited": [str(q) for q in fid.get("items") or []],
                    "tried": story.get("tried") or [], "parts": story.get("parts") or []})
    return out


def _profile(src: RunSource, rid: str, fold: int, rows: list[dict], traces: dict) -> dict:
    """The person's profile for this fold as statements: from the run's data file (every answered
    item but the fold's targets) when it is still there, else the profile text a method was shown."""
    settings = (src.info().get("settings") or {}).get("data") or {}
    path = settings.get("path")
    survey = _survey(path, settings) if path and Path(path).is_file() else None
    if survey is not None:
        from ..survey.model import Profile

        try:
            resp = survey.respondent(rid)
        except Exception:  # the file no longer holds this person: fall back to the traces
            resp = None
        if resp is not None:
            from ..evaluation.protocol import Split

            split = src.run.split_json()
            include = Split.from_json(split).profile_items(fold) if split and fold >= 0 else None
            targets = {r["question_id"] for r in rows}
            profile = Profile.from_respondent(resp, survey.codebook, include=include, exclude=targets)
            return {"source": f"{path}: the items of this fold's profile that this person answered",
                    "statements": profile.as_statements().splitlines()}
    for r in rows:
        t = traces.get(r["trace_id"])
        if t and t.context.get("kind") == "profile" and t.context_text:
            return {"source": f"the profile {r['method']} was shown (the data file {path or '(in memory)'} is not "
                              "available)", "statements": t.context_text.splitlines()}
    return {"source": f"not available: the data file {path or '(in memory)'} is not there and no method's trace "
                      "holds the profile", "statements": []}


def _survey(path: str, settings: dict):
    """The run's survey file, read once per viewer process (a person page needs one respondent)."""
    with _SURVEY_LOCK:
        if path not in _SURVEYS:
            from ..survey.codebook_file import codebook_of_run
            from ..survey.io import load_survey

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _SURVEYS[path] = load_survey(path, codebook=codebook_of_run(settings))
            except Exception:  # an unreadable or changed file: the page falls back to the traces
                _SURVEYS[path] = None
        return _SURVEYS[path]


def persona(src: RunSource, country: str, index: int) -> dict | None:
    """A population persona: who it is (its descriptors) and its answers per method and question."""
    found = [p for p in src.personas(country) if int(p["persona"]) == index]
    rows = src.rows("p.country = ? AND p.persona = ?", [country, index])
    if not found and not rows:
        return None
    traces = src.traces([r["trace_id"] for r in rows])
    questions = src.questions()
    methods = list(dict.fromkeys(r["method"] for r in rows))
    return {"country": country, "index": index, "persona": found[0] if found else None, "methods": methods,
            "targets": _targets(rows, traces, questions, methods)}
