"""Every differentiable op against central finite differences, in float64, over generated shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ops import unbroadcast

SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def t64(arr, requires_grad=True):
    return mg.tensor(np.asarray(arr, dtype=np.float64), requires_grad=requires_grad)


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: the second drops leading dims or has ones."""
    a = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    drop = draw(st.integers(0, len(a)))
    b = list(a[drop:])
    for i in range(len(b)):
        if draw(st.booleans()):
            b[i] = 1
    if draw(st.booleans()):
        a, b = tuple(b), a
    return tuple(a), tuple(b)


def arrays(draw, shape, low=-2.0, high=2.0):
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).uniform(low, high, shape)


@SETTINGS
@given(st.data(), broadcast_pair(), st.sampled_from(["add", "sub", "mul", "div", "pow"]))
def test_binary_ops_with_broadcasting(data, pair, op):
    sa, sb = pair
    a = arrays(data.draw, sa, 0.5, 2.0)
    b = arrays(data.draw, sb, 0.5, 2.0)
    f = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "pow": lambda x, y: x**y,
    }[op]
    assert mg.gradcheck(f, [t64(a), t64(b)])


@pytest.mark.parametrize(
    "f",
    [
        lambda x: -x,
        lambda x: 2.0 - x,
        lambda x: 3.0 / x,
        lambda x: 1.5 * x + 0.5,
        lambda x: x**3,
        lambda x: x**2,
        lambda x: x**0.5,
        lambda x: x**-1.5,
        lambda x: 2.0**x,
        lambda x: x.exp(),
        lambda x: x.log(),
        lambda x: x.tanh(),
        lambda x: x.sigmoid(),
        lambda x: x.sqrt(),
        lambda x: x.sin(),
        lambda x: x.cos(),
        lambda x: x.clone() * 2,
    ],
)
@SETTINGS
@given(data=st.data(), shape=shapes)
def test_elementwise(f, data, shape):
    x = arrays(data.draw, shape, 0.2, 2.0)  # positive: log, sqrt and fractional powers
    assert mg.gradcheck(f, [t64(x)])


@SETTINGS
@given(data=st.data(), shape=shapes)
def test_piecewise_ops_away_from_kinks(data, shape):
    x = arrays(data.draw, shape, -2.0, 2.0)
    x = np.where(np.abs(x) < 0.1, 0.5, x)  # finite differences need distance from the kink
    x = np.where(np.abs(np.abs(x) - 1.0) < 0.05, 1.5, x)
    for f in (
        lambda t: t.relu(),
        lambda t: t.abs(),
        lambda t: t.clip(-1.0, 1.0),
        lambda t: t.clip(min=-1.0),
        lambda t: t.clamp(max=1.0),
    ):
        assert mg.gradcheck(f, [t64(x)])


@SETTINGS
@given(data=st.data(), shape=shapes)
def test_remainder_away_from_its_jumps(data, shape):
    x = arrays(data.draw, shape, -3.0, 3.0)
    y = np.where(arrays(data.draw, shape, 0.0, 1.0) < 0.5, -0.7, 0.9)  # both signs of divisor
    q = x / y
    x = np.where(np.abs(q - np.round(q)) < 0.05, (np.round(q) + 0.5) * y, x)  # off the jumps
    assert mg.gradcheck(lambda a, b: a % b, [t64(x), t64(y)])
    assert mg.gradcheck(lambda a: a % 0.9, [t64(x)])
    # a number modulo a tensor (PyTorch has no gradient for it): 2.5 / y is -3.57 or 2.78
    assert mg.gradcheck(lambda b: 2.5 % b, [t64(y)])


