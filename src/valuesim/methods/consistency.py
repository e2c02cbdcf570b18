"""Does a turn's reasoning agree with its answer? A module (or the coordinator) whose analysis
names one option ("you are very happy with your life") and whose answer is another ("4. Not
at all happy") is flagged in the trace and counted in the report: the number stands, but a
reader sees that the model's reasons do not support it.

Conservative on purpose: an option counts as named when its label appears as whole words
(longer labels first, so "not very happy" is not also read as "very happy"); only an analysis
that names exactly one option, a different one from the answer, is flagged. Labels shorter
than ``MIN_LABEL`` characters ("Yes", "No", "Other") and bare numbers are not looked for:
they occur in ordinary sentences.
"""

from __future__ import annotations

import re

from ..survey.model import Question

MIN_LABEL = 6


def named_options(text: str, question: Question) -> set[int]:
    """The codes whose labels ``text`` names (whole words, case-insensitive, longest first)."""
    rest = (text or "").lower()
    found: set[int] = set()
    options = sorted((o for o in question.options if o.label and len(o.label.strip()) >= MIN_LABEL),
                     key=lambda o: len(o.label), reverse=True)
    for option in options:
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, option.label.lower().split())) + r"(?!\w)"
        rest, hits = re.subn(pattern, " ", rest)
        if hits:
            found.add(option.code)
    return found


def contradiction(analysis: str, answer: int | None, question: Question) -> str:
    """A one-line description when the analysis names exactly one option and it is not the
    answer; "" otherwise."""
    if answer is None or not analysis:
        return ""
    named = named_options(analysis, question)
    if len(named) != 1 or answer in named:
        return ""
    code = next(iter(named))
    return (f"the analysis names {code} ({question.label(code)}) but the answer is {answer} "
            f"({question.label(answer)})")
