"""Every differentiable operation: one small class each, forward and backward side by side.

Reading guide. ``forward`` receives numpy arrays and returns one; it keeps on ``self`` what backward
will need. ``backward`` receives ``grad``, the gradient of the final result with respect to this
op's output, and returns the gradient with respect to each tensor input, in order (``None`` for an
input that does not need one, see ``self.needs_input_grad``). A backward may return ``grad`` itself
or a view of it, but never an array it saved in forward (the engine may add into what it returns).

Each class lists in ``__slots__`` exactly what its forward saves for backward (which also keeps
the graph light: no per-node ``__dict__``). Binary operations broadcast like numpy; their backward
undoes the broadcast with :func:`unbroadcast`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import random as _random
from .tensor import Function, IndexedGrad

# --------------------------------------------------------------------------------------------------
# Broadcasting and its reverse
# --------------------------------------------------------------------------------------------------


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the reverse of numpy broadcasting ``shape`` up to ``grad``.

    Broadcasting copies an input along the dimensions it lacks (leading ones) and along those where
    it has size one; each copy contributed to the output, so the gradient sums over them.

    >>> unbroadcast(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return np.asarray(grad)


# --------------------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------------------


class Add(Function):
    __slots__ = ("shapes",)

    def forward(self, x, y):
        self.shapes = x.shape, y.shape
        return x + y

    def backward(self, grad):
        sx, sy = self.shapes
        return unbroadcast(grad, sx), unbroadcast(grad, sy)


class Sub(Function):
    __slots__ = ("shapes",)

    def forward(self, x, y):
        self.shapes = x.shape, y.shape
        return x - y

    def backward(self, grad):
        sx, sy = self.shapes
        gy = -unbroadcast(grad, sy) if self.needs_input_grad[1] else None
        return unbroadcast(grad, sx), gy


class Mul(Function):
    __slots__ = ("x", "y")

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, grad):
        gx = unbroadcast(grad * self.y, self.x.shape) if self.needs_input_grad[0] else None
        gy = unbroadcast(grad * self.x, self.y.shape) if self.needs_input_grad[1] else None
        return gx, gy


class Div(Function):
    __slots__ = ("x", "y")

    def forward(self, x, y):
        self.x, self.y = x, y
        return x / y

    def backward(self, grad):
        x, y = self.x, self.y
        gx = unbroadcast(grad / y, x.shape) if self.needs_input_grad[0] else None
        gy = unbroadcast(-grad * x / (y * y), y.shape) if self.needs_input_grad[1] else None
        return gx, gy


# With a Python number as one operand: the number is a parameter, not a tensor, so there is no
# gradient to compute for it and nothing to unbroadcast.


class AddConst(Function):
    name = "Add"  # shown as grad_fn=<AddBackward>, as PyTorch shows it
    __slots__ = ()

    def forward(self, x, c):
        return x + c

    def backward(self, grad):
        return grad


class MulConst(Function):
    name = "Mul"  # shown as grad_fn=<MulBackward>, as PyTorch shows it
    __slots__ = ("c",)

    def forward(self, x, c):
        self.c = c
        return x * c

    def backward(self, grad):
        return grad * self.c


class DivConst(Function):
    name = "Div"  # shown as grad_fn=<DivBackward>, as PyTorch shows it
    __slots__ = ("c",)

    def forward(self, x, c):
        self.c = c
        return x / c

    def backward(self, grad):
        return grad / self.c


class RSubConst(Function):
    """``c - x``."""

    name = "Sub"  # shown as grad_fn=<SubBackward>, as PyTorch shows it
    __slots__ = ()

    def forward(self, x, c):
        return c - x

    def backward(self, grad):
        return -grad


class RDivConst(Function):
    """``c / x``: d/dx = -c / x^2."""

    name = "Div"  # shown as grad_fn=<DivBackward>, as PyTorch shows it
    __slots__ = ("x", "c")

    def forward(self, x, c):
        self.x, self.c = x, c
        return c / x

    def backward(self, grad):
        x = self.x
        return grad * (-self.c / (x * x))


class Neg(Function):
    __slots__ = ()

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class PowScalar(Function):
    """``x ** p`` for a Python number ``p``: d/dx = p * x**(p-1)."""

    __slots__ = ("x", "p")

    def forward(self, x, exponent):
        self.x, self.p = x, exponent
        return x**exponent

    def backward(self, grad):
        p = self.p
        if p == 0:
            return np.zeros_like(grad)
        if p == 2:
            return grad * (2 * self.x)
        return grad * (p * self.x ** (p - 1))


class Pow(Function):
    """``x ** y`` for tensors: d/dx = y x**(y-1), d/dy = x**y log x (taken as 0 where x = 0)."""

    __slots__ = ("x", "y", "out")

    def forward(self, x, y):
        self.x, self.y = x, y
        self.out = x**y
        return self.out

    def backward(self, grad):
        x, y = self.x, self.y
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = unbroadcast(grad * y * x ** (y - 1), x.shape)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                logx = np.where(x == 0, 0.0, np.log(np.where(x == 0, 1.0, x)))
            gy = unbroadcast(grad * self.out * logx, y.shape)
        return gx, gy


def _check_integer_divisor(y: np.ndarray, op: str) -> None:
    """An integer divisor of zero is an error, as in PyTorch and Python (numpy: 0 and a warning)."""
    if y.dtype.kind in "iub" and not y.all():
        raise ZeroDivisionError(
            f"integer division or modulo by zero: x {op} y with an integer y that has zeros;"
            " convert to a floating point dtype for inf and nan"
        )


class Remainder(Function):
    """``x % y`` with the sign of ``y`` (Python's and PyTorch's rule): ``x - floor(x / y) * y``.

    d/dx = 1 and d/dy = -floor(x / y), where the remainder is continuous (everywhere but its
    jumps, where ``x / y`` is a whole number).
    """

    __slots__ = ("x", "y")

    def forward(self, x, y):
        _check_integer_divisor(y, "%")
        self.x, self.y = x, y
        return np.remainder(x, y)

    def backward(self, grad):
        x, y = self.x, self.y
        gx = unbroadcast(grad, x.shape) if self.needs_input_grad[0] else None
        gy = None
        if self.needs_input_grad[1]:
            gy = unbroadcast(-grad * np.floor_divide(x, y), y.shape)
        return gx, gy


class FloorDivide(Function):
    """``x // y``, rounded towards minus infinity. Its derivative is zero wherever it exists, so,
    as in PyTorch, a gradient through it is an error rather than a silent zero."""

    __slots__ = ()

    def forward(self, x, y):
        _check_integer_divisor(y, "//")
        return np.floor_divide(x, y)

    def backward(self, grad):
        raise RuntimeError(
            "the derivative of floor division (//) is not implemented: it is zero wherever it"
            " exists. Compute the quotient from detached tensors (a.detach() // b), or use /"
        )


def _rows_matmul(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x @ m`` for a 2-D ``m``: one matrix product over all the rows of ``x``, whatever its rank.

    numpy's matmul treats an ``x`` of 3 or more dimensions as a stack of matrices and calls BLAS
    once per matrix: 100 products of 64 rows for a (100, 64, 512) batch of sequences, about twice
    as slow as one product of 6,400 rows (a reshape, free when ``x`` is contiguous).
    """
    if x.ndim <= 2:
        return x @ m
    lead = x.shape[:-1]
    return (x.reshape(math.prod(lead), x.shape[-1]) @ m).reshape(*lead, m.shape[1])


