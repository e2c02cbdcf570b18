"""Are ValueSim's backstories backstories? Story validity, fidelity and ValueSim accuracy per story variant.

    VALUESIM_THREADS=2 .venv/bin/python benchmarks/story_quality.py [--model local] [--people 4]
        [--targets 5] [--items 16] [--variants paper,small,statements] [--module-tokens 64]
    .venv/bin/python benchmarks/story_quality.py --corrupt --model none    # the checks only, no model

``--corrupt`` first measures the checks on deliberately corrupted stories: each synthetic
person's lossless statements story (as stated, and with statements joined in pairs, ", and you
...", as a model tends to) with k answers swapped to another option of the item, or k statements
of bank items the profile does not hold inserted; it prints the share of stories flagged (and
false alarms on the uncorrupted story) and the share of corrupted facts the problems name.

Synthetic people only (never real data). Each person gets a seeded, category-balanced profile of
``--items`` items and ``--targets`` held-out target items. For each story variant

* ``paper``: the paper's prompt over the question/options/answer list,
* ``small``: the small-model prompt (statements, theme by theme, rules only),
* ``statements``: the statements story (no model call),

it prints the share of valid stories (after retries; a failed story fails that person's
predictions), the mean fidelity (profile answers recovered from the story alone) vs chance, and
ValueSim's accuracy on the targets and the mean probability it gave the real answer (finer than
accuracy on a few dozen predictions; a failed prediction counts 0) and normalized MAE on ordinal
targets (the paper's main metric), next to Full Info and the country marginal on the same items,
and how each CAB module and their majority did on their own. LLM answers go through the response cache (a re-run is free). Stages print as they go; the
tables come at the end. Numbers depend on the machine's load (it is shared).
"""

from __future__ import annotations

import argparse
from collections import Counter
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from valuesim.evaluation.metrics import normalized_abs_error  # noqa: E402
from valuesim.llm import get_model  # noqa: E402
from valuesim.methods.base import PersonContext  # noqa: E402
from valuesim.methods.registry import get_method  # noqa: E402
from valuesim.methods.story import StoryFailure, StoryWriter, by_category  # noqa: E402
from valuesim.methods.valuesim import ValueSim  # noqa: E402
from valuesim.survey.model import Profile  # noqa: E402
from valuesim.survey.wvs7.bank import CATEGORIES  # noqa: E402


