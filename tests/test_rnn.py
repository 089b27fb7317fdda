"""Recurrent layers and cells: PyTorch parity, the fused ops against the op-by-op cells, errors.

The parity tests load a torch layer's state dict (converted to numpy) into the minigrad layer, run
both in float64 on the same input and initial state, and compare outputs, final states, the
gradient of the input, of the initial state and of every parameter to 1e-8.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

KINDS = ["RNN_TANH", "RNN_RELU", "GRU", "LSTM"]
T, B, I, H = 5, 4, 3, 6
LENGTHS = [3, 5, 1, 5]  # unsorted, with a tie: exercises enforce_sorted=False
TOL = dict(rtol=1e-8, atol=1e-8)


@pytest.fixture(autouse=True)
def _one_torch_thread(request):
    """torch's CPU RNNs spend far longer waking their thread pool than computing on these tiny
    inputs (about 15x here): one thread keeps the parity matrix fast."""
    if "torch" not in request.fixturenames:
        yield
        return
    torch = request.getfixturevalue("torch")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _cls_and_kwargs(kind: str) -> tuple[str, dict]:
    if kind.startswith("RNN"):
        return "RNN", {"nonlinearity": "relu" if kind == "RNN_RELU" else "tanh"}
    return kind, {}


def _pair(torch, kind: str, **kw):
    """A torch layer and a minigrad layer with the same weights (torch's state dict as numpy)."""
    cls, extra = _cls_and_kwargs(kind)
    torch.manual_seed(0)
    t_layer = getattr(torch.nn, cls)(I, H, **kw, **extra).double()
    m_layer = getattr(nn, cls)(I, H, dtype=minigrad.float64, **kw, **extra)
    m_layer.load_state_dict({k: v.detach().numpy() for k, v in t_layer.state_dict().items()})
    return t_layer, m_layer


def _close(a, b, what: str) -> None:
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.data if isinstance(b, minigrad.Tensor) else np.asarray(b)
    np.testing.assert_allclose(b, a, **TOL, err_msg=what)


# --------------------------------------------------------------------------------------------------
# The layers against torch.nn: every kind x layers x bidirectional x batch_first x h0 x packing
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero_h0", "given_h0"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["time_first", "batch_first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_layer_matches_torch(torch, kind, num_layers, bidirectional, batch_first, with_h0, packed):
    t_layer, m_layer = _pair(
        torch, kind, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first
    )
    rng = np.random.default_rng(1)
    dirs = 2 if bidirectional else 1
    x_np = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    n_states = 2 if kind == "LSTM" else 1
    h_np = [rng.standard_normal((num_layers * dirs, B, H)) for _ in range(n_states)]

    def run(lib, layer, pack, pad):
        x = lib.tensor(x_np, requires_grad=True)
        hs = [lib.tensor(h, requires_grad=True) for h in h_np]
        inp = pack(x, LENGTHS, batch_first=batch_first, enforce_sorted=False) if packed else x
        hx = None
        if with_h0:
            hx = tuple(hs) if kind == "LSTM" else hs[0]
        out, fin = layer(inp, hx)
        if packed:
            out, lengths = pad(out, batch_first=batch_first, total_length=T)
            assert list(np.asarray(lengths)) == LENGTHS
        finals = list(fin) if kind == "LSTM" else [fin]
        return x, hs, out, finals

    tu = torch.nn.utils.rnn
    tx, th, tout, tfin = run(torch, t_layer, tu.pack_padded_sequence, tu.pad_packed_sequence)
    mx, mh, mout, mfin = run(minigrad, m_layer, pack_padded_sequence, pad_packed_sequence)

    assert mout.shape == tuple(tout.shape)
    _close(tout, mout, "output")
    for j, (a, b) in enumerate(zip(tfin, mfin)):
        assert b.shape == tuple(a.shape) == (num_layers * dirs, B, H)
        _close(a, b, f"final state {j}")

    # a loss that weighs every output and every final state differently
    w_out = rng.standard_normal(tuple(tout.shape))
    w_fin = [rng.standard_normal(tuple(f.shape)) for f in tfin]
    t_loss = (tout * torch.tensor(w_out)).sum() + sum(
        (f * torch.tensor(w)).sum() for f, w in zip(tfin, w_fin)
    )
    m_loss = (mout * minigrad.tensor(w_out)).sum() + sum(
        (f * minigrad.tensor(w)).sum() for f, w in zip(mfin, w_fin)
    )
    t_loss.backward()
    m_loss.backward()
    _close(tx.grad, mx.grad, "input gradient")
    if with_h0:
        for j, (a, b) in enumerate(zip(th, mh)):
            _close(a.grad, b.grad, f"initial state {j} gradient")
    m_params = dict(m_layer.named_parameters())
    assert set(m_params) == {name for name, _ in t_layer.named_parameters()}
    for name, p in t_layer.named_parameters():
        _close(p.grad, m_params[name].grad, f"gradient of {name}")


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input_matches_torch(torch, kind):
    t_layer, m_layer = _pair(torch, kind, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((T, I))
    h_np = rng.standard_normal((4, H))
    hx_t = (torch.tensor(h_np), torch.tensor(h_np)) if kind == "LSTM" else torch.tensor(h_np)
    hx_m = (
        (minigrad.tensor(h_np), minigrad.tensor(h_np)) if kind == "LSTM" else minigrad.tensor(h_np)
    )
    tout, tfin = t_layer(torch.tensor(x_np), hx_t)
    mout, mfin = m_layer(minigrad.tensor(x_np), hx_m)
    assert mout.shape == (T, 2 * H)
    _close(tout, mout, "output")
    for a, b in zip(tfin if kind == "LSTM" else [tfin], mfin if kind == "LSTM" else [mfin]):
        assert b.shape == (4, H)
        _close(a, b, "final state")


def test_bias_false_matches_torch(torch):
    t_layer, m_layer = _pair(torch, "LSTM", num_layers=2, bias=False, bidirectional=True)
    assert not any("bias" in k for k in m_layer.state_dict())
    x_np = np.random.default_rng(3).standard_normal((T, B, I))
    tx = torch.tensor(x_np, requires_grad=True)
    mx = minigrad.tensor(x_np, requires_grad=True)
    tout, _ = t_layer(tx)
    mout, _ = m_layer(mx)
    _close(tout, mout, "output")
    tout.sum().backward()
    mout.sum().backward()
    _close(tx.grad, mx.grad, "input gradient")


@pytest.mark.parametrize("kind", KINDS)
def test_bias_false_packed_matches_torch(torch, kind):
    t_layer, m_layer = _pair(torch, kind, num_layers=2, bias=False, bidirectional=True)
    x_np = np.random.default_rng(7).standard_normal((T, B, I))
    tu = torch.nn.utils.rnn
    tx, mx = torch.tensor(x_np, requires_grad=True), minigrad.tensor(x_np, requires_grad=True)
    tout, tfin = t_layer(tu.pack_padded_sequence(tx, LENGTHS, enforce_sorted=False))
    mout, mfin = m_layer(pack_padded_sequence(mx, LENGTHS, enforce_sorted=False))
    _close(tu.pad_packed_sequence(tout)[0], pad_packed_sequence(mout)[0], "output")
    tfin = tfin[1] if kind == "LSTM" else tfin
    mfin = mfin[1] if kind == "LSTM" else mfin
    _close(tfin, mfin, "final state")
    (tfin * tfin).sum().backward()
    (mfin * mfin).sum().backward()
    _close(tx.grad, mx.grad, "input gradient")


@pytest.mark.parametrize("kind", KINDS)
def test_float32_matches_torch(torch, kind):
    """float32 (the default) agrees with torch to float32 precision, gradients included."""
    cls, extra = _cls_and_kwargs(kind)
    torch.manual_seed(0)
    t_layer = getattr(torch.nn, cls)(I, H, num_layers=2, bidirectional=True, **extra)
    m_layer = getattr(nn, cls)(I, H, num_layers=2, bidirectional=True, **extra)
    m_layer.load_state_dict({k: v.detach().numpy() for k, v in t_layer.state_dict().items()})
    x_np = np.random.default_rng(8).standard_normal((T, B, I)).astype(np.float32) * 3
    tx, mx = torch.tensor(x_np, requires_grad=True), minigrad.tensor(x_np, requires_grad=True)
    tout, _ = t_layer(tx)
    mout, _ = m_layer(mx)
    assert mout.dtype == np.float32
    np.testing.assert_allclose(mout.data, tout.detach().numpy(), rtol=1e-5, atol=2e-6)
    (tout * tout).sum().backward()
    (mout * mout).sum().backward()
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-4, atol=2e-5)
    m_params = dict(m_layer.named_parameters())
    for name, p in t_layer.named_parameters():
        np.testing.assert_allclose(
            m_params[name].grad.data, p.grad.numpy(), rtol=1e-4, atol=2e-5, err_msg=name
        )


# --------------------------------------------------------------------------------------------------
# The cells against torch.nn
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero_h0", "given_h0"])
@pytest.mark.parametrize("kind", ["RNN_TANH", "RNN_RELU", "GRU", "LSTM"])
def test_cell_matches_torch(torch, kind, with_h0, batched):
    cls, extra = _cls_and_kwargs(kind)
    torch.manual_seed(0)
    t_cell = getattr(torch.nn, cls + "Cell")(I, H, **extra).double()
    m_cell = getattr(nn, cls + "Cell")(I, H, dtype=minigrad.float64, **extra)
    m_cell.load_state_dict({k: v.detach().numpy() for k, v in t_cell.state_dict().items()})
    rng = np.random.default_rng(4)
    x_np = rng.standard_normal((B, I) if batched else (I,))
    h_np = [rng.standard_normal((B, H) if batched else (H,)) for _ in range(2)]

    def run(lib, cell):
        x = lib.tensor(x_np, requires_grad=True)
        hs = [lib.tensor(h, requires_grad=True) for h in h_np]
        hx = None
        if with_h0:
            hx = (hs[0], hs[1]) if kind == "LSTM" else hs[0]
        res = cell(x, hx)
        res = list(res) if kind == "LSTM" else [res]
        loss = sum(
            (r * lib.tensor(np.arange(r.numel()).reshape(tuple(r.shape)) / 7.0)).sum() for r in res
        )
        loss.backward()
        return x, hs, res

    tx, th, tres = run(torch, t_cell)
    mx, mh, mres = run(minigrad, m_cell)
    for a, b in zip(tres, mres):
        assert b.shape == tuple(a.shape)
        _close(a, b, "cell output")
    _close(tx.grad, mx.grad, "input gradient")
    if with_h0:
        for a, b in zip(th[: len(tres)], mh[: len(tres)]):
            _close(a.grad, b.grad, "state gradient")
    m_params = dict(m_cell.named_parameters())
    for name, p in t_cell.named_parameters():
        _close(p.grad, m_params[name].grad, f"gradient of {name}")


# --------------------------------------------------------------------------------------------------
# The fused layers against the op-by-op cells, unrolled (float64, no torch needed)
# --------------------------------------------------------------------------------------------------


def _cells_for(layer, kind: str, suffix: str):
    cls, extra = _cls_and_kwargs(kind)
    cell = getattr(nn, cls + "Cell")(layer.input_size, H, dtype=minigrad.float64, **extra)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        setattr(cell, name, getattr(layer, name + suffix))  # share the very same Parameters
    return cell


def _unroll(cell, kind, xs, h0, c0, reverse=False):
    """Run a cell over the list of step inputs; the outputs in time order and the last state."""
    state = (h0, c0) if kind == "LSTM" else h0
    outs = [None] * len(xs)
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    for t in order:
        state = cell(xs[t], state)
        outs[t] = state[0] if kind == "LSTM" else state
    return outs, state


@pytest.mark.parametrize("kind", KINDS)
def test_fused_layer_equals_unrolled_cells(kind):
    """Bidirectional layer == a cell run forward and a cell run backward, values and gradients."""
    cls, extra = _cls_and_kwargs(kind)
    minigrad.manual_seed(5)
    layer = getattr(nn, cls)(I, H, bidirectional=True, dtype=minigrad.float64, **extra)
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal((T, B, I))
    s_np = rng.standard_normal((2, 2, B, H))  # (h or c, direction, B, H)

    x1 = minigrad.tensor(x_np, requires_grad=True)
    s1 = minigrad.tensor(s_np, requires_grad=True)
    hx = (s1[0], s1[1]) if kind == "LSTM" else s1[0]
    out, fin = layer(x1, hx)
    h_n = fin[0] if kind == "LSTM" else fin
    loss1 = (out * out).sum() + (h_n * 3).sum()
    if kind == "LSTM":
        loss1 = loss1 + (fin[1] * fin[1]).sum()
    loss1.backward()
    grads1 = {n: p.grad.data.copy() for n, p in layer.named_parameters()}
    layer.zero_grad()

    x2 = minigrad.tensor(x_np, requires_grad=True)
    s2 = minigrad.tensor(s_np, requires_grad=True)
    xs = [x2[t] for t in range(T)]
    outs_f, st_f = _unroll(_cells_for(layer, kind, "_l0"), kind, xs, s2[0, 0], s2[1, 0])
    outs_r, st_r = _unroll(
        _cells_for(layer, kind, "_l0_reverse"), kind, xs, s2[0, 1], s2[1, 1], reverse=True
    )
    out2 = minigrad.stack([minigrad.cat([a, b], dim=1) for a, b in zip(outs_f, outs_r)])
    if kind == "LSTM":
        h_n2 = minigrad.stack([st_f[0], st_r[0]])
        c_n2 = minigrad.stack([st_f[1], st_r[1]])
    else:
        h_n2 = minigrad.stack([st_f, st_r])
    loss2 = (out2 * out2).sum() + (h_n2 * 3).sum()
    if kind == "LSTM":
        loss2 = loss2 + (c_n2 * c_n2).sum()
    loss2.backward()

    np.testing.assert_allclose(out.data, out2.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.data, h_n2.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x1.grad.data, x2.grad.data, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        s1.grad.data[: 2 if kind == "LSTM" else 1],
        s2.grad.data[: 2 if kind == "LSTM" else 1],
        rtol=1e-10,
        atol=1e-12,
    )
    for n, p in layer.named_parameters():
        np.testing.assert_allclose(grads1[n], p.grad.data, rtol=1e-10, atol=1e-12, err_msg=n)


@pytest.mark.parametrize("kind", KINDS)
def test_fused_packed_layer_equals_cells_per_sequence(kind):
    """With variable lengths, each sequence gets exactly its own steps, in both directions."""
    cls, extra = _cls_and_kwargs(kind)
    minigrad.manual_seed(6)
    layer = getattr(nn, cls)(I, H, bidirectional=True, dtype=minigrad.float64, **extra)
    rng = np.random.default_rng(6)
    x_np = rng.standard_normal((T, B, I))
    packed = pack_padded_sequence(minigrad.tensor(x_np), LENGTHS, enforce_sorted=False)
    out, fin = layer(packed)
    out, _ = pad_packed_sequence(out, total_length=T)
    h_n = fin[0] if kind == "LSTM" else fin
    cell_f = _cells_for(layer, kind, "_l0")
    cell_r = _cells_for(layer, kind, "_l0_reverse")
    zero = minigrad.zeros(1, H, dtype=minigrad.float64)
    for b, n in enumerate(LENGTHS):
        xs = [minigrad.tensor(x_np[t, b : b + 1]) for t in range(n)]
        outs_f, st_f = _unroll(cell_f, kind, xs, zero, zero)
        outs_r, st_r = _unroll(cell_r, kind, xs, zero, zero, reverse=True)
        for t in range(n):
            np.testing.assert_allclose(
                out.data[t, b, :H], outs_f[t].data[0], rtol=1e-12, atol=1e-12
            )
            np.testing.assert_allclose(
                out.data[t, b, H:], outs_r[t].data[0], rtol=1e-12, atol=1e-12
            )
        assert np.all(out.data[n:, b] == 0)  # padding
        last_f = st_f[0] if kind == "LSTM" else st_f
        last_r = st_r[0] if kind == "LSTM" else st_r
        np.testing.assert_allclose(h_n.data[0, b], last_f.data[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(h_n.data[1, b], last_r.data[0], rtol=1e-12, atol=1e-12)


def test_float32_layers_run_in_float32():
    minigrad.manual_seed(0)
    for cls in (nn.RNN, nn.GRU, nn.LSTM):
        layer = cls(I, H, num_layers=2)
        out, _ = layer(minigrad.randn(T, B, I))
        assert out.dtype == np.float32
        assert out.shape == (T, B, H)


def test_no_grad_forward_gives_the_same_numbers():
    minigrad.manual_seed(0)
    layer = nn.LSTM(I, H, num_layers=2, bidirectional=True, dtype=minigrad.float64)
    x = minigrad.randn(T, B, I, dtype=minigrad.float64)
    out1, (h1, c1) = layer(x)
    with minigrad.no_grad():
        out2, (h2, c2) = layer(x)
    assert not out2.requires_grad
    np.testing.assert_array_equal(out1.data, out2.data)
    np.testing.assert_array_equal(c1.data, c2.data)


def test_repeated_calls_do_not_share_buffers():
    """Outputs and graphs kept from one call stay valid while the layer runs again (the fused ops
    reuse pooled buffers only once nothing refers to them)."""
    minigrad.manual_seed(0)
    layer = nn.GRU(I, 64)
    x1, x2 = minigrad.randn(40, 8, I), minigrad.randn(40, 8, I)
    out1, _ = layer(x1)
    kept = out1.data.copy()
    for _ in range(3):
        out2, _ = layer(x2)
        out2.sum().backward()
    np.testing.assert_array_equal(out1.data, kept)
    layer.zero_grad()
    out1.sum().backward()  # the first graph, built before the others ran, still gives its gradient
    late = layer.weight_hh_l0.grad.data.copy()
    layer.zero_grad()
    fresh, _ = layer(x1)
    fresh.sum().backward()
    np.testing.assert_array_equal(late, layer.weight_hh_l0.grad.data)


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_backward_twice_with_retain_graph(cls):
    minigrad.manual_seed(0)
    layer = cls(I, H, bidirectional=True, dtype=minigrad.float64)
    x = minigrad.randn(T, B, I, dtype=minigrad.float64, requires_grad=True)
    out, _ = layer(x)
    loss = (out * out).sum()
    loss.backward(retain_graph=True)
    once = x.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * once, rtol=1e-12)


# --------------------------------------------------------------------------------------------------
# Long sequences, training, dropout, initialisation, state dicts
# --------------------------------------------------------------------------------------------------


def test_backprop_through_10000_steps_layer():
    minigrad.manual_seed(0)
    layer = nn.LSTM(2, 3, dtype=minigrad.float64)
    x = minigrad.randn(10_000, 1, 2, dtype=minigrad.float64, requires_grad=True)
    out, (h, c) = layer(x)
    (out.sum() + h.sum()).backward()
    assert np.isfinite(x.grad.data).all() and np.abs(x.grad.data[0]).sum() > 0
    assert np.isfinite(layer.weight_hh_l0.grad.data).all()


def test_backprop_through_10000_steps_cell():
    minigrad.manual_seed(0)
    cell = nn.RNNCell(2, 3)
    x = minigrad.randn(10_000, 1, 2)
    h = minigrad.zeros(1, 3)
    for t in range(10_000):
        h = cell(x[t], h)
    h.sum().backward()  # a graph 50,000 nodes deep: no RecursionError
    assert np.isfinite(cell.weight_hh.grad.data).all()


def test_a_small_lstm_learns_to_remember():
    """Train to output the first input of each sequence at its end (needs memory)."""
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    lstm, head = nn.LSTM(1, 16), nn.Linear(16, 1)
    params = [*lstm.parameters(), *head.parameters()]
    opt = minigrad.optim.Adam(params, lr=0.02)
    losses = []
    for _ in range(150):
        x = rng.choice([-1.0, 1.0], size=(6, 32, 1)).astype(np.float32)
        _, (h, _) = lstm(minigrad.tensor(x))
        loss = ((head(h[0]) - minigrad.tensor(x[0])) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[:10]) > 0.5 and np.mean(losses[-10:]) < 0.05


def test_dropout_between_layers_only_in_training():
    minigrad.manual_seed(0)
    layer = nn.GRU(I, H, num_layers=2, dropout=0.5)
    x = minigrad.randn(T, B, I)
    a, _ = layer(x)
    b, _ = layer(x)
    assert not np.allclose(a.data, b.data)  # different masks
    layer.eval()
    c, _ = layer(x)
    d, _ = layer(x)
    np.testing.assert_array_equal(c.data, d.data)
    plain = nn.GRU(I, H, num_layers=2)
    plain.load_state_dict(layer.state_dict())
    e, _ = plain(x)
    np.testing.assert_allclose(c.data, e.data, rtol=1e-6, atol=1e-7)
    # a single layer has nothing between layers to drop
    single = nn.LSTM(I, H, dropout=0.5)
    f, _ = single(x)
    g, _ = single(x)
    np.testing.assert_array_equal(f.data, g.data)


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM, nn.RNNCell, nn.GRUCell, nn.LSTMCell])
def test_initialisation_is_uniform_within_one_over_sqrt_hidden(cls):
    minigrad.manual_seed(0)
    layer = cls(20, 100)
    bound = 1 / math.sqrt(100)
    values = np.concatenate([p.data.ravel() for p in layer.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound
    minigrad.manual_seed(0)
    again = cls(20, 100)
    for p, q in zip(layer.parameters(), again.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_state_dict_names_and_shapes_are_torchs(torch, kind):
    kw = dict(num_layers=3, bidirectional=True)
    t_layer = getattr(torch.nn, kind)(I, H, **kw)
    m_layer = getattr(nn, kind)(I, H, **kw)
    t_sd, m_sd = t_layer.state_dict(), m_layer.state_dict()
    assert list(m_sd) == list(t_sd)
    for k in t_sd:
        assert m_sd[k].shape == tuple(t_sd[k].shape), k
    # and back: minigrad's numbers load into torch and give the same outputs
    t_layer.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in m_sd.items()})
    x = np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)
    tout, _ = t_layer(torch.from_numpy(x))
    mout, _ = m_layer(minigrad.tensor(x))
    np.testing.assert_allclose(mout.data, tout.detach().numpy(), rtol=1e-4, atol=1e-5)
    cell_t, cell_m = getattr(torch.nn, kind + "Cell")(I, H), getattr(nn, kind + "Cell")(I, H)
    assert list(cell_m.state_dict()) == list(cell_t.state_dict())


