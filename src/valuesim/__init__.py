"""valuesim: simulate individual and population answers to value questions, and measure them.

The public API is re-exported here so a notebook never has to shell out.
"""

from ._version import __version__  # noqa: E402

from .survey.model import Codebook, Kind, MissingCode, Option, Profile, Question, Respondent  # noqa: E402
from .survey.survey import Survey  # noqa: E402
from .survey.io import load_survey  # noqa: E402
from .evaluation import RunResult, run_study, write_report  # noqa: E402

__all__ = [
    "__version__",
    "Codebook",
    "Kind",
    "MissingCode",
    "Option",
    "Profile",
    "Question",
    "Respondent",
    "RunResult",
    "Survey",
    "load_survey",
    "run_study",
    "write_report",
]
