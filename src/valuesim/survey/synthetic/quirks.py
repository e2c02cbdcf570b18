"""The official WVS-7 file's quirks, laid over a synthetic population so tests meet them.

What the real release does that the printed questionnaire does not (issue 10): one country's
respondents share a single ``D_INTERVIEW``; code lists hold codes the label file never listed
(ISO numeric countries of birth, 4-digit languages, country-prefixed parties and ethnic
groups); counts the bank top-codes at 7 are stored uncapped; parents' education has a code 9;
a whole country was not asked an item (-4); ~300 columns valuesim does not use; and WVS's
derived indices (Y001-Y003, SACSECVAL, RESEMAVAL, I_... components). Plus the labelled export
of the same population (variable labels as headers, value labels in cells) with what real
exports do to labels: multi-line headers, shortened and prefixed value labels, articles and
spellings, truncated headers, recoded items next to the originals (see ``labelled_export``).
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
DERIVED_COLUMNS = ("Y001", "Y002", "Y003", "SACSECVAL", "RESEMAVAL", "I_AUTHORITY", "I_VOI2_00")


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
    for col, values in derived_indices(f, rng).items():
        f[col] = values
    return f


def derived_indices(f: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """WVS's derived indices as the official file stores them (missing: -5, or -99 for the
    Welzel indices): Y002 and Y003 computed from the answers as WVS defines them, the others
    drawn (valuesim only carries them; it never computes them)."""
    n = len(f)
    first, second = f["Q154"].to_numpy(), f["Q155"].to_numpy()
    ok = np.isin(first, [1, 2, 3, 4]) & np.isin(second, [1, 2, 3, 4])
    post = np.isin(first, [2, 4]).astype(int) + np.isin(second, [2, 4]).astype(int)
    y002 = np.where(ok, post + 1, -5)
    kids = f[["Q8", "Q14", "Q15", "Q17"]].to_numpy()
    y003 = np.where(np.isin(kids, [1, 2]).all(axis=1),
                    (kids[:, 0] == 1).astype(int) + (kids[:, 1] == 1) - (kids[:, 2] == 1) - (kids[:, 3] == 1), -5)
    lost = rng.random(n) < 0.02
    return {
        "Y001": np.where(rng.random(n) < 0.03, -5, rng.integers(0, 6, n)),
        "Y002": y002, "Y003": y003,
        "SACSECVAL": np.where(lost, -99.0, np.round(rng.random(n), 6)),
        "RESEMAVAL": np.where(lost, -99.0, np.round(rng.random(n), 6)),
        "I_AUTHORITY": rng.choice([0.0, 0.5, 1.0], n),
        "I_VOI2_00": rng.choice([0.0, 0.33, 0.66, 1.0], n),
    }


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


# What real labelled exports write instead of the label file's text (issue 21 item 2).
HEADER_VARIANTS = {
    "Q64": "Confidence: The Churches", "Q65": "Confidence: The armed forces",
    "Q68": "Confidence: Labour Unions", "Q72": "Confidence: Political Parties",
    "Q74": "Confidence: The Civil service",
    "Q114": "nvolved in corruption: Business executives",  # cut at the start in the file itself
}
VALUE_VARIANTS = {
    "Q111": {1: "Protect environment", 2: "Economic growth"},
    "Q289": {3: "Orthodox", 8: "Other Christian"},
    "Q263": {2: "I am an immigrant to this country"},
    "Q254": {5: "I am not"},
    **{q: {0: "Early childhood education (ISCED 0)", 1: "Primary education (ISCED Primary education (ISCED 1))"}
       for q in ("Q275", "Q276", "Q277", "Q278")},
    **{q: {9: "Farm worker"} for q in ("Q281", "Q282", "Q283")},
}
# Prefixed long forms, written for every other respondent next to the short ones above.
PREFIXED = {"Q111": {1: "A: Protecting the environment should be given priority, even if it causes slower "
                        "economic growth and some loss of jobs"}}
MEMBERSHIP = tuple(f"Q{i}" for i in range(94, 106))  # recoded as Q94R ... Q105R: member or not
# Headers no item owns: one that could name three variables, one like an item, one unlike any.
AMBIGUOUS_HEADER = "Highest educational level: Respondent"
RESEMBLING_HEADER = "Confidence: The Regional Parliament"
UNRELATED_HEADER = "Country GDP per capita"


def _multi_line(label: str, k: int) -> str:
    """A long label with a line break near its middle (as the official labels have them)."""
    if len(label) < 40:
        return label
    cut = label.find(" ", len(label) // 2)
    return label if cut < 0 else label[:cut] + ("\r\n" if k % 5 == 0 else "\n") + label[cut + 1:]


def _item_header(q, labels: dict, i: int) -> str:
    header = HEADER_VARIANTS.get(q.id) or labels["variables"][q.id]
    if q.id == "Q234":
        header = header[:90]  # a long label cut at the end
    elif i % 7 == 3 and q.id not in HEADER_VARIANTS:
        header = header.replace("'", "´").lower()
    return _multi_line(header, i)


def labelled_export(frame: pd.DataFrame, codebook: Codebook, repeated_headers: bool = False) -> pd.DataFrame:
    """The same population as a labelled export, with what real exports do: headers are the
    official variable labels with line breaks (quoted multi-line fields in a CSV), articles,
    British spellings, "´" for "'" and lower case, one cut at the start and one at the end;
    cells are the official value labels, some shortened or prefixed (``VALUE_VARIANTS``,
    ``PREFIXED``); unlabelled codes (new countries, languages, counts) stay numbers, country
    of birth by name. No country, id or year column names. Beside the items: the recoded membership
    items (Q94R ...), the equilibrated weight, WVS's derived indices when the frame has them
    (Y002 as labels), and three headers no item owns (``AMBIGUOUS_HEADER`` ...).
    ``repeated_headers``: the 3-point recodes Q33_3, Q34_3, Q35_3 follow Q33, Q34, Q35 under the
    very same header (their official labels are the same); CSV only, Parquet refuses it."""
    from ..wvs7.countries import country_name
    from ..wvs7.derived import INDICES

    labels = _file_labels()
    country_labels = labels["values"]["B_COUNTRY_ALPHA"]
    alphas = frame["B_COUNTRY_ALPHA"]
    out: dict[str, object] = {
        "Interview ID": frame["D_INTERVIEW"],
        "ISO 3166-1 alpha-3 country code": alphas.map(lambda a: country_labels.get(a, a)),
        "Weight": frame["W_WEIGHT"],
    }
    alternate = np.arange(len(frame)) % 2 == 0
    for i, q in enumerate(codebook):
        values = labels["values"].get(q.id, {})
        codes = frame[q.id].to_numpy()
        names = {}
        for code in np.unique(codes):
            text = VALUE_VARIANTS.get(q.id, {}).get(int(code)) or values.get(str(int(code)))
            if text is None and q.code_list == "country":
                text = country_name(int(code))
            names[int(code)] = text if text is not None else str(int(code))
        cells = pd.Series(codes).map(names).to_numpy(dtype=object).copy()
        for code, text in PREFIXED.get(q.id, {}).items():
            cells[(codes == code) & alternate] = text
        header = _item_header(q, labels, i)
        out[header] = cells
        recode = f"{q.id}_3"
        if repeated_headers and recode in frame and recode in labels["other_values"]:
            texts = labels["other_values"][recode]
            out[(header, recode)] = frame[recode].map(lambda c: texts.get(str(int(c)), str(int(c)))).to_numpy()
    other = labels["other_variables"]
    for k, q in enumerate(MEMBERSHIP):
        member = frame[q].to_numpy()
        out[_multi_line(other[f"{q}R"], k)] = np.where(member < 0, "Missing; Unknown",
                                                       np.where(member >= 1, "Mentioned (member)",
                                                                "Not mentioned (do not belong)"))
    out[other["S018"]] = frame["W_WEIGHT"]
    out["Year of survey"] = frame["A_YEAR"]
    y_labels = {"Y001": {0: "Materialist", 5: "Postmaterialist"},
                "Y002": {1: "Materialist", 2: "Mixed", 3: "Postmaterialist"}}
    indices = {n: frame[n].to_numpy() for n in DERIVED_COLUMNS if n in frame}
    if not indices:
        indices = derived_indices(frame, np.random.default_rng([len(frame), 21]))
    for k, (name, values) in enumerate(indices.items()):
        cells = np.array([y_labels.get(name, {}).get(v) or format(v, "g") for v in values.tolist()], dtype=object)
        cells[values < INDICES[name].low] = "Missing; Unknown"
        out[_multi_line(INDICES[name].label, k)] = cells
    out[AMBIGUOUS_HEADER] = frame["Q275"].clip(-5, 3)
    out[RESEMBLING_HEADER] = frame["Q73"]
    out[UNRELATED_HEADER] = frame["B_COUNTRY"] * 10.0
    if "SYNTHETIC" in frame:  # the marker keeps its name: a labelled demo file is still synthetic
        out["SYNTHETIC"] = frame["SYNTHETIC"]
    export = pd.DataFrame({k: v for k, v in enumerate(out.values())})
    export.columns = [key[0] if isinstance(key, tuple) else key for key in out]
    return export
