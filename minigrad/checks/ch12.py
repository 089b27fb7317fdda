"""Checks for chapter 12, *Bidirectional RNNs* (``exercises/12_bidirectional.ipynb``).

=====  =======================  =====================================
 no.   exercise                 check
=====  =======================  =====================================
 12.1  ``reverse_padded``       :func:`check_reverse_padded`
 12.2  ``bidirectional_rnn``    :func:`check_bidirectional_rnn`
 12.3  ``final_features``       :func:`check_final_features`
=====  =======================  =====================================

Layouts are the library's (PyTorch's): a padded batch is ``(T, B, ...)`` with the ``B`` real
lengths in ``lengths``; a bidirectional layer's output is ``(T, B, 2H)``, the forward direction's
``H`` features first; its ``h_n`` is ``(num_layers * 2, B, H)``, forward then backward for each
layer. The checks compare with :class:`minigrad.nn.RNN` and :class:`minigrad.nn.GRU` run with
``bidirectional=True`` on packed sequences, and recognise the usual mistakes: a reversal that
moves the padding to the front, a backward pass that starts in the padding, a backward output
left reversed, the directions swapped, the first layer's states taken for the last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect_array, fail

__all__ = ["check_reverse_padded", "check_bidirectional_rnn", "check_final_features"]


def _reverse(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    out = x.copy()
    for b, n in enumerate(lengths):
        out[:n, b] = x[:n, b][::-1]
    return out


def _batch(lengths: list[int], width: int | None, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (max(lengths), len(lengths)) + ((width,) if width else ())
    return rng.normal(size=shape)


# --------------------------------------------------------------------------------------------------
# 12.1  reverse_padded
# --------------------------------------------------------------------------------------------------


@exercise("12.1", "reverse_padded")
def check_reverse_padded(fn: Any) -> list[Case]:
    """Check ``reverse_padded(x, lengths)``: each column's first ``lengths[b]`` rows reversed,
    the padding rows left where they are, for 2-D ``(T, B)`` and 3-D ``(T, B, F)`` batches."""

    def case(lengths: list[int], width: int | None, seed: int, what: str) -> None:
        x = _batch(lengths, width, seed)
        n = np.array(lengths)
        xc, nc = x.copy(), n.copy()
        got = call(fn, xc, nc)
        if not (np.array_equal(xc, x) and np.array_equal(nc, n)):
            fail("reverse_padded changed its arguments",
                 "work on a copy: out = x.copy(), then assign into out")
        expected = _reverse(x, n)
        hints = [(x[::-1], "x[::-1] reverses the padding too: a shorter sequence's padding "
                           "moves to the front, and its first real step lands at row T - 1. "
                           "Reverse each column's first lengths[b] rows only"),
                 (x, "nothing was reversed")]
        if any(k > 0 for k in lengths):
            shifted = x.copy()
            for b, k in enumerate(lengths):
                shifted[:k, b] = x[::-1][:k, b]
            hints.append((shifted, "the rows were taken from the end of the padded column: "
                                   "reverse x[:lengths[b], b] itself"))
        expect_array(what, expected, got, check_dtype=False, value_hints=hints,
                     shape_hints=[((len(lengths), max(lengths)) + x.shape[2:],
                                   "keep the layout (T, B, ...): time first")])

    return [
        Case("lengths 4, 2, 3 of 3 features", lambda: case([4, 2, 3], 3, 1,
                                                            "x reversed by lengths")),
        Case("a 2-D batch of ids (T, B)", lambda: case([5, 1, 3, 5], None, 2,
                                                       "ids reversed by lengths")),
        Case("every sequence full length", lambda: case([3, 3], 2, 3, "x reversed")),
        Case("a batch of one", lambda: case([4], 2, 4, "x reversed")),
    ]


# --------------------------------------------------------------------------------------------------
# 12.2  bidirectional_rnn
# --------------------------------------------------------------------------------------------------


def _rnn(x: np.ndarray, h0: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    h, out = h0, []
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
        out.append(h)
    return np.stack(out)


def _params(n_in: int, hidden: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W_ih": rng.normal(size=(hidden, n_in)) * 0.6,
            "W_hh": rng.normal(size=(hidden, hidden)) * 0.6,
            "b_ih": rng.normal(size=hidden) * 0.3, "b_hh": rng.normal(size=hidden) * 0.3}


def _reference(x: np.ndarray, lengths: np.ndarray, fwd: dict, bwd: dict):
    """Through minigrad's nn.RNN(bidirectional=True) on packed sequences."""
    import minigrad
    from minigrad import nn
    from minigrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    hidden = fwd["W_hh"].shape[0]
    rnn = nn.RNN(x.shape[2], hidden, bidirectional=True, dtype=minigrad.float64)
    sd = {}
    for suffix, p in (("_l0", fwd), ("_l0_reverse", bwd)):
        sd["weight_ih" + suffix], sd["weight_hh" + suffix] = p["W_ih"], p["W_hh"]
        sd["bias_ih" + suffix], sd["bias_hh" + suffix] = p["b_ih"], p["b_hh"]
    rnn.load_state_dict({k: minigrad.tensor(v) for k, v in sd.items()})
    with minigrad.no_grad():
        packed = pack_padded_sequence(minigrad.tensor(x), lengths, enforce_sorted=False)
        out, h_n = rnn(packed)
        out, _ = pad_packed_sequence(out, total_length=x.shape[0])
    return out.numpy(), h_n.numpy()


