"""Chapter 10's RNN and GRU trained on number agreement at distance 32, kept for a look inside.

``agreement_cells`` (Chapter 11's comparison) records only numbers. This recipe repeats two of its
runs exactly, the vanilla RNN and the GRU at distance 32 with seed 0 (the same sentences, the same
initialisation, 1,000 Adam steps of 32 at a learning rate of 0.01, 32 units), and saves the trained
classifiers, so that the chapter can measure how the gradient travels back through each of them::

    python -m minigrad.recipes.gru_agreement

writes ``book/checkpoints/10_agreement_rnn_d32.npz`` and ``10_agreement_gru_d32.npz``.

Each file (read with :func:`load`) holds the classifier's state dict, the word vocabulary and the
run's numbers (test accuracy, validation accuracy along training).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..serialization import load as _load
from ..serialization import save
from ..text import Vocab
from . import agreement_cells

__all__ = ["DISTANCE", "SEED", "load", "main"]

#: The distance and the seed of the two runs (those of ``agreement_cells``' runs they repeat).
DISTANCE, SEED = 32, 0


def load(path: str) -> tuple[agreement_cells.AgreementClassifier, Vocab, dict[str, Any]]:
    """Rebuild a saved classifier; return it (in eval mode), its vocabulary and its numbers."""
    ckpt = _load(path)
    itos = list(ckpt["vocab"])
    vocab = Vocab(itos[1:], specials=itos[:1])
    result = dict(ckpt["result"])
    model = agreement_cells.AgreementClassifier(len(vocab), result["cell"],
                                                hidden_size=result["hidden_size"])
    model.load_state_dict(ckpt["state"])
    model.eval()
    return model, vocab, result


def main(argv: list[str] | None = None) -> None:
    """Train the RNN and the GRU (distance 32, seed 0) and save both."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", default="book/checkpoints")
    p.add_argument("--cells", nargs="+", default=["rnn", "gru"], choices=agreement_cells.CELLS)
    a = p.parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    for cell in a.cells:
        r = agreement_cells.run_one(cell, DISTANCE, SEED, keep_model=True)
        model, vocab = r.pop("model"), r.pop("vocab")
        path = os.path.join(a.out_dir, f"10_agreement_{cell}_d{DISTANCE}.npz")
        save({"state": model.state_dict(), "vocab": list(vocab.itos), "result": r}, path)
        print(f"{cell}: test accuracy {r['test_accuracy']:.3f} ({r['train_seconds']:.0f} s), "
              f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
