"""Checks for chapter 11, *Long short-term memory* (``exercises/11_lstm.ipynb``).

=====  ==============================  =====================================
 no.   exercise                        check
=====  ==============================  =====================================
 11.1  ``lstm_cell_forward``           :func:`check_lstm_cell_forward`
 11.2  ``lstm_forward``                :func:`check_lstm_forward`
 11.3  ``lstm_state_dict``             :func:`check_lstm_state_dict`
 11.4  ``recurrent_parameter_count``   :func:`check_recurrent_parameter_count`
=====  ==============================  =====================================

The notation is the notes': examples are columns, ``xt`` is ``(n_x, m)``, ``a_prev`` and
``c_prev`` are ``(n_a, m)``, a sequence ``x`` is ``(n_x, m, T_x)``, and ``parameters`` holds
``Wu``, ``Wf``, ``Wc``, ``Wo`` ``(n_a, n_a + n_x)`` (acting on ``[a<t-1>, x<t>]``, ``a`` first),
their biases ``bu``, ``bf``, ``bc``, ``bo`` ``(n_a, 1)``, and ``Wy`` ``(n_y, n_a)``, ``by``
``(n_y, 1)``. The cell check tests each gate alone, then the cell state and the activation, and
recognises the values that the usual mistakes produce: ``[x, a]`` stacked the wrong way round, a
tanh where a sigmoid belongs, the GRU's ``1 - Gamma_u`` in place of the forget gate, the update
and forget gates swapped, a missing output gate or ``tanh``. The mapping check names a wrong gate
order (PyTorch stacks i, f, g, o).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect, expect_array, expect_close, fail

__all__ = [
    "check_lstm_cell_forward",
    "check_lstm_forward",
    "check_lstm_state_dict",
    "check_recurrent_parameter_count",
]

_GATES = ("u", "f", "c", "o")
_KEYS = ("Wu", "bu", "Wf", "bf", "Wc", "bc", "Wo", "bo", "Wy", "by")
_GATE_NAMES = {"u": "the update gate Gamma_u", "f": "the forget gate Gamma_f",
               "o": "the output gate Gamma_o", "c_tilde": "the candidate c~<t>"}


# --------------------------------------------------------------------------------------------------
# The reference implementation
# --------------------------------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _pre(p: dict[str, np.ndarray], g: str, a_prev: np.ndarray, xt: np.ndarray,
         swap: bool = False) -> np.ndarray:
    """W_g [a, x] + b_g (``swap``: [x, a], the usual mistake)."""
    stack = np.vstack([xt, a_prev] if swap else [a_prev, xt])
    return p["W" + g] @ stack + p["b" + g]


def _cell(xt: np.ndarray, a_prev: np.ndarray, c_prev: np.ndarray, p: dict[str, np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    c_tilde = np.tanh(_pre(p, "c", a_prev, xt))
    u, f, o = (_sigmoid(_pre(p, g, a_prev, xt)) for g in "ufo")
    c_next = u * c_tilde + f * c_prev
    a_next = o * np.tanh(c_next)
    return a_next, c_next, _softmax(p["Wy"] @ a_next + p["by"]), {"u": u, "f": f, "o": o,
                                                                   "c_tilde": c_tilde}


def _forward(x: np.ndarray, a0: np.ndarray, c0: np.ndarray, p: dict[str, np.ndarray],
             mistake: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference forward pass, or one with a usual mistake: ``restart`` (every step from a0,
    c0), ``zero_c`` (c restarted at zero every step), ``zeros`` (from zeros instead of a0, c0)."""
    n_a, m, T = a0.shape[0], x.shape[1], x.shape[2]
    n_y = p["Wy"].shape[0]
    a, y, c = np.zeros((n_a, m, T)), np.zeros((n_y, m, T)), np.zeros((n_a, m, T))
    a_t, c_t = (np.zeros_like(a0), np.zeros_like(c0)) if mistake == "zeros" else (a0, c0)
    for t in range(T):
        if mistake == "restart":
            a_t, c_t = a0, c0
        if mistake == "zero_c":
            c_t = np.zeros_like(c0)
        a_t, c_t, y[:, :, t], _ = _cell(x[:, :, t], a_t, c_t, p)
        a[:, :, t], c[:, :, t] = a_t, c_t
    return a, y, c


