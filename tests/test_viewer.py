"""`valuesim view` without a browser: every page over HTTP, the SQL filters against the store,
read-only access, a run in progress, escaping, the static copy and the CLI's errors."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request

import pytest

from viewer_helpers import EVIL_ID, Serving, add_evil_person, population, study
from valuesim.cli import main
from valuesim.runs.rundir import RunDir
from valuesim.runs.store import Row
from valuesim.viewer.text import clean, file_name


@pytest.fixture(scope="module")
def runs(tmp_path_factory, synthetic_file):
    root = tmp_path_factory.mktemp("viewer")
    ev = study(root, synthetic_file(200, 2))
    add_evil_person(ev)
    return ev, population(root)


@pytest.fixture(scope="module")
def served(runs):
    s = Serving(list(runs))
    yield s
    s.close()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        return r.read().decode("utf-8")


def snapshot(path) -> dict:
    """Every file of a run and its hash (SQLite's shared-memory index, which readers use to
    coordinate with a writer, is left out: it is not part of the run)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())
            if p.is_file() and not p.name.endswith("-shm")}


def test_every_page_answers_and_nothing_in_the_run_changes(runs, served):
    ev, pop = runs
    preds = RunDir(ev).predictions()
    before = snapshot(ev), snapshot(pop)
    rid = preds.loc[preds["method"] == "valuesim", "respondent_id"].iloc[0]
    pages = ["", "r/study/", "r/study/predictions", "r/study/predictions?method=valuesim&outcome=wrong&sort=truth&desc=1",
             f"r/study/person/{rid}", "r/study/item/Q46", "r/study/compare",
             "r/study/compare?a=study:valuesim&b=study:full-info&show=disagree", "r/pop/", "r/pop/country/DEU",
             "r/pop/persona/DEU/0", "r/pop/predictions?country=NGA"]
    for page in pages:
        html = get(served.url + page)
        assert "</html>" in html, page
    assert "Overall scores with confidence intervals" in get(served.url + "r/study/")
    assert "chance (uniform guess)" in get(served.url + "r/study/")
    assert (snapshot(ev), snapshot(pop)) == before  # read-only: not a byte of either run changed


def test_filters_match_the_store(runs, served):
    ev, _ = runs
    preds = RunDir(ev).predictions()
    main_rows = preds[preds["profile_limit"] < 0]
    vs = main_rows[main_rows["method"] == "valuesim"]
    wrong = vs[~vs["failed"] & (vs["answer"] != vs["truth"])]
    failed = vs[vs["failed"]]
    for outcome, expected in (("wrong", len(wrong)), ("failed", len(failed)), ("", len(vs))):
        html = get(served.url + f"r/study/predictions?method=valuesim&outcome={outcome}")
        assert f'id="count">{expected} predictions' in html, outcome
    cat = main_rows["category"].dropna().iloc[0]
    html = get(served.url + f"r/study/predictions?category={cat}")
    assert f'id="count">{int((main_rows["category"] == cat).sum())} predictions' in html
    html = get(served.url + "r/study/predictions?item=Q46&country=DEU")
    assert f'id="count">{int(((main_rows.question_id == "Q46") & (main_rows.country == "DEU")).sum())} predictions' in html


