"""The official WVS-7 file's quirks, laid over a synthetic population so tests meet them.

What the real release does that the printed questionnaire does not (issue 10): one country's
respondents share a single ``D_INTERVIEW``; code lists hold codes the label file never listed
(ISO numeric countries of birth, 4-digit languages, country-prefixed parties and ethnic
groups); counts the bank top-codes at 7 are stored uncapped; parents' education has a code 9;
a whole country was not asked an item (-4); and ~300 columns valuesim does not use. Plus the
labelled export of the same population (variable labels as headers, value labels in cells).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ..model import Codebook

# Codes real files carry and the bank (label file 5-0-0) lacks, per code-list item.
BIRTH_CODES = (120, 462, 204, 516)  # Cameroon, Maldives, Benin, Namibia
LANGUAGE_CODES = (1105, 1190)
UNCAPPED = {"Q270": (8, 9, 10, 11, 12, 15, 17, 23), "Q274": (8, 9, 10, 12, 15)}
NOT_ASKED_ITEM = "Q57"  # "not asked" (-4) for every respondent of the first country
EXTRA_COLUMNS = ("Q33_3", "Q34_3", "Q35_3", "Q275A", "Q275R", "Q276A", "Q276R", "Q277A", "Q277R",
                 "Q278A", "Q278R", "Q288R", "Q289CS9", "S018", "S025", "A_STUDY", "C_COW_NUM",
                 "C_COW_ALPHA", "N_REGION_ISO", "J_INTDATE")


def shared_interview(code: int) -> int:
    """The one D_INTERVIEW every respondent of the quirk country carries (like 858069901)."""
    return code * 1_000_000 + 69_901


def add_quirks(frame: pd.DataFrame, codebook: Codebook, seed: int = 0) -> pd.DataFrame:
    """A copy of a synthetic frame in the official layout with the real file's quirks."""
    rng = np.random.default_rng([seed, 10])
    f = frame.copy()
    n = len(f)
    alphas = f["B_COUNTRY_ALPHA"].to_numpy()
    countries = list(dict.fromkeys(alphas))
    last = alphas == countries[-1]
    f.loc[last, "D_INTERVIEW"] = shared_interview(int(f.loc[last, "B_COUNTRY"].iloc[0]))

    def some(qid: str, share: float) -> np.ndarray:
        return (f[qid].to_numpy() >= 0) & (rng.random(n) < share)

    for qid in ("Q266", "Q267", "Q268"):
        rows = some(qid, 0.03)
        f.loc[rows, qid] = rng.choice(BIRTH_CODES, rows.sum())
    rows = some("Q272", 0.03)
    f.loc[rows, "Q272"] = rng.choice(LANGUAGE_CODES, rows.sum())
    for qid in ("Q290", "Q223"):
        listed = set(codebook[qid].codes)
        rows = some(qid, 0.03)
        prefixed = f["B_COUNTRY"].to_numpy() * 1000 + 990 + rng.integers(0, 9, n)
        new = np.where(np.isin(prefixed, list(listed)), prefixed + 1, prefixed)
        f.loc[rows, qid] = new[rows]
    for qid, values in UNCAPPED.items():
        rows = some(qid, 0.04)
        f.loc[rows, qid] = rng.choice(values, rows.sum())
    for qid in ("Q277", "Q278"):
        rows = some(qid, 0.01)
        f.loc[rows, qid] = 9
    f.loc[alphas == countries[0], NOT_ASKED_ITEM] = -4

    extra = {
        "Q33_3": f["Q33"].clip(lower=-5), "Q34_3": f["Q34"], "Q35_3": f["Q35"],
        "Q275A": f["B_COUNTRY"] * 1000 + f["Q275"].clip(lower=0), "Q275R": f["Q275"].clip(-5, 3),
        "Q276A": f["B_COUNTRY"] * 1000 + f["Q276"].clip(lower=0), "Q276R": f["Q276"].clip(-5, 3),
        "Q277A": f["B_COUNTRY"] * 1000 + f["Q277"].clip(lower=0), "Q277R": f["Q277"].clip(-5, 3),
        "Q278A": f["B_COUNTRY"] * 1000 + f["Q278"].clip(lower=0), "Q278R": f["Q278"].clip(-5, 3),
        "Q288R": f["Q288"].clip(-5, 3), "Q289CS9": f["B_COUNTRY"] * 100 + f["Q289"].clip(lower=0),
        "S018": np.round(f["W_WEIGHT"] * 1.0, 6), "S025": f["B_COUNTRY"] * 10000 + f["A_YEAR"],
        "A_STUDY": np.full(n, 2), "C_COW_NUM": f["B_COUNTRY"] + 1,
        "C_COW_ALPHA": f["B_COUNTRY_ALPHA"].str[:2] + "C", "N_REGION_ISO": f["B_COUNTRY"] * 1000 + 1,
        "J_INTDATE": f["A_YEAR"] * 10000 + 315,
    }
    for col in EXTRA_COLUMNS:
        f[col] = extra[col]
    return f


def expected_codes(quirky: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The codes a correct import of ``add_quirks`` output holds: counts top-coded to 7,
    parents' education code 9 missing (-5); everything else as written."""
    out = quirky[codebook.ids].copy()
    for qid in UNCAPPED:
        out[qid] = out[qid].clip(upper=max(codebook[qid].codes))
    for qid in ("Q277", "Q278"):
        out.loc[out[qid] == 9, qid] = -5
    return out


@lru_cache(maxsize=1)
def _file_labels() -> dict:
    from ..wvs7 import labelled

    return json.loads(resources.files(labelled.__package__).joinpath("file_labels.json").read_text(encoding="utf-8"))


def labelled_export(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The same population as a labelled export: headers are the official variable labels
    (some with "´" for "'" and lower case, as real exports have them), cells the official value
    labels; unlabelled codes (new countries, languages, counts) stay numbers, country of birth
    by name. No country or id column names; two covariate columns valuesim cannot map."""
    from ..wvs7.countries import country_name

    labels = _file_labels()
    out: dict[str, object] = {
        "Interview ID": frame["D_INTERVIEW"],
        "ISO 3166-1 alpha-3 country code": frame["B_COUNTRY_ALPHA"].map(labels["values"]["B_COUNTRY_ALPHA"]),
        "Weight": frame["W_WEIGHT"],
    }
    for i, q in enumerate(codebook):
        header = labels["variables"][q.id]
        if i % 7 == 3:
            header = header.replace("'", "´").lower()
        values = labels["values"].get(q.id, {})
        codes = frame[q.id].to_numpy()
        uniques = np.unique(codes)
        names = {}
        for code in uniques:
            text = values.get(str(int(code)))
            if text is None and q.code_list == "country":
                text = country_name(int(code))
            names[int(code)] = text if text is not None else str(int(code))
        out[header] = pd.Series(codes).map(names).to_numpy()
    out["Post-materialist index (12 items)"] = np.random.default_rng(0).integers(0, 6, len(frame))
    out["Country GDP per capita"] = frame["B_COUNTRY"] * 10.0
    return pd.DataFrame(out)
