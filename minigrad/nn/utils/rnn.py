"""Batches of sequences of different lengths: padding and packing, as ``torch.nn.utils.rnn``.

Two layouts hold a batch of ``B`` sequences whose longest has ``T`` steps:

* **padded**: one tensor of shape ``(T, B, *)`` (``(B, T, *)`` with ``batch_first=True``), the
  shorter sequences filled up with ``padding_value``; :func:`pad_sequence` builds it from a list.
* **packed**: a :class:`PackedSequence`, whose ``data`` holds only the real steps, time step by time
  step: first step 0 of every sequence, then step 1 of every sequence that has one, and so on, the
  sequences ordered from longest to shortest. ``batch_sizes[t]`` says how many sequences are still
  running at step ``t``. A recurrent layer given a packed batch runs each sequence for exactly its
  own length: its ``h_n`` holds each sequence's own last state, and a bidirectional layer's reverse
  direction starts at each sequence's own end.

>>> import minigrad
>>> from minigrad.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence
>>> a, b = minigrad.tensor([1.0, 2.0, 3.0]), minigrad.tensor([4.0, 5.0])
>>> padded = pad_sequence([a, b])                   # (T=3, B=2)
>>> padded.T
tensor([[1., 2., 3.],
        [4., 5., 0.]])
>>> packed = pack_padded_sequence(padded, [3, 2])
>>> packed.data, packed.batch_sizes
(tensor([1., 4., 2., 5., 3.]), tensor([2, 2, 1]))
>>> out, lengths = pad_packed_sequence(packed, batch_first=True)
>>> out, lengths
(tensor([[1., 2., 3.],
        [4., 5., 0.]]), tensor([3, 2]))

Every function here is differentiable: gradients flow from the packed data back to the padded
input (padding positions get zero) and back from the padded output to the packed data.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...tensor import Function, IndexedGrad, Tensor, _data, _wrap

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def _as_index_tensor(x: Any) -> Tensor | None:
    if x is None or (isinstance(x, Tensor) and x.dtype == np.int64):
        return x
    return _wrap(np.asarray(_data(x), dtype=np.int64))


def _invert_permutation(perm: np.ndarray) -> np.ndarray:
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size, dtype=perm.dtype)
    return inv


class PackedSequence(
    namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])
):
    """A batch of variable-length sequences with the padding left out (see the module docstring).

    Fields, as in PyTorch:

    * ``data``: tensor ``(sum(lengths), *)``, the steps of all sequences, time step by time step.
    * ``batch_sizes``: int64 tensor ``(T,)``, how many sequences have a step ``t``.
    * ``sorted_indices``: int64 tensor ``(B,)`` or None: ``sorted_indices[j]`` is the original batch
      position of the ``j``-th longest sequence (None when the batch was already sorted).
    * ``unsorted_indices``: its inverse permutation, which puts results back in the original order.

    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand.

    >>> import minigrad
    >>> from minigrad.nn.utils.rnn import pack_sequence
    >>> seqs = [minigrad.ones(2, 4), minigrad.ones(5, 4), minigrad.ones(3, 4)]
    >>> p = pack_sequence(seqs, enforce_sorted=False)
    >>> p.data.shape, p.batch_sizes, p.sorted_indices
    ((10, 4), tensor([3, 3, 2, 1, 1]), tensor([1, 2, 0]))
    """

    __slots__ = ()

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Any = None,
        sorted_indices: Any = None,
        unsorted_indices: Any = None,
    ) -> PackedSequence:
        if batch_sizes is None:
            raise ValueError(
                "PackedSequence needs batch_sizes; build one with pack_padded_sequence"
            )
        sorted_t = _as_index_tensor(sorted_indices)
        unsorted_t = _as_index_tensor(unsorted_indices)
        if unsorted_t is None and sorted_t is not None:
            unsorted_t = _wrap(_invert_permutation(sorted_t.data))
        return super().__new__(cls, data, _as_index_tensor(batch_sizes), sorted_t, unsorted_t)

    def to(self, dtype: Any) -> PackedSequence:
        """The same packing with ``data`` converted to ``dtype``."""
        return type(self)(self.data.to(dtype), *self[1:])

    def float(self) -> PackedSequence:
        return self.to("float32")

    def double(self) -> PackedSequence:
        return self.to("float64")

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


# --------------------------------------------------------------------------------------------------
# Differentiable gathers and scatters between the padded and the packed layouts
# --------------------------------------------------------------------------------------------------


class _TakeRows(Function):
    """``x[index]`` where ``index`` picks distinct entries (so backward may add with ``+=``)."""

    def forward(self, x, index):
        self.index = index
        return x[index]

    def backward(self, grad):
        # the picked positions are distinct, so the engine's ``buf[index] += grad`` is exact
        return IndexedGrad(self.index, grad, True)


class _PlaceRows(Function):
    """A new array of ``shape`` filled with ``padding_value``, with ``x`` written at ``index``."""

    def forward(self, x, index, shape, padding_value):
        self.index = index
        out = np.full(shape, padding_value, dtype=x.dtype)
        out[index] = x
        return out

    def backward(self, grad):
        return grad[self.index]


class _PadStack(Function):
    """Stack sequences of different lengths into one padded array (backward: views of the grad)."""

    def forward(self, *seqs, batch_first, padding_value, padding_side):
        longest = max(s.shape[0] for s in seqs)
        trailing = seqs[0].shape[1:]
        dtype = np.result_type(*seqs)
        shape = (len(seqs), longest) if batch_first else (longest, len(seqs))
        out = np.full(shape + trailing, padding_value, dtype=dtype)
        self.where = []
        for i, s in enumerate(seqs):
            n = s.shape[0]
            steps = slice(0, n) if padding_side == "right" else slice(longest - n, longest)
            where = (i, steps) if batch_first else (steps, i)
            out[where] = s
            self.where.append(where)
        return out

    def backward(self, grad):
        return tuple(
            grad[w] if need else None for w, need in zip(self.where, self.needs_input_grad)
        )


# --------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------


def _lengths_array(lengths: Any) -> np.ndarray:
    arr = np.asarray(_data(lengths))
    if arr.ndim != 1:
        raise ValueError(f"lengths must be a 1-D sequence of ints, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"lengths must be integers, got {arr.dtype}")
    return arr.astype(np.int64)


def _batch_sizes(sorted_lengths: np.ndarray) -> np.ndarray:
    """``batch_sizes[t]``: how many of the (decreasing) lengths exceed ``t``."""
    steps = np.arange(int(sorted_lengths[0]))
    return (sorted_lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def _packed_positions(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every row of packed data, its time step and its position in the sorted batch."""
    steps = np.arange(batch_sizes.size)
    time_idx = np.repeat(steps, batch_sizes)
    starts = np.repeat(np.cumsum(batch_sizes) - batch_sizes, batch_sizes)
    sorted_pos = np.arange(time_idx.size) - starts
    return time_idx, sorted_pos


