"""The report's sections beyond the paper's tables, one function each: survey-weighted scores
beside the unweighted ones, items side by side (hardest and easiest value items), confusion
matrices, countries as a chart, backstory excerpts. Each takes the scored ``RunData`` frames
and returns ``runs.render`` Tables (or chart bytes); ``report.py`` decides where they go."""

from __future__ import annotations

import json

import pandas as pd

from ..runs.render import Table, fmt
from . import metrics as M
from .rundata import RunData
from .scored import weights_of
from .tables import with_ci


def weight_column(run: RunData) -> str:
    """The name of the file's design-weight column (WVS-7: W_WEIGHT)."""
    return run.codebook.columns.weight or "W_WEIGHT"


def scores_note(run: RunData, weighted: bool) -> str:
    """What the report's scores are: unweighted, or unweighted with survey-weighted figures beside."""
    col = weight_column(run)
    if weighted:
        return (f"unweighted (each evaluated user counts once) in every table; survey-weighted by {col} beside them "
                "in 'Survey-weighted scores'")
    return (f"unweighted: each evaluated user counts once; the survey's design weights ({col}) are not applied "
            "(`valuesim report --weighted` adds weighted figures beside)")


def weights_table(run: RunData, scope: pd.DataFrame, seed: int = 0) -> Table:
    """Per method: accuracy and normalized MAE unweighted and survey-weighted, side by side, with
    95% bootstrap intervals over users. A DataError when the run recorded no weights."""
    w = weights_of(scope, run.run_dir)
    plain = {m: M.summary_table(scope, m, seed=seed).set_index("method") for m in ("accuracy", "nmae")}
    weighted = {m: M.summary_table(scope, m, seed=seed, weights=w).set_index("method") for m in ("accuracy", "nmae")}
    rows = []
    for m in run.methods:
        cells = [m, run.method_model(m)]
        for metric in ("accuracy", "nmae"):
            for t in (plain[metric], weighted[metric]):
                cells.append(with_ci(t.loc[m]) if m in t.index else "–")
        users = plain["accuracy"].loc[m, "users"] if m in plain["accuracy"].index else 0
        rows.append(cells + [str(int(users))])
    col = weight_column(run)
    values = w.dropna()
    caption = (f"Survey weights ({col}) of the {len(values)} evaluated users: min {fmt(values.min(), 2)}, median "
               f"{fmt(values.median(), 2)}, max {fmt(values.max(), 2)}. Weighted: each user's mean over their items "
               "counts in proportion to the user's design weight (the bootstrap resamples users and takes the "
               "weighted mean). The other tables and the t-tests are unweighted. ")
    if values.nunique() <= 1:
        caption += ("Every evaluated user has the same weight (the file has no weight column, or equal weights), "
                    "so weighted and unweighted agree. ")
    header = ["Method", "Model", "Accuracy (unweighted)", f"Accuracy (weighted by {col})",
              "Normalized MAE (unweighted)", f"Normalized MAE (weighted by {col})", "Users"]
    return Table("Survey-weighted scores beside the unweighted ones", header, rows, caption)


def weighted_summaries(scope: pd.DataFrame, run_dir, seed: int = 0) -> dict[str, pd.DataFrame]:
    """metric -> the survey-weighted summary per method (accuracy, nmae), for the terminal."""
    w = weights_of(scope, run_dir)
    return {m: M.summary_table(scope, m, seed=seed, weights=w).set_index("method") for m in ("accuracy", "nmae")}



# --- items side by side ----------------------------------------------------------------------
SHARED_WORDS = 4  # a shared opening at least this long is cut from a question text
TEXT_CHARS = 110


def distinct_texts(texts: dict[str, str]) -> dict[str, str]:
    """Question texts shortened to the part that tells them apart: an opening several items
    share (a labelled export's "Now, I would like to read some statements…") becomes "…"."""
    words = {q: " ".join(str(t).split()).split(" ") for q, t in texts.items()}
    by_start: dict[tuple, list[str]] = {}
    for q, w in words.items():
        by_start.setdefault(tuple(w[:SHARED_WORDS]), []).append(q)
    out = {}
    for q, w in words.items():
        others = [words[o] for o in by_start[tuple(w[:SHARED_WORDS])] if o != q]
        shared = max((_common(w, o) for o in others), default=0)
        cut = max(0, shared - 2)  # the last two shared words stay, for the sense
        shown = " ".join(w[cut:]) if shared >= SHARED_WORDS and shared < len(w) else " ".join(w)
        text = ("… " if shown != " ".join(w) else "") + shown
        out[q] = text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1].rsplit(" ", 1)[0] + " …"
    return out


