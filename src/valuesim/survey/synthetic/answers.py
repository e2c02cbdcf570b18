"""Turn people into coded answers: one vectorised draw per item, in codebook order.

Ordinal and binary items: a latent response (loadings x values + battery factor + country
offset + idiosyncratic noise, widened by the person's extremity and shifted by acquiescence
on agree/disagree items) cut at ordered thresholds. Nominal items: a multinomial logit on the
values. Demographic items are read off the person. Every code is taken from the codebook.
"""

from __future__ import annotations

import re

import numpy as np

from ..model import Kind, MissingCode, Question
from .countries import DIMS
from .items import KNOWLEDGE, NOMINAL, SECOND_CHOICE, SPECS, ItemSpec, item_rng, spec_for
from .people import People

_NORMAL_QUANTILES: dict[int, np.ndarray] = {}
# Options valid only in some countries, e.g. "SWI2: Applied, awaiting decision", "JP,KG,TJ: Other".
_COUNTRY_ONLY = re.compile(r"^\s*[A-Z]{2,4}\d?(\s*,\s*[A-Z]{2,4}\d?)*\s*:|\([^)]*\bonly\b[^)]*\)")


def _quantiles(k: int) -> np.ndarray:
    """Thresholds that split a standard normal into k categories, the middle ones a bit
    more likely than the ends (as on most survey scales before item location shifts them)."""
    if k not in _NORMAL_QUANTILES:
        from scipy.stats import norm

        centers = (np.arange(k) + 0.5) / k
        weights = np.sqrt(centers * (1 - centers))
        _NORMAL_QUANTILES[k] = norm.ppf(np.cumsum(weights / weights.sum())[:-1])
    return _NORMAL_QUANTILES[k]


def _cuts(qid: str, k: int) -> np.ndarray:
    """Item-specific thresholds: the base ones, each moved by a fraction of its gap."""
    base = _quantiles(k)
    if k < 3:
        return base
    gap = np.diff(base).min()
    return np.sort(base + item_rng("cuts", qid).normal(0, 0.2 * gap, k - 1))


def _special(q: Question) -> dict[str, int]:
    """Options outside the ordered scale: "hard to say", "not allowed to vote", "I am not ..."."""
    out = {}
    for o in q.options:
        label = o.label.lower()
        if label.startswith("hard to say") and o.code != _middle_code(q):
            out["hard"] = o.code
        elif "not allowed to vote" in label:
            out["not_allowed"] = o.code
        elif label.startswith("i am not"):
            out["not_national"] = o.code
        elif _COUNTRY_ONLY.search(o.label):
            out.setdefault("country_only", o.code)
    return out


