"""Report tables for the noise floor and the LLM-prior groups (files written by ``science.py``)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..runs.render import Table
from ..survey.countries import country_name
from .noise import country_floor
from .personas import LLM_METHODS, MARGINAL, UNIFORM
from .protocol import HELD_OUT, OTHERS, TWIN
from .science import FLOOR_FILE, GROUP_SUMMARY_FILE, GROUPS_FILE

PROTOCOL_TEXT = {
    HELD_OUT: "held-out-country: every evaluated country's target answers were masked from all methods "
              "(only its respondents' value-dimension positions were used); references: other-countries "
              "(pooled answers of every other country) and uniform",
}
METHOD_ORDER = (*LLM_METHODS, TWIN, MARGINAL, OTHERS, UNIFORM)
DEFAULT_PROTOCOL_TEXT = ("split-half: methods may use the persona-source half of each country; references: "
                         "country-marginal (that half's real answers) and uniform")


def protocol_line(info: dict) -> tuple[str, str]:
    return "Protocol", PROTOCOL_TEXT.get(info.get("protocol", ""), DEFAULT_PROTOCOL_TEXT)


def is_reference(method: str) -> bool:
    return method in (MARGINAL, UNIFORM, OTHERS)


def _f(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _read(path: Path) -> pd.DataFrame:
    if not path.exists() or path.stat().st_size <= 1:
        return pd.DataFrame()
    return pd.read_csv(path, dtype={"country": str, "group": str})


def _variant(method: str, calibrated) -> str:
    if is_reference(method):
        return f"{method} (reference)"
    return f"{method} + calibration" if str(calibrated) == "True" else method


def floor_table(country_summary: pd.DataFrame, floor: pd.DataFrame, model: str) -> Table | None:
    """Per country: every method's mean JS distance, with the noise floor as the last row."""
    if floor.empty or country_summary.empty:
        return None
    cf = country_floor(floor).set_index("country")
    countries = list(cf.index)
    rows = []
    for (m, cal), g in country_summary.groupby(["method", "calibrated"], sort=False):
        vals = g.set_index("country").js_distance
        rows.append([_variant(m, cal)] + [_f(vals.get(c)) for c in countries])
    rows.append(["noise floor (two random halves)"] + [_f(cf.js_distance.get(c)) for c in countries])
    rows.append(["respondents"] + [str(int(cf.respondents.get(c))) for c in countries])
    return Table(f"Per-country mean JS distance beside the sampling-noise floor — model: {model}",
                 ["method"] + [f"{c} ({country_name(c)})" if country_name(c) != c else c for c in countries], rows,
                 "Noise floor: the JS distance between two random halves of the country's respondents "
                 "(W_WEIGHT-weighted, averaged over 5 seeded splits and the target questions). It is what the "
                 "split-half country-marginal reference scores in expectation; a predictor that knew the "
                 "country's true distribution would score about floor/√2 against the evaluation half. Per "
                 "question: noise_floor.csv.")


def group_tables(run_dir: Path, model: str) -> list[Table]:
    groups, per = _read(run_dir / GROUPS_FILE), _read(run_dir / GROUP_SUMMARY_FILE)
    if groups.empty or per.empty:
        return []
    basis = groups.basis.iloc[0]
    g = groups.sort_values("prior_distance")
    members = Table(f"Countries by prior distance — basis: {basis}", ["country", "prior distance (JS)", "group"],
                    [[str(r.country), _f(r.prior_distance), str(r.group_label) if isinstance(r.group_label, str) else "–"]
                     for r in g.itertuples()],
                    f"Mean JS distance between {basis} and the country's persona-source half over the target "
                    "questions (not the evaluation half, so the grouping does not select on the noise the methods "
                    "are scored on). Countries sorted by it are cut into up to three equal groups.")
    labels = list(dict.fromkeys(per.group_label))
    rows = []
    for (m, cal), h in per.groupby(["method", "calibrated"], sort=False):
        js = h.set_index("group_label").js_distance
        ws = h.set_index("group_label").wasserstein_score
        rows.append([_variant(m, cal)] + [f"{_f(js.get(lab))} / {_f(ws.get(lab))}" for lab in labels])
    floor = per.drop_duplicates("group_label").set_index("group_label")
    rows.append(["noise floor"] + [f"{_f(floor.floor_js_distance.get(lab))} / {_f(floor.floor_wasserstein_score.get(lab))}"
                                   for lab in labels])
    errors = Table(f"Error per country group: JS distance ↓ / 1−nW1 ↑ — model: {model}", ["method"] + labels, rows,
                   "Each group cell is the mean over the group's countries of their mean over target questions. "
                   "'far minus aligned': JS of the far group minus the aligned group (and aligned minus far for "
                   "1−nW1), so positive means the far group is served worse; seeds/001 says calibrated value "
                   "personas shrink this gap. 'worst minus best group': the unsigned spread.")
    return [members, errors]


def science_sections(run_dir: Path, country_summary: pd.DataFrame, model: str) -> list[tuple[str, list]]:
    """Report sections: noise floor beside every method, and the LLM-prior groups."""
    out = []
    floor = floor_table(country_summary, _read(run_dir / FLOOR_FILE), model)
    if floor:
        out.append(("Noise floor", [floor]))
    groups = group_tables(run_dir, model)
    if groups:
        out.append(("Country groups by LLM-prior distance", groups))
    return out
