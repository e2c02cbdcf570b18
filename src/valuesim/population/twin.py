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

The country distribution is then the plain mean over personas, as for LLM persona answers
(``aggregate.py``): the twin's rows have the shape of the store's predictions and go through
the same aggregation, calibration and metrics.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from ..methods.statistical.common import to_positions
from ..methods.statistical.ordinal import CumulativeLogit
from ..survey.model import Kind, Question
from ..survey.survey import COUNTRY, Survey
from .dimensions import DimensionScaler
from .personas import Persona
from .protocol import TWIN


def level_features(levels: pd.DataFrame, n_levels: int) -> np.ndarray:
    """Design matrix from a frame of levels (rows: people, columns: dimensions, NaN = missing)."""
    blocks = []
    for dim in levels.columns:
        lv = levels[dim].to_numpy(dtype="float64")
        for k in range(2, n_levels + 1):
            blocks.append(lv == k)
        blocks.append(np.isnan(lv))
    return np.column_stack(blocks).astype("float64") if blocks else np.zeros((len(levels), 0))


def respondent_levels(scaler: DimensionScaler, scores: pd.DataFrame) -> pd.DataFrame:
    """Every respondent's level per dimension (NaN where the dimension is missing)."""
    out = {}
    for dim in scaler.dimensions:
        s = scores[dim].to_numpy(dtype="float64")
        lv = 1.0 + np.searchsorted(np.asarray(scaler.cuts[dim], dtype="float64"), s, side="right")
        out[dim] = np.where(np.isfinite(s), lv, np.nan)
    return pd.DataFrame(out, index=scores.index)


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


def twin_predictions(survey: Survey, scaler: DimensionScaler, scores: pd.DataFrame,
                     people: dict[str, list[Persona]], questions: list[str], C: float = 1.0) -> pd.DataFrame:
    """One row per (country, persona, question) in the store's prediction layout (method
    ``value-twin``). For each evaluated country the models are fitted on the respondents of
    every other country only."""
    levels = respondent_levels(scaler, scores)
    X_all = level_features(levels, scaler.levels)
    countries = survey.data[COUNTRY].astype(str).to_numpy()
    rows = []
    for country, personas in people.items():
        if not personas:
            continue
        started = time.perf_counter()
        train = np.flatnonzero(countries != str(country))
        plev = pd.DataFrame([{d: (np.nan if p.levels.get(d) is None else float(p.levels[d]))
                              for d in scaler.dimensions} for p in personas])
        X_p = level_features(plev, scaler.levels)
        for qid in questions:
            question = survey.codebook[qid]
            pos = to_positions(survey.data[qid].to_numpy(dtype="float64", na_value=np.nan)[train], question)
            fitted = fit_one(X_all[train], pos, question, C)
            failed = fitted is None
            probs = None if failed else fitted.proba(X_p)
            for k, p in enumerate(personas):
                rows.append({"method": TWIN, "country": str(country), "persona": p.index, "question_id": qid,
                             "respondent_id": p.respondent_id,
                             "distribution": {} if failed else {str(c): float(v) for c, v in zip(question.codes, probs[k])},
                             "dist_method": "cumulative-logit" if question.kind != Kind.NOMINAL else "multinomial-logit",
                             "failed": int(failed), "error": "no other country answered" if failed else "",
                             "seconds": 0.0, "cached": 0, "created": 0.0})
        seconds = (time.perf_counter() - started) / max(1, len(personas) * len(questions))
        for r in rows[-len(personas) * len(questions):]:
            r["seconds"] = seconds
    return pd.DataFrame(rows, columns=["method", "country", "persona", "question_id", "respondent_id",
                                       "distribution", "dist_method", "failed", "error", "seconds", "cached", "created"])
