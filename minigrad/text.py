"""Text to numbers and back: tokenizers, :class:`Vocab`, one-hot vectors, and batches.

The pieces a sequence-model notebook needs before any learning happens:

* :func:`char_tokenize` and :func:`word_tokenize` split text; :func:`detokenize` joins tokens back.
* :class:`Vocab` maps tokens to integer ids and back, keeping the ``max_size`` most frequent tokens
  (or those seen ``min_freq`` times), with the special tokens ``<PAD>`` (id 0), ``<UNK>``,
  ``<BOS>`` and ``<EOS>``; a token it does not know is encoded as ``<UNK>``.
* :func:`one_hot` turns ids into one-hot vectors.
* :func:`batchify` and :class:`BPTTBatches` cut one long stream of ids into (T, B) batches for
  truncated backpropagation through time.
* :func:`pad_batch` pads sequences of different lengths into one (T, B) tensor plus their lengths;
  :class:`Batches` groups examples into shuffled, padded minibatches, again every epoch.

Shapes follow PyTorch's recurrent layers: time first, ``(T, B)``, unless ``batch_first=True``.

>>> from minigrad.text import Vocab, word_tokenize
>>> vocab = Vocab.build(word_tokenize("the cat sat on the mat"), level="word")
>>> vocab.encode("the dog sat")
[4, 1, 8]
>>> vocab.decode([4, 1, 8])
['the', '<UNK>', 'sat']
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import random as _random
from .tensor import Tensor, _wrap

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIALS",
    "UNK",
    "BPTTBatches",
    "Batches",
    "PaddedBatch",
    "Vocab",
    "batchify",
    "char_tokenize",
    "detokenize",
    "make_rng",
    "minibatches",
    "one_hot",
    "pad_batch",
    "pad_collate",
    "shuffled",
    "word_tokenize",
]

PAD, UNK, BOS, EOS = "<PAD>", "<UNK>", "<BOS>", "<EOS>"
SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)
"""The default special tokens, in id order: padding is 0 so that zero-filled arrays are padding."""

LEVELS = ("char", "word")

# ----------------------------------------------------------------------------- random numbers


def make_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """A numpy Generator from a seed; ``None`` means minigrad's global generator.

    Every function here that shuffles or samples takes ``seed`` and passes it through this, so an
    int gives a run that repeats by itself, and ``None`` follows :func:`minigrad.manual_seed`.
    """
    if seed is None:
        return _random.default_generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")


# ----------------------------------------------------------------------------- tokenizers

_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)*|[^\sA-Za-z0-9]")


def char_tokenize(text: str) -> list[str]:
    """One token per character, spaces and newlines included.

    >>> char_tokenize("Ay me!")
    ['A', 'y', ' ', 'm', 'e', '!']
    """
    return list(text)


def word_tokenize(text: str, lower: bool = False) -> list[str]:
    """Words, numbers and single punctuation marks; an inner apostrophe stays in its word.

    >>> word_tokenize("O Romeo, Romeo! wherefore art thou Romeo?")
    ['O', 'Romeo', ',', 'Romeo', '!', 'wherefore', 'art', 'thou', 'Romeo', '?']
    >>> word_tokenize("'Tis brandish'd steel", lower=True)
    ["'", 'tis', "brandish'd", 'steel']
    """
    tokens = _WORD.findall(text)
    return [t.lower() for t in tokens] if lower else tokens


_NO_SPACE_BEFORE = set(",.;:!?)]}'\n")
_NO_SPACE_AFTER = set("([{")


def detokenize(tokens: Iterable[str], level: str = "word") -> str:
    """Join tokens back into text: nothing between characters; for words, a space except before
    punctuation (an approximation: ``word_tokenize`` keeps no record of the original spacing).

    >>> detokenize(["Romeo", ",", "come", "forth", "."])
    'Romeo, come forth.'
    >>> detokenize(list("abc"), level="char")
    'abc'
    """
    _check_level(level)
    tokens = list(tokens)
    if level == "char":
        return "".join(tokens)
    out: list[str] = []
    for tok in tokens:
        if out and not (tok in _NO_SPACE_BEFORE or out[-1] in _NO_SPACE_AFTER or out[-1] == "\n"):
            out.append(" ")
        out.append(tok)
    return "".join(out)


def _check_level(level: str | None, allow_none: bool = False) -> None:
    if level is None and allow_none:
        return
    if level not in LEVELS:
        raise ValueError(
            f"level must be one of {LEVELS}{' or None' if allow_none else ''}, got {level!r}"
        )


def tokenize(text: str, level: str, lower: bool = False) -> list[str]:
    """:func:`char_tokenize` or :func:`word_tokenize` by name (``level`` is "char" or "word")."""
    _check_level(level)
    if level == "char":
        return char_tokenize(text.lower() if lower else text)
    return word_tokenize(text, lower=lower)


# ----------------------------------------------------------------------------- vocabulary


class Vocab:
    """A two-way map between tokens and integer ids.

    Special tokens come first, in the order given (by default ``<PAD>`` = 0, ``<UNK>`` = 1,
    ``<BOS>`` = 2, ``<EOS>`` = 3), then the ordinary tokens. A token the vocabulary does not hold
    is encoded as ``<UNK>`` (or raises ``KeyError`` if there is no ``<UNK>``).

    ``level`` (``"char"``, ``"word"`` or None) records which tokenizer the vocabulary was built
    for; with a level, :meth:`encode` accepts raw text and :meth:`decode_text` returns text.

    Build one from a corpus with :meth:`build`; store it with :meth:`to_dict` (JSON-ready).

    >>> v = Vocab.build("abracadabra", level="char")      # a string is a sequence of characters
    >>> v.itos
    ['<PAD>', '<UNK>', '<BOS>', '<EOS>', 'a', 'b', 'r', 'c', 'd']
    >>> v.encode("cab!")
    [7, 4, 5, 1]
    >>> v.decode_text(v.encode("cab!"))
    'cab<UNK>'
    >>> len(v), "z" in v, v.unk_index, v.eos_index
    (9, False, 1, 3)
    """

    def __init__(
        self,
        tokens: Iterable[str] = (),
        specials: Sequence[str] = SPECIALS,
        level: str | None = None,
    ) -> None:
        _check_level(level, allow_none=True)
        self.level = level
        self.specials: tuple[str, ...] = tuple(specials)
        self.itos: list[str] = []
        self.stoi: dict[str, int] = {}
        for tok in (*self.specials, *tokens):
            if not isinstance(tok, str):
                raise TypeError(f"Vocab tokens must be strings, got {tok!r}")
            if tok in self.stoi:
                raise ValueError(f"Vocab: token {tok!r} given twice")
            self.stoi[tok] = len(self.itos)
            self.itos.append(tok)
        self.counts: dict[str, int] = {}
        """How often each token occurred in the corpus :meth:`build` saw (empty otherwise)."""

    @classmethod
    def build(
        cls,
        corpus: Iterable[str] | Iterable[Iterable[str]],
        max_size: int | None = None,
        min_freq: int = 1,
        specials: Sequence[str] = SPECIALS,
        level: str | None = None,
    ) -> Vocab:
        """The vocabulary of a corpus: its tokens by decreasing frequency (ties alphabetically).

        ``corpus`` is a sequence of tokens, or a sequence of such sequences (one per sentence,
        line or name). A string is a sequence of characters when it is the whole corpus, or an
        item of it with ``level="char"`` (``Vocab.build(["anna", "bob"], level="char")`` counts
        letters); otherwise a string item is one token. ``max_size`` caps the number
        of ordinary tokens (specials come on top: ``len(vocab) == max_size + len(specials)`` for a
        large corpus); ``min_freq`` drops tokens seen fewer times.

        >>> lines = [["to", "be", "or", "not", "to", "be"], ["to", "sleep"]]
        >>> Vocab.build(lines, max_size=2).itos
        ['<PAD>', '<UNK>', '<BOS>', '<EOS>', 'to', 'be']
        >>> Vocab.build(lines, min_freq=2, specials=["<UNK>"]).itos
        ['<UNK>', 'to', 'be']
        """
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must be >= 0 or None, got {max_size}")
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        counts: Counter[str] = Counter()
        if isinstance(corpus, str):
            counts.update(corpus)
        else:
            for item in corpus:
                if isinstance(item, str) and level != "char":
                    counts[item] += 1  # a token
                else:
                    counts.update(item)  # a sequence of tokens (a string, for characters)
        specials = tuple(specials)
        ranked = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in specials),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            ranked = ranked[:max_size]
        vocab = cls(ranked, specials=specials, level=level)
        vocab.counts = {t: counts[t] for t in ranked}
        return vocab

    # -- lookups
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __iter__(self) -> Iterator[str]:
        return iter(self.itos)

    def __getitem__(self, token: str) -> int:
        """The id of ``token``, or of ``<UNK>`` for a token the vocabulary does not hold."""
        i = self.stoi.get(token)
        if i is not None:
            return i
        if UNK in self.stoi:
            return self.stoi[UNK]
        raise KeyError(f"{token!r} is not in the vocabulary, which has no {UNK} token")

    def lookup_token(self, index: int) -> str:
        """The token with id ``index``."""
        if not 0 <= index < len(self.itos):
            raise IndexError(f"token id {index} is out of range for a vocabulary of {len(self)}")
        return self.itos[index]

    def _special(self, tok: str) -> int | None:
        return self.stoi.get(tok) if tok in self.specials else None

    @property
    def pad_index(self) -> int | None:
        """The id of ``<PAD>`` (None if the vocabulary has none); likewise the three below."""
        return self._special(PAD)

    @property
    def unk_index(self) -> int | None:
        return self._special(UNK)

    @property
    def bos_index(self) -> int | None:
        return self._special(BOS)

    @property
    def eos_index(self) -> int | None:
        return self._special(EOS)

    # -- encoding
    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` with this vocabulary's tokenizer (needs ``level``)."""
        if self.level is None:
            raise TypeError(
                "this Vocab has no level, so it cannot split text: pass a list of tokens, or"
                " build the vocabulary with level='char' or level='word'"
            )
        return tokenize(text, self.level)

    def encode(
        self, tokens: str | Iterable[str], add_bos: bool = False, add_eos: bool = False
    ) -> list[int]:
        """Token ids of ``tokens`` (a list of tokens, or text when the vocabulary has a level),
        optionally framed by ``<BOS>`` and ``<EOS>``.

        >>> v = Vocab.build(["a", "b"])
        >>> v.encode(["b", "a", "c"], add_eos=True)
        [5, 4, 1, 3]
        """
        toks = self.tokenize(tokens) if isinstance(tokens, str) else tokens
        ids = [self[t] for t in toks]
        if add_bos:
            ids.insert(0, self._require(BOS))
        if add_eos:
            ids.append(self._require(EOS))
        return ids

    def _require(self, tok: str) -> int:
        i = self._special(tok)
        if i is None:
            raise KeyError(f"this vocabulary has no {tok} token (its specials: {self.specials})")
        return i

    def decode(
        self,
        ids: Iterable[int] | Tensor | np.ndarray,
        skip_specials: bool = False,
        stop_at_eos: bool = False,
    ) -> list[str]:
        """The tokens of ``ids``; optionally without special tokens, or cut at the first ``<EOS>``.

        >>> v = Vocab.build(["a", "b"])
        >>> v.decode([2, 4, 5, 3, 4], skip_specials=True, stop_at_eos=True)
        ['a', 'b']
        """
        if isinstance(ids, Tensor):
            ids = ids.data
        out = []
        eos = self.eos_index
        for i in np.asarray(ids, dtype=np.int64).reshape(-1).tolist():
            if stop_at_eos and i == eos:
                break
            tok = self.lookup_token(i)
            if skip_specials and tok in self.specials:
                continue
            out.append(tok)
        return out

    def decode_text(
        self,
        ids: Iterable[int] | Tensor | np.ndarray,
        skip_specials: bool = False,
        stop_at_eos: bool = False,
    ) -> str:
        """:meth:`decode`, then :func:`detokenize` with this vocabulary's level (words if None)."""
        return detokenize(self.decode(ids, skip_specials, stop_at_eos), self.level or "word")

    # -- storage
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description; :meth:`from_dict` rebuilds the same vocabulary."""
        return {
            "itos": list(self.itos),
            "specials": list(self.specials),
            "level": self.level,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vocab:
        """The inverse of :meth:`to_dict`."""
        try:
            itos, specials = list(d["itos"]), list(d["specials"])
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a vocabulary description (missing {e})") from None
        if itos[: len(specials)] != specials:
            raise ValueError("vocabulary description: itos must start with the specials")
        return cls(itos[len(specials) :], specials=specials, level=d.get("level"))

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> Vocab:
        """The inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(s))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return (self.itos, self.specials, self.level) == (other.itos, other.specials, other.level)

    def __repr__(self) -> str:
        level = f", level={self.level!r}" if self.level else ""
        shown = ", ".join(repr(t) for t in self.itos[len(self.specials) :][:5])
        more = ", ..." if len(self) - len(self.specials) > 5 else ""
        specials = list(self.specials)
        return f"Vocab(size={len(self)}{level}, specials={specials}, tokens=[{shown}{more}])"


