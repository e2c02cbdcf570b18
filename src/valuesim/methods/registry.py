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
