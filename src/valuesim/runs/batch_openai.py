"""`--batch openai`: a round's requests through the Files and Batches endpoints of OpenAI's
Batch API (or any server that has them, at ``--base-url``).

Per round: the pending requests are split into input files within the provider's limits
(50,000 requests, 200 MB), each uploaded and made a batch with a 24 h window; the driver polls
them with a progress line, downloads the output and error files and imports them (the rules of
llm/batch_jsonl.py). Failed, expired and cancelled batches and per-line errors are reported;
their requests stay pending and go into the next round.

Nothing is paid for twice: a submission is recorded in the run's batch state before its file is
uploaded, and its batch id as soon as the batch exists; the batch carries the submission's id in
its metadata, so a run killed between creating a batch and recording it finds the batch again
(listing the batches) instead of creating another. A run killed while waiting resumes waiting for
the same batches. Ctrl-C leaves the batches running and says how to resume or cancel them.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import time
from typing import Any, Callable

from ..errors import ConfigError, ModelError
from ..llm.batch import BatchState
from ..llm.batch_jsonl import ENDPOINT, Imported, import_results, request_files
from ..llm.secrets import api_key, scrub
from ..llm.transport import public_url, split_urls

WINDOW = "24h"
OPEN = ("uploading", "creating", "submitted")
TERMINAL = ("completed", "failed", "expired", "cancelled")


def _client(base_url: str) -> Any:
    import openai

    return openai.OpenAI(api_key=api_key() or "no-key-needed", base_url=base_url, max_retries=5, timeout=300.0)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class OpenAIBatchDriver:
    """Submits, waits for and imports the batches of each round (see the module docstring)."""

    def __init__(self, run_dir, base_url=None, *, poll: float = 30.0, say: Callable[[str], None] = _say):
        import os

        urls = split_urls(base_url) or split_urls(os.environ.get("OPENAI_BASE_URL")) or ["https://api.openai.com/v1"]
        self.run_dir, self.url, self.poll, self.say = run_dir, urls[0], max(0.0, float(poll)), say
        self.where = public_url(self.url)
        self.client = _client(self.url)

    # -- the provider, one call each, errors in one line ---------------------------------------------
    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        import openai

        try:
            return fn()
        except openai.APIStatusError as exc:
            raise ModelError(f"the Batch API at {self.where} refused to {what} (HTTP {exc.status_code}): "
                             f"{scrub(str(getattr(exc, 'message', exc)))[:300]}") from None
        except openai.APIConnectionError:
            raise ModelError(f"cannot reach the Batch API at {self.where} to {what}; check --base-url. Everything "
                             "so far is saved: run the same command again to continue") from None

    # -- a round ---------------------------------------------------------------------------------------
    def resume(self, state: BatchState) -> None:
        """Finish the submissions a killed run left open: adopt or forget the unrecorded ones,
        wait for the running ones and import them."""
        rows = state.query(f"SELECT id, status, input_file FROM submissions WHERE status IN {OPEN} ORDER BY id")
        for sid, status, input_file in rows:
            if status == "creating":
                found = self._find(state, sid)
                if found is not None:
                    self._record(state, sid, status="submitted", batch_id=found)
                    continue
            if status != "submitted":  # never became a batch: nothing was paid, its requests are still pending
                self._record(state, sid, status="abandoned")
        waiting = [r[0] for r in state.query("SELECT id FROM submissions WHERE status = 'submitted' ORDER BY id")]
        if waiting:
            self.say(f"batch: resuming: waiting for {len(waiting)} batch(es) submitted by an earlier run")
            self._wait(state, waiting)

    def submit(self, state: BatchState, round_: int) -> int:
        """Upload and create this round's batches, wait for them, import: replies accepted."""
        tag = self._tag(state)
        ids = []
        for part, (keys, data) in enumerate(request_files(state.pending())):
            digest = hashlib.sha256(data).hexdigest()
            state.write("INSERT INTO submissions (round, part, requests, digest, status, base_url, created) "
                        "VALUES (?, ?, ?, ?, 'uploading', ?, ?)", [(round_, part, len(keys), digest, self.where, time.time())])
            sid = state.query("SELECT MAX(id) FROM submissions")[0][0]
            name = f"valuesim-{tag}-round{round_}-part{part}.jsonl"
            upload = self._call("upload a batch file", lambda: self.client.files.create(file=(name, data), purpose="batch"))
            self._record(state, sid, status="creating", input_file=upload.id)
            batch = self._call("create a batch", lambda: self.client.batches.create(
                input_file_id=upload.id, endpoint=ENDPOINT, completion_window=WINDOW,
                metadata={"valuesim_run": tag, "valuesim_submission": str(sid)}))
            self._record(state, sid, status="submitted", batch_id=batch.id)
            self.say(f"batch: round {round_}: submitted {batch.id} ({len(keys)} requests, {len(data) / 1e6:.1f} MB) "
                     f"to {self.where}")
            ids.append(sid)
        return self._wait(state, ids, round_)

    # -- waiting ---------------------------------------------------------------------------------------
    def _wait(self, state: BatchState, sids: list[int], round_: int | None = None) -> int:
        """Poll until every batch ended; import each as it ends. Replies accepted."""
        started, accepted = time.monotonic(), 0
        open_ = {sid: state.query("SELECT batch_id FROM submissions WHERE id = ?", (sid,))[0][0] for sid in sids}
        try:
            while open_:
                done, failed, total, states = 0, 0, 0, []
                for sid, bid in list(open_.items()):
                    batch = self._call("check a batch", lambda bid=bid: self.client.batches.retrieve(bid))
                    counts = batch.request_counts
                    done += counts.completed if counts else 0
                    failed += counts.failed if counts else 0
                    total += counts.total if counts else 0
                    states.append(batch.status)
                    if batch.status in TERMINAL:
                        accepted += self._finish(state, sid, batch)
                        del open_[sid]
                label = f"round {round_}" if round_ is not None else "resumed"
                self.say(f"batch: {label}: {done}/{total} requests done, {failed} failed, "
                         f"{', '.join(sorted(set(states)))}, {time.monotonic() - started:.0f} s")
                if open_:
                    time.sleep(self.poll)
        except KeyboardInterrupt:
            running = ", ".join(open_.values())
            self.say(f"batch: interrupted; {running} keep running at {self.where} (recorded in "
                     f"{state.path}). Run the same command again to wait for them and continue, or "
                     f"`valuesim batch cancel {self.run_dir}` to cancel them")
            raise
        return accepted

    def _finish(self, state: BatchState, sid: int, batch: Any) -> int:
        """Import an ended batch's output and error files; report what did not come back."""
        total = Imported()
        for kind in ("output_file_id", "error_file_id"):
            fid = getattr(batch, kind, None)
            if not fid:
                continue
            data = self._call("download a batch file", lambda fid=fid: self.client.files.content(fid).read())
            result = import_results(state, data, f"{batch.id} {kind.split('_')[0]} file")
            total.lines += result.lines
            total.accepted += result.accepted
            total.already += result.already
            total.errors.update(result.errors)
        accepted, errors = total.accepted, total.failed
        if total.errors:
            self.say(f"batch: {batch.id}: {total.text()}")
        note = ""
        if batch.status != "completed":
            reasons = [f"{e.code}: {e.message}" for e in (getattr(getattr(batch, "errors", None), "data", None) or [])]
            note = "; ".join(reasons)[:300]
            self.say(f"batch: {batch.id} {batch.status}{f' ({note})' if note else ''}: {accepted} replies came back; "
                     "the rest go into the next round")
        self._record(state, sid, status=batch.status, output_file=batch.output_file_id or "",
                     error_file=batch.error_file_id or "", note=note or f"{accepted} accepted, {errors} failed lines")
        return accepted

    # -- the record ------------------------------------------------------------------------------------
    @staticmethod
    def _record(state: BatchState, sid: int, **fields) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        state.write(f"UPDATE submissions SET {sets} WHERE id = ?", [(*fields.values(), sid)])

    @staticmethod
    def _tag(state: BatchState) -> str:
        tag = state.get("run_tag")
        if tag is None:
            tag = secrets.token_hex(6)
            state.set("run_tag", tag)
        return tag

    def _find(self, state: BatchState, sid: int) -> str | None:
        """The batch created for submission ``sid`` whose id a killed run did not record."""
        tag = self._tag(state)
        page = self._call("list batches", lambda: self.client.batches.list(limit=100))
        for batch in page.data:
            meta = batch.metadata or {}
            if meta.get("valuesim_run") == tag and meta.get("valuesim_submission") == str(sid):
                return batch.id
        return None


def cancel_running(run_dir) -> list[str]:
    """``valuesim batch cancel RUN``: cancel every batch the run has running; what was done."""
    state = BatchState(run_dir, create=False)
    try:
        rows = state.query("SELECT id, batch_id, base_url FROM submissions WHERE status = 'submitted' ORDER BY id")
        if not rows:
            return [f"{run_dir}: no batch is running"]
        out = []
        for sid, bid, url in rows:
            if not url:
                raise ConfigError(f"{run_dir}: batch {bid} has no recorded server URL")
            driver = OpenAIBatchDriver(run_dir, url)
            batch = driver._call("cancel a batch", lambda: driver.client.batches.cancel(bid))
            out.append(f"{bid}: {batch.status}; its requests go into the next round when the study's command runs again")
        return out
    finally:
        state.close()
