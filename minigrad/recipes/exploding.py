"""Exploding gradients made to happen, and clipping (Chapter 9).

A character language model on first names (``RNNLanguageModel`` with a tanh RNN of 64 units,
embeddings of 32) trains by truncated BPTT (32 sequences of 64 characters, the state carried
from batch to batch) with plain SGD at a learning rate of 3, for 1,000 steps. Its recurrent
matrix ``W_aa`` (``rnn.weight_hh_l0``) starts from PyTorch's initialisation scaled to a given
spectral radius. The runs differ only in that radius and in how the gradient is clipped:

* ``radius3_none``: radius 3, no clipping;
* ``radius3_value0.01``: radius 3, every gradient entry clipped to [-0.01, 0.01]
  (``nn.utils.clip_grad_value_``);
* ``radius3_norm1``, ``radius3_norm5``: radius 3, the whole gradient rescaled to norm at most 1
  or 5 (``nn.utils.clip_grad_norm_``);
* ``init_none``: PyTorch's initialisation left as it is (radius about 0.6), no clipping;
* ``radius10_none``: radius 10, no clipping.

Every run sees the same batches in the same order and starts from the same weights up to the
scaling. The JSON result holds, per run, the training loss and the gradient norm (before
clipping) of every step, the validation loss (nats per character, the whole validation stream)
every 100 steps, the step at which the loss stopped being a finite number (if it did; training
stops there), and the spectral radius of ``W_aa`` at the end::

    python -m minigrad.recipes.exploding     # writes book/checkpoints/09_exploding.json

Everything but the times is seeded and repeats.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import warnings
from typing import Any

import numpy as np

import minigrad
from minigrad import nn, optim
from minigrad.lm import load_corpus
from minigrad.models import RNNLanguageModel
from minigrad.text import BPTTBatches
from minigrad.train import detach_state, language_model_loss

#: name: (starting spectral radius of W_aa or None for PyTorch's, clipping kind, threshold)
RUNS: dict[str, tuple[float | None, str | None, float | None]] = {
    "radius3_none": (3.0, None, None),
    "radius3_value0.01": (3.0, "value", 0.01),
    "radius3_norm1": (3.0, "norm", 1.0),
    "radius3_norm5": (3.0, "norm", 5.0),
    "init_none": (None, None, None),
    "radius10_none": (10.0, None, None),
}

SETTINGS: dict[str, Any] = {
    "embedding_dim": 32,
    "hidden_size": 64,
    "batch_size": 32,
    "seq_len": 64,
    "lr": 3.0,
    "steps": 1000,
    "eval_every": 100,
    "seed": 0,
}


def spectral_radius(w: np.ndarray) -> float:
    """The largest modulus of the eigenvalues of a square matrix."""
    return float(np.abs(np.linalg.eigvals(np.asarray(w, dtype=np.float64))).max())


def build_model(vocab_size: int, radius: float | None, settings: dict[str, Any]) -> Any:
    """The seeded model, its ``W_aa`` scaled to spectral radius ``radius`` (None: as is)."""
    minigrad.manual_seed(settings["seed"])
    model = RNNLanguageModel(
        vocab_size, settings["embedding_dim"], settings["hidden_size"], cell="rnn"
    )
    if radius is not None:
        w = model.rnn.weight_hh_l0
        with minigrad.no_grad():
            w.data *= radius / spectral_radius(w.data)
    return model


def evaluate(model: Any, ids: np.ndarray, seq_len: int) -> float:
    """Mean nats per character over ``ids`` (8 streams, the state carried)."""
    total, count, state = 0.0, 0, None
    model.eval()
    with minigrad.no_grad():
        for x, y in BPTTBatches(ids, 8, seq_len):
            loss, state = language_model_loss(model, (x, y), state)
            total += float(loss) * y.numel()
            count += y.numel()
    model.train()
    return total / count


def run(corpus: Any, name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Train one run of :data:`RUNS`; return its record."""
    radius, kind, threshold = RUNS[name]
    model = build_model(len(corpus.vocab), radius, settings)
    params = list(model.parameters())
    opt = optim.SGD(params, lr=settings["lr"])
    batches = BPTTBatches(
        corpus.train, settings["batch_size"], settings["seq_len"], random_offset=True,
        seed=settings["seed"],
    )
    losses, norms, val_step, val_loss = [], [], [], []
    nonfinite_step = None
    state, step, start = None, 0, time.perf_counter()
    while step < settings["steps"] and nonfinite_step is None:
        state = None  # every pass over the data starts afresh
        for batch in batches:
            step += 1
            loss, state = language_model_loss(model, batch, state)
            value = float(loss)
            losses.append(value)
            if not math.isfinite(value):
                nonfinite_step = step
                norms.append(float("nan"))
                break
            opt.zero_grad()
            loss.backward()
            norms.append(float(nn.utils.clip_grad_norm_(params, math.inf)))
            if kind == "value":
                nn.utils.clip_grad_value_(params, threshold)
            elif kind == "norm":
                nn.utils.clip_grad_norm_(params, threshold)
            opt.step()
            state = detach_state(state)
            if step % settings["eval_every"] == 0:
                val_step.append(step)
                val_loss.append(evaluate(model, corpus.validation, settings["seq_len"]))
            if step >= settings["steps"]:
                break
    w = model.rnn.weight_hh_l0.data
    return {
        "name": name,
        "radius": radius,
        "clip": kind,
        "threshold": threshold,
        "train_loss": losses,
        "grad_norm": norms,
        "val_step": val_step,
        "val_loss": val_loss,
        "nonfinite_step": nonfinite_step,
        "final_radius": spectral_radius(w) if np.isfinite(w).all() else None,
        "seconds": time.perf_counter() - start,
    }


def main(argv: list[str] | None = None) -> None:
    """Train every run of :data:`RUNS` (or those named) and write the JSON file."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="*", default=list(RUNS), help="which runs (default: all)")
    p.add_argument("--out", default="book/checkpoints/09_exploding.json")
    a = p.parse_args(argv)
    corpus = load_corpus("names", level="char")
    records = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in the unclipped runs
        for name in a.runs:
            r = run(corpus, name, SETTINGS)
            last = r["val_loss"][-1] if r["val_loss"] else float("nan")
            print(f"{name:>18}: {len(r['train_loss'])} steps, first gradient norm "
                  f"{r['grad_norm'][0]:.3g}, last validation {last:.3f}, "
                  f"non-finite at {r['nonfinite_step']}  ({r['seconds']:.0f} s)", flush=True)
            records.append(r)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    command = "python -m minigrad.recipes.exploding" + (" " + " ".join(argv) if argv else "")
    with open(a.out, "w") as f:
        json.dump({"command": command, "settings": SETTINGS, "runs": records}, f)
        f.write("\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
