"""Forward values and gradients against PyTorch in float64, with non-uniform upstream gradients.

Each case is one function written once and run with both libraries (their APIs agree), so the
comparison also checks that minigrad's names and argument orders are PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as MF

RNG = np.random.default_rng(42)


def _inputs(shapes, positive=False):
    out = []
    for s in shapes:
        a = RNG.uniform(0.3, 2.0, s) if positive else RNG.normal(size=s)
        out.append(a)
    return out


def _compare(torch, fn, arrays, *, lib_args=None, atol=1e-10, rtol=1e-9):
    """Run fn(lib, *tensors) in both libraries; compare outputs and input gradients."""
    import torch.nn.functional as TF

    libs = {"mg": (mg, MF), "torch": (torch, TF)}
    results = {}
    for name, (lib, F) in libs.items():
        ts = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        out = fn(lib, F, *ts)
        outs = out if isinstance(out, tuple) else (out,)
        total = None
        for i, o in enumerate(outs):
            w = np.random.default_rng(i).normal(size=tuple(o.shape))  # non-uniform upstream grad
            term = (o * lib.tensor(w, dtype=lib.float64)).sum()
            total = term if total is None else total + term
        total.backward()
        results[name] = (
            [np.asarray(o.detach().numpy()) for o in outs],
            [None if t.grad is None else np.asarray(t.grad.numpy()) for t in ts],
        )
    (mo, mgr), (to, tgr) = results["mg"], results["torch"]
    for a, b in zip(mo, to):
        np.testing.assert_allclose(a, b, atol=atol, rtol=rtol)
    for a, b in zip(mgr, tgr):
        if b is None:
            assert a is None or not np.any(a)
        else:
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol)


CASES = {
    "add_broadcast": ([(3, 4), (4,)], lambda lib, F, a, b: a + b),
    "sub_rsub": ([(3, 1), (1, 4)], lambda lib, F, a, b: 2.0 - a - b),
    "mul_div": ([(2, 3, 4), (3, 1)], lambda lib, F, a, b: a * b / (b * b + 1.0)),
    "pow_scalar": ([(5,)], lambda lib, F, a: (a * a + 0.5) ** 1.5),
    "pow_tensor": ([(3,), (3,)], lambda lib, F, a, b: (a * a + 0.5) ** b),
    "rpow": ([(3,)], lambda lib, F, a: 2.0**a),
    "remainder": (
        [(6,), (6,)],
        lambda lib, F, a, b: (a % (b.abs() + 0.5), a % -0.7, a.remainder(b + 3)),
    ),
    "neg": ([(3,)], lambda lib, F, a: -a),
    "matmul_2d": ([(3, 4), (4, 5)], lambda lib, F, a, b: a @ b),
    "matmul_batched_bcast": ([(2, 1, 3, 4), (5, 4, 2)], lambda lib, F, a, b: a @ b),
    "matmul_vec": ([(4,), (4, 3)], lambda lib, F, a, b: a @ b),
    "matmul_mat_vec": ([(2, 3, 4), (4,)], lambda lib, F, a, b: a @ b),
    "matmul_dot": ([(4,), (4,)], lambda lib, F, a, b: a @ b),
    "unary": (
        [(4, 3)],
        lambda lib, F, a: (a.exp(), a.tanh(), a.sigmoid(), a.relu(), a.abs(), a.sin(), a.cos()),
    ),
    "log_sqrt": ([(4, 3)], lambda lib, F, a: ((a * a + 0.1).log(), (a * a + 0.1).sqrt())),
    "clip": ([(20,)], lambda lib, F, a: (a.clip(-0.5, 0.7), a.clamp(min=0.1), a.clamp(max=0.2))),
    "reductions": (
        [(3, 4, 2)],
        lambda lib, F, a: (
            a.sum(),
            a.mean(),
            a.sum(1),
            a.mean((0, 2)),
            a.sum(-1, keepdim=True),
            a.max(),
            a.max(1).values,
            a.min(dim=2, keepdim=True).values,
            a.logsumexp(1),
            a.var(1),
            a.std(),
        ),
    ),
    "shapes": (
        [(2, 3, 4)],
        lambda lib, F, a: (
            a.reshape(6, 4),
            a.view(-1),
            a.transpose(0, 2),
            a.permute(1, 2, 0),
            a.unsqueeze(1),
            a[:, :1].squeeze(1),
            a.flatten(1),
            a.T if False else a.permute(2, 1, 0),
            a.expand(3, 2, 3, 4),
        ),
    ),
    "indexing": (
        [(4, 5)],
        lambda lib, F, a: (
            a[1],
            a[:, 2],
            a[1:3, ::2],
            a[lib.tensor([0, 2, 2])],
            a[lib.tensor([0, 1]), lib.tensor([4, 4])],
            a[a > 0],
            a[..., -1],
            a[None, 1],
        ),
    ),
    "cat_stack_split": (
        [(2, 3), (2, 3)],
        lambda lib, F, a, b: (
            lib.cat([a, b], 0),
            lib.cat([a, b, a], 1),
            lib.stack([a, b], 1),
            *a.split(2, 1),
            *b.chunk(2, 0),
        ),
    ),
    "where_gather": (
        [(3, 4), (3, 4)],
        lambda lib, F, a, b: (
            lib.where(a > 0, a, b),
            a.masked_fill(b > 0, 0.5),
            a.gather(1, lib.tensor([[0, 0], [3, 1], [2, 2]])),
        ),
    ),
    "softmax": ([(3, 5)], lambda lib, F, a: (F.softmax(a, 1), F.log_softmax(a, 0), a.softmax(-1))),
    "linear": (
        [(2, 3, 4), (5, 4), (5,)],
        lambda lib, F, x, w, b: (F.linear(x, w, b), F.linear(x, w)),
    ),
    "embedding": (
        [(6, 3)],
        lambda lib, F, w: (
            F.embedding(lib.tensor([[0, 5, 5], [2, 0, 1]]), w),
            F.embedding(lib.tensor([1, 3, 3]), w, padding_idx=3),
        ),
    ),
    "cross_entropy": (
        [(5, 4)],
        lambda lib, F, x: (
            F.cross_entropy(x, lib.tensor([0, 3, 1, -100, 2])),
            F.cross_entropy(x, lib.tensor([0, 3, 1, 1, 2]), reduction="sum"),
            F.cross_entropy(x, lib.tensor([0, 3, 1, 1, 2]), reduction="none"),
            F.cross_entropy(x, lib.tensor([0, 3, 1, 7, 2]), ignore_index=7, label_smoothing=0.1),
            F.cross_entropy(
                x,
                lib.tensor([0, 3, 1, 1, 2]),
                weight=lib.tensor([1.0, 2.0, 0.5, 1.5], dtype=lib.float64),
            ),
            F.cross_entropy(
                x,
                lib.tensor([0, 3, 1, -100, 2]),
                weight=lib.tensor([1.0, 2.0, 0.5, 1.5], dtype=lib.float64),
                label_smoothing=0.3,
            ),
            F.cross_entropy(x, lib.tensor(np.full((5, 4), 0.25)), label_smoothing=0.2),
            F.cross_entropy(x[0], lib.tensor(2)),
        ),
    ),
    "cross_entropy_spatial": (
        [(2, 4, 3)],
        lambda lib, F, x: (
            F.cross_entropy(x, lib.tensor([[0, 1, 2], [3, 3, -100]])),
            F.cross_entropy(x, lib.tensor([[0, 1, 2], [3, 3, 0]]), reduction="none"),
        ),
    ),
    "nll": (
        [(4, 3)],
        lambda lib, F, x: F.nll_loss(F.log_softmax(x, 1), lib.tensor([0, 2, -100, 1])),
    ),
    "bce": (
        [(3, 4), (3, 4)],
        lambda lib, F, x, y: (
            F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
            F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), reduction="none"),
            F.binary_cross_entropy_with_logits(x * 5, y.sigmoid()),
            F.binary_cross_entropy_with_logits(
                x,
                y.sigmoid(),
                pos_weight=lib.tensor([1.0, 2.0, 0.5, 3.0], dtype=lib.float64),
                reduction="sum",
            ),
            F.binary_cross_entropy_with_logits(
                x,
                y.sigmoid(),
                weight=lib.tensor([1.0, 2.0, 0.5, 3.0], dtype=lib.float64),
                reduction="none",
            ),
        ),
    ),
    "mse_l1": (
        [(3, 4), (3, 4)],
        lambda lib, F, x, y: (
            F.mse_loss(x, y),
            F.mse_loss(x, y, reduction="sum"),
            F.l1_loss(x, y, reduction="none"),
        ),
    ),
    "layer_norm": ([(3, 4), (4,), (4,)], lambda lib, F, x, w, b: F.layer_norm(x, (4,), w, b)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity(torch, name):
    shapes, fn = CASES[name]
    _compare(torch, fn, _inputs(shapes))


def test_sigmoid_and_softmax_of_extreme_logits(torch):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    _compare(torch, lambda lib, F, a: (a.sigmoid(), F.log_softmax(a, 0), F.softmax(a, 0)), [x])


def test_dropout_statistics_match_pytorchs_rule():
    mg.manual_seed(0)
    x = mg.ones(200_000)
    y = MF.dropout(x, p=0.25)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.005
    assert np.allclose(y.data[kept], 1 / 0.75)
    assert MF.dropout(x, 0.25, training=False) is x
    assert (MF.dropout(x, 1.0).data == 0).all()


# ------------------------------------------------------------------ dtype promotion

PROMOTION_DTYPES = ["bool", "int32", "int64", "float16", "float32", "float64"]
PROMOTION_OPS = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
    "**": lambda x, y: x**y,
    "%": lambda x, y: x % y,
    "//": lambda x, y: x // y,
}


def _operand(lib, dtype, zero_dim):
    values = [True] if dtype == "bool" else [2]
    if not zero_dim:
        values = [True, False, True] if dtype == "bool" else [1, 2, 3]
    t = lib.tensor(values, dtype=getattr(lib, dtype))
    return t.reshape(()) if zero_dim else t


def _both(torch, fn):
    """fn(lib) in both libraries: (minigrad's dtype name, values), (PyTorch's), or None if
    PyTorch refuses the operation (bool - bool, for one)."""
    try:
        t = fn(torch)
    except RuntimeError:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):  # x / False
        m = fn(mg)
    return (str(m.dtype).split(".")[-1], m.numpy()), (str(t.dtype).split(".")[-1], t.numpy())


@pytest.mark.parametrize("op", list(PROMOTION_OPS))
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_binary_ops_promote_dtypes_as_pytorch_does(torch, op, default):
    """Every pair of dtypes, each operand 0-d or not, and Python numbers on either side."""
    f = PROMOTION_OPS[op]
    old = torch.get_default_dtype()
    mg.set_default_dtype(getattr(mg, default))
    torch.set_default_dtype(getattr(torch, default))
    try:
        cases = []
        for a in PROMOTION_DTYPES:
            for b in PROMOTION_DTYPES:
                for za in (False, True):
                    for zb in (False, True):
                        cases.append(
                            (f"{a}{'0d' if za else ''} {op} {b}{'0d' if zb else ''}",
                             lambda lib, a=a, b=b, za=za, zb=zb: f(
                                 _operand(lib, a, za), _operand(lib, b, zb)))
                        )
            for c in (2, 0.5):
                left = lambda lib, a=a, c=c: f(_operand(lib, a, False), c)  # noqa: E731
                right = lambda lib, a=a, c=c: f(c, _operand(lib, a, False))  # noqa: E731
                cases += [(f"{a} {op} {c!r}", left), (f"{c!r} {op} {a}", right)]
        checked = 0
        for name, fn in cases:
            got = _both(torch, fn)
            if got is None:
                continue
            (m_dtype, m_val), (t_dtype, t_val) = got
            assert m_dtype == t_dtype, f"{name}: minigrad gives {m_dtype}, PyTorch {t_dtype}"
            np.testing.assert_allclose(
                m_val.astype(np.float64), t_val.astype(np.float64), rtol=1e-3, err_msg=name
            )
            checked += 1
        assert checked >= 100  # PyTorch refuses bool - x and bool ** bool; minigrad allows them
    finally:
        mg.set_default_dtype(mg.float32)
        torch.set_default_dtype(old)


@pytest.mark.parametrize("join", ["cat", "stack"])
def test_cat_and_stack_promote_dtypes_as_pytorch_does(torch, join):
    """Every pair and a triple of dtypes: the result's dtype and values are PyTorch's (numpy would
    widen int64 with float32 to float64)."""
    pairs = [(a, b) for a in PROMOTION_DTYPES for b in PROMOTION_DTYPES]
    for dtypes in [*pairs, ("bool", "int32", "float16")]:
        got = _both(
            torch, lambda lib, d=dtypes: getattr(lib, join)([_operand(lib, x, False) for x in d])
        )
        (m_dtype, m_val), (t_dtype, t_val) = got
        assert m_dtype == t_dtype, f"{join} of {dtypes}: minigrad gives {m_dtype}, torch {t_dtype}"
        np.testing.assert_array_equal(m_val, t_val)


def test_cat_of_mixed_float_dtypes_sends_each_input_its_gradient_in_its_dtype(torch):
    a32 = np.array([1.0, 2.0], np.float32)
    b64 = np.array([3.0, 4.0])
    up = np.array([0.5, -1.0, 2.0, 3.0])
    res = {}
    for lib in (mg, torch):
        a = lib.tensor(a32, requires_grad=True)
        b = lib.tensor(b64, requires_grad=True)
        out = lib.cat([a, b * b])
        (out * lib.tensor(up)).sum().backward()
        dtype = str(out.dtype).split(".")[-1]
        res[lib] = (dtype, a.grad.numpy(), str(a.grad.dtype), b.grad.numpy())
    m, t = res[mg], res[torch]
    assert m[0] == t[0] == "float64" and m[2].endswith("float32") and t[2].endswith("float32")
    np.testing.assert_array_equal(m[1], t[1])
    np.testing.assert_allclose(m[3], t[3])
