"""predictions.sqlite: every prediction of a study, written the moment it exists.

One row per method × fold × user × item × profile_limit (a UNIQUE key), so re-running a study
skips what is there and can never duplicate a row. Failed predictions are stored too (flagged)
and are retried on the next run, replacing the failed row. Traces live in their own table,
keyed by ``trace_id``. Each invocation of the runner is a ``sessions`` row with its LLM usage.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    method TEXT NOT NULL,
    fold INTEGER NOT NULL,
    respondent_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    profile_limit INTEGER NOT NULL,      -- -1: all profile items; else the curve size
    profile_n INTEGER NOT NULL,          -- profile items actually shown
    country TEXT,
    answer INTEGER,
    truth INTEGER NOT NULL,
    distribution TEXT NOT NULL,          -- JSON {code: probability}
    failed INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',      -- model spec, '' for statistical methods
    trace_id TEXT,
    seconds REAL,
    created REAL NOT NULL,
    UNIQUE (method, fold, respondent_id, question_id, profile_limit)
);
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY,
    trace TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS questions (
    question_id TEXT PRIMARY KEY,
    category TEXT,
    kind TEXT,
    codes TEXT,                           -- JSON list of valid codes
    n_steps INTEGER,
    text TEXT,
    short TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    session INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL,
    finished REAL,
    status TEXT,                          -- running / finished / interrupted / failed
    predictions INTEGER DEFAULT 0,
    failures INTEGER DEFAULT 0,
    usage TEXT                            -- JSON accounting of the LLM model (or null)
);
"""


@dataclass
class Row:
    method: str
    fold: int
    respondent_id: str
    question_id: str
    profile_limit: int
    profile_n: int
    country: str
    answer: int | None
    truth: int
    distribution: dict
    failed: bool = False
    error: str = ""
    model: str = ""
    trace: dict | None = None
    seconds: float | None = None

    @property
    def key(self) -> tuple:
        return (self.method, self.fold, self.respondent_id, self.question_id, self.profile_limit)

    @property
    def trace_id(self) -> str | None:
        if not self.trace:
            return None
        return "/".join(str(k) for k in self.key)


class PredictionStore:
    """A thin wrapper over the SQLite file; single writer (the runner's main thread)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "PredictionStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing ----------------------------------------------------------------------
    def add(self, rows: Iterable[Row]) -> int:
        """Insert rows in one transaction; a row replaces an existing *failed* row only."""
        n = 0
        now = time.time()
        with self.db:
            for r in rows:
                tid = r.trace_id
                if tid:
                    self.db.execute("INSERT OR REPLACE INTO traces VALUES (?, ?)", (tid, json.dumps(r.trace, default=str)))
                cur = self.db.execute(
                    """INSERT INTO predictions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                       ON CONFLICT (method, fold, respondent_id, question_id, profile_limit)
                       DO UPDATE SET profile_n=excluded.profile_n, answer=excluded.answer,
                         distribution=excluded.distribution, failed=excluded.failed, error=excluded.error,
                         model=excluded.model, trace_id=excluded.trace_id, seconds=excluded.seconds,
                         created=excluded.created
                       WHERE predictions.failed = 1""",
                    (r.method, r.fold, r.respondent_id, r.question_id, r.profile_limit, r.profile_n, r.country,
                     r.answer, r.truth, json.dumps({str(k): v for k, v in r.distribution.items()}),
                     int(r.failed), r.error, r.model, tid, r.seconds, now),
                )
                n += cur.rowcount
        return n

    def add_questions(self, questions) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO questions VALUES (?,?,?,?,?,?,?)",
                [(q.id, q.category, q.kind.value, json.dumps(list(q.codes)), q.n_steps, q.text, q.short)
                 for q in questions],
            )

    # --- sessions ---------------------------------------------------------------------
    def start_session(self) -> int:
        with self.db:
            cur = self.db.execute("INSERT INTO sessions (started, status) VALUES (?, 'running')", (time.time(),))
        return int(cur.lastrowid)

    def end_session(self, session: int, status: str, predictions: int, failures: int, usage: dict | None) -> None:
        with self.db:
            self.db.execute(
                "UPDATE sessions SET finished=?, status=?, predictions=?, failures=?, usage=? WHERE session=?",
                (time.time(), status, predictions, failures, json.dumps(usage) if usage is not None else None, session),
            )

    # --- reading ----------------------------------------------------------------------
    def done_keys(self, method: str | None = None) -> set[tuple]:
        """Keys of successful predictions (failed rows are retried, so they do not count)."""
        sql = "SELECT method, fold, respondent_id, question_id, profile_limit FROM predictions WHERE failed = 0"
        args: tuple = ()
        if method is not None:
            sql += " AND method = ?"
            args = (method,)
        return {tuple(r) for r in self.db.execute(sql, args)}

    def failed_keys(self, method: str) -> set[tuple]:
        sql = ("SELECT method, fold, respondent_id, question_id, profile_limit FROM predictions "
               "WHERE failed = 1 AND method = ?")
        return {tuple(r) for r in self.db.execute(sql, (method,))}

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])

    def frame(self) -> pd.DataFrame:
        return read_predictions(self.path)

    def trace(self, trace_id: str) -> dict | None:
        row = self.db.execute("SELECT trace FROM traces WHERE trace_id = ?", (trace_id,)).fetchone()
        return json.loads(row[0]) if row else None


def read_predictions(path: str | Path) -> pd.DataFrame:
    """All predictions joined with their question's category, kind, codes and steps."""
    with sqlite3.connect(Path(path)) as db:
        df = pd.read_sql_query(
            """SELECT p.*, q.category, q.kind, q.codes, q.n_steps
               FROM predictions p LEFT JOIN questions q USING (question_id)
               ORDER BY p.method, p.fold, p.respondent_id, p.question_id, p.profile_limit""",
            db,
        )
    df["failed"] = df["failed"].astype(bool)
    return df


def read_sessions(path: str | Path) -> pd.DataFrame:
    with sqlite3.connect(Path(path)) as db:
        return pd.read_sql_query("SELECT * FROM sessions ORDER BY session", db)
