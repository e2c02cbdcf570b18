"""Batch mode of the model layer: a request that is not in the response cache is collected
instead of sent, and the prediction that needs it waits for the next round.

A ``Model`` with a ``BatchCollector`` (``model.collector``) asks it on every cache miss. The
collector answers from the replies a batch brought back (``BatchState.replies``, imported by
llm/batch_jsonl.py), or records the request as pending and raises ``BatchPending``, which the
runner treats as "waits", never as a failure, and never stores. The Model applies the caller's
``accept`` to a batch reply exactly as to a live one: an accepted reply enters the response
cache, a rejected one does not, so the caller asks again (the next sample index) and that
request is collected in the next round.

A rejected reply stays in the run's batch state, so an item that was re-asking goes on from
where it stopped. When the prediction that used it fails, the reply is marked spent and asked
again in a later round (at most ``MAX_TRIES`` answers per request in all), as a failed
prediction of an online run is retried against the server.

All batch state of a run lives in one SQLite file, RUN/batch/state.sqlite: the requests ever
collected, the pending ones of the last round, the replies, and the submissions (the batches
created at a provider, recorded before anything is paid for).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TypeVar

from ..errors import ConfigError
from .base import GenerateConfig, ModelOutput
from .model import _from_cache, _to_cache

STATE_DIR, STATE_FILE = "batch", "state.sqlite"
T = TypeVar("T")
MAX_TRIES = 3  # answers one request may get when predictions that used a rejected one keep failing

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (key TEXT PRIMARY KEY, body TEXT NOT NULL, round INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending (key TEXT PRIMARY KEY, round INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT NOT NULL, tries INTEGER NOT NULL,
                                    spent INTEGER NOT NULL DEFAULT 0, imported REAL NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (id INTEGER PRIMARY KEY AUTOINCREMENT, round INTEGER NOT NULL,
    part INTEGER NOT NULL, requests INTEGER NOT NULL, digest TEXT NOT NULL, status TEXT NOT NULL,
    base_url TEXT, input_file TEXT, batch_id TEXT, output_file TEXT, error_file TEXT,
    created REAL NOT NULL, note TEXT);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class BatchPending(Exception):
    """A request of this prediction waits for a batch reply. Not a ValuesimError on purpose:
    no method records it as a failure; the runner leaves the item for the next round."""

    def __init__(self, key: str):
        super().__init__(f"request {key[:12]} waits for a batch reply")
        self.key = key


def state_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / STATE_DIR / STATE_FILE


class BatchState:
    """The batch side of one run directory (thread-safe: one connection behind a lock)."""

    def __init__(self, run_dir: str | Path, create: bool = True):
        self.path = state_path(run_dir)
        if not create and not self.path.exists():
            raise ConfigError(f"{run_dir} has no batch state: run the study with --batch files (or openai) first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def query(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self.db.execute(sql, tuple(args)).fetchall()

    def write(self, sql: str, rows: Sequence[Sequence]) -> None:
        """``rows`` in one transaction (executemany)."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany(sql, [tuple(r) for r in rows])
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    # -- meta: the round counter ------------------------------------------------------------------
    def get(self, name: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE name = ?", (name,))
        return rows[0][0] if rows else default

    def set(self, name: str, value: Any) -> None:
        self.write("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(name, str(value))])

    @property
    def round(self) -> int:
        return int(self.get("round", "0"))

    # -- requests and replies ---------------------------------------------------------------------
    def pending(self) -> list[tuple[str, dict]]:
        """(key, body) of the requests the last round collected, in the order collected."""
        rows = self.query("SELECT p.key, r.body FROM pending p JOIN requests r ON r.key = p.key ORDER BY p.rowid")
        return [(k, json.loads(b)) for k, b in rows]

    def bodies(self, keys: Sequence[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        keys = list(keys)
        for s in range(0, len(keys), 500):
            chunk = keys[s:s + 500]
            marks = ",".join("?" * len(chunk))
            out.update((k, json.loads(b)) for k, b in self.query(f"SELECT key, body FROM requests WHERE key IN ({marks})",
                                                                 chunk))
        return out

    def reply(self, key: str) -> tuple[dict, int, bool] | None:
        """(value, tries, spent) of the reply to ``key``, or None."""
        rows = self.query("SELECT value, tries, spent FROM replies WHERE key = ?", (key,))
        return (json.loads(rows[0][0]), rows[0][1], bool(rows[0][2])) if rows else None

    def add_replies(self, replies: dict[str, dict]) -> None:
        """Store batch replies (a newer answer to a request replaces the one it re-asked)."""
        now = time.time()
        self.write("INSERT INTO replies (key, value, tries, spent, imported) VALUES (?, ?, 1, 0, ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value, tries = tries + 1, spent = 0, "
                   "imported = excluded.imported WHERE spent = 1",
                   [(k, json.dumps(v, ensure_ascii=False), now) for k, v in replies.items()])

    def spend(self, keys: Sequence[str]) -> None:
        self.write("UPDATE replies SET spent = 1 WHERE key = ?", [(k,) for k in keys])


def to_value(out: ModelOutput) -> dict:
    """A batch reply as stored (the response cache's layout)."""
    return _to_cache(out)


def from_value(v: dict) -> ModelOutput:
    """A stored batch reply as the fresh model answer it is (not from the response cache)."""
    return _from_cache(v, cached=False, requests=1)


class BatchCollector:
    """What a Model in batch mode asks on a cache miss (see the module docstring).

    ``body(messages, config)``: the chat-completions body of a request (the backend's own,
    ``OpenAIModel.request_body``). Requests are collected in memory during a round and written
    by ``end_round``; lookups read the run's batch state."""

    def __init__(self, run_dir: str | Path, body: Callable[[list, GenerateConfig], dict]):
        self.run_dir = Path(run_dir)
        self.body = body
        self._state: BatchState | None = None
        self._lock = threading.Lock()
        self._collected: dict[str, dict] = {}
        self._local = threading.local()
        self.waiting = 0  # predictions of this round that wait for a reply

    @property
    def state(self) -> BatchState:
        """Opened on first use: inside the run, after its directory was prepared."""
        with self._lock:
            if self._state is None:
                self._state = BatchState(self.run_dir)
            return self._state

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None

    # -- what the Model calls ----------------------------------------------------------------------
    def reply(self, key: str, messages: list, config: GenerateConfig) -> ModelOutput:
        """The batch reply to this request, or BatchPending after collecting it."""
        found = self.state.reply(key)
        if found is not None:
            value, tries, spent = found
            if not spent or tries >= MAX_TRIES:
                return from_value(value)
        with self._lock:
            if key not in self._collected:
                self._collected[key] = self.body(messages, config)
        raise BatchPending(key)

    def rejected(self, key: str) -> None:
        """The caller did not accept the batch reply to ``key`` (no readable answer)."""
        served = getattr(self._local, "rejected", None)
        if served is not None:
            served.append(key)

    # -- what the runner's hook calls around one prediction -------------------------------------------
    def start_item(self) -> None:
        self._local.rejected = []

    def end_item(self, failed: bool) -> None:
        """A prediction finished: if it failed, the rejected replies it used are asked again."""
        served, self._local.rejected = getattr(self._local, "rejected", None) or [], None
        if failed and served:
            self.state.spend(served)

    # -- rounds ----------------------------------------------------------------------------------
    def waited(self) -> None:
        with self._lock:
            self.waiting += 1

    def begin_round(self) -> None:
        with self._lock:
            self._collected, self.waiting = {}, 0

    def end_round(self) -> tuple[int, int]:
        """(round number, requests collected): the round's requests become the pending set
        (replacing the last one). Called after the study ran, so its directory exists."""
        with self._lock:
            collected, self._collected = self._collected, {}
        state = self.state
        n = state.round + 1
        rows = [(k, json.dumps(b, ensure_ascii=False), n) for k, b in collected.items()]
        state.write("INSERT OR IGNORE INTO requests (key, body, round) VALUES (?, ?, ?)", rows)
        with state._lock:
            state.db.execute("BEGIN IMMEDIATE")
            state.db.execute("DELETE FROM pending")
            state.db.executemany("INSERT INTO pending (key, round) VALUES (?, ?)", [(k, n) for k in collected])
            state.db.execute("INSERT OR REPLACE INTO meta VALUES ('round', ?)", (str(n),))
            state.db.execute("COMMIT")
        return n, len(collected)


def batch_model(model, run_dir: str | Path):
    """``model`` (a Model over an OpenAI-compatible backend) switched to batch mode for ``run_dir``."""
    from .model import Model
    from .openai_backend import OpenAIModel

    if not isinstance(model, Model) or not isinstance(model.api, OpenAIModel):
        spec = getattr(model, "spec", model)
        raise ConfigError(f"--batch writes OpenAI chat-completions requests: use --model openai:MODEL (got {spec})")
    if model.cache is None:
        raise ConfigError("--batch needs the response cache (batch replies come back through it)")
    model.collector = BatchCollector(run_dir, model.api.request_body)
    return model


def gather(calls: Iterable[Callable[[], T]], out: list | None = None) -> list[T]:
    """Every call's result, in order, appended to ``out`` as they come (a failure keeps the
    ones before it). Calls whose requests are independent (ValueSim's three
    modules, a backstory's parts, its audit items) all run even when one waits for a batch
    reply, so their requests are collected in the same round; then the first BatchPending is
    raised. Any other exception stops at once, as it would online. Online this is a plain loop."""
    out = [] if out is None else out
    waiting: BatchPending | None = None
    for call in calls:
        try:
            out.append(call())
        except BatchPending as exc:
            waiting = waiting or exc
    if waiting is not None:
        raise waiting
    return out
