"""The predictions of one study: every (method, fold, user, target, profile size) not yet stored.

Statistical methods predict in batches (all users of a fold at once); LLM methods one item at
a time through ``runs.execute`` (``concurrency`` in flight). Every prediction goes to the store
as it returns; the store commits in batches.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pandas as pd
from tqdm import tqdm

from ..errors import ConfigError, ModelError, ValuesimError
from ..methods.base import PersonContext, Prediction, predict_many
from ..runs.execute import execute
from ..runs.store import PredictionStore, Row
from ..survey.model import Profile, Respondent
from ..survey.survey import COUNTRY, WEIGHT, Survey
from .crossfit import fit_plan, load_respondents
from .protocol import Split, Unit, answered_items

MAX_FAILURES_IN_A_ROW = 25  # then the model server is down or the method is broken: stop


@dataclass
class StudyMethod:
    name: str
    needs_llm: bool
    simulator: Any = None  # built lazily (only when it has work to do)
    options: dict = field(default_factory=dict)

    def build(self, model) -> Any:
        if self.simulator is None:
            from ..methods.registry import get_method

            try:
                self.simulator = get_method(self.name, model=model if self.needs_llm else None, **self.options)
            except TypeError as exc:  # an option the method does not take: one line, not a traceback
                raise ConfigError(f"method {self.name}: {exc} (options given: {self.options})") from None
        return self.simulator


class StudyWork:
    def __init__(self, survey: Survey, split: Split, store: PredictionStore, model, model_label, concurrency, progress,
                 curve_methods: set[str] | None = None):
        self.survey, self.split, self.store = survey, split, store
        self.model, self.model_label = model, model_label
        self.concurrency = max(1, int(concurrency))
        self.progress = progress
        self.new = self.failed = 0
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

    def row(self, method: StudyMethod, unit: Unit, qid: str, pred: Prediction, n_profile: int,
            seconds: float | None) -> Row:
        return Row(
            method=method.name, fold=unit.fold, respondent_id=unit.user, question_id=qid,
            profile_limit=unit.profile_limit, profile_n=n_profile, country=self.country[unit.user],
            answer=None if pred.failed else int(pred.answer), truth=self.truth[unit.user][qid],
            distribution=pred.distribution, failed=bool(pred.failed), error=str(pred.error or "")[:2000],
            model=(self.model_label or "") if method.needs_llm else "", trace=pred.trace or None, seconds=seconds,
        )

    def _stored(self, rows: list[Row]) -> None:
        self.new += self.store.add(rows)
        self.failed += sum(r.failed for r in rows)

    def run_method(self, method: StudyMethod) -> None:
        total = sum(len(u.targets) for u in self.units(method.name))
        pending = self.tasks(self.store.done_keys(method.name), method.name)
        if not pending:
            return
        sim = method.build(self.model)
        fit = getattr(sim, "fit", None)
        plan = fit_plan(self.survey, self.split) if callable(fit) else [(None, None)]
        bar = tqdm(total=total, initial=total - len(pending), desc=method.name, unit="pred", file=sys.stderr,
                   disable=not self.progress, dynamic_ncols=True, smoothing=0.1, mininterval=0.5)
        try:
            for train_ids, group in plan:  # one fit, or one per cross-fitting group (crossfit.py)
                todo = pending if group is None else [t for t in pending if t[0].user in group]
                if not todo:
                    continue
                if train_ids is not None:
                    fit(self.survey.subset(train_ids))
                run = self._run_one_by_one if method.needs_llm else self._run_batched
                run(method, sim, todo, bar)
        finally:
            bar.close()
            self.store.flush()

    def _run_batched(self, method: StudyMethod, sim, pending, bar) -> None:
        """Statistical methods: all users of one fold and profile size together (so a method
        fits one model per target item and fold, not per person), a few target items per batch."""
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
                self._stored(rows)
                bar.update(len(rows))

    def _run_one_by_one(self, method: StudyMethod, sim, pending, bar) -> None:
        """LLM methods: ``concurrency`` predictions in flight; a long streak of new failures stops
        the run (the server is down or the method is broken)."""
        codebook = self.survey.codebook
        contexts: dict[tuple, PersonContext] = {}

        def with_context() -> Iterator[tuple[Unit, str, PersonContext]]:
            for unit, q in pending:  # pulled by the workers one at a time, under a lock
                key = (unit.user, unit.fold, unit.profile_limit)
                ctx = contexts.get(key)
                if ctx is None:
                    ctx = contexts[key] = self.context(unit)
                yield unit, q, ctx

        def work(task) -> tuple[Prediction, float]:
            unit, qid, ctx = task
            start = time.perf_counter()
            question = codebook[qid]
            try:
                pred = sim.predict(ctx, question)
            except ValuesimError as exc:  # model unreachable / unusable answer: a recorded failure
                pred = Prediction.failure(question, f"{type(exc).__name__}: {exc}")
            return pred, time.perf_counter() - start

        # a retried failure that fails again says nothing new about the model: not in the streak
        retries = self.store.failed_keys(method.name)
        streak = [0]

        def handle(task, result) -> None:
            unit, q, ctx = task
            pred, seconds = result
            self._stored([self.row(method, unit, q, pred, len(ctx.profile), seconds)])
            bar.update(1)
            if not pred.failed:
                streak[0] = 0
                return
            if (method.name, unit.fold, unit.user, q, unit.profile_limit) not in retries:
                streak[0] += 1
            if streak[0] >= MAX_FAILURES_IN_A_ROW:
                raise ModelError(
                    f"{streak[0]} predictions of {method.name} failed in a row (last: {pred.error}); "
                    "stopped. Everything so far is saved: fix the cause and re-run to continue"
                )

        execute(with_context(), work, handle, self.concurrency, name=f"eval-{method.name}")
