"""Ready-made language models that follow the step-model protocol of :mod:`minigrad.sampling`.

* :class:`RNNLanguageModel`: embedding, a recurrent layer (RNN, GRU or LSTM), a linear read-out;
  what ``minigrad train-lm`` trains and what checkpoints rebuild.
* :class:`NGramLanguageModel`: counts, smoothed (interpolated Witten-Bell, add-alpha unigrams);
  the baseline every trained model is shown beside.
* :class:`ConditionedLanguageModel`: a language model whose first state is chosen by a label
  (one-to-many: a gender in, a name out).

These are called as ``logits, state = model(x, state)`` with ``x`` of shape (T, B). The other
shapes of recurrent network of Chapter 5 take padded batches and their lengths:

* :class:`RNNTagger` (many-to-many, ``T_y = T_x``): a label for every token.
* :class:`RNNClassifier` (many-to-one): a label for the whole sequence, from the final state.
* :class:`Seq2Seq` (many-to-many, ``T_y != T_x``): an encoder-decoder; its ``decode`` method is a
  step model, so that :func:`minigrad.sampling.sample` and :func:`~minigrad.sampling.beam_search`
  generate with it.
* :class:`AttentionSeq2Seq` (Chapter 14): the same with additive (Bahdanau) attention, the
  decoder reading a weighted average of all the encoder's outputs at every step.

>>> lm = NGramLanguageModel(n=3, vocab_size=5).fit([0, 1, 2, 3, 4] * 10)
>>> logits, state = lm(minigrad.tensor([[0], [1]]))     # (T=2, B=1)
>>> int(logits[-1, 0].argmax())                         # after 0 1 comes 2
2
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

import minigrad

from . import nn
from .checkpoint import register_model
from .nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from .tensor import Tensor, _wrap

__all__ = [
    "AttentionSeq2Seq",
    "AttentionState",
    "ConditionedLanguageModel",
    "NGramLanguageModel",
    "RNNClassifier",
    "RNNLanguageModel",
    "RNNTagger",
    "Seq2Seq",
]

CELLS = ("rnn", "gru", "lstm")


class RNNLanguageModel(nn.Module):
    """Token ids in, next-token logits out: ``Embedding -> RNN/GRU/LSTM -> Dropout -> Linear``.

    ``forward(x, state=None)`` takes ids of shape (T, B) and returns logits (T, B, V) and the
    recurrent layer's final state (``h_n``, or ``(h_n, c_n)`` for an LSTM), which the next call
    continues from. ``config`` holds the constructor's arguments, so that a checkpoint can rebuild
    the model (:func:`minigrad.checkpoint.load_checkpoint`).

    ``tie_weights=True`` shares the embedding matrix with the read-out (needs
    ``embedding_dim == hidden_size``), which saves ``V * H`` parameters on word-level models.

    >>> import minigrad
    >>> model = RNNLanguageModel(vocab_size=50, embedding_dim=8, hidden_size=16, cell="gru")
    >>> logits, h = model(minigrad.zeros(7, 3, dtype=minigrad.long))
    >>> tuple(logits.shape), tuple(h.shape)
    ((7, 3, 50), (1, 3, 16))
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
        tie_weights: bool = False,
    ) -> None:
        super().__init__()
        cell = cell.lower()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        layer = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}[cell]
        if not hasattr(nn, layer):
            raise NotImplementedError(f"minigrad.nn.{layer} is not available in this version")
        if tie_weights and embedding_dim != hidden_size:
            raise ValueError("tie_weights needs embedding_dim == hidden_size")
        self.config: dict[str, Any] = {
            "vocab_size": vocab_size,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "cell": cell,
            "dropout": dropout,
            "tie_weights": tie_weights,
        }
        self.vocab_size, self.cell = vocab_size, cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = getattr(nn, layer)(
            embedding_dim,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:  # type: ignore[override]
        if self.drop.p and self.training:
            out, state = self.rnn(self.drop(self.embedding(x)), state)
        else:  # no dropout between them: the layer reads the table (RNNBase.forward_embedded)
            out, state = self.rnn.forward_embedded(self.embedding, x, state)
        return self.decoder(self.drop(out)), state

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}"


