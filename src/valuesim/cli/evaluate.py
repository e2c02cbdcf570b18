"""`valuesim eval` and `valuesim report`: thin calls to valuesim.evaluation.run_study / write_report."""

from __future__ import annotations

import argparse
import sys

from ..llm.secrets import scrub_argv
from ..runs.names import STORE_FILE

DEFAULT_METHODS = "country-marginal,knn,regression"
CURVE_SIZES = "0,25,50,100,150"


def _method_help() -> str:
    try:
        from ..methods.registry import available

        names = [f"{m.name}{' (LLM)' if m.needs_llm else ''}" for m in available()]
    except Exception:  # the list is only a help text
        names = []
    return ", ".join(names) if names else "see `valuesim ask --help`"


def register(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate methods on real answers: users × 5-fold CV over items, resumable",
        description=(
            "Run the paper's protocol: sample users (seeded), split the eligible items into folds; "
            "for each user and fold, predict the fold's items they answered from every other item they "
            f"answered, with every method. Every prediction is stored in OUT/{STORE_FILE} as soon "
            "as it exists: interrupt at any time and re-run the same command to continue. Eligible items "
            "(default): every codebook item except numeric ones and country-specific code lists (party, "
            "country of birth, language, ethnic group); those are still shown in profiles. "
            "Methods: " + _method_help() + "."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="survey file (CSV/SPSS/Stata/Parquet, official or synthetic), read with its codebook (--codebook)")
    p.add_argument("--methods", default=DEFAULT_METHODS, metavar="A,B,...",
                   help=f"comma-separated method names (default: {DEFAULT_METHODS})")
    p.add_argument("--option", action="append", default=[], metavar="METHOD.KEY=VALUE",
                   help="a method option, e.g. knn.k=30 or hybrid.llm.coordinator=average (repeatable; "
                        "`valuesim methods` lists every option)")
    p.add_argument("--users", default=None, metavar="N|all",
                   help="users to sample (default 100, as the paper), or all: every respondent, with the "
                        "statistical methods cross-fitted (see --fit-groups)")
    p.add_argument("--respondents", default=None, metavar="IDS|FILE",
                   help="evaluate these respondents instead of a sample: comma-separated ids (the file's id "
                        "column, e.g. D_INTERVIEW), or a text file with one id per line (# starts a comment)")
    p.add_argument("--folds", type=int, default=5, metavar="K", help="folds over items (default 5; at least 2)")
    p.add_argument("--run-folds", type=int, default=None, metavar="N",
                   help="run only the first N of the K folds, e.g. --folds 5 --run-folds 1 (default: all)")
    p.add_argument("--fit-groups", type=int, default=None, metavar="G",
                   help="cross-fitting: methods that fit are fitted G times, each on every respondent outside one "
                        "group of users, and predict that group (default 5 with --users all, else 1: one fit "
                        "on the respondents who are not evaluated)")
    p.add_argument("--model", default="local", metavar="SPEC",
                   help="model for LLM methods: local, local:smollm2-135m, local:/x.gguf, openai:MODEL (default local)")
    p.add_argument("--base-url", action="append", default=None, metavar="URL",
                   help="OpenAI-compatible server URL (openai:MODEL); repeat or comma-separate for replicas")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory, e.g. runs/NAME (resumes if it exists)")
    p.add_argument("--curve", action="store_true",
                   help="also run the profile-size curve: the first fold's targets (fold 0) with 0, 25, 50, 100, 150 and all profile items")
    p.add_argument("--curve-sizes", default=None, metavar="N,N,...",
                   help=f"profile sizes for --curve (default {CURVE_SIZES})")
    p.add_argument("--curve-methods", default=None, metavar="A,B",
                   help="methods that run the curve (default: all; the paper ran it for valuesim only)")
    p.add_argument("--seed", type=int, default=0, help="seed for users, folds and curve profiles (default 0)")
    p.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help="LLM predictions in flight (default 1 for the local engine, 8 for openai:)")
    p.add_argument("--items", default=None, metavar="IDS",
                   help="score only these items: ids and ranges in codebook order, e.g. A1-A45,B9 (the targets; "
                        "the profile is still every other "
                        "item the person answered)")
    p.add_argument("--profile-items", default=None, metavar="IDS",
                   help="restrict profiles to these items (default: every item that is not a target in the fold)")
    p.add_argument("--stratify", choices=["country"], default=None,
                   help="sample equal numbers of users from every country")
    p.add_argument("--split", default=None, metavar="SPLIT_JSON", help="reuse a split.json to repeat a study exactly")
    p.add_argument("--force", action="store_true", help="discard an existing run in --out that has other settings")
    p.add_argument("--report", action="store_true", help="write the report when the run is complete")
    p.add_argument("--weighted", action="store_true",
                   help="print (and report) survey-weighted scores beside the unweighted ones (design weights: "
                        "W_WEIGHT, a codebook's columns.weight)")
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
    p.set_defaults(func=run_eval)

    r = sub.add_parser(
        "report",
        help="write the Markdown/HTML report, CSV and Parquet of a run",
        description=(
            "Write RUN_DIR/report/: report.md, report.html (self-contained: charts embedded), "
            "predictions.csv and predictions.parquet. Tables follow the paper's Tables 1 and 3 "
            "(methods × 9 categories, normalized MAE and accuracy) with paired t-test marks, "
            "bootstrap CIs, chance levels, per-country results, the radar chart, the profile-size "
            "curve (if run with --curve) and LLM usage. Works on an unfinished run too."
        ),
    )
    r.add_argument("run_dir", metavar="RUN_DIR",
                   help="a directory made by `valuesim eval --out` (or by `valuesim population --out`: its report is rewritten)")
    r.add_argument("--reference", default=None, metavar="METHOD",
                   help="method the significance tests compare against (default: best overall accuracy)")
    r.add_argument("--demographics", action="store_true",
                   help="count the demographic items (sex, age, household size, ...) in the Overall scores too "
                        "(default: value items only; the Demo column shows them either way)")
    r.add_argument("--weighted", action="store_true",
                   help="also score with the survey's design weights (the codebook's weight column): "
                        "weighted figures beside the unweighted ones")
    r.add_argument("--item", default=None, metavar="ID",
                   help="the item whose confusion matrices (real answer × predicted, per method) the report shows "
                        "(default: the hardest value item with at most 12 options)")
    r.add_argument("--compare", default=None, metavar="RUN_B",
                   help="print paired differences (RUN_DIR − RUN_B) per method with 95%% intervals over users; both "
                        "runs must have the same split (e.g. RUN_B made with --split RUN_DIR/split.json)")
    r.add_argument("--export", default=None, choices=["stata", "spss", "parquet"],
                   help="also write the scored predictions as RUN_DIR/report/scored.dta (stata), .sav (spss) or "
                        ".parquet (R: arrow::read_parquet), with value and variable labels")
    r.set_defaults(func=run_report)


