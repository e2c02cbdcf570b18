"""Where each respondent stands on core cultural value dimensions.

The dimensions are a codebook's own ``dimensions:`` when it names some (any survey, see
``survey/codebook_file.py``), else WVS-7's built-in ones. A codebook dimension has one component
per item: the item's valid codes (the survey's missing codes excluded), as coded, or flipped
within the item's valid range (low + high - code) for a ``reverse`` item; a person needs
``Dimension.needed`` of them (``min_items``, default half the items rounded up). Its descriptor
items are its items. The built-in WVS-7 dimensions, used when the codebook names none, are two
Inglehart-Welzel dimensions from the standard ten items, plus the left-right self-placement:

Traditional (low) vs secular-rational (high) values
    * Q164 importance of God (1 not at all .. 10 very important)          -> 11 - code
    * autonomy index from the child qualities Q8 independence, Q14 determination, Q15 religious
      faith, Q17 obedience (1 = mentioned, 2 = not mentioned):
      (Q8 + Q14 mentioned) - (Q15 + Q17 mentioned), range -2..2; needs all four items
    * Q184 abortion justifiable (1 never .. 10 always)                    -> code
    * Q254 national pride (1 very .. 4 not at all proud; 5 "I am not [nationality]" = missing)
                                                                           -> code
Survival (low) vs self-expression (high) values
    * post-materialism, the standard 4-item index (WVS Y002) from the respondent's aims Q154 (first
      choice) and Q155 (second choice): materialist aims are 1 "maintaining order" and 3 "fighting
      rising prices", post-materialist ones 2 "more say" and 4 "freedom of speech";
      1 = both materialist, 3 = both post-materialist, 2 = mixed; needs both items
    * Q182 homosexuality justifiable (1 never .. 10 always)               -> code
    * Q209 signing a petition (1 have done, 2 might do, 3 would never do)  -> 4 - code
    * Q57 most people can be trusted (1 trusted, 2 need to be careful)    -> 1 if trusted else 0
    * Q46 feeling of happiness (1 very happy .. 4 not at all happy)        -> 5 - code
Left (low) vs right (high) political self-placement
    * Q240 left-right scale (1 left .. 10 right)                          -> code

Scaling. WVS computes the two dimensions as factor scores; valuesim uses a documented equal-weight
approximation: each oriented component is turned into a z-score with the weighted (W_WEIGHT) mean
and standard deviation of the reference population (by default every respondent of the survey,
all countries pooled, so positions are comparable across countries), and a dimension is the
average of the available component z-scores (a component nobody in the reference varies on
counts as 0, the mean). A dimension needs at least ``MIN_COMPONENTS`` of its
components (3 of 5 for the Inglehart-Welzel dimensions, 1 of 1 for left-right); otherwise it is
missing for that person and the descriptor says nothing about it. WVS missing codes (negative)
and code 5 of Q254 count as missing. Codebook dimensions are scaled the same way, by the
same scaler.

All the items above (and Q152, Q153 from the same post-materialism battery) are *descriptor
items*: they describe personas and are never evaluation targets (``DESCRIPTOR_ITEMS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from ..survey.model import Codebook, Question
from ..survey.survey import WEIGHT, Survey


@dataclass(frozen=True)
class Component:
    name: str
    items: tuple[str, ...]
    # Maps the item columns (float, NaN = missing) to the oriented score (NaN = missing).
    score: Callable[[pd.DataFrame], pd.Series]
    doc: str


def _item(qid: str, fn: Callable[[pd.Series], pd.Series], valid: tuple[int, int]) -> Callable[[pd.DataFrame], pd.Series]:
    lo, hi = valid

    def score(df: pd.DataFrame) -> pd.Series:
        x = df[qid].where((df[qid] >= lo) & (df[qid] <= hi))
        return fn(x)

    return score


def _autonomy(df: pd.DataFrame) -> pd.Series:
    cols = ["Q8", "Q14", "Q15", "Q17"]
    ok = df[cols].isin([1, 2]).all(axis=1)
    mentioned = (df[cols] == 1).astype("float64")
    value = mentioned["Q8"] + mentioned["Q14"] - mentioned["Q15"] - mentioned["Q17"]
    return value.where(ok)


def _postmaterialism(df: pd.DataFrame) -> pd.Series:
    first, second = df["Q154"], df["Q155"]
    ok = first.isin([1, 2, 3, 4]) & second.isin([1, 2, 3, 4])
    post = first.isin([2, 4]).astype("float64") + second.isin([2, 4]).astype("float64")
    value = pd.Series(2.0, index=df.index)
    value[post == 0] = 1.0
    value[post == 2] = 3.0
    return value.where(ok)


COMPONENTS: dict[str, tuple[Component, ...]] = {
    "traditional_secular": (
        Component("god_unimportant", ("Q164",), _item("Q164", lambda x: 11 - x, (1, 10)), "11 - Q164"),
        Component("autonomy", ("Q8", "Q14", "Q15", "Q17"), _autonomy, "(Q8+Q14 mentioned) - (Q15+Q17 mentioned)"),
        Component("abortion_justifiable", ("Q184",), _item("Q184", lambda x: x, (1, 10)), "Q184"),
        Component("low_national_pride", ("Q254",), _item("Q254", lambda x: x, (1, 4)), "Q254 (5 = missing)"),
    ),
    "survival_selfexpression": (
        Component("postmaterialism", ("Q154", "Q155"), _postmaterialism, "4-item index (Y002) from Q154/Q155"),
        Component("homosexuality_justifiable", ("Q182",), _item("Q182", lambda x: x, (1, 10)), "Q182"),
        Component("petition", ("Q209",), _item("Q209", lambda x: 4 - x, (1, 3)), "4 - Q209"),
        Component("trust", ("Q57",), _item("Q57", lambda x: (x == 1).astype("float64").where(x.notna()), (1, 2)),
                  "1 if Q57 = 1 else 0"),
        Component("happiness", ("Q46",), _item("Q46", lambda x: 5 - x, (1, 4)), "5 - Q46"),
    ),
    "left_right": (
        Component("left_right", ("Q240",), _item("Q240", lambda x: x, (1, 10)), "Q240"),
    ),
}

DIMENSIONS = tuple(COMPONENTS)
MIN_COMPONENTS = {"traditional_secular": 3, "survival_selfexpression": 3, "left_right": 1}

# Items that describe personas (never evaluation targets). Q152/Q153 belong to the same
# post-materialism battery as Q154/Q155, so they are reserved too.
DESCRIPTOR_ITEMS = frozenset(
    {i for comps in COMPONENTS.values() for c in comps for i in c.items} | {"Q152", "Q153"}
)


Components = Mapping[str, tuple[Component, ...]]


def dimension_components(codebook: Codebook) -> tuple[Components, dict[str, int]]:
    """The components of the dimensions a survey's personas are placed on, and how many of each
    dimension's components a person needs: the codebook's ``dimensions`` when it names some,
    else WVS-7's built-in ones."""
    if not codebook.dimensions:
        return COMPONENTS, MIN_COMPONENTS
    components = {}
    for name, dim in codebook.dimensions.items():
        comps = tuple(_oriented(codebook[q], q in dim.reverse) for q in dim.items if q in codebook)
        if comps:  # a codebook cut to some questions keeps the dimensions it can still place
            components[name] = comps
    return components, {name: codebook.dimensions[name].needed for name in components}


