"""How fast a survey in ANOTHER layout loads through a codebook file (issue 19's goal: `data
inspect` of a 50,000-respondent file < 30 s; issue 30's: a 10,000-item codebook inspected in
< 20 s, and hostile codebooks -- a YAML alias bomb, an ordinal range of 10^8 codes -- refused in
< 5 s and < 500 MB).

The codebook is the WVS-7 bank rewritten as another survey would ship it: lower-case item names
(v1 ... v290), ESS-style id/country/weight columns (idno, cntry with alpha-2 codes, pspwght) and
survey-wide missing codes 77/88/99 instead of WVS's negative ones. The file is the generic
synthetic generator's (``data synth --codebook``). Prints one table.

    .venv/bin/python benchmarks/codebook_scale.py --respondents 50000 --items 10000
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


def other_layout_codebook(path: Path, items: int = 290) -> None:
    """The WVS-7 bank in another layout; with ``items`` above 290 its items repeated (v1_2, ...)."""
    import copy

    from valuesim.survey.codebook_file import codebook_to_dict, load_codebook

    raw = codebook_to_dict(load_codebook("wvs7"))
    for key in ("dimensions", "targets", "calibration"):  # (they name WVS ids; inspect needs none)
        raw.pop(key, None)
    bank = raw["items"]
    raw["items"] = [dict(copy.deepcopy(bank[n % len(bank)]), id=bank[n % len(bank)]["id"] + (f"_{n // len(bank) + 1}"
                                                                                              if n >= len(bank) else ""))
                    for n in range(items)]
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
               demographics={role: rename[q] for role, q in raw.get("demographics", {}).items()})
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")


def timed(cmd: list[str], refused: bool = False) -> tuple[float, float, str, float]:
    """Wall and CPU seconds, stdout (stderr when ``refused``: it must exit 2) and peak memory (MB)."""
    start, cpu0 = time.perf_counter(), os.times()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    cpu1 = os.times()
    if out.returncode != (2 if refused else 0):
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    *err, peak = [line for line in out.stderr.strip().splitlines() if not line.startswith("Command exited")]
    return time.perf_counter() - start, cpu, "\n".join(err) if refused else out.stdout, int(peak) / 1024


def hostile(tmp: Path) -> dict[str, Path]:
    """Codebooks that once ran for minutes in gigabytes: an alias bomb, 100,000 items, a 10^8-code range."""
    lines = ["survey: Bomb", "scales:", '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 10)]
    lines += ["items:", "  - {id: a1, kind: binary, text: *l9, options: {1: Yes, 2: No}}"]
    out = {"alias bomb (9^10 strings)": tmp / "bomb.yaml", "ordinal range [0, 10^8]": tmp / "wide.yaml"}
    out["alias bomb (9^10 strings)"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    out["100,000 items"] = tmp / "huge.yaml"
    out["100,000 items"].write_text("survey: Huge\nitems:\n" + "".join(
        f"  - {{id: i{n}, kind: binary, text: t{n}, options: {{1: a, 2: b}}}}\n" for n in range(100_000)), encoding="utf-8")
    out["ordinal range [0, 10^8]"].write_text(
        "survey: Wide\nitems:\n  - {id: a1, kind: ordinal, text: How much?, range: [0, 100000000]}\n", encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--respondents", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=10_000, help="items of the large codebook (0: skip it)")
    ap.add_argument("--item-respondents", type=int, default=1_000, help="respondents of the large codebook's file")
    args = ap.parse_args()
    valuesim = str(Path(sys.executable).with_name("valuesim"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(290, args.respondents)] + ([(args.items, args.item_respondents)] if args.items else [])
        for items, respondents in cases:
            codebook, data = Path(tmp) / f"other{items}.yaml", Path(tmp) / f"other{items}.csv"
            other_layout_codebook(codebook, items)
            label = f"{items:,} items, {respondents:,} resp."
            wall, cpu, _, peak = timed([valuesim, "data", "synth", "--codebook", str(codebook),
                                        "--respondents", str(respondents), "--out", str(data)])
            rows.append((f"data synth ({label})", wall, cpu, peak))
            wall, cpu, out, peak = timed([valuesim, "data", "inspect", str(data), "--codebook", str(codebook)])
            rows.append((f"data inspect ({label}, CSV {data.stat().st_size / 1e6:.0f} MB)", wall, cpu, peak))
        for name, path in hostile(Path(tmp)).items():
            wall, cpu, err, peak = timed([valuesim, "codebook", "show", str(path)], refused=True)
            assert len(err.splitlines()) == 1, err
            rows.append((f"refused: {name}", wall, cpu, peak))
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"{'step':<60} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}")
    for name, wall, cpu, peak in rows:
        print(f"{name:<60} {wall:>7.1f} {cpu:>7.1f} {peak:>8.0f}")


if __name__ == "__main__":
    main()
