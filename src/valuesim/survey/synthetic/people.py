"""Who the synthetic respondents are: demographics, latent values and response style.

Demographics come first (age, sex, place, education, income) and shift the latent values
(older -> more traditional and religious, educated -> more secular and self-expressive,
richer -> happier); some later demographics are drawn from the values in turn (denomination
from religiosity, marriage and children from traditionalism). All draws are vectorised and
come from the single generator passed in, in a fixed order, so one seed gives one population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .countries import DIMS, Country

# Correlations of the latent dimensions within a country (REL TRAD SELF TRUST RIGHT WELL ENG).
CORRELATION = np.array([
    [1.00, 0.55, -0.30, 0.00, 0.15, 0.05, 0.00],
    [0.55, 1.00, -0.40, 0.00, 0.25, 0.00, -0.05],
    [-0.30, -0.40, 1.00, 0.15, 0.00, 0.20, 0.25],
    [0.00, 0.00, 0.15, 1.00, 0.05, 0.25, 0.10],
    [0.15, 0.25, 0.00, 0.05, 1.00, 0.10, 0.00],
    [0.05, 0.00, 0.20, 0.25, 0.10, 1.00, 0.05],
    [0.00, -0.05, 0.25, 0.10, 0.00, 0.05, 1.00],
])

# How demographics shift each latent (columns: age_z, edu, female, urban, income).
DEMOGRAPHIC_EFFECTS = {
    "REL": (0.25, -0.20, 0.15, -0.10, 0.00),
    "TRAD": (0.30, -0.30, 0.05, -0.10, 0.00),
    "SELF": (-0.25, 0.35, 0.00, 0.10, 0.15),
    "TRUST": (0.05, 0.15, 0.00, 0.00, 0.10),
    "RIGHT": (0.05, 0.00, -0.05, 0.00, 0.15),
    "WELL": (-0.10, 0.10, 0.00, 0.00, 0.40),
    "ENG": (0.10, 0.30, -0.15, 0.05, 0.10),
}

# ISCED level (0..8) from the latent education score.
EDU_CUTS = np.array([-2.0, -1.1, -0.45, 0.35, 0.6, 0.9, 1.55, 2.3])


@dataclass
class People:
    countries: list[Country]
    country: np.ndarray  # index into ``countries`` per person
    theta: np.ndarray  # (n, len(DIMS)) latent values
    extremity: np.ndarray
    acquiescence: np.ndarray
    dk_propensity: np.ndarray
    demo: dict[str, np.ndarray] = field(default_factory=dict)
    batteries: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.country)

    def per_country(self, values) -> np.ndarray:
        """Broadcast one value per country to one value per person."""
        return np.asarray(values)[self.country]

    def dim(self, name: str) -> np.ndarray:
        return self.theta[:, DIMS.index(name)]


def split_sizes(total: int, countries: list[Country]) -> np.ndarray:
    """Respondents per country, proportional to each country's typical sample size."""
    sizes = np.array([c.size for c in countries], dtype=float)
    exact = total * sizes / sizes.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row from row-wise probabilities (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def draw_people(rng: np.random.Generator, countries: list[Country], counts: np.ndarray,
                battery_names: list[str]) -> People:
    n = int(counts.sum())
    cidx = np.repeat(np.arange(len(countries)), counts)
    pc = lambda attr: np.array([getattr(c, attr) for c in countries], dtype=float)[cidx]  # noqa: E731

    year = pc("year").astype(int)
    female = rng.random(n) < 0.52
    mean_age = pc("mean_age")
    k = 2.2
    age = 18 + rng.gamma(k, (mean_age - 18) / k)
    age = np.clip(np.round(age), 18, 95).astype(int)
    birthday_later = rng.random(n) < 0.5  # birthday not yet reached in the interview year
    birth_year = year - age - birthday_later.astype(int)
    age_z = (age - 45.0) / 17.0

    urban_score = np.log(pc("urban") / (1 - pc("urban"))) + rng.normal(0, 1.2, n)
    urban = (urban_score > 0).astype(float)
    town = np.clip(np.floor(4.8 + 1.2 * urban_score + rng.normal(0, 0.6, n)), 1, 8).astype(int)

    edu = pc("edu") - 0.3 * age_z + 0.25 * urban - 0.05 * female + rng.normal(0, 0.85, n)
    isced = np.searchsorted(EDU_CUTS, edu)
    income = 0.45 * (edu - pc("edu")) + 0.3 * urban - 0.1 * age_z ** 2 + rng.normal(0, 0.85, n)
    income = (income - income.mean()) / income.std()

    # Latent values: country mean + demographic shifts + correlated personal part.
    means = np.array([c.means for c in countries])[cidx]
    spread = pc("spread")
    chol = np.linalg.cholesky(CORRELATION)
    personal = rng.standard_normal((n, len(DIMS))) @ chol.T
    covariates = np.column_stack([age_z, edu - pc("edu"), female - 0.52, urban - 0.5, income])
    effects = np.array([DEMOGRAPHIC_EFFECTS[d] for d in DIMS])  # (dims, 5)
    theta = means + covariates @ effects.T + spread[:, None] * personal

    # Response style: extremity, acquiescence (more with little schooling), don't-know habit.
    extremity = rng.normal(0, 1, n)
    acquiescence = rng.normal(0, 1, n) - 0.25 * (edu - pc("edu"))
    dk = np.exp(rng.normal(-0.32, 0.8, n) - 0.35 * (edu - pc("edu")) + 0.15 * age_z)

    batteries = {name: rng.standard_normal(n) for name in battery_names}

    people = People(countries, cidx, theta, extremity, acquiescence, dk, batteries=batteries)
    demo = people.demo
    demo.update(year=year, female=female, age=age, age_z=age_z, birth_year=birth_year, urban=urban,
                town=town, edu=edu, isced=isced, income=income)
    _family(rng, people, pc)
    _work(rng, people, pc)
    _origin(rng, people, pc)
    _religion(rng, people, pc)
    return people


def _family(rng, people: People, pc) -> None:
    d = people.demo
    n = len(people)
    age, trad = d["age"], people.dim("TRAD")
    country_rel = np.array([c.means[0] for c in people.countries])[people.country]
    country_trad = np.array([c.means[1] for c in people.countries])[people.country]
    union_age = 24 + 2.5 * (-country_trad) + rng.normal(0, 4, n) - 1.0 * trad
    never = rng.random(n) < _sigmoid(-2.6 - 0.6 * trad - 0.4 * country_trad)
    partnered = (age >= union_age) & ~never
    cohabit = partnered & (rng.random(n) < _sigmoid(-1.6 - 1.3 * trad - 0.05 * (age - 35)))
    split = partnered & (rng.random(n) < np.clip(_sigmoid(-2.2 - 0.7 * trad) * np.minimum(1, (age - 20) / 30), 0, 1))
    widowed = partnered & (rng.random(n) < _sigmoid((age - 72) / 7.0 + 0.8 * d["female"]))
    marital = np.full(n, 6)  # single
    marital[partnered] = 1
    marital[cohabit] = 2
    separated = split & (rng.random(n) < 0.3)
    marital[split] = 3
    marital[separated] = 4
    marital[widowed] = 5
    d["marital"] = marital
    d["has_partner"] = np.isin(marital, (1, 2))

    fertility = np.clip(2.2 + 0.9 * country_rel + 0.3 * country_trad, 1.5, 5.0)
    ramp = np.clip((age - union_age + 2) / 12.0, 0, 1)
    expected = np.where(partnered, fertility * ramp * np.exp(0.15 * trad), 0.12 * fertility * np.clip((age - 20) / 15, 0, 1))
    children = np.minimum(rng.poisson(np.maximum(expected, 0)), 24)
    d["children"] = children

    at_home = np.where(age < 50, children, np.where(age < 60, children * 0.4, 0)).round()
    with_parents = (~d["has_partner"]) & (rng.random(n) < _sigmoid((29 - age) / 3.0 + 0.6 * country_trad))
    with_parents |= d["has_partner"] & (rng.random(n) < _sigmoid(-2.5 + 0.9 * country_trad) * (age < 45))
    extended = rng.poisson(np.clip(0.5 * (country_trad + 0.6), 0.05, 2.0))
    household = 1 + d["has_partner"] + at_home + with_parents * 2 + extended
    d["household"] = np.clip(household, 1, 7).astype(int)
    d["with_parents"] = with_parents


def _work(rng, people: People, pc) -> None:
    d = people.demo
    n = len(people)
    age, edu, female = d["age"], d["edu"], d["female"]
    country_edu = pc("edu")
    country_trad = np.array([c.means[1] for c in people.countries])[people.country]
    trad = people.dim("TRAD")

    student = (age < 27) & (rng.random(n) < _sigmoid((22.5 - age) / 1.6 + 0.9 * (edu - country_edu)))
    retired = ~student & (rng.random(n) < _sigmoid((age - 62) / 2.5))
    housewife = ~student & ~retired & female & (rng.random(n) < _sigmoid(-1.7 + 0.9 * trad + 0.8 * country_trad - 0.5 * (edu - country_edu)))
    rest = ~student & ~retired & ~housewife
    # full time, part time, self employed, unemployed, other
    p = np.column_stack([
        np.full(n, 1.0) + 0.3 * (edu - country_edu),
        np.clip(0.15 + 0.15 * female - 0.1 * country_trad, 0.03, None),
        np.clip(0.25 - 0.2 * country_edu + 0.1 * (1 - d["urban"]), 0.05, None),
        np.clip(0.14 - 0.05 * (edu - country_edu) - 0.05 * people.dim("WELL"), 0.03, None),
        np.full(n, 0.03),
    ])
    pick = categorical(rng, p)
    employment = np.select([student, retired, housewife], [6, 4, 5], default=np.array([1, 2, 3, 7, 8])[pick])
    employment = np.where(rest, np.array([1, 2, 3, 7, 8])[pick], employment)
    d["employment"] = employment

    never_worked = np.isin(employment, (5, 6, 7)) & (rng.random(n) < np.where(employment == 6, 0.7, 0.35))
    d["occupation"] = np.where(never_worked, 0, _occupation(rng, edu - country_edu, d["urban"]))
    public = _sigmoid(-1.2 + 0.5 * (edu - country_edu))
    sector = categorical(rng, np.column_stack([public, 1 - public, np.full(n, 0.06)])) + 1
    d["sector"] = sector

    # Spouse: education correlated with own, employment from the other sex's pattern.
    spouse_edu = 0.6 * edu + 0.4 * country_edu + rng.normal(0, 0.7, n)
    d["spouse_isced"] = np.searchsorted(EDU_CUTS, spouse_edu)
    spouse_female = ~female
    sp_house = spouse_female & (rng.random(n) < _sigmoid(-1.5 + 1.0 * country_trad + 0.4 * trad))
    sp_retired = rng.random(n) < _sigmoid((age - 63) / 2.5)
    sp_pick = categorical(rng, np.column_stack([np.full(n, 1.0), np.full(n, 0.18), np.full(n, 0.2), np.full(n, 0.1), np.full(n, 0.03)]))
    d["spouse_employment"] = np.select([sp_retired, sp_house], [4, 5], default=np.array([1, 2, 3, 7, 8])[sp_pick])
    sp_never = np.isin(d["spouse_employment"], (5,)) & (rng.random(n) < 0.4)
    d["spouse_occupation"] = np.where(sp_never, 0, _occupation(rng, spouse_edu - country_edu, d["urban"]))

    # Parents: less schooled than their children, more so for older respondents.
    parents = country_edu - 0.6 - 0.35 * d["age_z"] + 0.45 * (edu - country_edu) + rng.normal(0, 0.6, n)
    d["mother_isced"] = np.searchsorted(EDU_CUTS, parents - 0.15 + rng.normal(0, 0.45, n))
    d["father_isced"] = np.searchsorted(EDU_CUTS, parents + rng.normal(0, 0.45, n))
    d["father_occupation"] = _occupation(rng, parents - country_edu + 0.3, 1 - (rng.random(n) < 0.6 - 0.2 * (country_edu - 0)))

    earner = np.select(
        [np.isin(employment, (1, 3)) & (~d["has_partner"] | ~female),
         ~d["has_partner"] & ~d["with_parents"],
         np.isin(employment, (5, 6))],
        [0.85, 0.8, 0.08], default=0.35)
    d["chief_earner"] = np.where(rng.random(n) < earner, 1, 2)

    money = d["income"] + 0.4 * people.dim("WELL") + rng.normal(0, 0.8, n)
    # 1 save money, 2 just get by, 3 spent some savings, 4 spent savings and borrowed
    d["savings"] = np.searchsorted(np.array([-0.9, 0.5, 1.3]), -money) + 1
    d["income_step"] = np.clip(np.floor(5.0 + 1.8 * d["income"] + 0.4 * people.dim("WELL")), 1, 10).astype(int)
    status = 0.6 * d["income"] + 0.4 * (edu - country_edu) + rng.normal(0, 0.6, n)
    d["social_class"] = 5 - np.searchsorted(np.array([-1.0, -0.1, 1.0, 2.0]), status)


def _occupation(rng, edu_rel: np.ndarray, urban: np.ndarray) -> np.ndarray:
    """Occupational group 1..10 from relative education and place (multinomial logit)."""
    n = len(edu_rel)
    #                    1     2     3     4     5     6     7     8     9    10
    base = np.array([-0.6, -1.6, -0.5, -0.4, -0.2, 0.0, 0.0, -0.3, -1.2, -1.8])
    slope = np.array([1.6, 1.3, 0.6, 0.1, -0.1, -0.3, -0.6, -0.9, -0.9, -0.4])
    rural = np.array([-0.3, -0.3, -0.3, -0.1, -0.1, 0.0, 0.1, 0.2, 1.4, 1.2])
    util = base + np.outer(edu_rel, slope) + np.outer(1 - urban, rural) + rng.gumbel(size=(n, 10))
    return util.argmax(axis=1) + 1


def _origin(rng, people: People, pc) -> None:
    d = people.demo
    n = len(people)
    imm = pc("immigrants")
    born_abroad = rng.random(n) < imm
    mother_abroad = np.where(born_abroad, rng.random(n) < 0.85, rng.random(n) < 0.5 * imm)
    father_abroad = np.where(born_abroad, rng.random(n) < 0.85, (rng.random(n) < 0.5 * imm) | (mother_abroad & (rng.random(n) < 0.5)))
    d["born_abroad"], d["mother_abroad"], d["father_abroad"] = born_abroad, mother_abroad, father_abroad
    d["citizen"] = ~born_abroad | (rng.random(n) < 0.55)
    pick = rng.random(n)
    origin = np.zeros(n, dtype=int)
    for i, c in enumerate(people.countries):
        rows = people.country == i
        options = np.array(c.origins or (c.code,))
        origin[rows] = options[np.minimum((pick[rows] * len(options)).astype(int), len(options) - 1)]
    d["origin"] = origin
    d["language_draw"] = rng.random(n)


def _calibrated(score: np.ndarray, share: float) -> np.ndarray:
    """sigmoid(b + score) with the intercept b chosen so that the mean is ``share``."""
    lo, hi = -20.0, 20.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if _sigmoid(mid + score).mean() < share:
            lo = mid
        else:
            hi = mid
    return _sigmoid((lo + hi) / 2 + score)


def _religion(rng, people: People, pc) -> None:
    """Denomination (Q289) partly from the person's religiosity, partly from the country mix."""
    d = people.demo
    n = len(people)
    rel = people.dim("REL")
    country_rel = np.array([c.means[0] for c in people.countries])[people.country]
    p_none = np.zeros(n)
    for i, c in enumerate(people.countries):
        rows = people.country == i
        p_none[rows] = _calibrated(-1.6 * (rel[rows] - country_rel[rows]), c.unaffiliated)
    none = rng.random(n) < p_none
    pick = rng.random(n)
    denom = np.zeros(n, dtype=int)
    for i, c in enumerate(people.countries):
        rows = people.country == i
        codes = np.array(list(c.religions))
        shares = np.array(list(c.religions.values()), dtype=float)
        cum = np.cumsum(shares / shares.sum())
        denom[rows] = codes[np.minimum(np.searchsorted(cum, pick[rows]), len(codes) - 1)]
    d["denomination"] = np.where(none, 0, denom)
