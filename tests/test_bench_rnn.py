"""The recurrent-layer benchmark's --quick mode runs (so that the script cannot rot)."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rnn.py"


def test_bench_rnn_quick_mode(capsys, keep_torch_threads):
    spec = importlib.util.spec_from_file_location("bench_rnn", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    torch = keep_torch_threads
    rows = bench.main(["--quick"])
    out = capsys.readouterr().out
    assert [(r["kind"], r["H"]) for r in rows] == [("RNN", 16), ("GRU", 16), ("LSTM", 16)]
    for row in rows:
        assert row["minigrad"]["ms"] > 0
        assert 3.5 < row["minigrad"]["loss"] < 5.0  # about log(65) after a couple of steps
        if torch is not None:
            assert 3.5 < row["torch"]["loss"] < 5.0
    assert 3.5 < rows[-1]["numpy"]["loss"] < 5.0
    assert "mg/torch" in out and "LSTM" in out


def test_numpy_baseline_matches_minigrad():
    """The hand-written numpy LSTM step updates the parameters exactly as minigrad does."""
    np = pytest.importorskip("numpy")
    import minigrad
    import minigrad.nn as nn
    import minigrad.nn.functional as F
    from minigrad.nn.utils import clip_grad_norm_

    spec = importlib.util.spec_from_file_location("bench_rnn", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    steps, batch, hidden = 5, 3, 8
    ref = bench.NumpyLSTMModel(hidden, batch, steps, dtype=np.float64)
    f64 = minigrad.float64
    emb, lstm, head = (
        nn.Embedding(65, 64, dtype=f64),
        nn.LSTM(64, hidden, dtype=f64),
        nn.Linear(hidden, 65, dtype=f64),
    )
    pairs = [
        (emb.weight, "emb"),
        (lstm.weight_ih_l0, "w_ih"),
        (lstm.weight_hh_l0, "w_hh"),
        (lstm.bias_ih_l0, "b_ih"),
        (lstm.bias_hh_l0, "b_hh"),
        (head.weight, "w_out"),
        (head.bias, "b_out"),
    ]
    for p, name in pairs:
        p.data[...] = ref.p[name]
    params = [p for p, _ in pairs]
    opt = minigrad.optim.Adam(params, lr=bench.LR)
    x = minigrad.tensor(ref.x.reshape(steps, batch))
    y = minigrad.tensor(ref.y)
    for _ in range(3):
        out, _ = lstm(emb(x))
        loss = F.cross_entropy(head(out).reshape(-1, 65), y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(params, bench.CLIP)
        opt.step()
        assert ref.step() == pytest.approx(loss.item(), rel=1e-12)
    for p, name in pairs:
        np.testing.assert_allclose(p.data, ref.p[name], rtol=1e-10, atol=1e-12)
