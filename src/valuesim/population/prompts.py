"""Prompt templates of the population method (text files in population/prompts/)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def template(name: str) -> str:
    """The text of prompts/NAME.txt (without the trailing newline)."""
    return resources.files(__package__).joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


@lru_cache(maxsize=None)
def sections(name: str) -> dict[str, str]:
    """A sectioned template: '### KEY' starts a section; '#' comment lines outside sections and
    blank edges are dropped. Returns {KEY: text}."""
    out: dict[str, list[str]] = {}
    key = None
    for line in template(name).splitlines():
        if line.startswith("### "):
            key = line[4:].strip()
            out[key] = []
        elif key is None:
            continue
        else:
            out[key].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}
