"""The embedded backend: llama.cpp in this process, through the ``xllamacpp`` wheel.

One engine per model file per process (module-level registry), loaded on first use with one
thread per free core (see ``default_threads``), a context sized for 8k-token prompts and
llama.cpp's prompt cache on, so a second question about the same person re-uses the long
shared prefix instead of re-reading it. Calls are serialised with a lock: on a CPU the engine
is the bottleneck anyway, and it keeps per-call timings honest. Every call is streamed from a
helper thread, so Ctrl-C or SIGTERM stops a generation in flight within a token or two.

Option distributions read next-token log-probabilities after an assistant turn pre-filled with
``Answer: `` (llama.cpp continues a trailing assistant message rather than starting a new one):
the model declares ``prefill`` and the reader (options.read_prefilled) does the rest.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError, ModelError
from .base import (GenerateConfig, Message, ModelAPI, ModelInfo, ModelOutput, RetryPolicy, TokenLogprob, Usage,
                   estimate_tokens)
from .tokenizer import ServerTokenizer, http_get, http_post
from .weights import INSTALL_HINT, default_model_ready, prepare_default_model, sha256_file, smollm2_path

N_CTX = 8192 + 2048  # an 8k-token prompt plus room for the answer
TOP_LOGPROBS = 20
NAMED_MODELS = {"smollm2-135m": smollm2_path}
NAMED_SIZES = {"": "small", "smollm2-135m": "small"}  # declared: Qwen2.5-Coder-1.5B (the default), SmolLM2-135M
SMALL_PARAMETERS = 3_000_000_000  # the small-model prompts were written for models of about 3B parameters or fewer

_registry: dict[str, "_Engine"] = {}
_registry_lock = threading.Lock()


class EngineError(ModelError):
    """The embedded engine failed on a request. ``retryable``: its own failure (an exception,
    an unexpected reply, a 5xx or "unavailable" error), which the Model's loop tries again; a
    refused request (a prompt over the context, a bad grammar: 4xx) is not."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


def _refusal(response: dict) -> EngineError:
    err = response["error"]
    if not isinstance(err, dict):
        return EngineError(f"the embedded engine refused the request: {err}")
    code = err.get("code")
    transient = (isinstance(code, int) and code >= 500) or err.get("type") in ("server_error", "unavailable_error")
    return EngineError(f"the embedded engine refused the request: {err.get('message', err)}", transient)


class _Engine:
    """A loaded llama.cpp server object plus the lock that serialises requests to it."""

    def __init__(self, path: Path, n_ctx: int, threads: int):
        try:
            import xllamacpp
        except ImportError:
            raise ModelError(f"the embedded engine (xllamacpp) is not installed: {INSTALL_HINT}") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.cache_prompt = True
        params.verbosity = -1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        # Idle threads yield instead of spinning: on a shared machine (other processes, our own
        # Python threads) spinning workers steal the cores the busy ones need.
        params.cpuparams.poll = 0
        params.cpuparams_batch.poll = 0
        start = time.perf_counter()
        print(f"valuesim: loading {path.name} (llama.cpp, {threads} thread{'s' if threads > 1 else ''}) ...",
              file=sys.stderr, flush=True)
        try:
            self.server = xllamacpp.Server(params)
        except Exception as exc:  # the wheel raises plain exceptions on a bad file
            raise ModelError(f"llama.cpp could not load {path}: {exc}") from None
        self.load_seconds = time.perf_counter() - start
        self.lock = threading.Lock()
        self.path = path
        self.n_ctx = n_ctx
        self._info: ServerTokenizer | None = None
        # the window the engine enforces (the model's own limit when it is below the one asked for)
        window = self.server_info.context_window() or n_ctx
        print(f"valuesim: loaded in {self.load_seconds:.1f} s; context window {min(window, n_ctx):,} tokens",
              file=sys.stderr, flush=True)

    @property
    def server_info(self) -> ServerTokenizer:
        """llama.cpp's own endpoints of this engine (tokenizer, the context it enforces)."""
        if self._info is None:
            address = self.server.listening_address
            self._info = ServerTokenizer(http_post(address), http_get(address))
        return self._info

    def chat(self, request: dict) -> dict:
        """One chat completion, streamed so that it can be stopped between two tokens.

        The request runs in a helper thread while the calling thread waits in short steps: a
        signal (Ctrl-C, SIGTERM) reaches the caller within a fraction of a second even while a
        long generation is in flight, and the stream's callback then tells llama.cpp to stop,
        which cancels the request in the engine (its slot is free for the next one at once)."""
        with self.lock:
            call = _StreamedCall(self.server, request)
            call.start()
            try:
                while not call.done.wait(0.1):
                    pass
            except BaseException:  # KeyboardInterrupt / SIGTERM: stop the engine, then go on unwinding
                call.cancel.set()
                call.done.wait(CANCEL_WAIT_SECONDS)
                raise
        return call.result()


