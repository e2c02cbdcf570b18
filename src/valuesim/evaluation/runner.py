"""Run a study: method × user × fold × target item, resumable, every prediction saved.

    result = run_study("wvs.csv", methods=["country-marginal", "knn"], users=100, folds=5,
                       out="runs/stat")
    config = StudyConfig(methods=("knn",), users=100, out="runs/stat")   # the same, as one value
    result = run_study("wvs.csv", config)
    print(result.summary())

Everything the user can get wrong (methods, users, folds, items, curve, split, model) is
checked before the run directory is created or touched. The individual protocol
(``evaluation.work``) turns the split into work items; the one runner (``runs.runner``) plans
them, skips what is stored, fits statistical methods on the survey *without* the evaluated
users and executes. The store commits in batches; Ctrl-C loses nothing, a kill at most the last
half second; re-running the same call continues from there. One process at a time works in a
run directory (``runs.rundir.RunLock``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError
from ..llm import Model, ModelAPI, as_model
from ..methods.base import ModelUser, Simulator
from ..runs import rundir
from ..runs.rundir import RunDir
from ..methods.base import Fittable
from ..runs.runner import StudyMethod
from ..survey.survey import COUNTRY, WEIGHT, Survey
from .crossfit import fit_plan
from .protocol import DEFAULT_CURVE_SIZES, Split, check_protocol, make_split
from .work import IndividualProtocol


@dataclass(frozen=True)
class StudyConfig:
    """Every setting of an individual study, with the one set of defaults the CLI and the Python
    API share. ``methods``: registry names (or Simulator objects); ``model``: a spec or a model,
    needed only by LLM methods; ``concurrency`` None: the backend's own default."""

    methods: tuple = ("country-marginal", "knn", "regression")
    users: Any = 100  # a number, "all", or a list of respondent ids
    folds: int = 5
    model: Any = None
    out: Any = "runs/study"
    curve: bool = False
    seed: int = 0
    concurrency: int | None = None
    items: Any = None
    stratify: str | None = None
    curve_sizes: tuple = tuple(DEFAULT_CURVE_SIZES)
    curve_methods: tuple | None = None
    split: Any = None  # a Split or the path of a split.json
    method_options: Any = None  # {method: {option: value}}
    run_folds: int | None = None
    profile_items: Any = None
    fit_groups: int | None = None
    force: bool = False
    progress: bool = True
    verbose: bool = False  # a line for every stage of an LLM method (without it: only for slow stages)
    base_url: Any = None
    command: str | None = None
    prices: Any = None  # dollars per million tokens for the run's accounting ("P,C[,CACHED]"; default $VALUESIM_PRICES)

    def __post_init__(self):  # lists given by a caller become tuples: the config is a value
        for name in ("methods", "curve_sizes", "curve_methods"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, tuple):
                object.__setattr__(self, name, tuple(v))
        if isinstance(self.users, list):
            object.__setattr__(self, "users", tuple(self.users))

    def replace(self, **changes) -> "StudyConfig":
        return dataclasses.replace(self, **changes)


def study_config(config: "StudyConfig | Sequence | None" = None, **settings) -> StudyConfig:
    """A StudyConfig from a config, keyword settings, or both (settings override)."""
    if config is None:
        return StudyConfig(**settings)
    if not isinstance(config, StudyConfig):  # methods given positionally, as run_study always took them
        return StudyConfig(methods=config, **settings)
    return config.replace(**settings) if settings else config


@dataclass
class RunResult:
    run_dir: Path
    predictions: int  # rows in the store (this and earlier sessions)
    new: int  # written by this call
    resumed: int  # already done when this call started
    failures: int  # failed rows in the store
    seconds: float
    usage: dict | None = None  # LLM accounting of this call (None: no LLM method)
    methods: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> "pd.DataFrame":  # noqa: F821
        """The run's metrics per method (``RunDir.metrics()``: the report's Overall figures, 95% CIs)."""
        return RunDir(self.run_dir).metrics()

    def summary(self) -> str:
        lines = [
            f"run: {self.run_dir}",
            f"predictions: {self.predictions} stored ({self.new} written by this session, {self.resumed} were "
            f"stored before; {self.failures} failed, retried on the next run) in {self.seconds:.1f} s",
        ]
        if self.usage is not None:
            u = self.usage
            lines.append(
                f"LLM usage: {u['calls']} calls ({u.get('requests', 0)} HTTP requests, retries included), "
                f"{u['cache_hits']} cache hits, {u['failures']} failed calls; "
                f"tokens {u['prompt_tokens']} prompt ({u['cached_tokens']} prefix-cached), "
                f"{u['completion_tokens']} completion; {u['wall_seconds']:.1f} s wall, "
                f"{u['model_seconds']:.1f} s in model calls"
                + (f"; cost ${u['cost_usd']:.4f}" if u.get("cost_usd") is not None else "")
            )
        else:
            lines.append("LLM usage: none (statistical methods only)")
        run = RunDir(self.run_dir)
        if run.has_split():
            lines.append(Split.from_json(run.split_json()).sizes())
        lines.append(f"report: valuesim report {self.run_dir}")
        return "\n".join(lines)


