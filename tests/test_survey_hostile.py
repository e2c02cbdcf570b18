"""Hostile codebooks and data files (issue 30): each refused in one line, or read correctly,
through the CLI where a user meets them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from valuesim.cli import main


def _codebook(tmp_path: Path, text: str, name: str = "cb.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _one_line_refusal(capsys, argv: list[str]) -> str:
    """The command exits 2 with one line on stderr and no traceback; returns that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


AGREE = """survey: Test survey
columns: {id: pid, country: cntry}
missing: {1: refusal, 9: no answer}
items:
  - {id: a1, kind: ordinal, text: "Agree?", options: {1: Agree strongly, 2: Agree, 3: Disagree}}
"""


def test_a_survey_wide_missing_code_that_is_an_answer_is_refused(tmp_path, capsys):
    err = _one_line_refusal(capsys, ["codebook", "show", str(_codebook(tmp_path, AGREE))])
    assert "'a1'" in err and "code 1" in err and "Agree strongly" in err and "refusal" in err


def test_an_item_with_its_own_missing_codes_is_not_refused_for_the_survey_wide_ones(tmp_path, capsys):
    text = AGREE.replace('3: Disagree}}', '3: Disagree}, missing: {9: no answer}}')
    assert main(["codebook", "show", str(_codebook(tmp_path, text))]) == 0
    capsys.readouterr()


def test_an_item_level_clash_names_both_meanings(tmp_path, capsys):
    text = AGREE.replace("missing: {1: refusal, 9: no answer}\n", "").replace(
        '3: Disagree}}', '3: Disagree}, missing: {3: refusal}}')
    err = _one_line_refusal(capsys, ["codebook", "show", str(_codebook(tmp_path, text))])
    assert "code 3" in err and "Disagree" in err and "refusal" in err