class MatMul(Function):
    """Matrix product with numpy's rules: 1-D operands are vectors, leading dims broadcast."""

    __slots__ = ("a", "b")

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError("matmul: both arguments need at least 1 dimension, got a 0-d tensor")
        ka = a.shape[-1]
        kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if ka != kb:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied: the first has"
                f" {ka} columns but the second has {kb} rows"
            )
        self.a, self.b = a, b
        if b.ndim == 2:
            return _rows_matmul(a, b)
        try:
            return np.matmul(a, b)
        except ValueError as e:
            raise ValueError(
                f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast"
            ) from e

    def backward(self, grad):
        a, b = self.a, self.b
        if a.ndim == 2 and b.ndim == 2:  # the common case, straight to BLAS
            ga = grad @ b.T if self.needs_input_grad[0] else None
            gb = a.T @ grad if self.needs_input_grad[1] else None
            return ga, gb
        if a.ndim == 1 and b.ndim == 1:
            return grad * b, grad * a
        if a.ndim > 2 and b.ndim == 2:  # a stack times one matrix: each gradient one GEMM
            ga = _rows_matmul(grad, b.T) if self.needs_input_grad[0] else None
            gb = None
            if self.needs_input_grad[1]:
                k, n = b.shape
                gb = a.reshape(-1, k).T @ grad.reshape(-1, n) if a.size else np.zeros_like(b)
            return ga, gb
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape)
            ga = ga.reshape(a.shape) if a.ndim == 1 else ga
        if self.needs_input_grad[1]:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape)
            gb = gb.reshape(b.shape) if b.ndim == 1 else gb
        return ga, gb


