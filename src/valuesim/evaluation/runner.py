"""Run a study: method × user × fold × target item, resumable, every prediction saved at once.

    result = run_study("wvs.csv", methods=["country-marginal", "knn"], users=100, folds=5,
                       out="runs/stat")
    print(result.summary())

Statistical methods are fitted once on the survey *without* the evaluated users and predict in
batches (one user at a time, committed together). LLM methods predict one item at a time in a
bounded thread pool; each prediction is committed the moment it returns. Interrupting (Ctrl-C,
kill) loses at most the predictions in flight; re-running the same call continues from there.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pandas as pd
from tqdm import tqdm

from ..errors import ConfigError, ModelError, ValuesimError
from ..methods.base import PersonContext, Prediction, predict_many
from ..survey.model import Profile, Question, Respondent
from ..survey.survey import COUNTRY, WEIGHT, Survey
from .crossfit import fit_plan, load_respondents
from .protocol import DEFAULT_CURVE_SIZES, Split, Unit, answered_items, check_protocol, make_split
from .store import PredictionStore, Row

RUN_FILE, SPLIT_FILE, DB_FILE = "run.json", "split.json", "predictions.sqlite"
MAX_FAILURES_IN_A_ROW = 25  # then the model server is down or the method is broken: stop


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


# --- methods ------------------------------------------------------------------------------
@dataclass
class _Method:
    name: str
    needs_llm: bool
    simulator: Any = None  # built lazily (only when it has work to do)
    options: dict = field(default_factory=dict)


def _resolve_methods(methods: Sequence, method_options: dict | None) -> list[_Method]:
    from ..methods.options import check_method_options
    from ..methods.registry import method_info

    method_options = check_method_options([m.strip() for m in methods if isinstance(m, str)], method_options)
    out: list[_Method] = []
    for m in methods:
        if isinstance(m, str):
            name = m.strip()
            out.append(_Method(name, method_info(name).needs_llm, None, dict(method_options.get(name, {}))))
        else:  # a Simulator object (tests, notebooks)
            name = getattr(m, "name", None)
            if not name:
                raise ConfigError(f"method object {m!r} has no name")
            out.append(_Method(str(name), bool(getattr(m, "needs_llm", False)), m))
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"a method is listed twice: {', '.join(names)}")
    if not out:
        raise ConfigError("no methods given")
    return out


def _build(method: _Method, model) -> Any:
    if method.simulator is None:
        from ..methods.registry import get_method

        method.simulator = get_method(method.name, model=model if method.needs_llm else None, **method.options)
    return method.simulator


# --- run directory --------------------------------------------------------------------------
def file_fingerprint(path: Path, head_bytes: int = 1 << 20) -> dict:
    """Size and sha256 of the first MB: cheap, and enough to notice a different file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(head_bytes))
    return {"path": str(path.resolve()), "size": path.stat().st_size, "sha256_first_mb": h.hexdigest()}


def survey_fingerprint(survey: Survey, path: Path | None) -> dict:
    info: dict[str, Any] = {"respondents": len(survey), "items": len(survey.question_ids),
                            "synthetic": bool(survey.synthetic), "source": str(survey.source or "")}
    if path is not None and path.is_file():
        info.update(file_fingerprint(path))
    else:  # an in-memory survey: hash its contents
        digest = pd.util.hash_pandas_object(survey.data, index=True).to_numpy().tobytes()
        info["sha256_data"] = hashlib.sha256(digest).hexdigest()
    return info


def _model_label(model) -> str | None:
    if model is None:
        return None
    spec = getattr(model, "spec", None) or type(model).__name__
    ident = getattr(model, "identity", None)
    try:
        detail = ident() if callable(ident) else {}
    except Exception:  # identity is informational only
        detail = {}
    name = detail.get("model") or detail.get("name") or detail.get("file")
    return f"{spec} ({name})" if name and str(name) not in str(spec) else str(spec)


def _comparable(settings: dict) -> dict:
    """Settings without where the file lives: a moved or renamed file is still the same data."""
    out = dict(settings)
    out["data"] = {k: v for k, v in settings.get("data", {}).items() if k not in ("path", "source")}
    return out