def people(n: int, n_items: int, n_targets: int, seed: int):
    """``n`` synthetic respondents from different countries, each with a category-balanced
    profile and targets (single-choice items with at most 12 options)."""
    from valuesim.survey.io import load_survey
    from valuesim.survey.synthetic import write_synthetic

    with tempfile.TemporaryDirectory() as tmp:
        survey = load_survey(write_synthetic(Path(tmp) / "syn.csv", respondents=800, countries=4, seed=seed))
    rng = random.Random(seed)
    by_country: dict[str, list] = {}
    for rid in survey.data.index:
        by_country.setdefault(survey.respondent(rid).country, []).append(rid)
    chosen = []
    countries = sorted(by_country)
    for i in range(n):
        pool = by_country[countries[i % len(countries)]]
        chosen.append(pool[rng.randrange(len(pool))])
    out = []
    for rid in chosen:
        resp = survey.respondent(rid)
        eligible: dict[str, list[str]] = {}
        for q in survey.codebook:
            if q.id in resp.answers and q.options and 2 <= len(q.codes) <= 12:
                eligible.setdefault(q.category, []).append(q.id)
        picks = []
        per_cat = -(-(n_items + n_targets) // len(CATEGORIES))
        for cat in CATEGORIES:
            picks += rng.sample(eligible.get(cat, []), min(per_cat, len(eligible.get(cat, []))))
        rng.shuffle(picks)
        targets, profile_ids = picks[:n_targets], set(picks[n_targets:n_targets + n_items])
        profile = Profile.from_respondent(resp, survey.codebook, include=[q for q in survey.codebook.ids if q in profile_ids])
        out.append((resp, PersonContext(resp.id, resp.country, profile, resp.weight), targets))
    return survey, out


def corrupted(profile: Profile, kind: str, k: int, bank: list, rng: random.Random, joined) -> tuple[str, set]:
    """The lossless statements story of ``profile`` with ``k`` facts corrupted: ``swap`` turns k
    answers into another option of the same item, ``insert`` adds statements of k bank items the
    profile does not hold at random places. Returns (story, the corrupted item ids)."""
    sentences = [[q.statement(c) for q, c in items] for _, items in by_category(profile)]
    flat = [(i, j) for i, para in enumerate(sentences) for j in range(len(para))]
    items = {q.id: (q, c) for q, c in profile.items}
    order = [q.id for _, its in by_category(profile) for q, _ in its]
    changed: set = set()
    if kind == "swap":
        for pos in rng.sample(range(len(flat)), k):
            q, c = items[order[pos]]
            i, j = flat[pos]
            sentences[i][j] = q.statement(rng.choice([x for x in q.codes if x != c]))
            changed.add(q.id)
    elif kind == "insert":
        absent = [q for q in bank if q.id not in items]
        for q in rng.sample(absent, k):
            i = rng.randrange(len(sentences))
            sentences[i].insert(rng.randrange(len(sentences[i]) + 1), q.statement(rng.choice(q.codes)))
            changed.add(q.id)
    if joined == "paraphrased":
        sentences = [[paraphrase(x) for x in para] for para in sentences]
    return "\n\n".join(join_pairs(p) if joined else " ".join(p) for p in sentences), changed


PARAPHRASES = [  # rewordings a model makes that keep the answer
    (re.compile(r"^On (an? (?:[\w ]+ )?)scale from (.*?\)), (you .*)\.$"), r"\3 (on \1scale from \2)."),
    (re.compile(r" in your life\.$"), " to you."),
    (re.compile(r"^You think (?:that )?"), "In your view, "),
    (re.compile(r"^You (strongly )?(agree|disagree) that "), r"You \2 \1that "),
    (re.compile(r"^You have (a great deal of|quite a lot of|not very much|no) confidence( at all)? in (.*)\.$"),
     r"When it comes to \3, you have \1 confidence\2."),
]


def paraphrase(sentence: str) -> str:
    for pattern, repl in PARAPHRASES:
        sentence = pattern.sub(repl, sentence)
    return sentence[:1].upper() + sentence[1:]


def join_pairs(sentences: list[str]) -> str:
    """Two statements as one sentence ("..., and you ..."), as a model retelling them tends to."""
    out = []
    for i in range(0, len(sentences), 2):
        pair = sentences[i:i + 2]
        if len(pair) == 2 and pair[1][:1].isupper() and not pair[1].startswith(("On ", "I")):
            out.append(pair[0].rstrip(".") + ", and " + pair[1][0].lower() + pair[1][1:])
        else:
            out.append(" ".join(pair))
    return " ".join(out)


def corruption_table(args) -> None:
    """Detection of corrupted stories by the story checks (no model: the checks need none)."""
    from valuesim.methods.story_checks import check_story
    from valuesim.methods.story_facts import bank_index, find_facts
    from valuesim.survey.wvs7.bank import load_codebook

    survey, folks = people(args.corrupt_people, args.corrupt_items, 0, args.seed)
    bank = [q for q in load_codebook() if q.options and 2 <= len(q.codes) <= 12]
    rng = random.Random(args.seed)
    started = time.time()
    rows = []
    for joined in (False, True, "paraphrased"):
        for kind, ks in (("none", [0]), ("swap", [1, 2, 4]), ("insert", [1, 2, 4])):
            for k in ks:
                flagged = facts_found = facts_all = 0
                kinds: Counter = Counter()
                for _, person, _ in folks:
                    text, changed = corrupted(person.profile, kind, k, bank, rng, joined)
                    problems = check_story(text, len(person.profile), source=person.profile.as_statements(),
                                           keep_facts=True, profile=person.profile)
                    flagged += bool(problems)
                    kinds.update(p.kind for p in problems)
                    named = {f.item for f in find_facts(text, person.profile, bank_index())}
                    facts_all += len(changed)
                    facts_found += len(changed & named)
                rows.append(({False: "as stated", True: "joined in pairs"}.get(joined, "reworded, joined"), kind, k, flagged, len(folks), facts_found, facts_all,
                             ", ".join(f"{x} {n}" for x, n in kinds.most_common())))
    print(f"\n## Corrupted stories ({len(folks)} synthetic people, {len(folks[0][1].profile)}-item profiles; "
          f"checks only, no model; {time.time() - started:.1f} s)\n")
    print("| sentences | corruption | k | stories flagged | corrupted facts named | problems found |")
    print("|---|---|---:|---:|---:|---|")
    for form, kind, k, flagged, n, found, total, kinds in rows:
        what = "none (lossless statements story)" if kind == "none" else kind
        named = f"{found}/{total} ({found / total:.0%})" if total else "–"
        print(f"| {form} | {what} | {k} | {flagged}/{n} ({flagged / n:.0%}) | {named} | {kinds or '–'} |")


def first_attempts(args, model) -> None:
    """Each small-prompt part written once (the writer's first, greedy attempt) and checked: which
    checks a real model's parts meet, and the sentences the fact checks name (to read by hand)."""
    from valuesim.methods.story import FACTS_HEADER
    from valuesim.methods.story_checks import check_story
    from valuesim.methods.story_facts import find_facts, index_for

    _, folks = people(args.people, args.items, args.targets, args.seed)
    writer = StoryWriter(model, prompt="small", audit_sample=0, seed=args.seed, reserve_tokens=900 + args.module_tokens)
    kinds: Counter = Counter()
    n = passed = 0
    named = []
    started = time.time()
    for _, person, _ in folks:
        chunks = writer._chunks(person.profile)
        for (theme, chunk, prompt), cap in zip(chunks, writer._plan(person.profile, chunks)):
            out = model.complete([{"role": "user", "content": prompt}], max_tokens=cap, temperature=0.0,
                                 seed=args.seed, sample_index=0)
            rules = prompt.split(FACTS_HEADER)[0]
            problems = check_story(out.text.strip(), len(chunk), finish_reason=out.finish_reason, prompt=rules,
                                   source=chunk.as_statements(), keep_facts=True, profile=person.profile)
            n += 1
            passed += not problems
            kinds.update({p.kind for p in problems})
            named += [(f.kind, str(f)) for f in find_facts(out.text, person.profile, index_for(person.profile))]
            print(f"[{time.time() - started:6.0f}s] part {n} ({len(chunk)} facts): "
                  + (", ".join(sorted({p.kind for p in problems})) or "passes"), flush=True)
    print(f"\n## First attempts of real-model story parts ({model.spec}, {len(folks)} people, {args.items}-item "
          f"profiles, {time.time() - started:.0f} s)\n")
    print(f"parts passing every check at the first attempt: {passed}/{n} ({passed / max(1, n):.0%})")
    print("parts failing each check: " + (", ".join(f"{k} {v}" for k, v in kinds.most_common()) or "none"))
    for kind, text in named:
        print(f"- {kind}: {text}")


def mean(xs):
    xs = [x for x in xs if x is not None]
    return statistics.fmean(xs) if xs else float("nan")


def acc_all(xs) -> float:
    """Accuracy with failed predictions counted as wrong."""
    return sum(x or 0.0 for x in xs) / len(xs) if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="local")
    ap.add_argument("--people", type=int, default=4)
    ap.add_argument("--targets", type=int, default=5)
    ap.add_argument("--items", type=int, default=16)
    ap.add_argument("--variants", default="small,statements,paper")
    ap.add_argument("--attempts", type=int, default=3, help="tries per story part (default 3)")
    ap.add_argument("--paper-attempts", type=int, default=None,
                    help="tries per part for the paper prompt (default --attempts; 1 saves hours on a slow machine)")
    ap.add_argument("--module-tokens", type=int, default=64, help="cap on each module's analysis (default 64)")
    ap.add_argument("--audit", type=int, default=8, help="profile items audited per story (default 8)")
    ap.add_argument("--no-predict", action="store_true", help="stories and fidelity only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dump", default=None, metavar="FILE", help="also write every story (text, checks) as JSON lines")
    ap.add_argument("--corrupt", action="store_true",
                    help="first: how many deliberately corrupted statements stories the checks catch (no model)")
    ap.add_argument("--corrupt-people", type=int, default=100, help="people for --corrupt (default 100)")
    ap.add_argument("--corrupt-items", type=int, default=40, help="profile items for --corrupt (default 40)")
    ap.add_argument("--first-attempts", action="store_true",
                    help="only write each small-prompt part once and count the checks it fails (no retries, no audit)")
    args = ap.parse_args()
    if args.corrupt:
        corruption_table(args)
        if args.model == "none":
            return 0
    started = time.time()

    def say(text: str) -> None:
        print(f"[{time.time() - started:7.1f}s] {text}", flush=True)

    survey, folks = people(args.people, args.items, args.targets, args.seed)
    model = get_model(args.model)
    if args.first_attempts:
        first_attempts(args, model)
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    say(f"model {model.spec}; {len(folks)} synthetic people x {args.targets} targets, profiles of "
        f"{len(folks[0][1].profile)} items; variants {', '.join(variants)}")

    stories: dict[str, list[dict]] = {v: [] for v in variants}
    writers = {}
    acc: dict[str, list] = {}

    def table() -> None:
        print(f"\n## Story quality ({model.spec}, {len(folks)} synthetic people, {len(folks[0][1].profile)}-item profiles, "
              f"{args.targets} targets each; {time.time() - started:.0f} s)\n")
        print("| story variant | valid stories | part retries | fidelity (recovered) | chance | ValueSim accuracy (failures = wrong) "
              "| p(real answer) | normalized MAE | failed predictions |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for v in variants:
            rows = stories[v]
            if not rows:
                continue
            valid = sum(r["valid"] for r in rows)
            fids = [r["fidelity"] for r in rows if r["fidelity"]]
            share = mean([f["share"] for f in fids])
            chance = mean([f["chance"] for f in fids])
            a = acc.get(f"valuesim ({v})", [])
            print(f"| {v} | {valid}/{len(rows)} ({valid / len(rows):.0%}) | {sum(r['retries'] or 0 for r in rows)} | "
                  f"{share:.2f} | {chance:.2f} | {acc_all(a):.3f} | {acc_all(ptrue.get(f'valuesim ({v})', [])):.3f} | "
                  f"{mean(nmae.get(f'valuesim ({v})', [])):.3f} | "
                  f"{sum(1 for x in a if x is None)}/{len(a)} |")
        for name in ("full-info", "country-marginal"):
            if name in acc:
                a = acc[name]
                print(f"| {name} (baseline) | – | – | – | – | {acc_all(a):.3f} | {acc_all(ptrue.get(name, [])):.3f} | "
                      f"{mean(nmae.get(name, [])):.3f} | {sum(1 for x in a if x is None)}/{len(a)} |")
        if parts:
            names = ["cognitive", "affective", "behavioral", "module majority"]
            print("\nValueSim's parts (accuracy of each module's own answer, of their majority, and of the "
                  "coordinator's final answer, on the predictions that did not fail):\n")
            print("| ValueSim | " + " | ".join(names) + " | coordinator (final) |")
            print("|---|" + "---:|" * (len(names) + 1))
            for name, got in parts.items():
                final = [x for x in acc.get(name, []) if x is not None]
                print(f"| {name} | " + " | ".join(f"{mean(got.get(n, [])):.3f}" for n in names)
                      + f" | {mean(final):.3f} |")
        reasons = [r["reason"] for v in variants for r in stories[v] if r["reason"]]
        if reasons:
            print("\nStory failures:\n" + "\n".join(f"- {r}" for r in reasons))

    def write_stories(v: str) -> None:
        kind, prompt = ("statements", "auto") if v == "statements" else ("model", v)
        attempts = args.paper_attempts if v == "paper" and args.paper_attempts else args.attempts
        writers[v] = StoryWriter(model, kind=kind, prompt=prompt, audit_sample=args.audit, seed=args.seed,
                                 attempts=attempts,
                                 reserve_tokens=900 + args.module_tokens,
                                 progress=lambda s, v=v: say(f"  {v}: {s}"))
        for resp, person, _ in folks:
            t0 = time.time()
            text, summary = "", {}
            try:
                story = writers[v].backstory(person)
                text, summary = story.text, story.summary()
                row = {"valid": True, "retries": story.retries, "rounds": story.rounds, "fidelity": story.fidelity,
                       "chars": len(story.text), "reason": ""}
            except StoryFailure as failure:
                summary = failure.summary
                row = {"valid": False, "retries": None, "rounds": None, "fidelity": None, "chars": 0,
                       "reason": failure.reason}
            row["seconds"] = time.time() - t0
            if args.dump:
                with open(args.dump, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"variant": v, "person": resp.id, **row,
                                         "text": text, "summary": summary},
                                        default=str) + "\n")
            stories[v].append(row)
            fid = row["fidelity"]
            say(f"{v} story for {resp.id} ({resp.country}): {'valid' if row['valid'] else 'FAILED ' + row['reason']}"
                + (f", fidelity {fid['recovered']}/{fid['n']} (chance {fid['chance']:.0%})" if fid else "")
                + f", {row['seconds']:.0f}s")


    parts: dict[str, dict[str, list]] = {}  # ValueSim variant -> module/coordinator -> right or not
    ptrue: dict[str, list] = {}  # method -> probability given to the real answer (None: failed)
    nmae: dict[str, list] = {}  # method -> normalized absolute error on ordinal targets

    def predict(name: str, sim) -> None:
        for resp, person, targets in folks:
            for qid in targets:
                q = survey.codebook[qid]
                p = sim.predict(person, q)
                truth = resp.answers[qid]
                acc.setdefault(name, []).append(None if p.failed else float(p.answer == truth))
                ptrue.setdefault(name, []).append(None if p.failed else float(p.distribution.get(truth, 0.0)))
                if q.is_ordinal and q.n_steps and not p.failed:  # the paper's main metric (failures left out)
                    nmae.setdefault(name, []).append(normalized_abs_error(p.answer, truth, q.n_steps))
                modules = {m: t.get("answer") for m, t in (p.trace or {}).get("modules", {}).items()}
                if name.startswith("valuesim") and modules and not p.failed:
                    mine = parts.setdefault(name, {})
                    for m, a in modules.items():
                        mine.setdefault(m, []).append(float(a == truth))
                    majority = Counter(modules.values()).most_common(1)[0][0]  # a tie: the first module's
                    mine.setdefault("module majority", []).append(float(majority == truth))
                if args.dump:
                    with open(args.dump, "a", encoding="utf-8") as fh:
                        fh.write(json.dumps({"prediction": name, "person": resp.id, "question": qid, "truth": truth,
                                             "answer": p.answer, "error": p.error, "modules": modules}) + "\n")
            mine = acc[name][-len(targets):]
            say(f"{name} {resp.id}: {sum(1 for x in mine if x)} of {len(targets)} right"
                f" ({sum(1 for x in mine if x is None)} failed)")

    # stories first (validity, fidelity: a table after each variant), then the predictions:
    # baselines, then ValueSim per variant, so a run cut short still reports what it measured
    for v in variants:
        write_stories(v)
        table()
    if not args.no_predict:
        marginal = get_method("country-marginal")
        marginal.fit(survey.subset([i for i in survey.data.index if i not in {r.id for r, _, _ in folks}]))
        predict("country-marginal", marginal)
        predict("full-info", get_method("full-info", model, max_tokens=args.module_tokens))
        for v in variants:
            predict(f"valuesim ({v})", ValueSim(model, story_writer=writers[v], max_tokens=args.module_tokens,
                                                seed=args.seed))
            table()
    table()
    print(f"\n{model.accounting.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
