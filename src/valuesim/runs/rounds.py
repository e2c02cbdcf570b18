"""Studies in rounds: a study on a batch engine runs as passes over the response cache.

Each round runs the study once (the one runner, every unfinished item): a prediction whose
requests are all answered (response cache or imported batch replies) is stored; one that needs
an unanswered request waits (``predict_or_wait`` returns None) and its request is collected
(llm/batch.py). The round's requests go to a driver: ``FilesDriver`` stops and lets the user
run any engine on the exported JSONL (``valuesim batch export`` / ``import``); the OpenAI
driver (runs/batch_openai.py) submits them to a Batch API, waits and imports. The next round
continues every item where it stopped, so the number of rounds follows a method's stages
(ValueSim: backstory parts, its audit, the three modules, the coordinator; plus a round per
re-ask of an unreadable reply), never the number of people. A round that collects nothing
ends the study.

The loop is kept apart from the study function on purpose: it only needs "run the study once"
and a model in batch mode, so it moves with the study function.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Protocol

from ..errors import ModelError
from ..llm.batch import BatchCollector, BatchPending, BatchState, state_path
from ..llm.model import Model

MAX_ROUNDS = 200  # a study that still collects requests after this many rounds is stuck
STALLED_ROUNDS = 3  # rounds in a row in which no batch reply came back: the provider fails every request


def predict_or_wait(sim, ctx, question, model) -> Any:
    """``sim.predict(ctx, question)``, or None when the model is in batch mode and one of the
    prediction's requests waits for a batch reply (the runner stores nothing for it)."""
    collector = model.collector if isinstance(model, Model) else None
    if collector is None:
        return sim.predict(ctx, question)
    collector.start_item()
    failed = True
    try:
        pred = sim.predict(ctx, question)
        failed = bool(pred.failed)
        return pred
    except BatchPending:
        failed = False
        collector.waited()
        return None
    finally:
        collector.end_item(failed)


class Driver(Protocol):
    """Where a round's requests go."""

    def resume(self, state: BatchState) -> None:
        """Finish what a killed run left at the provider (wait for and import its batches)."""

    def submit(self, state: BatchState, round_: int) -> int | None:
        """Send the pending requests; the number of replies imported, or None to stop here."""


class FilesDriver:
    """``--batch files``: one round per command; the user runs the engine between them."""

    def __init__(self, run_dir, model_name: str, say: Callable[[str], None]):
        self.run_dir, self.model_name, self.say = run_dir, model_name, say

    def resume(self, state: BatchState) -> None:
        return None

    def submit(self, state: BatchState, round_: int) -> None:
        self.say(f"batch: write the requests with `valuesim batch export {self.run_dir} --out round{round_}.jsonl`, "
                 "run them on any engine that reads OpenAI batch JSONL (e.g. `vllm run-batch -i "
                 f"round{round_}.jsonl -o results{round_}.jsonl --model {self.model_name}`), then `valuesim batch import "
                 f"{self.run_dir} results{round_}.jsonl` and run this command again")
        return None


def say_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_rounds(study: Callable[[], Any], model: Model, driver: Driver,
               say: Callable[[str], None] = say_stderr) -> tuple[Any, int]:
    """Run ``study()`` round by round until no request is pending (or the driver stops): the
    last round's result and the requests still pending (0: the study is complete). ``model``
    is in batch mode (``llm.batch.batch_model``)."""
    collector: BatchCollector = model.collector
    stalled = 0
    result = None
    if state_path(collector.run_dir).exists():  # a run killed while waiting: its batches first
        driver.resume(collector.state)
    for _ in range(MAX_ROUNDS):
        collector.begin_round()
        result = study()
        n, pending = collector.end_round()
        state = collector.state
        if not pending:
            say(f"batch: round {n}: no request pending; the study is complete")
            return result, 0
        say(f"batch: round {n}: {collector.waiting} predictions wait for {pending} requests")
        imported = driver.submit(state, n)
        if imported is None:
            return result, pending
        stalled = 0 if imported else stalled + 1
        if stalled >= STALLED_ROUNDS:
            raise ModelError(f"{stalled} batch rounds in a row brought no usable reply back; stopped. Everything "
                             "so far is saved: fix the cause and run the same command again")
    raise ModelError(f"the study still collects requests after {MAX_ROUNDS} rounds; stopped (everything so far "
                     "is saved)")
