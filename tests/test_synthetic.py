"""The synthetic population: layout, determinism, valid codes, realistic missingness and structure."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from valuesim.errors import ConfigError
from valuesim.survey.model import MISSING_CODES
from valuesim.survey.synthetic import COUNTRIES, META_COLUMNS, SYNTHETIC_COLUMN, generate, write_synthetic

N = 1500


@pytest.fixture(scope="module")
def frame():
    return generate(respondents=N, countries=8, seed=3)


def _valid(frame: pd.DataFrame, qid: str) -> pd.Series:
    s = frame[qid]
    return s.where(s >= 0)


def test_layout_follows_the_official_file(frame, codebook):
    assert list(frame.columns[:6]) == ["A_WAVE", "A_YEAR", "B_COUNTRY", "B_COUNTRY_ALPHA", "D_INTERVIEW", "G_TOWNSIZE"]
    assert list(frame.columns) == list(META_COLUMNS) + codebook.ids + [SYNTHETIC_COLUMN]
    assert codebook.ids[0] == "Q1" and codebook.ids[-1] == "Q290"
    assert len(frame) == N
    assert (frame[SYNTHETIC_COLUMN] == 1).all()
    assert (frame["A_WAVE"] == 7).all()
    assert frame["D_INTERVIEW"].is_unique
    first = {c.alpha: c for c in COUNTRIES[:8]}
    assert set(frame["B_COUNTRY_ALPHA"]) == set(first)
    for alpha, rows in frame.groupby("B_COUNTRY_ALPHA"):
        c = first[alpha]
        assert (rows["B_COUNTRY"] == c.code).all() and (rows["A_YEAR"] == c.year).all()
        # interview ids look official: country code, "07", running number
        assert (rows["D_INTERVIEW"] // 1_000_000 == c.code).all()
        assert rows["W_WEIGHT"].mean() == pytest.approx(1.0, abs=1e-4)
        assert (rows["W_WEIGHT"] > 0).all()
    # countries are not all the same size (like real samples)
    assert frame["B_COUNTRY_ALPHA"].value_counts().nunique() > 1


def test_countries_by_code_and_bad_arguments():
    f = generate(respondents=60, countries=["SWE", 566], seed=1)
    assert set(f["B_COUNTRY_ALPHA"]) == {"SWE", "NGA"}
    with pytest.raises(ConfigError, match="unknown country"):
        generate(respondents=60, countries=["XXX"])
    with pytest.raises(ConfigError, match="1 to"):
        generate(respondents=60, countries=len(COUNTRIES) + 1)
    with pytest.raises(ConfigError, match="too few"):
        generate(respondents=2, countries=3)


def test_same_seed_same_bytes_other_seed_other_file(tmp_path):
    a = write_synthetic(tmp_path / "a.csv", respondents=300, seed=7)
    b = write_synthetic(tmp_path / "b.csv", respondents=300, seed=7)
    c = write_synthetic(tmp_path / "c.csv", respondents=300, seed=8)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)
    header = a.read_text().splitlines()[0]
    names = header.replace('"', "").split(",")
    assert names[0] == "A_WAVE" and names[-1] == SYNTHETIC_COLUMN and "Q290" in names


def test_every_code_is_valid_for_the_codebook(frame, codebook):
    missing = np.array(sorted(MISSING_CODES))
    for q in codebook:
        values = frame[q.id].to_numpy()
        answered = values[~np.isin(values, missing)]
        if q.options:
            bad = ~np.isin(answered, q.codes)
        else:
            lo, hi = q.valid_range
            bad = (answered < lo) | (answered > hi)
        assert not bad.any(), f"{q.id}: invalid codes {sorted(set(answered[bad]))[:5]}"
        assert len(answered) > 0 or (values == -4).all(), q.id


def test_missing_codes_are_realistic(frame, codebook):
    values = frame[codebook.ids].to_numpy()
    asked = values != -4
    dk = (values == -1).sum() / asked.sum()
    na = (values == -2).sum() / asked.sum()
    assert 0.01 <= dk <= 0.05, dk
    assert 0.002 <= na <= 0.015, na
    # items differ: political / knowledge items have more "don't know" than core values
    rate = lambda q: (frame[q] == -1).mean()  # noqa: E731
    assert rate("Q240") > 2 * rate("Q1")
    assert rate("Q92") > 0.05
    assert rate("Q260") == 0
    # people differ in their habit of saying "don't know"
    per_person = (values == -1).sum(axis=1)
    assert per_person.std() > 1.5 * np.sqrt(per_person.mean())
    # filters: spouse items are "not applicable" exactly for people without spouse/partner
    partner = frame["Q273"].isin([1, 2])
    for q in ("Q276", "Q280", "Q282"):
        assert (frame.loc[~partner & (frame["Q273"] > 0), q] == -3).all()
        assert (frame.loc[partner, q] != -3).all()
    assert (frame.loc[frame["Q281"] == 0, "Q284"] == -3).all()
    # some countries did not field some batteries (whole battery "not asked")
    not_asked = (values == -4).any(axis=0)
    assert not_asked.sum() >= 3


def test_age_and_year_of_birth_agree_with_survey_year(frame):
    ok = (frame["Q261"] > 0) & (frame["Q262"] > 0)
    gap = frame.loc[ok, "A_YEAR"] - frame.loc[ok, "Q261"] - frame.loc[ok, "Q262"]
    assert gap.isin([0, 1]).all()
    assert frame.loc[ok, "Q262"].between(18, 95).all()


def test_answers_hang_together_within_a_person(frame):
    god, religion = _valid(frame, "Q164"), _valid(frame, "Q6")
    # Q164: 10 = God very important; Q6: 1 = religion very important
    assert god.corr(-religion) > 0.4
    assert _valid(frame, "Q182").corr(_valid(frame, "Q184")) > 0.3  # homosexuality, abortion
    trust = [_valid(frame, f"Q{i}") for i in (71, 73)]  # government, parliament
    assert trust[0].corr(trust[1]) > 0.3
    # correlated but far from identical
    assert god.corr(-religion) < 0.9
    # education goes with knowledge: correct IMF answer (Washington DC = 1) more often with more schooling
    high = frame["Q275"] >= 6
    low = frame["Q275"].between(0, 2)
    answered = frame["Q92"] > 0
    assert (frame.loc[high & answered, "Q92"] == 1).mean() > (frame.loc[low & answered, "Q92"] == 1).mean() + 0.1


def test_demographics_go_with_values_within_countries(frame):
    def within(a: str, b: str) -> float:
        return float(np.mean([_valid(g, a).corr(_valid(g, b)) for _, g in frame.groupby("B_COUNTRY_ALPHA")]))

    assert within("Q262", "Q164") > 0.1  # older -> God more important
    assert within("Q275", "Q182") > 0.1  # more schooling -> homosexuality more justifiable
    assert within("Q288", "Q49") > 0.2  # higher income step -> more satisfied with life
    # denomination follows the country and the person's religiosity
    none = frame["Q289"] == 0
    assert _valid(frame, "Q164")[none].mean() < _valid(frame, "Q164")[frame["Q289"] > 0].mean() - 2
    assert (frame.loc[frame["B_COUNTRY_ALPHA"] == "EGY", "Q289"] == 5).mean() > 0.8


def test_countries_differ(frame):
    god = frame.assign(god=_valid(frame, "Q164")).groupby("B_COUNTRY_ALPHA")["god"].mean()
    assert god["EGY"] > god["SWE"] + 3 and god["NGA"] > god["JPN"] + 3
    homo = frame.assign(h=_valid(frame, "Q182")).groupby("B_COUNTRY_ALPHA")["h"].mean()
    assert homo["SWE"] > homo["PAK" if "PAK" in homo else "EGY"] + 2
    # skewed marginals like real items: family is "very important" for most
    assert (frame["Q1"] == 1).mean() > 0.7


def test_round_trip_through_the_importer(tmp_path, codebook):
    importer = pytest.importorskip("valuesim.survey.importer")
    path = write_synthetic(tmp_path / "syn.csv", respondents=400, countries=5, seed=2)
    survey = importer.load_wvs7(path)
    frame = generate(respondents=400, countries=5, seed=2)
    assert survey.synthetic
    assert len(survey) == 400 and not survey.absent
    assert list(survey.data.index[:2]) == [str(v) for v in frame["D_INTERVIEW"][:2]]
    assert (survey.data["Q164"].to_numpy() == frame["Q164"].to_numpy()).all()
    assert np.allclose(survey.data["weight"].to_numpy(), frame["W_WEIGHT"].to_numpy())


def test_prediction_is_possible_but_far_from_trivial(codebook):
    """k-NN on a person's other answers beats the country's modal answer, which beats chance."""
    from sklearn.neighbors import KNeighborsClassifier

    frame = generate(respondents=2500, countries=8, seed=11)
    items = [q.id for q in codebook if q.category != "Demo" and q.options and len(q.codes) <= 11]
    rng = np.random.default_rng(0)
    targets = list(rng.choice(items, 12, replace=False))
    profile = [q for q in items if q not in targets]
    x = frame[profile].to_numpy(float).copy()
    x[x < 0] = np.nan
    x = np.nan_to_num((x - np.nanmean(x, 0)) / (np.nanstd(x, 0) + 1e-9))
    train = rng.random(len(frame)) < 0.8
    country = frame["B_COUNTRY_ALPHA"].to_numpy()
    chance, marginal, knn = [], [], []
    for q in targets:
        y = frame[q].to_numpy()
        ok = y >= 0
        tr, te = train & ok, ~train & ok
        chance.append(1 / len(codebook[q].codes))
        modes = {c: pd.Series(y[tr & (country == c)]).mode().iloc[0] for c in np.unique(country[tr])}
        marginal.append(np.mean([y[i] == modes[country[i]] for i in np.flatnonzero(te)]))
        model = KNeighborsClassifier(n_neighbors=30).fit(x[tr], y[tr])
        knn.append((model.predict(x[te]) == y[te]).mean())
    chance, marginal, knn = map(np.mean, (chance, marginal, knn))
    print(f"chance {chance:.3f}  country marginal {marginal:.3f}  kNN {knn:.3f}")
    assert marginal > chance + 0.05
    assert knn > marginal + 0.03
    assert knn < 0.8
