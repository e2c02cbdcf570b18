"""What a survey is: questions with coded options, a codebook, respondents and their profiles.

These types know nothing about files, LLMs or methods; every other module speaks in them.
"""

from __future__ import annotations

import re
from functools import cached_property
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Iterable, Iterator, Mapping

from .dimension import Component, Dimension  # noqa: F401  (part of what a survey is)


class Kind(str, Enum):
    """How a question's codes relate to each other (decides which metrics apply)."""

    ORDINAL = "ordinal"  # ordered scale: MAE is meaningful
    NOMINAL = "nominal"  # unordered categories: accuracy only
    BINARY = "binary"  # two options (mentioned / not, yes / no): accuracy only
    NUMERIC = "numeric"  # a count or a year (age, year of birth, children)


class MissingCode(IntEnum):
    """valuesim's kinds of missing answer, as codes. WVS-7 uses these codes in its files; any
    other survey's own missing codes (a codebook's ``missing``) are read into them by their
    labels (see :func:`missing_kind`), so "don't know" and "not asked" stay apart for every
    survey. Negative codes -1 ... -5 are therefore never an answer."""

    DONT_KNOW = -1
    NO_ANSWER = -2
    NOT_APPLICABLE = -3
    NOT_ASKED = -4
    MISSING = -5

    @property
    def label(self) -> str:
        return {
            -1: "Don't know",
            -2: "No answer",
            -3: "Not applicable",
            -4: "Not asked",
            -5: "Missing",
        }[int(self)]


MISSING_CODES = frozenset(int(c) for c in MissingCode)


def missing_kind(label: str) -> MissingCode:
    """The kind of missing answer a codebook's label names ("don't know", "refusal", "no answer",
    "not applicable", "not asked"); anything else is plain "missing"."""
    text = " ".join(str(label).lower().replace("\u2019", "'").replace("_", " ").split())
    if "know" in text or text in ("dk", "dnk"):
        return MissingCode.DONT_KNOW
    if "refus" in text or "no answer" in text or "not answered" in text or text == "na":
        return MissingCode.NO_ANSWER
    if "applicable" in text or "inapplicable" in text or text == "n/a":
        return MissingCode.NOT_APPLICABLE
    if "not asked" in text:
        return MissingCode.NOT_ASKED
    return MissingCode.MISSING

# Longest option list a prompt shows in full (the longest WVS-7 scale has 12 options).
MAX_LISTED_OPTIONS = 15


@dataclass(frozen=True)
class Option:
    code: int
    label: str
    # Second-person statement for a respondent who chose this option,
    # e.g. "Family is very important in your life."
    statement: str = ""


@dataclass(frozen=True)
class Question:
    """One survey item.

    For ordinal items ``options`` are listed in code order; ``ordinal_high`` names what a
    high code means (e.g. "less important") so MAE is read the right way round. Numeric
    items have no options, only ``valid_range``.
    """

    id: str
    text: str
    kind: Kind
    options: tuple[Option, ...] = ()
    valid_range: tuple[int, int] | None = None
    short: str = ""
    section: str = ""
    category: str = ""
    ordinal_high: str = ""
    # Template for numeric answers, e.g. "You were born in {value}."
    numeric_statement: str = ""
    # A code list (countries, languages, parties, ethnic groups): any code is a valid answer,
    # listed or not. "country" codes are ISO 3166-1 numeric, named from the shipped ISO list.
    code_list: str = ""
    # A count top-coded by the bank ("7 or more"): larger counts mean its highest option.
    count: bool = False
    # Statement for a code the option list lacks ({label}/{name} = the code's label).
    statement_template: str = ""
    # The item's own missing codes (code -> label), replacing the survey-wide ones
    # (ESS: 7 is "refusal" on a four-point item and "Never" on a seven-point one).
    missing: tuple[tuple[int, str], ...] = ()
    # The category's full name ("Happiness and Well-being" for "Hap."), as stories and reports say it.
    category_name: str = ""

    @property
    def codes(self) -> tuple[int, ...]:
        if self.options:
            return tuple(o.code for o in self.options)
        lo, hi = self.valid_range or (0, -1)
        return tuple(range(lo, hi + 1))

    @property
    def is_ordinal(self) -> bool:
        return self.kind == Kind.ORDINAL

    @property
    def n_steps(self) -> int:
        """Number of ordinal steps between the lowest and highest code (MAE normaliser)."""
        codes = self.codes
        return (max(codes) - min(codes)) if codes else 0

    def option(self, code: int) -> Option:
        for o in self.options:
            if o.code == code:
                return o
        if self.code_list and code >= 0:
            return Option(code, unlisted_label(self, code))
        raise KeyError(f"{self.id} has no option with code {code}")

    def is_valid(self, code: int) -> bool:
        if self.code_list and code >= 0:
            return True
        if self.options:
            return any(o.code == code for o in self.options)
        lo, hi = self.valid_range or (code, code)
        return lo <= code <= hi

    def label(self, code: int) -> str:
        return self.option(code).label if self.options else str(code)

    def statement(self, code: int) -> str:
        """The second-person sentence that states this answer."""
        if not self.options:
            template = self.numeric_statement or f"Asked '{self.text}', you answered {{value}}."
            return template.format(value=code)
        opt = self.option(code)
        if not opt.statement and self.statement_template:
            return self.statement_template.format(label=opt.label, name=opt.label)
        return opt.statement or f"Asked '{self.text}', you answered '{opt.label}'."

    @property
    def lists_options(self) -> bool:
        """Whether prompts list the options: not for code lists of countries, languages or
        parties (hundreds of entries that would swamp a prompt); the answer's label says it."""
        return 0 < len(self.options) <= MAX_LISTED_OPTIONS

    def answer_text(self, code: int) -> str:
        """An option as a prompt shows it: "1. Very important"; a scale point whose label only
        repeats its number is the number alone ("7", not "7. 7"), and "1. 1 - Left" is "1. Left"."""
        if not self.options:
            return str(code)
        label = self.label(code).strip()
        if label == str(code):
            return label
        m = re.match(rf"{code}\s*[-\u2013:.)]\s*(\S.*)$", label)
        return f"{code}. {m.group(1) if m else label}"

    def render(self) -> str:
        """The question with its options, as a prompt shows it ("1. Very important")."""
        lines = [f"{self.id}: {self.text}"]
        if self.lists_options:
            lines += [self.answer_text(o.code) for o in self.options]
        elif self.valid_range and not self.options:
            lines.append(f"(a number from {self.valid_range[0]} to {self.valid_range[1]})")
        return "\n".join(lines)


