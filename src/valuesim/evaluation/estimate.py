"""Cost and time of a study before it runs: `valuesim eval ... --estimate`.

    est = estimate_study("wvs.csv", methods=["valuesim", "full-info"], users=100, folds=5,
                         model="openai:gpt-4o-mini")
    print(est.text())

No model is called and nothing is written. The study is planned by the run's own code
(``runner.plan_study``: the same methods, split and work items as ``run_study``); for a seeded
sample of (person, fold, profile size) units and a few of their target questions, the real methods run against a recording stand-in model (see dryrun.py), and the
prompts they render are counted with the model's tokenizer. Per method the estimate then adds
up: the calls made once per unit (the backstory) times the number of units, and the mean calls
of one prediction times the number of predictions.

Protocol counted: ONE request per answering turn (the option distribution read from the
completion's own log-probabilities); on the embedded engine, plus its one-token
log-probability reads, which it serves from the prompt cache.

Cached-prefix tokens: the part of each prompt that repeats the start of an earlier prompt
(a person's backstory or profile). On OpenAI's API only prefixes of 1,024+ tokens are cached,
in steps of 128; servers (vLLM with --enable-prefix-caching, llama.cpp) cache any prefix. The
embedded engine keeps one sequence: only the prompt just before counts.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..llm.accounting import Prices
from ..llm.base import Usage
from ..methods.base import EmbedderUser
from ..runs.rundir import ESTIMATE_FILE, RunDir
from ..survey.survey import Survey
from .dryrun import KEYS, Counter, DryEmbedder, DryRunModel, _add, tokenizer_for

ANSWER_SHARE = 0.6  # answering turns write ~60% of their max_tokens (measured: see README)
STORY_SHARE = 0.6  # a backstory fills ~60% of the room it is given


@dataclass
class MethodEstimate:
    method: str
    predictions: int
    units: int  # (person, fold, profile size): one backstory each for ValueSim
    requests: float
    prompt_tokens: float
    cached_tokens: float
    completion_tokens: float
    reads: float = 0.0  # embedded engine: one-token log-probability reads (in requests too)
    notes: list[str] = field(default_factory=list)

    def usage(self) -> Usage:
        return Usage(round(self.prompt_tokens), round(self.cached_tokens), round(self.completion_tokens))


@dataclass
class Estimate:
    model: str
    tokenizer: str
    methods: list[MethodEstimate]
    prices: dict | None
    prices_source: str
    rate: float | None  # requests per second
    rate_source: str
    sample: str
    protocol: str
    seconds: float = 0.0

    def cost(self, m: MethodEstimate) -> float | None:
        return None if self.prices is None else Prices(**self.prices).cost(m.usage())

    def cost_no_cache(self, m: MethodEstimate) -> float | None:
        """The upper bound: every prompt token paid in full (no prefix-cache hit at all)."""
        if self.prices is None:
            return None
        return Prices(**self.prices).cost(Usage(round(m.prompt_tokens), 0, round(m.completion_tokens)))

    def hours(self, m: MethodEstimate) -> float | None:
        return None if not self.rate else m.requests / self.rate / 3600

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Estimate:
        d = dict(d)
        d["methods"] = [MethodEstimate(**m) for m in d.get("methods", [])]
        return cls(**d)

    def save(self, where: "RunDir | str | Path") -> Path:
        """Into a run directory (a RunDir: the report puts it beside the actual usage), or a file."""
        if isinstance(where, RunDir):
            where.write_estimate(self.as_dict())
            return where / ESTIMATE_FILE
        path = Path(where)
        path.write_text(json.dumps(self.as_dict(), indent=1), encoding="utf-8")
        return path

    def rows(self) -> list[list[str]]:
        rows = []
        for m in self.methods + ([self.total()] if len(self.methods) > 1 else []):
            cost, bound, hours = self.cost(m), self.cost_no_cache(m), self.hours(m)
            rows.append([m.method, f"{m.predictions:,}", f"{round(m.requests):,}", f"{round(m.prompt_tokens):,}",
                         f"{round(m.cached_tokens):,}", f"{round(m.completion_tokens):,}",
                         "give --prices" if cost is None else _dollars(cost),
                         "–" if bound is None else _dollars(bound),
                         "give --rate" if hours is None else _duration(hours * 3600)])
        return rows

    def total(self) -> MethodEstimate:
        ms = self.methods
        return MethodEstimate("total", sum(m.predictions for m in ms), sum(m.units for m in ms),
                              sum(m.requests for m in ms), sum(m.prompt_tokens for m in ms),
                              sum(m.cached_tokens for m in ms), sum(m.completion_tokens for m in ms),
                              sum(m.reads for m in ms))

    def text(self) -> str:
        header = ["method", "predictions", "requests", "prompt tokens", "cached prefix", "completion",
                  "cost", "cost if nothing cached", "time"]
        table = [header] + self.rows()
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        lines = [f"estimate for model {self.model} (no model was called, nothing was written)"]
        for r in table:
            lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        lines += [f"tokens: {self.tokenizer}", f"requests: {self.protocol}", f"prices: {self.prices_source}",
                  f"time: {self.rate_source}", f"sample: {self.sample} ({self.seconds:.1f} s)"]
        for m in self.methods:
            lines += [f"{m.method}: {n}" for n in m.notes]
        return "\n".join(lines)


def _dollars(x: float) -> str:
    return f"${x:,.2f}" if x >= 0.01 or x == 0 else f"${x:.4f}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --- prices and rate ---------------------------------------------------------------------------
def resolve_prices(prices: str | dict | Prices | None) -> tuple[dict | None, str]:
    source = "--prices"
    if prices is None:
        prices, source = os.environ.get("VALUESIM_PRICES") or None, "$VALUESIM_PRICES"
    parsed = Prices.parse(prices)
    if parsed is None:
        return None, ("none given: pass --prices PROMPT,COMPLETION[,CACHED] in dollars per million tokens "
                      "(from your provider's price list), or set VALUESIM_PRICES the same way")
    cached = parsed.prompt if parsed.cached is None else parsed.cached
    return asdict(parsed), (f"{source}: ${parsed.prompt:g} prompt, ${cached:g} cached prompt, "
                            f"${parsed.completion:g} completion per million tokens")


def measured_rate(run_dir: "RunDir | str | Path | None") -> float | None:
    """Requests per second of the earlier sessions of this run (calls / wall time)."""
    if run_dir is None:
        return None
    calls = wall = 0.0
    for u in RunDir(run_dir).session_usage():
        if u.get("calls") and u.get("wall_seconds"):
            calls, wall = calls + u["calls"], wall + u["wall_seconds"]
    return calls / wall if calls and wall else None




@dataclass
class _Cost:
    """Per-unit and per-prediction means of one method, and its total over the study."""

    unit: dict
    prediction: dict
    total: dict
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _dry_cost(method, options: dict, units: list[list], protocol, dry: DryRunModel, counter: Counter,
              rng: random.Random, units_per_group: int, questions_per_unit: int, name: str | None = None) -> _Cost:
    """``units``: the study's work items of one method, one list per person (and fold and profile
    size), as the runner would execute them; a seeded sample of them runs through the one runner
    over the dry-run backend (``runs.study.dry_run``). ``name``: the registered method whose
    requests are counted (the hybrid's LLM method), default ``method.name``."""
    from ..methods.registry import get_method, method_info
    from ..runs.study import dry_run

    name = name or method.name
    if any(o.name == "min_fidelity" for o in method_info(name).options):
        options = {**options, "min_fidelity": 0.0}  # placeholders recover nothing: assume each story passes its gate
    sim = get_method(name, model=dry, **options)
    if isinstance(sim, EmbedderUser):  # RAG: no embedding model, no embeddings API call
        sim.embedder = DryEmbedder()
    groups: dict[int, list[list]] = {}
    for u in units:
        groups.setdefault(u[0].key.profile_limit, []).append(u)  # by profile size
    chosen: list[list[list]] = []  # per group, the sampled units' sampled questions
    for group in groups.values():
        picked = sorted(rng.sample(range(len(group)), min(units_per_group, len(group))))
        chosen.append([])
        for i in picked:
            qids = [item.question_id for item in group[i]]
            targets = set(rng.sample(qids, min(questions_per_unit, len(qids))))
            chosen[-1].append([item for item in group[i] if item.question_id in targets])
    recorder = dry_run(protocol, method, sim, [i for g in chosen for u in g for i in u], dry)
    return _costs(list(groups.values()), chosen, recorder, dry, counter)


def _costs(groups: list[list[list]], chosen: list[list[list]], recorder, dry: DryRunModel, counter: Counter) -> _Cost:
    """Per-unit and per-prediction means from the dry run's calls (counted in the order they
    were made: the counter follows the prefix cache), scaled to every unit and prediction."""
    def cost(span: tuple[int, int]) -> dict:
        out: dict = {}
        for c in dry.calls[span[0]: span[1]]:
            out = _add(out, counter.call(c))
        return out

    def mean(xs):
        return {k: sum(x.get(k, 0) for x in xs) / max(1, len(xs)) for k in KEYS}

    done = iter(recorder.units)
    total: dict = {}
    unit_all, pred_all, failed = [], [], 0
    for group, sampled in zip(groups, chosen):
        unit_costs, firsts, later = [], [], []
        for _ in sampled:
            unit = next(done)
            unit_costs.append(cost(unit["prepare"]))
            for j, (start, end, pred) in enumerate(unit["predictions"]):
                failed += pred is None or bool(pred.failed)
                if pred is not None and pred.failed:
                    recorder.errors.append(pred.error)
                (firsts if j == 0 else later).append(cost((start, end)))
        per_pred, per_unit = mean(firsts + later), mean(unit_costs)
        if later:  # a person's first question finds none of their prefix cached: once per unit
            share = sum(p.get("cached_tokens", 0) for p in later) / max(1, sum(p.get("prompt_tokens", 0) for p in later))
            per_pred["cached_tokens"] = share * per_pred["prompt_tokens"]
            per_unit["cached_tokens"] += sum(p.get("cached_tokens", 0) - share * p.get("prompt_tokens", 0)
                                             for p in firsts) / len(firsts)
        n_units, n_preds = len(group), sum(len(u) for u in group)
        total = _add(total, _add({k: v * n_units for k, v in per_unit.items()}, per_pred, n_preds))
        unit_all.append(per_unit)
        pred_all.append(per_pred)
    return _Cost(mean(unit_all), mean(pred_all), total, failed, recorder.errors)


def _backend(model: Any, base_url: str | None):
    """The real backend (for its context window and tokenizer), built without calling it."""
    from ..llm import Model, ModelAPI, make_backend

    if isinstance(model, Model):
        return model.api, model.spec
    if isinstance(model, ModelAPI):
        return model, model.spec or type(model).__name__
    if not isinstance(model, str):
        raise ConfigError(f"model must be a spec, a Model or a ModelAPI, got {type(model).__name__}")
    return make_backend(model, base_url=base_url), model.strip()  # calls no model, needs no API key


def _cache_rule(spec: str, backend) -> tuple[str, int, str]:
    """How the model's prefix cache works, as its ModelInfo declares it."""
    info = backend.info()
    if info.prefix_cache == "previous":
        return "previous", 0, "the engine reuses the prefix of the request just before"
    if info.prefix_cache_min:
        return "any", info.prefix_cache_min, (f"the server caches shared prefixes of {info.prefix_cache_min:,}+ "
                                              "tokens in steps of 128 (OpenAI)")
    return "any", 0, "the server caches any shared prefix (vLLM needs --enable-prefix-caching)"


def by_person(items: list) -> list[list]:
    """Work items grouped person by person (they come in that order), as the runner executes them."""
    out: list[list] = []
    for item in items:
        if out and out[-1][0].person_key == item.person_key:
            out[-1].append(item)
        else:
            out.append([item])
    return out


def estimate_study(
    survey: Any,
    config=None,
    /,
    *,
    prices=None,
    rate: float | None = None,
    run_dir: "RunDir | str | Path | None" = None,
    units_per_group: int = 4,
    questions_per_unit: int = 3,
    answer_share: float = ANSWER_SHARE,
    story_share: float = STORY_SHARE,
    **settings,
) -> Estimate:
    """What ``run_study`` with this config (or these keyword settings) would send to the model:
    the runner's own plan (``plan_study``: the same methods, split and work items), a sample of
    it predicted against a dry-run model (see the module doc)."""
    from .runner import plan_study, study_config

    started = time.perf_counter()
    cfg = study_config(config, **settings)
    if cfg.model is None:
        cfg = cfg.replace(model="local")
    if not isinstance(survey, Survey):  # a path
        from ..survey.io import load_survey

        survey = load_survey(Path(survey))
    plan = plan_study(survey, cfg, RunDir(run_dir) if run_dir is not None else None)
    protocol = plan.protocol(survey, cfg.curve_methods)
    split, methods, model, base_url = plan.split, plan.methods, cfg.model, cfg.base_url
    if any(m.needs_llm for m in methods):
        backend, spec = _backend(model, base_url)
    else:  # a statistical study never builds (or loads) a model, not even for its tokenizer
        from ..llm import Model, ModelAPI

        backend, spec = None, model if isinstance(model, str) else model.spec if isinstance(model, (Model, ModelAPI)) \
            else "none"
    tokenizer = tokenizer_for(backend, spec)
    cache, min_cached, cache_note = _cache_rule(spec, backend)
    reads = backend.info().prefill if backend is not None else False  # one-token reads after a pre-filled answer
    results = []
    all_units = 0
    for method in methods:
        name = method.name
        units = by_person(protocol.items(method))
        all_units = max(all_units, len(units))
        n_preds = sum(len(u) for u in units)
        if not method.needs_llm:
            results.append(MethodEstimate(name, n_preds, len(units), 0, 0, 0, 0, 0, ["statistical: no model requests"]))
            continue
        options = dict(method.options)
        notes = []
        fit_preds = fit_units = 0
        if name == "hybrid":
            llm_name = options.get("llm", "valuesim")
            fit_units = 0 if options.get("weight") is not None else int(options.get("validation_respondents", 8))
            fit_preds = fit_units * int(options.get("validation_items", 20))
            notes.append(f"the LLM method {llm_name} for every prediction, plus up to {fit_preds} validation "
                         "predictions to fit the weight (none with hybrid.weight=W)")
            name_for_cost, options = llm_name, dict(options.get("llm_options") or {})
        else:
            name_for_cost = name
        dry = DryRunModel(backend, spec, reads=reads, answer_share=answer_share, story_share=story_share)
        counter = Counter(tokenizer, cache, min_cached)
        cost = _dry_cost(method, options, units, protocol, dry, counter, random.Random(cfg.seed),
                         units_per_group, questions_per_unit, name=name_for_cost)
        total = _add(_add(cost.total, cost.unit, fit_units), cost.prediction, fit_preds)
        if cost.failed:
            notes.append(f"{cost.failed} sampled predictions failed in the dry run (e.g. {cost.errors[0][:160]})")
        per = cost.prediction
        notes.append(f"per answer {per['requests'] - per['reads']:.1f} requests"
                     + (f" + {per['reads']:.1f} one-token reads" if per["reads"] else "")
                     + f", {per['prompt_tokens']:,.0f} prompt tokens"
                     + (f"; per person and profile {cost.unit['requests']:.1f} requests, "
                        f"{cost.unit['prompt_tokens'] + cost.unit['completion_tokens']:,.0f} tokens"
                        if cost.unit["requests"] else ""))
        from ..methods.registry import method_info

        story_budget = float(options.get("story_budget", 3.0)) if any(
            o.name == "story_budget" for o in method_info(name_for_cost).options) else 0.0
        if story_budget and cost.unit["requests"]:  # the dry run's stories pass: parts + audited items
            notes.append(f"story retries (a model that keeps writing unusable stories): at most "
                         f"{math.ceil(story_budget * cost.unit['requests'])} requests per person and profile "
                         f"(story_budget {story_budget:g} per story part and audited item), then that person fails")
        results.append(MethodEstimate(name, n_preds, len(units), total["requests"], total["prompt_tokens"],
                                      total["cached_tokens"], total["completion_tokens"], total["reads"], notes))

    price_dict, price_source = resolve_prices(prices)
    rate_source = f"at {rate:g} requests/s (--rate)" if rate else ""
    if not rate:
        rate = measured_rate(run_dir)
        rate_source = (f"at {rate:.2f} requests/s, measured in this run's earlier sessions" if rate else
                       "give --rate REQUESTS_PER_SECOND (or run part of the study: a resumed run measures it)")
    protocol = ("one request per answering turn (the option distribution comes from the completion's own "
                "log-probabilities)" + ("; the embedded engine adds its one-token "
                "log-probability reads, served from its prompt cache" if reads else "")
                + f". Completions: {answer_share:.0%} of each turn's max_tokens, backstories "
                f"{story_share:.0%} of their room. Cached prefix: {cache_note}; 'cost if nothing cached' "
                "is the upper bound, when the server serves no prefix from its cache")
    sample = (f"{len(split.users)} users, {all_units} (person, fold, profile size) units; prompts rendered "
              f"for up to {units_per_group} units per profile size x {questions_per_unit} questions per method")
    return Estimate(spec, tokenizer.label, results, price_dict, price_source, rate, rate_source, sample, protocol,
                    round(time.perf_counter() - started, 2))
