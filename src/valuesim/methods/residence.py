"""Where the person lives (and when they answered), named in every LLM context by default.

A profile names the country only through items such as the country of birth, so without this
line an immigrant's Full Info and ValueSim prompts never say where the person lives. The
paper's prompts had no such line: ``--option METHOD.residence=false`` gives its exact setting
(and, run beside the default, the ablation that shows what the line changes).
"""

from __future__ import annotations

from .base import PersonContext


def residence_line(person: PersonContext, second_person: bool = False) -> str:
    """"Country of residence: Germany (survey year 2018)." or, for a backstory, "You live in
    Germany (you answered the survey in 2018)."; "" when the country is unknown."""
    code = str(person.country or "").strip()
    if not code or code.lower() in ("nan", "none", "<na>"):
        return ""
    from ..population.countries import country_name  # the names persona prompts use (DEU -> Germany)

    name = country_name(code)
    year = getattr(person, "year", None)
    if second_person:
        return f"You live in {name}" + (f" (you answered the survey in {year})" if year else "") + "."
    return f"Country of residence: {name}" + (f" (survey year {year})" if year else "") + "."


def with_residence(text: str, person: PersonContext, trace: dict | None = None, second_person: bool = False) -> str:
    """``text`` with the residence line after it (constant per person: the person's prompts
    still share one prefix up to the question)."""
    line = residence_line(person, second_person)
    if not line:
        return text
    if trace is not None and isinstance(trace.get("context"), dict):
        trace["context"]["residence"] = line
    return f"{text}\n\n{line}"
