"""Plays `vllm run-batch -i IN.jsonl -o OUT.jsonl --model M`: reads OpenAI batch request lines and
writes one OpenAI batch output line per request, answered by the deterministic fake model of
fake_batch_server.py (the same replies the fake servers give). No network."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_batch_server import plausible  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="vllm run-batch (stand-in)")
    p.add_argument("-i", "--input-file", required=True)
    p.add_argument("-o", "--output-file", required=True)
    p.add_argument("--model", required=True)
    args = p.parse_args(argv)
    with open(args.input_file, encoding="utf-8") as src, open(args.output_file, "w", encoding="utf-8") as out:
        for i, raw in enumerate(src):
            if not raw.strip():
                continue
            line = json.loads(raw)
            if line.get("url") != "/v1/chat/completions":
                raise SystemExit(f"line {i + 1}: unsupported url {line.get('url')!r}")
            status, body = plausible(line["body"])
            body = dict(body, model=args.model)
            out.write(json.dumps({"id": f"vllm-{i}", "custom_id": line["custom_id"],
                                  "response": {"status_code": status, "request_id": f"vllm-batch-{i}", "body": body},
                                  "error": None}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
