"""`valuesim demo`: the small end-to-end study that `make demo` runs."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run a small end-to-end study on a synthetic population",
        description=(
            "Write a synthetic population of the built-in survey, inspect it, show a profile, then run a small "
            "study (ValueSim, Full Info, RAG, country marginal, regression) on the embedded model "
            "and write the report. Real in every step; sized to finish in minutes on 2 cores."
        ),
    )
    p.add_argument("--out", default="runs/demo", help="where the demo writes its files (default runs/demo)")
    p.add_argument("--model", default="local", help="model spec (default local: the embedded 1.5B model)")
    p.add_argument("--users", type=int, default=1, help="users in the study (default 1)")
    p.add_argument("--targets", type=int, default=2,
                   help="target items per user (default 2; the profile is the other 4 folds: 8 items)")
    p.add_argument("--methods", default=None, help="comma-separated methods (default the five above)")
    p.add_argument("--seed", type=int, default=0, help="seed for data, split and sampling (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from ..demo import DEMO_METHODS, run_demo

    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods else DEMO_METHODS
    run_demo(out=args.out, model=args.model, users=args.users, targets=args.targets, methods=methods,
             seed=args.seed, progress=not args.no_progress)
    return 0
