"""Import of WVS-7 files: every distributed format, partial files, and each kind of bad file.

The files are written here from generated codes in the official layout (never real WVS data).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import valuesim
from valuesim.errors import DataError
from valuesim.survey.wvs7.bank import load_codebook
from valuesim.survey.importer import WVSFileWarning, compact_ids, load_wvs7

CODEBOOK = load_codebook()


def official_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Random valid answers in the official column layout, with metadata columns valuesim must
    ignore, every WVS missing code present, and the synthetic marker."""
    rng = np.random.default_rng(seed)
    cols = {
        "version": ["v6.0"] * n,
        "A_YEAR": np.full(n, 2018),
        "B_COUNTRY": np.full(n, 20),
        "B_COUNTRY_ALPHA": rng.choice(["AND", "ARG", "DEU"], n),
        "D_INTERVIEW": 20070000 + np.arange(1, n + 1),
        "W_WEIGHT": rng.uniform(0.5, 1.5, n).round(4),
    }
    for q in CODEBOOK:
        codes = np.array(q.codes)
        values = rng.choice(codes, n)
        missing = rng.random(n) < 0.05
        cols[q.id] = np.where(missing, rng.choice([-1, -2, -3, -4, -5], n), values)
    cols["Q275A"] = rng.integers(1, 9, n)  # a country-specific variable that is not in the bank
    cols["X003R"] = rng.integers(1, 7, n)
    cols["SYNTHETIC"] = np.ones(n, dtype=int)
    frame = pd.DataFrame(cols)
    # Fixed cells the tests check: distinct missing codes must stay distinct.
    frame.loc[0, "Q1"], frame.loc[1, "Q1"], frame.loc[2, "Q1"] = -1, -4, 2
    return frame


def assert_same(survey, frame: pd.DataFrame, qids=None) -> None:
    qids = qids or [q.id for q in CODEBOOK]
    assert list(survey.data.index) == [str(i) for i in frame["D_INTERVIEW"]]
    assert survey.data["country"].tolist() == frame["B_COUNTRY_ALPHA"].tolist()
    np.testing.assert_allclose(survey.data["weight"].to_numpy(), frame["W_WEIGHT"].to_numpy())
    got = survey.data[qids].astype("int64").to_numpy()
    np.testing.assert_array_equal(got, frame[qids].to_numpy())
    assert survey.question_ids == qids
    assert "Q275A" not in survey.data and "X003R" not in survey.data


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return official_frame()


@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_round_trip_with_either_separator(tmp_path, frame, sep):
    path = tmp_path / "wvs.csv"
    frame.to_csv(path, index=False, sep=sep)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a complete file loads without any warning
        survey = load_wvs7(path)
    assert_same(survey, frame)
    assert survey.synthetic is True and survey.absent == []
    assert survey.source == str(path)
    first = survey.respondent("20070001")
    assert first.missing["Q1"] == valuesim.MissingCode.DONT_KNOW
    assert survey.respondent("20070002").missing["Q1"] == valuesim.MissingCode.NOT_ASKED
    assert survey.respondent("20070003").answers["Q1"] == 2
    assert np.isnan(survey.valid(["Q1"]).iloc[0, 0])


def test_csv_without_synthetic_marker_is_not_synthetic_and_case_is_ignored(tmp_path, frame):
    path = tmp_path / "wvs.csv"
    frame.drop(columns="SYNTHETIC").rename(columns=str.lower).to_csv(path, index=False)
    survey = load_wvs7(path)
    assert survey.synthetic is False
    assert_same(survey, frame)


def test_csv_with_quoted_fields_and_float_codes(tmp_path, frame):
    path = tmp_path / "wvs.csv"
    small = frame.head(20).copy()
    small["Q2"] = small["Q2"].astype(float)  # written as "1.0": still whole numbers
    small.to_csv(path, index=False, quoting=1)
    survey = load_wvs7(path)
    assert_same(survey, small)


