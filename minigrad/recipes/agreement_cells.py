"""RNN, GRU and LSTM on number agreement at growing distances (Chapter 11's comparison).

For each cell and each distance ``d`` (the number of words between the subject and the place of
its verb), a fresh classifier ``Embedding(V, 16) -> cell(H) -> Linear(H, 1)`` reads the start of
the sentence and predicts from its last state whether the verb is *was* or *were*. It trains for
a fixed number of Adam steps on :func:`minigrad.data.number_agreement` sentences of exactly that
distance, from several seeds. ``lstm-f1`` is the LSTM with its forget-gate bias started at 1
instead of PyTorch's uniform initialisation. The JSON result holds, per run, the test accuracy,
the validation accuracy along training, the parameter count and the training time::

    python -m minigrad.recipes.agreement_cells     # writes book/checkpoints/agreement_cells.json

Everything is seeded: the same command gives the same accuracies (the times vary).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.data import number_agreement
from minigrad.text import Vocab

CELLS = ("rnn", "gru", "lstm", "lstm-f1")
DISTANCES = (8, 16, 32)


class AgreementClassifier(nn.Module):
    """Word ids (T, B) in, one logit per sentence out (``> 0`` means *were*)."""

    def __init__(self, vocab_size: int, cell: str, embedding_dim: int = 16, hidden_size: int = 32):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        layer = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM, "lstm-f1": nn.LSTM}[cell]
        self.rnn = layer(embedding_dim, hidden_size)
        if cell == "lstm-f1":  # the forget gate's bias starts at 1 (rows H:2H; only the sum counts)
            with minigrad.no_grad():
                self.rnn.bias_ih_l0.data[hidden_size:2 * hidden_size] = 1.0
                self.rnn.bias_hh_l0.data[hidden_size:2 * hidden_size] = 0.0
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, ids: Any) -> Any:  # type: ignore[override]
        out, _ = self.rnn(self.embedding(ids))
        return self.head(out[-1]).squeeze(-1)


def _encode(examples: list[Any], vocab: Vocab) -> tuple[Any, np.ndarray]:
    ids = np.array([vocab.encode(ex.words) for ex in examples], dtype=np.int64).T  # (T, N)
    return minigrad.tensor(ids), np.array([ex.label for ex in examples], dtype=np.float32)


def _accuracy(model: AgreementClassifier, x: Any, y: np.ndarray) -> float:
    with minigrad.no_grad():
        return float(((model(x).numpy() > 0) == (y > 0.5)).mean())


def run_one(cell: str, distance: int, seed: int, steps: int = 1000, batch_size: int = 32,
            hidden_size: int = 32, lr: float = 1e-2, eval_every: int = 50,
            keep_model: bool = False) -> dict[str, Any]:
    """Train one classifier; return its numbers (see the module docstring).

    With ``keep_model=True`` the result also holds the trained classifier under ``"model"`` and
    the word vocabulary under ``"vocab"`` (not JSON: :func:`main` never asks for them).
    """
    train, val, test = number_agreement(distance, n_train=4000, n_validation=400, n_test=1000,
                                        seed=1000 * distance + seed)
    vocab = Vocab.build([ex.words for ex in train], specials=["<UNK>"])
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = (_encode(s, vocab) for s in (train, val, test))
    minigrad.manual_seed(seed)
    model = AgreementClassifier(len(vocab), cell, hidden_size=hidden_size)
    params = list(model.parameters())
    opt = minigrad.optim.Adam(params, lr=lr)
    order_rng = np.random.default_rng(seed)
    n = y_tr.shape[0]
    order = order_rng.permutation(n)
    pos, curve, seconds = 0, [], 0.0
    for step in range(1, steps + 1):
        if pos + batch_size > n:
            order, pos = order_rng.permutation(n), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        start = time.perf_counter()
        loss = F.binary_cross_entropy_with_logits(model(x_tr[:, minigrad.tensor(idx)]),
                                                  minigrad.tensor(y_tr[idx]))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        seconds += time.perf_counter() - start
        if step % eval_every == 0:
            curve.append(_accuracy(model, x_val, y_val))
    result = {"cell": cell, "distance": distance, "seed": seed, "steps": steps,
              "batch_size": batch_size, "hidden_size": hidden_size, "lr": lr,
              "parameters": int(sum(p.numel() for p in params)),
              "train_seconds": round(seconds, 2), "val_accuracy": curve, "eval_every": eval_every,
              "test_accuracy": _accuracy(model, x_te, y_te)}
    if keep_model:
        result.update(model=model, vocab=vocab)
    return result


def main(argv: list[str] | None = None) -> None:
    """Run every (cell, distance, seed) and write the JSON file."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="book/checkpoints/agreement_cells.json")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--distances", type=int, nargs="+", default=list(DISTANCES))
    a = p.parse_args(argv)
    runs = []
    for distance in a.distances:
        for cell in CELLS:
            for seed in range(a.seeds):
                r = run_one(cell, distance, seed, steps=a.steps)
                print(f"{cell:7s} d={distance:2d} seed={seed}: test accuracy "
                      f"{r['test_accuracy']:.3f} ({r['train_seconds']:.1f} s)", flush=True)
                runs.append(r)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    command = "python -m minigrad.recipes.agreement_cells" + (" " + " ".join(argv) if argv else "")
    with open(a.out, "w") as f:
        json.dump({"command": command, "runs": runs}, f, indent=None)
        f.write("\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
