"""Which questions a population run evaluates, and which ones it calibrates on.

An evaluation target can be any bank item with answer options except:
* descriptor items (they describe value personas: ``dimensions.descriptor_items``, the items of
  the codebook's own ``dimensions`` or WVS-7's ``DESCRIPTOR_ITEMS``),
* the demographic persona's items (Q260 sex, Q262 age, Q275 education, Q288 income),
* numeric items and items with a country-specific code list (party, country of birth,
  language, ethnic group: more than ``MAX_OPTIONS`` options).

The default target set is ten diverse items, one or two per value category:
Q1 family important (Core), Q27 make parents proud (Core), Q49 life satisfaction (Hap.),
Q69 confidence in the police (Trust), Q106 income equality (Econ.Int), Q111 environment vs
growth (Econ.Int, nominal), Q121 impact of immigrants (Security), Q158 science and technology
(Tech), Q173 religious person (Mo.&Rel.), Q235 strong leader (Pol.Eng).

Calibration questions fit the calibration temperature and are never evaluated. Default: Q2
friends important, Q71 confidence in the government, Q131 secure in neighbourhood, Q199
interest in politics (minus any that are targets).
"""

from __future__ import annotations

from typing import Iterable

from ..errors import ConfigError
from ..survey.model import Codebook, Kind, Question
from .dimensions import DESCRIPTOR_ITEMS, descriptor_items
from .personas import DEMOGRAPHIC_ITEMS

DEFAULT_TARGETS = ("Q1", "Q27", "Q49", "Q69", "Q106", "Q111", "Q121", "Q158", "Q173", "Q235")
DEFAULT_CALIBRATION = ("Q2", "Q71", "Q131", "Q199")
MAX_OPTIONS = 20


def why_not_target(question: Question, codebook: Codebook | None = None) -> str | None:
    """The reason an item cannot be a population target, or None when it can (``codebook``: the
    survey's, whose own dimensions' items describe its personas; None: WVS-7's)."""
    if question.id in (descriptor_items(codebook) if codebook is not None else DESCRIPTOR_ITEMS):
        return "it describes the value personas (a value-dimension item)"
    if question.id in DEMOGRAPHIC_ITEMS:
        return "it describes the demographic personas"
    if question.kind == Kind.NUMERIC or not question.options:
        return "it is numeric (no answer options)"
    if len(question.options) > MAX_OPTIONS:
        return "its options are a country-specific code list"
    return None


def _split(spec: "str | Iterable[str] | None") -> list[str]:
    if spec is None:
        return []
    if isinstance(spec, str):
        return [s.strip() for s in spec.split(",") if s.strip()]
    return [str(s).strip() for s in spec if str(s).strip()]


def resolve_questions(spec: "str | Iterable[str] | None", codebook: Codebook, available: Iterable[str],
                      default: tuple[str, ...] = DEFAULT_TARGETS, what: str = "evaluation target") -> list[str]:
    """Question ids from ids, category names ("Trust", "Mo.&Rel."), "default" or "all".

    Explicitly named items that cannot be used raise ConfigError; items of a category or "all"
    that cannot be used are skipped silently."""
    present = set(available)
    by_cat = {c.lower(): c for c in codebook.category_order}
    out: list[str] = []
    words = _split(spec) or ["default"]
    for word in words:
        low = word.lower()
        if low == "default" and not any(q in codebook for q in default):
            out += _spread(codebook, present, len(default))  # another survey than WVS-7
        elif low == "default":
            out += [q for q in default if q in present]
        elif low == "all" or low in by_cat:
            cat = None if low == "all" else by_cat[low]
            out += [q.id for q in codebook if (cat is None or q.category == cat) and q.id in present
                    and why_not_target(q, codebook) is None and q.id not in codebook.demographic_ids]
        else:
            qid = word.upper() if word[:1] in "qQ" else word
            question = codebook[qid]  # UnknownQuestion names the bad id
            reason = why_not_target(question, codebook)
            if reason:
                raise ConfigError(f"{qid} cannot be a population {what}: {reason}")
            if qid not in present:
                raise ConfigError(f"{qid} is not in the survey file, so it has no real answers to compare with")
            out.append(qid)
    seen: set[str] = set()
    unique = [q for q in out if not (q in seen or seen.add(q))]
    if not unique:
        raise ConfigError(f"no usable {what} questions in {', '.join(words)!r}")
    return unique


def _spread(codebook: Codebook, present: set[str], n: int) -> list[str]:
    """Up to ``n`` usable items of a codebook, taken in turn from each of its categories (the
    default targets of a survey the WVS-7 defaults do not name)."""
    by_cat: dict[str, list[str]] = {}
    for q in codebook:
        if q.id in present and why_not_target(q, codebook) is None and q.id not in codebook.demographic_ids:
            by_cat.setdefault(q.category, []).append(q.id)
    out: list[str] = []
    while len(out) < n and any(by_cat.values()):
        for ids in by_cat.values():
            if ids and len(out) < n:
                out.append(ids.pop(0))
    return out


def resolve_calibration(spec: "str | Iterable[str] | None", targets: list[str], codebook: Codebook,
                        available: Iterable[str]) -> list[str]:
    """Calibration questions, disjoint from the targets (explicit overlap is an error)."""
    available = list(available)
    if spec:
        qs = resolve_questions(spec, codebook, available, DEFAULT_CALIBRATION, "calibration question")
        overlap = sorted(set(qs) & set(targets))
        if overlap:
            raise ConfigError(f"calibration questions must not be evaluated; {', '.join(overlap)} "
                              "is both a target and a calibration question")
        return qs
    qs = [q for q in DEFAULT_CALIBRATION if q in available and q not in targets]
    if not qs:
        qs = [q.id for q in codebook if q.id in available and q.id not in targets
              and why_not_target(q, codebook) is None and q.id not in codebook.demographic_ids][:4]
    return qs
