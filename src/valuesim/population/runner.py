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
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from .. import __version__
from ..errors import ConfigError, ModelError
from ..survey.model import Kind
from ..survey.survey import Survey
from .aggregate import average_distributions
from .calibration import CalibrationItem, calibrate as calibrate_dist, calibration_loss, fit_temperature
from .countries import country_name
from .dimensions import DimensionScaler
from .metrics import compare, normalise
from .personas import (LLM_METHODS, MARGINAL, NO_PERSONA, UNIFORM, VALUE, Persona,
                       build_personas, no_persona_text, question_messages)
from .protocol import (PROTOCOL_METHODS, SPLIT_HALF, check_protocol, method_view, reference_names, reference_vectors,
                       resolve_protocol)
from .science import protocol_predictions, science_tables
from .sampling import CountrySplit, RealAnswers, draw_personas, split_country
from .store import PopulationStore
from .targets import resolve_calibration, resolve_questions

RUN_FILE, DB_FILE = "run.json", "population.sqlite"
# Settings that fix who the personas are; a run directory cannot be resumed with other values.
FIXED_SETTINGS = ("seed", "personas", "source", "model")


@dataclass
class PopulationResult:
    run_dir: Path
    model: str
    metrics: pd.DataFrame
    distributions: pd.DataFrame
    country_summary: pd.DataFrame
    summary: pd.DataFrame
    temperatures: dict[str, float] = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)  # T per method, fit losses, calibration questions
    wall_seconds: float = 0.0
    new_predictions: int = 0
    accounting: dict = field(default_factory=dict)
    science: dict = field(default_factory=dict)  # noise floor, LLM-prior groups (science.py)

    def text_summary(self) -> str:
        """A plain-text table of the summary (what the CLI prints)."""
        cols = ["method", "calibrated", "wasserstein_score", "js_distance", "total_variation",
                "entropy_deviation", "gap_js", "gap_wasserstein"]
        table = self.summary[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}") \
            if not self.summary.empty else "(no results)"
        temps = ", ".join(f"{m} T={t:.3f}" for m, t in self.temperatures.items())
        return (f"model: {self.model}; {self.new_predictions} new persona distributions; "
                f"wall time {self.wall_seconds:.1f} s\n" + (f"calibration: {temps}\n" if temps else "") + table
                + ("\n" + self.science["text"] if self.science.get("text") else ""))


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


def _model(model: Any, base_url: str | None = None):
    from ..llm import ManagedModel, get_model

    return model if isinstance(model, ManagedModel) else get_model(model, base_url=base_url)


