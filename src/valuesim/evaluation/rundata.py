"""A finished (or unfinished) evaluation run read back: run.json, split.json and the scored
predictions and sessions from the store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..runs.rundir import RUN_FILE, check_store
from ..runs.store import read_predictions, read_sessions
from . import metrics as M

SPLIT_FILE, DB_FILE = "split.json", "predictions.sqlite"


@dataclass
class RunData:
    run_dir: Path
    info: dict
    split: dict
    predictions: pd.DataFrame  # scored
    sessions: pd.DataFrame

    @property
    def model_label(self) -> str:
        return self.info.get("model_label") or ""

    def method_model(self, method: str) -> str:
        needs = self.info.get("methods", {}).get(method, {}).get("needs_llm", False)
        return (self.model_label or "LLM") if needs else "no LLM"

    @property
    def methods(self) -> list[str]:
        """Methods in the order the run lists them (then any others found in the store)."""
        if not hasattr(self, "_methods"):
            listed = self.info.get("settings", {}).get("methods", [])
            have = list(pd.unique(self.predictions["method"]))
            self._methods = [m for m in listed if m in have] + [m for m in have if m not in listed]
        return self._methods


def load_run(run_dir: str | Path) -> RunData:
    run_dir = Path(run_dir)
    db = run_dir / DB_FILE
    if not (run_dir / RUN_FILE).exists() or not db.exists():
        raise DataError(f"{run_dir} is not a valuesim run directory (no {RUN_FILE} / {DB_FILE}); "
                        "create one with `valuesim eval FILE --out RUN_DIR`")
    check_store(db)  # a damaged store: one line naming it
    info = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    split_path = run_dir / SPLIT_FILE
    split = json.loads(split_path.read_text(encoding="utf-8")) if split_path.exists() else {}
    preds = read_predictions(db)
    if preds.empty:
        raise DataError(f"{run_dir} has no predictions yet; run `valuesim eval` first")
    return RunData(run_dir, info, split, M.score_rows(preds), read_sessions(db))

