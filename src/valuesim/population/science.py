"""The science tables of a population run, kept out of the runner.

``science_tables`` computes the noise floor and the LLM-prior groups over a finished result and
writes ``noise_floor.csv``, ``country_groups.csv`` and ``group_summary.csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..runs.render import write_csv
from ..survey.survey import Survey
from .groups import assign_groups, group_summary, prior_distances
from .noise import country_floor, noise_floor
from .personas import NO_PERSONA

FLOOR_FILE, GROUPS_FILE, GROUP_SUMMARY_FILE = "noise_floor.csv", "country_groups.csv", "group_summary.csv"


def write_science(out: Path, science: dict) -> None:
    """The science tables (``science_tables``) into ``out``, each atomically."""
    out = Path(out)
    write_csv(science["floor"], out / FLOOR_FILE)
    write_csv(science["groups"], out / GROUPS_FILE)
    write_csv(science["group_summary"], out / GROUP_SUMMARY_FILE)


def science_tables(run_dir: str | Path | None, result, survey: Survey, splits: dict, preds: pd.DataFrame,
                   countries: list[str], targets: list[str], methods: list[str], seed: int) -> dict:
    """Noise floor per (country, question), prior-distance groups, per-group errors; written to
    ``run_dir`` when given. Returns {"floor", "groups", "group_summary", "text"}."""
    floor = noise_floor(survey, countries, targets, seed)
    distances = prior_distances(survey, preds, {c: splits[c].source_ids for c in countries}, countries, targets,
                                use_llm=NO_PERSONA in methods)
    groups = assign_groups(distances)
    per_group = group_summary(result.country_summary, groups, country_floor(floor))
    science = {"floor": floor, "groups": groups, "group_summary": per_group,
               "text": text_table(per_group, floor, groups)}
    if run_dir is not None:
        write_science(Path(run_dir), science)
    return science


def text_table(per_group: pd.DataFrame, floor: pd.DataFrame, groups: pd.DataFrame) -> str:
    """Per-group JS distance of every method and the noise floor, as plain text."""
    if per_group.empty:
        return ""
    g = per_group.assign(variant=[f"{m}{' + cal' if bool(c) else ''}" for m, c in
                                  zip(per_group.method, per_group.calibrated)])
    table = g.pivot_table(index="variant", columns="group_label", values="js_distance", sort=False)
    floors = g.drop_duplicates("group_label").set_index("group_label").floor_js_distance
    table.loc["noise floor"] = floors.reindex(table.columns)
    overall = floor.js_distance.mean() if not floor.empty else float("nan")
    basis = groups.basis.iloc[0] if len(groups) else ""
    members = "; ".join(f"{label}: {', '.join(g.country)}" for label, g in
                        groups.dropna(subset=["group"]).sort_values("group").groupby("group_label", sort=False))
    return (f"JS distance per country group (grouped by the distance of {basis}; {members}); "
            f"noise floor = two random halves of each country, overall {overall:.3f}:\n"
            + table.to_string(float_format=lambda x: f"{x:.3f}"))
