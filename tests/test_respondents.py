"""`valuesim eval --respondents IDS|FILE`, code-list codes the codebook does not list, and a
file without an id column (keyed by row number, said once)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from valuesim.cli import main
from valuesim.runs.rundir import RunDir
from valuesim.survey.io import load_survey
from valuesim.survey.synthetic import write_synthetic
from valuesim.survey.wvs7.bank import load_codebook


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("resp") / "s.csv", respondents=80, countries=2, seed=3)


def ids_of(path, n):
    return [str(i) for i in pd.read_csv(path, usecols=["D_INTERVIEW"])["D_INTERVIEW"][:n]]


ARGS = ["--methods", "country-marginal", "--items", "Q1-Q20", "--no-progress"]


def test_respondents_inline_and_from_a_file(synth, tmp_path, capsys):
    ids = ids_of(synth, 3)
    assert main(["eval", str(synth), *ARGS, "--respondents", ",".join(ids), "--out", str(tmp_path / "a")]) == 0
    assert sorted(RunDir(tmp_path / "a").split_json()["users"]) == sorted(ids)
    listing = tmp_path / "ids.txt"
    listing.write_text(f"# chosen people\n{ids[0]}\n{ids[1]}  # the second\n\n", encoding="utf-8")
    assert main(["eval", str(synth), *ARGS, "--respondents", str(listing), "--out", str(tmp_path / "b")]) == 0
    assert RunDir(tmp_path / "b").split_json()["users"] == ids[:2]
    assert set(RunDir(tmp_path / "b").predictions()["respondent_id"]) == set(ids[:2])


@pytest.mark.parametrize("extra,message", [
    (["--respondents", "bogus-id"], "--respondents: 1 of the 1 ids are not in"),
    (["--respondents", "1", "--users", "5"], "--respondents and --users both choose"),
    (["--respondents", "missing/ids.txt"], "no such file"),
])
def test_bad_respondents_are_one_line_and_leave_nothing(synth, tmp_path, capsys, extra, message):
    out = tmp_path / "run"
    assert main(["eval", str(synth), *ARGS, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and not out.exists()


def test_an_unlisted_code_list_code_says_so():
    language = load_codebook()["Q272"]
    assert language.label(1105) == "language code 1105, not in the codebook's list"
    assert "not in the codebook's list" in language.statement(1105)


def test_a_file_without_an_id_column_says_once_that_rows_are_keyed_by_position(synth, tmp_path):
    frame = pd.read_csv(synth).drop(columns=["D_INTERVIEW"])
    path = tmp_path / "noid.csv"
    frame.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        survey = load_survey(path)
    said = [str(w.message) for w in caught if "keyed by their row number" in str(w.message)]
    assert len(said) == 1 and "no D_INTERVIEW column" in said[0]
    assert survey.data.index[0] == "row1"
