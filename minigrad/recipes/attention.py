"""The two date translators of Chapter 14, *After RNNs: attention*, trained and saved.

Both read dates inside filler words (:func:`minigrad.data.date_sentences`, seed 0: 10,000
training inputs of 8 to 115 characters) and write them in ISO 8601, character by
character, with teacher forcing and the same budget (epochs, batches, optimiser):

* ``14_dates_plain.npz``: :class:`minigrad.models.Seq2Seq`, a GRU encoder whose final state is
  all the decoder gets (H = 128, as in Chapter 5);
* ``14_dates_attention.npz``: :class:`minigrad.models.AttentionSeq2Seq`, a bidirectional GRU
  encoder (H = 64 each way) and a decoder with additive attention over all its outputs.

Run ``python -m minigrad.recipes.attention`` (both; a few minutes each on one CPU thread) or
name one: ``python -m minigrad.recipes.attention attention``. With ``--epochs N`` (other than
the default 8) the file is ``14_dates_{kind}_{N}ep.npz``: the chapter also loads
``14_dates_plain_24ep.npz``, the plain model given three times the budget. Every random source
is seeded. Each checkpoint keeps the source vocabulary, the target vocabulary in
``meta["target_vocab"]``, the loss per epoch and the settings, in ``meta``. :func:`date_ids`,
:func:`date_batch` and :func:`translate` are what the chapter uses on them.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

import minigrad
from minigrad import nn
from minigrad.checkpoint import save_checkpoint
from minigrad.data import date_sentences
from minigrad.models import AttentionSeq2Seq, Seq2Seq
from minigrad.sampling import sample
from minigrad.text import Vocab, pad_batch

__all__ = ["MODELS", "date_batch", "date_ids", "date_vocabs", "main", "train_dates",
           "translate"]

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "book", "checkpoints"))
MODELS = ("plain", "attention")


def date_vocabs(train: Sequence[Any]) -> tuple[Vocab, Vocab]:
    """Character vocabularies of the sources and of the ISO targets (``<PAD>`` is id 0)."""
    return (Vocab.build([ex.source for ex in train], level="char"),
            Vocab.build([ex.target for ex in train], level="char"))


def date_ids(example: Any, src: Vocab, tgt: Vocab) -> tuple[list[int], list[int]]:
    """The source's character ids, and the target's ``<BOS>`` + characters + ``<EOS>``."""
    return src.encode(example.source), [tgt.bos_index, *tgt.encode(example.target),
                                        tgt.eos_index]


def date_batch(examples: Sequence[Any], src: Vocab, tgt: Vocab
               ) -> tuple[minigrad.Tensor, np.ndarray, minigrad.Tensor, minigrad.Tensor]:
    """Padded sources (T_x, B), their lengths, the decoder's inputs (``<BOS>`` and the target,
    (11, B)) and the characters to predict (the target and ``<EOS>``, (11, B))."""
    pairs = [date_ids(ex, src, tgt) for ex in examples]
    x, lengths = pad_batch([s for s, _ in pairs])
    y = np.array([t for _, t in pairs]).T  # every target has 10 characters
    return x, lengths, minigrad.tensor(y[:-1]), minigrad.tensor(y[1:])


def _loss(model: Any, batch: Any) -> minigrad.Tensor:
    x, lengths, y_prev, y_next = batch
    logits = model(x, lengths, y_prev)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y_next.reshape(-1))


def translate(model: Any, examples: Sequence[Any], src: Vocab, tgt: Vocab) -> list[str]:
    """Greedy decoding of each example's source (12 steps at most)."""
    model.eval()
    x, lengths = pad_batch([src.encode(ex.source) for ex in examples])
    with minigrad.no_grad():
        state = model.encode(x, lengths)
        out = sample(model.decode, [tgt.bos_index], max_new_tokens=12, temperature=0,
                     eos=tgt.eos_index, num_samples=len(examples), state=state)
    model.train()
    return ["".join(tgt.decode(ids)) for ids in out]


def _make(kind: str, src: Vocab, tgt: Vocab) -> Any:
    if kind == "plain":
        return Seq2Seq(len(src), len(tgt), embedding_dim=32, hidden_size=128)
    return AttentionSeq2Seq(len(src), len(tgt), embedding_dim=32, hidden_size=64)


def train_dates(kind: str, epochs: int = 8, seed: int = 0, lr: float = 3e-3,
                batch_size: int = 64, verbose: bool = True) -> tuple[Any, Vocab, dict[str, Any]]:
    """Train one model (``"plain"`` or ``"attention"``) on ``date_sentences(seed=0)``."""
    if kind not in MODELS:
        raise ValueError(f"kind must be one of {MODELS}, got {kind!r}")
    train, val, _ = date_sentences(seed=0)
    src, tgt = date_vocabs(train)
    minigrad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = _make(kind, src, tgt)
    opt = minigrad.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_exact": []}
    for epoch in range(epochs):
        order = rng.permutation(len(train))
        total, n = 0.0, 0
        for i in range(0, len(train), batch_size):
            loss = _loss(model, date_batch([train[j] for j in order[i : i + batch_size]], src,
                                           tgt))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total, n = total + float(loss.item()), n + 1
        model.eval()
        with minigrad.no_grad():
            val_loss = float(_loss(model, date_batch(val, src, tgt)).item())
        model.train()
        exact = float(np.mean([o == ex.target for o, ex in zip(translate(model, val, src, tgt),
                                                                val)]))
        history["train_loss"].append(total / n)
        history["val_loss"].append(val_loss)
        history["val_exact"].append(exact)
        if verbose:
            print(f"{kind} epoch {epoch + 1}: train {total / n:.4f}, validation {val_loss:.4f}, "
                  f"exact match {exact:.1%}", flush=True)
    meta = {"task": "date_sentences(seed=0)", "kind": kind, "epochs": epochs, "seed": seed,
            "lr": lr, "batch_size": batch_size, "target_vocab": tgt.to_dict(), **history}
    return model, src, meta


def main(argv: Sequence[str] | None = None) -> None:
    """Train the chosen models (both by default) and write their checkpoints."""
    parser = argparse.ArgumentParser(prog="python -m minigrad.recipes.attention",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", metavar="model", help=f"some of {MODELS} (both)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", default=DEFAULT_DIR, help="folder for the checkpoints")
    args = parser.parse_args(argv)
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {MODELS}")
    for kind in args.models or MODELS:
        t0 = time.perf_counter()
        model, vocab, meta = train_dates(kind, epochs=args.epochs)
        meta["seconds"] = round(time.perf_counter() - t0, 1)
        meta["recipe"] = f"python -m minigrad.recipes.attention {kind}"
        suffix = "" if args.epochs == 8 else f"_{args.epochs}ep"
        meta["recipe"] += "" if args.epochs == 8 else f" --epochs {args.epochs}"
        path = os.path.join(args.out, f"14_dates_{kind}{suffix}.npz")
        save_checkpoint(path, model, vocab, meta=meta)
        print(f"{kind}: {meta['seconds']} s, saved {path} "
              f"({os.path.getsize(path) / 1e6:.2f} MB)", flush=True)


if __name__ == "__main__":
    main()