def resolve_methods(methods: Sequence, method_options: dict | None) -> list[StudyMethod]:
    """Registry names (or Simulator objects) -> StudyMethods; unknown names are one ConfigError."""
    from ..methods.options import check_method_options
    from ..methods.persona import PERSONA_METHODS
    from ..methods.registry import method_info

    method_options = check_method_options([m.strip() for m in methods if isinstance(m, str)], method_options)
    out: list[StudyMethod] = []
    for m in methods:
        if isinstance(m, str):
            name = m.strip()
            info = method_info(name)
            if name in PERSONA_METHODS:
                raise ConfigError(f"{name} simulates personas of a population: use `valuesim population ... "
                                  f"--method {name}`")
            out.append(StudyMethod(name, info.needs_llm, None, dict(method_options.get(name, {}))))
        else:  # a Simulator object (tests, notebooks)
            if not isinstance(m, Simulator) or not m.name:
                raise ConfigError(f"method object {m!r} is not a simulator with a name")
            out.append(StudyMethod(str(m.name), isinstance(m, ModelUser), m))
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"a method is listed twice: {', '.join(names)}")
    if not out:
        raise ConfigError("no methods given")
    return out


def run_study(survey: "Survey | str | Path", config: "StudyConfig | Sequence | None" = None, /,
              **settings) -> RunResult:
    """Evaluate the config's methods on a seeded sample of users with folds-fold CV over items.

    ``survey``: a Survey or a path to a survey file. ``config``: a StudyConfig; or give its
    fields as keywords (``run_study(survey, methods=[...], users=100, out="runs/x")``). The run
    directory ``out``: calling again with the same settings resumes, with other settings it
    refuses unless ``force`` (which discards the old run). ``split``: a Split or split.json to
    repeat an earlier study exactly. Failed predictions are stored, and retried next time.
    (A thin name over the one study function, ``runs.study.run``.)
    """
    from ..runs import study

    return study.run(survey, IndividualStudy(), study_config(config, **settings))


class IndividualStudy:
    """The individual protocol as a whole object for ``runs.study``: users × folds × profile
    sizes, scored against each user's own answers (``evaluation.report``)."""

    kind = "individual"
    api = "valuesim.evaluation.run_study"
    hint = rundir.STUDY_HINT

    def load(self, survey, cfg: StudyConfig) -> Survey:
        check_protocol(cfg.users if not isinstance(cfg.users, tuple) else 1, cfg.folds, cfg.run_folds, cfg.fit_groups)
        survey, self.path = _load(survey)
        return survey

    def plan(self, survey: Survey, cfg: StudyConfig) -> "StudyPlan":
        return plan_study(survey, cfg)

    def model(self, plan: "StudyPlan", cfg: StudyConfig):
        if not plan.llm_methods:
            return None
        if cfg.model is None:
            raise ConfigError(f"methods {', '.join(plan.llm_methods)} need a model (--model SPEC)")
        model = cfg.model
        if isinstance(model, str):
            from ..llm import get_model

            return get_model(model, base_url=cfg.base_url, concurrency=max(1, plan.concurrency),
                             **({"prices": cfg.prices} if cfg.prices else {}))
        return as_model(model) if isinstance(model, ModelAPI) else model  # a backend gets its Model once, here

    def record(self, plan: "StudyPlan", model, cfg: StudyConfig) -> tuple[dict, dict]:
        return study_settings(plan, model, cfg, self.path), rundir.provenance(
            cfg.command, self.api, model_label=rundir.model_label(model),
            methods={m.name: {"needs_llm": m.needs_llm} for m in plan.methods}, concurrency=plan.concurrency,
            failure_policy="failed predictions are stored, retried on resume, and left out of accuracy/MAE "
                           "(the report shows how many there are per method)")

    def begin(self, run: RunDir, plan: "StudyPlan", record: dict):
        if run.has_split():  # a resumed run keeps its split
            plan.split = Split.from_json(run.split_json())
            plan.split.check(plan.survey)
        else:
            run.write_split(plan.split.to_json())
        return plan.protocol(plan.survey, plan.curve_methods), plan.methods

    def stage(self, store, plan: "StudyPlan") -> None:
        store.add_questions(plan.survey.codebook[q] for q in plan.split.items)
        people = plan.survey.data.loc[list(plan.split.users), [COUNTRY, WEIGHT]]  # for survey-weighted scores
        store.add_respondents(zip(people.index, people[COUNTRY], people[WEIGHT]))

    def finish(self, run: RunDir, plan: "StudyPlan", record: dict, done) -> RunResult:
        return RunResult(run.path, done.stored, done.runner.new, done.resumed, done.failed, done.seconds,
                         done.session.usage, [m.name for m in plan.methods])

    def report(self, run: RunDir, **options) -> dict:
        from .report import write_report

        return write_report(run, **options)

    def estimate(self, survey: Survey, cfg: StudyConfig, **options):
        from .estimate import estimate_study

        return estimate_study(survey, cfg, **options)


