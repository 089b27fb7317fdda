"""Recurrent layers: ``RNNCell``, ``GRUCell``, ``LSTMCell`` and the stacks ``RNN``, ``GRU``, ``LSTM``.

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
numbers faster: for each layer and direction, the input projection ``x W_ih^T + b_ih`` for every
time step is one matrix product (:func:`minigrad.nn.functional.linear`), and then one fused
operation (:class:`RNNRecurrence`, :class:`GRURecurrence`, :class:`LSTMRecurrence`) runs the
recurrence over all time steps in numpy and has its backpropagation through time written out by
hand. The tests check that the two agree, values and gradients, in float64.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype
from ..tensor import Function, Tensor, _wrap, cat, stack
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
]


# ==================================================================================================
# Cells: one time step, written op by op
# ==================================================================================================


class RNNCellBase(Module):
    """What the three cells share: the weights, their initialisation and the argument checks.

    ``weight_ih`` is ``(G * H, input_size)`` and ``weight_hh`` is ``(G * H, H)`` with ``G`` = 1 (RNN),
    3 (GRU) or 4 (LSTM) gates stacked in PyTorch's order; ``bias_ih`` and ``bias_hh`` are
    ``(G * H,)``. All start from U(-1/sqrt(H), 1/sqrt(H)).
    """

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None) -> None:
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
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None  # noqa: A002
    ) -> tuple[Tensor, Tensor]:
        x, batched = self._check_input(input)
        if hx is None:
            h = c = self._check_state(None, x, batched)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTMCell: hx must be a tuple (h, c) of two tensors")
            h = self._check_state(hx[0], x, batched, "hx[0] (h)")
            c = self._check_state(hx[1], x, batched, "hx[1] (c)")
        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
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
# Layout. The rows of ``xw`` (N, G*H) are the time steps of all sequences in packed order (see
# minigrad.nn.utils.rnn): step t occupies rows off[t] : off[t] + bs[t], the bs[t] sequences that
# are still running, longest first. A plain (T, B) batch is the special case bs[t] = B, so one code
# path serves both. Each op returns one array ``(N + k*B, H)``: rows [0:N] are the hidden states
# h_t in the same layout (the layer's output), then h_n (B rows), then, for the LSTM, c_n.
#
# Each step reads the previous hidden state of its rows from ``hprev`` (N, H), which the step fills
# first: its first ``k`` rows come from the step processed just before (the same sequences, one
# step earlier in processing order) and the rest from the initial state (sequences that start
# here: all of them at the first step, and in the reverse direction those that are shorter).
# Keeping hprev whole makes dW_hh one matrix product over all steps in backward.
#
# Speed. numpy's exp is about twice as fast as its tanh, so sigmoid(x) = 1 / (1 + exp(-x)) and
# tanh(x) = 2 / (1 + exp(-2x)) - 1 both go through exp; the factors -1 and -2 are folded into a
# scaled copy of W_hh and of the input projection, so that one exp covers all the gates of a step.
# Every array is allocated before the loop and every step writes into it with ``out=``.


def _schedule(batch_sizes: np.ndarray, reverse: bool) -> list[tuple[int, int, int, int, int, int]]:
    """The steps in processing order: ``(r0, r1, bs, k, p0, end)`` each.

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
    return steps


def _fill_prev(dst: np.ndarray, src: np.ndarray, init: np.ndarray, k: int, p0: int) -> None:
    """``dst`` = the previous state of a step's rows: ``src[p0:p0+k]`` then ``init[k:]``."""
    if k:
        dst[:k] = src[p0 : p0 + k]
    if k < dst.shape[0]:
        dst[k:] = init[k : dst.shape[0]]


def _tanh_(x: np.ndarray) -> np.ndarray:
    """tanh in place as 2 / (1 + exp(-2x)) - 1 (faster than np.tanh); caller ignores overflow."""
    x *= -2
    np.exp(x, out=x)
    x += 1
    np.divide(2, x, out=x)
    x -= 1
    return x


