"""Method options: declared once, checked before anything runs, one line per mistake.

A typo, an unknown method, a bad value or an option for a method that is not in the run each
exit 2 with one line and leave no run directory; the corrected command then runs. Declared
defaults are held against the factories' own so the two cannot drift apart."""

from __future__ import annotations

import inspect
import typing

import pytest

from valuesim.cli import main
from valuesim.errors import ConfigError
from valuesim.methods import registry
from valuesim.methods.options import (
    ask_options,
    check_method_options,
    method_table,
    parse_option_args,
    story_options,
)


@pytest.fixture(scope="module")
def synth_csv(tmp_path_factory):
    from valuesim.survey import synthetic

    path = tmp_path_factory.mktemp("opt") / "synth.csv"
    synthetic.write_synthetic(path, respondents=120, countries=3, seed=5)
    return path


def _eval(csv, out, *extra):
    return main(["eval", str(csv), "--methods", "country-marginal,knn", "--users", "4", "--folds", "3",
                 "--items", "Q1-Q12", "--out", str(out), "--no-progress", *extra])


@pytest.mark.parametrize("option, words", [
    ("knn.kk=3", ["knn", "kk", "k, scope, prior_strength"]),                 # the typo
    ("knnn.k=3", ["knnn", "known methods", "knn"]),                          # unknown method
    ("knn.k=-2", ["knn.k=-2", "int >= 1"]),                                  # out of range
    ("knn.k=three", ["knn.k=three", "int >= 1"]),                            # wrong type
    ("knn.scope=planet", ["knn.scope=planet", "country, all"]),              # not an allowed value
    ("regression.C=1", ["regression", "not in this run's methods"]),         # method not in --methods
    ("knn", ["METHOD.KEY=VALUE"]),                                           # malformed
])
def test_bad_option_is_one_line_exit_2_and_no_run_dir(synth_csv, tmp_path, capsys, option, words):
    out = tmp_path / "run"
    assert _eval(synth_csv, out, "--option", option) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("valuesim: error:"), err
    for word in words:
        assert word in err
    assert not out.exists()  # nothing written: the corrected command is not refused
    assert _eval(synth_csv, out, "--option", "knn.k=3") == 0
    assert (out / "run.json").exists()


def test_corrected_options_are_stored_typed(synth_csv, tmp_path):
    import json

    out = tmp_path / "run"
    assert _eval(synth_csv, out, "--option", "knn.k=3", "--option", "country-marginal.shrinkage=2") == 0
    settings = json.loads((out / "run.json").read_text())["settings"]
    assert settings["method_options"] == {"knn": {"k": 3}, "country-marginal": {"shrinkage": 2.0}}


def test_range_checked_value_never_reaches_the_simulator():
    with pytest.raises(ConfigError, match="knn.k=-2"):
        registry.get_method("knn", k=-2)
    with pytest.raises(ConfigError, match="no option 'kk'"):
        registry.get_method("knn", kk=3)
    assert registry.get_method("knn", k=7).k == 7


def test_python_api_checks_options_before_the_run_dir(tmp_path):
    from valuesim.evaluation import run_study
    from valuesim.survey import synthetic
    from valuesim.survey.importer import load_wvs7

    path = tmp_path / "s.csv"
    synthetic.write_synthetic(path, respondents=60, countries=2, seed=1)
    survey = load_wvs7(path)
    for options in ({"knn": {"k": 0}}, {"regression": {"C": 1.0}}, {"knn": {"kk": 1}}):
        with pytest.raises(ConfigError):
            run_study(survey, methods=["knn"], users=3, folds=3, out=tmp_path / "r", method_options=options,
                      progress=False)
        assert not (tmp_path / "r").exists()


def test_values_are_typed_from_text():
    got = parse_option_args(["knn.k=30", "knn.prior_strength=2", "hybrid.per_category=yes",
                             "hybrid.weight=none", "regression.family=multinomial"],
                            ["knn", "hybrid", "regression"])
    assert got == {"knn": {"k": 30, "prior_strength": 2.0}, "hybrid": {"per_category": True, "weight": None},
                   "regression": {"family": "multinomial"}}
    assert isinstance(got["knn"]["prior_strength"], float)
    with pytest.raises(ConfigError, match="true or false"):
        parse_option_args(["hybrid.per_category=maybe"], ["hybrid"])
    with pytest.raises(ConfigError, match="from 0 to 1"):
        parse_option_args(["hybrid.weight=1.5"], ["hybrid"])
    with pytest.raises(ConfigError):  # bool is not an int, even from Python
        check_method_options(["knn"], {"knn": {"k": True}})


