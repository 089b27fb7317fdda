"""The models of Chapter 5, *Types of RNNs*, trained and saved to ``book/checkpoints/``.

One model per shape of recurrent network, each on a task of :mod:`minigrad.data`:

* ``ch05_tagger.npz``: a name tagger (many-to-many, ``T_y = T_x``), :func:`train_tagger`;
* ``ch05_genre.npz``: a line classifier, comedy, history or tragedy (many-to-one);
* ``ch05_names.npz``: a first-name generator conditioned on a gender (one-to-many);
* ``ch05_dates.npz``: an encoder-decoder from human dates to ISO 8601 (many-to-many,
  ``T_y != T_x``).

Run ``OPENBLAS_NUM_THREADS=1 python -m minigrad.recipes.types_of_rnns`` (all four, a few minutes
on one CPU thread; without the variable numpy's matrix library may spin up threads that only slow
these small matrices down) or name some: ``python -m minigrad.recipes.types_of_rnns tagger
dates``. Every random source is
seeded, so a run repeats. Each checkpoint keeps its vocabulary (the dates model keeps the source
vocabulary, its target vocabulary is in ``meta["target_vocab"]``), its training history and the
settings used, in ``meta``.

The helpers that turn examples into ids (:func:`tagging_ids`, :func:`genre_ids`,
:func:`name_ids`, :func:`date_ids`) are the ones the chapter uses on the checkpoints.
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
from minigrad.data import date_formats, gendered_names, line_genre, name_tagging
from minigrad.data.firstnames import GENDERS
from minigrad.models import ConditionedLanguageModel, RNNClassifier, RNNTagger, Seq2Seq
from minigrad.text import Batches, Vocab, word_tokenize

__all__ = [
    "CAP_UNK",
    "date_ids",
    "date_vocabs",
    "genre_ids",
    "main",
    "seq2seq_loss",
    "name_batch",
    "name_ids",
    "name_loss",
    "name_nll",
    "tagging_ids",
    "tagging_vocab",
    "train_dates",
    "train_genre",
    "train_names",
    "train_tagger",
]

CAP_UNK = "<Unk>"
"""The tagger's unknown word that starts with a capital letter (``<UNK>`` is the lower-case one)."""

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "book", "checkpoints"))


# ----------------------------------------------------------------------------- name tagging


def tagging_vocab(train: Sequence[Any], min_freq: int = 2) -> Vocab:
    """The words of the training lines seen at least ``min_freq`` times, case kept, with
    ``<PAD>`` (0), ``<UNK>`` and ``<Unk>`` (an unknown word with a capital letter)."""
    return Vocab.build([ex.words for ex in train], min_freq=min_freq,
                       specials=["<PAD>", "<UNK>", CAP_UNK])


def tagging_ids(words: Sequence[str], vocab: Vocab, rng: np.random.Generator | None = None,
                word_dropout: float = 0.0) -> list[int]:
    """A line's ids: an unknown word becomes ``<Unk>`` if it starts with a capital letter and
    ``<UNK>`` otherwise. With ``rng``, each capitalised word is also replaced by ``<Unk>`` with
    probability ``word_dropout`` (training only), so that the model learns what an unseen name
    looks like: a capital letter in a name's place."""
    ids = []
    for w in words:
        i = vocab.stoi.get(w)
        cap = w[:1].isupper()
        if i is None or (rng is not None and cap and rng.random() < word_dropout):
            i = vocab.stoi[CAP_UNK] if cap else vocab.unk_index
        ids.append(i)
    return ids


