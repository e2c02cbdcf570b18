"""Integrating the CAB modules' answers into the final answer.

Modes:
* ``always``: the coordinator prompt (prompts/coordinator.txt) sees the question, its options
  and every module's answer and analysis, and decides (the paper's text, appendix B.3). As in
  the paper it does not see the backstory.
* ``on-disagreement``: what the paper's code did: when all modules give the same answer that
  answer stands (distribution: mean of the modules' distributions) and the coordinator is not
  called; it runs only when they disagree.
* ``average``: the ablation: the mean of the module answers, rounded with Python's ``round``
  (halves go to the even number, as a Python script's rounding does) and moved to the nearest
  valid code; the distribution is the mean of the modules' distributions.
"""

from __future__ import annotations

from ..survey.model import Question
from .cab import LABELS
from .prompting import Generation, Turn, ask, fill, load_prompt, options_text, user

MODES = ("always", "on-disagreement", "average")


def coordinator_messages(question: Question, turns: list[Turn]) -> list[dict]:
    perspectives = "\n\n".join(
        fill(load_prompt("coordinator_perspective").strip(), label=LABELS.get(t.name, t.name.title()),
             answer=question.answer_text(t.answer), analysis=t.analysis or "(none given)")
        for t in turns
    )
    prompt = fill(load_prompt("coordinator"), n_perspectives=len(turns), question_text=question.text,
                  options=options_text(question), perspectives=perspectives)
    return user(prompt)


def mean_distribution(turns: list[Turn], question: Question) -> dict[int, float]:
    codes = question.codes
    return {c: sum(t.distribution.get(c, 0.0) for t in turns) / len(turns) for c in codes}


def average_answer(question: Question, answers: list[int]) -> int:
    """round(mean) moved to the nearest valid code (the lower one on a tie)."""
    target = round(sum(answers) / len(answers))
    return min(question.codes, key=lambda c: (abs(c - target), c))


def coordinate(model, question: Question, turns: list[Turn], mode: str, gen: Generation
               ) -> tuple[int, dict[int, float], dict, Turn | None]:
    """(answer, distribution, decision record, coordinator turn or None)."""
    if mode not in MODES:
        raise ValueError(f"coordinator mode must be one of {MODES}, got {mode!r}")
    answers = [t.answer for t in turns]
    agree = len(set(answers)) == 1
    decision = {"mode": mode, "module_answers": {t.name: t.answer for t in turns}, "agree": agree}
    if mode == "average":
        answer = average_answer(question, answers)
        decision.update(rule="rounded mean of the module answers", answer=answer)
        return answer, mean_distribution(turns, question), decision, None
    if mode == "on-disagreement" and agree:
        decision.update(rule="modules agree: coordinator not called", answer=answers[0])
        return answers[0], mean_distribution(turns, question), decision, None
    turn = ask(model, "coordinator", coordinator_messages(question, turns), question, gen)
    decision.update(rule="coordinator", answer=turn.answer, analysis=turn.analysis)
    return turn.answer, turn.distribution, decision, turn
