"""Run a study: method × user × fold × target item, resumable, every prediction saved.

    result = run_study("wvs.csv", methods=["country-marginal", "knn"], users=100, folds=5,
                       out="runs/stat")
    print(result.summary())

Everything the user can get wrong (methods, users, folds, items, curve, split, model) is
checked before the run directory is created or touched. Statistical methods are fitted once
on the survey *without* the evaluated users and predict in batches; LLM methods predict one
item at a time with ``concurrency`` in flight (``evaluation.work``). The store commits in
batches; Ctrl-C loses nothing, a kill at most the last half second; re-running the same call
continues from there. One process at a time works in a run directory (``runs.rundir.RunLock``).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import ConfigError
from ..runs import rundir
from ..runs.store import PredictionStore
from ..survey.survey import Survey
from .crossfit import fit_plan
from .protocol import DEFAULT_CURVE_SIZES, Split, check_protocol, make_split
from .work import StudyMethod, StudyWork

RUN_FILE, SPLIT_FILE, DB_FILE = rundir.RUN_FILE, "split.json", "predictions.sqlite"


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

    def summary(self) -> str:
        lines = [
            f"run: {self.run_dir}",
            f"predictions: {self.predictions} stored ({self.new} written by this session, {self.resumed} were "
            f"stored before; {self.failures} failed, retried on the next run) in {self.seconds:.1f} s",
        ]
        if self.usage is not None:
            u = self.usage
            lines.append(
                f"LLM usage: {u['calls']} calls, {u['cache_hits']} cache hits, {u['failures']} failed calls; "
                f"tokens {u['prompt_tokens']} prompt ({u['cached_tokens']} prefix-cached), "
                f"{u['completion_tokens']} completion; {u['wall_seconds']:.1f} s wall, "
                f"{u['model_seconds']:.1f} s in model calls"
                + (f"; cost ${u['cost_usd']:.4f}" if u.get("cost_usd") is not None else "")
            )
        else:
            lines.append("LLM usage: none (statistical methods only)")
        if (self.run_dir / SPLIT_FILE).exists():
            lines.append(Split.load(self.run_dir / SPLIT_FILE).sizes())
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
            name = getattr(m, "name", None)
            if not name:
                raise ConfigError(f"method object {m!r} has no name")
            out.append(StudyMethod(str(name), bool(getattr(m, "needs_llm", False)), m))
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"a method is listed twice: {', '.join(names)}")
    if not out:
        raise ConfigError("no methods given")
    return out


def run_study(
    survey: "Survey | str | Path",
    methods: Sequence = ("country-marginal", "knn", "regression"),
    users: int | list[str] = 100,
    folds: int = 5,
    model=None,
    out: "str | Path" = "runs/study",
    curve: bool = False,
    seed: int = 0,
    concurrency: int | None = None,
    items: Iterable[str] | str | None = None,
    stratify: str | None = None,
    curve_sizes: Iterable[int] = DEFAULT_CURVE_SIZES,
    curve_methods: Sequence[str] | None = None,
    split: "Split | str | Path | None" = None,
    method_options: dict | None = None,
    run_folds: int | None = None,
    profile_items: Iterable[str] | str | None = None,
    fit_groups: int | None = None,
    force: bool = False,
    progress: bool = True,
    base_url: str | None = None,
    command: str | None = None,
) -> RunResult:
    """Evaluate ``methods`` on a seeded sample of ``users`` with ``folds``-fold CV over items.

    ``survey``: a Survey or a path to a WVS-7 file. ``methods``: registry names (or Simulator
    objects). ``model``: a model spec or ChatModel, needed only by LLM methods. ``out``: the
    run directory; calling again with the same settings resumes, with other settings it
    refuses unless ``force`` (which discards the old run). ``split``: a Split or split.json to
    repeat an earlier study exactly. Failed predictions are stored, and retried next time.
    """
    started = time.time()
    out = rundir.check_out(out)  # empty, a file, not writable: refused before anything is created
    check_protocol(users if not isinstance(users, list) else 1, folds, run_folds, fit_groups)
    path: Path | None = None
    if not isinstance(survey, Survey):
        from ..survey.io import load_survey

        path = Path(survey)
        survey = load_survey(path)
    else:
        path = rundir.survey_path(survey)

    # --- everything that can be refused, before the run directory is touched -----------------
    resolved = resolve_methods(methods, method_options)
    if curve_methods is not None:
        unknown = set(curve_methods) - {m.name for m in resolved}
        if unknown:
            raise ConfigError(f"curve methods {', '.join(sorted(unknown))} are not among the methods of this run")
    curve_sizes = sorted(int(s) for s in curve_sizes)
    if curve and any(s < 0 for s in curve_sizes):
        raise ConfigError(f"--curve-sizes must be 0 or more, got {curve_sizes}")
    if concurrency is None:  # the backend's own default: 8 in flight for a server, 1 for the embedded engine
        from ..llm import default_concurrency

        concurrency = default_concurrency(model)
    if int(concurrency) < 1:
        raise ConfigError(f"--concurrency must be at least 1, got {concurrency}")
    if isinstance(split, (str, Path)):
        split = Split.load(split)
    if split is not None:
        split.check(survey)
    fresh_split = split or make_split(survey, users, folds, seed=seed, items=items, stratify=stratify, curve=curve,
                                      curve_sizes=curve_sizes, run_folds=run_folds,
                                      profile_items=profile_items, fit_groups=fit_groups)
    for m in resolved:  # statistical methods are cheap to build: a bad option is refused here
        if not m.needs_llm and callable(getattr(m.build(None), "fit", None)):
            fit_plan(survey, fresh_split)  # e.g. every respondent evaluated and nobody left to fit on
    llm_methods = [m.name for m in resolved if m.needs_llm]
    if llm_methods:
        if model is None:
            raise ConfigError(f"methods {', '.join(llm_methods)} need a model (--model SPEC)")
        if isinstance(model, str):
            from ..llm import get_model

            model = get_model(model, base_url=base_url, concurrency=max(1, concurrency))
    else:
        model = None  # a run without LLM methods never loads a model
    model_label = rundir.model_label(model)

    settings = {
        "methods": [m.name for m in resolved],
        "method_options": {m.name: m.options for m in resolved if m.options},
        "users": users if isinstance(users, (int, str)) else sorted(map(str, users)),
        "folds": folds,
        "seed": seed,
        "items": items if items is None or isinstance(items, str) else list(items),
        "stratify": stratify,
        **({"run_folds": run_folds, "profile_items": profile_items if profile_items is None or isinstance(
            profile_items, str) else list(profile_items), "fit_groups": fit_groups}
           if (run_folds, profile_items, fit_groups) != (None, None, None) else {}),  # old runs stay resumable
        "curve": bool(curve),
        "curve_sizes": curve_sizes if curve else None,
        "curve_methods": list(curve_methods) if curve and curve_methods is not None else None,
        "model": getattr(model, "spec", None) if model is not None else None,
        "data": rundir.survey_fingerprint(survey, path),
        "split": hashlib.sha256(json.dumps(split.to_json(), sort_keys=True).encode()).hexdigest() if split else None,
    }
    info = rundir.provenance(
        command, "valuesim.evaluation.run_study", model_label=model_label,
        methods={m.name: {"needs_llm": m.needs_llm} for m in resolved}, concurrency=concurrency,
        failure_policy="failed predictions are stored, retried on resume, and left out of accuracy/MAE "
                       "(the report shows how many there are per method)",
    )

    with rundir.RunLock(out, command):
        rundir.prepare(out, settings, info, merge=rundir.merge_study, force=force,
                       discard=(SPLIT_FILE, DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"), store=DB_FILE)
        split_path = out / SPLIT_FILE
        if split_path.exists():
            split = Split.load(split_path)
            split.check(survey)
        else:
            split = fresh_split
            from ..runs.render import write_atomic

            write_atomic(split_path, json.dumps(split.to_json(), indent=1))
        return _run(out, survey, split, resolved, model, model_label, concurrency, progress, curve_methods, started)


def _run(out: Path, survey: Survey, split: Split, resolved: list[StudyMethod], model, model_label, concurrency,
         progress, curve_methods, started: float) -> RunResult:
    store = PredictionStore(out / DB_FILE)
    store.add_questions(survey.codebook[q] for q in split.items)
    before = dict(model.accounting.as_dict()) if model is not None and hasattr(model, "accounting") else None
    session = store.start_session(usage=lambda: _usage_delta(before, model, time.time() - started))
    status = "failed"
    resumed = store.count()
    work = StudyWork(survey, split, store, model, model_label, concurrency, progress,
                     None if curve_methods is None else set(curve_methods))
    try:
        for m in resolved:
            work.run_method(m)
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        usage = _usage_delta(before, model, time.time() - started)
        try:
            store.end_session(session, status, work.new, work.failed, usage)
            total, failed_total = store.count(), store.count(failed=True)
        finally:
            store.close()
    return RunResult(out, total, work.new, resumed, failed_total, time.time() - started, usage,
                     [m.name for m in resolved])


def _usage_delta(before: dict | None, model, wall: float) -> dict | None:
    if before is None or model is None:
        return None
    after = model.accounting.as_dict()
    usage = {}
    for k, v in after.items():
        b = before.get(k)
        usage[k] = (v - b) if isinstance(v, (int, float)) and isinstance(b, (int, float)) else v
    usage["wall_seconds"] = round(wall, 3)
    return usage

