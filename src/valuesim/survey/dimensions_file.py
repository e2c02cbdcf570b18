"""A codebook file's ``dimensions:`` (what value personas are placed on), read and written.

A dimension is a plain list of items (each as coded: a higher code is a higher position) or a
mapping::

    religiosity:
      items: [rlgdgr, rlgatnd]
      reverse: [rlgatnd]          # items whose higher code means a LOWER position
      low: "not religious"        # what a low / high position means (the persona sentence)
      high: "religious"
      min_items: 1                # answered items needed (default: half of them, rounded up)

Instead of ``items``, a dimension may be built from ``components``, each scored from one or
more items (an index), for surveys whose dimensions are defined that way (the built-in WVS-7
codebook's Inglehart-Welzel dimensions are)::

    traditional_secular:
      min_items: 3                # components needed
      components:
        god_unimportant: {items: [Q164], reverse: true}
        autonomy: {items: [Q8, Q14, Q15, Q17], weights: [1, 1, -1, -1], codes: [1]}
        low_national_pride: {items: [Q254], range: [1, 4]}
      sentences: ["...lowest fifth...", "...", "...", "...", "...highest fifth..."]
      related: [Q152, Q153]       # items of the same battery: never population targets

A component's value is the sum of its items' values times ``weights`` (default 1 each) plus
``base``; an item's value is its code, flipped within its range with ``reverse``, or 1/0 for
whether the answer is one of ``codes``; ``range`` narrows the codes that count (others are
missing). ``sentences`` (five, level 1 = lowest fifth .. 5 = highest) replace the generic
persona sentence. Plain items must be ordinal, binary or numeric; a nominal item may be a
component's item with ``codes`` or a ``range``.
"""

from __future__ import annotations

from typing import Any

from .model import Component, Dimension, Kind, Question

DIMENSION_KEYS = ("items", "reverse", "low", "high", "min_items", "components", "sentences", "related")
COMPONENT_KEYS = ("items", "weights", "codes", "reverse", "range", "base")
LEVELS = 5


def parse_dimension(spec, questions: dict[str, Question], fail, ids, whole) -> Dimension:
    """One entry of ``dimensions`` (see above). ``ids(value, fail)`` reads a list of known item
    ids, ``whole(value)`` says whether a value is a whole number; ``fail(message)`` builds the
    one-line error naming the dimension."""
    if isinstance(spec, (list, tuple)):
        spec = {"items": spec}
    if not isinstance(spec, dict):
        raise fail(f"must be a list of item ids or a mapping with {', '.join(DIMENSION_KEYS)}")
    unknown = sorted(set(map(str, spec)) - set(DIMENSION_KEYS))
    if unknown:
        raise fail(f"key {unknown[0]!r} is not a dimension key (known: {', '.join(DIMENSION_KEYS)})")
    components = _components(spec.get("components"), questions, fail, ids, whole)
    items = ids(spec.get("items") or [], fail)
    if components and items:
        raise fail("give either 'items' or 'components', not both")
    if not items and not components:
        raise fail("needs at least one item ('items')")
    for qid in items:
        if items.count(qid) > 1:
            raise fail(f"item {qid!r} appears twice")
        if questions[qid].kind == Kind.NOMINAL:
            raise fail(f"item {qid!r} is nominal: its codes name categories, not positions on a scale "
                       "(use ordinal, binary or numeric items)")
    reverse = spec.get("reverse") or []
    if not isinstance(reverse, (list, tuple)):
        raise fail("'reverse' must be a list of item ids")
    stray = [str(q) for q in reverse if str(q) not in items]
    if stray:
        raise fail(f"reverse item {stray[0]!r} is not one of its items ({', '.join(items)})")
    words = {}
    for key in ("low", "high"):
        if not isinstance(spec.get(key) or "", str):
            raise fail(f"'{key}' must be text (what a {key} position means)")
        words[key] = " ".join(str(spec.get(key) or "").split())
    parts = len(components or items)
    min_items = spec.get("min_items", 0)
    if "min_items" in spec and not (whole(min_items) and 1 <= int(float(str(min_items))) <= parts):
        raise fail(f"'min_items' must be a whole number from 1 to {parts} (its {'component' if components else 'item'} "
                   f"count), got {min_items!r}")
    sentences = spec.get("sentences") or []
    if not (isinstance(sentences, (list, tuple)) and len(sentences) in (0, LEVELS)
            and all(isinstance(t, str) and t.strip() for t in sentences)):
        raise fail(f"'sentences' must be {LEVELS} texts, one per level (1 = lowest fifth .. {LEVELS} = highest)")
    related = ids(spec.get("related") or [], fail)
    all_items = tuple(dict.fromkeys(i for c in components for i in c.items)) if components else items
    return Dimension(all_items, tuple(str(q) for q in reverse), words["low"], words["high"],
                     int(float(str(min_items))), components, tuple(t.strip() for t in sentences), related)


