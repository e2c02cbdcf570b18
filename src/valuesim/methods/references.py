"""``other-countries``: the held-out-country protocol's reference, a registered method.

For a person of country C it predicts the survey-weighted answer shares of every training
respondent outside C (missing answers and non-positive weights dropped): what a researcher
knows about a question never asked in C. Its predictions are stored like any other method's,
so a report rebuilds from the store. (The split-half references are the registered
``country-marginal`` without shrinkage or smoothing, and ``chance``.)
"""

from __future__ import annotations

import numpy as np

from ..survey.model import Question
from ..survey.survey import COUNTRY, WEIGHT, Survey
from .base import PersonContext, Prediction

NO_ANSWERS = "nobody outside the country answered"


def pooled_marginal(survey: Survey, country: str, qid: str, codes: tuple[int, ...]) -> tuple[np.ndarray | None, int]:
    """Weighted answer shares of every respondent outside ``country``, and how many valid
    answers they rest on. None when nobody answered."""
    keep = (survey.data[COUNTRY].astype(str) != str(country)).to_numpy()
    col = survey.data[qid].to_numpy(dtype="float64", na_value=np.nan)[keep]
    w = survey.data[WEIGHT].to_numpy(dtype="float64", na_value=np.nan)[keep]
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    counts = np.array([w[col == c].sum() for c in codes], dtype="float64")
    n = int((np.isin(col, codes) & (w > 0)).sum())
    return (counts / counts.sum() if counts.sum() > 0 else None), n


class OtherCountries:
    """Fittable: ``fit(train)`` keeps the training respondents (every country of the file)."""

    name = "other-countries"

    def __init__(self):
        self.train: Survey | None = None

    def fit(self, train: Survey) -> "OtherCountries":
        self.train = train
        return self

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        if self.train is None:
            raise RuntimeError("other-countries predicts after fit(training survey)")
        vec, _ = pooled_marginal(self.train, person.country, question.id, question.codes)
        if vec is None:
            return Prediction.failure(question, NO_ANSWERS, {"dist_method": "pooled-marginal"})
        dist = {int(c): float(v) for c, v in zip(question.codes, vec)}
        return Prediction(dist, max(dist, key=lambda c: (dist[c], -c)), {"dist_method": "pooled-marginal"})


def make_other_countries(model=None) -> OtherCountries:
    return OtherCountries()
