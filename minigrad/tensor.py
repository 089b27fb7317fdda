"""The Tensor, the graph it records, and reverse-mode differentiation over that graph.

A :class:`Tensor` wraps a numpy array (``.data``). When an operation runs on tensors that require
gradients, it records a :class:`Function` node: the operation's backward rule together with the
inputs (``parents``) and whatever the backward needs (saved on the node during forward).
``loss.backward()`` visits those nodes in reverse topological order, calls each one's
``backward`` with the gradient of its output, and adds the results into its parents' gradients.

Every differentiable operation lives in :mod:`minigrad.ops` as a small ``Function`` subclass with
its ``forward`` and ``backward`` side by side.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, Union

import numpy as np

from . import _dtype
from . import random as _random

Scalar = int | float | bool
TensorLike = Union["Tensor", np.ndarray, Scalar, Sequence]


# --------------------------------------------------------------------------------------------------
# Grad mode and anomaly mode
# --------------------------------------------------------------------------------------------------


class _State(threading.local):
    grad_enabled = True
    anomaly = False


_state = _State()
# How many threads have a mode away from its default (grad recording off, or anomaly mode on).
# While it is zero, recording an op need not read the thread-local state at all: reading an
# attribute of a threading.local costs about 0.1 microseconds, and every op read two. A thread
# whose own mode is not the default counted itself here before, so the shortcut is never wrong.
_modes_set = 0
_modes_lock = threading.Lock()


def _set_mode(name: str, value: bool) -> None:
    """Set this thread's ``grad_enabled`` or ``anomaly`` flag and keep ``_modes_set`` in step."""
    global _modes_set
    default = getattr(_State, name)
    with _modes_lock:
        old = getattr(_state, name)
        setattr(_state, name, value)
        _modes_set += (value != default) - (old != default)


def is_grad_enabled() -> bool:
    """True unless inside :class:`no_grad` (or ``set_grad_enabled(False)``)."""
    return _state.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    enabled = True

    def __enter__(self) -> None:
        self._prev = _state.grad_enabled
        _set_mode("grad_enabled", self.enabled)

    def __exit__(self, *exc: object) -> None:
        _set_mode("grad_enabled", self._prev)