def _params(n_x: int, n_a: int, n_y: int, seed: int, zero: tuple[str, ...] = ()
            ) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p: dict[str, np.ndarray] = {}
    for g in _GATES:
        p["W" + g] = rng.normal(size=(n_a, n_a + n_x)) * 0.7
        p["b" + g] = rng.normal(size=(n_a, 1)) * 0.5
    p["Wy"], p["by"] = rng.normal(size=(n_y, n_a)), rng.normal(size=(n_y, 1)) * 0.5
    for k in zero:
        p[k] = np.zeros_like(p[k])
    return p


def _copy(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in p.items()}


def _unchanged(before: dict[str, np.ndarray], after: dict[str, np.ndarray], what: str) -> None:
    for k, v in before.items():
        if not np.array_equal(v, after[k]):
            fail(f"{what} changed its argument {k}",
                 "compute new arrays instead of changing the ones you are given in place (+=, "
                 "or assigning into them)")


def _tuple(got: Any, what: str, names: str, n: int) -> tuple[Any, ...]:
    if got is None:
        fail(f"{what} returned None", f"return all {n}: return {names}")
    if not isinstance(got, (tuple, list)) or len(got) != n:
        fail(f"{what}: expected {n} values ({names}), got {describe(got)}",
             f"return them as a tuple: return {names}")
    return tuple(got)


# --------------------------------------------------------------------------------------------------
# 11.1  lstm_cell_forward
# --------------------------------------------------------------------------------------------------