# ----------------------------------------------------------------------------- n-grams


class NGramLanguageModel:
    """An n-gram language model: the next token from counts of the ``n - 1`` tokens before it.

    Smoothing is interpolated Witten-Bell: the estimate for a context of length ``k`` mixes the
    counts that followed that context with the estimate for the context one token shorter, in
    proportion to how many different tokens the context was seen followed by; at the bottom,
    unigram counts plus ``alpha`` for every token, so nothing gets probability zero. A context
    that was never seen falls back to the shorter one entirely.

    ``fit`` takes one stream of ids, or several sequences (names, sentences) whose n-grams do not
    run into each other. As a step model the state is the last ``n - 1`` ids of each batch column,
    shape (n - 1, B); at the start (state ``None``) only the tokens seen so far are used.

    >>> lm = NGramLanguageModel(n=2, vocab_size=3).fit([0, 1, 2, 0, 1, 2, 0, 1])
    >>> lm.probs([0]).round(3)                   # P(next | 0)
    array([0.091, 0.841, 0.068])
    """

    def __init__(self, n: int, vocab_size: int, alpha: float = 1.0) -> None:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be >= 1, got {vocab_size}")
        if float(vocab_size) ** n >= 2.0**62:
            raise ValueError(f"n={n} with {vocab_size} tokens is too large to index n-grams")
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.n, self.vocab_size, self.alpha = n, vocab_size, float(alpha)
        self.unigram = np.full(vocab_size, 1.0 / vocab_size)
        # per order k >= 1: sorted keys of (context of k tokens, next) and their counts; sorted
        # context keys with their total count and number of distinct followers
        self._pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self._contexts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    @property
    def config(self) -> dict[str, Any]:
        return {"n": self.n, "vocab_size": self.vocab_size, "alpha": self.alpha}

    def fit(self, ids: Sequence[int] | Iterable[Sequence[int]]) -> NGramLanguageModel:
        """Count the n-grams of ``ids`` (a stream, or a list of sequences); returns ``self``."""
        seqs = _as_sequences(ids)
        v = self.vocab_size
        for s in seqs:
            if s.size and (s.min() < 0 or s.max() >= v):
                raise ValueError(f"token ids must lie in [0, {v}), got {s.min()}..{s.max()}")
        counts = np.bincount(np.concatenate(seqs), minlength=v) if seqs else np.zeros(v)
        self.unigram = (counts + self.alpha) / (counts.sum() + self.alpha * v)
        self._pairs, self._contexts = [], []
        for k in range(1, self.n):
            keys = [
                _encode(np.lib.stride_tricks.sliding_window_view(s, k + 1), v)
                for s in seqs
                if len(s) > k
            ]
            allk = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
            pk, pc = np.unique(allk, return_counts=True)
            ctx = pk // v
            ck, first = np.unique(ctx, return_index=True)
            totals = np.add.reduceat(pc, first) if len(pc) else np.zeros(0, dtype=np.int64)
            distinct = np.diff(np.append(first, len(pc)))
            self._pairs.append((pk, pc))
            self._contexts.append((ck, totals, distinct))
        return self

    def _dense(self, hist: np.ndarray) -> np.ndarray:
        """P(next | history) for each row of ``hist`` (P, n - 1), -1 marking no token."""
        p = np.tile(self.unigram, (hist.shape[0], 1))
        v = self.vocab_size
        for k in range(1, self.n):
            ctx = hist[:, hist.shape[1] - k :]
            rows = np.flatnonzero((ctx >= 0).all(axis=1))
            if not len(rows):
                break
            keys = _encode(ctx[rows], v)
            ck, totals, distinct = self._contexts[k - 1]
            pos = np.searchsorted(ck, keys)
            pos = np.minimum(pos, max(len(ck) - 1, 0))
            seen = (ck[pos] == keys) if len(ck) else np.zeros(len(keys), dtype=bool)
            rows, keys, pos = rows[seen], keys[seen], pos[seen]
            if not len(rows):
                continue
            pk, pc = self._pairs[k - 1]
            lo = np.searchsorted(pk, keys * v)
            hi = np.searchsorted(pk, keys * v + v)
            lens = hi - lo
            which = np.repeat(np.arange(len(rows)), lens)
            entry = (
                np.arange(lens.sum())
                - np.repeat(np.cumsum(lens) - lens, lens)
                + np.repeat(lo, lens)
            )
            dense = np.zeros((len(rows), v))
            dense[which, pk[entry] % v] = pc[entry]
            t, d = (
                totals[pos][:, None].astype(np.float64),
                distinct[pos][:, None].astype(np.float64),
            )
            p[rows] = (dense + d * p[rows]) / (t + d)
        return p

    def probs(self, context: Sequence[int]) -> np.ndarray:
        """P(next token | the last n - 1 ids of ``context``), a vector over the vocabulary."""
        hist = np.full((1, max(self.n - 1, 0)), -1, dtype=np.int64)
        ctx = (
            np.asarray(context, dtype=np.int64)[len(context) - (self.n - 1) :] if self.n > 1 else []
        )
        if self.n > 1 and len(ctx):
            hist[0, -len(ctx) :] = ctx
        return self._dense(hist)[0]

    def token_log_probs(self, ids: Sequence[int] | np.ndarray | Tensor) -> np.ndarray:
        """``log P(ids[t] | ids[:t])`` for t = 1 .. len(ids) - 1, straight from the counts.

        The numbers :func:`minigrad.sampling.token_log_probs` gives for this model (in float64),
        without the (T, V) table of every token's probability that a step model returns: fast at
        the word level, where V is 10,000 and that table would hold 10,000 numbers per token.

        >>> lm = NGramLanguageModel(n=2, vocab_size=3).fit([0, 1, 2, 0, 1, 2, 0, 1])
        >>> lm.token_log_probs([0, 1, 2]).round(3)
        array([-0.173, -0.278])
        """
        arr = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
        if arr.ndim != 1 or len(arr) < 2 or arr.dtype.kind not in "iu":
            raise ValueError("token_log_probs needs a 1-D sequence of at least two integer ids")
        arr = arr.astype(np.int64)
        v = self.vocab_size
        if arr.min() < 0 or arr.max() >= v:
            raise ValueError(f"token ids must lie in [0, {v}), got {arr.min()}..{arr.max()}")
        target = arr[1:]
        p = self.unigram[target].astype(np.float64)
        for k in range(1, min(self.n, len(arr))):
            # the context of the target at position j + k - 1 is arr[j : j + k]
            ctx = _encode(np.lib.stride_tricks.sliding_window_view(arr[:-1], k), v)
            rows = np.arange(k - 1, len(target))
            ck, totals, distinct = self._contexts[k - 1]
            if not len(ck):
                break
            pos = np.minimum(np.searchsorted(ck, ctx), len(ck) - 1)
            seen = ck[pos] == ctx
            rows, ctx, pos = rows[seen], ctx[seen], pos[seen]
            pk, pc = self._pairs[k - 1]
            pair = ctx * v + target[rows]
            at = np.minimum(np.searchsorted(pk, pair), len(pk) - 1)
            count = np.where(pk[at] == pair, pc[at], 0).astype(np.float64)
            t, d = totals[pos].astype(np.float64), distinct[pos].astype(np.float64)
            p[rows] = (count + d * p[rows]) / (t + d)
        return np.log(p)

    def __call__(self, x: Tensor | np.ndarray, state: Any = None) -> tuple[Tensor, Any]:
        ids = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.int64)
        if ids.ndim != 2:
            raise ValueError(f"expected ids of shape (T, B), got {ids.shape}")
        t, b = ids.shape
        m = self.n - 1
        if state is None:
            prev = np.full((m, b), -1, dtype=np.int64)
        else:
            prev = np.asarray(state.data if isinstance(state, Tensor) else state, dtype=np.int64)
        seq = np.concatenate([prev, ids], axis=0)  # (m + T, B)
        if m:
            windows = np.lib.stride_tricks.sliding_window_view(seq[1:], m, axis=0)  # (T, B, m)
        else:
            windows = np.zeros((t, b, 0), dtype=np.int64)
        p = self._dense(windows.reshape(t * b, m)).reshape(t, b, self.vocab_size)
        logits = np.log(p).astype(np.float32)
        return _wrap(logits), _wrap(seq[seq.shape[0] - m :].copy())

    def __repr__(self) -> str:
        return f"NGramLanguageModel(n={self.n}, vocab_size={self.vocab_size}, alpha={self.alpha})"


