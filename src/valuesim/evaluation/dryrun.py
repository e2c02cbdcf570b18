"""The estimate's side of the dry run: the ``dryrun`` backend (llm/dryrun.py) with a placeholder
backstory that passes the story checks as a real story would, and a stand-in for RAG's
embedder (no embedding model, no embeddings API call)."""

from __future__ import annotations

from collections.abc import Sequence

from ..llm.base import ModelAPI
from ..llm.dryrun import KEYS, Call, Counter, Tokenizer, _add, filler_text, tokenizer_for
from ..llm.dryrun import DryRunModel as _DryRun
from ..methods.story import small_prompt_facts

__all__ = ["KEYS", "Call", "Counter", "DryEmbedder", "DryRunModel", "Tokenizer", "_add", "story_placeholder",
           "tokenizer_for"]


def story_placeholder(n_words: int, seed: int = 0, facts: str = "") -> str:
    """``n_words`` words starting "You", in a seeded order (no repeated sentence or 6-gram);
    with ``facts`` (the small-model prompt's statements, which its story check wants kept)
    they come first and the filler makes up the rest."""
    kept = " ".join(facts.split())
    return filler_text(n_words, seed, f"{kept} You" if kept else "You")


def _story_reply(messages: list[dict], n_words: int, seed: int) -> str:
    return story_placeholder(n_words, seed, small_prompt_facts(messages[-1]["content"]))


def DryRunModel(backend: ModelAPI | None, spec: str, *, reads: bool = False, answer_share: float = 1.0,
                story_share: float = 1.0) -> _DryRun:
    """The dry-run backend in front of ``backend``, its backstories shaped to pass the checks."""
    return _DryRun(backend, spec, reads=reads, answer_share=answer_share, story_share=story_share,
                   text_reply=_story_reply)


class DryEmbedder:
    """Stands in for RAG's embedder: seeded vectors, so retrieval picks some 3 items (their
    length is what the estimate needs) without loading a model or calling an embeddings API."""

    name = "dry-run"

    def embed(self, texts: Sequence[str]):
        import numpy as np

        rng = np.random.default_rng(len(texts))
        v = rng.normal(size=(len(texts), 8))
        return v / np.linalg.norm(v, axis=1, keepdims=True)
