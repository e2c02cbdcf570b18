"""The examples run as a user runs them (a separate process, the public API only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_custom_backend_example_runs_an_eval_and_a_population_study(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "VALUESIM_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "custom_backend.py")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    accuracy = next(line for line in out.splitlines() if line.startswith("eval accuracy:"))
    assert "no-profile" in accuracy and "full-info" in accuracy
    assert "model: middle" in out and "value-persona" in out and "country-marginal" in out
    assert " 0 failures" in out  # every reply of the custom backend was read
