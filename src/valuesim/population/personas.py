"""Persona texts and the prompt each method sends for one (persona, question).

Methods that ask the model:

* ``value-persona``: the person's position on the codebook's value dimensions, one short
  second-person sentence per dimension: the dimension's own sentence for the person's level
  when the codebook words them (WVS-7's: "You hold strongly traditional views: ..."), else the
  generic one (prompts/dimension_descriptors.txt), e.g. "On religiosity, you stand well above
  most of the people surveyed (religious)."
* ``demographic``: the usual persona prompting: the codebook's demographic items, those with a
  role (age, sex, education, income step) in sentences of their own
  (prompts/demographic_facts.txt), the others by their statements, and urban/rural when the
  codebook names an ``urban`` column the file has, from the same drawn person's answers.
* ``no-persona``: only the country is named (one call per country and question).

Every prompt names the country, so the methods differ only in what they say about the person.
The persona comes first and the question last (prompts/persona_question.txt) so the engine's
prefix cache serves all questions of one persona; the answer is read after "Answer: ".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from ..survey.countries import country_name
from ..survey.model import Dimension, Question
from ..survey.survey import Survey
from .dimensions import DimensionScaler
from .prompts import sections, template

VALUE, DEMOGRAPHIC, NO_PERSONA = "value-persona", "demographic", "no-persona"
MARGINAL, UNIFORM = "country-marginal", "uniform"
LLM_METHODS = (VALUE, DEMOGRAPHIC, NO_PERSONA)
REFERENCE_METHODS = (MARGINAL, UNIFORM)
ALL_METHODS = LLM_METHODS + REFERENCE_METHODS


@dataclass
class Persona:
    index: int
    respondent_id: str
    country: str
    scores: dict[str, float] = field(default_factory=dict)
    levels: dict[str, int | None] = field(default_factory=dict)
    value_text: str = ""
    demographic_text: str = ""

    def text(self, method: str) -> str:
        if method == VALUE:
            return self.value_text
        if method == DEMOGRAPHIC:
            return self.demographic_text
        raise ValueError(f"method {method!r} has no per-person text")


def value_descriptors(levels: dict[str, int | None], dimensions: Mapping[str, Dimension]) -> str:
    """The descriptor sentences for a person's levels on the codebook's ``dimensions`` (missing
    dimensions left out)."""
    return "\n".join(dimension_descriptor(dim, lvl, dimensions[dim]) for dim, lvl in levels.items()
                     if lvl is not None)


def dimension_descriptor(name: str, level: int, dimension: Dimension) -> str:
    """The sentence for level 1..5 of a codebook dimension: its own, else the generic one with
    its low/high words if it has them."""
    if dimension.sentences:
        return dimension.sentences[level - 1]
    texts = sections("dimension_descriptors")
    words = dimension.low if level < 3 else dimension.high if level > 3 else ""
    return texts[str(level)].format(name=name.replace("_", " ").strip(),
                                    words=" " + texts["words"].format(words=words) if words else "")


def value_persona_text(country: str, levels: dict[str, int | None], dimensions: Mapping[str, Dimension]) -> str:
    return template("value_persona").format(country=country_name(country),
                                            descriptors=value_descriptors(levels, dimensions))


def _label(question: Question, code) -> str | None:
    if code is None or (isinstance(code, float) and math.isnan(code)) or pd.isna(code):
        return None
    code = int(code)
    return question.label(code) if question.is_valid(code) else None


def demographic_facts(row: pd.Series, survey: Survey) -> list[str]:
    """The persona's demographic sentences from one data row (missing answers left out): the
    codebook's demographic items without a role by their statements, then those with a role."""
    cb = survey.codebook
    facts = sections("demographic_facts")
    roles = {role: qid for role, qid in cb.roles.items() if qid in cb}
    out = []

    def get(col):
        return row[col] if col in row.index else None

    for qid in cb.demographic_ids:
        if qid not in roles.values() and _label(cb[qid], get(qid)) is not None:
            out.append(cb[qid].statement(int(get(qid))))
    if "age" in roles and _label(cb[roles["age"]], get(roles["age"])) is not None:
        out.append(facts["age"].format(value=int(get(roles["age"]))))
    if "sex" in roles and (sex := _label(cb[roles["sex"]], get(roles["sex"]))):
        out.append(facts["sex"].format(value=sex.lower()))
    if "education" in roles and (edu := _label(cb[roles["education"]], get(roles["education"]))):
        edu = re.sub(r"\s*\(ISCED \d\)", "", edu).strip()
        out.append(facts["education"].format(value=edu[0].lower() + edu[1:]))
    if "income" in roles and _label(cb[roles["income"]], get(roles["income"])) is not None:
        out.append(facts["income"].format(value=int(get(roles["income"]))))
    v = get(cb.columns.urban) if cb.columns.urban else None
    if v is not None and not pd.isna(v) and int(v) in (1, 2):
        out.append(facts["urban_rural"].format(value="an urban" if int(v) == 1 else "a rural"))
    return out


def demographic_persona_text(country: str, facts: list[str]) -> str:
    return template("demographic_persona").format(country=country_name(country), facts="\n".join(facts))


def no_persona_text(country: str) -> str:
    return template("no_persona").format(country=country_name(country))


def build_personas(survey: Survey, country: str, respondent_ids: list[str], scaler: DimensionScaler,
                   scores: pd.DataFrame) -> list[Persona]:
    out = []
    for k, rid in enumerate(respondent_ids):
        s = {d: float(scores.at[rid, d]) for d in scaler.dimensions}
        levels = {d: scaler.level(d, s[d]) for d in scaler.dimensions}
        row = survey.data.loc[rid]
        out.append(Persona(k, rid, country, s, levels, value_persona_text(country, levels, survey.codebook.dimensions),
                           demographic_persona_text(country, demographic_facts(row, survey))))
    return out


def question_messages(persona_text: str, question: Question) -> list[dict]:
    """The prompt of a persona method (one implementation: methods/persona.py)."""
    from ..methods.persona import persona_messages

    return persona_messages(persona_text, question)
