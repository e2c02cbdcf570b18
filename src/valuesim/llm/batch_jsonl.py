"""OpenAI batch JSONL: a round's requests out, the engine's results back in.

A request line is ``{"custom_id": KEY, "method": "POST", "url": "/v1/chat/completions",
"body": BODY}``: KEY is the request's response-cache key (a hash of the model, messages and
every parameter, sample index included), BODY exactly the chat-completions body the online
path sends (``OpenAIModel.request_body``: logprobs, top_logprobs, max_tokens, seed). OpenAI's
Batch API, ``vllm run-batch`` and other engines read this format and write one output line per
request: ``{"custom_id": KEY, "response": {"status_code": 200, "body": CHAT_COMPLETION},
"error": null}`` (or an ``error``).

Importing is all or nothing about where lines come from: a line whose KEY this run never asked
(another run, or a request that changed since it was exported) or that another model answered
refuses the whole file, in one line naming how many and why. Per-line errors (an error object,
a non-200 status, an empty answer) are counted and reported; their requests stay pending and go
into the next round. Replies are stored in the run's batch state (llm/batch.py), where the
next round's Model takes them through the same acceptance rule as a live reply. Importing the
same file twice changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import ConfigError, ModelError
from .batch import BatchState, to_value

ENDPOINT = "/v1/chat/completions"
MAX_REQUESTS, MAX_BYTES = 50_000, 200 * 1024 * 1024  # OpenAI's limits for one batch input file


def request_line(key: str, body: dict) -> bytes:
    line = {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def request_files(pending: Iterable[tuple[str, dict]], max_requests: int = MAX_REQUESTS,
                  max_bytes: int = MAX_BYTES) -> list[tuple[list[str], bytes]]:
    """The requests as batch input files within the provider's limits: [(keys, JSONL bytes)]."""
    files: list[tuple[list[str], bytes]] = []
    keys: list[str] = []
    chunks: list[bytes] = []
    size = 0
    for key, body in pending:
        line = request_line(key, body)
        if len(line) > max_bytes:
            raise ConfigError(f"one batch request is {len(line)} bytes, more than a batch file may hold ({max_bytes})")
        if keys and (len(keys) >= max_requests or size + len(line) > max_bytes):
            files.append((keys, b"".join(chunks)))
            keys, chunks, size = [], [], 0
        keys.append(key)
        chunks.append(line)
        size += len(line)
    if keys:
        files.append((keys, b"".join(chunks)))
    return files


def export_pending(run_dir: str | Path, out: str | Path) -> int:
    """Write the run's pending requests to ``out`` (an empty file when none); their number."""
    state = BatchState(run_dir, create=False)
    try:
        pending = state.pending()
    finally:
        state.close()
    path = Path(out)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        for key, body in pending:
            f.write(request_line(key, body))
    tmp.replace(path)
    return len(pending)


@dataclass
class Imported:
    """What one results file brought: replies new to the run, replies it had already, and the
    per-line errors (their requests go into the next round)."""

    lines: int = 0
    accepted: int = 0
    already: int = 0
    errors: Counter = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def text(self) -> str:
        out = f"{self.accepted} replies accepted"
        if self.already:
            out += f", {self.already} already imported"
        if self.errors:
            top = "; ".join(f"{n} x {why}" for why, n in self.errors.most_common(3))
            out += f"; {self.failed} lines failed and go into the next round ({top})"
        return out


def _lines(source: "str | Path | bytes | Iterable[str]") -> Iterator[str]:
    if isinstance(source, bytes):
        yield from source.decode("utf-8", "replace").splitlines()
    elif isinstance(source, (str, Path)):
        try:
            with open(source, encoding="utf-8", errors="replace") as f:
                yield from f
        except OSError as exc:
            raise ConfigError(f"cannot read the results file {source}: {exc.strerror}") from None
    else:
        yield from source


def _line_error(line: dict) -> str | None:
    """Why a well-formed output line carries no usable reply (None: it does)."""
    err = line.get("error")
    if err:
        return str(err.get("code") or err.get("message") or err)[:80] if isinstance(err, dict) else str(err)[:80]
    resp = line.get("response")
    if not isinstance(resp, dict):
        return "no response"
    if resp.get("status_code") != 200:
        body = resp.get("body") if isinstance(resp.get("body"), dict) else {}
        detail = (body.get("error") or {}).get("code") if isinstance(body.get("error"), dict) else None
        return f"HTTP {resp.get('status_code')}" + (f" {detail}" if detail else "")
    return None


def _same_model(asked: str, answered: str | None) -> bool:
    """A reply is from the model asked (OpenAI answers with a dated snapshot: gpt-4o-mini-2024-07-18)."""
    return not answered or answered == asked or answered.startswith(asked + "-")


def import_results(state: BatchState, source: "str | Path | bytes | Iterable[str]", name: str = "results") -> Imported:
    """Load an output (or error) file into the run's batch state; refuses the whole file (one
    ConfigError, nothing imported) when any line is not this run's or another model answered."""
    from openai.types.chat import ChatCompletion

    from .openai_backend import completion_output

    parsed: list[dict] = []
    broken = 0
    for raw in _lines(source):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            broken += 1
            continue
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            broken += 1
            continue
        parsed.append(line)
    asked = state.bodies([p["custom_id"] for p in parsed])
    foreign = [p for p in parsed if p["custom_id"] not in asked]
    result, replies, others = Imported(lines=len(parsed) + broken), {}, Counter()
    for line in parsed:
        body = asked.get(line["custom_id"])
        if body is None:
            continue
        why = _line_error(line)
        if why is not None:
            result.errors[why] += 1
            continue
        reply = line["response"].get("body") or {}
        if not _same_model(body["model"], reply.get("model")):
            others[str(reply.get("model"))[:60]] += 1
            continue
        try:
            out = completion_output(ChatCompletion.model_validate(reply), bool(body.get("logprobs")), 0.0, 1, name)
        except (ValueError, ModelError, IndexError, TypeError):  # pydantic's ValidationError is a ValueError
            result.errors["not a chat completion (or an empty answer)"] += 1
            continue
        replies[line["custom_id"]] = to_value(out)
    refusals = []
    if broken:
        refusals.append(f"{broken} lines are not batch output lines")
    if foreign:
        refusals.append(f"{len(foreign)} lines answer requests this run never made (another run's, or requests "
                        "changed since they were exported)")
    if others:
        model = next(iter(asked.values()))["model"]
        refusals.append(f"{sum(others.values())} lines were answered by another model ({', '.join(others)}; this run "
                        f"asks {model})")
    if refusals:
        raise ConfigError(f"{name}: refused, nothing imported: {'; '.join(refusals)}")
    known = _known(state, list(replies))
    result.already = len(known)
    state.add_replies({k: v for k, v in replies.items() if k not in known})
    result.accepted = len(replies) - len(known)
    return result


def _known(state: BatchState, keys: list[str]) -> set[str]:
    """Keys whose reply the run holds and has not asked again (importing them again changes nothing)."""
    out: set[str] = set()
    for s in range(0, len(keys), 500):
        chunk = keys[s:s + 500]
        marks = ",".join("?" * len(chunk))
        out.update(k for (k,) in state.query(f"SELECT key FROM replies WHERE spent = 0 AND key IN ({marks})", chunk))
    return out


def import_file(run_dir: str | Path, path: str | Path) -> Imported:
    """``valuesim batch import RUN results.jsonl``."""
    state = BatchState(run_dir, create=False)
    try:
        return import_results(state, path, Path(path).name)
    finally:
        state.close()
