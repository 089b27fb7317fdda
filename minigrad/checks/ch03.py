"""Checks for chapter 3, *The recurrent neural network* (``exercises/03_rnn.ipynb``).

=====  ==============================  =====================================
 no.   exercise                        check
=====  ==============================  =====================================
 3.1   ``rnn_cell_forward``            :func:`check_rnn_cell_forward`
 3.2   ``rnn_forward``                 :func:`check_rnn_forward`
 3.3   ``rnn_cell_forward_compact``    :func:`check_rnn_cell_forward_compact`
 3.4   ``rnn_state_dict``              :func:`check_rnn_state_dict`
=====  ==============================  =====================================

The notation is the notes': examples are columns, ``xt`` is ``(n_x, m)``, ``a_prev`` is
``(n_a, m)``, a sequence ``x`` is ``(n_x, m, T_x)``, and ``parameters`` holds ``Waa``
``(n_a, n_a)``, ``Wax`` ``(n_a, n_x)``, ``Wya`` ``(n_y, n_a)``, ``ba`` ``(n_a, 1)`` and ``by``
``(n_y, 1)``. The
cell checks test one term of the pre-activation at a time (the other parameters set to zero) and
recognise the values that the usual mistakes produce: a transposed weight, a missing term or bias,
a bias added outside the activation, the wrong activation, a softmax over the wrong axis, a
sequence started from zeros instead of ``a0``. The last check loads the student's ``state_dict``
into :class:`minigrad.nn.RNN`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect, expect_array, fail

__all__ = [
    "check_rnn_cell_forward",
    "check_rnn_forward",
    "check_rnn_cell_forward_compact",
    "check_rnn_state_dict",
]

_KEYS = ("Waa", "Wax", "Wya", "ba", "by")


# --------------------------------------------------------------------------------------------------
# The reference implementation, and the usual mistakes
# --------------------------------------------------------------------------------------------------


def _softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _cell(xt: np.ndarray, a_prev: np.ndarray, p: dict[str, np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray]:
    a_next = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    return a_next, _softmax(p["Wya"] @ a_next + p["by"])


def _forward(x: np.ndarray, a0: np.ndarray, p: dict[str, np.ndarray], cell: Any = _cell,
             restart: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The reference forward pass; ``restart`` starts every step from ``a0`` (a usual mistake)."""
    n_a, n_y = p["Waa"].shape[0], p["Wya"].shape[0]
    T = x.shape[2]
    a, y = np.zeros((n_a, x.shape[1], T)), np.zeros((n_y, x.shape[1], T))
    a_t = a0
    for t in range(T):
        a_new, y[:, :, t] = cell(x[:, :, t], a0 if restart else a_t, p)
        a[:, :, t] = a_new
        a_t = a_new
    return a, y


def _params(n_x: int, n_a: int, n_y: int, seed: int, zero: tuple[str, ...] = ()
            ) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = {"Waa": rng.normal(size=(n_a, n_a)) * 0.8, "Wax": rng.normal(size=(n_a, n_x)) * 0.8,
         "Wya": rng.normal(size=(n_y, n_a)), "ba": rng.normal(size=(n_a, 1)) * 0.5,
         "by": rng.normal(size=(n_y, 1)) * 0.5}
    for k in zero:
        p[k] = np.zeros_like(p[k])
    return p


def _copy(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in p.items()}


def _pair(got: Any, what: str, names: str) -> tuple[Any, Any]:
    if got is None:
        fail(f"{what} returned None", f"return both arrays: return {names}")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{what}: expected two arrays ({names}), got {describe(got)}",
             f"return both, as a tuple: return {names}")
    return got[0], got[1]


def _activation_hints(z: np.ndarray, term: str) -> list[tuple[np.ndarray, str]]:
    """The values a_next takes when g1 is wrong, z being the right pre-activation."""
    return [
        (z, f"apply tanh: a<t> = tanh({term})"),
        (_sigmoid(z), "g1 is tanh, not the sigmoid"),
        (np.maximum(z, 0), "g1 is tanh, not the ReLU"),
    ]


_FROM_LEFT = ("{w} is transposed: it has shape {shape} and multiplies {v} from the left, "
              "{w} @ {v}")


