"""Codebook files: a survey described in YAML (or JSON with the same structure).

A codebook names the survey, its id/country/weight/year columns, its missing codes (survey-wide and
per item), reusable answer scales and the items::

    survey: European Social Survey, round 9 (2018)
    short: ESS9
    columns: {id: idno, country: cntry, weight: pspwght, year: inwyys}
    missing: {7: refusal, 8: don't know, 9: no answer}
    scales:
      agree5: {1: Agree strongly, 2: Agree, 3: Neither agree nor disagree, 4: Disagree, 5: Disagree strongly}
    items:
      - {id: gincdif, category: Politics, kind: ordinal, text: "...", options: agree5}
      - {id: stflife, category: Wellbeing, kind: ordinal, text: "...", range: [0, 10],
         labels: {0: Extremely dissatisfied, 10: Extremely satisfied},
         missing: {77: refusal, 88: don't know, 99: no answer}}

Optional at the top: ``demographics`` (item ids, or a mapping role -> item id for the roles
age, sex, education and income, which demographic personas state in sentences of their own),
``dimensions`` (the value dimensions value personas are placed on: ``survey/dimensions_file.py``),
``targets`` and ``calibration`` (the default target and calibration items of population runs),
``categories`` (a list of keys in report order, or a mapping key -> full name); ``columns`` may
also name an ``urban`` column (1 urban, 2 rural). Optional per item: ``statements`` (code ->
second-person sentence), ``short``, ``high`` (what a high code of an ordinal scale means),
``numeric_statement`` ("You were born in {value}."), ``review`` (a note left by ``codebook
draft``; ignored). Every error is one line naming the item (or dimension) and the key.

``dimensions`` maps a dimension name to its items::

    dimensions:
      social_trust: [ppltrst, pplfair]
      religiosity: {items: [rlgdgr, rlgatnd], reverse: [rlgatnd], low: "not religious", high: "religious"}

A person's position is the average of the item z-scores (``population/dimensions.py``); the
name is shown with underscores as spaces. A codebook without ``dimensions`` cannot run value
personas (the built-in WVS-7 codebook declares its Inglehart-Welzel dimensions).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import codebook_limits as limits
from .dimensions_file import parse_dimension
from .model import MISSING_CODES, ROLES, Codebook, Columns, Kind, Option, Question

TOP_KEYS = {"survey", "short", "columns", "missing", "scales", "items", "demographics", "dimensions",
            "categories", "name", "targets", "calibration"}
COLUMN_KEYS = ("id", "country", "weight", "year", "urban")
ITEM_KEYS = {"id", "text", "kind", "category", "options", "range", "labels", "missing", "statements",
             "short", "high", "numeric_statement", "section", "review", "code_list", "count",
             "statement_template"}
BUILT_IN = ("wvs7",)
PLAIN_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@#$-]{0,99}$")
RESERVED_COLUMNS = ("respondent_id", "country", "weight", "year", "SYNTHETIC")  # survey.Survey's own columns
TEXT_KEYS = ("text", "short", "high", "numeric_statement", "section", "category", "code_list", "statement_template")


def load_codebook(spec: "str | Path | Codebook | None") -> Codebook:
    """A codebook from a file path, a built-in name ("wvs7"), or as given (None: WVS-7)."""
    if isinstance(spec, Codebook):
        return spec
    if spec is None or str(spec).strip().lower() in ("wvs7", "wvs-7", "wvs"):
        from .wvs7.bank import load_codebook as load_wvs7_codebook

        return load_wvs7_codebook()
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"codebook {spec}: no such file (give a .yaml/.json codebook, or one of: "
                          f"{', '.join(BUILT_IN)})")
    try:
        size = path.stat().st_size
        if size > limits.MAX_FILE_BYTES:
            raise ConfigError(f"codebook {path}: {size / 1e6:.1f} MB is more than a codebook can be "
                              f"({limits.MAX_FILE_BYTES / 1e6:.0f} MB); is it the data file?")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"codebook {path}: cannot be read ({exc.__class__.__name__}: {exc})") from None
    try:
        return parse_codebook(_parse_text(text, path), str(path))
    except limits.TooBig as exc:
        raise ConfigError(f"codebook {path}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"codebook {path}: nested too deeply to be a codebook") from None


def _parse_text(text: str, path: Path) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"codebook {path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    import yaml

    try:
        return limits.load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"codebook {path}: not valid YAML ({where}{problem})") from None


def parse_codebook(raw: Any, source: str = "") -> Codebook:
    """Build a :class:`Codebook` from the parsed file (a mapping)."""
    def fail(where: str, message: str) -> ConfigError:
        return ConfigError(f"codebook {source or '(in memory)'}: {where}: {message}")

    if not isinstance(raw, dict):
        raise fail("top level", "must be a mapping with 'survey', 'columns' and 'items'")
    unknown = set(map(str, raw)) - TOP_KEYS
    if unknown:
        raise fail(f"key {sorted(unknown)[0]!r}", f"not a codebook key (known: {', '.join(sorted(TOP_KEYS))})")
    for key in ("survey", "short", "name"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise fail(f"key {key!r}", f"must be text, got {type(raw[key]).__name__} {_shown(raw[key])} (quote it)")
        if limits.too_long(raw.get(key), 1000):
            raise fail(f"key {key!r}", f"{len(raw[key]):,} characters is too long for a survey's name")
    items = raw.get("items")
    if not isinstance(items, list) or not items:
        raise fail("key 'items'", "must be a non-empty list of items")
    if len(items) > limits.MAX_ITEMS:
        raise fail("key 'items'", f"{len(items):,} items is more than a codebook may hold ({limits.MAX_ITEMS:,})")
    survey_missing = _codes(raw.get("missing") or {}, lambda m: fail("key 'missing'", m))
    scales = raw.get("scales") or {}
    if not isinstance(scales, dict):
        raise fail("key 'scales'", "must map a scale name to {code: label}")
    columns = raw.get("columns") or {}
    if not isinstance(columns, dict) or set(map(str, columns)) - set(COLUMN_KEYS):
        raise fail("key 'columns'", f"must be a mapping with {', '.join(COLUMN_KEYS)} column names")
    bad_column = next((k for k, v in columns.items() if v is not None and not isinstance(v, str)), None)
    if bad_column:
        raise fail("key 'columns'", f"{bad_column}: must be a column name (text), got {columns[bad_column]!r}")
    reserved = {str(v).strip().upper(): f"the {k} column" for k, v in columns.items() if v}
    reserved.update({c.upper(): "a column valuesim adds to every survey" for c in RESERVED_COLUMNS})
    questions = []
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        qid = str(item.get("id", "")).strip() if isinstance(item, dict) else ""
        where = f"item {qid!r}" if qid else f"item {n}"
        if not isinstance(item, dict) or not qid:
            raise fail(where, "needs an 'id'")
        if not isinstance(item["id"], str) or not PLAIN_ID.match(qid) or ".." in qid:
            raise fail(where, "its id is not a plain identifier (a letter or _, then letters, digits and _ . - "
                              "@ # $, at most 100 characters): ids name file columns, prompts and file names")
        if qid.upper() in reserved:
            raise fail(where, f"its id is {reserved[qid.upper()]}; an item cannot have a file column's name")
        if qid in seen:
            raise fail(where, "appears twice")
        seen.add(qid)
        questions.append(_question(item, scales, lambda key, m, w=where: fail(f"{w}, key {key!r}", m)))
    _survey_missing_clash(questions, survey_missing, fail)
    categories, category_names = _categories(raw.get("categories"), lambda m: fail("key 'categories'", m))
    if category_names:
        from dataclasses import replace

        questions = [replace(q, category_name=category_names.get(q.category, "")) for q in questions]
    return Codebook(
        tuple(questions), name=str(raw.get("name") or raw.get("short") or raw.get("survey") or "codebook"),
        survey=str(raw.get("survey") or ""), short=str(raw.get("short") or ""),
        columns=Columns(**{k: str(v) for k, v in columns.items() if v}),
        missing=survey_missing, categories=categories, category_names=category_names,
        source=source, **population_keys(raw, questions, fail),
    )


def population_keys(raw: dict, questions: "list[Question] | tuple[Question, ...]", fail) -> dict:
    """What a codebook file says for population runs: ``demographics`` (and their roles),
    ``dimensions``, ``targets`` and ``calibration``, as Codebook fields. ``fail(where, message)``
    builds the one-line error (also how the built-in WVS-7 codebook reads its own)."""
    known = {q.id for q in questions}
    demographics, roles = _demographics(raw.get("demographics") or [], known, lambda m: fail("key 'demographics'", m))
    dimensions = raw.get("dimensions") or {}
    if not isinstance(dimensions, dict):
        raise fail("key 'dimensions'", "must map a dimension name to its items")
    by_id = {q.id: q for q in questions}
    dimensions = {str(name): parse_dimension(spec, by_id, lambda m, k=name: fail(f"dimension {k!r}", m),
                                             lambda v, f: _ids(v, known, f), is_whole_number)
                  for name, spec in dimensions.items()}
    targets, calibration = (_ids(raw.get(k) or [], known, lambda m, k=k: fail(f"key {k!r}", m))
                            for k in ("targets", "calibration"))
    return {"demographics": demographics, "roles": roles, "dimensions": dimensions, "targets": targets,
            "calibration": calibration}


def _demographics(raw, known: set[str], fail) -> tuple[tuple[str, ...], dict[str, str]]:
    """``demographics``: item ids, or role -> item id (the roles of ``model.ROLES``)."""
    if not isinstance(raw, dict):
        return _ids(raw, known, fail), {}
    stray = [str(r) for r in raw if str(r) not in ROLES]
    if stray:
        raise fail(f"{stray[0]!r} is not a demographic role (roles: {', '.join(ROLES)}); list other "
                   "demographic items as a plain list of ids")
    ids = _ids(list(raw.values()), known, fail)
    return ids, dict(zip(map(str, raw), ids))


def _question(item: dict, scales: dict, fail) -> Question:
    unknown = set(map(str, item)) - ITEM_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise fail(key, f"not an item key (known: {', '.join(sorted(ITEM_KEYS))})")
    for key in TEXT_KEYS:
        if item.get(key) is not None and not isinstance(item[key], str):
            raise fail(key, f"must be text, got {type(item[key]).__name__} {_shown(item[key])} (quote it)")
        if limits.too_long(item.get(key)):
            raise fail(key, f"{len(item[key]):,} characters is longer than a codebook text may be "
                            f"({limits.MAX_TEXT:,})")
    text = str(item.get("text") or "").strip()
    if not text:
        raise fail("text", "is required (the question as respondents heard it)")
    try:
        kind = Kind(str(item.get("kind", "")).strip().lower())
    except ValueError:
        raise fail("kind", f"{item.get('kind')!r} is not one of ordinal, nominal, binary, numeric") from None
    labels = _codes(item.get("labels") or {}, lambda m: fail("labels", m))
    statements = _codes(item.get("statements") or {}, lambda m: fail("statements", m))
    valid_range = None
    if "range" in item:
        r = item["range"]
        if not (isinstance(r, (list, tuple)) and len(r) == 2 and all(is_whole_number(v) for v in r) and int(r[0]) < int(r[1])):
            raise fail("range", f"must be [low, high] whole numbers with low < high, got {r!r}")
        valid_range = (int(r[0]), int(r[1]))
    options_raw = item.get("options")
    if isinstance(options_raw, str):
        if options_raw not in scales:
            raise fail("options", f"names no scale {options_raw!r} (scales: {', '.join(scales) or 'none'})")
        options_raw = scales[options_raw]
    option_labels = _codes(options_raw or {}, lambda m: fail("options", m))
    if option_labels and valid_range and kind != Kind.NUMERIC:
        raise fail("range", "give either options or a range, not both")
    if kind != Kind.NUMERIC and not option_labels:
        if not valid_range:
            raise fail("options", f"a {kind.value} item needs options (or a range with endpoint labels)")
        width = valid_range[1] - valid_range[0] + 1
        if width > limits.MAX_OPTIONS:
            raise fail("range", f"{valid_range[0]} to {valid_range[1]} is {width:,} answer codes, more than an "
                                f"item of kind {kind.value} may list ({limits.MAX_OPTIONS:,}); declare the item numeric "
                                "(kind: numeric) if its answers are counts or amounts")
        option_labels = {c: labels.get(c, str(c)) for c in range(valid_range[0], valid_range[1] + 1)}
        valid_range = None
    if kind == Kind.NUMERIC and not valid_range and not option_labels:
        raise fail("range", "a numeric item needs a range [low, high]")
    if kind == Kind.BINARY and len(option_labels) != 2:
        raise fail("options", f"a binary item has exactly two options, got {len(option_labels)}")
    clash = sorted(set(option_labels) & MISSING_CODES)
    if clash:
        raise fail("options", f"code {clash[0]} is an answer, but valuesim reserves -1 ... -5 for missing "
                              f"answers; recode the item in the file")
    own_missing = _codes(item.get("missing") or {}, lambda m: fail("missing", m))
    overlap = sorted(set(own_missing) & set(option_labels))
    if overlap:
        code = overlap[0]
        raise fail("missing", f"code {code} is both the answer {option_labels[code]!r} and the missing code "
                              f"{own_missing[code]!r}; recode one of them")
    bad = sorted(set(statements) - set(option_labels))
    if bad:
        raise fail("statements", f"code {bad[0]} is not an option")
    endpoints = _endpoint_text(option_labels, labels)
    options = tuple(Option(code, label, statements.get(code) or _statement(kind, text, code, label, endpoints))
                    for code, label in sorted(option_labels.items()))
    if options and not valid_range:
        valid_range = (options[0].code, options[-1].code)
    numeric_statement = str(item.get("numeric_statement") or "")
    if kind == Kind.NUMERIC and not numeric_statement:
        numeric_statement = f"Asked '{text}', you answered {{value}}."
    return Question(
        id=str(item["id"]).strip(), text=text, kind=kind, options=options, valid_range=valid_range,
        short=str(item.get("short") or ""), section=str(item.get("section") or ""),
        category=str(item.get("category") or ""), ordinal_high=str(item.get("high") or ""),
        numeric_statement=numeric_statement,
        missing=tuple(sorted(own_missing.items())),
        code_list=str(item.get("code_list") or ""), count=bool(item.get("count", False)),
        statement_template=str(item.get("statement_template") or ""),
    )


def _survey_missing_clash(questions: list[Question], missing: dict[int, str], fail) -> None:
    """A survey-wide missing code that is also an answer of an item it applies to (one without
    its own ``missing``) would silently turn that answer into "no answer": refused, as the
    item-level clash is."""
    for q in questions:
        if q.missing or not missing:
            continue
        for o in q.options:
            if o.code in missing:
                raise fail(f"item {q.id!r}, key 'options'",
                           f"code {o.code} is the answer {o.label!r}, but the survey-wide missing code {o.code} "
                           f"means {missing[o.code]!r}; give the item its own `missing:` or recode one of them")


def _endpoint_text(options: dict[int, str], labels: dict[int, str]) -> str:
    """ "from 0 (Extremely dissatisfied) to 10 (Extremely satisfied)" for a numbered scale."""
    if not labels or not options:
        return ""
    lo, hi = min(options), max(options)
    return (f"on a scale from {lo}{f' ({labels[lo]})' if lo in labels else ''} "
            f"to {hi}{f' ({labels[hi]})' if hi in labels else ''}")


def _statement(kind: Kind, text: str, code: int, label: str, endpoints: str) -> str:
    """The generic second-person sentence for an option a codebook gives no statement for."""
    if endpoints:
        return f"Asked '{text}', you answered {code} {endpoints}."
    if kind == Kind.BINARY:
        return f"Asked '{text}', your answer was '{label}'."
    return f"Asked '{text}', you answered '{label}'."


def is_whole_number(value) -> bool:
    """Whether a code from a codebook or a file's metadata is a whole number (7, 7.0, "7"; not
    True, "7.5", "inf" or None)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    try:
        return float(str(value)) == int(float(str(value)))
    except (ValueError, OverflowError):
        return False


