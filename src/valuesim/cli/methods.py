"""`valuesim methods`: every method with its options, defaults and one line of description."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "methods",
        help="list every method with its options and defaults",
        description="List every registered method (statistical or LLM) with a one-line description and "
                    "each option as you would pass it: --option METHOD.KEY=VALUE (shown with its default).",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..methods.options import method_table

    print(method_table(), end="")
    return 0
