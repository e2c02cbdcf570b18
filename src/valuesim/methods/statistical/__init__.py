"""Statistical simulators: what a few lines of statistics predict from the same information.

All follow the Simulator contract plus ``fit(train)`` (training respondents only) and a fast
``predict_batch(pairs)``. Registry names: chance, global-marginal, country-marginal, knn,
regression. Factories take ``model=None`` (unused) and the method's options.
"""

from __future__ import annotations

from .common import StatisticalSimulator
from .knn import KNNSimulator
from .marginal import ChanceSimulator, CountryMarginalSimulator, GlobalMarginalSimulator
from .regression import RegressionSimulator

__all__ = [
    "StatisticalSimulator",
    "ChanceSimulator",
    "GlobalMarginalSimulator",
    "CountryMarginalSimulator",
    "KNNSimulator",
    "RegressionSimulator",
    "chance",
    "global_marginal",
    "country_marginal",
    "knn",
    "regression",
]


def chance(model=None, **options) -> ChanceSimulator:
    return ChanceSimulator(**options)


def global_marginal(model=None, **options) -> GlobalMarginalSimulator:
    return GlobalMarginalSimulator(**options)


def country_marginal(model=None, **options) -> CountryMarginalSimulator:
    return CountryMarginalSimulator(**options)


def knn(model=None, **options) -> KNNSimulator:
    return KNNSimulator(**options)


def regression(model=None, **options) -> RegressionSimulator:
    return RegressionSimulator(**options)
