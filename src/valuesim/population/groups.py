"""Countries grouped by how far the model's prior is from them, and each method's error per group.

seeds/001 claims calibrated value personas help most where the LLM's prior is far from the
population, narrowing the gap between "aligned" and "far" countries. To test that, every
evaluated country gets a *prior distance*: the mean Jensen-Shannon distance, over the target
questions, between the ``no-persona`` aggregate (the model told only the country) and the
country's real answers. Runs without ``no-persona`` use the other countries' pooled marginal
instead (what a country "looks like" from elsewhere) and say so in the ``basis`` column.

The distance is taken against the *persona-source half*, not the evaluation half, so the
grouping does not select on the evaluation noise the methods are then scored on (grouping by a
method's own evaluated error would make its gap large by construction). Countries sorted by
that distance are cut into up to three groups of (nearly) equal size: aligned, middle, far.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..survey.survey import Survey
from .aggregate import average_distributions
from .metrics import js_distance, normalise
from .personas import NO_PERSONA
from .protocol import pooled_marginal
from .sampling import RealAnswers

GROUP_LABELS = {1: ["all"], 2: ["aligned", "far"], 3: ["aligned", "middle", "far"]}
LLM_BASIS = "no-persona (LLM prior)"
POOLED_BASIS = "other countries' pooled marginal (no no-persona run: not the LLM prior)"


def prior_distances(survey: Survey, preds: pd.DataFrame, source_ids: dict[str, list[str]], countries: list[str],
                    targets: list[str], use_llm: bool) -> pd.DataFrame:
    """Per country: mean JS distance of the basis distribution from the persona-source half's
    real answers, over the targets where both exist."""
    cb = survey.codebook
    ok = preds[(preds.method == NO_PERSONA) & (preds.failed == 0)] if use_llm else preds.iloc[0:0]
    by_key = {key: g for key, g in ok.groupby(["country", "question_id"], sort=False)}
    rows = []
    for c in countries:
        real = RealAnswers(survey, source_ids[c])
        dists = []
        for q in targets:
            codes = cb[q].codes
            if use_llm:
                g = by_key.get((c, q))
                vec = average_distributions(g.distribution.tolist(), codes) if g is not None else None
            else:
                vec = pooled_marginal(survey, c, q, codes)[0]
            counts, n = real.distribution(q, codes)
            if vec is not None and n and counts.sum() > 0:
                dists.append(js_distance(vec, normalise(counts)))
        rows.append({"country": c, "basis": LLM_BASIS if use_llm else POOLED_BASIS,
                     "prior_distance": float(np.mean(dists)) if dists else np.nan, "questions": len(dists)})
    return pd.DataFrame(rows, columns=["country", "basis", "prior_distance", "questions"])


def assign_groups(distances: pd.DataFrame, max_groups: int = 3) -> pd.DataFrame:
    """Adds ``group`` (1 = closest) and ``group_label``; countries without a distance get none."""
    d = distances.copy()
    d["group"], d["group_label"] = pd.NA, ""
    known = d.dropna(subset=["prior_distance"]).sort_values(["prior_distance", "country"])
    k = min(max_groups, len(known))
    if k == 0:
        return d
    for g, chunk in enumerate(np.array_split(known.index.to_numpy(), k), start=1):
        d.loc[chunk, "group"] = g
        d.loc[chunk, "group_label"] = GROUP_LABELS[k][g - 1]
    return d


def group_summary(country_summary: pd.DataFrame, groups: pd.DataFrame, floor: pd.DataFrame) -> pd.DataFrame:
    """Per (method, calibrated, group): mean over the group's countries of each country's mean
    JS distance and 1 - nW1, beside the noise floor of the same countries. Rows with group
    ``gap`` hold far minus aligned (JS; aligned minus far for 1 - nW1: positive = the far group
    is worse) and ``worst-best`` the unsigned spread between the best and worst group."""
    cols = ["method", "calibrated", "group", "group_label", "countries", "js_distance", "wasserstein_score",
            "floor_js_distance", "floor_wasserstein_score"]
    g = groups.dropna(subset=["group"])
    if country_summary.empty or g.empty:
        return pd.DataFrame(columns=cols)
    cs = country_summary.merge(g[["country", "group", "group_label"]], on="country")
    fl = floor.merge(g[["country", "group"]], on="country") if not floor.empty else pd.DataFrame()
    rows = []
    for (m, cal), sub in cs.groupby(["method", "calibrated"], sort=False):
        per = []
        for (grp, label), h in sub.groupby(["group", "group_label"], sort=True):
            f = fl[fl.group == grp] if not fl.empty else fl
            per.append({"method": m, "calibrated": cal, "group": str(int(grp)), "group_label": label,
                        "countries": ",".join(map(str, h.country)), "js_distance": h.js_distance.mean(),
                        "wasserstein_score": h.wasserstein_score.mean(),
                        "floor_js_distance": f.js_distance.mean() if len(f) else np.nan,
                        "floor_wasserstein_score": f.wasserstein_score.mean() if len(f) else np.nan})
        rows += per
        if len(per) >= 2:
            first, last = per[0], per[-1]
            js = [p["js_distance"] for p in per if not pd.isna(p["js_distance"])]
            ws = [p["wasserstein_score"] for p in per if not pd.isna(p["wasserstein_score"])]
            rows.append({"method": m, "calibrated": cal, "group": "gap", "group_label": "far minus aligned",
                         "countries": "", "js_distance": last["js_distance"] - first["js_distance"],
                         "wasserstein_score": first["wasserstein_score"] - last["wasserstein_score"],
                         "floor_js_distance": last["floor_js_distance"] - first["floor_js_distance"],
                         "floor_wasserstein_score": first["floor_wasserstein_score"] - last["floor_wasserstein_score"]})
            rows.append({"method": m, "calibrated": cal, "group": "worst-best", "group_label": "worst minus best group",
                         "countries": "", "js_distance": (max(js) - min(js)) if js else np.nan,
                         "wasserstein_score": (max(ws) - min(ws)) if ws else np.nan,
                         "floor_js_distance": np.nan, "floor_wasserstein_score": np.nan})
    return pd.DataFrame(rows, columns=cols)
