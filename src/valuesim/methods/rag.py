"""RAG baseline (section 5.1, appendix D.2): the top-3 profile items most similar to the question.

Each profile item is embedded as its question with the person's answer; the target question as
its text with options; similarity is the cosine of L2-normalised sentence embeddings (the paper
used text-embedding-ada-002; here all-MiniLM-L6-v2 on CPU by default, or with
``embedder="openai:MODEL"`` the embeddings endpoint of the server the chat model uses, through
the same client, cache and accounting). Embeddings are cached on disk.
"""

from __future__ import annotations

import threading

from ..survey.model import Question
from .base import EmbedderUser, PersonContext
from .single_prompt import SinglePromptSimulator


def item_text(question: Question, code: int) -> str:
    """One profile item as retrieved and shown: question, options, the person's answer."""
    return f"{question.render()}\nAnswer: {question.answer_text(code)}"


class RAG(SinglePromptSimulator, EmbedderUser):
    name = "rag"
    prompt = "rag"
    context_kind = "retrieved"

    def __init__(self, model, *, embedder="minilm", k: int = 3, base_url: str | None = None, residence: bool = True,
                 **options):
        super().__init__(model, **options)
        self.residence = bool(residence)
        self.k = k
        self._embedder_spec = embedder
        self._base_url = base_url
        self._embedder = None
        self._lock = threading.Lock()

    @property
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                from ..llm.embeddings import get_embedder

                self._embedder = get_embedder(self._embedder_spec, model=self.model, base_url=self._base_url)
            return self._embedder

    @embedder.setter
    def embedder(self, embedder) -> None:  # e.g. the estimate's stand-in (no model, no API call)
        with self._lock:
            self._embedder = embedder

    def retrieve(self, person: PersonContext, question: Question) -> list[tuple[Question, int, float]]:
        from ..llm.embeddings import cosine_top_k

        items = list(person.profile.items)
        if not items:
            return []
        vectors = self.embedder.embed([item_text(q, c) for q, c in items] + [question.render()])
        top = cosine_top_k(vectors[-1], vectors[:-1], self.k)
        return [(items[i][0], items[i][1], float(vectors[i] @ vectors[-1])) for i in top]

    def context(self, person: PersonContext, question: Question, trace: dict) -> str:
        hits = self.retrieve(person, question)
        trace["retrieved"] = [{"question": q.id, "answer": int(c), "similarity": round(s, 4)} for q, c, s in hits]
        text = "\n\n".join(item_text(q, c) for q, c, _ in hits) or "(no information)"
        trace["context"] = {"kind": "retrieved", "text": text, "embedder": self.embedder.name}
        return text


def make_rag(model=None, **options) -> RAG:
    return RAG(model, **options)