class RNNRecurrence(Function):
    """The Elman recurrence ``h_t = act(xw_t + h_{t-1} W_hh^T + b_hh)`` over all time steps.

    Inputs: ``xw`` (N, H), the input projection ``x W_ih^T + b_ih`` of every step; ``h0`` (B, H);
    ``w_hh`` (H, H); optionally ``b_hh`` (H,). Params: ``batch_sizes``, ``reverse``,
    ``nonlinearity`` ('tanh' or 'relu'). Output (N + B, H): the states h_t, then h_n.
    """

    def forward(self, xw, h0, w_hh, b_hh=None, *, batch_sizes, reverse, nonlinearity):
        steps = _schedule(batch_sizes, reverse)
        n, batch, hid = xw.shape[0], h0.shape[0], w_hh.shape[0]
        relu = nonlinearity == "relu"
        scale = 1 if relu else -2  # tanh(a) = 2 / (1 + exp(-2a)) - 1
        pre = xw + b_hh if b_hh is not None else xw.copy()
        w_t = np.ascontiguousarray(w_hh.T)
        if not relu:
            pre *= scale
            w_t *= scale
        out = np.empty((n + batch, hid), dtype=xw.dtype)
        hprev = np.empty((n, hid), dtype=xw.dtype)
        with np.errstate(over="ignore"):
            for r0, r1, bs, k, p0, end in steps:
                hp = hprev[r0:r1]
                _fill_prev(hp, out, h0, k, p0)
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
        self.steps, self.hprev, self.out, self.w_hh, self.relu = steps, hprev, out, w_hh, relu
        self.has_bias = b_hh is not None
        return out

    def backward(self, grad):
        steps, hprev, out, w_hh = self.steps, self.hprev, self.out, self.w_hh
        n, hid = hprev.shape
        batch = out.shape[0] - n
        y = out[:n]
        if self.relu:
            deriv = (y > 0).astype(y.dtype)
        else:
            deriv = np.multiply(y, y)
            np.subtract(1, deriv, out=deriv)
        d_pre = np.empty_like(y)  # gradient of the pre-activation: the result for xw
        carry = grad[n:].copy()  # dL/dh of each row's next use: h_n's gradient to begin with
        dh0 = np.empty((batch, hid), dtype=y.dtype)
        dh = np.empty((batch, hid), dtype=y.dtype)
        dy = grad[:n]
        for r0, r1, bs, k, _p0, _end in reversed(steps):
            np.add(dy[r0:r1], carry[:bs], out=dh[:bs])
            dp = d_pre[r0:r1]
            np.multiply(dh[:bs], deriv[r0:r1], out=dp)
            np.matmul(dp, w_hh, out=carry[:bs])
            if k < bs:
                dh0[k:bs] = carry[k:bs]
        need = self.needs_input_grad
        g_w = d_pre.T @ hprev if need[2] else None
        res = [d_pre if need[0] else None, dh0 if need[1] else None, g_w]
        if self.has_bias:
            res.append(d_pre.sum(axis=0) if need[3] else None)
        return tuple(res)


