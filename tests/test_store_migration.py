"""Run directories of the two store layouts before one schema are migrated, not lost."""

from __future__ import annotations

import sqlite3

import pytest

from valuesim.errors import ConfigError
from valuesim.runs.rundir import RunDir
from valuesim.runs.store import KEY_COLUMNS

OLD_EVAL = """CREATE TABLE predictions (method TEXT NOT NULL, fold INTEGER NOT NULL, respondent_id TEXT NOT NULL,
 question_id TEXT NOT NULL, profile_limit INTEGER NOT NULL, profile_n INTEGER NOT NULL, country TEXT,
 answer INTEGER, truth INTEGER NOT NULL, distribution TEXT NOT NULL, failed INTEGER NOT NULL DEFAULT 0,
 error TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', trace_id TEXT, seconds REAL, created REAL NOT NULL,
 UNIQUE (method, fold, respondent_id, question_id, profile_limit));
INSERT INTO predictions VALUES ('knn', 2, 'u1', 'Q1', -1, 30, 'DEU', 3, 4, '{"3": 0.7, "4": 0.3}', 0, '', '',
 NULL, 0.01, 1.0);
INSERT INTO predictions VALUES ('knn', 2, 'u1', 'Q2', -1, 30, 'DEU', NULL, 1, '{"1": 0.5, "2": 0.5}', 1, 'x', '',
 NULL, 0.01, 1.0);"""

OLD_POPULATION = """create table predictions (method text not null, country text not null, persona integer not null,
 question text not null, respondent_id text, probs text not null, dist_method text,
 failed integer not null default 0, error text not null default '', seconds real,
 cached integer not null default 0, created real not null, unique (method, country, persona, question));
insert into predictions values ('value-persona', 'NGA', 4, 'Q46', 'r9', '{"1": 1.0}', 'logprobs', 0, '', 0.2, 1, 2.0);
create table personas (country text not null, persona integer not null, respondent_id text not null,
 levels text not null, scores text not null, value_text text not null, demographic_text text not null,
 unique (country, persona));
insert into personas values ('NGA', 4, 'r9', '{}', '{}', 'You are ...', 'You live ...');"""


def _write(path, script):
    db = sqlite3.connect(path)
    db.executescript(script)
    db.commit()
    db.close()


def test_an_evaluation_store_of_the_old_layout_is_migrated(tmp_path):
    run = RunDir(tmp_path)
    _write(run.store_path, OLD_EVAL)
    preds = run.predictions()
    assert len(preds) == 2 and set(KEY_COLUMNS) <= set(preds.columns)
    row = preds[preds.question_id == "Q1"].iloc[0]
    assert (row.fold, row.profile_limit, row.persona, row.country, row.answer, row.truth) == (2, -1, -1, "DEU", 3, 4)
    store = run.store()  # resuming skips the stored success, retries the failure
    assert store.done_keys("knn") == {("knn", 2, -1, "DEU", -1, "u1", "Q1")}
    assert store.failed_keys("knn") == {("knn", 2, -1, "DEU", -1, "u1", "Q2")}
    store.close()


def test_a_population_store_of_the_old_layout_is_adopted_and_migrated(tmp_path):
    _write(tmp_path / "population.sqlite", OLD_POPULATION)
    run = RunDir(tmp_path)
    assert run.has_store()
    preds = run.predictions()
    row = preds.iloc[0]
    assert (row.method, row.country, row.persona, row.question_id, row.respondent_id) == (
        "value-persona", "NGA", 4, "Q46", "r9")
    assert (row.fold, row.profile_limit, row.dist_method, row.cached) == (-1, -1, "logprobs", 1)
    assert row.distribution == '{"1": 1.0}' and len(run.personas()) == 1
    assert not (tmp_path / "population.sqlite").exists()


def test_a_store_of_an_unknown_layout_is_refused_with_how_to_rerun(tmp_path):
    run = RunDir(tmp_path)
    _write(run.store_path, "CREATE TABLE predictions (something TEXT);")
    with pytest.raises(ConfigError, match="--force"):
        run.store()


def test_individual_and_population_runs_write_the_same_predictions_schema(tmp_path):
    from eval_helpers import small_survey

    from valuesim.evaluation import run_study
    from valuesim.population import run_population
    from valuesim.survey.synthetic import write_synthetic

    run_study(small_survey(n=30), methods=["knn"], users=3, folds=5, out=tmp_path / "eval", progress=False)
    synth = write_synthetic(tmp_path / "s.csv", respondents=200, countries=["DEU", "NGA"], seed=2)
    run_population(synth, countries="DEU", personas=2, questions="Q1", methods="no-persona", model="scripted",
                   out=tmp_path / "pop", progress=False)

    def schema(run):
        db = sqlite3.connect(RunDir(run).store_path)
        try:
            return db.execute("PRAGMA table_info(predictions)").fetchall()
        finally:
            db.close()

    assert schema(tmp_path / "eval") == schema(tmp_path / "pop")
    ind, pop = RunDir(tmp_path / "eval").predictions(), RunDir(tmp_path / "pop").predictions()
    assert list(ind.columns) == list(pop.columns)
    assert (ind.persona == -1).all() and (ind.fold >= 0).all() and ind.truth.notna().all()
    assert (pop.fold == -1).all() and (pop.profile_limit == -1).all() and pop.truth.isna().all()
    assert set(pop.method) == {"no-persona", "country-marginal", "uniform"}
