"""Checks for chapter 2, *Building minigrad* (``exercises/02_building_minigrad.ipynb``).

=====  ==============================  ===============================
 no.   exercise                        check
=====  ==============================  ===============================
 2.1   ``Value.__mul__`` and backward  :func:`check_value_mul`
 2.2   ``Value.tanh`` and backward     :func:`check_value_tanh`
 2.3   topological order               :func:`check_topological_order`
 2.4   ``unbroadcast``                 :func:`check_unbroadcast`
=====  ==============================  ===============================

The ``Value`` checks build their inputs with the student's own ``Value`` class and compare the
gradients that ``_backward`` leaves with numerical derivatives (central differences), one input at a
time. The other two give the student's function plain inputs and compare with a reference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .framework import Case, call, exercise, expect, expect_array, expect_close, fail

__all__ = ["check_value_mul", "check_value_tanh", "check_topological_order", "check_unbroadcast"]

_ACCUMULATE = ("gradients accumulate: write `a.grad += ...`, not `a.grad = ...`, because a value "
               "used in several places receives one contribution from each use")
_CHAIN = ("multiply the local derivative by out.grad: the chain rule scales it by the gradient "
          "arriving from above")


def _needs(cls: Any, name: str, attach: str) -> None:
    if not isinstance(cls, type):
        fail(f"expected your Value class, got {type(cls).__name__}")
    if not hasattr(cls, name):
        fail(f"Value has no {name}", f"run the cell that attaches your function: {attach}")


def _output(out: Any, what: str) -> None:
    if out is None:
        fail(f"{what} returned None", "return the new Value, out")
    for attr in ("data", "grad", "_backward", "_prev"):
        if not hasattr(out, attr):
            fail(f"{what} returned {type(out).__name__}, which has no attribute {attr!r}",
                 "return a Value built as Value(data, (inputs...), op)")


# --------------------------------------------------------------------------------------------------
# 2.1  Value.__mul__
# --------------------------------------------------------------------------------------------------


@exercise("2.1", "Value.__mul__ and its backward")
def check_value_mul(Value: Any) -> list[Case]:  # noqa: N803 - the class, as the reader named it
    """Check ``Value.__mul__``: the product's value, its inputs, and what ``_backward`` adds to each
    input's ``grad`` (compared with numerical derivatives), one input at a time."""
    _needs(Value, "__mul__", "Value.__mul__ = value_mul")

    def run(a: float, b: float, g: float, a0: float = 0.0, b0: float = 0.0):
        x, y = Value(a), Value(b)
        x.grad, y.grad = a0, b0
        out = call(lambda: x * y)
        _output(out, "Value(a) * Value(b)")
        out.grad = g
        call(out._backward)
        return x, y, out

    def forward():
        x, y, out = run(2.0, -3.0, 1.0)
        expect_close("(2 * -3).data", -6.0, out.data, hints=[(-1.0, "that is a + b; multiply")])
        kids = list(out._prev)
        expect(any(k is x for k in kids) and any(k is y for k in kids),
               "out._prev does not hold both inputs",
               "pass the inputs when you build the output: Value(..., (self, other), '*'), so "
               "that backward can reach them")

    def grad_of_a():
        x, _, _ = run(2.0, -3.0, 1.0)
        h = 1e-6
        num = ((2.0 + h) * -3.0 - (2.0 - h) * -3.0) / (2 * h)
        expect_close("a.grad for a=2, b=-3, out.grad=1", num, x.grad, rtol=1e-6,
                     hints=[(2.0, "you used a.data: the derivative of a*b with respect to a is b"),
                            (0.0, "a.grad was not changed: does out._backward update self.grad?"),
                            (-6.0, "that is a*b, the value, not its derivative")])

    def grad_of_b():
        _, y, _ = run(2.0, -3.0, 1.0)
        expect_close("b.grad for a=2, b=-3, out.grad=1", 2.0, y.grad,
                     hints=[(-3.0, "you used b.data: the derivative of a*b with respect to b is a"),
                            (0.0, "b.grad was not changed: does out._backward update other.grad?")])

    def upstream():
        x, y, _ = run(1.5, 4.0, 0.5)
        expect_close("a.grad with out.grad=0.5", 0.5 * 4.0, x.grad, hints=[(4.0, _CHAIN)])
        expect_close("b.grad with out.grad=0.5", 0.5 * 1.5, y.grad, hints=[(1.5, _CHAIN)])

    def accumulates():
        x, y, _ = run(2.0, 5.0, 1.0, a0=1.0, b0=-1.0)
        expect_close("a.grad starting from 1.0", 1.0 + 5.0, x.grad, hints=[(5.0, _ACCUMULATE)])
        expect_close("b.grad starting from -1.0", -1.0 + 2.0, y.grad, hints=[(2.0, _ACCUMULATE)])

    def square():
        x = Value(3.0)
        out = call(lambda: x * x)
        _output(out, "Value(3) * itself")
        out.grad = 1.0
        call(out._backward)
        expect_close("x.grad for x * x at x=3 (d/dx x^2 = 2x)", 6.0, x.grad,
                     hints=[(3.0, _ACCUMULATE + " (here both operands are the same Value)")])

    def random_values():
        rng = np.random.default_rng(21)
        for _ in range(5):
            a, b, g = (float(v) for v in rng.normal(size=3) * 3)
            x, y, _ = run(a, b, g)
            h = 1e-6
            da = ((a + h) * b - (a - h) * b) / (2 * h) * g
            db = (a * (b + h) - a * (b - h)) / (2 * h) * g
            expect_close(f"a.grad for a={a:.4g}, b={b:.4g}, out.grad={g:.4g}", da, x.grad,
                         rtol=1e-5, atol=1e-8)
            expect_close(f"b.grad for a={a:.4g}, b={b:.4g}, out.grad={g:.4g}", db, y.grad,
                         rtol=1e-5, atol=1e-8)

    def zeros():
        x, y, out = run(0.0, 0.0, 1.0)
        expect_close("(0 * 0).data", 0.0, out.data)
        expect_close("a.grad at a=b=0", 0.0, x.grad)
        expect_close("b.grad at a=b=0", 0.0, y.grad)

    return [
        Case("the value and the inputs of 2 * -3", forward),
        Case("a.grad alone (b's part ignored)", grad_of_a),
        Case("b.grad alone (a's part ignored)", grad_of_b),
        Case("out.grad = 0.5 scales both gradients", upstream),
        Case("gradients already present are added to", accumulates),
        Case("x * x, the same Value twice", square),
        Case("random values against numerical derivatives", random_values),
        Case("zeros", zeros),
    ]


