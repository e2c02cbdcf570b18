"""Run directories: what produced a run, whether it may be resumed, and who is working in it.

A run directory holds ``run.json`` (provenance and the settings that fix its results), the
SQLite store and the reports. The rules, for every kind of run:

* settings are written at the start, before any prediction, so a run killed in its first
  minute still refuses a resume with other settings;
* a resume must repeat the settings that fix the results; adding methods (or, for population
  runs, countries and questions) is fine because predictions are keyed by them. The data and
  codebook files are compared by content, not by where they live (``WHERE``): a moved one resumes;
* one process at a time: ``RunLock`` holds an OS lock on ``.lock``; a second process is told
  who holds it (pid, host, command, since) and stops. The OS drops the lock when its holder
  dies, however it dies, so a killed run never leaves a stale lock behind;
* files are replaced atomically (``render.write_atomic``);
* a run's identity (its settings) lives in its store as well as in run.json: a directory whose
  run.json is missing is repaired from the store when the settings agree and refused when
  they do not, and a run.json that disagrees with its store is refused; a results directory is
  never relabelled with new settings;
* ``check_out`` refuses an unusable ``--out`` (empty, a file, not writable) before anything
  is created.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd

from .._version import __version__
from ..errors import ConfigError
from .lock import RunLock, RunLocked, lock_holder  # noqa: F401  (importers find them here)
from .render import write_atomic
from .resume import (METHOD_KEYS, WHERE, close_session, compare, merge_run, merge_study,  # noqa: F401
                     migrate_identity, migrate_record, now, open_session, ran_methods, relocated)

from .names import ESTIMATE_FILE, LOCK_FILE, OLD_POPULATION_STORE, REPORT_DIR, RUN_FILE, SPLIT_FILE, STORE_FILE  # noqa: F401


from .fingerprint import HASHES_FILE, file_fingerprint, survey_fingerprint, survey_path  # noqa: F401,E402


# --- what produced the run ------------------------------------------------------------------
def model_label(model) -> str | None:
    """A readable name of the model: its spec plus the model/file it resolved to."""
    from ..llm import Model, ModelAPI

    if model is None:
        return None
    if not isinstance(model, (Model, ModelAPI)):  # a test's stand-in
        return type(model).__name__
    spec = model.spec or type(model).__name__
    try:
        detail = model.identity()
    except Exception:  # identity is informational only
        detail = {}
    name = detail.get("model") or detail.get("name") or detail.get("file")
    return f"{spec} ({name})" if name and str(name) not in str(spec) else str(spec)


def provenance(command: str | None, api: str, **extra) -> dict:
    """The part of run.json that says who made the run, when, with which valuesim."""
    return {"valuesim_version": __version__, "created": now(), "command": command or f"python API: {api}",
            "host": socket.gethostname(), **extra}


def read_run_file(out: Path) -> dict | None:
    run_file = Path(out) / RUN_FILE
    if not run_file.exists():
        return None
    try:
        return json.loads(run_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{run_file} is not valid JSON ({exc}); use --force to start the run over") from None


def write_run_file(out: Path, record: dict) -> None:
    write_atomic(Path(out) / RUN_FILE, json.dumps(record, indent=1, default=str))


# --- the run's identity, kept in its store too ---------------------------------------------
IDENTITY_TABLE = "run_identity"


def _canonical(settings: dict) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


def damaged(db: Path, exc: Exception) -> ConfigError:
    return ConfigError(f"{db} is damaged or not a SQLite database ({exc}); move it away to keep it, "
                       "or start the run over (--force, or another --out)")


def check_store(db: Path) -> None:
    """One clear line (ConfigError) when ``db`` exists but is not a readable SQLite database."""
    read_identity(db)


def read_identity(db: Path) -> dict | None:
    """The settings recorded in the store ``db`` (None: no store, or one made before stores
    recorded them); a damaged store is a ConfigError naming it."""
    db = Path(db)
    if not db.exists():
        return None
    try:
        with closing(sqlite3.connect(db, timeout=30)) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            row = (con.execute(f"SELECT value FROM {IDENTITY_TABLE} WHERE key = 'settings'").fetchone()
                   if IDENTITY_TABLE in tables else None)
    except sqlite3.DatabaseError as exc:
        raise damaged(db, exc) from None
    return json.loads(row[0]) if row else None


def write_identity(db: Path, settings: dict) -> None:
    try:
        with closing(sqlite3.connect(db, timeout=30)) as con, con:
            con.execute(f"CREATE TABLE IF NOT EXISTS {IDENTITY_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            con.execute(f"INSERT OR REPLACE INTO {IDENTITY_TABLE} VALUES ('settings', ?)", (_canonical(settings),))
    except sqlite3.DatabaseError as exc:
        raise damaged(db, exc) from None


# --- where the run goes ------------------------------------------------------------------------
def check_out(out: "str | Path") -> Path:
    """``out`` as a Path, or one line saying why it cannot hold a run: empty, an existing file,
    under a file, or in a folder this process cannot write. Creates nothing."""
    if out is None or not str(out).strip():
        raise ConfigError("--out is empty: name the run directory, e.g. --out runs/NAME")
    path = Path(out)
    if path.is_symlink() and not path.exists():
        raise ConfigError(f"--out {path} is a symbolic link to {os.readlink(path)}, which does not exist: create "
                          "that directory, remove the link, or choose another --out")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} is an existing file, not a run directory: choose another --out")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"--out {path}: {parent} is a file, so the run directory cannot be created there")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {path}: {parent} is not writable (permission denied); choose another --out")
    return path


STUDY_HINT = ("Use another --out, repeat the original settings to resume (adding methods is fine), "
              "or --force to discard it and start over")


def prepare(out: Path, settings: dict, info: dict, *, merge, force: bool = False,
            discard: tuple[str, ...] = (), hint: str = STUDY_HINT, store: str | None = None) -> dict:
    """Check (or start) the run in ``out`` and return its run.json record. ``merge(old,
    settings, info)`` returns the problems that forbid resuming, or the merged record.
    ``force`` discards a run with other settings: run.json and the ``discard`` files.
    ``store``: the run's SQLite file (in ``out``), which keeps a copy of the settings: run.json
    is checked against it, repaired from it when missing, and never rewritten with settings
    the stored results were not made with."""
    out = Path(out)
    db = out / store if store else None
    old = ident = None
    try:
        old = migrate_record(read_run_file(out))
        ident = migrate_identity(read_identity(db) if db is not None else None, old)
    except ConfigError:
        if not force:
            raise
        old = None
    try:
        old = _check_identity(out, old, ident, db, settings, info, merge, discard, hint)
    except ConfigError:
        if not force:
            raise
        old = None  # --force: whatever is there is discarded below
    if old is not None:
        problems, merged = merge(old, settings, info)
        if not problems:
            if (merged != old or not (out / RUN_FILE).exists()
                    or (db is not None and ident != json.loads(_canonical(merged["settings"])))):
                _record(out, db, merged)  # methods added, run.json repaired, or the store lacked its copy
            return merged
        if not force:
            raise ConfigError(f"{out} holds a run with different settings ({'; '.join(problems)}). {hint}")
    if old is not None or force:
        for name in (RUN_FILE,) + tuple(discard) + ((store,) if store else ()):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "report", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    record = {**info, "settings": settings}
    _record(out, db, record)
    return record


def _record(out: Path, db: Path | None, record: dict) -> None:
    """The settings into the store first, then run.json (a kill in between leaves a run.json-less
    directory that the store repairs)."""
    if db is not None:
        write_identity(db, record["settings"])
    write_run_file(out, record)


def _check_identity(out: Path, old: dict | None, ident: dict | None, db: Path | None, settings: dict, info: dict,
                    merge, discard: tuple[str, ...], hint: str) -> dict | None:
    """run.json as it should be: refused when it disagrees with the store, rebuilt from the
    store when it is missing, refused when results are there but nothing says what made them."""
    if old is not None:
        if ident is not None and json.loads(_canonical(old.get("settings", {}))) != ident:
            problems = compare(ident, json.loads(_canonical(old.get("settings", {}))))
            raise ConfigError(f"{out}/{RUN_FILE} disagrees with {db} ({'; '.join(problems) or 'settings differ'}): "
                              f"it was edited or copied from another run. Restore it, or {hint[0].lower()}{hint[1:]}")
        return old
    if ident is not None:
        problems, _ = merge({"settings": ident}, settings, info)
        if problems:
            raise ConfigError(f"{out} has no {RUN_FILE}, and its results were made with other settings "
                              f"({'; '.join(problems)}). {hint}")
        return {**info, "settings": ident, "repaired": f"{RUN_FILE} rebuilt from {db.name} on {now()}"}
    results = [n for n in tuple(discard) + ((db.name,) if db is not None else ())
               if not n.endswith(("-wal", "-shm")) and (out / n).exists()]
    if results:
        raise ConfigError(f"{out} holds results ({', '.join(sorted(set(results)))}) but no {RUN_FILE} saying which "
                          f"settings made them. {hint}")
    return None


# --- the run directory as one object ------------------------------------------------------------
class RunDir:
    """A run directory: the only code that knows its file names and reads or writes its files.

    Runners open the store with ``store()`` and record provenance with ``prepare``; reports and
    the usage tables read through ``predictions()``, ``sessions()``, ``prediction_traces()`` and
    friends; a notebook through ``scored()``, ``metrics()`` and ``traces()`` (DataFrames).
    Readers and tests take a RunDir (``RunDir(path)``), never a path to one of its files."""

    def __init__(self, path: "str | Path | RunDir"):
        self.path = Path(path.path if isinstance(path, RunDir) else path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __fspath__(self) -> str:  # so open()/Path() take it where a directory is meant
        return str(self.path)

    def __truediv__(self, name: str) -> Path:  # a report or table file inside the run directory
        return self.path / name

    @property
    def name(self) -> str:
        return self.path.name

    # --- run.json, split.json, estimate.json --------------------------------------------------
    def exists(self) -> bool:
        return (self.path / RUN_FILE).exists()

    def info(self) -> dict | None:
        """run.json, brought up to this version's shape (``migrate_record``)."""
        return migrate_record(read_run_file(self.path))

    def kind(self) -> str:
        """"individual" or "population": which protocol made the run (and writes its report)."""
        return (self.info() or {}).get("kind", "individual")

    def is_population(self) -> bool:
        """A population run (personas answering for countries), not a study of people."""
        return self.kind() == "population"

    def write_info(self, record: dict) -> None:
        write_run_file(self.path, record)

    def has_split(self) -> bool:
        return (self.path / SPLIT_FILE).exists()

    def split_json(self) -> dict:
        p = self.path / SPLIT_FILE
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}

    def write_split(self, data: dict) -> None:
        write_atomic(self.path / SPLIT_FILE, json.dumps(data, indent=1))

    @property
    def split_file(self) -> Path:
        return self.path / SPLIT_FILE

    def estimate_json(self) -> dict | None:
        p = self.path / ESTIMATE_FILE
        if not p.exists():
            return None
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except ValueError:  # an unreadable estimate is left out of the report
            return None

    def write_estimate(self, data: dict) -> None:
        write_atomic(self.path / ESTIMATE_FILE, json.dumps(data, indent=1))

    @property
    def report_dir(self) -> Path:
        return self.path / REPORT_DIR

    # --- the store ----------------------------------------------------------------------------
    @property
    def store_path(self) -> Path:
        return self.path / STORE_FILE

    def has_store(self) -> bool:
        return self.store_path.exists() or (self.path / OLD_POPULATION_STORE).exists()

    def _adopt(self) -> None:
        """A population run from before one store kept population.sqlite: it becomes the store
        (its rows are copied into the one schema when the store opens)."""
        old = self.path / OLD_POPULATION_STORE
        if old.exists() and not self.store_path.exists():
            import sqlite3

            db = sqlite3.connect(old)
            try:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.close()
            for suffix in ("-wal", "-shm"):
                Path(str(old) + suffix).unlink(missing_ok=True)
            os.replace(old, self.store_path)

    def store(self):
        """The run's store, opened for writing (created, or migrated from an older layout)."""
        from .store import Store, StoreError

        self._adopt()
        try:
            return Store(self.store_path)
        except StoreError as exc:
            raise ConfigError(f"{self.path} holds a store valuesim cannot read ({exc}); run the command again "
                              "with --force (or another --out) to start it over") from None

    def _readable(self) -> Path:
        """The store's path, after bringing an older layout up to date (readers open it themselves)."""
        if self.has_store():
            self._adopt()
            check_store(self.store_path)  # a damaged store: one line naming it
            self.store().close()
        return self.store_path

    def predictions(self) -> pd.DataFrame:
        from .store import read_predictions

        return read_predictions(self._readable())

    def sessions(self) -> pd.DataFrame:
        from .store import read_sessions

        return read_sessions(self._readable())

    def session_usage(self) -> list[dict]:
        from .store import read_session_usage

        return read_session_usage(self._readable()) if self.has_store() else []

    def prediction_traces(self) -> list:
        """(method, failed, Trace) of every prediction (the usage tables sum their turns)."""
        from .store import read_prediction_traces

        return read_prediction_traces(self._readable()) if self.has_store() else []

    def traces(self) -> pd.DataFrame:
        """One row per model turn of every prediction that has a trace: the prediction's key,
        module, prompt, reply, answer and how its distribution was read (``trace.turn_frame``)."""
        from .store import read_keyed_traces
        from .trace import turn_frame

        return turn_frame(read_keyed_traces(self._readable()) if self.has_store() else [])

    def respondents(self) -> pd.DataFrame:
        """respondent_id, country, weight of the people an individual run evaluates (empty for a
        population run, or a run made before stores recorded them)."""
        from .store import read_respondents

        return read_respondents(self._readable())

    # --- results as tables (the evaluation's scoring: ``evaluation.scored``) ----------------------
    def scored(self, demographics: bool = False) -> pd.DataFrame:
        """One row per prediction with its scores (correct, abs_error, nmae, logloss, rps),
        category, country, survey weight and ``overall`` (counted in the report's Overall)."""
        from ..evaluation.scored import scored

        return scored(self, demographics=demographics)

    def metrics(self, by=("method",), weighted: bool = False, **options) -> pd.DataFrame:
        """Metrics per group of ``by`` (method, respondent_id, question_id, category, country, ...)
        with 95% bootstrap intervals over users: the report's figures (``evaluation.scored.metrics``)."""
        from ..evaluation.scored import metrics

        return metrics(self, by=by, weighted=weighted, **options)

    def story_traces(self) -> list:
        """(method, fold, respondent_id, Trace) of every prediction whose trace has a story."""
        from .store import read_story_traces

        return read_story_traces(self._readable())

    def context_texts(self, ids) -> dict[str, str]:
        """context id -> text of the backstories/profiles that traces name by ``Trace.context_id``."""
        from .store import read_context_texts

        return read_context_texts(self._readable(), ids)

    def question_texts(self) -> dict[str, str]:
        from .store import read_question_texts

        return read_question_texts(self._readable())

    def personas(self) -> pd.DataFrame:
        from .store import read_personas

        return read_personas(self._readable())

    # --- starting, resuming, discarding ---------------------------------------------------------
    STORE_FILES = (STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm", OLD_POPULATION_STORE,
                   OLD_POPULATION_STORE + "-wal", OLD_POPULATION_STORE + "-shm")

    def prepare(self, settings: dict, info: dict, *, merge, force: bool = False, hint: str = STUDY_HINT) -> dict:
        """``prepare`` for this directory; ``force`` discards the split and the store too."""
        self._adopt()
        return prepare(self.path, settings, info, merge=merge, force=force, hint=hint, store=STORE_FILE,
                       discard=(SPLIT_FILE, ESTIMATE_FILE) + self.STORE_FILES)

    def lock(self, command: str | None = None) -> "RunLock":
        return RunLock(self.path, command)
