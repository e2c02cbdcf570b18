"""A codebook's own value dimensions (`dimensions:`): parsing, scores, persona sentences, targets,
and the built-in WVS-7 dimensions left as they were."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from valuesim.errors import ConfigError
from valuesim.population.dimensions import DimensionScaler, component_scores, descriptor_items
from valuesim.population.personas import value_persona_text
from valuesim.population.targets import resolve_questions
from valuesim.survey.codebook_file import dump_codebook, load_codebook, parse_codebook
from valuesim.survey.model import Dimension
from valuesim.survey.survey import COUNTRY, WEIGHT, Survey

ESS = Path(__file__).parent / "fixtures" / "ess9_codebook.yaml"


def tiny_codebook(**dimension) -> dict:
    """Four items: a (1-4), b (0-10), k (1-3), n (nominal), t (a target); one dimension d."""
    return {
        "survey": "Tiny test survey", "short": "TINY", "columns": {"id": "id", "country": "cntry", "weight": "w"},
        "missing": {99: "no answer"},  # (9 would be an answer of b)
        "items": [
            {"id": "a", "text": "A?", "kind": "ordinal", "category": "X", "options": {1: "1", 2: "2", 3: "3", 4: "4"}},
            {"id": "b", "text": "B?", "kind": "ordinal", "category": "X", "range": [0, 10]},
            {"id": "k", "text": "K?", "kind": "ordinal", "category": "X", "options": {1: "lo", 2: "mid", 3: "hi"}},
            {"id": "n", "text": "N?", "kind": "nominal", "category": "X", "options": {1: "red", 2: "blue"}},
            {"id": "t", "text": "T?", "kind": "ordinal", "category": "Y", "options": {1: "no", 2: "yes"}},
        ],
        "dimensions": {"d": dimension or {"items": ["a", "b", "k"], "reverse": ["b"], "low": "cautious",
                                          "high": "bold", "min_items": 2}},
    }


def survey_of(codebook, rows: dict[str, dict], weights: list[float]) -> Survey:
    data = pd.DataFrame.from_dict(rows, orient="index")
    data.index = pd.Index(list(rows), name="respondent_id", dtype=object)
    for q in codebook.ids:
        data[q] = data[q].astype("Int64") if q in data else pd.array([pd.NA] * len(data), dtype="Int64")
    data.insert(0, WEIGHT, weights)
    data.insert(0, COUNTRY, "DEU")
    return Survey(codebook, data, source="tiny")


# --- parsing -------------------------------------------------------------------------------------
def test_plain_list_and_mapping_forms_parse_and_round_trip():
    cb = load_codebook(ESS)
    assert cb.dimensions["social_trust"] == Dimension(("ppltrst",))
    assert cb.dimensions["religiosity"] == Dimension(("rlgdgr", "rlgatnd"), ("rlgatnd",), "not religious", "religious", 1)
    again = parse_codebook(yaml.safe_load(dump_codebook(cb)))
    assert again.dimensions == cb.dimensions
    assert yaml.safe_load(dump_codebook(cb))["dimensions"]["social_trust"] == ["ppltrst"]  # plain stays plain


def test_a_codebook_built_in_python_takes_the_plain_form():
    cb = load_codebook(ESS)
    again = type(cb)(cb.questions, dimensions={"trust": ["ppltrst"], "faith": cb.dimensions["religiosity"]})
    assert again.dimensions == {"trust": Dimension(("ppltrst",)), "faith": cb.dimensions["religiosity"]}


def test_min_items_default_is_half_rounded_up():
    assert [Dimension(tuple("abcde"[:n])).needed for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert Dimension(("a", "b", "c"), min_items=3).needed == 3


@pytest.mark.parametrize("dimensions, expected", [
    ({"d": ["a", "zz"]}, "dimension 'd': 'zz' is not an item"),
    ({"d": {"items": ["a", "b"], "reverse": ["k"]}}, "dimension 'd': reverse item 'k' is not one of its items"),
    ({"d": ["a", "n"]}, "dimension 'd': item 'n' is nominal"),
    ({"d": ["a", "a"]}, "dimension 'd': item 'a' appears twice"),
    ({"d": {"items": ["a", "b"], "min_items": 3}}, "dimension 'd': 'min_items' must be a whole number from 1 to 2"),
    ({"d": {"items": ["a"], "min_items": 0}}, "dimension 'd': 'min_items'"),
    ({"d": {"items": ["a"], "direction": "up"}}, "dimension 'd': key 'direction' is not a dimension key"),
    ({"d": {"items": []}}, "dimension 'd': needs at least one item"),
    ({"d": {"items": ["a"], "low": ["x"]}}, "dimension 'd': 'low' must be text"),
    ({"d": "a"}, "dimension 'd': must be a list of item ids or a mapping"),
    (["a", "b"], "key 'dimensions': must map a dimension name to its items"),
])
def test_a_dimension_error_is_one_line_naming_the_dimension(dimensions, expected):
    raw = tiny_codebook()
    raw["dimensions"] = dimensions
    with pytest.raises(ConfigError) as err:
        parse_codebook(raw, "tiny.yaml")
    assert expected in str(err.value) and str(err.value).startswith("codebook tiny.yaml: ")
    assert "\n" not in str(err.value)


# --- scores ----------------------------------------------------------------------------------------
def test_scores_by_hand_orientation_weights_minimum_and_a_constant_item():
    cb = parse_codebook(tiny_codebook())
    rows = {"r1": dict(a=1, b=10, k=2), "r2": dict(a=4, b=0, k=2), "r3": dict(a=-2, b=5, k=2),
            "r4": dict(a=-1, b=-2, k=2)}  # -1/-2: missing answers (the survey's codes, as imported)
    survey = survey_of(cb, rows, [1.0, 3.0, 1.0, 1.0])
    raw = component_scores(survey)
    assert list(raw.columns) == ["a", "b reversed", "k"]
    assert raw["b reversed"].iloc[:3].tolist() == [0, 10, 5]  # flipped within 0..10: 10 - code
    assert math.isnan(raw["b reversed"]["r4"]) and math.isnan(raw["a"]["r3"])  # missing codes stay missing
    scaler = DimensionScaler.fit(survey)
    assert scaler.dimensions == ("d",) and scaler.minimum == {"d": 2}
    # weighted (1, 3): a's mean (1 + 3*4)/4 = 3.25, sd sqrt((2.25^2 + 3*0.75^2)/4); b reversed over
    # r1..r3 (0, 10, 5 with weights 1, 3, 1): mean 7, sd 4; k never varies: everyone at its mean (0).
    sd_a = math.sqrt((2.25 ** 2 + 3 * 0.75 ** 2) / 4)
    assert scaler.stats["b reversed"] == pytest.approx((7.0, 4.0))
    assert scaler.stats["k"] == pytest.approx((2.0, 0.0))
    s = scaler.scores(survey)["d"]
    assert s["r1"] == pytest.approx(((1 - 3.25) / sd_a + (0 - 7) / 4 + 0) / 3)
    assert s["r2"] == pytest.approx(((4 - 3.25) / sd_a + (10 - 7) / 4 + 0) / 3)
    assert s["r3"] == pytest.approx(((5 - 7) / 4 + 0) / 2)  # two of three items: enough (min_items 2)
    assert math.isnan(s["r4"])  # only the constant item: below min_items


def test_levels_and_persona_sentences_use_the_codebook_words():
    cb = parse_codebook(tiny_codebook())
    rows = {f"p{i}": dict(a=1 + i % 4, b=i % 11, k=1 + i % 3) for i in range(60)}
    survey = survey_of(cb, rows, [1.0] * 60)
    scaler = DimensionScaler.fit(survey)
    assert scaler.levels == 5 and scaler.level("d", -99) == 1 and scaler.level("d", 99) == 5
    text = value_persona_text("DEU", {"d": 1}, cb.dimensions)
    assert text == ("You are a person living in Germany. Here is what matters to you.\n"
                    "On d, you stand well below most of the people surveyed (cautious).")
    assert value_persona_text("DEU", {"d": 5}, cb.dimensions).endswith("well above most of the people surveyed (bold).")
    assert value_persona_text("DEU", {"d": 3}, cb.dimensions).endswith("near the middle of the people surveyed.")
    plain = {"trust_in_institutions": Dimension(("a",))}
    assert value_persona_text("DEU", {"trust_in_institutions": 4}, plain).endswith(
        "On trust in institutions, you stand somewhat above most of the people surveyed.")
    assert value_persona_text("DEU", {"trust_in_institutions": None}, plain).endswith("Here is what matters to you.\n")


def test_a_dimensions_items_are_never_targets():
    cb = parse_codebook(tiny_codebook())
    assert descriptor_items(cb) == {"a", "b", "k"}
    assert resolve_questions("all", cb, cb.ids) == ["n", "t"]
    with pytest.raises(ConfigError, match="describes the value personas"):
        resolve_questions("b", cb, cb.ids)
    ess = load_codebook(ESS)
    assert not set(resolve_questions("default", ess, ess.ids)) & {"ppltrst", "rlgdgr", "rlgatnd"}


# --- WVS-7: its dimensions are its codebook's ------------------------------------------------------
def test_wvs7_declares_its_dimensions_in_its_codebook():
    from valuesim.survey.wvs7.bank import load_codebook as wvs7

    cb = wvs7()
    assert list(cb.dimensions) == ["traditional_secular", "survival_selfexpression", "left_right"]
    assert [c.name for c in cb.dimensions["traditional_secular"].components] == [
        "god_unimportant", "autonomy", "abortion_justifiable", "low_national_pride"]
    assert [d.needed for d in cb.dimensions.values()] == [3, 3, 1]
    assert descriptor_items(cb) == {"Q164", "Q8", "Q14", "Q15", "Q17", "Q184", "Q254", "Q154", "Q155", "Q182",
                                    "Q209", "Q57", "Q46", "Q240", "Q152", "Q153"}
    survey = survey_of(cb.subset(["Q164", "Q240"]), {"x": dict(Q164=3, Q240=2), "y": dict(Q164=9, Q240=8)}, [1.0, 1.0])
    scaler = DimensionScaler.fit(survey)  # a cut codebook keeps declared indices (their items count as missing)
    assert scaler.dimensions == tuple(cb.dimensions)
    assert scaler.components == {k: d.components for k, d in cb.dimensions.items()}
    assert set(scaler.as_dict()) == {"stats", "cuts", "dimensions"}
    assert value_persona_text("NGA", {"traditional_secular": None, "survival_selfexpression": None, "left_right": 1},
                              cb.dimensions) == ("You are a person living in Nigeria. Here is what matters to you.\n"
                                                 "Politically, you place yourself clearly on the left.")


def test_a_file_without_a_dimensions_items_names_them_and_writes_nothing(tmp_path):
    from valuesim.population import run_population

    cb = parse_codebook(tiny_codebook())
    rows = {f"p{i}": dict(t=1 + i % 2, n=1 + i % 2) for i in range(12)}
    data = survey_of(cb, rows, [1.0] * 12).data.drop(columns=["a", "b", "k"])
    survey = Survey(cb, data, source="tiny.csv")
    with pytest.raises(ConfigError) as err:
        run_population(survey, countries="DEU", personas=2, methods="value-persona", model="scripted",
                       out=tmp_path / "run", progress=False)
    assert "tiny.csv has no answers to the value-dimension items personas are placed with (a, b, k)" in str(err.value)
    assert "\n" not in str(err.value) and not (tmp_path / "run").exists()
    cut = parse_codebook(tiny_codebook()).subset(["a", "t"])  # a codebook cut to some questions
    small = survey_of(cut, {"x": dict(a=1, t=1), "y": dict(a=3, t=2)}, [1.0, 1.0])
    assert DimensionScaler.fit(small).scores(small)["d"].tolist() == [-1.0, 1.0]  # placed on the item it kept