class GRURecurrence(Function):
    """The GRU recurrence over all time steps (gates r, z, n as in :class:`GRUCell`).

    Inputs: ``gi`` (N, 3H), the input projection ``x W_ih^T + b_ih`` of every step; ``h0`` (B, H);
    ``w_hh`` (3H, H); optionally ``b_hh`` (3H,). Params: ``batch_sizes``, ``reverse``.
    Output (N + B, H): the states h_t, then h_n.
    """

    def forward(self, gi, h0, w_hh, b_hh=None, *, batch_sizes, reverse):
        steps = _schedule(batch_sizes, reverse)
        n, batch, hid = gi.shape[0], h0.shape[0], w_hh.shape[1]
        dt = gi.dtype
        # r, z: sigmoid(a) = 1 / (1 + exp(-a)); n: tanh(a) = 2 / (1 + exp(-2a)) - 1. With gi and
        # gh scaled by (-1, -1, -2), r * gh_n + gi_n comes out already multiplied by -2.
        scale = np.full(3 * hid, -1, dtype=dt)
        scale[2 * hid :] = -2
        gi_s = gi * scale
        w_t = w_hh.T * scale
        b_s = b_hh * scale if b_hh is not None else None
        gh = np.empty((n, 3 * hid), dtype=dt)  # scaled h W_hh^T + b_hh, kept for backward
        act = np.empty((n, 3 * hid), dtype=dt)  # r, z, n
        out = np.empty((n + batch, hid), dtype=dt)
        hprev = np.empty((n, hid), dtype=dt)
        with np.errstate(over="ignore"):
            for r0, r1, bs, k, p0, end in steps:
                hp = hprev[r0:r1]
                _fill_prev(hp, out, h0, k, p0)
                g = gh[r0:r1]
                np.matmul(hp, w_t, out=g)
                if b_s is not None:
                    g += b_s
                a = act[r0:r1]
                rz = a[:, : 2 * hid]
                np.add(gi_s[r0:r1, : 2 * hid], g[:, : 2 * hid], out=rz)
                np.exp(rz, out=rz)
                rz += 1
                np.reciprocal(rz, out=rz)
                cand = a[:, 2 * hid :]
                np.multiply(a[:, :hid], g[:, 2 * hid :], out=cand)
                cand += gi_s[r0:r1, 2 * hid :]
                np.exp(cand, out=cand)
                cand += 1
                np.divide(2, cand, out=cand)
                cand -= 1
                y = out[r0:r1]
                np.subtract(hp, cand, out=y)  # h' = n + z * (h - n)
                y *= a[:, hid : 2 * hid]
                y += cand
                if end < bs:
                    out[n + end : n + bs] = y[end:]
        self.steps, self.hprev, self.gh, self.act, self.w_hh = steps, hprev, gh, act, w_hh
        self.has_bias = b_hh is not None
        return out

    def backward(self, grad):
        steps, hprev, act, w_hh = self.steps, self.hprev, self.act, self.w_hh
        n, hid = hprev.shape
        batch = grad.shape[0] - n
        dt = act.dtype
        r, z, cand = act[:, :hid], act[:, hid : 2 * hid], act[:, 2 * hid :]
        # the step-independent factors, for all steps at once:
        #   da_z = dh * (h - n) z (1 - z);  da_n = dh * (1 - z)(1 - n^2);  da_r = da_n * gh_n r (1 - r)
        one_minus_z = np.subtract(1, z)
        f_z = np.subtract(hprev, cand)
        f_z *= z
        f_z *= one_minus_z
        f_n = np.multiply(cand, cand)
        np.subtract(1, f_n, out=f_n)
        f_n *= one_minus_z
        f_r = np.subtract(1, r, out=one_minus_z)
        f_r *= r
        f_r *= self.gh[:, 2 * hid :]
        f_r *= -0.5  # gh was stored scaled by -2
        d_gi = np.empty((n, 3 * hid), dtype=dt)
        d_gh = np.empty((n, 3 * hid), dtype=dt)
        carry = grad[n:].copy()
        dh0 = np.empty((batch, hid), dtype=dt)
        dh = np.empty((batch, hid), dtype=dt)
        tmp = np.empty((batch, hid), dtype=dt)
        dy = grad[:n]
        for r0, r1, bs, k, _p0, _end in reversed(steps):
            d = np.add(dy[r0:r1], carry[:bs], out=dh[:bs])
            di = d_gi[r0:r1]
            dg = d_gh[r0:r1]
            np.multiply(d, f_z[r0:r1], out=di[:, hid : 2 * hid])
            np.multiply(d, f_n[r0:r1], out=di[:, 2 * hid :])
            np.multiply(di[:, 2 * hid :], f_r[r0:r1], out=di[:, :hid])
            dg[:, : 2 * hid] = di[:, : 2 * hid]
            np.multiply(di[:, 2 * hid :], r[r0:r1], out=dg[:, 2 * hid :])
            np.matmul(dg, w_hh, out=carry[:bs])
            np.multiply(d, z[r0:r1], out=tmp[:bs])
            carry[:bs] += tmp[:bs]
            if k < bs:
                dh0[k:bs] = carry[k:bs]
        need = self.needs_input_grad
        g_w = d_gh.T @ hprev if need[2] else None
        res = [d_gi if need[0] else None, dh0 if need[1] else None, g_w]
        if self.has_bias:
            res.append(d_gh.sum(axis=0) if need[3] else None)
        return tuple(res)


