"""What an llama.cpp or vLLM server tells about its model over HTTP: its own tokenizer
(``/tokenize``, the chat template via ``/apply-template``) and the context window it enforces
(``/props``, ``/v1/models``). One client for the embedded engine (llama.cpp's server in this
process) and for model servers; the caller supplies how to GET and POST (the OpenAI backend
sends through its transport, with the API key; the embedded engine through plain HTTP).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any, Callable, Sequence

Post = Callable[[str, dict], Any]
Get = Callable[[str], Any]
FAILED = (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError)


def http_post(root: str, timeout: float = 30.0) -> Post:
    def post(path: str, body: dict) -> Any:
        req = urllib.request.Request(root.rstrip("/") + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as reply:
            return json.loads(reply.read())

    return post


def http_get(root: str, timeout: float = 30.0) -> Get:
    def get(path: str) -> Any:
        with urllib.request.urlopen(root.rstrip("/") + path, timeout=timeout) as reply:
            return json.loads(reply.read())

    return get


class ServerTokenizer:
    """Token counts and the context window from the server itself; every probe is asked once
    and a server without the endpoint gets None (the caller then estimates)."""

    def __init__(self, post: Post, get: Get, model: str = "", errors: tuple = FAILED):
        self._post, self._get, self.model = post, get, model
        self._errors = errors
        self._probed: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _once(self, name: str, fn: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._probed:
                try:
                    self._probed[name] = fn()
                except self._errors:
                    self._probed[name] = None
            return self._probed[name]

    def dialect(self) -> str | None:
        """Which /tokenize the server speaks: "llama.cpp", "vllm", or None."""
        def llama() -> str | None:
            return "llama.cpp" if isinstance(self._post("/tokenize", {"content": "a b"}).get("tokens"), list) else None

        def vllm() -> str | None:
            reply = self._post("/tokenize", {"model": self.model, "prompt": "a b"})
            return "vllm" if isinstance(reply.get("count"), int) else None

        return self._once("tokenizer", llama) or self._once("tokenizer_vllm", vllm)

    def count(self, text: str) -> int | None:
        """Tokens in ``text`` by the server's tokenizer; None when it has none or failed."""
        dialect = self.dialect()
        try:
            if dialect == "llama.cpp":
                return len(self._post("/tokenize", {"content": text, "add_special": True,
                                                    "parse_special": True})["tokens"])
            if dialect == "vllm":
                return int(self._post("/tokenize", {"model": self.model, "prompt": text})["count"])
        except self._errors:
            pass  # a tokenizer hiccup must not stop a run
        return None

    def apply_template(self, messages: Sequence[dict]) -> str | None:
        """The prompt text the server builds from ``messages`` (llama.cpp's /apply-template)."""
        if self._once("template", lambda: "prompt" in self._post("/apply-template", {"messages": [
                {"role": "user", "content": "a"}]})) is not True:
            return None
        try:
            return str(self._post("/apply-template", {"messages": list(messages)})["prompt"])
        except self._errors:
            return None

    def count_prompt(self, messages: Sequence[dict]) -> int | None:
        text = self.apply_template(messages)
        return None if text is None else self.count(text)

    def parameters(self) -> int | None:
        """The model's parameter count as llama.cpp's /v1/models reports it from the file's
        metadata (``meta.n_params``); None where the server does not say."""
        def ask() -> int | None:
            for item in self._get("/v1/models").get("data") or []:
                n = (item.get("meta") or {}).get("n_params")
                if n:
                    return int(n)
            return None

        return self._once("parameters", ask)

    def context_window(self) -> int | None:
        """llama.cpp's /props (n_ctx per slot, what it enforces) or vLLM's /v1/models
        (max_model_len); None where the server does not say."""
        def ask() -> int | None:
            try:
                props = self._get("/props")
                n = (props.get("default_generation_settings") or {}).get("n_ctx") or props.get("n_ctx")
                if n:
                    return int(n)
            except self._errors:
                pass
            for item in self._get("/v1/models").get("data") or []:
                if item.get("max_model_len"):
                    return int(item["max_model_len"])
            return None

        return self._once("context_window", ask)
