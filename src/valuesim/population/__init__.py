"""Population simulation with calibrated value personas (seeds/001), and its baselines.

A country's answer distribution is simulated by drawing W_WEIGHT-weighted value profiles from
half of its respondents, describing each as a short value persona (its position on the codebook's ``dimensions``; the
built-in WVS-7 codebook's are two Inglehart-Welzel dimensions and the left-right scale),
asking the model for each persona's
option distribution, averaging them, and optionally calibrating the aggregate's dispersion
towards human diversity while keeping its mean. The other half of the respondents gives the
real distribution. See ``runner`` for the run layout, ``dimensions`` for the item recoding,
``calibration`` for the calibration procedure and ``metrics`` for the distances.
"""

from .calibration import calibrate, fit_temperature
from .dimensions import DimensionScaler, descriptor_items
from .metrics import entropy, js_distance, total_variation, wasserstein_score
from .personas import ALL_METHODS, LLM_METHODS
from .runner import PopulationConfig, PopulationResult, run_population


def write_population_report(run_dir, questions=None, survey=None):
    """Recompute the run's tables from its store and write them, report.md and report.html
    (self-contained) into the run's report/ folder; returns the pages' paths."""
    from .report import write_population_report as _write

    return _write(run_dir, questions=questions, survey=survey)


__all__ = [
    "ALL_METHODS",
    "DimensionScaler",
    "LLM_METHODS",
    "PopulationConfig",
    "PopulationResult",
    "calibrate",
    "descriptor_items",
    "entropy",
    "fit_temperature",
    "js_distance",
    "run_population",
    "total_variation",
    "wasserstein_score",
    "write_population_report",
]
