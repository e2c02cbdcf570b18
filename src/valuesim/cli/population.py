"""`valuesim population`: a thin call to valuesim.population.run_population + the report."""

from __future__ import annotations

import argparse
import sys
import textwrap

from ..llm.secrets import scrub_argv
from ..runs.names import STORE_FILE


def register(sub) -> None:
    p = sub.add_parser(
        "population",
        help="simulate countries' answer distributions with value personas (calibrated) and baselines",
        description=textwrap.fill(
            "Simulate each country's answer distribution (not one person): draw N value profiles per "
            "country (W_WEIGHT-weighted, seeded) from one half of its respondents, describe each by its "
            "position on the value dimensions its codebook declares (`dimensions:`; `valuesim codebook show` "
            "lists them), ask the model for each persona's option "
            "distribution and average them. Compare with the real distribution of the other half: "
            "1 - normalised Wasserstein-1 (ordinal items), Jensen-Shannon distance, total variation, "
            "entropy deviation, and the gap between the best and worst country. Baselines: demographic "
            "personas, no persona (country named only), the persona-source half's real marginal (upper "
            "reference) and uniform. --calibrate fits a temperature on calibration questions (never "
            "evaluated) and adjusts each aggregate's dispersion while keeping its mean on ordinal items. "
            f"Every persona distribution is stored in OUT/{STORE_FILE} as soon as it exists: "
            "interrupt at any time and re-run the same command to continue.", 88
        ),
        epilog=textwrap.fill(
            "example: valuesim population survey.csv --countries DEU,NGA,JPN "
            "--personas 100 --method value-persona,demographic,no-persona --calibrate --model local "
            "--out runs/pop", 88, subsequent_indent="  "
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="survey file (CSV/SPSS/Stata/Parquet, official or synthetic), read with its codebook (--codebook)")
    p.add_argument("--countries", required=True, metavar="A,B,...", help="country codes as in the file, e.g. DEU,NGA")
    p.add_argument("--personas", type=int, default=100, metavar="N", help="personas per country (default 100)")
    p.add_argument("--questions", default=None, metavar="IDS",
                   help="target questions: ids and/or the codebook's category names, 'default' (the codebook's "
                        "targets, else 10 items across its categories) or 'all'. Value-dimension items, the "
                        "demographic persona items, numeric items and country code lists are never targets.")
    p.add_argument("--method", "--methods", dest="methods", default="value-persona", metavar="A,B,...",
                   help="value-persona, demographic, no-persona (default value-persona); country-marginal "
                        "and uniform are always reported")
    p.add_argument("--option", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="an option of one of --method's methods (repeatable; `valuesim methods` lists them)")
    p.add_argument("--protocol", default="split-half", choices=("split-half", "held-out-country"),
                   help="split-half (default): methods may use the persona-source half of each country, "
                        "target answers included (the country-marginal reference). held-out-country: each "
                        "evaluated country's target answers are masked from every method (only its people's "
                        "value-dimension positions remain, as for a question never asked there); adds the "
                        "statistical twin of value personas (value-twin, fitted on the other countries) and "
                        "the other countries' pooled marginal (other-countries) in place of country-marginal")
    p.add_argument("--calibrate", action="store_true",
                   help="also report each LLM method after calibration (T fitted on calibration questions)")
    p.add_argument("--calibration-questions", default=None, metavar="IDS",
                   help="questions to fit the calibration on (default: the codebook's calibration items; "
                        "never evaluated)")
    p.add_argument("--model", default="local", metavar="SPEC",
                   help="local, local:smollm2-135m, local:/x.gguf, openai:MODEL, scripted (default local)")
    p.add_argument("--base-url", action="append", default=None, metavar="URL",
                   help="OpenAI-compatible server URL (openai:MODEL); repeat or comma-separate for replicas")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory, e.g. runs/NAME (resumes if it exists)")
    p.add_argument("--seed", type=int, default=0, help="seed for the half split and the persona draw (default 0)")
    p.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help="persona distributions in flight (default 1 for the local engine, 8 for openai:)")
    p.add_argument("--plot-questions", default=None, metavar="IDS",
                   help="questions to plot real vs simulated (default: the first four targets)")
    p.add_argument("--no-report", action="store_true", help="do not write report.md / report.html")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true",
                   help="a line for every stage of an LLM prediction (story parts, audit, modules, coordinator; "
                        "each persona question); without it such lines appear only when a stage takes over 2 s")
    from .loading import add_loading_options

    add_loading_options(p)
    from . import estimate as estimate_cli

    estimate_cli.add_arguments(p)
    from .batch import add_batch_options

    add_batch_options(p)
    p.set_defaults(func=run)


