"""How every command reads a survey file: one set of options, one way of reporting.

Commands that take a FILE call ``add_loading_options(parser)`` and ``load_from_args(args)``;
each importer warning (derived keys, unknown codes, top-coded counts ...) is printed as one
line on stderr, so a user sees once what valuesim did to the file.
"""

from __future__ import annotations

import argparse
import sys
import warnings


def add_loading_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("reading the survey file")
    g.add_argument("--codebook", metavar="FILE", default=None,
                   help="the codebook of the survey the file holds (YAML or JSON; see README 'Your own "
                        "survey'); default: the built-in codebook (`valuesim codebook show wvs7`)")
    g.add_argument("--strict", action="store_true",
                   help="refuse a file with answer codes the codebook does not know "
                        "(default: load them as missing, with one warning per column)")
    g.add_argument("--country", metavar="ISO3", default=None,
                   help="country of a file without the codebook's country column (e.g. AUS); for a "
                        "file with one, keep only this country's respondents")
    g.add_argument("--drop-duplicate-rows", action="store_true",
                   help="drop rows that repeat an earlier row exactly (default: keep and warn)")


def loading_options(args: argparse.Namespace) -> dict:
    """The load_survey keyword arguments the options above ask for."""
    return {"codebook": getattr(args, "codebook", None),
            "strict": bool(getattr(args, "strict", False)), "country": getattr(args, "country", None),
            "drop_duplicate_rows": bool(getattr(args, "drop_duplicate_rows", False))}


def load_reporting_warnings(path, **kwargs):
    """``load_survey`` with each warning printed as one line on stderr."""
    from ..survey.io import load_survey
    from .terminal import one_line

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        survey = load_survey(path, **kwargs)
    for w in caught:
        if issubclass(w.category, ResourceWarning):  # the collector's business (an idle HTTP client), not the file's
            continue
        print(f"valuesim: warning: {one_line(w.message)}", file=sys.stderr)
    return survey


def load_from_args(args: argparse.Namespace, path=None):
    """The survey named by ``args.file`` (or ``path``), read with the loading options."""
    return load_reporting_warnings(path if path is not None else args.file, **loading_options(args))
