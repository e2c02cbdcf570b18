"""Scored predictions for Stata, SPSS and R (``valuesim report RUN --export stata|spss|parquet``).

One row per prediction, as ``scored()`` gives it, with what a statistics package needs: the
method and country as labelled numbers (value labels: the method's name, the country's name),
0/1 flags labelled no/yes, the answer's and the truth's option text beside their codes, and a
variable label on every column. Parquet (R: ``arrow::read_parquet``) keeps the strings as they
are. Written as RUN/report/scored.dta | .sav | .parquet, atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from ..runs.render import write_parquet
from ..runs.rundir import RunDir
from .scored import _codebook, scored

FORMATS = {"stata": ".dta", "spss": ".sav", "parquet": ".parquet"}
DROP = ("codes", "trace_id", "created", "persona")
FLAGS = ("failed", "cached", "demographic", "overall")
STATA_STR = 2045  # Stata's longest str# (longer cells are cut)
LABELS = {
    "method": "simulation method", "fold": "fold of the item split", "profile_limit": "profile items shown (-1: all)",
    "country": "country of the respondent", "country_code": "country code (ISO 3166-1 alpha-3)",
    "respondent_id": "respondent id", "question_id": "item id", "profile_n": "profile items in the prompt",
    "answer": "predicted answer code", "answer_label": "predicted answer (option text)",
    "truth": "respondent's real answer code", "truth_label": "real answer (option text)",
    "distribution": "predicted distribution over the codes (JSON)", "dist_method": "how the distribution was read",
    "failed": "prediction failed (left out of scores)", "error": "why it failed", "model": "model label",
    "seconds": "seconds to predict", "cached": "served from the response cache", "category": "value category",
    "kind": "item kind (ordinal, binary, nominal)", "n_steps": "ordinal steps of the item",
    "correct": "top-1 correct (ties: expected value)", "nmae": "normalized absolute error (ordinal items)",
    "abs_error": "absolute error in codes (ordinal items)", "logloss": "-ln p(real answer)",
    "rps": "ranked probability score (ordinal items)", "chance_acc": "accuracy of a uniform guess",
    "chance_nmae": "normalized MAE of a uniform guess", "weight": "survey design weight",
    "demographic": "demographic item", "overall": "counted in the report's Overall scores",
}


def _option_text(codebook, qid: str, code) -> str:
    if pd.isna(code) or qid not in codebook:
        return ""
    try:
        return codebook[qid].label(int(code))
    except (KeyError, ValueError):
        return f"code {int(code)}, not in the codebook's list"


def export_frame(run: RunDir) -> tuple[pd.DataFrame, dict[str, dict]]:
    """The export table and its value labels (column -> {number: label})."""
    from ..survey.countries import alpha3_name

    df = scored(run)
    df = df.drop(columns=[c for c in DROP if c in df.columns])
    codebook = _codebook(run)
    df.insert(df.columns.get_loc("answer") + 1, "answer_label",
              [_option_text(codebook, q, c) for q, c in zip(df["question_id"], df["answer"])])
    df.insert(df.columns.get_loc("truth") + 1, "truth_label",
              [_option_text(codebook, q, c) for q, c in zip(df["question_id"], df["truth"])])
    labels: dict[str, dict] = {}
    methods = list(pd.unique(df["method"]))
    labels["method"] = {i + 1: m for i, m in enumerate(methods)}
    df["method"] = df["method"].map({m: i + 1 for i, m in enumerate(methods)})
    countries = sorted(df["country"].astype(str).unique())
    labels["country"] = {i + 1: (alpha3_name(c) or c) for i, c in enumerate(countries)}
    df.insert(df.columns.get_loc("country") + 1, "country_code", df["country"].astype(str))
    df["country"] = df["country"].astype(str).map({c: i + 1 for i, c in enumerate(countries)})
    for flag in FLAGS:
        if flag in df:
            df[flag] = df[flag].fillna(False).astype(int)
            labels[flag] = {0: "no", 1: "yes"}
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].fillna("").astype(str)
        elif str(df[col].dtype) in ("Int64", "boolean"):
            df[col] = df[col].astype(float)
    return df, labels


def export_scored(run_dir, fmt: str) -> Path:
    """Write RUN/report/scored.dta (stata), .sav (spss) or .parquet and return its path."""
    if fmt not in FORMATS:
        raise ConfigError(f"--export must be one of {', '.join(FORMATS)}, got {fmt!r}")
    run = RunDir(run_dir)
    df, labels = export_frame(run)
    out = run.report_dir / f"scored{FORMATS[fmt]}"
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return write_parquet(df, out)
    import pyreadstat

    names = {c: LABELS.get(c, c) for c in df.columns}
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".scored-", suffix=FORMATS[fmt])
    os.close(fd)
    try:
        if fmt == "stata":
            for col in df.columns:
                if df[col].dtype == object:
                    df[col] = df[col].str.slice(0, STATA_STR)
            pyreadstat.write_dta(df, tmp, column_labels=names, variable_value_labels=labels)
        else:
            pyreadstat.write_sav(df, tmp, column_labels=names, variable_value_labels=labels)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out