@exercise("11.1", "lstm_cell_forward")
def check_lstm_cell_forward(fn: Any) -> list[Case]:
    """Check ``lstm_cell_forward(xt, a_prev, c_prev, parameters) -> (a_next, c_next, yt_pred,
    gates)``: each gate alone, the cell state, the activation, the prediction, a batch of one,
    and the three extreme settings of the gates (keep, store, add)."""

    def run(xt: np.ndarray, a_prev: np.ndarray, c_prev: np.ndarray, p: dict[str, np.ndarray]):
        args = [xt.copy(), a_prev.copy(), c_prev.copy(), _copy(p)]
        got = call(fn, *args)
        _unchanged({"xt": xt, "a_prev": a_prev, "c_prev": c_prev, **p},
                   {"xt": args[0], "a_prev": args[1], "c_prev": args[2], **args[3]},
                   "lstm_cell_forward")
        a_next, c_next, yt_pred, gates = _tuple(got, "lstm_cell_forward",
                                                "a_next, c_next, yt_pred, gates", 4)
        return a_next, c_next, yt_pred, gates

    def setup(n_x: int, n_a: int, n_y: int, m: int, seed: int):
        rng = np.random.default_rng(seed)
        p = _params(n_x, n_a, n_y, seed)
        return (rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)), rng.normal(size=(n_a, m)),
                p)

    def gate_case(g: str) -> Case:
        key = "c_tilde" if g == "c" else g

        def run_case() -> None:
            n = 4  # n_x = n_a, so that [x, a] stacked the wrong way round still runs
            xt, a_prev, c_prev, p = setup(n, n, 3, 5, 111 + "ufco".index(g))
            *_, gates = run(xt, a_prev, c_prev, p)
            if not isinstance(gates, dict):
                fail(f"gates: expected a dict with keys 'u', 'f', 'o', 'c_tilde', got "
                     f"{describe(gates)}")
            if key not in gates:
                fail(f"gates has no key {key!r} (it has {sorted(gates)})",
                     "gates = {'u': gamma_u, 'f': gamma_f, 'o': gamma_o, 'c_tilde': c_tilde}")
            act = np.tanh if g == "c" else _sigmoid
            other = _sigmoid if g == "c" else np.tanh
            z = _pre(p, g, a_prev, xt)
            hints = [
                (act(_pre(p, g, a_prev, xt, swap=True)),
                 "stack a<t-1> on top of x<t>: the first n_a columns of each W act on a<t-1>, "
                 "so concat = np.concatenate([a_prev, xt], axis=0)"),
                (other(z), ("the candidate uses tanh, not the sigmoid" if g == "c" else
                            "a gate uses the sigmoid, so that it lies between 0 and 1, not tanh")),
                (act(z - p["b" + g]), f"the bias b_{g} is missing"),
                (z, "apply the activation"),
            ]
            for h in "ufco":
                if h != g:
                    hints.append((act(_pre(p, h, a_prev, xt)),
                                  f"{_GATE_NAMES[key]} uses W_{g} and b_{g}, not W_{h} and b_{h}"))
            expect_array(f"gates[{key!r}]", act(z), gates[key], check_dtype=False,
                         shape_hints=[((5, n), "transposed: each gate is (n_a, m)")],
                         value_hints=hints)

        what = {"u": "Gamma_u = sigmoid(W_u [a<t-1>, x<t>] + b_u)",
                "f": "Gamma_f = sigmoid(W_f [a<t-1>, x<t>] + b_f)",
                "c": "c~<t> = tanh(W_c [a<t-1>, x<t>] + b_c)",
                "o": "Gamma_o = sigmoid(W_o [a<t-1>, x<t>] + b_o)"}[g]
        return Case(f"the gate {what}", run_case)

    def cell_state():
        xt, a_prev, c_prev, p = setup(3, 5, 2, 4, 121)
        _, c_next, _, _ = run(xt, a_prev, c_prev, p)
        _, c_ref, _, gt = _cell(xt, a_prev, c_prev, p)
        u, f, ct = gt["u"], gt["f"], gt["c_tilde"]
        expect_array("c_next", c_ref, c_next, check_dtype=False,
                     shape_hints=[((4, 5), "transposed: c_next is (n_a, m)")],
                     value_hints=[
                         (f * ct + u * c_prev, "the gates are swapped: the update gate Gamma_u "
                                               "multiplies the candidate, the forget gate "
                                               "Gamma_f the old memory c<t-1>"),
                         (u * ct + (1 - u) * c_prev, "that is the GRU's memory: the LSTM keeps "
                                                     "Gamma_f * c<t-1>, with its own forget gate"),
                         (u * ct, "the old memory is missing: add Gamma_f * c<t-1>"),
                         (f * c_prev, "the new candidate is missing: add Gamma_u * c~<t>"),
                         (u * ct + f * a_prev, "the forget gate multiplies c<t-1>, not a<t-1>"),
                     ])

    def activation():
        xt, a_prev, c_prev, p = setup(3, 5, 2, 4, 122)
        a_next, _, _, _ = run(xt, a_prev, c_prev, p)
        a_ref, c_ref, _, gt = _cell(xt, a_prev, c_prev, p)
        o = gt["o"]
        expect_array("a_next", a_ref, a_next, check_dtype=False,
                     shape_hints=[((4, 5), "transposed: a_next is (n_a, m)")],
                     value_hints=[(o * c_ref, "squash the memory first: a<t> = Gamma_o * "
                                              "tanh(c<t>)"),
                                  (np.tanh(c_ref), "the output gate is missing: a<t> = Gamma_o * "
                                                   "tanh(c<t>)"),
                                  (o * np.tanh(gt["c_tilde"]), "use the new memory c<t>, not "
                                                               "the candidate c~<t>"),
                                  (o * np.tanh(c_prev), "use the new memory c<t>, not c<t-1>")])

    def prediction():
        xt, a_prev, c_prev, p = setup(3, 5, 4, 6, 123)
        _, _, yt_pred, _ = run(xt, a_prev, c_prev, p)
        a_ref, _, y_ref, _ = _cell(xt, a_prev, c_prev, p)
        z = p["Wy"] @ a_ref + p["by"]
        expect_array("yt_pred", y_ref, yt_pred, check_dtype=False,
                     shape_hints=[((6, 4), "transposed: yt_pred is (n_y, m)")],
                     value_hints=[(_softmax(z, axis=1), "the softmax goes over axis 0: each "
                                                        "column is one example"),
                                  (_softmax(p["Wy"] @ a_prev + p["by"]),
                                   "predict from the new activation a_next, not from a_prev"),
                                  (z, "apply the softmax to W_y a<t> + b_y"),
                                  (_softmax(z - p["by"]), "the bias b_y is missing")])

    def batch_of_one():
        xt, a_prev, c_prev, p = setup(2, 3, 3, 1, 124)
        a_next, c_next, yt_pred, _ = run(xt, a_prev, c_prev, p)
        a_ref, c_ref, y_ref, _ = _cell(xt, a_prev, c_prev, p)
        keep = [((3,), "keep the batch axis: (n_a, 1) for one example")]
        expect_array("a_next (m = 1)", a_ref, a_next, check_dtype=False, shape_hints=keep)
        expect_array("c_next (m = 1)", c_ref, c_next, check_dtype=False, shape_hints=keep)
        expect_array("yt_pred (m = 1)", y_ref, yt_pred, check_dtype=False)

    def extremes():
        xt, a_prev, c_prev, p = setup(3, 4, 2, 3, 125)
        for u, f, what, expected in [(-30, 30, "keep (Gamma_f = 1, Gamma_u = 0)", "c_prev"),
                                     (30, -30, "store (Gamma_f = 0, Gamma_u = 1)", "c_tilde"),
                                     (30, 30, "add (Gamma_f = 1, Gamma_u = 1)", "sum")]:
            q = _copy(p)
            q["bu"], q["bf"] = np.full((4, 1), float(u)), np.full((4, 1), float(f))
            _, c_next, _, _ = run(xt, a_prev, c_prev, q)
            ct = np.tanh(_pre(q, "c", a_prev, xt))
            target = {"c_prev": c_prev, "c_tilde": ct, "sum": c_prev + ct}[expected]
            expect_array(f"c_next when the gates {what}", target, c_next, check_dtype=False,
                         rtol=1e-6, atol=1e-8)

    return [
        gate_case("c"),
        gate_case("u"),
        gate_case("f"),
        gate_case("o"),
        Case("the memory c<t> = Gamma_u * c~<t> + Gamma_f * c<t-1>", cell_state),
        Case("the activation a<t> = Gamma_o * tanh(c<t>)", activation),
        Case("the prediction softmax(W_y a<t> + b_y), n_y = 4", prediction),
        Case("a batch of one (m = 1)", batch_of_one),
        Case("the gates at their extremes: keep, store, add", extremes),
    ]


