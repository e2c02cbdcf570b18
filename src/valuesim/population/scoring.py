"""Steps over a population run's stored predictions: aggregate each (method, country,
question) over its personas, calibrate (a temperature per method, fitted on calibration
questions against the persona-source halves), and score against the evaluation halves."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..runs.render import write_atomic, write_csv
from ..survey.model import Kind
from ..survey.survey import Survey
from .aggregate import average_distributions
from .calibration import CalibrationItem, calibrate as calibrate_dist, calibration_loss, fit_temperature
from .metrics import compare, normalise
from .personas import MARGINAL, UNIFORM
from ..methods.references import pooled_marginal
from .protocol import OTHERS, SPLIT_HALF, reference_names
from .sampling import CountrySplit, RealAnswers


@dataclass
class PopulationResult:
    run_dir: Path
    model: str
    metrics: pd.DataFrame
    distributions: pd.DataFrame
    country_summary: pd.DataFrame
    summary: pd.DataFrame
    temperatures: dict[str, float] = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)  # T per method, fit losses, calibration questions
    wall_seconds: float = 0.0
    new_predictions: int = 0
    accounting: dict = field(default_factory=dict)
    science: dict = field(default_factory=dict)  # noise floor, LLM-prior groups (science.py)

    def text_summary(self) -> str:
        """A plain-text table of the summary (what the CLI prints)."""
        cols = ["method", "calibrated", "wasserstein_score", "js_distance", "total_variation",
                "entropy_deviation", "gap_js", "gap_wasserstein"]
        table = self.summary[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}") \
            if not self.summary.empty else "(no results)"
        temps = ", ".join(f"{m} T={t:.3f}" for m, t in self.temperatures.items())
        return (f"model: {self.model}; {self.new_predictions} new persona distributions; "
                f"wall time {self.wall_seconds:.1f} s\n" + (f"calibration: {temps}\n" if temps else "") + table
                + ("\n" + self.science["text"] if self.science.get("text") else ""))


def _aggregates(groups: dict, method: str, country: str, qid: str, codes: Sequence[int]):
    rows = groups.get((method, country, qid))
    if rows is None:
        return None, 0, 0
    ok = rows[rows.failed == 0]
    return average_distributions(ok.distribution.tolist(), codes), len(ok), int((rows.failed != 0).sum())


def evaluate(survey: Survey, splits: dict[str, CountrySplit], preds: pd.DataFrame, countries: list[str],
             methods: list[str], targets: list[str], calib: list[str], calibrate: bool,
             n_personas: int, seen: Survey | None = None, protocol: str = SPLIT_HALF) -> PopulationResult:
    """Aggregate, calibrate and score every (method, country, target question). ``seen``: the
    survey as the methods see it (``protocol.method_view``); the truth comes from ``survey``."""
    cb = survey.codebook
    preds = preds[preds.persona < n_personas]
    groups = {key: g for key, g in preds.groupby(["method", "country", "question_id"], sort=False)}
    source = {c: RealAnswers(seen if seen is not None else survey, splits[c].source_ids) for c in countries}
    evaluation = {c: RealAnswers(survey, splits[c].eval_ids) for c in countries}
    sim: dict[tuple, tuple] = {}  # (method, country, qid) -> (vector | None, n_ok, n_failed)
    for m in methods:
        for c in countries:
            for q in targets + calib:
                sim[(m, c, q)] = _aggregates(groups, m, c, q, cb[q].codes)
    for c in countries:  # the references' stored predictions (one per country and question)
        for q in targets:
            codes = cb[q].codes
            for ref in reference_names(protocol):
                vec = _aggregates(groups, ref, c, q, codes)[0]
                if ref == UNIFORM:
                    sim[(ref, c, q)] = (vec, 0, 0)
                    continue
                # how many real answers the marginal rests on: the country's source half, or the others
                n = (source[c].distribution(q, codes)[1] if ref == MARGINAL else
                     pooled_marginal(survey, c, q, codes)[1] if ref == OTHERS else 0)
                sim[(ref, c, q)] = (vec if n else None, n, 0)

    temperatures: dict[str, float] = {}
    calib_losses: dict[str, dict] = {}
    if calibrate:
        for m in methods:
            items = []
            for c in countries:
                for q in calib:
                    vec = sim[(m, c, q)][0]
                    counts, n = source[c].distribution(q, cb[q].codes)
                    if vec is not None and n:
                        items.append(CalibrationItem(vec, normalise(counts), cb[q].codes, cb[q].kind == Kind.ORDINAL))
            temperatures[m] = fit_temperature(items)
            calib_losses[m] = {"items": len(items),
                               "loss_before": calibration_loss(items, 1.0) if items else None,
                               "loss_after": calibration_loss(items, temperatures[m]) if items else None}

    metric_rows, dist_rows = [], []
    variants = [(m, False) for m in methods] + ([(m, True) for m in methods] if calibrate else [])
    variants += [(r, False) for r in reference_names(protocol)]
    for m, cal in variants:
        for c in countries:
            for q in targets:
                question = cb[q]
                codes = question.codes
                ordinal = question.kind == Kind.ORDINAL
                counts, n_real = evaluation[c].distribution(q, codes)
                vec, n_ok, n_failed = sim[(m, c, q)]
                row = {"method": m, "calibrated": cal, "country": c, "question": q, "kind": question.kind.value,
                       "category": question.category, "n_personas": n_ok, "n_failed": n_failed, "n_real": n_real}
                if vec is not None and cal:
                    vec = calibrate_dist(vec, codes, ordinal, temperatures[m])
                if vec is not None and n_real:
                    real = normalise(counts)
                    row.update(compare(vec, real, codes, ordinal))
                    for k, code in enumerate(codes):
                        dist_rows.append({"method": m, "calibrated": cal, "country": c, "question": q, "code": code,
                                          "label": question.label(code), "simulated": float(vec[k]),
                                          "real": float(real[k])})
                metric_rows.append(row)
    metrics = pd.DataFrame(metric_rows)
    for col in ("wasserstein_score", "js_distance", "total_variation", "entropy_sim", "entropy_real",
                "entropy_deviation", "mean_sim", "mean_real"):
        if col not in metrics.columns:
            metrics[col] = np.nan
    metrics = metrics.astype({c: "float64" for c in ("wasserstein_score", "js_distance", "total_variation",
                                                       "entropy_sim", "entropy_real", "entropy_deviation",
                                                       "mean_sim", "mean_real")})
    distributions = pd.DataFrame(dist_rows)
    country_summary, summary = summarise(metrics)
    return PopulationResult(Path("."), "", metrics, distributions, country_summary, summary, temperatures,
                            {"temperatures": temperatures, "fit": calib_losses, "questions": calib})


def summarise(metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (method, calibrated, country) means, and per (method, calibrated) means plus the
    country gap: best minus worst country on the mean 1 - normalised W1 (ordinal items) and
    worst minus best on the mean Jensen-Shannon distance (all items)."""
    if metrics.empty:
        return pd.DataFrame(), pd.DataFrame()
    keys = ["method", "calibrated"]
    m = metrics.assign(abs_entropy_deviation=metrics.entropy_deviation.abs())
    agg = dict(wasserstein_score=("wasserstein_score", "mean"), js_distance=("js_distance", "mean"),
               total_variation=("total_variation", "mean"), entropy_deviation=("entropy_deviation", "mean"),
               abs_entropy_deviation=("abs_entropy_deviation", "mean"), questions=("js_distance", "count"))
    per_country = m.groupby(keys + ["country"], sort=False).agg(**agg).reset_index()
    rows = []
    for (method, cal), g in per_country.groupby(keys, sort=False):
        q = m[(m.method == method) & (m.calibrated == cal)]
        w = g.dropna(subset=["wasserstein_score"])
        j = g.dropna(subset=["js_distance"])
        rows.append({
            "method": method, "calibrated": cal,
            "wasserstein_score": q.wasserstein_score.mean(), "js_distance": q.js_distance.mean(),
            "total_variation": q.total_variation.mean(), "entropy_deviation": q.entropy_deviation.mean(),
            "abs_entropy_deviation": q.abs_entropy_deviation.mean(),
            "gap_wasserstein": (w.wasserstein_score.max() - w.wasserstein_score.min()) if len(w) else np.nan,
            "gap_js": (j.js_distance.max() - j.js_distance.min()) if len(j) else np.nan,
            "best_country": j.loc[j.js_distance.idxmin(), "country"] if len(j) else "",
            "worst_country": j.loc[j.js_distance.idxmax(), "country"] if len(j) else "",
            "pairs": int(q.js_distance.count()),
        })
    return per_country, pd.DataFrame(rows)


def write_tables(run_dir: Path, result) -> None:
    """The result tables, each written atomically (formula-like text cells neutralised)."""
    write_csv(result.metrics, run_dir / "metrics.csv")
    write_csv(result.distributions, run_dir / "distributions.csv")
    write_csv(result.country_summary, run_dir / "country_summary.csv")
    write_csv(result.summary, run_dir / "summary.csv")
    write_atomic(run_dir / "calibration.json", json.dumps(result.calibration, indent=2))
