"""Checks for chapter 4, *Backpropagation through time* (``exercises/04_bptt.ipynb``).

=====  ==============================  ==================================
 no.   exercise                        check
=====  ==============================  ==================================
 4.1   ``bce_sequence_loss``           :func:`check_bce_sequence_loss`
 4.2   ``rnn_cell_backward``           :func:`check_rnn_cell_backward`
 4.3   ``rnn_backward``                :func:`check_rnn_backward`
 4.4   ``truncated_bptt``              :func:`check_truncated_bptt`
=====  ==============================  ==================================

The first three use the notes' layout, as the chapter does: columns are examples, time is last
(``x`` is ``(n_x, m, T_x)``), and one step's cache is ``(a_next, a_prev, xt, parameters)`` with
``parameters`` a dict holding ``"Wax"``, ``"Waa"``, ``"Wya"``, ``"ba"`` and ``"by"``. Each gradient
is checked on its own case, so that a failure names the term that is off, and against central
differences; the values that the usual mistakes produce (a forgotten gradient from the next step,
no sum over time, a transposed weight, a wrong tanh derivative) are recognised and named. The last
check runs the student's loop on ``minigrad`` modules and compares every parameter's ``.grad``
with a reference loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .framework import Case, _StudentRaised, call, exercise, expect_array, expect_close, fail

__all__ = [
    "check_bce_sequence_loss",
    "check_rnn_cell_backward",
    "check_rnn_backward",
    "check_truncated_bptt",
]

_GRAD_KEYS_CELL = ("dxt", "da_prev", "dWax", "dWaa", "dba")
_GRAD_KEYS_RNN = ("dx", "da0", "dWax", "dWaa", "dba")


def _params(n_x: int, n_a: int, rng: np.random.Generator, n_y: int = 2) -> dict[str, np.ndarray]:
    return {"Wax": rng.normal(0, 0.6, (n_a, n_x)), "Waa": rng.normal(0, 0.6, (n_a, n_a)),
            "Wya": rng.normal(0, 0.6, (n_y, n_a)), "ba": rng.normal(0, 0.6, (n_a, 1)),
            "by": rng.normal(0, 0.6, (n_y, 1))}


def _forward(x: np.ndarray, a0: np.ndarray, p: dict[str, np.ndarray]
             ) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """The hidden states and the caches, ``(a_next, a_prev, xt, parameters)`` per step."""
    a, caches, a_t = [], [], a0
    for t in range(x.shape[2]):
        a_next = np.tanh(p["Waa"] @ a_t + p["Wax"] @ x[:, :, t] + p["ba"])
        caches.append((a_next, a_t, x[:, :, t], p))
        a.append(a_next)
        a_t = a_next
    return np.stack(a, axis=-1), caches


def _grads_dict(got: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    if got is None:
        fail(f"{what} returned None", "return the dictionary of gradients")
    if not isinstance(got, dict):
        fail(f"{what} returned {type(got).__name__}, expected a dict",
             "return a dictionary: {" + ", ".join(f'"{k}": ...' for k in keys) + "}")
    missing = [k for k in keys if k not in got]
    if missing:
        fail(f"{what}: the dictionary has no key {missing[0]!r} (it has {sorted(got)})",
             "the keys are " + ", ".join(repr(k) for k in keys))
    return got


# --------------------------------------------------------------------------------------------------
# 4.1  the binary cross-entropy of a sequence
# --------------------------------------------------------------------------------------------------

_SUM = ("L is the sum over every step and every example (np.sum), not the mean: the notes' "
        "L = sum_t L<t>, and a batch adds its sequences' losses")


@exercise("4.1", "the binary cross-entropy of a sequence and its gradient")
def check_bce_sequence_loss(fn: Callable[..., Any]) -> list[Case]:
    """Check ``bce_sequence_loss(y_hat, y) -> (loss, dy_hat)``: each of the two terms of the loss
    alone (all labels 1, then all labels 0), then both, summed over time and examples, and the
    gradient with respect to ``y_hat`` against central differences."""

    def reference(p: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss = float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).sum())
        return loss, -y / p + (1 - y) / (1 - p)

    def run(p: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        out = call(fn, p.copy(), y.copy())
        if out is None:
            fail("bce_sequence_loss returned None", "return loss, dy_hat")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            fail(f"bce_sequence_loss returned {type(out).__name__}, expected a pair (loss, dy_hat)",
                 "return loss, dy_hat")
        loss, grad = out
        if hasattr(loss, "shape") and getattr(loss, "size", 1) != 1:
            fail(f"loss: expected one number, got an array of shape {loss.shape}",
                 "sum over every step and example: np.sum(...) of the whole array")
        return loss, grad

    def probs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(0.05, 0.95, size=shape)

    def loss_hints(p: np.ndarray, y: np.ndarray) -> list[tuple[float, str]]:
        full, _ = reference(p, y)
        first = float(-(y * np.log(p)).sum())
        second = float(-((1 - y) * np.log(1 - p)).sum())
        return [
            (full / p.size, _SUM),
            (full / p.shape[-1], _SUM + " (you divided by the number of steps)"),
            (-full, "the sign: L<t> = -y log(y_hat) - (1 - y) log(1 - y_hat) is positive"),
            (first, "the term for label 0 is missing: - (1 - y) log(1 - y_hat)"),
            (second, "the term for label 1 is missing: - y log(y_hat)"),
            (float(-(y * np.log(1 - p) + (1 - y) * np.log(p)).sum()),
             "the two logs are swapped: label 1 goes with log(y_hat), label 0 with log(1 - y_hat)"),
        ]

    def grad_hints(p: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, str]]:
        _, g = reference(p, y)
        return [
            (-g, "the sign: d/dy_hat of -y log(y_hat) is -y / y_hat, and of -(1 - y) log(1 - y_hat)"
                 " it is +(1 - y) / (1 - y_hat)"),
            (g / p.size, "the gradient of the sum, not of the mean: do not divide"),
            (-y / p - (1 - y) / (1 - p), "the derivative of log(1 - y_hat) is -1 / (1 - y_hat), "
                                         "so the second term contributes +(1 - y) / (1 - y_hat)"),
            (p - y, "that is the gradient with respect to the logit z (y_hat - y); here it is the "
                    "gradient with respect to y_hat itself"),
            (-y / p, "the gradient of the term for label 0 is missing: +(1 - y) / (1 - y_hat)"),
            ((1 - y) / (1 - p), "the gradient of the term for label 1 is missing: -y / y_hat"),
        ]

    def only_ones():
        rng = np.random.default_rng(41)
        p, y = probs(rng, (1, 2, 3)), np.ones((1, 2, 3))
        loss, grad = run(p, y)
        full, g = reference(p, y)
        expect_close("loss with every label 1 (only -y log(y_hat) counts)", full, loss,
                     hints=loss_hints(p, y))
        expect_array("dy_hat with every label 1", g, grad, value_hints=grad_hints(p, y),
                     shape_hints=[((2, 3), "keep the shape of y_hat, (1, m, T_y)")])

    def only_zeros():
        rng = np.random.default_rng(42)
        p, y = probs(rng, (1, 2, 3)), np.zeros((1, 2, 3))
        loss, grad = run(p, y)
        full, g = reference(p, y)
        expect_close("loss with every label 0 (only -(1 - y) log(1 - y_hat) counts)", full, loss,
                     hints=loss_hints(p, y))
        expect_array("dy_hat with every label 0", g, grad, value_hints=grad_hints(p, y))

    def one_step():
        p, y = np.array([[[0.8]]]), np.array([[[1.0]]])
        loss, grad = run(p, y)
        expect_close("loss of one step, y_hat = 0.8, y = 1 (-log 0.8)", -np.log(0.8), loss,
                     hints=loss_hints(p, y))
        expect_array("dy_hat of one step (-1 / 0.8)", np.array([[[-1.25]]]), grad,
                     value_hints=grad_hints(p, y))

    def batch():
        rng = np.random.default_rng(43)
        p = probs(rng, (1, 3, 5))
        y = rng.integers(0, 2, size=(1, 3, 5)).astype(np.float64)
        loss, grad = run(p, y)
        full, g = reference(p, y)
        expect_close("loss of 3 sequences of 5 steps", full, loss, hints=loss_hints(p, y))
        expect_array("dy_hat of 3 sequences of 5 steps", g, grad, value_hints=grad_hints(p, y))

    def numerical():
        rng = np.random.default_rng(44)
        p = probs(rng, (1, 2, 4))
        y = rng.integers(0, 2, size=(1, 2, 4)).astype(np.float64)
        _, grad = run(p, y)
        num = np.zeros_like(p)
        h = 1e-6
        for i in np.ndindex(p.shape):
            up, down = p.copy(), p.copy()
            up[i] += h
            down[i] -= h
            num[i] = (reference(up, y)[0] - reference(down, y)[0]) / (2 * h)
        expect_array("dy_hat against central differences of L", num, grad, rtol=1e-5, atol=1e-7,
                     value_hints=grad_hints(p, y))

    def confident():
        p = np.array([[[0.999, 0.001, 0.998]]])
        y = np.array([[[1.0, 0.0, 1.0]]])
        loss, _ = run(p, y)
        expect_close("loss of three confident right answers", -2 * np.log(0.999) - np.log(0.998),
                     loss, hints=loss_hints(p, y))

    return [
        Case("every label 1: the term -y log(y_hat) alone", only_ones),
        Case("every label 0: the term -(1 - y) log(1 - y_hat) alone", only_zeros),
        Case("one sequence of one step", one_step),
        Case("both labels, summed over 5 steps and 3 sequences", batch),
        Case("the gradient against central differences", numerical),
        Case("confident right answers cost almost nothing", confident),
    ]


# --------------------------------------------------------------------------------------------------
# 4.2  rnn_cell_backward
# --------------------------------------------------------------------------------------------------

_TANH = {
    "z": "the tanh derivative is 1 - tanh(z)**2 = 1 - a_next**2, written with the output a_next; "
         "you used the pre-activation z",
    "a_prev": "the tanh derivative uses this step's output, 1 - a_next**2, not a_prev",
    "none": "the gradient must go through the tanh: dz = da_next * (1 - a_next**2)",
    "sign": "the sign: the tanh derivative is 1 - a_next**2, not a_next**2 - 1",
    "linear": "square a_next: the tanh derivative is 1 - a_next**2, not 1 - a_next",
}


def _cell_reference(da_next: np.ndarray, cache: tuple[Any, ...], mistake: str | None = None
                    ) -> dict[str, np.ndarray]:
    """The gradients of one step; ``mistake`` names a usual wrong tanh derivative."""
    a_next, a_prev, xt, p = cache
    if mistake == "z":
        z = p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"]
        deriv = 1 - z**2
    elif mistake == "a_prev":
        deriv = 1 - a_prev**2
    elif mistake == "none":
        deriv = np.ones_like(a_next)
    elif mistake == "sign":
        deriv = a_next**2 - 1
    elif mistake == "linear":
        deriv = 1 - a_next
    else:
        deriv = 1 - a_next**2
    dz = da_next * deriv
    return {"dxt": p["Wax"].T @ dz, "da_prev": p["Waa"].T @ dz, "dWax": dz @ xt.T,
            "dWaa": dz @ a_prev.T, "dba": dz.sum(axis=1, keepdims=True), "dz": dz}


def _tanh_hints(da_next: np.ndarray, cache: tuple[Any, ...], key: str
                ) -> list[tuple[np.ndarray, str]]:
    return [(_cell_reference(da_next, cache, m)[key], text) for m, text in _TANH.items()]


@exercise("4.2", "rnn_cell_backward")
def check_rnn_cell_backward(fn: Callable[..., Any]) -> list[Case]:
    """Check ``rnn_cell_backward(da_next, cache)``: each of ``dba``, ``dWax``, ``dWaa``,
    ``da_prev`` and ``dxt`` in its own case (n_x = 3, n_a = 5, m = 4, so that a transposed product
    shows in the shape), then the first step (a_prev = 0), a batch of one, zeros, and every
    gradient against central differences."""
    n_x, n_a, m = 3, 5, 4

    def setup(seed: int, m_: int = m, a_prev_zero: bool = False):
        rng = np.random.default_rng(seed)
        p = _params(n_x, n_a, rng)
        xt = rng.normal(size=(n_x, m_))
        a_prev = np.zeros((n_a, m_)) if a_prev_zero else np.tanh(rng.normal(size=(n_a, m_)))
        a_next = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
        da_next = rng.normal(size=(n_a, m_))
        return da_next, (a_next, a_prev, xt, p)

    def run(da_next, cache):
        copy = (cache[0].copy(), cache[1].copy(), cache[2].copy(),
                {k: v.copy() for k, v in cache[3].items()})
        return _grads_dict(call(fn, da_next.copy(), copy), _GRAD_KEYS_CELL, "rnn_cell_backward")

    def shapes(key: str, m_: int = m) -> list[tuple[tuple[int, ...], str]]:
        return {
            "dba": [((n_a, m_), "sum dz over the examples: dz.sum(axis=1, keepdims=True)"),
                    ((n_a,), "keep the column: dz.sum(axis=1, keepdims=True)")],
            "dWax": [((n_x, n_a), "transposed: dWax = dz @ xt.T, shape (n_a, n_x) like Wax")],
            "da_prev": [((n_a, n_a), "da_prev is W_aa.T @ dz, shape (n_a, m)")],
            "dxt": [((n_a, m_), "dxt is W_ax.T @ dz, shape (n_x, m)")],
        }.get(key, [])

    def term(key: str, seed: int):
        def case():
            da_next, cache = setup(seed)
            got = run(da_next, cache)
            expect_array(key, _cell_reference(da_next, cache)[key], got[key],
                         shape_hints=shapes(key), value_hints=all_hints(da_next, cache, key))
        return case

    def dwaa_hints(da_next, cache):
        a_next, a_prev, _, _ = cache
        dz = _cell_reference(da_next, cache)["dz"]
        return [((a_prev @ dz.T), "transposed: dW_aa = dz @ a_prev.T, (n_a, n_a), row i for "
                                  "the unit that receives the weight"),
                (dz @ a_next.T, "dW_aa multiplies dz by the state the step started from, a_prev, "
                                "not by a_next")] + _tanh_hints(da_next, cache, "dWaa")

    def da_prev_hints(da_next, cache):
        p = cache[3]
        dz = _cell_reference(da_next, cache)["dz"]
        return [(p["Waa"] @ dz, "transpose W_aa: the gradient goes back through W_aa.T @ dz"),
                (da_next, "da_prev is W_aa.T @ dz, the gradient that flows back through this "
                          "step, not da_next itself")] + _tanh_hints(da_next, cache, "da_prev")

    def all_hints(da_next, cache, key):
        if key == "dWaa":
            return dwaa_hints(da_next, cache)
        if key == "da_prev":
            return da_prev_hints(da_next, cache)
        return _tanh_hints(da_next, cache, key)


    def first_step():
        da_next, cache = setup(52, a_prev_zero=True)
        got = run(da_next, cache)
        ref = _cell_reference(da_next, cache)
        expect_array("dWaa when a_prev = 0 (the first step)", ref["dWaa"], got["dWaa"],
                     value_hints=dwaa_hints(da_next, cache))
        for key in ("dWax", "dba", "da_prev", "dxt"):
            expect_array(f"{key} when a_prev = 0", ref[key], got[key], shape_hints=shapes(key),
                         value_hints=all_hints(da_next, cache, key))

    def batch_of_one():
        da_next, cache = setup(53, m_=1)
        got = run(da_next, cache)
        ref = _cell_reference(da_next, cache)
        for key in _GRAD_KEYS_CELL:
            expect_array(f"{key} for a batch of one", ref[key], got[key],
                         shape_hints=shapes(key, 1), value_hints=all_hints(da_next, cache, key))

    def zeros():
        da_next, cache = setup(54)
        da_next = np.zeros_like(da_next)
        got = run(da_next, cache)
        for key in _GRAD_KEYS_CELL:
            expect_array(f"{key} when da_next = 0", _cell_reference(da_next, cache)[key], got[key],
                         shape_hints=shapes(key))

    def numerical():
        da_next, cache = setup(55)
        got = run(da_next, cache)
        a_next, a_prev, xt, p = cache
        inputs = {"dWax": p["Wax"], "dWaa": p["Waa"], "dba": p["ba"], "da_prev": a_prev, "dxt": xt}

        def f() -> float:
            return float((da_next * np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])).sum())

        h = 1e-6
        for key, arr in inputs.items():
            num = np.zeros_like(arr)
            for i in np.ndindex(arr.shape):
                keep = arr[i]
                arr[i] = keep + h
                up = f()
                arr[i] = keep - h
                down = f()
                arr[i] = keep
                num[i] = (up - down) / (2 * h)
            expect_array(f"{key} against central differences", num, got[key], rtol=1e-5,
                         atol=1e-7, shape_hints=shapes(key),
                         value_hints=all_hints(da_next, cache, key))

    return [
        Case("dba alone: the bias gradient", term("dba", 51)),
        Case("dWax alone", term("dWax", 56)),
        Case("dWaa alone", term("dWaa", 57)),
        Case("da_prev alone: the gradient passed to the step before", term("da_prev", 58)),
        Case("dxt alone", term("dxt", 59)),
        Case("the first step, a_prev = 0", first_step),
        Case("a batch of one", batch_of_one),
        Case("da_next = 0 gives zero gradients", zeros),
        Case("every gradient against central differences", numerical),
    ]


# --------------------------------------------------------------------------------------------------
# 4.3  rnn_backward
# --------------------------------------------------------------------------------------------------

_RNN_MISTAKES = {
    "no_carry": "the gradient from the next step did not arrive: walk the steps backwards and "
                "give rnn_cell_backward the whole da<t>, da[:, :, t] plus the da_prev that step "
                "t+1 returned",
    "forward": "walk the steps backwards, for t in reversed(range(T_x)): step t needs the gradient "
               "from step t+1 first",
    "overwrite": "add every step's contribution (+=): the shared weights' gradient is the sum over "
                 "time, and you kept only one step's",
    "double_start": "start with the gradient from after the last step at zero (there is no step "
                    "T_x + 1): da_prevt = np.zeros((n_a, m))",
    "transposed_cell": "your rnn_cell_backward multiplies by W_aa instead of W_aa.T: check "
                       "Exercise 4.2 first",
}


def _rnn_reference(da: np.ndarray, caches: list[tuple[Any, ...]], mistake: str | None = None
                   ) -> dict[str, np.ndarray]:
    _, _, x1, p = caches[0]
    n_a, m, T = da.shape
    dx = np.zeros((x1.shape[0], m, T))
    sums = {"dWax": np.zeros_like(p["Wax"]), "dWaa": np.zeros_like(p["Waa"]),
            "dba": np.zeros_like(p["ba"])}
    carry = da[:, :, -1].copy() if mistake == "double_start" else np.zeros((n_a, m))
    order = range(T) if mistake == "forward" else reversed(range(T))
    for t in order:
        da_t = da[:, :, t] if mistake == "no_carry" else da[:, :, t] + carry
        g = _cell_reference(da_t, caches[t])
        if mistake == "transposed_cell":
            g["da_prev"] = p["Waa"] @ g["dz"]
        dx[:, :, t] = g["dxt"]
        for k in sums:
            sums[k] = g[k].copy() if mistake == "overwrite" else sums[k] + g[k]
        carry = g["da_prev"]
    return {"dx": dx, "da0": carry, **sums}


@exercise("4.3", "rnn_backward")
def check_rnn_backward(fn: Callable[..., Any]) -> list[Case]:
    """Check ``rnn_backward(da, caches)``: one step (the same as one cell), a gradient that enters
    at the last step only and must flow back to the first, each parameter's sum over time on its
    own, ``da0``, a batch of one, zeros, and every gradient against central differences. Wrong
    values are compared with what the usual mistakes give: no gradient from the next step, the
    steps walked forwards, a sum over time replaced by one step, a wrong starting gradient."""
    n_x, n_a = 3, 4

    def setup(seed: int, m: int = 2, T: int = 5, last_only: bool = False):
        rng = np.random.default_rng(seed)
        p = _params(n_x, n_a, rng)
        x = rng.normal(size=(n_x, m, T))
        a0 = np.tanh(rng.normal(size=(n_a, m)))
        _, caches = _forward(x, a0, p)
        da = rng.normal(size=(n_a, m, T))
        if last_only:
            da[:, :, :-1] = 0.0
        return da, caches, (x, a0, p)

    def run(da, caches):
        copies = [(c[0].copy(), c[1].copy(), c[2].copy(), c[3]) for c in caches]
        got = call(fn, da.copy(), copies)
        return _grads_dict(got, _GRAD_KEYS_RNN, "rnn_backward")

    def hints(da, caches, key):
        return [(_rnn_reference(da, caches, m)[key], text) for m, text in _RNN_MISTAKES.items()]

    def compare(da, caches, got, key, label):
        shape_hints = []
        if key == "dx":
            shape_hints = [((n_x, da.shape[1]), "dx keeps every step: shape (n_x, m, T_x), with "
                                                 "dx[:, :, t] the gradient of x<t>")]
        expect_array(f"{key} ({label})", _rnn_reference(da, caches)[key], got[key],
                     shape_hints=shape_hints, value_hints=hints(da, caches, key))

    def one_step():
        da, caches, _ = setup(61, T=1)
        got = run(da, caches)
        for key in _GRAD_KEYS_RNN:
            compare(da, caches, got, key, "one step")

    def flows_back():
        da, caches, _ = setup(62, last_only=True)
        got = run(da, caches)
        compare(da, caches, got, "dx", "a gradient entering at the last step only")
        compare(da, caches, got, "da0", "a gradient entering at the last step only")

    def per_key(key: str, seed: int):
        def case():
            da, caches, _ = setup(seed)
            compare(da, caches, run(da, caches), key, "5 steps, a batch of 2")
        return case

    def batch_of_one():
        da, caches, _ = setup(66, m=1, T=3)
        got = run(da, caches)
        for key in _GRAD_KEYS_RNN:
            compare(da, caches, got, key, "a batch of one")

    def zeros():
        da, caches, _ = setup(67)
        da = np.zeros_like(da)
        got = run(da, caches)
        for key in _GRAD_KEYS_RNN:
            expect_array(f"{key} when da = 0", np.zeros_like(_rnn_reference(da, caches)[key]),
                         got[key])

    def numerical():
        da, caches, (x, a0, p) = setup(68, T=4)
        got = run(da, caches)
        inputs = {"dWax": p["Wax"], "dWaa": p["Waa"], "dba": p["ba"], "dx": x, "da0": a0}

        def f() -> float:
            a, _ = _forward(x, a0, p)
            return float((da * a).sum())

        h = 1e-6
        for key, arr in inputs.items():
            num = np.zeros_like(arr)
            for i in np.ndindex(arr.shape):
                keep = arr[i]
                arr[i] = keep + h
                up = f()
                arr[i] = keep - h
                down = f()
                arr[i] = keep
                num[i] = (up - down) / (2 * h)
            expect_array(f"{key} against central differences", num, got[key], rtol=1e-5,
                         atol=1e-7, value_hints=hints(da, caches, key))

    return [
        Case("one step: the same as rnn_cell_backward", one_step),
        Case("a gradient entering at the last step reaches the first", flows_back),
        Case("dba alone, summed over time", per_key("dba", 63)),
        Case("dWax alone, summed over time", per_key("dWax", 64)),
        Case("dWaa alone, summed over time", per_key("dWaa", 65)),
        Case("da0, the gradient of the initial state", per_key("da0", 69)),
        Case("dx, one gradient per step", per_key("dx", 70)),
        Case("a batch of one", batch_of_one),
        Case("da = 0 gives zero gradients", zeros),
        Case("every gradient against central differences", numerical),
    ]


# --------------------------------------------------------------------------------------------------
# 4.4  truncated BPTT with minigrad
# --------------------------------------------------------------------------------------------------

_TBPTT_MISTAKES = {
    "full": "you backpropagated through the whole sequence: call backward at the end of every "
            "chunk, and start the next chunk from h.detach()",
    "reset": "carry the hidden state from chunk to chunk (detached); you started every chunk from "
             "zeros",
    "last_chunk": "only the last chunk's gradients arrived: call backward on every chunk's loss, "
                  "and let the gradients of all the chunks add up in .grad (no zero_grad inside "
                  "the loop)",
    "mean": "sum the cross-entropy over the examples and the steps: F.cross_entropy(..., "
            "reduction='sum')",
    "drop_last": "the last chunk may be shorter than k: chunks start at 0, k, 2k, ... up to T",
}

_DETACH = ("detach the hidden state at the start of every chunk, h = h.detach(): the previous "
           "chunk's graph was freed by its backward")


def _tbptt_modules(n_x: int, n_h: int, n_y: int, seed: int) -> tuple[Any, Any, dict[str, Any]]:
    from .. import float64, nn

    rng = np.random.default_rng(seed)
    state = {"weight_ih": rng.uniform(-0.7, 0.7, (n_h, n_x)),
             "weight_hh": rng.uniform(-0.7, 0.7, (n_h, n_h)),
             "bias_ih": rng.uniform(-0.5, 0.5, n_h), "bias_hh": rng.uniform(-0.5, 0.5, n_h),
             "weight": rng.uniform(-0.7, 0.7, (n_y, n_h)), "bias": rng.uniform(-0.5, 0.5, n_y)}
    cell = nn.RNNCell(n_x, n_h, dtype=float64)
    head = nn.Linear(n_h, n_y, dtype=float64)
    cell.load_state_dict({k: state[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    head.load_state_dict({"weight": state["weight"], "bias": state["bias"]})
    return cell, head, state


def _tbptt_reference(state: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, k: int,
                     mistake: str | None = None) -> tuple[float, dict[str, np.ndarray]]:
    """Truncated BPTT in numpy (rows are examples, as in minigrad): the loss and the gradients."""
    Wih, Whh, bih, bhh = state["weight_ih"], state["weight_hh"], state["bias_ih"], state["bias_hh"]
    Wy, by = state["weight"], state["bias"]
    T, B, _ = x.shape
    grads = {name: np.zeros_like(v) for name, v in state.items()}
    h = np.zeros((B, Whh.shape[0]))
    total = 0.0
    if mistake == "full":
        k = T
    starts = list(range(0, T, k))
    if mistake == "drop_last":
        starts = [s for s in starts if s + k <= T]
    for start in starts:
        if mistake == "reset":
            h = np.zeros_like(h)
        if mistake == "last_chunk":
            grads = {name: np.zeros_like(v) for name, v in state.items()}
        steps = range(start, min(start + k, T))
        hs, h_in, dzy = [], [], []
        for t in steps:
            h_in.append(h)
            h = np.tanh(x[t] @ Wih.T + bih + h @ Whh.T + bhh)
            hs.append(h)
            z = h @ Wy.T + by
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            total += float(-logp[np.arange(B), y[t]].sum())
            d = np.exp(logp)
            d[np.arange(B), y[t]] -= 1
            dzy.append(d / B if mistake == "mean" else d)
        carry = np.zeros_like(h)
        for j in reversed(range(len(hs))):
            t = steps[j]
            grads["weight"] += dzy[j].T @ hs[j]
            grads["bias"] += dzy[j].sum(axis=0)
            dh = dzy[j] @ Wy + carry
            dz = dh * (1 - hs[j] ** 2)
            grads["weight_ih"] += dz.T @ x[t]
            grads["weight_hh"] += dz.T @ h_in[j]
            grads["bias_ih"] += dz.sum(axis=0)
            grads["bias_hh"] += dz.sum(axis=0)
            carry = dz @ Whh
    return total, grads


_NAMES = {"weight_ih": ("cell", "W_ax"), "weight_hh": ("cell", "W_aa"),
          "bias_ih": ("cell", "part of b_a"), "bias_hh": ("cell", "part of b_a"),
          "weight": ("head", "W_ya"), "bias": ("head", "b_y")}


@exercise("4.4", "truncated_bptt")
def check_truncated_bptt(fn: Callable[..., Any]) -> list[Case]:
    """Check ``truncated_bptt(cell, head, x, y, k)`` on ``minigrad`` modules in float64: with
    ``k = T`` (no cut, against central differences too), ``k = 1``, chunks that do not divide the
    sequence, and a batch of one. Each parameter's ``.grad`` is compared on its own with a reference
    loop, and wrong values with what the usual mistakes give (no cut, no state carried, gradients
    zeroed inside the loop, the mean instead of the sum, the last short chunk dropped)."""
    from .. import Tensor, tensor
    from ..tensor import _FREED_MESSAGE

    n_x, n_h, n_y = 3, 4, 3

    def data(seed: int, T: int, B: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        return rng.normal(size=(T, B, n_x)), rng.integers(0, n_y, size=(T, B))

    def run(seed: int, T: int, B: int, k: int) -> tuple[Any, Any, Any, dict[str, np.ndarray]]:
        cell, head, state = _tbptt_modules(n_x, n_h, n_y, seed)
        x, y = data(seed + 100, T, B)
        try:
            total = call(fn, cell, head, tensor(x), tensor(y), k)
        except _StudentRaised as e:
            if _FREED_MESSAGE.split(" (")[0] in str(e.exc):
                fail(f"your code raised {type(e.exc).__name__}: backward went into a chunk whose "
                     "graph was already freed", _DETACH)
            raise
        grads = {}
        for name, (owner, _) in _NAMES.items():
            g = getattr(cell if owner == "cell" else head, name).grad
            grads[name] = None if g is None else np.asarray(g.numpy())
        return total, (x, y), state, grads

    def compare_grads(seed: int, T: int, B: int, k: int, label: str, only: str | None = None):
        _, (x, y), state, grads = run(seed, T, B, k)
        _, ref = _tbptt_reference(state, x, y, k)
        for name, (owner, notation) in _NAMES.items():
            if only and name != only:
                continue
            what = f"{owner}.{name}.grad ({notation}), {label}"
            if grads[name] is None:
                fail(f"{what}: still None", "call backward on each chunk's loss")
            hints = [(_tbptt_reference(state, x, y, k, m)[1][name], text)
                     for m, text in _TBPTT_MISTAKES.items()]
            expect_array(what, ref[name], grads[name], rtol=1e-7, atol=1e-10, value_hints=hints)

    def no_cut():
        compare_grads(71, T=5, B=2, k=5, label="k = T = 5: no cut")

    def numerical():
        _, (x, y), state, grads = run(72, T=4, B=2, k=4)
        h = 1e-6
        for name in ("weight_hh", "weight_ih", "bias_ih", "weight"):
            arr = state[name]
            num = np.zeros_like(arr)
            for i in np.ndindex(arr.shape):
                keep = arr[i]
                arr[i] = keep + h
                up = _tbptt_reference(state, x, y, 4)[0]
                arr[i] = keep - h
                down = _tbptt_reference(state, x, y, 4)[0]
                arr[i] = keep
                num[i] = (up - down) / (2 * h)
            owner, notation = _NAMES[name]
            hints = [(_tbptt_reference(state, x, y, 4, m)[1][name], text)
                     for m, text in _TBPTT_MISTAKES.items()]
            expect_array(f"{owner}.{name}.grad ({notation}) with k = T against central "
                         "differences", num, grads[name], rtol=1e-5, atol=1e-7, value_hints=hints)

    def every_step():
        compare_grads(73, T=4, B=2, k=1, label="k = 1: every step alone")

    def uneven():
        compare_grads(74, T=7, B=2, k=3, label="k = 3 on 7 steps (chunks of 3, 3 and 1)")

    def cut_weight_hh():
        compare_grads(75, T=6, B=3, k=2, label="k = 2 on 6 steps", only="weight_hh")

    def batch_of_one():
        compare_grads(76, T=6, B=1, k=4, label="a batch of one, k = 4 on 6 steps")

    def total_loss():
        total, (x, y), state, _ = run(77, T=7, B=2, k=3)
        if isinstance(total, Tensor):
            fail("the total loss: expected a number, got a minigrad Tensor",
                 "add up loss.item() over the chunks and return that float")
        ref, _ = _tbptt_reference(state, x, y, 3)
        chunk_losses = []
        for start in range(0, 7, 3):
            lo, _ = _tbptt_reference(state, x[: start + 3], y[: start + 3], 3)
            chunk_losses.append(lo - sum(chunk_losses))
        expect_close("the returned total loss (k = 3 on 7 steps)", ref, total, rtol=1e-9,
                     hints=[(chunk_losses[-1], "return the sum of every chunk's loss, not the "
                                               "last one's"),
                            (chunk_losses[0], "return the sum of every chunk's loss, not the "
                                              "first one's"),
                            (ref / 14, "return the sum over steps and examples, not the mean"),
                            (ref / 2, _TBPTT_MISTAKES["mean"]),
                            (_tbptt_reference(state, x, y, 3, "reset")[0],
                             "carry the hidden state from chunk to chunk; you started every chunk "
                             "from zeros")])

    return [
        Case("k = T: no cut, plain BPTT", no_cut),
        Case("k = T against central differences of the loss", numerical),
        Case("k = 1: every step cut from the one before", every_step),
        Case("chunks that do not divide the sequence", uneven),
        Case("weight_hh (W_aa) alone, k = 2", cut_weight_hh),
        Case("a batch of one", batch_of_one),
        Case("the total loss it returns", total_loss),
    ]