# ----------------------------------------------------------------------------- one-hot


def one_hot(ids: Any, num_classes: int | Vocab, dtype: Any = np.float32) -> Tensor:
    """One-hot vectors of ``ids`` (any shape) along a new last dimension, as floats.

    ``num_classes`` may be a :class:`Vocab`, meaning ``len(vocab)``.

    >>> one_hot([2, 0], 3)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    n = len(num_classes) if isinstance(num_classes, Vocab) else int(num_classes)
    idx = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if idx.dtype.kind not in "iu":
        if idx.size:
            raise TypeError(f"one_hot expects integer ids, got {idx.dtype}")
        idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(
            f"one_hot: ids must lie in [0, {n}), got values from {idx.min()} to {idx.max()}"
        )
    # set the ones directly: indexing np.eye(n) would build an n x n matrix first (400 MB in
    # float32 for a 10,000-word vocabulary)
    out = np.zeros(idx.shape + (n,), dtype=dtype)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return _wrap(out)


# ----------------------------------------------------------------------------- LM batches


def _ids_array(ids: Any) -> np.ndarray:
    arr = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(
            f"expected a 1-D sequence of integer ids, got shape {arr.shape}, {arr.dtype}"
        )
    return arr.astype(np.int64)


def batchify(ids: Any, batch_size: int) -> np.ndarray:
    """Cut one stream of ids into ``batch_size`` equal columns: shape (N, B), column ``b`` the
    ``b``-th contiguous chunk of the stream (the tail that does not fill a row is dropped).

    Read down a column and the text continues, which is what lets a language model carry its
    hidden state from one batch to the next.

    >>> batchify(range(10), 3)
    array([[0, 3, 6],
           [1, 4, 7],
           [2, 5, 8]])
    """
    arr = _ids_array(ids)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = len(arr) // batch_size
    if n < 2:
        raise ValueError(
            f"a stream of {len(arr)} ids is too short for {batch_size} columns of at least 2 ids"
        )
    return arr[: n * batch_size].reshape(batch_size, n).T.copy()


class BPTTBatches:
    """(input, target) pairs of shape (T, B) for truncated backpropagation through time.

    The stream is cut into ``batch_size`` columns (:func:`batchify`); batch ``k`` holds rows
    ``k*T .. k*T+T-1`` of that table as input and the same rows shifted by one as target, so
    batch ``k+1`` continues exactly where batch ``k`` stopped: carry the hidden state across
    (detached) and the model sees the whole text. The last batch may be shorter than ``seq_len``.

    With ``random_offset=True`` each pass starts at a random row in ``[0, seq_len)`` (drawn from
    ``seed``), so the cuts fall in different places from one epoch to the next.

    >>> batches = BPTTBatches(range(20), batch_size=2, seq_len=4)
    >>> len(batches), [tuple(x.shape) for x, y in batches]
    (3, [(4, 2), (4, 2), (1, 2)])
    >>> x, y = next(iter(batches))
    >>> x.T.tolist(), y.T.tolist()
    ([[0, 1, 2, 3], [10, 11, 12, 13]], [[1, 2, 3, 4], [11, 12, 13, 14]])
    """

    def __init__(
        self,
        ids: Any,
        batch_size: int,
        seq_len: int,
        random_offset: bool = False,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        self.table = batchify(ids, batch_size)
        self.batch_size, self.seq_len = batch_size, seq_len
        self.random_offset = random_offset
        self._rng = make_rng(seed) if random_offset else None

    @property
    def num_tokens(self) -> int:
        """How many target tokens one pass covers (at offset 0)."""
        return (self.table.shape[0] - 1) * self.batch_size

    def __len__(self) -> int:
        return math.ceil((self.table.shape[0] - 1) / self.seq_len)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        start = int(self._rng.integers(self.seq_len)) if self._rng is not None else 0
        n = self.table.shape[0]
        start = min(start, n - 2)
        for i in range(start, n - 1, self.seq_len):
            t = min(self.seq_len, n - 1 - i)
            yield _wrap(self.table[i : i + t]), _wrap(self.table[i + 1 : i + 1 + t])

    def __repr__(self) -> str:
        return (
            f"BPTTBatches({len(self)} batches of (T={self.seq_len}, B={self.batch_size}),"
            f" {self.num_tokens} tokens)"
        )


# ----------------------------------------------------------------------------- padded batches


def shuffled(items: Sequence[Any], seed: int | np.random.Generator | None = None) -> list[Any]:
    """A shuffled copy of ``items`` (the same order for the same seed).

    >>> shuffled(range(6), seed=0)
    [3, 2, 5, 4, 0, 1]
    """
    items = list(items)
    order = make_rng(seed).permutation(len(items))
    return [items[i] for i in order]


def minibatches(
    items: Sequence[Any],
    batch_size: int,
    shuffle: bool = False,
    seed: int | np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[list[Any]]:
    """Consecutive groups of ``batch_size`` items (shuffled first if asked).

    >>> list(minibatches("abcde", 2))
    [['a', 'b'], ['c', 'd'], ['e']]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    items = shuffled(items, seed) if shuffle else list(items)
    stop = len(items) - (len(items) % batch_size if drop_last else 0)
    for i in range(0, stop, batch_size):
        yield items[i : i + batch_size]