def population_config(args: argparse.Namespace):
    """The PopulationConfig of `valuesim population`'s arguments: built once, used by the run and
    --estimate. ``--option`` is checked here (before anything is read or written) and kept."""
    from ..methods.options import parse_option_args
    from ..population.personas import LLM_METHODS
    from ..population.runner import PopulationConfig

    from .estimate import check_prices_and_rate

    prices = check_prices_and_rate(args)
    named = [m.strip() for m in args.methods.split(",") if m.strip()]
    options = parse_option_args(args.option, [m for m in named if m in LLM_METHODS]) if args.option else None
    return PopulationConfig(
        countries=args.countries, personas=args.personas, questions=args.questions, methods=args.methods,
        model=args.model, out=args.out, calibrate=args.calibrate, seed=args.seed,
        calibration_questions=args.calibration_questions, workers=args.concurrency,
        progress=not args.no_progress, verbose=args.verbose, base_url=args.base_url, protocol=args.protocol, method_options=options,
        prices=prices, command=scrub_argv(["valuesim"] + sys.argv[1:]),  # no credentials in run.json/reports
    )


def run(args: argparse.Namespace) -> int:
    from ..population import run_population, write_population_report
    from . import estimate as estimate_cli

    config = population_config(args)
    if args.estimate and not args.batch:
        return estimate_cli.population_estimate(args, config)
    from .loading import load_from_args

    survey = load_from_args(args)
    if args.plot_questions:  # refused before the run, not after it (the report plots only targets)
        args.plot_questions = _check_plot_questions(args.plot_questions, args.questions, survey)
    from ..llm import default_concurrency
    from .batch import estimate_batched, run_batched

    settings = {"spec": config.model, "base_url": config.base_url,
                "concurrency": config.workers or default_concurrency(config.model),
                **({"prices": config.prices} if config.prices else {})}
    if args.estimate:  # --estimate --batch: the rounds, run over a stand-in engine in a scratch directory
        return estimate_batched(args, config, lambda cfg: run_population(survey, cfg), settings)
    result, waiting = run_batched(args, config, lambda cfg: run_population(survey, cfg), settings)
    print(result.text_summary())
    if waiting:  # --batch files: the next round needs the engine's results first
        return 0
    if not args.no_report:
        paths = write_population_report(result.run_dir, questions=args.plot_questions, survey=survey)
        print(f"report: {paths['html']}\n        {paths['markdown']}")
    from ..population.personas import LLM_METHODS
    from .evaluate import all_failed

    llm = result.metrics[result.metrics["method"].isin(LLM_METHODS)] if not result.metrics.empty else result.metrics
    failed = int(llm["n_failed"].sum()) if len(llm) else 0
    return all_failed(failed + (int(llm["n_personas"].sum()) if len(llm) else 0), failed, result.run_dir)


def _check_plot_questions(plot: str, questions, survey) -> str:
    """The --plot-questions ids (upper-cased), refused unless each is a target of the run."""
    from ..errors import ConfigError
    from ..population.targets import resolve_questions

    targets = resolve_questions(questions, survey.codebook, survey.question_ids)
    wanted = [q.strip().upper() for q in plot.split(",") if q.strip()]
    unknown = [q for q in wanted if q not in targets]
    if unknown:
        raise ConfigError(f"--plot-questions {', '.join(unknown)}: not among this run's target questions "
                          f"({', '.join(targets[:8])}{', ...' if len(targets) > 8 else ''})")
    return ",".join(wanted)
