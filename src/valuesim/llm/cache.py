"""SQLite response cache: a second identical run makes zero model calls.

The key is a hash of everything that determines a response: backend, model, server URL (never
the API key), the messages, every generation parameter and the sample index (so repeated
samples at temperature > 0 stay distinct). WAL mode and one connection per thread make it safe
for concurrent writers, including several processes sharing one file.

Writes are batched: a response is readable in this process at once, and written to the file
in one transaction per ``FLUSH_ROWS`` responses or ``FLUSH_SECONDS`` (and at exit), because a
transaction per response cost a fast server a third of valuesim's CPU. A killed process loses
at most the last half second of responses, never a prediction (those live in the run's store).

The cache is a saving, not a record: a cache that cannot be opened is one clear error before a
run starts, naming the file and the cause (full disk, damaged, locked, unwritable); one that
fails during a run (the disk fills, a page is corrupted, another process holds it locked for
minutes) is switched off for the rest of the process with one warning saying so, and the run
goes on asking the model (its predictions are in the run's store, never here).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from ..errors import ConfigError, sqlite_cause

FLUSH_ROWS, FLUSH_SECONDS = 500, 0.5
LOCK_WAIT_SECONDS = 60.0  # how long a write waits for another process's lock before the cache is switched off


def valuesim_home() -> Path:
    """Where valuesim keeps its cache and model files ($VALUESIM_HOME, else ~/.cache/valuesim)."""
    return Path(os.environ.get("VALUESIM_HOME") or Path.home() / ".cache" / "valuesim").expanduser()


def default_cache_path() -> Path:
    return valuesim_home() / "cache.sqlite"


def cache_key(**request: Any) -> str:
    """Stable hash of a request description (dict keys sorted, JSON encoded)."""
    blob = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Key → JSON value store on SQLite. ``hits``/``misses`` count lookups in this process."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the cache directory {self.path.parent}: {exc}") from None
        self._local = threading.local()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._pending: dict[str, tuple] = {}  # key -> row, not yet in the file
        self._flushed = time.monotonic()
        self.failed: str | None = None  # why the file was switched off during this process
        try:
            with self._connect() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS responses ("
                    " key TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL,"
                    " value TEXT NOT NULL, created REAL NOT NULL)"
                )
                conn.execute("SELECT key FROM responses LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise self._refusal(exc) from None
        _OPEN.add(self)

    @classmethod
    def open(cls, path: str | Path) -> "ResponseCache":
        """The process's one cache object for ``path`` (so every model of the process sees the
        responses the others have not flushed yet)."""
        key = str(Path(path).expanduser().resolve())
        with _SHARED_LOCK:
            cache = _SHARED.get(key)
            if cache is None:
                cache = _SHARED[key] = cls(path)
            return cache

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=LOCK_WAIT_SECONDS, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_SECONDS * 1000)}")
            except sqlite3.Error as exc:
                raise self._refusal(exc) from None
            self._local.conn = conn
        return conn

    def _refusal(self, exc: Exception) -> ConfigError:
        return ConfigError(self._describe(exc) + "; free space or move the file away (it is rebuilt), "
                           "or set $VALUESIM_HOME to another folder")

    def _describe(self, exc: Exception) -> str:
        return f"the response cache {self.path} failed: {sqlite_cause(exc)}"

    def _switch_off(self, exc: Exception) -> None:
        """The file failed during a run: say so once, keep what is pending in memory, go on without it."""
        with self._lock:
            first, self.failed = self.failed is None, sqlite_cause(exc)
        if first:
            print(f"valuesim: warning: {self._describe(exc)}; continuing without it (replies are not cached "
                  "from here on; the run's predictions are stored as usual)", file=sys.stderr, flush=True)

    def get(self, key: str) -> dict | None:
        with self._lock:
            pending = self._pending.get(key)
        if pending is not None:
            blob = pending[3]
        elif self.failed is not None:
            blob = None
        else:
            try:
                row = self._connect().execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
            except (sqlite3.Error, ConfigError) as exc:
                self._switch_off(exc)
                row = None
            blob = None if row is None else row[0]
        with self._lock:
            if blob is None:
                self.misses += 1
            else:
                self.hits += 1
        return None if blob is None else json.loads(blob)

    def put(self, key: str, kind: str, model: str, value: dict) -> None:
        if self.failed is not None:
            return  # switched off: nothing grows in memory instead
        row = (key, kind, model, json.dumps(value, ensure_ascii=False), time.time())
        with self._lock:
            self._pending[key] = row
            due = len(self._pending) >= FLUSH_ROWS or time.monotonic() - self._flushed >= FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Write every pending response to the file, in one transaction."""
        with self._lock:
            if self.failed is not None:
                return  # switched off: what is pending stays readable in memory for this process
            rows, self._pending = list(self._pending.values()), {}
            self._flushed = time.monotonic()
        if not rows:
            return
        try:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT OR REPLACE INTO responses (key, kind, model, value, created) VALUES (?, ?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
        except BaseException as exc:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except (sqlite3.Error, NameError):
                pass
            with self._lock:  # keep them for the next flush (newer values of a key win)
                self._pending = {**{r[0]: r for r in rows}, **self._pending}
            if isinstance(exc, (sqlite3.Error, ConfigError)):
                self._switch_off(exc)
                return
            raise

    def __len__(self) -> int:
        self.flush()
        return self._connect().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def __del__(self) -> None:  # a cache dropped without close() still writes what is pending
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - during interpreter shutdown: only cached replies are lost
            pass

    def close(self) -> None:
        self.flush()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


_OPEN: "weakref.WeakSet[ResponseCache]" = weakref.WeakSet()
_SHARED: "dict[str, ResponseCache]" = {}  # kept for the process's life: pending writes must not vanish
_SHARED_LOCK = threading.Lock()


@atexit.register
def _flush_all() -> None:
    """Responses still pending when the interpreter exits reach the file."""
    for cache in list(_OPEN):
        try:
            cache.flush()
        except Exception:  # noqa: BLE001 - at exit, a locked or vanished file only loses cached replies
            pass
