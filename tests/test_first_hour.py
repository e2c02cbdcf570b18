"""What a researcher meets in the first hour (issue 21): a statistical eval that never touches
the LLM and prints its results, --estimate without an API key, chance scored as a uniform
guess, and the report's overall/country/session sections."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from eval_helpers import FirstCode, small_survey
from valuesim.cli import main as cli_main
from valuesim.evaluation import metrics as M
from valuesim.evaluation import run_study, write_report
from valuesim.evaluation.rundata import load_run
from valuesim.survey.synthetic import write_synthetic


@pytest.fixture(scope="module")
def synthetic_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "synthetic.csv"
    write_synthetic(path, respondents=240, countries=3, seed=1)
    return path


def test_statistical_eval_makes_no_model_file_and_prints_results(synthetic_csv, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("VALUESIM_HOME", str(home))

    def no_model(*args, **kwargs):
        raise AssertionError("a statistical run built a model backend")

    import valuesim.llm
    import valuesim.llm.weights

    monkeypatch.setattr(valuesim.llm, "make_backend", no_model)
    monkeypatch.setattr(valuesim.llm.weights, "prepare_default_model", no_model)
    out = tmp_path / "run"
    rc = cli_main(["eval", str(synthetic_csv), "--methods", "chance,country-marginal", "--users", "6",
                   "--folds", "5", "--out", str(out), "--no-progress"])
    assert rc == 0
    # no model joined, no cache: only the data file's whole-file hash, kept so it is read once
    assert [p.name for p in home.iterdir()] in ([], ["file_hashes.json"])
    assert not (out / "estimate.json").exists()
    text = capsys.readouterr().out
    assert "accuracy [95% CI]" in text and "normalized MAE [95% CI]" in text
    table = text[text.index("results ("):]
    assert "country-marginal" in table and "chance" in table
    assert text.rstrip().splitlines()[-1].endswith(f"valuesim report {out}")  # where the report is, last


def test_estimate_needs_no_api_key_and_shows_the_no_cache_bound(synthetic_csv, tmp_path, monkeypatch, capsys):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VALUESIM_PRICES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    args = ["eval", str(synthetic_csv), "--methods", "full-info,valuesim,knn", "--users", "3",
            "--model", "openai:gpt-4o-mini", "--out", str(tmp_path / "run"), "--estimate"]
    assert cli_main(args + ["--prices", "0.15,0.6"]) == 0
    text = capsys.readouterr().out
    assert "cost if nothing cached" in text and "issue" not in text
    row = next(line for line in text.splitlines() if line.startswith("total"))
    cost, bound = [float(c.strip("$").replace(",", "")) for c in row.split() if c.startswith("$")]
    assert 0 < cost <= bound
    assert not (tmp_path / "run").exists()
    # a price per token would silently cost $0.00: refused, with the per-million figure to use
    assert cli_main(args + ["--prices", "0.00000015,0.0000006"]) == 2
    err = capsys.readouterr().err
    assert "per MILLION" in err and "0.15,0.6" in err


def test_ties_score_as_expected_values():
    """A distribution with tied top codes scores the mean over the tie, not the tie-break's pick."""
    def row(dist, answer, truth):
        return {"method": "m", "respondent_id": "u", "question_id": "Q1", "kind": "ordinal", "codes": "[1, 2, 3, 4]",
                "n_steps": 3, "truth": truth, "answer": answer, "failed": False,
                "distribution": pd.Series(dist).rename(str).to_json()}

    uniform = {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25}
    df = M.score_rows(pd.DataFrame([row(uniform, 1, 4), row(uniform, 1, 1),
                                    row({1: 0.4, 2: 0.4, 3: 0.2, 4: 0.0}, 1, 2), row({1: 0.9, 2: 0.1}, 1, 2)]))
    assert df["correct"].tolist() == pytest.approx([0.25, 0.25, 0.5, 0.0])
    assert df["nmae"].tolist() == pytest.approx([1.5 / 3, 1.5 / 3, 0.5 / 3, 1 / 3])
    assert df["correct"].iloc[0] == df["chance_acc"].iloc[0] and df["nmae"].iloc[0] == df["chance_nmae"].iloc[0]


