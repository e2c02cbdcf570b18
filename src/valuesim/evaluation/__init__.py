"""Evaluation: the study protocol (users, folds over items, profile-size curve), a resumable
runner that stores every prediction in SQLite, user-averaged metrics and the report.

    import valuesim
    result = valuesim.run_study("wvs.csv", methods=["country-marginal", "knn"], users=100,
                                folds=5, out="runs/stat")
    paths = valuesim.write_report(result.run_dir)     # report/report.html, report.md, CSV, Parquet
"""

from .protocol import (
    DEFAULT_CURVE_SIZES,
    Split,
    eligible_items,
    make_folds,
    make_split,
    sample_users,
)
from .report import load_run, write_report
from .runner import RunResult, StudyConfig, run_study
from ..runs.rundir import RunDir


def read_predictions(run_dir) -> "pd.DataFrame":  # noqa: F821
    """Every stored prediction of a run directory (a RunDir or its path), unscored."""
    return RunDir(run_dir).predictions()


__all__ = [
    "DEFAULT_CURVE_SIZES",
    "RunDir",
    "RunResult",
    "Split",
    "StudyConfig",
    "eligible_items",
    "load_run",
    "make_folds",
    "make_split",
    "read_predictions",
    "run_study",
    "sample_users",
    "write_report",
]