def _encode(windows: np.ndarray, v: int) -> np.ndarray:
    """Rows of ids to one int64 each (base ``v``)."""
    key = np.zeros(windows.shape[0], dtype=np.int64)
    for j in range(windows.shape[1]):
        key = key * v + windows[:, j]
    return key


def _as_sequences(ids: Any) -> list[np.ndarray]:
    if isinstance(ids, Tensor):
        ids = ids.data
    if isinstance(ids, np.ndarray):
        return [ids.astype(np.int64).ravel()]
    ids = list(ids)
    if ids and all(isinstance(i, (int, np.integer)) for i in ids):
        return [np.asarray(ids, dtype=np.int64)]
    return [np.asarray(s.data if isinstance(s, Tensor) else s, dtype=np.int64).ravel() for s in ids]


# ----------------------------------------------------------------------------- Chapter 5's shapes


def _recurrent(cell: str, input_size: int, hidden_size: int, **kwargs: Any) -> nn.RNNBase:
    cell = cell.lower()
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    layer = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}[cell]
    return getattr(nn, layer)(input_size, hidden_size, **kwargs)


def _lengths(lengths: Any, x: Tensor) -> np.ndarray:
    if lengths is None:
        return np.full(x.shape[1], x.shape[0], dtype=np.int64)
    return np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths, dtype=np.int64)


