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


# --- the command line, a second survey end to end ------------------------------------------------
def _cli(*args) -> int:
    from valuesim.cli import main

    return main([str(a) for a in args])


def test_codebook_show_prints_wvs7_in_the_file_format(capsys):
    assert _cli("codebook", "show", "wvs7") == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["short"] == "WVS-7" and len(shown["items"]) == 290
    assert shown["columns"] == {"id": "D_INTERVIEW", "country": "B_COUNTRY_ALPHA", "weight": "W_WEIGHT", "year": "A_YEAR",
                                "urban": "H_URBRURAL"}
    assert shown["demographics"] == {"sex": "Q260", "age": "Q262", "education": "Q275", "income": "Q288"}
    assert list(shown["dimensions"]) == ["traditional_secular", "survival_selfexpression", "left_right"]
    assert shown["targets"][:2] == ["Q1", "Q27"] and shown["calibration"] == ["Q2", "Q71", "Q131", "Q199"]


def test_the_built_in_codebook_written_to_a_file_reads_back_the_same(tmp_path, capsys):
    """What WVS-7 knows for population runs (dimensions, roles, defaults) is codebook data: a file
    written from it reads back with the same dimensions, roles, targets and calibration items."""
    built_in = load_codebook(None)
    for fmt in ("yaml", "json"):
        path = tmp_path / f"wvs7.{fmt}"
        path.write_text(dump_codebook(built_in, fmt), encoding="utf-8")
        again = load_codebook(path)
        assert again.dimensions == built_in.dimensions and again.roles == built_in.roles
        assert (again.targets, again.calibration, again.columns) == (built_in.targets, built_in.calibration,
                                                                     built_in.columns)


def _labelled_sav(tmp_path: Path) -> Path:
    """A labelled SPSS file of another survey, as statistics packages write them."""
    import pyreadstat

    from valuesim.survey.synthetic.generic import generate_for_codebook

    codebook = load_codebook(ESS)
    frame = generate_for_codebook(codebook, respondents=200, countries=2, seed=3).drop(columns=["SYNTHETIC"])
    labels = {q.id: q.text for q in codebook} | {"idno": "Respondent's identification number",
                                                 "cntry": "Country", "pspwght": "Post-stratification weight",
                                                 "inwyys": "Start of interview, year"}
    value_labels = {q.id: {**({o.code: o.label for o in q.options} if q.kind.value != "numeric" else {}),
                           **{c: t.capitalize() for c, t in codebook.missing_codes(q).items()}} for q in codebook}
    path = tmp_path / "other.sav"
    pyreadstat.write_sav(frame, str(path), column_labels=[labels[c] for c in frame.columns],
                         variable_value_labels=value_labels)
    return path


def test_codebook_draft_of_a_labelled_sav_loads_that_sav(tmp_path, capsys):
    sav = _labelled_sav(tmp_path)
    out = tmp_path / "draft.yaml"
    assert _cli("codebook", "draft", sav, "--out", out) == 0
    draft = yaml.safe_load(out.read_text())
    assert draft["columns"] == {"id": "idno", "country": "cntry", "weight": "pspwght", "year": "inwyys"}
    assert all(item.get("review") for item in draft["items"])  # inferred kinds are marked
    assert {i["id"] for i in draft["items"]} == {q.id for q in load_codebook(ESS)}
    survey = load_survey(sav, codebook=out)
    reference = load_survey(sav, codebook=ESS)
    assert len(survey) == 200 and survey.countries == reference.countries
    pd.testing.assert_frame_equal(survey.valid(), reference.valid()[survey.question_ids])
    with pytest.warns(UserWarning, match="drafted from its own labels"):  # no codebook: its own draft
        again = load_survey(sav)
    assert len(again) == 200 and again.codebook["stflife"].text == load_codebook(ESS)["stflife"].text


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_a_labelled_file_without_a_codebook_is_read_once(tmp_path, monkeypatch, suffix):
    """The draft and the import share one read of the data; the survey is the one its written-out
    draft loads (read by the importer itself)."""
    import pyreadstat

    sav = _labelled_sav(tmp_path)
    path = sav
    if suffix == ".dta":
        frame, meta = pyreadstat.read_sav(str(sav), user_missing=True)
        path = tmp_path / "other.dta"
        pyreadstat.write_dta(frame, str(path), column_labels=[meta.column_names_to_labels[c][:80] for c in frame],
                             variable_value_labels=meta.variable_value_labels)
    draft = tmp_path / "draft.yaml"
    assert _cli("codebook", "draft", path, "--out", draft) == 0
    reads = []
    for module, name in ((pyreadstat, "read_sav"), (pyreadstat, "read_dta"), (pd, "read_stata")):
        def counted(*args, _read=getattr(module, name), _name=name, **kwargs):
            if not kwargs.get("metadataonly") and not kwargs.get("iterator"):
                reads.append(_name)
            return _read(*args, **kwargs)
        monkeypatch.setattr(module, name, counted)
    with pytest.warns(UserWarning, match="drafted from its own labels"):
        once = load_survey(path)
    assert len(reads) == 1, reads
    reads.clear()
    reviewed = load_survey(path, codebook=draft)
    assert len(reads) == 1  # (the importer's own read: the shared one gives the same survey)
    pd.testing.assert_frame_equal(once.data, reviewed.data)
    assert once.quality == reviewed.quality and len(once) == 200


