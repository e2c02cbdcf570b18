"""The WVS-7 question bank shipped with valuesim (questions.json, the project's own format)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from ..model import Codebook, Kind, Option, Question

CATEGORIES = ("Core", "Hap.", "Trust", "Econ.Int", "Security", "Tech", "Mo.&Rel.", "Pol.Eng", "Demo")
CATEGORY_NAMES = {
    "Core": "Core Value Orientations",
    "Hap.": "Happiness and Well-being",
    "Trust": "Social Capital, Trust and Organizational Membership",
    "Econ.Int": "Economic Integrity",
    "Security": "Security-Migration Nexus",
    "Tech": "Science and Technology",
    "Mo.&Rel.": "Moral-Religious Framework",
    "Pol.Eng": "Political Engagement",
    "Demo": "Demographics",
}


def _question(item: dict) -> Question:
    options = tuple(Option(int(o["code"]), o["label"], o.get("statement", "")) for o in item.get("options", []))
    vr = item.get("valid_range")
    return Question(
        id=item["id"],
        text=item["text"],
        kind=Kind(item["kind"]),
        options=options,
        valid_range=(int(vr[0]), int(vr[1])) if vr else None,
        short=item.get("short", ""),
        section=item.get("section", ""),
        category=item.get("category", ""),
        ordinal_high=item.get("ordinal_high", ""),
        numeric_statement=item.get("numeric_statement", ""),
    )


@lru_cache(maxsize=1)
def load_codebook() -> Codebook:
    """All core items Q1-Q290 of the WVS-7 master questionnaire."""
    raw = json.loads(resources.files(__package__).joinpath("questions.json").read_text(encoding="utf-8"))
    return Codebook(tuple(_question(i) for i in raw["questions"]), name="WVS-7 question bank")
