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