# --------------------------------------------------------------------------------------------------
# 11.2  lstm_forward
# --------------------------------------------------------------------------------------------------


@exercise("11.2", "lstm_forward")
def check_lstm_forward(fn: Any) -> list[Case]:
    """Check ``lstm_forward(x, a0, c0, parameters) -> (a, y_pred, c)`` over ``T_x`` steps: the
    shapes, one step from given states, both states carried from step to step, the predictions,
    and a sequence read in two pieces."""

    def run(x: np.ndarray, a0: np.ndarray, c0: np.ndarray, p: dict[str, np.ndarray]):
        args = [x.copy(), a0.copy(), c0.copy(), _copy(p)]
        got = call(fn, *args)
        _unchanged({"x": x, "a0": a0, "c0": c0, **p},
                   {"x": args[0], "a0": args[1], "c0": args[2], **args[3]}, "lstm_forward")
        return _tuple(got, "lstm_forward", "a, y_pred, c", 3)

    def setup(n_x: int, n_a: int, n_y: int, m: int, T: int, seed: int, zero: bool):
        rng = np.random.default_rng(seed)
        p = _params(n_x, n_a, n_y, seed)
        x = rng.normal(size=(n_x, m, T))
        if zero:
            return x, np.zeros((n_a, m)), np.zeros((n_a, m)), p
        return x, rng.normal(size=(n_a, m)), rng.normal(size=(n_a, m)) * 2, p

    def hints(x, a0, c0, p, which: int):
        out = [(_forward(x, a0, c0, p, "restart")[which],
                "every step started from a0 and c0: after each step, the new a and c become "
                "a_prev and c_prev for the next"),
               (_forward(x, a0, c0, p, "zero_c")[which],
                "the memory c must be carried from step to step too, not only a")]
        if np.any(a0) or np.any(c0):
            out.append((_forward(x, a0, c0, p, "zeros")[which],
                        "the loop started from zeros: start from the a0 and c0 you are given"))
        return out

    def shapes():
        x, a0, c0, p = setup(3, 5, 2, 4, 6, 131, zero=True)
        got = run(x, a0, c0, p)
        for name, value, shape in zip(("a", "y_pred", "c"), got, ((5, 4, 6), (2, 4, 6), (5, 4, 6))):
            if not isinstance(value, np.ndarray):
                fail(f"{name}: expected an array of shape {shape}, got {describe(value)}")
            expect(value.shape == shape, f"{name}: shape: expected {shape}, got {value.shape}",
                   "one entry per step, the time axis last: (rows, m, T_x)")

    def states(T: int, seed: int, zero: bool, what: str) -> Case:
        def run_case() -> None:
            x, a0, c0, p = setup(3, 5, 2, 4, T, seed, zero)
            a_got, _, c_got = run(x, a0, c0, p)
            a_ref, _, c_ref = _forward(x, a0, c0, p)
            expect_array(f"a ({what})", a_ref, a_got, check_dtype=False,
                         value_hints=hints(x, a0, c0, p, 0))
            expect_array(f"c ({what})", c_ref, c_got, check_dtype=False,
                         value_hints=[*hints(x, a0, c0, p, 2),
                                      (a_ref, "c holds the memories c<t>, not the activations")])
        return Case(what, run_case)

    def predictions():
        x, a0, c0, p = setup(2, 4, 3, 3, 7, 134, zero=False)
        _, y_got, _ = run(x, a0, c0, p)
        _, y_ref, _ = _forward(x, a0, c0, p)
        expect_array("y_pred for T_x = 7", y_ref, y_got, check_dtype=False,
                     value_hints=[(np.zeros_like(y_ref), "fill y_pred[:, :, t] with each step's "
                                                         "prediction")])

    def batch_of_one():
        x, a0, c0, p = setup(4, 3, 2, 1, 4, 135, zero=False)
        a_got, y_got, c_got = run(x, a0, c0, p)
        a_ref, y_ref, c_ref = _forward(x, a0, c0, p)
        expect_array("a for a batch of one", a_ref, a_got, check_dtype=False)
        expect_array("c for a batch of one", c_ref, c_got, check_dtype=False)
        expect_array("y_pred for a batch of one", y_ref, y_got, check_dtype=False)

    def in_pieces():
        x, a0, c0, p = setup(3, 4, 2, 2, 10, 136, zero=False)
        a1, _, c1 = run(x[:, :, :4], a0, c0, p)
        if not (isinstance(a1, np.ndarray) and isinstance(c1, np.ndarray)
                and a1.shape == c1.shape == (4, 2, 4)):
            fail("the first piece: expected a and c of shape (4, 2, 4)")
        a2, _, _ = run(x[:, :, 4:], a1[:, :, -1], c1[:, :, -1], p)
        a_ref, _, _ = _forward(x, a0, c0, p)
        expect_array("steps 5-10, continued from the last a and c of steps 1-4", a_ref[:, :, 4:],
                     a2, check_dtype=False)

    return [
        Case("shapes: a and c are (n_a, m, T_x), y_pred is (n_y, m, T_x)", shapes),
        states(1, 132, False, "one step (T_x = 1) from non-zero a0 and c0"),
        states(5, 133, True, "five steps from zeros"),
        states(6, 137, False, "six steps from non-zero a0 and c0"),
        Case("the predictions y_pred", predictions),
        Case("a batch of one (m = 1)", batch_of_one),
        Case("a sequence read in two pieces, the second from the last a and c of the first",
             in_pieces),
    ]


