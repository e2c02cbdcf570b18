"""`valuesim report RUN_A --compare RUN_B` (paired differences on the same split, other splits
refused in one line) and `--export stata|spss|parquet` (read back with value labels)."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from valuesim.cli import main
from valuesim.evaluation.compare import compare_runs
from valuesim.survey.synthetic import write_synthetic


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmp")
    synth = write_synthetic(tmp / "s.csv", respondents=120, countries=3, seed=5)
    common = [str(synth), "--no-progress", "--items", "Q1-Q60"]
    a, b, c = tmp / "a", tmp / "b", tmp / "c"
    assert main(["eval", *common, "--methods", "country-marginal,knn", "--users", "10", "--out", str(a)]) == 0
    assert main(["eval", *common, "--methods", "country-marginal,knn", "--option", "knn.k=3",
                 "--split", str(a / "split.json"), "--out", str(b)]) == 0
    assert main(["eval", *common, "--methods", "knn", "--users", "10", "--seed", "9", "--out", str(c)]) == 0
    return a, b, c


def test_compare_prints_paired_differences_with_intervals(runs, capsys):
    a, b, _ = runs
    capsys.readouterr()
    assert main(["report", str(a), "--compare", str(b)]) == 0
    out = capsys.readouterr().out
    assert "comparison on the same split" in out and "A − B [95% CI]" in out
    table = compare_runs(a, b)
    same = table[(table["method_a"] == "country-marginal") & (table["metric"] == "accuracy")].iloc[0]
    assert same["difference"] == 0 and same["users"] == 10  # the same method on the same split: no difference
    knn = table[(table["method_a"] == "knn") & (table["metric"] == "nmae")].iloc[0]
    assert knn["ci_low"] <= knn["difference"] <= knn["ci_high"]
    assert abs(knn["difference"] - (knn["mean_a"] - knn["mean_b"])) < 1e-12


def test_compare_refuses_another_split_in_one_line(runs, capsys):
    a, _, c = runs
    capsys.readouterr()
    assert main(["report", str(a), "--compare", str(c)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not on the same split" in err and "--split" in err


@pytest.mark.parametrize("fmt,reader", [("stata", pyreadstat.read_dta), ("spss", pyreadstat.read_sav)])
def test_export_is_read_back_with_value_labels(runs, capsys, fmt, reader):
    a = runs[0]
    assert main(["report", str(a), "--export", fmt]) == 0
    path = a / "report" / ("scored.dta" if fmt == "stata" else "scored.sav")
    assert str(path) in capsys.readouterr().out
    df, meta = reader(str(path))
    assert set(meta.variable_value_labels["method"].values()) == {"country-marginal", "knn"}
    names = set(meta.variable_value_labels["country"].values())
    assert len(names) == 3 and not names & set(df["country_code"])  # countries by name, not ISO code
    assert meta.variable_value_labels["failed"] == {0: "no", 1: "yes"}
    assert meta.column_names_to_labels["truth"] == "respondent's real answer code"
    scored = pd.read_parquet(a / "report" / "predictions.parquet")
    assert len(df) == len(scored) and {"correct", "nmae", "answer_label", "truth_label", "weight"} <= set(df.columns)
    labelled, _ = reader(str(path), apply_value_formats=True)
    assert set(labelled["method"]) == {"country-marginal", "knn"}


def test_export_parquet_and_an_unknown_format(runs, capsys):
    a = runs[0]
    assert main(["report", str(a), "--export", "parquet"]) == 0
    df = pd.read_parquet(a / "report" / "scored.parquet")
    assert {"method", "country", "country_code", "correct", "weight"} <= set(df.columns)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["report", str(a), "--export", "excel"])