# --------------------------------------------------------------------------------------------------
# 2.2  Value.tanh
# --------------------------------------------------------------------------------------------------


@exercise("2.2", "Value.tanh and its backward")
def check_value_tanh(Value: Any) -> list[Case]:  # noqa: N803
    """Check ``Value.tanh``: the value, and the gradient ``_backward`` adds to the input, against
    the numerical derivative of ``math.tanh`` (including a large input, where a formula built on
    ``exp`` overflows)."""
    _needs(Value, "tanh", "Value.tanh = value_tanh")

    def run(a: float, g: float, a0: float = 0.0):
        x = Value(a)
        x.grad = a0
        out = call(lambda: x.tanh())
        _output(out, "Value(x).tanh()")
        out.grad = g
        call(out._backward)
        return x, out

    def forward():
        _, out = run(0.5, 1.0)
        expect_close("Value(0.5).tanh().data", math.tanh(0.5), out.data,
                     hints=[(0.5, "that is the input: apply tanh")])

    def derivative():
        x, _ = run(0.5, 1.0)
        t = math.tanh(0.5)
        num = (math.tanh(0.5 + 1e-6) - math.tanh(0.5 - 1e-6)) / 2e-6
        expect_close("x.grad at x=0.5", num, x.grad, rtol=1e-6,
                     hints=[(1 - 0.5**2, "you squared the input; the derivative is 1 - t**2 "
                                         "where t = tanh(x) is the output"),
                            (1 - t, "square t: the derivative is 1 - t**2"),
                            (t**2 - 1, "the sign is reversed: 1 - t**2, not t**2 - 1"),
                            (t, "that is tanh(x), not its derivative 1 - tanh(x)**2"),
                            (0.0, "x.grad was not changed: does out._backward update self.grad?")])

    def upstream():
        x, _ = run(-1.2, 3.0)
        t = math.tanh(-1.2)
        expect_close("x.grad at x=-1.2 with out.grad=3", 3.0 * (1 - t * t), x.grad,
                     hints=[(1 - t * t, _CHAIN)])

    def accumulates():
        x, _ = run(0.3, 1.0, a0=2.0)
        t = math.tanh(0.3)
        expect_close("x.grad starting from 2.0", 2.0 + (1 - t * t), x.grad,
                     hints=[(1 - t * t, _ACCUMULATE)])

    def zero():
        x, out = run(0.0, 1.0)
        expect_close("Value(0).tanh().data", 0.0, out.data)
        expect_close("x.grad at x=0 (the slope of tanh is 1 there)", 1.0, x.grad)

    def large():
        x, out = run(400.0, 1.0)
        expect_close("Value(400).tanh().data", 1.0, out.data)
        expect_close("x.grad at x=400", 0.0, x.grad, atol=1e-12)

    def random_values():
        rng = np.random.default_rng(22)
        for a, g in rng.normal(size=(5, 2)) * 2:
            x, _ = run(float(a), float(g))
            num = (math.tanh(a + 1e-6) - math.tanh(a - 1e-6)) / 2e-6 * g
            expect_close(f"x.grad at x={a:.4g}, out.grad={g:.4g}", num, x.grad,
                         rtol=1e-5, atol=1e-8)

    return [
        Case("the value of tanh(0.5)", forward),
        Case("the derivative at 0.5, against a numerical one", derivative),
        Case("out.grad = 3 scales the gradient", upstream),
        Case("a gradient already present is added to", accumulates),
        Case("zero", zero),
        Case("a large input, x = 400 (exp(2x) overflows)", large,
             hint="exp(2x) overflows for large x: use math.tanh, which does not"),
        Case("random values against numerical derivatives", random_values),
    ]


