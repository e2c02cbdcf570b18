"""Cost and time of `valuesim population` before it runs (`--estimate`): no model call, nothing
written.

The personas and the (method, country, persona, question) work items are the run's own
(``plan_population`` and ``PopulationProtocol``, shared with ``run_population``: the personas
are drawn from the same view of the survey, masked under held-out-country); one request per task (the option distribution is read from the
log-probabilities of a short "Answer: N" completion; the embedded engine makes one-token reads
instead). Prompt tokens and cached prefixes are counted on the rendered prompts of a sample of
personas per method and country, run by the one runner over the dry-run backend
(``runs.study.dry_run``; see valuesim.evaluation.estimate for tokenizers and caching).
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
from .work import persona_methods

PERSONAS_SAMPLED = 4


def estimate_population(survey: Any, config=None, /, *, prices=None, rate: float | None = None,
                        run_dir: "str | Path | None" = None, **settings) -> Estimate:
    """What ``run_population`` with this config (or these keyword settings) would send: the run's
    own plan (``plan_population``: the same personas, drawn from the same view of the survey)
    and its work items, a sample of personas predicted against a dry-run model."""
    from ..evaluation.estimate import by_person
    from ..runs.study import dry_run
    from .runner import PopulationConfig, load_population_survey, plan_population, population_config

    started = time.perf_counter()
    if config is not None and not isinstance(config, PopulationConfig):
        settings["countries"], config = config, None
    cfg = population_config(config, **settings)
    survey, _ = load_population_survey(survey)
    plan = plan_population(survey, cfg)
    protocol = plan.protocol(survey)
    country_list, method_list, targets, calib = plan.countries, plan.methods, plan.targets, plan.calib
    model, base_url, seed, personas = cfg.model, cfg.base_url, cfg.seed, cfg.personas
    backend, spec = _backend(model, base_url)
    tokenizer = tokenizer_for(backend, spec)
    cache, min_cached, cache_note = _cache_rule(spec, backend)
    reads = backend.info().prefill if backend is not None else False  # one-token reads after a pre-filled answer
    rng = random.Random(seed)
    results = []
    for method in persona_methods(method_list, plan.method_options):
        groups = by_person(protocol.items(method))
        dry = DryRunModel(backend, spec, reads=reads, answer_share=1.0, story_share=1.0)
        sim = method.build(dry)  # the prompts come from the simulator's own code
        counter = Counter(tokenizer, cache, min_cached)
        picked = [groups[i] for i in sorted(rng.sample(range(len(groups)),
                                                       min(PERSONAS_SAMPLED * len(country_list), len(groups))))]
        recorder = dry_run(protocol, method, sim, [item for group in picked for item in group], dry)
        per_task: list[dict] = []
        for unit in recorder.units:  # in the order the runner made the calls (the counter follows the cache)
            for start, end, _ in unit["predictions"]:
                cost: dict = {}
                for call in dry.calls[start:end]:
                    cost = _add(cost, counter.call(call))
                per_task.append(cost)
        n = sum(len(v) for v in groups)
        mean = {k: sum(c.get(k, 0) for c in per_task) / max(1, len(per_task)) for k in KEYS}
        results.append(MethodEstimate(method.name, n, len(groups), mean["requests"] * n, mean["prompt_tokens"] * n,
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
