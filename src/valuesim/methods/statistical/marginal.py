"""Baselines every simulator must beat: chance, the global marginal, the country marginal."""

from __future__ import annotations

import numpy as np

from ...survey.model import Question
from ..base import PersonContext
from .common import StatisticalSimulator, TrainingData, weighted_counts


class ChanceSimulator(StatisticalSimulator):
    """Uniform over the question's valid codes (numeric items: every value of the range)."""

    name = "chance"

    def fit(self, train=None):  # needs no data, but keeps the fit/predict contract
        return self

    def _require_fit(self):
        return None

    def _predict_target(self, question: Question, persons: list[PersonContext]) -> np.ndarray:
        k = len(question.codes)
        return np.full((len(persons), k), 1.0 / k)


def global_marginal(data: TrainingData, question: Question, smoothing: float = 1.0) -> np.ndarray:
    """Weighted answer shares over all training respondents, with ``smoothing`` pseudo-respondents
    spread uniformly (so no valid code ever gets probability zero)."""
    k = len(question.codes)
    counts = weighted_counts(data.positions(question), data.weight, k)
    return (counts + smoothing / k) / (counts.sum() + smoothing)


def country_marginals(
    data: TrainingData, question: Question, shrinkage: float = 10.0, smoothing: float = 1.0
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per country: (weighted counts + shrinkage * global) / (weight total + shrinkage).

    ``shrinkage`` is in units of respondent weight: a country with few answers stays close to
    the global marginal, a large one is dominated by its own answers.
    """
    k = len(question.codes)
    glob = global_marginal(data, question, smoothing)
    pos = data.positions(question)
    ok = pos >= 0
    names, index = data.countries()
    counts = np.bincount(index[ok] * k + pos[ok], weights=data.weight[ok], minlength=len(names) * k)
    counts = counts.reshape(len(names), k)
    total = counts.sum(axis=1, keepdims=True) + shrinkage
    # a country with no answer to the item (not asked there) and no shrinkage: the global marginal
    shares = np.where(total > 0, (counts + shrinkage * glob) / np.where(total > 0, total, 1.0), glob)
    return {str(c): shares[i] for i, c in enumerate(names)}, glob


class GlobalMarginalSimulator(StatisticalSimulator):
    """Everyone gets the (survey-weighted) answer shares of all training respondents."""

    name = "global-marginal"

    def __init__(self, smoothing: float = 1.0):
        super().__init__()
        self.smoothing = float(smoothing)
        self._cache: dict[str, np.ndarray] = {}

    def _fitted(self) -> None:
        self._cache.clear()

    def _predict_target(self, question: Question, persons: list[PersonContext]) -> np.ndarray:
        if question.id not in self._cache:
            self._cache[question.id] = global_marginal(self._require_fit(), question, self.smoothing)
        return np.tile(self._cache[question.id], (len(persons), 1))


class CountryMarginalSimulator(StatisticalSimulator):
    """The answer shares of the person's country, shrunk toward the global marginal."""

    name = "country-marginal"

    def __init__(self, shrinkage: float = 10.0, smoothing: float = 1.0):
        super().__init__()
        self.shrinkage = float(shrinkage)
        self.smoothing = float(smoothing)
        self._cache: dict[str, tuple[dict[str, np.ndarray], np.ndarray]] = {}

    def _fitted(self) -> None:
        self._cache.clear()

    def table(self, question: Question) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if question.id not in self._cache:
            self._cache[question.id] = country_marginals(
                self._require_fit(), question, self.shrinkage, self.smoothing
            )
        return self._cache[question.id]

    def _predict_target(self, question: Question, persons: list[PersonContext]) -> np.ndarray:
        by_country, glob = self.table(question)
        return np.stack([by_country.get(p.country, glob) for p in persons])
