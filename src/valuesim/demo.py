"""The demo study `make demo` runs: a synthetic population, a small study on the embedded model,
and the report. Small enough to finish in minutes on a 2-core machine, real in every step.

It uses only the public API (synthesize, load, split, run_study, write_report), so it doubles
as a worked example of a study.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .evaluation import run_study, write_report
from .evaluation.report import results_text
from .evaluation.protocol import eligible_items, make_split
from .runs.stages import clock
from .survey.io import format_summary, load_survey, summarize
from .survey.model import Profile
from .survey.synthetic import write_synthetic

DEMO_METHODS = ("valuesim", "full-info", "rag", "country-marginal", "regression")
LLM_DEMO_METHODS = ("valuesim", "full-info", "rag")  # the ones whose answers the demo shortens


def shrunk_lines(users: int, targets: int, profile: int, tokens: int, audit: int) -> list[str]:
    """What the demo shrank to finish in minutes on 2 CPU cores, and the full-size command."""
    return [
        f"   Shrunk to run in minutes on a CPU: {users} user{'s' if users != 1 else ''} x {targets} targets, "
        f"{profile} profile items (the paper: 290), analyses cut at {tokens} tokens (the paper: 256),",
        f"   a {audit}-item story audit (default 8), and a story the checks refuse replaced by the profile's "
        "statements (said below).",
        "   Full size, on your file and a strong model: valuesim eval FILE --methods valuesim,full-info,rag,"
        "country-marginal,regression --users 100 --folds 5 --model openai:MODEL --out runs/NAME --report",
        "",
    ]


@dataclass
class DemoResult:
    run_dir: Path
    report: dict[str, Path]
    seconds: float


def _say(text: str = "") -> None:
    print(text, flush=True)


def demo_items(survey, n_items: int, seed: int) -> list[str]:
    """A seeded, category-balanced set of ``n_items`` items (the categories take turns): the
    demo's whole question universe."""
    rng = random.Random(seed)
    by_cat: dict[str, list[str]] = {}
    for q in eligible_items(survey.codebook, available=survey.data.columns):
        by_cat.setdefault(survey.codebook[q].category, []).append(q)
    shuffled = {cat: rng.sample(qs, len(qs)) for cat, qs in sorted(by_cat.items())}
    chosen: list[str] = []
    while len(chosen) < n_items and any(shuffled.values()):
        for cat in shuffled:
            if shuffled[cat] and len(chosen) < n_items:
                chosen.append(shuffled[cat].pop())
    order = {q: i for i, q in enumerate(survey.codebook.ids)}
    return sorted(chosen, key=order.__getitem__)