@exercise("12.2", "bidirectional_rnn")
def check_bidirectional_rnn(fn: Any) -> list[Case]:
    """Check ``bidirectional_rnn(x, lengths, fwd, bwd) -> (output, h_n)`` against
    ``nn.RNN(bidirectional=True)`` on packed sequences: the forward half, the backward half,
    the final states, zeros at the padding."""

    def run(lengths: list[int], n_in: int, hidden: int, seed: int):
        x = _batch(lengths, n_in, seed)
        n = np.array(lengths)
        fwd, bwd = _params(n_in, hidden, seed + 100), _params(n_in, hidden, seed + 200)
        args = (x.copy(), n.copy(), {k: v.copy() for k, v in fwd.items()},
                {k: v.copy() for k, v in bwd.items()})
        got = call(fn, *args)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(f"bidirectional_rnn: expected (output, h_n), got {describe(got)}",
                 "return output, h_n")
        out_ref, h_ref = _reference(x, n, fwd, bwd)
        return x, n, fwd, bwd, got[0], got[1], out_ref, h_ref

    def mistakes(x, n, fwd, bwd):
        """Outputs that the usual mistakes give (each (T, B, 2H), zeros at the padding)."""
        T, B, _ = x.shape
        hidden = fwd["W_hh"].shape[0]
        mask = (np.arange(T)[:, None] < n[None, :])[..., None]
        h0 = np.zeros((B, hidden))
        f = _rnn(x, h0, fwd)
        b_right = _reverse(_rnn(_reverse(x, n), h0, bwd), n)
        b_full_flip = _rnn(x[::-1], h0, bwd)[::-1]
        b_not_back = _rnn(_reverse(x, n), h0, bwd)
        b_same_weights = _reverse(_rnn(_reverse(x, n), h0, fwd), n)
        return {
            "the backward outputs were left in reversed order: reverse them back by lengths, "
            "so that row t holds the backward state at step t": np.concatenate(
                [f, b_not_back], -1) * mask,
            "the backward pass started in the padding (x[::-1] over the padded batch): reverse "
            "each sequence by its own length": np.concatenate([f, b_full_flip], -1) * mask,
            "the two halves are swapped: forward first, then backward": np.concatenate(
                [b_right, f], -1) * mask,
            "the backward direction has its own weights: use bwd for it": np.concatenate(
                [f, b_same_weights], -1) * mask,
            "set the output to zero at the padded positions (t >= lengths[b])": np.concatenate(
                [f, b_right], -1),
        }

    def check_output(lengths, n_in, hidden, seed, what):
        x, n, fwd, bwd, out, _, out_ref, _ = run(lengths, n_in, hidden, seed)
        hints = [(v, k) for k, v in mistakes(x, n, fwd, bwd).items()]
        expect_array(what, out_ref, out, check_dtype=False, rtol=1e-6, atol=1e-8,
                     value_hints=hints,
                     shape_hints=[((x.shape[0], x.shape[1], hidden),
                                   "one direction only: concatenate both along the last axis"),
                                  ((x.shape[0], x.shape[1], 2, hidden),
                                   "concatenate the two (T, B, H) halves into (T, B, 2H)")])

    def check_h_n(lengths, n_in, hidden, seed):
        x, n, fwd, bwd, _, h_n, _, h_ref = run(lengths, n_in, hidden, seed)
        T, B, _ = x.shape
        h0 = np.zeros((B, hidden))
        f = _rnn(x, h0, fwd)
        b_rev = _rnn(_reverse(x, n), h0, bwd)
        b = np.arange(B)
        hints = [(np.stack([f[-1], b_rev[-1]]), "row T - 1 of a shorter sequence is padding: "
                                                "the forward final state is at row "
                                                "lengths[b] - 1"),
                 (np.stack([f[n - 1, b], _reverse(b_rev, n)[n - 1, b]]),
                  "the backward direction ends at the *first* step: its final state is the "
                  "backward output at t = 0 (the last step it computed)"),
                 (np.stack([b_rev[n - 1, b], f[n - 1, b]]), "forward first, then backward")]
        expect_array("h_n", h_ref, h_n, check_dtype=False, rtol=1e-6, atol=1e-8,
                     value_hints=hints,
                     shape_hints=[((B, 2 * hidden), "h_n is (2, B, H): one row per direction, "
                                                    "stacked, not concatenated"),
                                  ((2, hidden, B), "h_n is (2, B, H)")])

    return [
        Case("output, lengths 5, 3, 4", lambda: check_output([5, 3, 4], 3, 4, 1,
                                                             "output (T, B, 2H)")),
        Case("output, every sequence full length", lambda: check_output([4, 4], 2, 3, 2,
                                                                        "output")),
        Case("output, a batch of one of length 1", lambda: check_output([1], 2, 3, 3,
                                                                        "output")),
        Case("h_n, lengths 6, 2, 5, 1", lambda: check_h_n([6, 2, 5, 1], 3, 4, 4)),
        Case("h_n, a batch of one", lambda: check_h_n([3], 2, 2, 5)),
    ]


