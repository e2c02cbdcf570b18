"""The one study runner: a protocol's work items in, the run's store out.

A protocol (``evaluation.work.IndividualProtocol``: users × folds × profile sizes;
``population.work.PopulationProtocol``: countries × personas × questions) is the only thing
that differs between studies. For every method it yields ``WorkItem``s (the store key, who
answers, the question, the truth if there is one), builds the ``PersonContext`` behind an
item, and says on what data a method that learns is fitted. The runner plans (drops what is
stored: a failed row is retried), fits, executes through ``runs.execute`` (statistical methods
in batches, LLM methods ``concurrency`` in flight) and writes ``Row``s to the one store. The
estimate (``--estimate``) walks the same items with a dry-run model.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, NamedTuple, Protocol

from tqdm import tqdm

from ..errors import ConfigError, ModelError, ValuesimError
from ..llm.preflight import preflight
from ..methods.base import Fittable, PersonContext, Prediction, predict_many
from .execute import execute
from .rounds import predict_or_wait
from .stages import StageLines, item_label, watch_stages
from .store import Row, Store
from .trace import Trace

MAX_FAILURES_IN_A_ROW = 25  # then the model server is down or the method is broken: stop
BATCH_ITEMS = 8  # questions per statistical batch (all people of one fold and profile size at once)


@dataclass
class StudyMethod:
    """A method of a study: the name its predictions are stored under, and how to build it."""

    name: str
    needs_llm: bool
    simulator: Any = None  # built lazily (only when it has work to do)
    options: dict = field(default_factory=dict)
    registered: str | None = None  # the registered simulator behind ``name`` (default: the same name)

    def build(self, model) -> Any:
        if self.simulator is None:
            from ..methods.registry import get_method

            try:
                self.simulator = get_method(self.registered or self.name, model=model if self.needs_llm else None,
                                            **self.options)
            except TypeError as exc:  # an option the method does not take: one line, not a traceback
                raise ConfigError(f"method {self.name}: {exc} (options given: {self.options})") from None
        return self.simulator


class WorkKey(NamedTuple):
    """The store's key of one prediction (``store.KEY_COLUMNS``, in that order). Immutable and
    compared like the tuples the store's key sets hold; read by name, never by position."""

    method: str
    fold: int
    profile_limit: int
    country: str
    persona: int
    respondent_id: str
    question_id: str

    @property
    def person(self) -> tuple:
        """Everything but the question: who answers (one context per person)."""
        return self[:6]

    @property
    def group(self) -> tuple[int, int]:
        """(fold, profile size): the people a statistical fit predicts together."""
        return self.fold, self.profile_limit


@dataclass(frozen=True)
class WorkItem:
    """One prediction to make: its store key, the truth if there is one, and what the protocol
    builds the person from (a Unit, a Persona, ...)."""

    key: WorkKey
    truth: int | None = None
    source: Any = None

    @property
    def question_id(self) -> str:
        return self.key.question_id

    @property
    def person_key(self) -> tuple:
        return self.key.person


class StudyProtocol(Protocol):
    """What differs between an individual and a population study."""

    codebook: Any

    def items(self, method: StudyMethod) -> list[WorkItem]:
        """Every prediction of ``method``, one person's questions in a row."""

    def context(self, item: WorkItem) -> PersonContext:
        """Who answers ``item`` (built once per person by the runner)."""

    def prefetch(self, items: list[WorkItem]) -> None:
        """Load what ``context`` needs for many items at once (or nothing)."""

    def fits(self, method: StudyMethod) -> Iterable[tuple[Any, set[str] | None]]:
        """[(training survey, respondent ids predicted by that fit; None: all)] for a method that
        learns; the runner fits once per entry."""


