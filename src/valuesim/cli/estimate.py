"""`--estimate`, `--prices`, `--rate` for `valuesim eval` and `valuesim population` (glue only:
the work is in valuesim.evaluation.estimate and valuesim.population.estimate)."""

from __future__ import annotations

import argparse
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


def check_prices_and_rate(args: argparse.Namespace) -> str | None:
    """--prices (returned, for the run's accounting and the estimate) and --rate, checked before
    any work: one clear line for a malformed value."""
    rate = getattr(args, "rate", None)
    if rate is not None and not rate > 0:  # also refuses nan
        from ..errors import ConfigError

        raise ConfigError(f"--rate must be a positive number of requests per second, got {rate}")
    prices = getattr(args, "prices", None)
    if prices:
        from ..llm.accounting import Prices

        Prices.parse(prices)
    return prices or None


def eval_estimate(args: argparse.Namespace, config) -> int:
    from ..evaluation.estimate import estimate_study
    from .loading import load_from_args

    print(estimate_study(load_from_args(args), config, prices=config.prices, rate=args.rate,
                         run_dir=args.out).text())
    return 0


def store_eval_estimate(args: argparse.Namespace, config, run_dir, survey) -> None:
    """After a run: keep the estimate of its settings next to it (once; again when methods
    were added), so the report can put estimate and actual side by side."""
    from ..errors import ValuesimError
    from ..evaluation.estimate import estimate_study
    from ..evaluation.usage import load_estimate
    from ..runs.rundir import RunDir

    from ..methods.base import ModelUser
    from ..methods.registry import method_info

    if not any(method_info(m).needs_llm if isinstance(m, str) else isinstance(m, ModelUser) for m in config.methods):
        return  # nothing to compare: a statistical run sends no model requests
    run = RunDir(run_dir)
    old = load_estimate(run)
    if old is not None and [m.method for m in old.methods] == list(config.methods):
        return
    try:
        estimate_study(survey, config, prices=config.prices, rate=args.rate, run_dir=run).save(run)
    except (ValuesimError, OSError) as exc:  # the run is done: a failed estimate only loses the comparison
        print(f"note: no estimate stored for the report ({exc})", file=sys.stderr)


def population_estimate(args: argparse.Namespace, config) -> int:
    from ..population.estimate import estimate_population
    from .loading import load_from_args

    print(estimate_population(load_from_args(args), config, prices=config.prices, rate=args.rate,
                              run_dir=args.out).text())
    return 0


def print_usage_summary(run_dir) -> None:
    from ..evaluation.usage import summary_lines

    text = summary_lines(run_dir)
    if text:
        print(text)
