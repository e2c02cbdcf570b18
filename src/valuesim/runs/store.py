"""The SQLite store of a run: every read and write goes through here (opened by ``RunDir``).

One ``predictions`` schema for every study: a row per method × fold × profile_limit × country
× persona × respondent × question (a UNIQUE key; an individual study leaves persona at -1, a
population study leaves fold and profile_limit at -1), so re-running skips what is there and
can never duplicate a row. Population runs also store their ``personas``. Failed predictions
are stored too (flagged, with the error) and are retried on the next run, replacing the failed
row: a failure is never an answer. Stores of the older, separate evaluation and population
layouts are copied into this one when first opened (``migrate``).

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

from .trace import Trace

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

PREDICTIONS = """
CREATE TABLE IF NOT EXISTS predictions (
    method TEXT NOT NULL,
    fold INTEGER NOT NULL DEFAULT -1,         -- individual: the fold; population: -1
    profile_limit INTEGER NOT NULL DEFAULT -1, -- -1: all profile items; else the curve size
    country TEXT NOT NULL DEFAULT '',
    persona INTEGER NOT NULL DEFAULT -1,      -- population: persona index; -1: one per country / a person
    respondent_id TEXT NOT NULL DEFAULT '',   -- the person (or the drawn person behind a persona)
    question_id TEXT NOT NULL,
    profile_n INTEGER,                        -- profile items shown (individual)
    answer INTEGER,
    truth INTEGER,                            -- the person's real answer (individual); population: null
    distribution TEXT NOT NULL,               -- JSON {code: probability}
    dist_method TEXT NOT NULL DEFAULT '',     -- 'logprobs', 'sampling', ... (from the trace)
    failed INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',           -- model label, '' for statistical methods
    trace_id TEXT,
    seconds REAL,
    cached INTEGER NOT NULL DEFAULT 0,        -- served from the LLM response cache
    created REAL NOT NULL,
    UNIQUE (method, fold, profile_limit, country, persona, respondent_id, question_id)
);
"""

SCHEMA = PREDICTIONS + """
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
CREATE TABLE IF NOT EXISTS respondents (  -- individual runs: the evaluated people's country and survey weight
    respondent_id TEXT PRIMARY KEY,
    country TEXT,
    weight REAL
);
CREATE TABLE IF NOT EXISTS personas (     -- population runs: who each persona is
    country TEXT NOT NULL,
    persona INTEGER NOT NULL,
    respondent_id TEXT NOT NULL,
    levels TEXT NOT NULL,                 -- JSON {dimension: quantile level 1..5 or null}
    scores TEXT NOT NULL,                 -- JSON {dimension: z-score average or null}
    value_text TEXT NOT NULL,
    demographic_text TEXT NOT NULL,
    UNIQUE (country, persona)
);
""" + SESSIONS

KEY_COLUMNS = ("method", "fold", "profile_limit", "country", "persona", "respondent_id", "question_id")
_COLUMNS = KEY_COLUMNS + ("profile_n", "answer", "truth", "distribution", "dist_method", "failed", "error", "model",
                          "trace_id", "seconds", "cached", "created")

# The stores of valuesim before one schema (issue 18), copied into it on first open.
_MIGRATIONS = {
    "eval": ("truth", "SELECT method, fold, profile_limit, COALESCE(country, ''), -1, respondent_id, question_id, "
                      "profile_n, answer, truth, distribution, '', failed, error, model, trace_id, seconds, 0, created"),
    "population": ("probs", "SELECT method, -1, -1, country, persona, COALESCE(respondent_id, ''), question, NULL, "
                            "NULL, NULL, probs, COALESCE(dist_method, ''), failed, error, '', NULL, seconds, cached, "
                            "created"),
}


def migrate(db: sqlite3.Connection) -> str | None:
    """Copy a store of an older layout (separate evaluation and population schemas) into the one
    ``predictions`` schema, in one transaction. Returns the layout migrated from, or None."""
    cols = {r[1] for r in db.execute("PRAGMA table_info(predictions)")}
    if not cols or "persona" in cols and "fold" in cols:
        return None
    for kind, (marker, select) in _MIGRATIONS.items():
        if marker in cols:
            create = PREDICTIONS.replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE")
            db.executescript(f"BEGIN; ALTER TABLE predictions RENAME TO predictions_old; {create} "
                             f"INSERT INTO predictions ({', '.join(_COLUMNS)}) {select} FROM predictions_old; "
                             "DROP TABLE predictions_old; COMMIT;")
            return kind
    raise StoreError("its predictions table has an unknown layout")


class StoreError(Exception):
    """A store valuesim cannot read (the run directory says how to re-run)."""


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


class Store:
    """The one SQLite store of a run (individual and population alike): one writer (the runner's
    main thread), batched commits, sessions. Opened through ``RunDir.store()``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        migrate(self.db)
        self.db.executescript(SCHEMA)
        self.db.commit()
        self._pending = 0
        self._last_commit = time.monotonic()
        self._session: int | None = None
        self._session_rows = [0, 0]  # rows and failed rows written by this session
        self._usage = None  # a function returning the session's LLM usage so far (or None)
        self._contexts: set[str] = set()  # context ids written by this process

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

    def record_planned(self, method: str, predictions: int) -> None:
        """How many predictions ``method`` has in this run (done or not), so that a report of
        an unfinished run can say how far it got (``read_progress``)."""
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS planned (method TEXT PRIMARY KEY, predictions INTEGER NOT NULL)")
            self.db.execute("INSERT OR REPLACE INTO planned VALUES (?, ?)", (method, int(predictions)))

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

    # --- predictions ------------------------------------------------------------------------
    def _shared_context(self, trace: Trace) -> Trace:
        """The trace with its context text (every target of one person and fold repeats it; a Full
        Info profile is ~80 KB) replaced by the id of one stored copy."""
        text = trace.context_text
        if text is None or len(text) < CONTEXT_MIN_CHARS:
            return trace
        cid = hashlib.sha1(text.encode("utf-8")).hexdigest()
        if cid not in self._contexts:
            self.db.execute("INSERT OR IGNORE INTO contexts VALUES (?, ?)", (cid, text))
            self._contexts.add(cid)
        return trace.with_context_id(cid)

    def add(self, rows: Iterable[Row]) -> int:
        """Insert rows; a row replaces an existing *failed* row only. Returns rows written."""
        rows = list(rows)
        now = time.time()
        traces, values = [], []
        for r in rows:
            tid = r.trace_id
            if tid:
                traces.append((tid, self._shared_context(Trace.of(r.trace)).json()))
            values.append((*r.key, r.profile_n, r.answer, r.truth, _dist_json(r.distribution), r.dist_method,
                           int(r.failed), r.error, r.model, tid, r.seconds, int(r.cached), now))
        if traces:
            self.db.executemany("INSERT OR REPLACE INTO traces VALUES (?, ?)", traces)
        n = self.db.executemany(_INSERT, values).rowcount if values else 0
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

    def add_respondents(self, rows: Iterable[tuple[str, str, float]]) -> None:
        """(respondent id, country, survey design weight) of the people a study evaluates, so that
        scores can be survey-weighted without the data file (written again on every resume)."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO respondents VALUES (?, ?, ?)",
                                [(str(r), str(c), float(w)) for r, c, w in rows])

    def add_personas(self, rows: list[dict]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO personas (country, persona, respondent_id, levels, scores, value_text,"
            " demographic_text) VALUES (:country, :persona, :respondent_id, :levels, :scores, :value_text,"
            " :demographic_text)", rows)
        self.flush()

    def done_keys(self, method: str | None = None) -> set[tuple]:
        """Keys of successful predictions (failed rows are retried, so they do not count)."""
        return self._keys(0, method)

    def failed_keys(self, method: str | None = None) -> set[tuple]:
        return self._keys(1, method)

    def _keys(self, failed: int, method: str | None) -> set[tuple]:
        sql = f"SELECT {', '.join(KEY_COLUMNS)} FROM predictions WHERE failed = ?"
        args: tuple = (failed,)
        if method is not None:
            sql += " AND method = ?"
            args += (method,)
        return {tuple(r) for r in self.db.execute(sql, args)}

    def count(self, failed: bool | None = None) -> int:
        sql = "SELECT COUNT(*) FROM predictions" + ("" if failed is None else f" WHERE failed = {int(failed)}")
        return int(self.db.execute(sql).fetchone()[0])

    def trace(self, trace_id: str) -> Trace | None:
        """The stored trace with its context text put back."""
        row = self.db.execute("SELECT trace FROM traces WHERE trace_id = ?", (trace_id,)).fetchone()
        if not row:
            return None
        trace = Trace.of(row[0])
        if trace.context_id:
            text = self.db.execute("SELECT text FROM contexts WHERE context_id = ?", (trace.context_id,)).fetchone()
            trace = trace.with_context_text(text[0] if text else None)
        return trace


@dataclass
class Row:
    """One prediction as stored: the key (which method predicted what for whom) and the result."""

    method: str
    question_id: str
    distribution: dict
    fold: int = -1
    profile_limit: int = -1
    country: str = ""
    persona: int = -1
    respondent_id: str = ""
    profile_n: int | None = None
    answer: int | None = None
    truth: int | None = None
    dist_method: str = ""
    failed: bool = False
    error: str = ""
    model: str = ""
    trace: dict | None = None
    seconds: float | None = None
    cached: bool = False

    @property
    def key(self) -> tuple:
        return (self.method, self.fold, self.profile_limit, self.country, self.persona, self.respondent_id,
                self.question_id)

    @property
    def trace_id(self) -> str | None:
        if not self.trace:
            return None
        return "/".join(str(k) for k in self.key)


_INSERT = f"""INSERT INTO predictions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})
   ON CONFLICT ({', '.join(KEY_COLUMNS)})
   DO UPDATE SET profile_n=excluded.profile_n, answer=excluded.answer, truth=excluded.truth,
     distribution=excluded.distribution, dist_method=excluded.dist_method, failed=excluded.failed,
     error=excluded.error, model=excluded.model, trace_id=excluded.trace_id, seconds=excluded.seconds,
     cached=excluded.cached, created=excluded.created
   WHERE predictions.failed = 1"""


# --- reading a store (read-only; ``RunDir`` opens these) ------------------------------------------
def _connect_ro(path: str | Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)


def _read_only(path: str | Path, sql: str) -> list[tuple]:
    """The rows of one query on a store opened read-only (and closed again)."""
    db = _connect_ro(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def read_predictions(path: str | Path) -> pd.DataFrame:
    """All predictions joined with their question's category, kind, codes and steps (read-only:
    the viewer reads a run that another process may be writing)."""
    db = _connect_ro(path)
    try:
        df = pd.read_sql_query(
            f"""SELECT p.*, q.category, q.kind, q.codes, q.n_steps
               FROM predictions p LEFT JOIN questions q USING (question_id)
               ORDER BY {', '.join('p.' + k for k in KEY_COLUMNS)}""",
            db,
        )
    finally:
        db.close()
    df["failed"] = df["failed"].astype(bool)
    return df


def read_story_traces(path: str | Path) -> list[tuple[str, int, str, Trace]]:
    """(method, fold, respondent_id, trace) of every prediction whose trace carries a story."""
    rows = _read_only(path, "SELECT p.method, p.fold, p.respondent_id, t.trace FROM predictions p "
                            "JOIN traces t USING (trace_id) WHERE t.trace LIKE '%\"story\"%' ORDER BY p.created")
    return [(m, f, r, Trace.of(t)) for m, f, r, t in rows]


def read_prediction_traces(path: str | Path) -> list[tuple[str, bool, Trace]]:
    """(method, failed, trace) of every prediction; [] when the store cannot be read."""
    try:
        rows = _read_only(path, "SELECT p.method, p.failed, t.trace FROM predictions p "
                                "LEFT JOIN traces t ON t.trace_id = p.trace_id")
    except sqlite3.Error:
        return []
    return [(m, bool(f), Trace.of(t)) for m, f, t in rows]


def read_keyed_traces(path: str | Path) -> list[tuple]:
    """(*KEY_COLUMNS, failed, trace) of every prediction that has a trace, in key order; a
    trace's context text stays in ``contexts`` (the trace names it)."""
    rows = _read_only(path, f"SELECT {', '.join('p.' + k for k in KEY_COLUMNS)}, p.failed, t.trace FROM predictions p "
                            f"JOIN traces t ON t.trace_id = p.trace_id ORDER BY {', '.join('p.' + k for k in KEY_COLUMNS)}")
    return [(*r[:-2], bool(r[-2]), Trace.of(r[-1])) for r in rows]