class Runner:
    """Plans, executes and stores the work items of one or more protocols (one session)."""

    def __init__(self, store: Store, model=None, model_label: str = "", concurrency: int = 1, progress: bool = True,
                 verbose: bool = False, *, check: bool = True, keep: bool = False):
        """``verbose``: every stage line (runs.stages), not only slow ones; ``check``: the model's
        check before its first pending prediction (``ask``'s first call is its check); ``keep``:
        keep every (item, Prediction) in ``kept`` as made."""
        self.store, self.model, self.model_label = store, model, model_label or ""
        self.concurrency = max(1, int(concurrency))
        self.progress, self.verbose, self.check = progress, verbose, check
        self.stages: StageLines | None = None
        self.started = time.time()
        self.new = self.failed = 0
        self.kept: list[tuple[WorkItem, Prediction]] | None = [] if keep else None

    def plan(self, protocol: StudyProtocol, method: StudyMethod) -> tuple[int, list[WorkItem]]:
        """(all items of ``method``, those not yet stored)."""
        items = protocol.items(method)
        done = self.store.done_keys(method.name)
        return len(items), [i for i in items if i.key not in done]

    def run(self, protocol: StudyProtocol, methods: Iterable[StudyMethod]) -> None:
        for m in methods:
            self.run_method(protocol, m)

    def run_method(self, protocol: StudyProtocol, method: StudyMethod) -> None:
        total, pending = self.plan(protocol, method)
        self.store.record_planned(method.name, total)  # a report of an unfinished run says how far it got
        if not pending:
            return
        if method.needs_llm:  # once per model: one clear error instead of a run of failures
            if self.check:
                preflight(self.model)
        sim = method.build(self.model)
        watched = method.needs_llm and (self.progress or self.verbose)  # --no-progress: no slow-stage lines either
        self.stages = watch_stages(sim, method.name, self.verbose, self.started) if watched else None
        plan = protocol.fits(method) if isinstance(sim, Fittable) else [(None, None)]
        bar = tqdm(total=total, initial=total - len(pending), desc=method.name, unit="pred", file=sys.stderr,
                   disable=not self.progress, dynamic_ncols=True, smoothing=0.1, mininterval=0.5)
        try:
            for train, group in plan:  # one fit, or one per cross-fitting group
                todo = pending if group is None else [i for i in pending if i.key.respondent_id in group]
                if not todo:
                    continue
                if train is not None:
                    sim.fit(train)
                run = self._one_by_one if method.needs_llm else self._batched
                run(protocol, method, sim, todo, bar)
        finally:
            if self.stages is not None:
                self.stages.close()
            bar.close()
            self.store.flush()

    # --- rows -----------------------------------------------------------------------------------
    def row(self, method: StudyMethod, item: WorkItem, pred: Prediction, ctx: PersonContext,
            seconds: float | None) -> Row:
        k = item.key
        trace = Trace.of(pred.trace)
        if self.kept is not None:
            self.kept.append((item, pred))
        return Row(k.method, k.question_id, pred.distribution, k.fold, k.profile_limit, k.country, k.persona,
                   k.respondent_id, len(ctx.profile),
                   None if pred.failed else int(pred.answer), item.truth, trace.dist_method, bool(pred.failed),
                   str(pred.error or "")[:2000], self.model_label if method.needs_llm else "", pred.trace or None,
                   trace.seconds or seconds, trace.cached)

    def _stored(self, rows: list[Row]) -> None:
        self.new += self.store.add(rows)
        self.failed += sum(r.failed for r in rows)

    # --- statistical methods: batches -----------------------------------------------------------
    def _batched(self, protocol: StudyProtocol, method: StudyMethod, sim, pending: list[WorkItem], bar) -> None:
        """All people of one fold and profile size together (a method fits one model per target
        item and fold, not per person), a few questions per batch."""
        protocol.prefetch(pending)
        groups: dict[tuple, dict[str, list[WorkItem]]] = {}
        for item in pending:
            groups.setdefault(item.key.group, {}).setdefault(item.question_id, []).append(item)
        codebook = protocol.codebook

        def batches() -> Iterator[list[WorkItem]]:
            for by_question in groups.values():
                qids = list(by_question)
                for s in range(0, len(qids), BATCH_ITEMS):
                    yield [i for q in qids[s: s + BATCH_ITEMS] for i in by_question[q]]

        contexts: dict[tuple, PersonContext] = {}
        group_of: list = [None]

        def work(batch: list[WorkItem]):
            if batch[0].key.group != group_of[0]:  # a new fold / profile size: its people's contexts
                contexts.clear()
                group_of[0] = batch[0].key.group
            pairs = []
            for item in batch:
                ctx = contexts.get(item.person_key)
                if ctx is None:
                    ctx = contexts[item.person_key] = protocol.context(item)
                pairs.append((ctx, codebook[item.question_id]))
            start = time.perf_counter()
            preds = predict_many(sim, pairs)
            if len(preds) != len(pairs):
                raise ValuesimError(f"method {method.name} returned {len(preds)} predictions for {len(pairs)} questions")
            return pairs, preds, (time.perf_counter() - start) / max(1, len(pairs))

        def handle(batch: list[WorkItem], result) -> None:
            pairs, preds, each = result
            self._stored([self.row(method, i, p, ctx, each) for i, p, (ctx, _) in zip(batch, preds, pairs)])
            bar.update(len(batch))

        execute(batches(), work, handle, 1, name=f"batch-{method.name}")

    # --- LLM methods: one at a time, ``concurrency`` in flight ----------------------------------
    def _one_by_one(self, protocol: StudyProtocol, method: StudyMethod, sim, pending: list[WorkItem], bar) -> None:
        """A long streak of new failures stops the run (the server is down or the method is broken)."""
        codebook = protocol.codebook
        contexts: dict[tuple, PersonContext] = {}

        def with_context() -> Iterator[tuple[WorkItem, PersonContext]]:
            for item in pending:  # pulled by the workers one at a time, under a lock
                ctx = contexts.get(item.person_key)
                if ctx is None:
                    contexts.clear()  # items come person by person: the previous one is done
                    ctx = contexts[item.person_key] = protocol.context(item)
                yield item, ctx

        def work(task) -> tuple[Prediction, float]:
            item, ctx = task
            if self.stages is not None:
                self.stages.item(item_label(item.key))
            start = time.perf_counter()
            question = codebook[item.question_id]
            try:
                pred = predict_or_wait(sim, ctx, question, self.model)
            except ValuesimError as exc:  # model unreachable / unusable answer: a recorded failure
                pred = Prediction.failure(question, f"{type(exc).__name__}: {exc}")
            return pred, time.perf_counter() - start

        retries = self.store.failed_keys(method.name)  # a retried failure that fails again says nothing new
        streak = [0]

        def handle(task, result) -> None:
            item, ctx = task
            pred, seconds = result
            if pred is None:  # batch mode: waits for a batch reply (runs/rounds.py), not stored
                return
            self._stored([self.row(method, item, pred, ctx, seconds)])
            bar.update(1)
            if not pred.failed:
                streak[0] = 0
                return
            if item.key not in retries:
                streak[0] += 1
            if streak[0] >= MAX_FAILURES_IN_A_ROW:
                raise ModelError(
                    f"{streak[0]} predictions of {method.name} failed in a row (last: {pred.error}); "
                    "stopped. Everything so far is saved: fix the cause and re-run to continue"
                )

        execute(with_context(), work, handle, self.concurrency, name=f"run-{method.name}")