# --------------------------------------------------------------------------------------------------
# Elementwise functions
# --------------------------------------------------------------------------------------------------


class Exp(Function):
    __slots__ = ("out",)

    def forward(self, x):
        with np.errstate(over="ignore"):
            self.out = np.exp(x)
        return self.out

    def backward(self, grad):
        return grad * self.out


class Log(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / self.x


class Tanh(Function):
    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        return grad * (1 - self.out * self.out)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x); for x below about -700 e^-x overflows to inf and the result is 0, exactly."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


class Sigmoid(Function):
    __slots__ = ("out",)

    def forward(self, x):
        self.out = _sigmoid(x)
        return self.out

    def backward(self, grad):
        s = self.out
        return grad * (s * (1 - s))


class ReLU(Function):
    __slots__ = ("mask",)

    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, 0)  # several times faster than np.where; NaN stays NaN

    def backward(self, grad):
        return grad * self.mask


class Sqrt(Function):
    __slots__ = ("out",)

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            self.out = np.sqrt(x)
        return self.out

    def backward(self, grad):
        with np.errstate(divide="ignore"):
            return grad / (2 * self.out)


class Abs(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, grad):
        return grad * np.sign(self.x)


class Sin(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, grad):
        return grad * np.cos(self.x)


class Cos(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.cos(x)

    def backward(self, grad):
        return -grad * np.sin(self.x)


class Clip(Function):
    """Limit to [min, max]; the gradient flows where min <= x <= max (inclusive, as PyTorch)."""

    __slots__ = ("mask",)

    def forward(self, x, min, max):  # noqa: A002
        mask = np.ones(x.shape, dtype=bool)
        if min is not None:
            mask &= x >= min
        if max is not None:
            mask &= x <= max
        self.mask = mask
        return np.clip(x, min, max).astype(x.dtype, copy=False)

    def backward(self, grad):
        return grad * self.mask


class Cast(Function):
    __slots__ = ("in_dtype",)

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.in_dtype)


class Clone(Function):
    __slots__ = ()

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


# --------------------------------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------------------------------


def _expand_back(grad: np.ndarray, dims: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
    """Put back the reduced dimensions of ``grad`` as size-one dimensions."""
    if dims is None or keepdim:
        return grad
    return np.expand_dims(grad, dims)


class Sum(Function):
    __slots__ = ("shape", "dim", "keepdim")

    def forward(self, x, dim, keepdim):
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        return np.asarray(x.sum(axis=dim, keepdims=keepdim))

    def backward(self, grad):
        return np.broadcast_to(_expand_back(grad, self.dim, self.keepdim), self.shape)


class Mean(Function):
    __slots__ = ("shape", "dim", "keepdim", "n")

    def forward(self, x, dim, keepdim):
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        out = np.asarray(x.mean(axis=dim, keepdims=keepdim))
        self.n = x.size // max(out.size, 1) if x.size else 0
        return out

    def backward(self, grad):
        g = _expand_back(grad, self.dim, self.keepdim) / self.n
        return np.broadcast_to(g, self.shape)


class FullExtreme(Function):
    """max() or min() of every entry; tied extremes share the gradient equally."""

    __slots__ = ("mask",)

    def forward(self, x, f):
        out = np.asarray(f(x))
        self.mask = x == out
        return out

    def backward(self, grad):
        return self.mask * (grad / self.mask.sum())


class LogSumExp(Function):
    __slots__ = ("x", "out_k", "dim", "keepdim")

    def forward(self, x, dim, keepdim):
        m = np.max(x, axis=dim, keepdims=True)
        m = np.where(np.isfinite(m), m, np.zeros((), x.dtype))
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(x - m).sum(axis=dim, keepdims=True)) + m
        self.x, self.out_k, self.dim, self.keepdim = x, out, dim, keepdim
        return out if keepdim else np.squeeze(out, axis=dim)

    def backward(self, grad):
        g = grad if self.keepdim else np.expand_dims(grad, self.dim)
        return g * np.exp(self.x - self.out_k)


