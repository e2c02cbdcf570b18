"""A proportional-odds (cumulative logit) model with an L2 penalty, fitted with L-BFGS.

P(y <= j | x) = sigmoid(theta_j - x.beta), thresholds kept increasing by writing
theta_j = a_0 + sum_{m<=j} exp(a_m). The penalty follows scikit-learn's convention
(0.5 * |beta|^2 + C * negative log-likelihood) so ``C`` means the same as in LogisticRegression.
Written here because the one maintained-looking package for it (mord) is not maintained.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit


class CumulativeLogit:
    def __init__(self, C: float = 1.0, max_iter: int = 200, tol: float = 1e-6):
        self.C = float(C)
        self.max_iter = int(max_iter)
        self.tol = float(tol)

    @staticmethod
    def _thresholds(a: np.ndarray) -> np.ndarray:
        return a[0] + np.concatenate([[0.0], np.cumsum(np.exp(a[1:]))])

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "CumulativeLogit":
        """``y``: class positions 0..K-1 in order (K >= 2). ``sample_weight``: per-row counts or
        weights (default 1), e.g. to fit on distinct (x, y) rows with their frequencies."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        p = X.shape[1]
        n = w.sum()
        K = int(y.max()) + 1
        self.n_classes = K
        shares = np.bincount(y, weights=w, minlength=K) / n
        cum = np.clip(np.cumsum(shares)[:-1], 1e-4, 1 - 1e-4)
        theta0 = np.maximum.accumulate(np.log(cum / (1 - cum)) + np.arange(K - 1) * 1e-3)
        a0 = np.concatenate([[theta0[0]], np.log(np.maximum(np.diff(theta0), 1e-3))])
        has_up, has_low = y < K - 1, y > 0
        up_idx, low_idx = np.minimum(y, K - 2), np.maximum(y - 1, 0)
        C = self.C

        def objective(params: np.ndarray):
            beta, a = params[:p], params[p:]
            theta = self._thresholds(a)
            eta = X @ beta
            f_up = np.where(has_up, expit(theta[up_idx] - eta), 1.0)
            f_low = np.where(has_low, expit(theta[low_idx] - eta), 0.0)
            prob = np.maximum(f_up - f_low, 1e-12)
            d_up = f_up * (1 - f_up)
            d_low = f_low * (1 - f_low)
            nll = -(w * np.log(prob)).sum()
            g_eta = w * (d_up - d_low) / prob  # d nll / d eta
            g_theta = -(np.bincount(up_idx, weights=np.where(has_up, w * d_up / prob, 0.0), minlength=K - 1)
                        - np.bincount(low_idx, weights=np.where(has_low, w * d_low / prob, 0.0), minlength=K - 1))
            tail = np.cumsum(g_theta[::-1])[::-1]  # sum_{j>=m} g_theta_j
            g_a = np.concatenate([[tail[0]], np.exp(a[1:]) * tail[1:]])
            value = 0.5 * beta @ beta + C * nll
            grad = np.concatenate([beta + C * (X.T @ g_eta), C * g_a])
            return value / n, grad / n

        start = np.concatenate([np.zeros(p), a0])
        res = minimize(objective, start, jac=True, method="L-BFGS-B",
                       options={"maxiter": self.max_iter, "gtol": self.tol})
        self.coef_ = res.x[:p]
        self.theta_ = self._thresholds(res.x[p:])
        self.converged_ = bool(res.success)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        eta = np.asarray(X, dtype=np.float64) @ self.coef_
        cum = expit(self.theta_[None, :] - eta[:, None])
        n = len(eta)
        full = np.hstack([np.zeros((n, 1)), cum, np.ones((n, 1))])
        return np.maximum(np.diff(full, axis=1), 0.0)
