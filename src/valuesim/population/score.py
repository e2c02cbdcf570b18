"""``score(run)``: a population run's result tables, computed from its store.

Every prediction a population run scores is a row of its store: the persona methods', the
value-twin's and the references' (``work.py``). What the store does not hold is the people's
real answers; they are read again from the run's data file (recorded in run.json, checked to
be the same file). So the run and ``valuesim report RUN`` compute the tables the same way, and
deleting them loses nothing. The tables go to the run's ``report/`` folder, beside the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, DataError
from ..runs.rundir import RunDir
from ..survey.survey import Survey
from .protocol import HELD_OUT, SPLIT_HALF, TWIN, method_view, reference_names
from .sampling import split_country
from .science import science_tables
from .scoring import PopulationResult, evaluate, write_tables

TABLES = ("metrics.csv", "distributions.csv", "country_summary.csv", "summary.csv")


def scored_methods(info: dict) -> list[str]:
    """The methods a run's tables score besides the references: its LLM methods and the twin
    (recorded as ``twin``; runs from before that record had it under held-out-country only)."""
    protocol = info.get("protocol", SPLIT_HALF)
    twin = info.get("twin", protocol == HELD_OUT)
    return list(info.get("methods", [])) + ([TWIN] if twin else [])


def run_record(run: RunDir) -> dict:
    """run.json of a finished population run, or one line saying what to do."""
    info = run.info()
    if info is None:
        raise DataError(f"{run.path} is not a population run (no run settings); "
                        "run `valuesim population FILE ... --out DIR` first")
    if "countries" not in info:
        command = info.get("command") or "valuesim population FILE ... --out DIR"
        raise DataError(f"{run.path} is a population run that has not finished; run its command again to finish "
                        f"it (what is stored is kept): {command}")
    return info


def run_survey(info: dict) -> Survey | None:
    """The survey a run was made from, read again from its recorded file (None: an in-memory
    survey, or the file is gone); a different file is refused in one line."""
    data = (info.get("settings") or {}).get("data") or {}
    path = data.get("path")
    if not path or not Path(path).is_file():
        return None
    from ..survey.codebook_file import codebook_of_run
    from ..survey.io import load_survey

    codebook = codebook_of_run(data) if data.get("codebook") else None
    try:
        survey = load_survey(Path(path), codebook=codebook)
    except ConfigError:
        return None
    if len(survey) != data.get("respondents") or len(survey.question_ids) != data.get("items"):
        raise DataError(f"{path} is not the file this run was made from ({data.get('respondents')} respondents "
                        f"then, {len(survey)} now); put the original back to recompute the report")
    return survey


def _check_stored(preds: pd.DataFrame, info: dict, scored: list[str]) -> None:
    """A run from before the references and the twin were stored has none of their rows:
    its command, run again, adds them (nothing else is recomputed)."""
    protocol = info.get("protocol", SPLIT_HALF)
    statistical = [m for m in scored if m == TWIN] + reference_names(protocol)  # made in every session
    missing = [m for m in statistical if m not in set(preds.method)]
    if missing and len(preds):
        command = info.get("command") or "valuesim population FILE ... --out DIR"
        raise DataError(f"this run was made before valuesim stored {', '.join(missing)}; run its command again to "
                        f"add them (stored answers are kept, no model call is repeated): {command}")


def score(run: "RunDir | str | Path", survey: Survey | None = None) -> PopulationResult | None:
    """Aggregate, calibrate and score a population run from its store (``survey``: the run's
    survey when the caller has it; else read again from its file). None: no survey to read
    the real answers from (a run of an in-memory survey whose tables are already written)."""
    run = RunDir(run)
    info = run_record(run)
    survey = survey if survey is not None else run_survey(info)
    if survey is None:
        return None
    protocol, countries = info.get("protocol", SPLIT_HALF), list(info["countries"])
    targets, calib = list(info.get("questions", [])), list(info.get("calibration_questions", []))
    seed, personas = int(info["seed"]), int(info["personas"])
    scored = scored_methods(info)
    preds = run.predictions()
    preds["distribution"] = preds["distribution"].map(json.loads)
    _check_stored(preds, info, scored)
    seen = method_view(survey, protocol, countries, targets)  # held-out: target answers masked
    splits = {c: split_country(survey, c, seed) for c in countries}
    result = evaluate(survey, splits, preds, countries, scored, targets, calib, bool(info.get("calibrate")), personas,
                      seen, protocol)
    result.science = science_tables(None, result, survey, splits, preds, countries, targets,
                                    list(info.get("methods", [])), seed)
    result.run_dir, result.model = run.path, str(info.get("model", ""))
    return result


def write_results(run: RunDir, result: PopulationResult) -> Path:
    """The tables into the run's report/ folder (atomically); returns the folder."""
    from .science import write_science

    out = run.report_dir
    out.mkdir(parents=True, exist_ok=True)
    write_tables(out, result)
    write_science(out, result.science)
    return out


def tables_dir(run: RunDir) -> Path:
    """Where a run's tables are: its report/ folder, or the run root (runs before one place)."""
    return run.report_dir if (run.report_dir / TABLES[0]).exists() else run.path