def test_reprs_and_all_weights():
    lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True, dropout=0.1)
    assert (
        repr(lstm) == "LSTM(3, 5, num_layers=2, batch_first=True, dropout=0.1, bidirectional=True)"
    )
    assert repr(nn.RNN(3, 5, nonlinearity="relu")) == "RNN(3, 5, nonlinearity='relu')"
    assert repr(nn.GRUCell(3, 5, bias=False)) == "GRUCell(3, 5, bias=False)"
    assert [[p.shape for p in w] for w in lstm.all_weights][1] == [(20, 3), (20, 5), (20,), (20,)]


# --------------------------------------------------------------------------------------------------
# Clear errors
# --------------------------------------------------------------------------------------------------


def test_wrong_input_size_names_the_sizes():
    layer = nn.LSTM(3, 5)
    with pytest.raises(ValueError, match=r"input_size.*Expected 3, got 4"):
        layer(minigrad.zeros(7, 2, 4))
    with pytest.raises(ValueError, match=r"3-D.*got shape \(7,\)"):
        layer(minigrad.zeros(7))
    with pytest.raises(ValueError, match=r"input has 4 features.*input_size=3"):
        nn.GRUCell(3, 5)(minigrad.zeros(2, 4))


def test_wrong_hx_shape_names_the_sizes():
    rnn = nn.GRU(3, 5, num_layers=2, bidirectional=True)
    x = minigrad.zeros(7, 2, 3)
    with pytest.raises(ValueError, match=r"hx has shape \(2, 2, 5\), expected \(4, 2, 5\)"):
        rnn(x, minigrad.zeros(2, 2, 5))
    lstm = nn.LSTM(3, 5)
    with pytest.raises(
        ValueError, match=r"hx\[1\] \(c_0\) has shape \(1, 3, 5\), expected \(1, 2, 5\)"
    ):
        lstm(x, (minigrad.zeros(1, 2, 5), minigrad.zeros(1, 3, 5)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(x, minigrad.zeros(1, 2, 5))
    with pytest.raises(ValueError, match=r"hx has shape \(3, 5\), expected \(2, 5\)"):
        nn.RNNCell(3, 5)(minigrad.zeros(2, 3), minigrad.zeros(3, 5))


def test_dtype_mismatch_is_explained():
    layer = nn.RNN(3, 5)  # float32
    with pytest.raises(TypeError, match="float64 but the parameters are float32"):
        layer(minigrad.zeros(2, 2, 3, dtype=minigrad.float64))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 5, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 5, dropout=1.5)
    with pytest.raises(ValueError, match="num_layers"):
        nn.GRU(3, 5, num_layers=0)


@pytest.mark.parametrize("f, width", [(3, 20), (20, 20), (30, 20)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_input_projection_with_the_bias_in_the_product_or_after(f, width, with_bias):
    # narrower inputs carry the bias inside the GEMM (a column of ones), wider ones add it after
    from minigrad.nn.rnn import _input_projection

    rng = np.random.default_rng(f + width)
    x, w = rng.standard_normal((50, f)), rng.standard_normal((width, f))
    bias = rng.standard_normal(width) if with_bias else None
    scale = rng.choice([-1.0, -2.0], width)
    out = np.full((50, width), np.nan)
    got = _input_projection(x, w, bias, scale, out)
    want = (x @ w.T + (bias if with_bias else 0)) * scale
    assert got is out
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# -- forward_embedded: the first layer reads the embedding table ---------------------------------


def _embedded_pair(kind, vocab, **kw):
    cls, extra = _cls_and_kwargs(kind)
    minigrad.manual_seed(1)
    emb = nn.Embedding(vocab, I, dtype=minigrad.float64)
    layer = getattr(nn, cls)(I, H, dtype=minigrad.float64, **kw, **extra)
    return emb, layer


def _run_both(emb, layer, ids, hx_shape=None):
    """(output, states, gradients) of forward_embedded and of layer(emb(ids)), same upstream."""
    rng = np.random.default_rng(5)
    results = []
    hx0 = None
    if hx_shape is not None:
        n_states = 2 if layer.mode == "LSTM" else 1
        hx0 = [rng.standard_normal(hx_shape) for _ in range(n_states)]
    weights = None
    for fused in (True, False):
        for p in [*emb.parameters(), *layer.parameters()]:
            p.grad = None
        hx = None
        if hx0 is not None:
            hx = [minigrad.tensor(a, requires_grad=True) for a in hx0]
            hx = tuple(hx) if layer.mode == "LSTM" else hx[0]
        out, h = layer.forward_embedded(emb, ids, hx) if fused else layer(emb(ids), hx)
        states = list(h) if isinstance(h, tuple) else [h]
        if weights is None:
            weights = [rng.standard_normal(t.shape) for t in [out, *states]]
        loss = sum((t * minigrad.tensor(w)).sum() for t, w in zip([out, *states], weights))
        loss.backward()
        grads = {n: p.grad.numpy().copy() for n, p in layer.named_parameters()}
        grads["embedding"] = emb.weight.grad.numpy().copy()
        if hx is not None:
            for j, s in enumerate(hx if isinstance(hx, tuple) else [hx]):
                grads[f"hx{j}"] = s.grad.numpy().copy()
        results.append((out.detach().numpy(), [s.detach().numpy() for s in states], grads))
    return results


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("vocab", [3, 50])  # 3: the table is projected; 50: rows picked first
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"num_layers": 2, "bidirectional": True},
        {"batch_first": True, "bias": False},
    ],
)
def test_forward_embedded_equals_layer_of_embedding(kind, vocab, kw):
    emb, layer = _embedded_pair(kind, vocab, **kw)
    rng = np.random.default_rng(vocab)
    ids = rng.integers(0, vocab, size=(B, T) if kw.get("batch_first") else (T, B))
    dirs = 2 if kw.get("bidirectional") else 1
    hx_shape = (kw.get("num_layers", 1) * dirs, B, H)
    for hx in (None, hx_shape):
        (out_a, st_a, g_a), (out_b, st_b, g_b) = _run_both(emb, layer, minigrad.tensor(ids), hx)
        np.testing.assert_allclose(out_a, out_b, rtol=1e-12, atol=1e-12)
        for a, b in zip(st_a, st_b):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert g_a.keys() == g_b.keys()
        for name in g_a:
            np.testing.assert_allclose(g_a[name], g_b[name], rtol=1e-10, atol=1e-12, err_msg=name)
        assert np.abs(g_a["embedding"]).sum() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_forward_embedded_unbatched_and_float32(kind):
    emb, layer = _embedded_pair(kind, 4)
    ids = np.array([0, 3, 3, 1, 0, 2, 3, 3, 1])  # 9 steps of one sequence: the table is projected
    (out_a, st_a, g_a), (out_b, st_b, g_b) = _run_both(emb, layer, ids)
    assert out_a.shape == (9, H) and st_a[0].shape == (1, H)
    np.testing.assert_allclose(out_a, out_b, rtol=1e-12, atol=1e-12)
    for name in g_a:
        np.testing.assert_allclose(g_a[name], g_b[name], rtol=1e-10, atol=1e-12, err_msg=name)
    cls, extra = _cls_and_kwargs(kind)
    emb32, layer32 = nn.Embedding(4, I), getattr(nn, cls)(I, H, **extra)
    out, _ = layer32.forward_embedded(emb32, np.tile(ids, (2, 1)).T)
    ref, _ = layer32(emb32(minigrad.tensor(np.tile(ids, (2, 1)).T)))
    assert out.dtype == minigrad.float32
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_forward_embedded_with_padding_idx_takes_the_ordinary_route():
    minigrad.manual_seed(0)
    emb = nn.Embedding(4, I, padding_idx=0, dtype=minigrad.float64)
    layer = nn.GRU(I, H, dtype=minigrad.float64)
    ids = minigrad.tensor(np.array([[0, 1], [2, 0], [0, 0], [3, 1], [1, 2], [0, 3], [2, 2]]))
    (out_a, _, g_a), (out_b, _, g_b) = _run_both(emb, layer, ids)
    np.testing.assert_array_equal(out_a, out_b)
    assert not g_a["embedding"][0].any()  # the padding row gets no gradient
    np.testing.assert_array_equal(g_a["embedding"], g_b["embedding"])


