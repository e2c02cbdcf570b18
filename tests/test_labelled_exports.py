"""Labelled exports as researchers have them (issue 21 item 2): multi-line quoted headers, value
labels shortened or prefixed, header variants, truncated labels, recoded items and WVS's
derived indices. Every item of the synthetic labelled file maps, code for code; what is
ambiguous is reported, never guessed. No real WVS data: the population is generated here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from valuesim.errors import DataError
from valuesim.survey.io import write_frame
from valuesim.survey.synthetic import generate
from valuesim.survey.synthetic.quirks import (
    AMBIGUOUS_HEADER,
    DERIVED_COLUMNS,
    HEADER_VARIANTS,
    RESEMBLING_HEADER,
    labelled_export,
)
from valuesim.survey.wvs7.bank import load_codebook
from valuesim.survey.wvs7.derived import INDICES
from valuesim.survey.importer import load_wvs7
from valuesim.survey.wvs7.labelled import _file_labels, _value_index, map_headers
from valuesim.survey.wvs7.quality import format_quality

CODEBOOK = load_codebook()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(coded CSV, labelled CSV) of one quirky population, and the coded frame."""
    frame = generate(respondents=300, countries=3, seed=4, quirks=True)
    folder = tmp_path_factory.mktemp("labelled")
    coded, labelled = folder / "coded.csv", folder / "labelled.csv"
    write_frame(frame, coded)
    write_frame(labelled_export(frame, CODEBOOK, repeated_headers=True), labelled)
    return coded, labelled, frame