def _unchanged(before: dict[str, np.ndarray], after: dict[str, np.ndarray], what: str) -> None:
    for k, v in before.items():
        if not np.array_equal(v, after[k]):
            fail(f"{what} changed its argument {k}",
                 "compute new arrays (a = np.tanh(...)) instead of changing the ones you are given "
                 "in place (+=, or assigning into them)")


# --------------------------------------------------------------------------------------------------
# 3.1  rnn_cell_forward
# --------------------------------------------------------------------------------------------------


@exercise("3.1", "rnn_cell_forward")
def check_rnn_cell_forward(fn: Any) -> list[Case]:
    """Check ``rnn_cell_forward(xt, a_prev, parameters) -> (a_next, yt_pred)``: each term of the
    pre-activation alone, then all of them, then the prediction, a batch of one and zeros."""

    def run(xt: np.ndarray, a_prev: np.ndarray, p: dict[str, np.ndarray]):
        args = {"xt": xt.copy(), "a_prev": a_prev.copy(), **_copy(p)}
        params = {k: args[k] for k in _KEYS}
        got = call(fn, args["xt"], args["a_prev"], params)
        _unchanged({"xt": xt, "a_prev": a_prev, **p},
                   {"xt": args["xt"], "a_prev": args["a_prev"], **params}, "rnn_cell_forward")
        return _pair(got, "rnn_cell_forward", "a_next, yt_pred")

    def shape_hints(n_a: int, n_x: int, m: int) -> list[tuple[tuple[int, ...], str]]:
        return [((m, n_a), "transposed: a_next has one column per example, shape (n_a, m)"),
                ((n_a, n_a), "the result should be (n_a, m): is a weight multiplied the wrong way "
                             "round, or b_a added as a matrix?")]

    def input_term():
        n = m = 4  # square, so that a transposed W_ax still runs
        rng = np.random.default_rng(31)
        p = _params(n, n, 2, 31, zero=("Waa", "ba"))
        xt, a_prev = rng.normal(size=(n, m)), rng.normal(size=(n, m))
        a_next, _ = run(xt, a_prev, p)
        z = p["Wax"] @ xt
        expect_array("a_next with W_aa = 0 and b_a = 0 (only W_ax x<t>)", np.tanh(z), a_next,
                     check_dtype=False, shape_hints=shape_hints(n, n, m),
                     value_hints=[(np.tanh(p["Wax"].T @ xt), _FROM_LEFT.format(
                                      w="W_ax", shape="(n_a, n_x)", v="xt")),
                                  (np.zeros_like(z), "the input term W_ax x<t> is missing"),
                                  (np.tanh(xt), "multiply x<t> by W_ax"),
                                  *_activation_hints(z, "W_ax x<t>")])

    def recurrent_term():
        n_a, n_x, m = 4, 3, 5
        rng = np.random.default_rng(32)
        p = _params(n_x, n_a, 2, 32, zero=("Wax", "ba"))
        xt, a_prev = rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m))
        a_next, _ = run(xt, a_prev, p)
        z = p["Waa"] @ a_prev
        expect_array("a_next with W_ax = 0 and b_a = 0 (only W_aa a<t-1>)", np.tanh(z), a_next,
                     check_dtype=False, shape_hints=shape_hints(n_a, n_x, m),
                     value_hints=[(np.tanh(p["Waa"].T @ a_prev), _FROM_LEFT.format(
                                      w="W_aa", shape="(n_a, n_a)", v="a_prev")),
                                  (np.zeros_like(z), "the recurrent term W_aa a<t-1> is missing: "
                                                     "the previous state must enter the cell"),
                                  (np.tanh(a_prev), "multiply a<t-1> by W_aa"),
                                  *_activation_hints(z, "W_aa a<t-1>")])

    def bias_term():
        n_a, n_x, m = 4, 3, 5
        rng = np.random.default_rng(33)
        p = _params(n_x, n_a, 2, 33, zero=("Waa", "Wax"))
        xt, a_prev = rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m))
        a_next, _ = run(xt, a_prev, p)
        z = np.broadcast_to(p["ba"], (n_a, m))
        expect_array("a_next with W_aa = 0 and W_ax = 0 (only b_a)", np.tanh(z), a_next,
                     check_dtype=False, shape_hints=shape_hints(n_a, n_x, m),
                     value_hints=[(np.zeros_like(z), "the bias b_a is missing"),
                                  (z, "apply tanh to the whole sum, b_a included (not added after "
                                      "it): a<t> = tanh(W_aa a<t-1> + W_ax x<t> + b_a)"),
                                  *_activation_hints(z, "... + b_a")])

    def all_terms():
        n_a, n_x, m = 5, 3, 4
        rng = np.random.default_rng(34)
        p = _params(n_x, n_a, 2, 34)
        xt, a_prev = rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m))
        a_next, _ = run(xt, a_prev, p)
        za, zx, b = p["Waa"] @ a_prev, p["Wax"] @ xt, p["ba"]
        expect_array("a_next", np.tanh(za + zx + b), a_next, check_dtype=False,
                     shape_hints=shape_hints(n_a, n_x, m),
                     value_hints=[(np.tanh(zx + b), "a_prev is ignored: add W_aa a<t-1>"),
                                  (np.tanh(za + b), "x<t> is ignored: add W_ax x<t>"),
                                  (np.tanh(za + zx), "the bias b_a is missing"),
                                  (np.tanh(za + zx) + b, "b_a goes inside the tanh: "
                                                         "tanh(W_aa a<t-1> + W_ax x<t> + b_a)"),
                                  *_activation_hints(za + zx + b, "W_aa a<t-1> + W_ax x<t> + b_a")])

    def prediction():
        n_a, n_x, n_y, m = 5, 3, 4, 6
        rng = np.random.default_rng(35)
        p = _params(n_x, n_a, n_y, 35)
        xt, a_prev = rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m))
        a_right, _ = _cell(xt, a_prev, p)
        a_got, yt_pred = run(xt, a_prev, p)
        z = p["Wya"] @ a_right + p["by"]
        from_own_state = []
        if (isinstance(a_got, np.ndarray) and a_got.shape == a_right.shape
                and not np.allclose(a_got, a_right)):
            from_own_state = [(_softmax(p["Wya"] @ a_got + p["by"]),
                               "yt_pred is right for the a_next you return, but a_next is wrong: "
                               "make the cases on a_next pass first")]
        expect_array("yt_pred", _softmax(z), yt_pred, check_dtype=False,
                     shape_hints=[((m, n_y), "transposed: yt_pred is (n_y, m), one column per "
                                             "example")],
                     value_hints=[*from_own_state,
                                  (_softmax(z, axis=1), "the softmax goes over axis 0: each "
                                                        "column is one example"),
                                  (_softmax(z - p["by"]), "the bias b_y is missing"),
                                  (_softmax(z - p["by"]) + p["by"], "b_y goes inside the softmax: "
                                                                    "softmax(W_ya a<t> + b_y)"),
                                  (_softmax(p["Wya"] @ a_prev + p["by"]),
                                   "predict from the new state a_next, not from a_prev"),
                                  (z, "apply the softmax to W_ya a<t> + b_y"),
                                  (_sigmoid(z), "g2 is the softmax here, not the sigmoid"),
                                  (np.exp(z), "divide by the sum: the softmax's columns sum to 1")])

    def batch_of_one():
        n_a, n_x, n_y = 3, 2, 3
        rng = np.random.default_rng(36)
        p = _params(n_x, n_a, n_y, 36)
        xt, a_prev = rng.normal(size=(n_x, 1)), rng.normal(size=(n_a, 1))
        a_next, yt_pred = run(xt, a_prev, p)
        a_ref, y_ref = _cell(xt, a_prev, p)
        expect_array("a_next (m = 1)", a_ref, a_next, check_dtype=False,
                     shape_hints=[((n_a,), "keep the batch axis: (n_a, 1) for one example")])
        expect_array("yt_pred (m = 1)", y_ref, yt_pred, check_dtype=False,
                     shape_hints=[((n_y,), "keep the batch axis: (n_y, 1) for one example")])

    def zeros():
        n_a, n_x, n_y, m = 4, 3, 5, 2
        p = {k: np.zeros_like(v) for k, v in _params(n_x, n_a, n_y, 37).items()}
        a_next, yt_pred = run(np.zeros((n_x, m)), np.zeros((n_a, m)), p)
        expect_array("a_next, everything zero", np.zeros((n_a, m)), a_next, check_dtype=False)
        expect_array("yt_pred, everything zero (all n_y classes equally likely)",
                     np.full((n_y, m), 1 / n_y), yt_pred, check_dtype=False)

    return [
        Case("the input term alone: tanh(W_ax x<t>)", input_term),
        Case("the recurrent term alone: tanh(W_aa a<t-1>)", recurrent_term),
        Case("the bias alone: tanh(b_a) in every column", bias_term),
        Case("all three terms, n_x = 3, n_a = 5, m = 4", all_terms),
        Case("the prediction softmax(W_ya a<t> + b_y), n_y = 4", prediction),
        Case("a batch of one (m = 1)", batch_of_one),
        Case("zeros everywhere", zeros),
    ]


