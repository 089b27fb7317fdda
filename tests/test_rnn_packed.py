"""Variable-length batches: pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence,
their gradients, their errors, and what recurrent layers do with a PackedSequence."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t.data)


# --------------------------------------------------------------------------------------------------
# The utilities against torch.nn.utils.rnn
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(torch, batch_first, padding_side):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 3)) for n in (2, 5, 1)]
    t = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(a) for a in arrays],
        batch_first=batch_first,
        padding_value=-1.0,
        padding_side=padding_side,
    )
    m = pad_sequence(
        [minigrad.tensor(a) for a in arrays],
        batch_first=batch_first,
        padding_value=-1.0,
        padding_side=padding_side,
    )
    np.testing.assert_array_equal(m.data, _np(t))


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_match_torch(torch, batch_first):
    rng = np.random.default_rng(1)
    lengths = [2, 6, 4, 1, 5]  # distinct, so that the sorted order is unambiguous
    shape = (5, 6, 3) if batch_first else (6, 5, 3)
    x = rng.standard_normal(shape)
    tp = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x), lengths, batch_first=batch_first, enforce_sorted=False
    )
    mp = pack_padded_sequence(
        minigrad.tensor(x), lengths, batch_first=batch_first, enforce_sorted=False
    )
    np.testing.assert_array_equal(mp.data.data, _np(tp.data))
    np.testing.assert_array_equal(mp.batch_sizes.data, _np(tp.batch_sizes))
    np.testing.assert_array_equal(mp.sorted_indices.data, _np(tp.sorted_indices))
    np.testing.assert_array_equal(mp.unsorted_indices.data, _np(tp.unsorted_indices))
    tpad, tlen = torch.nn.utils.rnn.pad_packed_sequence(
        tp, batch_first=batch_first, padding_value=9.0, total_length=8
    )
    mpad, mlen = pad_packed_sequence(mp, batch_first=batch_first, padding_value=9.0, total_length=8)
    np.testing.assert_array_equal(mpad.data, _np(tpad))
    np.testing.assert_array_equal(mlen.data, _np(tlen))
    assert mlen.dtype == np.int64


def test_sorted_packing_has_no_permutation(torch):
    x = np.arange(12.0).reshape(4, 3, 1)
    tp = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), [4, 2, 1])
    mp = pack_padded_sequence(minigrad.tensor(x), [4, 2, 1])
    assert mp.sorted_indices is None and mp.unsorted_indices is None
    assert tp.sorted_indices is None
    np.testing.assert_array_equal(mp.data.data, _np(tp.data))


def test_pack_sequence_and_unpack_round_trip():
    seqs = [minigrad.tensor(np.full((n, 2), float(n))) for n in (3, 1, 4)]
    p = pack_sequence(seqs, enforce_sorted=False)
    assert p.batch_sizes.data.tolist() == [3, 2, 2, 1]
    back = unpack_sequence(p)
    for a, b in zip(seqs, back):
        np.testing.assert_array_equal(a.data, b.data)
    padded = pad_sequence(seqs, batch_first=True)
    for a, b in zip(seqs, unpad_sequence(padded, [3, 1, 4], batch_first=True)):
        np.testing.assert_array_equal(a.data, b.data)


def test_packing_is_differentiable_both_ways(torch):
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((4, 3, 2))
    lengths = [2, 4, 3]
    w = rng.standard_normal((9, 2))

    def run(lib, pack, pad):
        x = lib.tensor(x_np, requires_grad=True)
        p = pack(x, lengths, enforce_sorted=False)
        padded, _ = pad(p)
        (padded * padded).sum().backward()
        y = lib.tensor(x_np, requires_grad=True)
        (pack(y, lengths, enforce_sorted=False).data * lib.tensor(w)).sum().backward()
        return x.grad, y.grad

    tu = torch.nn.utils.rnn
    tg1, tg2 = run(torch, tu.pack_padded_sequence, tu.pad_packed_sequence)
    mg1, mg2 = run(minigrad, pack_padded_sequence, pad_packed_sequence)
    np.testing.assert_allclose(mg1.data, _np(tg1))
    np.testing.assert_allclose(mg2.data, _np(tg2))
    assert np.all(mg1.data[3, 0] == 0)  # padding gets no gradient


def test_pad_sequence_gradient_reaches_each_sequence():
    a = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = minigrad.tensor([4.0], requires_grad=True)
    (
        pad_sequence([a, b], padding_side="left")
        * minigrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    ).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 3.0, 5.0])
    np.testing.assert_array_equal(b.grad.data, [6.0])


def test_packed_sequence_fields_and_methods():
    p = pack_padded_sequence(minigrad.zeros(3, 2, 4), [1, 3], enforce_sorted=False)
    assert isinstance(p, tuple) and len(p) == 4
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert data.shape == (4, 4) and batch_sizes.data.tolist() == [2, 1, 1]
    assert sorted_indices.data.tolist() == [1, 0] and unsorted_indices.data.tolist() == [1, 0]
    assert p.double().data.dtype == np.float64
    q = PackedSequence(data, batch_sizes, sorted_indices)
    assert q.unsorted_indices.data.tolist() == [1, 0]


# --------------------------------------------------------------------------------------------------
# Errors that name the sizes
# --------------------------------------------------------------------------------------------------


def test_lengths_longer_than_the_sequence():
    x = minigrad.zeros(5, 3, 2)
    with pytest.raises(
        ValueError, match=r"lengths\[1\] = 7 is longer than the padded sequence length 5"
    ):
        pack_padded_sequence(x, [5, 7, 2], enforce_sorted=False)
    with pytest.raises(
        ValueError, match=r"sequence length 3 \(input shape \(5, 3, 2\), read as \(B, T, \*\)\)"
    ):
        pack_padded_sequence(x, [3, 3, 3, 3, 4], batch_first=True)


def test_lengths_that_do_not_match_the_batch():
    with pytest.raises(ValueError, match=r"got 4 lengths for a batch of 3 sequences"):
        pack_padded_sequence(minigrad.zeros(5, 3, 2), [5, 4, 2, 1])
    with pytest.raises(ValueError, match=r"at least 1, but lengths\[2\] is 0"):
        pack_padded_sequence(minigrad.zeros(5, 3, 2), [5, 4, 0])


def test_unsorted_lengths_with_enforce_sorted():
    with pytest.raises(
        ValueError,
        match=r"decreasing order.*lengths\[0\] = 2 < lengths\[1\] = 5.*enforce_sorted=False",
    ):
        pack_padded_sequence(minigrad.zeros(5, 3, 2), [2, 5, 1])
    with pytest.raises(ValueError, match="decreasing order"):
        pack_sequence([minigrad.zeros(1, 2), minigrad.zeros(3, 2)])


def test_other_packing_errors():
    p = pack_padded_sequence(minigrad.zeros(5, 2, 1), [5, 3])
    with pytest.raises(
        ValueError,
        match=r"total_length=4 is shorter than the longest sequence in the batch \(5 steps\)",
    ):
        pad_packed_sequence(p, total_length=4)
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(2, 3\)"):
        pad_sequence([minigrad.zeros(2, 2), minigrad.zeros(2, 3)])
    with pytest.raises(ValueError, match=r"input_size.*Expected 2, got 1"):
        nn.GRU(2, 3)(p)
    bad = PackedSequence(minigrad.zeros(7, 1), p.batch_sizes)
    with pytest.raises(ValueError, match=r"batch_sizes \[2, 2, 2, 1, 1\] needs .* 8 rows of data"):
        nn.GRU(1, 3)(bad)


# --------------------------------------------------------------------------------------------------
# Layers on packed batches
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_many_to_one_reads_each_sequences_own_last_state(cls):
    """h_n of a packed batch equals running each sequence alone, whatever the padding holds."""
    minigrad.manual_seed(0)
    layer = cls(3, 4, num_layers=2, bidirectional=True, dtype=minigrad.float64)
    rng = np.random.default_rng(3)
    lengths = [4, 7, 2, 7, 5]
    x = rng.standard_normal((7, 5, 3))
    x_garbage = x.copy()
    for b, n in enumerate(lengths):
        x_garbage[n:, b] = 1e3  # padding must not leak into anything
    _, fin = layer(pack_padded_sequence(minigrad.tensor(x_garbage), lengths, enforce_sorted=False))
    h_n = fin[0] if cls is nn.LSTM else fin
    for b, n in enumerate(lengths):
        _, fin_b = layer(minigrad.tensor(x[:n, b : b + 1]))
        h_b = fin_b[0] if cls is nn.LSTM else fin_b
        np.testing.assert_allclose(h_n.data[:, b], h_b.data[:, 0], rtol=1e-12, atol=1e-12)


def test_packed_output_is_packed_and_keeps_the_order():
    minigrad.manual_seed(0)
    lstm = nn.LSTM(2, 3, bidirectional=True)
    p = pack_padded_sequence(minigrad.randn(6, 3, 2), [3, 6, 4], enforce_sorted=False)
    out, (h, c) = lstm(p)
    assert isinstance(out, PackedSequence)
    assert out.data.shape == (13, 6)
    assert out.batch_sizes is p.batch_sizes and out.sorted_indices is p.sorted_indices
    padded, lengths = pad_packed_sequence(out, batch_first=True)
    assert padded.shape == (3, 6, 6) and lengths.data.tolist() == [3, 6, 4]
    # the reverse direction's output at step 0 is its final state
    np.testing.assert_array_equal(padded.data[:, 0, 3:], h.data[1])


def test_packed_initial_state_is_in_the_original_batch_order():
    minigrad.manual_seed(0)
    gru = nn.GRU(2, 3, dtype=minigrad.float64)
    x = minigrad.randn(5, 3, 2, dtype=minigrad.float64)
    h0 = minigrad.randn(1, 3, 3, dtype=minigrad.float64)
    lengths = [2, 5, 3]
    _, h_packed = gru(pack_padded_sequence(x, lengths, enforce_sorted=False), h0)
    for b, n in enumerate(lengths):
        _, h_b = gru(x[:n, b : b + 1], h0[:, b : b + 1])
        np.testing.assert_allclose(h_packed.data[:, b], h_b.data[:, 0], rtol=1e-12, atol=1e-12)


def test_train_a_many_to_one_classifier_on_packed_batches():
    """Classify whether a sequence of +-1 sums to more than zero, lengths 1 to 9."""
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    gru, head = nn.GRU(1, 16), nn.Linear(16, 2)
    opt = minigrad.optim.Adam([*gru.parameters(), *head.parameters()], lr=0.03)
    accs = []
    for _ in range(120):
        lengths = rng.integers(1, 10, size=32)
        x = rng.choice([-1.0, 1.0], size=(9, 32, 1)).astype(np.float32)
        mask = np.arange(9)[:, None] < lengths[None, :]
        y = ((x[..., 0] * mask).sum(0) > 0).astype(np.int64)
        _, h = gru(pack_padded_sequence(minigrad.tensor(x), lengths, enforce_sorted=False))
        logits = head(h[0])
        loss = nn.functional.cross_entropy(logits, minigrad.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        accs.append((logits.data.argmax(1) == y).mean())
    assert np.mean(accs[-10:]) > 0.9
