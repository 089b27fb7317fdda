"""The quality benchmark runs in its --steps mode (so that the script cannot rot), and from the same
initial weights and batches minigrad and PyTorch reach the same loss after a few steps."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_lm_quality.py"
ARGS = "--steps 3 --eval-every 2 --val-tokens 2000 --hidden-size 16 --embedding-dim 8 --threads 1"


def _run(*extra: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH), *ARGS.split(), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _losses(out: str) -> dict[str, float]:
    return {
        m[0]: float(m[1])
        for m in re.findall(r"^\s*(minigrad|PyTorch): ([\d.]+) nats/char", out, re.M)
    }


def test_steps_mode_minigrad_only() -> None:
    out = _run("--only", "minigrad")
    losses = _losses(out)
    assert set(losses) == {"minigrad"} and 3.5 < losses["minigrad"] < 5.0  # about log(83)
    assert "3 steps each" in out and "target <= 1.60" not in out  # the target is for 10 minutes
    assert "--- minigrad sample" in out


def test_same_start_same_loss_as_pytorch() -> None:
    pytest.importorskip("torch")
    out = _run()
    losses = _losses(out)
    assert set(losses) == {"minigrad", "PyTorch"}
    assert abs(losses["minigrad"] - losses["PyTorch"]) < 1e-3
    assert "minigrad - PyTorch =" in out
