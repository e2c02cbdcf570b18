"""Nearest neighbours: the K training respondents whose answers agree most with the person's
profile vote, weighted by similarity, on the target item.

Similarity = 1 - mean disagreement over the items both people answered, where an ordered item
(ordinal, binary, numeric; scaled 0-1) disagrees by the squared difference and a nominal item
disagrees by 0 (same code) or 1 (different). Squared differences and matches are bilinear, so
the whole similarity matrix is two float32 matrix products per chunk of persons. Only training
respondents who answered the target item can vote; the vote is mixed with the person's country
marginal (``prior_strength`` pseudo-neighbours) so no code gets probability zero.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ...survey.model import Question
from ..base import PersonContext, Prediction
from .common import (Pair, PersonRows, StatisticalSimulator, make_predictions, person_matrix, single_threaded,
                     strip_targets)
from .encoding import FeatureSpec
from .marginal import country_marginals


class KNNSimulator(StatisticalSimulator):
    name = "knn"

    def __init__(
        self,
        k: int = 50,
        scope: str = "country",
        prior_strength: float = 2.0,
        chunk: int = 256,
        max_levels: int = 15,
        shrinkage: float = 10.0,
    ):
        super().__init__()
        if scope not in ("country", "all"):
            raise ValueError("scope must be 'country' or 'all'")
        self.k = int(k)
        self.scope = scope
        self.prior_strength = float(prior_strength)
        self.chunk = int(chunk)
        self.max_levels = int(max_levels)
        self.shrinkage = float(shrinkage)
        self._base_cache: dict[tuple[str, ...], tuple] = {}
        self._prior_cache: dict[str, tuple] = {}

    def _fitted(self) -> None:
        self._base_cache.clear()
        self._prior_cache.clear()
        data = self.data
        self._country_rows = {c: np.nonzero(data.country == c)[0] for c in np.unique(data.country)}
        self._all_rows = np.arange(len(data))

    # -- similarity ------------------------------------------------------------------
    def _base(self, qids: tuple[str, ...]):
        if qids not in self._base_cache:
            data = self.data
            values = data.codes[:, [data.column[q] for q in qids]].astype(np.float64)
            spec = FeatureSpec([data.codebook[q] for q in qids], values, self.max_levels)
            right, mask = _right_side(spec, values)
            self._base_cache.clear()  # one feature set at a time (a fold): bounded memory
            self._base_cache[qids] = (spec, right, mask)
        return self._base_cache[qids]

    def similarities(self, persons: list[PersonContext], qids: tuple[str, ...], rows: np.ndarray,
                     values: np.ndarray | None = None) -> np.ndarray:
        """(len(persons), len(rows)) similarity to the training respondents ``rows``."""
        spec, right, mask = self._base(qids)
        if values is None:
            values = person_matrix(persons, list(qids))
        left, lmask = _left_side(spec, values)
        if rows is not self._all_rows:
            right, mask = right[rows], mask[rows]
        disagreement = left @ right.T
        shared = lmask @ mask.T
        sim = 1.0 - disagreement / np.maximum(shared, 1.0)
        sim[shared == 0] = -1.0  # nothing in common: below every real neighbour
        return sim

    # -- prediction ------------------------------------------------------------------
    def _prior(self, question: Question, country: str) -> np.ndarray:
        if question.id not in self._prior_cache:
            self._prior_cache[question.id] = country_marginals(self.data, question, self.shrinkage)
        by_country, glob = self._prior_cache[question.id]
        return by_country.get(country, glob)

    def predict_batch(self, pairs: list[Pair]) -> list[Prediction]:
        with single_threaded():
            return self._predict_batch(pairs)

    def _predict_batch(self, pairs: list[Pair]) -> list[Prediction]:
        data = self._require_fit()
        pairs = strip_targets(pairs)
        out: list[Prediction | None] = [None] * len(pairs)
        # Distinct persons (by profile object) and, per person, the pairs asking about them.
        batch = PersonRows([p for p, _ in pairs], data.qids)
        persons = batch.persons
        asks: dict[int, list[int]] = defaultdict(list)
        for i, r in enumerate(batch.rows([p for p, _ in pairs])):
            asks[int(r)].append(i)
        answered = ~np.isnan(batch.values).all(axis=0)
        qids = tuple(q for q, a in zip(data.qids, answered) if a)
        cols = [batch.column[q] for q in qids]

        blocks: list[tuple[np.ndarray, list[int]]] = []  # (candidate rows, person indices)
        if self.scope == "country":
            by_country: dict[str, list[int]] = defaultdict(list)
            for j, p in enumerate(persons):
                by_country[p.country].append(j)
            for country, members in by_country.items():
                rows = self._country_rows.get(country)
                if rows is None or len(rows) < self.k:
                    rows = self._all_rows
                blocks += [(rows, members[s : s + self.chunk]) for s in range(0, len(members), self.chunk)]
        else:
            idx = list(range(len(persons)))
            blocks = [(self._all_rows, idx[s : s + self.chunk]) for s in range(0, len(idx), self.chunk)]

        for rows, members in blocks:
            chunk_persons = [persons[j] for j in members]
            values = batch.values[np.ix_(members, cols)]
            sim = self.similarities(chunk_persons, qids, rows, values) if qids else np.zeros((len(members), len(rows)))
            by_target: dict[str, list[tuple[int, int]]] = defaultdict(list)  # qid -> (row in chunk, pair)
            for r, j in enumerate(members):
                for i in asks[j]:
                    by_target[pairs[i][1].id].append((r, i))
            for qid, items in by_target.items():
                question = pairs[items[0][1]][1]
                chunk_rows = np.asarray([r for r, _ in items])
                probs, used = self._vote(question, sim[chunk_rows], rows)
                prior = np.stack([self._prior(question, pairs[i][0].country) for _, i in items])
                a = self.prior_strength
                mixed = (used * probs + a * prior) / (used + a)
                traces = [{"method": self.name, "neighbours": used} for _ in items]
                for (_, i), pred in zip(items, make_predictions(question, mixed, traces)):
                    out[i] = pred
        return out  # type: ignore[return-value]

    def _vote(self, question: Question, sim: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """Similarity-weighted vote of the top-K answering neighbours: (n, n_codes), K used."""
        n_codes = len(question.codes)
        pos = self.data.positions(question)[rows]
        answered = pos >= 0
        k = int(min(self.k, answered.sum()))
        if k == 0:
            return np.full((len(sim), n_codes), 1.0 / n_codes), 0
        cand = np.nonzero(answered)[0]
        s = sim[:, cand]
        top = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < len(cand) else np.tile(np.arange(len(cand)), (len(s), 1))
        w = np.maximum(np.take_along_axis(s, top, axis=1), 0.0).astype(np.float64) + 1e-6
        codes = pos[cand][top]
        flat = (np.arange(len(s))[:, None] * n_codes + codes).ravel()
        votes = np.bincount(flat, weights=w.ravel(), minlength=len(s) * n_codes).reshape(len(s), n_codes)
        return votes / votes.sum(axis=1, keepdims=True), k


def _right_side(spec: FeatureSpec, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = spec.ordered_block(values)
    m = (~np.isnan(x)).astype(np.float32)
    x0 = np.nan_to_num(x).astype(np.float32)
    onehot, present = spec.nominal_block(values)
    right = np.hstack([m, x0 * x0, x0, present, onehot]).astype(np.float32)
    return right, np.hstack([m, present]).astype(np.float32)


def _left_side(spec: FeatureSpec, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = spec.ordered_block(values)
    m = (~np.isnan(x)).astype(np.float32)
    x0 = np.nan_to_num(x).astype(np.float32)
    onehot, present = spec.nominal_block(values)
    left = np.hstack([x0 * x0, m, -2.0 * x0, present, -onehot]).astype(np.float32)
    return left, np.hstack([m, present]).astype(np.float32)
