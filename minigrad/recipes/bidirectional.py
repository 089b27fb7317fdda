"""The bidirectional name tagger of Chapter 12, *Bidirectional RNNs*: ``ch12_tagger_bi.npz``.

The same recipe as Chapter 5's unidirectional tagger
(:func:`minigrad.recipes.types_of_rnns.train_tagger`: a GRU over cased words with ``<Unk>`` for
unknown capitalised words, word dropout 0.5, six epochs of Adam, seed 0), with
``bidirectional=True``, so that the two taggers differ in nothing else. Run
``OPENBLAS_NUM_THREADS=1 python -m minigrad.recipes.bidirectional``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence

from minigrad.checkpoint import save_checkpoint
from minigrad.recipes.types_of_rnns import DEFAULT_DIR, train_tagger

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Train the bidirectional tagger and write its checkpoint."""
    parser = argparse.ArgumentParser(prog="python -m minigrad.recipes.bidirectional",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_DIR, help="folder for the checkpoint")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    model, vocab, meta = train_tagger(bidirectional=True)
    meta["seconds"] = round(time.perf_counter() - t0, 1)
    meta["recipe"] = "python -m minigrad.recipes.bidirectional"
    path = os.path.join(args.out, "ch12_tagger_bi.npz")
    save_checkpoint(path, model, vocab, meta=meta)
    print(f"saved {path} ({os.path.getsize(path) / 1e6:.2f} MB) after {meta['seconds']} s")


if __name__ == "__main__":
    main()