def _sizes(text: str | None) -> list[int]:
    from ..errors import ConfigError

    if text is None:
        text = CURVE_SIZES
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--curve-sizes must be comma-separated integers, got {text!r}") from None


def parse_options(items: list[str], methods: list[str] | None = None) -> dict[str, dict]:
    """["knn.k=30", "valuesim.coordinator=average"] -> {"knn": {"k": 30}, ...}, checked against
    each method's declared options (and refused for methods not in ``methods``)."""
    from ..methods.options import parse_option_args

    return parse_option_args(items, methods)


def respondents_arg(text: str, users: str | None) -> tuple[str, ...]:
    """``--respondents``: the ids of a file (one per line, or comma-separated) or given inline."""
    from pathlib import Path

    from ..errors import ConfigError

    if users is not None:
        raise ConfigError("--respondents and --users both choose who is evaluated: give one of them")
    path = Path(text)
    if path.is_file():
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--respondents {path}: cannot read it as a text file of ids ({exc})") from None
        lines = [line.split("#", 1)[0] for line in raw.splitlines()]
        ids = [i.strip() for line in lines for i in line.split(",") if i.strip()]
        if not ids:
            raise ConfigError(f"--respondents {path} holds no id (one id per line)")
    else:
        if "/" in text or text.endswith((".txt", ".csv")):
            raise ConfigError(f"--respondents {text}: no such file")
        ids = [i.strip() for i in text.split(",") if i.strip()]
    return tuple(dict.fromkeys(ids))


def check_curve_flags(args: argparse.Namespace) -> None:
    """--curve-sizes / --curve-methods mean something only with --curve: refused without it."""
    from ..errors import ConfigError

    for flag, value in (("--curve-sizes", args.curve_sizes), ("--curve-methods", args.curve_methods)):
        if value is not None and not args.curve:
            raise ConfigError(f"{flag} needs --curve (the profile-size curve is not run without it)")


