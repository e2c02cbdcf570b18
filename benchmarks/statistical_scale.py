"""Statistical simulators at full WVS scale: quality next to chance, fit/predict time, memory.

    .venv/bin/python benchmarks/statistical_scale.py                 # 97,220 synthetic respondents
    .venv/bin/python benchmarks/statistical_scale.py --respondents 20000 --methods knn regression
    .venv/bin/python benchmarks/statistical_scale.py --data WVS_Cross-National_Wave_7_csv_v6_0.csv

Protocol (the paper's): questions are shuffled with the seed and cut into 5 folds; fold
``--fold``'s items are the targets, every other item is profile. ``--targets`` respondents are
drawn at random; every other respondent is training data (the only data ``fit`` sees). Each
target person is predicted on every target item they validly answered, from their profile only.

Metrics are computed here directly (the evaluation module is built separately):
accuracy = top-1 hit rate; normalized MAE = |predicted - true code| / n_steps over ordinal items;
both averaged per user first, then over users. Peak memory = tracemalloc peak of the fit and of
the predict phase (numpy buffers included), plus the process's max RSS at the end.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from valuesim.methods.base import PersonContext
from valuesim.methods.registry import get_method
from valuesim.survey.model import Kind, Profile
from valuesim.survey.survey import COUNTRY, WEIGHT, Survey

STAT_METHODS = ["chance", "global-marginal", "country-marginal", "knn", "regression"]


def load_synthetic(respondents: int, countries: int, seed: int, keep: str | None = None) -> Survey:
    """Write the synthetic file (official layout) and load it through the real importer."""
    from valuesim.survey import synthetic
    from valuesim.survey.importer import load_wvs7

    if keep and Path(keep).exists():
        return load_wvs7(keep)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(keep) if keep else Path(tmp) / "synthetic_wvs7.csv"
        synthetic.write_synthetic(path, respondents=respondents, countries=countries, seed=seed)
        return load_wvs7(path)


def split_fold(survey: Survey, n_targets: int, fold: int = 0, n_folds: int = 5, seed: int = 0):
    """(train survey, pairs, true codes): the fixed split the benchmark scores."""
    rng = np.random.default_rng(seed)
    qids = list(survey.question_ids)
    order = rng.permutation(len(qids))
    folds = np.array_split(order, n_folds)
    targets = [qids[i] for i in sorted(folds[fold])]
    target_set = set(targets)
    profile_ids = [q for q in qids if q not in target_set]
    ids = survey.data.index.to_numpy()
    chosen = rng.choice(len(ids), size=min(n_targets, len(ids) - 1), replace=False)
    test_ids = ids[np.sort(chosen)]
    train = survey.subset(np.setdiff1d(ids, test_ids, assume_unique=False))
    cb = survey.codebook
    prof_vals = survey.valid(profile_ids).loc[test_ids]
    targ_vals = survey.valid(targets).loc[test_ids]
    prof_q = [cb[q] for q in profile_ids]
    targ_q = [cb[q] for q in targets]
    pairs, truth = [], []
    for rid in test_ids:
        row = prof_vals.loc[rid].to_numpy()
        items = tuple((q, int(v)) for q, v in zip(prof_q, row) if not np.isnan(v) and q.is_valid(int(v)))
        person = PersonContext(str(rid), str(survey.data.at[rid, COUNTRY]), Profile(items),
                               float(survey.data.at[rid, WEIGHT]))
        trow = targ_vals.loc[rid].to_numpy()
        for q, v in zip(targ_q, trow):
            if not np.isnan(v) and q.is_valid(int(v)):
                pairs.append((person, q))
                truth.append(int(v))
    return train, pairs, truth, targets


def score(pairs, truth, predictions) -> tuple[float, float]:
    """(accuracy, normalized MAE), each averaged per user first."""
    hits: dict[str, list[float]] = {}
    errs: dict[str, list[float]] = {}
    for (person, q), true, pred in zip(pairs, truth, predictions):
        hits.setdefault(person.respondent_id, []).append(float(pred.answer == true))
        if q.kind == Kind.ORDINAL and q.n_steps > 0:
            errs.setdefault(person.respondent_id, []).append(abs(pred.answer - true) / q.n_steps)
    acc = float(np.mean([np.mean(v) for v in hits.values()]))
    mae = float(np.mean([np.mean(v) for v in errs.values()])) if errs else float("nan")
    return acc, mae


def run(survey: Survey, methods: list[str], n_targets: int, fold: int, seed: int, options: dict) -> list[dict]:
    t0 = time.perf_counter()
    train, pairs, truth, targets = split_fold(survey, n_targets, fold, seed=seed)
    print(f"split: {len(train)} training respondents, {n_targets} targets x {len(targets)} target items "
          f"= {len(pairs)} answered pairs ({time.perf_counter() - t0:.1f}s)", file=sys.stderr)
    rows = []
    for name in methods:
        method = get_method(name, **options.get(name, {}))
        tracemalloc.start()
        t = time.perf_counter()
        method.fit(train)
        fit_s = time.perf_counter() - t
        fit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        t = time.perf_counter()
        preds = method.predict_batch(pairs)
        pred_s = time.perf_counter() - t
        pred_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        acc, mae = score(pairs, truth, preds)
        failed = sum(p.failed for p in preds)
        rows.append(dict(method=name, accuracy=acc, nmae=mae, fit_s=fit_s, predict_s=pred_s,
                         peak_mib=max(fit_peak, pred_peak) / 2**20, failed=failed))
        print(f"  {name}: acc {acc:.3f} nMAE {mae:.3f} fit {fit_s:.1f}s predict {pred_s:.1f}s", file=sys.stderr)
    return rows


def print_table(rows: list[dict], header: str) -> None:
    print(header)
    print(f"| {'method':<18} | accuracy | norm. MAE | fit (s) | predict (s) | peak mem (MiB) | failed |")
    print(f"|{'-' * 20}|----------|-----------|---------|-------------|----------------|--------|")
    for r in rows:
        print(f"| {r['method']:<18} | {r['accuracy']:8.3f} | {r['nmae']:9.3f} | {r['fit_s']:7.1f} | "
              f"{r['predict_s']:11.1f} | {r['peak_mib']:14.0f} | {r['failed']:6d} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS: {rss:.0f} MiB")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--respondents", type=int, default=97220, help="synthetic respondents (default 97,220)")
    ap.add_argument("--countries", type=int, default=24, help="synthetic countries (default: all 24)")
    ap.add_argument("--data", help="a WVS-7 file to use instead of synthetic data")
    ap.add_argument("--keep", help="write the synthetic file here and reuse it if it exists")
    ap.add_argument("--targets", type=int, default=1000, help="target respondents (default 1000)")
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", nargs="+", default=STAT_METHODS)
    ap.add_argument("--k", type=int, help="knn: neighbours")
    ap.add_argument("--scope", choices=["country", "all"], help="knn: candidate neighbours")
    ap.add_argument("--family", choices=["ordinal", "multinomial"], help="regression: model family")
    ap.add_argument("--max-train", type=int, help="regression: training rows per target item")
    args = ap.parse_args(argv)
    options: dict = {"knn": {}, "regression": {}}
    for key, method, opt in [("k", "knn", "k"), ("scope", "knn", "scope"),
                             ("family", "regression", "family"), ("max_train", "regression", "max_train")]:
        if getattr(args, key) is not None:
            options[method][opt] = getattr(args, key)
    t = time.perf_counter()
    if args.data:
        from valuesim.survey.importer import load_wvs7

        survey, what = load_wvs7(args.data), args.data
    else:
        survey = load_synthetic(args.respondents, args.countries, args.seed, args.keep)
        what = f"synthetic, {args.countries} countries, seed {args.seed}"
    print(f"loaded {len(survey)} respondents x {len(survey.question_ids)} items ({what}) "
          f"in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    rows = run(survey, args.methods, args.targets, args.fold, args.seed, options)
    print_table(rows, f"{len(survey)} respondents ({what}); fold {args.fold} of 5; {args.targets} target "
                      f"respondents; options {options}")


if __name__ == "__main__":
    main()
