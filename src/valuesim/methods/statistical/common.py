"""Shared pieces of the statistical simulators: training matrices, code indexing, marginals.

Every statistical simulator is fitted on training respondents only (``fit(train)``) and, for a
target person, reads nothing but that person's ``PersonContext`` (country and profile answers).
Distributions always cover exactly ``question.codes``; a numeric item (age, year of birth,
children) is predicted as a distribution over every value of its ``valid_range``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import numpy as np
from threadpoolctl import threadpool_limits

from ...errors import ConfigError
from ...survey.model import Question
from ...survey.survey import COUNTRY, WEIGHT, Survey
from ..base import PersonContext, Prediction

Pair = tuple[PersonContext, Question]


def code_index(question: Question) -> tuple[np.ndarray, dict[int, int]]:
    """The question's codes as an array, and code -> column position."""
    codes = np.asarray(question.codes, dtype=np.int64)
    return codes, {int(c): i for i, c in enumerate(codes)}


def to_positions(values: np.ndarray, question: Question) -> np.ndarray:
    """Map raw codes (float, NaN = missing) to positions in ``question.codes``; -1 where the
    value is missing or is not one of the question's codes."""
    codes, _ = code_index(question)
    order = np.argsort(codes)
    sorted_codes = codes[order]
    out = np.full(values.shape, -1, dtype=np.int64)
    ok = ~np.isnan(values)
    v = values[ok].astype(np.int64)
    pos = np.searchsorted(sorted_codes, v)
    pos_clip = np.minimum(pos, len(sorted_codes) - 1)
    hit = (pos < len(sorted_codes)) & (sorted_codes[pos_clip] == v)
    idx = np.full(v.shape, -1, dtype=np.int64)
    idx[hit] = order[pos_clip[hit]]
    out[ok] = idx
    return out


def weighted_counts(positions: np.ndarray, weights: np.ndarray, n_codes: int) -> np.ndarray:
    ok = positions >= 0
    return np.bincount(positions[ok], weights=weights[ok], minlength=n_codes).astype(np.float64)