def test_floor_division_is_not_differentiable():
    x = mg.tensor([1.5, -2.5], requires_grad=True)
    q = x // 2
    assert q.detach().numpy().tolist() == [0.0, -2.0] and q.requires_grad
    with pytest.raises(RuntimeError, match=r"derivative of floor division \(//\)"):
        q.sum().backward()
    assert (x.detach() // 2).requires_grad is False
    i = mg.tensor([5, -7, 9])
    assert (i // 2).numpy().tolist() == [2, -4, 4] and (i // 2).dtype == mg.int64
    assert (7 % i).numpy().tolist() == [2, 0, 7] and (i % 2.5).dtype == mg.float32


def test_integer_division_by_zero_is_an_error_as_in_pytorch():
    i = mg.tensor([5, -7, 9])
    for f in (
        lambda: i // 0,
        lambda: i % 0,
        lambda: i // mg.tensor([1, 0, 1]),
        lambda: 3 % mg.tensor([2, 0]),
        lambda: i % mg.tensor(False),
    ):
        with pytest.raises(ZeroDivisionError, match=r"division or modulo by zero: x (//|%)"):
            f()
    with np.errstate(divide="ignore", invalid="ignore"):  # floats give inf and nan, as in PyTorch
        assert (mg.tensor([1.0]) // 0).item() == np.inf and np.isnan((mg.tensor([1.0]) % 0).item())


@st.composite
def shape_and_dim(draw, min_dims=1):
    shape = draw(st.lists(st.integers(1, 4), min_size=min_dims, max_size=3).map(tuple))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return shape, dim


@SETTINGS
@given(st.data(), shape_and_dim(), st.booleans())
def test_reductions(data, sd, keepdim):
    shape, dim = sd
    x = arrays(data.draw, shape)
    assert mg.gradcheck(lambda t: t.sum(), [t64(x)])
    assert mg.gradcheck(lambda t: t.mean(), [t64(x)])
    assert mg.gradcheck(lambda t: t.sum(dim, keepdim=keepdim), [t64(x)])
    assert mg.gradcheck(lambda t: t.mean(dim, keepdim=keepdim), [t64(x)])
    assert mg.gradcheck(lambda t: t.max(dim, keepdim=keepdim).values, [t64(x)])
    assert mg.gradcheck(lambda t: t.min(dim, keepdim=keepdim).values, [t64(x)])
    assert mg.gradcheck(lambda t: t.max(), [t64(x)])
    assert mg.gradcheck(lambda t: t.logsumexp(dim, keepdim=keepdim), [t64(x)])
    if x.size > 1:
        assert mg.gradcheck(
            lambda t: t.var(dim, keepdim=keepdim) if t.shape[dim] > 1 else t.var(), [t64(x)]
        )


def test_reductions_over_several_dims():
    x = t64(np.random.default_rng(0).normal(size=(2, 3, 4)))
    assert mg.gradcheck(lambda t: t.sum((0, 2)), [x])
    assert mg.gradcheck(lambda t: t.mean((-1, 0), keepdim=True), [x])
    assert mg.gradcheck(lambda t: t.std(1), [x])


def test_max_shares_the_gradient_between_ties():
    x = t64([1.0, 3.0, 3.0, 2.0])
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]


@SETTINGS
@given(st.data(), shape_and_dim())
def test_softmax_family(data, sd):
    shape, dim = sd
    x = arrays(data.draw, shape, -3, 3)
    assert mg.gradcheck(lambda t: F.softmax(t, dim), [t64(x)])
    assert mg.gradcheck(lambda t: F.log_softmax(t, dim), [t64(x)])


@st.composite
def matmul_shapes(draw):
    kind = draw(
        st.sampled_from(["vv", "mv", "vm", "mm", "bmm", "bcast", "bv", "vb", "b_m", "bb_m"])
    )
    n, k, m, b = (draw(st.integers(1, 4)) for _ in range(4))
    return {
        "vv": ((k,), (k,)),
        "mv": ((n, k), (k,)),
        "vm": ((k,), (k, m)),
        "mm": ((n, k), (k, m)),
        "bmm": ((b, n, k), (b, k, m)),
        "bcast": ((b, 1, n, k), (3, k, m)),
        "bv": ((b, n, k), (k,)),
        "vb": ((k,), (b, k, m)),
        "b_m": ((b, n, k), (k, m)),  # a stack times one matrix: one GEMM over all the rows
        "bb_m": ((b, 2, n, k), (k, m)),
    }[kind]


@SETTINGS
@given(st.data(), matmul_shapes())
def test_matmul(data, shapes_):
    sa, sb = shapes_
    a, b = arrays(data.draw, sa), arrays(data.draw, sb)
    assert mg.gradcheck(lambda x, y: x @ y, [t64(a), t64(b)])


def test_stack_times_matrix_as_one_product_non_contiguous_and_empty():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3, 5)).transpose(1, 0, 2)  # (3, 4, 5), not contiguous
    w = rng.standard_normal((5, 2))
    np.testing.assert_allclose((t64(a) @ t64(w)).detach().numpy(), a @ w, rtol=1e-13)
    assert mg.gradcheck(lambda x, y: x @ y, [t64(a), t64(w)])
    lin_w = rng.standard_normal((2, 5))
    assert mg.gradcheck(lambda x, y: F.linear(x, y), [t64(a), t64(lin_w)])
    for sa in [(0, 3, 5), (2, 0, 5)]:  # no rows: zero gradients of the right shapes
        x, y = t64(np.ones(sa)), t64(w)
        out = x @ y
        assert out.shape == sa[:-1] + (2,)
        out.sum().backward()
        assert x.grad.shape == sa and y.grad.shape == (5, 2) and not y.grad.detach().numpy().any()
    x, y = t64(np.ones((2, 3, 0))), t64(np.ones((0, 4)))  # k = 0: a product of zeros
    out = x @ y
    assert out.shape == (2, 3, 4) and not out.detach().numpy().any()
    out.sum().backward()
    assert x.grad.shape == (2, 3, 0) and y.grad.shape == (0, 4)


