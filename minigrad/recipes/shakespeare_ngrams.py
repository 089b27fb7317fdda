"""The n-gram baselines of the character-level Shakespeare language models (Chapters 11 and 13).

Fits :class:`minigrad.models.NGramLanguageModel` for n = 1 to 5 on the training plays and measures
the validation loss, in nats per character, on the same first 100,000 validation characters on
which ``minigrad train-lm`` reports its models' validation loss (and records the size of the
training text)::

    python -m minigrad.recipes.shakespeare_ngrams

writes ``book/checkpoints/shakespeare_char_ngrams.json``.

Counting is deterministic, so the numbers repeat exactly.
"""

from __future__ import annotations

import argparse
import json
import os

from minigrad.lm import load_corpus
from minigrad.models import NGramLanguageModel
from minigrad.sampling import mean_nll


def main(argv: list[str] | None = None) -> None:
    """Fit the n-grams and write their validation losses as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="book/checkpoints/shakespeare_char_ngrams.json")
    p.add_argument("--val-tokens", type=int, default=100_000)
    a = p.parse_args(argv)
    corpus = load_corpus("shakespeare", level="char")
    val = corpus.validation[: a.val_tokens + 1]
    losses = {}
    for n in (1, 2, 3, 4, 5):
        lm = NGramLanguageModel(n, len(corpus.vocab)).fit(corpus.train)
        losses[str(n)] = round(mean_nll(lm, val), 4)
        print(f"{n}-gram: {losses[str(n)]:.4f} nats/char", flush=True)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"command": "python -m minigrad.recipes.shakespeare_ngrams",
                   "train_tokens": int(len(corpus.train)), "val_tokens": a.val_tokens,
                   "val_loss": losses}, f, indent=1)
        f.write("\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