# --------------------------------------------------------------------------------------------------
# 3.2  rnn_forward
# --------------------------------------------------------------------------------------------------


def _stored_previous(x: np.ndarray, a0: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """a[:, :, t] = a<t-1> (the state before the step, a0 first): an off-by-one."""
    a, _ = _forward(x, a0, p)
    return np.concatenate([a0[:, :, None], a[:, :, :-1]], axis=2)


@exercise("3.2", "rnn_forward")
def check_rnn_forward(fn: Any) -> list[Case]:
    """Check ``rnn_forward(x, a0, parameters) -> (a, y_pred)`` over ``T_x`` steps: the shapes, the
    first step from the given ``a0``, the state carried from step to step, the predictions."""

    def run(x: np.ndarray, a0: np.ndarray, p: dict[str, np.ndarray]):
        xc, a0c, pc = x.copy(), a0.copy(), _copy(p)
        got = call(fn, xc, a0c, pc)
        _unchanged({"x": x, "a0": a0, **p}, {"x": xc, "a0": a0c, **pc}, "rnn_forward")
        return _pair(got, "rnn_forward", "a, y_pred")

    def sizes(n_x: int, n_a: int, n_y: int, m: int, T: int, seed: int, zero_a0: bool):
        rng = np.random.default_rng(seed)
        p = _params(n_x, n_a, n_y, seed)
        x = rng.normal(size=(n_x, m, T))
        a0 = np.zeros((n_a, m)) if zero_a0 else rng.normal(size=(n_a, m))
        return x, a0, p

    def a_hints(x: np.ndarray, a0: np.ndarray, p: dict[str, np.ndarray]):
        n_a, m, T = a0.shape[0], a0.shape[1], x.shape[2]
        shape_hints = [
            ((n_a, m, T + 1), "a holds a<1> ... a<T_x>, one state per step: do not store a0"),
            ((T, n_a, m), "the time axis is the last one: a is (n_a, m, T_x)"),
            ((n_a, T, m), "the axes are (n_a, m, T_x): m before T_x"),
            ((n_a, m), "collect every step's state in a of shape (n_a, m, T_x), not only the "
                       "last one"),
        ]
        value_hints = [
            (_stored_previous(x, a0, p), "off by one: a[:, :, t] must be the new state a_next "
                                         "of step t, not the state a_prev it started from"),
            (_forward(x, a0, p, restart=True)[0],
             "every step started from a0: after each step, the new state becomes a_prev for "
             "the next"),
        ]
        if np.any(a0):
            value_hints.append((_forward(x, np.zeros_like(a0), p)[0],
                                "the loop started from zeros: start from the a0 you are given "
                                "(a long text is read in pieces, each piece continuing from the "
                                "last state of the one before)"))
        return shape_hints, value_hints

    def check_states(x, a0, p, what):
        a_got, _ = run(x, a0, p)
        a_ref, _ = _forward(x, a0, p)
        shape_hints, value_hints = a_hints(x, a0, p)
        if (isinstance(a_got, np.ndarray) and a_got.shape == a_ref.shape
                and not np.allclose(a_got[:, :, 0], a_ref[:, :, 0], atol=1e-9)
                and not any(np.allclose(a_got, v, atol=1e-9) for v, _ in value_hints)):
            fail(f"{what}: the first step is already wrong (a[:, :, 0])",
                 "a[:, :, 0] must be rnn_cell_forward(x[:, :, 0], a0, parameters)[0]: does "
                 "Exercise 3.1 pass?")
        expect_array(what, a_ref, a_got, check_dtype=False, shape_hints=shape_hints,
                     value_hints=value_hints)

    def shapes():
        x, a0, p = sizes(3, 5, 2, 4, 6, 41, zero_a0=True)
        a_got, y_got = run(x, a0, p)
        for name, got, (rows, m, T) in (("a", a_got, (5, 4, 6)), ("y_pred", y_got, (2, 4, 6))):
            if not isinstance(got, np.ndarray):
                fail(f"{name}: expected an array of shape {(rows, m, T)}, got {describe(got)}")
            hint = {(rows, m, T + 1): f"{name} holds one entry per step, T_x of them: do not "
                                      "store a0 in it",
                    (rows, m): f"collect every step's result in {name}, not only the last one",
                    (T, rows, m): "the time axis comes last",
                    (rows, T, m): f"the axes are ({'n_a' if name == 'a' else 'n_y'}, m, T_x)",
                    }.get(got.shape, f"{name} is ({'n_a' if name == 'a' else 'n_y'}, m, T_x)")
            expect(got.shape == (rows, m, T),
                   f"{name}: shape: expected {(rows, m, T)}, got {got.shape}", hint)

    def one_step():
        x, a0, p = sizes(3, 5, 2, 4, 1, 42, zero_a0=False)
        check_states(x, a0, p, "a for T_x = 1 from a non-zero a0")

    def from_zero():
        x, a0, p = sizes(3, 5, 2, 4, 5, 43, zero_a0=True)
        check_states(x, a0, p, "a for T_x = 5 from a0 = 0")

    def from_a0():
        x, a0, p = sizes(3, 5, 2, 4, 5, 44, zero_a0=False)
        check_states(x, a0, p, "a for T_x = 5 from a non-zero a0")

    def predictions():
        x, a0, p = sizes(2, 4, 3, 3, 7, 45, zero_a0=False)
        _, y_got = run(x, a0, p)
        _, y_ref = _forward(x, a0, p)
        value_hints = [(np.zeros_like(y_ref), "fill y_pred[:, :, t] with each step's prediction")]
        expect_array("y_pred for T_x = 7", y_ref, y_got, check_dtype=False,
                     shape_hints=[((3, 3, 8), "one prediction per step: T_x of them")],
                     value_hints=value_hints)

    def batch_of_one():
        x, a0, p = sizes(4, 3, 2, 1, 4, 46, zero_a0=False)
        a_got, y_got = run(x, a0, p)
        a_ref, y_ref = _forward(x, a0, p)
        expect_array("a for a batch of one", a_ref, a_got, check_dtype=False,
                     shape_hints=[((3, 4), "keep the batch axis: (n_a, 1, T_x) for one example")])
        expect_array("y_pred for a batch of one", y_ref, y_got, check_dtype=False)

    def in_pieces():
        x, a0, p = sizes(3, 4, 2, 2, 10, 47, zero_a0=False)
        a_first, _ = _pair(call(fn, x[:, :, :4].copy(), a0.copy(), _copy(p)), "rnn_forward",
                           "a, y_pred")
        if not (isinstance(a_first, np.ndarray) and a_first.shape == (4, 2, 4)):
            fail("the first piece: expected a of shape (4, 2, 4), got " + describe(a_first))
        a_second, _ = _pair(call(fn, x[:, :, 4:].copy(), a_first[:, :, -1].copy(), _copy(p)),
                            "rnn_forward", "a, y_pred")
        a_ref, _ = _forward(x, a0, p)
        expect_array("steps 5-10, continued from the last state of steps 1-4", a_ref[:, :, 4:],
                     a_second, check_dtype=False,
                     value_hints=[(_forward(x[:, :, 4:], np.zeros((4, 2)), p)[0],
                                   "the second piece started from zeros: start from the a0 you "
                                   "are given")])

    return [
        Case("shapes: a is (n_a, m, T_x), y_pred is (n_y, m, T_x)", shapes),
        Case("one step (T_x = 1) from a non-zero a0", one_step),
        Case("five steps from a0 = 0", from_zero),
        Case("five steps from a non-zero a0", from_a0),
        Case("the predictions y_pred", predictions),
        Case("a batch of one (m = 1)", batch_of_one),
        Case("a sequence read in two pieces, the second from the last state of the first",
             in_pieces),
    ]


# --------------------------------------------------------------------------------------------------
# 3.3  rnn_cell_forward_compact
# --------------------------------------------------------------------------------------------------


@exercise("3.3", "rnn_cell_forward_compact")
def check_rnn_cell_forward_compact(fn: Any) -> list[Case]:
    """Check ``rnn_cell_forward_compact(xt, a_prev, Wa, ba) -> a_next`` with
    ``Wa = [Waa | Wax]``: each block alone, the bias alone, all together against the two-product
    cell, square blocks, and a batch of one."""

    _stack = ("stack along axis 0, one tall column per example: "
              "np.concatenate([a_prev, xt], axis=0) (or np.vstack)")

    def case(n_x: int, n_a: int, m: int, seed: int, zero: tuple[str, ...], what: str) -> Case:
        def run() -> None:
            rng = np.random.default_rng(seed)
            p = _params(n_x, n_a, 2, seed, zero=zero)
            xt, a_prev = rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m))
            Wa = np.hstack([p["Waa"], p["Wax"]])
            args = [xt.copy(), a_prev.copy(), Wa.copy(), p["ba"].copy()]
            got = call(fn, *args)
            _unchanged({"xt": xt, "a_prev": a_prev, "Wa": Wa, "ba": p["ba"]},
                       dict(zip(("xt", "a_prev", "Wa", "ba"), args)), "rnn_cell_forward_compact")
            z = Wa @ np.vstack([a_prev, xt]) + p["ba"]
            value_hints = [
                (np.tanh(Wa @ np.vstack([xt, a_prev]) + p["ba"]),
                 "stack a<t-1> first, then x<t>: the first n_a columns of W_a are W_aa, so the "
                 "first n_a rows of the stack must be a<t-1>"),
                (np.tanh(z - p["ba"]), "the bias b_a is missing"),
                (np.tanh(z - p["ba"]) + p["ba"], "b_a goes inside the tanh: "
                                                 "tanh(W_a [a<t-1>; x<t>] + b_a)"),
                *_activation_hints(z, "W_a [a<t-1>; x<t>] + b_a"),
            ]
            expect_array(f"a_next ({what})", np.tanh(z), got, check_dtype=False,
                         shape_hints=[((m, n_a), "transposed: a_next is (n_a, m)")],
                         value_hints=value_hints)
        return Case(what, run, hint=_stack)

    return [
        case(3, 4, 5, 51, ("Wax", "ba"), "the W_aa block alone (W_ax block and b_a zero)"),
        case(3, 4, 5, 52, ("Waa", "ba"), "the W_ax block alone (W_aa block and b_a zero)"),
        case(3, 4, 5, 53, ("Waa", "Wax"), "the bias alone"),
        case(2, 5, 3, 54, (), "all together, n_x = 2, n_a = 5, m = 3"),
        case(4, 4, 3, 55, (), "square blocks, n_x = n_a = 4"),
        case(3, 2, 1, 56, (), "a batch of one (m = 1)"),
    ]


