"""Profile answers as numbers, the same way for training respondents and target persons.

Ordered items (ordinal, binary, numeric) become their code scaled to 0-1 over the question's
code range (numeric: its ``valid_range``); nominal items become one-hot columns over their most
frequent training codes (rarer codes share no column, so they only ever "mismatch").
"""

from __future__ import annotations

import numpy as np

from ...survey.model import Kind, Question


class FeatureSpec:
    def __init__(self, questions: list[Question], train_values: np.ndarray, max_levels: int = 15):
        self.questions = list(questions)
        self.ordered = [j for j, q in enumerate(self.questions) if q.kind != Kind.NOMINAL]
        self.nominal = [j for j, q in enumerate(self.questions) if q.kind == Kind.NOMINAL]
        lo, span = [], []
        for j in self.ordered:
            codes = self.questions[j].codes
            a, b = (min(codes), max(codes)) if codes else (0, 1)
            lo.append(a)
            span.append(max(b - a, 1))
        self.lo = np.asarray(lo, dtype=np.float64)
        self.span = np.asarray(span, dtype=np.float64)
        self.levels: list[np.ndarray] = []
        for j in self.nominal:
            col = train_values[:, j]
            col = col[~np.isnan(col)].astype(np.int64)
            vals, counts = np.unique(col, return_counts=True)
            top = vals[np.argsort(-counts, kind="stable")[:max_levels]]
            self.levels.append(np.sort(top))
        self.n_levels = int(sum(len(lv) for lv in self.levels))

    def ordered_block(self, values: np.ndarray) -> np.ndarray:
        """(n, n_ordered) scaled to 0-1, NaN where missing."""
        if not self.ordered:
            return np.zeros((len(values), 0))
        return (values[:, self.ordered] - self.lo) / self.span

    def nominal_block(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One-hot over the kept levels (n, n_levels) and answered mask (n, n_nominal)."""
        n = len(values)
        onehot = np.zeros((n, self.n_levels), dtype=np.float32)
        present = np.zeros((n, len(self.nominal)), dtype=np.float32)
        offset = 0
        for k, (j, levels) in enumerate(zip(self.nominal, self.levels)):
            col = values[:, j]
            ok = ~np.isnan(col)
            present[:, k] = ok
            if len(levels):
                v = np.where(ok, col, levels[0] - 1).astype(np.int64)
                pos = np.searchsorted(levels, v)
                pos_c = np.minimum(pos, len(levels) - 1)
                hit = ok & (levels[pos_c] == v)
                rows = np.nonzero(hit)[0]
                onehot[rows, offset + pos_c[hit]] = 1.0
            offset += len(levels)
        return onehot, present
