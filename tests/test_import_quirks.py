"""The official WVS-7 file's quirks (issue 10), met through the synthetic generator's quirks
option, in every format WVS distributes: each round-trips with its warning and no lost answer.

No real WVS data: the population is generated (seeded) and written here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import valuesim
from valuesim.errors import DataError
from valuesim.survey.io import write_frame
from valuesim.survey.model import Profile
from valuesim.survey.synthetic import generate
from valuesim.survey.synthetic.quirks import (
    EXTRA_COLUMNS,
    NOT_ASKED_ITEM,
    expected_codes,
    labelled_export,
    shared_interview,
)
from valuesim.survey.wvs7.bank import load_codebook
from valuesim.survey.importer import load_wvs7

CODEBOOK = load_codebook()
# Tests that check warnings record them themselves; the rest need not print them.
pytestmark = pytest.mark.filterwarnings("ignore::valuesim.survey.wvs7.readers.WVSFileWarning")


@pytest.fixture(scope="module")
def quirky() -> pd.DataFrame:
    return generate(respondents=400, countries=4, seed=2, quirks=True)


def load_recording(path, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        survey = load_wvs7(path, **options)
    return survey, [str(w.message) for w in caught]


def write(frame: pd.DataFrame, path) -> None:
    if path.name.endswith(".semicolon.csv"):
        frame.to_csv(path, sep=";", index=False)  # the v5 CSV layout
    else:
        write_frame(frame, path)


def expected_keys(frame: pd.DataFrame) -> list[str]:
    ids = frame["D_INTERVIEW"].astype(str)
    shared = ids.duplicated(keep=False)
    n = frame[shared].groupby(["B_COUNTRY_ALPHA", "D_INTERVIEW"]).cumcount() + 1
    keys = ids.copy()
    keys[shared] = frame.loc[shared, "B_COUNTRY_ALPHA"] + "-" + ids[shared] + "-" + n.astype(str)
    return keys.tolist()


@pytest.mark.parametrize("name", ["quirks.csv", "quirks.semicolon.csv", "quirks.sav", "quirks.dta", "quirks.parquet"])
def test_every_quirk_round_trips_with_its_warning_and_no_lost_answer(tmp_path, quirky, name):
    path = tmp_path / name
    write(quirky, path)
    survey, messages = load_recording(path)

    # 1. shared D_INTERVIEW: derived keys, stable and traceable; nobody lost
    assert len(survey) == len(quirky)
    assert list(survey.data.index) == expected_keys(quirky)
    last = quirky["B_COUNTRY_ALPHA"].iloc[-1]
    code = int(quirky["B_COUNTRY"].iloc[-1])
    assert survey.data.index[-1].startswith(f"{last}-{shared_interview(code)}-")
    assert (survey.data["D_INTERVIEW"] == quirky["D_INTERVIEW"].astype(str).to_numpy()).all()
    assert sum("share" in m and "D_INTERVIEW" in m for m in messages) == 1
    assert survey.quality.duplicate_ids["countries"] == {last: int((quirky["B_COUNTRY_ALPHA"] == last).sum())}

    # 2. every answer as the bank reads it: code lists kept, counts top-coded, code 9 missing
    expected = expected_codes(quirky, CODEBOOK)
    got = survey.data[CODEBOOK.ids].astype("int64").to_numpy()
    np.testing.assert_array_equal(got, expected.to_numpy())
    for qid in ("Q266", "Q267", "Q268", "Q272", "Q290", "Q223"):
        assert qid in survey.quality.unlabelled_codes
    assert set(survey.quality.top_coded) == {"Q270", "Q274"}
    assert sum("top-coded" in m for m in messages) == 1  # said once
    unknown = [m for m in messages if "does not know" in m]
    assert len(unknown) == 2 and "Q277 has" in unknown[0] and "Q278 has" in unknown[1]
    assert set(survey.quality.unknown_codes) == {"Q277", "Q278"}

    # 3. a country not asked an item, and the extra columns
    first = quirky["B_COUNTRY_ALPHA"].iloc[0]
    assert NOT_ASKED_ITEM in survey.quality.not_asked[first]
    assert survey.quality.extra_columns >= len(EXTRA_COLUMNS)
    assert not set(EXTRA_COLUMNS) & set(survey.data.columns)


def test_strict_refuses_unknown_codes_but_keeps_code_lists(tmp_path, quirky):
    path = tmp_path / "q.parquet"
    quirky.to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"column Q277, row \d+ .*code 9 is not a code of Q277"):
        load_wvs7(path, strict=True)
    ok = quirky.copy()
    ok.loc[ok["Q277"] == 9, "Q277"] = -5
    ok.loc[ok["Q278"] == 9, "Q278"] = -5
    ok.to_parquet(path, index=False)
    survey = load_wvs7(path, strict=True)  # unlisted country/language codes are answers, not errors
    assert (survey.data["Q266"] == 120).any() or (survey.data["Q266"] == 462).any()


def test_labelled_export_gives_the_same_answers_code_for_code(tmp_path, quirky):
    coded_path = tmp_path / "coded.csv"
    write_frame(quirky, coded_path)
    coded, _ = load_recording(coded_path)
    export = labelled_export(quirky, CODEBOOK)
    for name in ("labelled.csv", "labelled.parquet"):
        path = tmp_path / name
        write_frame(export, path)
        survey, _ = load_recording(path)
        assert list(survey.data.index) == list(coded.data.index)
        assert (survey.data["country"] == coded.data["country"]).all()
        np.testing.assert_allclose(survey.data["weight"], coded.data["weight"])
        np.testing.assert_array_equal(survey.data[CODEBOOK.ids].astype("int64").to_numpy(),
                                      coded.data[CODEBOOK.ids].astype("int64").to_numpy())
        report = survey.quality.labelled
        assert report["mapped_columns"] == 290 and report["normalised_matches"] > 0
        assert report["unmapped_columns"] == 2 and "Country GDP per capita" in report["unmapped_examples"]


def test_labelled_export_unknown_labels_are_reported_and_the_rest_loads(tmp_path, quirky):
    export = labelled_export(quirky.head(50), CODEBOOK)
    header = next(c for c in export.columns if c == "Important in life: Family")
    export.loc[:4, header] = "Quite important indeed"
    path = tmp_path / "odd.csv"
    export.to_csv(path, index=False)
    survey, messages = load_recording(path)
    assert (survey.data["Q1"].iloc[:5] == -5).all()
    assert survey.quality.labelled["unmapped_labels"]["Q1"] == {"Quite important indeed": 5}
    assert any("labels the bank does not know" in m and "Quite important indeed" in m for m in messages)


def test_file_without_id_or_country_column_needs_the_country_named(tmp_path, quirky):
    export = labelled_export(quirky.head(30), CODEBOOK).drop(columns=["Interview ID", "ISO 3166-1 alpha-3 country code"])
    path = tmp_path / "aus.csv"
    export.to_csv(path, index=False)
    with pytest.raises(DataError, match="--country"):
        load_wvs7(path)
    survey = valuesim.load_survey(path, country="aus")
    assert list(survey.data.index[:3]) == ["row1", "row2", "row3"] and set(survey.data["country"]) == {"AUS"}
    assert survey.quality.keys == "row number"


def test_country_option_keeps_one_country_of_a_multi_country_file(tmp_path, quirky):
    path = tmp_path / "q.parquet"
    quirky.to_parquet(path, index=False)
    first = quirky["B_COUNTRY_ALPHA"].iloc[0]
    survey = valuesim.load_survey(path, country=first)
    assert set(survey.data["country"]) == {first} and len(survey) == int((quirky["B_COUNTRY_ALPHA"] == first).sum())


def test_identical_rows_are_reported_and_dropped_only_when_asked(tmp_path, quirky):
    f = pd.concat([quirky.head(20), quirky.iloc[[3, 7]]], ignore_index=True)
    path = tmp_path / "copies.csv"
    f.to_csv(path, index=False)
    survey, messages = load_recording(path)
    assert len(survey) == 22 and survey.quality.duplicate_rows == {"rows": 2, "dropped": False, "first_rows": [21, 22]}
    assert any("repeat an earlier row exactly" in m for m in messages)
    dropped = valuesim.load_survey(path, drop_duplicate_rows=True)
    assert len(dropped) == 20 and list(dropped.data.index) == [str(i) for i in quirky["D_INTERVIEW"].head(20)]


def test_profiles_name_unlisted_countries_of_birth(tmp_path, quirky):
    path = tmp_path / "q.csv"
    write_frame(quirky, path)
    survey, _ = load_recording(path)
    rid = survey.data.index[(survey.data["Q266"] == 120).to_numpy()][0]
    person = survey.respondent(rid)
    profile = Profile.from_respondent(person, survey.codebook, include=["Q266", "Q272"])
    assert "You were born in Cameroon." in profile.as_statements()
    assert "120. Cameroon" in profile.as_qa_list()
    lang = survey.data.index[(survey.data["Q272"] == 1105).to_numpy()][0]
    assert "language code 1105, not in the codebook's list" in Profile.from_respondent(survey.respondent(lang), survey.codebook,
                                                           include=["Q272"]).as_statements()


def test_eval_runs_end_to_end_on_a_file_with_every_quirk(tmp_path, quirky):
    """`valuesim eval` on the quirky layout (small: the full 100 users x 5 folds is a benchmark)."""
    from valuesim.cli import main

    path = tmp_path / "quirks.csv"
    write_frame(quirky, path)
    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["eval", str(path), "--methods", "country-marginal,regression", "--users", "8",
                     "--folds", "2", "--items", "Q1,Q2,Q3,Q46,Q57,Q266,Q270,Q277,Q290", "--out", str(out),
                     "--no-progress"])
    assert code == 0
    import sqlite3

    stored = list(out.glob("*.sqlite")) + list(out.glob("*.db"))
    assert stored, "the run stored its predictions"
    with sqlite3.connect(stored[0]) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        assert any(db.execute(f"select count(*) from {t}").fetchone()[0] > 0 for t in tables)


def test_item_names_with_value_labels_in_the_cells(tmp_path, quirky):
    """pandas.read_spss(convert_categoricals=True).to_csv(): names as headers, labels in cells."""
    export = labelled_export(quirky, CODEBOOK)
    export.columns = ["D_INTERVIEW", "B_COUNTRY_ALPHA", "W_WEIGHT"] + CODEBOOK.ids + list(export.columns[3 + len(CODEBOOK.ids):])
    path = tmp_path / "names_labels.csv"
    export.to_csv(path, index=False)
    coded_path = tmp_path / "coded.parquet"
    quirky.to_parquet(coded_path, index=False)
    survey, _ = load_recording(path)
    coded, _ = load_recording(coded_path)
    np.testing.assert_array_equal(survey.data[CODEBOOK.ids].astype("int64").to_numpy(),
                                  coded.data[CODEBOOK.ids].astype("int64").to_numpy())
    assert list(survey.data["country"]) == list(coded.data["country"])


def test_v5_semicolon_csv_with_decimal_comma_weights(tmp_path, quirky):
    path = tmp_path / "v5.csv"
    quirky.head(50).to_csv(path, sep=";", decimal=",", index=False)
    survey, _ = load_recording(path)
    np.testing.assert_allclose(survey.data["weight"], quirky["W_WEIGHT"].head(50))


def test_sav_and_dta_with_value_labels_and_user_missing_load_as_codes(tmp_path, quirky):
    """The official .sav/.dta carry value labels (and .sav user-missing ranges): codes are read."""
    pyreadstat = pytest.importorskip("pyreadstat")
    items = ["Q1", "Q57", "Q266", "Q270", "Q277"]
    f = quirky[["D_INTERVIEW", "B_COUNTRY_ALPHA", "W_WEIGHT"] + items]
    labels = {q: {int(c): t for c, t in ((o.code, o.label) for o in CODEBOOK[q].options)} for q in items}
    for q in items:
        labels[q].update({-1: "Don't know", -2: "No answer", -4: "Not asked", -5: "Missing"})
    sav = tmp_path / "labelled.sav"
    pyreadstat.write_sav(f, str(sav), variable_value_labels=labels,
                         column_labels={q: CODEBOOK[q].short for q in items},
                         missing_ranges={q: [{"lo": -5, "hi": -1}] for q in items})
    dta = tmp_path / "labelled.dta"
    f.to_stata(dta, write_index=False, version=118, value_labels={q: labels[q] for q in ("Q1", "Q57", "Q277")},
               variable_labels={q: CODEBOOK[q].short for q in items})
    expected = expected_codes(quirky, CODEBOOK)[items].to_numpy()
    for path in (sav, dta):
        survey, _ = load_recording(path)
        np.testing.assert_array_equal(survey.data[items].astype("int64").to_numpy(), expected)
        assert survey.quality.labelled is None  # item names as headers and codes in cells: a coded file


@pytest.mark.parametrize("suffix", [".csv", ".sav"])
def test_numeric_country_code_only(tmp_path, quirky, suffix):
    """A file with B_COUNTRY (ISO numeric) but no B_COUNTRY_ALPHA: the alpha-3 code is derived."""
    f = quirky.head(60).drop(columns=["B_COUNTRY_ALPHA"])
    path = tmp_path / f"numeric{suffix}"
    write_frame(f, path)
    survey, _ = load_recording(path)
    assert list(survey.data["country"]) == list(quirky["B_COUNTRY_ALPHA"].head(60))