def _compare(old: dict, new: dict) -> list[str]:
    old, new = _comparable(old), _comparable(new)
    keys = sorted(set(old) | set(new))
    return [f"{k}: was {old.get(k)!r}, now {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]


METHOD_KEYS = ("methods", "method_options", "curve_methods")


def _merge(old: dict, settings: dict, info: dict) -> tuple[list[str], dict | None]:
    """Problems that forbid resuming, or the merged run.json when only methods were added.

    Predictions are keyed by method, so adding a method to a run (same data, split, model)
    is safe; changing the options of a method that is already there is not."""
    o, n = old.get("settings", {}), settings
    problems = _compare({k: v for k, v in o.items() if k not in METHOD_KEYS + ("model",)},
                        {k: v for k, v in n.items() if k not in METHOD_KEYS + ("model",)})
    if o.get("model") and n.get("model") and o["model"] != n["model"]:
        problems.append(f"model: was {o['model']!r}, now {n['model']!r}")
    o_opts, n_opts = o.get("method_options", {}) or {}, n.get("method_options", {}) or {}
    for m in set(o.get("methods", [])) & set(n.get("methods", [])):
        if o_opts.get(m, {}) != n_opts.get(m, {}):
            problems.append(f"options of {m}: were {o_opts.get(m, {})!r}, now {n_opts.get(m, {})!r}")
    if problems:
        return problems, None
    methods = list(o.get("methods", [])) + [m for m in n.get("methods", []) if m not in o.get("methods", [])]
    oc, nc = o.get("curve_methods"), n.get("curve_methods")
    merged_settings = {**o, "methods": methods, "method_options": {**o_opts, **n_opts},
                       "curve_methods": None if oc is None or nc is None else sorted(set(oc) | set(nc)),
                       "model": o.get("model") or n.get("model")}
    merged = {**old, "settings": merged_settings,
              "methods": {**old.get("methods", {}), **info.get("methods", {})},
              "model_label": old.get("model_label") or info.get("model_label")}
    return [], merged


def _prepare_run_dir(out: Path, settings: dict, info: dict, force: bool) -> None:
    run_file = out / RUN_FILE
    if run_file.exists():
        try:
            old = json.loads(run_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{run_file} is not valid JSON ({exc}); use --force to start the run over") from None
        problems, merged = _merge(old, settings, info)
        if not problems:
            if merged != old:  # methods were added: record them
                run_file.write_text(json.dumps(merged, indent=1), encoding="utf-8")
            return
        if not force:
            raise ConfigError(
                f"{out} holds a run with different settings ({'; '.join(problems)}). "
                "Use another --out, repeat the original settings to resume (adding methods is fine), "
                "or --force to discard it and start over"
            )
        for name in (RUN_FILE, SPLIT_FILE, DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "report", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps({**info, "settings": settings}, indent=1), encoding="utf-8")


# --- the study ------------------------------------------------------------------------------
def run_study(
    survey: "Survey | str | Path",
    methods: Sequence = ("country-marginal", "knn", "regression"),
    users: int | list[str] = 100,
    folds: int = 5,
    model=None,
    out: "str | Path" = "runs/study",
    curve: bool = False,
    seed: int = 0,
    concurrency: int = 1,
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
    out = Path(out)
    check_protocol(users if not isinstance(users, list) else 1, folds, run_folds, fit_groups)
    path: Path | None = None
    if not isinstance(survey, Survey):
        from ..survey.io import load_survey

        path = Path(survey)
        survey = load_survey(path)
    elif survey.source and Path(str(survey.source)).is_file():
        path = Path(str(survey.source))

    resolved = _resolve_methods(methods, method_options)
    if curve_methods is not None:
        unknown = set(curve_methods) - {m.name for m in resolved}
        if unknown:
            raise ConfigError(f"curve methods {', '.join(sorted(unknown))} are not among the methods of this run")
    any_llm = any(m.needs_llm for m in resolved)
    if any_llm:
        if model is None:
            raise ConfigError(f"methods {', '.join(m.name for m in resolved if m.needs_llm)} need a model (--model SPEC)")
        if isinstance(model, str):
            from ..llm import get_model

            model = get_model(model, base_url=base_url, concurrency=max(1, concurrency))
    else:
        model = None
    model_label = _model_label(model)

    if isinstance(split, (str, Path)):
        split = Split.load(split)
    if split is not None:
        split.check(survey)
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
        "curve_sizes": sorted(int(s) for s in curve_sizes) if curve else None,
        "curve_methods": list(curve_methods) if curve and curve_methods is not None else None,
        "model": getattr(model, "spec", None) if model is not None else None,
        "data": survey_fingerprint(survey, path),
        "split": hashlib.sha256(json.dumps(split.to_json(), sort_keys=True).encode()).hexdigest() if split else None,
    }
    from .. import __version__

    info = {
        "valuesim_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command or "python API: valuesim.evaluation.run_study",
        "model_label": model_label,
        "methods": {m.name: {"needs_llm": m.needs_llm} for m in resolved},
        "concurrency": concurrency,
        "failure_policy": "failed predictions are stored, retried on resume, and left out of accuracy/MAE "
                          "(the report shows how many there are per method)",
    }
    _prepare_run_dir(out, settings, info, force)

    split_path = out / SPLIT_FILE
    if split_path.exists():
        split = Split.load(split_path)
        split.check(survey)
    else:
        if split is None:
            split = make_split(survey, users, folds, seed=seed, items=items, stratify=stratify, curve=curve,
                               curve_sizes=curve_sizes, run_folds=run_folds, profile_items=profile_items,
                               fit_groups=fit_groups)
        split.save(split_path)

    store = PredictionStore(out / DB_FILE)
    store.add_questions(survey.codebook[q] for q in split.items)
    session = store.start_session()
    before = dict(model.accounting.as_dict()) if model is not None and hasattr(model, "accounting") else None
    new = failures_now = 0
    status = "failed"
    resumed = store.count()
    try:
        runner = _Runner(survey, split, store, model, model_label, concurrency, progress,
                         None if curve_methods is None else set(curve_methods))
        for m in resolved:
            n, f = runner.run_method(m)
            new += n
            failures_now += f
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        usage = _usage_delta(before, model, time.time() - started)
        store.end_session(session, status, new, failures_now, usage)
        total = store.count()
        failed_total = int(store.db.execute("SELECT COUNT(*) FROM predictions WHERE failed = 1").fetchone()[0])
        store.close()
    return RunResult(out, total, new, resumed, failed_total, time.time() - started, usage, [m.name for m in resolved])


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


class _Runner:
    def __init__(self, survey: Survey, split: Split, store: PredictionStore, model, model_label, concurrency, progress,
                 curve_methods: set[str] | None = None):
        self.survey, self.split, self.store = survey, split, store
        self.model, self.model_label = model, model_label
        self.concurrency = max(1, int(concurrency))
        self.progress = progress
        self.batch_items = 8  # target items per statistical batch (all users of a fold at once)
        shown = split.items + [q for q in split.profile_only if q not in set(split.items)]
        self.answered = answered_items(survey, split.users, shown)
        self.all_units = list(split.units(self.answered))
        self.curve_methods = curve_methods
        valid = survey.subset(split.users).valid(split.items)
        self.truth = {str(u): {q: int(v) for q, v in row.items() if pd.notna(v)} for u, row in valid.iterrows()}
        self.country = survey.data.loc[split.users, COUNTRY].astype(str).to_dict()
        self.weight = survey.data.loc[split.users, WEIGHT].astype(float).to_dict()
        self._respondents: dict[str, Respondent] = {}

    # every (unit, target) of one method, in user order so a person's context is reused
    def units(self, method: str) -> list[Unit]:
        if self.curve_methods is None or method in self.curve_methods:
            return self.all_units
        return [u for u in self.all_units if u.profile_limit < 0]

    def tasks(self, done: set[tuple], method: str) -> list[tuple[Unit, str]]:
        return [(u, q) for u in self.units(method) for q in u.targets
                if (method, u.fold, u.user, q, u.profile_limit) not in done]

    def context(self, unit: Unit) -> PersonContext:
        resp = self._respondents.get(unit.user)
        if resp is None:
            resp = self._respondents[unit.user] = self.survey.respondent(unit.user)
        profile = Profile.from_respondent(resp, self.survey.codebook, include=unit.profile)
        return PersonContext(unit.user, self.country[unit.user], profile, self.weight.get(unit.user, 1.0))

    def row(self, method: _Method, unit: Unit, qid: str, pred: Prediction, n_profile: int, seconds: float | None) -> Row:
        return Row(
            method=method.name, fold=unit.fold, respondent_id=unit.user, question_id=qid,
            profile_limit=unit.profile_limit, profile_n=n_profile, country=self.country[unit.user],
            answer=None if pred.failed else int(pred.answer), truth=self.truth[unit.user][qid],
            distribution=pred.distribution, failed=bool(pred.failed), error=str(pred.error or "")[:2000],
            model=(self.model_label or "") if method.needs_llm else "", trace=pred.trace or None, seconds=seconds,
        )

    def run_method(self, method: _Method) -> tuple[int, int]:
        total = sum(len(u.targets) for u in self.units(method.name))
        pending = self.tasks(self.store.done_keys(method.name), method.name)
        if not pending:
            return 0, 0
        sim = _build(method, self.model)
        fit = getattr(sim, "fit", None)
        plan = fit_plan(self.survey, self.split) if callable(fit) else [(None, None)]
        bar = tqdm(total=total, initial=total - len(pending), desc=method.name, unit="pred", file=sys.stderr,
                   disable=not self.progress, dynamic_ncols=True, smoothing=0.1)
        new = failed = 0
        try:
            for train_ids, group in plan:  # one fit, or one per cross-fitting group (crossfit.py)
                todo = pending if group is None else [t for t in pending if t[0].user in group]
                if not todo:
                    continue
                if train_ids is not None:
                    fit(self.survey.subset(train_ids))
                run = self._run_threaded if method.needs_llm else self._run_batched
                n, f = run(method, sim, todo, bar)
                new, failed = new + n, failed + f
            return new, failed
        finally:
            bar.close()

    def _run_batched(self, method: _Method, sim, pending, bar) -> tuple[int, int]:
        """Statistical methods: all users of one fold and profile size together (so a method
        fits one model per target item and fold, not per person), a few target items per
        batch; each batch is committed as one transaction."""
        new = failed = 0
        groups: dict[tuple[int, int], dict[str, list[tuple[Unit, str]]]] = {}
        for unit, q in pending:
            groups.setdefault((unit.fold, unit.profile_limit), {}).setdefault(q, []).append((unit, q))
        codebook = self.survey.codebook
        wanted = {u.user for u, _ in pending} - set(self._respondents)
        self._respondents.update(load_respondents(self.survey, sorted(wanted)))  # one block read, not one per user
        for (fold, limit), by_item in groups.items():
            contexts: dict[str, PersonContext] = {}
            items = list(by_item)
            for s in range(0, len(items), self.batch_items):
                tasks = [t for q in items[s : s + self.batch_items] for t in by_item[q]]
                pairs = []
                for unit, q in tasks:
                    if unit.user not in contexts:
                        contexts[unit.user] = self.context(unit)
                    pairs.append((contexts[unit.user], codebook[q]))
                start = time.perf_counter()
                preds = predict_many(sim, pairs)
                each = (time.perf_counter() - start) / max(1, len(pairs))
                if len(preds) != len(pairs):
                    raise ValuesimError(f"method {method.name} returned {len(preds)} predictions for {len(pairs)} questions")
                rows = [self.row(method, unit, q, p, len(ctx.profile), each)
                        for (unit, q), p, (ctx, _) in zip(tasks, preds, pairs)]
                new += self.store.add(rows)
                failed += sum(r.failed for r in rows)
                bar.update(len(rows))
        return new, failed

    def _run_threaded(self, method: _Method, sim, pending, bar) -> tuple[int, int]:
        """LLM methods: bounded thread pool; each prediction is committed when it returns."""
        codebook = self.survey.codebook
        contexts: dict[tuple, PersonContext] = {}

        def work(unit: Unit, qid: str) -> tuple[Prediction, float]:
            start = time.perf_counter()
            question = codebook[qid]
            try:
                pred = sim.predict(contexts[(unit.user, unit.fold, unit.profile_limit)], question)
            except ValuesimError as exc:  # model unreachable / unusable answer: a recorded failure
                pred = Prediction.failure(question, f"{type(exc).__name__}: {exc}")
            return pred, time.perf_counter() - start

        new = failed = in_a_row = 0
        last_error = ""
        # a retried failure that fails again says nothing new about the model: not in the streak
        retries = self.store.failed_keys(method.name)
        todo: Iterator[tuple[Unit, str]] = iter(pending)
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"eval-{method.name}")
        running: dict = {}
        try:
            def submit_more() -> None:
                while len(running) < 2 * self.concurrency:
                    nxt = next(todo, None)
                    if nxt is None:
                        return
                    unit, q = nxt
                    key = (unit.user, unit.fold, unit.profile_limit)
                    if key not in contexts:
                        contexts[key] = self.context(unit)
                    running[pool.submit(work, unit, q)] = nxt

            submit_more()
            while running:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    unit, q = running.pop(fut)
                    pred, seconds = fut.result()  # re-raises KeyboardInterrupt and bugs
                    ctx = contexts[(unit.user, unit.fold, unit.profile_limit)]
                    new += self.store.add([self.row(method, unit, q, pred, len(ctx.profile), seconds)])
                    bar.update(1)
                    if pred.failed:
                        failed += 1
                        retried = (method.name, unit.fold, unit.user, q, unit.profile_limit) in retries
                        in_a_row += 0 if retried else 1
                        last_error = pred.error
                        if in_a_row >= MAX_FAILURES_IN_A_ROW:
                            raise ModelError(
                                f"{in_a_row} predictions of {method.name} failed in a row (last: {last_error}); "
                                "stopped. Everything so far is saved: fix the cause and re-run to continue"
                            )
                    else:
                        in_a_row = 0
                submit_more()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return new, failed