# --- a session: the store's record of one invocation and its LLM usage ---------------------------
class Session:
    """``with Session(store, model) as s:`` records a session row (its status, counts and the LLM
    usage of this invocation, updated with every commit) around a run."""

    def __init__(self, store: Store, model=None, started: float | None = None):
        self.store, self.model = store, model
        self.started = time.time() if started is None else started
        from ..llm import Model

        self.accounting = model.accounting if isinstance(model, Model) else None  # a stand-in keeps no accounts
        self.before = dict(self.accounting.as_dict()) if self.accounting is not None else None
        self.status = "failed"
        self.usage: dict | None = None
        self.runner: Runner | None = None

    def usage_now(self) -> dict | None:
        if self.before is None:
            return None
        after = self.accounting.as_dict()
        usage = {}
        for k, v in after.items():
            b = self.before.get(k)
            usage[k] = (v - b) if isinstance(v, (int, float)) and isinstance(b, (int, float)) else v
        usage["wall_seconds"] = round(time.time() - self.started, 3)
        return usage

    def __enter__(self) -> "Session":
        self.id = self.store.start_session(usage=self.usage_now)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.status = ("finished" if exc_type is None else
                       "interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed")
        self.usage = self.usage_now()
        r = self.runner
        self.store.end_session(self.id, self.status, r.new if r else None, r.failed if r else None, self.usage)
