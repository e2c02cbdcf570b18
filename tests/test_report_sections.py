"""The report's sections beyond the paper's tables: value items side by side (no demographic
category), confusion matrices for a chosen item, countries by name with a chart, question
texts shown by the part that tells them apart, backstory excerpts with their fidelity."""

from __future__ import annotations

import pandas as pd
import pytest

from valuesim.cli import main
from valuesim.evaluation import run_study, write_report
from valuesim.evaluation.sections import distinct_texts
from valuesim.llm import ScriptedModel
from valuesim.survey.io import load_survey
from valuesim.survey.synthetic import write_synthetic

OPENING = "Now, I would like to read some statements and ask how much you agree or disagree with each of these"


def test_question_texts_show_the_part_that_tells_them_apart():
    texts = {"Q159": f"{OPENING} statements: It is not important for me to know about science in my daily life",
             "Q162": f"{OPENING} statements: We depend too much on science and not enough on faith",
             "Q1": "Important in life: Family"}
    shown = distinct_texts(texts)
    assert shown["Q159"].startswith("… ") and "know about science" in shown["Q159"]
    assert "depend too much" in shown["Q162"] and shown["Q159"] != shown["Q162"]
    assert shown["Q1"] == "Important in life: Family"
    assert "Now, I would like" not in shown["Q159"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sections")
    synth = write_synthetic(tmp / "s.csv", respondents=150, countries=3, seed=7)
    out = tmp / "run"
    assert main(["eval", str(synth), "--methods", "country-marginal,knn", "--users", "15", "--no-progress",
                 "--out", str(out)]) == 0
    return out


def test_items_side_by_side_leave_out_the_demographic_category(run_dir, capsys):
    md = write_report(run_dir)["markdown"].read_text(encoding="utf-8")
    section = md.split("### Hardest value items", 1)[1].split("### Confusion", 1)[0]
    assert "country-marginal accuracy | knn accuracy" in section and "### Easiest value items" in section
    rows = [line for line in section.splitlines() if line.startswith("| Q")]
    assert len(rows) == 20 and not any(" | Demo | " in r for r in rows)
    items = pd.read_csv(run_dir / "report" / "items.csv")
    assert {"question_id", "country-marginal", "knn", "mean", "predictions"} <= set(items.columns)
    assert "Demo" not in set(items["category"]) and len(items) > 20


def test_confusion_matrices_for_a_chosen_item_and_an_unknown_one(run_dir, capsys):
    assert main(["report", str(run_dir), "--item", "Q1"]) == 0
    md = (run_dir / "report" / "report.md").read_text(encoding="utf-8")
    assert "### Confusion matrix of country-marginal on Q1" in md and "### Confusion matrix of knn on Q1" in md
    table = md.split("### Confusion matrix of knn on Q1", 1)[1]
    assert "| 1. Very important |" in table  # real answers by their option text
    capsys.readouterr()
    assert main(["report", str(run_dir), "--item", "Q9999"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--item Q9999 is not a target of this run" in err


def test_countries_by_name_with_a_chart(run_dir):
    paths = write_report(run_dir)
    md = paths["markdown"].read_text(encoding="utf-8")
    country_rows = md.split("### Accuracy and MAE per country", 1)[1].split("\n#", 1)[0]
    assert any(row.startswith("| ") and "(" in row.split("|")[1] for row in country_rows.splitlines()[4:])
    assert paths["countries_accuracy.png"].read_bytes()[:4] == b"\x89PNG"
    assert "countries_accuracy.png" in md


def test_backstory_excerpts_with_their_fidelity(tmp_path):
    survey = load_survey(write_synthetic(tmp_path / "syn.csv", respondents=60, countries=2, seed=1))
    items = [q.id for q in survey.codebook if q.options and 2 <= len(q.codes) <= 5][:4]
    run_study(survey, methods=["valuesim"], users=4, folds=4, model=ScriptedModel(default="Answer: 1"),
              out=tmp_path / "run", items=items, progress=False,
              method_options={"valuesim": {"story": "statements", "story_audit": 3}})
    md = write_report(tmp_path / "run")["markdown"].read_text(encoding="utf-8")
    section = md.split("### Backstory excerpts", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| valuesim |")]
    assert len(rows) == 3
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert 0 <= float(cells[3]) <= 1 and " your " in f" {cells[5]} ".lower()  # second person, with fidelity