class Softmax(Function):
    __slots__ = ("out", "dim")

    def forward(self, x, dim):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
        self.out, self.dim = e, dim
        return e

    def backward(self, grad):
        s = self.out
        return s * (grad - (grad * s).sum(axis=self.dim, keepdims=True))


def _log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    """x - logsumexp(x): subtracting the max first keeps logits of +-1000 finite."""
    shifted = x - x.max(axis=dim, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


class LogSoftmax(Function):
    __slots__ = ("out", "dim")

    def forward(self, x, dim):
        self.out, self.dim = _log_softmax(x, dim), dim
        return self.out

    def backward(self, grad):
        return grad - np.exp(self.out) * grad.sum(axis=self.dim, keepdims=True)


# --------------------------------------------------------------------------------------------------
# Shapes and indexing
# --------------------------------------------------------------------------------------------------


class Reshape(Function):
    __slots__ = ("in_shape",)

    def forward(self, x, shape):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"shape {list(shape)} is invalid for an input of shape {x.shape} ({x.size}"
                " elements)"
            ) from None

    def backward(self, grad):
        return grad.reshape(self.in_shape)


class Permute(Function):
    __slots__ = ("inverse",)

    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, grad):
        return grad.transpose(self.inverse)


class Expand(Function):
    __slots__ = ("in_shape",)

    def forward(self, x, shape):
        self.in_shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {x.shape} to {shape}") from None

    def backward(self, grad):
        return unbroadcast(grad, self.in_shape)


def _is_basic(index: Any) -> bool:
    """True if the index has only ints, slices, None and Ellipsis (it selects no entry twice)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) for i in items)


def _normalize_bool(index: Any) -> Any:
    """Boolean masks become the integer arrays of their true positions (for np.add.at)."""
    items = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for i in items:
        if isinstance(i, np.ndarray) and i.dtype == np.bool_:
            out.extend(np.nonzero(i))
        else:
            out.append(i)
    return tuple(out)


class GetItem(Function):
    """``x[index]``; backward adds the gradient into the parent's buffer at ``index``."""

    __slots__ = ("basic", "index")

    def forward(self, x, index):
        self.basic = _is_basic(index)
        self.index = index if self.basic else _normalize_bool(index)
        try:
            return x[self.index]
        except IndexError as e:
            raise IndexError(f"{e} (indexing a tensor of shape {x.shape})") from None

    def backward(self, grad):
        return IndexedGrad(self.index, grad, self.basic)


class Gather(Function):
    __slots__ = ("full_index",)

    def forward(self, x, dim, index):
        if index.size and (index.min() < -x.shape[dim] or index.max() >= x.shape[dim]):
            raise IndexError(
                f"gather: index out of range for dimension {dim} of size {x.shape[dim]}"
                f" (got values from {index.min()} to {index.max()})"
            )
        self.full_index = tuple(
            index if d == dim else r for d, r in enumerate(np.indices(index.shape, sparse=True))
        )
        return np.take_along_axis(x, index, axis=dim)

    def backward(self, grad):
        return IndexedGrad(self.full_index, grad, False)


class Cat(Function):
    __slots__ = ("bounds", "dim")

    def forward(self, *xs, dim):
        self.bounds = np.cumsum([0] + [x.shape[dim] for x in xs])
        self.dim = dim
        return np.concatenate(xs, axis=dim)

    def backward(self, grad):
        pre = (slice(None),) * self.dim
        b = self.bounds
        return tuple(
            grad[pre + (slice(b[i], b[i + 1]),)] if need else None
            for i, need in enumerate(self.needs_input_grad)
        )