def study_settings(plan: "StudyPlan", model, cfg: StudyConfig, path: Path | None) -> dict:
    """What fixes an individual study's results (run.json ``settings``; compared on resume)."""
    split = plan.split if cfg.split is not None else None
    listed = lambda v: v if v is None or isinstance(v, str) else list(v)  # noqa: E731
    return {
        "methods": [m.name for m in plan.methods],
        "method_options": {m.name: m.options for m in plan.methods if m.options},
        "users": cfg.users if isinstance(cfg.users, (int, str)) else sorted(map(str, cfg.users)),
        "folds": cfg.folds,
        "seed": cfg.seed,
        "items": listed(cfg.items),
        "stratify": cfg.stratify,
        **({"run_folds": cfg.run_folds, "profile_items": listed(cfg.profile_items), "fit_groups": cfg.fit_groups}
           if (cfg.run_folds, cfg.profile_items, cfg.fit_groups) != (None, None, None) else {}),  # old runs resume
        "curve": bool(cfg.curve),
        "curve_sizes": plan.curve_sizes if cfg.curve else None,
        "curve_methods": list(cfg.curve_methods) if cfg.curve and cfg.curve_methods is not None else None,
        "model": model.spec if isinstance(model, Model) else None,  # (a test's stand-in has no spec)
        "data": rundir.survey_fingerprint(plan.survey, path),
        "split": hashlib.sha256(json.dumps(split.to_json(), sort_keys=True).encode()).hexdigest() if split else None,
    }


def _load(survey) -> tuple[Survey, Path | None]:
    if isinstance(survey, Survey):
        return survey, rundir.survey_path(survey)
    from ..survey.io import load_survey

    return load_survey(Path(survey)), Path(survey)


@dataclass
class StudyPlan:
    """What a config asks of a survey, checked: the methods, the split, the concurrency. The run
    and the estimate both start here."""

    methods: list[StudyMethod]
    split: Split
    curve_sizes: list[int]
    concurrency: int
    survey: Survey | None = None
    curve_methods: tuple | None = None

    @property
    def llm_methods(self) -> list[str]:
        return [m.name for m in self.methods if m.needs_llm]

    @property
    def session(self) -> dict:
        """What run.json's entry of a session of this plan records."""
        return {"methods": [m.name for m in self.methods]}

    def protocol(self, survey: Survey, curve_methods=None) -> IndividualProtocol:
        return IndividualProtocol(survey, self.split, None if curve_methods is None else set(curve_methods))


def plan_study(survey: Survey, cfg: StudyConfig, run: RunDir | None = None) -> StudyPlan:
    """Everything that can be refused, before a run directory is touched. ``run``: an existing
    run whose split is kept (the estimate of a resumed run)."""
    resolved = resolve_methods(cfg.methods, cfg.method_options)
    if cfg.curve_methods is not None:
        unknown = set(cfg.curve_methods) - {m.name for m in resolved}
        if unknown:
            raise ConfigError(f"curve methods {', '.join(sorted(unknown))} are not among the methods of this run")
    curve_sizes = sorted(int(s) for s in cfg.curve_sizes)
    if cfg.curve and any(s < 0 for s in curve_sizes):
        raise ConfigError(f"--curve-sizes must be 0 or more, got {curve_sizes}")
    concurrency = cfg.concurrency
    if concurrency is None:  # the backend's own default: 8 in flight for a server, 1 for the embedded engine
        from ..llm import default_concurrency

        concurrency = default_concurrency(cfg.model)
    from ..llm import concurrency_limit

    concurrency = concurrency_limit(concurrency)  # at least 1, capped (and a high value warned)
    split = cfg.split
    if run is not None and run.has_split():
        split = Split.from_json(run.split_json())  # a resumed run keeps its split
    elif isinstance(split, (str, Path)):
        split = Split.load(split)
    if split is not None:
        split.check(survey)
    else:
        users = list(cfg.users) if isinstance(cfg.users, tuple) else cfg.users
        split = make_split(survey, users, cfg.folds, seed=cfg.seed, items=cfg.items, stratify=cfg.stratify,
                           curve=cfg.curve, curve_sizes=curve_sizes, run_folds=cfg.run_folds,
                           profile_items=cfg.profile_items, fit_groups=cfg.fit_groups)
    for m in resolved:  # statistical methods are cheap to build: a bad option is refused here
        if not m.needs_llm and isinstance(m.build(None), Fittable):
            fit_plan(survey, split)  # e.g. every respondent evaluated and nobody left to fit on
    return StudyPlan(resolved, split, curve_sizes, int(concurrency), survey, cfg.curve_methods)
