"""Methods by name, so `ask`, `eval` and the API select any simulator the same way.

Each entry names the module and factory that builds it; modules are imported only when the
method is asked for, so statistical runs never load an LLM engine. A factory takes the chat
model (None for statistical methods) and keyword options, and returns a Simulator.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..errors import ConfigError
from .base import Simulator


@dataclass(frozen=True)
class MethodInfo:
    name: str
    target: str  # "module:factory", module relative to valuesim.methods
    needs_llm: bool
    description: str


METHODS: dict[str, MethodInfo] = {}


def register(name: str, target: str, *, needs_llm: bool, description: str) -> None:
    METHODS[name] = MethodInfo(name, target, needs_llm, description)


def available() -> list[MethodInfo]:
    return list(METHODS.values())


def method_info(name: str) -> MethodInfo:
    try:
        return METHODS[name]
    except KeyError:
        known = ", ".join(sorted(METHODS))
        raise ConfigError(f"unknown method {name!r}; known methods: {known}") from None


def get_method(name: str, model=None, **options) -> Simulator:
    """Build the simulator called ``name``. LLM methods need ``model`` (a ChatModel)."""
    info = method_info(name)
    if info.needs_llm and model is None:
        raise ConfigError(f"method {name!r} needs a model (pass --model or model=...)")
    module_name, factory_name = info.target.split(":")
    module = importlib.import_module(f"{__package__}.{module_name}")
    return getattr(module, factory_name)(model=model, **options)


# --- the table: one line per method (owners add their own) ---------------------------------
register("chance", "statistical:chance", needs_llm=False,
         description="uniform over the question's valid options (the floor every method must beat)")
register("global-marginal", "statistical:global_marginal", needs_llm=False,
         description="survey-weighted answer shares of all training respondents")
register("country-marginal", "statistical:country_marginal", needs_llm=False,
         description="answer shares of the person's country, shrunk toward the global marginal")
register("knn", "statistical:knn", needs_llm=False,
         description="the K training respondents most similar on the profile items vote (option k)")
register("regression", "statistical:regression", needs_llm=False,
         description="regularized regression per target item on the profile items and country")
register("hybrid", "hybrid:hybrid", needs_llm=True,
         description="log-linear pool of an LLM method and a statistical one, weight fitted on training respondents")
register("valuesim", "valuesim:make_valuesim", needs_llm=True,
         description="ValueSim: backstory -> cognitive/affective/behavioral modules -> coordinator "
                     "(options coordinator=always|on-disagreement|average, prompt_order=context-first|paper, "
                     "story=model|statements, story_prompt=auto|paper|small, story_audit=N, min_fidelity=X, "
                     "story_fallback=fail|statements)")
register("valuesim-no-story", "valuesim:make_no_story", needs_llm=True,
         description="ablation: the CAB modules read the raw profile instead of the backstory")
register("valuesim-no-cab", "valuesim:make_no_cab", needs_llm=True,
         description="ablation: one direct answer from the backstory, no CAB modules or coordinator")
register("valuesim-average", "valuesim:make_average", needs_llm=True,
         description="ablation: rounded mean of the three module answers instead of the coordinator")
register("valuesim-no-cognitive", "valuesim:make_no_cognitive", needs_llm=True,
         description="ablation: ValueSim without the cognitive module")
register("valuesim-no-affective", "valuesim:make_no_affective", needs_llm=True,
         description="ablation: ValueSim without the affective module")
register("valuesim-no-behavioral", "valuesim:make_no_behavioral", needs_llm=True,
         description="ablation: ValueSim without the behavioral module")
register("full-info", "full_info:make_full_info", needs_llm=True,
         description="baseline: the whole profile (Q/options/answer list) with the question, cut to fit the context")
register("rag", "rag:make_rag", needs_llm=True,
         description="baseline: the top-3 profile items by embedding similarity (option embedder=minilm|openai:MODEL)")
register("no-profile", "no_profile:make_no_profile", needs_llm=True,
         description="baseline: the question alone (the model's prior)")
# population methods (persona text in PersonContext.context; `valuesim population`)
register("value-persona", "persona:make_value_persona", needs_llm=True,
         description="population: the persona's value-dimension positions as descriptors (seeds/001)")
register("demographic", "persona:make_demographic", needs_llm=True,
         description="population: the persona's age, sex, education, income and urban/rural")
register("no-persona", "persona:make_no_persona", needs_llm=True,
         description="population: only the country is named (the model's prior for it)")
