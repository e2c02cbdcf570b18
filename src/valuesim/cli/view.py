"""`valuesim view RUN [RUN ...]`: a local, read-only viewer over run directories."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "view",
        help="look inside runs in the browser: people, backstories, module reasoning, answers vs truth",
        description=(
            "Serve a local, read-only page over one or more run directories (individual `eval` runs and "
            "`population` runs) on 127.0.0.1 and print its address; Ctrl-C stops it. Pages: the overview "
            "(settings, status, headline scores with intervals and the chance row, failures by cause), every "
            "prediction (filter by method, item, category, country, correct/wrong/failed; sortable), a person "
            "(profile, backstory with its checks and fidelity audit, every method's distribution beside the "
            "truth, ValueSim's modules and coordinator, prompts and raw replies), an item, population countries "
            "and personas (simulated vs real distributions), and a comparison of two methods or runs. A run in "
            "progress shows its new predictions on reload. --static DIR writes the same pages as files."
        ),
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directory (the --out of a run); several may be given")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--static", metavar="DIR", default=None,
                   help="write the pages as files into DIR (they open without a server) instead of serving them")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from ..viewer import serve, write_static

    if args.static:
        index = write_static(args.runs, args.static)
        print(f"valuesim view: wrote the pages to {args.static}; open {index}")
        return 0
    try:
        serve(args.runs, port=args.port, announce=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print("valuesim view: stopped.")
    except OSError as exc:
        from ..errors import ConfigError

        raise ConfigError(f"cannot serve on 127.0.0.1:{args.port} ({exc.strerror or exc}); choose another --port") from None
    return 0