def unlisted_label(question: Question, code: int) -> str:
    """The label of a code-list code the bank does not list: the country's ISO 3166 name for
    country items when the shipped list knows it, otherwise the code, saying that it is unlisted
    ("language code 1105, not in the codebook's list")."""
    if question.code_list == "country":
        from .wvs7.countries import country_name

        name = country_name(code)
        if name:
            return name
    return f"{question.code_list} code {code}, not in the codebook's list"


class UnknownQuestion(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "unknown question"


@dataclass(frozen=True)
class Columns:
    """The file columns that are not items: respondent id, country, survey weight and the year
    the person answered (an empty name: the file has no such column)."""

    id: str = ""
    country: str = ""
    weight: str = ""
    year: str = ""
    urban: str = ""  # urban (1) or rural (2), for the demographic personas


@dataclass
class Codebook:
    """An ordered collection of questions, looked up by id, and what else a survey's files and
    prompts need: the survey's name, its id/country/weight columns, its missing codes, its
    categories, demographic items and value dimensions. Nothing outside ``survey/`` needs to
    know which survey it is: it asks the codebook."""

    questions: tuple[Question, ...]
    name: str = ""
    survey: str = ""  # the survey's full name, as prompts and reports name it
    short: str = ""  # a short name ("WVS-7", "ESS9")
    columns: Columns = field(default_factory=Columns)
    # Survey-wide missing codes (code -> label); an item's own ``missing`` replaces them.
    missing: dict[int, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()  # category keys in report order (default: first appearance)
    category_names: dict[str, str] = field(default_factory=dict)  # key -> full name
    demographics: tuple[str, ...] = ()  # default: the items whose category is a demographics one
    # What some demographic items are (role -> item id: age, sex, education, income; see ROLES):
    # the demographic personas say those in sentences of their own, the others by their statements.
    roles: dict[str, str] = field(default_factory=dict)
    dimensions: dict[str, Dimension] = field(default_factory=dict)  # value dimension -> its items
    targets: tuple[str, ...] = ()  # the default population targets (none: some of every category)
    calibration: tuple[str, ...] = ()  # the default calibration items of population runs
    source: str = ""  # the codebook file it was read from ("" for the built-in WVS-7 codebook)
    _by_id: dict[str, Question] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.questions = tuple(self.questions)
        self._by_id = {q.id: q for q in self.questions}
        if len(self._by_id) != len(self.questions):
            raise ValueError("codebook has duplicate question ids")
        # a dimension given as its item ids (the plain form) is a Dimension of those items as coded
        self.dimensions = {str(k): d if isinstance(d, Dimension) else Dimension(tuple(map(str, d)))
                           for k, d in self.dimensions.items()}

    @property
    def title(self) -> str:
        """How prompts and reports name the survey."""
        return self.survey or self.short or self.name or "a survey"

    @property
    def category_order(self) -> tuple[str, ...]:
        """Category keys in report order: the declared ones, then any other in item order."""
        seen = list(self.categories)
        for q in self.questions:
            if q.category and q.category not in seen:
                seen.append(q.category)
        return tuple(seen)

    def category_name(self, key: str) -> str:
        return self.category_names.get(key, key)

    @property
    def demographic_ids(self) -> tuple[str, ...]:
        """The demographic items: declared, else those in a category called Demographics/Demo."""
        if self.demographics:
            return tuple(q for q in self.demographics if q in self._by_id)
        return tuple(q.id for q in self.questions if q.category.lower() in ("demographics", "demo"))

    @property
    def demographic_items(self) -> tuple[str, ...]:
        """Items that describe demographic personas: the demographic ones and those with a role."""
        return tuple(dict.fromkeys(self.demographic_ids + tuple(self.roles.values())))

    @property
    def country_specific(self) -> tuple[str, ...]:
        """Items whose codes mean something only within a country (code lists: party, country of
        birth, language, ethnic group)."""
        return tuple(q.id for q in self.questions if q.code_list)

    def missing_codes(self, question: Question) -> dict[int, str]:
        """The codes that mean "no answer" for this item (its own, else the survey-wide ones)."""
        return dict(question.missing) if question.missing else dict(self.missing)

    def __getitem__(self, qid: str) -> Question:
        try:
            return self._by_id[qid]
        except KeyError:
            raise UnknownQuestion(f"unknown question id {qid!r} (not in the {self.name or 'codebook'})") from None

    def __contains__(self, qid: object) -> bool:
        return qid in self._by_id

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def ids(self) -> list[str]:
        return [q.id for q in self.questions]

    def subset(self, qids: Iterable[str]) -> "Codebook":
        from dataclasses import replace

        return replace(self, questions=tuple(self[q] for q in qids))

    def by_category(self) -> dict[str, list[Question]]:
        out: dict[str, list[Question]] = {}
        for q in self.questions:
            out.setdefault(q.category, []).append(q)
        return out


# Demographic roles a codebook may give items (``Codebook.roles``): age in years, sex, the
# highest education level, the household income step (1 lowest .. 10 highest).
ROLES = ("age", "sex", "education", "income")


def natural_key(qid: str) -> tuple:
    """Sort key that puts Q2 before Q10 (digits compared as numbers)."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(qid)))


@dataclass
class Respondent:
    """One person: valid answers by question id, and missing codes kept apart."""

    id: str
    country: str
    weight: float = 1.0
    answers: dict[str, int] = field(default_factory=dict)
    missing: dict[str, MissingCode] = field(default_factory=dict)
    year: int | None = None  # the year the person answered, when the file says

    def answered(self, codebook: Codebook | None = None) -> list[str]:
        if codebook is None:
            return list(self.answers)
        return [q.id for q in codebook if q.id in self.answers]


@dataclass(frozen=True)
class Profile:
    """What is known about a person: their answers to some questions (never the target)."""

    items: tuple[tuple[Question, int], ...]
    # The codebook the questions come from, when known (what a story may be checked against).
    codebook: Codebook | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_respondent(
        cls,
        respondent: Respondent,
        codebook: Codebook,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
    ) -> "Profile":
        excluded = set(exclude)
        wanted = list(include) if include is not None else codebook.ids
        items = tuple(
            (codebook[q], respondent.answers[q])
            for q in wanted
            if q in respondent.answers and q not in excluded
        )
        return cls(items, codebook)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def question_ids(self) -> list[str]:
        return [q.id for q, _ in self.items]

    def answers(self) -> dict[str, int]:
        return {q.id: code for q, code in self.items}

    def restrict(self, qids: Iterable[str]) -> "Profile":
        keep = set(qids)
        return Profile(tuple((q, c) for q, c in self.items if q.id in keep), self.codebook)

    def as_qa_list(self) -> str:
        """The paper's profile layout: each question, its options, then the person's answer."""
        return self._qa_list

    @cached_property
    def _qa_list(self) -> str:  # once per profile: Full Info renders it for every question of a person
        return "\n\n".join(f"{q.render()}\nAnswer: {q.answer_text(code)}" for q, code in self.items)

    def as_statements(self) -> str:
        """One second-person sentence per known answer."""
        return "\n".join(q.statement(code) for q, code in self.items)


def answers_from_codes(codes: Mapping[str, int]) -> tuple[dict[str, int], dict[str, MissingCode]]:
    """Split raw coded answers into valid answers and missing codes."""
    answers: dict[str, int] = {}
    missing: dict[str, MissingCode] = {}
    for qid, code in codes.items():
        if code is None:
            continue
        code = int(code)
        if code in MISSING_CODES:
            missing[qid] = MissingCode(code)
        else:
            answers[qid] = code
    return answers, missing