def _codes(mapping, fail) -> dict[int, str]:
    """{code: label} with whole-number codes (YAML may give them as ints or strings)."""
    if not isinstance(mapping, dict):
        raise fail(f"must be a mapping code: label, got {type(mapping).__name__}")
    if len(mapping) > limits.MAX_OPTIONS:
        raise fail(f"{len(mapping):,} codes is more than one item may have ({limits.MAX_OPTIONS:,})")
    out = {}
    for code, label in mapping.items():
        if not is_whole_number(code):
            raise fail(f"code {code!r} is not a whole number")
        if label is None or not str(label).strip():
            raise fail(f"code {code} has no label")
        if isinstance(label, bool) or not isinstance(label, (str, int, float)):
            raise fail(f"code {code}: the label must be text, got {type(label).__name__} {_shown(label)} (quote it)")
        if limits.too_long(label):
            raise fail(f"code {code}: its label is {len(label):,} characters, more than {limits.MAX_TEXT:,}")
        out[int(float(str(code)))] = str(label).strip()
    return out


def _shown(value, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _ids(ids, known: set[str], fail) -> tuple[str, ...]:
    if not isinstance(ids, (list, tuple)):
        raise fail("must be a list of item ids")
    unknown = [str(i) for i in ids if str(i) not in known]
    if unknown:
        raise fail(f"{unknown[0]!r} is not an item of this codebook")
    return tuple(str(i) for i in ids)


def _categories(raw, fail) -> tuple[tuple[str, ...], dict[str, str]]:
    if raw is None:
        return (), {}
    values = raw if isinstance(raw, list) else list(raw.values()) if isinstance(raw, dict) else []
    if any(isinstance(v, (bool, list, dict)) or v is None for v in values):
        raise fail("category names and full names must be text (quote them)")
    if isinstance(raw, list):
        return tuple(str(c) for c in raw), {}
    if isinstance(raw, dict):
        return tuple(str(c) for c in raw), {str(k): str(v) for k, v in raw.items()}
    raise fail("must be a list of category names or a mapping key: full name")


def codebook_settings(codebook: Codebook) -> dict:
    """What a run records about its codebook so that it can be found again and a resume with
    another one is refused: nothing for the built-in WVS-7 codebook (older runs stay valid), else
    a hash of its content and its title (the run's identity) and where the file is (``path``:
    for reading the run back, never compared, so a moved or renamed codebook resumes)."""
    if not codebook.source:
        return {}
    import hashlib

    digest = hashlib.sha256(dump_codebook(codebook, "json").encode()).hexdigest()
    return {"codebook": {"path": str(Path(codebook.source).resolve()), "survey": codebook.title,
                         "short": codebook.short, "sha256": digest}}


def codebook_of_run(settings: dict) -> Codebook:
    """The codebook a run recorded (see :func:`codebook_settings`); the built-in WVS-7 one when it
    recorded none. A codebook file that has gone keeps the run readable: a codebook with the
    recorded name and no items (reports then show category keys without their full names)."""
    recorded = (settings or {}).get("codebook") or {}
    if not recorded.get("path"):
        return load_codebook(None)
    try:
        return load_codebook(recorded["path"])
    except ConfigError:
        return Codebook((), name=recorded.get("short") or "codebook", survey=recorded.get("survey", ""),
                        short=recorded.get("short", ""), source=recorded["path"])


from .codebook_dump import codebook_to_dict, dump_codebook  # noqa: E402,F401  (the same format, written)
