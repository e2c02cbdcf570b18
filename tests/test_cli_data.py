"""`valuesim data synth|inspect` and `valuesim profile`, run the way a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from test_import import official_frame  # noqa: E402  (tests/ is on sys.path under pytest)
from valuesim.cli import main


@pytest.fixture(scope="module")
def frame():
    return official_frame(n=120, seed=3)


@pytest.fixture
def csv_file(tmp_path, frame):
    path = tmp_path / "wvs.csv"
    frame.to_csv(path, index=False, sep=";")
    return path


def test_inspect_prints_respondents_countries_items_and_missing_table(csv_file, frame, capsys):
    assert main(["data", "inspect", str(csv_file)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "respondents:  120" in out
    counts = frame["B_COUNTRY_ALPHA"].value_counts()
    assert "countries:    3" in out and f"ARG {counts['ARG']}" in out
    assert "items:        290 of 290 present" in out
    assert "synthetic:    yes" in out
    for header in ("don't know (-1)", "not asked (-4)", "missing (-5)", "Core", "Pol.Eng", "All"):
        assert header in out


def test_inspect_json_matches_the_file(csv_file, frame, capsys):
    assert main(["data", "inspect", str(csv_file), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["respondents"] == 120
    assert summary["countries"] == {c: int(n) for c, n in frame["B_COUNTRY_ALPHA"].value_counts().items()}
    rows = {r["category"]: r for r in summary["missing_by_category"]}
    qids = [f"Q{i}" for i in range(1, 291)]
    cells = frame[qids].to_numpy()
    assert rows["All"]["rates"]["not asked (-4)"] == pytest.approx((cells == -4).mean())
    assert rows["All"]["total"] == pytest.approx((cells < 0).mean())


def test_inspect_partial_file_prints_one_warning_line(tmp_path, frame, capsys):
    path = tmp_path / "partial.csv"
    frame.drop(columns=[f"Q{i}" for i in range(1, 46)] + ["Q260"]).to_csv(path, index=False)
    assert main(["data", "inspect", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "warning" in err and "Q1-Q45, Q260" in err
    assert "245 of 290 present" not in out and "244 of 290 present; absent: Q1-Q45, Q260" in out


def test_bad_file_is_one_line_exit_code_2_no_traceback(tmp_path, frame):
    path = tmp_path / "bad.csv"
    f = frame.copy()
    f.loc[4, "Q46"] = 8
    f.to_csv(path, index=False)
    run = subprocess.run([sys.executable, "-c", "import sys; from valuesim.cli import main; sys.exit(main())",
                          "data", "inspect", str(path), "--strict"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1
    assert "column Q46, row 5" in run.stderr and str(path) in run.stderr


def test_profile_prints_qa_list_and_excludes(csv_file, frame, capsys):
    rid = str(frame.loc[2, "D_INTERVIEW"])
    assert main(["profile", str(csv_file), "--respondent", rid, "--exclude", "Q1,Q46"]) == 0
    out = capsys.readouterr().out
    assert "Q1:" not in out and "Q46:" not in out
    answered = [q for q in ("Q2", "Q47") if frame.loc[2, q] >= 0]
    for q in answered:
        assert f"{q}: " in out
    assert "Answer: " in out


def test_profile_statements(csv_file, frame, capsys):
    rid = str(frame.loc[0, "D_INTERVIEW"])
    assert main(["profile", str(csv_file), "--respondent", rid, "--statements"]) == 0
    out = capsys.readouterr().out
    n_answered = int((frame.loc[0, [f"Q{i}" for i in range(1, 291)]] >= 0).sum())  # code 0 is valid (e.g. Q274)
    assert len(out.strip().splitlines()) == n_answered
    assert "Answer:" not in out


def test_profile_unknown_respondent_or_question(csv_file, capsys):
    assert main(["profile", str(csv_file), "--respondent", "nobody"]) == 2
    assert "respondent 'nobody' is not in" in capsys.readouterr().err
    assert main(["profile", str(csv_file), "--respondent", "20070001", "--exclude", "Q999"]) == 2
    assert "Q999" in capsys.readouterr().err


def test_synth_writes_a_synthetic_file_that_loads(tmp_path, capsys):
    synthetic = pytest.importorskip("valuesim.survey.synthetic")
    if not hasattr(synthetic, "write_synthetic"):
        pytest.skip("synthetic generator not built yet")
    import valuesim

    out = tmp_path / "synth.csv"
    assert main(["data", "synth", "--respondents", "150", "--countries", "3", "--seed", "7",
                 "--out", str(out)]) == 0
    assert "150" in capsys.readouterr().out
    survey = valuesim.load_survey(out)
    assert len(survey) == 150 and survey.synthetic is True
    assert len(survey.countries) == 3
    again = tmp_path / "again.csv"
    assert main(["data", "synth", "--respondents", "150", "--countries", "3", "--seed", "7",
                 "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()  # same seed, same file


@pytest.mark.parametrize("suffix", [".parquet", ".sav", ".dta"])
def test_synth_writes_other_formats_by_extension(tmp_path, suffix, capsys):
    import valuesim

    out = tmp_path / f"synth{suffix}"
    assert main(["data", "synth", "--respondents", "60", "--countries", "2", "--seed", "1", "--out", str(out)]) == 0
    survey = valuesim.load_survey(out)
    assert len(survey) == 60 and survey.synthetic and len(survey.countries) == 2
    csv = tmp_path / "synth.csv"
    main(["data", "synth", "--respondents", "60", "--countries", "2", "--seed", "1", "--out", str(csv)])
    same = valuesim.load_survey(csv)
    assert survey.data.equals(same.data)


def test_synth_rejects_unknown_extension(tmp_path, capsys):
    assert main(["data", "synth", "--respondents", "10", "--out", str(tmp_path / "x.xlsx")]) == 2
    assert ".csv, .sav, .dta or .parquet" in capsys.readouterr().err


def test_inspect_lists_every_quirk_of_a_quirky_file(tmp_path, capsys):
    path = tmp_path / "quirks.csv"
    assert main(["data", "synth", "--respondents", "400", "--countries", "4", "--seed", "2", "--quirks",
                 "--out", str(path)]) == 0
    capsys.readouterr()
    assert main(["data", "inspect", str(path)]) == 0
    out, err = capsys.readouterr()
    section = out.split("data quality")[1]
    for expected in ("duplicated ids: ", "Q277: ", "Q270: ", "top-coded", "Q266: ", "no label for",
                     "items not asked in a whole country", "Q57", "columns not used by valuesim were ignored",
                     "Q33_3"):
        assert expected in section, expected
    assert "share 1 D_INTERVIEW values" in err
    assert main(["data", "inspect", str(path), "--json"]) == 0
    quality = json.loads(capsys.readouterr().out)["quality"]
    assert set(quality["top_coded"]) == {"Q270", "Q274"} and quality["duplicate_ids"]["rows"] > 0
    assert quality["extra_columns"] >= 20 and "Q266" in quality["unlabelled_codes"]


def test_labelled_synth_and_country_option(tmp_path, capsys):
    path = tmp_path / "labelled.csv"
    assert main(["data", "synth", "--respondents", "60", "--countries", "2", "--labelled", "--out", str(path)]) == 0
    capsys.readouterr()
    assert main(["data", "inspect", str(path), "--country", "DEU"]) == 0
    out = capsys.readouterr().out
    assert "labelled export: 290 columns mapped" in out and "countries:    1" in out
