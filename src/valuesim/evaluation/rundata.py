"""A finished (or unfinished) evaluation run read back: run.json, split.json and the scored
predictions and sessions from the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..runs.rundir import RunDir
from .scored import score_predictions


@dataclass
class RunData:
    run_dir: Path
    info: dict
    split: dict
    predictions: pd.DataFrame  # scored (``scored.score_predictions``: with weight and overall)
    sessions: pd.DataFrame
    weighted: bool = False  # the report shows survey-weighted scores beside the unweighted ones

    @property
    def run(self) -> RunDir:
        return RunDir(self.run_dir)

    @property
    def model_label(self) -> str:
        return self.info.get("model_label") or ""

    def method_model(self, method: str) -> str:
        needs = self.info.get("methods", {}).get(method, {}).get("needs_llm", False)
        return (self.model_label or "LLM") if needs else "no LLM"

    @property
    def codebook(self):
        """The codebook of the survey the run used (the built-in WVS-7 one unless it recorded another)."""
        if not hasattr(self, "_codebook"):
            from ..survey.codebook_file import codebook_of_run

            self._codebook = codebook_of_run(self.info.get("settings", {}).get("data", {}))
        return self._codebook

    @property
    def methods(self) -> list[str]:
        """Methods in the order the run lists them (then any others found in the store)."""
        if not hasattr(self, "_methods"):
            listed = self.info.get("settings", {}).get("methods", [])
            have = list(pd.unique(self.predictions["method"]))
            self._methods = [m for m in listed if m in have] + [m for m in have if m not in listed]
        return self._methods


def load_run(run_dir: "RunDir | str | Path") -> RunData:
    run = RunDir(run_dir)
    if run.is_population():
        raise DataError(f"{run.path} is a population run: `valuesim report` recomputes its tables "
                        "(metrics.csv, summary.csv, distributions.csv) and its report into its report/ folder")
    if not run.exists() or not run.has_store():
        raise DataError(f"{run.path} is not a valuesim run directory (no run settings or predictions); "
                        "create one with `valuesim eval FILE --out RUN_DIR`")
    info = run.info() or {}
    preds = run.predictions()
    if preds.empty:
        raise DataError(f"{run.path} has no predictions yet; run `valuesim eval` first")
    data = RunData(run.path, info, run.split_json(), preds, run.sessions())
    data.predictions = score_predictions(preds, run.respondents(), data.codebook.demographic_ids)
    return data

