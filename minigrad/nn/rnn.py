"""Recurrent layers: the cells ``RNNCell``, ``GRUCell``, ``LSTMCell``; the stacks ``RNN``, ``GRU``,
``LSTM``.

Everything matches PyTorch: parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse`` ...), shapes,
gate orders, initialisation, and the shapes of inputs, outputs and states, so that a PyTorch state
dict converted to numpy arrays loads and gives the same numbers.

Notation (PyTorch's): ``T`` time steps, ``B`` sequences in the batch, ``H`` hidden units, ``D`` = 2
for a bidirectional layer and 1 otherwise, ``L`` = ``num_layers``.

The equations, with ``x_t`` the input and ``h_{t-1}`` the previous hidden state:

* RNN:  ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (or ``relu``)
* GRU (gates r, z, n in that order in the weight matrices)::

      r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
      n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
      h' = (1 - z) * n + z * h

* LSTM (gates i, f, g, o in that order)::

      i, f, o = sigmoid(...), g = tanh(...)     each from W_i* x + b_i* + W_h* h + b_h*
      c' = f * c + i * g
      h' = o * tanh(c')

How the code is organised. The cells (:class:`RNNCell`, :class:`GRUCell`, :class:`LSTMCell`) are
written op by op with minigrad tensors: read them to see the equations, and differentiate them
with the ordinary engine. The layers (:class:`RNN`, :class:`GRU`, :class:`LSTM`) compute the same
numbers faster: each layer and direction is one fused operation (:class:`RNNRecurrence`,
:class:`GRURecurrence`, :class:`LSTMRecurrence`) that computes the input projection
``x W_ih^T + b_ih`` of every time step as one matrix product, then runs the recurrence step by
step in numpy (one matrix product per step for ``h W_hh^T``, all gates at once), and has its
backpropagation through time written out by hand. The tests check the fused layers against the
cells unrolled over time, values and gradients, in float64, and both against PyTorch.
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

from .. import _dtype
from ..tensor import Function, Tensor, _add_rows_sorted, _wrap, cat, stack
from . import functional as F
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence

__all__ = [
    "GRU",
    "GRUCell",
    "GRURecurrence",
    "LSTM",
    "LSTMCell",
    "LSTMRecurrence",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "RNNRecurrence",
    "empty_cache",
]


# ==================================================================================================
# Cells: one time step, written op by op
# ==================================================================================================


class RNNCellBase(Module):
    """What the three cells share: the weights, their initialisation and the argument checks.

    ``weight_ih`` is ``(G * H, input_size)`` and ``weight_hh`` is ``(G * H, H)`` with ``G`` = 1
    (RNN),
    3 (GRU) or 4 (LSTM) gates stacked in PyTorch's order; ``bias_ih`` and ``bias_hh`` are
    ``(G * H,)``. All start from U(-1/sqrt(H), 1/sqrt(H)).

    >>> import minigrad
    >>> cell = minigrad.nn.LSTMCell(3, 5)
    >>> [(name, p.shape) for name, p in cell.named_parameters()]
    [('weight_ih', (20, 3)), ('weight_hh', (20, 5)), ('bias_ih', (20,)), ('bias_hh', (20,))]
    """

    _gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None
    ) -> None:
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dt = _dtype.as_dtype(dtype)
        g = self._gates * hidden_size
        self.weight_ih = Parameter(np.empty((g, input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((g, hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.empty((g,), dtype=dt))
            self.bias_hh = Parameter(np.empty((g,), dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _check_input(self, input: Tensor) -> tuple[Tensor, bool]:  # noqa: A002
        """The input as (B, input_size), and whether it came batched."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(
                f"{name}: expected input to be 1-D (input_size,) or 2-D (batch, input_size), got"
                f" shape {input.shape}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input has {input.shape[-1]} features (shape {input.shape}) but the cell"
                f" was built with input_size={self.input_size}"
            )
        _check_dtype(name, "input", input, self.weight_ih)
        batched = input.ndim == 2
        return (input if batched else input.unsqueeze(0)), batched

    def _check_state(self, hx: Any, x: Tensor, batched: bool, what: str = "hx") -> Tensor:
        """The state as (B, H): zeros when None, otherwise checked against the input's batch."""
        if hx is None:
            return _wrap(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))
        name = type(self).__name__
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(hx).__name__}")
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if hx.shape != expected:
            layout = "(batch, hidden_size)" if batched else "(hidden_size,)"
            raise ValueError(
                f"{name}: {what} has shape {hx.shape}, expected {expected} = {layout} for an input"
                f" of shape {x.shape if batched else x.shape[1:]}"
            )
        _check_dtype(name, what, hx, self.weight_ih)
        return hx if batched else hx.unsqueeze(0)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Args:
        input_size: features of ``x``.
        hidden_size: features of ``h``.
        bias: whether to use ``bias_ih`` and ``bias_hh``.
        nonlinearity: ``'tanh'`` or ``'relu'``.

    Shapes: ``input`` ``(B, input_size)`` or ``(input_size,)``; ``hx`` ``(B, H)`` or ``(H,)``, zeros
    when omitted; the result ``h'`` has the shape of ``hx``.

    Parameters: ``weight_ih`` ``(H, input_size)``, ``weight_hh`` ``(H, H)``, ``bias_ih`` and
    ``bias_hh`` ``(H,)``.

    >>> import minigrad
    >>> _ = minigrad.manual_seed(0)
    >>> cell = minigrad.nn.RNNCell(10, 20)
    >>> x = minigrad.randn(6, 3, 10)                 # 6 steps, batch of 3
    >>> h = minigrad.zeros(3, 20)
    >>> for t in range(6):
    ...     h = cell(x[t], h)
    >>> h.shape
    (3, 20)
    """

    _gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, batched = self._check_input(input)
        h = self._check_state(hx, x, batched)
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        h_new = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return h_new if batched else h_new.squeeze(0)


class GRUCell(RNNCellBase):
    """One step of a gated recurrent unit (Cho et al., 2014), exactly as ``torch.nn.GRUCell``::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)          reset gate
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)          update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))       candidate
        h' = (1 - z) * n + z * h

    Shapes: ``input`` ``(B, input_size)`` or ``(input_size,)``; ``hx`` ``(B, H)`` or ``(H,)``, zeros
    when omitted; returns ``h'`` shaped like ``hx``.

    Parameters: ``weight_ih`` ``(3H, input_size)`` and ``weight_hh`` ``(3H, H)``, the gates stacked
    as (r, z, n); ``bias_ih`` and ``bias_hh`` ``(3H,)``.

    >>> import minigrad
    >>> _ = minigrad.manual_seed(0)
    >>> cell = minigrad.nn.GRUCell(10, 20)
    >>> cell.weight_hh.shape
    (60, 20)
    >>> cell(minigrad.randn(3, 10)).shape
    (3, 20)
    """

    _gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, batched = self._check_input(input)
        h = self._check_state(hx, x, batched)
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        gh = F.linear(h, self.weight_hh, self.bias_hh)
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r = (i_r + h_r).sigmoid()
        z = (i_z + h_z).sigmoid()
        n = (i_n + r * h_n).tanh()
        h_new = (1 - z) * n + z * h
        return h_new if batched else h_new.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of a long short-term memory cell (Hochreiter and Schmidhuber, 1997)::

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)          input gate
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)          forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)             candidate cell
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)          output gate
        c' = f * c + i * g
        h' = o * tanh(c')

    Shapes: ``input`` ``(B, input_size)`` or ``(input_size,)``; ``hx`` a tuple ``(h, c)`` of
    ``(B, H)`` (or ``(H,)``) tensors, zeros when omitted; returns the tuple ``(h', c')``.

    Parameters: ``weight_ih`` ``(4H, input_size)`` and ``weight_hh`` ``(4H, H)``, the gates stacked
    as (i, f, g, o); ``bias_ih`` and ``bias_hh`` ``(4H,)``.

    >>> import minigrad
    >>> _ = minigrad.manual_seed(0)
    >>> cell = minigrad.nn.LSTMCell(10, 20)
    >>> x = minigrad.randn(6, 3, 10)
    >>> h, c = minigrad.zeros(3, 20), minigrad.zeros(3, 20)
    >>> for t in range(6):
    ...     h, c = cell(x[t], (h, c))
    >>> h.shape, c.shape
    ((3, 20), (3, 20))
    """

    _gates = 4

    def forward(  # noqa: A002
        self,
        input: Tensor,
        hx: tuple[Tensor, Tensor] | None = None,  # noqa: A002
    ) -> tuple[Tensor, Tensor]:
        x, batched = self._check_input(input)
        if hx is None:
            h = c = self._check_state(None, x, batched)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTMCell: hx must be a tuple (h, c) of two tensors")
            h = self._check_state(hx[0], x, batched, "hx[0] (h)")
            c = self._check_state(hx[1], x, batched, "hx[1] (c)")
        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(
            h, self.weight_hh, self.bias_hh
        )
        i, f, g, o = gates.chunk(4, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c_new = f * c + i * g
        h_new = o * c_new.tanh()
        if not batched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


# ==================================================================================================
# Fused recurrences: one Function for all time steps of one layer in one direction
# ==================================================================================================
#
# Each op takes the layer's input ``x`` (N, F), the initial state(s) (B, H) and the layer's weights,
# and returns one array (N + k*B, H): rows [0:N] are the hidden states h_t (the layer's output),
# then h_n (B rows), then, for the LSTM, c_n.
#
# Layout. The rows of ``x`` are the time steps of all sequences in packed order (see
# minigrad.nn.utils.rnn): step t occupies rows off[t] : off[t] + bs[t], the bs[t] sequences still
# running at step t, longest first. A plain (T, B) batch is the special case bs[t] = B, so one code
# path serves both. The input projection ``x W_ih^T + b_ih`` of every step is one matrix product
# before the loop; each step then adds ``h_{t-1} W_hh^T``, one matrix product for all the gates.
#
# The previous state of a step's rows: when every sequence has the same length it is simply the
# rows of the step processed just before (or the initial state), read in place. With sequences of
# different lengths a step may mix both (the reverse direction starts the shorter sequences later),
# so each step first copies its previous states into ``hprev`` (N, H). Either way dW_hh is one or
# two matrix products over all steps in backward.
#
# Speed. numpy's exp is about twice as fast as its tanh, so the gates' sigmoid(a) =
# 1 / (1 + exp(-a)) and tanh(a) = 2 / (1 + exp(-2a)) - 1 both go through exp; the factors -1 and -2
# are folded into scaled copies of the weights, so that one exp covers all the gates of a step (the
# LSTM's tanh(c), which no weight can scale, is one np.tanh). Every array is allocated before the
# loop, every step writes into it with ``out=``, and the big arrays come from a pool (below) so
# that their memory is not page-faulted in afresh at every call. Backward computes each step's
# derivative factors while that step's rows are in cache, and dW_hh, dW_ih and dx as one product
# each after the loop.


class _BufferPool:
    """Big scratch arrays reused from call to call.

    A training step allocates tens of megabytes of arrays of the same sizes again and again. Fresh
    memory is expensive: the operating system maps it page by page on first touch, which can cost
    more than the arithmetic done on it. The pool keeps the raw buffers (1-D uint8 arrays) and
    hands out views of them. A buffer is free again exactly when no array refers to it any more:
    numpy points every view straight at the buffer that owns the memory, so the buffer's reference
    count tells. Arrays from the pool may therefore be returned to the engine or kept by the user;
    their buffer is simply not reused until they are gone.
    """

    min_bytes = 1 << 17  # smaller arrays come from numpy directly (malloc reuses those well)

    def __init__(self, max_bytes: int = 1 << 28) -> None:
        self.max_bytes = max_bytes  # free buffers are forgotten beyond this total
        self._bufs: list[np.ndarray] = []
        self._lock = threading.Lock()
        probe = [np.empty(1, np.uint8)]
        self._free_refs = self._refs(probe, 0)
        view = probe[0][:1]
        # reference counts must show the views (not so in free-threaded Python): else no pooling
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
        self.enabled = gil and self._refs(probe, 0) == self._free_refs + 1
        del view

    @staticmethod
    def _refs(bufs: list[np.ndarray], i: int) -> int:
        return sys.getrefcount(bufs[i])

    def empty(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised array of ``shape`` and ``dtype``, reusing a free buffer if one fits."""
        dtype = np.dtype(dtype)
        nbytes = dtype.itemsize * math.prod(shape)
        if nbytes < self.min_bytes or not self.enabled:
            return np.empty(shape, dtype)
        with self._lock:
            bufs, best = self._bufs, -1
            for i in range(len(bufs)):
                size = bufs[i].nbytes
                if nbytes <= size <= 2 * nbytes and self._refs(bufs, i) == self._free_refs:
                    if best < 0 or size < bufs[best].nbytes:
                        best = i
            if best >= 0:
                buf = bufs.pop(best)
                bufs.append(buf)  # most recently used last
            else:
                buf = np.empty(nbytes, np.uint8)
                self._bufs.append(buf)
                self._trim()
            return buf[:nbytes].view(dtype).reshape(shape)

    def _trim(self) -> None:
        """Forget free buffers, least recently used first, while the pool holds too much."""
        total = sum(b.nbytes for b in self._bufs)
        i = 0
        while total > self.max_bytes and i < len(self._bufs):
            if self._refs(self._bufs, i) == self._free_refs:
                total -= self._bufs.pop(i).nbytes
            else:
                i += 1

    def clear(self) -> None:
        """Forget every buffer (memory in use stays with its arrays)."""
        with self._lock:
            self._bufs.clear()


_POOL = _BufferPool()


def empty_cache() -> None:
    """Release the scratch buffers that the recurrent layers keep between calls."""
    _POOL.clear()


def _schedule(batch_sizes: np.ndarray, reverse: bool) -> tuple[list[tuple[int, ...]], bool]:
    """The steps in processing order, ``(r0, r1, bs, k, p0, end)`` each, and whether bs is constant.

    Rows ``r0:r1`` (``bs`` of them) are this step's; the first ``k`` continue the sequences of the
    previously processed step, whose rows start at ``p0``; the others start from the initial state.
    Rows ``end:bs`` of this step are their sequences' last (their state goes to ``h_n``).
    """
    bs = [int(b) for b in batch_sizes]
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]]).astype(int).tolist()
    order = list(range(len(bs) - 1, -1, -1)) if reverse else list(range(len(bs)))
    steps = []
    for j, t in enumerate(order):
        b, r0 = bs[t], offsets[t]
        if j == 0:
            k, p0 = 0, 0
        else:
            prev = order[j - 1]
            k, p0 = min(b, bs[prev]), offsets[prev]
        end = min(b, bs[order[j + 1]]) if j + 1 < len(order) else 0
        steps.append((r0, r0 + b, b, k, p0, end))
    return steps, bs.count(bs[0]) == len(bs)


def _prev_state(
    step: tuple[int, ...],
    states: np.ndarray,
    init: np.ndarray,
    buf: np.ndarray | None,
    copy: bool = True,
) -> np.ndarray:
    """The previous state of a step's rows: a view when possible, else copied into ``buf`` rows.

    With ``copy=False`` (in backward) the rows of ``buf`` are known to be filled already.
    """
    r0, r1, bs, k, p0, _end = step
    if buf is None:  # every sequence has the same length: all rows continue, or all start
        return states[p0 : p0 + bs] if k else init
    dst = buf[r0:r1]
    if not copy:
        return dst
    if k:
        dst[:k] = states[p0 : p0 + k]
    if k < bs:
        dst[k:] = init[k:bs]
    return dst


def _prev_pieces(
    n: int, batch: int, reverse: bool, states: np.ndarray, init: np.ndarray, buf: np.ndarray | None
) -> list[tuple[slice, np.ndarray]]:
    """The previous state of every row, as (rows, array) pieces covering rows 0..N-1."""
    if buf is not None:
        return [(slice(0, n), buf)]
    if reverse:
        return [(slice(0, n - batch), states[batch:n]), (slice(n - batch, n), init)]
    return [(slice(0, batch), init), (slice(batch, n), states[: n - batch])]


def _weight_grad(d: np.ndarray, pieces: list[tuple[slice, np.ndarray]]) -> np.ndarray:
    """sum over the pieces of d[rows]^T @ prev: the gradient of W_hh (one product per piece)."""
    g = None
    for rows, prev in pieces:
        if rows.stop > rows.start:
            part = d[rows].T @ prev
            g = part if g is None else np.add(g, part, out=g)
    return g


def _table_rows(x, rows):
    """``(x, rows, scatter)`` for a layer whose input is ``x[rows]`` (``rows`` given) or ``x``.

    For a table of V rows of F features, N rows picked and gates G wide: picking rows of the
    projected table costs a copy of N x G numbers forward, and backward one product of
    ``2 V N G`` flops (a one-hot matrix times the gates' gradients), where picking the rows first
    costs products of ``2 N G F`` flops forward and twice that backward. So when ``V <= 2F`` and
    ``V <= N`` (a character vocabulary under a batch of text) the layer projects the table once
    and ``rows`` is kept. Otherwise it picks the rows first, as an embedding would, and
    ``scatter`` tells backward where to add their gradients back.
    """
    if rows is None:
        return x, None, None
    v, f = x.shape
    if rows.ndim != 1 or rows.dtype.kind not in "iu":
        raise TypeError(f"rows must be a 1-D integer array, got {rows.dtype} of shape {rows.shape}")
    if rows.size and (rows.min() < 0 or rows.max() >= v):
        raise IndexError(f"rows must lie in [0, {v}) for a table of {v} rows")
    if v <= 2 * f and v <= rows.size:
        return x, rows, None
    return x[rows], None, (rows, x.shape[0])


def _input_projection(x, w_ih, bias, scale, out, rows=None):
    """``out = (x W_ih^T + bias) * scale``: the input part of every step's gates, one GEMM.

    With ``rows``, ``x`` is a table and ``out`` is ``(x[rows] W_ih^T + bias) * scale``, made by
    projecting the table and picking rows of the result.

    When ``x`` is narrower than ``out`` (an LSTM's gates are 4H wide, a GRU's 3H), the bias rides
    inside the product, as a column of ones beside ``x`` and a column of bias beside ``W_ih``:
    copying ``x`` once is cheaper than one more pass over ``out``, the layer's largest array
    (an LSTM of H=512 on 64 inputs: 13 against 19 ms for 6,400 rows).
    """
    if rows is not None:
        table = np.empty((x.shape[0], out.shape[1]), dtype=out.dtype)
        _input_projection(x, w_ih, bias, scale, table)
        return np.take(table, rows, axis=0, out=out, mode="clip")  # "raise" would buffer
    n, f = x.shape
    if bias is None or f >= out.shape[1]:
        np.matmul(x, (w_ih * scale[:, None]).T, out=out)
        if bias is not None:
            out += bias * scale
        return out
    xa = _POOL.empty((n, f + 1), x.dtype)
    xa[:, :f] = x
    xa[:, f] = 1
    wa = np.empty((w_ih.shape[0], f + 1), dtype=out.dtype)
    np.multiply(w_ih, scale[:, None], out=wa[:, :f])
    np.multiply(bias, scale, out=wa[:, f])
    np.matmul(xa, wa.T, out=out)
    return out


def _input_grads(need, d_pre, x, w_ih, first, rows=None, scatter=None):
    """``(dx, dW_ih, d_in)`` from ``d_pre``, the gradient of the input part of the gates.

    The input bias's gradient is the column sums of ``d_in``: ``d_pre`` itself, or with ``rows``
    (``x`` a table, see :func:`_table_rows`) ``d_pre``'s rows summed per table row, which makes
    every product here as long as the table instead of the batch.
    """
    if rows is not None:  # one_hot(rows)^T d_pre: one GEMM (np.add.at would be 10 times slower)
        hot = np.zeros((x.shape[0], rows.size), dtype=d_pre.dtype)
        hot[rows, np.arange(rows.size)] = 1
        d_pre = hot @ d_pre
    dx = None
    if need[0]:
        dx = _POOL.empty((x.shape[0], w_ih.shape[1]), d_pre.dtype)
        np.matmul(d_pre, w_ih, out=dx)
        if scatter is not None:  # x held picked rows: add their gradients into the table's
            picked, size = scatter
            table = np.zeros((size, dx.shape[1]), dtype=dx.dtype)
            _add_rows_sorted(table, picked, dx)
            dx = table
    dw_ih = d_pre.T @ x if need[first] else None
    return dx, dw_ih, d_pre


class _OutputRows(Function):
    """``res[:n]``, the outputs h_t of a fused op; backward gives a dense gradient from the pool.

    Plain indexing would make the engine allocate a fresh zero array of ``res``'s shape to add
    the slice's gradient into; this spares that allocation in the usual case where only the
    outputs (not h_n) receive a gradient.
    """

    def forward(self, res, n):
        self.shape, self.n = res.shape, n
        return res[:n]

    def backward(self, grad):
        full = _POOL.empty(self.shape, grad.dtype)
        full[: self.n] = grad
        full[self.n :] = 0
        return full


class RNNRecurrence(Function):
    """An Elman RNN layer over all time steps.

    ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` with ``act`` tanh or relu.

    Inputs: ``x`` (N, F) in packed row order, ``h0`` (B, H), ``w_ih`` (H, F), ``w_hh`` (H, H), and
    optionally ``b_ih``, ``b_hh`` (H,). Params: ``batch_sizes``, ``reverse``, ``nonlinearity``
    ('tanh' or 'relu'), and optionally ``rows`` (N,): then ``x`` is a table (V, F), such as an
    embedding's weight, and row i of the input is ``x[rows[i]]``; x's gradient is the table's.
    Output (N + B, H): the states h_t, then h_n.

    The layers call it; called directly, it takes time-major rows (``x.reshape(T * B, F)``):

    >>> import numpy as np, minigrad
    >>> rnn = minigrad.nn.RNN(3, 5)
    >>> x, h0 = minigrad.randn(4 * 2, 3), minigrad.zeros(2, 5)       # T=4 steps of B=2
    >>> res = RNNRecurrence.apply(x, h0, *rnn.all_weights[0], batch_sizes=np.array([2, 2, 2, 2]),
    ...                           reverse=False, nonlinearity="tanh")
    >>> res.shape                                    # 8 rows of h_t, then the 2 rows of h_n
    (10, 5)
    """

    def forward(
        self,
        x,
        h0,
        w_ih,
        w_hh,
        b_ih=None,
        b_hh=None,
        *,
        batch_sizes,
        reverse,
        nonlinearity,
        rows=None,
    ):
        steps, equal = _schedule(batch_sizes, reverse)
        x, rows, self.scatter = _table_rows(x, rows)
        n = x.shape[0] if rows is None else rows.size
        batch, hid, dt = h0.shape[0], w_hh.shape[0], x.dtype
        relu = nonlinearity == "relu"
        scale = np.full(hid, 1 if relu else -2, dtype=dt)  # tanh(a) = 2 / (1 + exp(-2a)) - 1
        bias = b_ih + b_hh if b_ih is not None else None
        pre = _input_projection(x, w_ih, bias, scale, _POOL.empty((n, hid), dt), rows)
        w_t = (w_hh * scale[:, None]).T
        out = _POOL.empty((n + batch, hid), dt)
        hprev = None if equal else _POOL.empty((n, hid), dt)
        with np.errstate(over="ignore"):
            for step in steps:
                r0, r1, bs, _k, _p0, end = step
                hp = _prev_state(step, out, h0, hprev)
                y = out[r0:r1]
                np.matmul(hp, w_t, out=y)
                y += pre[r0:r1]
                if relu:
                    np.maximum(y, 0, out=y)
                else:
                    np.exp(y, out=y)
                    y += 1
                    np.divide(2, y, out=y)
                    y -= 1
                if end < bs:
                    out[n + end : n + bs] = y[end:]
        self.steps, self.reverse, self.relu = steps, reverse, relu
        self.x, self.h0, self.w_ih, self.w_hh, self.out, self.hprev = x, h0, w_ih, w_hh, out, hprev
        self.rows, self.has_bias = rows, b_ih is not None
        return out

    def backward(self, grad):
        steps, out, w_hh = self.steps, self.out, self.w_hh
        batch, hid = self.h0.shape
        n = out.shape[0] - batch
        dt = out.dtype
        d_pre = _POOL.empty((n, hid), dt)  # gradient of the pre-activation of every step
        deriv = np.empty((batch, hid), dtype=dt)
        carry = grad[n:].copy()  # dL/dh of each row's next use: h_n's gradient to begin with
        dh0 = np.empty((batch, hid), dtype=dt)
        dh = np.empty((batch, hid), dtype=dt)
        dy = grad[:n]
        for r0, r1, bs, k, _p0, _end in reversed(steps):
            np.add(dy[r0:r1], carry[:bs], out=dh[:bs])
            y, der = out[r0:r1], deriv[:bs]
            if self.relu:
                np.greater(y, 0, out=der)
            else:
                np.multiply(y, y, out=der)
                np.subtract(1, der, out=der)  # tanh' = 1 - h^2
            dp = d_pre[r0:r1]
            np.multiply(dh[:bs], der, out=dp)
            np.matmul(dp, w_hh, out=carry[:bs])
            if k < bs:
                dh0[k:bs] = carry[k:bs]
        need = self.needs_input_grad
        dx, dw_ih, d_in = _input_grads(need, d_pre, self.x, self.w_ih, 2, self.rows, self.scatter)
        dw_hh = None
        if need[3]:
            dw_hh = _weight_grad(
                d_pre, _prev_pieces(n, batch, self.reverse, out, self.h0, self.hprev)
            )
        res = [dx, dh0 if need[1] else None, dw_ih, dw_hh]
        if self.has_bias:
            db = d_in.sum(axis=0) if need[4] or need[5] else None
            res += [db if need[4] else None, db.copy() if need[5] else None]
        return tuple(res)


class GRURecurrence(Function):
    """A GRU layer over all time steps (gates r, z, n as in :class:`GRUCell`).

    Inputs: ``x`` (N, F) in packed row order, ``h0`` (B, H), ``w_ih`` (3H, F), ``w_hh`` (3H, H), and
    optionally ``b_ih``, ``b_hh`` (3H,). Params: ``batch_sizes``, ``reverse``, and optionally
    ``rows`` (as in :class:`RNNRecurrence`). Output (N + B, H): the states h_t, then h_n.

    >>> import numpy as np, minigrad
    >>> gru = minigrad.nn.GRU(3, 5)
    >>> x, h0 = minigrad.randn(3 + 2 + 1, 3), minigrad.zeros(3, 5)   # lengths 3, 2, 1, packed
    >>> res = GRURecurrence.apply(x, h0, *gru.all_weights[0], batch_sizes=np.array([3, 2, 1]),
    ...                           reverse=False)
    >>> res.shape                                    # 6 rows of h_t, then h_n of the 3 sequences
    (9, 5)
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, batch_sizes, reverse, rows=None):
        steps, equal = _schedule(batch_sizes, reverse)
        x, rows, self.scatter = _table_rows(x, rows)
        n = x.shape[0] if rows is None else rows.size
        batch, hid, dt = h0.shape[0], w_hh.shape[1], x.dtype
        h2 = 2 * hid
        # r, z: sigmoid(a) = 1 / (1 + exp(-a)); n: tanh(a) = 2 / (1 + exp(-2a)) - 1. With every
        # term scaled by (-1, -1, -2), r * gh_n + gi_n comes out already multiplied by -2.
        scale = np.full(3 * hid, -1, dtype=dt)
        scale[h2:] = -2
        bias = None
        b_hn = None
        if b_ih is not None:
            bias = b_ih.copy()
            bias[:h2] += b_hh[:h2]  # b_hr, b_hz add to the input part; b_hn stays inside r * (...)
            b_hn = b_hh[h2:] * -2
        gi = _input_projection(x, w_ih, bias, scale, _POOL.empty((n, 3 * hid), dt), rows)
        w_t = (w_hh * scale[:, None]).T
        # r, z and n of every step, in two arrays so that each step works on contiguous rows
        act_rz = _POOL.empty((n, h2), dt)
        act_n = _POOL.empty((n, hid), dt)
        ghn = _POOL.empty((n, hid), dt)  # -2 (h W_hn^T + b_hn), kept for backward
        out = _POOL.empty((n + batch, hid), dt)
        hprev = None if equal else _POOL.empty((n, hid), dt)
        rec = np.empty((batch, 3 * hid), dtype=dt)
        with np.errstate(over="ignore"):
            for step in steps:
                r0, r1, bs, _k, _p0, end = step
                hp = _prev_state(step, out, h0, hprev)
                g = rec[:bs]
                np.matmul(hp, w_t, out=g)
                rz = act_rz[r0:r1]
                np.add(gi[r0:r1, :h2], g[:, :h2], out=rz)
                np.exp(rz, out=rz)
                rz += 1
                np.divide(1, rz, out=rz)
                gn = ghn[r0:r1]
                if b_hn is not None:
                    np.add(g[:, h2:], b_hn, out=gn)
                else:
                    gn[...] = g[:, h2:]
                cand = act_n[r0:r1]
                np.multiply(rz[:, :hid], gn, out=cand)
                cand += gi[r0:r1, h2:]
                np.exp(cand, out=cand)
                cand += 1
                np.divide(2, cand, out=cand)
                cand -= 1
                y = out[r0:r1]
                np.subtract(hp, cand, out=y)  # h' = n + z * (h - n)
                y *= rz[:, hid:]
                y += cand
                if end < bs:
                    out[n + end : n + bs] = y[end:]
        self.steps, self.reverse = steps, reverse
        self.x, self.h0, self.w_ih, self.w_hh = x, h0, w_ih, w_hh
        self.act_rz, self.act_n, self.ghn, self.out, self.hprev = act_rz, act_n, ghn, out, hprev
        self.rows, self.has_bias = rows, b_ih is not None
        return out

    def backward(self, grad):
        steps, act_rz, act_n, ghn = self.steps, self.act_rz, self.act_n, self.ghn
        w_hh, out = self.w_hh, self.out
        batch, hid = self.h0.shape
        n = out.shape[0] - batch
        h2, dt = 2 * hid, out.dtype
        d_gi = _POOL.empty((n, 3 * hid), dt)  # gradient of the input part of the gates
        d_gh = _POOL.empty((n, 3 * hid), dt)  # gradient of h W_hh^T + b_hh
        carry = grad[n:].copy()  # dL/dh_t from later steps (h_n's gradient at first)
        dh0 = np.empty((batch, hid), dtype=dt)
        dh = np.empty((batch, hid), dtype=dt)
        deriv = np.empty((batch, h2), dtype=dt)
        t1 = np.empty((batch, hid), dtype=dt)
        t2 = np.empty((batch, hid), dtype=dt)
        dy = grad[:n]
        for step in reversed(steps):
            r0, r1, bs, k, _p0, _end = step
            rz, cand = act_rz[r0:r1], act_n[r0:r1]
            r, z = rz[:, :hid], rz[:, hid:]
            hp = _prev_state(step, out, self.h0, self.hprev, copy=False)
            d = np.add(dy[r0:r1], carry[:bs], out=dh[:bs])
            di, dg = d_gi[r0:r1], d_gh[r0:r1]
            der = deriv[:bs]  # s (1 - s) for r and z
            np.subtract(1, rz, out=der)
            der *= rz
            # h' = (1 - z) n + z h:  dz = dh (h - n),  dn = dh (1 - z),  dh_prev += dh z
            u = np.subtract(hp, cand, out=t1[:bs])
            u *= d
            np.multiply(u, der[:, hid:], out=di[:, hid:h2])
            # n = tanh(a_n), a_n = gi_n + r gh_n:  da_n = dn (1 - n^2)
            v = np.multiply(cand, cand, out=t2[:bs])
            np.subtract(1, v, out=v)
            dn = di[:, h2:]
            np.subtract(1, z, out=dn)
            dn *= d
            dn *= v
            # dr = da_n gh_n (gh_n was kept multiplied by -2), then through the sigmoid
            dr = di[:, :hid]
            np.multiply(dn, ghn[r0:r1], out=dr)
            dr *= der[:, :hid]
            dr *= -0.5
            dg[:, :h2] = di[:, :h2]
            np.multiply(dn, r, out=dg[:, h2:])
            np.matmul(dg, w_hh, out=carry[:bs])
            u = np.multiply(d, z, out=t1[:bs])
            carry[:bs] += u
            if k < bs:
                dh0[k:bs] = carry[k:bs]
        need = self.needs_input_grad
        dx, dw_ih, d_in = _input_grads(need, d_gi, self.x, self.w_ih, 2, self.rows, self.scatter)
        dw_hh = None
        if need[3]:
            dw_hh = _weight_grad(
                d_gh, _prev_pieces(n, batch, self.reverse, out, self.h0, self.hprev)
            )
        res = [dx, dh0 if need[1] else None, dw_ih, dw_hh]
        if self.has_bias:
            res += [
                d_in.sum(axis=0) if need[4] else None,
                d_gh.sum(axis=0) if need[5] else None,
            ]
        return tuple(res)


class LSTMRecurrence(Function):
    """An LSTM layer over all time steps (gates i, f, g, o as in :class:`LSTMCell`).

    Inputs: ``x`` (N, F) in packed row order, ``h0`` and ``c0`` (B, H), ``w_ih`` (4H, F),
    ``w_hh`` (4H, H), and optionally ``b_ih``, ``b_hh`` (4H,). Params: ``batch_sizes``,
    ``reverse``, and optionally ``rows`` (as in :class:`RNNRecurrence`). Output (N + 2B, H): the
    states h_t, then h_n, then c_n.

    >>> import numpy as np, minigrad
    >>> lstm = minigrad.nn.LSTM(3, 5)
    >>> x, h0 = minigrad.randn(4 * 2, 3), minigrad.zeros(2, 5)       # T=4 steps of B=2
    >>> res = LSTMRecurrence.apply(x, h0, h0, *lstm.all_weights[0],
    ...                            batch_sizes=np.array([2, 2, 2, 2]), reverse=True)
    >>> res.shape                                    # 8 rows of h_t, then h_n, then c_n
    (12, 5)
    """

    def forward(
        self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, batch_sizes, reverse, rows=None
    ):
        steps, equal = _schedule(batch_sizes, reverse)
        x, rows, self.scatter = _table_rows(x, rows)
        n = x.shape[0] if rows is None else rows.size
        batch, hid, dt = h0.shape[0], w_hh.shape[1], x.dtype
        # sigmoid(a) = 1 / (1 + exp(-a)) for i, f, o; tanh(a) = 2 / (1 + exp(-2a)) - 1 for g
        scale = np.full(4 * hid, -1, dtype=dt)
        scale[2 * hid : 3 * hid] = -2
        bias = b_ih + b_hh if b_ih is not None else None
        # the input part of every step's gates; each step adds h W_hh^T and activates in place
        gates = _input_projection(x, w_ih, bias, scale, _POOL.empty((n, 4 * hid), dt), rows)
        w_t = (w_hh * scale[:, None]).T
        out = _POOL.empty((n + 2 * batch, hid), dt)
        cell = _POOL.empty((n, hid), dt)
        tanh_c = _POOL.empty((n, hid), dt)
        hprev = cprev = None
        if not equal:
            hprev, cprev = _POOL.empty((n, hid), dt), _POOL.empty((n, hid), dt)
        rec = np.empty((batch, 4 * hid), dtype=dt)
        tmp = np.empty((batch, hid), dtype=dt)
        h_n, c_n = out[n : n + batch], out[n + batch :]
        with np.errstate(over="ignore"):
            for step in steps:
                r0, r1, bs, _k, _p0, end = step
                hp = _prev_state(step, out, h0, hprev)
                cp = _prev_state(step, cell, c0, cprev)
                g = gates[r0:r1]
                np.matmul(hp, w_t, out=rec[:bs])
                g += rec[:bs]
                np.exp(g, out=g)
                g += 1
                np.divide(1, g, out=g)
                gg = g[:, 2 * hid : 3 * hid]
                gg *= 2
                gg -= 1
                c = cell[r0:r1]
                np.multiply(g[:, hid : 2 * hid], cp, out=c)
                np.multiply(g[:, :hid], gg, out=tmp[:bs])
                c += tmp[:bs]
                tc = np.tanh(c, out=tanh_c[r0:r1])  # one call beats the exp route here
                y = out[r0:r1]
                np.multiply(g[:, 3 * hid :], tc, out=y)
                if end < bs:
                    h_n[end:bs] = y[end:]
                    c_n[end:bs] = c[end:]
        self.steps, self.reverse = steps, reverse
        self.x, self.h0, self.c0, self.w_ih, self.w_hh = x, h0, c0, w_ih, w_hh
        self.gates, self.cell, self.tanh_c, self.out = gates, cell, tanh_c, out
        self.hprev, self.cprev = hprev, cprev
        self.rows, self.has_bias = rows, b_ih is not None
        return out

    def backward(self, grad):
        steps, gates, tanh_c, cell, w_hh = self.steps, self.gates, self.tanh_c, self.cell, self.w_hh
        batch, hid = self.h0.shape
        n, dt = gates.shape[0], gates.dtype
        h2, h3 = 2 * hid, 3 * hid
        d_gates = _POOL.empty((n, 4 * hid), dt)  # gradient of the gates' pre-activations
        dy = grad[:n]
        carry_h = grad[n : n + batch].copy()  # dL/dh_t from later steps (h_n's gradient at first)
        carry_c = grad[n + batch :].copy()
        dh0 = np.empty((batch, hid), dtype=dt)
        dc0 = np.empty((batch, hid), dtype=dt)
        dh = np.empty((batch, hid), dtype=dt)
        k_c = np.empty((batch, hid), dtype=dt)
        deriv = np.empty((batch, 4 * hid), dtype=dt)
        for step in reversed(steps):
            r0, r1, bs, k, _p0, _end = step
            a = gates[r0:r1]  # i, f, g, o of this step
            i, f, g, o = a[:, :hid], a[:, hid:h2], a[:, h2:h3], a[:, h3:]
            tc = tanh_c[r0:r1]
            cp = _prev_state(step, cell, self.c0, self.cprev, copy=False)
            d = np.add(dy[r0:r1], carry_h[:bs], out=dh[:bs])
            # dc = dL/dc_t: from c_{t+1} (the carry) and through h_t = o tanh(c_t)
            kc = np.multiply(tc, tc, out=k_c[:bs])
            np.subtract(1, kc, out=kc)
            kc *= o
            kc *= d
            dc = carry_c[:bs]
            dc += kc
            # the gates' derivatives: s (1 - s) for i, f, o and 1 - g^2 for g
            der = deriv[:bs]
            np.subtract(1, a, out=der)
            der *= a
            dg_ = der[:, h2:h3]
            np.multiply(g, g, out=dg_)
            np.subtract(1, dg_, out=dg_)
            # dL/d(gate) times its derivative
            da = d_gates[r0:r1]
            np.multiply(dc, g, out=da[:, :hid])
            np.multiply(dc, cp, out=da[:, hid:h2])
            np.multiply(dc, i, out=da[:, h2:h3])
            np.multiply(d, tc, out=da[:, h3:])
            da *= der
            dc *= f  # the carry to c_{t-1}
            np.matmul(da, w_hh, out=carry_h[:bs])
            if k < bs:
                dh0[k:bs] = carry_h[k:bs]
                dc0[k:bs] = carry_c[k:bs]
        need = self.needs_input_grad
        dx, dw_ih, d_in = _input_grads(need, d_gates, self.x, self.w_ih, 3, self.rows, self.scatter)
        dw_hh = None
        if need[4]:
            pieces = _prev_pieces(n, batch, self.reverse, self.out, self.h0, self.hprev)
            dw_hh = _weight_grad(d_gates, pieces)
        res = [dx, dh0 if need[1] else None, dc0 if need[2] else None, dw_ih, dw_hh]
        if self.has_bias:
            db = d_in.sum(axis=0) if need[5] or need[6] else None
            res += [db if need[5] else None, db.copy() if need[6] else None]
        return tuple(res)


# ==================================================================================================
# Layers: stacks of layers, optionally bidirectional, over whole sequences
# ==================================================================================================


class RNNBase(Module):
    """What :class:`RNN`, :class:`GRU` and :class:`LSTM` share (see those for the details).

    Parameters, for layer ``k`` (and with the suffix ``_reverse`` for the reverse direction of a
    bidirectional layer): ``weight_ih_l{k}`` ``(G*H, input_size)`` for ``k = 0`` and
    ``(G*H, D*H)`` above; ``weight_hh_l{k}`` ``(G*H, H)``; ``bias_ih_l{k}``, ``bias_hh_l{k}``
    ``(G*H,)``; ``G`` = 1, 3 or 4 gates. All start from U(-1/sqrt(H), 1/sqrt(H)).

    >>> import minigrad
    >>> gru = minigrad.nn.GRU(3, 5, num_layers=2, bidirectional=True)
    >>> list(gru.state_dict())[-4:]
    ['weight_ih_l1_reverse', 'weight_hh_l1_reverse', 'bias_ih_l1_reverse', 'bias_hh_l1_reverse']
    >>> gru.weight_ih_l1.shape                       # layer 1 reads both directions: 2 * 5
    (15, 10)
    """

    _gates = 1

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if isinstance(dropout, bool) or not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(
                f"{name}: dropout should be a number in [0, 1] representing the probability of an"
                f" element being zeroed, got {dropout!r}"
            )
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        dt = _dtype.as_dtype(dtype)
        dirs = 2 if bidirectional else 1
        gate_size = self._gates * hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * dirs
            for direction in range(dirs):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [
                    ("weight_ih", (gate_size, layer_input)),
                    ("weight_hh", (gate_size, hidden_size)),
                ]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                names = []
                for base, shape in shapes:
                    setattr(self, base + suffix, Parameter(np.empty(shape, dtype=dt)))
                    names.append(base + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters, one list ``[w_ih, w_hh, b_ih, b_hh]`` per layer and direction."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Does nothing (PyTorch uses it to pack weights for cuDNN); kept so that code ports."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ------------------------------------------------------------------ running
    def _states(self, hx: Any, batch: int, batched: bool, dtype: np.dtype) -> list[Tensor]:
        """The initial states, each (L*D, B, H), checked: [h0] or [h0, c0] for the LSTM."""
        name = type(self).__name__
        dirs = 2 if self.bidirectional else 1
        lstm = self.mode == "LSTM"
        n_states = 2 if lstm else 1
        if hx is None:
            zeros = _wrap(np.zeros((self.num_layers * dirs, batch, self.hidden_size), dtype=dtype))
            return [zeros] * n_states
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0) of two tensors")
            states, labels = list(hx), ["hx[0] (h_0)", "hx[1] (c_0)"]
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{name}: hx must be a Tensor (only LSTM takes a tuple (h_0, c_0))")
            states, labels = [hx], ["hx"]
        expected = (self.num_layers * dirs, batch, self.hidden_size)
        if not batched:
            expected = (expected[0], expected[2])
        out = []
        for s, label in zip(states, labels):
            if not isinstance(s, Tensor):
                raise TypeError(f"{name}: {label} must be a Tensor, got {type(s).__name__}")
            if s.shape != expected:
                layout = (
                    "(num_layers * num_directions, batch, hidden_size)"
                    if batched
                    else "(num_layers * num_directions, hidden_size)"
                )
                raise ValueError(
                    f"{name}: {label} has shape {s.shape}, expected {expected} = {layout} with"
                    f" num_layers={self.num_layers}, num_directions={dirs}, batch={batch},"
                    f" hidden_size={self.hidden_size}"
                )
            _check_dtype(name, label, s, self.weight_ih_l0)
            out.append(s if batched else s.unsqueeze(1))
        return out

    def _direction(
        self,
        x: Tensor,
        states: list[Tensor],
        layer: int,
        reverse: bool,
        batch_sizes: np.ndarray,
        rows: np.ndarray | None = None,
    ) -> tuple[Tensor, list[Tensor]]:
        """One layer in one direction over packed rows ``x`` (N, F), or ``x[rows]`` if given.

        Returns the outputs (N, H) and the final states [h_n] or [h_n, c_n], each (B, H).
        """
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        weights = [getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)]
        if self.bias:
            weights += [getattr(self, "bias_ih" + suffix), getattr(self, "bias_hh" + suffix)]
        if self.mode == "LSTM":
            res = LSTMRecurrence.apply(
                x, *states, *weights, batch_sizes=batch_sizes, reverse=reverse, rows=rows
            )
        elif self.mode == "GRU":
            res = GRURecurrence.apply(
                x, *states, *weights, batch_sizes=batch_sizes, reverse=reverse, rows=rows
            )
        else:
            res = RNNRecurrence.apply(
                x,
                *states,
                *weights,
                batch_sizes=batch_sizes,
                reverse=reverse,
                nonlinearity=self.nonlinearity,
                rows=rows,
            )
        n, batch = (x.shape[0] if rows is None else rows.size), states[0].shape[0]
        finals = [res[n + j * batch : n + (j + 1) * batch] for j in range(len(states))]
        return _OutputRows.apply(res, n=n), finals

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:  # noqa: A002
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        batched = True
        if packed:
            x = input.data
            batch_sizes = np.asarray(input.batch_sizes.data, dtype=np.int64)
            if x.ndim != 2:
                raise ValueError(
                    f"{name}: a PackedSequence's data must be 2-D (sum(lengths), input_size), got"
                    f" shape {x.shape}"
                )
            steps, batch = batch_sizes.size, int(batch_sizes[0])
            if x.shape[0] != int(batch_sizes.sum()) or np.any(np.diff(batch_sizes) > 0):
                raise ValueError(
                    f"{name}: a PackedSequence with batch_sizes {batch_sizes.tolist()} needs"
                    f" non-increasing batch sizes and {int(batch_sizes.sum())} rows of data, got"
                    f" data of shape {x.shape}; build it with pack_padded_sequence"
                )
        else:
            if not isinstance(input, Tensor):
                raise TypeError(
                    f"{name}: input must be a Tensor or a PackedSequence, got"
                    f" {type(input).__name__}"
                )
            if input.ndim not in (2, 3):
                layout = "batch, seq_len" if self.batch_first else "seq_len, batch"
                raise ValueError(
                    f"{name}: expected input to be 3-D ({layout}, input_size) or 2-D"
                    f" (seq_len, input_size), got shape {input.shape}"
                )
            batched = input.ndim == 3
            x = input
            if not batched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
            steps, batch = x.shape[0], x.shape[1]
            if steps == 0 or batch == 0:
                raise ValueError(f"{name}: got an empty input of shape {input.shape}")
            batch_sizes = np.full(steps, batch, dtype=np.int64)
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size},"
                f" got {x.shape[-1]} (input shape {(input.data if packed else input).shape})"
            )
        _check_dtype(name, "input", x, self.weight_ih_l0)
        states = self._states(hx, batch, batched, x.dtype)
        if packed and hx is not None and input.sorted_indices is not None:
            states = [s[:, input.sorted_indices.data] for s in states]
        if not packed:
            x = x.reshape(steps * batch, self.input_size)

        x, h_finals = self._layers(x, states, batch_sizes)
        if packed:
            if input.unsorted_indices is not None:
                h_finals = [h[:, input.unsorted_indices.data] for h in h_finals]
            output: Any = PackedSequence(
                x, input.batch_sizes, input.sorted_indices, input.unsorted_indices
            )
            return self._result(output, h_finals)
        return self._unpacked_result(x, h_finals, steps, batch, batched)

    def _layers(
        self,
        x: Tensor,
        states: list[Tensor],
        batch_sizes: np.ndarray,
        rows: np.ndarray | None = None,
    ) -> tuple[Tensor, list[Tensor]]:
        """Every layer over the packed rows ``x`` (or ``x[rows]``): the last outputs, h_n (c_n)."""
        dirs = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for direction in range(dirs):
                idx = layer * dirs + direction
                init_states = [s[idx] for s in states]
                y, fin = self._direction(x, init_states, layer, direction == 1, batch_sizes, rows)
                outs.append(y)
                for acc, f in zip(finals, fin):
                    acc.append(f)
            x, rows = (outs[0] if dirs == 1 else cat(outs, dim=1)), None
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return x, [stack(acc, 0) for acc in finals]

    def _unpacked_result(
        self, x: Tensor, h_finals: list[Tensor], steps: int, batch: int, batched: bool
    ) -> tuple[Any, Any]:
        """The outputs (N, D*H) reshaped to the input's layout, and the final states."""
        dirs = 2 if self.bidirectional else 1
        output = x.reshape(steps, batch, dirs * self.hidden_size)
        if not batched:
            output = output.squeeze(1)
            h_finals = [h.squeeze(1) for h in h_finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return self._result(output, h_finals)

    def _result(self, output: Any, h_finals: list[Tensor]) -> tuple[Any, Any]:
        if self.mode == "LSTM":
            return output, (h_finals[0], h_finals[1])
        return output, h_finals[0]

    def forward_embedded(self, embedding: Any, ids: Any, hx: Any = None) -> tuple[Any, Any]:
        """``self(embedding(ids), hx)``, computed faster when the vocabulary is small.

        ``embedding`` is an :class:`~minigrad.nn.Embedding` whose ``embedding_dim`` is this
        layer's ``input_size``; ``ids`` are integer token ids shaped like the input without its
        last dimension: ``(T, B)`` (``(B, T)`` with ``batch_first``) or ``(T,)``. The outputs,
        states and every gradient are those of ``self(embedding(ids), hx)``, up to float
        rounding. The difference is speed: the first layer multiplies each *row of the table* by
        ``W_ih`` once, rather than each of the ``T * B`` picked rows, and in backward sums the
        gates' gradients per symbol (one one-hot product) before the products that give the
        gradients of the table, ``W_ih`` and the bias. For a character LSTM (83 symbols, 6,400 ids
        a batch) those products are 83 rows long instead of 6,400. An
        embedding with ``padding_idx``, or a subclass with its own ``forward``, takes the
        ordinary route.

        >>> import minigrad
        >>> emb, lstm = minigrad.nn.Embedding(10, 4), minigrad.nn.LSTM(4, 8)
        >>> ids = minigrad.tensor([[1, 2], [3, 1], [1, 1]])         # T=3 steps, B=2
        >>> out, (h, c) = lstm.forward_embedded(emb, ids)
        >>> ref, _ = lstm(emb(ids))
        >>> tuple(out.shape), bool(abs(out - ref).max().item() < 1e-6)
        ((3, 2, 8), True)
        """
        name = type(self).__name__
        from .layers import Embedding

        if not isinstance(embedding, Embedding):
            raise TypeError(
                f"{name}.forward_embedded: embedding must be an nn.Embedding, got"
                f" {type(embedding).__name__}"
            )
        if embedding.embedding_dim != self.input_size:
            raise ValueError(
                f"{name}.forward_embedded: the embedding has embedding_dim="
                f"{embedding.embedding_dim} but the layer expects input_size={self.input_size}"
            )
        if embedding.padding_idx is not None or type(embedding).forward is not Embedding.forward:
            return self(embedding(ids), hx)
        v = embedding.num_embeddings
        idx = F._embedding_indices(ids, v, f"{name}.forward_embedded")
        if idx.ndim not in (1, 2):
            layout = "batch, seq_len" if self.batch_first else "seq_len, batch"
            raise ValueError(
                f"{name}.forward_embedded: expected ids of shape ({layout}) or (seq_len,), got"
                f" shape {idx.shape}"
            )
        if idx.size == 0:
            raise ValueError(f"{name}.forward_embedded: got empty ids of shape {idx.shape}")
        table = embedding.weight
        _check_dtype(name, "the embedding", table, self.weight_ih_l0)
        batched = idx.ndim == 2
        steps_first = idx if not batched else (idx.T if self.batch_first else idx)
        if not batched:
            steps_first = steps_first[:, None]
        steps, batch = steps_first.shape
        rows = np.ascontiguousarray(steps_first, dtype=np.intp).reshape(-1)
        states = self._states(hx, batch, batched, table.dtype)
        batch_sizes = np.full(steps, batch, dtype=np.int64)
        x, h_finals = self._layers(table, states, batch_sizes, rows)
        return self._unpacked_result(x, h_finals, steps, batch, batched)


_LAYER_DOC_COMMON = """
    Args:
        input_size: features of each input step.
        hidden_size: ``H``, features of the hidden state.
        num_layers: stacked layers; layer ``k > 0`` reads the outputs of layer ``k - 1``
            (``D * H`` features).
        bias: whether the layers have ``bias_ih_l{{k}}`` and ``bias_hh_l{{k}}``.
        batch_first: input and output as ``(B, T, *)`` instead of ``(T, B, *)`` (the states
            keep the batch on their second dimension either way).
        dropout: probability of dropout on the outputs of every layer except the last, in
            training mode only.
        bidirectional: run a second layer over the reversed sequence in each layer and join the
            two outputs (``D = 2``).
        dtype: of the parameters (the default dtype when omitted).

    Inputs: ``input`` of shape ``(T, B, input_size)`` (``(B, T, input_size)`` with
    ``batch_first``), ``(T, input_size)`` for one unbatched sequence, or a
    :class:`~minigrad.nn.utils.rnn.PackedSequence` for a batch of different lengths; and the
    initial state {hx_doc}, zeros when omitted.

    Outputs: ``output``, the last layer's hidden state at every step, ``(T, B, D * H)`` (or
    ``(B, T, D * H)``, or a PackedSequence when the input was one); and {hn_doc}. For a packed
    input the final states are each sequence's own last state; for the reverse direction they
    are the states after reading each sequence back to its first step.
"""


class RNN(RNNBase):
    """A stack of Elman RNN layers: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    ``nonlinearity='relu'`` uses relu instead of tanh. Parameters per layer ``k`` (``_reverse`` for
    the reverse direction): ``weight_ih_l{k}`` ``(H, input_size or D*H)``, ``weight_hh_l{k}``
    ``(H, H)``, ``bias_ih_l{k}`` and ``bias_hh_l{k}`` ``(H,)``.
    {common}
    >>> import minigrad
    >>> _ = minigrad.manual_seed(0)
    >>> rnn = minigrad.nn.RNN(10, 20, num_layers=2)
    >>> x = minigrad.randn(5, 3, 10)                 # T=5, B=3
    >>> output, h_n = rnn(x, minigrad.zeros(2, 3, 20))
    >>> output.shape, h_n.shape
    ((5, 3, 20), (2, 3, 20))
    """

    _gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
        )


class GRU(RNNBase):
    """A stack of GRU layers (the equations of :class:`GRUCell` at every step).

    Parameters per layer ``k`` (``_reverse`` for the reverse direction): ``weight_ih_l{k}``
    ``(3H, input_size or D*H)`` and ``weight_hh_l{k}`` ``(3H, H)``, the gates stacked as (r, z, n);
    ``bias_ih_l{k}`` and ``bias_hh_l{k}`` ``(3H,)``.
    {common}
    >>> import minigrad
    >>> _ = minigrad.manual_seed(0)
    >>> gru = minigrad.nn.GRU(10, 20, batch_first=True, bidirectional=True)
    >>> output, h_n = gru(minigrad.randn(3, 5, 10))  # B=3, T=5
    >>> output.shape, h_n.shape
    ((3, 5, 40), (2, 3, 20))
    """

    _gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
        )


class LSTM(RNNBase):
    """A stack of LSTM layers (the equations of :class:`LSTMCell` at every step).

    Parameters per layer ``k`` (``_reverse`` for the reverse direction): ``weight_ih_l{k}``
    ``(4H, input_size or D*H)`` and ``weight_hh_l{k}`` ``(4H, H)``, the gates stacked as
    (i, f, g, o); ``bias_ih_l{k}`` and ``bias_hh_l{k}`` ``(4H,)``.
    {common}
    A many-to-one classifier over sequences of different lengths reads each sequence's last state
    from ``h_n``:

    >>> import minigrad
    >>> from minigrad.nn.utils.rnn import pack_padded_sequence
    >>> _ = minigrad.manual_seed(0)
    >>> lstm = minigrad.nn.LSTM(10, 20)
    >>> x = minigrad.randn(7, 3, 10)                 # padded to T=7, B=3
    >>> packed = pack_padded_sequence(x, [4, 7, 2], enforce_sorted=False)
    >>> _, (h_n, c_n) = lstm(packed)
    >>> h_n.shape                                    # (L*D, B, H), in the original batch order
    (1, 3, 20)
    """

    _gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype: Any = None,
    ) -> None:
        if proj_size:
            raise NotImplementedError("LSTM: proj_size is not supported in minigrad")
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
        )


_STATE_DOCS = {
    RNN: (
        "``hx`` of shape ``(L*D, B, H)`` (``(L*D, H)`` unbatched)",
        "``h_n``, the final hidden state of every layer and direction, ``(L*D, B, H)``",
    ),
    GRU: (
        "``hx`` of shape ``(L*D, B, H)`` (``(L*D, H)`` unbatched)",
        "``h_n``, the final hidden state of every layer and direction, ``(L*D, B, H)``",
    ),
    LSTM: (
        "``hx = (h_0, c_0)``, each ``(L*D, B, H)`` (``(L*D, H)`` unbatched)",
        "``(h_n, c_n)``, the final hidden and cell states, each ``(L*D, B, H)``",
    ),
}
for _cls, (_hx, _hn) in _STATE_DOCS.items():
    _cls.__doc__ = _cls.__doc__.replace(
        "{common}", _LAYER_DOC_COMMON.format(hx_doc=_hx, hn_doc=_hn)
    )


# ==================================================================================================
# Helpers
# ==================================================================================================


def _check_sizes(name: str, input_size: int, hidden_size: int) -> None:
    for label, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{name}: {label} must be a positive int, got {v!r}")


def _check_dtype(name: str, label: str, t: Tensor, weight: Tensor) -> None:
    if t.dtype != weight.dtype:
        raise TypeError(
            f"{name}: {label} has dtype {t.dtype} but the parameters are {weight.dtype}; convert"
            f" one of them (tensor.to(dtype), or module.double() / module.float())"
        )