class Stack(Function):
    __slots__ = ("dim",)

    def forward(self, *xs, dim):
        self.dim = dim
        return np.stack(xs, axis=dim)

    def backward(self, grad):
        pre = (slice(None),) * self.dim
        return tuple(
            grad[pre + (i,)] if need else None for i, need in enumerate(self.needs_input_grad)
        )


class Where(Function):
    __slots__ = ("cond", "shapes")

    def forward(self, x, y, cond):
        self.cond, self.shapes = cond, (x.shape, y.shape)
        return np.where(cond, x, y)

    def backward(self, grad):
        zero = np.zeros((), grad.dtype)
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = unbroadcast(np.where(self.cond, grad, zero), self.shapes[0])
        if self.needs_input_grad[1]:
            gy = unbroadcast(np.where(self.cond, zero, grad), self.shapes[1])
        return gx, gy


# --------------------------------------------------------------------------------------------------
# Neural-network operations (wrapped with argument checks in minigrad.nn.functional)
# --------------------------------------------------------------------------------------------------


class Linear(Function):
    """``x @ W.T + b`` with ``W`` of shape (out, in): one GEMM however many leading dims x has."""

    __slots__ = ("x", "w")

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        out = _rows_matmul(x, w.T)
        if b is not None:
            out += b
        return out

    def backward(self, grad):
        x, w = self.x, self.w
        gx = _rows_matmul(grad, w) if self.needs_input_grad[0] else None
        gw = gb = None
        g2 = grad.reshape(-1, grad.shape[-1])
        if self.needs_input_grad[1]:
            gw = g2.T @ x.reshape(-1, x.shape[-1])
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb


class Embedding(Function):
    """Rows of ``weight`` picked by integer ``indices``; backward adds into those rows."""

    __slots__ = ("indices", "padding_idx")

    def forward(self, weight, indices, padding_idx):
        self.indices = indices
        self.padding_idx = padding_idx
        return weight[indices]

    def backward(self, grad):
        if self.padding_idx is not None:
            grad = np.where((self.indices == self.padding_idx)[..., None], 0, grad)
        return IndexedGrad(self.indices, grad, False)


class CrossEntropy(Function):
    """Softmax and negative log-likelihood fused: backward is (softmax - target) per row.

    ``x`` is (N, C) logits; ``target`` is (N,) class indices or (N, C) probabilities. Each row's
    loss is ``-sum_c a_c log p_c`` with ``a`` the (smoothed, weighted) target, so its gradient with
    respect to the logits is ``p * sum(a) - a``. For class indices without label smoothing, ``a``
    has one nonzero entry per row, ``w_t`` at the target, and is never built: the loss is
    ``-w_t log p_t`` and the gradient ``w_t p`` less ``w_t`` at the target (the same numbers).
    """

    __slots__ = ("logp", "a", "rows", "t", "w_t", "reduction", "scale")

    def forward(self, x, target, weight, ignore_index, reduction, label_smoothing):
        n, c = x.shape
        logp = _log_softmax(x, 1)
        eps = label_smoothing
        self.a = self.t = None
        if target.dtype.kind in "iu":
            valid = target != ignore_index
            t = np.where(valid, target, 0)
            w_t = (weight[t] if weight is not None else np.ones(n, x.dtype)) * valid
            rows = np.arange(n)
            if eps:
                a = np.zeros_like(logp)
                a[rows, t] = (1 - eps) * w_t
                w = weight if weight is not None else np.ones(c, x.dtype)
                a += (eps / c) * w[None, :] * valid[:, None]
                losses = -(a * logp).sum(axis=1)
                self.a = a
            else:  # one-hot a: a single product per row
                losses = -(logp[rows, t] * w_t)
                self.rows, self.t, self.w_t = rows, t, w_t
            denom = w_t.sum()
        else:
            q = target if not eps else (1 - eps) * target + eps / c
            a = q * weight[None, :] if weight is not None else q.astype(x.dtype, copy=False)
            denom = n
            losses = -(a * logp).sum(axis=1)
            self.a = a
        self.logp, self.reduction = logp, reduction
        if reduction == "none":
            self.scale = None
            return losses
        self.scale = 1.0 / denom if reduction == "mean" else 1.0
        return np.asarray(losses.sum() * self.scale, dtype=x.dtype)

    def backward(self, grad):
        p = np.exp(self.logp)
        if self.a is None:
            w_t = self.w_t
            g = p * w_t[:, None]
            g[self.rows, self.t] -= w_t
        else:
            g = p * self.a.sum(axis=1, keepdims=True) - self.a
        if self.reduction == "none":
            return g * grad[:, None]
        return g * (grad * self.scale)


