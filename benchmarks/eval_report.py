"""Benchmark: a full statistical `valuesim eval` + `valuesim report` on a synthetic WVS-7 file,
then a screenshot of report.html in headless Chromium (to check every chart renders).

    .venv/bin/python benchmarks/eval_report.py                 # 20k respondents, 100 users × 5 folds
    .venv/bin/python benchmarks/eval_report.py --respondents 5000 --users 30 --out /tmp/b

Prints a timing table. Needs Debian's `chromium` for the screenshot
(`apt-get install -y chromium`); without it the screenshot step is skipped and says so.
The run directory is resumable: run the script again to time a resume of a finished run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METHODS = "chance,country-marginal,knn,regression"


def screenshot(html: Path, png: Path, width: int = 1300, height: int = 6000) -> str:
    """Render ``html`` with headless Chromium into ``png``; returns a status text."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        return "skipped (no chromium; apt-get install -y chromium)"
    with tempfile.TemporaryDirectory(prefix="valuesim-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               f"--screenshot={png}", f"--window-size={width},{height}", html.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0 or not png.exists():
        return f"failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}"
    return f"ok, {png.stat().st_size // 1024} KB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--respondents", type=int, default=20000)
    ap.add_argument("--countries", type=int, default=8)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--methods", default=METHODS)
    ap.add_argument("--curve-methods", default="chance,country-marginal,knn",
                    help="methods that also run the profile-size curve ('' for no curve)")
    ap.add_argument("--regression-max-train", type=int, default=3000,
                    help="training respondents per regression model (the method's default is 20000)")
    ap.add_argument("--out", default="/tmp/valuesim-bench-eval")
    ap.add_argument("--fresh", action="store_true", help="delete the run directory first")
    args = ap.parse_args()

    from valuesim.evaluation import run_study, write_report
    from valuesim.survey.io import load_survey
    from valuesim.survey.synthetic import write_synthetic

    out = Path(args.out)
    if args.fresh:
        shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    timings: list[tuple[str, float, str]] = []

    data = out / f"synthetic_{args.respondents}.csv"
    t = time.perf_counter()
    if not data.exists():
        write_synthetic(data, respondents=args.respondents, countries=args.countries, seed=0)
    timings.append(("synthesize file", time.perf_counter() - t, f"{data.stat().st_size / 1e6:.1f} MB"))

    t = time.perf_counter()
    survey = load_survey(data)
    timings.append(("load file", time.perf_counter() - t, f"{len(survey)} respondents"))

    run_dir = out / "run"
    methods = [m for m in args.methods.split(",") if m]
    curve_methods = [m for m in args.curve_methods.split(",") if m]
    options = {"regression": {"max_train": args.regression_max_train}} if "regression" in methods else {}
    # one call per method (a run accepts added methods), so each method is timed on its own
    for m in methods:
        t = time.perf_counter()
        res = run_study(survey, methods=[m], users=args.users, folds=args.folds, out=run_dir,
                        curve=bool(curve_methods), curve_methods=[m] if m in curve_methods else [],
                        command="benchmarks/eval_report.py", progress=True, method_options=options)
        curve_note = " incl. curve" if m in curve_methods else ""
        timings.append((f"eval {m} (fit + predict)", time.perf_counter() - t,
                        f"{res.new} new predictions{curve_note}, {res.failures} failed in run"))

    t = time.perf_counter()
    res = run_study(survey, methods=methods, users=args.users, folds=args.folds, out=run_dir,
                    curve=bool(curve_methods), curve_methods=[m for m in methods if m in curve_methods],
                    command="benchmarks/eval_report.py", progress=False, method_options=options)
    timings.append(("resume the finished run (all methods)", time.perf_counter() - t, f"{res.new} new predictions"))

    t = time.perf_counter()
    paths = write_report(run_dir)
    timings.append(("write report", time.perf_counter() - t,
                    f"html {paths['html'].stat().st_size // 1024} KB, csv {paths['csv'].stat().st_size // 1024} KB"))

    png = out / "report.png"
    t = time.perf_counter()
    status = screenshot(paths["html"], png)
    timings.append(("screenshot (chromium)", time.perf_counter() - t, status))

    width = max(len(name) for name, _, _ in timings)
    print(f"\n{'step'.ljust(width)}  {'seconds':>8}  notes")
    for name, secs, note in timings:
        print(f"{name.ljust(width)}  {secs:8.1f}  {note}")
    print(f"\nreport: {paths['html']}\nscreenshot: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
