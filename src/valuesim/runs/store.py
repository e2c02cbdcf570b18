"""The SQLite files of a run: every read and write goes through here.

``PredictionStore`` (predictions.sqlite, evaluation) holds one row per method × fold × user ×
item × profile_limit (a UNIQUE key), so re-running skips what is there and can never duplicate
a row; ``PopulationStore`` (population.sqlite) one row per method × country × persona ×
question plus the personas. Failed predictions are stored too (flagged, with the error) and
are retried on the next run, replacing the failed row: a failure is never an answer.

Writes are batched: rows are inserted at once but committed every ``COMMIT_SECONDS`` or
``COMMIT_ROWS`` rows and on ``flush``/``close`` (which every runner calls in ``finally``), so a
fast server is not held up by one fsync per prediction. Ctrl-C loses nothing; a kill -9 loses
at most the last half second. Each runner invocation is a ``sessions`` row whose LLM usage is
updated with every commit; a session still "running" when the next one starts was killed
and is marked "interrupted". A trace's context (the profile or backstory every target of one
person and fold repeats) is stored once, in ``contexts``, and named by the trace.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

CONTEXT_MIN_CHARS = 512  # shorter contexts stay inside their trace
_INFINITE = (float("inf"), float("-inf"))

COMMIT_SECONDS, COMMIT_ROWS = 0.5, 2000

SESSIONS = """
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

EVAL_SCHEMA = """
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
CREATE TABLE IF NOT EXISTS contexts (     -- a person's profile or backstory, once (traces name it)
    context_id TEXT PRIMARY KEY,
    text TEXT NOT NULL
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
""" + SESSIONS

POPULATION_SCHEMA = """
create table if not exists predictions (
    method text not null,
    country text not null,
    persona integer not null,          -- persona index; -1 for no-persona (one call per country)
    question text not null,
    respondent_id text,                -- the drawn person behind the persona ('' for no-persona)
    probs text not null,               -- JSON {code: probability}
    dist_method text,                  -- 'logprobs', 'sampling', 'real answers', ...
    failed integer not null default 0,
    error text not null default '',
    seconds real,
    cached integer not null default 0, -- served from the LLM response cache
    created real not null,
    unique (method, country, persona, question)
);
create table if not exists personas (
    country text not null,
    persona integer not null,
    respondent_id text not null,
    levels text not null,              -- JSON {dimension: quantile level 1..5 or null}
    scores text not null,              -- JSON {dimension: z-score average or null}
    value_text text not null,
    demographic_text text not null,
    unique (country, persona)
);
""" + SESSIONS


def _dist_json(distribution: dict) -> str:
    """{"code": probability} as JSON, written directly (json.dumps cost ~5 µs of a whole-file
    study's ~45 µs per prediction); anything unusual goes through json.dumps."""
    parts = []
    for k, v in distribution.items():
        v = float(v)
        if v != v or v in _INFINITE or not isinstance(k, (int, np.integer)):
            return json.dumps({str(k): float(p) for k, p in distribution.items()})
        parts.append(f'"{int(k)}":{v!r}')
    return "{" + ",".join(parts) + "}"


