"""Matching label text as exports spell it to what it names (a variable, or an answer code).

Nothing here knows WVS: a :class:`LabelIndex` is built from ``{target: [label, ...]}`` and looks
text up in steps, strictest first, stopping at the first step where the text is known:

1. ``exact``: the text itself (whitespace collapsed);
2. ``normalised``: case, punctuation and spacing removed ("´" for "'", line breaks);
3. ``loose``: also without a leading "A:" / "1." tag, without bracketed parts ("(ISCED 1)",
   "[nationality]", "(born outside this country)"), without articles ("The"), with British
   spellings made American ("Labour") and plural words made singular ("Services");
4. ``truncated`` (only when asked): the text's normalised form is the start (or, for headers,
   the end) of exactly one target's label, as exports cut long labels.

When the text's form is the form of two targets at a step, the answer is *ambiguous*, with
the candidates, and no looser step is tried: a label is never mapped to a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .countries import normalise as normalised

_ARTICLES = frozenset({"the", "a", "an"})
_SPELLING = {"labour": "labor", "organisation": "organization", "organisations": "organizations",
             "defence": "defense", "neighbour": "neighbor", "neighbours": "neighbors",
             "behaviour": "behavior", "favour": "favor", "centre": "center", "programme": "program"}
_TAG = re.compile(r"^\s*(?:[A-Za-z]|\d{1,3})\s*[:.)]\s+")  # "A: ", "1. ", "b) "
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def collapse(text: str) -> str:
    """Whitespace runs (line breaks of multi-line labels) as one space, ends stripped."""
    return " ".join(str(text).split())


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return re.findall(r"[^\W_]+", text)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def loose(text: str, brackets: bool = True) -> str:
    """The loose form; ``brackets=False`` keeps tags and bracketed parts (for variable labels,
    where "(recoded)" or "[ISCED 2011]" tells variables apart)."""
    text = str(text)
    if brackets:
        text = _TAG.sub("", text, count=1)
        while True:
            stripped = _BRACKETED.sub(" ", text)
            if stripped == text:
                break
            text = stripped
    words = [_singular(_SPELLING.get(w, w)) for w in _words(text) if w not in _ARTICLES]
    return "".join(words)


STEPS = ("exact", "normalised", "loose", "truncated")


@dataclass(frozen=True)
class Match:
    target: str | None  # what the text names; None when unknown or ambiguous
    step: str = ""  # which step found it ("" when nothing did)
    candidates: tuple[str, ...] = ()  # the targets an ambiguous text could name

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


class LabelIndex:
    """Targets by the forms of their labels; see the module docstring for the steps."""

    def __init__(self, labels: Mapping[str, Iterable[str]], *, truncated: str = "",
                 min_truncated: int = 6, brackets: bool = True) -> None:
        """``truncated``: "" (no truncation step), "start" (the text is a label's start) or
        "both" (start or end: header labels lose characters at either end). ``brackets``:
        whether the loose step drops "A:" tags and bracketed parts (answer labels) or not
        (variable labels)."""
        self.truncated = truncated
        self.min_truncated = min_truncated
        self._forms = (collapse, normalised, lambda text: loose(text, brackets))
        self._by_form: list[dict[str, set[str]]] = [{} for _ in self._forms]
        for target, texts in labels.items():
            for text in texts:
                if text is None or not str(text).strip():
                    continue
                for table, form in zip(self._by_form, self._forms):
                    key = form(text)
                    if key:
                        table.setdefault(key, set()).add(target)

    def lookup(self, text: str) -> Match:
        for step, table, form in zip(STEPS, self._by_form, self._forms):
            key = form(text)
            if key and key in table:
                return self._answer(table[key], step)
        if self.truncated:
            return self._truncated(text)
        return Match(None)

    def _truncated(self, text: str) -> Match:
        """A unique label start (or end) of at least ``min_truncated`` characters; a shorter
        text that starts several labels ("Not") is reported as ambiguous all the same."""
        found: set[str] = set()
        key = ""
        for table, form in zip(self._by_form[1:], self._forms[1:]):
            key = form(text)
            if len(key) < 3:
                continue
            for label, targets in table.items():
                if label.startswith(key) or (self.truncated == "both" and label.endswith(key)):
                    found |= targets
            if found:
                break
        if not found or (len(found) == 1 and len(key) < self.min_truncated):
            return Match(None)
        return self._answer(found, "truncated")

    @staticmethod
    def _answer(targets: set[str], step: str) -> Match:
        if len(targets) == 1:
            return Match(next(iter(targets)), step)
        return Match(None, step, tuple(sorted(targets)))

    def labels(self) -> dict[str, set[str]]:
        """Normalised label -> targets (for nearest-label suggestions)."""
        return self._by_form[1]