def test_hybrid_nested_options_are_checked_against_the_named_method():
    got = parse_option_args(["hybrid.llm=full-info", "hybrid.llm.overflow=fail", "hybrid.stat=knn",
                             "hybrid.stat.k=5"], ["hybrid"])
    assert got == {"hybrid": {"llm": "full-info", "stat": "knn", "llm_options": {"overflow": "fail"},
                              "stat_options": {"k": 5}}}
    # the default LLM method (valuesim) has a coordinator; full-info has not
    assert parse_option_args(["hybrid.llm.coordinator=average"], ["hybrid"]) == {
        "hybrid": {"llm_options": {"coordinator": "average"}}}
    with pytest.raises(ConfigError, match="hybrid.llm.coordinator"):
        parse_option_args(["hybrid.llm=full-info", "hybrid.llm.coordinator=average"], ["hybrid"])
    with pytest.raises(ConfigError, match="LLM method"):
        parse_option_args(["hybrid.llm=knn"], ["hybrid"])
    with pytest.raises(ConfigError, match="statistical method"):
        parse_option_args(["hybrid.stat=rag"], ["hybrid"])
    with pytest.raises(ConfigError, match="int >= 1"):
        parse_option_args(["hybrid.stat=knn", "hybrid.stat.k=0"], ["hybrid"])


def test_hybrid_nested_options_reach_the_inner_methods():
    from valuesim.llm import get_model

    sim = registry.get_method("hybrid", model=get_model("scripted"),
                              **parse_option_args(["hybrid.llm.coordinator=average", "hybrid.stat=knn",
                                                   "hybrid.stat.k=4"], ["hybrid"])["hybrid"])
    assert sim.llm.coordinator == "average"
    assert sim.stat.name == "knn" and sim.stat.k == 4


def test_ask_and_story_options():
    assert ask_options("valuesim", ["valuesim.prompt_order=paper"], coordinator="average") == {
        "prompt_order": "paper", "coordinator": "average"}
    with pytest.raises(ConfigError, match="rag"):
        ask_options("rag", [], coordinator="average")  # the old flag is an alias, checked the same way
    with pytest.raises(ConfigError, match="not in this run's methods"):
        ask_options("valuesim", ["knn.k=3"])
    assert story_options(["valuesim.story_max_tokens=512", "valuesim.seed=2"]) == {"max_tokens": 512, "seed": 2}
    with pytest.raises(ConfigError, match="backstory does not use"):
        story_options(["valuesim.coordinator=average"])


def test_ask_cli_refuses_bad_option_before_reading_the_file(tmp_path, capsys):
    missing = tmp_path / "not-there.csv"  # never opened: the option is wrong first
    assert main(["ask", str(missing), "--respondent", "1", "--question", "Q1", "--method", "knn",
                 "--option", "knn.kk=1"]) == 2
    err = capsys.readouterr().err
    assert "no option 'kk'" in err and "not-there" not in err


def test_ask_cli_runs_with_an_option(synth_csv, capsys):
    import pandas as pd

    rid = str(pd.read_csv(synth_csv, usecols=["D_INTERVIEW"]).iloc[0, 0])
    assert main(["ask", str(synth_csv), "--respondent", rid, "--question", "Q1", "--method", "knn",
                 "--option", "knn.k=5"]) == 0
    assert "Final distribution" in capsys.readouterr().out


def test_methods_command_lists_every_method_option_and_default(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert out == method_table()
    for info in registry.available():
        assert f"{info.name}  [" in out
        assert info.description in out
        for o in info.options:
            assert f"--option {info.name}.{o.name}=" in out
    assert "--option knn.k=50  (int >= 1)" in out


# --- declarations cannot drift from the factories ------------------------------------------------
# keywords a factory accepts that users do not set (wired by the registry entry itself)
INTERNAL = {"model", "name", "use_story", "use_cab", "modules", "story_writer", "llm_options", "stat_options"}


def _factory_defaults(name: str) -> dict:
    """Keyword defaults of the factory and of every __init__ of the class it returns."""
    fn = registry.factory(name)
    defaults = {}
    hints = typing.get_type_hints(fn)
    classes = list(inspect.getmro(hints["return"])) if "return" in hints else []
    for f in [fn] + [c.__init__ for c in reversed(classes) if "__init__" in vars(c)]:
        for p in inspect.signature(f).parameters.values():
            if p.default is not inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD:
                defaults[p.name] = p.default
    return {k: v for k, v in defaults.items() if k not in INTERNAL}


@pytest.mark.parametrize("name", [m.name for m in registry.available()])
def test_declared_options_match_the_factory(name):
    declared = {o.name: o.default for o in registry.method_info(name).options}
    actual = _factory_defaults(name)
    if name == "valuesim-average":  # the factory sets the coordinator itself
        actual["coordinator"] = "average"
    assert declared == actual


def test_declared_choices_match_the_modules():
    from valuesim.methods.coordinator import MODES
    from valuesim.methods.prompting import LAYOUTS, OVERFLOW
    from valuesim.methods.statistical.regression import FAMILIES

    opts = {o.name: o for o in registry.method_info("valuesim").options}
    assert opts["coordinator"].choices == MODES
    assert opts["prompt_order"].choices == LAYOUTS
    assert opts["overflow"].choices == OVERFLOW
    assert {o.name: o for o in registry.method_info("regression").options}["family"].choices == FAMILIES


def test_valuesim_average_really_defaults_to_average():
    from valuesim.llm import get_model

    assert registry.get_method("valuesim-average", model=get_model("scripted")).coordinator == "average"
