"""Method options, declared once and checked before anything runs.

Every registered method declares its options (name, type, default, allowed values or range,
one line of help); the registry keeps the list. ``check_options`` turns whatever a user typed
(``--option knn.k=30``) or passed from Python into typed values, or raises one ``ConfigError``
line naming the method, the key and what is accepted. The CLI and ``run_study`` call it
before a run directory is created, so a typo can never leave a half-made run behind.

Nested options (the hybrid's two methods) are spelled with a second dot:
``hybrid.llm=valuesim``, ``hybrid.llm.coordinator=average``, ``hybrid.stat.k=30``; they are
checked against the options of the method the hybrid will build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..errors import ConfigError

_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")
_NONE = ("none", "null", "")


@dataclass(frozen=True)
class Option:
    """One option of a method. ``type`` is int, float, bool or str; ``choices`` limits a str;
    ``low``/``high`` bound a number (inclusive); ``nullable`` accepts none (default None)."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    nested: str | None = None  # "llm" / "stat": the option names a method whose options nest under it
    objects: bool = False  # from Python, an object is accepted too (e.g. an embedder instance)

    def accepted(self) -> str:
        """What this option accepts, in the words an error message needs."""
        if self.choices:
            text = "one of " + ", ".join(map(str, self.choices))
        elif self.type is bool:
            text = "true or false"
        elif self.low is not None and self.high is not None:
            text = f"{self.type.__name__} from {_num(self.low)} to {_num(self.high)}"
        elif self.low is not None:
            text = f"{self.type.__name__} >= {_num(self.low)}"
        elif self.high is not None:
            text = f"{self.type.__name__} <= {_num(self.high)}"
        else:
            text = "an integer" if self.type is int else "a number" if self.type is float else "text"
        return text + (" or none" if self.nullable else "")

    def convert(self, value: Any, where: str) -> Any:
        """``value`` (a CLI string or a Python value) as this option's type, or one clear error."""
        bad = ConfigError(f"{where}={value if isinstance(value, str) else repr(value)} is not accepted: {self.name} takes {self.accepted()}")
        if isinstance(value, str):
            raw = value.strip()
            if self.nullable and raw.lower() in _NONE:
                return None
            if self.type is bool:
                if raw.lower() in _TRUE:
                    return True
                if raw.lower() in _FALSE:
                    return False
                raise bad
            if self.type in (int, float):
                try:
                    value = self.type(raw)
                except ValueError:
                    raise bad from None
            else:
                value = raw
        elif self.objects and not isinstance(value, (int, float, bool)) and value is not None:
            return value
        elif value is None:
            if self.nullable:
                return None
            raise bad
        elif self.type is bool:
            if not isinstance(value, bool):
                raise bad
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise bad
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad
            value = float(value)
        elif not isinstance(value, self.type):
            raise bad
        if self.type is float and value != value:  # NaN
            raise bad
        if self.choices and value not in self.choices:
            raise bad
        if self.low is not None and value < self.low:
            raise bad
        if self.high is not None and value > self.high:
            raise bad
        return value


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def describe(options: Sequence[Option]) -> str:
    return ", ".join(o.name for o in options) if options else "(none)"


def check_options(method: str, values: dict | None, *, prefix: str = "") -> dict:
    """``values`` of ``method``'s options, typed and range-checked; nested dicts for the hybrid's
    ``llm_options``/``stat_options`` (or ``llm.KEY`` keys) are checked against the named method.

    Only keys the user gave are returned (factories keep their own defaults)."""
    from .registry import method_info

    info = method_info(method)
    declared = {o.name: o for o in info.options}
    where = prefix or method
    out: dict[str, Any] = {}
    nested_raw: dict[str, dict] = {}
    for key, value in (values or {}).items():
        key = str(key).strip()
        head, dot, rest = key.partition(".")
        if key.endswith("_options") and key[: -len("_options")] in declared and declared[key[: -len("_options")]].nested:
            if not isinstance(value, dict):
                raise ConfigError(f"option {where}.{key} must be a mapping of options")
            nested_raw.setdefault(key[: -len("_options")], {}).update(value)
            continue
        if dot and head in declared and declared[head].nested:
            nested_raw.setdefault(head, {})[rest] = value
            continue
        if key not in declared:
            accepted = describe(info.options)
            raise ConfigError(f"--option {where}.{key}: method {method!r} has no option {key!r}; "
                              f"its options are: {accepted} (see `valuesim methods`)")
        out[key] = declared[key].convert(value, f"--option {where}.{key}")
        if declared[key].nested:
            _check_nested_method(declared[key], out[key], f"--option {where}.{key}")
    for head, raw in nested_raw.items():
        target = out.get(head, declared[head].default)
        out[f"{head}_options"] = check_options(target, raw, prefix=f"{where}.{head}")
    return out