def test_sav_keeps_user_missing_codes(tmp_path, frame):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "wvs.sav"
    qids = [q.id for q in CODEBOOK]
    pyreadstat.write_sav(
        frame, str(path),
        # The official .sav declares the negative codes as user-missing; they must not become blank.
        missing_ranges={q: [{"lo": -5, "hi": -1}] for q in qids},
        variable_value_labels={"Q1": {1: "Very important", -1: "Don't know", -4: "Not asked"}},
    )
    survey = load_wvs7(path)
    assert_same(survey, frame)
    assert survey.respondent("20070002").missing["Q1"] == valuesim.MissingCode.NOT_ASKED


def test_dta_with_stata_lowercase_names(tmp_path, frame):
    path = tmp_path / "wvs.dta"
    frame.rename(columns=str.lower).to_stata(path, write_index=False, version=118)
    survey = load_wvs7(path)
    assert_same(survey, frame)
    assert survey.synthetic is True


def test_parquet_round_trip(tmp_path, frame):
    path = tmp_path / "wvs.parquet"
    frame.to_parquet(path, index=False)
    assert_same(load_wvs7(path), frame)


def test_load_survey_is_the_public_entry_point(tmp_path, frame):
    path = tmp_path / "wvs.pq"
    frame.to_parquet(path, index=False)
    survey = valuesim.load_survey(path, questions=["Q46", "Q1"])
    assert survey.question_ids == ["Q46", "Q1"] or survey.question_ids == ["Q1", "Q46"]
    assert_same(survey, frame, qids=survey.question_ids)


def test_partial_file_loads_with_one_warning_listing_what_is_absent(tmp_path, frame):
    path = tmp_path / "partial.csv"
    dropped = [f"Q{i}" for i in range(1, 46)] + ["Q260"]
    frame.drop(columns=dropped).to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        survey = load_wvs7(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, WVSFileWarning)]
    assert len(messages) == 1, messages
    assert "absent: Q1-Q45, Q260" in messages[0] and "244 of the 290" in messages[0]
    assert survey.absent == dropped
    assert "Q1" not in survey.data and "Q46" in survey.data
    assert_same(survey, frame, qids=[q for q in CODEBOOK.ids if q not in dropped])


def test_missing_weight_column_gives_weight_one_and_a_warning(tmp_path, frame):
    path = tmp_path / "noweight.csv"
    frame.drop(columns="W_WEIGHT").to_csv(path, index=False)
    with pytest.warns(WVSFileWarning, match="no W_WEIGHT"):
        survey = load_wvs7(path)
    assert (survey.data["weight"] == 1.0).all()


def test_country_specific_codes_from_the_bank_are_valid(tmp_path, frame):
    path = tmp_path / "wvs.csv"
    f = frame.head(10).copy()
    f.loc[0, "Q223"] = max(CODEBOOK["Q223"].codes)  # a country's party code
    f.loc[1, "Q290"] = max(CODEBOOK["Q290"].codes)  # a country's ethnic group code
    f.to_csv(path, index=False)
    assert_same(load_wvs7(path), f)


def test_compact_ids():
    order = CODEBOOK.ids
    assert compact_ids(["Q3", "Q1", "Q2", "Q7", "Q9", "Q10"], order) == "Q1-Q3, Q7, Q9, Q10"
    assert compact_ids([f"Q{i}" for i in range(1, 46)] + ["Q260"], order) == "Q1-Q45, Q260"


# --------------------------------------------------------------------------- bad files


def load_error(path, **options) -> str:
    with pytest.raises(DataError) as info:
        load_wvs7(path, **options)
    message = str(info.value)
    assert "\n" not in message  # one line
    assert str(path) in message  # names the file
    return message


def test_not_a_wvs_file(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"name": ["a", "b"], "score": [1, 2]}).to_csv(path, index=False)
    message = load_error(path)
    assert "not a WVS-7 file" in message and "Q1 ... Q290" in message and "name, score" in message


def test_ids_and_countries_but_no_questions(tmp_path, frame):
    path = tmp_path / "noq.csv"
    frame[["D_INTERVIEW", "B_COUNTRY_ALPHA", "W_WEIGHT"]].to_csv(path, index=False)
    assert "no question columns" in load_error(path)


def test_binary_file_named_csv(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)))
    assert "not a WVS-7 file" in load_error(path)


