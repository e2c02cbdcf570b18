"""``run_population``: simulate countries' answer distributions and compare them with real ones.

    from valuesim.population import run_population, write_population_report
    result = run_population(survey, ["DEU", "NGA"], personas=100, methods=["value-persona", "demographic"],
                            model="local", out="runs/pop", calibrate=True, seed=0)
    print(result.summary)
    write_population_report("runs/pop")

One run directory holds ``run.json`` (what produced it, every session's wall time),
``population.sqlite`` (every persona distribution; re-running skips what is stored) and the
result tables ``metrics.csv``, ``distributions.csv``, ``country_summary.csv``, ``summary.csv``,
``calibration.json``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError
from ..runs import rundir
from ..runs.store import PopulationStore
from ..survey.survey import Survey
from .countries import country_name
from .dimensions import DimensionScaler
from .personas import LLM_METHODS, MARGINAL, UNIFORM, VALUE, Persona, build_personas
from .predict import REFERENCES, predict_all
from .protocol import PROTOCOL_METHODS, SPLIT_HALF, check_protocol, method_view, resolve_protocol
from .sampling import CountrySplit, draw_personas, split_country
from .science import protocol_predictions, science_tables
from .scoring import PopulationResult, evaluate, summarise, write_tables  # noqa: F401  (part of this API)
from .targets import resolve_calibration, resolve_questions

RUN_FILE, DB_FILE = rundir.RUN_FILE, "population.sqlite"


def _listify(value: "str | Iterable[str] | None") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def resolve_methods(methods: "str | Iterable[str] | None", protocol: str = SPLIT_HALF) -> list[str]:
    names = _listify(methods) or [VALUE]
    if names == ["all"]:
        return list(LLM_METHODS)
    out = []
    for n in names:
        if n in (MARGINAL, UNIFORM, *PROTOCOL_METHODS[protocol]):
            continue  # reference (and the protocol's statistical) methods are always reported
        if n not in LLM_METHODS:
            raise ConfigError(f"unknown population method {n!r}; use {', '.join(LLM_METHODS)} "
                              f"(the references {MARGINAL} and {UNIFORM} are always included)")
        if n not in out:
            out.append(n)
    return out


def resolve_countries(countries: "str | Iterable[str]", survey: Survey) -> list[str]:
    names = _listify(countries)
    present = set(map(str, survey.countries))
    if not names:
        raise ConfigError(f"name at least one country (--countries); the file has: {', '.join(sorted(present))}")
    missing = [c for c in names if c not in present]
    if missing:
        raise ConfigError(f"country {', '.join(missing)} is not in {survey.source or 'the survey'}; "
                          f"it has: {', '.join(sorted(present))}")
    return list(dict.fromkeys(names))


def _load_model(model: Any, base_url: str | None, workers: int):
    from ..llm import ManagedModel, get_model

    return model if isinstance(model, ManagedModel) else get_model(model, base_url=base_url, concurrency=workers)


# Settings that fix who the personas are and what they answered; a run directory cannot be
# resumed with other values (countries, methods and questions may be added).
FIXED_SETTINGS = ("seed", "personas", "data", "model", "protocol")


def _merge(old: dict, settings: dict, info: dict):
    """Resume rule: FIXED_SETTINGS must match (a run made before settings were recorded is
    compared on what it has; a run without LLM methods has no model to compare)."""
    o = old.get("settings") or {k: old[k] for k in FIXED_SETTINGS if k in old}
    keys = tuple(k for k in FIXED_SETTINGS if k in o and not (k == "model" and (o[k] is None or settings[k] is None)))
    problems = rundir.compare({k: o[k] for k in keys}, {k: settings[k] for k in keys})
    if problems:
        return problems, None
    merged = {**settings, "model": settings["model"] or o.get("model")}
    return [], {**old, "settings": merged}


def run_population(
    survey: "Survey | str | Path",
    countries: "str | Iterable[str]",
    personas: int = 100,
    questions: "str | Iterable[str] | None" = None,
    methods: "str | Iterable[str] | None" = (VALUE,),
    model: Any = "local",
    out: "str | Path" = "runs/population",
    calibrate: bool = False,
    seed: int = 0,
    calibration_questions: "str | Iterable[str] | None" = None,
    workers: int = 1,
    progress: bool = True,
    command: str = "",
    base_url: str | None = None,
    protocol: str = SPLIT_HALF,
) -> PopulationResult:
    """Simulate each country's answer distribution with every method and measure it (resumable).

    ``survey``: a Survey or the path of a WVS-7 file (official or synthetic). ``countries``,
    ``questions``, ``methods``: lists or comma-separated text; ``questions`` takes ids, category
    names, "default" or "all" (see ``targets``). ``model``: a spec ("local", "openai:MODEL", ...)
    or a ChatModel; loaded only when an LLM method is asked for. ``workers``: persona
    distributions requested in parallel. Re-running with the same ``out`` continues the run;
    another seed, persona count, data file or model is refused. Everything that can be
    refused is checked before the run directory is created or touched. ``protocol``:
    "split-half" or "held-out-country" (see ``protocol.py``)."""
    started = time.perf_counter()
    run_dir = rundir.check_out(out)  # empty, a file, not writable: refused before anything is created
    protocol = resolve_protocol(protocol)
    path = None
    if not isinstance(survey, Survey):
        from ..survey.io import load_survey
        from .extra_columns import attach_urban_rural

        path = Path(survey)
        survey = load_survey(path)
        attach_urban_rural(survey, path)  # urban/rural for the demographic personas, when the file has it
    else:
        path = rundir.survey_path(survey)
    if int(personas) < 1:
        raise ConfigError(f"--personas must be at least 1, got {personas}")
    if int(workers) < 1:
        raise ConfigError(f"--concurrency must be at least 1, got {workers}")
    country_list = resolve_countries(countries, survey)
    check_protocol(protocol, survey, country_list)
    method_list = resolve_methods(methods, protocol)
    cb = survey.codebook
    targets = resolve_questions(questions, cb, survey.question_ids)
    calib = resolve_calibration(calibration_questions, targets, cb, survey.question_ids) if calibrate else []

    seen = method_view(survey, protocol, country_list, targets)  # held-out: target answers masked
    scaler = DimensionScaler.fit(seen)
    scores = scaler.scores(seen)
    eligible = scores.notna().any(axis=1)
    splits: dict[str, CountrySplit] = {}
    people: dict[str, list[Persona]] = {}
    for c in country_list:  # sampling the personas: a step before any prediction
        splits[c] = split_country(survey, c, seed)
        drawn = draw_personas(seen, splits[c], personas, seed, eligible)
        people[c] = build_personas(seen, c, drawn, scaler, scores)

    llm = _load_model(model, base_url, workers) if method_list else None  # no LLM method: no model
    source = survey.source or "<in-memory survey>"
    if Path(source).exists():
        source = str(Path(source).resolve())  # the same file, however the path was written
    settings = {"seed": int(seed), "personas": int(personas), "data": rundir.survey_fingerprint(survey, path),
                "model": llm.spec if llm is not None else None, "protocol": protocol}
    info = rundir.provenance(command, "valuesim.population.run_population", source=source, sessions=[])
    with rundir.RunLock(run_dir, command):
        record = rundir.prepare(run_dir, settings, info, merge=_merge, store=DB_FILE,
                                hint="Use another --out, or repeat the original seed, personas, data file and model "
                                     "to resume (countries, methods and questions may be added)")
        for s in record.get("sessions", []):  # a session still "running" was killed
            if s.get("status") == "running":
                s["status"] = "interrupted"
        session = {"started": rundir.now(), "status": "running", "command": command, "countries": country_list,
                   "methods": method_list, "questions": targets, "calibration_questions": calib,
                   "calibrate": bool(calibrate)}
        record.setdefault("sessions", []).append(session)
        rundir.write_run_file(run_dir, record)

        store = PopulationStore(run_dir / DB_FILE)
        acct = (lambda: llm.accounting.as_dict()) if llm is not None else (lambda: None)
        store_session = store.start_session(usage=acct)
        status, new = "failed", 0
        try:
            store.put_personas([
                {"country": p.country, "persona": p.index, "respondent_id": p.respondent_id,
                 "levels": json.dumps(p.levels),
                 "scores": json.dumps({k: (None if math.isnan(v) else v) for k, v in p.scores.items()}),
                 "value_text": p.value_text, "demographic_text": p.demographic_text}
                for c in country_list for p in people[c]])
            source_half = survey.subset([i for c in country_list for i in splits[c].source_ids])
            references = REFERENCES if protocol == SPLIT_HALF else {}  # held-out: computed in evaluate
            new = predict_all(survey, source_half, country_list, method_list, people, targets + calib, targets,
                              llm, store, workers, progress, references)
            preds = store.predictions()
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            wall = time.perf_counter() - started
            session.update({"status": status, "wall_seconds": round(wall, 2), "new_predictions": new,
                            "accounting": acct() or {}})
            rundir.write_run_file(run_dir, record)
            try:
                store.end_session(store_session, status, usage=acct())
            finally:
                store.close()

        preds, scored = protocol_predictions(preds, protocol, survey, scaler, scores, people, targets + calib,
                                             method_list, seed, personas)
        result = evaluate(survey, splits, preds, country_list, scored, targets, calib, calibrate, personas, seen,
                          protocol)
        result.science = science_tables(run_dir, result, survey, splits, preds, country_list, targets, method_list,
                                        seed)
        wall = time.perf_counter() - started
        spec = llm.spec if llm is not None else (record["settings"].get("model") or "none (no LLM method)")
        record.update({"model": spec, "seed": int(seed), "personas": int(personas), "source": source,
                       "countries": country_list, "methods": method_list, "questions": targets,
                       "calibration_questions": calib, "calibrate": bool(calibrate), "scaler": scaler.as_dict(),
                       "protocol": protocol,
                       "split": "per country: seeded shuffle, first ceil(n/2) persona-source, rest evaluation"})
        rundir.write_run_file(run_dir, record)
        result.run_dir, result.model = run_dir, spec
        result.wall_seconds, result.new_predictions, result.accounting = wall, new, acct() or {}
        write_tables(run_dir, result)
        return result


def country_label(code: str) -> str:
    name = country_name(code)
    return code if name == code else f"{name} ({code})"