def test_chance_accuracy_is_the_mean_of_one_over_k_and_has_one_row(tmp_path):
    survey = small_survey(n=60)
    out = tmp_path / "run"
    run_study(survey, methods=["chance", FirstCode("first")], users=12, folds=5, out=out, progress=False)
    run = load_run(out)
    chance = run.predictions[(run.predictions["method"] == "chance") & ~run.predictions["failed"]]
    one_over_k = chance["codes"].map(lambda c: 1 / len(json.loads(c) if isinstance(c, str) else c))
    assert chance["correct"].mean() == pytest.approx(one_over_k.mean(), abs=0.01)
    md = write_report(out)["markdown"].read_text()
    assert "chance (uniform guess)" not in md  # the chance method's row is the only chance row
    rows = [line for line in md.splitlines() if line.startswith(("| chance |", "| chance (ref) |"))]
    assert len(rows) == 3  # MAE, accuracy, overall: one row each


def test_report_overall_leaves_out_demographics_and_flags_small_countries(tmp_path):
    survey = small_survey(n=80, countries=("AAA", "BBB", "CCC", "DDD"))
    out = tmp_path / "run"
    run_study(survey, methods=[FirstCode("a"), FirstCode("b")], users=12, folds=5, out=out, progress=False)
    run = load_run(out)
    main = run.predictions
    demographic = main["question_id"].isin(run.codebook.demographic_ids)
    values = main[~demographic]
    assert demographic.any()
    md = write_report(out)["markdown"].read_text()
    lines = md.splitlines()
    overall_row = next(line for line in lines[lines.index("### Overall scores with confidence intervals"):]
                       if line.startswith("| a |"))
    want = M.user_average(values[values["method"] == "a"], "accuracy")["mean"].iloc[0]
    assert overall_row.split("|")[5].strip().startswith(f"{want:.3f}")
    assert "--demographics" in md
    with_demo = write_report(out, demographics=True)["markdown"].read_text().splitlines()
    row = next(line for line in with_demo[with_demo.index("### Overall scores with confidence intervals"):]
               if line.startswith("| a |"))
    assert row.split("|")[5].strip().startswith(f"{M.user_average(main[main['method'] == 'a'], 'accuracy')['mean'].iloc[0]:.3f}")
    # per country: users, an interval where there are 2+ users, a flag under 5 users
    counts = main.groupby("country")["respondent_id"].nunique()
    country_rows = [line for line in lines if line.startswith("| AAA") or line.startswith("| BBB")
                    or line.startswith("| CCC") or line.startswith("| DDD")]
    assert len(country_rows) == len(counts)
    for line in country_rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        n = counts[cells[0]]
        assert cells[1].startswith(str(n)) and (("under 5" in cells[1]) == (n < 5))
        assert ("[" in cells[2]) == (n > 1)
    # a statistical run has no LLM section, and no heading repeats
    headings = [line for line in lines if line.startswith("#")]
    assert not any("LLM" in h for h in headings)
    assert len(headings) == len(set(h.lstrip("# ") for h in headings))
    assert math.isfinite(want)


# --- population on files without the value-dimension items (issue 21 item 8) -------------------
def _population_survey(drop=(), unasked: dict | None = None):
    from test_population_run import random_survey

    from valuesim.survey.model import MISSING_CODES

    s = random_survey(n_per_country=20)
    keep = [q for q in s.codebook.ids if q not in set(drop)]
    data = s.data.drop(columns=list(drop))
    for q, country in (unasked or {}).items():
        data.loc[data["country"] == country, q] = min(MISSING_CODES)
    return type(s)(s.codebook.subset(keep), data, source="no-dimensions test survey", synthetic=True)


def test_population_without_value_items_names_them_and_runs_what_it_can(tmp_path):
    from valuesim.errors import ConfigError
    from valuesim.population import run_population
    from valuesim.population.dimensions import descriptor_items
    from valuesim.survey.codebook_file import load_codebook

    survey = _population_survey(drop=sorted(descriptor_items(load_codebook(None))))
    args = dict(countries="DEU,NGA", personas=3, questions="Q49,Q173", model="scripted", progress=False)
    with pytest.raises(ConfigError) as err:
        run_population(survey, methods="value-persona", out=tmp_path / "a", **args)
    text = str(err.value)
    assert "Q8" in text and "Q240" in text and "--method demographic,no-persona" in text and "\n" not in text
    assert not (tmp_path / "a").exists()  # refused before anything is written
    result = run_population(survey, methods="demographic,no-persona", out=tmp_path / "b", **args)
    assert {"demographic", "no-persona"} <= set(result.summary["method"])


