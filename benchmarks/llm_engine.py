"""Speed of the embedded engine on this machine (not a test: prints a table).

    .venv/bin/python benchmarks/llm_engine.py                  # the default 1.5B model
    .venv/bin/python benchmarks/llm_engine.py --model local:smollm2-135m

Measures: load time; prompt processing on a fresh ~2,000-token prompt; generation speed; a
second question that shares the 2,000-token prefix (served by llama.cpp's prompt cache); and
the time of an option distribution (4 options: one engine call; 1-10 scale: two calls, because
"1" must be told apart from "10"). The valuesim response cache is off throughout.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from valuesim.llm import get_model
from valuesim.llm.check import filler_prompt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local", help="model spec (default: local)")
    parser.add_argument("--prefix-words", type=int, default=1500, help="words of shared context (~2,000 tokens)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    model = get_model(args.model, cache=False)
    engine = getattr(model.backend, "engine", None)
    load_seconds = getattr(engine, "load_seconds", None) or (time.perf_counter() - t0)

    context = [{"role": "system", "content": "You are the person described below. " + filler_prompt(args.prefix_words)}]
    q1 = context + [{"role": "user", "content": "How important is family in your life? 1 very important, "
                                                "2 rather important, 3 not very important, 4 not at all important. "
                                                "Reply 'Answer: N'."}]
    q2 = context + [{"role": "user", "content": "How satisfied are you with your life, from 1 (not at all) to "
                                                "10 (completely)? Reply 'Answer: N'."}]
    q3 = context + [{"role": "user", "content": "How much do you trust your neighbours? 1 completely, 2 somewhat, "
                                                "3 not very much, 4 not at all. Reply 'Answer: N'."}]
    story = context + [{"role": "user", "content": "Describe your daily life in about 120 words."}]

    print(f"\nmodel {model.spec}; {os.cpu_count()} cores; load average {load_before:.1f} before start")
    print(f"{'measure':<48} {'time':>9}  detail")
    print(f"{'load model':<48} {load_seconds:>7.2f} s", flush=True)

    def show(name: str, value: str, detail: str) -> None:
        print(f"{name:<48} {value:>9}  {detail}", flush=True)  # as measured: slow machines see progress

    t = time.perf_counter()
    first = model.complete(q1, max_tokens=1)
    s = time.perf_counter() - t
    fresh = first.usage.prompt_tokens - first.usage.cached_tokens
    show("first question, fresh prompt (max_tokens=1)", f"{s:.2f} s",
         f"{first.usage.prompt_tokens} prompt tokens, {fresh / s:.1f} prompt tok/s")

    t = time.perf_counter()
    second = model.complete(q2, max_tokens=1)
    s2 = time.perf_counter() - t
    show("second question, same 2k prefix (max_tokens=1)", f"{s2:.2f} s",
         f"{second.usage.cached_tokens}/{second.usage.prompt_tokens} prompt tokens from prefix cache; "
         f"{s / s2:.0f}x faster")

    t = time.perf_counter()
    gen = model.complete(story, max_tokens=128)
    sg = time.perf_counter() - t
    unseen = gen.usage.prompt_tokens - gen.usage.cached_tokens
    gen_only = sg - unseen / (fresh / s)
    show("generation (128 max, shared prefix)", f"{sg:.2f} s",
         f"{gen.usage.completion_tokens} tokens, {gen.usage.completion_tokens / gen_only:.1f} generated tok/s "
         f"({unseen} new prompt tokens)")

    t = time.perf_counter()
    d4 = model.option_distribution(q3, ["1", "2", "3", "4"])
    s4 = time.perf_counter() - t
    show("option distribution, 4 options", f"{s4:.2f} s",
         f"{d4.method}; answer {d4.answer}; p={max(d4.probs.values()):.2f}")

    t = time.perf_counter()
    d10 = model.option_distribution(q2, [str(i) for i in range(1, 11)])
    s10 = time.perf_counter() - t
    show("option distribution, 1-10 scale", f"{s10:.2f} s",
         f"{d10.method}; answer {d10.answer}; P(1)={d10.probs['1']:.3f} P(10)={d10.probs['10']:.3f}")

    print(f"\n{model.accounting.summary()}; load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
