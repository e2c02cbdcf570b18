"""Runs for the viewer tests: a small ValueSim study and a small population run made with the
scripted model, and a hostile trace (a backstory with a script tag and ANSI escapes)."""

from __future__ import annotations

import threading
from pathlib import Path

from valuesim.cli import main
from valuesim.runs.rundir import RunDir
from valuesim.runs.store import Row

ITEMS = "Q1,Q2,Q3,Q4,Q5,Q6,Q8,Q46,Q57,Q164"
EVIL_ID = "evil<b>1"
EVIL_TEXT = "You are <script>alert(1)</script> \x1b[31mred\x1b[0m and \x1b]0;title\x07done."


def study(root: Path, data: Path, users: int = 3) -> Path:
    """`valuesim eval` with ValueSim (statements story), Full Info and the country marginal."""
    out = root / "study"
    code = main(["eval", str(data), "--methods", "valuesim,full-info,country-marginal", "--users", str(users),
                 "--items", ITEMS, "--model", "scripted", "--option", "valuesim.story=statements",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def population(root: Path) -> Path:
    from test_population_run import random_survey, run

    out = root / "pop"
    run(random_survey(), out)
    return out


def add_evil_person(run_dir: Path) -> None:
    """A ValueSim prediction whose backstory, module analysis and error hold markup and escapes
    (written through the store, as a runner would)."""
    story = {"key": "evil", "kind": "model", "status": "valid", "items": 3, "chars": len(EVIL_TEXT), "requests": 1,
             "fidelity": {"n": 2, "recovered": 1, "failed": 0, "share": 0.5, "chance": 0.25, "items": ["Q1", "Q2"]},
             "reason": "<img src=x onerror=alert(2)>"}
    module = {"messages": [{"role": "user", "content": "<script>alert(3)</script>"}], "completion": "Answer: 1",
              "answer": 1, "analysis": "\x1b[1m<script>alert(4)</script>", "distribution": {"1": 0.6, "2": 0.4}}
    trace = {"story": story, "context": {"kind": "backstory", "text": EVIL_TEXT},
             "modules": {"cognitive": module, "affective": module, "behavioral": module},
             "coordinator": module, "decision": {"mode": "always", "answer": 1}}
    store = RunDir(run_dir).store()
    try:
        store.add([Row(method="valuesim", question_id="Q46", distribution={1: 0.6, 2: 0.4}, fold=0, country="DEU",
                       respondent_id=EVIL_ID, answer=1, truth=2, trace=trace, model="scripted")])
    finally:
        store.close()


class Serving:
    """The viewer's server for ``runs`` in a thread (port 0: a free one), stopped by ``close``."""

    def __init__(self, runs: list):
        from valuesim.viewer import Site
        from valuesim.viewer.server import make_server

        self.server = make_server(Site(runs))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
