"""Did the backstories carry the profile? One row per method that uses stories.

Every ValueSim prediction's trace holds its story's status (methods/story.py ``summary()``):
kind (model-written or statements), prompt, valid / fallback / failed with the reason, part
retries, requests (within the story's budget), fidelity-gate rounds and the fidelity audit (profile answers recovered from the story
alone, beside chance). This module reads those traces through the run's store (read-only) and
counts each person's story once per method.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..runs.render import Table, fmt
from ..runs.rundir import RunDir
from ..runs.trace import Trace

COLUMNS = ["method", "fold", "respondent_id", "key", "kind", "prompt", "status", "retries", "rounds",
           "requests", "fidelity", "chance", "reason"]


def story_records(run: "RunDir | str | Path") -> pd.DataFrame:
    """One row per (method, fold, respondent, story) found in the run's prediction traces."""
    return records_from_traces(RunDir(run).story_traces())


def records_from_traces(items) -> pd.DataFrame:
    """``items``: (method, fold, respondent_id, trace dict); traces without a story are skipped."""
    out = []
    for method, fold, rid, trace in items:
        story = Trace.of(trace).story
        if story is None:
            continue
        fid = story.get("fidelity") or {}
        out.append([method, fold, str(rid), story.get("key", ""), story.get("kind", "model"), story.get("prompt") or "",
                    story.get("status", "valid"), int(story.get("retries") or 0), int(story.get("rounds") or 1),
                    int(story.get("requests") or 0), fid.get("share"), fid.get("chance"), story.get("reason", "")])
    frame = pd.DataFrame(out, columns=COLUMNS)
    return frame.drop_duplicates(["method", "fold", "respondent_id", "key"], keep="last")


def story_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per method: stories, how they were written, retried, failed, fallbacks, fidelity vs chance."""
    rows = []
    for method, g in records.groupby("method", sort=False):
        kinds = sorted({k if k != "model" else f"model ({p})" for k, p in zip(g["kind"], g["prompt"])})
        fid = g.dropna(subset=["fidelity"])
        rows.append({
            "method": method, "story": ", ".join(kinds), "stories": len(g),
            "valid": int((g["status"] == "valid").sum()),
            "retried": int(((g["retries"] > 0) | (g["rounds"] > 1)).sum()),
            "failed": int((g["status"] == "failed").sum()),
            "statements fallback": int((g["status"] == "fallback").sum()),
            "part retries": int(g["retries"].sum()),
            "requests": float(g["requests"].mean()) if len(g) else math.nan,
            "most requests": int(g["requests"].max()) if len(g) else 0,
            "audited": len(fid),
            "fidelity": float(fid["fidelity"].mean()) if len(fid) else math.nan,
            "chance": float(fid["chance"].mean()) if len(fid) else math.nan,
        })
    return pd.DataFrame(rows)


def story_table(run: "RunDir | str | Path"):
    """The report's "Backstories" table, or None when no method used stories."""
    records = story_records(run)
    if records.empty:
        return None
    summary = story_summary(records)
    header = ["method", "story", "stories", "valid", "retried", "failed", "statements fallback", "part retries",
              "requests per story (most)", "mean fidelity", "chance"]
    rows = [[r["method"], r["story"], str(r["stories"]), str(r["valid"]), str(r["retried"]), str(r["failed"]),
             str(r["statements fallback"]), str(r["part retries"]), f"{fmt(r['requests'], 1)} ({r['most requests']})",
             fmt(r["fidelity"], 2), fmt(r["chance"], 2)]
            for r in summary.to_dict("records")]
    caption = ("Each person's backstory, counted once per method and fold. Valid: passed the checks (not empty, "
               "no refusal, no prompt echo, second person, no loop, not cut off, not far too short, no sentence "
               "that contradicts an answer or invents a survey fact) and the fidelity gate; retried: an invalid "
               "part was written again or the gate asked for a new story (part retries: how many times); "
               "requests: the story's model requests (parts, retries, smaller parts, audits), capped per person "
               "by the story budget; "
               "failed: no valid story, so that person's predictions failed with the reason; statements "
               "fallback: the profile's statements were used instead. Fidelity: share of sampled profile "
               "answers recovered from the story alone; chance: the same items guessed uniformly.")
    return Table("Backstories: validity and fidelity", header, rows, caption)
