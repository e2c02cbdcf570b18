"""The one study function: plan, record, run, score, whatever the protocol.

    from valuesim.runs import study
    result = study.run(survey, IndividualStudy(), config)      # what run_study does
    result = study.run(survey, PopulationStudy(), config)      # what run_population does
    study.report("runs/x")                                     # either kind of run, into runs/x/report/

A protocol (``StudyKind``: ``evaluation.runner.IndividualStudy``, ``population.runner.
PopulationStudy``) is a whole object: it plans a config against a survey (everything that can be
refused, before the run directory is touched), says what run.json records (the settings that
fix the results, under one resume rule: ``rundir.merge_run``), turns the plan into work items
for the one runner, scores a run from its store and writes its report. ``run`` is the skeleton
every study shares: the run directory, the model's check, the lock, the session record, the
runner and the store. ``estimate``, ``report`` and ``ask`` start from the same plan and run.

The kinds are named here, imported only when used (as methods are by the registry), so this
module stays below the protocols that build on it.
"""

from __future__ import annotations

import importlib
import time
from typing import Any, Protocol

from . import rundir
from .rundir import RunDir
from .runner import Runner, Session, StudyMethod

KINDS = {"individual": "valuesim.evaluation.runner:IndividualStudy",
         "population": "valuesim.population.runner:PopulationStudy"}


class StudyKind(Protocol):
    """What differs between studies; everything else is ``run``'s."""

    kind: str  # recorded in run.json ("individual", "population")
    api: str  # the Python call, recorded when no command line made the run
    hint: str  # what a refused resume may do instead

    def load(self, survey: Any, config: Any) -> Any:
        """The Survey, from a Survey or a path (settings checkable without it are checked first)."""

    def plan(self, survey: Any, config: Any) -> Any:
        """Everything that can be refused, checked, before the run directory is touched."""

    def model(self, plan: Any, config: Any) -> Any:
        """The Model the plan's LLM methods need (None: no LLM method)."""

    def record(self, plan: Any, model: Any, config: Any) -> tuple[dict, dict]:
        """(settings, provenance) of run.json: the settings fix the results (compared on resume)."""

    def begin(self, run: RunDir, plan: Any, record: dict) -> tuple[Any, list[StudyMethod]]:
        """Under the lock, after the settings are recorded: the work's protocol and methods."""

    def stage(self, store: Any, plan: Any) -> None:
        """What the store keeps beside the predictions (questions, personas)."""

    def finish(self, run: RunDir, plan: Any, record: dict, done: "Done") -> Any:
        """The result of a finished run (scored from the store, for a population)."""

    def report(self, run: RunDir, **options) -> dict:
        """Recompute from the store and write the report into the run's report/ folder."""


class Done:
    """What a session did: its runner's counts, the store's, its LLM usage and wall time."""

    def __init__(self, runner: Runner, session: Session, stored: int, failed: int, resumed: int, started: float):
        self.runner, self.session = runner, session
        self.stored, self.failed, self.resumed = stored, failed, resumed
        self.seconds = time.time() - started


def kind_of(name: str) -> StudyKind:
    """The protocol object of a run's kind (imported on first use)."""
    module, cls = KINDS[name].split(":")
    return getattr(importlib.import_module(module), cls)()


def run(survey: Any, protocol: StudyKind, config: Any) -> Any:
    """Run (or resume) one study: refused settings leave nothing behind; the run directory
    records what produced it; every prediction goes to the store as it is made; the lock keeps
    a second process out; a kill loses at most the last half second."""
    started = time.time()
    out = RunDir(rundir.check_out(config.out))  # empty, a file, not writable: refused before anything exists
    survey = protocol.load(survey, config)
    plan = protocol.plan(survey, config)
    model = protocol.model(plan, config)
    if model is not None and not out.exists():  # a new run: a model that cannot answer leaves nothing behind
        from ..llm.preflight import preflight

        preflight(model)  # (a resumed run checks before its first pending LLM prediction: the runner)
    settings, info = protocol.record(plan, model, config)
    info = {"kind": protocol.kind, **info}
    with out.lock(config.command):
        record = out.prepare(settings, info, merge=rundir.merge_run, force=bool(getattr(config, "force", False)),
                             hint=protocol.hint)
        entry = rundir.open_session(record, config.command, plan.session)
        out.write_info(record)
        work, methods = protocol.begin(out, plan, record)
        store = out.store()
        runner = Runner(store, model, rundir.model_label(model) or "", plan.concurrency, config.progress,
                        config.verbose)
        status = "failed"
        session = Session(store, model, started)
        try:
            protocol.stage(store, plan)
            resumed = store.count()
            with session:
                session.runner = runner
                runner.run(work, methods)
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            rundir.close_session(entry, status, time.time() - started, runner.new, session.usage_now() or {})
            out.write_info(record)
            counts = (store.count(), store.count(failed=True))
            store.close()
        return protocol.finish(out, plan, record, Done(runner, session, *counts, resumed, started))


