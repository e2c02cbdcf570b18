"""``run_population``: simulate countries' answer distributions and compare them with real ones.

    from valuesim.population import PopulationConfig, run_population, write_population_report
    result = run_population(survey, ["DEU", "NGA"], personas=100, methods=["value-persona", "demographic"],
                            model="local", out="runs/pop", calibrate=True, seed=0)
    result = run_population(survey, PopulationConfig(countries=("DEU",), out="runs/pop"))  # the same, as a value
    print(result.summary)
    write_population_report("runs/pop")

One run directory (``runs.rundir.RunDir``) holds ``run.json`` (what produced it, every
session's wall time), the store (every persona distribution, the references' and the
value-twin's, in the one predictions schema; re-running skips what is stored) and, in its
``report/`` folder, the result tables ``metrics.csv``, ``distributions.csv``,
``country_summary.csv``, ``summary.csv``, ``calibration.json``, computed from the store by
``score.score`` (as ``valuesim report RUN`` does). The population protocol
(``work.py``) turns countries × personas × questions into work items for the one runner.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError
from ..runs import rundir
from ..runs.rundir import RunDir
from ..runs.runner import StudyMethod
from ..survey.model import natural_key
from ..survey.survey import COUNTRY, Survey
from .dimensions import DimensionScaler, descriptor_items
from .personas import LLM_METHODS, MARGINAL, UNIFORM, VALUE, Persona, build_personas
from .protocol import HELD_OUT, PROTOCOL_METHODS, SPLIT_HALF, TWIN, check_protocol, method_view, resolve_protocol
from .sampling import CountrySplit, check_weights, draw_personas, split_country
from .score import score, write_results
from .scoring import PopulationResult, evaluate, summarise, write_tables  # noqa: F401  (part of this API)
from .targets import resolve_calibration, resolve_questions
from .twin import twin_levels
from .work import PROTOCOL_REFERENCES, PopulationProtocol, persona_methods, reference_methods


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
        if n in (MARGINAL, UNIFORM, TWIN, *PROTOCOL_METHODS[protocol]):
            continue  # references (and the statistical twin, see ``wants_twin``) need no model
        if n not in LLM_METHODS:
            raise ConfigError(f"unknown population method {n!r}; use {', '.join(LLM_METHODS + (TWIN,))} "
                              f"(the references {MARGINAL} and {UNIFORM} are always included)")
        if n not in out:
            out.append(n)
    return out


def wants_twin(methods: "str | Iterable[str] | None", protocol: str) -> bool:
    """The statistical twin of value personas runs under held-out-country, or when named."""
    return protocol == HELD_OUT or TWIN in _listify(methods)


def resolve_countries(countries: "str | Iterable[str]", survey: Survey) -> list[str]:
    names = _listify(countries)
    present = set(map(str, survey.countries))
    if not names:
        raise ConfigError(f"name at least one country (--countries); the file has: {', '.join(sorted(present))}")
    from ..survey.countries import alpha3_for

    # the file's codes are alpha-3 once loaded; DE, 276 or Germany name the same country
    names = [c if c in present else (alpha3_for(c) or c) for c in names]
    missing = [c for c in names if c not in present]
    if missing:
        said = f"country {missing[0]} is" if len(missing) == 1 else f"countries {', '.join(missing)} are"
        raise ConfigError(f"{said} not in {survey.source or 'the survey'}; it has: {', '.join(sorted(present))}")
    return list(dict.fromkeys(names))


def _load_model(model: Any, base_url: str | None, workers: int, prices=None):
    from ..llm import Model, get_model

    if isinstance(model, Model):
        return model
    return get_model(model, base_url=base_url, concurrency=workers, **({"prices": prices} if prices else {}))


@dataclass(frozen=True)
class PopulationConfig:
    """Every setting of a population study, with the one set of defaults the CLI and the Python
    API share. ``countries``, ``questions``, ``methods``: lists or comma-separated text;
    ``method_options``: {method: {option: value}} (``--option``); ``workers`` None: the
    backend's own concurrency (as the CLI's ``--concurrency``)."""

    countries: Any = ()
    personas: int = 100
    questions: Any = None
    methods: Any = (VALUE,)
    model: Any = "local"
    out: Any = "runs/population"
    calibrate: bool = False
    seed: int = 0
    calibration_questions: Any = None
    workers: int | None = None
    progress: bool = True
    verbose: bool = False  # a line for every persona question (without it: only for slow ones)
    command: str = ""
    base_url: Any = None
    protocol: str = SPLIT_HALF
    method_options: Any = None
    prices: Any = None

    def replace(self, **changes) -> "PopulationConfig":
        return dataclasses.replace(self, **changes)


def population_config(config: "PopulationConfig | None" = None, **settings) -> PopulationConfig:
    if config is None:
        return PopulationConfig(**settings)
    return config.replace(**settings) if settings else config


@dataclass
class PopulationPlan:
    """What a config asks of a survey, checked and drawn: the run and the estimate start here."""

    protocol_name: str
    countries: list[str]
    methods: list[str]
    method_options: dict
    targets: list[str]
    calib: list[str]
    seen: Survey  # the survey as the methods see it (held-out-country: target answers masked)
    scaler: DimensionScaler
    scores: Any
    splits: dict[str, CountrySplit]
    people: dict[str, list[Persona]]
    twin: bool = False  # the statistical twin of value personas runs too
    survey: Survey | None = None  # the survey itself (unmasked)
    calibrate: bool = False
    concurrency: int = 1

    @property
    def session(self) -> dict:
        """What run.json's entry of a session of this plan records."""
        out = {"countries": self.countries, "methods": self.methods, "questions": self.targets,
               "calibration_questions": self.calib, "calibrate": self.calibrate}
        return {**out, "method_options": self.method_options} if self.method_options else out

    @property
    def scored(self) -> list[str]:
        """The methods the tables score besides the references: the LLM methods and the twin."""
        return self.methods + ([TWIN] if self.twin else [])

    def protocol(self, survey: Survey) -> PopulationProtocol:
        source = survey.subset([i for c in self.countries for i in self.splits[c].source_ids])
        return PopulationProtocol(survey, self.countries, self.people, self.targets + self.calib, self.targets, source)

    def study_methods(self):
        methods = persona_methods(self.methods, self.method_options)
        methods += reference_methods(PROTOCOL_REFERENCES[self.protocol_name])
        if self.twin:
            levels = twin_levels(self.scaler, self.scores, self.people)
            methods.append(StudyMethod(TWIN, False, None, {"levels": levels, "n_levels": self.scaler.levels}))
        return methods