def pad_batch(
    sequences: Sequence[Sequence[int]] | Sequence[np.ndarray],
    padding_value: int = 0,
    batch_first: bool = False,
    max_len: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Pad integer sequences to one tensor, shape (T, B) (or (B, T)), and return their lengths.

    ``T`` is the longest length (or ``max_len``, which truncates longer sequences).

    >>> x, lengths = pad_batch([[5, 6, 7], [8]])
    >>> x.tolist(), lengths.tolist()
    ([[5, 8], [6, 0], [7, 0]], [3, 1])
    """
    seqs = [np.asarray(s.data if isinstance(s, Tensor) else s) for s in sequences]
    if not seqs:
        raise ValueError("pad_batch: no sequences given")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if max_len is not None:
        lengths = np.minimum(lengths, max_len)
    t = int(lengths.max()) if max_len is None else max_len
    dtype = (
        np.result_type(*[s.dtype for s in seqs if s.size])
        if any(s.size for s in seqs)
        else np.int64
    )
    if dtype.kind not in "iub":
        dtype = np.dtype(np.float32) if dtype.kind == "f" else np.dtype(np.int64)
    out = np.full((len(seqs), t) + seqs[0].shape[1:], padding_value, dtype=dtype)
    for i, (s, n) in enumerate(zip(seqs, lengths)):
        out[i, :n] = s[:n]
    if not batch_first:
        out = np.swapaxes(out, 0, 1).copy()
    return _wrap(out), _wrap(lengths)


class PaddedBatch(NamedTuple):
    """One padded minibatch from :func:`pad_collate`.

    ``x`` is (T, B) ids (or (B, T) with ``batch_first``) and ``lengths`` (B,). ``y`` is (B,) for
    one label per example, (T_y, B) padded with ``-100`` for a sequence of labels per example
    (so ``cross_entropy``'s default ``ignore_index`` skips the padding), or None when the examples
    had no targets; ``y_lengths`` gives the target lengths in that second case.
    """

    x: Tensor
    lengths: Tensor
    y: Tensor | None = None
    y_lengths: Tensor | None = None


def pad_collate(
    examples: Sequence[Any],
    padding_value: int = 0,
    target_padding_value: int = -100,
    batch_first: bool = False,
) -> PaddedBatch:
    """Turn a list of examples into a :class:`PaddedBatch`.

    An example is a sequence of ids, or an ``(ids, target)`` pair where the target is one int
    (a label) or a sequence of ids (a tagging or translation target). Extra fields after the
    second are ignored, so the named tuples of :mod:`minigrad.data` work once encoded.

    >>> b = pad_collate([([1, 2, 3], 0), ([4], 1)])
    >>> b.x.tolist(), b.lengths.tolist(), b.y.tolist()
    ([[1, 4], [2, 0], [3, 0]], [3, 1], [0, 1])
    """
    if not examples:
        raise ValueError("pad_collate: empty batch")
    first = examples[0]
    has_target = (
        isinstance(first, tuple)
        and len(first) >= 2
        and not all(isinstance(v, (int, np.integer)) for v in first)
    )
    if not has_target:
        x, lengths = pad_batch(examples, padding_value, batch_first)
        return PaddedBatch(x, lengths)
    xs = [ex[0] for ex in examples]
    ys = [ex[1] for ex in examples]
    x, lengths = pad_batch(xs, padding_value, batch_first)
    if all(np.ndim(y.data if isinstance(y, Tensor) else y) == 0 for y in ys):
        return PaddedBatch(x, lengths, _wrap(np.asarray([int(y) for y in ys], dtype=np.int64)))
    y, y_lengths = pad_batch(ys, target_padding_value, batch_first)
    return PaddedBatch(x, lengths, y, y_lengths)


class Batches:
    """Minibatches of examples, shuffled afresh on every pass and collated (padded) for a model.

    Iterate over it once per epoch: each pass draws a new order from the generator made from
    ``seed`` at construction, so epoch after epoch the orders differ and the whole run repeats.

    >>> data = [([1, 2], 0), ([3], 1), ([4, 5, 6], 1)]
    >>> batches = Batches(data, batch_size=2, shuffle=True, seed=0)
    >>> len(batches), [b.x.shape for b in batches]
    (2, [(3, 2), (1, 1)])
    """

    def __init__(
        self,
        examples: Sequence[Any],
        batch_size: int,
        shuffle: bool = True,
        seed: int | np.random.Generator | None = None,
        collate: Callable[[list[Any]], Any] | None = pad_collate,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.examples = list(examples)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.collate = collate
        self._rng = make_rng(seed) if shuffle else None

    def __len__(self) -> int:
        n = len(self.examples)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        seed = self._rng if self.shuffle else None
        for group in minibatches(
            self.examples, self.batch_size, self.shuffle, seed, self.drop_last
        ):
            yield self.collate(group) if self.collate is not None else group

    def __repr__(self) -> str:
        n, b = len(self.examples), self.batch_size
        return f"Batches({n} examples, batch_size={b}, shuffle={self.shuffle})"
