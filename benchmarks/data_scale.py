"""Wall time of `valuesim data synth` and `valuesim data inspect` at the real WVS-7 file's size.

The official wave-7 file has 97,220 respondents and about 600 columns. Done when synth < 60 s and
inspect < 30 s on the project's 2-core machine. The population carries the official file's
quirks (--quirks: shared D_INTERVIEW, unlisted codes, uncapped counts, extra columns); a second
copy is widened to 600 columns with country-specific and derived columns valuesim must skip,
as the official file has them. Each command runs as a subprocess (what a user waits for,
interpreter start-up included).

A labelled export (variable labels as multi-line quoted headers, value labels in the cells,
every label variant of `data synth --labelled`) of --labelled-respondents people is timed too,
with the count of items it maps (all 290 expected).

    python benchmarks/data_scale.py [--respondents 97220] [--columns 600] [--seed 1] [--keep DIR]
                                    [--labelled-respondents 30000]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-c", "import sys; from valuesim.cli import main; sys.exit(main())"]


def timed(args: list[str]) -> tuple[tuple[float, float], subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the child), and the finished process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(CLI + args, capture_output=True, text=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if run.returncode != 0:
        sys.exit(f"`valuesim {' '.join(args)}` failed ({run.returncode}):\n{run.stderr}")
    return (took, cpu), run


def widen(source: Path, target: Path, columns: int, seed: int) -> int:
    """Copy ``source`` with integer columns added (named like the official file's country-specific
    and derived variables) until it has ``columns`` columns, interleaved after the questions."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(source)
    rng = np.random.default_rng(seed)
    k = 0
    while table.num_columns < columns:
        k += 1
        name = f"Y{k:03d}_CS" if k % 3 else f"X{k:03d}R"
        table = table.append_column(name, pa.array(rng.integers(-5, 1000, table.num_rows, dtype=np.int32)))
    pacsv.write_csv(table, str(target))
    return table.num_columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=97220)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--columns", type=int, default=600, help="width of the widened copy (default 600)")
    parser.add_argument("--keep", metavar="DIR", help="keep the generated files in DIR")
    parser.add_argument("--labelled-respondents", type=int, default=30000,
                        help="size of the labelled export (0: skip it; default 30000)")
    args = parser.parse_args()

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="valuesim-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    big = workdir / "big.csv"
    try:
        rows = []
        t, _ = timed(["data", "synth", "--respondents", str(args.respondents), "--seed", str(args.seed),
                      "--quirks", "--out", str(big)])
        size = big.stat().st_size / 1e6
        rows.append(("data synth", t, 60.0))
        t, run = timed(["data", "inspect", str(big)])
        rows.append(("data inspect", t, 30.0))
        # The Parquet copy shows the cost of the format rather than of the checks.
        import pandas as pd

        pq = workdir / "big.parquet"
        pd.read_csv(big).to_parquet(pq, index=False)
        t, _ = timed(["data", "inspect", str(pq)])
        rows.append(("data inspect (parquet)", t, 30.0))

        wide = workdir / "wide.csv"
        n_columns = widen(big, wide, args.columns, args.seed)
        t, _ = timed(["data", "inspect", str(wide)])
        rows.append((f"data inspect ({n_columns} cols)", t, 30.0))

        mapped = ""
        if args.labelled_respondents:
            labelled = workdir / "labelled.csv"
            t, _ = timed(["data", "synth", "--respondents", str(args.labelled_respondents), "--countries", "6",
                          "--seed", str(args.seed), "--quirks", "--labelled", "--out", str(labelled)])
            t, lab = timed(["data", "inspect", str(labelled)])
            rows.append(("data inspect (labelled)", t, 30.0))
            mapped = next((line.strip() for line in lab.stdout.splitlines() if "labelled export:" in line), "")
            mapped = f"labelled export ({args.labelled_respondents:,} respondents, " \
                     f"{labelled.stat().st_size / 1e6:.0f} MB): {mapped}"

        header = run.stdout.splitlines()[:4]
        print(f"wide copy: {n_columns} columns, CSV {wide.stat().st_size / 1e6:.0f} MB")
        print(f"respondents {args.respondents:,}, seed {args.seed}, CSV {size:.0f} MB, "
              f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        print("\n".join("  " + line for line in header))
        if mapped:
            print(mapped)
        print()
        # CPU time shows the cost when the machine is shared (wall time then includes waiting).
        print(f"load average during the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"{'command':<24} {'wall s':>8} {'CPU s':>7} {'target s':>9}  ok")
        for name, (took, cpu), target in rows:
            print(f"{name:<24} {took:8.1f} {cpu:7.1f} {target:9.0f}  {'yes' if took < target else 'NO'}")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