# --------------------------------------------------------------------------------------------------
# 11.3  lstm_state_dict
# --------------------------------------------------------------------------------------------------

_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
_LETTERS = {"u": "Gamma_u (PyTorch's i)", "f": "Gamma_f (f)", "c": "c~ (g)", "o": "Gamma_o (o)"}


def _as_array(name: str, v: Any) -> np.ndarray:
    if hasattr(v, "detach") and hasattr(v, "numpy"):
        v = v.detach().numpy()
    if not isinstance(v, np.ndarray):
        fail(f"state_dict[{name!r}]: expected an array, got {describe(v)}")
    return v


def _stacked(p: dict[str, np.ndarray], part: str, order: tuple[str, ...] = _GATES) -> np.ndarray:
    n_a = p["Wu"].shape[0]
    if part == "ih":
        return np.vstack([p["W" + g][:, n_a:] for g in order])
    if part == "hh":
        return np.vstack([p["W" + g][:, :n_a] for g in order])
    return np.concatenate([p["b" + g][:, 0] for g in order])


def _order_hints(p: dict[str, np.ndarray], part: str) -> list[tuple[np.ndarray, str]]:
    out = []
    for order in itertools.permutations(_GATES):
        if order != _GATES:
            named = ", ".join(_LETTERS[g] for g in order)
            out.append((_stacked(p, part, order),
                        f"the gates are stacked in the order {named}; PyTorch's order is i, f, "
                        "g, o: Gamma_u, Gamma_f, c~, Gamma_o"))
    return out


