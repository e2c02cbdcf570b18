"""`--estimate --batch`: the rounds and requests per round it shows are the ones the run then
submits to the (fake) Batch API, for both protocols, and it sends and writes nothing."""

from __future__ import annotations

import re

import pytest

from batch_helpers import cli
from fake_batch_server import FakeBatchServer
from fake_server import SECRET


@pytest.fixture(scope="module")
def survey_file(synthetic_file):
    return synthetic_file(120, ["DEU", "NGA"], seed=5)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    s = FakeBatchServer()
    yield s
    s.close()


def shown_rounds(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"round \d+: (\d+) requests", text)]


@pytest.mark.parametrize("kind", ["eval", "population"])
def test_estimate_shows_the_rounds_the_run_submits(kind, server, survey_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    run = tmp_path / "run"
    if kind == "eval":
        args = ["eval", survey_file, "--methods", "valuesim,full-info", "--users", 3, "--folds", 2, "--items", "Q1-Q8",
                "--option", "valuesim.story_audit=4", "--option", "valuesim.min_fidelity=0"]
    else:
        args = ["population", survey_file, "--countries", "DEU,NGA", "--personas", 5, "--questions", "Q1,Q2",
                "--method", "value-persona,no-persona", "--no-report"]
    args += ["--model", "openai:fake-model", "--base-url", server.url, "--out", run, "--no-progress", "--batch",
             "openai", "--batch-poll", 0]
    code, out, err = cli(*args, "--estimate", "--prices", "0.075,0.3", capsys=capsys)
    assert code == 0, err
    estimated = shown_rounds(out)
    assert estimated and "cost at the prices given" in out
    assert server.created == [] and server.chat == [] and not run.exists()  # nothing sent, nothing written
    code, out, err = cli(*args, capsys=capsys)
    assert code == 0, err
    assert [b["request_counts"]["total"] for b in server.created] == estimated
    if kind == "eval":
        assert len(estimated) == 4
