"""A value dimension a codebook places people on, and its scored components (see
``survey/dimensions_file.py`` for how a codebook file writes them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    """One scored part of a value dimension, built from items' answers: the sum of each item's
    value times its weight (1 each by default), plus ``base``. An item's value is its code, or
    ``low + high - code`` when ``reverse``, or 1/0 for whether the answer is one of ``codes``;
    ``valid`` gives each item's (low, high) codes, answers outside them count as missing, and a
    person who misses any of the items has no value for the component. Example (WVS-7): the
    autonomy index "independence and determination mentioned, minus obedience and religious
    faith mentioned" is items (Q8, Q14, Q15, Q17), weights (1, 1, -1, -1), codes (1,)."""

    name: str
    items: tuple[str, ...]
    valid: tuple[tuple[int, int], ...]
    weights: tuple[float, ...] = ()
    codes: tuple[int, ...] = ()
    reverse: bool = False
    base: float = 0.0

    def __post_init__(self) -> None:
        if len(self.valid) != len(self.items) or (self.weights and len(self.weights) != len(self.items)):
            raise ValueError(f"component {self.name}: one valid range (and weight) per item")

    @property
    def single(self) -> bool:
        """One item counted as coded or reversed: what a plain dimension item is."""
        return len(self.items) == 1 and not self.codes and not self.base and self.weights in ((), (1,), (1.0,))


@dataclass(frozen=True)
class Dimension:
    """A value dimension a codebook places people on (its ``dimensions:``): the items, each as
    coded (a higher code = a higher position) unless listed in ``reverse``, or ``components``
    built from several items each (indices; then ``items`` are all their items); what a low and a
    high position mean, in words for the persona sentence ("" = none), or one ``sentences`` per
    level (1 = lowest fifth .. 5 = highest) when the survey words them itself; how many of its
    items (or components) a person must have answered to be placed (0: about half, at least
    one); and ``related`` items that belong with it (the rest of a battery), which are never
    population targets either."""

    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()
    low: str = ""
    high: str = ""
    min_items: int = 0
    components: tuple[Component, ...] = ()
    sentences: tuple[str, ...] = ()
    related: tuple[str, ...] = ()

    @property
    def needed(self) -> int:
        """Answered items (components) a person needs: ``min_items``, else half, rounded up."""
        return self.min_items or max(1, (len(self.components or self.items) + 1) // 2)

    @property
    def plain(self) -> bool:
        """Nothing but its items (a codebook file writes it as a plain list)."""
        return not (self.reverse or self.low or self.high or self.min_items or self.components
                    or self.sentences or self.related)

    @property
    def describes(self) -> tuple[str, ...]:
        """Every item that places people on it or belongs with it (never a population target)."""
        return tuple(dict.fromkeys(self.items + tuple(i for c in self.components for i in c.items) + self.related))
