"""Samples of first names while a character LSTM learns them (Chapter 8).

The model and the training are those of ``book/checkpoints/08_names_lstm.npz``
(``minigrad train-lm --corpus names --model lstm --hidden-size 128 --embedding-dim 32
--dropout 0.3 --lr 1e-2 --batch-size 32 --seq-len 32 --steps 800 --seed 0``), run again with a
look at the model every 50 steps (and before the first): its validation loss, in nats per
character, and twelve names sampled at temperature 1 from the same seed each time, so that the
lists differ only by what the model has learned. Sampling draws from its own generator and the
model samples in eval mode, so looking does not change the training: the last validation loss is
the checkpoint's::

    OPENBLAS_NUM_THREADS=1 python -m minigrad.recipes.names_progress
    # writes book/checkpoints/08_names_progress.json

Everything but the time is seeded and repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import minigrad

from ..lm import load_corpus, train_language_model
from ..models import RNNLanguageModel
from ..sampling import sample

OUT = os.path.join("book", "checkpoints", "08_names_progress.json")
SETTINGS = {
    "cell": "lstm",
    "embedding_dim": 32,
    "hidden_size": 128,
    "dropout": 0.3,
    "lr": 1e-2,
    "batch_size": 32,
    "seq_len": 32,
    "steps": 800,
    "seed": 0,
}


def run(eval_every: int = 50, num_names: int = 12) -> dict[str, Any]:
    """Train as the checkpoint's command does; return the validation losses and the samples."""
    s = SETTINGS
    corpus = load_corpus("names", seed=s["seed"])
    vocab = corpus.vocab
    minigrad.manual_seed(s["seed"])
    model = RNNLanguageModel(
        len(vocab),
        embedding_dim=s["embedding_dim"],
        hidden_size=s["hidden_size"],
        cell=s["cell"],
        dropout=s["dropout"],
    )

    def names() -> list[str]:
        out = sample(model, [vocab.eos_index], max_new_tokens=20, eos=vocab.eos_index,
                     num_samples=num_names, seed=0)
        return ["".join(vocab.decode(ids)) for ids in out]

    snapshots = [{"step": 0, "val_loss": None, "names": names()}]

    def on_eval(trainer: Any) -> None:
        snapshots.append({"step": trainer.history.val_step[-1],
                          "val_loss": trainer.history.val_loss[-1], "names": names()})

    start = time.perf_counter()
    history = train_language_model(
        model, corpus, steps=s["steps"], batch_size=s["batch_size"], seq_len=s["seq_len"],
        lr=s["lr"], clip_grad_norm=5.0, eval_every=eval_every, seed=s["seed"], progress=False,
        on_eval=on_eval,
    )
    return {
        "command": "python -m minigrad.recipes.names_progress",
        "settings": dict(s, eval_every=eval_every),
        "snapshots": snapshots,
        "val_loss": history.val_loss[-1],
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the recipe and write the JSON file (``--out`` to put it elsewhere)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    result = run()
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    for snap in result["snapshots"]:
        loss = "" if snap["val_loss"] is None else f"{snap['val_loss']:.3f}"
        print(f"{snap['step']:4d} {loss:6s} {' '.join(snap['names'])}")
    print(f"final validation loss {result['val_loss']:.4f} in {result['seconds']} s -> {args.out}")


if __name__ == "__main__":
    main()
