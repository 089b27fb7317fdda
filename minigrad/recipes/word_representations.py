"""Chapter 6's experiment: one line classifier, four ways of feeding it the words.

The task is :func:`minigrad.data.line_genre`: from one spoken line of Shakespeare, say whether it
comes from a comedy, a history or a tragedy (three balanced classes, so a third is chance). The
words are lower-cased, and the 5,000 most frequent words of the training lines form the
vocabulary (with ``<PAD>`` = 0 and ``<UNK>`` = 1). Every model is a :class:`LineClassifier`: an
``nn.RNN`` with 64 tanh units reads the line, a linear layer reads its last state. Only the
encoding of the words differs:

* ``constant``: every word is the same number, 1 (a control: the model sees only the length);
* ``integer``: word ``j`` is the single number ``j / |V|``;
* ``one-hot``: word ``j`` is the one-hot vector ``o_j`` of length ``|V|``
  (:func:`minigrad.text.one_hot`), which the RNN multiplies by its ``W_ax``;
* ``embedding``: word ``j`` is row ``j`` of a learned ``nn.Embedding(|V|, 32)``.

All four get the same training: 6 epochs of minibatches of 128 lines (the same order for all),
Adam at ``lr = 3e-3``, gradients clipped at norm 5; the validation accuracy is measured every
250 steps and the weights of the best measurement are kept. Each model is saved with
:func:`minigrad.checkpoint.save_checkpoint` (vocabulary and training curves included)::

    python -m minigrad.recipes.word_representations     # writes book/checkpoints/06_*.npz

Everything is seeded: the same command gives the same weights on the same machine (the recorded
training times vary). It takes a few minutes on one CPU thread, most of them for the one-hot
model.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

import minigrad
import minigrad.nn as nn
from minigrad.checkpoint import load_checkpoint, register_model, save_checkpoint
from minigrad.data import line_genre
from minigrad.nn.utils.rnn import pack_padded_sequence
from minigrad.tensor import Tensor
from minigrad.text import Batches, Vocab, one_hot, word_tokenize
from minigrad.train import Trainer

__all__ = [
    "ENCODINGS",
    "LineClassifier",
    "accuracy",
    "checkpoint_path",
    "encode_lines",
    "load_models",
    "main",
    "tokenize",
]

ENCODINGS: tuple[str, ...] = ("constant", "integer", "one-hot", "embedding")
"""The four ways of turning a word id into the RNN's input, in the order the chapter shows them."""

SPECIALS: tuple[str, ...] = ("<PAD>", "<UNK>")
VOCAB_SIZE = 5000  # ordinary words, on top of the two specials
HIDDEN_SIZE = 64
EMBEDDING_DIM = 32
BATCH_SIZE = 128
EPOCHS = 6
LR = 3e-3
CLIP = 5.0
EVAL_EVERY = 250
SEED = 0
DEFAULT_DIR = os.path.join("book", "checkpoints")


def tokenize(text: str) -> list[str]:
    """The tokens of a line: :func:`minigrad.text.word_tokenize`, lower-cased."""
    return word_tokenize(text, lower=True)


def checkpoint_path(encoding: str, directory: str = DEFAULT_DIR) -> str:
    """Where the model of an encoding is saved: ``06_line_genre_<encoding>.npz``."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    return os.path.join(directory, f"06_line_genre_{encoding.replace('-', '_')}.npz")


@register_model
class LineClassifier(nn.Module):
    """Word ids in, one score per class out: an encoding of the words, ``nn.RNN``, ``nn.Linear``.

    ``forward(x, lengths)`` takes ids of shape (T, B), padded with 0 after each line's
    ``lengths[b]`` words, and returns logits (B, num_classes) computed from the RNN's last state
    at each line's own last word (the padding is packed away). ``encode(x)`` gives the RNN's
    inputs, (T, B, n_x): ``n_x`` is 1 for the ``constant`` and ``integer`` encodings,
    ``vocab_size`` for ``one-hot`` and ``embedding_dim`` for ``embedding``.

    >>> import minigrad
    >>> model = LineClassifier(vocab_size=8, encoding="integer", hidden_size=4)
    >>> model.encode(minigrad.tensor([[4], [2]])).numpy().ravel().tolist()
    [0.5, 0.25]
    >>> tuple(model(minigrad.tensor([[5, 3], [2, 0]]), [2, 1]).shape)
    (2, 3)
    """

    def __init__(
        self,
        vocab_size: int,
        encoding: str = "embedding",
        embedding_dim: int = EMBEDDING_DIM,
        hidden_size: int = HIDDEN_SIZE,
        num_classes: int = 3,
    ) -> None:
        super().__init__()
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        self.config: dict[str, Any] = {
            "vocab_size": vocab_size,
            "encoding": encoding,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "num_classes": num_classes,
        }
        self.vocab_size, self.encoding = vocab_size, encoding
        if encoding == "embedding":
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            n_x = embedding_dim
        elif encoding == "one-hot":
            n_x = vocab_size
        else:
            n_x = 1
        self.rnn = nn.RNN(n_x, hidden_size)
        self.out = nn.Linear(hidden_size, num_classes)

    def encode(self, x: Any) -> Tensor:
        """The RNN's input for word ids ``x`` (T, B): a (T, B, n_x) float tensor."""
        ids = np.asarray(x.data if isinstance(x, Tensor) else x)
        if self.encoding == "embedding":
            return self.embedding(ids)
        if self.encoding == "one-hot":
            return one_hot(ids, self.vocab_size)
        if self.encoding == "integer":
            return minigrad.tensor((ids[..., None] / self.vocab_size).astype(np.float32))
        return minigrad.tensor(np.ones(ids.shape + (1,), dtype=np.float32))

    def forward(self, x: Any, lengths: Any) -> Tensor:  # type: ignore[override]
        packed = pack_padded_sequence(self.encode(x), lengths, enforce_sorted=False)
        _, h_n = self.rnn(packed)
        return self.out(h_n[0])