def test_forward_embedded_errors():
    emb, lstm = nn.Embedding(5, I), nn.LSTM(I, H)
    ids = np.zeros((T, B), dtype=np.int64)
    with pytest.raises(TypeError, match="must be an nn.Embedding"):
        lstm.forward_embedded(emb.weight, ids)
    with pytest.raises(ValueError, match="embedding_dim=4 but the layer expects input_size=3"):
        lstm.forward_embedded(nn.Embedding(5, 4), ids)
    with pytest.raises(TypeError, match="forward_embedded: indices must be integers"):
        lstm.forward_embedded(emb, ids.astype(float))
    with pytest.raises(ValueError, match=r"expected ids of shape \(seq_len, batch\)"):
        lstm.forward_embedded(emb, ids[..., None])
    with pytest.raises(ValueError, match="empty ids"):
        lstm.forward_embedded(emb, ids[:0])
    for bad in (5, -1):
        with pytest.raises(IndexError, match=f"index {bad} is out of range for 5 embeddings"):
            lstm.forward_embedded(emb, np.full((T, B), bad))
    with pytest.raises(TypeError, match="float64"):
        lstm.forward_embedded(nn.Embedding(5, I, dtype=minigrad.float64), ids)
    with pytest.raises(ValueError, match="hx"):
        lstm.forward_embedded(emb, ids, (minigrad.zeros(1, B + 1, H), minigrad.zeros(1, B, H)))


