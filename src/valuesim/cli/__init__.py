"""The ``valuesim`` command: a thin layer over the Python API.

Each command group lives in its own module exposing ``register(subparsers)``; the modules
listed in ``COMMAND_MODULES`` are loaded in order. Errors a user can cause end in one line.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sqlite3
import sys
import threading

from ..errors import ValuesimError, sqlite_cause
from ..llm.secrets import scrub
from ..survey.model import UnknownQuestion
from ..survey.survey import UnknownRespondent
from .terminal import one_line, safe_streams

COMMAND_MODULES = ["demo", "data", "codebook", "profile", "models", "evaluate", "population", "ask", "methods", "batch",
                   "view"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="valuesim",
        description=(
            "Simulate how people and populations answer value questions (World Values Survey "
            "wave 7) with LLMs and statistics, and measure how close the simulation is."
        ),
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"valuesim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler, `kill`, a container stop), handled like Ctrl-C: every runner saves
    what it has and marks its session interrupted."""


def _on_sigterm(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the saving short
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    try:
        with safe_streams():  # model and file text never reaches the terminal as control characters
            return _run(args)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except (ValuesimError, UnknownQuestion, UnknownRespondent) as exc:
        print(f"valuesim: error: {one_line(scrub(exc))}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # the run's store met outside the checks that name it (the caches name themselves)
        print(f"valuesim: error: the run's store (predictions.sqlite in the run directory) failed: "
              f"{scrub(sqlite_cause(exc))}; everything stored before is kept", file=sys.stderr)
        return 2
    except (PermissionError, FileExistsError, IsADirectoryError, NotADirectoryError) as exc:
        print(f"valuesim: error: {scrub(exc.strerror or exc)}: {scrub(exc.filename or '')}".rstrip(": "),
              file=sys.stderr)
        return 2
    except Terminated:
        print("valuesim: terminated (SIGTERM); everything computed so far is saved: re-run the same command "
              "to continue.", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("valuesim: interrupted; everything computed so far is saved.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
