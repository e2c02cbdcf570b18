"""Persona methods: the person is described by a text (``PersonContext.context``), not a profile.

``value-persona``, ``demographic`` and ``no-persona`` (the population methods of seeds/001)
are one simulator: it sends the persona text followed by the question (one user message,
persona first so a server's prefix cache serves every question of a persona) and reads the
answer and its distribution with the same reader as every other LLM method
(``prompting.ask``: log-probabilities, pre-filled reads, a re-ask with the next sample index
when a reply has no readable option, votes over samples when asked for). They differ only in
the text the population pipeline puts in the context: the value-dimension descriptors, the
demographic facts, or only the country. They need a persona text, so ``valuesim eval`` (which
knows a person by their answers) refuses them.
"""

from __future__ import annotations

from ..llm import as_model
from ..survey.model import Question
from .base import ModelUser, PersonContext, Prediction
from .prompting import Generation
from .single_prompt import answer_one

VALUE, DEMOGRAPHIC, NO_PERSONA = "value-persona", "demographic", "no-persona"
PERSONA_METHODS = (VALUE, DEMOGRAPHIC, NO_PERSONA)
ANSWER_TOKENS = 16  # room for "**Answer:** 10" in any tokenizer: the persona prompt asks for the number only


def persona_messages(persona_text: str, question: Question, survey: str = "") -> list[dict]:
    """One user message: the persona first (shared prefix), then the question with its options;
    the prompt names the survey (``survey``: the codebook's title)."""
    from ..population.prompts import template

    content = template("persona_question").format(persona=persona_text, question=question.render(),
                                                   survey=survey or "a survey")
    return [{"role": "user", "content": content}]


class PersonaSimulator(ModelUser):
    """predict(persona, question): the answer and option distribution for the persona text."""

    needs_llm = True

    def __init__(self, name: str, model, *, max_tokens: int = ANSWER_TOKENS, use_logprobs: bool = True,
                 seed: int = 0, samples: int = 0):
        if int(samples) < 0:
            raise ValueError(f"samples must be 0 or more, got {samples!r}")
        self.name, self.model = name, as_model(model)
        self.gen = Generation(max_tokens=max_tokens, seed=seed, use_logprobs=use_logprobs, samples=int(samples))

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        if not person.context:
            return Prediction.failure(question, f"{self.name} needs a persona text (PersonContext.context); "
                                                "run it with `valuesim population`")
        def messages(trace: dict) -> tuple[list[dict], str]:
            trace["context"] = {"kind": "persona", "text": person.context}
            return persona_messages(person.context, question, person.survey), person.context

        prediction = answer_one(self.model, self.name, self.gen, question, {"method": self.name}, "persona", messages)
        turn = (prediction.trace.get("modules") or {}).get(self.name) or {}
        # what the population store keeps per row
        prediction.trace.update(dist_method=turn.get("distribution_method", ""), cached=bool(turn.get("cached")))
        return prediction


def make_value_persona(model=None, *, max_tokens: int = ANSWER_TOKENS, use_logprobs: bool = True, seed: int = 0,
                       samples: int = 0) -> PersonaSimulator:
    return PersonaSimulator(VALUE, model, max_tokens=max_tokens, use_logprobs=use_logprobs, seed=seed, samples=samples)


def make_demographic(model=None, *, max_tokens: int = ANSWER_TOKENS, use_logprobs: bool = True, seed: int = 0,
                     samples: int = 0) -> PersonaSimulator:
    return PersonaSimulator(DEMOGRAPHIC, model, max_tokens=max_tokens, use_logprobs=use_logprobs, seed=seed,
                            samples=samples)


def make_no_persona(model=None, *, max_tokens: int = ANSWER_TOKENS, use_logprobs: bool = True, seed: int = 0,
                    samples: int = 0) -> PersonaSimulator:
    return PersonaSimulator(NO_PERSONA, model, max_tokens=max_tokens, use_logprobs=use_logprobs, seed=seed,
                            samples=samples)
