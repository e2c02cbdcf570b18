"""Which survey the person answered and where they live (and when), named in every LLM context
by default (the survey's name comes from its codebook: no prompt about an ESS respondent says
"World Values Survey").

A profile names the country only through items such as the country of birth, so without this
line an immigrant's Full Info and ValueSim prompts never say where the person lives. The
paper's prompts had no such line: ``--option METHOD.residence=false`` gives its exact setting
(and, run beside the default, the ablation that shows what the line changes).
"""

from __future__ import annotations

from .base import PersonContext


def residence_line(person: PersonContext, second_person: bool = False) -> str:
    """"Survey: European Social Survey, round 9 (2018). Country of residence: Germany (survey
    year 2018)." or, for a backstory, "You took part in the ... You live in Germany (you answered
    the survey in 2018)."; only the survey when the country is unknown."""
    survey = str(person.survey or "").strip()
    if second_person:
        said = f"You took part in the {survey}." if survey else ""
    else:
        said = f"Survey: {survey}." if survey else ""
    code = str(person.country or "").strip()
    if not code or code.lower() in ("nan", "none", "<na>"):
        return said
    from ..survey.countries import country_name  # the names persona prompts use (DEU -> Germany)

    name = country_name(code)
    year = getattr(person, "year", None)
    if second_person:
        lives = f"You live in {name}" + (f" (you answered the survey in {year})" if year else "") + "."
    else:
        lives = f"Country of residence: {name}" + (f" (survey year {year})" if year else "") + "."
    return f"{said} {lives}".strip()


def with_residence(text: str, person: PersonContext, trace: dict | None = None, second_person: bool = False) -> str:
    """``text`` with the residence line after it (constant per person: the person's prompts
    still share one prefix up to the question)."""
    line = residence_line(person, second_person)
    if not line:
        return text
    if trace is not None and isinstance(trace.get("context"), dict):
        trace["context"]["residence"] = line
    return f"{text}\n\n{line}"