def test_a_second_survey_runs_through_inspect_profile_and_a_statistical_eval(tmp_path, capsys):
    data = tmp_path / "ess.csv"
    assert _cli("data", "synth", "--codebook", ESS, "--respondents", 1500, "--out", data) == 0
    assert _cli("data", "inspect", data, "--codebook", ESS) == 0
    assert "respondents:  1,500" in capsys.readouterr().out
    assert _cli("profile", data, "--codebook", ESS, "--respondent", 100007) == 0
    assert "How interested would you say you are in politics?" in capsys.readouterr().out
    run = tmp_path / "run"
    assert _cli("eval", data, "--codebook", ESS, "--methods", "global-marginal,regression", "--users", 40,
                "--out", run) == 0
    from valuesim.evaluation.rundata import load_run
    from valuesim.evaluation.report import write_report

    loaded = load_run(run)
    assert loaded.codebook.short == "ESS9"
    scores = loaded.predictions.groupby("method")["correct"].mean()
    assert scores["regression"] > scores["global-marginal"]  # the latent structure is learnable
    paths = write_report(run)
    text = Path(paths["markdown"]).read_text()
    assert "European Social Survey, round 9 (2018)" in text and "World Values" not in text


def test_no_module_outside_survey_imports_the_wvs7_package():
    root = Path(__file__).parents[1] / "src" / "valuesim"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "survey" not in p.relative_to(root).parts[:1] and "wvs7" in p.read_text(encoding="utf-8")
                 and any("import" in line and "wvs7" in line for line in p.read_text(encoding="utf-8").splitlines())]
    assert offenders == []


@pytest.mark.parametrize("in_memory", [False, True])
def test_a_labelled_export_of_another_survey_loads_code_for_code(tmp_path, in_memory):
    """Question texts as headers, value labels (and the codebook's missing labels) in the cells;
    with the codebook's file or the same codebook built in memory."""
    from valuesim.survey.synthetic.generic import generate_for_codebook

    codebook = parse_codebook(yaml.safe_load(ESS.read_text())) if in_memory else load_codebook(ESS)
    coded = generate_for_codebook(codebook, respondents=300, countries=3, seed=5)
    coded_path = tmp_path / "coded.csv"
    coded.to_csv(coded_path, index=False)
    labelled = coded[["idno", "cntry", "pspwght"]].copy()
    for q in codebook:
        labels = {o.code: o.label for o in q.options} | {c: t.capitalize() for c, t in codebook.missing_codes(q).items()}
        labelled[q.text] = coded[q.id].map(lambda v, labels=labels: labels.get(v, v))
    labelled_path = tmp_path / "labelled.csv"
    labelled.to_csv(labelled_path, index=False)
    survey, reference = load_survey(labelled_path, codebook=codebook), load_survey(coded_path, codebook=ESS)
    assert survey.question_ids == codebook.ids
    pd.testing.assert_frame_equal(survey.data[codebook.ids].astype("float64"),
                                  reference.data[codebook.ids].astype("float64"))


def test_prompts_about_another_survey_name_it(tmp_path):
    """Full Info, ValueSim and the persona prompt name the codebook's survey, never WVS."""
    from valuesim.methods.persona import persona_messages
    from valuesim.methods.residence import residence_line
    from valuesim.runs.people import persona_context, respondent_context
    from valuesim.survey.synthetic.generic import generate_for_codebook

    codebook = load_codebook(ESS)
    path = tmp_path / "ess.csv"
    generate_for_codebook(codebook, respondents=60, countries=2).to_csv(path, index=False)
    survey = load_survey(path, codebook=ESS)
    _, person = respondent_context(survey, survey.data.index[0], exclude=["stflife"])
    assert person.survey == "European Social Survey, round 9 (2018)"
    assert residence_line(person).startswith("Survey: European Social Survey, round 9 (2018).")
    assert "You took part in the European Social Survey" in residence_line(person, second_person=True)
    persona = persona_context("DEU", "You are a person living in Germany.", survey=codebook.title)
    text = persona_messages(persona.context, codebook["stflife"], persona.survey)[0]["content"]
    assert "European Social Survey" in text and "World Values" not in text