def load_population_survey(survey: "Survey | str | Path") -> tuple[Survey, Path | None]:
    if isinstance(survey, Survey):
        return survey, rundir.survey_path(survey)
    from ..survey.io import load_survey

    path = Path(survey)
    return load_survey(path), path


def plan_population(survey: Survey, cfg: PopulationConfig) -> PopulationPlan:
    """Everything that can be refused (before a run directory is touched), then the personas."""
    from ..methods.options import check_method_options

    protocol = resolve_protocol(cfg.protocol)
    if int(cfg.personas) < 1:
        raise ConfigError(f"--personas must be at least 1, got {cfg.personas}")
    if cfg.workers is not None and int(cfg.workers) < 1:
        raise ConfigError(f"--concurrency must be at least 1, got {cfg.workers}")
    country_list = resolve_countries(cfg.countries, survey)
    check_protocol(protocol, survey, country_list)
    method_list = resolve_methods(cfg.methods, protocol)
    twin = wants_twin(cfg.methods, protocol)
    if twin and protocol != HELD_OUT:
        check_protocol(HELD_OUT, survey, country_list)  # the twin is fitted on the other countries too
    options = check_method_options(method_list, cfg.method_options) if cfg.method_options else {}
    cb = survey.codebook
    targets = resolve_questions(cfg.questions, cb, survey.question_ids)
    calib = (resolve_calibration(cfg.calibration_questions, targets, cb, survey.question_ids)
             if cfg.calibrate else [])
    if cfg.calibrate and not calib:  # calibrating on nothing would report T=1 as "calibrated"
        raise ConfigError(f"--calibrate needs questions that are not evaluated, and every usable item of "
                          f"{survey.source or 'the survey'} is a target ({', '.join(targets)}); name fewer "
                          "--questions, or drop --calibrate")
    targets = _answered_targets(survey, country_list, targets, cfg.questions)
    seen = method_view(survey, protocol, country_list, targets)  # held-out: target answers masked
    check_weights(survey)
    scaler = DimensionScaler.fit(seen)
    scores = scaler.scores(seen)
    eligible = _persona_pool(survey, scores, method_list, twin)
    splits: dict[str, CountrySplit] = {}
    people: dict[str, list[Persona]] = {}
    for c in country_list:  # sampling the personas: a step before any prediction
        splits[c] = split_country(survey, c, cfg.seed)
        drawn = draw_personas(seen, splits[c], cfg.personas, cfg.seed, eligible)
        people[c] = build_personas(seen, c, drawn, scaler, scores)
    return PopulationPlan(protocol, country_list, method_list, dict(options or {}), targets, calib, seen, scaler,
                          scores, splits, people, twin)


