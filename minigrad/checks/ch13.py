"""Checks for chapter 13, *Deep RNNs* (``exercises/13_deep_rnns.ipynb``).

=====  ==============================  =====================================
 no.   exercise                        check
=====  ==============================  =====================================
 13.1  ``stacked_rnn_forward``         :func:`check_stacked_rnn_forward`
 13.2  ``deep_parameter_count``        :func:`check_deep_parameter_count`
 13.3  ``stacked_state_dict``          :func:`check_stacked_state_dict`
=====  ==============================  =====================================

The notation is the notes': examples are columns, a sequence ``x`` is ``(n_x, m, T_x)``, layer
``l`` (counted from 1 in the notes, from 0 in Python) has the state ``a[l]<t>`` of shape
``(n_a, m)``, and ``layers`` is a list of dictionaries, one per layer, holding ``Wax``
``(n_a, n_x)`` for the first layer and ``(n_a, n_a)`` above, ``Waa`` ``(n_a, n_a)`` and ``ba``
``(n_a, 1)``; ``a0`` is ``(L, n_a, m)``, the initial state of each layer. The checks recognise the
values that the usual mistakes produce: every layer fed the input ``x`` instead of the layer below,
the layers started from zeros instead of ``a0``, the first layer's states returned instead of the
top layer's; for the count, the layers above the first reading ``n_a`` inputs where a
bidirectional layer below gives them ``2 n_a``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect, expect_array, expect_close, fail

__all__ = ["check_deep_parameter_count", "check_stacked_rnn_forward", "check_stacked_state_dict"]


def _layers(n_x: int, n_a: int, L: int, seed: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for layer in range(L):
        n_in = n_x if layer == 0 else n_a
        out.append({"Wax": rng.normal(size=(n_a, n_in)) * 0.8,
                    "Waa": rng.normal(size=(n_a, n_a)) * 0.8 / np.sqrt(n_a),
                    "ba": rng.normal(size=(n_a, 1)) * 0.5})
    return out


def _copy(layers: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    return [{k: v.copy() for k, v in p.items()} for p in layers]


def _forward(x: np.ndarray, a0: np.ndarray, layers: list[dict[str, np.ndarray]],
             mistake: str | None = None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Reference: (top states (n_a, m, T), last states (L, n_a, m), every layer's states).

    ``mistake``: ``"x_everywhere"`` (each layer reads x), ``"zeros"`` (from zeros, not a0)."""
    T = x.shape[2]
    below = x
    finals, all_states = [], []
    for layer, p in enumerate(layers):
        a_t = np.zeros_like(a0[layer]) if mistake == "zeros" else a0[layer]
        out = np.zeros((p["Waa"].shape[0], x.shape[1], T))
        inp = x if (mistake == "x_everywhere") else below
        for t in range(T):
            a_t = np.tanh(p["Waa"] @ a_t + p["Wax"] @ inp[:, :, t] + p["ba"])
            out[:, :, t] = a_t
        finals.append(a_t)
        all_states.append(out)
        below = out
    return below, np.stack(finals), all_states


# --------------------------------------------------------------------------------------------------
# 13.1  stacked_rnn_forward
# --------------------------------------------------------------------------------------------------


