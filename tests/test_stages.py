"""Stage lines of a slow LLM run (runs/stages.py): what `eval` and `population` print while a
prediction's stages run, always with --verbose, otherwise only once a stage is slow."""

from __future__ import annotations

import threading

from valuesim.runs.stages import StageLines, item_label, watch_stages


class Recorder:
    def __init__(self):
        self.lines: list[str] = []
        self.written = threading.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        self.written.set()


def test_verbose_prints_every_stage_with_who_answers_what():
    out = Recorder()
    lines = StageLines("valuesim", verbose=True, write=out)
    lines.staged = True
    lines.item("respondent 7 · Q46")  # a staged method's stages carry the label; no line of its own
    lines("module cognitive")
    lines("coordinator")
    lines.close()
    assert [line.split("] ", 1)[1] for line in out.lines] == [
        "valuesim: respondent 7 · Q46: module cognitive", "valuesim: respondent 7 · Q46: coordinator"]
    assert out.lines[0].startswith("   [0:00] ")


def test_fast_stages_print_nothing_and_a_slow_one_switches_the_lines_on():
    out = Recorder()
    fast = StageLines("full-info", slow=3600, write=out)
    for q in ("Q1", "Q2"):
        fast.item(f"respondent 1 · {q}")
    fast.close()  # the pending line of the last prediction is dropped, never printed late
    assert out.lines == []

    slow = StageLines("value-persona", slow=0.0, write=out)  # every stage counts as slow at once
    slow.item("DEU persona 3 · Q46")
    assert out.written.wait(30)
    slow.item("DEU persona 3 · Q47")  # from now on every line is printed at once
    slow.close()
    assert [line.split("] ", 1)[1] for line in out.lines] == [
        "value-persona: DEU persona 3 · Q46", "value-persona: DEU persona 3 · Q47"]


def test_a_simulator_that_reports_stages_is_watched():
    class Staged:
        progress = None

        def watch(self, progress):
            self.progress = progress

    sim = Staged()
    lines = watch_stages(sim, "valuesim", verbose=True)
    assert sim.progress is lines and lines.staged
    assert not watch_stages(object(), "full-info").staged


def test_item_labels_name_the_respondent_or_the_persona():
    assert item_label(("valuesim", 0, -1, "DEU", -1, "12", "Q46")) == "respondent 12 · Q46"
    assert item_label(("value-persona", -1, -1, "DEU", 3, "DEU-3", "Q46")) == "DEU persona 3 · Q46"


def test_eval_verbose_prints_the_demo_stage_lines(synthetic_file, tmp_path, capsys):
    from valuesim.cli import main

    data = synthetic_file(60, countries=2, seed=5)
    assert main(["eval", str(data), "--methods", "valuesim", "--model", "scripted", "--users", "1",
                 "--folds", "5", "--run-folds", "1", "--items", "Q1-Q12", "--out", str(tmp_path / "run"),
                 "--option", "valuesim.story_fallback=statements", "--verbose", "--no-progress"]) == 0
    out = capsys.readouterr().out
    for stage in ("valuesim: respondent", ": backstory", ": module cognitive", ": coordinator"):
        assert stage in out, stage
