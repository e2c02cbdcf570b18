"""The countries of the synthetic population and their (invented) parameters.

Every number here is INVENTED to look plausible, loosely inspired by the public picture of
the Inglehart-Welzel cultural map (e.g. Sweden secular and self-expressive, Nigeria, Pakistan
and Egypt traditional and survival-oriented, Japan secular but moderate). None of it is
estimated from WVS data; do not use the synthetic population for research.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import ConfigError

# Latent value dimensions, in this order everywhere (columns of ``People.theta``).
DIMS = ("REL", "TRAD", "SELF", "TRUST", "RIGHT", "WELL", "ENG")
DIM_HELP = {
    "REL": "religiosity",
    "TRAD": "traditional / authority / national (vs secular-rational)",
    "SELF": "self-expression, tolerance, gender equality (vs survival)",
    "TRUST": "interpersonal and institutional trust",
    "RIGHT": "economic right, market liberal (vs left, state)",
    "WELL": "well-being and material security",
    "ENG": "political and civic engagement",
}


@dataclass(frozen=True)
class Country:
    alpha: str  # ISO alpha-3 as in B_COUNTRY_ALPHA
    code: int  # ISO numeric as in B_COUNTRY
    year: int  # A_YEAR (year of fieldwork)
    size: int  # typical sample size; respondents are split in proportion to it
    means: tuple[float, ...]  # latent means in DIMS order
    spread: float  # within-country standard deviation of the latents
    edu: float  # mean of the latent education score (0 = world average)
    mean_age: float
    urban: float  # share living in towns of 100,000+
    religions: dict[int, float]  # Q289 denomination shares among the affiliated
    unaffiliated: float  # share with no denomination at the country's mean religiosity
    immigrants: float  # share born abroad
    origins: tuple[int, ...]  # ISO numeric codes of common countries of birth of immigrants
    languages: tuple[tuple[str, float], ...]  # (label prefix in Q272, share)
    weighted: bool = True  # some WVS countries ship a constant weight of 1


def _c(alpha, code, year, size, means, spread, edu, age, urban, rel, unaff, imm, origins, langs, weighted=True):
    return Country(alpha, code, year, size, tuple(float(m) for m in means), spread, edu, age, urban,
                   rel, unaff, imm, tuple(origins), tuple(langs), weighted)


#                 alpha  code  year  size   REL   TRAD  SELF  TRUST RIGHT WELL  ENG    spread edu  age urban
COUNTRIES: tuple[Country, ...] = (
    _c("DEU", 276, 2018, 1528, (-0.8, -0.8, 0.9, 0.5, 0.0, 0.6, 0.4), 0.85, 0.6, 49, 0.35,
       {1: .45, 2: .45, 3: .02, 5: .05, 9: .03}, .35, .14, (792, 616, 643), (("German", .92), ("Turkish", .04), ("Russian", .04))),
    _c("USA", 840, 2017, 2596, (0.2, -0.1, 0.8, 0.1, 0.5, 0.5, 0.4), 0.95, 0.7, 47, 0.55,
       {1: .30, 2: .35, 8: .25, 4: .03, 9: .07}, .25, .13, (484, 156, 356), (("English", .86), ("Spanish", .14))),
    _c("NGA", 566, 2018, 1237, (1.3, 1.0, -0.7, -0.6, 0.2, -0.3, 0.1), 0.75, -0.4, 33, 0.30,
       {5: .50, 2: .20, 1: .15, 8: .14, 9: .01}, .01, .01, (288, 148), (("Hausa", .35), ("Yoruba", .25), ("Igbo", .2), ("English", .1), ("Nigerian Pidgin", .1))),
    _c("JPN", 392, 2019, 1353, (-1.1, -0.6, 0.1, 0.3, 0.0, 0.4, -0.3), 0.75, 0.6, 52, 0.65,
       {7: .75, 9: .20, 8: .05}, .60, .01, (156, 410), (("Japanese", 1.0),), weighted=False),
    _c("BRA", 76, 2018, 1762, (0.6, 0.2, 0.1, -0.8, 0.1, 0.1, 0.0), 0.95, -0.2, 40, 0.50,
       {1: .60, 8: .32, 9: .08}, .12, .01, (600, 32), (("Portuguese", 1.0),)),
    _c("EGY", 818, 2018, 1200, (1.4, 1.1, -1.0, -0.3, -0.2, -0.4, -0.5), 0.65, -0.3, 38, 0.40,
       {5: .92, 3: .08}, .005, .005, (760, 736), (("Arabic", 1.0),), weighted=False),
    _c("SWE", 752, 2017, 1194, (-1.3, -1.1, 1.4, 0.9, -0.2, 0.8, 0.5), 0.80, 0.7, 50, 0.40,
       {2: .85, 1: .05, 5: .05, 9: .05}, .50, .18, (246, 368, 760), (("Swedish", .9), ("Arabic", .05), ("Finnish", .05))),
    _c("IND", 356, 2023, 1692, (0.9, 0.6, -0.4, -0.1, 0.1, 0.0, 0.0), 0.90, -0.5, 38, 0.30,
       {6: .80, 5: .13, 8: .03, 9: .04}, .02, .005, (50, 524), (("Hindi", .45), ("Bengali", .12), ("Marathi", .1), ("Telugu", .1), ("Tamil", .1), ("Gujarati", .08), ("English", .05))),
    _c("CHN", 156, 2018, 3036, (-1.2, -0.5, -0.5, 0.7, -0.3, 0.3, -0.6), 0.70, -0.2, 45, 0.45,
       {7: .55, 9: .35, 8: .10}, .85, .002, (410,), (("Standard Chinese", .85), ("Cantonese", .1), ("Hakka", .05)), weighted=False),
    _c("RUS", 643, 2017, 1810, (-0.2, -0.3, -0.6, -0.3, -0.4, -0.2, -0.5), 0.85, 0.6, 46, 0.55,
       {3: .90, 5: .08, 9: .02}, .30, .06, (804, 398, 860), (("Russian", .92), ("Tatar", .04), ("Chechen", .04))),
    _c("MEX", 484, 2018, 1741, (0.6, 0.3, 0.3, -0.5, 0.1, 0.5, 0.0), 0.95, -0.1, 40, 0.55,
       {1: .85, 8: .10, 9: .05}, .08, .01, (840, 320), (("Spanish", .95), ("Mayan", .05))),
    _c("PAK", 586, 2018, 1995, (1.4, 1.2, -1.1, -0.2, 0.0, -0.3, -0.4), 0.60, -0.8, 35, 0.35,
       {5: .98, 9: .02}, .003, .01, (4,), (("Urdu", .3), ("Punjabi", .4), ("Pashto", .15), ("Sindhi", .1), ("Saraiki", .05))),
    _c("TUR", 792, 2018, 2415, (0.9, 0.7, -0.5, -0.6, 0.1, 0.0, -0.1), 0.85, -0.1, 40, 0.60,
       {5: .99, 9: .01}, .02, .02, (760, 31), (("Turkish", .85), ("Kurdish", .15))),
    _c("IDN", 360, 2018, 3200, (1.4, 0.9, -0.6, 0.0, 0.0, 0.3, -0.1), 0.65, -0.2, 40, 0.45,
       {5: .88, 2: .06, 1: .03, 6: .02, 9: .01}, .002, .002, (458,), (("Indonesian", .55), ("Javanese", .3), ("Sundanese", .15))),
    _c("KOR", 410, 2018, 1245, (-0.6, -0.3, -0.1, 0.0, 0.2, 0.1, -0.1), 0.80, 0.7, 46, 0.80,
       {2: .50, 7: .35, 1: .15}, .50, .01, (156,), (("Korean", 1.0),), weighted=False),
    _c("ARG", 32, 2017, 1003, (0.2, -0.1, 0.4, -0.7, -0.2, 0.1, 0.1), 0.95, 0.1, 42, 0.60,
       {1: .80, 8: .12, 9: .08}, .20, .04, (600, 68, 604), (("Spanish", 1.0),)),
    _c("GBR", 826, 2022, 2609, (-0.7, -0.6, 1.0, 0.4, 0.1, 0.5, 0.2), 0.90, 0.6, 50, 0.55,
       {2: .60, 1: .20, 5: .10, 9: .10}, .45, .12, (356, 616, 586), (("English", .95), ("Polish", .05))),
    _c("KEN", 404, 2021, 1266, (1.2, 0.8, -0.5, -0.6, 0.2, -0.3, 0.2), 0.75, -0.4, 33, 0.30,
       {2: .45, 1: .25, 8: .20, 5: .10}, .02, .01, (800, 834), (("Swahili", .4), ("Kikuyu", .2), ("Luhya", .15), ("Luo", .15), ("English", .1))),
    _c("IRN", 364, 2020, 1499, (0.8, 0.5, -0.4, -0.3, -0.1, -0.3, -0.2), 0.85, 0.1, 40, 0.60,
       {5: .99, 9: .01}, .01, .01, (4,), (("Persian", .7), ("Azerbaijani", .18), ("Kurdish", .07), ("Gilaki", .05))),
    _c("ETH", 231, 2020, 1230, (1.3, 1.0, -0.8, 0.0, 0.0, -0.2, -0.2), 0.65, -1.0, 31, 0.20,
       {3: .55, 5: .30, 2: .15}, .01, .005, (706,), (("Amharic", .55), ("Oromo", .35), ("Sidamo", .1))),
    _c("COL", 170, 2018, 1520, (0.8, 0.3, 0.3, -0.9, 0.2, 0.4, 0.0), 0.90, -0.1, 38, 0.60,
       {1: .80, 8: .15, 9: .05}, .08, .02, (862,), (("Spanish", 1.0),)),
    _c("NLD", 528, 2022, 2145, (-1.0, -1.0, 1.2, 0.8, 0.1, 0.7, 0.3), 0.85, 0.6, 52, 0.45,
       {1: .45, 2: .40, 5: .10, 9: .05}, .50, .13, (792, 504, 740), (("Dutch", .95), ("Turkish", .05))),
    _c("PHL", 608, 2019, 1200, (1.2, 0.9, -0.4, -0.7, 0.2, 0.2, 0.0), 0.70, 0.0, 38, 0.45,
       {1: .85, 8: .10, 5: .05}, .01, .002, (840,), (("Filipino", .4), ("Cebuano", .25), ("Tagalog", .2), ("Hiligaynon", .15))),
    _c("UKR", 804, 2020, 1289, (0.0, -0.1, -0.6, -0.5, -0.2, -0.6, -0.3), 0.85, 0.5, 48, 0.50,
       {3: .85, 1: .10, 9: .05}, .15, .05, (643, 112), (("Ukrainian", .65), ("Russian", .35))),
)

BY_ALPHA = {c.alpha: c for c in COUNTRIES}
BY_CODE = {c.code: c for c in COUNTRIES}


def select_countries(countries: int | list | tuple) -> list[Country]:
    """``K`` takes the first K of the table; a list picks by alpha-3 ("DEU") or numeric code (276)."""
    if isinstance(countries, bool):
        raise ConfigError("countries must be a number or a list of country codes, not a boolean")
    if isinstance(countries, int):
        if not 1 <= countries <= len(COUNTRIES):
            raise ConfigError(
                f"countries={countries}: the synthetic population has 1 to {len(COUNTRIES)} countries "
                f"({', '.join(c.alpha for c in COUNTRIES)})")
        return list(COUNTRIES[:countries])
    if isinstance(countries, str):
        countries = [p for p in countries.replace(",", " ").split() if p]
    picked: list[Country] = []
    for item in countries:
        key = str(item).strip().upper()
        country = BY_ALPHA.get(key) or (BY_CODE.get(int(key)) if key.isdigit() else None)
        if country is None:
            raise ConfigError(
                f"unknown country {item!r} for the synthetic population; use ISO alpha-3 or numeric "
                f"codes from: {', '.join(f'{c.alpha} ({c.code})' for c in COUNTRIES)}")
        if country not in picked:
            picked.append(country)
    if not picked:
        raise ConfigError("countries is an empty list; name at least one country (e.g. DEU)")
    return picked