# --------------------------------------------------------------------------------------------------
# 2.3  topological order
# --------------------------------------------------------------------------------------------------


class _Node:
    """A bare graph node for the topological-order check: a name and its inputs in ``_prev``."""

    def __init__(self, name: str, *inputs: _Node) -> None:
        self.name = name
        self._prev = tuple(inputs)
        self.data, self.grad = 0.0, 0.0

    def __repr__(self) -> str:
        return f"Node({self.name})"


def _reachable(root: _Node) -> list[_Node]:
    seen: dict[int, _Node] = {}
    stack = [root]
    while stack:
        n = stack.pop()
        if id(n) not in seen:
            seen[id(n)] = n
            stack.extend(n._prev)
    return list(seen.values())


def _check_order(fn: Any, root: _Node, what: str) -> None:
    got = call(fn, root)
    if got is None:
        fail(f"{what}: returned None", "return the list of nodes")
    try:
        got = list(got)
    except TypeError:
        fail(f"{what}: expected a list of nodes, got {type(got).__name__}")
    nodes = _reachable(root)
    ids = [id(n) for n in got]
    names = ", ".join(getattr(n, "name", "?") for n in got[:8]) + (" ..." if len(got) > 8 else "")
    if len(set(ids)) != len(ids):
        seen_once: set[int] = set()
        dup = next(n for n in got if id(n) in seen_once or seen_once.add(id(n)))
        fail(f"{what}: {dup!r} appears {ids.count(id(dup))} times in [{names}]",
             "remember which nodes you have visited (a set of ids) so that a node reached by "
             "two paths is listed once")
    got_ids, node_ids = set(ids), {id(n) for n in nodes}
    missing = [n for n in nodes if id(n) not in got_ids]
    if missing:
        fail(f"{what}: {len(missing)} of {len(nodes)} nodes are missing, e.g. {missing[0]!r}; "
             f"got [{names}]", "follow every input in node._prev, not only the first")
    extra = [n for n in got if id(n) not in node_ids]
    if extra:
        fail(f"{what}: {extra[0]!r} is not reachable from the root")
    pos = {id(n): i for i, n in enumerate(got)}
    if len(got) > 1 and got[0] is root:
        fail(f"{what}: the root comes first: [{names}]",
             "the order runs from the inputs to the root: the root comes last (reverse your list)")
    for n in got:
        for p in n._prev:
            if pos[id(p)] > pos[id(n)]:
                fail(f"{what}: {n!r} comes before its input {p!r}: [{names}]",
                     "add a node to the order only after all of its inputs are in it (post-order), "
                     "not when you first reach it")


