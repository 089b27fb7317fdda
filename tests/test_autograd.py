"""The engine: accumulation, freeing, retain_grad, hooks, no_grad, anomaly mode, errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F


def test_gradients_accumulate_until_zeroed():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    assert w.grad.tolist() == [3 + 2, 3 + 4]
    w.grad = None
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3, 3]


def test_grads_of_two_leaves_are_not_the_same_array():
    # Add returns one gradient array for both inputs; each leaf must get its own copy
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 10  # what clip_grad_norm_ or an optimizer does in place
    assert b.grad.tolist() == [1.0, 1.0]
    c = mg.tensor([1.0], requires_grad=True)
    y = c * 2
    y.retain_grad()
    (y + c).sum().backward()
    y.grad.data[...] = 7
    assert c.grad.tolist() == [3.0]


def test_the_graph_is_freed_and_a_second_backward_is_a_clear_error():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True.*detach"):
        y.backward()
    # a graph sharing a freed part fails the same way
    h = x * 2
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 3).sum().backward()
    # what freeing means: the node dropped what its backward needed
    assert y.grad_fn.freed and not hasattr(y.grad_fn, "x")


def test_retain_graph_allows_a_second_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_no_grad_records_nothing_and_can_decorate():
    w = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = w * 2
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = w * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @mg.no_grad()
    def f(t):
        return t * 2

    assert not f(w).requires_grad
    with mg.set_grad_enabled(False):
        assert not (w * 2).requires_grad


def test_grad_and_anomaly_modes_belong_to_one_thread():
    """Ops skip the thread-local modes while no thread has changed one; that must never leak."""
    import sys
    import threading

    engine = sys.modules["minigrad.tensor"]  # the module (minigrad.tensor is also a function)

    w = mg.tensor([1.0], requires_grad=True)
    entered, release = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def other_thread() -> None:
        with mg.no_grad(), mg.detect_anomaly():
            entered.set()
            release.wait(10)
            seen["records"] = (w * 2).requires_grad
            seen["anomaly"] = mg.is_anomaly_enabled()

    base = engine._modes_set  # 0 unless an earlier test left a thread in a mode
    t = threading.Thread(target=other_thread)
    t.start()
    entered.wait(10)
    assert engine._modes_set == base + 2  # grad off and anomaly on, both in the other thread
    assert (w * 2).requires_grad and mg.is_grad_enabled() and not mg.is_anomaly_enabled()
    # anomaly mode is the other thread's: here log(0) is -inf, not an error
    assert mg.tensor([0.0], requires_grad=True).log().item() == -np.inf
    release.set()
    t.join(10)
    assert seen == {"records": False, "anomaly": True}
    assert engine._modes_set == base
    with mg.no_grad():
        with mg.no_grad():  # nested: counted once, restored once
            assert engine._modes_set == base + 1
        assert engine._modes_set == base + 1 and not (w * 2).requires_grad
    assert engine._modes_set == base and (w * 2).requires_grad


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    "c", [2, -3, 0.1, 1.0001, 2**60 + 1, 1e300, 0.0, -0.0, float("nan"), float("-inf"), True]
)
def test_python_constants_give_numpys_values_and_dtypes(dtype, c):
    """t + c, c - t, t * c, t / c, c / t: exactly what numpy gives for the array and the number.

    The engine turns c into a 0-d array of t's dtype when t is floating point, and keeps those
    arrays for the next op with the same number; neither may show. Each op runs twice (the second
    time the array comes from the cache), and zeros must keep their sign.
    """
    a = np.array([0.5, -1.25, 3.0, 7.0, 0.0]).astype(dtype)
    t = mg.tensor(a)
    with np.errstate(all="ignore"):
        for _ in range(2):
            for got, want in (
                (t + c, a + c), (c - t, c - a), (t * c, a * c), (t / c, a / c), (c / t, c / a)
            ):
                assert got.dtype == want.dtype
                np.testing.assert_array_equal(got.numpy(), want)
                np.testing.assert_array_equal(np.signbit(got.numpy()), np.signbit(want))


def test_cached_constants_are_read_only_and_bounded():
    import sys

    engine = sys.modules["minigrad.tensor"]  # the module (minigrad.tensor is also a function)
    consts = engine._CONSTANTS[np.dtype(np.float32)]
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 0.375
    assert not consts[0.375].flags.writeable
    assert np.signbit((x * -0.0).detach().numpy()).all() and 0.0 not in consts
    for i in range(3000):  # a new number each time, as a schedule of learning rates might give
        x + (1.0 + i / 7)
    assert 0 < len(consts) <= 1024
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.375, 0.375])


def test_a_custom_function_returning_a_wrong_shape_is_named():
    class SumNoUnbroadcast(mg.Function):
        def forward(self, x, y):
            return x + y

        def backward(self, grad):
            return grad, grad  # forgot to sum y's gradient down to its shape

    x = mg.ones(2, 3, requires_grad=True)
    y = mg.ones(3, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"SumNoUnbroadcast.backward returned a gradient of shape \(2, 3\) for an input of"
        r" shape \(3,\)",
    ):
        SumNoUnbroadcast.apply(x, y).sum().backward()


def test_retain_grad_and_non_leaf_grads():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    h2 = h * 2
    (h2 * h2).sum().backward()
    assert h.grad.tolist() == [2 * 2 * 6 * 1.0, 2 * 2 * 12 * 1.0]
    assert h2.grad is None  # not retained, as in PyTorch
    assert h.retains_grad and not h.is_leaf and x.is_leaf


def test_hooks_see_and_can_replace_the_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    remove = h.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [180.0, 360.0]
    remove()
    x.grad = None
    (x * x * 3).sum().backward()
    assert seen == [[6.0, 12.0]]


def test_backward_with_an_explicit_gradient():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(mg.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -6.0]


def test_detach_cuts_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 2).detach()
    assert not h.requires_grad and h.is_leaf
    y = (h * x).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_inputs_that_need_no_grad_get_none():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0])
    (a * b).sum().backward()
    assert b.grad is None and a.grad.tolist() == [3.0, 4.0]


def test_float32_stays_float32_and_float64_works():
    x = mg.randn(3, requires_grad=True)
    (x * 2.5 + 1).sum().backward()
    assert x.dtype == mg.float32 and x.grad.dtype == mg.float32
    mg.set_default_dtype(mg.float64)
    y = mg.randn(3, requires_grad=True)
    assert y.dtype == mg.float64
    (y.tanh() * 2).sum().backward()
    assert y.grad.dtype == mg.float64


def test_mixed_dtypes_promote_and_gradients_keep_each_leafs_dtype():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = a * b
    assert y.dtype == mg.float64
    y.sum().backward()
    assert a.grad.dtype == mg.float32 and b.grad.dtype == mg.float64


def test_integers_meeting_floats_follow_pytorch_not_numpy():
    """numpy gives float64 for each of these; PyTorch the default dtype (or the float operand's)."""
    i = mg.tensor([1, 2, 4])
    f32 = np.float32
    for got, want in (
        (i * 0.1, np.array([1, 2, 4], f32) * f32(0.1)),
        (i / 0.1, np.array([1, 2, 4], f32) / f32(0.1)),
        (0.5 - i, f32(0.5) - np.array([1, 2, 4], f32)),
        (i / 2, np.array([0.5, 1, 2], f32)),
        (i / i, np.ones(3, f32)),
        (1 / i, np.array([1, 0.5, 0.25], f32)),
        (i**0.5, np.sqrt(np.array([1, 2, 4], f32))),
        (i * mg.tensor([0.5, 0.5, 0.5]), np.array([0.5, 1, 2], f32)),
        (mg.tensor([True, False]) / 2, np.array([0.5, 0], f32)),
    ):
        assert got.dtype == mg.float32
        np.testing.assert_array_equal(got.numpy(), want)
    assert (i * 2).dtype == mg.int64 and (mg.tensor([True]) ** 2).dtype == mg.int64
    w = mg.where(mg.tensor([True, False, True]), mg.tensor([0.5, 0.5, 0.5]), i)
    assert w.dtype == mg.float32 and w.numpy().tolist() == [0.5, 2.0, 0.5]
    assert mg.where(mg.tensor([True, False, True]), i, 0.5).dtype == mg.float32
    mg.set_default_dtype(mg.float64)
    assert (i / i).dtype == mg.float64 and (i * 0.1).dtype == mg.float64


def test_a_zero_dim_tensor_of_the_same_kind_does_not_widen_the_other():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    s = mg.tensor(3.0, dtype=mg.float64, requires_grad=True)
    y = x * s
    assert y.dtype == mg.float32  # PyTorch's rule; numpy would give float64
    y.sum().backward()
    assert s.grad.dtype == mg.float64 and s.grad.item() == 3.0
    assert x.grad.dtype == mg.float32 and x.grad.numpy().tolist() == [3.0, 3.0]
    assert (mg.tensor(3.0, dtype=mg.float64) * mg.tensor([1, 2])).dtype == mg.float64


def test_integer_results_are_not_part_of_the_graph():
    x = mg.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad
    assert not (x > 2).requires_grad
    assert x.argmax().item() == 1


# ------------------------------------------------------------------ anomaly mode


def test_detect_anomaly_names_the_forward_op():
    x = mg.tensor([1.0, 0.0], requires_grad=True)
    with mg.detect_anomaly(), pytest.raises(RuntimeError, match="'Log' produced inf"):
        (x * 1.0).log()
    y = mg.tensor([float("nan")], requires_grad=True)
    with mg.detect_anomaly():
        (y * 2).sum()  # the NaN came in; Mul did not produce it


def test_detect_anomaly_names_the_backward_op():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.detect_anomaly():
        y = x.sqrt().sum()  # sqrt(0) = 0 is finite, its derivative is not
        with pytest.raises(RuntimeError, match="'SqrtBackward' returned inf") as err:
            y.backward()
    assert "test_autograd.py" in str(err.value)  # where the op was called
    assert not mg.is_anomaly_enabled()


# ------------------------------------------------------------------ errors that name the problem


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 6\).*4 columns.*5 rows"):
        mg.ones(3, 4) @ mg.ones(5, 6)


