"""Methods by name, so `ask`, `eval` and the API select any simulator the same way.

Each entry names the module and factory that builds it; modules are imported only when the
method is asked for, so statistical runs never load an LLM engine. A factory takes the chat
model (None for statistical methods) and keyword options, and returns a Simulator.

Each entry also declares the method's options (see options.py): ``get_method`` and the CLI
check them before anything is built, and tests/test_options.py holds every declared default
against the factory's own, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace

from ..errors import ConfigError
from .base import Simulator
from .options import Option, check_options

INDIVIDUAL, POPULATION = "individual", "population"


@dataclass(frozen=True)
class MethodInfo:
    name: str
    target: str  # "module:factory", module relative to valuesim.methods
    needs_llm: bool
    description: str
    options: tuple[Option, ...] = field(default=())
    protocols: tuple[str, ...] = (INDIVIDUAL,)  # the studies it serves: individual, population


METHODS: dict[str, MethodInfo] = {}


def register(name: str, target: str, *, needs_llm: bool, description: str,
             options: "list[Option] | tuple[Option, ...]" = (), protocols: tuple[str, ...] = (INDIVIDUAL,)) -> None:
    """Add a method; ``options`` declares every keyword its factory accepts from users;
    ``protocols`` the studies it can take part in."""
    METHODS[name] = MethodInfo(name, target, needs_llm, description, tuple(options), tuple(protocols))


def methods_of(protocol: str, *, needs_llm: bool | None = None) -> list[str]:
    """The registered methods of a protocol (optionally: only those that need a model or not)."""
    return [m.name for m in METHODS.values() if protocol in m.protocols
            and (needs_llm is None or m.needs_llm == needs_llm)]


def available() -> list[MethodInfo]:
    return list(METHODS.values())


def method_info(name: str) -> MethodInfo:
    try:
        return METHODS[name]
    except KeyError:
        known = ", ".join(sorted(METHODS))
        raise ConfigError(f"unknown method {name!r}; known methods: {known}") from None


def get_method(name: str, model=None, **options) -> Simulator:
    """Build the simulator called ``name``. LLM methods need ``model`` (a Model, or a ModelAPI
    backend, which is wrapped once here without a cache)."""
    from ..llm import as_model

    info = method_info(name)
    if info.needs_llm and model is None:
        raise ConfigError(f"method {name!r} needs a model (pass --model or model=...)")
    options = check_options(name, options)
    return factory(name)(model=as_model(model) if info.needs_llm else model, **options)


def factory(name: str):
    """The callable that builds method ``name`` (imports its module)."""
    module_name, factory_name = method_info(name).target.split(":")
    module = importlib.import_module(f"{__package__}.{module_name}")
    return getattr(module, factory_name)


# --- options shared by families of methods ------------------------------------------------------
def _int(name, default, help, low=None, high=None, nullable=False):
    return Option(name, int, default, help, low=low, high=high, nullable=nullable)


def _float(name, default, help, low=None, high=None, nullable=False):
    return Option(name, float, default, help, low=low, high=high, nullable=nullable)


SEED = _int("seed", 0, "random seed")
SHRINKAGE = _float("shrinkage", 10.0, "pseudo-respondents pulling a country's shares toward the global ones", low=0)
SMOOTHING = _float("smoothing", 1.0, "pseudo-respondents spread uniformly over the codes", low=0)
MAX_LEVELS = _int("max_levels", 15, "nominal profile items keep their most frequent codes up to this many", low=1)

# the one-prompt LLM baselines (single_prompt.py)
PROMPT_ORDER = Option("prompt_order", str, "context-first",
                      "context-first reuses the engine's prefix cache; paper puts the instructions first",
                      choices=("context-first", "paper"))
OVERFLOW = Option("overflow", str, "truncate", "a profile too long for the context: cut it, or record a failure",
                  choices=("truncate", "fail"))
CONTEXT_TOKENS = _int("context_tokens", None, "context window to plan for (default: the model's)", low=256,
                      nullable=True)
USE_LOGPROBS = Option("use_logprobs", bool, True, "read the option distribution from token log-probabilities")
RESIDENCE = Option("residence", bool, True, "name the survey and the person's country of residence (and survey "
                   "year when known) in the context; false: the paper's exact prompts (the country only through "
                   "profile items)")
SINGLE_PROMPT = (PROMPT_ORDER, _int("max_tokens", 48, "reply tokens", low=1), USE_LOGPROBS, SEED,
                 _int("samples", 0, "servers without log-probabilities: vote over N sampled answers "
                      "(N more requests per answer; 0: the parsed answer, one-hot)", low=0))

VALUESIM = (
    Option("coordinator", str, "always",
           "always: the coordinator decides (paper); on-disagreement: only when modules differ; average: rounded mean",
           choices=("always", "on-disagreement", "average")),
    PROMPT_ORDER, OVERFLOW,
    _int("max_tokens", 256, "reply tokens of each module and the coordinator", low=1),
    _int("story_max_tokens", 4096, "tokens of the backstory", low=16),
    CONTEXT_TOKENS, USE_LOGPROBS, SEED,
    Option("story", str, "model", "model: the model writes the backstory; statements: the profile's statements "
           "by theme (no model call)", choices=("model", "statements")),
    Option("story_prompt", str, "auto", "auto: the small-model prompt for the embedded engine, the paper's otherwise",
           choices=("auto", "paper", "small")),
    _int("story_audit", 8, "profile items the fidelity audit answers from each backstory (0: no audit)", low=0),
    _float("min_fidelity", 0.5, "share of audited items a story must recover (and above chance), else it is rewritten, then "
           "failed; 0: audit only, no gate",
           low=0, high=1),
    Option("story_fallback", str, "fail", "a person without a valid story: fail, or use the statements story",
           choices=("fail", "statements")),
    _float("story_budget", 3.0, "requests a person's backstory may make per story part and audited item (parts, "
           "retries, smaller parts and audits together), then it fails with the reason; 0: no limit", low=0),
    RESIDENCE,
)


def _valuesim_with(**defaults) -> tuple[Option, ...]:
    return tuple(replace(o, default=defaults[o.name]) if o.name in defaults else o for o in VALUESIM)


# --- the table: one line per method (owners add their own) ---------------------------------
register("chance", "statistical:chance", needs_llm=False,
         description="uniform over the question's valid options (the floor every method must beat)",
         protocols=(INDIVIDUAL, POPULATION))
register("global-marginal", "statistical:global_marginal", needs_llm=False,
         description="survey-weighted answer shares of all training respondents", options=[SMOOTHING])
register("country-marginal", "statistical:country_marginal", needs_llm=False,
         description="answer shares of the person's country, shrunk toward the global marginal",
         options=[SHRINKAGE, SMOOTHING], protocols=(INDIVIDUAL, POPULATION))
register("knn", "statistical:knn", needs_llm=False,
         description="the K training respondents most similar on the profile items vote (option k)",
         options=[
             _int("k", 50, "neighbours who vote", low=1),
             Option("scope", str, "country", "neighbours from the person's country, or from everyone",
                    choices=("country", "all")),
             _float("prior_strength", 2.0, "pseudo-neighbours voting the country marginal", low=0),
             _int("chunk", 256, "persons per similarity block (memory vs speed)", low=1),
             MAX_LEVELS, SHRINKAGE,
         ])
register("regression", "statistical:regression", needs_llm=False,
         description="regularized regression per target item on the profile items and country",
         options=[
             Option("family", str, "ordinal", "ordinal: cumulative logit for ordered items; multinomial: softmax",
                    choices=("ordinal", "multinomial")),
             _float("C", 1.0, "inverse L2 penalty", low=1e-6),
             _int("max_train", 20000, "training respondents per target item (random subset above)", low=10),
             MAX_LEVELS,
             _int("max_classes", 40, "nominal targets with more codes use the country marginal", low=2),
             _int("max_iter", 200, "solver iterations", low=1),
             _int("components", 64, "principal directions of the profile block (0: no projection)", low=0),
             SEED, SHRINKAGE,
         ])
register("hybrid", "hybrid:hybrid", needs_llm=True,
         description="log-linear pool of an LLM method and a statistical one, weight fitted on training respondents",
         options=[
             Option("llm", str, "valuesim", "the LLM method (its options: hybrid.llm.KEY=VALUE)", nested="llm"),
             Option("stat", str, "regression", "the statistical method (its options: hybrid.stat.KEY=VALUE)",
                    nested="stat"),
             _float("weight", None, "fixed LLM weight (skips fitting, no validation calls)", low=0, high=1,
                    nullable=True),
             Option("per_category", bool, False, "fit one weight per value category"),
             _int("validation_respondents", 8, "training respondents the weight is fitted on", low=1),
             _int("validation_items", 20, "held-out items asked of each of them", low=1),
             _int("grid", 21, "weights tried between 0 and 1", low=2),
             _int("min_category_answers", 20, "a category's own weight needs this many answers", low=1),
             _float("llm_floor", 0.01, "share of uniform mixed into the LLM distribution", low=0, high=1),
             SEED,
         ])
register("valuesim", "valuesim:make_valuesim", needs_llm=True,
         description="ValueSim: backstory -> cognitive/affective/behavioral modules -> coordinator",
         options=VALUESIM)
register("valuesim-no-story", "valuesim:make_no_story", needs_llm=True,
         description="ablation: the CAB modules read the raw profile instead of the backstory", options=VALUESIM)
register("valuesim-no-cab", "valuesim:make_no_cab", needs_llm=True,
         description="ablation: one direct answer from the backstory, no CAB modules or coordinator",
         options=VALUESIM)
register("valuesim-average", "valuesim:make_average", needs_llm=True,
         description="ablation: rounded mean of the three module answers instead of the coordinator",
         options=_valuesim_with(coordinator="average"))
register("valuesim-no-cognitive", "valuesim:make_no_cognitive", needs_llm=True,
         description="ablation: ValueSim without the cognitive module", options=VALUESIM)
register("valuesim-no-affective", "valuesim:make_no_affective", needs_llm=True,
         description="ablation: ValueSim without the affective module", options=VALUESIM)
register("valuesim-no-behavioral", "valuesim:make_no_behavioral", needs_llm=True,
         description="ablation: ValueSim without the behavioral module", options=VALUESIM)
register("full-info", "full_info:make_full_info", needs_llm=True,
         description="baseline: the whole profile (Q/options/answer list) with the question, cut to fit the context",
         options=(*SINGLE_PROMPT, OVERFLOW, CONTEXT_TOKENS, RESIDENCE))
register("full-info-no-residence", "full_info:make_no_residence", needs_llm=True,
         description="ablation: Full Info without the country-of-residence line (the paper's exact prompt)",
         options=(*SINGLE_PROMPT, OVERFLOW, CONTEXT_TOKENS, replace(RESIDENCE, default=False)))
register("rag", "rag:make_rag", needs_llm=True,
         description="baseline: the top-3 profile items by embedding similarity",
         options=(*SINGLE_PROMPT,
                  Option("embedder", str, "minilm", "minilm (local, CPU) or openai:MODEL", objects=True),
                  _int("k", 3, "profile items retrieved", low=1),
                  Option("base_url", str, None, "embeddings server for openai:MODEL", nullable=True), RESIDENCE))
register("no-profile", "no_profile:make_no_profile", needs_llm=True,
         description="baseline: the question alone (the model's prior)", options=SINGLE_PROMPT)
# population methods (persona text in PersonContext.context; `valuesim population`)
PERSONA = (_int("max_tokens", 16, "reply tokens (the persona prompt asks for the option number only)", low=1),
           *SINGLE_PROMPT[2:])
register("value-persona", "persona:make_value_persona", needs_llm=True,
         description="population: the persona's value-dimension positions as descriptors (seeds/001)", options=PERSONA,
         protocols=(POPULATION,))
register("demographic", "persona:make_demographic", needs_llm=True,
         description="population: the persona's age, sex, education, income and urban/rural", options=PERSONA,
         protocols=(POPULATION,))
register("no-persona", "persona:make_no_persona", needs_llm=True,
         description="population: only the country is named (the model's prior for it)", options=PERSONA,
         protocols=(POPULATION,))
register("value-twin", "twin:make_value_twin", needs_llm=False,
         description="population: the statistical twin of value-persona, fitted on the other countries' respondents",
         options=[Option("levels", str, None, "every respondent's dimension levels (set by the population study)",
                         nullable=True, objects=True),
                  _int("n_levels", 5, "levels per dimension", low=1), _float("C", 1.0, "inverse L2 penalty", low=1e-6)],
         protocols=(POPULATION,))
register("other-countries", "references:make_other_countries", needs_llm=False,
         description="population reference (held-out-country): the pooled answers of every other country",
         protocols=(POPULATION,))