def test_empty_and_header_only_files(tmp_path, frame):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty" in load_error(empty)
    header = tmp_path / "header.csv"
    frame.head(0).to_csv(header, index=False)
    assert "no respondents" in load_error(header)


def test_missing_file(tmp_path):
    assert "no such file" in load_error(tmp_path / "nowhere.csv")


def test_truncated_csv_names_the_last_row(tmp_path, frame):
    path = tmp_path / "cut.csv"
    frame.to_csv(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 300])  # the download stopped inside the last row
    message = load_error(path)
    assert "truncated" in message and f"row {len(frame)}" in message


def test_ragged_row_in_the_middle(tmp_path, frame):
    path = tmp_path / "ragged.csv"
    frame.head(10).to_csv(path, index=False)
    lines = path.read_text().splitlines()
    lines[4] = lines[4] + ",99"  # data row 4 gets an extra field
    path.write_text("\n".join(lines) + "\n")
    message = load_error(path)
    assert "row 4" in message and "fields" in message


def test_out_of_range_code_names_column_row_respondent_and_value(tmp_path, frame):
    path = tmp_path / "bad.csv"
    f = frame.copy()
    f.loc[6, "Q12"] = 9
    f.loc[50, "Q12"] = 7
    f.loc[8, "Q99"] = 42
    f.to_csv(path, index=False)
    message = load_error(path, strict=True)
    assert "column Q12, row 7 (respondent 20070007)" in message
    assert "code 9" in message and "2 such cells in Q12" in message
    assert "3 such cells in 2 columns" in message


def test_unknown_codes_become_missing_with_one_warning_per_column(tmp_path, frame):
    path = tmp_path / "bad.csv"
    f = frame.copy()
    f.loc[6, "Q12"] = 9
    f.loc[7, "Q12"] = 9
    f.loc[8, "Q99"] = 42
    f.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        survey = load_wvs7(path)
    unknown = [str(w.message) for w in caught if "does not know" in str(w.message)]
    assert len(unknown) == 2  # one per column, naming column, codes and cells
    assert "Q12 has 2 cells" in unknown[0] and "9 (2)" in unknown[0]
    assert "Q99 has 1 cells" in unknown[1] and "42 (1)" in unknown[1]
    assert survey.data.loc["20070007", "Q12"] == -5 and survey.data.loc["20070009", "Q99"] == -5
    assert survey.data.loc["20070006", "Q12"] == frame.loc[5, "Q12"]
    assert survey.quality.unknown_codes == {"Q12": {9: 2}, "Q99": {42: 1}}


def test_numeric_item_out_of_range(tmp_path, frame):
    path = tmp_path / "age.parquet"
    f = frame.copy()
    f.loc[3, "Q262"] = 250  # age
    f.to_parquet(path, index=False)
    message = load_error(path, strict=True)
    assert "column Q262, row 4" in message and "250" in message
    with pytest.warns(WVSFileWarning, match="Q262 has 1 cells"):
        assert load_wvs7(path).data["Q262"].iloc[3] == -5


def test_missing_code_below_minus_five_is_invalid(tmp_path, frame):
    path = tmp_path / "neg.csv"
    f = frame.copy()
    f.loc[0, "Q3"] = -9
    f.to_csv(path, index=False)
    assert "column Q3, row 1" in load_error(path, strict=True)
    with pytest.warns(WVSFileWarning, match=r"Q3 has 1 cells .* -9 \(1\)"):
        assert load_wvs7(path).data["Q3"].iloc[0] == -5


def test_non_integer_code(tmp_path, frame):
    path = tmp_path / "text.csv"
    f = frame.astype({"Q5": object}).copy()
    f.loc[10, "Q5"] = "often"
    f.to_csv(path, index=False)
    message = load_error(path, strict=True)
    assert "column Q5, row 11" in message and "'often'" in message and "integer" in message
    with pytest.warns(WVSFileWarning, match=r"Q5 has 1 cells that are not answer codes.*'often' \(1\)"):
        survey = load_wvs7(path)
    assert survey.data["Q5"].iloc[10] == -5 and survey.quality.unreadable_cells == {"Q5": {"often": 1}}
    assert survey.data["Q5"].iloc[9] == frame["Q5"].iloc[9]

    path2 = tmp_path / "fraction.csv"
    f = frame.astype({"Q6": float}).copy()
    f.loc[2, "Q6"] = 1.5
    f.to_csv(path2, index=False)
    assert "column Q6, row 3" in load_error(path2, strict=True)


