"""ISO 3166-1 countries (numeric, alpha-3, English short name), shipped as countries.csv.

The list is public fact: the 249 current ISO 3166-1 entries, a few former ones that WVS
codes still use (country of birth "German Democratic Republic"), and the WVS's own codes
(909 / NIR Northern Ireland, 915 Kosovo, MOR for Morocco, 9999 "Other country"). It names
country-of-birth codes the question bank lacks and checks B_COUNTRY_ALPHA values.
"""

from __future__ import annotations

import csv
import io
import re
from functools import lru_cache
from importlib import resources

# What a country code in a data file can look like at all: letters/digits, at most 8.
_CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,8}$")


@lru_cache(maxsize=1)
def _table() -> tuple[dict[int, str], dict[str, str], dict[int, str], dict[str, str], dict[str, str]]:
    """(numeric -> name, alpha-3 -> name, numeric -> alpha-3, normalised name -> alpha-3,
    alpha-2 -> alpha-3)."""
    text = resources.files(__package__).joinpath("countries.csv").read_text(encoding="utf-8")
    by_numeric: dict[int, str] = {}
    by_alpha: dict[str, str] = {}
    alpha_of: dict[int, str] = {}
    alpha_by_name: dict[str, str] = {}
    alpha3_of_alpha2: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["numeric"]:
            by_numeric[int(row["numeric"])] = row["name"]
        if row["alpha3"]:
            by_alpha[row["alpha3"]] = row["name"]
            alpha_by_name.setdefault(normalise(row["name"]), row["alpha3"])
            if row["numeric"] and row["source"] != "former":
                alpha_of[int(row["numeric"])] = row["alpha3"]
            if row.get("alpha2"):
                alpha3_of_alpha2[row["alpha2"]] = row["alpha3"]
    return by_numeric, by_alpha, alpha_of, alpha_by_name, alpha3_of_alpha2


def normalise(text: str) -> str:
    """Case, accents' look-alikes and punctuation removed: how labels are compared."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(ch for ch in text if ch.isalnum())


def alpha3_for(value) -> str | None:
    """The alpha-3 code of a numeric code (276), an alpha-2 code (DE), an English name
    ("Germany") or an alpha-3 code."""
    if isinstance(value, (int, float)) or str(value).strip().isdigit():
        return _table()[2].get(int(float(value)))
    code = str(value).strip().upper()
    if code in _table()[1]:
        return code
    if len(code) == 2:
        return _table()[4].get(code)
    return _table()[3].get(normalise(value))


def country_name(numeric: int) -> str | None:
    """English name of an ISO 3166-1 numeric (or WVS) country code; None when unknown."""
    return _table()[0].get(int(numeric))


def alpha3_name(alpha: str) -> str | None:
    """English name of an ISO 3166-1 alpha-3 (or WVS, e.g. NIR) code; None when unknown."""
    return _table()[1].get(str(alpha).strip().upper())


def is_country_shaped(value: str) -> bool:
    """Whether a value could be a country code at all (no markup, paths or formulas)."""
    return bool(_CODE_SHAPE.match(value))


@lru_cache(maxsize=1)
def _said() -> dict[str, str]:
    """alpha-3 -> how a sentence names the country, where that differs from the ISO short name
    ("the Netherlands", "Great Britain" as WVS-7 names the GBR sample)."""
    text = resources.files(__package__).joinpath("countries.csv").read_text(encoding="utf-8")
    return {row["alpha3"]: row["said"] for row in csv.DictReader(io.StringIO(text)) if row.get("said")}


def sentence_name(code) -> str:
    """'DEU', 'deu' or '276' -> 'Germany', 'NLD' -> 'the Netherlands': a country as prompts and
    reports say it; a code the table does not know is returned as it is (it may be a name)."""
    key = str(code).strip()
    alpha = _table()[2].get(int(key)) if key.isdigit() else key.upper()
    if alpha is None:
        return _table()[0].get(int(key), key)
    return _said().get(alpha) or _table()[1].get(alpha) or key


def numeric_for_alpha(alpha: str) -> int | None:
    """The numeric code of an alpha-3 code (DEU -> 276), None when unknown."""
    for numeric, code in _table()[2].items():
        if code == alpha:
            return numeric
    return None