class _Store:
    """One SQLite file, one writer (the runner's main thread), batched commits, sessions."""

    schema = ""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(self.schema)
        self.db.commit()
        self._pending = 0
        self._last_commit = time.monotonic()
        self._session: int | None = None
        self._session_rows = [0, 0]  # rows and failed rows written by this session
        self._usage = None  # a function returning the session's LLM usage so far (or None)

    # --- commits ----------------------------------------------------------------------------
    def _wrote(self, n: int, failed: int = 0) -> None:
        self._pending += n
        self._session_rows[0] += n
        self._session_rows[1] += failed
        if self._pending >= COMMIT_ROWS or time.monotonic() - self._last_commit >= COMMIT_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Commit everything written so far (with the session's progress and usage)."""
        if self._session is not None:  # the session's progress and usage so far, with the rows
            usage = self._usage() if self._usage is not None else None
            self.db.execute("UPDATE sessions SET predictions=?, failures=?, usage=? WHERE session=?",
                            (*self._session_rows, json.dumps(usage) if usage is not None else None, self._session))
        self.db.commit()
        self._pending = 0
        self._last_commit = time.monotonic()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- sessions ---------------------------------------------------------------------------
    def start_session(self, usage=None) -> int:
        """A new session; sessions still 'running' belong to a process that was killed (the run
        lock guarantees no other process is working here), so they become 'interrupted'.
        ``usage``: a function returning the LLM usage so far, recorded with every commit."""
        with self.db:
            self.db.execute("UPDATE sessions SET status='interrupted' WHERE status='running'")
            cur = self.db.execute("INSERT INTO sessions (started, status) VALUES (?, 'running')", (time.time(),))
        self._session, self._session_rows, self._usage = int(cur.lastrowid), [0, 0], usage
        return self._session

    def end_session(self, session: int, status: str, predictions: int | None = None, failures: int | None = None,
                    usage: dict | None = None) -> None:
        """Close the session (counts default to the rows this session wrote)."""
        n = self._session_rows[0] if predictions is None else predictions
        f = self._session_rows[1] if failures is None else failures
        with self.db:
            self.db.execute(
                "UPDATE sessions SET finished=?, status=?, predictions=?, failures=?, usage=? WHERE session=?",
                (time.time(), status, n, f, json.dumps(usage) if usage is not None else None, session),
            )
        self._session = self._usage = None


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


_INSERT_PREDICTION = """INSERT INTO predictions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
   ON CONFLICT (method, fold, respondent_id, question_id, profile_limit)
   DO UPDATE SET profile_n=excluded.profile_n, answer=excluded.answer,
     distribution=excluded.distribution, failed=excluded.failed, error=excluded.error,
     model=excluded.model, trace_id=excluded.trace_id, seconds=excluded.seconds,
     created=excluded.created
   WHERE predictions.failed = 1"""


class PredictionStore(_Store):
    """predictions.sqlite of an evaluation run."""

    schema = EVAL_SCHEMA

    def __init__(self, path: str | Path):
        super().__init__(path)
        self._contexts: set[str] = set()  # context ids written by this process

    def _shared_context(self, trace: dict) -> dict:
        """The trace with its context text (every target of one person and fold repeats it; a Full
        Info profile is ~80 KB) replaced by the id of one stored copy."""
        ctx = trace.get("context")
        text = ctx.get("text") if isinstance(ctx, dict) else None
        if not isinstance(text, str) or len(text) < CONTEXT_MIN_CHARS:
            return trace
        cid = hashlib.sha1(text.encode("utf-8")).hexdigest()
        if cid not in self._contexts:
            self.db.execute("INSERT OR IGNORE INTO contexts VALUES (?, ?)", (cid, text))
            self._contexts.add(cid)
        return {**trace, "context": {**{k: v for k, v in ctx.items() if k != "text"}, "text_id": cid}}

    def add(self, rows: Iterable[Row]) -> int:
        """Insert rows; a row replaces an existing *failed* row only. Returns rows written."""
        rows = list(rows)
        now = time.time()
        traces, values = [], []
        for r in rows:
            tid = r.trace_id
            if tid:
                traces.append((tid, json.dumps(self._shared_context(r.trace), default=str)))
            values.append((r.method, r.fold, r.respondent_id, r.question_id, r.profile_limit, r.profile_n, r.country,
                           r.answer, r.truth, _dist_json(r.distribution), int(r.failed), r.error, r.model, tid,
                           r.seconds, now))
        if traces:
            self.db.executemany("INSERT OR REPLACE INTO traces VALUES (?, ?)", traces)
        n = self.db.executemany(_INSERT_PREDICTION, values).rowcount if values else 0
        failed = sum(r.failed for r in rows)
        if n < len(rows):  # some keys were already stored (and not failed): which ones is not known here
            failed = min(failed, n)
        self._wrote(n, failed)
        return n

    def add_questions(self, questions) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO questions VALUES (?,?,?,?,?,?,?)",
                [(q.id, q.category, q.kind.value, json.dumps(list(q.codes)), q.n_steps, q.text, q.short)
                 for q in questions],
            )

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

    def count(self, failed: bool | None = None) -> int:
        sql = "SELECT COUNT(*) FROM predictions" + ("" if failed is None else f" WHERE failed = {int(failed)}")
        return int(self.db.execute(sql).fetchone()[0])

    def frame(self) -> pd.DataFrame:
        self.flush()
        return read_predictions(self.path)

    def trace(self, trace_id: str) -> dict | None:
        """The stored trace with its context text put back."""
        row = self.db.execute("SELECT trace FROM traces WHERE trace_id = ?", (trace_id,)).fetchone()
        if not row:
            return None
        trace = json.loads(row[0])
        ctx = trace.get("context")
        if isinstance(ctx, dict) and "text_id" in ctx:
            text = self.db.execute("SELECT text FROM contexts WHERE context_id = ?", (ctx["text_id"],)).fetchone()
            trace["context"] = {**ctx, "text": text[0] if text else None}
        return trace


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