def normalize_rows(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        return normalize_rows(probs[None, :])[0]
    total = probs.sum(axis=1, keepdims=True)
    bad = ~np.isfinite(total[:, 0]) | (total[:, 0] <= 0)
    out = probs / np.where(bad[:, None], 1.0, total)
    out[bad] = 1.0 / probs.shape[1]
    return out


def make_predictions(question: Question, probs: np.ndarray, traces: list[dict]) -> list[Prediction]:
    """Predictions over exactly ``question.codes`` (rows normalised; answer = most probable code,
    ties to the lower code)."""
    probs = normalize_rows(probs)
    codes = list(question.codes)
    order = np.argsort(codes, kind="stable")
    best = order[np.argmax(probs[:, order], axis=1)]  # first maximum in code order
    return [Prediction(dict(zip(codes, row)), int(codes[b]), trace)
            for row, b, trace in zip(probs.tolist(), best, traces)]


class TrainingData:
    """Training respondents as arrays: valid codes (NaN = missing), country, weight."""

    def __init__(self, train: Survey):
        if len(train) == 0:
            raise ConfigError("cannot fit a statistical method on an empty training set")
        self.survey = train
        self.codebook = train.codebook
        self.qids = train.question_ids
        self.column = {q: i for i, q in enumerate(self.qids)}
        self.codes = train.codes_array(self.qids).astype(np.float32)
        self.country = train.data[COUNTRY].astype(str).to_numpy()
        w = train.data[WEIGHT].astype("float64").to_numpy()
        self.weight = np.where(np.isfinite(w) & (w > 0), w, 1.0)
        self._positions: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.country)

    def countries(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct countries and each respondent's index into them."""
        if not hasattr(self, "_countries"):
            self._countries = np.unique(self.country, return_inverse=True)
        return self._countries

    def has(self, qid: str) -> bool:
        return qid in self.column

    def values(self, qid: str) -> np.ndarray:
        return self.codes[:, self.column[qid]].astype(np.float64)

    def positions(self, question: Question) -> np.ndarray:
        """Per respondent, the position of their answer in ``question.codes`` (-1 = none)."""
        if question.id not in self._positions:
            if not self.has(question.id):
                self._positions[question.id] = np.full(len(self), -1, dtype=np.int64)
            else:
                self._positions[question.id] = to_positions(self.values(question.id), question)
        return self._positions[question.id]


def person_matrix(persons: list[PersonContext], qids: list[str]) -> np.ndarray:
    """Profile answers of ``persons`` on ``qids`` (NaN where the person's profile has none, or
    where the code is not one of the question's valid codes)."""
    col = {q: i for i, q in enumerate(qids)}
    out = np.full((len(persons), len(qids)), np.nan, dtype=np.float64)
    valid: dict[str, frozenset[int]] = {}
    rows, cols, vals = [], [], []
    for r, person in enumerate(persons):
        for question, code in person.profile.items:
            c = col.get(question.id)
            if c is None:
                continue
            ok = valid.get(question.id)
            if ok is None:
                ok = valid[question.id] = frozenset(question.codes)
            if code in ok:
                rows.append(r)
                cols.append(c)
                vals.append(code)
    out[rows, cols] = vals
    return out


class PersonRows:
    """Distinct persons of a batch (by profile object) and their profile answers as one matrix,
    built once per batch and shared by every target item."""

    def __init__(self, persons: list[PersonContext], qids: list[str]):
        self.index: dict[int, int] = {}
        self.persons: list[PersonContext] = []
        for p in persons:
            if id(p.profile) not in self.index:
                self.index[id(p.profile)] = len(self.persons)
                self.persons.append(p)
        self.qids = qids
        self.column = {q: i for i, q in enumerate(qids)}
        self.values = person_matrix(self.persons, qids)

    def rows(self, persons: list[PersonContext]) -> np.ndarray:
        return np.asarray([self.index[id(p.profile)] for p in persons], dtype=np.int64)

    def matrix(self, persons: list[PersonContext], qids) -> np.ndarray:
        return self.values[np.ix_(self.rows(persons), [self.column[q] for q in qids])]


def group_by_target(pairs: list[Pair]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, (_, question) in enumerate(pairs):
        groups[question.id].append(i)
    return groups


def profile_union(persons: Iterable[PersonContext], exclude: str, known: TrainingData) -> list[str]:
    """Profile items of these persons (minus the target), in training column order."""
    seen = {q.id for p in persons for q, _ in p.profile.items}
    seen.discard(exclude)
    return [q for q in known.qids if q in seen]


def without_item(person: PersonContext, qid: str) -> PersonContext:
    """The person with ``qid`` removed from the profile (a target is never a feature)."""
    if not any(q.id == qid for q, _ in person.profile.items):
        return person
    from dataclasses import replace

    from ...survey.model import Profile

    return replace(person, profile=Profile(tuple((q, c) for q, c in person.profile.items if q.id != qid)))


def single_threaded():
    """Run numpy/scikit-learn single-threaded. Measured here: on a busy 2-core machine a
    multinomial fit ran 50x slower with the default BLAS/OpenMP thread pools (threads spinning
    against each other and against other processes) than with one thread."""
    return threadpool_limits(1)


def strip_targets(pairs: list[Pair]) -> list[Pair]:
    """Pairs whose person profile never contains the target item itself."""
    known: dict[int, frozenset[str]] = {}
    out = []
    for person, question in pairs:
        key = id(person.profile)
        if key not in known:
            known[key] = frozenset(q.id for q, _ in person.profile.items)
        out.append((without_item(person, question.id) if question.id in known[key] else person, question))
    return out


class StatisticalSimulator:
    """Base: ``fit`` on training respondents, ``predict`` delegates to ``predict_batch``."""

    name = "statistical"

    def __init__(self) -> None:
        self.data: TrainingData | None = None
        self._batch: PersonRows | None = None

    def fit(self, train: Survey) -> "StatisticalSimulator":
        self.data = TrainingData(train)
        self._fitted()
        return self

    def _fitted(self) -> None:  # subclasses precompute here
        pass

    def _require_fit(self) -> TrainingData:
        if self.data is None:
            raise ConfigError(f"method {self.name!r} must be fitted on training respondents first (call fit(train))")
        return self.data

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        return self.predict_batch([(person, question)])[0]

    def predict_batch(self, pairs: list[Pair]) -> list[Prediction]:
        data = self._require_fit()
        pairs = strip_targets(pairs)
        out: list[Prediction | None] = [None] * len(pairs)
        self._batch = PersonRows([p for p, _ in pairs], data.qids if data is not None else [])
        with single_threaded():  # once per batch: each call scans the loaded libraries (~10 ms)
            for qid, idx in group_by_target(pairs).items():
                question = pairs[idx[0]][1]
                persons = [pairs[i][0] for i in idx]
                try:
                    probs = self._predict_target(question, persons)
                except ValueError as exc:  # numerical failure: record, do not abort the run
                    for i in idx:
                        out[i] = Prediction.failure(question, f"{self.name}: {exc}")
                    continue
                # no trace: the store already has the method, and a trace row per prediction
                # doubled the rows written for a whole-file study (26 M predictions per method)
                traces = [{} for _ in idx]
                for i, pred in zip(idx, make_predictions(question, probs, traces)):
                    out[i] = pred
        self._batch = None
        return out  # type: ignore[return-value]

    def _predict_target(self, question: Question, persons: list[PersonContext]) -> np.ndarray:
        """(n_persons, len(question.codes)) probabilities."""
        raise NotImplementedError
