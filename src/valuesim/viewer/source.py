"""One run as the viewer reads it: through ``RunDir`` and its store, opened read-only.

Every query opens the store afresh in SQLite's read-only mode (``mode=ro``), so the viewer never
writes to a run, never holds a lock a runner needs, and a run still in progress shows its new
predictions on the next reload. The predictions table is filtered, sorted and paginated here, in
SQL, so a page of a 100,000-prediction run costs one indexed scan, not a DataFrame of the run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import urllib.parse
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..runs.names import LOCK_FILE, OLD_POPULATION_STORE
from ..runs.rundir import RunDir, damaged
from ..runs.trace import Trace

PER_PAGE = 50
OUTCOMES = ("correct", "wrong", "failed")
# what a column header may sort by (name -> SQL); the key columns break ties so pages are stable
SORTS = {"method": "p.method", "question": "p.question_id", "person": "p.respondent_id", "country": "p.country",
         "category": "q.category", "fold": "p.fold", "persona": "p.persona", "answer": "p.answer",
         "truth": "p.truth", "seconds": "p.seconds", "outcome": "outcome", "error": "p.error"}
_TIES = "p.method, p.fold, p.profile_limit, p.country, p.persona, p.respondent_id, p.question_id"
_OUTCOME = ("CASE WHEN p.failed != 0 THEN 'failed' WHEN p.truth IS NULL THEN '' "
            "WHEN p.answer = p.truth THEN 'correct' ELSE 'wrong' END")


def connect_ro(path: Path) -> sqlite3.Connection:
    """The store at ``path``, opened read-only (a URI, so any character in the path is safe)."""
    uri = "file:" + urllib.parse.quote(str(Path(path).resolve())) + "?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
    con.row_factory = sqlite3.Row
    return con


@dataclass
class Filters:
    """What the predictions table shows: each field empty means 'all'."""

    method: str = ""
    item: str = ""
    category: str = ""
    country: str = ""
    outcome: str = ""
    person: str = ""
    sort: str = ""
    desc: bool = False
    page: int = 1

    @classmethod
    def of(cls, params: dict) -> "Filters":
        def one(key: str) -> str:
            value = params.get(key, "")
            return str(value[0] if isinstance(value, list) else value).strip()

        try:
            page = max(1, int(one("page") or 1))
        except ValueError:
            page = 1
        outcome = one("outcome") if one("outcome") in OUTCOMES else ""
        sort = one("sort") if one("sort") in SORTS else ""
        return cls(one("method"), one("item"), one("category"), one("country"), outcome, one("person"), sort,
                   one("desc") in ("1", "true", "yes"), page)

    def where(self) -> tuple[str, list]:
        clauses, args = ["p.profile_limit < 0"], []  # the main results; profile-size curves are the report's
        for value, sql in ((self.method, "p.method = ?"), (self.item, "p.question_id = ?"),
                           (self.category, "q.category = ?"), (self.country, "p.country = ?"),
                           (self.person, "p.respondent_id = ?")):
            if value:
                clauses.append(sql)
                args.append(value)
        if self.outcome == "failed":
            clauses.append("p.failed != 0")
        elif self.outcome == "correct":
            clauses.append("p.failed = 0 AND p.answer = p.truth")
        elif self.outcome == "wrong":
            clauses.append("p.failed = 0 AND p.truth IS NOT NULL AND (p.answer IS NULL OR p.answer != p.truth)")
        return " AND ".join(clauses), args

    def params(self, **change) -> dict:
        """The filters as query parameters (empty ones left out), with ``change`` applied."""
        values = {"method": self.method, "item": self.item, "category": self.category, "country": self.country,
                  "outcome": self.outcome, "person": self.person, "sort": self.sort,
                  "desc": "1" if self.desc else "", "page": str(self.page) if self.page > 1 else ""}
        values.update({k: ("" if v is None else str(v)) for k, v in change.items()})
        return {k: v for k, v in values.items() if v}


@dataclass
class Page:
    rows: list[dict]
    total: int
    page: int
    pages: int
    filters: Filters = field(default_factory=Filters)


class RunSource:
    """A run directory opened for reading; ``key`` names it in the viewer's addresses."""

    def __init__(self, path: "str | Path", key: str):
        self.run = RunDir(path)
        self.key = key
        if not self.run.path.is_dir():
            raise ConfigError(f"{self.run.path} is not a directory: name a run directory (the --out of a run)")
        if not self.run.store_path.exists():
            if (self.run.path / OLD_POPULATION_STORE).exists():
                raise ConfigError(f"{self.run.path} holds a store of an older valuesim; run `valuesim report "
                                  f"{self.run.path}` once to bring it up to date, then view it")
            raise ConfigError(f"{self.run.path} is not a valuesim run directory (no {self.run.store_path.name}); "
                              "name the --out of a `valuesim eval` or `valuesim population` run")
        try:  # a damaged store is one line now, not an error page later
            self.query("SELECT 1 FROM predictions LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise damaged(self.run.store_path, exc) from None
        self._cache: dict[str, tuple[tuple, object]] = {}
        self._lock = threading.Lock()
        self._guards: dict[str, threading.Lock] = {}

    @property
    def name(self) -> str:
        return self.run.name

    def connect(self) -> sqlite3.Connection:
        try:
            return connect_ro(self.run.store_path)
        except sqlite3.Error as exc:
            raise damaged(self.run.store_path, exc) from None

    def query(self, sql: str, args: "list | tuple" = ()) -> list[sqlite3.Row]:
        with closing(self.connect()) as con:
            return con.execute(sql, args).fetchall()

    # --- what changes while a run is in progress -------------------------------------------
    def version(self, lock: bool = False) -> tuple:
        """Changes whenever the store does (its file or its write-ahead log), and with ``lock``
        whenever a runner takes or leaves the run lock: the key of cached results."""
        out = []
        files = [str(self.run.store_path), str(self.run.store_path) + "-wal"] + ([str(self.run / LOCK_FILE)] if lock else [])
        for name in files:
            try:
                st = os.stat(name)
                out += [st.st_mtime_ns, st.st_size]
            except OSError:
                out += [0, 0]
        return tuple(out)

    def cached(self, name: str, compute, lock: bool = False):
        """``compute()``, kept until the store changes (or, with ``lock``, the run lock's holder)."""
        with self._lock:
            guard = self._guards.setdefault(name, threading.Lock())
        with guard:  # a second request for the same result waits for the first instead of computing it again
            version = self.version(lock)
            hit = self._cache.get(name)
            if hit and hit[0] == version:
                return hit[1]
            value = compute()
            self._cache[name] = (version, value)
            return value

    def info(self) -> dict:
        return self.run.info() or {}

    def is_population(self) -> bool:
        return self.run.is_population()

    def status(self) -> str:
        from ..runs.status import run_status

        methods = list((self.info().get("settings") or {}).get("methods") or [])
        return self.cached("status", lambda: run_status(self.run, methods), lock=True)

    def state(self) -> str:
        """complete / unfinished / running, for the badge beside the run's name."""
        text = self.status()
        return "running" if text.startswith("RUNNING") else "unfinished" if text.startswith("UNFINISHED") else "complete"

    # --- the predictions table ---------------------------------------------------------------
    def facets(self) -> dict[str, list]:
        """The values each filter offers (methods, items with their short text, categories, countries)."""

        def compute():
            return {
                "method": [r[0] for r in self.query("SELECT DISTINCT method FROM predictions ORDER BY method")],
                "item": [(r[0], r[1] or "") for r in self.query(
                    "SELECT DISTINCT p.question_id, q.short FROM predictions p LEFT JOIN questions q "
                    "USING (question_id) ORDER BY length(p.question_id), p.question_id")],
                "category": [r[0] for r in self.query("SELECT DISTINCT category FROM questions WHERE category IS NOT "
                                                      "NULL AND question_id IN (SELECT DISTINCT question_id FROM "
                                                      "predictions) ORDER BY category")],
                "country": [r[0] for r in self.query("SELECT DISTINCT country FROM predictions ORDER BY country")],
            }

        return self.cached("facets", compute)

    def predictions(self, filters: Filters, per_page: int = PER_PAGE) -> Page:
        where, args = filters.where()
        base = f"FROM predictions p LEFT JOIN questions q USING (question_id) WHERE {where}"
        order = SORTS.get(filters.sort)
        order_sql = (f"{order} {'DESC' if filters.desc else 'ASC'}, " if order else "") + _TIES
        with closing(self.connect()) as con:
            total = int(con.execute(f"SELECT COUNT(*) {base}", args).fetchone()[0])
            pages = max(1, -(-total // per_page))
            page = min(filters.page, pages)
            rows = con.execute(
                f"SELECT p.method, p.fold, p.country, p.persona, p.respondent_id, p.question_id, p.answer, p.truth, "
                f"p.distribution, p.failed, p.error, p.seconds, p.cached, p.trace_id, q.category, q.short, "
                f"{_OUTCOME} AS outcome {base} ORDER BY {order_sql} LIMIT ? OFFSET ?",
                [*args, per_page, (page - 1) * per_page]).fetchall()
        return Page([_row(r) for r in rows], total, page, pages, filters)

    def rows(self, where: str, args: "list | tuple" = ()) -> list[dict]:
        """Every main-result prediction matching ``where`` (SQL over predictions p and questions q)."""
        return [_row(r) for r in self.query(
            f"SELECT p.method, p.fold, p.country, p.persona, p.respondent_id, p.question_id, p.answer, p.truth, "
            f"p.distribution, p.failed, p.error, p.seconds, p.cached, p.trace_id, q.category, q.short, "
            f"{_OUTCOME} AS outcome FROM predictions p LEFT JOIN questions q USING (question_id) "
            f"WHERE p.profile_limit < 0 AND {where} ORDER BY {_TIES}", args)]

    # --- traces, questions, personas ------------------------------------------------------------
    def traces(self, trace_ids: list[str]) -> dict[str, Trace]:
        """The stored traces by id, each with its shared context text put back."""
        ids = [t for t in dict.fromkeys(trace_ids) if t]
        if not ids:
            return {}
        out: dict[str, Trace] = {}
        with closing(self.connect()) as con:
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                for tid, raw in con.execute(f"SELECT trace_id, trace FROM traces WHERE trace_id IN "
                                            f"({','.join('?' * len(chunk))})", chunk):
                    out[tid] = Trace.of(raw)
            contexts = {t.context_id for t in out.values() if t.context_id}
            texts = dict(con.execute(f"SELECT context_id, text FROM contexts WHERE context_id IN "
                                     f"({','.join('?' * len(contexts))})", list(contexts)).fetchall()) if contexts else {}
        return {tid: (t.with_context_text(texts.get(t.context_id)) if t.context_id else t) for tid, t in out.items()}

    def questions(self) -> dict[str, dict]:
        """question_id -> {category, kind, codes, text, short} as stored with the run."""

        def compute():
            return {r["question_id"]: {"category": r["category"], "kind": r["kind"], "codes": json.loads(r["codes"] or "[]"),
                                       "text": r["text"] or "", "short": r["short"] or ""}
                    for r in self.query("SELECT * FROM questions")}

        return self.cached("questions", compute)

    def personas(self, country: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM personas", []
        if country is not None:
            sql, args = sql + " WHERE country = ?", [country]
        return [{**dict(r), "levels": json.loads(r["levels"] or "{}"), "scores": json.loads(r["scores"] or "{}")}
                for r in self.query(sql + " ORDER BY country, persona", args)]


def _row(r: sqlite3.Row) -> dict:
    row = dict(r)
    try:
        dist = json.loads(row["distribution"] or "{}")
        row["distribution"] = {int(k): float(v) for k, v in dist.items()}
    except (ValueError, TypeError):
        row["distribution"] = {}
    return row