@exercise("2.3", "topological order")
def check_topological_order(fn: Any) -> list[Case]:
    """Check ``topological_order(root)``: every node reachable from ``root`` exactly once, each
    after all of its inputs, on small graphs, a node reached by two paths, and a chain of 10,000."""

    def single():
        _check_order(fn, _Node("a"), "a single node")

    def chain():
        a = _Node("a")
        b = _Node("b", a)
        c = _Node("c", b)
        _check_order(fn, c, "the chain a -> b -> c")

    def diamond():
        x = _Node("x")
        a, b = _Node("a", x), _Node("b", x)
        _check_order(fn, _Node("c", a, b), "x used by a and by b, both used by c")

    def two_depths():
        x = _Node("x")
        a = _Node("a", x)
        b = _Node("b", a)
        c = _Node("c", x, b)  # x is an input of c directly and through a -> b
        _check_order(fn, c, "x reached directly and through a -> b")

    def wide():
        leaves = [_Node(f"w{i}") for i in range(40)]
        terms = [_Node(f"t{i}", leaves[i], leaves[(i + 1) % 40]) for i in range(40)]
        total = terms[0]
        for i, t in enumerate(terms[1:]):
            total = _Node(f"s{i}", total, t)
        _check_order(fn, total, "a sum of 40 products sharing their factors")

    def long_chain():
        n = _Node("n0")
        for i in range(1, 10_000):
            n = _Node(f"n{i}", n)
        _check_order(fn, n, "a chain of 10,000 nodes")

    return [
        Case("a single node", single),
        Case("a chain", chain),
        Case("a diamond (one node, two users)", diamond),
        Case("a node reached by paths of different lengths", two_depths),
        Case("a wide graph with shared nodes", wide),
        Case("a chain of 10,000 nodes (too deep for recursion)", long_chain),
    ]


# --------------------------------------------------------------------------------------------------
# 2.4  unbroadcast
# --------------------------------------------------------------------------------------------------


def _reference_unbroadcast(grad: np.ndarray, shape: tuple[int, ...], reduce: Any = np.sum
                           ) -> np.ndarray:
    lead = grad.ndim - len(shape)
    g = reduce(grad, axis=tuple(range(lead))) if lead else grad
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    return np.asarray(reduce(g, axis=axes, keepdims=True) if axes else g)