@exercise("11.3", "lstm_state_dict")
def check_lstm_state_dict(fn: Any) -> list[Case]:
    """Check ``lstm_state_dict(parameters)``: the four entries of ``nn.LSTM(n_x, n_a)``'s state
    dict, the gate order i, f, g, o, the columns of each ``W`` split between input and hidden
    weights, the biases summing to the notes', and the layer reproducing the notes' states."""
    import minigrad
    from minigrad import nn

    def get(n_x: int, n_a: int, seed: int):
        p = _params(n_x, n_a, 2, seed)
        pc = _copy(p)
        got = call(fn, pc)
        _unchanged(p, pc, "lstm_state_dict")
        if got is None:
            fail("lstm_state_dict returned None", "return the dictionary")
        if not isinstance(got, dict):
            fail(f"lstm_state_dict: expected a dict, got {describe(got)}")
        missing = [k for k in _NAMES if k not in got]
        extra = [k for k in got if k not in _NAMES]
        if missing or extra:
            fail(f"lstm_state_dict: missing {missing}" + (f", unexpected {extra}" if extra else ""),
                 "use the names of nn.LSTM(n_x, n_a).state_dict(): " + ", ".join(_NAMES))
        return p, {k: _as_array(k, got[k]) for k in _NAMES}

    def weight(part: str) -> Case:
        name = f"weight_{part}_l0"

        def run_case() -> None:
            n_x, n_a = 3, 4
            p, sd = get(n_x, n_a, 141 if part == "ih" else 142)
            other = "hh" if part == "ih" else "ih"
            cols = "last n_x" if part == "ih" else "first n_a"
            hints = [(_stacked(p, other), f"{name} takes the {cols} columns of each W: the "
                                          "notes' W acts on [a<t-1>, x<t>], a first")
                     ] if n_x == n_a else []
            expect_array(f"state_dict[{name!r}]", _stacked(p, part), sd[name], check_dtype=False,
                         shape_hints=[((4 * n_a, n_a if part == "ih" else n_x),
                                       f"{name} takes the {cols} columns of each W: the notes' "
                                       "W acts on [a<t-1>, x<t>], a first"),
                                      ((n_x if part == "ih" else n_a, 4 * n_a),
                                       "no transpose: the gates are stacked as rows, (4 n_a, .)"),
                                      ((n_a, 4 * (n_x if part == "ih" else n_a)),
                                       "stack the four blocks on top of each other (np.vstack), "
                                       "not side by side"),
                                      ((4 * n_a, n_a + n_x), "split each W: its a-columns go "
                                                             "into weight_hh_l0, its x-columns "
                                                             "into weight_ih_l0")],
                         value_hints=[*hints, *_order_hints(p, part)])
        return Case(f"{name}: the {'x' if part == 'ih' else 'a'}-columns of W_u, W_f, W_c, W_o, "
                    "stacked as i, f, g, o", run_case)

    def square_split():
        n = 4  # n_x = n_a: the two column blocks have the same shape
        p, sd = get(n, n, 143)
        expect_array("state_dict['weight_ih_l0'] (n_x = n_a)", _stacked(p, "ih"),
                     sd["weight_ih_l0"], check_dtype=False,
                     value_hints=[(_stacked(p, "hh"), "weight_ih_l0 takes the last n_x columns "
                                                      "of each W (those that multiply x<t>), "
                                                      "weight_hh_l0 the first n_a")])

    def biases():
        n_x, n_a = 3, 4
        p, sd = get(n_x, n_a, 144)
        for name in ("bias_ih_l0", "bias_hh_l0"):
            b = sd[name]
            expect(b.shape == (4 * n_a,), f"state_dict[{name!r}]: shape: expected "
                   f"({4 * n_a},), got {b.shape}",
                   "each bias is one vector of 4 n_a numbers: the four gates' biases, flattened "
                   "and concatenated")
        total = sd["bias_ih_l0"] + sd["bias_hh_l0"]
        b = _stacked(p, "b")
        expect_array("bias_ih_l0 + bias_hh_l0 (the layer adds both)", b, total, check_dtype=False,
                     value_hints=[(2 * b, "the layer adds both biases: they must sum to the "
                                          "notes' biases (for example all in bias_ih_l0, zeros "
                                          "in bias_hh_l0)"),
                                  *_order_hints(p, "b")])

    def runs(n_x: int, n_a: int, m: int, T: int, seed: int) -> None:
        p, sd = get(n_x, n_a, seed)
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(n_x, m, T))
        a0, c0 = rng.normal(size=(n_a, m)), rng.normal(size=(n_a, m))
        lstm = nn.LSTM(n_x, n_a, dtype=minigrad.float64)
        try:
            lstm.load_state_dict(sd)
        except (RuntimeError, ValueError, KeyError) as e:
            fail(f"nn.LSTM({n_x}, {n_a}).load_state_dict refused it: {e}",
                 "each entry must have the shape of the parameter of the same name")
        with minigrad.no_grad():
            out, (h_n, c_n) = lstm(minigrad.tensor(x.transpose(2, 1, 0)),
                                   (minigrad.tensor(a0.T[None]), minigrad.tensor(c0.T[None])))
        a_ref, _, c_ref = _forward(x, a0, c0, p)
        expect_array("nn.LSTM's states, as (n_a, m, T_x)", a_ref, out.numpy().transpose(2, 1, 0),
                     check_dtype=False)
        expect_array("nn.LSTM's last memory c_n, as (n_a, m)", c_ref[:, :, -1], c_n.numpy()[0].T,
                     check_dtype=False)

    return [
        Case("the four names of nn.LSTM's parameters", lambda: get(3, 4, 140)),
        weight("ih"),
        weight("hh"),
        Case("weight_ih_l0 with n_x = n_a (which columns are which)", square_split),
        Case("the biases: vectors of 4 n_a numbers that add up to the notes' b_u, b_f, b_c, b_o",
             biases),
        Case("nn.LSTM loaded with them reproduces the notes' states (n_x = 3, n_a = 4)",
             lambda: runs(3, 4, 3, 5, 145)),
        Case("the same with n_x = 5, n_a = 2 and a batch of one", lambda: runs(5, 2, 1, 4, 146)),
    ]


