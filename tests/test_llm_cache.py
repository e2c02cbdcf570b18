"""The SQLite response cache: keys, zero calls on a second run, concurrent writers."""

import sqlite3
import threading

import pytest

from valuesim.llm import ScriptedModel, cache_key, get_model

MSGS = [{"role": "user", "content": "How important is work? Answer: N"}]


def test_key_covers_parameters_and_sample_index():
    base = dict(kind="complete", model={"backend": "x"}, messages=MSGS, max_tokens=10, temperature=1.0,
                seed=0, stop=None, grammar=None, sample_index=0)
    k = cache_key(**base)
    assert k == cache_key(**dict(base))
    for change in [dict(sample_index=1), dict(temperature=0.7), dict(seed=1), dict(max_tokens=11),
                   dict(stop=["\n"]), dict(grammar="root ::= \"1\""), dict(model={"backend": "y"}),
                   dict(messages=[{"role": "user", "content": "other"}])]:
        assert cache_key(**{**base, **change}) != k, change


def test_second_identical_run_makes_zero_model_calls(tmp_path):
    path = tmp_path / "cache.sqlite"

    def run():
        scripted = ScriptedModel([("q", ["Answer: 1", "Answer: 2", "Answer: 3"])])
        model = get_model(scripted, cache=path)
        texts = [model.complete(MSGS + [{"role": "user", "content": "q"}], temperature=1.0, sample_index=i).text
                 for i in range(3)]
        dist = model.option_distribution(MSGS, ["1", "2"])
        return scripted, model, texts, dist

    s1, m1, t1, d1 = run()
    assert len(s1.calls) == 4 and m1.accounting.calls == 4
    assert t1 == ["Answer: 1", "Answer: 2", "Answer: 3"]  # samples are not collapsed
    s2, m2, t2, d2 = run()
    assert s2.calls == [] and m2.accounting.calls == 0 and m2.accounting.cache_hits == 4
    assert t2 == t1 and d2.probs == d1.probs and d2.cached and not d1.cached
    assert m2.cache is m1.cache  # one cache object per file and process: it sees unflushed responses
    assert m2.cache.hits == 4 and m2.cache.misses == 4  # lookups of this process (4 misses: the first run)


def test_batched_writes_reach_the_file_for_another_process(tmp_path):
    from valuesim.llm.cache import ResponseCache

    path = tmp_path / "cache.sqlite"
    writer = ResponseCache(path)
    writer.put("k1", "complete", "m", {"text": "Answer: 1"})
    assert writer.get("k1") == {"text": "Answer: 1"}  # readable at once in this process
    other = ResponseCache(path)  # what another process opening the file sees
    assert other.get("k1") is None  # not written yet: writes are batched
    writer.flush()
    assert other.get("k1") == {"text": "Answer: 1"} and len(other) == 1
    writer.put("k2", "complete", "m", {"text": "Answer: 2"})
    writer.close()  # closing writes what is pending
    assert other.get("k2") == {"text": "Answer: 2"}


def test_no_cache_and_default_off_for_scripted(tmp_path, monkeypatch):
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path))
    model = get_model(ScriptedModel())
    assert model.cache is None
    model = get_model("scripted", cache=False)
    model.complete(MSGS)
    model.complete(MSGS)
    assert model.accounting.calls == 2
    assert get_model(ScriptedModel(), cache=True).cache.path == tmp_path / "cache.sqlite"


def test_failures_are_not_cached(tmp_path):
    flaky = ScriptedModel(fail_on="q")
    model = get_model(flaky, cache=tmp_path / "c.sqlite")
    with pytest.raises(Exception):
        model.complete([{"role": "user", "content": "q"}])
    assert len(model.cache) == 0


def test_concurrent_writers_in_threads_and_connections(tmp_path):
    path = tmp_path / "c.sqlite"
    models = [get_model(ScriptedModel(lambda m: "Answer: " + m[-1]["content"]), cache=path) for _ in range(3)]
    errors = []

    def work(model, offset):
        try:
            for i in range(60):
                model.complete([{"role": "user", "content": str((i + offset) % 90)}])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m, 30 * j)) for j, m in enumerate(models) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for m in models:
        m.cache.flush()  # batched writes: what a finished run (or exit) does
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 90
