"""SQLite response cache: a second identical run makes zero model calls.

The key is a hash of everything that determines a response: backend, model, server URL (never
the API key), the messages, every generation parameter and the sample index (so repeated
samples at temperature > 0 stay distinct). WAL mode and one connection per thread make it safe
for concurrent writers, including several processes sharing one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError


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
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS responses ("
                " key TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL,"
                " value TEXT NOT NULL, created REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=60000")
            except sqlite3.Error as exc:
                raise ConfigError(f"cannot open the response cache {self.path}: {exc}") from None
            self._local.conn = conn
        return conn

    def get(self, key: str) -> dict | None:
        row = self._connect().execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        with self._lock:
            if row is None:
                self.misses += 1
            else:
                self.hits += 1
        return None if row is None else json.loads(row[0])

    def put(self, key: str, kind: str, model: str, value: dict) -> None:
        blob = json.dumps(value, ensure_ascii=False)
        self._connect().execute(
            "INSERT OR REPLACE INTO responses (key, kind, model, value, created) VALUES (?, ?, ?, ?, ?)",
            (key, kind, model, blob, time.time()),
        )

    def __len__(self) -> int:
        return self._connect().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
