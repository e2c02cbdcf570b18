"""The report: every section present, tables laid out like the paper's, CSV/Parquet readable,
and everything from data or models escaped in HTML and Markdown."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

from eval_helpers import FakeLLM, FirstCode, small_survey
from valuesim.cli import main as cli_main
from valuesim.evaluation import run_study, write_report
from valuesim.survey.model import Codebook
from valuesim.survey.survey import Survey

EVIL = "<script>alert(1)</script>"


def hostile_survey() -> Survey:
    s = small_survey(n=40, countries=("AAA", f"B{EVIL}"))
    qs = list(s.codebook.questions)
    qs[0] = dataclasses.replace(qs[0], text=f"Do you like {EVIL}?")
    return Survey(Codebook(tuple(qs), name="evil"), s.data, source=s.source, synthetic=True)


def test_report_has_every_section_and_escapes_everything(tmp_path):
    survey = hostile_survey()
    evil_llm = FakeLLM(f"llm{EVIL}", fail_items={survey.codebook.questions[1].id}, reply=f"Answer: {EVIL}")
    out = tmp_path / "run"
    run_study(survey, methods=[FirstCode(f"stat{EVIL}"), evil_llm], users=10, folds=5, out=out, model=object(),
              curve=True, curve_sizes=(0, 5, 10), progress=False)
    # make the worst item the one with the hostile text, so it shows in the "hardest items" table
    paths = write_report(out, reference=f"stat{EVIL}")
    page = paths["html"].read_text()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    md = paths["markdown"].read_text()
    assert "<script" not in md.lower()
    # every section and chart
    for heading in ("Main results", "Normalized MAE", "Top-1 accuracy", "Overall scores", "radar",
                    "Profile-size curve", "Results by country", "LLM usage", "Failed predictions",
                    "Paired t-tests"):
        assert heading.lower() in page.lower(), heading
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 5  # radar, 2 bars, curve, countries
    assert "no LLM" in page and "chance (uniform guess)" in page
    for name in ("radar_accuracy.png", "profile_curve.png"):
        assert paths[name].read_bytes()[:4] == b"\x89PNG"
    df = pd.read_parquet(paths["parquet"])
    assert len(df) == len(pd.read_csv(paths["csv"]))
    assert {"method", "respondent_id", "question_id", "answer", "truth", "correct", "nmae", "logloss", "rps",
            "failed", "profile_limit"} <= set(df.columns)


def test_category_table_layout_matches_the_paper(tmp_path):
    survey = small_survey(n=40)
    out = tmp_path / "run"
    run_study(survey, methods=[FirstCode("a"), FirstCode("b")], users=10, folds=5, out=out, progress=False)
    md = write_report(out)["markdown"].read_text()
    header = next(line for line in md.splitlines() if line.startswith("| Method | Model | Core"))
    cats = [c.strip() for c in header.strip("|").split("|")]
    assert cats[2:12] == ["Core", "Hap.", "Trust", "Econ.Int", "Security", "Tech", "Mo.&Rel.", "Pol.Eng",
                          "Demo", "Overall"]
    assert "chance (uniform guess)" in md


def test_cli_eval_and_report(tmp_path, capsys):
    survey = small_survey(n=60)
    csv = tmp_path / "tiny.parquet"
    # a file the importer reads: the official layout
    frame = survey.data.reset_index().rename(columns={"respondent_id": "D_INTERVIEW", "country": "B_COUNTRY_ALPHA",
                                                      "weight": "W_WEIGHT"})
    frame["D_INTERVIEW"] = range(1, len(frame) + 1)
    frame.to_parquet(csv)
    from valuesim.methods import registry

    if "chance" not in registry.METHODS:  # statistical methods not registered yet
        return
    rc = cli_main(["eval", str(csv), "--methods", "chance", "--users", "5", "--folds", "5",
                   "--out", str(tmp_path / "r"), "--no-progress"])
    assert rc == 0
    assert "predictions:" in capsys.readouterr().out
    assert cli_main(["report", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report" / "report.html").exists()


def test_llm_method_with_the_scripted_model_end_to_end(tmp_path):
    """A registered LLM method through the real model layer (scripted backend): usage recorded,
    model named on the tables, a finished run makes zero calls when re-run."""
    from valuesim.llm import get_model

    survey = small_survey(n=30, items=["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"], missing=0.0)
    out = tmp_path / "run"
    model = get_model("scripted")
    res = run_study(survey, methods=["no-profile"], users=3, folds=3, model=model, out=out, progress=False,
                    concurrency=2)
    assert res.usage is not None and res.usage["calls"] > 0
    assert res.predictions == 3 * 6
    again = run_study(survey, methods=["no-profile"], users=3, folds=3, model=get_model("scripted"), out=out,
                      progress=False)
    assert again.usage["calls"] == 0 and again.new == 0
    page = write_report(out)["html"].read_text()
    assert "scripted" in page and "LLM calls" in page
