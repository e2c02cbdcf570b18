"""`--batch openai|files` for `valuesim eval` / `population`, and `valuesim batch export|import|cancel`.

Glue only: the round loop is runs/rounds.py, the JSONL is llm/batch_jsonl.py, the Batch API
driver runs/batch_openai.py.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

DRIVERS = ("openai", "files")


def add_batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch", choices=DRIVERS, default=None,
                   help="run the study in rounds on a batch engine: openai = OpenAI's Files + Batches endpoints at "
                        "--base-url (submits, waits, imports, round after round); files = one round per command, "
                        "with `valuesim batch export/import` around any engine that reads OpenAI batch JSONL (e.g. "
                        "vllm run-batch). Needs --model openai:MODEL. See README 'Batch runs'")
    p.add_argument("--batch-poll", type=float, default=30.0, metavar="SECONDS",
                   help="with --batch openai: seconds between status checks of a batch (default 30)")


def run_batched(args: argparse.Namespace, config, study: Callable[[Any], Any],
                model_settings: dict) -> tuple[Any, int]:
    """``study(config)`` once (online), or round by round with the model in batch mode: its
    result and the requests still pending (0: complete). ``model_settings``: how the study
    itself would build its model (spec, base_url, concurrency, prices)."""
    if not getattr(args, "batch", None):
        return study(config), 0
    from ..llm import get_model
    from ..llm.batch import batch_model
    from ..runs.rounds import FilesDriver, run_rounds, say_stderr

    spec = model_settings.pop("spec")
    model = batch_model(get_model(spec, **model_settings), config.out)
    config = config.replace(model=model)
    if args.batch == "files":
        driver = FilesDriver(config.out, model.api.model, say_stderr)
    else:
        from ..runs.batch_openai import OpenAIBatchDriver

        driver = OpenAIBatchDriver(config.out, model_settings.get("base_url"), poll=args.batch_poll)
    try:
        return run_rounds(lambda: study(config), model, driver)
    finally:
        model.collector.close()


def estimate_batched(args: argparse.Namespace, config, study: Callable[[Any], Any], model_settings: dict) -> int:
    """``--estimate --batch``: print the rounds, requests, tokens and cost (runs/batch_estimate.py)."""
    from ..runs.batch_estimate import estimate_batched as estimate

    result = estimate(study, config, model_settings, prices=config.prices)
    print(result.text(f"model {model_settings['spec']}"))
    return 0


def register(sub) -> None:
    p = sub.add_parser("batch", help="batch runs: export a round's requests, import an engine's results, cancel",
                       description="The files driver's two halves (see `valuesim eval --batch files`), and cancelling "
                                   "the batches a `--batch openai` run left running.")
    cmd = p.add_subparsers(dest="batch_command", metavar="ACTION", required=True)
    e = cmd.add_parser("export", help="write the pending requests of RUN as OpenAI batch JSONL")
    e.add_argument("run_dir", metavar="RUN")
    e.add_argument("--out", required=True, metavar="FILE.jsonl")
    e.set_defaults(func=export)
    i = cmd.add_parser("import", help="load an engine's batch output JSONL into RUN")
    i.add_argument("run_dir", metavar="RUN")
    i.add_argument("results", metavar="RESULTS.jsonl")
    i.set_defaults(func=import_)
    c = cmd.add_parser("cancel", help="cancel the batches a --batch openai run of RUN has running")
    c.add_argument("run_dir", metavar="RUN")
    c.set_defaults(func=cancel)


def _model_name(run_dir) -> str:
    from ..runs.rundir import RunDir

    spec = ((RunDir(run_dir).info() or {}).get("settings") or {}).get("model") or "MODEL"
    return spec.partition(":")[2] or spec


def export(args: argparse.Namespace) -> int:
    from ..llm.batch_jsonl import export_pending

    n = export_pending(args.run_dir, args.out)
    if not n:
        print(f"{args.out}: empty: no request is pending, the study is complete (or run its command again to "
              "continue it)")
        return 0
    print(f"{args.out}: {n} requests. Run them, e.g.\n  vllm run-batch -i {args.out} -o results.jsonl "
          f"--model {_model_name(args.run_dir)}\nthen: valuesim batch import {args.run_dir} results.jsonl")
    return 0


def import_(args: argparse.Namespace) -> int:
    from ..llm.batch_jsonl import import_file

    result = import_file(args.run_dir, args.results)
    print(f"{args.results}: {result.lines} lines: {result.text()}. Run the study's command again to continue.")
    return 0


def cancel(args: argparse.Namespace) -> int:
    from ..runs.batch_openai import cancel_running

    for line in cancel_running(args.run_dir):
        print(line)
    return 0
