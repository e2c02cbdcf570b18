"""Where each respondent stands on a survey's core cultural value dimensions.

The dimensions are the codebook's ``dimensions:`` (``survey/dimensions_file.py``; the built-in
WVS-7 codebook declares two Inglehart-Welzel dimensions and the left-right scale); a codebook
that names none cannot place value personas. A dimension is made of components: one per item
of a plain dimension (its valid codes, as coded, or flipped within the item's valid range, low
+ high - code, for a ``reverse`` item), or the ``components`` it declares (an index of several
items, see ``survey.model.Component``). A person needs ``Dimension.needed`` of its components
(``min_items``, default half, rounded up) to be placed.

Scaling: an equal-weight approximation of factor scores. Each component is turned into a
z-score with the weighted (W_WEIGHT) mean and standard deviation of the reference population
(by default every respondent of the survey, all countries pooled, so positions are comparable
across countries), and a dimension is the average of the available component z-scores (a
component nobody in the reference varies on counts as 0, the mean). Missing codes, and codes
outside a component's range, count as missing.

Every item of a dimension (and its ``related`` items) is a *descriptor item*: it describes
personas and is never an evaluation target (``descriptor_items``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from ..survey.dimensions_file import item_range
from ..survey.model import Codebook, Component, Question
from ..survey.survey import WEIGHT, Survey

Components = Mapping[str, tuple[Component, ...]]


def dimension_components(codebook: Codebook) -> tuple[Components, dict[str, int]]:
    """The components of the dimensions a survey's personas are placed on (its codebook's
    ``dimensions``), and how many of each dimension's components a person needs."""
    components = {}
    for name, dim in codebook.dimensions.items():
        if dim.components:  # declared indices: scored from the file's columns, present or not
            components[name] = dim.components
            continue
        comps = tuple(_oriented(codebook[q], q in dim.reverse) for q in dim.items if q in codebook)
        if comps:  # a codebook cut to some questions keeps the dimensions it can still place
            components[name] = comps
    return components, {name: codebook.dimensions[name].needed for name in components}


def _oriented(question: Question, reverse: bool) -> Component:
    """One codebook item as a component: its valid codes, flipped within its range if reversed."""
    return Component(f"{question.id} reversed" if reverse else question.id, (question.id,),
                     (item_range(question),), reverse=reverse)


def component_values(component: Component, df: pd.DataFrame) -> pd.Series:
    """A component's value per row of ``df`` (float item columns, NaN = missing; NaN out)."""
    total = None
    for n, qid in enumerate(component.items):
        lo, hi = component.valid[n]
        x = df[qid].where((df[qid] >= lo) & (df[qid] <= hi))
        if component.codes:
            value = x.isin(component.codes).astype("float64").where(x.notna())
        elif component.reverse:
            value = (lo + hi) - x
        else:
            value = x
        weight = component.weights[n] if component.weights else 1.0
        if weight != 1.0:
            value = weight * value
        total = value if total is None else total + value
    return total if not component.base else component.base + total


def descriptor_items(codebook: Codebook) -> frozenset[str]:
    """The items that describe a survey's value personas (never evaluation targets)."""
    return frozenset(q for dim in codebook.dimensions.values() for q in dim.describes)


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
    the dimensions of its components (a codebook's, see ``dimension_components``)."""

    stats: dict[str, tuple[float, float]]  # component name -> (mean, sd)
    cuts: dict[str, list[float]]  # dimension -> ascending cut points (len = levels - 1)
    dimensions: tuple[str, ...] = ()
    components: Components = field(default_factory=dict)
    minimum: Mapping[str, int] = field(default_factory=dict)

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
    return pd.DataFrame({c.name: component_values(c, df).astype("float64") for d in dimensions for c in components[d]},
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
