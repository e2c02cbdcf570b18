"""`valuesim data synth|inspect`: make a synthetic survey file, or describe any survey file."""

from __future__ import annotations

import argparse
import json
import time

from .loading import add_loading_options, load_from_args


def register(sub) -> None:
    p = sub.add_parser(
        "data",
        help="make a synthetic survey file or inspect a survey file",
        description="Work with survey files (.csv, .sav, .dta, .parquet): an official file, read with its "
        "codebook (--codebook; default the built-in one), or a synthetic population in the same layout.",
    )
    p.set_defaults(func=lambda args: p.print_help())
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    s = dsub.add_parser(
        "synth",
        help="write a synthetic population in the built-in survey's official CSV layout (or --codebook's)",
        description="Write a synthetic population (not real respondents) in the built-in survey's official CSV "
        "layout, for demos and tests. The same seed gives the same file.",
    )
    s.add_argument("--respondents", type=int, default=1000, metavar="N", help="number of respondents (default 1000)")
    s.add_argument("--countries", type=int, default=None, metavar="K", help="number of countries (default: the generator's)")
    s.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    s.add_argument("--out", required=True, metavar="FILE",
                   help="where to write: .csv (the official CSV layout), or .sav, .dta, .parquet")
    s.add_argument("--quirks", action="store_true",
                   help="add the official file's quirks: a country sharing one D_INTERVIEW, codes the "
                        "bank does not list, uncapped counts, a country not asked an item, extra columns")
    s.add_argument("--labelled", action="store_true",
                   help="write a labelled export instead (variable labels as headers, value labels in "
                        "the cells), as R or pandas write from the SPSS file, with what real exports "
                        "do to labels (multi-line headers, shortened, prefixed and cut labels, recoded "
                        "items, the survey's derived indices); .csv or .parquet")
    s.add_argument("--codebook", metavar="FILE", default=None,
                   help="write a synthetic population of ANOTHER survey, in its own layout (id, country and "
                        "weight columns, its missing codes) from its codebook file (see `valuesim codebook`)")
    s.set_defaults(func=synth)

    i = dsub.add_parser(
        "inspect",
        help="respondents, countries, items present and missing rates of a survey file",
        description="Load a survey file (official or synthetic; .csv, .sav, .dta or .parquet) with "
        "the same checks every command uses, and describe it: respondents, countries, items "
        "present or absent, missing answers by category (don't know / no answer / not "
        "applicable / not asked / missing), and a data-quality section: what valuesim did to "
        "the file (unknown codes per column, top-coded counts, items not asked per country, "
        "duplicated ids and rows, columns ignored). Labelled exports (variable labels as "
        "headers, value labels in the cells) are read too.",
    )
    i.add_argument("file", metavar="FILE", help="the survey file")
    i.add_argument("--json", action="store_true", help="print the summary (and data-quality section) as JSON")
    add_loading_options(i)
    i.set_defaults(func=inspect)


def synth(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import ConfigError
    from ..survey.io import write_frame
    from ..survey.synthetic import generate, write_synthetic

    if args.respondents < 1:
        raise ConfigError(f"--respondents must be at least 1 (got {args.respondents})")
    if args.countries is not None and args.countries < 1:
        raise ConfigError(f"--countries must be at least 1 (got {args.countries})")
    if Path(args.out).suffix.lower() not in (".csv", ".txt", ".sav", ".dta", ".parquet", ".pq"):
        raise ConfigError(f"cannot write {args.out}: use a .csv, .sav, .dta or .parquet file name")
    extra = {} if args.countries is None else {"countries": args.countries}
    start = time.perf_counter()
    if args.codebook:
        from ..survey.codebook_file import load_codebook
        from ..survey.synthetic.generic import generate_for_codebook

        if args.quirks or args.labelled:
            raise ConfigError("--quirks and --labelled write files of the built-in survey; leave them out with "
                              "--codebook")
        codebook = load_codebook(args.codebook)
        path = write_frame(generate_for_codebook(codebook, respondents=args.respondents, seed=args.seed, **extra),
                           args.out)
    elif args.labelled:
        from ..survey.synthetic.quirks import labelled_export
        from ..survey.codebook_file import load_codebook

        if Path(args.out).suffix.lower() not in (".csv", ".txt", ".parquet", ".pq"):
            raise ConfigError("--labelled writes .csv or .parquet (SPSS/Stata names cannot hold labels)")
        frame = generate(respondents=args.respondents, seed=args.seed, quirks=args.quirks, **extra)
        csv_out = Path(args.out).suffix.lower() in (".csv", ".txt")
        path = write_frame(labelled_export(frame, load_codebook(None), repeated_headers=csv_out), args.out)
    elif Path(args.out).suffix.lower() in (".csv", ".txt"):
        path = write_synthetic(args.out, respondents=args.respondents, seed=args.seed, quirks=args.quirks, **extra)
    else:
        path = write_frame(generate(respondents=args.respondents, seed=args.seed, quirks=args.quirks, **extra),
                           args.out)
    took = time.perf_counter() - start
    print(f"wrote {args.respondents:,} synthetic respondents to {path} (seed {args.seed}, {took:.1f} s)")
    return 0


def inspect(args: argparse.Namespace) -> int:
    from ..survey.io import format_summary, summarize

    summary = summarize(load_from_args(args))
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(format_summary(summary))
    return 0
