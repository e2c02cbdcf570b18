"""Calibration: make a simulated answer distribution as diverse as people are, keeping its opinion.

LLM answers aggregated over personas are usually too concentrated (or, for a flat model, too
spread out). The procedure, applied to a country's aggregate distribution p over codes x:

1. **Temper**: q_i ∝ p_i^(1/T). T > 1 spreads mass out (more entropy), T < 1 sharpens it,
   T = 1 changes nothing. Tempering keeps the ranking of the options (the mode stays the mode).
2. **Restore the mean** (ordinal items only): r_i ∝ q_i · exp(λ x_i), with λ found by root finding
   so that Σ r_i x_i equals the mean of p to floating-point precision. This exponential tilt is
   the distribution closest to q (minimum KL divergence) among those with p's mean, so the
   estimated opinion (the mean on the ordinal scale) is exactly what the personas said and only
   the dispersion changes.

Nominal and binary items have no mean: they get step 1 only (same T), which keeps the modal
ranking but may move the shares. (A binary item's mean fixes its whole distribution, so a
mean-preserving calibration could not change it at all.)

T is fitted per method on *calibration questions* that are never evaluated: the value that
minimises the mean squared difference between the entropy of the calibrated aggregate and the
entropy of the real answers of the persona-source half (people who are not in the evaluation
half) over all (country, calibration question) pairs. See ``fit_temperature``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import minimize_scalar

from .metrics import entropy, normalise

T_BOUNDS = (0.1, 20.0)


def temper(p: Sequence[float], temperature: float) -> np.ndarray:
    """q ∝ p^(1/T); zero-probability options stay at zero."""
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    a = normalise(p)
    out = np.zeros_like(a)
    nz = a > 0
    logs = np.log(a[nz]) / temperature
    logs -= logs.max()
    out[nz] = np.exp(logs)
    return out / out.sum()


def tilt_to_mean(q: Sequence[float], codes: Sequence[float], target_mean: float) -> np.ndarray:
    """r ∝ q · exp(λ x) with Σ r x = target_mean (exactly, up to ~1e-12).

    The target must lie within the range of codes that q gives mass to."""
    q = normalise(q)
    x = np.asarray(codes, dtype="float64")
    support = x[q > 0]
    lo, hi = support.min(), support.max()
    if not (lo - 1e-12 <= target_mean <= hi + 1e-12):
        raise ValueError(f"target mean {target_mean} is outside the support [{lo}, {hi}]")
    if hi - lo < 1e-12:
        return q
    # Mass at the very end of the support can only be reached in the limit: return the end point.
    if target_mean <= lo + 1e-12 or target_mean >= hi - 1e-12:
        end = lo if target_mean <= lo + 1e-12 else hi
        return np.where(x == end, 1.0, 0.0) * (q > 0)
    span = hi - lo
    xc = (x - target_mean) / span  # centred and scaled for a well-conditioned root
    logq = np.full_like(q, -np.inf)
    logq[q > 0] = np.log(q[q > 0])

    def tilted(lam: float) -> np.ndarray:
        z = logq + lam * xc
        z -= z[np.isfinite(z)].max()
        w = np.where(np.isfinite(z), np.exp(z), 0.0)
        return w / w.sum()

    def gap(lam: float) -> tuple[np.ndarray, float]:
        r = tilted(lam)
        return r, float(np.dot(r, xc))

    # The mean under the tilt rises monotonically with λ (its derivative is the variance), so a
    # safeguarded Newton iteration inside a sign-change bracket converges fast and surely.
    r, g = gap(0.0)
    if abs(g) < 1e-15:
        return r
    lo_l, hi_l = (-1.0, 0.0) if g > 0 else (0.0, 1.0)
    while gap(lo_l)[1] > 0:
        lo_l *= 2.0
    while gap(hi_l)[1] < 0:
        hi_l *= 2.0
    lam = 0.0
    for _ in range(200):
        var = float(np.dot(r, xc * xc) - g * g)
        step = lam - g / var if var > 1e-300 else None
        lam = step if step is not None and lo_l < step < hi_l else 0.5 * (lo_l + hi_l)
        r, g = gap(lam)
        if g > 0:
            hi_l = lam
        else:
            lo_l = lam
        if abs(g) < 1e-14 or hi_l - lo_l < 1e-15:
            break
    return r


def calibrate(p: Sequence[float], codes: Sequence[float], ordinal: bool, temperature: float) -> np.ndarray:
    """Temper ``p`` with T, then (ordinal items) tilt it back to p's exact mean."""
    base = normalise(p)
    if temperature == 1.0:
        return base
    q = temper(base, temperature)
    if not ordinal:
        return q
    target = float(np.dot(base, np.asarray(codes, dtype="float64")))
    return tilt_to_mean(q, codes, target)


@dataclass
class CalibrationItem:
    """One (country, calibration question): the simulated aggregate and the real answers."""

    simulated: np.ndarray
    real: np.ndarray
    codes: tuple
    ordinal: bool


def calibration_loss(items: Sequence[CalibrationItem], temperature: float) -> float:
    """Mean squared entropy gap (bits²) between calibrated simulation and real answers."""
    gaps = [entropy(calibrate(i.simulated, i.codes, i.ordinal, temperature)) - entropy(i.real) for i in items]
    return float(np.mean(np.square(gaps)))


def fit_temperature(items: Sequence[CalibrationItem], bounds: tuple[float, float] = T_BOUNDS) -> float:
    """The T that best matches human entropy on the calibration items (1.0 when there are none).

    A log-spaced grid finds the basin, a bounded scalar search refines it."""
    items = list(items)
    if not items:
        return 1.0
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    grid = np.linspace(lo, hi, 49)
    losses = [calibration_loss(items, math.exp(g)) for g in grid]
    k = int(np.argmin(losses))
    a, b = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    res = minimize_scalar(lambda g: calibration_loss(items, math.exp(g)), bounds=(a, b), method="bounded",
                          options={"xatol": 1e-4})
    best = float(res.x) if res.fun <= losses[k] else float(grid[k])
    return float(math.exp(best))