def test_cross_entropy_target_out_of_range():
    with pytest.raises(IndexError, match="target 7 at position 1 is out of range for 5 classes"):
        F.cross_entropy(mg.zeros(2, 5), mg.tensor([0, 7]))
    with pytest.raises(ValueError, match="expects a target of shape"):
        F.cross_entropy(mg.zeros(2, 5), mg.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(mg.zeros(2, 5), mg.tensor([0.0, 1.0]))


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(
        RuntimeError, match="only floating point tensors can require gradients.*int64"
    ):
        mg.tensor([1, 2], requires_grad=True)


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="gradient has shape"):
        (x * 2).backward(mg.ones(3))


def test_backward_of_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).sum().backward()


def test_other_shape_errors():
    with pytest.raises(
        ValueError, match=r"shape \[4, 2\] is invalid for an input of shape \(3, 2\)"
    ):
        mg.ones(3, 2).reshape(4, 2)
    with pytest.raises(ValueError, match="stack expects each tensor to be equal size"):
        mg.stack([mg.ones(2), mg.ones(3)])
    with pytest.raises(ValueError, match="cat: sizes must match"):
        mg.cat([mg.ones(2, 3), mg.ones(2, 4)])
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.ones(2, 3).sum(2)
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        mg.ones(2, 3)[5]
    with pytest.raises(ValueError, match=r"cannot expand shape \(2,\) to \(3, 3\)"):
        mg.ones(2).expand(3, 3)
    with pytest.raises(RuntimeError, match="in-place assignment"):
        mg.ones(2, requires_grad=True)[0] = 3.0
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        mg.ones(2, requires_grad=True).numpy()
    with pytest.raises(ValueError, match="cannot be converted to a Python scalar"):
        mg.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mg.ones(2))