def run_demo(
    out: str | Path = "runs/demo",
    model: str = "local",
    users: int = 1,
    targets: int = 2,
    folds: int = 5,
    respondents: int = 3000,
    countries: int = 4,
    methods: tuple[str, ...] = DEMO_METHODS,
    seed: int = 0,
    progress: bool = True,
    module_tokens: int = 48,
    story_audit: int = 3,
    story_budget: float = 2.0,
    min_fidelity: float = 0.0,
) -> DemoResult:
    """Synthesize, inspect, show a profile, run a one-fold study of ``users`` × ``targets``.

    The items are ``targets × folds`` category-balanced items; one fold's ``targets`` items are
    predicted from the person's answers to the other items (a 4:1 split, as the paper).
    ``module_tokens`` caps every LLM answer's analysis (ValueSim's modules and coordinator, Full
    Info, RAG; the answer comes first, so a cap shortens the reasoning, never the answer): on 2
    CPU cores the 1.5B model writes about 20 tokens/s, and the paper-length 256 costs ~10 s more
    per answer (measured: Full Info and RAG took 24 s per prediction with it).
    ``story_audit`` items (at least one per category the profile covers) audit each backstory, and ``story_budget`` bounds the
    rewrites of a story part the small model keeps getting wrong (then: the statements story);
    ``min_fidelity`` 0: the audit is measured and printed beside each story, but a low score does
    not make the small model write the whole story again (measured: a rewrite cost 2 of 9 minutes)."""
    started = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    data_file = out / "synthetic_wvs7.csv"
    _say(f"1. Synthetic population: {respondents} respondents, {countries} countries, seed {seed}")
    write_synthetic(data_file, respondents=respondents, countries=countries, seed=seed)
    _say(f"   written to {data_file} (marked SYNTHETIC: for demos and tests, not research)\n")

    survey = load_survey(data_file)
    _say("2. What the file holds (valuesim data inspect):")
    _say("   " + format_summary(summarize(survey)).replace("\n", "\n   ") + "\n")

    items = demo_items(survey, targets * folds, seed)
    split = make_split(survey, users=users, folds=folds, seed=seed, items=items)
    # One fold is run: its items are the targets, every other demo item is profile only.
    targets_ = split.folds[0][:targets]
    split.profile_only = [q for q in split.items if q not in set(targets_)]
    split.items, split.folds = targets_, [targets_]
    first = survey.respondent(split.users[0])
    profile = Profile.from_respondent(first, survey.codebook, include=split.profile_items(0))
    _say(f"3. A profile (respondent {first.id}, {first.country}; {len(profile)} known answers), as statements:")
    for line in profile.as_statements().splitlines()[:6]:
        _say(f"   {line}")
    _say(f"   ... ({len(profile) - 6} more)\n")

    _say(f"4. Study: {len(split.users)} users × {len(split.folds[0])} target items, "
         f"methods {', '.join(methods)}, model {model}")
    _say("   (LLM answers are cached: re-running the demo makes no model calls)\n")
    run_dir = out / "study"
    # A model story that fails its checks or the fidelity gate is replaced by the profile's
    # statements (labelled in the traces, the report and below): no number stands on a non-story.
    options = {m: {"max_tokens": module_tokens, "story_fallback": "statements", "story_audit": story_audit,
                   "story_budget": story_budget, "min_fidelity": min_fidelity}
               if m.startswith("valuesim") else {"max_tokens": module_tokens}
               for m in methods if m in LLM_DEMO_METHODS}
    for line in shrunk_lines(len(split.users), len(targets_), len(split.profile_only), module_tokens, story_audit):
        _say(line)
    llm, built = _built_methods(methods, model, options)
    # verbose: a line for every stage of every LLM prediction (story parts, audit, modules)
    run_study(survey, methods=built, model=llm, out=run_dir, split=split, seed=seed,
              progress=progress, verbose=True, force=True, command="valuesim demo")
    _say(f"   [{clock(time.time() - started)}] study done; writing the report")
    report = write_report(run_dir)
    seconds = time.time() - started

    _say("\n5. Results (full tables by category and country, charts and significance in the report):")
    _say(results_text(run_dir))
    for line in story_lines(run_dir):
        _say(line)
    _say(f"\nReport: {report['html']}\n        {report['markdown']}")
    _say(f"Predictions for pandas: {report.get('parquet', report.get('csv'))}")
    _say(f"Demo finished in {seconds / 60:.1f} minutes.")
    _say("Note: the embedded 1.5B model is for demos; on real survey answers it scores at chance level. "
         "Use a strong model through --model openai:MODEL for research.")
    return DemoResult(run_dir, report, seconds)


def _built_methods(methods, model, options: dict) -> tuple:
    """The model and the methods for run_study: LLM methods built here with the demo's options,
    statistical ones by name."""
    from .llm import get_model
    from .methods.registry import get_method, method_info

    if not any(method_info(m).needs_llm for m in methods):
        return None, list(methods)
    llm = get_model(model)
    built: list = []
    for name in methods:
        if not method_info(name).needs_llm:
            built.append(name)
            continue
        built.append(get_method(name, model=llm, **options.get(name, {})))
    return llm, built


def story_lines(run_dir: Path) -> list[str]:
    """Each person's backstory beside the results: how it was written, valid or replaced by the
    statements story (and why), and its fidelity (profile answers recovered from it vs chance)."""
    from .evaluation.stories import story_records

    records = story_records(run_dir)
    if records.empty:
        return []
    lines = ["\nBackstories the ValueSim numbers stand on (fidelity: sampled profile answers recovered from the story):"]
    for r in records.to_dict("records"):
        how = "statements story (no model call)" if r["kind"] == "statements" else f"model story ({r['prompt']} prompt)"
        fid = (f"fidelity {r['fidelity']:.0%} vs chance {r['chance']:.0%}" if r["fidelity"] is not None
               and r["fidelity"] == r["fidelity"] else "not audited")
        if r["status"] == "fallback":
            how = f"STATEMENTS used: the model story failed ({r['reason']})"
        elif r["status"] == "failed":
            how = f"NO STORY: {r['reason']} (its predictions are recorded failures)"
        lines.append(f"   {r['method']} · respondent {r['respondent_id']}: {how}; {fid}")
    fallbacks = (records["status"] == "fallback").sum()
    if fallbacks:
        lines.append(f"   Note: {fallbacks} of {len(records)} ValueSim results above use the statements story, "
                     "not a model-written backstory.")
    return lines


if __name__ == "__main__":  # pragma: no cover
    run_demo()
    sys.exit(0)
