"""What ValueSim and its baselines cost on the embedded model, per question, after prefix reuse.

    .venv/bin/python benchmarks/valuesim_cost.py [--model local] [--items 60] [--questions Q46,Q57,Q164]
                                                 [--audit 20] [--max-tokens 256]

One synthetic respondent (never real data), a profile of ``--items`` items (seeded sample, the
target questions held out). Measures with the LLM response cache OFF (every call reaches the
engine; the engine's own prefix cache stays on, which is the thing being measured):

1. the backstory: wall time, prompt and generated tokens;
2. per question, for valuesim (context-first), valuesim --prompt-order paper, full-info and rag:
   prompt tokens sent, prompt tokens actually processed (sent minus those served from the
   engine's prefix cache), generated tokens, wall time, and the predicted vs real answer;
3. with ``--audit N``: the fidelity audit (N profile questions answered from the backstory alone).

Prints one table; the numbers depend on the machine's load (the machine is shared).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from valuesim.llm import get_model  # noqa: E402
from valuesim.llm.base import Usage  # noqa: E402
from valuesim.methods.base import PersonContext  # noqa: E402
from valuesim.methods.registry import get_method  # noqa: E402
from valuesim.methods.story import StoryWriter, audit_backstory  # noqa: E402
from valuesim.survey.model import Profile  # noqa: E402


def synthetic_person(n_items: int, targets: list[str], seed: int):
    from valuesim.survey.io import load_survey
    from valuesim.survey.synthetic import write_synthetic

    with tempfile.TemporaryDirectory() as tmp:
        survey = load_survey(write_synthetic(Path(tmp) / "syn.csv", respondents=20, seed=seed))
    resp = survey.respondent(survey.data.index[0])
    eligible = [q.id for q in survey.codebook if q.id in resp.answers and q.id not in targets
                and q.options and len(q.codes) <= 12]
    chosen = set(random.Random(seed).sample(eligible, min(n_items, len(eligible))))
    profile = Profile.from_respondent(resp, survey.codebook, include=[q for q in survey.codebook.ids if q in chosen])
    return survey, resp, PersonContext(resp.id, resp.country, profile, resp.weight)


def delta(model, before: Usage, start: float) -> dict:
    u = model.accounting.usage
    prompt = u.prompt_tokens - before.prompt_tokens
    cached = u.cached_tokens - before.cached_tokens
    return {"prompt": prompt, "processed": prompt - cached, "generated": u.completion_tokens - before.completion_tokens,
            "seconds": time.perf_counter() - start}


def snapshot(model) -> Usage:
    u = model.accounting.usage
    return Usage(u.prompt_tokens, u.cached_tokens, u.completion_tokens)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="local")
    ap.add_argument("--items", type=int, default=60)
    ap.add_argument("--questions", default="Q46,Q57,Q164")
    ap.add_argument("--audit", type=int, default=20)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--story-cache", default=None, help="response cache for the backstory (default: valuesim's)")
    args = ap.parse_args()

    targets = [q.strip() for q in args.questions.split(",") if q.strip()]
    survey, resp, person = synthetic_person(args.items, targets, args.seed)
    model = get_model(args.model, cache=None)
    print(f"model {model.spec}; respondent {resp.id} ({resp.country}, synthetic); profile {len(person.profile)} items, "
          f"{len(person.profile.as_qa_list())} characters as a Q/options/answer list", flush=True)

    # the backstory goes through the response cache (a re-run reuses it; its first-run cost is
    # printed); every method call below reaches the engine
    story_model = get_model(args.model, cache=args.story_cache or True)
    writer = StoryWriter(story_model, seed=args.seed)
    before, start = snapshot(story_model), time.perf_counter()
    story = writer.backstory(person)
    s = delta(story_model, before, start)
    if story_model.accounting.cache_hits:
        s = {"seconds": sum(p["seconds"] for p in story.parts), "generated": sum(p["usage"]["completion_tokens"] for p in story.parts),
             "prompt": sum(p["usage"]["prompt_tokens"] for p in story.parts),
             "processed": sum(p["usage"]["prompt_tokens"] - p["usage"]["cached_tokens"] for p in story.parts)}
        print("backstory from the response cache; its cost when it was written:")
    print(f"backstory: {s['seconds']:.1f} s, {s['prompt']} prompt tokens ({s['processed']} processed), "
          f"{s['generated']} generated, {len(story.text)} characters, {len(story.parts)} part(s)", flush=True)

    methods = [
        ("valuesim", "valuesim", {"prompt_order": "context-first"}),
        ("valuesim --prompt-order paper", "valuesim", {"prompt_order": "paper"}),
        ("full-info", "full-info", {}),
        ("rag", "rag", {}),
    ]
    rows = []
    for label, name, options in methods:
        if name == "valuesim":  # same backstory, written once above
            options = {**options, "story_writer": writer, "max_tokens": args.max_tokens}
        sim = get_method(name, model, **options)
        for qid in targets:
            question = survey.codebook[qid]
            before, start = snapshot(model), time.perf_counter()
            prediction = sim.predict(person, question)
            d = delta(model, before, start)
            real = resp.answers.get(qid)
            rows.append((label, qid, d, prediction.answer if not prediction.failed else "fail", real))
            print(f"  {label:<30} {qid:<5} prompt {d['prompt']:>6} processed {d['processed']:>6} generated "
                  f"{d['generated']:>5} {d['seconds']:>7.1f} s  answer {rows[-1][3]} real {real}", flush=True)

    print("\n| method | question | prompt tokens sent | prompt tokens processed | generated | wall s | answer | real |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, qid, d, answer, real in rows:
        print(f"| {label} | {qid} | {d['prompt']} | {d['processed']} | {d['generated']} | {d['seconds']:.1f} | {answer} | {real} |")
    print("\nmeans per question:")
    for label, *_ in methods:
        mine = [r[2] for r in rows if r[0] == label]
        n = len(mine)
        print(f"  {label:<30} processed {sum(m['processed'] for m in mine) / n:7.0f}  generated "
              f"{sum(m['generated'] for m in mine) / n:5.0f}  wall {sum(m['seconds'] for m in mine) / n:6.1f} s")

    if args.audit:
        start = time.perf_counter()
        result = audit_backstory(model, story.text, person.profile, sample=args.audit, seed=args.seed)
        print(f"\nfidelity audit ({time.perf_counter() - start:.1f} s): {result.summary()}")
        by_cat: dict[str, list[bool]] = {}
        for row in result.rows:
            by_cat.setdefault(row["category"], []).append(bool(row["correct"]))
        print("  by category: " + ", ".join(f"{c} {sum(v)}/{len(v)}" for c, v in sorted(by_cat.items())))
    print(f"\n{model.accounting.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