def test_language_model_feeds_the_table_unless_dropout_is_active(monkeypatch):
    from minigrad.models import RNNLanguageModel

    calls = []
    real = nn.LSTM.forward_embedded
    monkeypatch.setattr(
        nn.LSTM, "forward_embedded", lambda self, *a: (calls.append(1), real(self, *a))[1]
    )
    ids = minigrad.tensor(np.random.default_rng(0).integers(0, 7, size=(12, 3)))
    for dropout, training, used in [(0.0, True, 1), (0.3, False, 1), (0.3, True, 0)]:
        minigrad.manual_seed(0)
        model = RNNLanguageModel(7, 4, 8, dropout=dropout).train(training)
        calls.clear()
        logits, _ = model(ids)
        assert logits.shape == (12, 3, 7) and len(calls) == used


def test_forward_embedded_projects_the_table_only_when_it_is_small(monkeypatch):
    from minigrad.nn import rnn as rnn_module

    seen = []
    real = rnn_module._table_rows
    monkeypatch.setattr(
        rnn_module,
        "_table_rows",
        lambda x, rows: (seen.append(real(x, rows)[1] is not None), real(x, rows))[1],
    )
    # the table is projected if V <= 2 * input_size (here 6) and V <= the number of ids
    for vocab, shape, table in [(6, (T, B), True), (7, (T, B), False), (5, (1, 4), False)]:
        seen.clear()
        nn.GRU(I, H).forward_embedded(nn.Embedding(vocab, I), np.zeros(shape, dtype=np.int64))
        assert seen == [table]


