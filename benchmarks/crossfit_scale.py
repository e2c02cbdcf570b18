"""Every respondent, every statistical method, 5 folds: how long does the real pipeline take?

    .venv/bin/valuesim data synth --respondents 97220 --seed 1 --out /tmp/synth.csv
    .venv/bin/python benchmarks/crossfit_scale.py /tmp/synth.csv --users all          # the whole study
    .venv/bin/python benchmarks/crossfit_scale.py /tmp/synth.csv --users 500,2000     # measure, extrapolate

Each method runs through ``run_study`` (the same code as ``valuesim eval``: split, cross-fitting
over 5 groups of users, SQLite store) in its own run directory, 5 folds over the default 281
items. With ``--users all`` it is the full study. With numbers, each size is a seeded sample of
users, still cross-fitted over 5 groups (so every fit sees about as many respondents as in the
full study), and the time of the full study is extrapolated from a straight line through the
measured sizes (seconds = fixed + per-user x users), printed as an EXTRAPOLATION. Prints a
table: method, users, predictions, wall seconds, CPU seconds of this process (the machine may be
shared: CPU seconds are what the study costs on an idle core), predictions per CPU second, load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

STAT_METHODS = ["chance", "global-marginal", "country-marginal", "knn", "regression"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="WVS-7 file (e.g. the 97,220-respondent synthetic file)")
    ap.add_argument("--users", default="500,2000", help="'all' or comma-separated sample sizes (default 500,2000)")
    ap.add_argument("--methods", default=",".join(STAT_METHODS))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fit-groups", type=int, default=5)
    ap.add_argument("--keep", default=None, metavar="DIR", help="keep the run directories here")
    args = ap.parse_args()

    from valuesim.evaluation import run_study
    from valuesim.survey.io import load_survey

    t0 = time.perf_counter()
    survey = load_survey(args.file)
    load_s = time.perf_counter() - t0
    total_people = len(survey)
    print(f"loaded {args.file}: {total_people} respondents in {load_s:.1f} s; load1 {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores", flush=True)
    sizes = ["all"] if args.users == "all" else [int(s) for s in args.users.split(",")]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    root = Path(args.keep or tempfile.mkdtemp(prefix="crossfit-"))
    results: dict[str, list[tuple[int, int, float]]] = {m: [] for m in methods}
    print(f"{'method':<18}{'users':>8}{'predictions':>13}{'wall s':>10}{'cpu s':>10}{'pred/cpu s':>11}{'load1':>7}",
          flush=True)
    for size in sizes:
        for method in methods:
            out = root / f"{method}-{size}"
            shutil.rmtree(out, ignore_errors=True)
            start, cpu = time.perf_counter(), time.process_time()
            res = run_study(survey, methods=[method], users=size, folds=args.folds, out=out, seed=0,
                            fit_groups=args.fit_groups, progress=False)
            secs, cpu = time.perf_counter() - start, time.process_time() - cpu
            n_users = total_people if size == "all" else size
            results[method].append((n_users, res.predictions, cpu))
            print(f"{method:<18}{n_users:>8}{res.predictions:>13}{secs:>10.1f}{cpu:>10.1f}{res.predictions / cpu:>11.0f}"
                  f"{os.getloadavg()[0]:>7.1f}", flush=True)
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    if sizes != ["all"] and len(sizes) >= 2:
        print(f"\nEXTRAPOLATION to all {total_people} respondents (straight line through the measured sizes; "
              "CPU seconds, i.e. the wall time on one idle core):")
        grand = 0.0
        for method, pts in results.items():
            (n1, p1, s1), (n2, p2, s2) = pts[0], pts[-1]
            per_user = (s2 - s1) / (n2 - n1)
            if per_user <= 0:  # the larger sample cost less: load noise swamps the per-user cost
                print(f"  {method:<18} per-user cost lost in noise ({s1:.0f} vs {s2:.0f} CPU s); fixed ~{s2:.0f} s")
                grand += s2
                continue
            fixed = s1 - per_user * n1
            est = fixed + per_user * total_people
            preds = p1 + (p2 - p1) / (n2 - n1) * (total_people - n1)
            grand += est
            print(f"  {method:<18} fixed {fixed:7.1f} s + {per_user * 1000:7.2f} ms/user -> {est / 60:7.1f} min "
                  f"({preds / 1e6:.1f} M predictions)")
        print(f"  all methods: {grand / 60:.1f} min (+ {load_s:.0f} s to load the file once)")
    else:
        print(f"\nall methods: {sum(s for pts in results.values() for _, _, s in pts) / 60:.1f} CPU min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
