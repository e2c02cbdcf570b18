"""Which data file a run was made from: a whole-file fingerprint that a resume compares, so an
edited file is refused (``RunDir`` and the studies read these through ``runs.rundir``)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .render import write_atomic

HASHES_FILE = "file_hashes.json"  # in $VALUESIM_HOME: data files' whole-file hashes, by path, size and mtime


def file_fingerprint(path: Path) -> dict:
    """Size and sha256 of the whole file (streamed), so a file edited anywhere is a different
    file on resume; ``sha256_first_mb`` too, which is what runs made before recorded (compared
    when an old run is resumed, see :func:`compare`). The whole-file hash is worked out once per
    file and reused while its size and modification time stay the same."""
    path = Path(path)
    stat = path.stat()
    with open(path, "rb") as f:
        head = hashlib.sha256(f.read(1 << 20)).hexdigest()
    return {"path": str(path.resolve()), "size": stat.st_size, "sha256_first_mb": head,
            "sha256": _whole_file_hash(path, stat)}


def _whole_file_hash(path: Path, stat: os.stat_result) -> str:
    """sha256 of every byte of ``path``, from $VALUESIM_HOME/file_hashes.json when the file's
    size and mtime match what was recorded there (a 1 GB file is read once, not on every run)."""
    from ..llm.cache import valuesim_home

    key, seen = str(path.resolve()), valuesim_home() / HASHES_FILE
    try:
        known = json.loads(seen.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    entry = known.get(key) if isinstance(known, dict) else None
    if isinstance(entry, dict) and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
        return str(entry.get("sha256"))
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    digest = h.hexdigest()
    known = known if isinstance(known, dict) else {}
    known[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    try:  # only a shortcut: a home that cannot be written means hashing again next time
        seen.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(seen, json.dumps(dict(list(known.items())[-200:]), indent=0))
    except OSError:
        pass
    return digest


def survey_fingerprint(survey, path: Path | None) -> dict:
    info: dict[str, Any] = {"respondents": len(survey), "items": len(survey.question_ids),
                            "synthetic": bool(survey.synthetic), "source": str(survey.source or "")}
    if path is not None and path.is_file():
        info.update(file_fingerprint(path))
    else:  # an in-memory survey: hash its contents
        digest = pd.util.hash_pandas_object(survey.data, index=True).to_numpy().tobytes()
        info["sha256_data"] = hashlib.sha256(digest).hexdigest()
    from ..survey.codebook_file import codebook_settings

    info.update(codebook_settings(survey.codebook))  # a codebook file: which one
    return info


def survey_path(survey) -> Path | None:
    """The file an in-memory survey was read from, when it still exists."""
    src = survey.source
    return Path(str(src)) if src and Path(str(src)).is_file() else None
