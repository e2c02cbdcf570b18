"""A fake OpenAI Batch API on 127.0.0.1: Files (upload, content) and Batches (create, retrieve,
list, cancel), beside the chat-completions endpoint of the same fake model, so an online run and
a batch run meet the same replies.

Each retrieve of a batch moves it one state on: validating -> in_progress -> completed (or the
end a test asks for: failed, expired, cancelled after a cancel). At completion every input line
is answered by ``reply(body)`` (the plausible replies of fake_server.py), except a configurable
share of lines that fail (they go to the error file). ``unparsable``: the share of replies whose
text has no answer; decided per request and per time it was asked, so a re-asked request can get
a readable reply. Everything the server did is recorded for the tests (batches created, uploads).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from fake_server import chat_body, method_reply
from valuesim.evaluation.dryrun import story_placeholder

UNREADABLE = "I would rather not say which option fits me."


def plausible(body: dict) -> tuple:
    """A healthy model: a backstory that passes the story checks for story prompts (as in
    test_estimate_server), "Answer: 2" with logprobs for the rest (fake_server.method_reply)."""
    content = body["messages"][-1]["content"]
    if "writer of background stories" in content:
        return 200, chat_body(story_placeholder(int(0.9 * body["max_tokens"]), seed=len(content)))
    return method_reply(body)


def share(text: str, n: int) -> float:
    """A deterministic number in [0, 1) for the n-th time ``text`` was asked."""
    return int(hashlib.sha256(f"{text}#{n}".encode()).hexdigest()[:8], 16) / 2**32


def vector(text: str) -> list[float]:
    """A deterministic embedding: the text's words hashed into 16 buckets."""
    out = [0.0] * 16
    for word in text.lower().split():
        out[hashlib.sha256(word.encode()).digest()[0] % 16] += 1.0
    return out


def completion(body: dict, reply: Callable[[dict], tuple], unreadable: bool) -> dict:
    status, payload = reply(body)
    if unreadable:
        payload = chat_body(UNREADABLE)
    payload = dict(payload, model=body.get("model", "fake"))
    return payload


