"""valuesim: simulate individual and population answers to value questions, and measure them.

The public API is re-exported here so a notebook never has to shell out.
"""

from ._version import __version__  # noqa: E402

from .survey.model import Codebook, Kind, MissingCode, Option, Profile, Question, Respondent  # noqa: E402
from .survey.survey import Survey  # noqa: E402
from .survey.io import load_survey  # noqa: E402
from .evaluation import RunDir, RunResult, StudyConfig, run_study, write_report  # noqa: E402

_LAZY = {  # loaded when first used (they pull in more of the package)
    "estimate_study": ("evaluation.estimate", "estimate_study"),
    "run_population": ("population.runner", "run_population"),
    "PopulationConfig": ("population.runner", "PopulationConfig"),
    "estimate_population": ("population.estimate", "estimate_population"),
    "write_population_report": ("population", "write_population_report"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "__version__",
    "Codebook",
    "Kind",
    "MissingCode",
    "Option",
    "Profile",
    "Question",
    "PopulationConfig",
    "Respondent",
    "RunDir",
    "RunResult",
    "StudyConfig",
    "Survey",
    "estimate_population",
    "estimate_study",
    "load_survey",
    "run_population",
    "run_study",
    "write_population_report",
    "write_report",
]
