"""One line for the top of a report: is this run complete, unfinished or still running?

A report written from a run stopped at 7 of 60 predictions (or while another process was still
working in it) used to read like a finished study. ``run_status`` says which it is, with the
predictions done and planned per method (the runner records the plan: ``Store.record_planned``),
and who is working in the run when its lock is held.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .rundir import RunDir, lock_holder
from .store import read_progress


def run_status(run_dir: "RunDir | str | Path", methods: list[str] | None = None) -> str:
    run = RunDir(run_dir)
    progress = read_progress(run.store_path) if run.store_path.exists() else {}
    names = list(dict.fromkeys(list(methods or []) + sorted(progress)))
    parts, short = [], False
    for m in names:
        ok, failed, planned = progress.get(m, (0, 0, None))
        if planned is None:
            short = short or ok + failed == 0
            parts.append(f"{m} {ok} done" + ("" if ok + failed else " (not started)"))
        else:
            short = short or ok + failed < planned
            parts.append(f"{m} {ok}/{planned} done")
        if failed:
            parts[-1] += f" ({failed} failed, retried by the next run)"
    detail = "; ".join(parts) or "no predictions yet"
    holder = lock_holder(run.path)
    if holder:
        return f"RUNNING: a valuesim process is working in this run ({holder}); these results are partial: {detail}"
    last = _last_session(run.store_path)
    if short or (last not in (None, "finished")):
        why = f"last session {last}" if last not in (None, "finished") else "predictions missing"
        return (f"UNFINISHED ({why}): {detail}. Every table below covers only what is done; "
                "re-run the same command to continue")
    return f"complete: {detail}"


def _last_session(db: Path) -> str | None:
    if not db.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT status FROM sessions ORDER BY session DESC LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None
