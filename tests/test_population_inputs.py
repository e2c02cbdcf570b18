"""What a population run accepts from a user's command line: countries in any ISO form (a file
that wrote DE is loaded as DEU, and --countries DE must still find it), and --calibrate only
when some question is left to calibrate on (else T=1 would be reported as calibrated)."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuesim.cli import main as cli_main
from valuesim.errors import ConfigError
from valuesim.population import run_population
from valuesim.survey.codebook_file import load_codebook
from valuesim.survey.io import load_survey
from valuesim.survey.synthetic.generic import generate_for_codebook

ESS = Path(__file__).parent / "fixtures" / "ess9_codebook.yaml"


@pytest.fixture(scope="module")
def ess(tmp_path_factory):
    path = tmp_path_factory.mktemp("ess") / "ess.csv"
    generate_for_codebook(load_codebook(ESS), respondents=400, countries=["DEU", "USA"], seed=2).to_csv(path, index=False)
    return path


def test_countries_may_be_named_in_any_iso_form(ess, tmp_path):
    survey = load_survey(ess, codebook=ESS)
    assert survey.countries == ["DEU", "USA"]  # the file says DE and US
    assert load_survey(ess, codebook=ESS, country="de").countries == ["DEU"]  # --country DE keeps its rows
    result = run_population(survey, countries="DE,840", personas=3, methods="demographic", model="scripted",
                            out=tmp_path / "a", progress=False)
    assert set(result.metrics["country"]) == {"DEU", "USA"}
    with pytest.raises(ConfigError, match=r"^countries JPN, FRA are not in .*it has: DEU, USA$"):
        run_population(survey, countries="JP,France", personas=3, methods="demographic", model="scripted",
                       out=tmp_path / "b", progress=False)


def test_calibrate_without_a_question_left_is_refused_before_anything_is_written(ess, tmp_path, capsys):
    out = tmp_path / "cal"
    args = ["population", str(ess), "--codebook", str(ESS), "--countries", "DE", "--personas", "3",
            "--model", "scripted", "--calibrate", "--out", str(out)]
    assert cli_main(args) == 2
    assert "--calibrate needs questions that are not evaluated" in capsys.readouterr().err
    assert not out.exists()
    assert cli_main(args + ["--questions", "polintr,stflife", "--no-progress"]) == 0
    assert "calibration: value-persona T=" in capsys.readouterr().out