def report(run_dir: Any, **options) -> dict:
    """Recompute a run's results from its store and write its report into RUN/report/, for
    either kind of run; returns the written files by name."""
    run_ = RunDir(run_dir)
    return kind_of(run_.kind()).report(run_, **options)


def estimate(survey: Any, protocol: Any, config: Any, **options) -> Any:
    """What ``run`` would send to the model, from the same plan (no model call, nothing written)."""
    survey = protocol.load(survey, config)
    return protocol.estimate(survey, config, **options)


def ask(protocol: Any, method: StudyMethod, model: Any = None) -> Any:
    """A study of one prediction (``valuesim ask``): the protocol's one work item through the
    one runner, into a store that is thrown away; returns the Prediction as it was made."""
    import tempfile
    from pathlib import Path

    from .names import STORE_FILE
    from .store import Store

    with tempfile.TemporaryDirectory(prefix="valuesim-ask-") as tmp:
        store = Store(Path(tmp) / STORE_FILE)
        runner = Runner(store, model, rundir.model_label(model) or "", 1, progress=False, check=False, keep=True)
        try:
            runner.run(protocol, [method])
        finally:
            store.close()
    if not runner.kept:
        raise RuntimeError(f"{method.name} made no prediction")  # (the protocol yields exactly one item)
    return runner.kept[0][1]


# --- the estimate: the same runner over the dry-run backend ------------------------------------
class Sample:
    """A study protocol restricted to chosen work items (the estimate's sample of the plan)."""

    def __init__(self, protocol: Any, items: list):
        self.protocol, self.codebook, self.chosen = protocol, protocol.codebook, list(items)

    def items(self, method: StudyMethod) -> list:
        return self.chosen

    def context(self, item: Any) -> Any:
        return self.protocol.context(item)

    def prefetch(self, items: list) -> None:
        self.protocol.prefetch(items)

    def fits(self, method: StudyMethod) -> Any:
        return self.protocol.fits(method)


class DryRecorder:
    """A method's simulator in a dry run: tells the dry-run backend the question being answered
    and which phase it is in, prepares each person once (ValueSim's backstory: the "unit"
    phase), and records which of the backend's calls each person and prediction made."""

    def __init__(self, sim: Any, dry: Any):
        self.sim, self.dry, self.name = sim, dry, sim.name
        self.units: list[dict] = []  # {"prepare": (start, end), "predictions": [(start, end, Prediction)]}
        self.errors: list[str] = []
        self._person = None

    def predict(self, person: Any, question: Any) -> Any:
        from ..errors import ValuesimError
        from ..methods.base import PersonPreparer

        calls = self.dry.calls
        if person is not self._person:  # the runner builds one context per person, in order
            self._person, start = person, len(calls)
            if isinstance(self.sim, PersonPreparer):
                self.dry.phase = "unit"
                try:
                    self.sim.prepare(person)
                except ValuesimError as exc:
                    self.errors.append(str(exc))
            self.units.append({"prepare": (start, len(calls)), "predictions": []})
        self.dry.phase, self.dry.question, start = "prediction", question, len(calls)
        try:
            pred = self.sim.predict(person, question)
        except ValuesimError as exc:  # the runner records it as a failure; the estimate counts it
            self.units[-1]["predictions"].append((start, len(calls), None))
            self.errors.append(str(exc))
            raise
        self.units[-1]["predictions"].append((start, len(calls), pred))
        return pred


def dry_run(protocol: Any, method: StudyMethod, sim: Any, items: list, dry: Any) -> DryRecorder:
    """Run ``items`` of ``method`` (built as ``sim`` over the dry-run backend ``dry``) through
    the one runner, one at a time and in order, into a store that is thrown away."""
    import tempfile
    from pathlib import Path

    from ..llm import as_model
    from .names import STORE_FILE
    from .store import Store

    recorder = DryRecorder(sim, dry)
    with tempfile.TemporaryDirectory(prefix="valuesim-estimate-") as tmp:
        store = Store(Path(tmp) / STORE_FILE)
        runner = Runner(store, as_model(dry), dry.spec or "", 1, progress=False, check=False)
        try:
            runner.run(Sample(protocol, items), [StudyMethod(method.name, True, recorder, dict(method.options))])
        finally:
            store.close()
    return recorder