def _final_hidden(state: Any, num_layers: int, bidirectional: bool) -> Tensor:
    """The last layer's final state, both directions side by side: (B, D * H)."""
    h = state[0] if isinstance(state, tuple) else state
    if bidirectional:
        return minigrad.cat([h[2 * num_layers - 2], h[2 * num_layers - 1]], dim=1)
    return h[num_layers - 1]


@register_model
class RNNTagger(nn.Module):
    """Many-to-many with ``T_y = T_x``: ``Embedding -> RNN/GRU/LSTM -> Linear`` on every step.

    ``forward(x, lengths=None)`` takes padded ids (T, B) (padding id ``padding_idx``) and the
    ``B`` lengths, packs them so that the padding is never read (which matters for the reverse
    direction of a ``bidirectional`` tagger: it starts at each sequence's own last token), and
    returns logits (T, B, num_classes); the rows past a sequence's end are zeros and should be
    left out of the loss (targets ``-100``, as :func:`minigrad.text.pad_collate` pads them).

    >>> import minigrad
    >>> tagger = RNNTagger(vocab_size=20, num_classes=2, embedding_dim=4, hidden_size=8)
    >>> tuple(tagger(minigrad.ones(5, 3, dtype=minigrad.long), [5, 2, 4]).shape)
    (5, 3, 2)
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embedding_dim: int = 32,
        hidden_size: int = 64,
        num_layers: int = 1,
        cell: str = "gru",
        bidirectional: bool = False,
        padding_idx: int | None = 0,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "vocab_size": vocab_size,
            "num_classes": num_classes,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "cell": cell,
            "bidirectional": bidirectional,
            "padding_idx": padding_idx,
        }
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.rnn = _recurrent(
            cell, embedding_dim, hidden_size, num_layers=num_layers, bidirectional=bidirectional
        )
        self.out = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Tensor, lengths: Any = None) -> Tensor:  # type: ignore[override]
        packed = pack_padded_sequence(self.embedding(x), _lengths(lengths, x), enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, total_length=x.shape[0])
        return self.out(out)


@register_model
class RNNClassifier(nn.Module):
    """Many-to-one: ``Embedding -> RNN/GRU/LSTM``, then ``Linear`` on the final state.

    ``forward(x, lengths=None)`` takes padded ids (T, B) and the lengths and returns logits
    (B, num_classes), read from each sequence's own last state (the sequences are packed: the
    padding never reaches the state). A ``bidirectional`` classifier reads the forward
    direction's state after the last token and the reverse direction's after the first, side by
    side.

    >>> import minigrad
    >>> clf = RNNClassifier(vocab_size=20, num_classes=3, embedding_dim=4, hidden_size=8)
    >>> tuple(clf(minigrad.ones(5, 2, dtype=minigrad.long), [5, 2]).shape)
    (2, 3)
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embedding_dim: int = 32,
        hidden_size: int = 64,
        num_layers: int = 1,
        cell: str = "gru",
        bidirectional: bool = False,
        dropout: float = 0.0,
        padding_idx: int | None = 0,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "vocab_size": vocab_size,
            "num_classes": num_classes,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "cell": cell,
            "bidirectional": bidirectional,
            "dropout": dropout,
            "padding_idx": padding_idx,
        }
        self.num_layers, self.bidirectional = num_layers, bidirectional
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.rnn = _recurrent(
            cell, embedding_dim, hidden_size, num_layers=num_layers, bidirectional=bidirectional
        )
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Tensor, lengths: Any = None) -> Tensor:  # type: ignore[override]
        emb = self.drop(self.embedding(x))
        packed = pack_padded_sequence(emb, _lengths(lengths, x), enforce_sorted=False)
        _, state = self.rnn(packed)
        return self.out(self.drop(_final_hidden(state, self.num_layers, self.bidirectional)))