def _oriented(question: Question, reverse: bool) -> Component:
    """One codebook item as a component: its valid codes, flipped within its range if reversed."""
    lo, hi = question.valid_range or (min(question.codes), max(question.codes))
    if reverse:
        return Component(f"{question.id} reversed", (question.id,), _item(question.id, lambda x: lo + hi - x, (lo, hi)),
                         f"{lo + hi} - {question.id}")
    return Component(question.id, (question.id,), _item(question.id, lambda x: x, (lo, hi)), question.id)


def descriptor_items(codebook: Codebook) -> frozenset[str]:
    """The items that describe a survey's value personas (never evaluation targets)."""
    if not codebook.dimensions:
        return DESCRIPTOR_ITEMS
    return frozenset(q for dim in codebook.dimensions.values() for q in dim.items)


def _weighted_mean_sd(x: pd.Series, w: pd.Series) -> tuple[float, float]:
    ok = x.notna() & w.notna() & (w > 0)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    xv, wv = x[ok].to_numpy(float), w[ok].to_numpy(float)
    m = float(np.average(xv, weights=wv))
    sd = float(np.sqrt(np.average((xv - m) ** 2, weights=wv)))
    return m, sd


@dataclass
class DimensionScaler:
    """The component means/SDs and dimension quantile cut points of a reference population, for
    the dimensions of its components (by default WVS-7's built-in ones)."""

    stats: dict[str, tuple[float, float]]  # component name -> (mean, sd)
    cuts: dict[str, list[float]]  # dimension -> ascending cut points (len = levels - 1)
    dimensions: tuple[str, ...] = DIMENSIONS
    components: Components = field(default_factory=lambda: COMPONENTS)
    minimum: Mapping[str, int] = field(default_factory=lambda: MIN_COMPONENTS)

    @classmethod
    def fit(cls, survey: Survey, levels: int = 5, dimensions: tuple[str, ...] | None = None) -> "DimensionScaler":
        """Fit on every respondent of ``survey`` (pooled across countries, W_WEIGHT-weighted), for
        its codebook's dimensions (``dimension_components``), or the named ones of them."""
        components, minimum = dimension_components(survey.codebook)
        dimensions = tuple(components) if dimensions is None else tuple(dimensions)
        raw = component_scores(survey, dimensions, components)
        w = survey.data[WEIGHT].astype("float64")
        stats = {name: _weighted_mean_sd(raw[name], w) for name in raw.columns}
        scaler = cls(stats, {}, dimensions, components, minimum)
        scores = scaler.transform_components(raw)
        for dim in dimensions:
            scaler.cuts[dim] = weighted_quantiles(scores[dim], w, [k / levels for k in range(1, levels)])
        return scaler

    def transform_components(self, raw: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for dim in self.dimensions:
            comps = self.components[dim]
            z = []
            for c in comps:
                m, sd = self.stats.get(c.name, (float("nan"), float("nan")))
                if not np.isfinite(m):
                    z.append(pd.Series(np.nan, index=raw.index))  # nobody answered it
                elif not np.isfinite(sd) or sd <= 0:
                    z.append((raw[c.name] - m) * 0.0)  # no variation: everyone who answered is at the mean
                else:
                    z.append((raw[c.name] - m) / sd)
            zf = pd.concat(z, axis=1)
            need = min(self.minimum.get(dim, 1), len(comps))
            out[dim] = zf.mean(axis=1).where(zf.notna().sum(axis=1) >= need)
        return pd.DataFrame(out, index=raw.index)

    def scores(self, survey: Survey) -> pd.DataFrame:
        """One row per respondent, one column per dimension (NaN = not enough answers)."""
        return self.transform_components(component_scores(survey, self.dimensions, self.components))

    def level(self, dim: str, score: float) -> int | None:
        """1 (lowest quantile band) .. levels (highest); None for a missing score."""
        cuts = self.cuts.get(dim, [])
        if score is None or not np.isfinite(score) or not np.all(np.isfinite(cuts)):
            return None
        return 1 + int(np.searchsorted(self.cuts[dim], score, side="right"))

    @property
    def levels(self) -> int:
        return 1 + len(next(iter(self.cuts.values()))) if self.cuts else 0

    def as_dict(self) -> dict:
        return {"stats": {k: list(v) for k, v in self.stats.items()}, "cuts": self.cuts,
                "dimensions": list(self.dimensions)}


def component_scores(survey: Survey, dimensions: tuple[str, ...] | None = None,
                     components: Components | None = None) -> pd.DataFrame:
    """Oriented raw component values (before z-scoring); items absent from the file give NaN.
    ``components``: by default those of the survey's codebook (``dimension_components``)."""
    if components is None:
        components = dimension_components(survey.codebook)[0]
    dimensions = tuple(components) if dimensions is None else dimensions
    needed = sorted({i for d in dimensions for c in components[d] for i in c.items})
    present = [q for q in needed if q in survey.data.columns]
    df = survey.valid(present) if present else pd.DataFrame(index=survey.data.index)
    for q in needed:
        if q not in df.columns:
            df[q] = np.nan
    return pd.DataFrame({c.name: c.score(df).astype("float64") for d in dimensions for c in components[d]},
                        index=survey.data.index)


def weighted_quantiles(x: pd.Series, w: pd.Series, qs: list[float]) -> list[float]:
    ok = x.notna() & w.notna() & (w > 0)
    if not ok.any():
        return [float("nan")] * len(qs)
    xv, wv = x[ok].to_numpy(float), w[ok].to_numpy(float)
    order = np.argsort(xv, kind="mergesort")
    xv, wv = xv[order], wv[order]
    cum = (np.cumsum(wv) - 0.5 * wv) / wv.sum()
    return [float(np.interp(q, cum, xv)) for q in qs]


def respondent_levels(scaler: DimensionScaler, scores: Mapping[str, float]) -> dict[str, int | None]:
    return {d: scaler.level(d, scores.get(d, float("nan"))) for d in scaler.dimensions}