CANCEL_WAIT_SECONDS = 1.0  # how long an interrupted caller waits for the engine to stop (during prompt reading it cannot: no token, no callback)
_active: "set[_StreamedCall]" = set()  # requests in flight (any thread): stopped when the process exits


class _StreamedCall:
    """A streamed ``handle_chat_completions`` in a daemon thread, put back together into the
    response a non-streamed call returns (content, per-token logprobs, finish reason, usage)."""

    def __init__(self, server, request: dict):
        self.server = server
        self.request = {**request, "stream": True, "stream_options": {"include_usage": True}}
        self.cancel, self.done = threading.Event(), threading.Event()
        self.text: list[str] = []
        self.tokens: list[dict] = []
        self.finish_reason = ""
        self.usage: dict = {}
        self.error: EngineError | None = None

    def start(self) -> None:
        _active.add(self)
        threading.Thread(target=self._run, name="llama.cpp-request", daemon=True).start()

    def _run(self) -> None:
        try:
            self.server.handle_chat_completions(self.request, self._chunk)
        except Exception as exc:  # noqa: BLE001 - the wheel raises plain exceptions
            self.error = EngineError(f"the embedded engine failed on a request: {exc}", retryable=True)
        finally:
            _active.discard(self)
            self.done.set()

    def _chunk(self, chunk: Any) -> bool:
        """Called by llama.cpp for every streamed piece; True stops (and cancels) the request."""
        if isinstance(chunk, dict) and "error" in chunk:
            self.error = _refusal(chunk)
            return True
        if not isinstance(chunk, dict) or ("choices" not in chunk and "usage" not in chunk):
            self.error = EngineError(f"the embedded engine returned an unexpected response: {str(chunk)[:200]}", True)
            return True
        for choice in chunk.get("choices") or []:
            self.text.append((choice.get("delta") or {}).get("content") or "")
            self.tokens.extend((choice.get("logprobs") or {}).get("content") or [])
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        self.usage = chunk.get("usage") or self.usage
        return self.cancel.is_set()

    def result(self) -> dict:
        if self.error is not None:
            raise self.error
        if self.cancel.is_set():
            raise ModelError("the embedded engine's request was cancelled")
        choice: dict[str, Any] = {"message": {"role": "assistant", "content": "".join(self.text)},
                                  "finish_reason": self.finish_reason}
        if self.tokens:
            choice["logprobs"] = {"content": self.tokens}
        return {"choices": [choice], "usage": self.usage}


def cancel_requests() -> None:
    """Stop every request the embedded engines are working on (at exit: the engine must not keep
    the process alive finishing a generation nobody will read)."""
    for call in list(_active):
        call.cancel.set()


atexit.register(cancel_requests)


def default_threads() -> int:
    """One thread per core that is free when the engine loads ($VALUESIM_THREADS overrides).

    llama.cpp's threads meet at a barrier after every operation; when the machine is already
    busy, a waiting thread loses its time slice at each barrier. Measured here on 2 cores with
    a load average of ~15: 1 thread generated 22-26 tokens/s, 2 threads 0.6-3 (SmolLM2-135M).
    On an idle machine every core is used."""
    value = os.environ.get("VALUESIM_THREADS")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ConfigError(f"VALUESIM_THREADS must be a whole number, got {value!r}") from None
    cores = os.cpu_count() or 1
    return max(1, min(cores, round(cores - busy_cores() + 0.5)))


