"""How each item loads on the latent dimensions (invented, chosen from the item's meaning).

One line per item (or range of items). Loadings are written in the direction of the item's
HIGHER code (WVS often codes "very important" as 1, so "Q6 REL=-1.4" means religious people
pick low codes). Keys:

    DIM=x          loading on a latent dimension (REL TRAD SELF TRUST RIGHT WELL ENG)
    age= edu= inc= fem= urb=   direct effects of demographics (age_z, relative education,
                   income, female, urban), for items where those matter beyond values
    loc=x          where answers sit on the scale, in standard deviations (negative: most
                   answers are low codes, e.g. Q1 family "very important")
    bat=name[:x]   a battery factor shared by items of one battery (default loading 0.5):
                   answers within a battery hang together more than the dimensions explain
    noise=x        idiosyncratic noise (default 0.5): the part no profile can predict
    country=x      sd of the item's country-specific offset (default 0.2)
    dk=x na=x      base rates of "don't know" / "no answer" (defaults by category)
    order=a,b,c    latent order of the codes when it differs from code order (Q56)

Items without a line get small deterministic loadings derived from the item id, so a changed
codebook still yields structured, valid data. Exact values are jittered per item (seeded by
the item id) so that no two items are identical copies.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from .countries import DIMS

SPEC = """
# Important in life: 1 very important .. 4 not at all important
Q1   TRAD=-.3 WELL=-.2 loc=-1.9 bat=important dk=.002
Q2   SELF=-.3 WELL=-.3 TRUST=-.2 loc=-0.7 bat=important
Q3   SELF=-.4 WELL=-.2 age=.15 loc=-0.6 bat=important
Q4   ENG=-.9 loc=0.2 bat=important dk=.01
Q5   TRAD=-.4 age=.2 loc=-1.0 bat=important
Q6   REL=-1.4 loc=-0.4 bat=important:.3
# Child qualities: 1 important, 2 not mentioned
Q7   TRAD=-.4 loc=-0.5 bat=child dk=.005
Q8   SELF=-.5 loc=-0.1 bat=child dk=.005
Q9   SELF=.3 TRAD=-.2 loc=-0.3 bat=child dk=.005
Q10  SELF=-.3 loc=-0.4 bat=child dk=.005
Q11  SELF=-.5 loc=1.0 bat=child dk=.005
Q12  SELF=-.6 loc=-0.3 bat=child dk=.005
Q13  SELF=.4 loc=0.2 bat=child dk=.005
Q14  SELF=-.3 loc=0.3 bat=child dk=.005
Q15  REL=-1.2 loc=0.6 bat=child dk=.005
Q16  SELF=-.2 loc=0.8 bat=child dk=.005
Q17  TRAD=-.6 SELF=.3 loc=0.6 bat=child dk=.005
# Neighbours: 1 mentioned (would not like), 2 not mentioned -> higher code = tolerant
Q18  SELF=.2 REL=-.2 loc=-0.8 bat=neigh dk=.005
Q19  SELF=.7 TRAD=-.2 loc=1.0 bat=neigh dk=.005
Q20  SELF=.6 loc=0.3 bat=neigh dk=.005
Q21  SELF=.7 TRAD=-.3 loc=0.7 bat=neigh dk=.005
Q22  SELF=.9 REL=-.5 loc=0.1 bat=neigh dk=.005
Q23  SELF=.6 REL=-.2 loc=1.0 bat=neigh dk=.005
Q24  REL=-.3 SELF=.1 loc=-0.4 bat=neigh dk=.005
Q25  SELF=.5 REL=-.6 loc=0.9 bat=neigh dk=.005
Q26  SELF=.5 loc=1.2 bat=neigh dk=.005
# Agree (low codes) .. disagree (high codes)
Q27  TRAD=-.7 REL=-.2 loc=-0.5
Q28  TRAD=-.4 SELF=.4 loc=-0.1 bat=gender
Q29  SELF=.8 TRAD=-.4 REL=-.2 fem=.3 loc=0.1 bat=gender
Q30  SELF=.8 TRAD=-.3 fem=.2 loc=0.6 bat=gender
Q31  SELF=.8 TRAD=-.3 fem=.3 loc=0.3 bat=gender
Q32  TRAD=-.5 SELF=.3 loc=-0.6 bat=gender:.3
Q33  SELF=.7 TRAD=-.4 fem=.2 loc=0.2 bat=gender
Q34  SELF=.5 TRAD=-.4 loc=-0.3
Q35  SELF=.6 TRAD=-.3 loc=0.2 bat=gender
Q36  SELF=-.9 REL=.6 loc=0.1 dk=.04
Q37  TRAD=-.7 REL=-.4 loc=0.0
Q38  TRAD=-.6 loc=-0.8
Q39  TRAD=-.5 RIGHT=-.2 loc=-0.2 bat=work
Q40  TRAD=-.5 SELF=.2 loc=-0.4 bat=work
Q41  TRAD=-.5 SELF=.3 loc=0.2 bat=work
# 1 radical change, 2 gradual reform, 3 defend present society
Q42  TRAD=.4 WELL=.3 RIGHT=.2 loc=-0.3 dk=.04
# Future changes: 1 good thing, 2 don't mind, 3 bad thing
Q43  SELF=-.3 TRAD=.3 loc=0.1 dk=.03
Q44  SELF=-.2 REL=.2 loc=-0.7 dk=.03
Q45  TRAD=-.7 SELF=.3 loc=-0.5 dk=.03
# Happiness and well-being
Q46  WELL=-1.0 loc=-0.6 dk=.005
Q47  WELL=-.6 age=.6 loc=-0.4 dk=.003
Q48  WELL=.8 SELF=.3 loc=0.6 dk=.01
Q49  WELL=1.1 loc=0.5 dk=.005
Q50  WELL=1.0 inc=.5 loc=0.1 dk=.01
Q51-Q55 WELL=.8 inc=.4 loc=0.9 bat=hardship dk=.005
Q52  WELL=.6 urb=-.3 loc=0.6 bat=hardship dk=.005
# 1 better off, 3 about the same, 2 worse off
Q56  order=1,3,2 WELL=-.7 age=-.2 loc=-0.4 dk=.02
# Trust (Q57: 1 most people can be trusted, 2 need to be careful)
Q57  TRUST=-1.0 loc=0.9 dk=.01
Q58  TRUST=-.3 loc=-1.6 dk=.003
Q59  TRUST=-.8 loc=-0.1 bat=trustp
Q60  TRUST=-.8 loc=-0.6 bat=trustp
Q61  TRUST=-.9 SELF=-.2 loc=1.1 bat=trustp
Q62  TRUST=-.9 SELF=-.4 loc=0.6 bat=trustp dk=.04
Q63  TRUST=-.9 SELF=-.4 loc=0.7 bat=trustp dk=.04
# Confidence: 1 a great deal .. 4 none at all
Q64  REL=-1.1 TRUST=-.3 loc=0.0 bat=conf:.3
Q65  TRAD=-.6 TRUST=-.5 loc=-0.3 bat=conf
Q66  TRUST=-.7 loc=0.5 bat=conf
Q67  TRUST=-.7 loc=0.4 bat=conf
Q68  TRUST=-.6 RIGHT=.3 loc=0.5 bat=conf dk=.04
Q69  TRUST=-.8 TRAD=-.3 loc=-0.2 bat=conf
Q70  TRUST=-.9 loc=0.0 bat=conf
Q71  TRUST=-1.0 loc=0.2 bat=conf country=.5
Q72  TRUST=-.9 loc=0.9 bat=conf
Q73  TRUST=-1.0 loc=0.5 bat=conf country=.5
Q74  TRUST=-.8 loc=0.2 bat=conf
Q75  TRUST=-.6 SELF=-.2 loc=-0.3 bat=conf dk=.03
Q76  TRUST=-.9 loc=0.2 bat=conf
Q77  TRUST=-.7 RIGHT=-.3 loc=0.3 bat=conf dk=.04
Q78  TRUST=-.7 RIGHT=-.3 loc=0.2 bat=conf dk=.03
Q79  TRUST=-.5 SELF=-.5 loc=-0.1 bat=conf dk=.04
Q80  TRUST=-.5 SELF=-.6 fem=-.2 loc=0.1 bat=conf dk=.05
Q81  TRUST=-.6 loc=-0.1 bat=conf dk=.04
Q82-Q89 TRUST=-.7 SELF=-.2 loc=0.3 bat=intl dk=.08
Q90  SELF=.3 loc=0.2 dk=.06
# Knowledge Q91-Q93: see NOMINAL (correct answer depends on education)
# Membership: 0 don't belong, 1 inactive, 2 active
Q94  REL=1.1 ENG=.2 loc=-0.4 bat=member
Q95  ENG=.6 age=-.3 fem=-.2 loc=-1.0 bat=member
Q96  ENG=.6 SELF=.2 loc=-1.2 bat=member
Q97  ENG=.5 RIGHT=-.3 loc=-1.3 bat=member
Q98  ENG=.9 loc=-1.3 bat=member
Q99  ENG=.6 SELF=.4 loc=-1.5 bat=member
Q100 ENG=.6 edu=.3 loc=-1.4 bat=member
Q101 ENG=.6 REL=.2 loc=-1.3 bat=member
Q102 ENG=.5 loc=-1.7 bat=member
Q103 ENG=.5 loc=-1.6 bat=member
Q104 ENG=.5 fem=.6 loc=-1.8 bat=member
Q105 ENG=.5 loc=-1.8 bat=member
# Economic values (1..10)
Q106 RIGHT=.9 loc=0.0 bat=econ dk=.03
Q107 RIGHT=-.8 loc=-0.1 bat=econ:-.5 dk=.04
Q108 RIGHT=.8 loc=0.0 bat=econ dk=.03
Q109 RIGHT=-.6 loc=-0.5 bat=econ:-.5 dk=.03
Q110 RIGHT=-.5 WELL=-.3 loc=-0.3 bat=econ:-.3 dk=.03
Q112 TRUST=-.8 loc=0.6 country=.5 dk=.05
Q113-Q117 TRUST=-.8 loc=0.3 bat=corrupt dk=.06
Q118 TRUST=-.6 loc=0.0 dk=.06
Q119 SELF=.2 fem=-.3 loc=0.0 dk=.04
Q120 TRUST=.4 loc=0.0 dk=.06
# Migration (Q122-Q129: 0 disagree, 1 hard to say, 2 agree)
Q121 SELF=.8 TRAD=-.3 loc=-0.1 bat=migr dk=.05
Q122 SELF=.5 loc=0.3 bat=migr dk=.04
Q123 SELF=.6 loc=0.1 bat=migr dk=.04
Q124 SELF=-.6 loc=0.1 bat=migr:-.4 dk=.04
Q125 SELF=.5 loc=0.3 bat=migr dk=.05
Q126 SELF=-.5 loc=0.0 bat=migr:-.4 dk=.05
Q127 SELF=.4 loc=0.2 bat=migr dk=.05
Q128 SELF=-.5 loc=0.2 bat=migr:-.4 dk=.04
Q129 SELF=-.5 loc=0.1 bat=migr:-.4 dk=.05
Q130 SELF=-.6 TRAD=.3 loc=0.3 bat=migr:-.4 dk=.03
# Security
Q131 WELL=-.6 urb=.3 loc=-0.4
Q132-Q138 WELL=.5 urb=-.4 loc=0.4 bat=hood dk=.03
Q139 WELL=.5 urb=-.2 loc=0.3 bat=safety
Q140 WELL=.5 urb=-.2 fem=-.3 loc=0.2 bat=safety
Q141 WELL=.4 loc=1.4 bat=safety
Q142 WELL=.8 age=.2 loc=0.0 bat=worry
Q143 WELL=.8 loc=-0.2 bat=worry
Q144 WELL=.4 loc=1.3
Q145 WELL=.4 loc=1.0
Q146-Q148 WELL=.5 loc=0.0 bat=worry country=.6
Q149 RIGHT=-.4 SELF=-.3 loc=0.0 dk=.03
Q150 SELF=-.7 TRAD=.3 loc=0.4 dk=.02
Q151 TRAD=-.7 fem=.3 loc=-0.6 dk=.06
# Science and technology (1 completely disagree .. 10 completely agree)
Q158 SELF=.3 REL=-.1 loc=0.7 bat=sci dk=.04
Q159 SELF=.3 loc=0.6 bat=sci dk=.04
Q160 REL=.9 loc=0.0 dk=.05
Q161 REL=.6 TRAD=.3 loc=-0.2 dk=.05
Q162 SELF=-.4 edu=-.5 loc=-0.3 dk=.04
Q163 SELF=.3 REL=-.2 loc=0.5 bat=sci dk=.05
# Religion
Q164 REL=1.5 loc=0.3 dk=.01
Q165 REL=-1.6 loc=-1.0 dk=.02
Q166-Q168 REL=-1.4 loc=-0.1 bat=belief:-.4 dk=.04
Q169 REL=-1.1 SELF=.3 loc=0.0 dk=.04
Q170 REL=-.8 SELF=.6 loc=0.3 dk=.03
Q171 REL=-1.4 fem=-.2 loc=0.0 bat=practice dk=.005
Q172 REL=-1.5 fem=-.3 loc=-0.1 bat=practice dk=.005
Q173 REL=-1.3 loc=-0.5 dk=.02
Q174 TRAD=-.5 SELF=.3 loc=0.0 dk=.04
Q175 REL=-.3 loc=-0.2 dk=.05
Q176 TRAD=.3 loc=-0.2 dk=.04
# Justifiable: 1 never .. 10 always
Q177-Q181 SELF=.25 TRAD=-.3 loc=-1.0 bat=cheat
Q182 SELF=1.0 REL=-.6 loc=-0.2 bat=moral
Q183 SELF=.7 REL=-.5 loc=-0.9 bat=moral
Q184 SELF=.8 REL=-.7 loc=-0.5 bat=moral
Q185 SELF=.7 REL=-.6 loc=0.1 bat=moral
Q186 SELF=.8 REL=-.7 loc=0.0 bat=moral
Q187 SELF=.5 REL=-.6 loc=-1.0 bat=moral
Q188 SELF=.6 REL=-.7 loc=-0.4 bat=moral
Q189 SELF=-.3 loc=-1.6 bat=violent
Q190 TRAD=.3 SELF=-.3 loc=-0.9 bat=violent
Q191 SELF=-.2 loc=-1.5 bat=violent
Q192 SELF=-.2 loc=-1.7 bat=violent
Q193 SELF=.7 REL=-.7 age=-.3 loc=-0.6 bat=moral
Q194 SELF=-.2 loc=-1.5 bat=violent
Q195 TRAD=.4 SELF=-.3 loc=-0.3
# Government surveillance: 1 definitely should have the right .. 4 definitely not
Q196 TRUST=-.5 TRAD=-.3 SELF=.2 loc=-0.1 bat=surv dk=.04
Q197 TRUST=-.5 TRAD=-.3 SELF=.3 loc=0.5 bat=surv dk=.04
Q198 TRUST=-.5 TRAD=-.3 SELF=.3 loc=0.4 bat=surv dk=.04
# Political interest and action
Q199 ENG=-1.2 loc=0.1 dk=.005
Q200 ENG=-1.1 loc=0.0 dk=.005
Q201 ENG=-.5 age=-.4 edu=-.3 loc=0.4 bat=media
Q202 ENG=-.4 age=-.3 loc=-0.7 bat=media
Q203 ENG=-.3 age=-.2 loc=0.2 bat=media
Q204 age=.6 edu=-.3 ENG=-.2 loc=-0.3 bat=online
Q205 age=.6 edu=-.7 ENG=-.2 loc=0.5 bat=online
Q206 age=.7 edu=-.6 ENG=-.3 loc=-0.1 bat=online
Q207 age=.8 edu=-.3 loc=-0.1 bat=online
Q208 ENG=-.5 loc=-0.3
Q209-Q216 ENG=-.9 SELF=-.4 loc=0.3 bat=action dk=.02
Q217-Q220 ENG=-.8 SELF=-.3 age=.4 loc=0.6 bat=action dk=.02
Q221 ENG=-.8 age=-.4 loc=-0.5 bat=vote
Q222 ENG=-.8 age=-.4 loc=-0.6 bat=vote
# Electoral integrity: 1 very often .. 4 not at all often
Q224 TRUST=-.8 loc=-0.1 bat=elect dk=.06
Q225 TRUST=.6 loc=0.3 bat=elect:-.4 dk=.07
Q226 TRUST=.5 loc=0.0 bat=elect:-.4 dk=.07
Q227 TRUST=.6 loc=0.2 bat=elect:-.4 dk=.07
Q228 TRUST=-.6 loc=0.1 bat=elect dk=.07
Q229 TRUST=-.7 loc=0.0 bat=elect dk=.07
Q230 TRUST=.6 loc=0.0 bat=elect:-.4 dk=.07
Q231 TRUST=.5 loc=0.5 bat=elect:-.4 dk=.07
Q232 TRUST=-.6 loc=-0.1 bat=elect dk=.07
Q233 TRUST=-.5 SELF=-.2 loc=-0.3 bat=elect dk=.06
Q234 SELF=-.4 ENG=-.2 loc=-1.0 dk=.02
# Political systems: 1 very good .. 4 very bad
Q235 SELF=.6 TRAD=-.3 loc=0.0 bat=regime dk=.04
Q236 SELF=.1 TRUST=.2 loc=-0.2 dk=.06
Q237 SELF=.7 TRAD=-.2 loc=0.8 bat=regime dk=.04
Q238 SELF=-.6 loc=-1.2 bat=regime:-.4 dk=.03
Q239 REL=-.9 SELF=.5 loc=0.5 bat=regime dk=.04
Q240 RIGHT=1.1 TRAD=.3 loc=0.0 dk=.11 na=.03
# Essential characteristics of democracy: 0 against .. 10 essential
Q241 RIGHT=-.5 loc=0.2 bat=democ dk=.05
Q242 REL=.8 SELF=-.4 loc=-0.4 bat=democ dk=.05
Q243 SELF=.6 loc=0.9 bat=democ dk=.04
Q244 RIGHT=-.5 loc=0.4 bat=democ dk=.05
Q245 SELF=-.6 loc=-0.4 bat=democ dk=.05
Q246 SELF=.6 loc=0.8 bat=democ dk=.05
Q247 RIGHT=-.6 loc=0.1 bat=democ dk=.05
Q248 TRAD=.7 SELF=-.4 loc=0.1 bat=democ dk=.05
Q249 SELF=.7 fem=.2 loc=1.0 bat=democ dk=.04
Q250 SELF=.6 ENG=.2 loc=1.0 dk=.03
Q251 TRUST=.8 loc=0.2 dk=.05 country=.5
Q252 TRUST=.9 loc=-0.2 dk=.05 country=.5
Q253 TRUST=-.8 loc=0.1 dk=.04 country=.4
Q254 TRAD=-.8 loc=-0.7 dk=.01
# Feel close to: 1 very close .. 4 not close at all
Q255 TRAD=-.4 age=-.2 loc=-0.6 bat=close
Q256 TRAD=-.4 loc=-0.4 bat=close
Q257 TRAD=-.6 loc=-0.9 bat=close
Q258 SELF=-.3 loc=0.3 bat=close dk=.03
Q259 SELF=-.3 loc=0.2 bat=close dk=.03
"""

# Nominal items: per code, (intercept, {dimension or covariate: weight}).
NOMINAL: dict[str, dict[int, tuple[float, dict[str, float]]]] = {
    "Q111": {1: (0.4, {"SELF": .6, "RIGHT": -.3, "edu": .2}), 2: (0.0, {"TRAD": .2, "WELL": -.3}), 3: (-2.8, {})},
    # Aims of the country: growth, defence, say at work/community, beautiful cities
    "Q152": {1: (0.8, {"SELF": -.4, "WELL": -.2}), 2: (-0.3, {"TRAD": .6}), 3: (0.0, {"SELF": .5, "ENG": .3}),
             4: (-0.6, {"SELF": .3})},
    # Aims of the respondent: order, more say, fighting prices, free speech
    "Q154": {1: (0.6, {"TRAD": .5, "SELF": -.4}), 2: (0.1, {"SELF": .6, "ENG": .2}),
             3: (0.5, {"SELF": -.5, "WELL": -.4}), 4: (-0.2, {"SELF": .6})},
    # Most important: stable economy, humane society, ideas over money, fight crime
    "Q156": {1: (0.9, {"SELF": -.3, "WELL": -.2}), 2: (-0.1, {"SELF": .4}), 3: (-0.4, {"SELF": .5}),
             4: (0.1, {"TRAD": .4, "WELL": -.3})},
}
NOMINAL["Q153"] = NOMINAL["Q152"]
NOMINAL["Q155"] = NOMINAL["Q154"]
NOMINAL["Q157"] = NOMINAL["Q156"]
# Second choices are the runner-up of the same person's preferences (never equal to the first).
SECOND_CHOICE = {"Q153": "Q152", "Q155": "Q154", "Q157": "Q156"}

# Knowledge questions: the label of the correct option (Q91 asks which one is NOT a member).
KNOWLEDGE = {"Q91": "india", "Q92": "washington", "Q93": "human rights"}

# Batteries some countries did not field (-4 "not asked"): (items, share of countries).
NOT_ASKED = (
    (("Q82",), 0.25),
    (("Q86",), 0.5),
    (tuple(f"Q{i}" for i in range(224, 234)), 0.25),
    (("Q91", "Q92", "Q93"), 0.15),
    (("Q119",), 0.25),
    (("Q120",), 0.2),
    (("Q234",), 0.1),
    (("Q104",), 0.1),
)

DEFAULT_DK = {"Demo": 0.003, "Hap.": 0.008, "Pol.Eng": 0.025}
DEFAULT_DK_OTHER = 0.015
DEFAULT_NA = 0.006
COVARIATES = ("age", "edu", "inc", "fem", "urb")


@dataclass
class ItemSpec:
    loadings: dict[str, float] = field(default_factory=dict)  # dims and covariates
    loc: float = 0.0
    battery: str | None = None
    battery_loading: float = 0.5
    noise: float = 0.5
    country_sd: float = 0.2
    dk: float | None = None
    na: float | None = None
    order: tuple[int, ...] | None = None
    specified: bool = True


def _expand(token: str) -> list[str]:
    m = re.fullmatch(r"Q(\d+)-Q(\d+)", token)
    if m:
        return [f"Q{i}" for i in range(int(m.group(1)), int(m.group(2)) + 1)]
    return [token]


def parse_spec(text: str = SPEC) -> dict[str, ItemSpec]:
    specs: dict[str, ItemSpec] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head, *tokens = line.split()
        spec = ItemSpec()
        for tok in tokens:
            key, value = tok.split("=", 1)
            if key in DIMS or key in COVARIATES:
                spec.loadings[key] = float(value)
            elif key == "loc":
                spec.loc = float(value)
            elif key == "bat":
                name, _, load = value.partition(":")
                spec.battery = name
                if load:
                    spec.battery_loading = float(load)
            elif key == "noise":
                spec.noise = float(value)
            elif key == "country":
                spec.country_sd = float(value)
            elif key == "dk":
                spec.dk = float(value)
            elif key == "na":
                spec.na = float(value)
            elif key == "order":
                spec.order = tuple(int(v) for v in value.split(","))
            else:
                raise ValueError(f"synthetic item spec: unknown key {key!r} in line {raw!r}")
        for qid in _expand(head):
            specs[qid] = spec  # a later line for the same item wins (e.g. Q52 inside Q51-Q55)
    return specs


SPECS = parse_spec()
BATTERIES = sorted({s.battery for s in SPECS.values() if s.battery})


def item_rng(*parts: object) -> np.random.Generator:
    """A generator seeded by the item (and e.g. country), independent of the population seed."""
    return np.random.default_rng(zlib.crc32(":".join(map(str, parts)).encode()))


def spec_for(qid: str) -> ItemSpec:
    """The item's spec with per-item jitter; a derived default for items not in the table."""
    rng = item_rng("spec", qid)
    base = SPECS.get(qid)
    if base is None:
        dims = rng.choice(len(DIMS), size=2, replace=False)
        loadings = {DIMS[int(d)]: float(rng.choice([-1, 1]) * rng.uniform(0.3, 0.7)) for d in dims}
        return ItemSpec(loadings=loadings, loc=float(rng.normal(0, 0.5)), specified=False)
    jitter = rng.uniform(0.85, 1.15, size=len(base.loadings))
    return ItemSpec(
        loadings={k: v * j for (k, v), j in zip(base.loadings.items(), jitter)},
        loc=base.loc + float(rng.normal(0, 0.08)),
        battery=base.battery,
        battery_loading=base.battery_loading,
        noise=base.noise,
        country_sd=base.country_sd,
        dk=base.dk,
        na=base.na,
        order=base.order,
    )
