"""The statistical twin of value personas (``value-twin``), for the held-out-country protocol.

The same sampled personas as ``value-persona``, and the same information about each: its level
(1-5 quintile band, or missing) on every value dimension, which is exactly what its descriptor
sentences say. Instead of asking a model, each persona's answer distribution comes from a
regression fitted on the respondents of the OTHER countries in the file (their levels -> their
answer): the proportional-odds (cumulative-logit) model of the individual methods
(``methods/statistical/ordinal.py``) for ordinal and binary items, L2 multinomial logistic
regression for nominal ones. Features: one indicator per (dimension, level 2..5) plus one per
missing dimension (level 1 is the baseline). Country is not a feature: the target country is
not in the training data. Fitting is unweighted, on every respondent of the other countries
who answered: the design has at most 6^D distinct rows (D dimensions: 3 for WVS-7), so the
models are fitted on the distinct (features, answer) rows with their counts as weights (the same
likelihood, far fewer rows). The dimensions are the scaler's: the codebook's.

The twin is a registered method: the population protocol builds it with every respondent's
levels (``levels``: a frame indexed by respondent id, one column per dimension, NaN = missing;
persona rows as the personas were described), fits it once per evaluated country on the other
countries' respondents (``fit``) and stores its predictions like any other method's; the
country distribution is then the plain mean over personas (``population/aggregate.py``), as
for LLM persona answers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from ..survey.model import Kind, Question
from ..survey.survey import Survey
from .base import PersonContext, Prediction
from .statistical.common import to_positions
from .statistical.ordinal import CumulativeLogit

NO_ANSWERS = "no other country answered"


def level_features(levels: pd.DataFrame, n_levels: int) -> np.ndarray:
    """Design matrix from a frame of levels (rows: people, columns: dimensions, NaN = missing)."""
    blocks = []
    for dim in levels.columns:
        lv = levels[dim].to_numpy(dtype="float64")
        for k in range(2, n_levels + 1):
            blocks.append(lv == k)
        blocks.append(np.isnan(lv))
    return np.column_stack(blocks).astype("float64") if blocks else np.zeros((len(levels), 0))


class _Fitted:
    def __init__(self, model, classes: np.ndarray, n_codes: int):
        self.model, self.classes, self.n_codes = model, classes, n_codes

    def proba(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros((len(X), self.n_codes))
        if self.model is None:  # one observed answer only
            out[:, self.classes[0]] = 1.0
        else:
            out[:, self.classes] = self.model.predict_proba(X)
        out = (1 - 1e-3) * out + 1e-3 / self.n_codes  # no valid code ever gets probability zero
        return out / out.sum(axis=1, keepdims=True)


def fit_one(X: np.ndarray, positions: np.ndarray, question: Question, C: float = 1.0) -> _Fitted | None:
    """One model for one question; ``positions``: answer positions in ``question.codes`` (-1 = none)."""
    ok = positions >= 0
    if not ok.any():
        return None
    X, y = X[ok], positions[ok]
    key = (X @ (2.0 ** np.arange(X.shape[1]))).astype(np.int64) * (len(question.codes) + 1) + y  # 0/1 features
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    X, y, counts = X[first], y[first], counts.astype(np.float64)
    classes = np.unique(y)
    n_codes = len(question.codes)
    if len(classes) == 1:
        return _Fitted(None, classes, n_codes)
    with threadpool_limits(1):  # small dense problems: BLAS threads only add overhead
        return _fit(X, y, counts, classes, question, C)


def _fit(X: np.ndarray, y: np.ndarray, counts: np.ndarray, classes: np.ndarray, question: Question,
         C: float) -> _Fitted:
    n_codes = len(question.codes)
    if question.kind == Kind.NOMINAL:
        model = LogisticRegression(C=C, max_iter=300)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y, sample_weight=counts)
        return _Fitted(model, model.classes_, n_codes)
    # ordinal/binary: classes re-indexed 0..K-1 over the observed codes, order kept
    remap = np.searchsorted(classes, y)
    return _Fitted(CumulativeLogit(C=C).fit(X, remap, sample_weight=counts), classes, n_codes)




class ValueTwin:
    """``value-twin``: a persona's answer distribution from its dimension levels, by a model
    fitted on the training respondents' levels and answers (Fittable, BatchPredictor)."""

    name = "value-twin"

    def __init__(self, levels: pd.DataFrame | None = None, n_levels: int = 5, C: float = 1.0):
        self.levels = pd.DataFrame() if levels is None else levels
        self.n_levels, self.C = int(n_levels), float(C)
        self.train: Survey | None = None
        self._X = None
        self._models: dict[str, _Fitted | None] = {}

    def fit(self, train: Survey) -> "ValueTwin":
        self.train, self._models = train, {}
        self._X = level_features(self.levels.loc[train.data.index.astype(str)], self.n_levels)
        return self

    def _model(self, question: Question) -> "_Fitted | None":
        if question.id not in self._models:
            values = self.train.data[question.id].to_numpy(dtype="float64", na_value=np.nan)
            self._models[question.id] = fit_one(self._X, to_positions(values, question), question, self.C)
        return self._models[question.id]

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        return self.predict_batch([(person, question)])[0]

    def predict_batch(self, pairs: list[tuple[PersonContext, Question]]) -> list[Prediction]:
        """Each question's personas in one matrix (the same arithmetic however a run is batched)."""
        if self.train is None:
            raise RuntimeError("value-twin predicts after fit(training survey)")
        out: list[Prediction | None] = [None] * len(pairs)
        by_question: dict[str, list[int]] = {}
        for k, (_, q) in enumerate(pairs):
            by_question.setdefault(q.id, []).append(k)
        for positions in by_question.values():
            question = pairs[positions[0]][1]
            fitted = self._model(question)
            how = {"dist_method": "cumulative-logit" if question.kind != Kind.NOMINAL else "multinomial-logit"}
            if fitted is None:
                for k in positions:
                    out[k] = Prediction.failure(question, NO_ANSWERS, dict(how))
                continue
            rows = self.levels.loc[[str(pairs[k][0].respondent_id) for k in positions]]
            probs = fitted.proba(level_features(rows, self.n_levels))
            for k, p in zip(positions, probs):
                dist = {int(c): float(v) for c, v in zip(question.codes, p)}
                out[k] = Prediction(dist, max(dist, key=lambda c: (dist[c], -c)), dict(how))
        return out  # type: ignore[return-value]


def make_value_twin(model=None, levels: pd.DataFrame | None = None, n_levels: int = 5, C: float = 1.0) -> ValueTwin:
    return ValueTwin(levels, n_levels, C)