def read_context_texts(path: str | Path, ids) -> dict[str, str]:
    """context id -> the stored context text (a backstory or profile that traces name)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    db = _connect_ro(path)
    try:
        return dict(db.execute(f"SELECT context_id, text FROM contexts WHERE context_id IN ({','.join('?' * len(ids))})",
                               ids).fetchall())
    finally:
        db.close()


def read_session_usage(path: str | Path) -> list[dict]:
    """The model usage each session of a run recorded (sessions without one are skipped)."""
    try:
        rows = _read_only(path, "SELECT usage FROM sessions WHERE usage IS NOT NULL")
    except sqlite3.Error:
        return []
    return [json.loads(raw) for (raw,) in rows if raw]


def read_progress(path: str | Path) -> dict[str, tuple[int, int, int | None]]:
    """method -> (predictions stored without failure, failed, planned or None when the run has
    not reached the method yet); {} when the store cannot be read."""
    try:
        stored = _read_only(path, "SELECT method, SUM(failed = 0), SUM(failed != 0) FROM predictions GROUP BY method")
        has_plan = _read_only(path, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'planned'")
        planned = dict(_read_only(path, "SELECT method, predictions FROM planned")) if has_plan else {}
    except sqlite3.Error:
        return {}
    out = {m: (int(ok or 0), int(bad or 0), planned.get(m)) for m, ok, bad in stored}
    for m, n in planned.items():
        out.setdefault(m, (0, 0, n))
    return out


def read_sessions(path: str | Path) -> pd.DataFrame:
    db = _connect_ro(path)
    try:
        return pd.read_sql_query("SELECT * FROM sessions ORDER BY session", db)
    finally:
        db.close()


def read_question_texts(path: str | Path) -> dict[str, str]:
    """question_id -> "short: text" as stored with the run."""
    return {q: (f"{short}: {text}" if short and short not in text else text)
            for q, short, text in _read_only(path, "SELECT question_id, short, text FROM questions")}


def read_respondents(path: str | Path) -> pd.DataFrame:
    """The evaluated people's respondent_id, country and weight (empty for a run made before
    stores recorded them, or a population run)."""
    try:
        rows = _read_only(path, "SELECT respondent_id, country, weight FROM respondents")
    except sqlite3.OperationalError:  # no such table: a store not opened since respondents were added
        rows = []
    return pd.DataFrame(rows, columns=["respondent_id", "country", "weight"])


def read_personas(path: str | Path) -> pd.DataFrame:
    db = _connect_ro(path)
    try:
        return pd.read_sql("SELECT * FROM personas", db)
    finally:
        db.close()