@st.composite
def permutation(draw):
    n = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(n))
    perm = draw(st.permutations(list(range(n))))
    return shape, tuple(perm)


@SETTINGS
@given(st.data(), permutation())
def test_shape_ops(data, sp):
    shape, perm = sp
    x = arrays(data.draw, shape)
    n = len(shape)
    assert mg.gradcheck(
        lambda t: (
            t.permute(*perm)
            * mg.arange(float(t.numel())).reshape(tuple(shape[p] for p in perm)).double()
        ),
        [t64(x)],
    )
    assert mg.gradcheck(lambda t: t.reshape(-1) * mg.arange(float(t.numel())).double(), [t64(x)])
    assert mg.gradcheck(lambda t: t.transpose(0, n - 1), [t64(x)])
    assert mg.gradcheck(lambda t: t.unsqueeze(0).unsqueeze(-1).squeeze(), [t64(x)])
    assert mg.gradcheck(lambda t: t.flatten(), [t64(x)])
    assert mg.gradcheck(lambda t: t.T, [t64(x)])
    assert mg.gradcheck(lambda t: t.expand(2, *shape), [t64(x)])


def test_expand_from_size_one():
    x = t64(np.random.default_rng(1).normal(size=(3, 1)))
    assert mg.gradcheck(lambda t: t.expand(3, 4) * mg.arange(12.0).reshape(3, 4).double(), [x])
    assert mg.gradcheck(lambda t: t.expand(-1, 5), [x])


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        slice(1, 3),
        (slice(None), 0),
        (Ellipsis, 1),
        (None, 1),
        (slice(None, None, 2), slice(1, None)),
        np.array([0, 2, 2, 1]),  # repeated rows: their gradients add up
        (np.array([0, 1, 1]), np.array([2, 0, 0])),
        (slice(None), np.array([3, 3, 0])),
        np.array([True, False, True]),
        "mask2d",
    ],
    ids=str,
)
def test_indexing(index):
    x = np.random.default_rng(2).normal(size=(3, 4))
    if isinstance(index, str):
        index = x > 0
    assert mg.gradcheck(lambda t: t[index] * 1.0, [t64(x)])
    # an index given as a tensor behaves the same
    if isinstance(index, np.ndarray):
        assert mg.gradcheck(lambda t: t[mg.tensor(index)], [t64(x)])


