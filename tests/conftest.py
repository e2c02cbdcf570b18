"""Fixtures that several test files share (pytest finds them here by name)."""

from __future__ import annotations

import pytest

from fake_server import serving
from valuesim.survey.wvs7.bank import load_codebook


@pytest.fixture(autouse=True)
def own_valuesim_home(monkeypatch, tmp_path):
    """Every test gets a VALUESIM_HOME (response cache, embedding cache, file hashes) of its own.

    With the user's ~/.cache/valuesim shared by every test and every earlier run, a fake server
    that got the port an earlier one had was answered from that earlier server's cached replies
    (a refusing server "answered", a call counted as a cache hit): flaky, and more so as the cache
    grew. A test that sets VALUESIM_HOME itself still does (its setenv comes later)."""
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "valuesim-home"))


@pytest.fixture
def serve(monkeypatch):
    """``serve(*script)`` starts a fake OpenAI-compatible server (fake_server.py); every server
    started in the test is shut down after it."""
    yield from serving(monkeypatch)


@pytest.fixture(scope="module")
def codebook():
    """The built-in WVS-7 codebook."""
    return load_codebook()


@pytest.fixture(scope="session")
def synthetic_file(tmp_path_factory):
    """``synthetic_file(respondents, countries, seed)``: the path of a new synthetic WVS-7 CSV file."""
    from valuesim.survey.synthetic import write_synthetic

    def write(respondents: int, countries: "int | list[str]" = 8, seed: int = 0):
        return write_synthetic(tmp_path_factory.mktemp("synth") / "synth.csv", respondents=respondents,
                               countries=countries, seed=seed)

    return write
