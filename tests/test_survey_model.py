import pandas as pd
import pytest

from valuesim.methods.base import Prediction
from valuesim.survey.model import (
    Codebook,
    Kind,
    MissingCode,
    Option,
    Profile,
    Question,
    UnknownQuestion,
    answers_from_codes,
)
from valuesim.survey.survey import Survey, UnknownRespondent

FAMILY = Question(
    "Q1",
    "How important is family in your life?",
    Kind.ORDINAL,
    (
        Option(1, "Very important", "Family is very important in your life."),
        Option(2, "Rather important", "Family is rather important in your life."),
        Option(3, "Not very important", "Family is not very important in your life."),
        Option(4, "Not at all important", "Family is not at all important in your life."),
    ),
    valid_range=(1, 4),
    category="Core",
)
AGE = Question("Q262", "Age", Kind.NUMERIC, valid_range=(16, 103), numeric_statement="You are {value} years old.")
CODEBOOK = Codebook((FAMILY, AGE), name="test bank")


def test_question_codes_steps_and_validity():
    assert FAMILY.codes == (1, 2, 3, 4)
    assert FAMILY.n_steps == 3
    assert FAMILY.is_valid(4) and not FAMILY.is_valid(5) and not FAMILY.is_valid(-1)
    assert AGE.codes[0] == 16 and AGE.codes[-1] == 103
    assert AGE.is_valid(40) and not AGE.is_valid(104)


def test_render_and_statements():
    assert FAMILY.render().splitlines() == [
        "Q1: How important is family in your life?",
        "1. Very important",
        "2. Rather important",
        "3. Not very important",
        "4. Not at all important",
    ]
    assert FAMILY.statement(1) == "Family is very important in your life."
    assert AGE.statement(37) == "You are 37 years old."
    with pytest.raises(KeyError):
        FAMILY.statement(9)


def test_codebook_lookup_and_unknown_id_message():
    assert CODEBOOK["Q262"] is AGE
    assert "Q1" in CODEBOOK and "Q999" not in CODEBOOK
    with pytest.raises(UnknownQuestion, match="unknown question id 'Q999'"):
        CODEBOOK["Q999"]
    with pytest.raises(ValueError):
        Codebook((FAMILY, FAMILY))


def test_missing_codes_stay_distinguishable():
    answers, missing = answers_from_codes({"Q1": 2, "Q2": -1, "Q3": -4, "Q262": 40})
    assert answers == {"Q1": 2, "Q262": 40}
    assert missing == {"Q2": MissingCode.DONT_KNOW, "Q3": MissingCode.NOT_ASKED}


def _survey() -> Survey:
    data = pd.DataFrame(
        {"country": ["DEU", "NGA"], "weight": [1.0, 0.5], "Q1": [1, -2], "Q262": [40, 33]},
        index=pd.Index(["101", "102"], name="respondent_id"),
    ).astype({"Q1": "Int16", "Q262": "Int16"})
    return Survey(CODEBOOK, data, source="test.csv")


def test_survey_respondent_and_valid_view():
    survey = _survey()
    r = survey.respondent("102")
    assert r.country == "NGA" and r.weight == 0.5
    assert r.answers == {"Q262": 33} and r.missing == {"Q1": MissingCode.NO_ANSWER}
    valid = survey.valid()
    assert pd.isna(valid.loc["102", "Q1"]) and valid.loc["101", "Q1"] == 1
    with pytest.raises(UnknownRespondent, match="'999' is not in test.csv"):
        survey.respondent("999")


def test_profile_excludes_target_and_renders_both_ways():
    r = _survey().respondent("101")
    profile = Profile.from_respondent(r, CODEBOOK, exclude=["Q262"])
    assert profile.question_ids == ["Q1"]
    assert profile.as_qa_list().endswith("Answer: 1. Very important")
    assert profile.as_statements() == "Family is very important in your life."
    full = Profile.from_respondent(r, CODEBOOK)
    assert full.answers() == {"Q1": 1, "Q262": 40}
    assert "Answer: 40" in full.as_qa_list()
    assert full.restrict(["Q262"]).question_ids == ["Q262"]


def test_prediction_from_distribution_and_failure():
    p = Prediction.from_distribution({1: 2.0, 2: 6.0, 3: 2.0})
    assert p.answer == 2 and abs(sum(p.distribution.values()) - 1) < 1e-12
    tie = Prediction.from_distribution({1: 0.5, 2: 0.5})
    assert tie.answer == 1  # ties go to the lowest code, deterministically
    f = Prediction.failure(FAMILY, "no answer parsed")
    assert f.failed and f.error == "no answer parsed" and set(f.distribution) == {1, 2, 3, 4}


def test_long_code_lists_are_not_listed_in_prompts():
    countries = Question(
        "Q266", "In which country were you born?", Kind.NOMINAL,
        tuple(Option(c, f"Country {c}", f"You were born in Country {c}.") for c in range(1, 200)),
        valid_range=(1, 199),
    )
    profile = Profile(((countries, 42), (FAMILY, 1)))
    text = profile.as_qa_list()
    assert "Country 41" not in text and "(a number" not in text
    assert "Answer: 42. Country 42" in text
    assert "4. Not at all important" in text  # short scales are still listed in full
