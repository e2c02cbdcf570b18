"""The value-twin's inputs: every respondent's level on the value dimensions.

The twin itself (``methods/twin.py``, registered as ``value-twin``) is a statistical method the
population study runs and stores like any other; this module turns the scaler's scores into
the levels it is built with, persona rows as the personas were described.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..methods.registry import get_method
from ..methods.twin import ValueTwin
from ..survey.survey import COUNTRY, Survey
from .dimensions import DimensionScaler
from .personas import Persona


def respondent_levels(scaler: DimensionScaler, scores: pd.DataFrame) -> pd.DataFrame:
    """Every respondent's level per dimension (NaN where the dimension is missing)."""
    out = {}
    for dim in scaler.dimensions:
        s = scores[dim].to_numpy(dtype="float64")
        lv = 1.0 + np.searchsorted(np.asarray(scaler.cuts[dim], dtype="float64"), s, side="right")
        out[dim] = np.where(np.isfinite(s), lv, np.nan)
    return pd.DataFrame(out, index=scores.index.astype(str))


def twin_levels(scaler: DimensionScaler, scores: pd.DataFrame, people: dict[str, list[Persona]]) -> pd.DataFrame:
    """The levels the twin is built with: the respondents', and each persona's as described."""
    levels = respondent_levels(scaler, scores)
    for personas in people.values():
        for p in personas:
            levels.loc[str(p.respondent_id)] = [np.nan if p.levels.get(d) is None else float(p.levels[d])
                                                for d in scaler.dimensions]
    return levels


def twin_method(scaler: DimensionScaler, scores: pd.DataFrame, people: dict[str, list[Persona]]) -> ValueTwin:
    return get_method("value-twin", levels=twin_levels(scaler, scores, people), n_levels=scaler.levels)


def twin_fits(survey: Survey, people: dict[str, list[Persona]]):
    """[(the respondents of every other country, the respondent ids of one country's personas)]:
    one fit per evaluated country, on the unmasked survey (the country itself is not in it)."""
    countries = survey.data[COUNTRY].astype(str)
    for country, personas in people.items():
        if personas:
            yield (survey.subset(survey.data.index[(countries != str(country)).to_numpy()]),
                   {str(p.respondent_id) for p in personas})


def twin_predictions(survey: Survey, scaler: DimensionScaler, scores: pd.DataFrame,
                     people: dict[str, list[Persona]], questions: list[str]) -> pd.DataFrame:
    """The twin's predictions without a run (method, country, persona, question_id, distribution, failed):
    what a study stores for it, for a notebook or a test."""
    from ..runs.people import persona_context

    twin, rows = twin_method(scaler, scores, people), []
    for (train, _), (country, personas) in zip(twin_fits(survey, people), [(c, ps) for c, ps in people.items() if ps]):
        twin.fit(train)
        who = [(p, q) for q in questions for p in personas]
        pairs = [(persona_context(country, None, p.respondent_id), survey.codebook[q]) for p, q in who]
        for (p, _), (ctx, q), pred in zip(who, pairs, twin.predict_batch(pairs)):
            rows.append({"method": twin.name, "country": country, "persona": p.index, "respondent_id": ctx.respondent_id,
                         "question_id": q.id, "distribution": {str(c): v for c, v in pred.distribution.items()},
                         "failed": int(pred.failed)})
    return pd.DataFrame(rows, columns=["method", "country", "persona", "respondent_id", "question_id", "distribution", "failed"])