HINT = ("Use another --out, or repeat the original seed, personas, data file and model to resume (countries, "
        "methods and questions may be added)")


def run_population(survey: "Survey | str | Path", config: "PopulationConfig | str | Iterable[str] | None" = None,
                   /, **settings) -> PopulationResult:
    """Simulate each country's answer distribution with every method and measure it (resumable).

    ``survey``: a Survey or the path of a survey file (official or synthetic). ``config``: a
    PopulationConfig, or the countries (as always), with the other settings as keywords.
    ``questions`` takes ids, category names, "default" or "all" (see ``targets``). ``model``: a
    spec ("local", "openai:MODEL", ...) or a model; loaded only when an LLM method is asked for.
    ``workers``: persona distributions requested in parallel (default: the backend's own).
    Re-running with the same ``out`` continues the run; another seed, persona count, data file
    or model is refused. Everything that can be refused is checked before the run directory is
    created or touched. ``protocol``: "split-half" or "held-out-country" (see ``protocol.py``).
    (A thin name over the one study function, ``runs.study.run``.)"""
    from ..runs import study

    if config is not None and not isinstance(config, PopulationConfig):
        settings["countries"] = config
        config = None
    return study.run(survey, PopulationStudy(), population_config(config, **settings))


class PopulationStudy:
    """The population protocol as a whole object for ``runs.study``: countries × personas ×
    questions, scored from the store against the real answers (``score.py``)."""

    kind = "population"
    api = "valuesim.population.run_population"
    hint = HINT

    def load(self, survey, cfg: PopulationConfig) -> Survey:
        survey, self.path = load_population_survey(survey)
        return survey

    def plan(self, survey: Survey, cfg: PopulationConfig) -> PopulationPlan:
        plan = plan_population(survey, cfg)
        plan.survey, plan.calibrate = survey, bool(cfg.calibrate)
        from ..llm import concurrency_limit, default_concurrency

        workers = default_concurrency(cfg.model) if cfg.workers is None else cfg.workers
        plan.concurrency = concurrency_limit(workers)  # capped (and a high value warned), as eval's
        return plan

    def model(self, plan: PopulationPlan, cfg: PopulationConfig):
        return _load_model(cfg.model, cfg.base_url, plan.concurrency, cfg.prices) if plan.methods else None

    def record(self, plan: PopulationPlan, model, cfg: PopulationConfig) -> tuple[dict, dict]:
        settings = {"seed": int(cfg.seed), "personas": int(cfg.personas),
                    "data": rundir.survey_fingerprint(plan.survey, self.path),
                    "model": model.spec if model is not None else None, "protocol": plan.protocol_name}
        if plan.method_options:
            settings["method_options"] = plan.method_options
        return settings, rundir.provenance(cfg.command, self.api, source=_source(plan.survey),
                                           methods={m: {"needs_llm": True} for m in plan.methods})

    def begin(self, run: RunDir, plan: PopulationPlan, record: dict):
        return plan.protocol(plan.survey), plan.study_methods()

    def stage(self, store, plan: PopulationPlan) -> None:
        store.add_questions(plan.survey.codebook[q] for q in plan.targets + plan.calib)
        store.add_personas([
            {"country": p.country, "persona": p.index, "respondent_id": p.respondent_id,
             "levels": json.dumps(p.levels),
             "scores": json.dumps({k: (None if math.isnan(v) else v) for k, v in p.scores.items()}),
             "value_text": p.value_text, "demographic_text": p.demographic_text}
            for c in plan.countries for p in plan.people[c]])

    def finish(self, run: RunDir, plan: PopulationPlan, record: dict, done) -> PopulationResult:
        """Record what this session scores, then score it from the store and write the tables."""
        model = done.session.model
        spec = model.spec if model is not None else (record["settings"].get("model") or "none (no LLM method)")
        record.update({"model": spec, "seed": record["settings"]["seed"], "personas": record["settings"]["personas"],
                       "source": _source(plan.survey), "countries": plan.countries,
                       "methods": {m: {"needs_llm": True} for m in plan.methods}, "twin": plan.twin,
                       "questions": plan.targets, "calibration_questions": plan.calib, "calibrate": plan.calibrate,
                       "scaler": plan.scaler.as_dict(), "protocol": plan.protocol_name,
                       "split": "per country: seeded shuffle, first ceil(n/2) persona-source, rest evaluation"})
        run.write_info(record)
        result = score(run, plan.survey)  # from the store, as `valuesim report RUN` computes it
        result.wall_seconds, result.new_predictions = done.seconds, done.runner.new
        result.accounting = done.session.usage_now() or {}
        write_results(run, result)
        return result

    def report(self, run: RunDir, questions=None, survey=None, **_) -> dict:
        from .report import write_population_report

        return write_population_report(run, questions=questions, survey=survey)

    def estimate(self, survey: Survey, cfg: PopulationConfig, **options):
        from .estimate import estimate_population

        return estimate_population(survey, cfg, **options)


