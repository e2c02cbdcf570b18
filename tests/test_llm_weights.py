"""Joining the model pieces: order, checksum, idempotence, clear errors; and the models CLI."""

import hashlib
import json

import pytest

from valuesim.cli import main
from valuesim.errors import ModelError
from valuesim.llm import weights


@pytest.fixture
def fake_pieces(tmp_path, monkeypatch):
    monkeypatch.setenv("VALUESIM_HOME", str(tmp_path / "home"))
    pieces = []
    for i in range(3):
        p = tmp_path / f"part{i + 1:02d}.bin"
        p.write_bytes(bytes([i]) * (1000 + i))
        pieces.append(p)
    joined = b"".join(p.read_bytes() for p in pieces)
    monkeypatch.setattr(weights, "piece_paths", lambda: pieces)
    monkeypatch.setattr(weights, "DEFAULT_MODEL_SHA256", hashlib.sha256(joined).hexdigest())
    monkeypatch.setattr(weights, "DEFAULT_MODEL_SIZE", len(joined))
    return pieces, joined


def test_prepare_joins_in_order_verifies_and_is_idempotent(fake_pieces, monkeypatch):
    pieces, joined = fake_pieces
    path = weights.prepare_default_model(verbose=False)
    assert path.read_bytes() == joined and weights.default_model_ready()
    assert not list(path.parent.glob("*.part"))  # no half-written copy left behind
    monkeypatch.setattr(weights, "piece_paths", lambda: pytest.fail("pieces read again"))
    assert weights.prepare_default_model(verbose=False) == path


def test_checksum_mismatch_is_a_clear_error(fake_pieces, monkeypatch):
    monkeypatch.setattr(weights, "DEFAULT_MODEL_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="SHA-256"):
        weights.prepare_default_model(verbose=False)
    assert not weights.default_model_path().exists()


def test_missing_pieces_point_to_make(monkeypatch, tmp_path):
    monkeypatch.setattr(weights, "_package_dir", lambda name: None)
    with pytest.raises(ModelError, match="make demo"):
        weights.piece_paths()


def test_pinned_checksum_is_a_real_sha256():
    assert len(weights.DEFAULT_MODEL_SHA256) == 64 and int(weights.DEFAULT_MODEL_SHA256, 16)
    assert weights.DEFAULT_MODEL_SIZE > 1_000_000_000


def test_models_cli_prepare_and_check(fake_pieces, capsys):
    assert main(["models", "prepare"]) == 0
    assert str(weights.default_model_path()) in capsys.readouterr().out
    assert main(["models", "check", "--model", "scripted", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "scripted" and result["logprobs"] is True
    assert sum(result["option_distribution"].values()) == pytest.approx(1.0, abs=1e-3)
    assert main(["models", "check", "--model", "nonsense"]) == 2
    assert "unknown model spec" in capsys.readouterr().err
