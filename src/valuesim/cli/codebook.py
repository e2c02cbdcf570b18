"""`valuesim codebook show|draft`: print a codebook in the file format, or draft one from a
labelled .sav/.dta file (see README, "Your own survey")."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "codebook",
        help="show a codebook, or draft one for your own survey from a labelled .sav/.dta",
        description="A codebook describes a survey: its name, id/country/weight columns, missing codes "
        "and items (text, kind, options). One is built in (wvs7); any other survey is read with "
        "--codebook FILE on every command that reads a survey file.",
    )
    p.set_defaults(func=lambda args: p.print_help())
    csub = p.add_subparsers(dest="codebook_command", metavar="SUBCOMMAND")

    s = csub.add_parser("show", help="print a codebook (built-in wvs7, or a file) in the codebook-file format",
                        description="Print a codebook in the file format (YAML, or JSON with --json): the "
                        "built-in one (wvs7) or a codebook file, checked as every command would load it.")
    s.add_argument("codebook", metavar="NAME_OR_FILE", help="wvs7, or a codebook file (.yaml/.json)")
    s.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    s.set_defaults(func=show)

    d = csub.add_parser("draft", help="draft a codebook from a labelled SPSS .sav or Stata .dta file",
                        description="Write a draft codebook from a .sav/.dta file's variable labels, value "
                        "labels and user-missing values. Inferred kinds and columns carry a 'review' note: "
                        "read the draft, correct it, then pass it with --codebook.")
    d.add_argument("file", metavar="FILE", help="a labelled .sav or .dta file")
    d.add_argument("--out", metavar="FILE", default=None,
                   help="where to write the draft (.yaml or .json; default: print it)")
    d.set_defaults(func=draft)


def show(args: argparse.Namespace) -> int:
    from ..survey.codebook_file import dump_codebook, load_codebook

    sys.stdout.write(dump_codebook(load_codebook(args.codebook), "json" if args.json else "yaml"))
    return 0


def draft(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..runs.render import write_atomic
    from ..survey.codebook_draft import draft_codebook
    from ..survey.codebook_file import dump_codebook, parse_codebook

    raw = draft_codebook(args.file)
    codebook = parse_codebook(raw, f"draft of {args.file}")  # the draft must load as it is
    fmt = "json" if args.out and args.out.lower().endswith(".json") else "yaml"
    text = dump_codebook(raw, fmt)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if not out.parent.exists():
        raise ConfigError(f"cannot write {out}: folder {out.parent} does not exist")
    write_atomic(out, text)
    review = sum(1 for item in raw["items"] if item.get("review"))
    cols = ", ".join(f"{k}: {v}" for k, v in raw["columns"].items()) or "none found (add them by hand)"
    print(f"wrote a draft codebook of {len(codebook)} items to {out} ({review} marked 'review'; columns: {cols}); "
          f"use it with --codebook {out}", file=sys.stderr)
    return 0