def _read_only(path: str | Path, sql: str) -> list[tuple]:
    """The rows of one query on a store opened read-only (and closed again)."""
    db = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def read_story_traces(path: str | Path) -> list[tuple[str, int, str, dict]]:
    """(method, fold, respondent_id, trace) of every prediction whose trace carries a story."""
    rows = _read_only(path, "SELECT p.method, p.fold, p.respondent_id, t.trace FROM predictions p "
                            "JOIN traces t USING (trace_id) WHERE t.trace LIKE '%\"story\"%' ORDER BY p.created")
    return [(m, f, r, json.loads(t)) for m, f, r, t in rows]


def read_prediction_traces(path: str | Path) -> list[tuple[str, bool, dict | None]]:
    """(method, failed, trace) of every prediction; [] when the store cannot be read."""
    try:
        rows = _read_only(path, "SELECT p.method, p.failed, t.trace FROM predictions p "
                                "LEFT JOIN traces t ON t.trace_id = p.trace_id")
    except sqlite3.Error:
        return []
    return [(m, bool(f), json.loads(t) if t else None) for m, f, t in rows]


def read_session_usage(path: str | Path) -> list[dict]:
    """The model usage each session of a run recorded (sessions without one are skipped)."""
    try:
        rows = _read_only(path, "SELECT usage FROM sessions WHERE usage IS NOT NULL")
    except sqlite3.Error:
        return []
    return [json.loads(raw) for (raw,) in rows if raw]


def read_sessions(path: str | Path) -> pd.DataFrame:
    with sqlite3.connect(Path(path)) as db:
        return pd.read_sql_query("SELECT * FROM sessions ORDER BY session", db)


def read_question_texts(path: str | Path) -> dict[str, str]:
    """question_id -> "short: text" as stored with the run."""
    with sqlite3.connect(Path(path)) as db:
        return {q: (f"{short}: {text}" if short and short not in text else text)
                for q, short, text in db.execute("SELECT question_id, short, text FROM questions")}


class PopulationStore(_Store):
    """population.sqlite: persona distributions and the personas behind them."""

    schema = POPULATION_SCHEMA

    def done_keys(self) -> set[tuple[str, str, int, str]]:
        """Keys of successful distributions (failed ones are retried)."""
        rows = self.db.execute("select method, country, persona, question from predictions where failed = 0")
        return {(m, c, int(p), q) for m, c, p, q in rows}

    def put(self, method: str, country: str, persona: int, question: str, respondent_id: str,
            probs: dict, dist_method: str = "", failed: bool = False, error: str = "", seconds: float = 0.0,
            cached: bool = False) -> None:
        """Store one distribution; it replaces a stored *failed* one only."""
        cur = self.db.execute(
            "insert into predictions (method, country, persona, question, respondent_id, probs,"
            " dist_method, failed, error, seconds, cached, created) values (?,?,?,?,?,?,?,?,?,?,?,?)"
            " on conflict (method, country, persona, question) do update set respondent_id=excluded.respondent_id,"
            " probs=excluded.probs, dist_method=excluded.dist_method, failed=excluded.failed, error=excluded.error,"
            " seconds=excluded.seconds, cached=excluded.cached, created=excluded.created"
            " where predictions.failed = 1",
            (method, country, int(persona), question, respondent_id, _dist_json(probs),
             dist_method, int(bool(failed)), error, float(seconds or 0.0), int(bool(cached)), time.time()),
        )
        self._wrote(cur.rowcount, cur.rowcount and int(bool(failed)))

    def put_personas(self, rows: list[dict]) -> None:
        self.db.executemany(
            "insert or replace into personas (country, persona, respondent_id, levels, scores, value_text,"
            " demographic_text) values (:country, :persona, :respondent_id, :levels, :scores, :value_text,"
            " :demographic_text)", rows)
        self.flush()

    def predictions(self) -> pd.DataFrame:
        self.flush()
        df = pd.read_sql("select * from predictions", self.db)
        df["probs"] = df["probs"].map(json.loads)
        return df

    def personas(self) -> pd.DataFrame:
        return pd.read_sql("select * from personas", self.db)


def read_personas(path: str | Path) -> pd.DataFrame:
    with sqlite3.connect(Path(path)) as db:
        return pd.read_sql("select * from personas", db)
