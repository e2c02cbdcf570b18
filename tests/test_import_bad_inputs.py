"""Bad inputs a probe found (issue 10 item 7), each ending in a warning or one clear line."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from valuesim.errors import DataError
from valuesim.survey.synthetic import generate
from valuesim.survey.synthetic.quirks import labelled_export
from valuesim.survey.wvs7.bank import load_codebook
from valuesim.survey.importer import WVSFileWarning, load_wvs7

CLI = [sys.executable, "-c", "import sys; from valuesim.cli import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def frame():
    return generate(respondents=120, countries=3, seed=5)


def load_recording(path, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        survey = load_wvs7(path, **options)
    return survey, [str(w.message) for w in caught]


def test_latin1_csv_loads_with_a_warning(tmp_path, frame):
    f = frame.copy()
    f.insert(5, "N_TOWN", ["Zürich", "Córdoba", "Malmö"] * 40)
    path = tmp_path / "latin1.csv"
    path.write_bytes(f.to_csv(index=False).encode("latin-1"))
    survey, messages = load_recording(path)
    assert len(survey) == len(f)
    assert any("is not UTF-8" in m and "cp1252" in m for m in messages)
    assert survey.quality.encoding == "cp1252"


def test_cp1252_labelled_export_with_a_late_non_utf8_byte(tmp_path, frame):
    export = labelled_export(frame, load_codebook())
    # the header is plain ASCII; the first non-UTF-8 byte comes late, in a cell the import uses
    export.columns = [c.replace("´", "'") for c in export.columns]
    col = "Important in life: Family"
    export[col] = export[col].astype(object)
    export.loc[len(export) - 1, col] = "Very important"
    export.loc[len(export) - 2, col] = "Very important´"  # a stray acute accent, as exports have
    path = tmp_path / "cp1252.csv"
    path.write_bytes(export.to_csv(index=False).encode("cp1252"))
    survey, messages = load_recording(path)
    assert any("is not UTF-8" in m for m in messages)
    assert survey.data["Q1"].iloc[-1] == 1 and survey.data["Q1"].iloc[-2] == 1  # "´" is punctuation


def test_non_utf8_csv_through_the_cli_is_not_a_traceback(tmp_path, frame):
    f = frame.copy()
    f.insert(5, "N_TOWN", ["Zürich"] * len(f))
    path = tmp_path / "latin1.csv"
    path.write_bytes(f.to_csv(index=False).encode("latin-1"))
    run = subprocess.run(CLI + ["data", "inspect", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert "not UTF-8" in run.stderr and "encoding: read as cp1252" in run.stdout


def test_duplicate_column_names(tmp_path, frame):
    path = tmp_path / "dup.csv"
    text = frame.to_csv(index=False).splitlines()
    header = text[0].split(",")
    path.write_text("\n".join([",".join(header + ["Q1"])] + [r + ",1" for r in text[1:]]) + "\n")
    with pytest.raises(DataError, match="column Q1 appears 2 times in the header") as info:
        load_wvs7(path)
    assert "\n" not in str(info.value)
    # a repeated column valuesim does not use is only reported
    path.write_text("\n".join([",".join(header + ["S018", "S018"])] + [r + ",1,2" for r in text[1:]]) + "\n")
    survey, _ = load_recording(path)
    assert survey.quality.duplicate_columns == ["S018"] and len(survey) == len(frame)


@pytest.mark.parametrize("bad", ["<script>alert(1)</script>", "../../x", '=HYPERLINK("http://x","y")'])
def test_country_values_that_are_not_codes_are_refused(tmp_path, frame, bad):
    f = frame.copy()
    f.loc[7, "B_COUNTRY_ALPHA"] = bad
    path = tmp_path / "country.csv"
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match="row 8") as info:
        load_wvs7(path)
    message = str(info.value)
    assert "is not a country code" in message and "\n" not in message


def test_unknown_but_code_like_country_is_kept_with_a_warning(tmp_path, frame):
    f = frame.copy()
    f.loc[:9, "B_COUNTRY_ALPHA"] = "XYZ"
    f.loc[10:19, "B_COUNTRY_ALPHA"] = "NIR"  # a WVS code, not ISO: no warning
    path = tmp_path / "country.csv"
    f.to_csv(path, index=False)
    survey, messages = load_recording(path)
    assert survey.quality.unknown_countries == {"XYZ": 10}
    assert sum("not ISO 3166-1 alpha-3" in m for m in messages) == 1


def test_negative_weight_is_printed_as_a_number(tmp_path, frame):
    f = frame.copy()
    f.loc[3, "W_WEIGHT"] = -1.5
    path = tmp_path / "weight.parquet"
    f.to_parquet(path, index=False)
    with pytest.raises(DataError) as info:
        load_wvs7(path)
    assert "weight -1.5 is not" in str(info.value) and "np." not in str(info.value)


def test_strict_cli_refuses_and_default_cli_warns(tmp_path, frame):
    f = frame.copy()
    f.loc[4, "Q46"] = 8
    path = tmp_path / "bad.csv"
    f.to_csv(path, index=False)
    ok = subprocess.run(CLI + ["data", "inspect", str(path), "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0 and "Q46 has 1 cells" in ok.stderr
    import json

    quality = json.loads(ok.stdout)["quality"]
    assert quality["unknown_codes"] == {"Q46": {"8": 1}}
    strict = subprocess.run(CLI + ["data", "inspect", str(path), "--strict"], capture_output=True, text=True, timeout=120, check=False)
    assert strict.returncode == 2 and strict.stderr.count("\n") == 1 and "column Q46, row 5" in strict.stderr


def test_warning_class_is_exported():
    assert issubclass(WVSFileWarning, UserWarning)


def test_non_utf8_byte_after_the_first_megabyte_in_a_used_column(tmp_path):
    """The header sample is clean; pyarrow meets the byte late, in an item column of labels."""
    f = generate(respondents=2500, countries=3, seed=5)
    labels = {1: "Very important", 2: "Rather important", 3: "Not very important", 4: "Not at all important",
              -1: "Don't know", -2: "No answer", -4: "Not asked", -5: "Missing"}
    codes = f["Q1"].copy()
    f["Q1"] = f["Q1"].map(labels)
    f.loc[len(f) - 1, "Q1"] = "Very important´"
    path = tmp_path / "late.csv"
    path.write_bytes(f.to_csv(index=False).encode("cp1252"))
    assert path.stat().st_size > 1 << 20 and path.read_bytes().index(b"\xb4") > 1 << 20
    survey, messages = load_recording(path)
    assert sum("is not UTF-8" in m for m in messages) == 1 and survey.quality.encoding == "cp1252"
    expected = codes.to_numpy().copy()
    expected[-1] = 1
    assert (survey.data["Q1"].astype("int64").to_numpy() == expected).all()


# Issue 20's file-reading cases: each one line naming the file (exit 2) or a correct load.

def run_cli(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=120, check=False)


def test_a_20_mb_single_line_csv_is_one_line_not_a_csv_field_limit_traceback(tmp_path):
    path = tmp_path / "one_line.csv"
    path.write_bytes(b"Q1," + b"x" * (20 << 20))
    with pytest.raises(DataError, match="first row .* runs on past the first 16 MB"):
        load_wvs7(path)
    run = run_cli("data", "inspect", str(path))
    assert run.returncode == 2 and "Traceback" not in run.stderr and str(path) in run.stderr


def test_a_single_line_file_with_a_huge_field_is_read_as_a_header(tmp_path):
    path = tmp_path / "huge_field.csv"
    path.write_text("B_COUNTRY_ALPHA,Q1," + "y" * 300_000, encoding="utf-8")  # above the csv field limit
    with pytest.raises(DataError, match="header but no respondents"):
        load_wvs7(path)


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_unreadable_file_is_one_line(tmp_path, frame):
    path = tmp_path / "locked.csv"
    frame.to_csv(path, index=False)
    path.chmod(0)
    with pytest.raises(DataError, match="permission denied"):
        load_wvs7(path)


def test_permission_error_on_open_is_one_line(tmp_path, frame, monkeypatch):
    """The same case for any user (root ignores chmod): open() refuses."""
    import builtins

    path = tmp_path / "locked.csv"
    frame.to_csv(path, index=False)
    real_open = builtins.open

    def refusing_open(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing_open)
    with pytest.raises(DataError, match=r"locked\.csv: permission denied"):
        load_wvs7(path)


@pytest.mark.parametrize("encoding, sep", [("utf-16", "\t"), ("utf-16-le", ","), ("utf-16-be", ";")])
def test_utf16_files_load_and_are_not_called_binary(tmp_path, frame, encoding, sep):
    """Excel's 'Unicode text' is UTF-16 with a BOM and tabs; without a BOM it is still read."""
    path = tmp_path / "utf16.csv"
    frame.to_csv(path, index=False, sep=sep, encoding=encoding)
    survey, messages = load_recording(path)
    assert len(survey) == len(frame) and (survey.data["Q1"].to_numpy() == frame["Q1"].to_numpy()).all()
    assert any("UTF-16" in m for m in messages) and survey.quality.encoding.startswith("utf-16")