def test_population_value_twin_is_selectable_and_listed(tmp_path):
    from valuesim.population import run_population, write_population_report

    survey = _population_survey()
    result = run_population(survey, countries="DEU", personas=3, questions="Q49,Q173", methods="value-twin",
                            model="scripted", out=tmp_path / "twin", progress=False)
    assert "value-twin" in set(result.summary["method"])
    md = write_population_report(tmp_path / "twin")["markdown"].read_text()
    methods = next(line for line in md.splitlines() if line.startswith("| Methods |"))
    assert "value-twin" in methods and "country-marginal" in methods


def test_the_report_command_serves_population_runs_too(tmp_path, capsys):
    """`valuesim report RUN` on a population run rewrites its report (it was a TypeError
    traceback from the study report's scorer); an unfinished one says how to finish it."""
    import shutil

    from valuesim.population import run_population

    run_population(_population_survey(), countries="DEU", personas=3, questions="Q49,Q173", methods="demographic",
                   model="scripted", out=tmp_path / "pop", progress=False, command="valuesim population x.csv")
    assert not (tmp_path / "pop" / "report" / "report.md").exists()  # the API leaves the report to the command
    assert cli_main(["report", str(tmp_path / "pop")]) == 0
    assert "markdown:" in capsys.readouterr().out and (tmp_path / "pop" / "report" / "report.md").exists()
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    for name in ("run.json", "predictions.sqlite"):
        shutil.copy(tmp_path / "pop" / name, unfinished / name)
    assert cli_main(["report", str(unfinished)]) == 2
    err = capsys.readouterr().err
    assert "has not finished" in err and "valuesim population x.csv" in err and "Traceback" not in err


def test_population_skips_an_unasked_default_target_without_warnings(tmp_path, capsys):
    import warnings

    from valuesim.population import run_population

    survey = _population_survey(unasked={"Q49": "DEU"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no raw numpy warning reaches the user
        result = run_population(survey, countries="DEU", personas=3, methods="demographic", model="scripted",
                                out=tmp_path / "pop", progress=False)
    assert "Q49" not in set(result.metrics["question"])
    assert "Q49 skipped" in capsys.readouterr().err


# --- the country of residence in every LLM context (issue 21 item 6) -----------------------------
def test_an_immigrants_contexts_name_the_country_of_residence():
    from valuesim.llm import ScriptedModel
    from valuesim.methods.base import PersonContext
    from valuesim.methods.registry import get_method
    from valuesim.survey.model import Profile
    from valuesim.survey.wvs7.bank import load_codebook

    cb = load_codebook()
    born = cb["Q266"]  # country of birth: Turkey; lives in Germany
    profile = Profile(((cb["Q1"], 1), (born, 792), (cb["Q263"], 2)))
    person = PersonContext("r1", "DEU", profile)
    assert "Turkey" in profile.as_qa_list() and "Germany" not in profile.as_qa_list()
    for name, options in (("full-info", {}), ("valuesim", {"story": "statements", "story_audit": 0})):
        model = ScriptedModel(default="Answer: 2\nAnalysis: ok")
        prediction = get_method(name, model, **options).predict(person, cb["Q46"])
        assert not prediction.failed
        with_context = [c for c in model.calls if not c.last_user.startswith("You coordinate")]  # the coordinator
        assert with_context and all("Germany" in c.last_user for c in with_context), name  # reads analyses only
        # the paper's exact setting (and the ablation): no residence line
        paper = ScriptedModel(default="Answer: 2\nAnalysis: ok")
        get_method(name, paper, residence=False, **options).predict(person, cb["Q46"])
        assert not any("Germany" in call.last_user for call in paper.calls), name


def test_the_residence_ablation_runs_beside_full_info(tmp_path):
    """One run, two rows: Full Info with and without the residence line (scripted model)."""
    from valuesim.llm import ScriptedModel, get_model

    survey = small_survey(n=30, items=["Q1", "Q2", "Q3", "Q46", "Q49"], missing=0.0, countries=("DEU", "JPN"))
    model = get_model(ScriptedModel(default="Answer: 1"))
    run_study(survey, methods=["full-info", "full-info-no-residence"], users=2, folds=5, model=model,
              out=tmp_path / "run", progress=False)
    prompts = model.backend.prompts
    assert any("Country of residence:" in p for p in prompts) and any("Country of residence:" not in p for p in prompts)
    assert {"full-info", "full-info-no-residence"} <= set(load_run(tmp_path / "run").methods)