def test_huge_number_is_reported_not_overflowed(tmp_path, frame):
    path = tmp_path / "huge.csv"
    f = frame.copy()
    f.loc[1, "Q7"] = 99_999_999_999
    f.to_csv(path, index=False)
    message = load_error(path)
    assert "column Q7, row 2" in message and "99999999999" in message


def test_duplicate_respondent_ids(tmp_path, frame):
    path = tmp_path / "dup.csv"
    f = frame.copy()
    f.loc[5, "D_INTERVIEW"] = f.loc[2, "D_INTERVIEW"]
    f.loc[5, "B_COUNTRY_ALPHA"] = f.loc[2, "B_COUNTRY_ALPHA"]
    f.to_csv(path, index=False)
    with pytest.warns(WVSFileWarning, match="2 rows share 1 D_INTERVIEW values") as caught:
        survey = load_wvs7(path)
    assert len([w for w in caught if "share" in str(w.message)]) == 1
    c = f.loc[2, "B_COUNTRY_ALPHA"]
    keys = list(survey.data.index)
    assert keys[2] == f"{c}-20070003-1" and keys[5] == f"{c}-20070003-2" and keys[3] == "20070004"
    assert survey.data["D_INTERVIEW"].iloc[5] == "20070003"  # the original id is kept
    assert survey.quality.duplicate_ids == {"rows": 2, "ids": 1, "countries": {c: 2}}
    assert len(survey) == len(f)  # nobody lost


def test_truncated_sav(tmp_path, frame):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "cut.sav"
    pyreadstat.write_sav(frame, str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    message = load_error(path)
    assert "truncated" in message and "row" in message


def test_truncated_dta(tmp_path, frame):
    path = tmp_path / "cut.dta"
    frame.to_stata(path, write_index=False, version=118)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    message = load_error(path)
    assert "truncated" in message or "not a readable Stata" in message


def test_truncated_parquet(tmp_path, frame):
    path = tmp_path / "cut.parquet"
    frame.to_parquet(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in load_error(path)


def test_wrong_extension_content(tmp_path):
    path = tmp_path / "fake.sav"
    path.write_text("D_INTERVIEW,B_COUNTRY_ALPHA\n1,AND\n")
    assert "does not look like a sav file" in load_error(path)


@pytest.mark.parametrize("fmt", ["csv", "csv;", "sav", "dta", "parquet"])
def test_synthetic_population_round_trips_in_every_format(tmp_path, fmt):
    from valuesim.survey.synthetic import generate, write_synthetic

    synth = generate(respondents=300, countries=3, seed=5)
    if fmt == "csv":
        path = write_synthetic(tmp_path / "synth.csv", respondents=300, countries=3, seed=5)
    elif fmt == "csv;":
        path = tmp_path / "synth_semicolon.csv"
        synth.to_csv(path, index=False, sep=";")
    elif fmt == "sav":
        pyreadstat = pytest.importorskip("pyreadstat")
        path = tmp_path / "synth.sav"
        pyreadstat.write_sav(synth, str(path), missing_ranges={q: [{"lo": -5, "hi": -1}] for q in CODEBOOK.ids})
    elif fmt == "dta":
        path = tmp_path / "synth.dta"
        synth.rename(columns=str.lower).to_stata(path, write_index=False, version=118)
    else:
        path = tmp_path / "synth.parquet"
        synth.to_parquet(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        survey = valuesim.load_survey(path)
    assert survey.synthetic is True and len(survey) == 300 and len(survey.countries) == 3
    assert_same(survey, synth)


def test_the_old_importer_module_still_serves_scripts():
    """`valuesim.survey.wvs7.importer` (where the importer used to live) re-exports it, unchanged."""
    import valuesim.survey.importer as importer
    import valuesim.survey.wvs7.importer as old

    assert old.__all__ == importer.__all__ and all(getattr(old, n) is getattr(importer, n) for n in importer.__all__)
    assert old.load_wvs7 is importer.load_wvs7
