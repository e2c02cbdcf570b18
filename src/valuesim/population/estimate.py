"""Cost and time of `valuesim population` before it runs (`--estimate`): no model call, nothing
written.

The personas and the (method, country, persona, question) tasks are built exactly as
``run_population`` builds them; one request per task (the option distribution is read from the
log-probabilities of a short "Answer: N" completion; the embedded engine makes one-token reads
instead). Prompt tokens and cached prefixes are counted on the rendered prompts of a sample of
personas per method and country (see valuesim.evaluation.estimate for tokenizers and caching).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from ..evaluation.dryrun import DryRunModel, tokenizer_for
from ..evaluation.estimate import (
    KEYS,
    Counter,
    Estimate,
    MethodEstimate,
    _add,
    _backend,
    _cache_rule,
    measured_rate,
    resolve_prices,
)
from ..llm.openai_backend import ANSWER_MAX_TOKENS  # the cap of a distribution request

PERSONAS_SAMPLED = 4


def estimate_population(survey: Any, countries, personas: int = 100, questions=None, methods="value-persona",
                        model: Any = "local", *, calibrate: bool = False, seed: int = 0, calibration_questions=None,
                        base_url: str | None = None, prices=None, rate: float | None = None,
                        run_dir: str | Path | None = None, protocol: str = "split-half") -> Estimate:
    from .dimensions import DimensionScaler
    from .personas import build_personas
    from ..methods.registry import get_method
    from .predict import tasks as method_tasks
    from .protocol import resolve_protocol
    from .runner import resolve_countries, resolve_methods
    from .sampling import draw_personas, split_country
    from .targets import resolve_calibration, resolve_questions

    started = time.perf_counter()
    if not hasattr(survey, "codebook"):
        from ..survey.io import load_survey
        from .extra_columns import attach_urban_rural

        path = survey
        survey = load_survey(path)
        attach_urban_rural(survey, path)
    country_list = resolve_countries(countries, survey)
    method_list = resolve_methods(methods, resolve_protocol(protocol))
    cb = survey.codebook
    targets = resolve_questions(questions, cb, survey.question_ids)
    calib = resolve_calibration(calibration_questions, targets, cb, survey.question_ids) if calibrate else []
    scaler = DimensionScaler.fit(survey)
    scores = scaler.scores(survey)
    eligible = scores.notna().any(axis=1)
    people = {}
    for c in country_list:
        drawn = draw_personas(survey, split_country(survey, c, seed), int(personas), seed, eligible)
        people[c] = build_personas(survey, c, drawn, scaler, scores)

    backend, spec = _backend(model, base_url)
    tokenizer = tokenizer_for(backend, spec)
    cache, min_cached, cache_note = _cache_rule(spec, backend)
    reads = spec.startswith("local")
    rng = random.Random(seed)
    results = []
    for method in method_list:
        groups: dict[tuple, list] = {}
        for t in method_tasks(survey, country_list, method, people, targets + calib, set()):
            groups.setdefault((t.country, t.persona), []).append(t)
        dry = DryRunModel(backend, spec, reads=reads, answer_share=1.0, story_share=1.0)
        sim = get_method(method, model=dry)  # the prompts come from the simulator's own code
        counter = Counter(tokenizer, cache, min_cached)
        keys = list(groups)
        picked = [keys[i] for i in sorted(rng.sample(range(len(keys)), min(PERSONAS_SAMPLED * len(country_list), len(keys))))]
        per_task: list[dict] = []
        for key in picked:
            for t in groups[key]:
                start = len(dry.calls)
                dry.question = cb[t.question]
                sim.predict(t.person, dry.question)
                cost: dict = {}
                for call in dry.calls[start:]:
                    cost = _add(cost, counter.call(call))
                per_task.append(cost)
        n = sum(len(v) for v in groups.values())
        mean = {k: sum(c.get(k, 0) for c in per_task) / max(1, len(per_task)) for k in KEYS}
        results.append(MethodEstimate(method, n, len(groups), mean["requests"] * n, mean["prompt_tokens"] * n,
                                      mean["cached_tokens"] * n, mean["completion_tokens"] * n, mean["reads"] * n,
                                      [(f"{len(groups)} personas x {len(targets) + len(calib)} questions; "
                                       f"{mean['prompt_tokens']:,.0f} prompt tokens per request")]))
    price_dict, price_source = resolve_prices(prices)
    rate_source = f"at {rate:g} requests/s (--rate)" if rate else ""
    if not rate:
        rate = measured_rate(run_dir)
        rate_source = (f"at {rate:.2f} requests/s, measured earlier" if rate else "give --rate REQUESTS_PER_SECOND")
    protocol = ("one request per persona and question (an 'Answer: N' completion of at most "
                f"{ANSWER_MAX_TOKENS} tokens, counted at the cap, with its log-probabilities)"
                + ("; the embedded engine makes one-token reads instead" if reads else "")
                + f". Cached prefix: {cache_note}")
    sample = (f"{len(country_list)} countries x {personas} personas; prompts rendered for up to "
              f"{PERSONAS_SAMPLED} personas per country and method")
    return Estimate(spec, tokenizer.label, results, price_dict, price_source, rate, rate_source, sample, protocol,
                    round(time.perf_counter() - started, 2))