def _source(survey: Survey) -> str:
    source = survey.source or "<in-memory survey>"
    return str(Path(source).resolve()) if Path(source).exists() else source  # the same file, however written


def population_predictions(run: RunDir):
    """The run's stored predictions with each distribution as a dict (what scoring averages)."""
    preds = run.predictions()
    preds["distribution"] = preds["distribution"].map(json.loads)
    return preds


def _answered_targets(survey: Survey, countries: list[str], targets: list[str], asked) -> list[str]:
    """The default targets the evaluated countries answered; a default item nobody answered
    there (not asked, or absent from the file) is skipped with a note. Named items are kept."""
    if _listify(asked) not in ([], ["default"]):
        return targets
    rows = survey.data[COUNTRY].astype(str).isin(countries)
    answered = survey.valid(targets)[rows.to_numpy()].notna().any()
    empty = [q for q in targets if not answered[q]]
    if empty and len(empty) < len(targets):
        print(f"valuesim: note: default target{'s' if len(empty) > 1 else ''} {', '.join(empty)} skipped: no "
              f"answers in {', '.join(countries)} (not asked there)", file=sys.stderr)
        return [q for q in targets if q not in empty]
    if empty:
        raise ConfigError(f"none of the default target questions ({', '.join(targets)}) has answers in "
                          f"{', '.join(countries)}; name targets with --questions")
    return targets


def _persona_pool(survey: Survey, scores, methods: list[str], twin: bool):
    """Who may be drawn as a persona: respondents with a value-dimension position; on a file
    without the value-dimension items, everyone (value personas then cannot run: one line
    naming the missing items, or how to name a codebook's dimensions, and what can still run)."""
    eligible = scores.notna().any(axis=1)
    if eligible.any():
        return eligible
    value_based = [m for m in methods if m == VALUE] + ([TWIN] if twin else [])
    if not value_based:
        return None  # demographic / no-persona personas need no value position
    cb = survey.codebook
    if not cb.dimensions:
        why = (f"{' and '.join(value_based)}: personas are placed on value dimensions, and codebook "
               f"{cb.short or cb.name} names none; add them to it as `dimensions: {{NAME: [ITEM, ...]}}` (items "
               "whose higher code is a higher position; `reverse:`, `low:`/`high:` words and `min_items:` "
               "optional, see the README); or ")
    else:
        items = descriptor_items(cb)
        missing = sorted(items - set(survey.question_ids), key=natural_key)
        why = (f"{survey.source or 'the survey'} has no answers to the value-dimension items personas are placed "
               f"with ({', '.join(missing) if missing else 'all present but unanswered'}), so "
               f"{' and '.join(value_based)} cannot run; without them, ")
    others = [m for m in LLM_METHODS if m != VALUE]
    raise ConfigError(f"{why}run --method {','.join(others)} (--protocol split-half)")