@exercise("13.1", "stacked_rnn_forward")
def check_stacked_rnn_forward(fn: Any) -> list[Case]:
    """Check ``stacked_rnn_forward(x, a0, layers) -> (a, a_last)``: one layer (Chapter 3's
    forward pass), two and three layers, each layer from its own ``a0``, the top layer's states
    and every layer's last state, and a batch of one."""

    def run(x: np.ndarray, a0: np.ndarray, layers: list[dict[str, np.ndarray]]):
        xc, a0c, lc = x.copy(), a0.copy(), _copy(layers)
        got = call(fn, xc, a0c, lc)
        if not np.array_equal(xc, x) or not np.array_equal(a0c, a0) or any(
                not np.array_equal(p[k], q[k]) for p, q in zip(layers, lc) for k in p):
            fail("stacked_rnn_forward changed one of its arguments",
                 "compute new arrays instead of changing the ones you are given in place")
        if got is None:
            fail("stacked_rnn_forward returned None", "return a, a_last")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(f"stacked_rnn_forward: expected two arrays (a, a_last), got {describe(got)}",
                 "return both, as a tuple: return a, a_last")
        return got[0], got[1]

    def setup(n_x: int, n_a: int, L: int, m: int, T: int, seed: int, zero: bool = False):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(n_x, m, T))
        a0 = np.zeros((L, n_a, m)) if zero else rng.normal(size=(L, n_a, m)) * 0.5
        return x, a0, _layers(n_x, n_a, L, seed)

    def top(n_x: int, n_a: int, L: int, m: int, T: int, seed: int, zero: bool = False) -> None:
        x, a0, layers = setup(n_x, n_a, L, m, T, seed, zero)
        a_got, _ = run(x, a0, layers)
        a_ref, _, per_layer = _forward(x, a0, layers)
        hints = [(per_layer[0], "these are the first layer's states: each layer reads the "
                                "states of the layer below, and a holds the top layer's")]
        if n_x == n_a and L > 1:
            hints.append((_forward(x, a0, layers, "x_everywhere")[0],
                          "every layer read the input x: layer l reads a[l-1]<t>, the states "
                          "of the layer below (only the first reads x)"))
        if np.any(a0):
            hints.append((_forward(x, a0, layers, "zeros")[0],
                          "the layers started from zeros: layer l starts from a0[l]"))
        if L > 1:
            hints.append((_forward(x, a0[::-1].copy(), layers)[0],
                          "a0[0] is the first (lowest) layer's initial state"))
        expect_array(f"a, the top layer's states ({L} layer{'s' if L > 1 else ''})", a_ref, a_got,
                     check_dtype=False,
                     shape_hints=[((L, n_a, m, T), "return only the top layer's states in a, "
                                                   "(n_a, m, T_x)"),
                                  ((n_a, m), "a holds every step of the top layer: "
                                             "(n_a, m, T_x)")],
                     value_hints=hints)

    def last_states():
        x, a0, layers = setup(3, 4, 3, 2, 5, 211)
        _, last_got = run(x, a0, layers)
        _, last_ref, per_layer = _forward(x, a0, layers)
        expect_array("a_last, every layer's state after the last step", last_ref, last_got,
                     check_dtype=False,
                     shape_hints=[((4, 2), "a_last holds the last state of every layer: "
                                           "(L, n_a, m), like h_n"),
                                  ((4, 2, 3), "stack the layers' last states on a new first "
                                              "axis: np.stack(..., axis=0)")],
                     value_hints=[(np.stack([s[:, :, 0] for s in per_layer]),
                                   "the state after the last step is a[l][:, :, -1], not the "
                                   "first"),
                                  (_forward(x, a0, layers, "zeros")[1],
                                   "the layers started from zeros: layer l starts from a0[l]")])

    return [
        Case("one layer: Chapter 3's forward pass", lambda: top(3, 4, 1, 2, 5, 201)),
        Case("two layers from zeros", lambda: top(3, 4, 2, 3, 6, 202, zero=True)),
        Case("two layers, n_x = n_a (the input and the layer below have the same size)",
             lambda: top(4, 4, 2, 3, 6, 203, zero=True)),
        Case("three layers, each from its own a0", lambda: top(4, 4, 3, 2, 5, 204)),
        Case("a_last: the last state of every layer, (L, n_a, m)", last_states),
        Case("a batch of one, one step", lambda: top(2, 3, 2, 1, 1, 205)),
    ]


# --------------------------------------------------------------------------------------------------
# 13.2  deep_parameter_count
# --------------------------------------------------------------------------------------------------

_BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}


@exercise("13.2", "deep_parameter_count")
def check_deep_parameter_count(fn: Any) -> list[Case]:
    """Check ``deep_parameter_count(cell, n_x, n_a, num_layers, bidirectional)`` against the
    layers themselves: one and several layers, one and two directions, every cell."""
    from minigrad import nn

    def case(cell: str, n_x: int, n_a: int, L: int, bidi: bool) -> Case:
        def run_case() -> None:
            layer = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell](
                n_x, n_a, num_layers=L, bidirectional=bidi)
            expected = sum(p.numel() for p in layer.parameters())
            got = call(fn, cell, n_x, n_a, L, bidi)
            g, d = _BLOCKS[cell], 2 if bidi else 1

            def count(first_in: int, upper_in: int, dirs: int, biases: int = 2,
                      blocks: int = g) -> int:
                one = lambda n_in: blocks * n_a * (n_in + n_a + biases)  # noqa: E731
                return dirs * (one(first_in) + (L - 1) * one(upper_in))

            hints = [
                (count(n_x, n_a, d), "a layer above a bidirectional layer reads both "
                                     "directions: its input has 2 n_a features"),
                (count(n_x, n_x, d), "only the first layer reads x; the layers above read the "
                                     "states of the layer below (n_a, or 2 n_a both ways)"),
                (count(n_x, d * n_a, 1), "a bidirectional layer has two sets of weights, one "
                                         "per direction"),
                (count(n_x, d * n_a, d, biases=1), "each block has two bias vectors (bias_ih "
                                                   "and bias_hh)"),
                (count(n_x, d * n_a, d) // L if L > 1 else -1, "count every layer, not only "
                                                                "the first"),
                (count(n_x, d * n_a, d, blocks=1), f"the {cell.upper()} has {g} blocks of "
                                                   "weights per layer and direction"),
            ]
            expect_close(f"deep_parameter_count({cell!r}, {n_x}, {n_a}, {L}, {bidi})",
                         float(expected), got, rtol=0, atol=0.5, hints=hints)
        what = f"{cell}, n_x = {n_x}, n_a = {n_a}, {L} layer{'s' if L > 1 else ''}"
        return Case(what + (", bidirectional" if bidi else ""), run_case)

    return [case("rnn", 10, 20, 1, False), case("rnn", 10, 20, 3, False),
            case("gru", 10, 20, 2, False), case("lstm", 10, 20, 1, True),
            case("lstm", 64, 128, 3, True), case("gru", 5, 8, 4, True)]


