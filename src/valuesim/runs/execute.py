"""The prediction loop every runner uses: keep up to ``concurrency`` predictions in flight.

Worker threads take the next task from a shared iterator and put (task, result) on a queue;
the calling thread takes results in completion order and hands them to ``handle`` (which
stores them; the store commits in batches). Per prediction that is one lock, one queue
put/get and nothing that grows with the concurrency, so a server that answers instantly is
limited by the model client, not by this loop. With ``concurrency`` 1 the tasks run in the
calling thread (the embedded engine runs one request at a time anyway).

An exception in ``work`` or ``handle`` (or Ctrl-C) stops the loop: no new task starts,
predictions in flight are abandoned (their threads are daemons), and the exception is
re-raised in the calling thread after everything handled so far was kept.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


def execute(tasks: Iterable[T], work: Callable[[T], R], handle: Callable[[T, R], None], concurrency: int = 1,
            name: str = "predict") -> None:
    """Run ``work(task)`` for every task with at most ``concurrency`` in flight and call
    ``handle(task, result)`` in the calling thread for each, as they complete."""
    concurrency = max(1, int(concurrency))
    if concurrency == 1:
        for task in tasks:
            handle(task, work(task))
        return

    source = iter(tasks)
    take = threading.Lock()
    results: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        try:
            while not stop.is_set():
                task = None
                try:
                    with take:
                        task = next(source, _DONE)
                    if task is _DONE:
                        return
                    results.put((task, work(task), None))
                except BaseException as exc:  # handed to the calling thread, which re-raises it
                    stop.set()
                    results.put((task, None, exc))
                    return
        finally:
            results.put(_DONE)

    threads = [threading.Thread(target=worker, name=f"{name}-{i}", daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    running = len(threads)
    try:
        while running:
            try:
                item = results.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
            except queue.Empty:
                continue
            if item is _DONE:
                running -= 1
                continue
            task, result, exc = item
            if exc is not None:
                raise exc
            handle(task, result)
    finally:
        stop.set()
