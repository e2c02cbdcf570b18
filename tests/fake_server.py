"""A small fake OpenAI-compatible server on 127.0.0.1 for the tests of the server path, and the
replies a plausible server gives.

The server plays a script of behaviours (429 with Retry-After, 500, slow, garbage, truncated,
good answers with or without logprobs, or a function of the request) and records what it
received. It binds a random port, serves on a daemon thread, and is shut down after each test
(the ``serve`` fixture in conftest.py).
"""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dataclasses import replace

from valuesim.llm.model import Model
from valuesim.llm.openai_backend import OpenAIModel

SECRET = "sk-test-THIS-IS-SECRET-123456"


def chat_body(content: str, logprobs: list | None = None) -> dict:
    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
    if logprobs is not None:
        choice["logprobs"] = {"content": logprobs}
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "fake",
        "choices": [choice],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                  "prompt_tokens_details": {"cached_tokens": 8}},
    }


def token(tok: str, alternatives: dict[str, float]) -> dict:
    """One written token with its top alternatives given as probabilities."""
    top = [{"token": t, "logprob": math.log(p), "bytes": None} for t, p in alternatives.items()]
    return {"token": tok, "logprob": math.log(alternatives.get(tok, 1e-9)), "bytes": None, "top_logprobs": top}


class FakeServer:
    """Answers each POST with the next scripted behaviour (the last one repeats)."""

    def __init__(self, script: list):
        self.script = list(script)
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.inflight = 0
        self.max_inflight = 0
        self.models = False  # True: GET /models answers 200 with a model list, to anyone (as llama-server)
        self.gets: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                fake.gets.append(self.path)
                if fake.models and self.path.rstrip("/").endswith("/models"):
                    fake.send(self, 200, b'{"object": "list", "data": [{"id": "fake-model", "object": "model"}]}')
                else:
                    fake.send(self, 404, b'{"error": {"message": "not found"}}')

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.endswith(("/tokenize", "/apply-template")):  # like OpenAI: no tokenizer here
                    fake.send(self, 404, b'{"error": {"message": "not found"}}')
                    return
                with fake.lock:
                    fake.requests.append(body)
                    fake.headers.append(dict(self.headers))
                    step = fake.script.pop(0) if len(fake.script) > 1 else fake.script[0]
                    fake.inflight += 1
                    fake.max_inflight = max(fake.max_inflight, fake.inflight)
                try:
                    fake.play(self, step, body)
                finally:
                    with fake.lock:
                        fake.inflight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @staticmethod
    def send(handler, status: int, payload: bytes, headers: dict | None = None, ctype="application/json"):
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(payload)

    def play(self, handler, step, body):
        kind = step[0]
        if kind == "good":
            content = step[1] if callable(step[1]) is False else step[1](body)
            logprobs = step[2] if len(step) > 2 and body.get("logprobs") else None
            self.send(handler, 200, json.dumps(chat_body(content, logprobs)).encode())
        elif kind == "429":
            err = {"error": {"message": "slow down", "type": "rate_limit"}}
            self.send(handler, 429, json.dumps(err).encode(), {"Retry-After": str(step[1])})
        elif kind == "status":
            err = {"error": {"message": step[2], "type": "x"}}
            self.send(handler, step[1], json.dumps(err).encode())
        elif kind == "slow":
            time.sleep(step[1])
            try:
                self.send(handler, 200, json.dumps(chat_body("Answer: 2")).encode())
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif kind == "call":  # step[1](body) -> (status, payload dict)
            status, payload = step[1](body)
            self.send(handler, status, json.dumps(payload).encode())
        elif kind == "trickle":  # headers at once, then the body one byte every step[1] seconds
            payload = json.dumps(chat_body("Answer: 2")).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            try:
                for i in range(len(payload)):
                    handler.wfile.write(payload[i:i + 1])
                    handler.wfile.flush()
                    time.sleep(step[1])
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif kind == "garbage":
            self.send(handler, 200, b"<html>this is not json", ctype="text/html")
        elif kind == "truncated":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "5000")
            handler.end_headers()
            handler.wfile.write(b'{"id": "chatcmpl-1", "choi')
            handler.wfile.flush()
            handler.close_connection = True
        else:  # pragma: no cover
            raise AssertionError(kind)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serving(monkeypatch):
    """Body of the ``serve`` fixture (conftest.py): ``serve(*script)`` starts a server."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    servers = []

    def start(*script):
        server = FakeServer(list(script))
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.close()


def backend(server, **kw) -> OpenAIModel:
    """The openai backend on ``server``; its declared retry policy waits into ``.waits``
    (observed, not slept) when a Model retries it."""
    kw.setdefault("max_retries", 3)
    kw.setdefault("timeout", 5.0)
    model = OpenAIModel("fake-model", base_url=server.url, backoff_base=0.01, **kw)
    model.waits = []
    model.retry = replace(model.retry, sleep=model.waits.append)
    return model


def retrying(server, **kw) -> Model:
    """The backend behind an uncached Model: the one retry loop and concurrency limit."""
    api = backend(server, **kw)
    model = Model(api)
    model.waits = api.waits
    return model


USER = [{"role": "user", "content": "How important is family? 1 very ... 4 not at all. Reply 'Answer: N'."}]


def chat_requests(server) -> list[dict]:
    return [r for r in server.requests if "messages" in r]


STORY = " ".join([
    "You grew up in a quiet town where everyone knew your family, and your family has always come first in your life.",
    "Friends matter to you as well, and you spend your free evenings with them whenever work allows it.",
    "You are careful with money because your household has known hard months, and you plan ahead for them.",
    "Religion plays a modest part in your days; you keep a few traditions but you rarely attend services.",
    "You follow politics in the newspaper, you vote when elections come, and you distrust loud promises.",
    "At work you value steady effort over quick success, and you expect the same fairness from others.",
    "You believe children should learn tolerance and respect at home, long before they ever reach school.",
    "When you think about the future you feel cautious but hopeful, and you want a calmer country for the young.",
])  # a valid second-person story: long enough for the profile, no loop, no refusal
ANSWER_LP = [token("Answer", {"Answer": 1.0}), token(":", {":": 1.0}), token(" ", {" ": 1.0}),
             token("2", {"2": 0.7, "1": 0.2, "3": 0.1}), token("\n", {"\n": 1.0})]


def method_reply(body: dict, *, logprobs: bool = True, text: str = "Answer: 2\nAnalysis: it fits this person.") -> tuple:
    """A plausible server: backstories for story prompts, "Answer: 2" (with logprobs when asked)
    for everything else."""
    content = body["messages"][-1]["content"]
    if "writer of background stories" in content:
        return 200, chat_body(STORY)
    lp = ANSWER_LP if (logprobs and body.get("logprobs")) else None
    return 200, chat_body(text, lp)