class BinaryCrossEntropy(Function):
    """-w (y log p + (1-y) log(1-p)) with each log clamped at -100 (as PyTorch)."""

    __slots__ = ("p", "y", "w")

    def forward(self, p, y, weight):
        self.p, self.y, self.w = p, y, weight
        with np.errstate(divide="ignore"):
            logp = np.maximum(np.log(p), -100)
            log1mp = np.maximum(np.log1p(-p), -100)
        out = -(y * logp + (1 - y) * log1mp)
        return out * weight if weight is not None else out

    def backward(self, grad):
        p, y = self.p, self.y
        g = grad * (p - y) / np.maximum((1 - p) * p, 1e-12)
        if self.w is not None:
            g = g * self.w
        gy = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gy = grad * (np.maximum(np.log1p(-p), -100) - np.maximum(np.log(p), -100))
            if self.w is not None:
                gy = gy * self.w
        return unbroadcast(g, p.shape), gy


class BinaryCrossEntropyWithLogits(Function):
    """Sigmoid and binary cross-entropy fused, stable for any logit.

    loss = (1 - y) x + L softplus(-x), L = 1 + (pos_weight - 1) y; d/dx = (1 - y) - L sigmoid(-x).
    """

    __slots__ = ("x", "y", "w", "pw", "big_l")

    def forward(self, x, y, weight, pos_weight):
        self.x, self.y, self.w, self.pw = x, y, weight, pos_weight
        softplus_neg = np.logaddexp(0, -x)
        big_l = 1 + (pos_weight - 1) * y if pos_weight is not None else 1
        out = (1 - y) * x + big_l * softplus_neg
        self.big_l = big_l
        return out * weight if weight is not None else out

    def backward(self, grad):
        x, y = self.x, self.y
        s_neg = _sigmoid(-x)
        g = grad * ((1 - y) - self.big_l * s_neg)
        if self.w is not None:
            g = g * self.w
        gy = None
        if self.needs_input_grad[1]:
            # dL/dy = -x + (pos_weight - 1) softplus(-x)
            pw = self.pw if self.pw is not None else 1
            gy = grad * (-x + (pw - 1) * np.logaddexp(0, -x))
            if self.w is not None:
                gy = gy * self.w
        return g, gy


class Dropout(Function):
    """Zero each entry with probability p, scale the rest by 1/(1-p) (inverted dropout)."""

    __slots__ = ("mask",)

    def forward(self, x, p):
        if p >= 1:
            self.mask = np.zeros_like(x)
        else:
            keep = _random._generator.random(x.shape) >= p
            self.mask = keep.astype(x.dtype) * x.dtype.type(1 / (1 - p))
        return x * self.mask

    def backward(self, grad):
        return grad * self.mask


# --------------------------------------------------------------------------------------------------
# Tensor's operators (``a + b``, ``t * 2``, ``x @ w``) call these, bound once here: looking up and
# binding the class method ``Mul.apply`` anew on every ``a * b`` cost about a tenth of what the
# engine spends on a small op.
# --------------------------------------------------------------------------------------------------

add, sub, mul, div, power, matmul, neg = (
    Add.apply,
    Sub.apply,
    Mul.apply,
    Div.apply,
    Pow.apply,
    MatMul.apply,
    Neg.apply,
)
pow_scalar = PowScalar.apply
remainder, floor_divide = Remainder.apply, FloorDivide.apply
add_const = AddConst.apply_with_constant
rsub_const = RSubConst.apply_with_constant
mul_const = MulConst.apply_with_constant
div_const = DivConst.apply_with_constant
rdiv_const = RDivConst.apply_with_constant
