"""The demo end to end with the scripted model: every step runs and the report is written."""

import pandas as pd

from valuesim.demo import run_demo


def test_demo_runs_study_and_writes_report(tmp_path, capsys):
    result = run_demo(out=tmp_path / "demo", model="scripted", users=2, targets=4, respondents=600,
                      countries=3, methods=("valuesim", "country-marginal", "regression"), progress=False)
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "Report:" in out
    assert "| country-marginal | no LLM |" in out  # the results table is printed

    html = result.report["html"].read_text(encoding="utf-8")
    assert "valuesim" in html and "<script>" not in html
    predictions = pd.read_parquet(result.report["parquet"])
    main = predictions[predictions["profile_limit"] < 0]
    # 2 users × 4 targets (all answered in the synthetic file at most) for each method
    per_method = main.groupby("method").size()
    assert set(per_method.index) == {"valuesim", "country-marginal", "regression"}
    assert per_method.max() <= 8 and per_method.min() >= 6
    # targets never appear in the profile used: the split's profile excludes the fold
    split = pd.read_json(result.run_dir / "split.json", typ="series")
    assert not set(split["folds"][0]) & set(split["profile_only"])
