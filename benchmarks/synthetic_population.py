"""How fast the synthetic population is made, and how much structure it has.

Structure: with a fixed split of people (80/20) and a fixed set of held-out value items,
predict each held-out answer from the person's other value answers. A realistic population
gives: chance < country marginal (modal answer in the person's country) < k-NN / logistic
regression on the profile, with accuracy still far from 100%.

    python benchmarks/synthetic_population.py [--respondents 97220] [--structure-n 3000] [--targets 30]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def speed(respondents: int, seed: int) -> list[tuple[str, float]]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from valuesim.survey.synthetic import generate

    start = time.perf_counter()
    cpu = time.process_time()
    frame = generate(respondents=respondents, seed=seed)
    gen = (time.perf_counter() - start, time.process_time() - cpu)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.csv"
        start, cpu = time.perf_counter(), time.process_time()
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pacsv.write_csv(table, str(path), write_options=pacsv.WriteOptions(quoting_style="needed"))
        write = (time.perf_counter() - start, time.process_time() - cpu)
        size = path.stat().st_size / 1e6
    print(f"\n{respondents} respondents x {frame.shape[1]} columns, CSV {size:.0f} MB")
    print(f"{'step':<10} {'wall s':>7} {'cpu s':>7}")
    for name, (wall, c) in (("generate", gen), ("write", write)):
        print(f"{name:<10} {wall:7.1f} {c:7.1f}")
    print(f"{'total':<10} {gen[0] + write[0]:7.1f} {gen[1] + write[1]:7.1f}   (target: < 60 s wall)")


def structure(respondents: int, n_targets: int, seed: int) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    from valuesim.survey.synthetic import generate
    from valuesim.survey.wvs7.bank import load_codebook

    codebook = load_codebook()
    frame = generate(respondents=respondents, seed=seed)
    items = [q.id for q in codebook if q.category != "Demo" and q.options and len(q.codes) <= 11]
    rng = np.random.default_rng(0)
    targets = sorted(rng.choice(items, n_targets, replace=False), key=lambda q: int(q[1:]))
    profile = [q for q in items if q not in targets]
    x = frame[profile].to_numpy(float).copy()
    x[x < 0] = np.nan
    x = np.nan_to_num((x - np.nanmean(x, 0)) / (np.nanstd(x, 0) + 1e-9))
    country = frame["B_COUNTRY_ALPHA"].to_numpy()
    x_lr = np.hstack([x, pd.get_dummies(country).to_numpy(float)])
    train = rng.random(len(frame)) < 0.8
    rows = []
    for q in targets:
        y = frame[q].to_numpy()
        ok = y >= 0
        tr, te = train & ok, ~train & ok
        modes = {c: pd.Series(y[tr & (country == c)]).mode().iloc[0] for c in np.unique(country[tr])}
        marginal = np.mean([y[i] == modes.get(country[i]) for i in np.flatnonzero(te)])
        knn = (KNeighborsClassifier(30).fit(x[tr], y[tr]).predict(x[te]) == y[te]).mean()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lr = LogisticRegression(max_iter=300, C=0.02).fit(x_lr[tr], y[tr])
        logreg = (lr.predict(x_lr[te]) == y[te]).mean()
        rows.append((q, codebook[q].kind.value, len(codebook[q].codes), 1 / len(codebook[q].codes), marginal, knn, logreg))
    table = pd.DataFrame(rows, columns=["item", "kind", "options", "chance", "country_marginal", "knn30", "logreg"])
    print(f"\nHeld-out accuracy, {respondents} respondents (80/20 split of people), "
          f"{n_targets} held-out items, profile = {len(profile)} other value items")
    print(table.round(3).to_string(index=False))
    print("\nmean: " + "  ".join(f"{c} {table[c].mean():.3f}" for c in ("chance", "country_marginal", "knn30", "logreg")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=97220, help="size for the speed run")
    parser.add_argument("--structure-n", type=int, default=3000, help="size for the structure run")
    parser.add_argument("--targets", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    speed(args.respondents, args.seed)
    structure(args.structure_n, args.targets, args.seed)


if __name__ == "__main__":
    main()
