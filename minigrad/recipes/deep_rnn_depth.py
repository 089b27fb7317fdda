"""How a recurrent stack trains as it gets deeper (Chapter 13): 1 to 6 GRU layers, one budget.

For each depth ``L``, a small character language model on Shakespeare (``RNNLanguageModel`` with
a GRU of ``L`` layers of 64 units) trains for the same number of Adam steps on the same batches
(truncated BPTT, clipping at norm 5). The run records the training loss at every step, the
gradient norm of each layer's parameters (before clipping) along the way, the validation loss at
the end (first 20,000 validation characters) and the time per step::

    python -m minigrad.recipes.deep_rnn_depth     # writes book/checkpoints/deep_rnn_depth.json

Everything but the times is seeded and repeats.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad.lm import load_corpus
from minigrad.models import RNNLanguageModel
from minigrad.sampling import mean_nll
from minigrad.text import BPTTBatches
from minigrad.train import detach_state

DEPTHS = (1, 2, 3, 4, 6)


def run_depth(corpus, layers: int, steps: int, hidden: int = 64, batch: int = 32,
              seq_len: int = 50, lr: float = 3e-3, every: int = 10, seed: int = 0) -> dict:
    """Train one depth; return its curves and numbers."""
    minigrad.manual_seed(seed)
    model = RNNLanguageModel(len(corpus.vocab), embedding_dim=32, hidden_size=hidden,
                             num_layers=layers, cell="gru")
    params = list(model.parameters())
    opt = minigrad.optim.Adam(params, lr=lr)
    data = BPTTBatches(corpus.train, batch, seq_len, random_offset=True, seed=seed)
    losses, norms, norm_steps = [], [], []
    state, seconds, step = None, 0.0, 0
    while step < steps:
        for x, y in data:
            start = time.perf_counter()
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            step += 1
            if step % every == 0 or step == 1:
                per_layer = []
                for k in range(layers):
                    sq = sum(float((getattr(model.rnn, f"{w}_l{k}").grad ** 2).sum())
                             for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                    per_layer.append(math.sqrt(sq))
                norms.append(per_layer)
                norm_steps.append(step)
            minigrad.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            state = detach_state(state)
            seconds += time.perf_counter() - start
            losses.append(float(loss.item()))
            if step >= steps:
                break
    val = mean_nll(model, corpus.validation[:20_001])
    return {"layers": layers, "hidden": hidden, "batch": batch, "seq_len": seq_len, "lr": lr,
            "parameters": int(sum(p.numel() for p in params)), "train_loss": losses,
            "grad_norm_steps": norm_steps, "grad_norms": norms, "val_loss": val,
            "seconds_per_step": seconds / steps}


def main(argv: list[str] | None = None) -> None:
    """Train every depth and write the JSON file."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="book/checkpoints/deep_rnn_depth.json")
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    a = p.parse_args(argv)
    corpus = load_corpus("shakespeare", level="char")
    runs = []
    for layers in a.depths:
        r = run_depth(corpus, layers, a.steps)
        print(f"{layers} layer(s): final train loss {np.mean(r['train_loss'][-20:]):.3f}, "
              f"validation {r['val_loss']:.3f}, {1000 * r['seconds_per_step']:.0f} ms/step",
              flush=True)
        runs.append(r)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    command = "python -m minigrad.recipes.deep_rnn_depth" + (" " + " ".join(argv) if argv else "")
    with open(a.out, "w") as f:
        json.dump({"command": command, "runs": runs}, f)
        f.write("\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
