"""Sameness check: the hash of every prediction of a statistical eval and of population runs
(both protocols, value-twin and the references included), and of the population metrics.

    PYTHONPATH=src .venv/bin/python benchmarks/sameness.py            # prints a table of hashes
    PYTHONPATH=src .venv/bin/python benchmarks/sameness.py --out /tmp/same --respondents 1500

Run it before and after a refactoring that must not change results: every line must match.
The data is the synthetic population (NOT real WVS answers), the LLM methods use the scripted
model, so nothing here needs a model or a network. A prediction's hash covers its key (method,
fold, profile size, country, persona, respondent, question), failed flag, answer and its
distribution with every probability rounded to 10 decimals (summation order may move the last
bits); a metrics table's hash covers every cell, floats rounded the same way.

Population predictions are what the scores are computed from: the store's rows, plus (in code
from before the value-twin was stored) the in-memory twin rows, captured where they were made.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pandas as pd  # noqa: E402

KEY = ["method", "fold", "profile_limit", "country", "persona", "respondent_id", "question_id"]
DIGITS = 10


def _dist(value) -> str:
    d = json.loads(value) if isinstance(value, str) else dict(value or {})
    return json.dumps({str(k): round(float(v), DIGITS) for k, v in sorted(d.items(), key=lambda kv: int(kv[0]))})


def prediction_hashes(preds: pd.DataFrame) -> dict[str, tuple[int, str]]:
    """{method: (rows, sha256 of its sorted rows)}."""
    out = {}
    df = preds.copy()
    for col in ("fold", "profile_limit", "persona"):  # (in-memory rows had no fold: -1, as stored)
        df[col] = (df[col] if col in df.columns else pd.Series(-1, index=df.index)).fillna(-1).astype(int)
    for method, g in df.groupby("method", sort=True):
        lines = sorted(
            "|".join(str(r[k]) for k in KEY) + f"|{int(bool(r['failed']))}|"
            + ("" if bool(r["failed"]) else _dist(r["distribution"]))
            for _, r in g.iterrows())
        out[str(method)] = (len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16])
    return out


def table_hash(path: Path) -> tuple[int, str]:
    df = pd.read_csv(path, dtype={"country": str}) if path.exists() and path.stat().st_size > 1 else pd.DataFrame()
    df = df.reindex(sorted(df.columns), axis=1)
    for c in df.columns:
        if df[c].dtype.kind == "f":
            df[c] = df[c].round(DIGITS)
    df = df.sort_values(list(df.columns)).reset_index(drop=True) if len(df) else df
    return len(df), hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()[:16]


def statistical_eval(data: Path, out: Path, users: int) -> dict:
    from valuesim.evaluation import run_study
    from valuesim.runs.rundir import RunDir

    run_study(data, methods=["country-marginal", "knn", "regression"], users=users, folds=5, out=out,
              progress=False)
    return prediction_hashes(RunDir(out).predictions())


def population(data: Path, out: Path, protocol: str, personas: int) -> tuple[dict, dict]:
    from valuesim.population import run_population
    from valuesim.runs.rundir import RunDir

    captured: list[pd.DataFrame] = []
    restore = _capture_twin(captured)  # code from before value-twin rows were stored
    try:
        run_population(data, countries=["DEU", "NGA", "JPN"], personas=personas,
                       methods=["value-persona", "demographic", "no-persona", "value-twin"], model="scripted",
                       out=out, calibrate=True, seed=0, progress=False, protocol=protocol,
                       questions="Q1,Q27,Q49,Q111,Q173,Q235", calibration_questions="Q2,Q71,Q199")
    finally:
        restore()
    preds = captured[0] if captured else RunDir(out).predictions()
    tables = {name: table_hash(_table(out, name)) for name in
              ("metrics.csv", "distributions.csv", "country_summary.csv", "summary.csv", "noise_floor.csv",
               "country_groups.csv", "group_summary.csv")}
    calibration = json.loads(_table(out, "calibration.json").read_text())
    tables["calibration.json"] = (len(calibration.get("temperatures", {})),
                                  hashlib.sha256(json.dumps(calibration, sort_keys=True).encode()).hexdigest()[:16])
    return prediction_hashes(preds), tables


def _table(out: Path, name: str) -> Path:
    """Where a result table is: the run's report/ folder, or (older runs) its root."""
    return out / "report" / name if (out / "report" / name).exists() else out / name


def _capture_twin(captured: list) -> callable:
    try:
        import valuesim.population.runner as runner
        original = runner.protocol_predictions
    except (ImportError, AttributeError):
        return lambda: None

    def recording(*args, **kwargs):
        preds, scored = original(*args, **kwargs)
        captured.append(preds)
        return preds, scored

    runner.protocol_predictions = recording
    return lambda: setattr(runner, "protocol_predictions", original)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help="working directory (default: a temporary one)")
    ap.add_argument("--respondents", type=int, default=1500)
    ap.add_argument("--users", type=int, default=40, help="evaluated users of the statistical eval")
    ap.add_argument("--personas", type=int, default=12)
    args = ap.parse_args()
    from valuesim.survey.synthetic import write_synthetic

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.out or tmp)
        work.mkdir(parents=True, exist_ok=True)
        data = write_synthetic(work / "synthetic.csv", respondents=args.respondents,
                               countries=["DEU", "NGA", "JPN", "USA"], seed=0)
        rows: list[tuple[str, str, int, str]] = []
        started = time.perf_counter()
        for m, (n, h) in statistical_eval(data, work / "eval", args.users).items():
            rows.append(("eval", f"prediction {m}", n, h))
        for protocol in ("split-half", "held-out-country"):
            preds, tables = population(data, work / protocol, protocol, args.personas)
            rows += [(protocol, f"prediction {m}", n, h) for m, (n, h) in preds.items()]
            rows += [(protocol, name, n, h) for name, (n, h) in tables.items()]
        print(f"{'study':<17} {'what':<32} {'rows':>6}  hash")
        for study, what, n, h in rows:
            print(f"{study:<17} {what:<32} {n:>6}  {h}")
        print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
