"""Which questions a population run evaluates, and which ones it calibrates on.

An evaluation target can be any codebook item with answer options except:
* descriptor items (they describe value personas: ``dimensions.descriptor_items``, the items of
  the codebook's ``dimensions`` and their related items),
* the demographic persona's items (the codebook's demographic items and those with a role),
* numeric items and items with a country-specific code list (party, country of birth,
  language, ethnic group: more than ``MAX_OPTIONS`` options).

The default target set is the codebook's ``targets`` (the built-in WVS-7 codebook names ten
diverse items, one or two per value category); a codebook that names none gets up to ten usable
items taken in turn from each of its categories. Calibration questions fit the calibration
temperature and are never evaluated; default: the codebook's ``calibration`` items (minus any
that are targets), else up to four other usable items.
"""

from __future__ import annotations

from typing import Iterable

from ..errors import ConfigError
from ..survey.model import Codebook, Kind, Question
from .dimensions import descriptor_items

DEFAULT_COUNT, CALIBRATION_COUNT = 10, 4  # default targets / calibration items of a codebook that names none
MAX_OPTIONS = 20


def why_not_target(question: Question, codebook: Codebook) -> str | None:
    """The reason an item cannot be a population target of a survey with ``codebook``, or None
    when it can."""
    if question.id in descriptor_items(codebook):
        return "it describes the value personas (a value-dimension item)"
    if question.id in codebook.demographic_items:
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
                      default: tuple[str, ...] | None = None, what: str = "evaluation target") -> list[str]:
    """Question ids from ids, category names ("Trust", "Mo.&Rel."), "default" (``default``, else
    the codebook's ``targets``) or "all".

    Explicitly named items that cannot be used raise ConfigError; items of a category or "all"
    that cannot be used are skipped silently."""
    present = set(available)
    default = codebook.targets if default is None else default
    by_cat = {c.lower(): c for c in codebook.category_order}
    out: list[str] = []
    words = _split(spec) or ["default"]
    for word in words:
        low = word.lower()
        if low == "default" and not any(q in codebook for q in default):
            count = len(default) or (CALIBRATION_COUNT if what.startswith("calibration") else DEFAULT_COUNT)
            out += _spread(codebook, present, count)  # the codebook names no defaults
        elif low == "default":
            out += [q for q in default if q in present]
        elif low == "all" or low in by_cat:
            cat = None if low == "all" else by_cat[low]
            out += [q.id for q in codebook if (cat is None or q.category == cat) and q.id in present
                    and why_not_target(q, codebook) is None]
        else:
            qid = word if word in codebook else next((i for i in codebook.ids if i.lower() == low), word)  # q1 = Q1
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
    default targets of a codebook that names none)."""
    by_cat: dict[str, list[str]] = {}
    for q in codebook:
        if q.id in present and why_not_target(q, codebook) is None:
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
        qs = resolve_questions(spec, codebook, available, codebook.calibration, "calibration question")
        overlap = sorted(set(qs) & set(targets))
        if overlap:
            raise ConfigError(f"calibration questions must not be evaluated; {', '.join(overlap)} "
                              "is both a target and a calibration question")
        return qs
    qs = [q for q in codebook.calibration if q in available and q not in targets]
    if not qs:
        qs = [q.id for q in codebook if q.id in available and q.id not in targets
              and why_not_target(q, codebook) is None][:CALIBRATION_COUNT]
    return qs
