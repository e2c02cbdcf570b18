"""The one resume rule of every run directory, and old run.json files read in today's shape.

``merge_run(old, settings, info)`` says whether a run may continue with new settings and
what run.json becomes; ``migrate_record`` brings a run.json from an older valuesim up to
date when it is read; the session entries of run.json are opened and closed here.
"""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


WHERE = ("path", "source")  # where the data or codebook file was read: provenance, never compared


def _comparable(settings: dict) -> dict:
    """Settings without where the files live: a moved or renamed data or codebook file is still
    the same data (compared by its size and hash) and the same codebook (by its content hash)."""
    out = dict(settings)
    out["data"] = {k: v for k, v in (settings.get("data") or {}).items() if k not in WHERE}
    if isinstance(out["data"].get("codebook"), dict):
        out["data"]["codebook"] = {k: v for k, v in out["data"]["codebook"].items() if k not in WHERE}
    return out


def relocated(old: dict, new: dict) -> dict:
    """The recorded data settings ``old`` with the file locations of ``new`` (same content): a
    resumed run records where its files are now, so that its reports find the codebook."""
    out = {**old, **{k: new[k] for k in WHERE + ("sha256",) if k in new}}  # (an old run gains the whole-file hash)
    if isinstance(old.get("codebook"), dict) and isinstance(new.get("codebook"), dict):
        out["codebook"] = {**old["codebook"], **{k: new["codebook"][k] for k in WHERE if k in new["codebook"]}}
    return out


def compare(old: dict, new: dict) -> list[str]:
    """One line per setting that differs (the data compared by content, not by path; a run
    recorded before whole-file hashes is compared on what it recorded: size and first MB)."""
    old, new = _comparable(old), _comparable(new)
    if "sha256" not in old["data"] or "sha256" not in new["data"]:
        old["data"] = {k: v for k, v in old["data"].items() if k != "sha256"}
        new["data"] = {k: v for k, v in new["data"].items() if k != "sha256"}
    keys = sorted(set(old) | set(new))
    return [f"{k}: was {old.get(k)!r}, now {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]


METHOD_KEYS = ("methods", "method_options", "curve_methods")


def ran_methods(old: dict) -> set[str]:
    """The methods a run already has answers from: its settings' methods and those of every
    session that did not fail (a population run records them per session)."""
    return set((old.get("settings") or {}).get("methods") or ()) | {
        m for s in old.get("sessions", []) if s.get("status") != "failed" for m in s.get("methods", [])}


def merge_run(old: dict, settings: dict, info: dict) -> tuple[list[str], dict | None]:
    """The one resume rule, for every kind of run: the problems that forbid resuming, or the
    merged run.json. Every setting must match (the data compared by content; the model when
    both name one), except what predictions are keyed by: methods may be added (for a
    population, countries and questions too, which are not settings), but a method that already
    has answers keeps its options."""
    o, n = old.get("settings", {}), settings
    problems = compare({k: v for k, v in o.items() if k not in METHOD_KEYS + ("model",)},
                       {k: v for k, v in n.items() if k not in METHOD_KEYS + ("model",)})
    if o.get("model") and n.get("model") and o["model"] != n["model"]:
        problems.append(f"model: was {o['model']!r}, now {n['model']!r}")
    o_opts, n_opts = o.get("method_options", {}) or {}, n.get("method_options", {}) or {}
    now = set(n.get("methods", [])) | set(info.get("methods", ()))
    for m in sorted(ran_methods(old) & now):
        if o_opts.get(m, {}) != n_opts.get(m, {}):
            problems.append(f"options of {m}: were {o_opts.get(m, {})!r}, now {n_opts.get(m, {})!r}")
    if problems:
        return problems, None
    merged = {**o, **{k: v for k, v in n.items() if k not in o}, "model": o.get("model") or n.get("model"),
              "method_options": {**o_opts, **n_opts}}
    if "methods" in o or "methods" in n:
        merged["methods"] = list(o.get("methods", [])) + [m for m in n.get("methods", []) if m not in o.get("methods", [])]
    if "curve_methods" in o or "curve_methods" in n:
        oc, nc = o.get("curve_methods"), n.get("curve_methods")
        merged["curve_methods"] = None if oc is None or nc is None else sorted(set(oc) | set(nc))
    if not merged["method_options"] and "method_options" not in o and "method_options" not in n:
        del merged["method_options"]  # runs without options keep the settings they always had
    if isinstance(o.get("data"), dict) and isinstance(n.get("data"), dict):
        merged["data"] = relocated(o["data"], n["data"])
    methods = old.get("methods")
    if isinstance(methods, dict) or isinstance(info.get("methods"), dict):
        methods = {**(methods if isinstance(methods, dict) else {}), **info.get("methods", {})}
    out = {**old, "settings": merged, "methods": methods if methods is not None else info.get("methods")}
    if "model_label" in old or "model_label" in info:
        out["model_label"] = old.get("model_label") or info.get("model_label")
    return [], out


merge_study = merge_run  # (the name individual studies used)


def open_session(record: dict, command: str | None, details: dict) -> dict:
    """Append this session to run.json's ``sessions`` (a session still "running" was killed)."""
    for s in record.get("sessions", []):
        if s.get("status") == "running":
            s["status"] = "interrupted"
    entry = {"started": now(), "status": "running", "command": command or "", **details}
    record.setdefault("sessions", []).append(entry)
    return entry


def close_session(entry: dict, status: str, wall: float, new: int, accounting: dict) -> None:
    entry.update({"status": status, "wall_seconds": round(wall, 2), "new_predictions": new,
                  "accounting": accounting})


def migrate_record(record: dict | None) -> dict | None:
    """run.json as this valuesim reads it: a run from before ``kind`` was recorded is a
    population run when it recorded personas, else an individual study; a population run from
    before settings were recorded has them from its top level, and the split-half protocol."""
    if record is None or "kind" in record:
        return record
    out = dict(record)
    population = "personas" in record or "personas" in (record.get("settings") or {})
    out["kind"] = "population" if population else "individual"
    if population:
        settings = record.get("settings") or {k: record[k] for k in ("seed", "personas", "data", "model",
                                                                     "protocol") if k in record}
        out["settings"] = {**OLD_DEFAULTS, **settings}
    return out


OLD_DEFAULTS = {"protocol": "split-half"}  # population settings recorded before they existed


def migrate_identity(ident: dict | None, record: dict | None) -> dict | None:
    """A store's copy of the settings, with the defaults ``migrate_record`` gave run.json."""
    if ident is None or record is None or record.get("kind") != "population":
        return ident
    return {**OLD_DEFAULTS, **ident}
