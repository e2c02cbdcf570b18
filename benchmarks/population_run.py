"""Population simulation on a synthetic WVS-7 file with a real model: wall time and metric table.

    .venv/bin/python benchmarks/population_run.py                       # 3 countries x 30 personas x 10 questions
    .venv/bin/python benchmarks/population_run.py --personas 10 --questions Q1,Q49,Q111,Q173 --estimate-only

Steps: write a synthetic population (NOT real WVS answers), count the model calls the run needs
(a dry run with the scripted model: identical prompts are asked once, the response cache serves
the rest), time a few real calls, print the estimate, then run every method with calibration
(``run_population``), write the report and print the wall time and the summary table for every
method with and without calibration. The LLM response cache lives in the output directory, so
the timing does not profit from earlier runs elsewhere; re-running the same command resumes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from valuesim.llm import ScriptedModel, get_model, hashed_options  # noqa: E402
from valuesim.population import run_population, write_population_report  # noqa: E402
from valuesim.population.personas import question_messages, value_persona_text  # noqa: E402
from valuesim.survey.io import load_survey  # noqa: E402
from valuesim.survey.synthetic import write_synthetic  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--countries", default="DEU,NGA,JPN")
    ap.add_argument("--respondents", type=int, default=1500, help="synthetic respondents over all countries")
    ap.add_argument("--personas", type=int, default=30)
    ap.add_argument("--questions", default="default", help="target questions (default: the 10 default items)")
    ap.add_argument("--calibration-questions", default=None)
    ap.add_argument("--methods", default="value-persona,demographic,no-persona")
    ap.add_argument("--model", default="local")
    ap.add_argument("--out", default="runs/bench_population")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--probe-calls", type=int, default=4, help="real calls timed for the estimate")
    ap.add_argument("--estimate-only", action="store_true")
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    countries = [c.strip() for c in args.countries.split(",")]
    data = out / "synthetic.csv"
    if not data.exists():
        write_synthetic(data, respondents=args.respondents, countries=countries, seed=args.seed)
    survey = load_survey(data)
    common = dict(countries=countries, personas=args.personas, questions=args.questions, methods=args.methods,
                  calibrate=True, seed=args.seed, calibration_questions=args.calibration_questions, progress=False)

    # 1. How many distinct prompts (= real model calls) does the run need?
    scripted = ScriptedModel(options=hashed_options)
    with tempfile.TemporaryDirectory() as tmp:
        dry = run_population(survey, model=get_model(scripted), out=tmp, **common)
    prompts = [c.last_user for c in scripted.calls]
    distinct = len(set(prompts))
    print(f"calls needed: {len(prompts)} persona distributions, {distinct} distinct prompts "
          f"({len(dry.metrics.question.unique())} target questions, {len(dry.calibration['questions'])} calibration)")

    # 2. Time a few real calls (fresh cache in the run directory).
    t0 = time.perf_counter()
    model = get_model(args.model, cache=out / "llm_cache.sqlite")
    model.complete([{"role": "user", "content": "Hello"}], max_tokens=1)
    load = time.perf_counter() - t0
    cb = survey.codebook
    probe_s = []
    levels = {"traditional_secular": 2, "survival_selfexpression": 4, "left_right": 3}
    for qid in ["Q27", "Q49", "Q121", "Q235", "Q69", "Q158"][: args.probe_calls]:
        t = time.perf_counter()
        model.option_distribution(question_messages(value_persona_text("ZZZ", levels), cb[qid]),
                                  [str(c) for c in cb[qid].codes])
        probe_s.append(time.perf_counter() - t)
    per_call = sum(probe_s[1:]) / max(1, len(probe_s) - 1) if len(probe_s) > 1 else (probe_s[0] if probe_s else 1.0)
    first = probe_s[0] if probe_s else per_call
    print(f"model {model.spec}: load/first call {load:.1f} s; probe calls {', '.join(f'{s:.1f}' for s in probe_s)} s "
          f"(first of a persona {first:.1f} s, same persona {per_call:.1f} s)")
    est = distinct * per_call
    print(f"estimate: about {est / 60:.1f} min for {distinct} calls at {per_call:.1f} s "
          "(a persona's first question costs more: its prefix is not cached yet)")
    if args.estimate_only:
        return 0

    # 3. The run.
    t = time.perf_counter()
    result = run_population(survey, model=model, out=out / "run",
                            command="benchmarks/population_run.py " + " ".join(sys.argv[1:]), **common)
    wall = time.perf_counter() - t
    paths = write_population_report(result.run_dir)
    print(f"\nwall time: {wall:.1f} s ({wall / 60:.1f} min) for {result.new_predictions} new persona distributions; "
          f"model load {load:.1f} s before that")
    print(f"LLM: {model.accounting.summary()}")
    print(f"model: {result.model}; countries {','.join(countries)}; {args.personas} personas; "
          f"targets {','.join(dict.fromkeys(result.metrics.question))}; "
          f"calibration on {','.join(result.calibration['questions'])}")
    print(result.text_summary())
    print(f"report: {paths['html']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
