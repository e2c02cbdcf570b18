"""The run's SQLite file: one row per (method, country, persona, question) distribution.

The UNIQUE key makes a run resumable: a re-run skips every key already stored. Failed model
calls are stored too (``failed`` = 1, with the error) so they are visible and not silently
retried; delete those rows to retry them. pandas reads the tables directly:
``pd.read_sql("select * from predictions", sqlite3.connect("runs/NAME/population.sqlite"))``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pandas as pd

SCHEMA = """
create table if not exists predictions (
    method text not null,
    country text not null,
    persona integer not null,          -- persona index; -1 for no-persona (one call per country)
    question text not null,
    respondent_id text,                -- the drawn person behind the persona ('' for no-persona)
    probs text not null,               -- JSON {code: probability}
    dist_method text,                  -- 'logprobs' or 'sampling'
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
"""


class PopulationStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), check_same_thread=False)
        self.conn.executescript(SCHEMA)
        self.conn.commit()
        self._last_commit = time.monotonic()

    def commit(self) -> None:
        self.conn.commit()
        self._last_commit = time.monotonic()

    def close(self) -> None:
        self.commit()
        self.conn.close()

    def __enter__(self) -> "PopulationStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def done_keys(self) -> set[tuple[str, str, int, str]]:
        rows = self.conn.execute("select method, country, persona, question from predictions")
        return {(m, c, int(p), q) for m, c, p, q in rows}

    def put(self, method: str, country: str, persona: int, question: str, respondent_id: str,
            probs: dict, dist_method: str = "", failed: bool = False, error: str = "", seconds: float = 0.0,
            cached: bool = False) -> None:
        """Insert one distribution; commits at most about once a second (and on close), so a
        crash loses at most the last second of work."""
        self.conn.execute(
            "insert or ignore into predictions (method, country, persona, question, respondent_id, probs,"
            " dist_method, failed, error, seconds, cached, created) values (?,?,?,?,?,?,?,?,?,?,?,?)",
            (method, country, int(persona), question, respondent_id, json.dumps({str(k): float(v) for k, v in probs.items()}),
             dist_method, int(bool(failed)), error, float(seconds or 0.0), int(bool(cached)), time.time()),
        )
        if time.monotonic() - self._last_commit >= 1.0:
            self.commit()

    def put_personas(self, rows: list[dict]) -> None:
        self.conn.executemany(
            "insert or replace into personas (country, persona, respondent_id, levels, scores, value_text,"
            " demographic_text) values (:country, :persona, :respondent_id, :levels, :scores, :value_text,"
            " :demographic_text)", rows)
        self.conn.commit()

    def predictions(self) -> pd.DataFrame:
        df = pd.read_sql("select * from predictions", self.conn)
        df["probs"] = df["probs"].map(json.loads)
        return df

    def personas(self) -> pd.DataFrame:
        return pd.read_sql("select * from personas", self.conn)
