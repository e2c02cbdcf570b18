"""Splits: folds disjoint and covering, no target in its own profile, unanswered items neither
profile nor target, seeded and repeatable through split.json, the profile-size curve."""

from __future__ import annotations

import pytest

from eval_helpers import CODEBOOK, small_survey
from valuesim.errors import ConfigError, DataError
from valuesim.evaluation.protocol import (
    ALL_PROFILE,
    Split,
    answered_items,
    eligible_items,
    make_split,
    parse_items,
    sample_users,
)


def test_default_eligible_items_leave_out_numeric_and_country_specific():
    items = eligible_items(CODEBOOK)
    assert len(items) == 281
    assert CODEBOOK.country_specific == ("Q223", "Q266", "Q267", "Q268", "Q272", "Q290")  # asked of the codebook
    assert not set(CODEBOOK.country_specific) & set(items)
    assert all(CODEBOOK[q].kind.value != "numeric" for q in items)
    assert items == [q for q in CODEBOOK.ids if q in set(items)]  # codebook order


def test_items_override_and_ranges():
    assert parse_items("Q1-Q3,Q10", CODEBOOK) == ["Q1", "Q2", "Q3", "Q10"]
    assert eligible_items(CODEBOOK, "Q3,Q1") == ["Q1", "Q3"]
    with pytest.raises(ConfigError, match="Q999"):
        parse_items("Q1,Q999", CODEBOOK)
    with pytest.raises(ConfigError, match="numeric"):
        eligible_items(CODEBOOK, "Q262")


def test_folds_disjoint_covering_and_targets_never_in_own_profile():
    survey = small_survey()
    split = make_split(survey, users=20, folds=5, seed=3)
    flat = [q for f in split.folds for q in f]
    assert len(flat) == len(set(flat)) == len(split.items)  # disjoint and covering
    assert set(flat) == set(split.items)
    assert max(map(len, split.folds)) - min(map(len, split.folds)) <= 1
    assert "Q262" not in split.items and "Q223" not in split.items
    assert set(split.profile_only) == {"Q262", "Q223"}
    answered = answered_items(survey, split.users, split.items + split.profile_only)
    units = list(split.units(answered))
    assert {u.fold for u in units} == set(range(5))
    for u in units:
        assert not set(u.targets) & set(u.profile)
        assert set(u.targets) <= set(split.folds[u.fold])
        assert set(u.targets) | set(u.profile) <= answered[u.user]  # unanswered: neither
    # every answered eligible item is a target exactly once per user
    for user in split.users:
        targets = [q for u in units if u.user == user for q in u.targets]
        assert sorted(targets) == sorted(answered[user] & set(split.items))


def test_unanswered_item_is_neither_profile_nor_target():
    survey = small_survey(n=10, missing=0.0)
    rid = survey.data.index[0]
    qid = [q for q in survey.question_ids if q not in ("Q262", "Q223")][0]
    survey.data.loc[rid, qid] = -2
    split = make_split(survey, users=list(survey.data.index), folds=5)
    units = [u for u in split.units(answered_items(survey, split.users, split.items + split.profile_only))
             if u.user == rid]
    assert all(qid not in u.targets and qid not in u.profile for u in units)


def test_split_is_seeded_and_round_trips_through_json(tmp_path):
    survey = small_survey()
    a = make_split(survey, users=15, folds=4, seed=7, curve=True)
    b = make_split(survey, users=15, folds=4, seed=7, curve=True)
    c = make_split(survey, users=15, folds=4, seed=8, curve=True)
    assert a == b
    assert a.users != c.users or a.folds != c.folds
    path = a.save(tmp_path / "split.json")
    assert Split.load(path) == a


def test_bad_split_file_is_one_clear_error(tmp_path):
    p = tmp_path / "split.json"
    p.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        Split.load(p)
    p.write_text('{"users": []}')
    with pytest.raises(DataError, match="malformed"):
        Split.load(p)


def test_stratified_sample_balances_countries():
    survey = small_survey(n=90)
    users = sample_users(survey, 30, seed=1, stratify="country")
    counts = survey.data.loc[users, "country"].value_counts()
    assert len(users) == len(set(users)) == 30
    assert counts.max() - counts.min() <= 1
    assert sample_users(survey, 30, seed=1) == sample_users(survey, 30, seed=1)


def test_curve_units_share_targets_and_nest_profiles():
    survey = small_survey(n=20)
    split = make_split(survey, users=5, folds=5, seed=0, curve=True, curve_sizes=(0, 5, 10, 1000))
    answered = answered_items(survey, split.users, split.items + split.profile_only)
    units = [u for u in split.units(answered) if u.fold == split.curve_fold]
    assert split.profile_limits() == [ALL_PROFILE, 0, 5, 10, 1000]
    for user in split.users:
        mine = {u.profile_limit: u for u in units if u.user == user}
        assert len({tuple(u.targets) for u in mine.values()}) == 1  # the same targets
        assert mine[0].profile == []
        assert len(mine[5].profile) == 5 and set(mine[5].profile) < set(mine[10].profile)  # nested
        order = mine[ALL_PROFILE].profile
        assert mine[10].profile == sorted(mine[10].profile, key=order.index)  # shown in item order
        assert set(mine[1000].profile) == set(mine[ALL_PROFILE].profile)