def train_tagger(bidirectional: bool = False, epochs: int = 6, seed: int = 0,
                 word_dropout: float = 0.5, hidden_size: int = 64, embedding_dim: int = 32,
                 lr: float = 3e-3, batch_size: int = 64, verbose: bool = True
                 ) -> tuple[RNNTagger, Vocab, dict[str, Any]]:
    """A GRU name tagger on :func:`minigrad.data.name_tagging` (seed 0): returns the model, its
    vocabulary and ``meta`` (settings and the loss per epoch, training and validation)."""
    train, val, _ = name_tagging(seed=0)
    vocab = tagging_vocab(train)
    minigrad.manual_seed(seed)
    model = RNNTagger(len(vocab), 2, embedding_dim=embedding_dim, hidden_size=hidden_size,
                      cell="gru", bidirectional=bidirectional)
    opt = minigrad.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    val_batches = Batches([(tagging_ids(ex.words, vocab), ex.tags) for ex in val], 256,
                          shuffle=False)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    for epoch in range(epochs):
        data = [(tagging_ids(ex.words, vocab, rng, word_dropout), ex.tags) for ex in train]
        losses = _epoch(model, opt, Batches(data, batch_size, seed=seed + epoch))
        history["train_loss"].append(losses)
        history["val_loss"].append(_evaluate(model, val_batches))
        if verbose:
            print(f"tagger (bidirectional={bidirectional}) epoch {epoch + 1}: train "
                  f"{losses:.4f}, validation {history['val_loss'][-1]:.4f}", flush=True)
    meta = {"task": "name_tagging(seed=0)", "epochs": epochs, "seed": seed,
            "word_dropout": word_dropout, "lr": lr, "batch_size": batch_size, **history}
    return model, vocab, meta


# ----------------------------------------------------------------------------- line genre


def genre_ids(text: str, vocab: Vocab) -> list[int]:
    """A line's word ids (unknown words are ``<UNK>``)."""
    return [vocab[w] for w in word_tokenize(text)]


def train_genre(epochs: int = 6, seed: int = 0, per_class: int = 10000, hidden_size: int = 64,
                embedding_dim: int = 32, lr: float = 3e-3, batch_size: int = 64,
                verbose: bool = True) -> tuple[RNNClassifier, Vocab, dict[str, Any]]:
    """A GRU classifier of lines by genre, on ``line_genre(seed=0, per_class=per_class)``."""
    train, val, _ = line_genre(seed=0, per_class=per_class)
    vocab = Vocab.build([word_tokenize(ex.text) for ex in train], min_freq=2,
                        specials=["<PAD>", "<UNK>"])
    minigrad.manual_seed(seed)
    model = RNNClassifier(len(vocab), 3, embedding_dim=embedding_dim, hidden_size=hidden_size,
                          dropout=0.3)
    opt = minigrad.optim.Adam(model.parameters(), lr=lr)
    data = [(genre_ids(ex.text, vocab), ex.label) for ex in train]
    val_batches = Batches([(genre_ids(ex.text, vocab), ex.label) for ex in val], 256,
                          shuffle=False)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    for epoch in range(epochs):
        history["train_loss"].append(_epoch(model, opt, Batches(data, batch_size,
                                                                seed=seed + epoch)))
        history["val_loss"].append(_evaluate(model, val_batches))
        if verbose:
            print(f"genre epoch {epoch + 1}: train {history['train_loss'][-1]:.4f}, "
                  f"validation {history['val_loss'][-1]:.4f}", flush=True)
    meta = {"task": f"line_genre(seed=0, per_class={per_class})", "epochs": epochs,
            "seed": seed, "lr": lr, "batch_size": batch_size, **history}
    return model, vocab, meta


# ----------------------------------------------------------------------------- names by gender


def name_ids(name: str, vocab: Vocab) -> list[int]:
    """``<BOS>``, the letters of the lower-cased name, ``<EOS>``."""
    return [vocab.bos_index, *vocab.encode(name.lower()), vocab.eos_index]