@register_model
class ConditionedLanguageModel(nn.Module):
    """One-to-many: a label chooses the first state, then a language model writes the sequence.

    ``initial_state(labels)`` turns ``B`` labels into the recurrent layer's first state
    (``tanh`` of a learned vector per label, shape (1, B, H); for an LSTM the cell state starts
    at zero); ``forward(x, state)`` is the step-model protocol of :mod:`minigrad.sampling`, so
    ``sample(model, [bos], state=model.initial_state([label]), eos=eos)`` generates for a label.

    >>> import minigrad
    >>> lm = ConditionedLanguageModel(vocab_size=30, num_labels=2, hidden_size=16)
    >>> logits, h = lm(minigrad.zeros(6, 2, dtype=minigrad.long), lm.initial_state([0, 1]))
    >>> tuple(logits.shape), tuple(h.shape)
    ((6, 2, 30), (1, 2, 16))
    """

    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        embedding_dim: int = 32,
        hidden_size: int = 128,
        cell: str = "gru",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "vocab_size": vocab_size,
            "num_labels": num_labels,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "cell": cell,
            "dropout": dropout,
        }
        self.cell = cell.lower()
        self.label_embedding = nn.Embedding(num_labels, hidden_size)
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = _recurrent(cell, embedding_dim, hidden_size)
        self.drop = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def initial_state(self, labels: Any) -> Any:
        """The first state for each label: ``tanh(E[label])``, shape (1, B, H)."""
        ids = np.asarray(labels.data if isinstance(labels, Tensor) else labels, dtype=np.int64)
        h0 = self.label_embedding(minigrad.tensor(ids.reshape(-1))).tanh().unsqueeze(0)
        if self.cell == "lstm":
            return h0, minigrad.zeros(*h0.shape, dtype=h0.dtype)
        return h0

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:  # type: ignore[override]
        out, state = self.rnn(self.drop(self.embedding(x)), state)
        return self.decoder(self.drop(out)), state