# --------------------------------------------------------------------------------------------------
# 11.4  recurrent_parameter_count
# --------------------------------------------------------------------------------------------------

_GATE_COUNT = {"rnn": 1, "gru": 3, "lstm": 4}


@exercise("11.4", "recurrent_parameter_count")
def check_recurrent_parameter_count(fn: Any) -> list[Case]:
    """Check ``recurrent_parameter_count(cell, n_x, n_a)``, the number of parameters of
    ``nn.RNN``, ``nn.GRU`` or ``nn.LSTM(n_x, n_a)`` (one layer, two biases per gate), against the
    layers themselves."""
    from minigrad import nn

    def case(cell: str, n_x: int, n_a: int) -> Case:
        def run_case() -> None:
            layer = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell](n_x, n_a)
            expected = sum(p.numel() for p in layer.parameters())
            got = call(fn, cell, n_x, n_a)
            g = _GATE_COUNT[cell]
            hints = [(g * n_a * (n_x + n_a + 1), "nn." + cell.upper() + " keeps two bias "
                                                 "vectors per gate (bias_ih and bias_hh), as "
                                                 "PyTorch does: 2 g n_a biases"),
                     (n_a * (n_x + n_a + 2), f"the {cell.upper()} has {g} blocks of weights (one "
                                             "per gate or candidate), each n_a (n_x + n_a + 2)"),
                     (g * n_a * (n_x + n_a), "the biases are missing"),
                     (g * (n_a * n_x + n_a + 2 * n_a), "W_hh is (n_a, n_a) per block: n_a * n_a "
                                                       "numbers, not n_a"),
                     ]
            for other, k in _GATE_COUNT.items():
                if other != cell:
                    hints.append((k * n_a * (n_x + n_a + 2),
                                  f"that is the count of the {other.upper()}; the "
                                  f"{cell.upper()} has {g} blocks"))
            expect_close(f"recurrent_parameter_count({cell!r}, {n_x}, {n_a})", float(expected),
                         got, rtol=0, atol=0.5, hints=hints)
        return Case(f"{cell}, n_x = {n_x}, n_a = {n_a}", run_case)

    return [case("rnn", 10, 20), case("gru", 10, 20), case("lstm", 10, 20),
            case("lstm", 64, 128), case("gru", 3, 1), case("rnn", 1, 7)]