class FakeBatchServer:
    def __init__(self, reply: Callable[[dict], tuple] = plausible, *, failed_lines: float = 0.0,
                 unparsable: float = 0.0, ends: list[str] | None = None, steps: int = 1):
        """``ends``: how successive batches end ("completed", "failed", "expired"; the last repeats);
        ``steps``: retrieves spent in_progress before the end."""
        self.reply, self.failed_lines, self.unparsable = reply, failed_lines, unparsable
        self.ends = list(ends or ["completed"])
        self.steps = steps
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.created: list[dict] = []  # every batch created, in order
        self.chat: list[dict] = []  # online chat requests
        self.asked: dict[str, int] = {}  # custom_id -> times answered (per-request unparsable draws)
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.route(self, "GET", b"")

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                fake.route(self, "POST", self.rfile.read(length))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    # -- HTTP ----------------------------------------------------------------------------------
    @staticmethod
    def send(handler, status: int, payload, ctype="application/json"):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def route(self, h, method: str, raw: bytes) -> None:
        path = h.path.split("?")[0].removeprefix("/v1")
        with self.lock:
            if method == "POST" and path == "/chat/completions":
                body = json.loads(raw)
                self.chat.append(body)
                return self.send(h, 200, completion(body, self.reply, False))
            if method == "POST" and path == "/embeddings":
                texts = json.loads(raw)["input"]
                data = [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(texts)]
                return self.send(h, 200, {"object": "list", "data": data, "model": "fake-embed",
                                          "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)}})
            if method == "GET" and path == "/models":
                return self.send(h, 200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
            if method == "POST" and path == "/files":
                return self.send(h, 200, self.upload(h.headers.get("Content-Type", ""), raw))
            if method == "GET" and path.startswith("/files/") and path.endswith("/content"):
                fid = path.split("/")[2]
                if fid not in self.files:
                    return self.send(h, 404, {"error": {"message": "no such file"}})
                return self.send(h, 200, self.files[fid], "application/octet-stream")
            if method == "POST" and path == "/batches":
                return self.send(h, 200, self.create(json.loads(raw)))
            if method == "GET" and path == "/batches":
                data = sorted(self.batches.values(), key=lambda b: -b["created_at"])
                return self.send(h, 200, {"object": "list", "data": data, "has_more": False})
            if path.startswith("/batches/"):
                parts = path.split("/")
                batch = self.batches.get(parts[2])
                if batch is None:
                    return self.send(h, 404, {"error": {"message": "no such batch"}})
                if method == "POST" and len(parts) > 3 and parts[3] == "cancel":
                    batch["status"] = "cancelling"
                    return self.send(h, 200, batch)
                return self.send(h, 200, self.advance(batch))
        self.send(h, 404, {"error": {"message": f"no route {method} {path}"}})

    def upload(self, ctype: str, raw: bytes) -> dict:
        msg = BytesParser(policy=email_policy).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
        fields = {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                  for part in msg.iter_parts()}
        fid = f"file-{len(self.files) + 1}"
        self.files[fid] = fields["file"]
        assert fields.get("purpose") == b"batch", fields.get("purpose")
        return {"id": fid, "object": "file", "bytes": len(fields["file"]), "created_at": int(time.time()),
                "filename": "input.jsonl", "purpose": "batch", "status": "processed"}

    def create(self, req: dict) -> dict:
        assert req["endpoint"] == "/v1/chat/completions" and req["completion_window"] == "24h", req
        bid = f"batch_{len(self.batches) + 1}"
        lines = self.files[req["input_file_id"]].decode().splitlines()
        end = self.ends.pop(0) if len(self.ends) > 1 else self.ends[0]
        batch = {"id": bid, "object": "batch", "endpoint": req["endpoint"], "input_file_id": req["input_file_id"],
                 "completion_window": "24h", "status": "validating", "created_at": time.time(),
                 "metadata": req.get("metadata"), "output_file_id": None, "error_file_id": None,
                 "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "_end": end, "_steps": 0}
        self.batches[bid] = batch
        self.created.append(batch)
        return batch

    # -- a batch's life --------------------------------------------------------------------------
    def advance(self, batch: dict) -> dict:
        status = batch["status"]
        if status == "validating":
            batch["status"] = "failed" if batch["_end"] == "failed" else "in_progress"
            if batch["status"] == "failed":
                batch["errors"] = {"object": "list", "data": [{"code": "invalid_request", "message": "bad file"}]}
        elif status == "in_progress":
            batch["_steps"] += 1
            if batch["_steps"] >= self.steps:
                self.finish(batch, batch["_end"])
        elif status == "cancelling":
            self.finish(batch, "cancelled")
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    def finish(self, batch: dict, end: str) -> None:
        lines = [json.loads(x) for x in self.files[batch["input_file_id"]].decode().splitlines() if x.strip()]
        done = lines if end == "completed" else lines[: len(lines) // 2] if end == "expired" else []
        out, err = [], []
        for i, line in enumerate(lines):
            cid = line["custom_id"]
            if line not in done:
                err.append({"id": f"req_{i}", "custom_id": cid, "response": None,
                            "error": {"code": f"batch_{end}", "message": f"this request was {end}"}})
                continue
            n = self.asked[cid] = self.asked.get(cid, 0) + 1
            if share(cid + "failed", n) < self.failed_lines:
                err.append({"id": f"req_{i}", "custom_id": cid,
                            "response": {"status_code": 500, "request_id": f"r{i}", "body": {"error": {
                                "message": "server error", "code": "server_error"}}}, "error": None})
                continue
            body = completion(line["body"], self.reply, share(cid, n) < self.unparsable)
            out.append({"id": f"req_{i}", "custom_id": cid, "response": {"status_code": 200, "request_id": f"r{i}",
                                                                         "body": body}, "error": None})
        counts = {"total": len(lines), "completed": len(out), "failed": len(err)}
        batch.update(status=end, request_counts=counts)
        for name, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = f"file-{len(self.files) + 1}"
                self.files[fid] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                batch[name] = fid

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