def test_gradcheck_reports_input_index_and_values():
    class BadSquare(mg.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, grad):
            return grad * self.x  # forgot the factor 2

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([3.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(
        mg.GradcheckError, match=r"input 1 \(shape \(2,\)\) at index \(0,\): analytic"
    ):
        mg.gradcheck(lambda a, b: a * 2 + BadSquare.apply(b).sum(), [y, x])
    assert not mg.gradcheck(BadSquare.apply, [x], raise_exception=False)
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda a: a, [mg.ones(2)])


def test_a_custom_function_follows_the_documented_pattern():
    class Cube(mg.Function):
        def forward(self, x):
            self.x = x
            return x**3

        def backward(self, grad):
            return grad * 3 * self.x**2

    x = mg.tensor([2.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(Cube.apply, [x])


# ------------------------------------------------------------------ tensor basics


def test_creation_and_properties():
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([1.0]).dtype == mg.float32
    assert mg.tensor(np.array([1.0])).dtype == mg.float64  # numpy keeps its dtype, as torch
    assert mg.tensor([True]).dtype == mg.bool_
    assert mg.zeros(2, 3).shape == (2, 3) == mg.zeros((2, 3)).shape
    assert mg.ones(2, dtype=mg.float64).dtype == mg.float64
    assert mg.arange(5).tolist() == [0, 1, 2, 3, 4] and mg.arange(5).dtype == mg.int64
    assert mg.arange(0.0, 1.0, 0.5).dtype == mg.float32
    assert mg.full((2,), 7).tolist() == [7, 7]
    assert mg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    x = mg.randn(3, 4)
    for f in (mg.zeros_like, mg.ones_like, mg.randn_like, mg.rand_like):
        assert f(x).shape == (3, 4) and f(x).dtype == x.dtype
    assert x.ndim == 2 and x.T.shape == (4, 3) and x.numel() == 12 and len(x) == 3
    assert x.size() == (3, 4) and x.size(1) == 4
    assert mg.tensor(3.5).item() == 3.5 and isinstance(x.numpy(), np.ndarray)
    r = mg.rand(1000)
    assert 0 <= r.min().item() and r.max().item() < 1


def test_manual_seed_repeats():
    mg.manual_seed(5)
    a = (mg.randn(3), mg.rand(2), mg.randint(0, 10, (4,)), F.dropout(mg.ones(8)))
    mg.manual_seed(5)
    b = (mg.randn(3), mg.rand(2), mg.randint(0, 10, (4,)), F.dropout(mg.ones(8)))
    for u, v in zip(a, b):
        assert u.tolist() == v.tolist()


def test_repr_is_like_pytorch():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(mg.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert "dtype=minigrad.float64" in repr(mg.tensor([1.0], dtype=mg.float64))
    assert f"{mg.tensor(0.123456):.3f}" == "0.123"


def test_numpy_arrays_on_the_left_defer_to_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0]) * x + np.float64(1.0)
    assert isinstance(y, mg.Tensor) and y.requires_grad
    assert np.asarray(x.detach()).tolist() == [1.0, 2.0]


def test_max_min_with_dim_return_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    v, i = x.max(dim=1)
    assert v.tolist() == [5.0, 7.0] and i.tolist() == [1, 0]
    assert x.min(0).indices.tolist() == [0, 1, 0]
    assert x.max(1, keepdim=True).values.shape == (2, 1)
    assert x.topk(2).indices.tolist() == [[1, 2], [0, 2]]


def test_split_and_chunk_match_pytorch_sizes():
    x = mg.arange(10.0)
    assert [p.shape[0] for p in x.split(4)] == [4, 4, 2]
    assert [p.shape[0] for p in x.split([3, 7])] == [3, 7]
    assert [p.shape[0] for p in x.chunk(3)] == [4, 4, 2]
    assert [p.shape[0] for p in mg.arange(6.0).chunk(4)] == [2, 2, 2]
    with pytest.raises(ValueError, match="sum to 9"):
        x.split([4, 5])


def test_log_softmax_is_stable_for_huge_logits():
    x = mg.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], requires_grad=True)
    out = F.log_softmax(x, dim=1)
    assert np.isfinite(out.data).all()
    np.testing.assert_allclose(out.data[0], [0.0, -2000.0, -1000.0])
    np.testing.assert_allclose(out.data[1], [-np.log(3)] * 3, rtol=1e-6)
    F.cross_entropy(x, mg.tensor([1, 0])).backward()
    assert np.isfinite(x.grad.data).all()
    assert np.isfinite(F.softmax(x, 1).data).all()
    assert np.isfinite(x.sigmoid().data).all()


