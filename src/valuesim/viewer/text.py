"""Text from a model or a data file, made fit for a page: escape sequences and control characters
removed (Jinja2 escapes the HTML; this removes what escaping leaves, e.g. ANSI colours, a carriage
return that hides a line, a bidi override), and names made fit for a static file."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """``text`` as a string without ANSI escape sequences and control characters (tab and
    newline stay: pages show them in preformatted blocks)."""
    return _CONTROL.sub("", _ANSI.sub("", str(text)))


def file_name(name: object) -> str:
    """A file name for a page named by data (a respondent id, a question id, a country): the
    one rule every file name made from data follows (``runs.names.data_file_name``: the name
    itself when it is plain, else its plain characters and a short hash, so two names never
    share a file and nothing can climb out of the folder)."""
    from ..runs.names import data_file_name

    return data_file_name("", name, "")