def _check_run_dir(run_dir: Path, settings: dict) -> dict:
    path = run_dir / RUN_FILE
    if not path.exists():
        return {"created": _now(), "valuesim_version": __version__, **settings, "sessions": []}
    record = json.loads(path.read_text())
    for key in FIXED_SETTINGS:
        if key in record and record[key] != settings[key]:
            raise ConfigError(
                f"{run_dir} was made with {key} = {record[key]!r}, not {settings[key]!r}; "
                "use the same settings to continue it, or a new --out directory"
            )
    return record


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class _Task:
    method: str
    country: str
    persona: int
    respondent_id: str
    question: str
    messages: list
    codes: list[str]


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
    or a ChatModel. ``workers``: persona distributions requested in parallel (1 suits the local
    engine; use more for a server). Re-running with the same ``out`` continues the run.
    ``protocol``: "split-half" or "held-out-country" (see ``protocol``)."""
    started = time.perf_counter()
    protocol = resolve_protocol(protocol)
    if not isinstance(survey, Survey):
        from ..survey.io import load_survey
        from .extra_columns import attach_urban_rural

        path = survey
        survey = load_survey(path)
        attach_urban_rural(survey, path)  # urban/rural for the demographic personas, when the file has it
    if int(personas) < 1:
        raise ConfigError("--personas must be at least 1")
    country_list = resolve_countries(countries, survey)
    check_protocol(protocol, survey, country_list)
    method_list = resolve_methods(methods, protocol)
    cb = survey.codebook
    targets = resolve_questions(questions, cb, survey.question_ids)
    calib = resolve_calibration(calibration_questions, targets, cb, survey.question_ids) if calibrate else []
    llm = _model(model, base_url)
    run_dir = Path(out)
    run_dir.mkdir(parents=True, exist_ok=True)
    source = survey.source or "<in-memory survey>"
    if Path(source).exists():
        source = str(Path(source).resolve())  # the same file, however the path was written
    settings = {"seed": int(seed), "personas": int(personas), "source": source, "model": llm.spec, "protocol": protocol}
    record = _check_run_dir(run_dir, settings)

    seen = method_view(survey, protocol, country_list, targets)  # held-out: target answers masked
    scaler = DimensionScaler.fit(seen)
    scores = scaler.scores(seen)
    eligible = scores.notna().any(axis=1)
    splits: dict[str, CountrySplit] = {}
    people: dict[str, list[Persona]] = {}
    for c in country_list:
        splits[c] = split_country(survey, c, seed)
        drawn = draw_personas(seen, splits[c], personas, seed, eligible)
        people[c] = build_personas(seen, c, drawn, scaler, scores)

    store = PopulationStore(run_dir / DB_FILE)
    try:
        store.put_personas([
            {"country": p.country, "persona": p.index, "respondent_id": p.respondent_id,
             "levels": json.dumps(p.levels), "scores": json.dumps({k: (None if math.isnan(v) else v) for k, v in p.scores.items()}),
             "value_text": p.value_text, "demographic_text": p.demographic_text}
            for c in country_list for p in people[c]])
        tasks = _tasks(survey, country_list, method_list, people, targets + calib, store.done_keys())
        new = _execute(llm, tasks, store, workers, progress)
        preds = store.predictions()
    finally:
        store.close()

    preds, scored = protocol_predictions(preds, protocol, survey, scaler, scores, people, targets + calib,
                                         method_list, seed, personas)
    result = evaluate(survey, splits, preds, country_list, scored, targets, calib, calibrate, personas, seen, protocol)
    result.science = science_tables(run_dir, result, survey, splits, preds, country_list, targets, method_list, seed)
    wall = time.perf_counter() - started
    session = {"started": _now(), "wall_seconds": round(wall, 2), "new_predictions": new,
               "accounting": llm.accounting.as_dict(), "command": command, "countries": country_list,
               "methods": method_list, "questions": targets, "calibration_questions": calib,
               "calibrate": bool(calibrate)}
    record.update(settings)
    record.update({"countries": country_list, "methods": method_list, "questions": targets,
                   "calibration_questions": calib, "calibrate": bool(calibrate), "scaler": scaler.as_dict(),
                   "split": "per country: seeded shuffle, first ceil(n/2) persona-source, rest evaluation"})
    record.setdefault("sessions", []).append(session)
    (run_dir / RUN_FILE).write_text(json.dumps(record, indent=2))
    result.run_dir, result.model = run_dir, llm.spec
    result.wall_seconds, result.new_predictions, result.accounting = wall, new, llm.accounting.as_dict()
    _write_tables(run_dir, result)
    return result


def _tasks(survey: Survey, countries: list[str], methods: list[str], people: dict[str, list[Persona]],
           qids: list[str], done: set) -> list[_Task]:
    """Every missing (method, country, persona, question), grouped so one persona's questions
    follow each other (the engine's prefix cache then reuses the persona part)."""
    cb = survey.codebook
    out = []
    for c in countries:
        for m in methods:
            if m == NO_PERSONA:
                units = [(-1, "", no_persona_text(c))]
            else:
                units = [(p.index, p.respondent_id, p.text(m)) for p in people[c]]
            for idx, rid, text in units:
                for q in qids:
                    if (m, c, idx, q) in done:
                        continue
                    question = cb[q]
                    out.append(_Task(m, c, idx, rid, q, question_messages(text, question),
                                     [str(code) for code in question.codes]))
    return out


def _execute(llm, tasks: list[_Task], store: PopulationStore, workers: int, progress: bool) -> int:
    def one(task: _Task):
        t = time.perf_counter()
        try:
            d = llm.option_distribution(task.messages, task.codes)
            return task, d.probs, d.method, False, "", d.seconds or (time.perf_counter() - t), d.cached
        except ModelError as exc:
            return task, {}, "", True, str(exc), time.perf_counter() - t, False

    bar = tqdm(total=len(tasks), desc="population", unit="call", file=sys.stderr, disable=not progress or not tasks)
    n = 0
    try:
        if workers <= 1:
            results = map(one, tasks)
            for res in results:
                _save(store, *res)
                n += 1
                bar.update(1)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for res in pool.map(one, tasks):
                    _save(store, *res)
                    n += 1
                    bar.update(1)
    finally:
        bar.close()
    return n


def _save(store: PopulationStore, task: _Task, probs, dist_method, failed, error, seconds, cached) -> None:
    store.put(task.method, task.country, task.persona, task.question, task.respondent_id, probs, dist_method,
              failed, error, seconds, cached)


def _aggregates(groups: dict, method: str, country: str, qid: str, codes: Sequence[int]):
    rows = groups.get((method, country, qid))
    if rows is None:
        return None, 0, 0
    ok = rows[rows.failed == 0]
    return average_distributions(ok.probs.tolist(), codes), len(ok), int((rows.failed != 0).sum())


def evaluate(survey: Survey, splits: dict[str, CountrySplit], preds: pd.DataFrame, countries: list[str],
             methods: list[str], targets: list[str], calib: list[str], calibrate: bool,
             n_personas: int, seen: Survey | None = None, protocol: str = SPLIT_HALF) -> PopulationResult:
    """Aggregate, calibrate and score every (method, country, target question). ``seen``: the
    survey as the methods see it (``protocol.method_view``); the truth comes from ``survey``."""
    cb = survey.codebook
    preds = preds[preds.persona < n_personas]
    groups = {key: g for key, g in preds.groupby(["method", "country", "question"], sort=False)}
    source = {c: RealAnswers(seen if seen is not None else survey, splits[c].source_ids) for c in countries}
    evaluation = {c: RealAnswers(survey, splits[c].eval_ids) for c in countries}
    sim: dict[tuple, tuple] = {}  # (method, country, qid) -> (vector | None, n_ok, n_failed)
    for m in methods:
        for c in countries:
            for q in targets + calib:
                sim[(m, c, q)] = _aggregates(groups, m, c, q, cb[q].codes)
    sim.update(reference_vectors(protocol, survey, source, countries, targets, cb))

    temperatures: dict[str, float] = {}
    calib_losses: dict[str, dict] = {}
    if calibrate:
        for m in methods:
            items = []
            for c in countries:
                for q in calib:
                    vec = sim[(m, c, q)][0]
                    counts, n = source[c].distribution(q, cb[q].codes)
                    if vec is not None and n:
                        items.append(CalibrationItem(vec, normalise(counts), cb[q].codes, cb[q].kind == Kind.ORDINAL))
            temperatures[m] = fit_temperature(items)
            calib_losses[m] = {"items": len(items),
                               "loss_before": calibration_loss(items, 1.0) if items else None,
                               "loss_after": calibration_loss(items, temperatures[m]) if items else None}

    metric_rows, dist_rows = [], []
    variants = [(m, False) for m in methods] + ([(m, True) for m in methods] if calibrate else [])
    variants += [(r, False) for r in reference_names(protocol)]
    for m, cal in variants:
        for c in countries:
            for q in targets:
                question = cb[q]
                codes = question.codes
                ordinal = question.kind == Kind.ORDINAL
                counts, n_real = evaluation[c].distribution(q, codes)
                vec, n_ok, n_failed = sim[(m, c, q)]
                row = {"method": m, "calibrated": cal, "country": c, "question": q, "kind": question.kind.value,
                       "category": question.category, "n_personas": n_ok, "n_failed": n_failed, "n_real": n_real}
                if vec is not None and cal:
                    vec = calibrate_dist(vec, codes, ordinal, temperatures[m])
                if vec is not None and n_real:
                    real = normalise(counts)
                    row.update(compare(vec, real, codes, ordinal))
                    for k, code in enumerate(codes):
                        dist_rows.append({"method": m, "calibrated": cal, "country": c, "question": q, "code": code,
                                          "label": question.label(code), "simulated": float(vec[k]),
                                          "real": float(real[k])})
                metric_rows.append(row)
    metrics = pd.DataFrame(metric_rows)
    for col in ("wasserstein_score", "js_distance", "total_variation", "entropy_sim", "entropy_real",
                "entropy_deviation", "mean_sim", "mean_real"):
        if col not in metrics.columns:
            metrics[col] = np.nan
    metrics = metrics.astype({c: "float64" for c in ("wasserstein_score", "js_distance", "total_variation",
                                                       "entropy_sim", "entropy_real", "entropy_deviation",
                                                       "mean_sim", "mean_real")})
    distributions = pd.DataFrame(dist_rows)
    country_summary, summary = summarise(metrics)
    return PopulationResult(Path("."), "", metrics, distributions, country_summary, summary, temperatures,
                            {"temperatures": temperatures, "fit": calib_losses, "questions": calib})


def summarise(metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (method, calibrated, country) means, and per (method, calibrated) means plus the
    country gap: best minus worst country on the mean 1 - normalised W1 (ordinal items) and
    worst minus best on the mean Jensen-Shannon distance (all items)."""
    if metrics.empty:
        return pd.DataFrame(), pd.DataFrame()
    keys = ["method", "calibrated"]
    m = metrics.assign(abs_entropy_deviation=metrics.entropy_deviation.abs())
    agg = dict(wasserstein_score=("wasserstein_score", "mean"), js_distance=("js_distance", "mean"),
               total_variation=("total_variation", "mean"), entropy_deviation=("entropy_deviation", "mean"),
               abs_entropy_deviation=("abs_entropy_deviation", "mean"), questions=("js_distance", "count"))
    per_country = m.groupby(keys + ["country"], sort=False).agg(**agg).reset_index()
    rows = []
    for (method, cal), g in per_country.groupby(keys, sort=False):
        q = m[(m.method == method) & (m.calibrated == cal)]
        w = g.dropna(subset=["wasserstein_score"])
        j = g.dropna(subset=["js_distance"])
        rows.append({
            "method": method, "calibrated": cal,
            "wasserstein_score": q.wasserstein_score.mean(), "js_distance": q.js_distance.mean(),
            "total_variation": q.total_variation.mean(), "entropy_deviation": q.entropy_deviation.mean(),
            "abs_entropy_deviation": q.abs_entropy_deviation.mean(),
            "gap_wasserstein": (w.wasserstein_score.max() - w.wasserstein_score.min()) if len(w) else np.nan,
            "gap_js": (j.js_distance.max() - j.js_distance.min()) if len(j) else np.nan,
            "best_country": j.loc[j.js_distance.idxmin(), "country"] if len(j) else "",
            "worst_country": j.loc[j.js_distance.idxmax(), "country"] if len(j) else "",
            "pairs": int(q.js_distance.count()),
        })
    return per_country, pd.DataFrame(rows)


def _write_tables(run_dir: Path, result: PopulationResult) -> None:
    result.metrics.to_csv(run_dir / "metrics.csv", index=False)
    result.distributions.to_csv(run_dir / "distributions.csv", index=False)
    result.country_summary.to_csv(run_dir / "country_summary.csv", index=False)
    result.summary.to_csv(run_dir / "summary.csv", index=False)
    (run_dir / "calibration.json").write_text(json.dumps(result.calibration, indent=2))


def country_label(code: str) -> str:
    name = country_name(code)
    return code if name == code else f"{name} ({code})"
