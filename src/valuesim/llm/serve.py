"""llama.cpp's own OpenAI-compatible HTTP server for any GGUF file, from the xllamacpp wheel.

    from valuesim.llm.serve import serve_gguf
    server = serve_gguf("smollm2-135m", port=0)        # or a path to any .gguf file
    model = get_model("openai:smollm2", base_url=server.base_url)
    server.close()

``valuesim models serve MODEL`` runs the same in the foreground. The server speaks the OpenAI
chat-completions API with logprobs, plus llama.cpp's /tokenize and /props (valuesim reads the
model's tokenizer and context window from them). It runs in this process: no second binary.
The wheel cannot stop a server short of the process ending, so tests run it as a subprocess.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelError
from .weights import INSTALL_HINT


def resolve_gguf(model: str) -> Path:
    """'local' (the embedded default), a known name ('smollm2-135m') or a path to a .gguf file."""
    from .local import NAMED_MODELS
    from .weights import prepare_default_model

    name = model.removeprefix("local:") if model.startswith("local:") else model
    if name in ("local", ""):
        return prepare_default_model()
    if name in NAMED_MODELS:
        return NAMED_MODELS[name]()
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(f"no model file {path}: give a .gguf path, 'local' or one of {', '.join(NAMED_MODELS)}")
    return path


@dataclass
class ServedModel:
    """A running in-process llama.cpp server. ``base_url`` ends in /v1 (what --base-url wants)."""

    server: Any
    path: Path
    address: str
    n_ctx: int
    load_seconds: float

    @property
    def base_url(self) -> str:
        return self.address.rstrip("/") + "/v1"

    def close(self) -> None:
        """Stop using it. The wheel has no stop call and freeing its server object blocks
        forever (measured), so the server lives until the process exits; run it in a separate
        process (``valuesim models serve``) when it must stop earlier."""
        self.server = None

    def __enter__(self) -> "ServedModel":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def serve_gguf(model: str, *, host: str = "127.0.0.1", port: int = 0, n_ctx: int = 8192, parallel: int = 1,
               threads: int | None = None, quiet: bool = True) -> ServedModel:
    """Load ``model`` into llama.cpp and serve it over HTTP on ``host:port`` (0 = any free port).

    ``parallel``: request slots (each gets n_ctx / parallel tokens of context, as llama-server)."""
    if importlib.util.find_spec("xllamacpp") is None:
        raise ModelError(f"llama.cpp (xllamacpp) is not installed: {INSTALL_HINT}")
    import xllamacpp

    from .local import default_threads

    path = resolve_gguf(model)
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = int(n_ctx)
    params.n_parallel = max(1, int(parallel))
    params.cache_prompt = True
    params.verbosity = -1 if quiet else 1
    params.hostnames = [host]
    params.port = int(port)
    n = threads or default_threads()
    params.cpuparams.n_threads = n
    params.cpuparams_batch.n_threads = n
    params.cpuparams.poll = 0
    params.cpuparams_batch.poll = 0
    start = time.perf_counter()
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:  # the wheel raises plain exceptions on a bad file or a busy port
        raise ModelError(f"llama.cpp could not serve {path} on {host}:{port}: {exc}") from None
    _ALIVE.append(server)  # never freed: see ServedModel.close
    return ServedModel(server, path, server.listening_address, int(n_ctx), time.perf_counter() - start)


_ALIVE: list = []


def serve_forever(model: str, **options: Any) -> int:
    """``valuesim models serve``: serve until interrupted, printing how to point valuesim at it."""
    served = serve_gguf(model, **options)
    name = served.path.stem
    print(f"serving {served.path.name} at {served.base_url} (llama.cpp, context {served.n_ctx}, "
          f"loaded in {served.load_seconds:.1f} s)", flush=True)
    print(f"use it with:  --model openai:{name} --base-url {served.base_url}", flush=True)
    print("stop with Ctrl-C", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(0)  # freeing the wheel's server blocks forever; the process exit ends it
    return 0
