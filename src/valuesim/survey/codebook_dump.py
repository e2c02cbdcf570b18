"""A codebook written in the file format ``codebook_file`` reads (`valuesim codebook show`,
`codebook draft`, run records)."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from .dimensions_file import dimension_dict
from .model import Codebook, Columns, Kind, Question

COLUMN_KEYS = tuple(f.name for f in fields(Columns))


def codebook_to_dict(codebook: Codebook) -> dict:
    """The codebook in the file format (what `valuesim codebook show` prints)."""
    out: dict[str, Any] = {"survey": codebook.survey or codebook.name, "short": codebook.short}
    cols = {k: getattr(codebook.columns, k) for k in COLUMN_KEYS if getattr(codebook.columns, k)}
    if cols:
        out["columns"] = cols
    if codebook.missing:
        out["missing"] = dict(codebook.missing)
    if codebook.category_names:
        out["categories"] = {k: codebook.category_name(k) for k in codebook.category_order}
    if codebook.roles and set(codebook.demographics) == set(codebook.roles.values()):
        out["demographics"] = dict(codebook.roles)
    elif codebook.demographics:
        out["demographics"] = list(codebook.demographics)
    if codebook.dimensions:
        by_id = {q.id: q for q in codebook}
        out["dimensions"] = {k: dimension_dict(d, by_id) for k, d in codebook.dimensions.items()}
    for key in ("targets", "calibration"):
        if getattr(codebook, key):
            out[key] = list(getattr(codebook, key))
    out["items"] = [_item_dict(q) for q in codebook]
    return out


def _item_dict(q: Question) -> dict:
    item: dict[str, Any] = {"id": q.id, "text": q.text, "kind": q.kind.value}
    if q.category:
        item["category"] = q.category
    if q.short:
        item["short"] = q.short
    if q.section:
        item["section"] = q.section
    if q.options:
        item["options"] = {o.code: o.label for o in q.options}
        statements = {o.code: o.statement for o in q.options if o.statement}
        if statements:
            item["statements"] = statements
    if q.valid_range and (not q.options or q.kind == Kind.NUMERIC):
        item["range"] = list(q.valid_range)
    if q.ordinal_high:
        item["high"] = q.ordinal_high
    if q.numeric_statement:
        item["numeric_statement"] = q.numeric_statement
    if q.missing:
        item["missing"] = dict(q.missing)
    if q.code_list:
        item["code_list"] = q.code_list
    if q.count:
        item["count"] = True
    if q.statement_template:
        item["statement_template"] = q.statement_template
    return item


def dump_codebook(codebook: Codebook | dict, fmt: str = "yaml") -> str:
    """The codebook as YAML (or JSON) text that :func:`load_codebook` reads back."""
    data = codebook if isinstance(codebook, dict) else codebook_to_dict(codebook)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