def test_a_data_file_edited_past_its_first_megabyte_is_refused_on_resume(synthetic_file, tmp_path, capsys,
                                                                           monkeypatch):
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    path = Path(synthetic_file(2200, countries=3, seed=1))
    assert path.stat().st_size > (1 << 20) + 10_000
    out = tmp_path / "run"
    argv = ["eval", str(path), "--methods", "country-marginal", "--users", "4", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    data = json.loads((out / "run.json").read_text())["settings"]["data"]
    assert len(data["sha256"]) == 64
    # swap two answer codes in the last line: same size, same first MB
    raw = path.read_bytes()
    last = raw.rstrip(b"\n").rfind(b"\n") + 1
    line = raw[last:]
    swapped = line.replace(b",1,", b",#,").replace(b",2,", b",1,").replace(b",#,", b",2,")
    assert swapped != line and len(swapped) == len(line)
    path.write_bytes(raw[:last] + swapped)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "different settings" in err and "sha256" in err and "Traceback" not in err


def test_a_run_recorded_with_the_first_megabyte_only_resumes_and_gains_the_whole_hash(synthetic_file, tmp_path,
                                                                                      capsys, monkeypatch):
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    path = Path(synthetic_file(300, countries=2, seed=2))
    out = tmp_path / "run"
    argv = ["eval", str(path), "--methods", "country-marginal", "--users", "3", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    # make it look like a run of an older valuesim: no whole-file hash in run.json nor in the store
    import sqlite3

    record = json.loads((out / "run.json").read_text())
    del record["settings"]["data"]["sha256"]
    (out / "run.json").write_text(json.dumps(record))
    with sqlite3.connect(out / "predictions.sqlite") as con:
        con.execute("UPDATE run_identity SET value = ? WHERE key = 'settings'",
                    (json.dumps(record["settings"], sort_keys=True),))
    assert main(argv) == 0
    assert len(json.loads((out / "run.json").read_text())["settings"]["data"]["sha256"]) == 64
    capsys.readouterr()


def test_the_whole_file_hash_is_reused_while_size_and_mtime_match(tmp_path, monkeypatch):
    from valuesim.runs import rundir

    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    path = tmp_path / "f.csv"
    path.write_bytes(b"x" * 5000)
    first = rundir.file_fingerprint(path)["sha256"]
    reads = []
    real_open = open

    def counting_open(p, *a, **k):
        reads.append(str(p))
        return real_open(p, *a, **k)

    monkeypatch.setattr("builtins.open", counting_open)
    assert rundir.file_fingerprint(path)["sha256"] == first
    assert reads.count(str(path)) == 1  # the first MB only; the whole-file hash came from the record


YESNO = """survey: Test survey
columns: {id: pid, country: cntry}
items:
  - {id: on, kind: binary, text: "Do you agree?", options: {1: yes, 2: no}}
  - {id: "null", kind: ordinal, text: "How much?", options: {1: off, 2: on, 3: 010}}
"""


def test_yaml_words_stay_words(tmp_path, capsys):
    assert main(["codebook", "show", "--json", str(_codebook(tmp_path, YESNO))]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in shown["items"]] == ["on", "null"]
    assert shown["items"][0]["options"] == {"1": "yes", "2": "no"}
    assert shown["items"][1]["options"] == {"1": "off", "2": "on", "3": "10"}


@pytest.mark.parametrize("item, words", [
    ('{id: a1, kind: binary, text: [Do you, agree], options: {1: Yes, 2: No}}', ["'text'", "must be text", "list"]),
    ('{id: a1, kind: binary, text: "Agree?", options: {1: [Yes], 2: No}}', ["code 1", "must be text"]),
    ('{id: a1, kind: binary, text: "Agree?", short: {x: 1}, options: {1: Yes, 2: No}}', ["'short'", "must be text"]),
    ('{id: ../../../../OUTSIDE, kind: binary, text: "Agree?", options: {1: Yes, 2: No}}', ["not a plain identifier"]),
    ('{id: figures/x, kind: binary, text: "Agree?", options: {1: Yes, 2: No}}', ["not a plain identifier"]),
    ('{id: "a\\nb", kind: binary, text: "Agree?", options: {1: Yes, 2: No}}', ["not a plain identifier"]),
    ('{id: 12, kind: binary, text: "Agree?", options: {1: Yes, 2: No}}', ["not a plain identifier"]),
    ('{id: pid, kind: binary, text: "Agree?", options: {1: Yes, 2: No}}', ["the id column"]),
    ('{id: CNTRY, kind: binary, text: "Agree?", options: {1: Yes, 2: No}}', ["the country column"]),
    ('{id: weight, kind: binary, text: "Agree?", options: {1: Yes, 2: No}}', ["a column valuesim adds"]),
])
def test_a_bad_item_is_refused_in_one_line(tmp_path, capsys, item, words):
    text = f"survey: Test survey\ncolumns: {{id: pid, country: cntry}}\nitems:\n  - {item}\n"
    err = _one_line_refusal(capsys, ["codebook", "show", str(_codebook(tmp_path, text))])
    assert all(w in err for w in words), err


def test_file_names_built_from_data_stay_in_their_folder():
    from valuesim.runs.names import data_file_name

    assert data_file_name("distribution_", "Q1", ".png") == "distribution_Q1.png"
    names = {data_file_name("distribution_", key, ".png") for key in
             ("../../../../OUTSIDE", "a/b", "a_b", "..", ".hidden", "a\\b", "a\nb", "x" * 500)}
    assert len(names) == 8
    for name in names:
        assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")
        assert name.startswith("distribution_") and name.endswith(".png") and len(name) < 120


def _alias_bomb(levels: int = 10) -> str:
    lines = ["survey: Bomb", "columns: {id: pid, country: cntry}", "scales:",
             '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    lines += ["items:", f"  - {{id: a1, kind: binary, text: *l{levels - 1}, options: {{1: Yes, 2: No}}}}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, words", [
    (_alias_bomb(), ["aliases expand to", "alias bomb"]),
    ("survey: R\ncolumns: {id: pid}\nscales: {s: &s [*s]}\nitems: []\n", ["recursive"]),
    (AGREE.replace("missing: {1: refusal, 9: no answer}\n", "").replace(
        "options: {1: Agree strongly, 2: Agree, 3: Disagree}", "range: [0, 10000000]"),
     ["10,000,001 answer codes", "declare the item numeric"]),
    (AGREE.replace('text: "Agree?"', 'text: "' + "x" * 30_000 + '"'), ["'text'", "30,000 characters"]),
    (AGREE.replace("options: {1: Agree strongly, 2: Agree, 3: Disagree}",
                   "options: {" + ", ".join(f"{c}: o{c}" for c in range(10, 5_020)) + "}"),
     ["5,010 codes", "more than one item may have"]),
    ("survey: X\nitems:\n" + "".join(f"  - {{id: i{n}, kind: binary, text: t, options: {{1: a, 2: b}}}}\n"
                                      for n in range(20_001)), ["more than 20,000 items"]),
    ("survey: X\nitems: " + "[" * 5000 + "]" * 5000 + "\n", ["nest"]),  # (libyaml: "maximum nesting depth")
])
def test_a_codebook_past_a_limit_is_refused_in_one_line(tmp_path, capsys, text, words):
    err = _one_line_refusal(capsys, ["codebook", "show", str(_codebook(tmp_path, text))])
    assert all(w in err for w in words), err


def test_a_codebook_file_larger_than_a_codebook_can_be_is_not_read(tmp_path, capsys, monkeypatch):
    from valuesim.survey import codebook_limits

    monkeypatch.setattr(codebook_limits, "MAX_FILE_BYTES", 1000)
    path = _codebook(tmp_path, AGREE + "# " + "x" * 2000 + "\n")
    err = _one_line_refusal(capsys, ["codebook", "show", str(path)])
    assert "is more than a codebook can be" in err and "data file" in err


ESS = Path(__file__).parent / "fixtures" / "ess9_codebook.yaml"


def test_all_weights_zero_says_so(synthetic_file, tmp_path, capsys):
    import pandas as pd

    path = Path(synthetic_file(300, countries=2, seed=4))
    frame = pd.read_csv(path)
    frame["W_WEIGHT"] = 0.0
    frame.to_csv(path, index=False)
    country = sorted(frame["B_COUNTRY_ALPHA"].unique())[0]
    err = _one_line_refusal(capsys, ["population", str(path), "--countries", country, "--personas", "2",
                                     "--model", "scripted", "--out", str(tmp_path / "run"), "--no-progress"])
    assert "W_WEIGHT" in err and "is 0 or missing" in err and "unanswered" not in err
    assert not (tmp_path / "run").exists()


def test_a_codebook_id_column_missing_from_the_file_is_said_once(tmp_path, capsys):
    from valuesim.survey.synthetic.generic import generate_for_codebook

    frame = generate_for_codebook(__import__("valuesim.survey.codebook_file", fromlist=["x"]).load_codebook(ESS),
                                  respondents=40, countries=2, seed=1).drop(columns=["idno"])
    path = tmp_path / "ess.csv"
    frame.to_csv(path, index=False)
    assert main(["data", "inspect", str(path), "--codebook", str(ESS)]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "has no idno column" in line]
    assert len(said) == 1 and "row number" in said[0]


def test_out_a_dangling_symlink_says_what_it_is(synthetic_file, tmp_path, capsys):
    path = Path(synthetic_file(100, countries=2, seed=5))
    link = tmp_path / "run"
    link.symlink_to(tmp_path / "gone")
    err = _one_line_refusal(capsys, ["eval", str(path), "--methods", "country-marginal", "--users", "2",
                                     "--out", str(link), "--no-progress"])
    assert "symbolic link" in err and "gone" in err and "File exists" not in err


def test_a_line_break_in_a_warning_or_error_keeps_it_one_line(synthetic_file, monkeypatch, capsys):
    import warnings

    import valuesim.survey.io as io

    path = Path(synthetic_file(60, countries=2, seed=6))
    real = io.load_survey

    def warning_load(*args, **kwargs):
        warnings.warn("column 'Q1\nvaluesim: error: forged' has odd codes")
        return real(*args, **kwargs)

    monkeypatch.setattr(io, "load_survey", warning_load)
    assert main(["data", "inspect", str(path)]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "odd codes" in line or "forged" in line]
    assert lines == ["valuesim: warning: column 'Q1\\nvaluesim: error: forged' has odd codes"]


def test_report_md_escapes_category_names(tmp_path, capsys):
    text = ESS.read_text(encoding="utf-8") + (
        'categories: {Politics: "[click](javascript:alert(1)) <b>x</b>", Wellbeing: "*Well* | being"}\n')
    codebook = _codebook(tmp_path, text, "ess.yaml")
    data = tmp_path / "ess.csv"
    assert main(["data", "synth", "--codebook", str(codebook), "--respondents", "80", "--out", str(data)]) == 0
    out = tmp_path / "run"
    assert main(["eval", str(data), "--codebook", str(codebook), "--methods", "country-marginal", "--users", "3",
                 "--out", str(out), "--no-progress"]) == 0
    assert main(["report", str(out)]) == 0
    capsys.readouterr()
    md = next(out.rglob("report.md")).read_text(encoding="utf-8")
    line = next(line for line in md.splitlines() if line.startswith("Categories"))
    assert "](javascript" not in line and "<b>" not in line and "\\[click\\]" in line and "\\*Well\\*" in line