# -- scattered gradients: the sorted fast path of np.add.at ---------------------------------------


@pytest.mark.parametrize("index_dtype", [np.int64, np.int32, np.uint8, np.intp])
@pytest.mark.parametrize("row_shape", [(7,), (3, 4)])
def test_add_at_sorted_path_matches_np_add_at(index_dtype, row_shape):
    from minigrad.tensor import _add_at

    rng = np.random.default_rng(int(np.dtype(index_dtype).itemsize) + len(row_shape))
    n = 40
    low = 0 if np.dtype(index_dtype).kind == "u" else -n  # negative rows count from the end
    index = rng.integers(low, n, size=(30, 20)).astype(index_dtype)  # 600 rows, many repeated
    value = rng.standard_normal(index.shape + row_shape)
    start = rng.standard_normal((n, *row_shape))
    want, got = start.copy(), start.copy()
    np.add.at(want, index, value)
    _add_at(got, index, value)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # float32: a different grouping of the sums, the same numbers to float32 precision
    want32, got32 = start.astype(np.float32), start.astype(np.float32)
    np.add.at(want32, index, value.astype(np.float32))
    _add_at(got32, index, value.astype(np.float32))
    np.testing.assert_allclose(got32, want, rtol=1e-5, atol=1e-5)


def test_add_at_takes_the_sorted_path_only_where_it_applies(monkeypatch):
    import importlib

    tensor_module = importlib.import_module("minigrad.tensor")  # mg.tensor is the function
    calls = []
    real = tensor_module._add_rows_sorted
    monkeypatch.setattr(
        tensor_module, "_add_rows_sorted", lambda *a: (calls.append(1), real(*a))[1]
    )
    rng = np.random.default_rng(0)
    buf = np.zeros((10, 3))
    big = rng.integers(0, 10, 500)
    cases = [
        (big, rng.standard_normal((500, 3)), 1),  # many rows: sorted
        (big[:100], rng.standard_normal((100, 3)), 0),  # few: np.add.at
        (big, rng.standard_normal((500, 1)), 0),  # a broadcast value: np.add.at
        ((big, big % 3), rng.standard_normal(500), 0),  # a tuple index: np.add.at
    ]
    for index, value, used in cases:
        calls.clear()
        want, got = buf.copy(), buf.copy()
        np.add.at(want, index, value)
        tensor_module._add_at(got, index, value)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        assert len(calls) == used
    one_d = np.zeros(10)  # a 1-D buffer: np.add.at (reduceat would sum pairwise)
    calls.clear()
    tensor_module._add_at(one_d, big, np.ones(500))
    assert calls == [] and one_d.sum() == 500


