"""The year a person answered, named beside the country of residence in every LLM context
(issue 21 item 6: "the survey year when known"). WVS files carry it in A_YEAR; another
survey's codebook names its column (``columns: {year: ...}``). A cell that is no plausible
year is simply not said: the year only ever reaches a prompt, so it is never an error."""

from __future__ import annotations

import warnings
from pathlib import Path

from valuesim.llm import ScriptedModel
from valuesim.methods.registry import get_method
from valuesim.runs.people import respondent_context
from valuesim.survey.codebook_file import load_codebook as load_codebook_file
from valuesim.survey.io import load_survey, write_frame
from valuesim.survey.synthetic import generate
from valuesim.survey.synthetic.generic import generate_for_codebook
from valuesim.survey.synthetic.quirks import labelled_export
from valuesim.survey.wvs7.bank import load_codebook

ESS = Path(__file__).parent / "fixtures" / "ess9_codebook.yaml"


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_survey(path)


def test_a_wvs_file_gives_each_person_their_survey_year_and_the_prompt_says_it(tmp_path):
    frame = generate(respondents=120, countries=2, seed=3)
    frame.loc[frame.index[:5], "A_YEAR"] = -5  # a missing code: the year is not said
    frame.loc[frame.index[5], "A_YEAR"] = 18  # a mangled year: not said either
    write_frame(frame, tmp_path / "wvs.csv")
    survey = _load(tmp_path / "wvs.csv")
    keys = list(survey.data.index)
    assert survey.respondent(keys[10]).year == int(frame["A_YEAR"].iloc[10])
    assert [survey.respondent(k).year for k in keys[:6]] == [None] * 6

    codebook = load_codebook()
    _, person = respondent_context(survey, keys[10], include=["Q1", "Q2", "Q3"])
    model = ScriptedModel(default="Answer: 1")
    assert not get_method("full-info", model).predict(person, codebook["Q46"]).failed
    assert f"(survey year {frame['A_YEAR'].iloc[10]})" in model.calls[0].last_user

    _, unknown = respondent_context(survey, keys[0], include=["Q1", "Q2", "Q3"])
    model = ScriptedModel(default="Answer: 1")
    get_method("full-info", model).predict(unknown, codebook["Q46"])
    assert "Country of residence:" in model.calls[0].last_user and "survey year" not in model.calls[0].last_user


def test_a_labelled_export_keeps_the_year_code_for_code(tmp_path):
    frame = generate(respondents=150, countries=3, seed=4)
    write_frame(frame, tmp_path / "coded.csv")
    write_frame(labelled_export(frame, load_codebook()), tmp_path / "labelled.csv")
    coded, labelled = _load(tmp_path / "coded.csv"), _load(tmp_path / "labelled.csv")
    assert coded.data["year"].notna().all()
    assert labelled.data["year"].tolist() == coded.data["year"].tolist()


def test_another_surveys_codebook_names_its_year_column(tmp_path):
    codebook = load_codebook_file(ESS)
    assert codebook.columns.year == "inwyys"
    frame = generate_for_codebook(codebook, respondents=200, countries=2, seed=1)
    frame.to_csv(tmp_path / "ess.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        survey = load_survey(tmp_path / "ess.csv", codebook=codebook)
    key = survey.data.index[0]
    _, person = respondent_context(survey, key, include=codebook.ids[:3])
    assert person.year == int(frame["inwyys"].iloc[0]) and person.survey == codebook.title
    model = ScriptedModel(default="Answer: 1")
    get_method("full-info", model).predict(person, codebook[codebook.ids[4]])
    prompt = model.calls[0].last_user
    assert codebook.title in prompt and f"survey year {person.year}" in prompt and "World Values" not in prompt