# --------------------------------------------------------------------------------------------------
# 13.3  stacked_state_dict
# --------------------------------------------------------------------------------------------------


@exercise("13.3", "stacked_state_dict")
def check_stacked_state_dict(fn: Any) -> list[Case]:
    """Check ``stacked_state_dict(layers)``: the names of ``nn.RNN(n_x, n_a, num_layers=L)``'s
    parameters, each layer's weights under its number, and the stack reproducing the notes'
    forward pass."""
    import minigrad
    from minigrad import nn

    def get(n_x: int, n_a: int, L: int, seed: int):
        layers = _layers(n_x, n_a, L, seed)
        lc = _copy(layers)
        got = call(fn, lc)
        if got is None:
            fail("stacked_state_dict returned None", "return the dictionary")
        if not isinstance(got, dict):
            fail(f"stacked_state_dict: expected a dict, got {describe(got)}")
        names = [f"{w}_l{k}" for k in range(L) for w in ("weight_ih", "weight_hh", "bias_ih",
                                                          "bias_hh")]
        missing = [k for k in names if k not in got]
        extra = [k for k in got if k not in names]
        if missing or extra:
            hint = ("PyTorch numbers the layers from 0: weight_ih_l0 is the first layer"
                    if any(k.endswith(f"_l{L}") for k in got) else
                    "use the names of nn.RNN(n_x, n_a, num_layers=L).state_dict(): "
                    "weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l1, ...")
            fail(f"stacked_state_dict: missing {missing}" + (f", unexpected {extra}" if extra
                                                               else ""), hint)
        out = {}
        for k in names:
            v = got[k]
            if hasattr(v, "detach") and hasattr(v, "numpy"):
                v = v.detach().numpy()
            if not isinstance(v, np.ndarray):
                fail(f"state_dict[{k!r}]: expected an array, got {describe(v)}")
            out[k] = v
        return layers, out

    def weights():
        layers, sd = get(3, 4, 3, 221)
        for k, p in enumerate(layers):
            expect_array(f"state_dict['weight_ih_l{k}']", p["Wax"], sd[f"weight_ih_l{k}"],
                         check_dtype=False,
                         value_hints=[(p["Waa"], "weight_ih is W_ax, the weights on the layer's "
                                                 "input; W_aa goes into weight_hh")])
            expect_array(f"state_dict['weight_hh_l{k}']", p["Waa"], sd[f"weight_hh_l{k}"],
                         check_dtype=False,
                         value_hints=[(p["Wax"], "weight_hh is W_aa, the recurrent weights")]
                         if p["Wax"].shape == p["Waa"].shape else [])

    def biases():
        layers, sd = get(3, 4, 2, 222)
        for k, p in enumerate(layers):
            b = sd[f"bias_ih_l{k}"]
            expect(b.shape == (4,), f"state_dict['bias_ih_l{k}']: shape: expected (4,), got "
                   f"{b.shape}", "the biases are vectors: ba[:, 0]")
            expect_array(f"bias_ih_l{k} + bias_hh_l{k}", p["ba"][:, 0],
                         sd[f"bias_ih_l{k}"] + sd[f"bias_hh_l{k}"], check_dtype=False,
                         value_hints=[(2 * p["ba"][:, 0], "the layer adds both biases: they "
                                                          "must sum to b_a")])

    def runs(n_x: int, n_a: int, L: int, m: int, T: int, seed: int) -> None:
        layers, sd = get(n_x, n_a, L, seed)
        rng = np.random.default_rng(seed)
        x, a0 = rng.normal(size=(n_x, m, T)), rng.normal(size=(L, n_a, m))
        rnn = nn.RNN(n_x, n_a, num_layers=L, dtype=minigrad.float64)
        try:
            rnn.load_state_dict(sd)
        except (RuntimeError, ValueError, KeyError) as e:
            fail(f"nn.RNN({n_x}, {n_a}, num_layers={L}).load_state_dict refused it: {e}",
                 "each entry must have the shape of the parameter of the same name")
        with minigrad.no_grad():
            out, h_n = rnn(minigrad.tensor(x.transpose(2, 1, 0)),
                           minigrad.tensor(a0.transpose(0, 2, 1)))
        a_ref, last_ref, _ = _forward(x, a0, layers)
        expect_array("nn.RNN's output (the top layer's states), as (n_a, m, T_x)", a_ref,
                     out.numpy().transpose(2, 1, 0), check_dtype=False)
        expect_array("nn.RNN's h_n (every layer's last state), as (L, n_a, m)", last_ref,
                     h_n.numpy().transpose(0, 2, 1), check_dtype=False)

    return [
        Case("the names: weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} for "
             "k = 0 ... L-1", lambda: get(3, 4, 2, 220)),
        Case("each layer's W_ax and W_aa under its number", weights),
        Case("each layer's biases add up to its b_a", biases),
        Case("nn.RNN(num_layers=2) loaded with them reproduces the notes' stack",
             lambda: runs(3, 4, 2, 3, 5, 223)),
        Case("the same with three layers and a batch of one", lambda: runs(2, 3, 3, 1, 4, 224)),
    ]
