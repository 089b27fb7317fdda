"""The backward engine on random graphs, against PyTorch in float64.

Each example is a random program over a pool of (3, 4) tensors: three leaves that require grad and
one that does not, then steps that combine earlier tensors. The steps reuse tensors (a tensor
feeding several ops, ``a + a``, two slices of one tensor), send gradients back as views
(transposes), as the very incoming array (``+``), as scatters (fancy indexing), through broadcasts,
``where``, ``detach``, hooks and ``retain_grad``; the loss weighs every tensor of the pool. These
are the cases where an engine that adds gradients in place can corrupt an array it does not own,
and where one that frees nodes early can lose a gradient. Two backward passes with
``retain_graph=True`` must also accumulate exactly twice the gradient: an in-place addition into
an array saved for backward would change the second.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg

torch = pytest.importorskip("torch", reason="PyTorch is the oracle here (pip install torch)")

SHAPE = (3, 4)

# name -> fn(lib, a, b), a and b two tensors of the pool (ops of one operand ignore b); every
# result has shape SHAPE
OPS = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "scale": lambda lib, a, b: a * -2.0,
    "rsub": lambda lib, a, b: 1.5 - a,
    "tanh": lambda lib, a, b: a.tanh(),
    "sigmoid": lambda lib, a, b: a.sigmoid(),
    "self_add": lambda lib, a, b: a + a,
    "self_mul": lambda lib, a, b: a * a,
    "slices": lambda lib, a, b: lib.cat([a[:1] * 2.0, a[1:]], 0),
    "gather": lambda lib, a, b: a[lib.tensor([2, 0, 2])],
    "transpose": lambda lib, a, b: (a.T * 0.5).T,
    "row_sum": lambda lib, a, b: a.sum(0, keepdim=True) + b,
    "where": lambda lib, a, b: lib.where(a > 0, a, b),
    "detach": lambda lib, a, b: a.detach() * b,
}

step = st.tuples(
    st.sampled_from(sorted(OPS)),
    st.integers(0, 100),  # operands: indices into the pool so far, taken modulo its size
    st.integers(0, 100),
    st.sampled_from(["", "", "", "retain", "hook"]),
)


def run(lib, program, leaves, weights):
    pool = [lib.tensor(a, dtype=lib.float64, requires_grad=i < 3) for i, a in enumerate(leaves)]
    retained = []
    for name, i, j, flag in program:
        out = OPS[name](lib, pool[i % len(pool)], pool[j % len(pool)])
        if flag == "retain" and out.requires_grad:
            out.retain_grad()
            retained.append(out)
        elif flag == "hook" and out.requires_grad:
            out.register_hook(lambda g: g * 3.0)
        pool.append(out)
    loss = sum((t * lib.tensor(w, dtype=lib.float64)).sum() for t, w in zip(pool, weights))
    grads = []
    for _ in range(2):
        loss.backward(retain_graph=True)
        grads.append([t.grad.numpy().copy() for t in pool[:3] + retained if t.grad is not None])
    return grads


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(program=st.lists(step, min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_random_graphs_match_pytorch(program, seed):
    rng = np.random.default_rng(seed)
    leaves = [rng.normal(size=SHAPE) for _ in range(4)]
    weights = [rng.normal(size=SHAPE) for _ in range(4 + len(program))]
    got = run(mg, program, leaves, weights)
    want = run(torch, program, leaves, weights)
    for g, w in zip(got, want):
        assert len(g) == len(w), "a different set of tensors got a gradient"
        for a, b in zip(g, w):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for first, second in zip(*got):  # the second backward added the same gradient again
        np.testing.assert_allclose(second, 2 * first, rtol=1e-12, atol=1e-12)


def test_a_long_chain_of_single_uses_and_a_diamond():
    """The engine's two paths: a tensor used once (straight on) and one used twice (summed)."""
    for lib in (mg, torch):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        y = x
        for _ in range(50):
            y = (y * 1.01).tanh()
        z = y * 2.0 + y.sigmoid()  # y feeds two ops
        z.sum().backward()
        if lib is mg:
            mine = x.grad.numpy().copy()
    np.testing.assert_allclose(mine, x.grad.numpy(), rtol=1e-12)


def test_one_fresh_array_returned_for_two_inputs_is_not_shared_by_their_grads():
    """A Function may return the same new array as the gradient of two inputs; the engine must
    not then let the two leaves' .grad share it (an in-place update of one would change both)."""

    class SumOfTwo(mg.Function):
        def forward(self, x, y):
            return x + y

        def backward(self, grad):
            g = grad * 1.0  # a new array, owned by nobody else...
            return g, g  # ...returned twice

    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (SumOfTwo.apply(a, b) * mg.tensor([1.0, 2.0])).sum().backward()
    a.grad.data *= 10  # what clip_grad_norm_ or an optimizer does in place
    assert b.grad.tolist() == [1.0, 2.0] and a.grad.tolist() == [10.0, 20.0]


@pytest.mark.parametrize("order", ["sum_first", "gather_first"])
def test_a_scatter_never_adds_into_a_gradient_another_tensor_holds(order):
    """x + y hands x and y the same array; a later scatter into x's gradient (from x[idx]) must
    copy it first, or y's gradient changes too. Both orders of the uses are tried."""
    w1 = np.array([1.0, 2.0, 3.0])
    w2 = np.array([10.0, 20.0, 30.0])
    res = {}
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([4.0, 5.0, 6.0], dtype=lib.float64, requires_grad=True)
        a = ((x + y) * lib.tensor(w1)).sum()
        b = (x[lib.tensor([0, 0, 2])] * lib.tensor(w2)).sum()
        c = y.tanh().sum()  # y waits for this too, holding the shared array meanwhile
        (a + b + c if order == "sum_first" else c + b + a).backward()
        res[lib] = (x.grad.numpy().copy(), y.grad.numpy().copy())
    for mine, theirs in zip(res[mg], res[torch]):
        np.testing.assert_array_equal(mine, theirs)