def busy_cores(samples: int = 5, interval: float = 0.05) -> float:
    """How many cores other work is using right now: the median count of runnable tasks in
    /proc/loadavg, less this process. The 1-minute load average is the fallback: it lags by a
    minute, so it would still count work that has just finished (an install, a previous run)."""
    counts = []
    for i in range(samples):
        try:
            with open("/proc/loadavg", encoding="ascii") as f:
                running = int(f.read().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            break
        counts.append(max(0, running - 1))
        if i + 1 < samples:
            time.sleep(interval)
    if counts:
        return float(sorted(counts)[len(counts) // 2])
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 0.0


def engine_for(path: Path, n_ctx: int = N_CTX, threads: int | None = None) -> _Engine:
    """The process-wide engine for a model file (loaded once)."""
    key = str(path.resolve())
    with _registry_lock:
        engine = _registry.get(key)
        if engine is None:
            engine = _Engine(path, n_ctx, threads or default_threads())
            _registry[key] = engine
        return engine


def unload_all() -> None:
    """Free every loaded engine (tests and benchmarks call this to release memory)."""
    with _registry_lock:
        _registry.clear()


def _usage(response: dict) -> Usage:
    u = response.get("usage") or {}
    details = u.get("prompt_tokens_details") or {}
    return Usage(int(u.get("prompt_tokens", 0)), int(details.get("cached_tokens", 0) or 0),
                 int(u.get("completion_tokens", 0)))


class LocalModel(ModelAPI):
    """ModelAPI on a GGUF file run in-process by llama.cpp (one prompt at a time).

    It declares pre-filled reads (llama.cpp continues a trailing assistant message, so an
    option distribution is a one-token read after ``Answer: ``), its own tokenizer, and the
    context window the loaded engine enforces (llama.cpp caps the requested context at the
    model's training length: SmolLM2-135M gets 8,192 of the 10,240 asked for). ``size``: the
    size hint, declared for the named models; for any other file, "small" when the parameter
    count its metadata declares (as the loaded engine reports it) is under ``SMALL_PARAMETERS``.
    Engine failures are ``EngineError``s; the Model retries the engine's own ones briefly."""

    retry = RetryPolicy(retries=2, backoff_base=0.2, backoff_max=2.0)

    def __init__(self, path: str | Path, *, spec: str | None = None, n_ctx: int = N_CTX, threads: int | None = None,
                 size: str | None = None):
        if importlib.util.find_spec("xllamacpp") is None:
            raise ModelError(f"the embedded engine (xllamacpp) is not installed: {INSTALL_HINT}")
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise ModelError(f"model file not found: {self.path}")
        self.spec = spec or f"local:{self.path}"
        self.n_ctx = n_ctx
        self.threads = threads
        self.size = size
        self._identity: dict | None = None

    @classmethod
    def from_spec(cls, arg: str) -> "LocalModel":
        """``""`` → the default Qwen2.5-Coder-1.5B, a known name, or a path to a .gguf file."""
        if not arg:  # joins the installed pieces on first use; a clear error if they are missing
            return cls(prepare_default_model(verbose=not default_model_ready()), spec="local", size=NAMED_SIZES[""])
        if arg in NAMED_MODELS:
            return cls(NAMED_MODELS[arg](), spec=f"local:{arg}", size=NAMED_SIZES[arg])
        path = Path(arg).expanduser()
        if path.suffix.lower() != ".gguf" and not path.is_file():
            raise ConfigError(
                f"unknown local model {arg!r}: use 'local', 'local:smollm2-135m' or 'local:/path/model.gguf'"
            )
        if not path.is_file():
            raise ConfigError(f"no model file {path}: give the path of a .gguf file (or 'local')")
        with open(path, "rb") as f:  # fail before any run starts, not once per prediction
            if f.read(4) != b"GGUF":
                raise ConfigError(f"{path} is not a GGUF model file (llama.cpp models start with 'GGUF')")
        return cls(path)

    @property
    def engine(self) -> _Engine:
        return engine_for(self.path, self.n_ctx, self.threads)

    def info(self) -> ModelInfo:
        """Loads the engine: the context window is the one it enforces, read from its /props."""
        window = self.engine.server_info.context_window() or self.n_ctx
        size = self.size
        if size is None:
            n = self.engine.server_info.parameters()
            size = "small" if n is not None and n < SMALL_PARAMETERS else "large"
        return ModelInfo(self.spec, context_window=min(window, self.n_ctx), tokenizer="llama.cpp (embedded engine)",
                         logprobs=True, prefill=True, concurrency=1, size=size, prefix_cache="previous")

    def load(self) -> float | None:
        return self.engine.load_seconds

    def count_tokens(self, text: str) -> int:
        """llama.cpp's own tokenizer, through the engine's /tokenize endpoint (no model run)."""
        n = self.engine.server_info.count(text)
        return estimate_tokens(text) if n is None else n

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        n = self.engine.server_info.count_prompt(messages)
        return super().count_prompt_tokens(messages) if n is None else n

    def identity(self) -> dict[str, Any]:
        """File name, size and modification time: a replaced file gets fresh cache entries
        without hashing a gigabyte on every start."""
        if self._identity is None:
            st = self.path.stat()
            self._identity = {"backend": "local", "file": self.path.name, "size": st.st_size,
                              "mtime": int(st.st_mtime)}
        return self._identity

    def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        request: dict[str, Any] = {
            "messages": messages,
            "max_tokens": int(config.max_tokens),
            "temperature": float(config.temperature),
            "seed": config.engine_seed,
            "cache_prompt": True,
        }
        if config.stop:
            request["stop"] = list(config.stop)
        if config.grammar:
            request["grammar"] = config.grammar
        if config.logprobs:
            request.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        if config.repeat_penalty != 1.0:
            request["repeat_penalty"] = float(config.repeat_penalty)
        start = time.perf_counter()
        response = self.engine.chat(request)
        seconds = time.perf_counter() - start
        choice = (response.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or ""  # streamed: only what the model added
        tokens = None
        if config.logprobs and (choice.get("logprobs") or {}).get("content"):
            tokens = []
            for t in choice["logprobs"]["content"]:
                top: dict[str, float] = {}
                for a in t.get("top_logprobs") or []:
                    top[a.get("token", "")] = max(top.get(a.get("token", ""), float("-inf")), float(a["logprob"]))
                tokens.append(TokenLogprob(t.get("token", ""), float(t.get("logprob", 0.0)), top))
        return ModelOutput(text, _usage(response), seconds, False, choice.get("finish_reason") or "", tokens)

    def __repr__(self) -> str:
        return f"<LocalModel {self.spec}>"


__all__ = ["LocalModel", "engine_for", "unload_all", "sha256_file"]
