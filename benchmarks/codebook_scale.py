"""How fast a survey in ANOTHER layout loads through a codebook file (issue 19's goal: `data
inspect` of a 50,000-respondent file < 30 s).

The codebook is the WVS-7 bank rewritten as another survey would ship it: lower-case item names
(v1 ... v290), ESS-style id/country/weight columns (idno, cntry with alpha-2 codes, pspwght) and
survey-wide missing codes 77/88/99 instead of WVS's negative ones. The file is the generic
synthetic generator's (``data synth --codebook``). Prints one table.

    .venv/bin/python benchmarks/codebook_scale.py --respondents 50000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def other_layout_codebook(path: Path) -> None:
    from valuesim.survey.codebook_file import codebook_to_dict, load_codebook

    raw = codebook_to_dict(load_codebook("wvs7"))
    rename = {item["id"]: f"v{n}" for n, item in enumerate(raw["items"], start=1)}
    for item in raw["items"]:
        item["id"] = rename[item["id"]]
        for key in ("code_list", "count", "statement_template"):
            item.pop(key, None)
        if "missing" in item:
            del item["missing"]
        if item["kind"] == "numeric" and "options" in item:  # counts with "or more" options: a range
            codes = sorted(item.pop("options"))
            item.pop("statements", None)
            item["range"] = [codes[0], codes[-1]]
    raw.update(survey="A survey in another layout (benchmark)", short="OTHER",
               columns={"id": "idno", "country": "cntry", "weight": "pspwght"},
               missing={77: "refusal", 88: "don't know", 99: "no answer"},
               demographics=[rename[q] for q in raw.get("demographics", [])])
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")


def timed(cmd: list[str]) -> tuple[float, float, str]:
    start, cpu0 = time.perf_counter(), os.times()
    out = subprocess.run(cmd, capture_output=True, text=True)
    cpu1 = os.times()
    if out.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    return time.perf_counter() - start, cpu, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--respondents", type=int, default=50_000)
    args = ap.parse_args()
    valuesim = str(Path(sys.executable).with_name("valuesim"))
    with tempfile.TemporaryDirectory() as tmp:
        codebook, data = Path(tmp) / "other.yaml", Path(tmp) / "other.csv"
        other_layout_codebook(codebook)
        rows = []
        wall, cpu, _ = timed([valuesim, "data", "synth", "--codebook", str(codebook),
                              "--respondents", str(args.respondents), "--out", str(data)])
        rows.append(("data synth --codebook", wall, cpu))
        wall, cpu, out = timed([valuesim, "data", "inspect", str(data), "--codebook", str(codebook)])
        rows.append(("data inspect --codebook", wall, cpu))
        items = next(line for line in out.splitlines() if line.startswith("items:"))
        size = data.stat().st_size / 1e6
    load = os.getloadavg()[0]
    print(f"{args.respondents:,} respondents, 290 items, CSV {size:.0f} MB, {items.split(':', 1)[1].strip()}; "
          f"load average {load:.1f}")
    print(f"{'step':<26} {'wall s':>8} {'CPU s':>8}")
    for name, wall, cpu in rows:
        print(f"{name:<26} {wall:>8.1f} {cpu:>8.1f}")


if __name__ == "__main__":
    main()
