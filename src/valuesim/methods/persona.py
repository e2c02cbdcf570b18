"""Persona methods: the person is described by a text (``PersonContext.context``), not a profile.

``value-persona``, ``demographic`` and ``no-persona`` (the population methods of seeds/001)
are one simulator: it sends the persona text followed by the question (one user message,
persona first so a server's prefix cache serves every question of a persona) and reads the
model's distribution over the option codes after "Answer: ". They differ only in the text the
population pipeline puts in the context: the value-dimension descriptors, the demographic
facts, or only the country. They need a persona text, so ``valuesim eval`` (which knows a
person by their answers) refuses them.
"""

from __future__ import annotations

from ..survey.model import Question
from .base import PersonContext, Prediction

VALUE, DEMOGRAPHIC, NO_PERSONA = "value-persona", "demographic", "no-persona"
PERSONA_METHODS = (VALUE, DEMOGRAPHIC, NO_PERSONA)


def persona_messages(persona_text: str, question: Question) -> list[dict]:
    """One user message: the persona first (shared prefix), then the question with its options."""
    from ..population.prompts import template

    content = template("persona_question").format(persona=persona_text, question=question.render())
    return [{"role": "user", "content": content}]


class PersonaSimulator:
    """predict(persona, question): the model's option distribution for the persona text."""

    needs_llm = True

    def __init__(self, name: str, model):
        self.name, self.model = name, model

    def predict(self, person: PersonContext, question: Question) -> Prediction:
        if not person.context:
            return Prediction.failure(question, f"{self.name} needs a persona text (PersonContext.context); "
                                                "run it with `valuesim population`")
        codes = [str(c) for c in question.codes]
        d = self.model.option_distribution(persona_messages(person.context, question), codes)
        # the model's probabilities as they are (already normalised over the codes)
        dist = {int(c): float(p) for c, p in d.probs.items()}
        answer = int(d.answer) if d.answer else (question.codes[0] if question.codes else 0)
        return Prediction(dist, answer, {"dist_method": d.method, "cached": bool(d.cached),
                                         "seconds": float(d.seconds or 0.0)})


def make_value_persona(model=None) -> PersonaSimulator:
    return PersonaSimulator(VALUE, model)


def make_demographic(model=None) -> PersonaSimulator:
    return PersonaSimulator(DEMOGRAPHIC, model)


def make_no_persona(model=None) -> PersonaSimulator:
    return PersonaSimulator(NO_PERSONA, model)