def name_batch(examples: Sequence[Any], vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """Padded ids (T, B), ``-100`` past each name's ``<EOS>``, and the gender labels (B,)."""
    seqs = [name_ids(ex.name, vocab) for ex in examples]
    ids = np.full((max(len(s) for s in seqs), len(seqs)), -100, dtype=np.int64)
    for b, s in enumerate(seqs):
        ids[: len(s), b] = s
    return ids, np.array([GENDERS.index(ex.gender) for ex in examples])


def name_loss(model: ConditionedLanguageModel, ids: np.ndarray, genders: np.ndarray,
              reduction: str = "mean") -> minigrad.Tensor:
    """Cross-entropy of every next character (letters and ``<EOS>``) of a :func:`name_batch`,
    the first state chosen by the gender."""
    x = minigrad.tensor(np.where(ids[:-1] == -100, 0, ids[:-1]))
    logits, _ = model(x, model.initial_state(genders))
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       minigrad.tensor(ids[1:].reshape(-1)), reduction=reduction)


def name_nll(model: ConditionedLanguageModel, examples: Sequence[Any], vocab: Vocab) -> float:
    """Mean nats per predicted character (the letters and the end) over ``examples``."""
    model.eval()
    total, count = 0.0, 0
    with minigrad.no_grad():
        for group in Batches(examples, 512, shuffle=False, collate=None):
            ids, genders = name_batch(group, vocab)
            total += float(name_loss(model, ids, genders, reduction="sum").item())
            count += int((ids[1:] != -100).sum())
    model.train()
    return total / count


def train_names(epochs: int = 8, seed: int = 0, hidden_size: int = 128, embedding_dim: int = 32,
                lr: float = 5e-3, batch_size: int = 64, verbose: bool = True
                ) -> tuple[ConditionedLanguageModel, Vocab, dict[str, Any]]:
    """A character-level GRU language model of first names whose first state is set by the
    gender (``gendered_names(seed=0)``)."""
    train, val, _ = gendered_names(seed=0)
    vocab = Vocab.build([ex.name.lower() for ex in train], level="char")
    minigrad.manual_seed(seed)
    model = ConditionedLanguageModel(len(vocab), len(GENDERS), embedding_dim=embedding_dim,
                                     hidden_size=hidden_size, dropout=0.1)
    opt = minigrad.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    for epoch in range(epochs):
        model.train()
        total, n = 0.0, 0
        for group in Batches(train, batch_size, seed=seed + epoch, collate=None):
            loss = name_loss(model, *name_batch(group, vocab))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total, n = total + float(loss.item()), n + 1
        history["train_loss"].append(total / n)
        history["val_loss"].append(name_nll(model, val, vocab))
        if verbose:
            print(f"names epoch {epoch + 1}: train {total / n:.4f}, validation "
                  f"{history['val_loss'][-1]:.4f} nats/char", flush=True)
    meta = {"task": "gendered_names(seed=0)", "epochs": epochs, "seed": seed, "lr": lr,
            "batch_size": batch_size, **history}
    return model, vocab, meta


# ----------------------------------------------------------------------------- dates


def date_vocabs(train: Sequence[Any]) -> tuple[Vocab, Vocab]:
    """Character vocabularies of the human dates (source) and of the ISO dates (target)."""
    src = Vocab.build([ex.source for ex in train], level="char")
    tgt = Vocab.build([ex.target for ex in train], level="char")
    return src, tgt


def date_ids(example: Any, src: Vocab, tgt: Vocab) -> tuple[list[int], list[int]]:
    """The source's character ids, and the target's ``<BOS>`` + characters + ``<EOS>``."""
    return src.encode(example.source), [tgt.bos_index, *tgt.encode(example.target),
                                        tgt.eos_index]