def test_pages_are_paginated_and_sorted_in_sql(runs):
    from valuesim.viewer.source import Filters, RunSource

    src = RunSource(runs[0], "study")
    first = src.predictions(Filters(sort="question", desc=True), per_page=7)
    second = src.predictions(Filters(sort="question", desc=True, page=2), per_page=7)
    assert first.total == second.total > 14 and first.pages == -(-first.total // 7)
    assert len(first.rows) == 7 and first.rows[0]["question_id"] >= second.rows[-1]["question_id"]
    keys = {(r["method"], r["respondent_id"], r["question_id"]) for r in first.rows + second.rows}
    assert len(keys) == 14  # no row on two pages
    last = src.predictions(Filters(page=10_000), per_page=7)
    assert last.page == last.pages and last.rows  # a page past the end shows the last one


def test_a_run_in_progress_shows_new_predictions_on_reload(runs, served):
    ev, _ = runs
    url = served.url + "r/study/predictions?person=newcomer"
    assert 'id="count">0 predictions' in get(url)
    store = RunDir(ev).store()  # a runner writing while the viewer serves
    try:
        store.add([Row(method="full-info", question_id="Q1", distribution={1: 1.0}, fold=0, country="DEU",
                       respondent_id="newcomer", answer=1, truth=1, model="scripted")])
        store.flush()
        assert 'id="count">1 predictions' in get(url)
        assert "newcomer" in get(served.url + "r/study/person/newcomer")
    finally:
        store.close()


def test_model_text_is_escaped_and_stripped_of_escapes(served):
    html = get(served.url + "r/study/person/" + urllib.request.quote(EVIL_ID, safe=""))
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "\x1b" not in html and "\x07" not in html and "[31m" not in html and "red and done." in html
    assert "evil&lt;b&gt;1" in html


def test_compare_the_same_method_in_two_runs_on_one_split(runs, tmp_path):
    ev, _ = runs
    again = tmp_path / "again"
    assert main(["eval", str(RunDir(ev).info()["settings"]["data"]["path"]), "--methods", "full-info", "--model",
                 "scripted", "--split", str(RunDir(ev).split_file), "--out", str(again), "--no-progress"]) == 0
    first = RunDir(ev).predictions()
    users = RunDir(ev).split_json()["users"]  # (another test adds a person outside the split)
    first = first[(first.method == "full-info") & (first.profile_limit < 0) & first.respondent_id.isin(users)]
    server = Serving([ev, again])
    try:
        html = get(server.url + "r/study/compare?a=study:full-info&b=again:full-info&show=disagree")
    finally:
        server.close()
    assert "different splits" not in html
    # the scripted model answers the same prompt the same way: every stored pair agrees
    n = int((~first.failed).sum())
    assert f"<th>Same predictions compared</th><td>{len(first)}</td>" in html
    assert f"<th>Same answer</th><td>{n}</td>" in html or n == 0


def test_unknown_pages_are_404_not_tracebacks(served):
    for page in ("r/study/person/nobody", "r/nope/", "r/study/item/Q999", "static/../source.py"):
        with pytest.raises(urllib.error.HTTPError) as err:
            get(served.url + page)
        assert err.value.code == 404 and b"Traceback" not in err.value.read()


def test_text_cleaning_and_file_names():
    assert clean("a\x1b[31mb\x1b[0m\x1b]0;t\x07c\r\x00d\u202e") == "abcd"
    assert clean("keeps\ttabs\nand lines") == "keeps\ttabs\nand lines"
    assert file_name("Q46") == "Q46"
    names = {file_name(n) for n in ("../x", "a/b", "a_b", "", "..")}
    assert len(names) == 5 and not any("/" in n or n in ("", ".", "..") for n in names)


def test_cli_static_copy_and_errors(runs, tmp_path, capsys):
    ev, pop = runs
    out = tmp_path / "copy"
    assert main(["view", str(ev), str(pop), "--static", str(out)]) == 0
    assert "open" in capsys.readouterr().out
    assert (out / "index.html").exists() and (out / "static" / "viewer.css").exists()
    assert (out / "r" / "study" / "predictions" / "valuesim--wrong--1.html").exists()
    assert (out / "r" / "pop" / "country" / "DEU.html").exists()
    assert "<script>alert" not in "".join(p.read_text() for p in (out / "r" / "study" / "person").iterdir())
    assert main(["view", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "predictions.sqlite").write_bytes(b"not a database" * 100)
    assert main(["view", str(bad)]) == 2
    assert "damaged or not a SQLite database" in capsys.readouterr().err
    assert main(["view", str(ev), "--static", str(ev / "copy")]) == 2
    assert "never writes to a run" in capsys.readouterr().err and not (ev / "copy").exists()