def _middle_code(q: Question) -> int | None:
    codes = q.codes
    return codes[len(codes) // 2] if len(codes) % 2 == 1 and len(codes) >= 3 else None


def _covariates(people: People) -> dict[str, np.ndarray]:
    d = people.demo
    if "_cov" not in d:
        country_edu = people.per_country([c.edu for c in people.countries])
        d["_cov"] = {
            "age": d["age_z"],
            "edu": d["edu"] - country_edu,
            "inc": d["income"],
            "fem": (d["female"] - 0.5) * 2,
            "urb": (d["urban"] - 0.5) * 2,
        }
    return d["_cov"]


def _linear(spec_loadings: dict[str, float], people: People) -> tuple[np.ndarray, float]:
    """Sum of loadings x (latent or covariate) and its approximate variance."""
    cov = _covariates(people)
    total = np.zeros(len(people))
    var = 0.0
    for key, w in spec_loadings.items():
        if key in DIMS:
            total += w * people.theta[:, DIMS.index(key)]
        else:
            total += w * cov[key]
        var += w * w
    return total, var


def _country_offsets(qid: str, people: People, sd: float, size: int | None = None) -> np.ndarray:
    values = np.array([item_rng("country", qid, c.alpha).normal(0, sd, size) for c in people.countries])
    return values[people.country]


def _agree_direction(q: Question, order: list[int]) -> float:
    """-1 if agreeing means low codes, +1 if high codes, 0 if not an agree/disagree item."""
    labels = {o.code: o.label.lower() for o in q.options}
    first, last = labels.get(order[0], ""), labels.get(order[-1], "")
    agree = lambda s: "agree" in s and "disagree" not in s  # noqa: E731
    if agree(first) and "disagree" in last:
        return -1.0
    if agree(last) and "disagree" in first:
        return 1.0
    return 0.0


def scale_item(q: Question, spec: ItemSpec, people: People, rng: np.random.Generator) -> np.ndarray:
    """An ordinal or binary item: latent response cut at item-specific thresholds."""
    special = _special(q)
    excluded = set(special.values())
    order = [c for c in q.codes if c not in excluded]
    if spec.order and set(spec.order) <= set(order):
        order = list(spec.order) + [c for c in order if c not in spec.order]
    k = len(order)
    n = len(people)
    if k == 0:
        return np.full(n, int(MissingCode.MISSING))
    signal, var = _linear(spec.loadings, people)
    if spec.battery:
        signal = signal + spec.battery_loading * people.batteries[spec.battery]
        var += spec.battery_loading ** 2
    if k == 2:  # logistic link, same variance as the normal noise
        noise = rng.logistic(0, spec.noise * np.sqrt(3) / np.pi, n)
    else:
        noise = rng.normal(0, spec.noise, n)
    var += spec.noise ** 2
    y = (signal + noise) / np.sqrt(var * 1.2) + spec.loc + _country_offsets(q.id, people, spec.country_sd)
    if k >= 4:
        y = y * np.exp(0.2 * people.extremity)
    direction = _agree_direction(q, order)
    if direction:
        y = y + direction * 0.2 * people.acquiescence
    idx = np.searchsorted(_cuts(q.id, k), y)
    if k >= 10:  # long scales heap at the midpoint ("5") like real answers do
        middle = (k - 1) // 2
        heap = (np.abs(idx - middle) <= 2) & (rng.random(n) < 0.1)
        idx = np.where(heap, middle, idx)
    codes = np.asarray(order)[idx]

    d = people.demo
    if "hard" in special:
        codes = np.where(rng.random(n) < 0.07, special["hard"], codes)
    if "not_allowed" in special:
        codes = np.where(~d["citizen"], special["not_allowed"], codes)
    if "not_national" in special:
        codes = np.where(~d["citizen"] & (rng.random(n) < 0.4), special["not_national"], codes)
    return codes


def nominal_item(q: Question, people: People, rng: np.random.Generator, utilities: dict) -> np.ndarray:
    """A nominal item: multinomial logit on values (codes and weights from NOMINAL)."""
    n = len(people)
    codes = [c for c in q.codes if not _COUNTRY_ONLY.search(q.label(c))] or list(q.codes)
    if q.id in SECOND_CHOICE and SECOND_CHOICE[q.id] in utilities:
        first_codes, util, first = utilities[SECOND_CHOICE[q.id]]
        if first_codes == codes:
            util = util.copy()
            util[np.arange(n), first] = -np.inf
            return np.asarray(codes)[util.argmax(axis=1)]
    table = NOMINAL.get(q.id, {})
    irng = item_rng("nominal", q.id)
    cov = _covariates(people)
    util = np.empty((n, len(codes)))
    for j, code in enumerate(codes):
        if code in table:
            alpha, weights = table[code]
        else:
            alpha = float(irng.normal(-0.5, 0.5))
            weights = {DIMS[int(irng.integers(len(DIMS)))]: float(irng.normal(0, 0.4))}
        col = np.full(n, alpha)
        for key, w in weights.items():
            col += w * (people.theta[:, DIMS.index(key)] if key in DIMS else cov[key])
        util[:, j] = col
    util += _country_offsets(q.id, people, 0.3, len(codes))
    util += rng.gumbel(size=util.shape)
    choice = util.argmax(axis=1)
    utilities[q.id] = (codes, util, choice)
    return np.asarray(codes)[choice]


def knowledge_item(q: Question, people: People, rng: np.random.Generator) -> np.ndarray:
    n = len(people)
    codes = list(q.codes)
    correct = next((o.code for o in q.options if KNOWLEDGE[q.id] in o.label.lower()), None)
    cov = _covariates(people)
    country_edu = people.per_country([c.edu for c in people.countries])
    util = rng.gumbel(size=(n, len(codes)))
    if correct is not None:
        j = codes.index(correct)
        util[:, j] += 0.3 + 1.0 * cov["edu"] + 0.6 * country_edu + 0.5 * people.dim("ENG")
    return np.asarray(codes)[util.argmax(axis=1)]


# --------------------------------------------------------------------------- demographics


def _by_label(q: Question, prefixes: list[str]) -> list[int | None]:
    out = []
    for prefix in prefixes:
        p = prefix.lower()
        out.append(next((o.code for o in q.options if o.label.lower().startswith(p)), None))
    return out


def _per_country_codes(q: Question, people: People, pick_codes) -> np.ndarray:
    """Apply ``pick_codes(country, rows) -> codes`` per country; -4 where nothing fits."""
    out = np.full(len(people), int(MissingCode.NOT_ASKED))
    for i, c in enumerate(people.countries):
        rows = np.flatnonzero(people.country == i)
        codes = pick_codes(c, rows)
        if codes is not None:
            out[rows] = codes
    return out


def _language(q, people, rng):
    draw = people.demo["language_draw"]

    def pick(c, rows):
        found = [(code, share) for code, (_, share) in zip(_by_label(q, [l for l, _ in c.languages]), c.languages) if code is not None]
        if not found:
            return None
        codes = np.array([f[0] for f in found])
        cum = np.cumsum([f[1] for f in found])
        cum = cum / cum[-1]
        return codes[np.minimum(np.searchsorted(cum, draw[rows]), len(codes) - 1)]

    return _per_country_codes(q, people, pick)


def _ethnic(q, people, rng):
    u = rng.random(len(people))

    def pick(c, rows):
        codes = np.array([code for code in q.codes if code >= 1000 and code // 1000 == c.code])
        if len(codes) == 0:
            return None
        shares = 0.65 * 0.35 ** np.arange(len(codes)) + 0.01
        cum = np.cumsum(shares) / shares.sum()
        return codes[np.minimum(np.searchsorted(cum, u[rows]), len(codes) - 1)]

    return _per_country_codes(q, people, pick)


def _party(q, people, rng):
    n = len(people)
    gumbel = rng.gumbel(size=(n, 40))
    right, trad, eng, trust = people.dim("RIGHT"), people.dim("TRAD"), people.dim("ENG"), people.dim("TRUST")
    citizen = people.demo["citizen"]
    generic = {code: base for code, base in ((2, -0.6), (3, -3.5), (4, -2.2), (5, -2.8), (7, -3.8), (8, -3.8))
               if code in q.codes}

    def pick(c, rows):
        parties = [code for code in q.codes if code >= 1000 and code // 1000 == c.code][:40 - len(generic)]
        if not parties:
            return None
        util, codes = [], []
        for j, code in enumerate(parties):
            prng = item_rng("party", code)
            pos, tpos, size = prng.normal(0, 0.9), prng.normal(0, 0.6), prng.normal(0.4, 0.8)
            util.append(size - 0.7 * (right[rows] - pos) ** 2 - 0.4 * (trad[rows] - tpos) ** 2)
            codes.append(code)
        for code, base in generic.items():
            extra = -1.1 * eng[rows] if code == 2 else -0.4 * trust[rows]
            util.append(base + extra)
            codes.append(code)
        u = np.column_stack(util) + gumbel[rows, : len(codes)]
        chosen = np.asarray(codes)[u.argmax(axis=1)]
        if 1 in q.codes:
            chosen = np.where(citizen[rows], chosen, 1)
        return chosen

    return _per_country_codes(q, people, pick)


def _birth_country(which: str):
    def make(q, people, rng):
        d = people.demo
        abroad = d["born_abroad"] if which == "self" else d[f"{which}_abroad"]
        own = people.per_country([c.code for c in people.countries])
        codes = np.where(abroad, d["origin"], own)
        other = 9999 if 9999 in q.codes else int(MissingCode.MISSING)
        return np.where(np.isin(codes, q.codes), codes, other)
    return make


def _live_with_parents(q, people, rng):
    d = people.demo
    inlaw = d["has_partner"] & (rng.random(len(people)) < 0.35)
    both = d["has_partner"] & ~inlaw & (rng.random(len(people)) < 0.15)
    return np.select([~d["with_parents"], inlaw, both], [1, 3, 4], default=2)


def _with_spouse(key):
    def make(q, people, rng):
        d = people.demo
        return np.where(d["has_partner"], d[key], int(MissingCode.NOT_APPLICABLE))
    return make


def _sector(q, people, rng):
    d = people.demo
    return np.where(d["occupation"] == 0, int(MissingCode.NOT_APPLICABLE), d["sector"])


def _field(key, transform=None):
    def make(q, people, rng):
        values = people.demo[key]
        return transform(values) if transform else values
    return make


DEMOGRAPHICS = {
    "Q260": _field("female", lambda f: np.where(f, 2, 1)),
    "Q261": _field("birth_year"),
    "Q262": _field("age"),
    "Q263": _field("born_abroad", lambda b: np.where(b, 2, 1)),
    "Q264": _field("mother_abroad", lambda b: np.where(b, 2, 1)),
    "Q265": _field("father_abroad", lambda b: np.where(b, 2, 1)),
    "Q266": _birth_country("self"),
    "Q267": _birth_country("mother"),
    "Q268": _birth_country("father"),
    "Q269": _field("citizen", lambda b: np.where(b, 1, 2)),
    "Q270": _field("household"),
    "Q271": _live_with_parents,
    "Q272": _language,
    "Q273": _field("marital"),
    "Q274": _field("children"),
    "Q275": _field("isced"),
    "Q276": _with_spouse("spouse_isced"),
    "Q277": _field("mother_isced"),
    "Q278": _field("father_isced"),
    "Q279": _field("employment"),
    "Q280": _with_spouse("spouse_employment"),
    "Q281": _field("occupation"),
    "Q282": _with_spouse("spouse_occupation"),
    "Q283": _field("father_occupation"),
    "Q284": _sector,
    "Q285": _field("chief_earner"),
    "Q286": _field("savings"),
    "Q287": _field("social_class"),
    "Q288": _field("income_step"),
    "Q289": _field("denomination"),
    "Q290": _ethnic,
    "Q223": _party,
}


def answer_item(q: Question, people: People, rng: np.random.Generator, utilities: dict) -> np.ndarray:
    if q.id in DEMOGRAPHICS:
        codes = DEMOGRAPHICS[q.id](q, people, rng)
    elif q.id in KNOWLEDGE and q.options:
        codes = knowledge_item(q, people, rng)
    elif q.id in NOMINAL and q.options:
        codes = nominal_item(q, people, rng, utilities)
    elif q.id in SPECS and q.options:
        # A scale by meaning even where the bank calls it nominal because of an extra
        # option ("not allowed to vote", "hard to say"): those options are handled apart.
        codes = scale_item(q, spec_for(q.id), people, rng)
    elif q.kind == Kind.NOMINAL and q.options:
        codes = nominal_item(q, people, rng, utilities)
    elif q.kind == Kind.NUMERIC or not q.options:
        lo, hi = q.valid_range or (0, 10)
        signal, _ = _linear(spec_for(q.id).loadings, people)
        z = (signal + rng.normal(0, 1, len(people))) / 1.5
        codes = np.round(lo + (hi - lo) * (1 / (1 + np.exp(-z)))).astype(int)
    else:
        codes = scale_item(q, spec_for(q.id), people, rng)
    return valid_codes(q, np.asarray(codes, dtype=np.int64))


def valid_codes(q: Question, codes: np.ndarray) -> np.ndarray:
    """Force every non-missing code into the codebook: nearest valid code, or -5 if nominal."""
    missing = codes < 0
    if q.options:
        allowed = np.array(sorted(q.codes))
        ok = np.isin(codes, allowed) | missing
        if ok.all():
            return codes
        if q.kind == Kind.NOMINAL:
            return np.where(ok, codes, int(MissingCode.MISSING))
        pos = np.clip(np.searchsorted(allowed, codes), 0, len(allowed) - 1)
        below = np.clip(pos - 1, 0, len(allowed) - 1)
        nearest = np.where(np.abs(allowed[below] - codes) <= np.abs(allowed[pos] - codes), allowed[below], allowed[pos])
        return np.where(ok, codes, nearest)
    if q.valid_range:
        lo, hi = q.valid_range
        return np.where(missing, codes, np.clip(codes, lo, hi))
    return codes


__all__ = ["answer_item", "valid_codes", "DEMOGRAPHICS"]