def encode_lines(examples: list[Any], vocab: Vocab) -> list[tuple[list[int], int]]:
    """``(ids, label)`` for each :class:`~minigrad.data.GenreLine`, ready for ``Batches``."""
    return [(vocab.encode(tokenize(ex.text)), int(ex.label)) for ex in examples]


def accuracy(model: Any, batches: Any) -> float:
    """The fraction of lines whose highest-scoring class is their label (in eval mode)."""
    was_training = model.training
    model.eval()
    right = total = 0
    with minigrad.no_grad():
        for b in batches:
            guess = model(b.x, b.lengths).numpy().argmax(-1)
            right += int((guess == b.y.numpy()).sum())
            total += len(guess)
    model.train(was_training)
    return right / total


def load_models(directory: str = DEFAULT_DIR) -> dict[str, Any]:
    """The four saved models, as :class:`~minigrad.checkpoint.Checkpoint` by encoding."""
    return {e: load_checkpoint(checkpoint_path(e, directory)) for e in ENCODINGS}


def _train_one(
    encoding: str, vocab: Vocab, train: list[Any], val: list[Any], args: argparse.Namespace
) -> tuple[LineClassifier, dict[str, Any]]:
    minigrad.manual_seed(args.seed)
    model = LineClassifier(len(vocab), encoding, args.embedding_dim, args.hidden_size)
    optimizer = minigrad.optim.Adam(model.parameters(), lr=args.lr)
    train_batches = Batches(train, args.batch_size, shuffle=True, seed=args.seed)
    val_batches = Batches(val, 1000, shuffle=False)
    curve: dict[str, list[float]] = {"step": [], "accuracy": []}
    best: dict[str, Any] = {"accuracy": -1.0, "step": 0, "state": None}

    def on_eval(trainer: Trainer) -> None:
        acc = accuracy(trainer.model, val_batches)
        step = trainer.history.steps
        curve["step"].append(step)
        curve["accuracy"].append(acc)
        print(f"  {encoding:9s} step {step:5d}  validation loss {trainer.history.val_loss[-1]:.4f}"
              f"  accuracy {acc:.4f}", flush=True)
        if acc > best["accuracy"]:
            best.update(accuracy=acc, step=step,
                        state={k: v.numpy().copy() for k, v in trainer.model.state_dict().items()})

    trainer = Trainer(model, optimizer, clip_grad_norm=args.clip, eval_every=args.eval_every,
                      progress=False, on_eval=on_eval)
    history = trainer.fit(train_batches, epochs=args.epochs, val_data=val_batches)
    model.load_state_dict(best["state"])
    model.eval()
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    meta = {
        "task": "minigrad.data.line_genre(seed=0)",
        "command": "python -m minigrad.recipes.word_representations",
        "encoding": encoding,
        "trainable_parameters": int(n_params),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "clip_grad_norm": args.clip,
        "seed": args.seed,
        "steps": history.steps,
        "seconds": round(history.seconds, 1),
        "best_step": best["step"],
        "best_val_accuracy": best["accuracy"],
        "val_step": list(history.val_step),
        "val_loss": [round(v, 5) for v in history.val_loss],
        "val_accuracy": [round(v, 5) for v in curve["accuracy"]],
        "train_loss": [round(float(v), 4) for v in history.loss],
    }
    return model, meta


def main(argv: list[str] | None = None) -> None:
    """Train the four models and save them (``--help`` lists the options)."""
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.recipes.word_representations",
        description="Chapter 6: integer, one-hot and learned-embedding inputs on line_genre.")
    parser.add_argument("--out", default=DEFAULT_DIR, help="directory for the checkpoints")
    parser.add_argument("--encodings", nargs="+", default=list(ENCODINGS), choices=ENCODINGS)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--clip", type=float, default=CLIP)
    parser.add_argument("--eval-every", type=int, default=EVAL_EVERY)
    parser.add_argument("--hidden-size", type=int, default=HIDDEN_SIZE)
    parser.add_argument("--embedding-dim", type=int, default=EMBEDDING_DIM)
    parser.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)

    train, val, _ = line_genre(seed=0)
    vocab = Vocab.build([tokenize(ex.text) for ex in train], max_size=args.vocab_size,
                        specials=SPECIALS, level="word")
    train_ids, val_ids = encode_lines(train, vocab), encode_lines(val, vocab)
    print(f"{len(train)} training lines, {len(val)} validation lines, {len(vocab)} entries in the"
          " vocabulary", flush=True)
    for encoding in args.encodings:
        t0 = time.perf_counter()
        model, meta = _train_one(encoding, vocab, train_ids, val_ids, args)
        path = checkpoint_path(encoding, args.out)
        save_checkpoint(path, model, vocab=vocab, meta=meta)
        print(f"{encoding}: best validation accuracy {meta['best_val_accuracy']:.4f} at step "
              f"{meta['best_step']}; {time.perf_counter() - t0:.0f} s; saved {path} "
              f"({os.path.getsize(path) / 1e6:.2f} MB)", flush=True)


if __name__ == "__main__":
    main()