@register_model
class Seq2Seq(nn.Module):
    """Many-to-many with ``T_y != T_x``: an encoder RNN reads the source, a decoder RNN writes the
    target from the encoder's final state.

    * ``encode(src, lengths)``: padded source ids (T_x, B) and their lengths to the decoder's
      first state, the encoder's final state (1, B, H) (``(h, c)`` for an LSTM). The source is
      packed, so padding never reaches it.
    * ``decode(y_prev, state)``: the step-model protocol of :mod:`minigrad.sampling`: target ids
      (T_y, B), each the token *before* the one to predict (``<BOS>`` first), to logits
      (T_y, B, V_tgt) and the new state. Greedy decoding is
      ``sample(model.decode, [bos], state=model.encode(src, lengths), temperature=0, eos=eos,
      num_samples=B)``; beam search is ``beam_search(model.decode, state, bos, eos)`` for one
      source.
    * ``forward(src, lengths, y_prev)``: both, with teacher forcing: the decoder reads the true
      previous token at every step. Returns the logits (T_y, B, V_tgt).

    >>> import minigrad
    >>> m = Seq2Seq(src_vocab_size=20, tgt_vocab_size=15, embedding_dim=4, hidden_size=8)
    >>> src = minigrad.ones(7, 2, dtype=minigrad.long)
    >>> tuple(m(src, [7, 3], minigrad.ones(4, 2, dtype=minigrad.long)).shape)
    (4, 2, 15)
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        embedding_dim: int = 32,
        hidden_size: int = 128,
        cell: str = "gru",
        padding_idx: int | None = 0,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "src_vocab_size": src_vocab_size,
            "tgt_vocab_size": tgt_vocab_size,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "cell": cell,
            "padding_idx": padding_idx,
        }
        self.src_embedding = nn.Embedding(src_vocab_size, embedding_dim, padding_idx=padding_idx)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embedding_dim, padding_idx=padding_idx)
        self.encoder = _recurrent(cell, embedding_dim, hidden_size)
        self.decoder = _recurrent(cell, embedding_dim, hidden_size)
        self.out = nn.Linear(hidden_size, tgt_vocab_size)

    def encode(self, src: Tensor, lengths: Any = None) -> Any:
        """The encoder's final state for each source sequence: the decoder's first state."""
        packed = pack_padded_sequence(
            self.src_embedding(src), _lengths(lengths, src), enforce_sorted=False
        )
        _, state = self.encoder(packed)
        return state

    def decode(self, y_prev: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Logits for the next target token after each of ``y_prev`` (T_y, B), and the state."""
        out, state = self.decoder(self.tgt_embedding(y_prev), state)
        return self.out(out), state

    def forward(  # type: ignore[override]
        self, src: Tensor, lengths: Any, y_prev: Tensor
    ) -> Tensor:
        logits, _ = self.decode(y_prev, self.encode(src, lengths))
        return logits


class AttentionState(NamedTuple):
    """What :class:`AttentionSeq2Seq`'s decoder carries from step to step, batch on dimension 1.

    ``h`` the decoder's state s<t> (1, B, H); ``memory`` the encoder's outputs a<t'> (T_x, B, D*H);
    ``keys`` their projections ``W_a a<t'>`` (T_x, B, A), computed once; ``mask`` (T_x, B), true
    where t' is a real source position (not padding).
    """

    h: Tensor
    memory: Tensor
    keys: Tensor
    mask: np.ndarray


