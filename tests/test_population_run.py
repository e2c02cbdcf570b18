"""Population runs end to end with the scripted model: prompts, resume, failures, report, CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from valuesim.runs.rundir import RunDir

from valuesim.errors import ConfigError
from valuesim.llm import ScriptedModel, get_model
from valuesim.population import run_population, write_population_report
from valuesim.survey.survey import Survey
from valuesim.survey.wvs7.bank import load_codebook

ITEMS = ["Q8", "Q14", "Q15", "Q17", "Q164", "Q184", "Q254", "Q152", "Q153", "Q154", "Q155", "Q182", "Q209",
         "Q57", "Q46", "Q240", "Q260", "Q262", "Q275", "Q288", "Q1", "Q2", "Q27", "Q49", "Q69", "Q71", "Q106",
         "Q111", "Q121", "Q131", "Q158", "Q173", "Q199", "Q235"]


def random_survey(n_per_country: int = 30, countries=("DEU", "NGA", "JPN"), seed: int = 0) -> Survey:
    """Answers driven by a per-country latent 'traditionalism', so countries differ."""
    cb = load_codebook()
    rng = np.random.default_rng(seed)
    rows, ids = [], []
    for k, country in enumerate(countries):
        for i in range(n_per_country):
            trad = rng.normal(k - 1, 1.0)
            row = {"country": country, "weight": float(rng.uniform(0.5, 1.5))}
            for q in ITEMS:
                codes = cb[q].codes
                if cb[q].kind.value == "numeric":
                    row[q] = int(rng.integers(18, 80))
                    continue
                sign = 1 if q in ("Q164", "Q173", "Q8") else -1
                centre = (len(codes) - 1) / (1 + np.exp(-sign * trad))
                row[q] = codes[int(np.clip(round(centre + rng.normal(0, 0.8)), 0, len(codes) - 1))]
            rows.append(row)
            ids.append(f"{country}-{i:03d}")
    data = pd.DataFrame(rows, index=pd.Index(ids, name="respondent_id", dtype=object))
    for q in ITEMS:
        data[q] = data[q].astype("Int64")
    return Survey(cb.subset(ITEMS), data, source="hand-made test survey", synthetic=True)


def religious_model(**kw) -> ScriptedModel:
    """Distributions that depend on the persona text, so methods give different answers."""

    def options(messages, codes):
        text = messages[-1]["content"]
        top = codes[0] if "strongly traditional" in text or "Nigeria" in text else codes[-1]
        return {c: (0.7 if c == top else 0.3 / (len(codes) - 1)) for c in codes}

    return ScriptedModel(options=options, **kw)


@pytest.fixture(scope="module")
def survey():
    return random_survey()


def run(survey, out, model=None, **kw):
    args = dict(countries="DEU,NGA,JPN", personas=6, questions="Q1,Q49,Q111,Q173",
                methods="value-persona,demographic,no-persona", calibrate=True, seed=2, progress=False)
    args.update(kw)
    return run_population(survey, model=model or get_model(religious_model()), out=out, **args)


def test_run_writes_every_method_and_resumes_without_calls(survey, tmp_path):
    scripted = religious_model()
    result = run(survey, tmp_path / "r", model=get_model(scripted))
    m = result.metrics
    variants = set(zip(m.method, m.calibrated))
    assert {("value-persona", False), ("value-persona", True), ("demographic", True), ("no-persona", False),
            ("country-marginal", False), ("uniform", False)} <= variants
    assert len(m) == 8 * 3 * 4 and m.js_distance.notna().all()
    assert m[m.kind == "nominal"].wasserstein_score.isna().all()
    assert set(result.temperatures) == {"value-persona", "demographic", "no-persona"}
    # calibration questions were asked but are never evaluated
    asked = {re.search(r"\n(Q\d+): ", c.last_user).group(1) for c in scripted.calls}
    assert {"Q2", "Q71", "Q131", "Q199"} <= asked and not {"Q2", "Q71"} & set(m.question)
    # one answer per (persona, question) for persona methods, one per (country, question) for no-persona,
    # read like every LLM method's: the reply, then its distribution (a pre-filled read, as the embedded engine)
    answers = [c for c in scripted.calls if c.kind == "complete"]
    reads = [c for c in scripted.calls if c.kind == "read" and c.params["prefix"] == "Answer: "]
    assert len(answers) == 3 * 8 * (6 + 6 + 1) == len(reads)
    # the persona comes first, the question with its options last
    prompt = scripted.calls[0].last_user
    assert prompt.index("Here is what matters to you") < prompt.index("Q1: ")
    assert prompt.rstrip().endswith("Reply with the number of the option you choose.")
    assert scripted.calls[1].kind == "read"

    scripted.reset()
    again = run(survey, tmp_path / "r", model=get_model(scripted))
    assert scripted.calls == [] and again.new_predictions == 0
    pd.testing.assert_frame_equal(again.metrics, result.metrics)
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert len(info["sessions"]) == 2 and info["model"] == "scripted"


def test_value_personas_follow_the_descriptor(survey, tmp_path):
    result = run(survey, tmp_path / "r", calibrate=False, methods="value-persona")
    run_dir = RunDir(tmp_path / "r")
    preds, personas = run_dir.predictions(), run_dir.personas()
    assert len(personas) == 18 and personas.value_text.str.contains("You are a person living in").all()
    # the references are simulators too: one stored prediction per country and target question
    refs = preds[preds.method.isin(["country-marginal", "uniform"])]
    assert len(refs) == 2 * 3 * 4 and (refs.persona == -1).all()
    preds = preds[preds.method == "value-persona"]
    assert (preds.persona >= 0).all() and preds.respondent_id.isin(survey.data.index).all()
    # persona draws come from the persona-source half only: never from the evaluation half
    assert len(result.metrics[result.metrics.method == "value-persona"]) == 12


def test_failed_calls_are_recorded_and_left_out(survey, tmp_path):
    model = get_model(religious_model(fail_on=re.compile(r"Q173: ")))
    result = run(survey, tmp_path / "r", model=model, methods="value-persona", calibrate=False)
    row = result.metrics[(result.metrics.method == "value-persona") & (result.metrics.question == "Q173")]
    assert (row.n_failed == 6).all() and (row.n_personas == 0).all() and row.js_distance.isna().all()
    preds = RunDir(tmp_path / "r").predictions()
    errors = preds[preds.failed]
    assert len(errors) == 18 and errors.error.str.contains("scripted failure").all()
    assert result.metrics[result.metrics.question == "Q1"].js_distance.notna().all()


def test_resume_with_other_settings_is_refused(survey, tmp_path):
    run(survey, tmp_path / "r", methods="no-persona", calibrate=False)
    with pytest.raises(ConfigError, match="personas"):
        run(survey, tmp_path / "r", methods="no-persona", calibrate=False, personas=7)
    with pytest.raises(ConfigError, match="unknown population method"):
        run(survey, tmp_path / "x", methods="valuepersona")
    with pytest.raises(ConfigError, match="not in"):
        run(survey, tmp_path / "x", countries="DEU,XXX")


def test_report_is_self_contained_and_escaped(survey, tmp_path):
    model = get_model(religious_model(spec="<script>alert(1)</script>"))
    run(survey, tmp_path / "r", model=model)
    paths = write_population_report(tmp_path / "r", questions="Q1,Q111")
    page = paths["html"].read_text()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert page.count("data:image/png;base64,") == 2
    md = paths["markdown"].read_text()
    for text in ("value-persona + calibration", "country-marginal (reference)", "Wall time", "Country gap",
                 "JPN (Japan)"):
        assert text in md
    assert (tmp_path / "r" / "report" / "figures" / "distribution_Q1.png").exists()


def test_cli_population_on_a_synthetic_file(tmp_path, capsys):
    from valuesim.cli import main
    from valuesim.survey.synthetic import write_synthetic

    path = write_synthetic(tmp_path / "synth.csv", respondents=240, countries=["DEU", "NGA", "JPN"], seed=1)
    code = main(["population", str(path), "--countries", "DEU,NGA,JPN", "--personas", "4", "--questions",
                 "Q1,Q106", "--method", "value-persona,no-persona", "--calibrate", "--model", "scripted",
                 "--out", str(tmp_path / "run"), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "value-persona" in out and "report:" in out
    assert (tmp_path / "run" / "report" / "report.html").exists() and (tmp_path / "run" / "report" / "metrics.csv").exists()
    demo = RunDir(tmp_path / "run").personas().demographic_text
    # urban/rural comes from the file's H_URBRURAL column (outside the question bank)
    assert demo.str.contains(r"You live in an? (?:urban|rural) area\.").all()
    assert demo.str.contains("years old").all()
    code = main(["population", str(path), "--countries", "DEU", "--questions", "Q164", "--model", "scripted",
                 "--out", str(tmp_path / "bad")])
    assert code == 2 and "describes the value personas" in capsys.readouterr().err


def test_metrics_are_those_recorded_before_population_methods_became_simulators(survey, tmp_path, monkeypatch):
    """tests/fixtures/population_before.json holds this study's metrics from the old pipeline
    (population/runner.py calling the model directly); the simulator pipeline must match it.
    The sampled answers are seeded by the prompt, so the prompts are the ones of that time: the
    options as "7. 7" and "1. 1 - Completely dissatisfied" (today "7" and "1. Completely ...")."""
    from pathlib import Path

    from valuesim.survey.model import Question

    monkeypatch.setattr(Question, "answer_text", lambda q, code: f"{code}. {q.label(code)}" if q.options else str(code))

    before = json.loads((Path(__file__).parent / "fixtures" / "population_before.json").read_text())
    result = run(survey, tmp_path / "r")
    cols = list(before["metrics"][0])
    now = result.metrics[cols].sort_values(["method", "calibrated", "country", "question"]).reset_index(drop=True)
    old = pd.DataFrame(before["metrics"])[cols]
    assert len(now) == len(old) == 96
    pd.testing.assert_frame_equal(now, old, check_dtype=False, atol=1e-9, rtol=0)
    assert result.temperatures == pytest.approx(before["temperatures"], abs=1e-9)


@pytest.mark.parametrize("protocol", ["split-half", "held-out-country"])
def test_report_rebuilds_the_same_tables_from_the_store(tmp_path, capsys, protocol):
    """Every scored prediction (the references and the value-twin too) is a row of the store:
    with the run's tables and report deleted, `valuesim report RUN` writes the same ones."""
    import shutil

    from valuesim.cli import main
    from valuesim.survey.synthetic import write_synthetic

    path = write_synthetic(tmp_path / "synth.csv", respondents=240, countries=["DEU", "NGA", "JPN"], seed=1)
    run_dir = tmp_path / "run"
    assert main(["population", str(path), "--countries", "DEU,NGA", "--personas", "3", "--questions", "Q1,Q111",
                 "--method", "no-persona,value-twin", "--calibrate", "--calibration-questions", "Q2",
                 "--model", "scripted", "--protocol", protocol, "--out", str(run_dir), "--no-progress"]) == 0
    methods = set(RunDir(run_dir).predictions().method)
    assert {"value-twin", "uniform", "other-countries" if protocol == "held-out-country" else "country-marginal"} <= methods
    report = run_dir / "report"
    before = {p.relative_to(report): p.read_bytes() for p in report.rglob("*") if p.is_file()}
    assert {"metrics.csv", "summary.csv", "noise_floor.csv", "report.md"} <= {str(p) for p in before}
    shutil.rmtree(report)
    capsys.readouterr()
    assert main(["report", str(run_dir)]) == 0
    after = {p.relative_to(report): p.read_bytes() for p in report.rglob("*") if p.is_file()}
    assert set(after) == set(before)
    for name in before:
        if name.suffix in (".csv", ".json", ".md"):
            assert after[name] == before[name], name
