"""Can the runner keep a fast model server busy? Predictions per second against a server that
answers instantly.

    .venv/bin/python benchmarks/runner_throughput.py [--concurrency 1,8,64,256] [--users 3]
                                                     [--extra no-profile:64:3,valuesim:64:1] [--stub-only]

A stub OpenAI-compatible server runs in its own process on 127.0.0.1 (stdlib ThreadingHTTPServer,
HTTP/1.1 keep-alive) and answers every chat completion at once with "Answer: 2 ..." and the
log-probabilities of every token, the answer position carrying alternatives 1-9, so valuesim reads
a real distribution from it. The study is the real thing: ``run_study`` with Full Info through
``openai:stub`` (the official SDK client, valuesim's response cache in a fresh $VALUESIM_HOME,
the SQLite prediction store, traces), synthetic respondents (never real data), fresh run
directory per row. Runner CPU per prediction is this process's CPU time (all threads) divided by
the predictions; the stub's CPU is measured apart (its process). ``--stub-only`` measures the
stub alone with raw HTTP requests, which bounds what any client can get from it.

Prints one table; figures depend on the machine's load (2 shared cores here).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

STUB = textwrap.dedent('''
    import json, socket, sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    def top(tok, alts):
        return [{"token": t, "logprob": lp, "bytes": None} for t, lp in alts]

    TOKENS = [("Answer", [("Answer", -0.01)]), (":", [(":", -0.01)]), (" ", [(" ", -0.01)]),
              ("2", [(str(c), -0.5 - 0.3 * abs(c - 2)) for c in range(1, 10)]), ("\\n", [("\\n", -0.1)]),
              ("Analysis", [("Analysis", -0.1)]), (":", [(":", -0.1)]), (" a stub reply.", [(" a stub reply.", -0.1)])]
    CONTENT = "".join(t for t, _ in TOKENS)
    # backstory calls get a story that passes valuesim's checks: second person, varied, long enough
    WORDS = ("you", "the", "and", "for", "your", "was", "family", "work", "one", "all", "can", "had", "not",
             "but", "our", "friends", "day", "faith", "has", "home", "how", "new", "now", "old", "town", "two",
             "way", "who", "did", "trust", "let", "money", "say", "she", "too", "hope", "end", "own", "far")
    import random as _random
    _rng = _random.Random(0)
    STORY = "You " + " ".join(_rng.choice(WORDS) for _ in range(1500)) + "."
    STORY_CALL = ("background stories", "part of their backstory")
    LOGPROBS = {"content": [{"token": t, "logprob": alts[0][1] if alts[0][0] == t else -0.2, "bytes": None,
                             "top_logprobs": top(t, alts)} for t, alts in TOKENS]}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def setup(self):
            super().setup()  # no Nagle delay between the header and body writes
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            req = json.loads(body)
            if "messages" not in req:  # /tokenize, /apply-template ...: not a llama.cpp server
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            story = any(s in req["messages"][-1]["content"] for s in STORY_CALL)
            words = max(20, min(1500, int(req.get("max_tokens") or 256) * 3 // 4)) if story else 0
            content = " ".join(STORY.split()[:words]) + "." if story else CONTENT
            reply = {"id": "stub", "object": "chat.completion", "created": int(time.time()),
                     "model": req.get("model", "stub"),
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": content},
                                  "logprobs": LOGPROBS if req.get("logprobs") and not story else None}],
                     "usage": {"prompt_tokens": len(body) // 4, "completion_tokens": len(TOKENS),
                               "total_tokens": len(body) // 4 + len(TOKENS),
                               "prompt_tokens_details": {"cached_tokens": 0}}}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
''')


class Stub:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", STUB], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def cpu(self) -> float:
        """User + system CPU seconds of the stub process so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def raw_rate(stub: Stub, threads: int, seconds: float = 3.0) -> float:
    """Requests/s of the stub alone (keep-alive connections, a ~1 KB body)."""
    body = json.dumps({"model": "stub", "messages": [{"role": "user", "content": "x" * 1000}]})
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i):
        con = http.client.HTTPConnection("127.0.0.1", stub.port)
        con.connect()
        con.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while time.perf_counter() < stop:
            con.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
            con.getresponse().read()
            done[i] += 1

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(done) / seconds


def run_row(stub: Stub, survey, method: str, users: int, concurrency: int, workdir: Path) -> dict:
    from valuesim.evaluation import run_study

    home = workdir / f"home-{method}-{concurrency}-{users}"
    os.environ["VALUESIM_HOME"] = str(home)  # a fresh response cache: every prediction reaches the stub
    cpu0, stub0, t0 = time.process_time(), stub.cpu(), time.perf_counter()
    options = {"valuesim": {"min_fidelity": 0.0}} if method == "valuesim" else None  # the stub recalls nothing
    res = run_study(survey, methods=[method], users=users, folds=5, model="openai:stub", base_url=stub.url,
                    method_options=options, out=workdir / f"run-{method}-{concurrency}-{users}", concurrency=concurrency, progress=False)
    wall = time.perf_counter() - t0
    cpu, stub_cpu = time.process_time() - cpu0, stub.cpu() - stub0
    n = max(1, res.new)
    u = res.usage or {}
    return {"method": method, "concurrency": concurrency, "predictions": res.new, "requests": u.get("calls", 0),
            "failed": res.failures, "wall": wall, "pred_s": res.new / wall, "req_s": u.get("calls", 0) / wall,
            "cpu_ms": 1000 * cpu / n, "stub_ms": 1000 * stub_cpu / n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--concurrency", default="1,8,64,256")
    ap.add_argument("--users", type=int, default=3, help="users of the Full Info rows (~265 predictions each)")
    ap.add_argument("--extra", default="no-profile:64:3,valuesim:64:1", metavar="METHOD:CONC:USERS,...",
                    help="further rows (default: no-profile, whose tiny prompts show the per-request overhead, "
                         "and ValueSim); '' for none")
    ap.add_argument("--stub-only", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-dummy-benchmark-key")
    stub = Stub()
    try:
        print(f"stub alone (raw HTTP, 8 threads): {raw_rate(stub, 8):.0f} requests/s", flush=True)
        if args.stub_only:
            return 0
        from valuesim.survey.io import load_survey
        from valuesim.survey.synthetic import write_synthetic

        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            survey = load_survey(write_synthetic(work / "syn.csv", respondents=400, countries=4))
            # warm-up, not shown: imports (the SDK builds its pydantic types on first use), connections
            run_row(stub, survey, "no-profile", 1, 8, work)
            rows = [run_row(stub, survey, "full-info", args.users, int(c), work)
                    for c in args.concurrency.split(",")]
            for spec in filter(None, args.extra.split(",")):
                method, conc, users = spec.split(":")
                rows.append(run_row(stub, survey, method, int(users), int(conc), work))
    finally:
        stub.close()
    print(f"{'method':10} {'conc':>5} {'preds':>6} {'requests':>8} {'failed':>6} {'wall s':>7} {'preds/s':>8} "
          f"{'req/s':>7} {'runner CPU ms/pred':>18} {'stub CPU ms/pred':>16}")
    for r in rows:
        print(f"{r['method']:10} {r['concurrency']:>5} {r['predictions']:>6} {r['requests']:>8} {r['failed']:>6} "
              f"{r['wall']:>7.1f} {r['pred_s']:>8.1f} {r['req_s']:>7.1f} {r['cpu_ms']:>18.2f} {r['stub_ms']:>16.2f}")
    load = os.getloadavg()
    print(f"load average {load[0]:.1f}, {os.cpu_count()} cores; max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