# --- budgets: run some folds, score some items, evaluate everyone ------------------------------
def test_run_folds_runs_only_the_first_folds_and_folds_1_says_what_to_do():
    survey = small_survey()
    split = make_split(survey, users=10, folds=5, seed=1, run_folds=1)
    answered = answered_items(survey, split.users, split.items + split.profile_only)
    units = list(split.units(answered))
    assert units and {u.fold for u in units} == {0}
    assert len(split.folds) == 5 and sum(map(len, split.folds)) == len(split.items)  # still a 5-fold split
    assert "the first 1 of 5 folds" in split.sizes()
    assert Split.from_json(split.to_json()) == split
    with pytest.raises(ConfigError, match="--folds 5 --run-folds 1"):
        make_split(survey, users=10, folds=1)
    with pytest.raises(ConfigError, match="between 1 and --folds"):
        make_split(survey, users=10, folds=5, run_folds=6)


def test_items_choose_targets_only_and_the_profile_keeps_every_other_item():
    survey = small_survey(missing=0.0)
    chosen = survey.question_ids[:6]
    split = make_split(survey, users=5, folds=3, seed=2, items=chosen)
    answered = answered_items(survey, split.users, split.items + split.profile_only)
    for u in split.units(answered):
        assert set(u.targets) <= set(chosen)
        # the profile: every item of the file the person answered except this fold's targets
        assert set(u.profile) == answered[u.user] - set(split.folds[u.fold])
        assert len(u.profile) > len(chosen)
    assert "targets: 6 items scored" in split.sizes()
    assert f"profile: up to {len(survey.question_ids) - 2} items" in split.sizes()


def test_profile_items_restrict_the_profile_on_purpose():
    survey = small_survey(missing=0.0)
    targets, pool = survey.question_ids[:6], survey.question_ids[10:14]
    split = make_split(survey, users=5, folds=3, items=targets, profile_items=pool)
    answered = answered_items(survey, split.users, split.items + split.profile_only)
    for u in split.units(answered):
        assert set(u.profile) == set(pool)
    assert "restricted with --profile-items" in split.sizes()
    with pytest.raises(ConfigError, match="--profile-items: unknown question id 'Q999'"):
        make_split(survey, users=5, folds=3, profile_items="Q999")


def test_users_all_deals_every_respondent_into_cross_fitting_groups():
    from valuesim.evaluation.crossfit import fit_plan

    survey = small_survey(n=40)
    split = make_split(survey, users="all", folds=3)
    assert len(split.users) == 40 and split.fit_groups == 5
    plan = fit_plan(survey, split)
    groups = [g for _, g in plan]
    assert sorted(u for g in groups for u in g) == sorted(split.users)  # each user in exactly one group
    for train, group in plan:
        assert not set(train) & group  # a group is never in its own training data
        assert set(train) | group == set(survey.data.index)  # ... and everyone else is
    with pytest.raises(ConfigError, match="--fit-groups 5"):
        fit_plan(survey, Split(split.users, split.items, split.folds, fit_groups=1))
    with pytest.raises(ConfigError, match="'all'"):
        make_split(survey, users="everyone", folds=3)


def test_bulk_respondents_equal_one_by_one():
    from valuesim.evaluation.crossfit import load_respondents

    survey = small_survey(n=30, missing=0.3)
    ids = list(survey.data.index[::3])
    bulk = load_respondents(survey, ids, chunk=4)
    assert list(bulk) == ids
    for rid in ids:
        assert bulk[rid] == survey.respondent(rid)
    assert any(bulk[rid].missing for rid in ids)  # missing codes kept apart, as one by one


def test_cli_budget_flags_and_sizes_in_summary_and_report(tmp_path, capsys):
    from valuesim.cli import main

    from valuesim.survey.synthetic import write_synthetic

    path = write_synthetic(tmp_path / "s.csv", respondents=60, countries=2, seed=3)
    out = tmp_path / "run"
    base = ["eval", str(path), "--methods", "country-marginal", "--users", "4", "--out", str(out), "--no-progress"]
    assert main(base + ["--folds", "1"]) == 2
    assert "--run-folds 1" in capsys.readouterr().err and not out.exists()
    assert main(base + ["--folds", "5", "--run-folds", "1", "--items", "Q1,Q2,Q3,Q4,Q5", "--report"]) == 0
    printed = capsys.readouterr().out
    assert "targets: 1 items scored (1 per fold, the first 1 of 5 folds)" in printed
    assert "every other item the person answered" in printed
    report = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "targets: 1 items scored" in report and "profiles shown: mean" in report