# --------------------------------------------------------------------------------------------------
# 12.3  final_features
# --------------------------------------------------------------------------------------------------


@exercise("12.3", "final_features")
def check_final_features(fn: Any) -> list[Case]:
    """Check ``final_features(h_n, num_layers) -> (B, 2H)``: the last layer's forward final
    state, then its backward one, from a bidirectional layer's ``h_n`` of shape
    ``(num_layers * 2, B, H)``; compared with the rows of the layer's output that hold them."""

    def case(num_layers: int, batch: int, hidden: int, lengths: list[int] | None, seed: int):
        import minigrad
        from minigrad import nn
        from minigrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        minigrad.manual_seed(seed)
        gru = nn.GRU(3, hidden, num_layers=num_layers, bidirectional=True,
                     dtype=minigrad.float64)
        n = np.array(lengths or [5] * batch)
        x = minigrad.tensor(_batch(list(n), 3, seed))
        with minigrad.no_grad():
            out, h_n = gru(pack_padded_sequence(x, n, enforce_sorted=False))
            out, _ = pad_packed_sequence(out, total_length=int(n.max()))
        out, h = out.numpy(), h_n.numpy()
        hc = h.copy()
        got = call(fn, hc, num_layers)
        if not np.array_equal(hc, h):
            fail("final_features changed h_n", "build a new array (np.concatenate)")
        b = np.arange(batch)
        expected = np.concatenate([out[n - 1, b, :hidden], out[0, :, hidden:]], axis=1)
        hints = [(np.concatenate([h[-1], h[-2]], 1), "forward first, then backward: h_n[-2] "
                                                     "is the forward direction"),
                 (h[-2:].reshape(batch, 2 * hidden), "reshape mixes up the batch: the two "
                                                     "directions are h_n[-2] and h_n[-1], "
                                                     "each (B, H); concatenate them along "
                                                     "axis 1")]
        if num_layers > 1:
            hints.append((np.concatenate([h[0], h[1]], 1), "h_n[0] and h_n[1] are the first "
                                                           "layer's: the last layer's are the "
                                                           "last two rows"))
        expect_array(f"features of a {num_layers}-layer bidirectional GRU", expected, got,
                     check_dtype=False, rtol=1e-6, atol=1e-8, value_hints=hints,
                     shape_hints=[((2, batch, hidden), "concatenate the two directions into "
                                                       "(B, 2H)"),
                                  ((batch, hidden), "both directions: (B, 2H)")])

    return [
        Case("one layer, a batch of 3 of length 5", lambda: case(1, 3, 4, None, 1)),
        Case("two layers, lengths 4, 2, 6", lambda: case(2, 3, 3, [4, 2, 6], 2)),
        Case("three layers, a batch of one", lambda: case(3, 1, 2, [3], 3)),
    ]
