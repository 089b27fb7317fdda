"""Checkpoints (minigrad.checkpoint) and the errors minigrad.load gives for files it cannot read."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("kind", ["text", "npy", "empty"])
def test_load_rejects_non_archives_with_a_clear_message(tmp_path, kind):
    path = tmp_path / f"file.{kind}"
    if kind == "text":
        path.write_text("hello\n")
    elif kind == "npy":
        np.save(path, np.zeros(3))
    else:
        path.write_bytes(b"")
    with pytest.raises(ValueError, match="is not a minigrad file"):
        mg.load(path)


def test_tied_weights_are_stored_once_and_stay_tied(tmp_path):
    from minigrad.checkpoint import load_checkpoint, save_checkpoint
    from minigrad.models import RNNLanguageModel

    mg.manual_seed(0)
    tied = RNNLanguageModel(50, embedding_dim=16, hidden_size=16, tie_weights=True)
    untied = RNNLanguageModel(50, embedding_dim=16, hidden_size=16)
    save_checkpoint(tmp_path / "tied.npz", tied)
    save_checkpoint(tmp_path / "untied.npz", untied)
    with np.load(tmp_path / "tied.npz") as a, np.load(tmp_path / "untied.npz") as b:
        assert len(a.files) == len(b.files) - 1  # the shared matrix once
    model = load_checkpoint(tmp_path / "tied.npz").model
    assert model.decoder.weight is model.embedding.weight
    assert np.array_equal(model.embedding.weight.detach().numpy(),
                          tied.embedding.weight.detach().numpy())


def test_float16_checkpoints_are_half_the_size_and_load_as_float32(tmp_path):
    from minigrad.checkpoint import load_checkpoint, save_checkpoint
    from minigrad.models import RNNLanguageModel

    mg.manual_seed(0)
    model = RNNLanguageModel(300, embedding_dim=32, hidden_size=32, tie_weights=True)
    save_checkpoint(tmp_path / "full.npz", model)
    save_checkpoint(tmp_path / "half.npz", model, dtype="float16")
    full, half = (tmp_path / "full.npz").stat().st_size, (tmp_path / "half.npz").stat().st_size
    assert 0.45 < half / full < 0.6
    back = load_checkpoint(tmp_path / "half.npz").model
    assert back.decoder.weight is back.embedding.weight
    for (name, p), q in zip(model.state_dict().items(), back.state_dict().values()):
        assert q.dtype == p.dtype == np.float32, name
        assert np.allclose(q.numpy(), p.numpy(), rtol=1e-3, atol=1e-4), name
    x = mg.tensor(np.arange(12).reshape(6, 2))
    with mg.no_grad():
        assert np.allclose(back(x)[0].numpy(), model(x)[0].numpy(), atol=1e-2)
    with pytest.raises(ValueError, match="floating-point"):
        save_checkpoint(tmp_path / "int.npz", model, dtype="int8")