def pack_padded_sequence(
    input: Tensor,  # noqa: A002
    lengths: Any,
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch, leaving out the padding.

    Args:
        input: ``(T, B, *)`` padded batch (``(B, T, *)`` with ``batch_first=True``).
        lengths: the ``B`` lengths (list, numpy array or int tensor), each in ``1..T``.
        batch_first: whether ``input`` has the batch first.
        enforce_sorted: if True the lengths must be in decreasing order (the packing then needs no
            sort and ``sorted_indices`` is None); with False any order is accepted and the batch
            is sorted here, remembering the permutation so that layers and
            :func:`pad_packed_sequence` give results back in the original order.

    Returns:
        A :class:`PackedSequence` whose ``data`` has shape ``(sum(lengths), *)``.

    >>> import minigrad
    >>> x = minigrad.arange(6.0).reshape(3, 2)       # T=3, B=2
    >>> p = pack_padded_sequence(x, [1, 3], enforce_sorted=False)
    >>> p.data, p.batch_sizes, p.sorted_indices
    (tensor([1., 0., 3., 5.]), tensor([2, 1, 1]), tensor([1, 0]))
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence expects a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(
            f"pack_padded_sequence expects a padded batch with at least 2 dimensions"
            f" ({'(B, T, *)' if batch_first else '(T, B, *)'}), got shape {input.shape}"
        )
    lens = _lengths_array(lengths)
    t_dim, b_dim = (1, 0) if batch_first else (0, 1)
    seq_len, batch = input.shape[t_dim], input.shape[b_dim]
    layout = "(B, T, *)" if batch_first else "(T, B, *)"
    if lens.size != batch:
        raise ValueError(
            f"pack_padded_sequence: got {lens.size} lengths for a batch of {batch} sequences"
            f" (input shape {input.shape}, read as {layout})"
        )
    if lens.size == 0:
        raise ValueError("pack_padded_sequence: cannot pack an empty batch")
    if lens.min() <= 0:
        bad = int(np.flatnonzero(lens <= 0)[0])
        raise ValueError(
            f"pack_padded_sequence: every length must be at least 1, but lengths[{bad}] is"
            f" {lens[bad]}"
        )
    if lens.max() > seq_len:
        bad = int(np.argmax(lens))
        raise ValueError(
            f"pack_padded_sequence: lengths[{bad}] = {lens[bad]} is longer than the padded"
            f" sequence length {seq_len} (input shape {input.shape}, read as {layout})"
        )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            bad = int(np.flatnonzero(np.diff(lens) > 0)[0])
            raise ValueError(
                f"pack_padded_sequence: lengths must be sorted in decreasing order when"
                f" enforce_sorted=True, but lengths[{bad}] = {lens[bad]} <"
                f" lengths[{bad + 1}] = {lens[bad + 1]} (lengths {lens.tolist()}); pass"
                " enforce_sorted=False to pack an unsorted batch"
            )
        order = None
        sorted_lens = lens
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_lens = lens[order]
    batch_sizes = _batch_sizes(sorted_lens)
    time_idx, sorted_pos = _packed_positions(batch_sizes)
    batch_idx = sorted_pos if order is None else order[sorted_pos]
    index = (batch_idx, time_idx) if batch_first else (time_idx, batch_idx)
    data = _TakeRows.apply(input, index=index)
    return PackedSequence(data, batch_sizes, order, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: the padded batch and the lengths, in the original order.

    Args:
        sequence: a :class:`PackedSequence` (for instance a recurrent layer's output).
        batch_first: return ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value: the value at the padding positions.
        total_length: pad to this many steps instead of the longest length (it must be at least
            that long); useful to get back the ``T`` of a padded input.

    Returns:
        ``(padded, lengths)``: ``padded`` of shape ``(T, B, *)`` (or ``(B, T, *)``) and ``lengths``,
        an int64 tensor of shape ``(B,)``.
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(
            f"pad_packed_sequence expects a PackedSequence, got {type(sequence).__name__}"
        )
    data = sequence.data
    batch_sizes = np.asarray(sequence.batch_sizes.data, dtype=np.int64)
    longest, batch = batch_sizes.size, int(batch_sizes[0])
    steps = longest
    if total_length is not None:
        if total_length < longest:
            raise ValueError(
                f"pad_packed_sequence: total_length={total_length} is shorter than the longest"
                f" sequence in the batch ({longest} steps)"
            )
        steps = int(total_length)
    time_idx, sorted_pos = _packed_positions(batch_sizes)
    sorted_lens = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1)
    order = None if sequence.sorted_indices is None else sequence.sorted_indices.data
    batch_idx = sorted_pos if order is None else order[sorted_pos]
    lengths = sorted_lens if order is None else sorted_lens[_invert_permutation(order)]
    trailing = tuple(data.shape[1:])
    if batch_first:
        shape, index = (batch, steps) + trailing, (batch_idx, time_idx)
    else:
        shape, index = (steps, batch) + trailing, (time_idx, batch_idx)
    padded = _PlaceRows.apply(data, index=index, shape=shape, padding_value=padding_value)
    return padded, _wrap(lengths.astype(np.int64))


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack tensors of shape ``(L_i, *)`` into one ``(T, B, *)`` tensor, padding the short ones.

    ``T`` is the longest ``L_i``; with ``batch_first=True`` the result is ``(B, T, *)``. With
    ``padding_side="left"`` the padding goes before each sequence instead of after it.

    >>> import minigrad
    >>> pad_sequence([minigrad.tensor([1, 2, 3]), minigrad.tensor([4])], batch_first=True)
    tensor([[1, 2, 3],
            [4, 0, 0]])
    """
    if isinstance(sequences, Tensor):
        sequences = list(sequences)
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
    trailing = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequence {i} is a {type(s).__name__}, not a Tensor")
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise ValueError(
                f"pad_sequence: every sequence must have shape (L, *{trailing}); sequence 0 has"
                f" shape {seqs[0].shape} but sequence {i} has shape {s.shape}"
            )
    return _PadStack.apply(
        *seqs, batch_first=batch_first, padding_value=padding_value, padding_side=padding_side
    )


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors of shape ``(L_i, *)``: ``pack_padded_sequence(pad_sequence(...))``.

    With ``enforce_sorted=True`` (the default) the list must go from longest to shortest.
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Any, batch_first: bool = False
) -> list[Tensor]:
    """Split a padded batch back into a list of tensors of shape ``(L_i, *)``."""
    lens = _lengths_array(lengths)
    if batch_first:
        return [padded_sequences[i, : int(n)] for i, n in enumerate(lens)]
    return [padded_sequences[: int(n), i] for i, n in enumerate(lens)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Split a :class:`PackedSequence` back into its list of tensors, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
