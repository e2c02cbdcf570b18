"""The contents of the run pages that are not about one person: an item over everyone, two
methods (or two runs) side by side, a population country, the runs' own listing."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import closing

from .source import PER_PAGE, RunSource, connect_ro

COMPARE_SHOWS = ("all", "disagree", "only-a", "only-b")


def item(src: RunSource, qid: str) -> dict | None:
    """Answers per method against the truth over everyone who had ``qid`` as a target."""
    rows = src.rows("p.question_id = ?", [qid])
    if not rows:
        return None
    q = src.questions().get(qid, {})
    codes = list(q.get("codes") or sorted({c for r in rows for c in r["distribution"]}))
    truths = {(r["respondent_id"], r["fold"], r["persona"], r["country"]): r["truth"] for r in rows}
    truth_counts = Counter(t for t in truths.values() if t is not None)
    n_truth = sum(truth_counts.values())
    methods = []
    for m in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == m]
        ok = [r for r in mine if not r["failed"]]
        counts = Counter(r["answer"] for r in ok if r["answer"] is not None)
        mean = {c: sum(r["distribution"].get(c, 0.0) for r in ok) / len(ok) for c in codes} if ok else {}
        scored = [r for r in ok if r["truth"] is not None]
        methods.append({"method": m, "n": len(mine), "failed": len(mine) - len(ok),
                        "accuracy": (sum(r["answer"] == r["truth"] for r in scored) / len(scored)) if scored else None,
                        "answers": {c: counts.get(c, 0) / max(1, sum(counts.values())) for c in codes},
                        "mean_distribution": mean})
    people: dict[tuple, dict] = {}
    for r in rows:
        key = (r["respondent_id"], r["fold"], r["country"], r["persona"])
        people.setdefault(key, {"respondent_id": r["respondent_id"], "fold": r["fold"], "country": r["country"],
                                "persona": r["persona"], "truth": r["truth"], "by_method": {}})["by_method"][r["method"]] = r
    return {"id": qid, "text": q.get("text", ""), "short": q.get("short", ""), "kind": q.get("kind", ""),
            "category": q.get("category", ""), "codes": codes,
            "truth": {c: truth_counts.get(c, 0) / n_truth for c in codes} if n_truth else {},
            "n_truth": n_truth, "methods": methods, "people": list(people.values())[:500], "people_total": len(people)}


def compare(sources: dict[str, RunSource], a: str, b: str, show: str = "all", page: int = 1) -> dict:
    """Two methods (``RUN:METHOD`` each; the same run or two runs) on the same people, folds and
    questions: how often each is right where the other is not, and the predictions side by side."""
    (ka, ma), (kb, mb) = _side(a, sources), _side(b, sources)
    sa, sb = sources[ka], sources[kb]
    show = show if show in COMPARE_SHOWS else "all"
    join = ("y.fold = x.fold AND y.profile_limit = x.profile_limit AND y.country = x.country AND y.persona = x.persona "
            "AND y.respondent_id = x.respondent_id AND y.question_id = x.question_id")
    right_a, right_b = "(x.failed = 0 AND x.answer = x.truth)", "(y.failed = 0 AND y.answer = y.truth)"
    base = (f"FROM main.predictions x JOIN other.predictions y ON {join} LEFT JOIN main.questions q "
            "ON q.question_id = x.question_id WHERE x.method = ? AND y.method = ? AND x.profile_limit < 0")
    extra = {"all": "", "disagree": " AND (x.answer IS NOT y.answer OR x.failed != y.failed)",
             "only-a": f" AND {right_a} AND NOT {right_b}", "only-b": f" AND {right_b} AND NOT {right_a}"}[show]
    with closing(connect_ro(sa.run.store_path)) as con:
        import urllib.parse

        con.execute("ATTACH DATABASE ? AS other",
                    ("file:" + urllib.parse.quote(str(sb.run.store_path.resolve())) + "?mode=ro",))
        summary = con.execute(f"SELECT COUNT(*), SUM({right_a} AND {right_b}), SUM({right_a} AND NOT {right_b}), "
                              f"SUM({right_b} AND NOT {right_a}), SUM(NOT {right_a} AND NOT {right_b}), "
                              f"SUM(x.answer = y.answer AND x.failed = 0 AND y.failed = 0) {base}", (ma, mb)).fetchone()
        total = int(con.execute(f"SELECT COUNT(*) {base}{extra}", (ma, mb)).fetchone()[0])
        pages = max(1, -(-total // PER_PAGE))
        page = min(max(1, page), pages)
        rows = [dict(r) for r in con.execute(
            f"SELECT x.respondent_id, x.fold, x.country, x.persona, x.question_id, q.short, x.truth, "
            f"x.answer AS a_answer, x.failed AS a_failed, x.distribution AS a_dist, y.answer AS b_answer, "
            f"y.failed AS b_failed, y.distribution AS b_dist {base}{extra} "
            f"ORDER BY x.respondent_id, x.fold, x.question_id LIMIT ? OFFSET ?",
            (ma, mb, PER_PAGE, (page - 1) * PER_PAGE))]
    for r in rows:
        for side in ("a", "b"):
            try:
                r[f"{side}_dist"] = {int(k): float(v) for k, v in json.loads(r[f"{side}_dist"] or "{}").items()}
            except ValueError:
                r[f"{side}_dist"] = {}
    n, both, only_a, only_b, neither, same = (int(v or 0) for v in summary)
    split_a, split_b = split_key(sa), split_key(sb)
    return {"a": {"key": ka, "method": ma, "run": sa.name}, "b": {"key": kb, "method": mb, "run": sb.name},
            "n": n, "both": both, "only_a": only_a, "only_b": only_b, "neither": neither, "same": same,
            "rows": rows, "total": total, "page": page, "pages": pages, "show": show,
            "same_split": split_a == split_b, "same_run": ka == kb}


def _side(spec: str, sources: dict[str, RunSource]) -> tuple[str, str]:
    key, _, method = str(spec).partition(":")
    if key not in sources:
        raise LookupError(f"no run {key!r} in this viewer")
    return key, method


def split_key(src: RunSource) -> str:
    """What makes two runs' predictions comparable: the same people in the same folds of the same items."""
    split = src.run.split_json()
    return json.dumps([split.get("users"), split.get("folds")], sort_keys=True)