@register_model
class AttentionSeq2Seq(nn.Module):
    """An encoder-decoder with additive (Bahdanau) attention, in the notes' notation.

    The encoder, a GRU (bidirectional by default), reads the source and keeps *every* output
    a<t'> (the two directions side by side). At output step t the decoder, a GRU cell with state
    s<t>, scores each source position from its previous state::

        e<t,t'> = v . tanh(W_s s<t-1> + b + W_a a<t'>)      alpha<t,t'> = softmax over t' of e<t,t'>
        c<t> = sum over t' of alpha<t,t'> a<t'>              (the context)
        s<t> = GRUCell([embedding of y<t-1>, c<t>], s<t-1>)
        y_hat<t> = softmax(W_y [s<t>, c<t>] + b_y)

    Padding positions get ``alpha = 0``. The first state s<0> is ``tanh`` of a linear map of the
    encoder's final states. ``encode``, ``decode`` and ``forward`` are called as those of
    :class:`Seq2Seq` (``decode`` is a step model; the state is an :class:`AttentionState`), and
    after each ``decode`` the attention weights are in ``last_attention``, a numpy array
    (T_y, B, T_x): row t says where output step t looked.

    >>> import minigrad
    >>> m = AttentionSeq2Seq(src_vocab_size=20, tgt_vocab_size=15, embedding_dim=4, hidden_size=8)
    >>> src = minigrad.ones(7, 2, dtype=minigrad.long)
    >>> tuple(m(src, [7, 3], minigrad.ones(4, 2, dtype=minigrad.long)).shape)
    (4, 2, 15)
    >>> m.last_attention.shape, float(m.last_attention[:, 1, 3:].max())   # padding: weight 0
    ((4, 2, 7), 0.0)
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        embedding_dim: int = 32,
        hidden_size: int = 64,
        attention_size: int | None = None,
        bidirectional: bool = True,
        padding_idx: int | None = 0,
    ) -> None:
        super().__init__()
        attention_size = hidden_size if attention_size is None else attention_size
        self.config: dict[str, Any] = {
            "src_vocab_size": src_vocab_size,
            "tgt_vocab_size": tgt_vocab_size,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "attention_size": attention_size,
            "bidirectional": bidirectional,
            "padding_idx": padding_idx,
        }
        d = 2 if bidirectional else 1
        self.bidirectional = bidirectional
        self.src_embedding = nn.Embedding(src_vocab_size, embedding_dim, padding_idx=padding_idx)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embedding_dim, padding_idx=padding_idx)
        self.encoder = nn.GRU(embedding_dim, hidden_size, bidirectional=bidirectional)
        self.bridge = nn.Linear(d * hidden_size, hidden_size)
        self.attn_memory = nn.Linear(d * hidden_size, attention_size, bias=False)  # W_a
        self.attn_state = nn.Linear(hidden_size, attention_size)  # W_s, b
        self.attn_v = nn.Linear(attention_size, 1, bias=False)  # v
        self.decoder = nn.GRUCell(embedding_dim + d * hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size + d * hidden_size, tgt_vocab_size)
        self.last_attention: np.ndarray | None = None

    def encode(self, src: Tensor, lengths: Any = None) -> AttentionState:
        """Every encoder output a<t'>, their keys, the padding mask and the first state s<0>."""
        lens = _lengths(lengths, src)
        packed = pack_padded_sequence(self.src_embedding(src), lens, enforce_sorted=False)
        out, h_n = self.encoder(packed)
        memory, _ = pad_packed_sequence(out, total_length=src.shape[0])
        final = _final_hidden(h_n, 1, self.bidirectional)
        h0 = self.bridge(final).tanh().unsqueeze(0)
        mask = np.arange(src.shape[0])[:, None] < lens[None, :]
        return AttentionState(h0, memory, self.attn_memory(memory), mask)

    def attend(self, s_prev: Tensor, state: AttentionState) -> tuple[Tensor, Tensor]:
        """One step's attention weights alpha (T_x, B) and context c (B, D*H) from s<t-1> (B, H)."""
        e = self.attn_v((state.keys + self.attn_state(s_prev)).tanh()).squeeze(-1)
        alpha = nn.functional.softmax(e.masked_fill(~state.mask, -np.inf), dim=0)
        context = (alpha.unsqueeze(-1) * state.memory).sum(0)
        return alpha, context

    def decode(self, y_prev: Tensor, state: AttentionState) -> tuple[Tensor, AttentionState]:
        """Logits (T_y, B, V_tgt) for the token after each of ``y_prev`` (T_y, B), and the state."""
        emb = self.tgt_embedding(y_prev)
        h = state.h[0]
        rows, weights = [], []
        for t in range(y_prev.shape[0]):
            alpha, context = self.attend(h, state)
            h = self.decoder(minigrad.cat([emb[t], context], dim=1), h)
            rows.append(minigrad.cat([h, context], dim=1))
            weights.append(alpha.detach().numpy().T)
        self.last_attention = np.stack(weights)
        return self.out(minigrad.stack(rows)), state._replace(h=h.unsqueeze(0))

    def forward(  # type: ignore[override]
        self, src: Tensor, lengths: Any, y_prev: Tensor
    ) -> Tensor:
        logits, _ = self.decode(y_prev, self.encode(src, lengths))
        return logits


_ = minigrad  # the doctests use it