def test_a_second_survey_runs_through_llm_methods_and_population(tmp_path, capsys):
    """ask (Full Info, ValueSim), a scripted-LLM eval and a population run on a non-WVS survey."""
    data = tmp_path / "ess.csv"
    assert _cli("data", "synth", "--codebook", ESS, "--respondents", 600, "--countries", 2, "--out", data) == 0
    capsys.readouterr()
    trace = tmp_path / "trace.json"
    for method, story in (("full-info", []), ("valuesim", ["--story", "statements"])):
        assert _cli("ask", data, "--codebook", ESS, "--respondent", 100003, "--question", "stflife", "--method",
                    method, *story, "--model", "scripted", "--trace", trace) == 0
        text = trace.read_text()
        assert "European Social Survey, round 9 (2018)" in text and "World Values" not in text
    assert "Real answer" in capsys.readouterr().out
    assert _cli("story", data, "--codebook", ESS, "--respondent", 100003, "--story", "statements",
                "--model", "scripted") == 0
    assert "How often do you attend religious services?" in capsys.readouterr().out
    no_dimensions = tmp_path / "ess_no_dimensions.yaml"
    raw = yaml.safe_load(ESS.read_text())
    del raw["dimensions"]
    no_dimensions.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert _cli("population", data, "--codebook", no_dimensions, "--countries", "DEU,USA", "--method",
                "value-persona", "--model", "scripted", "--out", tmp_path / "refused") == 2
    err = capsys.readouterr().err
    assert "names none; add them to it as `dimensions:" in err and "--method demographic,no-persona" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "refused").exists()
    run = tmp_path / "run"
    assert _cli("eval", data, "--codebook", ESS, "--methods", "full-info,regression", "--model", "scripted",
                "--users", 4, "--folds", 2, "--out", run) == 0
    pop = tmp_path / "pop"
    assert _cli("population", data, "--codebook", ESS, "--countries", "DEU,USA", "--personas", 4, "--method",
                "demographic,no-persona", "--model", "scripted", "--out", pop) == 0
    report = (pop / "report" / "report.md").read_text()
    assert "European Social Survey, round 9 (2018)" in report and "demographic" in report
    metrics = pd.read_csv(pop / "report" / "metrics.csv")
    assert {"demographic", "no-persona"} <= set(metrics["method"])


def test_a_run_keeps_its_identity_wherever_its_codebook_file_lives(tmp_path):
    """A run is identified by its codebook's content: a moved or renamed codebook resumes (the
    report still finds it), a codebook with other content is refused in one line."""
    import shutil

    from valuesim.evaluation import load_run, run_study
    from valuesim.population.runner import run_population
    from valuesim.survey.synthetic.generic import generate_for_codebook

    data = tmp_path / "ess.csv"
    generate_for_codebook(load_codebook(ESS), respondents=300, countries=2, seed=4).to_csv(data, index=False)

    def study(book):
        return run_study(load_survey(data, codebook=book), methods=["global-marginal"], users=4, folds=2,
                         out=tmp_path / "study", progress=False).new

    def population(book):
        return run_population(load_survey(data, codebook=book), "DEU,USA", personas=3, methods="demographic",
                              model="scripted", out=tmp_path / "pop", progress=False).new_predictions

    first, moved = tmp_path / "a" / "ess9.yaml", tmp_path / "b" / "renamed.yaml"
    first.parent.mkdir()
    moved.parent.mkdir()
    shutil.copy(ESS, first)
    assert study(first) > 0 and population(first) > 0
    first.rename(moved)
    assert study(moved) == 0 and population(moved) == 0  # accepted, nothing asked again
    assert load_run(tmp_path / "study").codebook.ids == load_codebook(ESS).ids  # found where it is now
    changed = tmp_path / "changed.yaml"
    changed.write_text(moved.read_text().replace("How interested would you say", "How interested are"))
    for run in (study, population):
        with pytest.raises(ConfigError, match="different settings.*codebook") as err:
            run(changed)
        assert "\n" not in str(err.value)


def test_value_personas_on_a_codebooks_own_dimensions_end_to_end(tmp_path, capsys):
    """synth -> population (value personas placed on the codebook's dimensions, and their
    statistical twin) -> report, on the ESS-like fixture: the texts name its dimensions."""
    from valuesim.runs.rundir import RunDir

    data = tmp_path / "ess.csv"
    assert _cli("data", "synth", "--codebook", ESS, "--respondents", 600, "--countries", 2, "--out", data) == 0
    pop = tmp_path / "pop"
    assert _cli("population", data, "--codebook", ESS, "--countries", "DEU,USA", "--personas", 6, "--method",
                "value-persona,value-twin", "--model", "scripted", "--out", pop) == 0
    capsys.readouterr()
    personas = RunDir(pop).personas()
    assert len(personas) == 12
    assert personas.value_text.str.contains("On social trust, you stand").all()
    assert personas.value_text.str.contains(r"On religiosity, you stand .*(?:\(religious\)|\(not religious\)|middle)").all()
    levels = [json.loads(x) for x in personas.levels]
    assert all(set(lv) == {"social_trust", "religiosity"} for lv in levels)
    assert {lv["religiosity"] for lv in levels} - {None} <= {1, 2, 3, 4, 5}
    metrics = pd.read_csv(pop / "report" / "metrics.csv")
    assert {"value-persona", "value-twin"} <= set(metrics["method"])
    assert not {"ppltrst", "rlgdgr", "rlgatnd"} & set(metrics["question"])  # descriptor items: never targets
    report = (pop / "report" / "report.md").read_text()
    assert "social_trust: " in report and "religiosity: rlgdgr, rlgatnd (reversed)" in report
    assert "Inglehart" not in report and "traditional" not in report