def _check_nested_method(option: Option, name: str, where: str) -> None:
    """The hybrid's llm/stat option names a registered method of the right kind."""
    from .registry import available

    want_llm = option.nested == "llm"
    kinds = [m.name for m in available() if m.needs_llm == want_llm and m.name != "hybrid"]
    if name not in kinds:
        kind = "an LLM method" if want_llm else "a statistical method"
        raise ConfigError(f"{where}={name} is not accepted: {option.name} takes {kind}: {', '.join(kinds)}")


def check_method_options(methods: Iterable[str], method_options: dict | None) -> dict[str, dict]:
    """Every method's options checked; options for a method not in ``methods`` are an error.

    Returns {method: typed options} for the methods that have any."""
    from .registry import method_info

    names = [str(m).strip() for m in methods]
    for name in names:
        method_info(name)  # unknown methods fail here, with the list of known ones
    out: dict[str, dict] = {}
    for method, values in (method_options or {}).items():
        if method not in names:
            method_info(method)
            raise ConfigError(f"--option {method}.*: method {method!r} is not in this run's methods "
                              f"({', '.join(names) or 'none'}); add it to --methods or drop the option")
        if not isinstance(values, dict):
            raise ConfigError(f"options of {method} must be a mapping, got {values!r}")
        checked = check_options(method, values)
        if checked:
            out[method] = checked
    return out


def parse_option_args(items: Iterable[str], methods: Iterable[str] | None = None) -> dict[str, dict]:
    """``["knn.k=30", "hybrid.llm.coordinator=average"]`` -> checked {method: options}.

    With ``methods`` (the run's methods), options for other methods are refused; without,
    every named method must exist."""
    raw: dict[str, dict] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        method, dot, name = key.strip().partition(".")
        if not (sep and dot and method and name.strip()):
            raise ConfigError(f"--option must look like METHOD.KEY=VALUE (e.g. knn.k=30), got {item!r}")
        raw.setdefault(method.strip(), {})[name.strip()] = value
    return check_method_options(list(methods) if methods is not None else list(raw), raw)


def ask_options(method: str, items: Iterable[str], **aliases) -> dict:
    """`valuesim ask`'s options for its one method: ``--option`` plus the old flags as aliases
    (``coordinator=``, ``prompt_order=``, ``embedder=``; None = not given)."""
    checked = parse_option_args(items, [method])
    given = {k: v for k, v in aliases.items() if v is not None}
    if given:
        checked.setdefault(method, {}).update(check_options(method, given))
    return checked.get(method, {})


STORY_KEYS = {"story_max_tokens": "max_tokens", "context_tokens": "context_tokens", "seed": "seed",
              "story": "kind", "story_prompt": "prompt", "story_audit": "audit_sample",
              "min_fidelity": "min_fidelity", "story_fallback": "fallback", "story_budget": "budget"}


def story_options(items: Iterable[str], **aliases) -> dict:
    """`valuesim story`'s ``--option valuesim.KEY=VALUE`` (plus flags given as ``aliases``,
    None = not given) as StoryWriter keywords."""
    checked = parse_option_args(items, ["valuesim"]).get("valuesim", {})
    given = {k: v for k, v in aliases.items() if v is not None}
    if given:
        checked.update(check_options("valuesim", given))
    other = sorted(set(checked) - set(STORY_KEYS))
    if other:
        raise ConfigError(f"--option valuesim.{other[0]}: the backstory does not use it; "
                          f"story takes {', '.join('valuesim.' + k for k in STORY_KEYS)}")
    return {STORY_KEYS[k]: v for k, v in checked.items()}


def method_table() -> str:
    """Every registered method with its options, defaults and one line each (``valuesim methods``)."""
    from .registry import available

    lines = []
    for info in available():
        kind = "LLM" if info.needs_llm else "statistical"
        lines.append(f"{info.name}  [{kind}]")
        lines.append(f"    {info.description}")
        for o in info.options:
            default = "none" if o.default is None else str(o.default).lower() if isinstance(o.default, bool) else o.default
            lines.append(f"    --option {info.name}.{o.name}={default}  ({o.accepted()}): {o.help}")
            if o.nested:
                lines.append(f"        {info.name}.{o.name}.KEY=VALUE sets an option of that method")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