class LSTMRecurrence(Function):
    """The LSTM recurrence over all time steps (gates i, f, g, o as in :class:`LSTMCell`).

    Inputs: ``xw`` (N, 4H), the input projection ``x W_ih^T + b_ih`` of every step; ``h0`` and
    ``c0`` (B, H); ``w_hh`` (4H, H); optionally ``b_hh`` (4H,). Params: ``batch_sizes``,
    ``reverse``. Output (N + 2B, H): the states h_t, then h_n, then c_n.
    """

    def forward(self, xw, h0, c0, w_hh, b_hh=None, *, batch_sizes, reverse):
        steps = _schedule(batch_sizes, reverse)
        n, batch, hid = xw.shape[0], h0.shape[0], w_hh.shape[1]
        dt = xw.dtype
        # sigmoid(a) = 1 / (1 + exp(-a)) for i, f, o; tanh(a) = 2 / (1 + exp(-2a)) - 1 for g
        scale = np.full(4 * hid, -1, dtype=dt)
        scale[2 * hid : 3 * hid] = -2
        gates = np.add(xw, b_hh) if b_hh is not None else xw.copy()
        gates *= scale  # becomes the activated gates i, f, g, o step by step
        w_t = w_hh.T * scale
        out = np.empty((n + 2 * batch, hid), dtype=dt)
        cell = np.empty((n, hid), dtype=dt)
        tanh_c = np.empty((n, hid), dtype=dt)
        hprev = np.empty((n, hid), dtype=dt)
        cprev = np.empty((n, hid), dtype=dt)
        rec = np.empty((batch, 4 * hid), dtype=dt)
        tmp = np.empty((batch, hid), dtype=dt)
        h_n, c_n = out[n : n + batch], out[n + batch :]
        with np.errstate(over="ignore"):
            for r0, r1, bs, k, p0, end in steps:
                hp, cp = hprev[r0:r1], cprev[r0:r1]
                _fill_prev(hp, out, h0, k, p0)
                _fill_prev(cp, cell, c0, k, p0)
                g = gates[r0:r1]
                np.matmul(hp, w_t, out=rec[:bs])
                g += rec[:bs]
                np.exp(g, out=g)
                g += 1
                np.reciprocal(g, out=g)
                gg = g[:, 2 * hid : 3 * hid]
                gg *= 2
                gg -= 1
                c = cell[r0:r1]
                np.multiply(g[:, hid : 2 * hid], cp, out=c)
                np.multiply(g[:, :hid], gg, out=tmp[:bs])
                c += tmp[:bs]
                tc = tanh_c[r0:r1]
                np.copyto(tc, c)
                _tanh_(tc)
                y = out[r0:r1]
                np.multiply(g[:, 3 * hid :], tc, out=y)
                if end < bs:
                    h_n[end:bs] = y[end:]
                    c_n[end:bs] = c[end:]
        # kept for backward (all of them were needed above anyway, so keeping them costs nothing)
        self.steps, self.gates, self.tanh_c = steps, gates, tanh_c
        self.hprev, self.cprev, self.w_hh = hprev, cprev, w_hh
        self.has_bias = b_hh is not None
        return out

    def backward(self, grad):
        steps, gates, tanh_c, hprev, w_hh = self.steps, self.gates, self.tanh_c, self.hprev, self.w_hh
        n, hid = hprev.shape
        batch = (grad.shape[0] - n) // 2
        dt = gates.dtype
        i, f, g, o = (gates[:, j * hid : (j + 1) * hid] for j in range(4))
        # step-independent factors for all steps at once:
        #   dc += dh * o (1 - tanh(c)^2)
        #   da_i = dc * g i (1 - i),  da_f = dc * c_prev f (1 - f),  da_g = dc * i (1 - g^2),
        #   da_o = dh * tanh(c) o (1 - o)
        k_c = np.multiply(tanh_c, tanh_c)
        np.subtract(1, k_c, out=k_c)
        k_c *= o
        fac = np.empty((n, 4 * hid), dtype=dt)
        f_i, f_f, f_g, f_o = (fac[:, j * hid : (j + 1) * hid] for j in range(4))
        np.subtract(1, i, out=f_i)
        f_i *= i
        f_i *= g
        np.subtract(1, f, out=f_f)
        f_f *= f
        f_f *= self.cprev
        np.multiply(g, g, out=f_g)
        np.subtract(1, f_g, out=f_g)
        f_g *= i
        np.subtract(1, o, out=f_o)
        f_o *= o
        f_o *= tanh_c
        fac3 = fac.reshape(n, 4, hid)
        d_gates = np.empty((n, 4 * hid), dtype=dt)
        d3 = d_gates.reshape(n, 4, hid)
        dy = grad[:n]
        carry_h = grad[n : n + batch].copy()
        carry_c = grad[n + batch :].copy()
        dh0 = np.empty((batch, hid), dtype=dt)
        dc0 = np.empty((batch, hid), dtype=dt)
        dh = np.empty((batch, hid), dtype=dt)
        tmp = np.empty((batch, hid), dtype=dt)
        for r0, r1, bs, k, _p0, _end in reversed(steps):
            d = np.add(dy[r0:r1], carry_h[:bs], out=dh[:bs])
            dc = carry_c[:bs]
            dc += np.multiply(d, k_c[r0:r1], out=tmp[:bs])
            np.multiply(fac3[r0:r1, :3], dc[:, None, :], out=d3[r0:r1, :3])
            np.multiply(d, f_o[r0:r1], out=d3[r0:r1, 3])
            dc *= f[r0:r1]  # the carry to c_{t-1}
            np.matmul(d_gates[r0:r1], w_hh, out=carry_h[:bs])
            if k < bs:
                dh0[k:bs] = carry_h[k:bs]
                dc0[k:bs] = carry_c[k:bs]
        need = self.needs_input_grad
        g_w = d_gates.T @ hprev if need[3] else None
        res = [
            d_gates if need[0] else None,
            dh0 if need[1] else None,
            dc0 if need[2] else None,
            g_w,
        ]
        if self.has_bias:
            res.append(d_gates.sum(axis=0) if need[4] else None)
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
        """The parameters grouped per layer and direction: ``[[w_ih, w_hh, b_ih, b_hh], ...]``."""
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
        self, x: Tensor, states: list[Tensor], layer: int, reverse: bool, batch_sizes: np.ndarray
    ) -> tuple[Tensor, list[Tensor]]:
        """One layer in one direction over packed rows ``x`` (N, F): (outputs (N, H), [h_n, c_n])."""
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        xw = F.linear(x, w_ih, b_ih)  # the input projection of every step: one matrix product
        tail = (w_hh,) if b_hh is None else (w_hh, b_hh)
        if self.mode == "LSTM":
            res = LSTMRecurrence.apply(
                xw, *states, *tail, batch_sizes=batch_sizes, reverse=reverse
            )
        elif self.mode == "GRU":
            res = GRURecurrence.apply(xw, *states, *tail, batch_sizes=batch_sizes, reverse=reverse)
        else:
            res = RNNRecurrence.apply(
                xw,
                *states,
                *tail,
                batch_sizes=batch_sizes,
                reverse=reverse,
                nonlinearity=self.nonlinearity,
            )
        n, batch = x.shape[0], states[0].shape[0]
        finals = [res[n + j * batch : n + (j + 1) * batch] for j in range(len(states))]
        return res[:n], finals

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
        else:
            if not isinstance(input, Tensor):
                raise TypeError(
                    f"{name}: input must be a Tensor or a PackedSequence, got {type(input).__name__}"
                )
            if input.ndim not in (2, 3):
                raise ValueError(
                    f"{name}: expected input to be 3-D"
                    f" {'(batch, seq_len, input_size)' if self.batch_first else '(seq_len, batch, input_size)'}"
                    f" or 2-D (seq_len, input_size), got shape {input.shape}"
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

        dirs = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for direction in range(dirs):
                idx = layer * dirs + direction
                init_states = [s[idx] for s in states]
                y, fin = self._direction(x, init_states, layer, direction == 1, batch_sizes)
                outs.append(y)
                for acc, f in zip(finals, fin):
                    acc.append(f)
            x = outs[0] if dirs == 1 else cat(outs, dim=1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)

        h_finals = [stack(acc, 0) for acc in finals]
        if packed:
            if input.unsorted_indices is not None:
                h_finals = [h[:, input.unsorted_indices.data] for h in h_finals]
            output: Any = PackedSequence(x, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        else:
            output = x.reshape(steps, batch, dirs * self.hidden_size)
            if not batched:
                output = output.squeeze(1)
                h_finals = [h.squeeze(1) for h in h_finals]
            elif self.batch_first:
                output = output.transpose(0, 1)
        if self.mode == "LSTM":
            return output, (h_finals[0], h_finals[1])
        return output, h_finals[0]


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
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
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
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            dtype,
        )


_STATE_DOCS = {
    RNN: ("``hx`` of shape ``(L*D, B, H)`` (``(L*D, H)`` unbatched)",
          "``h_n``, the final hidden state of every layer and direction, ``(L*D, B, H)``"),
    GRU: ("``hx`` of shape ``(L*D, B, H)`` (``(L*D, H)`` unbatched)",
          "``h_n``, the final hidden state of every layer and direction, ``(L*D, B, H)``"),
    LSTM: ("``hx = (h_0, c_0)``, each ``(L*D, B, H)`` (``(L*D, H)`` unbatched)",
           "``(h_n, c_n)``, the final hidden and cell states, each ``(L*D, B, H)``"),
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
