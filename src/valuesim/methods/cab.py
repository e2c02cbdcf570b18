"""The Cognitive, Affective and Behavioral (CAB) modules: three views of one person, one answer each.

Each module prompt (prompts/{cognitive,affective,behavioral}.txt) carries the five dimensions
the paper's appendix lists for it, the person's context (backstory, or the raw profile in the
no-story ablation) and the question with its options, and asks for "Answer: N" + "Analysis:".
Each module returns a ``Turn``: answer, analysis, and a distribution over the options (from
log-probabilities at the answer position where the backend has them; see prompting.py).
"""

from __future__ import annotations

from ..survey.model import Question
from .prompting import Generation, Turn, ask, render, user

MODULES = ("cognitive", "affective", "behavioral")
# How the coordinator names each view (the paper's coordinator calls the affective one "Emotional").
LABELS = {"cognitive": "Cognitive", "affective": "Emotional", "behavioral": "Behavioral", "direct": "Direct"}


def module_messages(module: str, context: str, question: Question, layout: str) -> list[dict]:
    if module not in MODULES and module != "direct":
        raise ValueError(f"unknown CAB module {module!r}; known: {', '.join(MODULES)}")
    return user(render(module, layout, context=context, question=question.render()))


def run_module(model, module: str, context: str, question: Question, layout: str, gen: Generation) -> Turn:
    """One module's answer and analysis. Raises ModelError / UnparsableAnswer on a bad reply."""
    return ask(model, module, module_messages(module, context, question, layout), question, gen)
