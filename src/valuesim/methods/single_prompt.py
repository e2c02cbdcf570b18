"""The shared shape of the one-prompt baselines (Full Info, RAG, No profile): one context, one
question, one "Answer: N" read with its distribution (see prompting.py)."""

from __future__ import annotations

import time
from typing import Callable

from ..llm import as_model
from ..errors import ModelError
from ..survey.model import Question
from .base import ModelUser, PersonContext, Prediction
from .prompting import LAYOUTS, Generation, UnparsableAnswer, ask, render, user
from .residence import with_residence


class SinglePromptSimulator(ModelUser):
    """Subclasses set ``name`` and ``prompt`` and implement ``context(person, question, trace)``."""

    name = "single-prompt"
    prompt = ""
    context_kind = "context"
    residence = False  # name the country of residence after the context (Full Info, RAG: option residence)

    def __init__(self, model, *, prompt_order: str = "context-first", max_tokens: int = 48,
                 use_logprobs: bool = True, seed: int = 0, samples: int = 0):
        """``samples``: where a reply has no log-probabilities, vote over this many sampled
        answers instead of the one-hot parsed answer (costs ``samples`` more requests)."""
        if prompt_order not in LAYOUTS:
            raise ValueError(f"prompt_order must be one of {LAYOUTS}, got {prompt_order!r}")
        if int(samples) < 0:
            raise ValueError(f"samples must be 0 or more, got {samples!r}")
        self.model = as_model(model)  # a bare ModelAPI is wrapped once, here
        self.prompt_order = prompt_order
        self.gen = Generation(max_tokens=max_tokens, seed=seed, use_logprobs=use_logprobs, samples=int(samples))

    def context(self, person: PersonContext, question: Question, trace: dict) -> str | None:
        raise NotImplementedError

    def messages(self, person: PersonContext, question: Question, trace: dict) -> tuple[list[dict], str | None]:
        """The prompt to send and the shared context in it (the trace keeps one copy of it)."""
        context = self.context(person, question, trace)
        if context is not None and self.residence:
            context = with_residence(context, person, trace)
        fields = {"question": question.render()}
        if context is not None:
            fields["context"] = context
        return user(render(self.prompt, self.prompt_order, **fields)), context

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        config = {"method": self.name, "prompt_order": self.prompt_order}
        return answer_one(self.model, self.name, self.gen, question, config, self.context_kind,
                          lambda trace: self.messages(person, question, trace))


def answer_one(model, name: str, gen: Generation, question: Question, config: dict, context_kind: str,
               messages: Callable[[dict], tuple[list[dict], "str | None"]]) -> Prediction:
    """One prompt, one answer read by ``prompting.ask``; a model failure or an unreadable
    reply is a recorded failure (its replies kept in the trace), never raised."""
    trace: dict = {"config": {**config, "model": model.spec}, "question": question.id}
    start = time.perf_counter()
    context = None
    try:
        msgs, context = messages(trace)
        turn = ask(model, name, msgs, question, gen, want_analysis=False)
    except ModelError as exc:
        if isinstance(exc, UnparsableAnswer):
            trace["retries"] = exc.retries  # the unreadable replies, in the order asked
        trace["seconds"] = round(time.perf_counter() - start, 3)
        return Prediction.failure(question, f"{type(exc).__name__}: {exc}", trace)
    trace["modules"] = {name: turn.trace(context, context_kind)}
    trace["decision"] = {"mode": "single", "answer": turn.answer}
    trace["seconds"] = round(time.perf_counter() - start, 3)
    prediction = Prediction.from_distribution(turn.distribution, trace)
    prediction.answer = int(turn.answer)
    return prediction
