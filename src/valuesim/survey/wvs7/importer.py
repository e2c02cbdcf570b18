"""Kept for compatibility: the importer reads any survey and lives in ``valuesim.survey.importer``;
scripts that import ``load_wvs7`` (or the other names below) from here keep working."""

from ..importer import *  # noqa: F403
from ..importer import __all__  # noqa: F401