def quiet_load(path, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        survey = load_wvs7(path, **options)
    return survey, [str(w.message) for w in caught]


def test_every_item_of_the_synthetic_labelled_file_maps_code_for_code(files):
    coded_path, labelled_path, _ = files
    header = labelled_path.read_text(encoding="utf-8").split("\n", 1)[0]
    assert header.count(",") < 100, "the header spans several physical lines (quoted line breaks)"
    coded, _ = quiet_load(coded_path)
    survey, messages = quiet_load(labelled_path)
    report = survey.quality.labelled
    assert report["mapped_columns"] == len(CODEBOOK.ids) and survey.absent == []
    assert report["unmapped_labels"] == {} and report["ambiguous_labels"] == {}
    assert not any("labels the bank does not know" in m for m in messages)
    np.testing.assert_array_equal(survey.data[CODEBOOK.ids].astype("int64").to_numpy(),
                                  coded.data[CODEBOOK.ids].astype("int64").to_numpy())
    assert list(survey.data.index) == list(coded.data.index)
    assert survey.synthetic and survey.quality.duplicate_columns == []
    steps = report["header_steps"]
    assert steps["loose"] >= 4 and steps["truncated"] >= 2 and steps["by its answers"] == 4
    # Q33 and its recode Q33_3 under one header: the item by its answers, the recode recognised
    assert {"Q33_3", "Q34_3", "Q35_3"} <= set(report["other_variables"])
    assert not any(c.startswith("Jobs scarce") for c in report["ambiguous_columns"])


def test_header_and_value_variants_are_each_mapped_where_they_belong(files):
    _, labelled_path, frame = files
    survey, _ = quiet_load(labelled_path)
    report = survey.quality.labelled
    for q in HEADER_VARIANTS:
        assert " ".join(mapped_column(labelled_path, q).split()) == HEADER_VARIANTS[q]
    # the recoded membership items are recognised as what they are, not taken for Q94 ... Q105
    assert {f"Q{i}R" for i in range(94, 106)} <= set(report["other_variables"])
    assert report["ambiguous_columns"][AMBIGUOUS_HEADER][:2] == ["Q275", "Q275A"]
    assert report["nearest_items"][RESEMBLING_HEADER] == ["Q73"]
    for q, code in (("Q289", 3), ("Q289", 8), ("Q263", 2), ("Q111", 1), ("Q111", 2), ("Q275", 0),
                    ("Q275", 1), ("Q281", 9), ("Q254", 5)):
        written = (frame[q] == code).to_numpy()
        if written.any():
            assert (survey.data[q].to_numpy()[written] == code).all(), (q, code)


def mapped_column(path, q):
    """The header the importer maps item q to in the file at ``path``."""
    from valuesim.survey.wvs7.csv_reader import csv_columns

    return map_headers(csv_columns(path), {}, CODEBOOK).items[q]


@pytest.mark.parametrize("q, text, code", [
    ("Q111", "Economic growth", 2), ("Q111", "Protect environment", 1), ("Q111", "A: Protect environment", 1),
    ("Q111", "A: Protecting the environment should be given priority, even if it causes slower economic "
             "growth and some loss of jobs", 1),
    ("Q289", "Orthodox", 3), ("Q289", "Other Christian", 8), ("Q289", "Other", 9), ("Q289", "Jew", 4),
    ("Q263", "I am an immigrant to this country", 2), ("Q263", "I am born in this country", 1),
    ("Q275", "Early childhood education (ISCED 0)", 0),
    ("Q275", "Primary education (ISCED Primary education (ISCED 1))", 1),
    ("Q276", "Lower secondary education (ISCED 2)", 2),
    ("Q281", "Farm worker", 9), ("Q281", "Farm owner, farm manager", 10),
    ("Q254", "I am not", 5), ("Q254", "I am not [nationality]", 5),
    ("Q1", "Missing; Not available", -5), ("Q1", "Not asked in this country", -4),
])
def test_value_label_variants(q, text, code):
    match = _value_index(CODEBOOK[q]).lookup(text)
    assert match.target == str(code), (q, text, match)


def test_every_official_and_bank_label_maps_to_its_own_code():
    """...except labels the official file itself gives to two codes (two parties of one
    country with one name): those are reported as ambiguous."""
    values = _file_labels()["values"]
    shared = 0
    for q in CODEBOOK:
        index = _value_index(q)
        labels = [(int(c), t) for c, t in values.get(q.id, {}).items()] + [(o.code, o.label) for o in q.options]
        codes_of: dict[str, set[int]] = {}
        for code, label in labels:
            codes_of.setdefault(" ".join(label.split()), set()).add(code)
        for code, label in labels:
            if label.strip().lstrip("-").isdigit():
                continue  # numbers are codes, read as numbers
            match = index.lookup(label)
            if len(codes_of[" ".join(label.split())]) > 1:
                shared += 1
                assert match.target is None and str(code) in match.candidates, (q.id, label)
            else:
                assert match.target == str(code), (q.id, label, match)
    assert shared < 100  # party and ethnic-group lists, a few names each


def test_ambiguous_or_unknown_labels_are_reported_never_guessed_and_strict_refuses(tmp_path, files):
    export = labelled_export(files[2], CODEBOOK)
    header = "Important in life: Family"
    export[header] = export[header].astype(object)
    export.loc[:2, header] = "Not"  # "Not very important" or "Not at all important"
    export.loc[3:4, header] = "Rather"  # "Rather important": a unique start
    export.loc[5, header] = "Quite important indeed"
    path = tmp_path / "ambiguous.csv"
    export.to_csv(path, index=False)
    survey, messages = quiet_load(path)
    assert (survey.data["Q1"].iloc[:3] == -5).all() and (survey.data["Q1"].iloc[3:5] == 2).all()
    report = survey.quality.labelled
    assert report["ambiguous_labels"]["Q1"]["Not"]["cells"] == 3
    assert {"3", "4", "-4"} <= set(report["ambiguous_labels"]["Q1"]["Not"]["codes"])  # "Not asked" too
    assert report["unmapped_labels"]["Q1"] == {"Quite important indeed": 1}
    assert any("could be more than one answer" in m and "'Not'" in m for m in messages)
    lines = "\n".join(format_quality(survey.quality))
    assert "'Not' (3; codes " in lines
    with pytest.raises(DataError, match=r"Important in life: Family.*\(Q1\).*--strict"):
        load_wvs7(path, strict=True)


@pytest.mark.parametrize("header, target", [
    ("Confidence: The Churches", "Q64"), ("Confidence: The armed forces", "Q65"),
    ("Confidence: Labour Unions", "Q68"), ("Confidence: Political Parties", "Q72"),
    ("Confidence: The Civil service", "Q74"), ("nvolved in corruption: Business executives", "Q114"),
    ("Important in life:\nFamily", "Q1"), ("IMPORTANT IN LIFE: FAMILY", "Q1"),
])
def test_header_variants(header, target):
    mapping = map_headers([header, "Weight"], {}, CODEBOOK)
    assert mapping.items == {target: header}


def test_recoded_items_and_derived_indices_are_recognised_not_taken_for_items():
    headers = ["Important in life: Family", "Membership: church or religious organization",
               "Highest educational level: Respondent (recoded into 3 groups)", "Income level (recoded)",
               "SACSECVAL.- Welzel Overall Secular Values", "Post-Materialist index 4-item",
               "AUTHORITY - Welzel defiance - 1: Inverse respect for authority", "Y003"]
    mapping = map_headers(headers, {}, CODEBOOK)
    assert mapping.items == {"Q1": "Important in life: Family"}
    # recodes wait for their cells (the item only if they are the item's answers)
    assert {names[1] for names in mapping.ambiguous.values()} == {"Q94R", "Q275R", "Q288R"}
    assert set(mapping.derived) == {"SACSECVAL", "Y002", "I_AUTHORITY", "Y003"}
    assert mapping.unmapped == []


def test_a_header_two_variables_share_is_decided_by_its_answers(tmp_path):
    """Q33 and its 3-point recode Q33_3 have the same official label: "Agree strongly" is no
    answer of Q33_3, so such a column is Q33; a column of only "Agree"/"Disagree" stays unmapped."""
    frame = generate(respondents=120, countries=2, seed=1)
    export = labelled_export(frame, CODEBOOK)
    header = "Jobs scarce: Men should have more right to a job than women"
    export.columns = [header if " ".join(c.split()) == header else c for c in export.columns]
    survey, _ = quiet_load(write(export, tmp_path / "q33.csv"))
    assert "Q33" in survey.question_ids and survey.quality.labelled["header_steps"]["by its answers"] >= 1
    export[header] = np.where(np.arange(len(export)) % 2, "Agree", "Disagree")
    survey, _ = quiet_load(write(export, tmp_path / "q33_3.csv"))
    assert "Q33" in survey.absent and survey.quality.labelled["ambiguous_columns"][header] == ["Q33", "Q33_3"]


def write(frame, path):
    frame.to_csv(path, index=False)
    return path


def test_derived_indices_are_kept_as_positions_in_coded_and_labelled_files(files):
    coded_path, labelled_path, frame = files
    coded, _ = quiet_load(coded_path)
    survey, _ = quiet_load(labelled_path)
    for name in DERIVED_COLUMNS:
        raw = frame[name].to_numpy(dtype="float64")
        index = INDICES[name]
        expected = np.where((raw >= index.low) & (raw <= index.high), raw, np.nan)
        np.testing.assert_allclose(coded.data[name].to_numpy(), expected, equal_nan=True)
        np.testing.assert_allclose(survey.data[name].to_numpy(), expected, equal_nan=True)
        assert name not in survey.question_ids
    assert coded.quality.derived_indices["Y002"]["values"] == int((frame["Y002"] > 0).sum())
    assert "WVS derived indices kept as value-dimension positions" in "\n".join(format_quality(survey.quality))


def test_long_lists_say_how_many_more(tmp_path, files):
    export = labelled_export(files[2].head(20), CODEBOOK)
    for k in range(12):
        export[f"Unrelated column {k}"] = k
    path = tmp_path / "wide.csv"
    export.to_csv(path, index=False)
    survey, _ = quiet_load(path)
    lines = "\n".join(format_quality(survey.quality))
    assert "headers not mapped (14)" in lines and "and 6 more" in lines
    assert len(survey.quality.labelled["unmapped_examples"]) == 14  # JSON: all of them


def test_a_recode_header_is_the_item_only_when_its_cells_are_the_items_answers(tmp_path):
    """An export with only "Membership: church or religious organization" (the label of the
    recode Q94R): cells "Mentioned (member)" make it Q94R (recognised, Q94 absent); cells
    "Active member" / "Inactive member" make it Q94 under a variant header."""
    frame = generate(respondents=80, countries=2, seed=6)
    export = labelled_export(frame, CODEBOOK)
    q94 = next(c for c in export.columns if " ".join(c.split()).startswith("Active/Inactive membership: Church"))
    q94r = next(c for c in export.columns if " ".join(c.split()) == "Membership: church or religious organization")
    recode_only = export.drop(columns=[q94])
    survey, _ = quiet_load(write(recode_only, tmp_path / "recode.csv"))
    assert "Q94" in survey.absent and survey.quality.labelled["other_variables"]["Q94R"] == " ".join(q94r.split())
    variant = export.drop(columns=[q94r]).rename(columns={q94: "Membership: church or religious organization"})
    survey, _ = quiet_load(write(variant, tmp_path / "variant.csv"))
    assert (survey.data["Q94"].to_numpy() == frame["Q94"].to_numpy()).all()


def test_one_notion_of_a_wvs7_file_for_the_importer_and_the_labelled_reader(tmp_path, files):
    """WVS-7's layout is one property of a codebook (bank.is_wvs7), asked by the importer and by
    the labelled-export reader alike: the WVS-7 codebook written to a file reads the labelled
    export as the built-in one does; another survey's codebook is never WVS, wherever it comes from."""
    import yaml

    from valuesim.survey.codebook_file import dump_codebook, load_codebook as load_codebook_file, parse_codebook
    from valuesim.survey.wvs7.bank import is_wvs7

    book = tmp_path / "wvs7.yaml"
    book.write_text(dump_codebook(CODEBOOK, "yaml"), encoding="utf-8")
    from_file = load_codebook_file(book)
    ess = Path(__file__).parent / "fixtures" / "ess9_codebook.yaml"
    in_memory = parse_codebook(yaml.safe_load(ess.read_text(encoding="utf-8")))
    assert is_wvs7(CODEBOOK) and is_wvs7(CODEBOOK.subset(["Q1", "Q2"])) and is_wvs7(from_file)
    assert not is_wvs7(load_codebook_file(ess)) and not is_wvs7(in_memory)
    _, labelled_path, _ = files
    builtin, _ = quiet_load(labelled_path)
    read, _ = quiet_load(labelled_path, codebook=from_file)
    assert read.quality.labelled["mapped_columns"] == len(CODEBOOK.ids)
    pd.testing.assert_frame_equal(read.data, builtin.data)