def test_forward_embedded_respects_an_embedding_subclass_with_its_own_forward():
    class Scaled(nn.Embedding):
        def forward(self, input):  # noqa: A002
            return super().forward(input) * 3.0

    minigrad.manual_seed(0)
    emb, gru = Scaled(4, I), nn.GRU(I, H)
    ids = minigrad.tensor(np.arange(24).reshape(T + 1, B) % 4)
    out, _ = gru.forward_embedded(emb, ids)
    ref, _ = gru(emb(ids))
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())


def test_recurrence_rows_are_checked():
    from minigrad.nn.rnn import LSTMRecurrence

    lstm = nn.LSTM(I, H)
    table, h0 = minigrad.randn(5, I), minigrad.zeros(2, H)
    sizes = np.array([2, 2, 2])
    for rows, err in [
        (np.array([0, 1, 2, 3, 4, 5]), IndexError),
        (np.array([0, 1, -1, 3, 4, 0]), IndexError),
        (np.zeros(6), TypeError),
        (np.zeros((3, 2), dtype=np.int64), TypeError),
    ]:
        with pytest.raises(err, match="rows must"):
            LSTMRecurrence.apply(
                table, h0, h0, *lstm.all_weights[0], batch_sizes=sizes, reverse=False, rows=rows
            )
