"""Benchmark: what the evaluation runner itself costs per prediction (no model, no HTTP).

    .venv/bin/python benchmarks/runner_overhead.py                # 100 users x 5 folds, concurrency 1/8/64
    .venv/bin/python benchmarks/runner_overhead.py --users 300 --concurrency 1,256

An instant in-process LLM-style simulator (the threaded path, a small trace per prediction, as a
real method records its prompt) answers every question; everything else is the real runner:
contexts, the thread pool of ``runs.execute``, the SQLite store with batched commits, sessions.
Prints predictions per second and runner CPU per prediction. What a real server run adds on top
(model client, prompt building, HTTP) is measured by benchmarks/runner_throughput.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from valuesim.evaluation import run_study  # noqa: E402
from valuesim.methods.base import Prediction  # noqa: E402
from valuesim.survey.io import load_survey  # noqa: E402
from valuesim.survey.synthetic import write_synthetic  # noqa: E402


class Instant:
    """Answers at once with a uniform distribution and a trace the size of a short prompt."""

    needs_llm = True
    name = "instant"

    def predict(self, person, question):
        codes = question.codes
        trace = {"prompt": "x" * 2000, "completion": f"Answer: {codes[0]}"}
        return Prediction.from_distribution({c: 1.0 / len(codes) for c in codes}, trace=trace)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--respondents", type=int, default=2000)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--items", default="Q1-Q40")
    ap.add_argument("--concurrency", default="1,8,64")
    args = ap.parse_args()
    data = tempfile.TemporaryDirectory()
    survey = load_survey(write_synthetic(Path(data.name) / "synth.csv", respondents=args.respondents, seed=0))
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at start")
    print(f"{'concurrency':>11} {'predictions':>11} {'wall s':>7} {'pred/s':>7} {'CPU ms/pred':>11}")
    for conc in [int(c) for c in args.concurrency.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            t, c = time.perf_counter(), time.process_time()
            r = run_study(survey, methods=[Instant()], users=args.users, folds=5, items=args.items,
                          out=Path(d) / "run", model=object(), progress=False, concurrency=conc)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
        print(f"{conc:>11} {r.new:>11} {wall:>7.2f} {r.new / wall:>7.0f} {1e3 * cpu / r.new:>11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
