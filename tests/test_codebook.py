"""Codebook files: any survey described in YAML/JSON loads, with its own columns and missing codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from valuesim.errors import ConfigError
from valuesim.survey.codebook_file import dump_codebook, load_codebook, parse_codebook
from valuesim.survey.io import load_survey
from valuesim.survey.model import MissingCode

ESS = Path(__file__).parent / "fixtures" / "ess9_codebook.yaml"


def _ess_file(tmp_path: Path) -> Path:
    """Six hand-written respondents in the ESS layout (alpha-2 countries, ESS missing codes)."""
    frame = pd.DataFrame({
        "idno": [11, 12, 13, 14, 15, 16],
        "cntry": ["DE", "DE", "FR", "FR", "GB", "GB"],
        "pspwght": [1.0, 0.5, 1.2, 0.8, 1.0, 1.1],
        "polintr": [1, 7, 8, 2, 9, 4],  # 7/8/9: survey-wide refusal / don't know / no answer
        "gincdif": [1, 2, 3, 4, 5, 8],
        "freehms": [1, 1, 2, 2, 3, 3],
        "stflife": [0, 7, 88, 10, 77, 5],  # 7 is an answer here; 88/77 are missing
        "happy": [3, 4, 5, 6, 7, 8],
        "ppltrst": [3, 4, 5, 6, 7, 99],
        "rlgdgr": [0, 1, 2, 3, 4, 5],
        "rlgatnd": [7, 1, 77, 3, 6, 7],  # 7 is "Never", an answer
        "gndr": [1, 2, 1, 2, 9, 1],
        "yrbrn": [1950, 1961, 7777, 1990, 2001, 1985],
        "essround": [9] * 6,
    })
    path = tmp_path / "ess.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_issue_example_loads_with_per_item_missing_codes(tmp_path):
    survey = load_survey(_ess_file(tmp_path), codebook=ESS)
    assert len(survey) == 6
    assert survey.countries == ["DEU", "FRA", "GBR"]  # alpha-2 detected, alpha-3 inside
    assert survey.codebook.title == "European Social Survey, round 9 (2018)"
    first = survey.respondent("11")
    assert first.answers["rlgatnd"] == 7 and survey.codebook["rlgatnd"].label(7) == "Never"
    assert first.answers["stflife"] == 0
    second = survey.respondent("12")
    assert second.answers["stflife"] == 7  # an answer on the 0-10 scale, not "refusal"
    assert second.missing["polintr"] == MissingCode.NO_ANSWER  # survey-wide 7: refusal
    third = survey.respondent("13")
    assert third.missing["stflife"] == MissingCode.DONT_KNOW  # the item's own 88
    assert third.missing["rlgatnd"] == MissingCode.NO_ANSWER  # its own 77
    assert third.missing["polintr"] == MissingCode.DONT_KNOW  # survey-wide 8
    assert third.missing["yrbrn"] == MissingCode.NO_ANSWER  # 7777 refusal
    assert survey.respondent("16").missing["ppltrst"] == MissingCode.NO_ANSWER
    valid = survey.valid(["stflife", "rlgatnd"])
    assert valid["stflife"].isna().sum() == 2 and valid["rlgatnd"].isna().sum() == 1


def test_json_codebook_is_the_same_structure(tmp_path):
    path = tmp_path / "ess.json"
    path.write_text(json.dumps(yaml.safe_load(ESS.read_text())), encoding="utf-8")
    assert load_codebook(path).questions == load_codebook(ESS).questions


def test_wvs7_round_trips_through_the_file_format():
    wvs = load_codebook("wvs7")
    again = parse_codebook(yaml.safe_load(dump_codebook(wvs)))
    assert again.questions == wvs.questions
    assert again.columns == wvs.columns and again.missing == wvs.missing
    assert again.title == wvs.title and "World Values Survey" in again.title


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["items"][0].update(kind="likert"), "item 'polintr', key 'kind'"),
    (lambda r: r["items"][1].update(options="agree7"), "item 'gincdif', key 'options'"),
    (lambda r: r["items"][3].update(range=[10, 0]), "item 'stflife', key 'range'"),
    (lambda r: r["items"][0].update(colour="red"), "item 'polintr', key 'colour'"),
    (lambda r: r["items"][8].update(options={1: "Male", 2: "Female", 3: "Other"}), "item 'gndr', key 'options'"),
    (lambda r: r["items"][7].update(missing={7: "refusal"}), "item 'rlgatnd', key 'missing'"),
    (lambda r: r.update(demographics=["gndr", "age"]), "key 'demographics'"),
    (lambda r: r["items"].append({"id": "polintr", "text": "again", "kind": "binary"}), "item 'polintr'"),
])
def test_a_codebook_error_is_one_line_naming_item_and_key(change, expected):
    raw = yaml.safe_load(ESS.read_text())
    change(raw)
    with pytest.raises(ConfigError) as err:
        parse_codebook(raw, "ess.yaml")
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_file_without_the_codebook_items_names_the_codebook(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(path, index=False)
    with pytest.raises(Exception) as err:
        load_survey(path, codebook=ESS)
    assert "ESS9" in str(err.value) and "--codebook" in str(err.value)


def test_unknown_codebook_file_is_one_line():
    with pytest.raises(ConfigError, match="no such file"):
        load_codebook("/nonexistent/codebook.yaml")