def train_dates(epochs: int = 10, seed: int = 0, hidden_size: int = 128,
                embedding_dim: int = 32, lr: float = 3e-3, batch_size: int = 64,
                verbose: bool = True) -> tuple[Seq2Seq, Vocab, dict[str, Any]]:
    """A GRU encoder-decoder on ``date_formats(seed=0)`` (10,000 training dates), trained with
    teacher forcing."""
    train, val, _ = date_formats(seed=0)
    src_vocab, tgt_vocab = date_vocabs(train)
    minigrad.manual_seed(seed)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), embedding_dim=embedding_dim,
                    hidden_size=hidden_size)
    opt = minigrad.optim.Adam(model.parameters(), lr=lr)

    def batches(examples: Sequence[Any], size: int, shuffle: bool, s: int | None) -> Batches:
        return Batches([date_ids(ex, src_vocab, tgt_vocab) for ex in examples], size,
                       shuffle=shuffle, seed=s)

    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    val_batches = batches(val, 500, False, None)
    for epoch in range(epochs):
        history["train_loss"].append(_epoch(model, opt, batches(train, batch_size, True,
                                                                seed + epoch), seq2seq=True))
        history["val_loss"].append(_evaluate(model, val_batches, seq2seq=True))
        if verbose:
            print(f"dates epoch {epoch + 1}: train {history['train_loss'][-1]:.4f}, "
                  f"validation {history['val_loss'][-1]:.4f}", flush=True)
    meta = {"task": "date_formats(seed=0)", "epochs": epochs, "seed": seed, "lr": lr,
            "batch_size": batch_size, "target_vocab": tgt_vocab.to_dict(), **history}
    return model, src_vocab, meta


def seq2seq_loss(model: Seq2Seq, batch: Any) -> minigrad.Tensor:
    """Teacher forcing: the decoder reads ``<BOS>`` and the true target, and predicts the target
    and ``<EOS>`` one step ahead; padding (-100) is left out."""
    y = batch.y.numpy()
    y_prev = minigrad.tensor(np.where(y[:-1] == -100, 0, y[:-1]))
    logits = model(batch.x, batch.lengths, y_prev)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       minigrad.tensor(y[1:].reshape(-1)))


# ----------------------------------------------------------------------------- shared loops


def _loss(model: Any, batch: Any, seq2seq: bool) -> minigrad.Tensor:
    if seq2seq:
        return seq2seq_loss(model, batch)
    logits = model(batch.x, batch.lengths)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       batch.y.reshape(-1))


def _epoch(model: Any, opt: Any, batches: Batches, seq2seq: bool = False) -> float:
    model.train()
    total, n = 0.0, 0
    for batch in batches:
        loss = _loss(model, batch, seq2seq)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        total, n = total + float(loss.item()), n + 1
    return total / n


def _evaluate(model: Any, batches: Batches, seq2seq: bool = False) -> float:
    model.eval()
    total, count = 0.0, 0
    with minigrad.no_grad():
        for batch in batches:
            y = batch.y.numpy()[1:] if seq2seq else batch.y.numpy()
            w = int((y != -100).sum())
            total += float(_loss(model, batch, seq2seq).item()) * w
            count += w
    model.train()
    return total / count


# ----------------------------------------------------------------------------- main

TASKS = ("tagger", "genre", "names", "dates")


def main(argv: Sequence[str] | None = None) -> None:
    """Train the chosen models (all by default) and write their checkpoints."""
    parser = argparse.ArgumentParser(prog="python -m minigrad.recipes.types_of_rnns",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("tasks", nargs="*", metavar="task", help=f"some of {TASKS} (all)")
    parser.add_argument("--out", default=DEFAULT_DIR, help="folder for the checkpoints")
    args = parser.parse_args(argv)
    train_fns = {"tagger": train_tagger, "genre": train_genre, "names": train_names,
                 "dates": train_dates}
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        parser.error(f"unknown tasks {unknown}; choose from {TASKS}")
    for task in args.tasks or TASKS:
        t0 = time.perf_counter()
        model, vocab, meta = train_fns[task]()
        meta["seconds"] = round(time.perf_counter() - t0, 1)
        meta["recipe"] = f"python -m minigrad.recipes.types_of_rnns {task}"
        path = os.path.join(args.out, f"ch05_{task}.npz")
        save_checkpoint(path, model, vocab, meta=meta)
        print(f"{task}: {meta['seconds']} s, saved {path} "
              f"({os.path.getsize(path) / 1e6:.2f} MB)", flush=True)


if __name__ == "__main__":
    main()