def test_repeated_index_accumulates():
    x = t64([1.0, 2.0, 3.0])
    x[mg.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_slices_of_one_tensor_add_into_one_gradient():
    x = t64(np.arange(12.0).reshape(3, 4))
    a, b = x[:, :2], x[:, 1:]
    assert mg.gradcheck(lambda t: t[:, :2].sum() * 2 + (t[:, 1:] ** 2).sum() + t[1].sum(), [x])
    (a.sum() + b.sum()).backward()
    assert x.grad.tolist() == [[1, 2, 1, 1]] * 3


@SETTINGS
@given(st.data(), shape_and_dim(), st.integers(1, 3))
def test_cat_stack_split_chunk(data, sd, k):
    shape, dim = sd
    xs = [t64(arrays(data.draw, shape)) for _ in range(3)]
    weight = mg.tensor(np.random.default_rng(k).normal(size=(1,)))
    assert mg.gradcheck(lambda a, b, c: mg.cat([a, b, c], dim) * weight, xs)
    assert mg.gradcheck(lambda a, b, c: mg.stack([a, b, c], dim) * weight, xs)
    n = shape[dim]
    assert mg.gradcheck(
        lambda a: sum(((i + 1) * p).sum() for i, p in enumerate(a.split(k, dim))), [xs[0]]
    )
    assert mg.gradcheck(
        lambda a: sum(((i + 1) * p**2).sum() for i, p in enumerate(a.chunk(k, dim))), [xs[0]]
    )
    assert len(xs[0].chunk(k, dim)) == len(np.array_split(np.zeros(n), min(k, n)))


def test_cat_with_an_input_that_needs_no_grad():
    a = t64(np.ones((2, 2)))
    b = t64(np.ones((3, 2)), requires_grad=False)
    assert mg.gradcheck(lambda x: mg.cat([x, b, x]), [a])


@SETTINGS
@given(st.data(), broadcast_pair())
def test_where(data, pair):
    sa, sb = pair
    a, b = arrays(data.draw, sa), arrays(data.draw, sb)
    cond = np.broadcast_to(arrays(data.draw, sa), np.broadcast_shapes(sa, sb)) > 0
    assert mg.gradcheck(lambda x, y: mg.where(cond, x, y), [t64(a), t64(b)])
    assert mg.gradcheck(
        lambda x: x.masked_fill(mg.tensor(cond[..., :1] if cond.ndim else cond), 0.0), [t64(a)]
    )


def test_gather_and_topk():
    x = t64(np.random.default_rng(3).normal(size=(3, 5)))
    idx = mg.tensor([[0, 0], [4, 1], [2, 2]])
    assert mg.gradcheck(lambda t: t.gather(1, idx), [x])
    assert mg.gradcheck(lambda t: t.topk(2, dim=1).values, [x])
    assert mg.gradcheck(lambda t: t.topk(2, dim=0, largest=False).values, [x])


def test_cast_between_float_types_is_differentiable():
    x = t64(np.random.default_rng(4).normal(size=(3,)))
    # float32 resolves ~1e-7, so the finite difference needs a large step (the map is linear)
    assert mg.gradcheck(lambda t: t.float().double() * 2, [x], eps=1e-2, atol=1e-4)
    x32 = mg.tensor([1.0, 2.0], requires_grad=True)
    x32.double().sum().backward()
    assert x32.grad.dtype == mg.float32


# ------------------------------------------------------------------ nn.functional


def test_linear():
    rng = np.random.default_rng(5)
    x, w, b = t64(rng.normal(size=(2, 3, 4))), t64(rng.normal(size=(5, 4))), t64(rng.normal(size=5))
    assert mg.gradcheck(F.linear, [x, w, b])
    assert mg.gradcheck(F.linear, [x, w])
    assert mg.gradcheck(F.linear, [t64(rng.normal(size=4)), w, b])


def test_embedding():
    w = t64(np.random.default_rng(6).normal(size=(5, 3)))
    idx = mg.tensor([[0, 4, 4], [1, 0, 2]])
    assert mg.gradcheck(lambda t: F.embedding(idx, t) * mg.arange(3.0).double(), [w])
    out = F.embedding(idx, w, padding_idx=4)
    out.sum().backward()
    assert w.grad[4].tolist() == [0.0, 0.0, 0.0]
    assert w.grad[0].tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy(reduction, smoothing):
    rng = np.random.default_rng(7)
    x = t64(rng.normal(size=(6, 4)))
    target = mg.tensor([0, 3, -100, 1, 2, 3])
    w = mg.tensor(rng.uniform(0.5, 2, 4))
    for weight in (None, w):
        assert mg.gradcheck(
            lambda t: F.cross_entropy(
                t, target, weight=weight, reduction=reduction, label_smoothing=smoothing
            ),
            [x],
        )
    x3 = t64(rng.normal(size=(2, 4, 3)))  # (N, C, d1)
    t3 = mg.tensor([[0, 1, 2], [3, 3, -100]])
    assert mg.gradcheck(lambda t: F.cross_entropy(t, t3, reduction=reduction), [x3])
    probs = rng.dirichlet(np.ones(4), size=6)
    assert mg.gradcheck(
        lambda t: F.cross_entropy(t, probs, reduction=reduction, label_smoothing=smoothing), [x]
    )


def test_binary_losses_and_mse():
    rng = np.random.default_rng(8)
    p = t64(rng.uniform(0.05, 0.95, (3, 4)))
    y = t64(rng.uniform(0, 1, (3, 4)))
    x = t64(rng.normal(size=(3, 4)) * 3)
    w = rng.uniform(0.5, 2, (3, 4))
    pw = rng.uniform(0.5, 2, 4)
    for reduction in ("mean", "sum", "none"):
        assert mg.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [p, y])
        assert mg.gradcheck(
            lambda a: F.binary_cross_entropy(a, y, weight=w, reduction=reduction), [p]
        )
        assert mg.gradcheck(
            lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction), [x, y]
        )
        assert mg.gradcheck(
            lambda a, b: F.binary_cross_entropy_with_logits(
                a, b, weight=w, pos_weight=pw, reduction=reduction
            ),
            [x, y],
        )
        assert mg.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])
        assert mg.gradcheck(lambda a: F.l1_loss(a, y, reduction=reduction), [x])