def _first_copy(a: np.ndarray, axis: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
    """The usual mistake: the gradient of the first copy along ``axis`` instead of the sum."""
    first = a[tuple(slice(0, 1) if i in axis else slice(None) for i in range(a.ndim))]
    return first if keepdims else first.reshape([s for i, s in enumerate(a.shape) if i not in axis])


def _numerical_unbroadcast(w: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The gradient of ``sum(w * broadcast_to(x, w.shape))`` with respect to ``x``, numerically."""
    x = np.zeros(shape)
    out = np.zeros(shape)
    for idx in np.ndindex(*shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += 1e-3
        xm[idx] -= 1e-3
        f = (np.sum(w * np.broadcast_to(xp, w.shape)) - np.sum(w * np.broadcast_to(xm, w.shape)))
        out[idx] = f / 2e-3
    return out


@exercise("2.4", "unbroadcast")
def check_unbroadcast(fn: Any) -> list[Case]:
    """Check ``unbroadcast(grad, shape)`` against the gradient of broadcasting, computed both
    exactly and numerically, for leading dimensions, size-one dimensions, both, and none."""

    def case(grad_shape: tuple[int, ...], shape: tuple[int, ...], seed: int,
             dtype: Any = np.float64, numerical: bool = False) -> Case:
        def run() -> None:
            rng = np.random.default_rng(seed)
            grad = rng.normal(size=grad_shape).astype(dtype)
            expected = _reference_unbroadcast(grad, shape)
            if numerical:
                num = _numerical_unbroadcast(grad.astype(np.float64), shape)
                assert np.allclose(num, expected, atol=1e-6), "reference disagrees with numerics"
            got = call(fn, grad.copy(), shape)
            if (grad_shape != tuple(shape) and isinstance(got, np.ndarray)
                    and got.shape == grad_shape and np.array_equal(got, grad)):
                fail(f"unbroadcast(grad of shape {grad_shape}, {shape}): shape: expected "
                     f"{tuple(shape)}, got {grad_shape}", "you returned grad unchanged: sum over "
                     "the dimensions that broadcasting added or stretched")
            lead = len(grad_shape) - len(shape)
            axes = [i + lead for i, s in enumerate(shape) if s == 1 and grad_shape[i + lead] != 1]
            shape_hints = []
            if lead:
                shape_hints.append((grad_shape[:lead] + shape, "also sum the leading dimensions "
                                                               "that broadcasting added"))
                shape_hints.append(((1,) * lead + shape, "the leading dimensions that "
                                                         "broadcasting added must disappear: sum "
                                                         "them without keepdims"))
            shape_hints += [
                (tuple(s for i, s in enumerate(shape) if i + lead not in axes),
                 "keep the size-one dimensions: sum them with keepdims=True"),
            ]
            value_hints = [(_reference_unbroadcast(grad, shape, np.mean),
                            "you averaged; the gradients of the copies add up: use sum"),
                           (_reference_unbroadcast(grad, shape, _first_copy),
                            "you kept the gradient of one copy (such as grad[0]); every copy "
                            "contributed to the result, so add them all up: use sum")]
            expect_array(f"unbroadcast(grad of shape {grad_shape}, {shape})",
                         expected.astype(dtype), got, rtol=1e-5, atol=1e-6,
                         shape_hints=shape_hints, value_hints=value_hints)
        return Case(f"grad {grad_shape} -> {shape}", run)

    rng = np.random.default_rng(24)
    rows, cols = (int(v) for v in rng.integers(2, 7, size=2))
    return [
        case((3, 4), (3, 4), 0),
        case((5, 3, 4), (3, 4), 1, numerical=True),
        case((3, 4), (3, 1), 2, numerical=True),
        case((3, 4), (1, 4), 3),
        case((2, 3, 4), (3, 1), 4, numerical=True),
        case((3, 4), (), 5),
        case((1, 4), (1, 4), 6),
        case((1, 4), (4,), 7),
        case((4, 1), (1, 1), 8),
        case((rows, cols), (cols,), 9, dtype=np.float32),
        case((rows, 1, cols), (rows, 1, 1), 10),
        case((2, 3), (2, 3), 11, dtype=np.float32),
    ]