def test_binary_files_say_what_they_are(tmp_path):
    path = tmp_path / "book.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(DataError, match="zip archive"):
        load_wvs7(path)


def test_bad_numeric_country_is_reported_under_b_country(tmp_path, frame):
    f = frame.drop(columns=["B_COUNTRY_ALPHA"])
    f["B_COUNTRY"] = f["B_COUNTRY"].astype(object)
    f.loc[3, "B_COUNTRY"] = "12.5x"
    path = tmp_path / "numeric.csv"
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column B_COUNTRY, row 4: '12.5x' is not a country code") as err:
        load_wvs7(path)
    assert "B_COUNTRY_ALPHA" not in str(err.value)
    f.loc[3, "B_COUNTRY"] = 99999
    f.to_csv(path, index=False)
    _, messages = load_recording(path)
    assert any("B_COUNTRY values that are not ISO 3166-1 country codes" in m and "99999" in m for m in messages)


def test_strict_refuses_an_all_text_column(tmp_path, frame):
    f = frame.copy()
    f["Q1"] = "abc"
    path = tmp_path / "text.csv"
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column 'Q1' \(Q1\): label 'abc' is no answer of Q1"):
        load_wvs7(path, strict=True)
    run = run_cli("data", "inspect", "--strict", str(path))
    assert run.returncode == 2 and "Traceback" not in run.stderr and "'abc'" in run.stderr
    survey, _ = load_recording(path)  # without --strict: loaded as missing, with a warning
    assert (survey.data["Q1"] == -5).all()


def test_multi_line_quoted_header_of_a_coded_file(tmp_path, frame):
    f = frame.head(20).rename(columns={"N_EXTRA": "x"})
    f.insert(3, "A note\nover two lines", 1)
    path = tmp_path / "multi.csv"
    f.to_csv(path, index=False)
    survey, _ = load_recording(path)
    assert len(survey) == 20 and (survey.data["Q2"].to_numpy() == f["Q2"].to_numpy()).all()


def test_old_mac_line_ends_are_rows(tmp_path, frame):
    path = tmp_path / "cr.csv"
    path.write_text(frame.head(30).to_csv(index=False, lineterminator="\r"), encoding="utf-8", newline="")
    survey, _ = load_recording(path)
    assert len(survey) == 30 and (survey.data["Q3"].to_numpy() == frame["Q3"].head(30).to_numpy()).all()