def _components(raw, questions: dict[str, Question], fail, ids, whole) -> tuple[Component, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise fail("'components' must map a component name to {items: [...], ...}")
    out = []
    for name, spec in raw.items():
        def bad(message: str, n=name):
            return fail(f"component {n!r}: {message}")

        if not isinstance(spec, dict):
            raise bad(f"must be a mapping with {', '.join(COMPONENT_KEYS)}")
        unknown = sorted(set(map(str, spec)) - set(COMPONENT_KEYS))
        if unknown:
            raise bad(f"key {unknown[0]!r} is not a component key (known: {', '.join(COMPONENT_KEYS)})")
        items = ids(spec.get("items") or [], bad)
        if not items:
            raise bad("needs at least one item ('items')")
        weights = spec.get("weights") or []
        if not isinstance(weights, (list, tuple)) or (weights and len(weights) != len(items)) or not all(
                isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights):
            raise bad(f"'weights' must be {len(items)} numbers, one per item")
        codes = spec.get("codes") or []
        if not isinstance(codes, (list, tuple)) or not all(whole(c) for c in codes):
            raise bad("'codes' must be a list of whole-number answer codes")
        valid = _range(spec.get("range"), items, questions, bad, whole)
        nominal = [q for q in items if questions[q].kind == Kind.NOMINAL]
        if nominal and not (codes or "range" in spec):
            raise bad(f"item {nominal[0]!r} is nominal: say which codes count ('codes') or which are a scale ('range')")
        base = spec.get("base", 0)
        if isinstance(base, bool) or not isinstance(base, (int, float)):
            raise bad("'base' must be a number")
        if not isinstance(spec.get("reverse", False), bool):
            raise bad("'reverse' must be true or false")
        out.append(Component(str(name), items, valid, tuple(float(w) for w in weights),
                             tuple(int(float(str(c))) for c in codes), bool(spec.get("reverse", False)), float(base)))
    return tuple(out)


def _range(raw, items: tuple[str, ...], questions: dict[str, Question], bad, whole) -> tuple[tuple[int, int], ...]:
    if raw is None:
        return tuple(item_range(questions[q]) for q in items)
    if not (isinstance(raw, (list, tuple)) and len(raw) == 2 and all(whole(v) for v in raw)
            and int(float(str(raw[0]))) < int(float(str(raw[1])))):
        raise bad(f"'range' must be [low, high] whole numbers with low < high, got {raw!r}")
    return tuple((int(float(str(raw[0]))), int(float(str(raw[1])))) for _ in items)


def item_range(question: Question) -> tuple[int, int]:
    """The codes of an item that are positions: its valid range, else its lowest and highest code."""
    return question.valid_range or (min(question.codes), max(question.codes))


def dimension_dict(d: Dimension, questions: dict[str, Question]) -> Any:
    """A dimension in the file format (a plain list when it is nothing but its items)."""
    if d.plain:
        return list(d.items)
    out: dict[str, Any] = {} if d.components else {"items": list(d.items)}
    if d.reverse:
        out["reverse"] = list(d.reverse)
    out.update({k: v for k, v in (("low", d.low), ("high", d.high), ("min_items", d.min_items)) if v})
    if d.components:
        out["components"] = {c.name: _component_dict(c, questions) for c in d.components}
    if d.sentences:
        out["sentences"] = list(d.sentences)
    if d.related:
        out["related"] = list(d.related)
    return out


def _component_dict(c: Component, questions: dict[str, Question]) -> dict:
    out: dict[str, Any] = {"items": list(c.items)}
    if c.weights and any(w != 1 for w in c.weights):
        out["weights"] = [int(w) if float(w).is_integer() else w for w in c.weights]
    if c.codes:
        out["codes"] = list(c.codes)
    if c.reverse:
        out["reverse"] = True
    own = [item_range(questions[q]) if q in questions else None for q in c.items]
    if list(c.valid) != own:
        out["range"] = list(c.valid[0])
    if c.base:
        out["base"] = int(c.base) if float(c.base).is_integer() else c.base
    return out
