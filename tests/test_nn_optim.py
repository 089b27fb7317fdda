"""nn.Module machinery, layers, gradient clipping, optimizers (step for step against PyTorch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3, bias=False)
        self.drop = nn.Dropout(0.5)
        self.register_buffer("steps", mg.zeros(1))

    def forward(self, x):
        return self.out(self.drop(self.hidden(x).tanh()))


def test_module_registration_and_traversal():
    m = TwoLayer()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["hidden.weight", "hidden.bias", "out.weight"]
    assert [n for n, _ in m.named_children()] == ["hidden", "out", "drop"]
    assert len(list(m.modules())) == 4
    # own parameters and buffers first, then the children, as PyTorch orders them
    assert list(m.state_dict()) == ["steps", "hidden.weight", "hidden.bias", "out.weight"]
    assert m.hidden.weight.shape == (8, 4)  # (out, in) as PyTorch
    assert m.out.bias is None
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.hidden.weight = mg.zeros(8, 4)


def test_parameter_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.zeros(2))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


def test_train_eval_and_dropout():
    m = TwoLayer()
    x = mg.randn(10, 4)
    m.eval()
    assert not m.drop.training
    np.testing.assert_allclose(m(x).data, m(x).data)
    m.train()
    assert m.drop.training and m.training


def test_zero_grad():
    m = TwoLayer()
    m(mg.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(not p.grad.data.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_round_trip_and_errors():
    a, b = TwoLayer(), TwoLayer()
    b.load_state_dict(a.state_dict())
    for (n1, p1), (n2, p2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert n1 == n2 and np.array_equal(p1.data, p2.data)
    sd = {k: v.numpy().copy() for k, v in a.state_dict().items()}  # plain numpy arrays load too
    del sd["hidden.bias"]
    sd["extra.weight"] = np.zeros(1)
    sd["out.weight"] = np.zeros((4, 8))
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(sd)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "hidden.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for out.weight: copying a param with shape (4, 8)" in msg
    assert "the shape in the current model is (3, 8)" in msg
    sd["out.weight"] = np.zeros((3, 8))
    missing, unexpected = b.load_state_dict(sd, strict=False)
    assert missing == ["hidden.bias"] and unexpected == ["extra.weight"]
    assert not b.out.weight.data.any()


def test_load_state_dict_keeps_parameter_identity_and_dtype():
    m = nn.Linear(2, 3)
    w = m.weight
    m.load_state_dict({"weight": np.ones((3, 2)), "bias": np.zeros(3)})
    assert m.weight is w and w.dtype == mg.float32 and w.data.sum() == 6


def test_repr_is_like_pytorch():
    m = nn.Sequential(
        nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.1), nn.Embedding(10, 3, padding_idx=0)
    )
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.1)\n"
        "  (3): Embedding(10, 3, padding_idx=0)\n"
        ")"
    )


def test_module_to_float64():
    m = TwoLayer().double()
    assert all(p.dtype == mg.float64 for p in m.parameters())
    assert m(mg.randn(2, 4, dtype=mg.float64)).dtype == mg.float64


def test_linear_and_embedding_initialisation():
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.bias.data).max() <= bound
    assert np.abs(lin.weight.data).max() > 0.9 * bound
    emb = nn.Embedding(1000, 20, padding_idx=3)
    assert abs(emb.weight.data.std() - 1) < 0.05 and not emb.weight.data[3].any()
    frozen = nn.Embedding.from_pretrained(np.eye(3))
    assert not frozen.weight.requires_grad and frozen(mg.tensor([2])).tolist() == [[0, 0, 1]]


def test_init_functions():
    w = mg.zeros(64, 32)
    nn.init.xavier_uniform_(w)
    assert np.abs(w.data).max() <= math.sqrt(6 / 96)
    nn.init.orthogonal_(w)
    np.testing.assert_allclose(w.data.T @ w.data, np.eye(32), atol=1e-5)
    nn.init.eye_(w)
    assert w.data.trace() == 32
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.data.std() - math.sqrt(2 / 32)) < 0.03
    with pytest.raises(ValueError):
        nn.init.xavier_uniform_(mg.zeros(3))


def test_clip_grad_norm_returns_the_total_norm():
    a = mg.tensor([3.0], requires_grad=True)
    b = mg.tensor([4.0], requires_grad=True)
    (a * a / 2 + b * b / 2).sum().backward()  # grads 3 and 4: total norm 5
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    assert math.hypot(a.grad.item(), b.grad.item()) == pytest.approx(1.0, rel=1e-5)
    assert nn.utils.clip_grad_norm_([a, b], max_norm=10.0).item() == pytest.approx(1.0, rel=1e-5)
    assert nn.utils.clip_grad_norm_([a, b], 10.0, norm_type=math.inf).item() == pytest.approx(0.8)
    a.grad = mg.tensor([float("nan")])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    a = mg.tensor([3.0, -4.0, 0.5], requires_grad=True)
    (a * a / 2).sum().backward()
    nn.utils.clip_grad_value_([a], 1.0)
    assert a.grad.tolist() == [1.0, -1.0, 0.5]


def test_losses_as_modules():
    x, y = mg.randn(4, 3), mg.tensor([0, 1, 2, 1])
    assert nn.CrossEntropyLoss()(x, y).item() == pytest.approx(F.cross_entropy(x, y).item())
    assert nn.MSELoss(reduction="sum")(x, x * 0).item() == pytest.approx((x * x).sum().item())
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")


# ------------------------------------------------------------------ optimizers against PyTorch

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[f"{n}-{k}" for n, k in OPTIMIZERS])
def test_optimizer_matches_pytorch_step_for_step(torch, name, kwargs):
    rng = np.random.default_rng(0)
    w0, x, y = rng.normal(size=(3, 4)), rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    wm = nn.Parameter(mg.tensor(w0))
    wt = torch.nn.Parameter(torch.tensor(w0))
    om = getattr(mg.optim, name)([wm], **kwargs)
    ot = getattr(torch.optim, name)([wt], **kwargs)
    for _ in range(10):
        for lib, w, opt in ((mg, wm, om), (torch, wt, ot)):
            opt.zero_grad()
            loss = ((lib.tensor(x) @ w.T - lib.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
        np.testing.assert_allclose(wm.data, wt.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_optimizer_errors_and_groups():
    w = nn.Parameter(mg.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        mg.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        mg.optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        mg.optim.SGD([w], lr=0.1, nesterov=True)
    v = nn.Parameter(mg.zeros(2))
    opt = mg.optim.SGD([{"params": [w]}, {"params": [v], "lr": 0.5}], lr=0.1)
    (w.sum() + v.sum()).backward()
    opt.step()
    assert w.tolist() == pytest.approx([-0.1, -0.1]) and v.tolist() == pytest.approx([-0.5, -0.5])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})


def test_optimizer_state_dict_round_trip():
    w = nn.Parameter(mg.tensor([1.0, 2.0]))
    opt = mg.optim.Adam([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    sd = opt.state_dict()
    w2 = nn.Parameter(w.detach().clone())
    opt2 = mg.optim.Adam([w2], lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1
    for o, p in ((opt, w), (opt2, w2)):
        o.zero_grad()
        (p * p).sum().backward()
        o.step()
    np.testing.assert_allclose(w.data, w2.data)


def test_lr_schedulers():
    w = nn.Parameter(mg.zeros(1))
    opt = mg.optim.SGD([w], lr=1.0)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]
    opt = mg.optim.SGD([w], lr=1.0)
    cos = mg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    for _ in range(4):
        cos.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0)


# ------------------------------------------------------------------ save and load


def test_save_load_round_trip(tmp_path):
    m = TwoLayer()
    ckpt = {
        "model": m.state_dict(),
        "config": {"hidden": 8, "layers": [1, 2], "name": "two", "ok": True, "none": None},
        "vocab": ["<UNK>", "a", "b"],
        "pair": (1, 2.5),
        "raw": np.arange(3, dtype=np.int64),
    }
    path = tmp_path / "ckpt.npz"
    mg.save(ckpt, path)
    back = mg.load(path)
    assert back["config"] == ckpt["config"] and back["vocab"] == ckpt["vocab"]
    assert back["pair"] == (1, 2.5) and back["raw"].tolist() == [0, 1, 2]
    m2 = TwoLayer()
    m2.load_state_dict(back["model"])
    x = mg.randn(3, 4)
    m.eval(), m2.eval()
    np.testing.assert_array_equal(m(x).data, m2(x).data)
    assert back["model"]["hidden.weight"].dtype == mg.float32
    # save to exactly the given name (numpy would append .npz)
    mg.save({"a": mg.ones(1)}, tmp_path / "plain.ckpt")
    assert (tmp_path / "plain.ckpt").exists()
    assert mg.load(tmp_path / "plain.ckpt")["a"].tolist() == [1.0]


def test_load_never_unpickles(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (exec, ("raise SystemExit('code ran')",))

    # an npz whose entry is a pickled object array: numpy refuses it with allow_pickle=False
    path = tmp_path / "evil.npz"
    np.savez(
        path,
        __minigrad__=np.frombuffer(
            b'{"format": "minigrad-npz-1", "object": {"__array__": "a0"}}', np.uint8
        ),
        a0=np.array([Evil()], dtype=object),
    )
    with pytest.raises(ValueError):
        mg.load(path)
    pkl = tmp_path / "evil.pkl"
    pkl.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ValueError, match="not a minigrad file|pickled"):
        mg.load(pkl)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(2))
    with pytest.raises(ValueError, match="not a minigrad file"):
        mg.load(other)


def test_save_rejects_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="cannot store an object of type set at config"):
        mg.save({"config": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be strings"):
        mg.save({1: 2}, tmp_path / "x.npz")