def _common(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def item_scores(run: RunData, main: pd.DataFrame, min_predictions: int = 3) -> pd.DataFrame:
    """Per value item (the demographic items and their category left out, unless the run scored
    nothing else): each method's accuracy over users, the fewest predictions any method has on
    it, and the mean over methods; items with fewer than ``min_predictions`` predictions are left out."""
    cb = run.codebook
    demo = set(cb.demographic_ids)
    demo_cats = {cb[q].category for q in demo if q in cb}
    values = main[~main["question_id"].isin(demo) & ~main["category"].isin(demo_cats)]
    values = (values if len(values) else main).dropna(subset=["correct"])
    if values.empty:
        return pd.DataFrame(columns=["question_id", "category", "mean", "predictions"])
    wide = values.pivot_table(index="question_id", columns="method", values="correct", aggfunc="mean")
    counts = values.groupby(["question_id", "method"]).size().unstack().reindex(columns=wide.columns).fillna(0)
    wide = wide[[m for m in run.methods if m in wide.columns]]
    out = wide.copy()
    out["mean"] = wide.mean(axis=1)
    out["predictions"] = counts.min(axis=1).astype(int)
    out["category"] = values.groupby("question_id")["category"].first()
    out["chance"] = values.groupby("question_id")["chance_acc"].mean()
    return out[out["predictions"] >= min_predictions].sort_values("mean").reset_index()


def items_tables(run: RunData, main: pd.DataFrame, n: int = 10) -> list[Table]:
    """The hardest and the easiest value items, every method's accuracy side by side."""
    items = item_scores(run, main)
    if items.empty:
        return []
    texts = distinct_texts(run.run.question_texts())
    methods = [m for m in run.methods if m in items.columns]
    header = ["Item", "Category", "Question"] + [f"{m} accuracy" for m in methods] + ["Chance", "Predictions"]

    def rows(part: pd.DataFrame) -> list[list[str]]:
        return [[r["question_id"], str(r["category"]), texts.get(r["question_id"], "")]
                + [fmt(r[m]) for m in methods] + [fmt(r["chance"]), str(r["predictions"])]
                for _, r in part.iterrows()]

    caption = (f"model: {run.model_label or 'no LLM'} (statistical methods: no LLM). Value items only (the "
               "demographic category is left out), each with ≥ 3 predictions per method; accuracy over the users who answered "
               "the item; ordered by the mean over methods. Question texts drop an opening other items share. ")
    hardest = items.head(n)
    easiest = items[~items["question_id"].isin(hardest["question_id"])].tail(n).iloc[::-1]
    out = [Table("Hardest value items (all methods side by side)", header, rows(hardest), caption)]
    if len(easiest):
        out.append(Table("Easiest value items (all methods side by side)", header, rows(easiest), caption))
    return out


# --- confusion matrices -------------------------------------------------------------------------
MAX_CONFUSION_CODES = 12


def confusion_item(run: RunData, main: pd.DataFrame, item: str | None) -> str | None:
    """The item the confusion matrices show: ``item`` (checked), else the hardest value item
    with at most MAX_CONFUSION_CODES options."""
    from ..errors import DataError

    scored_items = set(main["question_id"])
    if item is not None:
        if item not in scored_items:
            raise DataError(f"--item {item} is not a target of this run (targets: {', '.join(sorted(scored_items)[:12])}"
                            f"{', ...' if len(scored_items) > 12 else ''})")
        return item
    items = item_scores(run, main)
    codes = main.drop_duplicates("question_id").set_index("question_id")["codes"]
    for q in items["question_id"]:
        if 2 <= len(json.loads(codes[q])) <= MAX_CONFUSION_CODES:
            return q
    return None


def confusion_tables(run: RunData, main: pd.DataFrame, item: str) -> list[Table]:
    """Per method: how often each real answer (rows) was predicted as each option (columns)."""
    sub = main[(main["question_id"] == item) & ~main["failed"]]
    if sub.empty:
        return []
    codes = json.loads(sub["codes"].iloc[0])
    if len(codes) > MAX_CONFUSION_CODES:
        codes = sorted(set(sub["truth"].dropna().astype(int)) | set(sub["answer"].dropna().astype(int)))
    cb = run.codebook
    q = cb[item] if item in cb else None

    def label(c: int) -> str:
        return code_label(q, c) if q is not None else str(c)

    text = distinct_texts(run.run.question_texts()).get(item, "")
    out = []
    for m in run.methods:
        g = sub[sub["method"] == m]
        if g.empty:
            continue
        counts = pd.crosstab(g["truth"].astype(int), g["answer"].astype(int)).reindex(index=codes, columns=codes,
                                                                                    fill_value=0)
        rows = [[label(t)] + [str(int(v)) for v in counts.loc[t]] + [str(int(counts.loc[t].sum()))] for t in codes]
        acc = float(g["correct"].mean())
        out.append(Table(f"Confusion matrix of {m} on {item}", ["Real answer ↓ / predicted →"]
                         + [str(c) for c in codes] + ["Users"], rows,
                         f"{item}: {text} Rows: the users' real answers; columns: the predicted code; the diagonal is "
                         f"correct (accuracy {fmt(acc)}; ties count by expected value there). model: "
                         f"{run.method_model(m)}. `valuesim report --item ID` picks another item."))
    return out


def code_label(question, code: int) -> str:
    """"3 Not very important"; a code-list code the codebook does not list says so."""
    try:
        if not question.options:
            return str(code)
        return question.answer_text(code)
    except KeyError:
        return f"{code} (not in the codebook's list)"


# --- countries as a chart -----------------------------------------------------------------------
def country_names(codes) -> dict[str, str]:
    from ..survey.countries import alpha3_name

    return {str(c): (alpha3_name(str(c)) or str(c)) for c in codes}


def country_chart(run: RunData, scope: pd.DataFrame, seed: int = 0) -> bytes | None:
    """Accuracy per country with 95% intervals, countries by name (None: fewer than two countries)."""
    from .plots import country_points

    table = M.summary_table(scope, "accuracy", by="country", seed=seed)
    if table["country"].nunique() < 2:
        return None
    table["country"] = table["country"].astype(str)
    table.loc[table["users"] < 2, ["ci_low", "ci_high"]] = float("nan")
    return country_points(table, country_names(table["country"].unique()),
                          f"Accuracy per country — model: {run.model_label or 'no LLM'}")


# --- backstory excerpts ----------------------------------------------------------------------
EXCERPT_CHARS = 400


def story_excerpts(run: RunData, n: int = 3) -> Table | None:
    """A few valid backstories (the best, a middling and the worst audited fidelity, or the
    first ones when none was audited), each opening with its fidelity beside chance."""
    from ..runs.trace import Trace

    seen, picks = set(), []
    for method, fold, rid, trace in run.run.story_traces():
        trace = Trace.of(trace)
        story = trace.story or {}
        key = (method, story.get("key"))
        if story.get("status", "valid") != "valid" or key in seen:
            continue
        seen.add(key)
        picks.append((method, fold, rid, story, trace))
    if not picks:
        return None
    audited = sorted((p for p in picks if (p[3].get("fidelity") or {}).get("share") is not None),
                     key=lambda p: -p[3]["fidelity"]["share"])
    if len(audited) >= n:
        chosen = [audited[0], audited[len(audited) // 2], audited[-1]][:n]
    else:
        chosen = (audited + [p for p in picks if p not in audited])[:n]
    texts = run.run.context_texts([p[4].context_id for p in chosen if p[4].context_id])
    rows = []
    for method, fold, rid, story, trace in chosen:
        text = trace.context_text or texts.get(trace.context_id or "", "")
        text = " ".join(str(text).split())
        excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " …"
        fid = story.get("fidelity") or {}
        rows.append([method, str(rid), str(fold), fmt(fid.get("share"), 2), fmt(fid.get("chance"), 2), excerpt])
    return Table("Backstory excerpts", ["Method", "Respondent", "Fold", "Fidelity", "Chance", "Opening of the story"],
                 rows, "The first words of a few valid backstories: the best, a middling and the worst audited "
                       "fidelity (share of sampled profile answers recovered from the story alone; chance: the same "
                       "items guessed uniformly). Model-written text, shown as data.")
