"""`--estimate --batch`: the rounds a batch run will take, the requests of each, and their cost.

The estimate is the run itself: the same study, in the same rounds (runs/rounds.py), in a
scratch directory with a scratch response cache, over a stand-in engine that answers every
request of a round the way a healthy model does (a valid backstory that uses 90% of its token
budget, a readable "Answer: N" with log-probabilities where they were asked for, one answer per
question whoever is asked, as the dry run of the online estimate). Nothing is sent and nothing of
the user's run or cache is touched. Re-asks of unreadable replies and failed lines are extra
rounds the estimate cannot know of. Completion tokens are counted at each request's max_tokens
(an upper bound); prompt tokens with the model's tokenizer where one is reachable.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..llm.base import ANSWER_PREFIX, ModelOutput, TokenLogprob, Usage, estimate_tokens
from ..llm.batch import BatchState, to_value
from ..methods.prompting import load_prompt

STORY_SHARE = 0.9  # of a story request's max_tokens a healthy model writes
OPTION = re.compile(r"\s*(-?\d+)\.\s")


@dataclass
class Round:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0  # at most: every request at its max_tokens


@dataclass
class BatchEstimate:
    rounds: list[Round] = field(default_factory=list)
    prices: Any = None

    def text(self, label: str = "") -> str:
        lines = [f"batch rounds{f' of {label}' if label else ''} (a stand-in engine answers every request readably; "
                 "re-asks and failed lines would add rounds):"]
        for k, r in enumerate(self.rounds, 1):
            lines.append(f"  round {k}: {r.requests} requests, {r.prompt_tokens:,} prompt tokens, at most "
                         f"{r.completion_tokens:,} completion tokens")
        total = Round(sum(r.requests for r in self.rounds), sum(r.prompt_tokens for r in self.rounds),
                      sum(r.completion_tokens for r in self.rounds))
        lines.append(f"  total: {len(self.rounds)} rounds, {total.requests} requests, {total.prompt_tokens:,} prompt "
                     f"tokens, at most {total.completion_tokens:,} completion tokens")
        if self.prices is not None:
            cost = self.prices.cost(Usage(total.prompt_tokens, 0, total.completion_tokens))
            lines.append(f"  cost at the prices given (--prices: give the provider's batch prices): at most ${cost:.4f}")
        else:
            lines.append("  cost: give --prices P,C (the provider's batch prices per million tokens) to see it")
        return "\n".join(lines)


def _story_heads() -> tuple[str, ...]:
    """How each backstory prompt file begins (a story request is one of them)."""
    return tuple(load_prompt(name).strip()[:60] for name in ("story", "story_theme", "story_small"))


def stand_in_reply(body: dict, heads: tuple[str, ...]) -> ModelOutput:
    """What a healthy model answers to ``body`` (see the module docstring)."""
    from ..evaluation.dryrun import story_placeholder
    from ..methods.story import small_prompt_facts

    content = body["messages"][-1]["content"]
    if content.strip().startswith(heads):
        text = story_placeholder(int(STORY_SHARE * body["max_tokens"]), seed=len(content),
                                 facts=small_prompt_facts(content))
        return ModelOutput(text, Usage(), 0.0, False, "stop", None, 1)
    codes = _option_codes(content) or ["1"]
    code = codes[int(hashlib.sha256("".join(codes).encode()).hexdigest(), 16) % len(codes)]
    text = f"{ANSWER_PREFIX}{code}\nAnalysis: it fits the person."
    tokens = None
    if body.get("logprobs"):
        tokens = [TokenLogprob("Answer", 0.0, {}), TokenLogprob(":", 0.0, {}), TokenLogprob(" ", 0.0, {}),
                  TokenLogprob(code, 0.0, {code: 0.0}), TokenLogprob(text[len(ANSWER_PREFIX) + len(code):], 0.0, {})]
    return ModelOutput(text, Usage(), 0.0, False, "stop", tokens, 1)


def _option_codes(content: str) -> list[str]:
    """The codes of the last block of numbered lines: the question's options (the question
    comes last in every answering prompt; numbered instructions come before it)."""
    blocks: list[list[str]] = [[]]
    for line in content.splitlines():
        m = OPTION.match(line)
        if m:
            blocks[-1].append(m.group(1))
        elif blocks[-1]:
            blocks.append([])
    return next((b for b in reversed(blocks) if b), [])


class EstimateDriver:
    """Answers each round with the stand-in engine and counts it."""

    def __init__(self, count_prompt: Callable[[list], int]):
        self.count_prompt = count_prompt
        self.rounds: list[Round] = []
        self.heads = _story_heads()

    def resume(self, state: BatchState) -> None:
        return None

    def submit(self, state: BatchState, round_: int) -> int:
        pending = state.pending()
        r = Round(len(pending))
        replies = {}
        for key, body in pending:
            r.prompt_tokens += self.count_prompt(body["messages"])
            r.completion_tokens += int(body["max_tokens"])
            replies[key] = to_value(stand_in_reply(body, self.heads))
        state.add_replies(replies)
        self.rounds.append(r)
        return len(replies)


def estimate_batched(study: Callable[[Any], Any], config, model_settings: dict, prices=None) -> BatchEstimate:
    """The rounds of ``study(config)`` in batch mode, run in a scratch directory."""
    from ..llm import get_model
    from ..llm.accounting import Prices
    from ..llm.batch import batch_model
    from .rounds import run_rounds

    with tempfile.TemporaryDirectory(prefix="valuesim-batch-estimate-") as tmp:
        settings = dict(model_settings)
        spec = settings.pop("spec")
        settings.pop("prices", None)
        model = get_model(spec, cache=Path(tmp) / "cache.sqlite", **settings)
        model = batch_model(model, Path(tmp) / "run")
        api = model.api

        def count(messages: list) -> int:
            try:
                return int(api.count_prompt_tokens(messages))
            except Exception:  # noqa: BLE001 - no tokenizer reachable: the stated estimate
                return sum(estimate_tokens(m["content"]) + 4 for m in messages) + 3

        driver = EstimateDriver(count)
        try:
            run_rounds(lambda: study(config.replace(out=Path(tmp) / "run", model=model, progress=False)), model,
                       driver, say=lambda _: None)
        finally:
            model.collector.close()
            model.cache.close()
    return BatchEstimate(driver.rounds, Prices.parse(prices) if prices else None)