def compare_choices(sources: dict[str, RunSource]) -> list[tuple[str, str]]:
    """Every RUN:METHOD the compare form offers (individual runs only), with its label."""
    out = []
    for key, src in sources.items():
        if src.is_population():
            continue
        for m in src.facets()["method"]:
            out.append((f"{key}:{m}", f"{src.name}: {m}" if len(sources) > 1 else m))
    return out


def compare_pairs(sources: dict[str, RunSource]) -> list[tuple[str, str]]:
    """The comparisons a static copy holds: every two methods of a run, and one method in two
    runs made on the same split."""
    choices = [c for c, _ in compare_choices(sources)]
    pairs = []
    for i, a in enumerate(choices):
        for b in choices[i + 1:]:
            (ka, ma), (kb, mb) = a.split(":", 1), b.split(":", 1)
            if ka == kb or (ma == mb and split_key(sources[ka]) == split_key(sources[kb])):
                pairs.append((a, b))
    return pairs


def country(src: RunSource, code: str) -> dict:
    """A population country: its personas (their descriptors) and simulated vs real distributions."""
    from .scores import country_distributions

    personas = src.personas(code)
    counts = {(r["persona"]): r["n"] for r in src.query(
        "SELECT persona, COUNT(*) AS n FROM predictions WHERE country = ? AND persona >= 0 GROUP BY persona", [code])}
    questions = src.questions()
    dists = country_distributions(src, code)
    for d in dists:
        q = questions.get(d["question"], {})
        d["text"], d["short"] = q.get("text", ""), q.get("short", "")
    return {"code": code, "personas": [{**p, "predictions": counts.get(p["persona"], 0)} for p in personas],
            "distributions": dists}


def countries(src: RunSource) -> list[dict]:
    rows = src.query("SELECT country, COUNT(DISTINCT CASE WHEN persona >= 0 THEN persona END) AS personas, "
                     "COUNT(*) AS n, SUM(failed) AS failed FROM predictions GROUP BY country ORDER BY country")
    return [dict(r) for r in rows]
