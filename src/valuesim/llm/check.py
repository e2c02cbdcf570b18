"""``valuesim models check``: load a model, ask one question, measure speed and logprob support."""

from __future__ import annotations

import time
import uuid

from .base import Usage
from . import get_model

_FILLER = (
    "A survey interviewer visits a household, introduces the study, explains that answers are "
    "confidential and asks about family, work, religion, trust, politics and the future. "
)


def filler_prompt(n_words: int, nonce: str | None = None) -> str:
    """A long neutral text whose first line is unique, so no prefix cache can serve it."""
    nonce = nonce or uuid.uuid4().hex
    words = (_FILLER * (n_words // len(_FILLER.split()) + 1)).split()[:n_words]
    return f"Session {nonce}.\n" + " ".join(words)


def check_model(spec: str = "local", *, base_url: str | None = None, timeout: float = 120.0) -> dict:
    """Load ``spec``, answer one question, and measure throughput. Raises ModelError clearly."""
    start = time.perf_counter()
    model = get_model(spec, base_url=base_url, cache=False, timeout=timeout, max_retries=2)
    load_seconds = model.load() or (time.perf_counter() - start)  # the embedded engine loads here

    context = filler_prompt(300)
    ask = [{"role": "system", "content": "You are a careful assistant."},
           {"role": "user", "content": context + "\n\nIn one short sentence, what is the interviewer doing?"}]
    t0 = time.perf_counter()
    read = model.complete(ask, max_tokens=1)
    prompt_seconds = time.perf_counter() - t0
    fresh = max(1, read.usage.prompt_tokens - read.usage.cached_tokens)

    t0 = time.perf_counter()
    answer = model.complete(ask, max_tokens=48)  # the prompt is now in the prefix cache
    gen_seconds = time.perf_counter() - t0
    unseen = answer.usage.prompt_tokens - answer.usage.cached_tokens
    gen_only = gen_seconds - unseen * (prompt_seconds / fresh)

    question = [{"role": "user", "content": "Which is larger? Option 1: the number 3. Option 2: the number 700. "
                                            "Reply with 'Answer: ' and the option number."}]
    dist = model.option_distribution(question, ["1", "2"])
    usage: Usage = model.accounting.usage
    return {
        "model": model.spec,
        "load_seconds": round(load_seconds, 2),
        "prompt_tokens": fresh,
        "prompt_tokens_per_second": _rate(fresh, prompt_seconds, prompt_seconds),
        "generated_tokens": answer.usage.completion_tokens,
        "generated_tokens_per_second": _rate(answer.usage.completion_tokens, gen_only, gen_seconds),
        "answer": answer.text.strip(),
        "option_distribution": {k: round(v, 4) for k, v in dist.probs.items()},
        "option_method": dist.method,
        "logprobs": dist.method == "logprobs",
        "total_prompt_tokens": usage.prompt_tokens,
        "total_cached_tokens": usage.cached_tokens,
        "context_window": model.context_window(),
        "own_tokenizer": model.info.exact_tokens,
        "requests": model.accounting.requests,
    }


def _rate(tokens: int, seconds: float, measured: float) -> float | None:
    """Tokens per second, or None when the time is too short to say: under a millisecond, or
    (generation) when subtracting the prompt's share left under a quarter of what was measured;
    a near-instant server gave 'generated_tokens_per_second 10000000.0'."""
    if tokens < 1 or seconds < 1e-3 or seconds < 0.25 * measured:
        return None
    return round(tokens / seconds, 1)