def test_nll_loss_and_layer_norm():
    rng = np.random.default_rng(9)
    x = t64(rng.normal(size=(4, 3)))
    t = mg.tensor([0, 2, -100, 1])
    assert mg.gradcheck(lambda a: F.nll_loss(F.log_softmax(a, 1), t), [x])
    w, b = t64(rng.normal(size=3)), t64(rng.normal(size=3))
    assert mg.gradcheck(lambda a, c, d: F.layer_norm(a, (3,), c, d), [x, w, b])


def test_dropout_gradient_uses_the_same_mask():
    x = t64(np.ones((50, 4)))
    mg.manual_seed(3)
    y = F.dropout(x, p=0.3)
    (y * mg.arange(4.0).double()).sum().backward()
    kept = y.data != 0
    np.testing.assert_allclose(x.grad.data, np.where(kept, np.arange(4.0) / 0.7, 0))


def test_a_tensor_reached_by_two_paths_gets_both_contributions():
    # a feeds the division directly and through a*a+1: its gradient is complete only after both
    x = t64([0.3, -1.2, 2.0])
    assert mg.gradcheck(lambda a: a / (a * a + 1.0), [x])
    assert mg.gradcheck(lambda a: (a.exp() + a * a).log() * a, [x])


def test_unbroadcast_examples():
    g = np.arange(24.0).reshape(2, 3, 4)
    assert unbroadcast(g, (2, 3, 4)) is g
    np.testing.assert_allclose(unbroadcast(g, (4,)), g.sum((0, 1)))
    np.testing.assert_allclose(unbroadcast(g, (3, 1)), g.sum(0).sum(1, keepdims=True))
    np.testing.assert_allclose(unbroadcast(g, ()), g.sum())
    np.testing.assert_allclose(unbroadcast(g, (1, 1, 1)), g.sum().reshape(1, 1, 1))
