"""`--estimate`, `--prices`, `--rate` for `valuesim eval` and `valuesim population` (glue only:
the work is in valuesim.evaluation.estimate and valuesim.population.estimate)."""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--estimate", action="store_true",
                   help="print predictions, requests, tokens, cost and time of this command and stop: no model "
                        "call, nothing written")
    p.add_argument("--prices", default=None, metavar="P,C[,CACHED]",
                   help="your provider's dollars per million prompt, completion[, cached prompt] tokens "
                        "(default $VALUESIM_PRICES); used by --estimate and the run's accounting")
    p.add_argument("--rate", type=float, default=None, metavar="REQ_PER_S",
                   help="requests per second the server sustains, for the time estimate (default: measured in "
                        "this run's earlier sessions)")


def apply_prices(args: argparse.Namespace) -> None:
    """--prices reaches the run's accounting the same way $VALUESIM_PRICES does (and --rate is
    checked: both before any work)."""
    rate = getattr(args, "rate", None)
    if rate is not None and not rate > 0:  # also refuses nan
        from ..errors import ConfigError

        raise ConfigError(f"--rate must be a positive number of requests per second, got {rate}")
    if getattr(args, "prices", None):
        from ..llm.accounting import Prices

        Prices.parse(args.prices)  # one clear error for a malformed value, before any work
        os.environ["VALUESIM_PRICES"] = args.prices


def _study_kwargs(args: argparse.Namespace) -> dict:
    from ..evaluation.protocol import parse_users
    from .evaluate import _sizes, parse_options

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    return {
        "methods": methods, "users": parse_users(args.users), "folds": args.folds,
        "run_folds": args.run_folds, "fit_groups": args.fit_groups, "profile_items": args.profile_items,
        "model": args.model, "items": args.items, "stratify": args.stratify, "curve": args.curve,
        "curve_sizes": _sizes(args.curve_sizes),
        "curve_methods": [m.strip() for m in args.curve_methods.split(",")] if args.curve_methods else None,
        "seed": args.seed, "split": args.split, "method_options": parse_options(args.option, methods),
        "base_url": args.base_url,
        "prices": getattr(args, "prices", None), "rate": getattr(args, "rate", None),
    }


def eval_estimate(args: argparse.Namespace) -> int:
    from ..evaluation.estimate import estimate_study
    from .loading import load_from_args

    kwargs = _study_kwargs(args)  # options checked before the file is read
    print(estimate_study(load_from_args(args), run_dir=args.out, **kwargs).text())
    return 0


def store_eval_estimate(args: argparse.Namespace, run_dir, survey) -> None:
    """After a run: keep the estimate of its settings next to it (once; again when methods
    were added), so the report can put estimate and actual side by side."""
    from ..errors import ValuesimError
    from ..evaluation.estimate import ESTIMATE_FILE, estimate_study
    from ..evaluation.usage import load_estimate

    kwargs = _study_kwargs(args)
    old = load_estimate(run_dir)
    if old is not None and [m.method for m in old.methods] == kwargs["methods"]:
        return
    try:
        estimate_study(survey, run_dir=run_dir, **kwargs).save(run_dir / ESTIMATE_FILE)
    except (ValuesimError, OSError) as exc:  # the run is done: a failed estimate only loses the comparison
        print(f"note: no estimate stored for the report ({exc})", file=sys.stderr)


def population_estimate(args: argparse.Namespace) -> int:
    from ..population.estimate import estimate_population
    from .loading import load_from_args

    print(estimate_population(
        load_from_args(args), countries=args.countries, personas=args.personas, questions=args.questions,
        methods=args.methods, model=args.model, calibrate=args.calibrate, seed=args.seed,
        calibration_questions=args.calibration_questions, base_url=args.base_url,
        prices=getattr(args, "prices", None), rate=getattr(args, "rate", None), run_dir=args.out,
        protocol=args.protocol,
    ).text())
    return 0


def print_usage_summary(run_dir) -> None:
    from ..evaluation.usage import summary_lines

    text = summary_lines(run_dir)
    if text:
        print(text)