def study_config(args: argparse.Namespace):
    """The StudyConfig of `valuesim eval`'s arguments: built once, used by the run and --estimate.
    Options are checked here, before anything is loaded or written."""
    from ..evaluation.protocol import check_protocol, parse_users
    from ..evaluation.runner import StudyConfig

    from .estimate import check_prices_and_rate

    prices = check_prices_and_rate(args)
    check_curve_flags(args)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    method_options = parse_options(args.option, methods)
    users = respondents_arg(args.respondents, args.users) if args.respondents else parse_users(args.users or "100")
    check_protocol(users, args.folds, args.run_folds, args.fit_groups)
    return StudyConfig(
        methods=methods, users=users, folds=args.folds, run_folds=args.run_folds, fit_groups=args.fit_groups,
        profile_items=args.profile_items, model=args.model, out=args.out, curve=args.curve, seed=args.seed,
        concurrency=args.concurrency, items=args.items, stratify=args.stratify, curve_sizes=_sizes(args.curve_sizes),
        curve_methods=[m.strip() for m in args.curve_methods.split(",")] if args.curve_methods else None,
        split=args.split, method_options=method_options, force=args.force, progress=not args.no_progress,
        verbose=args.verbose,
        base_url=args.base_url, prices=prices,
        command=scrub_argv(["valuesim"] + sys.argv[1:]),  # no credentials in run.json/reports
    )


def run_eval(args: argparse.Namespace) -> int:
    from ..evaluation import run_study, write_report
    from . import estimate as estimate_cli
    from .batch import estimate_batched, run_batched

    config = study_config(args)
    if args.estimate and not args.batch:
        return estimate_cli.eval_estimate(args, config)
    from .loading import load_from_args

    survey = load_from_args(args)
    if args.estimate:  # --estimate --batch: the rounds, run over a stand-in engine in a scratch directory
        return estimate_batched(args, config, lambda cfg: run_study(survey, cfg), batch_model_settings(args, config))
    result, waiting = run_batched(args, config, lambda cfg: run_study(survey, cfg), batch_model_settings(args, config))
    print(result.summary().rsplit("\nreport: ", 1)[0])  # where the report is comes last, after the results
    if waiting:  # --batch files: the next round needs the engine's results first
        return 0
    estimate_cli.store_eval_estimate(args, config, result.run_dir, survey)
    estimate_cli.print_usage_summary(result.run_dir)
    from ..evaluation.report import results_text

    print(results_text(result.run_dir, weighted=args.weighted))
    if args.report:
        paths = write_report(result.run_dir, weighted=args.weighted)
        print(f"report: {paths['html']}")
    else:
        print(f"report (tables by category and country, charts, tests): valuesim report {result.run_dir}")
    return all_failed(result.predictions, result.failures, result.run_dir)


def batch_model_settings(args: argparse.Namespace, config) -> dict:
    """How run_study builds its model, for --batch (which builds it first, in batch mode)."""
    from ..llm import default_concurrency

    return {"spec": config.model, "base_url": config.base_url,
            "concurrency": max(1, config.concurrency or default_concurrency(config.model)),
            **({"prices": config.prices} if config.prices else {})}


def all_failed(stored: int, failed: int, run_dir) -> int:
    """Exit status of a finished command: 1, with one line, when every stored prediction failed."""
    if stored and failed >= stored:
        print(f"valuesim: error: all {stored} predictions in {run_dir} failed (the failures table of the report "
              "says why); fix the cause and re-run the same command to retry them", file=sys.stderr)
        return 1
    return 0


def run_report(args: argparse.Namespace) -> int:
    """`valuesim report RUN`: either kind of run, recomputed from its store into RUN/report/."""
    from ..errors import ConfigError
    from ..evaluation.report import results_text
    from ..runs.rundir import RunDir
    from ..runs.study import report

    if args.compare is not None:
        from ..evaluation.compare import compare_runs, compare_text

        print(compare_text(compare_runs(args.run_dir, args.compare), args.run_dir, args.compare))
        return 0
    if (args.weighted or args.export) and RunDir(args.run_dir).is_population():
        raise ConfigError("--weighted and --export are for individual runs: a population run's real distributions "
                          "are weighted already, and its tables are CSV files in its report/ folder")
    paths = report(args.run_dir, reference=args.reference, demographics=args.demographics,
                   weighted=args.weighted, item=args.item)
    if args.weighted:
        print(results_text(args.run_dir, weighted=True))
    if args.export:
        from ..evaluation.export import export_scored

        paths["export"] = export_scored(args.run_dir, args.export)
    for name in ("html", "markdown", "csv", "parquet", "metrics", "items", "export"):
        if name in paths:
            print(f"{name}: {paths[name]}")
    return 0