@pytest.mark.parametrize("bad", [10, -11])
def test_add_at_sorted_path_rejects_rows_out_of_range(bad):
    from minigrad.tensor import _add_at

    index = np.zeros(300, dtype=np.int64)
    index[123] = bad
    buf = np.zeros((10, 2))
    with pytest.raises(IndexError):
        _add_at(buf, index, np.ones((300, 2)))
    assert not buf.any()  # nothing was added before the error


def test_embedding_gradient_over_many_ids_is_the_one_hot_product():
    # the case the sorted path is for: a language model's batch of ids into a small table
    rng = np.random.default_rng(3)
    table = rng.standard_normal((80, 16)).astype(np.float32)
    ids = rng.integers(0, 80, size=(100, 64))
    weight = mg.tensor(table, requires_grad=True)
    out = F.embedding(mg.tensor(ids), weight)
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    (out * mg.tensor(upstream)).sum().backward()
    one_hot = np.eye(80)[ids.reshape(-1)]
    want = one_hot.T @ upstream.reshape(-1, 16).astype(np.float64)
    assert weight.grad.dtype == np.float32
    np.testing.assert_allclose(weight.grad.numpy(), want, rtol=1e-4, atol=1e-4)


def test_builtin_abs_is_the_abs_op():
    x = mg.tensor([-2.0, 0.5, -0.0, 3.0], requires_grad=True)
    y = abs(x)
    assert y.tolist() == [2.0, 0.5, 0.0, 3.0]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.sign([-2.0, 0.5, 0.0, 3.0]))
