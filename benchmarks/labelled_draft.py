"""How long a labelled .sav of another survey takes to load WITHOUT a codebook (valuesim drafts
one from the file's own labels), and how often the file's data are read to do it.

The file: the ESS-layout test codebook's ten items repeated in --blocks blocks (v1_polintr ...),
as SPSS writes them (variable labels, value labels, the missing codes as values), of
--respondents synthetic people. Prints one line per repeat and the best time.

    python benchmarks/labelled_draft.py [--respondents 5000] [--blocks 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

ESS = Path(__file__).parents[1] / "tests" / "fixtures" / "ess9_codebook.yaml"


def labelled_sav(path: Path, respondents: int, blocks: int) -> int:
    """Write the file; returns its number of columns."""
    import pandas as pd
    import pyreadstat

    from valuesim.survey.codebook_file import load_codebook
    from valuesim.survey.synthetic.generic import generate_for_codebook

    codebook = load_codebook(ESS)
    base = generate_for_codebook(codebook, respondents=respondents, countries=4, seed=7)
    frame = {c: base[c] for c in ("idno", "cntry", "pspwght")}
    labels = ["Respondent's identification number", "Country", "Post-stratification weight"]
    values: dict[str, dict] = {}
    for b in range(1, blocks + 1):
        for q in codebook:
            name = f"v{b}_{q.id}"
            frame[name] = base[q.id]
            labels.append(f"{q.text} (part {b})")
            values[name] = {**({o.code: o.label for o in q.options} if q.kind.value != "numeric" else {}),
                            **{c: t.capitalize() for c, t in codebook.missing_codes(q).items()}}
    pyreadstat.write_sav(pd.DataFrame(frame), str(path), column_labels=labels, variable_value_labels=values)
    return len(frame)


def counted_reads():
    """Wrap pyreadstat's readers to count the reads of a file's data (metadata-only reads apart)."""
    import pyreadstat

    counts = {"data": 0, "metadata": 0, "seconds": 0.0}
    for name in ("read_sav", "read_dta"):
        original = getattr(pyreadstat, name)

        def wrapper(*args, _original=original, **kwargs):
            counts["metadata" if kwargs.get("metadataonly") else "data"] += 1
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                counts["seconds"] += time.perf_counter() - start

        setattr(pyreadstat, name, wrapper)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--respondents", type=int, default=5000)
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from valuesim.survey.io import load_survey

    counts = counted_reads()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "other.sav"
        columns = labelled_sav(path, args.respondents, args.blocks)
        size = path.stat().st_size / 1e6
        times = []
        for _ in range(args.repeats):
            counts.update(data=0, metadata=0, seconds=0.0)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                survey = load_survey(path)
            times.append(time.perf_counter() - start)
            print(f"load_survey (drafted codebook): {times[-1]:.2f} s, {len(survey):,} respondents, "
                  f"{len(survey.codebook)} items; reads of the file: {counts['data']} data, "
                  f"{counts['metadata']} metadata only, {counts['seconds']:.2f} s in them")
    times.sort()
    print(f"{args.respondents:,} respondents x {columns} columns (.sav {size:.1f} MB); of {args.repeats}: best "
          f"{times[0]:.2f} s, median {times[len(times) // 2]:.2f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
