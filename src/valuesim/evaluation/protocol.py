"""The evaluation protocol: which people, which items, which folds, which profile sizes.

A study evaluates a seeded sample of respondents. The eligible items are split into K folds
*over questions* (the paper's 5-fold cross-validation: with 290 items, 232 profile items and 58
targets per fold). For a person and a fold, the targets are the fold's items the person
answered, and the profile is every other eligible item the person answered: items a person
did not answer are neither profile nor target for them.

The profile-size curve (paper section 5.3) keeps the targets of one fold and gives each person
only the first N items of a seeded per-person random order of the other folds' items.

What we do differently from the paper, and why: the paper scored all 290 items. By default we
score 281: numeric items (age, year of birth, children) have no options for accuracy or ordinal
MAE, and six items have country-specific code lists (party, country of birth ×3, language,
ethnic group) whose codes mean nothing across countries. Those 9 items are still shown in every
profile ("profile-only" items), so a person's profile is as rich as in the paper.
``--items`` chooses the items to *score* (a budget knob: an LLM study can score a few targets);
it does not shrink the profile, which is still every other item the person answered (the
paper's profiles hold 232 items). ``--profile-items`` restricts the profile on purpose.

Budgets: ``--run-folds N`` runs only the first N of the K folds (the paper's profile-size
experiment uses one fold of a 5-fold split). ``--users all`` evaluates every respondent; the
statistical methods are then cross-fitted over ``fit_groups`` groups of users (each group is
predicted by a model fitted on everyone else, see crossfit.py), so nobody is predicted by a
model that saw their answers.

A ``Split`` is saved as JSON (``split.json``) so a study can be repeated exactly.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import ConfigError, DataError
from ..survey.model import Codebook, Kind
from ..survey.survey import COUNTRY, Survey

# Items whose answer codes are code lists (party, country of birth, language, ethnic group: the
# codebook's ``country_specific`` items): an answer code means nothing outside its country and
# chance is near zero, so they are left out of the default protocol. Numeric items (age, year of
# birth, number of children) are left out because accuracy and ordinal MAE are not defined for them.

DEFAULT_CURVE_SIZES = (0, 25, 50, 100, 150)
ALL_PROFILE = -1  # profile_limit meaning "every profile item the person answered"


def eligible_items(codebook: Codebook, items: Iterable[str] | str | None = None, available: Iterable[str] | None = None) -> list[str]:
    """The items a study evaluates, in codebook order.

    Default: every codebook item except numeric ones and code lists (e.g. 281 of the 290 WVS-7
    items). ``items`` overrides it: ids and ranges of codebook order like ``"a1-a45,b9"``.
    ``available`` (the file's columns) drops items the file does not have.
    """
    if items is None:
        skipped = set(codebook.country_specific)
        chosen = [q.id for q in codebook if q.kind != Kind.NUMERIC and q.id not in skipped]
    else:
        wanted = parse_items(items, codebook)
        bad = [q for q in wanted if codebook[q].kind == Kind.NUMERIC]
        if bad:
            raise ConfigError(f"numeric items cannot be evaluated (no options to score): {', '.join(bad)}")
        keep = set(wanted)
        chosen = [q.id for q in codebook if q.id in keep]
    if available is not None:
        have = set(available)
        chosen = [q for q in chosen if q in have]
    return chosen


def parse_items(items: Iterable[str] | str, codebook: Codebook, flag: str = "--items") -> list[str]:
    """``"a1-a45,b9"`` (ranges in codebook order) or a list of ids -> ids (unknown ids raise one
    clear error)."""
    parts = items.split(",") if isinstance(items, str) else list(items)
    ids = codebook.ids
    out: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if "-" in part and part not in codebook:  # (an id may hold a '-' itself)
            lo, hi = (s.strip() for s in part.split("-", 1))
            for end in (lo, hi):
                if end not in codebook:
                    raise ConfigError(f"{flag}: unknown question id {end!r} in range {part!r}")
            i, j = ids.index(lo), ids.index(hi)
            if i > j:
                raise ConfigError(f"{flag}: range {part!r} runs backwards")
            out += ids[i : j + 1]
        else:
            if part not in codebook:
                raise ConfigError(f"{flag}: unknown question id {part!r}")
            out.append(part)
    if not out:
        raise ConfigError(f"{flag} selects no items")
    return list(dict.fromkeys(out))


ALL_USERS = "all"


def check_protocol(users, folds: int, run_folds: int | None = None, fit_groups: int | None = None) -> None:
    """Refuse impossible protocol arguments before anything is loaded or written."""
    if isinstance(users, str) and users != ALL_USERS:
        raise ConfigError(f"--users must be a positive number or 'all', got {users!r}")
    if isinstance(users, int) and not isinstance(users, bool) and users <= 0:
        raise ConfigError(f"--users must be positive, got {users}")
    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds} (a fold's targets are predicted from the "
                          "other folds' items); to run one fold of a 5-fold split use --folds 5 --run-folds 1")
    if run_folds is not None and not 1 <= run_folds <= folds:
        raise ConfigError(f"--run-folds must be between 1 and --folds ({folds}), got {run_folds}")
    if fit_groups is not None and fit_groups < 1:
        raise ConfigError(f"--fit-groups must be at least 1, got {fit_groups}")


def parse_users(text: str) -> "int | str":
    """``--users`` from the command line: a number or ``all``."""
    if str(text).strip().lower() == ALL_USERS:
        return ALL_USERS
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--users must be a positive number or 'all', got {text!r}") from None


def chosen_users(survey: Survey, ids) -> list[str]:
    """The row keys of respondents named by id (a file id the importer had to number maps to its
    key), in the order given, each once; ids the survey lacks are one ConfigError."""
    keys, missing = [], []
    for rid in dict.fromkeys(str(u).strip() for u in ids):
        if not rid:
            continue
        try:
            key = survey._key(rid)
        except KeyError as exc:  # an id several rows share
            raise ConfigError(f"--respondents: {exc}") from None
        (keys if key in survey.data.index else missing).append(key)
    if missing:
        raise ConfigError(f"--respondents: {len(missing)} of the {len(missing) + len(keys)} ids are not in "
                          f"{survey.source or 'the survey'} ({', '.join(map(repr, missing[:3]))}"
                          f"{' ...' if len(missing) > 3 else ''}); ids look like "
                          f"{', '.join(map(str, survey.data.index[:3]))}")
    if not keys:
        raise ConfigError("--respondents names no respondent")
    return keys


def sample_users(survey: Survey, n: int, seed: int = 0, stratify: str | None = None, min_answered: int = 2,
                 items: list[str] | None = None) -> list[str]:
    """A seeded sample of ``n`` respondent ids.

    ``stratify="country"`` takes (nearly) equal numbers from every country so per-country
    results are comparable; otherwise a simple random sample (as the paper). Respondents who
    answered fewer than ``min_answered`` eligible items are never sampled.
    """
    if n == ALL_USERS:
        n = len(survey)
    if n <= 0:
        raise ConfigError(f"--users must be positive, got {n}")
    cols = items if items is not None else survey.question_ids
    answered = survey.valid(cols).notna().sum(axis=1)
    pool = survey.data.index[answered.to_numpy() >= min_answered]
    if len(pool) == 0:
        raise DataError(f"no respondent in {survey.source or 'the survey'} answered {min_answered} or more of the evaluated items")
    rng = random.Random(seed)
    if n >= len(pool):
        chosen = list(pool)
    elif stratify in (None, "", "none"):
        chosen = rng.sample(sorted(map(str, pool)), n)
    elif stratify == "country":
        by_country: dict[str, list[str]] = {}
        countries = survey.data.loc[pool, COUNTRY].astype(str)
        for rid, c in zip(pool, countries):
            by_country.setdefault(c, []).append(str(rid))
        for ids in by_country.values():
            ids.sort()
            rng.shuffle(ids)
        chosen = []
        order = sorted(by_country)
        while len(chosen) < n:  # round robin over countries until n are taken
            progressed = False
            for c in order:
                if by_country[c] and len(chosen) < n:
                    chosen.append(by_country[c].pop())
                    progressed = True
            if not progressed:
                break
    else:
        raise ConfigError(f"unknown stratification {stratify!r}; use 'country' or nothing")
    return [str(r) for r in chosen]


def make_folds(codebook: Codebook, items: list[str], k: int, seed: int = 0) -> list[list[str]]:
    """Split ``items`` into ``k`` disjoint folds that cover them, balanced by category.

    Items are shuffled within each category and dealt round-robin, so every fold carries a
    similar share of every category (each category can then be scored in every fold)."""
    check_protocol(1, k)
    if k > len(items):
        raise ConfigError(f"--folds {k} is more than the {len(items)} eligible items")
    rng = random.Random(seed)
    by_cat: dict[str, list[str]] = {}
    for q in items:
        by_cat.setdefault(codebook[q].category, []).append(q)
    folds: list[list[str]] = [[] for _ in range(k)]
    turn = 0
    for cat in sorted(by_cat):
        group = by_cat[cat][:]
        rng.shuffle(group)
        for q in group:
            folds[turn % k].append(q)
            turn += 1
    order = {q: i for i, q in enumerate(items)}
    return [sorted(f, key=order.__getitem__) for f in folds]


@dataclass
class Split:
    """Everything that decides which predictions a study makes (saved as split.json)."""

    users: list[str]
    items: list[str]
    folds: list[list[str]]
    seed: int = 0
    stratify: str | None = None
    curve_fold: int | None = None  # None: no profile-size curve
    curve_sizes: list[int] = field(default_factory=lambda: list(DEFAULT_CURVE_SIZES))
    curve_order: dict[str, list[str]] = field(default_factory=dict)  # user -> profile item order
    # Items shown in profiles but never predicted (by default the numeric and country-specific
    # items the file has: age, country of birth, party... are known facts about a person).
    profile_only: list[str] = field(default_factory=list)
    run_folds: int | None = None  # run only folds 0..run_folds-1 (None: all)
    profile_pool: list[str] | None = None  # --profile-items: the only items a profile may show
    fit_groups: int = 1  # cross-fitting groups of users for methods that fit (1: fit once on non-users)

    def fold_of(self) -> dict[str, int]:
        return {q: i for i, f in enumerate(self.folds) for q in f}

    def profile_items(self, fold: int) -> list[str]:
        """Candidate profile items for a fold: every eligible item not in it."""
        held = set(self.folds[fold])
        if self.profile_pool is not None:
            return [q for q in self.profile_pool if q not in held]
        return [q for q in self.items if q not in held] + [q for q in self.profile_only if q not in held]

    def folds_run(self) -> int:
        return len(self.folds) if self.run_folds is None else min(self.run_folds, len(self.folds))

    def sizes(self) -> str:
        """Targets and profile in one line (what the run summary and the report state)."""
        k, n = len(self.folds), self.folds_run()
        per = sorted({len(f) for f in self.folds[:n]})
        scored = sum(len(f) for f in self.folds[:n])
        folds = f"{k} folds" if n == k else f"the first {n} of {k} folds"
        pool = len(self.profile_items(0))
        where = ("restricted with --profile-items" if self.profile_pool is not None
                 else "every other item the person answered")
        fit = (f"; methods that fit are cross-fitted over {self.fit_groups} groups of users"
               if self.fit_groups > 1 else "")
        return (f"targets: {scored} items scored ({'/'.join(map(str, per))} per fold, {folds}); "
                f"profile: up to {pool} items per person ({where}){fit}")

    def profile_limits(self) -> list[int]:
        """ALL_PROFILE for the main study, plus the curve sizes when the study has a curve."""
        extra = [s for s in self.curve_sizes if s != ALL_PROFILE] if self.curve_fold is not None else []
        return [ALL_PROFILE] + sorted(set(extra))

    def units(self, answered: dict[str, set[str]]) -> Iterator["Unit"]:
        """Every (user, fold, profile limit) with its profile ids and target ids.

        ``answered`` maps a user to the eligible items they gave a valid answer to."""
        for user in self.users:
            done = answered.get(user, set())
            for fold in range(self.folds_run()):
                targets = [q for q in self.folds[fold] if q in done]
                if not targets:
                    continue
                profile = [q for q in self.profile_items(fold) if q in done]
                yield Unit(user, fold, ALL_PROFILE, profile, targets)
                if fold == self.curve_fold:
                    order = [q for q in self.curve_order.get(user, []) if q in done]
                    rank = {q: i for i, q in enumerate(profile)}
                    for size in self.profile_limits()[1:]:  # a random subset, shown in item order
                        yield Unit(user, fold, size, sorted(order[:size], key=rank.__getitem__), targets)

    # --- persistence ------------------------------------------------------------------
    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Split":
        try:
            return cls(
                users=[str(u) for u in data["users"]],
                items=list(data["items"]),
                folds=[list(f) for f in data["folds"]],
                seed=int(data.get("seed", 0)),
                stratify=data.get("stratify"),
                curve_fold=data.get("curve_fold"),
                curve_sizes=[int(s) for s in data.get("curve_sizes", DEFAULT_CURVE_SIZES)],
                curve_order={str(k): list(v) for k, v in data.get("curve_order", {}).items()},
                profile_only=list(data.get("profile_only", [])),
                run_folds=data.get("run_folds"),
                profile_pool=None if data.get("profile_pool") is None else list(data["profile_pool"]),
                fit_groups=int(data.get("fit_groups", 1)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"split definition is malformed ({exc}); expected keys users, items, folds") from None

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Split":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"split file {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise DataError(f"split file {path} is not valid JSON: {exc}") from None
        return cls.from_json(data)

    def check(self, survey: Survey) -> None:
        """Refuse a split that names users or items this survey does not have."""
        missing_users = [u for u in self.users if u not in survey.data.index]
        if missing_users:
            raise DataError(f"the split names {len(missing_users)} respondents that are not in {survey.source or 'the survey'} "
                            f"(e.g. {missing_users[0]!r}); was it made for another file?")
        missing_items = [q for q in self.items + self.profile_only + (self.profile_pool or [])
                         if q not in survey.data.columns]
        if missing_items:
            raise DataError(f"the split names items the survey lacks: {', '.join(missing_items[:8])}")


@dataclass(frozen=True)
class Unit:
    """One person in one fold at one profile size: what they show and what is predicted."""

    user: str
    fold: int
    profile_limit: int
    profile: list[str]
    targets: list[str]


def make_split(
    survey: Survey,
    users: int | str | list[str] = 100,
    folds: int = 5,
    seed: int = 0,
    items: Iterable[str] | str | None = None,
    stratify: str | None = None,
    curve: bool = False,
    curve_sizes: Iterable[int] = DEFAULT_CURVE_SIZES,
    curve_fold: int = 0,
    run_folds: int | None = None,
    profile_items: Iterable[str] | str | None = None,
    fit_groups: int | None = None,
) -> Split:
    """Sample users, choose items, deal folds and (with ``curve``) the per-user profile orders.

    ``items``: the items to score (default: every eligible item); the profile is every other
    item of the file unless ``profile_items`` restricts it. ``users="all"``: every respondent,
    with ``fit_groups`` (default 5) cross-fitting groups; ``run_folds``: only the first N folds."""
    check_protocol(users if not isinstance(users, list) else 1, folds, run_folds, fit_groups)
    chosen_items = eligible_items(survey.codebook, items, available=survey.data.columns)
    if not chosen_items:
        raise DataError(f"{survey.source or 'the survey'} has none of the evaluated items")
    if isinstance(users, (int, str)):
        user_ids = sample_users(survey, users, seed=seed, stratify=stratify, items=chosen_items)
    else:
        user_ids = chosen_users(survey, users)
    fold_lists = make_folds(survey.codebook, chosen_items, folds, seed=seed)
    split = Split(user_ids, chosen_items, fold_lists, seed=seed, stratify=stratify, run_folds=run_folds,
                  fit_groups=fit_groups or (5 if users == ALL_USERS else 1))
    # the items not scored are still known facts about a person: shown in every profile
    split.profile_only = [q for q in survey.question_ids if q not in set(chosen_items)]
    if profile_items is not None:
        have = set(survey.data.columns)
        split.profile_pool = [q for q in parse_items(profile_items, survey.codebook, "--profile-items") if q in have]
    if curve:
        if not 0 <= curve_fold < folds:
            raise ConfigError(f"curve fold {curve_fold} is not one of the {folds} folds")
        split.curve_fold = curve_fold
        split.curve_sizes = sorted({int(s) for s in curve_sizes if int(s) >= 0})
        pool = split.profile_items(curve_fold)
        for user in user_ids:
            order = pool[:]
            random.Random(f"{seed}:curve:{user}").shuffle(order)
            split.curve_order[user] = order
    return split


def answered_items(survey: Survey, users: list[str], items: list[str]) -> dict[str, set[str]]:
    """user -> the items (of ``items``) they gave a valid answer to."""
    valid = survey.subset(users).valid(items)  # only these rows: the file may hold 97,220 people
    mask = valid.notna().to_numpy()
    cols = list(valid.columns)
    return {str(u): {cols[j] for j in mask[i].nonzero()[0]} for i, u in enumerate(valid.index)}