class no_grad(_GradMode):
    """Context manager (and decorator) in which operations record no graph.

    >>> import minigrad
    >>> w = minigrad.ones(3, requires_grad=True)
    >>> with minigrad.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_GradMode):
    """Context manager (and decorator) that turns graph recording back on inside ``no_grad``."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``with set_grad_enabled(flag):`` records a graph only when ``flag`` is true."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager that names the operation which first produced NaN or inf.

    In the forward pass, an operation whose inputs are all finite but whose output is not raises a
    ``RuntimeError`` naming it. In the backward pass, a node that receives a finite gradient and
    returns a non-finite one raises, naming the node and showing where its forward op was called.
    It slows everything down: use it to find a bug, not to train.

    >>> import minigrad
    >>> x = minigrad.tensor([0.0], requires_grad=True)
    >>> with minigrad.detect_anomaly():
    ...     try:
    ...         x.log()
    ...     except RuntimeError as e:
    ...         print(str(e).splitlines()[0])
    Function 'Log' produced inf in its output from finite inputs (forward pass)
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = _state.anomaly
        _set_mode("anomaly", self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set_mode("anomaly", self._prev)


def is_anomaly_enabled() -> bool:
    return _state.anomaly


def _nonfinite_kind(a: np.ndarray) -> str | None:
    if a.dtype.kind != "f" or np.isfinite(a).all():
        return None
    return "nan" if np.isnan(a).any() else "inf"


# --------------------------------------------------------------------------------------------------
# Function: one recorded operation
# --------------------------------------------------------------------------------------------------


def _add_at(buf: np.ndarray, index: Any, value: np.ndarray) -> None:
    """``np.add.at(buf, index, value)``: for many rows picked by one integer array, by sorting.

    An embedding's backward adds thousands of gradient rows into a few table rows. ``np.add.at``
    does that one row at a time (about 5 ms for 6,400 rows of 64 floats); sorting the indices and
    summing each run with ``np.add.reduceat`` takes a fifth of that. The sums group the additions
    differently, so float results can differ in the last bits.
    """
    if (
        type(index) is not np.ndarray
        or index.dtype.kind not in "iu"
        or index.size < 256
        or buf.ndim < 2
        or value.shape != index.shape + buf.shape[1:]
    ):
        np.add.at(buf, index, value)
        return
    flat = index.reshape(-1)
    n = buf.shape[0]
    if flat.size and (flat.min() < -n or flat.max() >= n):
        np.add.at(buf, index, value)  # raises numpy's own IndexError
        return
    if flat.dtype.kind == "i":
        flat = np.where(flat < 0, flat + n, flat)
    _add_rows_sorted(buf, flat, value.reshape(flat.size, *buf.shape[1:]))


def _add_rows_sorted(buf: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``buf[rows[i]] += values[i]`` for every i, repeated rows included (rows in ``[0, n)``)."""
    order = np.argsort(rows, kind="stable")
    keys = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    buf[keys[starts]] += np.add.reduceat(values[order], starts, axis=0)


class IndexedGrad:
    """A gradient that is zero except at ``index``, where it is ``value``.

    Indexing, split and chunk return this from their backward instead of a dense array; the engine
    adds ``value`` into the parent's gradient buffer at ``index`` (allocating that buffer once), so
    that the four gates of an LSTM sliced from one matrix cost one buffer, not four zero arrays.
    """

    __slots__ = ("index", "value", "basic")

    def __init__(self, index: Any, value: np.ndarray, basic: bool) -> None:
        self.index, self.value, self.basic = index, value, basic


class Function:
    """One differentiable operation: ``forward`` on numpy arrays and ``backward`` beside it.

    Subclasses implement ``forward(self, *arrays, **params) -> ndarray`` (storing on ``self``
    whatever backward needs) and ``backward(self, grad) -> ndarray | tuple``, one gradient per
    tensor input (``None`` where ``self.needs_input_grad[i]`` is false). Call them through
    :meth:`apply`, which records the node when gradients are needed::

        class Exp(Function):
            def forward(self, x):
                self.out = np.exp(x)
                return self.out

            def backward(self, grad):
                return grad * self.out
    """

    # parents: the input tensors (None once backward has freed the node); needs_input_grad: which
    # of them require grad; created_at: the forward call's stack, in anomaly mode only
    __slots__ = ("parents", "needs_input_grad", "created_at")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # every slot a subclass declares holds something saved for backward, dropped on release
        cls._saved_slots = tuple(
            name
            for klass in cls.__mro__
            if klass is not Function
            for name in klass.__dict__.get("__slots__", ())
        )
        cls._has_dict = cls.__dictoffset__ != 0  # a subclass without __slots__ saves in a dict
        cls._saves = bool(cls._saved_slots) or cls._has_dict  # whether release has work to do
        # minigrad's own ops are tested against finite differences and PyTorch; the gradients of
        # a Function written elsewhere get their shapes checked in backward
        cls._trusted = cls.__module__.startswith("minigrad.")

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays; record the node if any input requires grad."""
        fn = _new(cls)
        # the one- and two-input cases spelled out: this is the hottest path of the library
        n = len(inputs)
        if n == 1:
            x = inputs[0]
            needs = _NEEDS1[x.requires_grad]
            out = fn.forward(x.data, **params)
        elif n == 2:
            x, y = inputs
            needs = _NEEDS2[x.requires_grad][y.requires_grad]
            out = fn.forward(x.data, y.data, **params)
        else:
            needs = tuple([t.requires_grad for t in inputs])
            out = fn.forward(*[t.data for t in inputs], **params)
        return _record(fn, inputs, needs, out)

    @classmethod
    def apply_with_constant(cls, x: Tensor, c: Any) -> Tensor:
        """``apply(x, c=c)`` for the ops of one tensor and one Python number (``t * 2``, ``1 - t``).

        The same node, without the keyword dictionary: building and unpacking it cost about 0.4
        microseconds, a sixth of such an op's forward on a 3-vector (2.7 against 2.3 measured).
        """
        fn = _new(cls)
        data = x.data
        consts = _CONSTANTS.get(data.dtype)  # None unless float16, float32 or float64
        if consts is not None:
            # c as a 0-d array of x's dtype: numpy would convert the Python number to that dtype
            # anyway, and an array operand takes its fast path (0.35 against 0.6 us per product);
            # the arrays are cached, a lookup costing a quarter of making one
            arr = consts.get(c)
            c = _new_constant(consts, c, data.dtype) if arr is None else arr
        elif data.dtype.kind == "f":  # a float type numpy has beyond those (longdouble)
            c = np.array(c, data.dtype)
        elif type(c) is float:
            # an integer or bool tensor with a Python float computes in the default dtype, as in
            # PyTorch (numpy would give float64); such a tensor never requires grad
            dt = _dtype._default_dtype
            data, c = data.astype(dt), np.array(c, dt)
        return _record(fn, (x,), _NEEDS1[x.requires_grad], fn.forward(data, c))

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    @property
    def freed(self) -> bool:
        """True once backward has released this node."""
        return getattr(self, "parents", ()) is None

    def release(self) -> None:
        """Drop what forward saved and the links to the inputs (after backward, unless retained)."""
        for name in self._saved_slots:
            setattr(self, name, None)
        if self._has_dict:
            self.__dict__.clear()
        self.parents = None

    # anomaly mode -------------------------------------------------------------------------------
    def _check_forward(self, inputs: Sequence[Tensor], out: np.ndarray) -> None:
        self.created_at = traceback.format_stack()[:-3]
        kind = _nonfinite_kind(out)
        if kind and all(_nonfinite_kind(t.data) is None for t in inputs):
            raise RuntimeError(
                f"Function '{self.name}' produced {kind} in its output from finite inputs (forward"
                f" pass)\nInput shapes: {[t.shape for t in inputs]}\nCalled from:\n"
                + "".join(self.created_at[-4:])
            )


_new = object.__new__
# for each common floating point dtype: Python number -> the read-only 0-d array of it in that
# dtype, shared by every op that uses the number as a constant (y * 0.5 in a loop makes one array)
_CONSTANTS: dict[np.dtype, dict[Any, np.ndarray]] = {
    np.dtype(t): {} for t in (np.float16, np.float32, np.float64)
}


def _new_constant(consts: dict[Any, np.ndarray], c: Any, dtype: np.dtype) -> np.ndarray:
    """``c`` as a read-only 0-d array of ``dtype``, remembered in ``consts``."""
    arr = np.array(c, dtype)
    arr.flags.writeable = False
    # zero is left out, as 0.0 == -0.0 would make the two share an entry though x * -0.0 and
    # x * 0.0 differ in the sign of zeros; NaN is left out, as no lookup of NaN ever finds it
    if c != 0 and c == c:
        if len(consts) >= 1024:  # a loop over ever new numbers must not grow it without bound
            consts.clear()
        consts[c] = arr
    return arr


# needs_input_grad for one and two inputs, shared constants (no allocation per op)
_NEEDS1 = ((False,), (True,))  # indexed by a bool
_NEEDS2 = (((False, False), (False, True)), ((True, False), (True, True)))


def _record(fn: Function, inputs: tuple, needs: tuple, out: Any) -> Tensor:
    """Wrap ``fn``'s forward result in a tensor, linked to ``fn`` if it needs a gradient."""
    if type(out) is not np.ndarray:  # numpy turns 0-d results into scalars
        out = np.asarray(out)
    grad_enabled = True
    if _modes_set:  # some thread is in no_grad or anomaly mode: is this one?
        if _state.anomaly:
            fn._check_forward(inputs, out)
        grad_enabled = _state.grad_enabled
    res = _new(Tensor)
    res.data = out
    res._grad = None
    res._hooks = None
    res._retains_grad = False
    if grad_enabled and True in needs:
        fn.needs_input_grad = needs
        fn.parents = inputs
        res._ctx = fn
        res.requires_grad = True
    else:
        res._ctx = None
        res.requires_grad = False
    return res


def _wrap(data: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A tensor around ``data`` without copying or checks (internal fast path)."""
    t = Tensor.__new__(Tensor)
    t.data, t._ctx, t.requires_grad = data, None, requires_grad
    t._grad = t._hooks = None
    t._retains_grad = False
    return t


# --------------------------------------------------------------------------------------------------
# Converting inputs
# --------------------------------------------------------------------------------------------------


def _to_array(data: Any, dtype: np.dtype | None) -> np.ndarray:
    """numpy array from data, with PyTorch's rules for the dtype of Python numbers."""
    if isinstance(data, Tensor):
        arr = data.data
        return arr.copy() if dtype is None else arr.astype(dtype)
    if dtype is not None:
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        arr = data.copy()
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
            data = [x.data if isinstance(x, Tensor) else x for x in data]
        arr = np.array(data)
        if arr.dtype.kind == "f":
            arr = arr.astype(_dtype._default_dtype, copy=False)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64, copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"cannot make a tensor from data of numpy dtype {arr.dtype}")
    return arr


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; a Python number takes the dtype of ``like`` (or the default)."""
    if isinstance(x, Tensor):
        return x
    if (
        like is not None
        and isinstance(x, (int, float, bool, np.number))
        and not isinstance(x, np.ndarray)
    ):
        dt = like.data.dtype
        if isinstance(x, float) and dt.kind != "f":
            dt = _dtype._default_dtype
        elif dt.kind == "b" and not isinstance(x, (bool, np.bool_)):
            dt = _dtype.int64  # a number is not a bool: True / 2 is 0.5, not 1.0
        return _wrap(np.asarray(x, dtype=dt))
    if isinstance(x, np.ndarray):
        return _wrap(x)
    return _wrap(_to_array(x, None))


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating point


def _promote(x: Tensor, y: Tensor, true_div: bool = False) -> tuple[Tensor, Tensor]:
    """``x`` and ``y`` cast to the dtype PyTorch gives their binary op, where numpy's differs.

    numpy widens an int64 array meeting a float32 one to float64, and lets a 0-d float64 array
    raise a float32 array to float64. PyTorch keeps the floating point operand's dtype (int64
    with float32 gives float32), lets a 0-d tensor decide only when its kind (bool < integer <
    floating point) is higher than the other's, and divides integers in the default dtype.

    >>> import minigrad
    >>> (minigrad.tensor([1, 2]) * minigrad.tensor([0.5, 0.5])).dtype
    dtype('float32')
    >>> (minigrad.tensor([1, 2]) / minigrad.tensor([2, 2])).dtype
    dtype('float32')
    """
    dx, dy = x.data.dtype, y.data.dtype
    rx, ry = _KIND_RANK.get(dx.kind, 2), _KIND_RANK.get(dy.kind, 2)
    if rx != ry:
        dt = dx if rx > ry else dy
    elif dx != dy and (x.data.ndim == 0) != (y.data.ndim == 0):
        dt = dy if x.data.ndim == 0 else dx  # the 0-d operand adapts to the other
    else:
        dt = np.promote_types(dx, dy)
    if true_div and dt.kind != "f":
        dt = _dtype._default_dtype
    return x.to(dt), y.to(dt)


class MaxReturn(NamedTuple):
    """``values`` and ``indices`` of ``max``/``min``/``topk`` along a dimension, as in PyTorch."""

    values: Tensor
    indices: Tensor


def _normalize_size(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"sizes must be non-negative ints, got {size}")
    return tuple(int(s) for s in size)


# --------------------------------------------------------------------------------------------------
# Tensor
# --------------------------------------------------------------------------------------------------


class Tensor:
    """An n-dimensional array that can record the operations on it and differentiate them.

    Create one with :func:`minigrad.tensor` (or ``Tensor(data)``), or with a factory such as
    :func:`minigrad.zeros`. Python floats become ``get_default_dtype()`` (float32), Python ints
    int64, and a numpy array keeps its dtype.

    >>> import minigrad
    >>> x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
    """

    __slots__ = ("data", "_ctx", "requires_grad", "_grad", "_hooks", "_retains_grad", "__weakref__")
    # numpy must hand ``array * tensor`` to Tensor.__rmul__ instead of broadcasting over it
    __array_ufunc__ = None
    __hash__ = object.__hash__

    data: np.ndarray
    _ctx: Function | None
    requires_grad: bool

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        self.data = _to_array(data, None if dtype is None else _dtype.as_dtype(dtype))
        self._ctx = None
        self._grad = None
        self._hooks = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple[int, ...]:
        """The sizes of the dimensions, a tuple (``torch.Size`` in PyTorch)."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The dimensions reversed (the transpose of a matrix)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward`` (leaves, and tensors that ``retain_grad()``)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            value = as_tensor(value)
            if value.shape != self.shape:
                raise ValueError(
                    f"assigned grad has shape {value.shape}, but the tensor has shape {self.shape}"
                )
        self._grad = value

    @property
    def grad_fn(self) -> Function | None:
        """The node that produced this tensor (None for a leaf)."""
        return self._ctx

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation (parameters, inputs)."""
        return self._ctx is None

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dimension."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The underlying numpy array (shared, not copied). Refuses if the tensor requires grad."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad. Use tensor.detach().numpy()."
            )
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"a Tensor with {self.data.size} elements cannot be converted to a Python scalar"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.data.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.data.size} values is ambiguous;"
                " use .any() or .all()"
            )
        return bool(self.data.item())

    def __format__(self, spec: str) -> str:
        if self.data.size == 1 and spec:
            return format(self.data.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        arr = self.data
        extras = []
        default_kind = arr.dtype == _dtype._default_dtype or arr.dtype == np.int64
        if arr.dtype == np.bool_:
            default_kind = True
        if not default_kind or arr.size == 0:
            extras.append(f"dtype=minigrad.{arr.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        body = np.array2string(
            arr,
            separator=", ",
            prefix="tensor(",
            precision=4,
            suppress_small=False,
            max_line_width=100,
        )
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def to(self, dtype: Any) -> Tensor:
        """A copy in another dtype (differentiable between floating point types)."""
        dt = _dtype.as_dtype(dtype)
        if dt == self.data.dtype:
            return self
        if dt.kind != "f" or self.data.dtype.kind != "f":  # no gradient flows to or from integers
            return _wrap(self.data.astype(dt))
        return _ops.Cast.apply(self, dtype=dt)

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool_)

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    # ------------------------------------------------------------------ graph handling
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only; floating point only) and return self."""
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating point tensors can require gradients, but this tensor is"
                f" {self.data.dtype}; convert it first, e.g. x.float()"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                "you can only change requires_grad of leaf tensors; use .detach() for a non-leaf"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory)."""
        return _wrap(self.data)

    def detach_(self) -> Tensor:
        """Cut this tensor from its graph in place."""
        self._ctx = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        """A differentiable copy."""
        return _ops.Clone.apply(self)

    def retain_grad(self) -> None:
        """Ask ``backward`` to fill ``.grad`` of this non-leaf tensor too."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that does not require grad")
        if self._ctx is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces
        it.

        Returns a function that removes the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        hooks = self._hooks
        return lambda: hooks.remove(hook) if hook in hooks else None

    def zero_(self) -> Tensor:
        """Fill with zeros in place (outside the graph)."""
        self.data[...] = 0
        return self

    def fill_(self, value: Scalar) -> Tensor:
        self.data[...] = value
        return self

    def copy_(self, src: TensorLike) -> Tensor:
        """Copy ``src`` (broadcast) into this tensor's array in place (outside the graph)."""
        src_arr = src.data if isinstance(src, Tensor) else np.asarray(src)
        try:
            self.data[...] = src_arr
        except ValueError as e:
            raise ValueError(
                f"copy_: source of shape {src_arr.shape} does not fit into shape {self.shape}"
            ) from e
        return self

    def backward(self, gradient: TensorLike | None = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``gradient`` is the gradient of some final quantity with respect to ``self`` (needed unless
        ``self`` has one element). The graph is freed afterwards unless ``retain_graph=True``.
        """
        backward(self, gradient, retain_graph)

    # ------------------------------------------------------------------ arithmetic
    # A Python number is folded into the op as a constant (no tensor, no gradient for it).
    def __add__(self, other: TensorLike) -> Tensor:
        if isinstance(other, Tensor):
            if self.data.dtype is other.data.dtype:
                return _ops.add(self, other)
            return _ops.add(*_promote(self, other))
        if type(other) in _PYNUM:
            return _ops.add_const(self, other)
        return _ops.add(*_promote(self, as_tensor(other, self)))

    def __radd__(self, other: TensorLike) -> Tensor:
        if type(other) in _PYNUM:
            return _ops.add_const(self, other)
        return _ops.add(*_promote(as_tensor(other, self), self))

    def __sub__(self, other: TensorLike) -> Tensor:
        if isinstance(other, Tensor):
            if self.data.dtype is other.data.dtype:
                return _ops.sub(self, other)
            return _ops.sub(*_promote(self, other))
        if type(other) in _PYNUM:
            return _ops.add_const(self, -other)
        return _ops.sub(*_promote(self, as_tensor(other, self)))

    def __rsub__(self, other: TensorLike) -> Tensor:
        if type(other) in _PYNUM:
            return _ops.rsub_const(self, other)
        return _ops.sub(*_promote(as_tensor(other, self), self))

    def __mul__(self, other: TensorLike) -> Tensor:
        if isinstance(other, Tensor):
            if self.data.dtype is other.data.dtype:
                return _ops.mul(self, other)
            return _ops.mul(*_promote(self, other))
        if type(other) in _PYNUM:
            return _ops.mul_const(self, other)
        return _ops.mul(*_promote(self, as_tensor(other, self)))

    def __rmul__(self, other: TensorLike) -> Tensor:
        if type(other) in _PYNUM:
            return _ops.mul_const(self, other)
        return _ops.mul(*_promote(as_tensor(other, self), self))

    def __truediv__(self, other: TensorLike) -> Tensor:
        float_self = self.data.dtype.kind == "f"
        if isinstance(other, Tensor):
            if float_self and self.data.dtype is other.data.dtype:
                return _ops.div(self, other)
            return _ops.div(*_promote(self, other, true_div=True))
        if type(other) in _PYNUM and float_self:
            return _ops.div_const(self, other)
        return _ops.div(*_promote(self, as_tensor(other, self), true_div=True))

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        if type(other) in _PYNUM and self.data.dtype.kind == "f":
            return _ops.rdiv_const(self, other)
        return _ops.div(*_promote(as_tensor(other, self), self, true_div=True))

    def __pow__(self, exponent: TensorLike) -> Tensor:
        if type(exponent) in _PYNUM:
            base, kind = self, self.data.dtype.kind
            if kind != "f" and type(exponent) is float:
                base = self.to(_dtype._default_dtype)  # int ** 0.5 is a float, as in PyTorch
            elif kind == "b":
                base = self.to(_dtype.int64)  # numpy would give int8
            return _ops.pow_scalar(base, exponent=exponent)
        return _ops.power(*_promote(self, as_tensor(exponent, self)))

    def __rpow__(self, base: TensorLike) -> Tensor:
        return _ops.power(*_promote(as_tensor(base, self), self))

    def __mod__(self, other: TensorLike) -> Tensor:
        return _ops.remainder(*_promote(self, as_tensor(other, self)))

    def __rmod__(self, other: TensorLike) -> Tensor:
        return _ops.remainder(*_promote(as_tensor(other, self), self))

    def __floordiv__(self, other: TensorLike) -> Tensor:
        return _ops.floor_divide(*_promote(self, as_tensor(other, self)))

    def __rfloordiv__(self, other: TensorLike) -> Tensor:
        return _ops.floor_divide(*_promote(as_tensor(other, self), self))

    def remainder(self, other: TensorLike) -> Tensor:
        """``self % other``, with the sign of ``other`` (as ``torch.remainder``)."""
        return self % other

    def floor_divide(self, other: TensorLike) -> Tensor:
        """``self // other``, rounded towards minus infinity (not differentiable)."""
        return self // other

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        """``abs(t)``, as :meth:`abs`."""
        return _ops.Abs.apply(self)

    def __matmul__(self, other: TensorLike) -> Tensor:
        return _ops.matmul(self, as_tensor(other, self))

    def __rmatmul__(self, other: TensorLike) -> Tensor:
        return _ops.matmul(as_tensor(other, self), self)

    def add(self, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        return self + (other if alpha == 1 else as_tensor(other, self) * alpha)

    def sub(self, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        return self - (other if alpha == 1 else as_tensor(other, self) * alpha)

    def mul(self, other: TensorLike) -> Tensor:
        return self * other

    def div(self, other: TensorLike) -> Tensor:
        return self / other

    def pow(self, exponent: TensorLike) -> Tensor:
        return self**exponent

    def neg(self) -> Tensor:
        return -self

    def matmul(self, other: TensorLike) -> Tensor:
        return self @ other

    def mm(self, other: TensorLike) -> Tensor:
        return self @ other

    # comparisons: not differentiable, they return bool tensors
    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return _wrap(np.equal(self.data, _data(other)))

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return _wrap(np.not_equal(self.data, _data(other)))

    def __lt__(self, other: TensorLike) -> Tensor:
        return _wrap(np.less(self.data, _data(other)))

    def __le__(self, other: TensorLike) -> Tensor:
        return _wrap(np.less_equal(self.data, _data(other)))

    def __gt__(self, other: TensorLike) -> Tensor:
        return _wrap(np.greater(self.data, _data(other)))

    def __ge__(self, other: TensorLike) -> Tensor:
        return _wrap(np.greater_equal(self.data, _data(other)))

    def __invert__(self) -> Tensor:
        return _wrap(np.invert(self.data))

    def __and__(self, other: TensorLike) -> Tensor:
        return _wrap(np.logical_and(self.data, _data(other)))

    def __or__(self, other: TensorLike) -> Tensor:
        return _wrap(np.logical_or(self.data, _data(other)))

    def eq(self, other: TensorLike) -> Tensor:
        return self == other

    def ne(self, other: TensorLike) -> Tensor:
        return self != other

    def lt(self, other: TensorLike) -> Tensor:
        return self < other

    def le(self, other: TensorLike) -> Tensor:
        return self <= other

    def gt(self, other: TensorLike) -> Tensor:
        return self > other

    def ge(self, other: TensorLike) -> Tensor:
        return self >= other

    def isnan(self) -> Tensor:
        return _wrap(np.isnan(self.data))

    def isinf(self) -> Tensor:
        return _wrap(np.isinf(self.data))

    def isfinite(self) -> Tensor:
        return _wrap(np.isfinite(self.data))

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _wrap(np.any(self.data, axis=dim, keepdims=keepdim))

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _wrap(np.all(self.data, axis=dim, keepdims=keepdim))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the largest entry (of the flattened tensor when ``dim`` is None)."""
        return _wrap(np.argmax(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _wrap(np.argmin(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

    def argsort(self, dim: int = -1, descending: bool = False) -> Tensor:
        a = -self.data if descending else self.data
        return _wrap(np.argsort(a, axis=dim, kind="stable").astype(np.int64))

    # ------------------------------------------------------------------ elementwise functions
    def exp(self) -> Tensor:
        return _ops.Exp.apply(self)

    def log(self) -> Tensor:
        return _ops.Log.apply(self)

    def tanh(self) -> Tensor:
        return _ops.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return _ops.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return _ops.ReLU.apply(self)

    def sqrt(self) -> Tensor:
        return _ops.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return _ops.Abs.apply(self)

    def sin(self) -> Tensor:
        return _ops.Sin.apply(self)

    def cos(self) -> Tensor:
        return _ops.Cos.apply(self)

    def clip(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:  # noqa: A002
        """Limit every entry to [min, max]; the gradient passes only where the entry was inside."""
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        return _ops.Clip.apply(self, min=min, max=max)

    clamp = clip

    def softmax(self, dim: int) -> Tensor:
        return _ops.Softmax.apply(self, dim=dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _ops.LogSoftmax.apply(self, dim=dim)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        """Sum over ``dim`` (an int, a tuple, or None for every dimension)."""
        return _ops.Sum.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        """Mean over ``dim`` (an int, a tuple, or None for every dimension)."""
        if self.data.dtype.kind != "f":
            raise RuntimeError(f"mean() needs a floating point tensor, got {self.data.dtype}")
        return _ops.Mean.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def var(
        self, dim: int | tuple[int, ...] | None = None, correction: int = 1, keepdim: bool = False
    ) -> Tensor:
        """Variance over ``dim``, dividing by ``N - correction`` (1: unbiased, as PyTorch)."""
        dims = _dims(dim, self.ndim)
        n = self.data.size if dims is None else int(np.prod([self.shape[d] for d in dims]))
        centred = self - self.mean(dim, keepdim=True)
        return (centred * centred).sum(dim, keepdim=keepdim) / max(n - correction, 0)

    def std(
        self, dim: int | tuple[int, ...] | None = None, correction: int = 1, keepdim: bool = False
    ) -> Tensor:
        return self.var(dim, correction=correction, keepdim=keepdim).sqrt()

    def logsumexp(self, dim: int, keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``dim``, computed without overflow."""
        return _ops.LogSumExp.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim: int | None = None, keepdim: bool = False) -> Tensor | MaxReturn:
        """The largest entry; with ``dim``, ``(values, indices)`` along it (as PyTorch).

        With no ``dim``, the gradient is shared equally by tied maxima; with ``dim`` it goes to the
        returned index.
        """
        return self._extreme(dim, keepdim, np.argmax, np.max)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Tensor | MaxReturn:
        """The smallest entry; with ``dim``, ``(values, indices)`` along it (as PyTorch)."""
        return self._extreme(dim, keepdim, np.argmin, np.min)

    def _extreme(self, dim: int | None, keepdim: bool, argf: Any, f: Any) -> Any:
        if self.data.size == 0:
            raise RuntimeError("max()/min() of an empty tensor")
        if dim is None:
            return _ops.FullExtreme.apply(self, f=f)
        dim = _dim(dim, self.ndim)
        idx = np.expand_dims(argf(self.data, axis=dim), dim)
        values = self.gather(dim, _wrap(idx))
        if not keepdim:
            values = values.squeeze(dim)
            idx = idx.squeeze(dim)
        return MaxReturn(values, _wrap(idx.astype(np.int64)))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> MaxReturn:  # noqa: A002
        """The ``k`` largest (or smallest) entries along ``dim`` and their indices."""
        dim = _dim(dim, self.ndim)
        n = self.shape[dim]
        if not 0 <= k <= n:
            raise ValueError(f"topk: k={k} is out of range for a dimension of size {n}")
        key = -self.data if largest else self.data
        idx = np.argsort(key, axis=dim, kind="stable")
        idx = np.take(idx, np.arange(k), axis=dim)
        return MaxReturn(self.gather(dim, _wrap(idx)), _wrap(idx.astype(np.int64)))

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same entries in a new shape (one dimension may be -1)."""
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _ops.Reshape.apply(self, shape=tuple(shape))

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _dim(start_dim, self.ndim), _dim(end_dim, self.ndim)
        shape = self.shape[:s] + (-1,) + self.shape[e + 1 :]
        return self.reshape(shape)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions."""
        perm = list(range(self.ndim))
        d0, d1 = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return _ops.Permute.apply(self, dims=tuple(perm))

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self.T

    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        """Reorder the dimensions: ``x.permute(1, 0, 2)``."""
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        if sorted(_dim(d, self.ndim) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {tuple(dims)} is not a permutation of {self.ndim} dims")
        return _ops.Permute.apply(self, dims=tuple(_dim(d, self.ndim) for d in dims))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size one at ``dim``."""
        dim = _dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim: int | None = None) -> Tensor:
        """Remove dimensions of size one (only ``dim``, if given and of size one)."""
        if dim is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            d = _dim(dim, self.ndim)
            if self.shape[d] != 1:
                return self
            shape = self.shape[:d] + self.shape[d + 1 :]
        return self.reshape(shape)

    def expand(self, *sizes: int | Sequence[int]) -> Tensor:
        """Broadcast to ``sizes`` (-1 keeps a size) without copying."""
        sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return _ops.Expand.apply(self, shape=shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def contiguous(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.GetItem.apply(self, index=_index(index))

    def __setitem__(self, index: Any, value: TensorLike) -> None:
        if self.requires_grad and _state.grad_enabled:
            raise RuntimeError(
                "in-place assignment to a tensor that requires grad would corrupt its gradient;"
                " build a new tensor (minigrad.where, cat) or assign under minigrad.no_grad()"
            )
        self.data[_index(index)] = _data(value)

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self.shape[0]):
            yield self[i]

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, without that dimension."""
        dim = _dim(dim, self.ndim)
        pre = (slice(None),) * dim
        return tuple(self[pre + (i,)] for i in range(self.shape[dim]))

    def split(
        self, split_size_or_sections: int | Sequence[int], dim: int = 0
    ) -> tuple[Tensor, ...]:
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of given sizes."""
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunks`` pieces of (nearly) equal size along ``dim``."""
        return chunk(self, chunks, dim)

    def gather(self, dim: int, index: TensorLike) -> Tensor:
        """Pick entries along ``dim`` at ``index`` (same number of dims as self)."""
        idx = np.asarray(_data(index))
        if idx.dtype.kind not in "iu":
            raise TypeError(f"gather: index must be an integer tensor, got {idx.dtype}")
        dim = _dim(dim, self.ndim)
        if idx.ndim != self.ndim:
            raise ValueError(f"gather: index has {idx.ndim} dims but the input has {self.ndim}")
        return _ops.Gather.apply(self, dim=dim, index=idx)

    def masked_fill(self, mask: TensorLike, value: Scalar) -> Tensor:
        """``value`` where ``mask`` is true, ``self`` elsewhere (gradient flows where false)."""
        return where(mask, as_tensor(value, self), self)

    def where(self, condition: TensorLike, other: TensorLike) -> Tensor:
        return where(condition, self, other)

    # ------------------------------------------------------------------ nn shortcuts
    def sigmoid_(self) -> Tensor:  # pragma: no cover - convenience alias
        return self.sigmoid()


# Python numbers go into ops as they are: numpy treats them as "weak" (float32 * 2.5 stays float32,
# as in PyTorch). numpy scalars are strongly typed, so they take the tensor route (as_tensor).
_PYNUM = (int, float)


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _dim(dim: int, ndim: int) -> int:
    """A dimension index in [0, ndim), accepting negatives; IndexError names the range."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dimension must be an int, got {type(dim).__name__}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(ndim, 1)},"
            f" {max(ndim, 1) - 1}], but got {dim})"
        )
    return int(dim) % max(ndim, 1)


def _dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (_dim(dim, ndim),)
    return tuple(sorted(_dim(d, ndim) for d in dim))


def _index(index: Any) -> Any:
    """Turn tensors inside an index into numpy arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


# --------------------------------------------------------------------------------------------------
# Functions on several tensors
# --------------------------------------------------------------------------------------------------


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat expects a non-empty sequence of tensors")
    ndim = tensors[0].ndim
    d = _dim(dim, ndim)
    for i, t in enumerate(tensors):
        if (
            t.ndim != ndim
            or t.shape[:d] + t.shape[d + 1 :] != tensors[0].shape[:d] + tensors[0].shape[d + 1 :]
        ):
            raise ValueError(
                f"cat: sizes must match except in dimension {dim}; tensor 0 has shape"
                f" {tensors[0].shape} but tensor {i} has shape {t.shape}"
            )
    return _ops.Cat.apply(*_same_dtype(tensors), dim=d)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack expects a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack expects each tensor to be equal size, but got {tensors[0].shape} at entry"
                f" 0 and {t.shape} at entry {i}"
            )
    d = _dim(dim, tensors[0].ndim + 1)
    return _ops.Stack.apply(*_same_dtype(tensors), dim=d)


def _same_dtype(tensors: list[Tensor]) -> list[Tensor]:
    """The tensors of a ``cat`` or ``stack``, cast to the dtype PyTorch gives the result.

    The highest kind present (bool < integer < floating point) decides, and among the dtypes of
    that kind numpy's promotion: int64 with float32 gives float32 (numpy would give float64). The
    casts are recorded, so each input's gradient comes back in its own dtype.

    >>> import minigrad
    >>> minigrad.cat([minigrad.tensor([1, 2]), minigrad.tensor([0.5])]).dtype
    dtype('float32')
    """
    first = tensors[0].data.dtype
    if all(t.data.dtype is first for t in tensors):
        return tensors
    dtypes = [t.data.dtype for t in tensors]
    top = max(_KIND_RANK.get(dt.kind, 2) for dt in dtypes)
    dt = np.result_type(*[dt for dt in dtypes if _KIND_RANK.get(dt.kind, 2) == top])
    return [t.to(dt) for t in tensors]


def split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    dim = _dim(dim, tensor.ndim)
    n = tensor.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(
                f"split: sizes {sizes} sum to {sum(sizes)}, but dimension {dim} has size {n}"
            )
    pieces, start, pre = [], 0, (slice(None),) * dim
    for s in sizes:
        pieces.append(tensor[pre + (slice(start, start + s),)])
        start += s
    return tuple(pieces)


def chunk(tensor: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces of (nearly) equal size along ``dim``, as ``torch.chunk``."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = tensor.shape[_dim(dim, tensor.ndim)]
    return split(tensor, max(-(-n // chunks), 1), dim)


def where(condition: TensorLike, input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
    """``input`` where ``condition`` is true, else ``other`` (broadcast together)."""
    cond = np.asarray(_data(condition))
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    x = input if isinstance(input, Tensor) else None
    y = other if isinstance(other, Tensor) else None
    like = x if x is not None else y
    x = as_tensor(input, like)
    y = as_tensor(other, like)
    if x.data.dtype is not y.data.dtype:
        x, y = _promote(x, y)  # PyTorch's rule, as for the arithmetic operators
    return _ops.Where.apply(x, y, cond=cond)


# --------------------------------------------------------------------------------------------------
# Backward
# --------------------------------------------------------------------------------------------------

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or through a part already freed by an"
    " earlier backward). Pass retain_graph=True to the first backward if you need to, or, when a"
    " hidden state is carried from one batch to the next, detach it: h = h.detach()."
)


def _count_dependencies(root: Tensor) -> dict[Tensor, int]:
    """For every tensor that requires grad and leads to ``root``: how many recorded uses it has.

    A tensor's gradient is complete once every op that used it has sent its share back; backward
    processes a tensor when its count falls to zero (Kahn's topological order, as PyTorch's engine
    does). The walk uses an explicit stack, so a chain of any length needs no recursion.
    """
    deps: dict[Tensor, int] = {}
    stack = [root]
    while stack:
        ctx = stack.pop()._ctx
        if ctx is None:
            continue
        parents = ctx.parents
        if parents is None:  # released by an earlier backward
            raise RuntimeError(_FREED_MESSAGE)
        for p in parents:
            if p.requires_grad:
                if p in deps:
                    deps[p] += 1
                else:
                    deps[p] = 1
                    stack.append(p)
    return deps


def _run_hooks(node: Tensor, g: np.ndarray) -> np.ndarray:
    for hook in list(node._hooks):  # type: ignore[union-attr]
        res = hook(_wrap(g))
        if res is not None:
            res_arr = _data(res)
            if np.shape(res_arr) != node.shape:
                raise RuntimeError(
                    f"hook returned a gradient of shape {np.shape(res_arr)} for a tensor of shape"
                    f" {node.shape}"
                )
            g = np.asarray(res_arr, dtype=node.dtype)
    return g


def backward(
    tensor: Tensor, gradient: TensorLike | None = None, retain_graph: bool = False
) -> None:
    """Reverse-mode differentiation from ``tensor``; see :meth:`Tensor.backward`."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn; did you forget"
            " requires_grad=True on an input, or compute it under no_grad()?"
        )
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this tensor has shape"
                f" {tensor.shape}. Pass backward(gradient) of that shape, or reduce it first"
                " (e.g. loss.sum() or loss.mean())."
            )
        seed = np.ones_like(tensor.data)
    else:
        seed = np.asarray(_data(gradient), dtype=tensor.dtype)
        if seed.shape != tensor.shape:
            raise RuntimeError(
                f"backward: gradient has shape {seed.shape} but the tensor has shape {tensor.shape}"
            )

    deps = _count_dependencies(tensor)
    anomaly = _state.anomaly
    # ready: (tensor, its complete gradient or None, whether the engine owns that array, i.e. may
    # add into it in place: not when it is the incoming gradient itself, a view, or shared by two
    # inputs). grads/owned: the same for tensors still waiting for the gradient of another use.
    ready = [(tensor, seed, gradient is None)]
    grads: dict[Tensor, Any] = {}
    owned: dict[Tensor, bool] = {}
    while ready:
        node, g, own = ready.pop()
        ctx = node._ctx
        if g is not None:
            if node._hooks:
                g = _run_hooks(node, g)
                own = False
            if ctx is None or node._retains_grad:
                _accumulate_into_grad(node, g, own)
        if ctx is None:
            continue
        parents = ctx.parents
        if g is None:  # no gradient reached this node: its inputs only lose a dependency
            in_grads: tuple = (None,) * len(parents)
        else:
            in_grads = ctx.backward(g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if anomaly:
                _check_backward(ctx, g, in_grads)
        shared = len(in_grads) == 2 and in_grads[0] is in_grads[1] is not None
        trusted = ctx._trusted
        for p, pg in zip(parents, in_grads):
            if not p.requires_grad:
                continue
            d = deps[p] - 1
            if pg is not None and type(pg) is not IndexedGrad:
                if type(pg) is not np.ndarray:
                    pg = np.asarray(pg)
                pdata = p.data
                if pg.dtype is not pdata.dtype and pg.dtype != pdata.dtype:
                    pg = pg.astype(pdata.dtype)
                if not trusted and pg.shape != pdata.shape:
                    raise RuntimeError(
                        f"{ctx.name}.backward returned a gradient of shape {pg.shape}"
                        f" for an input of shape {p.data.shape}"
                    )
                own_pg = pg.base is None and pg is not g and not shared
                if d == 0 and p not in grads:  # its only use (the common case): straight on
                    ready.append((p, pg, own_pg))
                    continue
                buf = grads.get(p)
                if buf is None:
                    grads[p] = pg
                    owned[p] = own_pg
                elif owned[p]:
                    buf += pg
                else:
                    grads[p] = buf + pg
                    owned[p] = True
            elif pg is not None:  # an IndexedGrad: scattered into a buffer of p's shape
                buf = grads.get(p)
                if buf is None or not owned[p]:
                    new = np.zeros(p.data.shape, dtype=p.data.dtype)
                    if buf is not None:
                        new += buf
                    grads[p] = buf = new
                    owned[p] = True
                if pg.basic:
                    buf[pg.index] += pg.value
                else:
                    _add_at(buf, pg.index, pg.value)
            if d:
                deps[p] = d
            else:
                ready.append((p, grads.pop(p, None), owned.pop(p, False)))
        if not retain_graph:
            if ctx._saves:
                ctx.release()
            else:  # nothing saved: unlinking the inputs frees the node
                ctx.parents = None


def _accumulate_into_grad(node: Tensor, g: np.ndarray, own: bool) -> None:
    if node._grad is None:
        node._grad = _wrap(g if own else g.copy())
    else:
        # out of place: the old .grad may be shared with the user
        node._grad = _wrap(node._grad.data + g)


def _check_backward(ctx: Function, g: np.ndarray, in_grads: tuple) -> None:
    if _nonfinite_kind(g) is not None:
        return
    for i, pg in enumerate(in_grads):
        arr = pg.value if type(pg) is IndexedGrad else pg
        if arr is None:
            continue
        kind = _nonfinite_kind(np.asarray(arr))
        if kind:
            created = getattr(ctx, "created_at", None)
            where_ = "".join(created[-4:]) if created else "(unknown)\n"
            raise RuntimeError(
                f"Function '{ctx.name}Backward' returned {kind} values in its {i}th output"
                f" (backward pass) from a finite incoming gradient.\nThe forward op was called"
                f" from:\n{where_}"
            )


# --------------------------------------------------------------------------------------------------
# Creating tensors
# --------------------------------------------------------------------------------------------------


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, numpy arrays, tensors).

    >>> import minigrad
    >>> minigrad.tensor([1, 2, 3]).dtype, minigrad.tensor([1.0, 2.0]).dtype
    (dtype('int64'), dtype('float32'))
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a numpy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _wrap(array)


def _factory(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _factory(np.zeros(_normalize_size(size), _dtype.as_dtype(dtype)), requires_grad)


def ones(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _factory(np.ones(_normalize_size(size), _dtype.as_dtype(dtype)), requires_grad)


def full(
    size: Sequence[int], fill_value: Scalar, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``."""
    if dtype is None and isinstance(fill_value, (bool, int)) and not isinstance(fill_value, float):
        dt = np.dtype(bool) if isinstance(fill_value, bool) else _dtype.int64
    else:
        dt = _dtype.as_dtype(dtype)
    return _factory(np.full(_normalize_size((size,)), fill_value, dt), requires_grad)


def empty(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (zeros here, so that results never depend on stale memory)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n`` by ``m`` identity matrix."""
    return _factory(np.eye(n, m, dtype=_dtype.as_dtype(dtype)), requires_grad)


def randn(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples from the standard normal distribution (seed with :func:`manual_seed`)."""
    dt = _dtype.as_dtype(dtype)
    arr = _random._generator.standard_normal(_normalize_size(size), dtype=np.float64).astype(dt)
    return _factory(arr, requires_grad)


def rand(*size: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples from the uniform distribution on [0, 1)."""
    dt = _dtype.as_dtype(dtype)
    arr = _random._generator.random(_normalize_size(size), dtype=np.float64).astype(dt)
    return _factory(arr, requires_grad)


def randint(
    low: int, high: int | None = None, size: Sequence[int] = (), dtype: Any = None
) -> Tensor:
    """Integers drawn uniformly from [low, high) (or [0, low) when ``high`` is omitted)."""
    if high is None:
        low, high = 0, low
    dt = _dtype.int64 if dtype is None else _dtype.as_dtype(dtype)
    return _wrap(_random._generator.integers(low, high, size=tuple(size)).astype(dt))


def randperm(n: int, dtype: Any = None) -> Tensor:
    """A random permutation of 0..n-1."""
    dt = _dtype.int64 if dtype is None else _dtype.as_dtype(dtype)
    return _wrap(_random._generator.permutation(n).astype(dt))


def multinomial(probs: TensorLike, num_samples: int, replacement: bool = False) -> Tensor:
    """Draw indices from each row of ``probs`` (non-negative weights, need not sum to one)."""
    p = np.asarray(_data(probs), dtype=np.float64)
    squeeze = p.ndim == 1
    p = np.atleast_2d(p)
    if (p < 0).any() or not np.isfinite(p).all():
        raise ValueError("multinomial: probabilities must be finite and non-negative")
    totals = p.sum(-1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError("multinomial: every row must have a positive sum")
    p = p / totals
    rows = [
        _random._generator.choice(p.shape[-1], size=num_samples, replace=replacement, p=row)
        for row in p
    ]
    out = np.asarray(rows, dtype=np.int64)
    return _wrap(out[0] if squeeze else out)


def arange(start: Scalar, end: Scalar | None = None, step: Scalar = 1, dtype: Any = None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a float is given."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dt = (
            _dtype._default_dtype
            if any(isinstance(v, float) for v in (start, end, step))
            else _dtype.int64
        )
    else:
        dt = _dtype.as_dtype(dtype)
    return _wrap(np.arange(start, end, step).astype(dt))


def linspace(start: float, end: float, steps: int, dtype: Any = None) -> Tensor:
    """``steps`` values evenly spaced from ``start`` to ``end`` inclusive."""
    return _wrap(np.linspace(start, end, steps).astype(_dtype.as_dtype(dtype)))


def _like(t: Tensor, dtype: Any) -> np.dtype:
    return t.dtype if dtype is None else _dtype.as_dtype(dtype)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.zeros(t.shape, _like(t, dtype)), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.ones(t.shape, _like(t, dtype)), requires_grad)


def full_like(
    t: Tensor, fill_value: Scalar, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    return _factory(np.full(t.shape, fill_value, _like(t, dtype)), requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(*t.shape, dtype=_like(t, dtype), requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(*t.shape, dtype=_like(t, dtype), requires_grad=requires_grad)


def numel(input: Tensor) -> int:  # noqa: A002
    return input.numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def allclose(a: TensorLike, b: TensorLike, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return bool(np.allclose(_data(a), _data(b), rtol=rtol, atol=atol))


from . import ops as _ops  # noqa: E402  (ops needs Tensor and Function defined above)
