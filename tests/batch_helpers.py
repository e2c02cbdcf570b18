"""Shared steps of the batch tests: run a CLI command in-process, compare stored predictions by
content, and play one files-driver round (export -> the vllm run-batch stand-in -> import)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import vllm_run_batch_standin
from valuesim.cli import main
from valuesim.runs.names import STORE_FILE

CONTENT = ("method", "fold", "profile_limit", "country", "persona", "respondent_id", "question_id", "answer",
           "distribution", "dist_method", "failed", "error")


def predictions(run: Path) -> list[tuple]:
    """The stored predictions by content (what a prediction says, not when or how fast)."""
    with sqlite3.connect(Path(run) / STORE_FILE) as db:
        rows = db.execute(f"SELECT {', '.join(CONTENT)} FROM predictions").fetchall()
    out = []
    for r in rows:
        dist = json.loads(r[8]) if r[8] else None
        out.append(r[:8] + (json.dumps(dist and {k: round(v, 9) for k, v in dist.items()}, sort_keys=True),) + r[9:])
    return sorted(out, key=repr)


def cli(*argv, capsys=None) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    if capsys is None:
        return code, "", ""
    out = capsys.readouterr()
    return code, out.out, out.err


def play_round(run: Path, tmp: Path, k: int, model: str = "fake-model") -> int:
    """One files round: export the pending requests, answer them with the stand-in, import; the
    number of requests (0: nothing was pending)."""
    requests, results = tmp / f"round{k}.jsonl", tmp / f"results{k}.jsonl"
    assert main(["batch", "export", str(run), "--out", str(requests)]) == 0
    n = sum(1 for line in requests.read_text().splitlines() if line.strip())
    if n:
        assert vllm_run_batch_standin.main(["-i", str(requests), "-o", str(results), "--model", model]) == 0
        assert main(["batch", "import", str(run), str(results)]) == 0
    return n
