"""From persona distributions to a country's simulated answer distribution.

The country distribution is the plain average of its personas' option distributions: personas
were already drawn in proportion to W_WEIGHT, so each counts once (a person drawn twice counts
twice). Failed predictions are left out of the average and counted.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from .metrics import as_vector, normalise


def average_distributions(dists: Iterable[Mapping], codes: Sequence[int]) -> np.ndarray | None:
    """Mean of {code: prob} mappings (each renormalised over ``codes``); None when empty."""
    vectors = []
    for d in dists:
        v = as_vector(d, codes)
        if v.sum() > 0:
            vectors.append(normalise(v))
    if not vectors:
        return None
    return np.mean(np.vstack(vectors), axis=0)
