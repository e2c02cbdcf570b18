"""Benchmark: how fast `valuesim view` answers on a large run (default 100,000 predictions).

    .venv/bin/python benchmarks/viewer_speed.py                      # 100k predictions in a temp dir
    .venv/bin/python benchmarks/viewer_speed.py --predictions 300000 --out /tmp/big

Writes a synthetic individual run through the store (5 methods × users × 50 WVS-7 items, one
fold each, some failures, a trace per ValueSim prediction), starts the viewer's server on
127.0.0.1 and times each page over HTTP: the first predictions page, filtered pages (ValueSim's
wrong answers; a category and a country), a sorted and a deep page, the overview (cold, which
scores every prediction with the report's code, and warm, cached until the store changes),
a person and an item. Prints a table (median of --repeat requests; the cold overview once).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

METHODS = ("valuesim", "full-info", "rag", "country-marginal", "regression")
COUNTRIES = ("DEU", "USA", "JPN", "NGA", "BRA")


def build(out: Path, n_predictions: int, seed: int = 0) -> tuple[str, str]:
    """A run with ``n_predictions`` predictions; returns (a person's id, an item's id)."""
    from valuesim.runs.rundir import RunDir
    from valuesim.runs.store import Row
    from valuesim.survey.wvs7.bank import load_codebook

    rng = random.Random(seed)
    items = [q for q in load_codebook() if q.kind.value in ("ordinal", "binary") and len(q.codes) <= 10][:50]
    users = max(1, n_predictions // (len(METHODS) * len(items)))
    run = RunDir(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {"methods": list(METHODS), "method_options": {}, "users": users, "folds": 5, "seed": seed,
                "model": "scripted", "data": {"respondents": users, "items": len(items), "synthetic": True,
                                              "source": "viewer benchmark"}, "split": "bench"}
    run.write_info({"valuesim_version": "bench", "created": "", "command": "benchmarks/viewer_speed.py",
                    "model_label": "scripted", "settings": settings,
                    "methods": {m: {"needs_llm": m in ("valuesim", "full-info", "rag")} for m in METHODS}})
    ids = [q.id for q in items]
    run.write_split({"users": [f"u{u}" for u in range(users)], "items": ids, "folds": [ids[i::5] for i in range(5)],
                     "seed": seed, "stratify": None, "profile_only": [], "run_folds": None})
    store = run.store()
    try:
        store.add_questions(items)
        session = store.start_session()
        for u in range(users):
            rid, country = f"u{u}", COUNTRIES[u % len(COUNTRIES)]
            rows = []
            for q in items:
                truth = rng.choice(q.codes)
                for m in METHODS:
                    weights = [rng.random() for _ in q.codes]
                    total = sum(weights)
                    dist = {c: w / total for c, w in zip(q.codes, weights)}
                    failed = m == "valuesim" and rng.random() < 0.03
                    trace = ({"modules": {k: {"answer": max(dist, key=dist.get), "analysis": "benchmark"}
                                          for k in ("cognitive", "affective", "behavioral")}}
                             if m == "valuesim" else None)
                    rows.append(Row(method=m, question_id=q.id, distribution=dist, fold=ids.index(q.id) % 5,
                                    country=country, respondent_id=rid, profile_n=40, truth=truth, trace=trace,
                                    answer=None if failed else max(dist, key=dist.get), failed=failed,
                                    error="UnparsableAnswer: benchmark" if failed else "", model="scripted"))
            store.add(rows)
        store.end_session(session, "finished")
    finally:
        store.close()
    return "u0", ids[0]


def timed(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        r.read()
        assert r.status == 200
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--predictions", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5, help="requests per page (the median is printed)")
    ap.add_argument("--out", default=None, help="run directory to write (default: a temporary one)")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import threading

    from valuesim.viewer import Site
    from valuesim.viewer.server import make_server

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="valuesim-viewer-bench-")) / "big"
    t0 = time.perf_counter()
    if not (out / "predictions.sqlite").exists():
        person, item = build(out, args.predictions)
    else:
        person, item = "u0", None
    built = time.perf_counter() - t0
    server = make_server(Site([out]))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/r/{out.name}/"
    from valuesim.viewer.source import RunSource

    src = RunSource(out, out.name)
    total = src.query("SELECT COUNT(*) FROM predictions")[0][0]
    item = item or src.query("SELECT question_id FROM predictions LIMIT 1")[0][0]
    category = src.query("SELECT category FROM questions WHERE question_id = ?", [item])[0][0]
    pages = [("predictions, first page", "predictions"),
             ("filtered: valuesim, wrong", "predictions?method=valuesim&outcome=wrong"),
             ("filtered: category + country", f"predictions?category={category}&country=JPN"),
             ("sorted by truth, descending", "predictions?sort=truth&desc=1"),
             ("filtered, page 100", "predictions?method=valuesim&outcome=wrong&page=100"),
             ("a person (250 predictions)", f"person/{person}"), ("an item", f"item/{item}")]
    rows = [("overview, cold (scores the run)", timed(base))]
    rows.append(("overview, warm (cached)", statistics.median(timed(base) for _ in range(args.repeat))))
    for name, page in pages:
        timed(base + page)  # the first request also fills the filter lists
        rows.append((name, statistics.median(timed(base + page) for _ in range(args.repeat))))
    server.shutdown()
    load = os.getloadavg()
    print(f"valuesim view on {total:,} predictions ({out}); built in {built:.1f} s; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(f"{'page':38} {'seconds':>8}")
    for name, seconds in rows:
        print(f"{name:38} {seconds:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
