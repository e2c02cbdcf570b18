"""Distances between a simulated and a real answer distribution (pure functions).

Distributions are sequences of probabilities aligned with the question's option codes in code
order (use ``as_vector``). All functions accept unnormalised non-negative weights and normalise.

* ``wasserstein_score``: 1 - W1 / (max code - min code), ordinal items only (1 = identical).
* ``js_distance``: Jensen-Shannon distance with log base 2 (0 = identical, 1 = disjoint).
* ``total_variation``: half the L1 distance (0..1).
* ``entropy``: Shannon entropy in bits; ``entropy_deviation`` = H(simulated) - H(real), so a
  negative value means the simulation is less diverse than the people.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np


def normalise(p: Sequence[float]) -> np.ndarray:
    arr = np.asarray(p, dtype="float64")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("a distribution must be a non-empty 1-d sequence")
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise ValueError("a distribution must hold finite non-negative numbers")
    total = arr.sum()
    if total <= 0:
        raise ValueError("a distribution must have positive total mass")
    return arr / total


def as_vector(dist: Mapping, codes: Sequence[int]) -> np.ndarray:
    """A {code: prob} mapping (keys int or str) as a vector in ``codes`` order."""
    return np.array([float(dist.get(c, dist.get(str(c), 0.0))) for c in codes], dtype="float64")


def entropy(p: Sequence[float]) -> float:
    """Shannon entropy in bits."""
    q = normalise(p)
    nz = q[q > 0]
    return float(-(nz * np.log2(nz)).sum()) + 0.0


def entropy_deviation(simulated: Sequence[float], real: Sequence[float]) -> float:
    return entropy(simulated) - entropy(real)


def total_variation(p: Sequence[float], q: Sequence[float]) -> float:
    a, b = normalise(p), normalise(q)
    _same_length(a, b)
    return float(0.5 * np.abs(a - b).sum())


def js_distance(p: Sequence[float], q: Sequence[float]) -> float:
    """sqrt of the Jensen-Shannon divergence in bits (a metric bounded by 1)."""
    a, b = normalise(p), normalise(q)
    _same_length(a, b)
    m = 0.5 * (a + b)

    def kl(x: np.ndarray) -> float:
        nz = x > 0
        return float((x[nz] * np.log2(x[nz] / m[nz])).sum())

    jsd = 0.5 * kl(a) + 0.5 * kl(b)
    return math.sqrt(min(1.0, max(0.0, jsd)))


def wasserstein1(p: Sequence[float], q: Sequence[float], codes: Sequence[float]) -> float:
    """Earth mover's distance on the line, in code units: sum |F_p - F_q| * gap to next code."""
    a, b = normalise(p), normalise(q)
    _same_length(a, b)
    x = np.asarray(codes, dtype="float64")
    if x.size != a.size:
        raise ValueError("codes and distributions differ in length")
    if np.any(np.diff(x) <= 0):
        raise ValueError("codes must be strictly increasing")
    cdf_gap = np.abs(np.cumsum(a) - np.cumsum(b))[:-1]
    return float((cdf_gap * np.diff(x)).sum())


def wasserstein_score(p: Sequence[float], q: Sequence[float], codes: Sequence[float]) -> float:
    """1 - W1 / range: 1 when identical, 0 when all mass sits at opposite ends."""
    span = float(max(codes) - min(codes))
    if span <= 0:
        return 1.0
    return 1.0 - wasserstein1(p, q, codes) / span


def mean(p: Sequence[float], codes: Sequence[float]) -> float:
    return float(np.dot(normalise(p), np.asarray(codes, dtype="float64")))


def _same_length(a: np.ndarray, b: np.ndarray) -> None:
    if a.size != b.size:
        raise ValueError(f"distributions differ in length ({a.size} vs {b.size})")


def compare(simulated: Sequence[float], real: Sequence[float], codes: Sequence[int], ordinal: bool) -> dict:
    """Every population metric for one (country, question); ordinal-only ones are None else."""
    return {
        "wasserstein_score": wasserstein_score(simulated, real, codes) if ordinal else None,
        "js_distance": js_distance(simulated, real),
        "total_variation": total_variation(simulated, real),
        "entropy_sim": entropy(simulated),
        "entropy_real": entropy(real),
        "entropy_deviation": entropy_deviation(simulated, real),
        "mean_sim": mean(simulated, codes) if ordinal else None,
        "mean_real": mean(real, codes) if ordinal else None,
    }
