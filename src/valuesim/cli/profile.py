"""`valuesim profile FILE --respondent ID`: print what a simulator is told about one person."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "profile",
        help="print one respondent's rendered profile",
        description="Print a respondent's profile as simulators see it: by default the paper's "
        "layout (each question, its options, then the answer); with --statements one "
        "second-person sentence per answer. Missing answers (-1 ... -5) are left out.",
    )
    p.add_argument("file", metavar="FILE", help="survey file (CSV/SPSS/Stata/Parquet, official or synthetic), read with its codebook (--codebook)")
    p.add_argument("--respondent", required=True, metavar="ID", help="respondent id: the codebook's id column, or the derived key COUNTRY-ID-N where ids are "
                   "shared (see `data inspect`)")
    p.add_argument("--exclude", default="", metavar="Q1,Q2",
                   help="comma-separated question ids to leave out (e.g. the targets being predicted)")
    p.add_argument("--statements", action="store_true", help="print second-person statements instead of Q&A")
    from .loading import add_loading_options

    add_loading_options(p)
    p.set_defaults(func=show_profile)


def show_profile(args: argparse.Namespace) -> int:
    from ..survey.model import Profile
    from .loading import load_from_args

    survey = load_from_args(args)
    exclude = [q.strip() for q in args.exclude.split(",") if q.strip()]
    for qid in exclude:
        survey.codebook[qid]  # unknown ids end in one clear message
    person = survey.respondent(args.respondent)
    profile = Profile.from_respondent(person, survey.codebook, exclude=exclude)
    print(profile.as_statements() if args.statements else profile.as_qa_list())
    return 0
