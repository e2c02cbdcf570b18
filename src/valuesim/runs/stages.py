"""A line per stage of an LLM prediction (each story part, the audit, each module, the
coordinator; one question of a persona), so a person watching a slow run sees what the minutes
go to while they go, not only a progress bar that stands at 0/2.

``verbose``: every stage gets its line at once. Otherwise a stage's line is printed only when
that stage is still running after ``SLOW_SECONDS`` (a slow model: the embedded engine on a
CPU, an overloaded server); from then on every stage gets its line, so the sequence reads
whole. Fast runs (a scripted model, a quick server) print nothing beyond the progress bar.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable, Protocol, runtime_checkable

SLOW_SECONDS = 2.0


@runtime_checkable
class Staged(Protocol):
    """A simulator that reports its stages (ValueSim: story parts, audit, modules, coordinator)."""

    def watch(self, progress: Callable[[str], None]) -> None: ...


def clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def _write(line: str) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=sys.stdout)  # above a running progress bar, not through it


class StageLines:
    """``lines(stage)`` before each stage; ``lines.item(label)`` when a new prediction starts
    (the label names who answers which question); ``close()`` when the method is done."""

    def __init__(self, method: str, verbose: bool = False, started: float | None = None,
                 slow: float = SLOW_SECONDS, write: Callable[[str], None] = _write):
        self.method, self.verbose, self.slow, self.write = method, verbose, slow, write
        self.started = time.time() if started is None else started
        self.lock = threading.Lock()
        self.on = verbose  # once a stage was slow, every stage gets its line
        self.staged = False  # set when the simulator reports stages of its own
        self.local = threading.local()  # per worker thread: its prediction and its pending line
        self.timers: set[threading.Timer] = set()

    def item(self, label: str) -> None:
        """A new prediction; methods that report no stages of their own get it as their one stage."""
        self.local.label = label
        if not self.staged:
            self("")

    def __call__(self, stage: str) -> None:
        label = getattr(self.local, "label", "")
        text = f"{self.method}: {label}" + (f": {stage}" if stage and label else stage)
        self._cancel(getattr(self.local, "timer", None))
        self.local.timer = None
        if self.on:
            self._print(text)
            return
        timer = threading.Timer(self.slow, self._late, args=(text, time.time()))
        timer.daemon = True
        self.local.timer = timer
        with self.lock:
            self.timers.add(timer)
        timer.start()

    def _cancel(self, timer: "threading.Timer | None") -> None:
        if timer is not None:
            timer.cancel()
            with self.lock:
                self.timers.discard(timer)

    def _late(self, text: str, since: float) -> None:
        with self.lock:
            self.on = True
            self.timers.discard(threading.current_thread())  # type: ignore[arg-type]
        self._print(text, since)

    def _print(self, text: str, since: float | None = None) -> None:
        at = time.time() if since is None else since
        self.write(f"   [{clock(at - self.started)}] {text}")

    def close(self) -> None:
        """No line after the method is done (a stage that was about to be called slow is not)."""
        with self.lock:
            timers, self.timers = list(self.timers), set()
        for timer in timers:
            timer.cancel()


def watch_stages(sim, method: str, verbose: bool = False, started: float | None = None) -> StageLines:
    """Stage lines for ``sim`` (attached to it when it reports stages of its own)."""
    lines = StageLines(method, verbose, started)
    if isinstance(sim, Staged):
        sim.watch(lines)
        lines.staged = True
    return lines


def item_label(key: tuple) -> str:
    """Who answers which question, from a work item's store key (method, fold, profile_limit,
    country, persona, respondent_id, question_id)."""
    country, persona, respondent, question = key[3], key[4], key[5], key[6]
    who = f"{country} persona {persona}" if persona is not None and persona >= 0 else f"respondent {respondent}"
    return f"{who} · {question}"