# --------------------------------------------------------------------------------------------------
# 3.4  rnn_state_dict
# --------------------------------------------------------------------------------------------------

_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def _as_array(name: str, v: Any) -> np.ndarray:
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # a minigrad (or torch) tensor
        v = v.detach().numpy()
    if not isinstance(v, np.ndarray):
        fail(f"state_dict[{name!r}]: expected an array, got {describe(v)}")
    return v


@exercise("3.4", "rnn_state_dict")
def check_rnn_state_dict(fn: Any) -> list[Case]:
    """Check ``rnn_state_dict(parameters)``: the four entries of ``nn.RNN(n_x, n_a)``'s state
    dict, each weight compared with its counterpart, the two biases summing to ``b_a``, and the
    layer, loaded with them, reproducing the notes' forward pass."""
    import minigrad
    from minigrad import nn

    def get(n_x: int, n_a: int, seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        p = _params(n_x, n_a, 2, seed)
        pc = _copy(p)
        got = call(fn, pc)
        _unchanged(p, pc, "rnn_state_dict")
        if got is None:
            fail("rnn_state_dict returned None", "return the dictionary")
        if not isinstance(got, dict):
            fail(f"rnn_state_dict: expected a dict, got {describe(got)}")
        missing = [k for k in _NAMES if k not in got]
        extra = [k for k in got if k not in _NAMES]
        if missing or extra:
            fail(f"rnn_state_dict: missing {missing}" + (f", unexpected {extra}" if extra else ""),
                 "use the names of nn.RNN(n_x, n_a).state_dict(): " + ", ".join(_NAMES))
        return p, {k: _as_array(k, got[k]) for k in _NAMES}

    def names():
        get(3, 4, 61)

    def weight_ih():
        n_x, n_a = 3, 4
        p, sd = get(n_x, n_a, 62)
        expect_array("state_dict['weight_ih_l0']", p["Wax"], sd["weight_ih_l0"], check_dtype=False,
                     shape_hints=[((n_x, n_a), "no transpose: nn.RNN stores weight_ih_l0 as "
                                               "(hidden, input), the layout of W_ax"),
                                  ((n_a, n_a), "that is W_aa's shape: ih means input to hidden, "
                                               "W_ax")])

    def weight_hh():
        n_x, n_a = 3, 4
        p, sd = get(n_x, n_a, 63)
        expect_array("state_dict['weight_hh_l0']", p["Waa"], sd["weight_hh_l0"], check_dtype=False,
                     shape_hints=[((n_a, n_x), "that is W_ax's shape: hh means hidden to hidden, "
                                               "W_aa")],
                     value_hints=[(p["Waa"].T, "no transpose: nn.RNN computes h W_hh^T with h as "
                                               "rows, which is the notes' W_aa a with a as "
                                               "columns: weight_hh_l0 is W_aa itself")])

    def biases():
        n_x, n_a = 3, 4
        p, sd = get(n_x, n_a, 64)
        for name in ("bias_ih_l0", "bias_hh_l0"):
            b = sd[name]
            expect(b.shape == (n_a,), f"state_dict[{name!r}]: shape: expected ({n_a},), got "
                   f"{b.shape}", "nn.RNN's biases are vectors of shape (n_a,): flatten b_a, "
                   "ba[:, 0] or ba.ravel()" if b.shape in ((n_a, 1), (1, n_a)) else None)
        total = sd["bias_ih_l0"] + sd["bias_hh_l0"]
        ba = p["ba"][:, 0]
        expect_array("bias_ih_l0 + bias_hh_l0 (the layer adds both)", ba, total,
                     check_dtype=False,
                     value_hints=[(2 * ba, "the layer adds both biases, so b_a counts twice: "
                                           "they must sum to b_a (for example b_ih = b_a, "
                                           "b_hh = 0)"),
                                  (np.zeros_like(ba), "b_a is missing from the biases")])

    def runs(n_x: int, n_a: int, m: int, T: int, seed: int) -> None:
        p, sd = get(n_x, n_a, seed)
        rng = np.random.default_rng(seed)
        x, a0 = rng.normal(size=(n_x, m, T)), rng.normal(size=(n_a, m))
        rnn = nn.RNN(n_x, n_a, dtype=minigrad.float64)
        try:
            rnn.load_state_dict(sd)
        except (RuntimeError, ValueError, KeyError) as e:
            fail(f"nn.RNN({n_x}, {n_a}).load_state_dict refused it: {e}",
                 "each entry must have the shape of the parameter of the same name")
        with minigrad.no_grad():
            out, _ = rnn(minigrad.tensor(x.transpose(2, 1, 0)), minigrad.tensor(a0.T[None]))
        a_ref, _ = _forward(x, a0, p)
        expect_array(f"nn.RNN({n_x}, {n_a}) loaded with your state_dict: its output, as "
                     "(n_a, m, T_x)", a_ref, out.numpy().transpose(2, 1, 0), check_dtype=False)

    return [
        Case("the four names of nn.RNN's parameters", names),
        Case("weight_ih_l0 is W_ax", weight_ih),
        Case("weight_hh_l0 is W_aa", weight_hh),
        Case("the biases: vectors of n_a numbers that add up to b_a", biases),
        Case("nn.RNN loaded with them reproduces the notes' states (n_x = 3, n_a = 4)",
             lambda: runs(3, 4, 2, 6, 65)),
        Case("the same with n_x = 5, n_a = 2 and a batch of one", lambda: runs(5, 2, 1, 3, 66)),
        Case("the same with n_x = n_a = 3", lambda: runs(3, 3, 4, 5, 67)),
    ]
