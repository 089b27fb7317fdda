"""Checks for chapter 9, *Vanishing and exploding gradients*
(``exercises/09_vanishing_gradients.ipynb``).

=====  ==============================  =====================================
 no.   exercise                        check
=====  ==============================  =====================================
 9.1   ``scale_to_radius``             :func:`check_scale_to_radius`
 9.2   ``gradient_norms``              :func:`check_gradient_norms`
 9.3   ``clip_by_value``               :func:`check_clip_by_value`
 9.4   ``clip_by_norm``                :func:`check_clip_by_norm`
 9.5   ``residual_rnn_forward``        :func:`check_residual_rnn_forward`
=====  ==============================  =====================================

The notation is the notes': examples are columns, a state ``a<t>`` is ``(n_a, m)``, a sequence of
states or inputs is ``(n, m, T_x)`` with time last, and ``parameters`` holds ``Waa``, ``Wax`` and
``ba``. Gradients to clip are dictionaries of numpy arrays, as in the notes' ``clip(gradients,
maxValue)``. Each check recognises the values that the usual mistakes produce: the largest
eigenvalue instead of the largest modulus, the largest singular value instead of the spectral
radius, a forgotten tanh derivative or one taken at the wrong step, a missing transpose, clipping
one side only, a norm per array instead of one norm over all of them, a skip connection that
starts from zeros or adds ``a<0>`` instead of ``a<t-1>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect, expect_array, expect_close, fail

__all__ = [
    "check_scale_to_radius",
    "check_gradient_norms",
    "check_clip_by_value",
    "check_clip_by_norm",
    "check_residual_rnn_forward",
]


def _radius(w: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvals(w)).max())


# --------------------------------------------------------------------------------------------------
# 9.1  scale a matrix to a spectral radius
# --------------------------------------------------------------------------------------------------


@exercise("9.1", "scale_to_radius")
def check_scale_to_radius(fn: Callable[..., Any]) -> list[Case]:
    """Check ``scale_to_radius(W, rho)``: ``W`` times ``rho / max |lambda_i(W)|``, a new array."""

    def hints(w: np.ndarray, rho: float) -> list[tuple[np.ndarray, str]]:
        eig = np.linalg.eigvals(w)
        out = []
        biggest = float(np.max(eig.real))
        if abs(biggest) > 1e-12:
            out.append((w * rho / biggest, "the spectral radius is the largest *modulus* "
                        "max |lambda_i| (np.abs(np.linalg.eigvals(W)).max()), not the largest "
                        "eigenvalue"))
        out.append((w * rho / np.linalg.norm(w, 2), "that divides by the largest singular value "
                    "(np.linalg.norm(W, 2)); the spectral radius is the largest |eigenvalue|, "
                    "which is smaller for a matrix that is not symmetric"))
        out.append((w * rho / np.abs(w).max(), "the largest entry of W is not its spectral "
                    "radius: take the eigenvalues, np.linalg.eigvals(W)"))
        out.append((w / _radius(w), "multiply by rho as well: the result must have radius rho"))
        return out

    def run(w: np.ndarray, rho: float) -> np.ndarray:
        before = w.copy()
        got = call(fn, w, rho)
        if not np.array_equal(w, before):
            fail("scale_to_radius changed the matrix it was given",
                 "return a new array (W * factor), do not scale W in place (W *= ...)")
        if isinstance(got, np.ndarray) and np.iscomplexobj(got):
            fail("the result is complex", "the eigenvalues may be complex: the factor is "
                 "rho / max |lambda|, a real number (np.abs of the eigenvalues)")
        return got

    def case(w: np.ndarray, rho: float, what: str) -> None:
        expected = w * (rho / _radius(w))
        expect_array(what, expected, run(w, rho), rtol=1e-9, value_hints=hints(w, rho))

    def diagonal():
        case(np.diag([2.0, 0.5]), 1.0, "diag(2, 0.5) scaled to radius 1")

    def negative():
        case(np.diag([-3.0, 1.0]), 1.5, "diag(-3, 1) (radius 3) scaled to radius 1.5")

    def rotation():
        w = np.array([[0.0, -2.0], [2.0, 0.0]])  # eigenvalues +-2i
        case(w, 0.5, "a rotation by 90 degrees times 2 (eigenvalues +-2i) scaled to radius 0.5")

    def non_normal():
        w = np.array([[0.5, 10.0], [0.0, 0.5]])  # radius 0.5, largest singular value about 10
        case(w, 1.0, "[[0.5, 10], [0, 0.5]] (radius 0.5) scaled to radius 1")

    def random():
        w = np.random.default_rng(91).normal(size=(12, 12))
        got = run(w, 1.2)
        expect_array("a random 12 x 12 matrix scaled to radius 1.2", w * (1.2 / _radius(w)), got,
                     rtol=1e-9, value_hints=hints(w, 1.2))
        expect_close("the spectral radius of your result", 1.2, _radius(got), rtol=1e-9)

    return [
        Case("a diagonal matrix: the radius is its largest entry", diagonal),
        Case("a negative eigenvalue is the largest in modulus", negative),
        Case("complex eigenvalues: a scaled rotation", rotation),
        Case("a matrix that is not symmetric: radius and norm differ", non_normal),
        Case("a random matrix, and the radius of the result", random),
    ]


# --------------------------------------------------------------------------------------------------
# 9.2  the norm of the gradient reaching each state
# --------------------------------------------------------------------------------------------------


def _norms(da_last: np.ndarray, a: np.ndarray, waa: np.ndarray, mistake: str | None = None
           ) -> np.ndarray:
    T = a.shape[2]
    da, out = da_last, [np.linalg.norm(da_last)]
    for t in range(T - 1, 0, -1):
        if mistake == "linear":
            d = 1.0
        elif mistake == "previous":
            d = 1 - a[:, :, t - 1] ** 2
        elif mistake == "no square":
            d = 1 - a[:, :, t]
        else:
            d = 1 - a[:, :, t] ** 2
        w = waa if mistake == "transpose" else waa.T
        da = w @ (da * d)
        out.append(np.linalg.norm(da))
    return np.array(out)


def _tanh_states(rng: np.random.Generator, n_a: int, m: int, T: int, waa: np.ndarray,
                 scale: float = 1.0) -> np.ndarray:
    a = np.zeros((n_a, m, T))
    a_t = np.zeros((n_a, m))
    for t in range(T):
        a_t = np.tanh(waa @ a_t + scale * rng.normal(size=(n_a, m)))
        a[:, :, t] = a_t
    return a


@exercise("9.2", "gradient_norms")
def check_gradient_norms(fn: Callable[..., Any]) -> list[Case]:
    """Check ``gradient_norms(da_last, a, Waa)``: ``norms[k]`` is the norm of dL/da<T-k>, sent
    back from the last state through ``k`` tanh steps."""

    def hints(da_last: np.ndarray, a: np.ndarray, waa: np.ndarray) -> list[tuple[Any, str]]:
        right = _norms(da_last, a, waa)
        return [
            (_norms(da_last, a, waa, "linear"), "the tanh derivative is missing: each step back "
             "multiplies by W_aa^T and by 1 - (a<t>)^2, elementwise, before the product"),
            (_norms(da_last, a, waa, "previous"), "the tanh derivative of step t uses a<t>, the "
             "state that step produced, not a<t-1>"),
            (_norms(da_last, a, waa, "no square"), "tanh'(z) = 1 - tanh(z)^2 = 1 - a**2"),
            (_norms(da_last, a, waa, "transpose"), "the gradient goes back through W_aa^T "
             "(Waa.T @ ...), the transpose of the forward product"),
            (right[::-1], "norms[0] is the last state (distance 0), norms[T-1] the first: you "
             "returned them in time order"),
        ]

    def run(da_last: np.ndarray, a: np.ndarray, waa: np.ndarray) -> np.ndarray:
        copies = (da_last.copy(), a.copy(), waa.copy())
        got = call(fn, da_last, a, waa)
        if not all(np.array_equal(x, y) for x, y in zip((da_last, a, waa), copies)):
            fail("gradient_norms changed one of its arguments", "work on new arrays "
                 "(da = Waa.T @ (da * ...)), not in place")
        if isinstance(got, list):
            got = np.asarray(got, dtype=np.float64)
        return got

    def case(da_last, a, waa, what):
        T = a.shape[2]
        expect_array(what, _norms(da_last, a, waa), run(da_last, a, waa), rtol=1e-8,
                     check_dtype=False,
                     shape_hints=[((T - 1,), "one norm per state, T in all: include distance 0, "
                                   "the norm of da_last itself"),
                                  ((T + 1,), "one norm per state a<1> ... a<T>: T in all")],
                     value_hints=hints(da_last, a, waa))

    def one_step():
        rng = np.random.default_rng(92)
        waa = rng.normal(size=(3, 3))
        da = rng.normal(size=(3, 2))
        case(da, _tanh_states(rng, 3, 2, 1, waa), waa, "T = 1: only the norm of da_last")

    def zero_states():
        rng = np.random.default_rng(93)
        waa = 0.5 * np.eye(4) + 0.1 * rng.normal(size=(4, 4))
        da = rng.normal(size=(4, 2))
        case(da, np.zeros((4, 2, 6)), waa, "states all zero (tanh' = 1): powers of W_aa^T")

    def diagonal():
        rng = np.random.default_rng(94)
        waa = np.diag([0.9, 0.5, 1.2])
        a = _tanh_states(rng, 3, 1, 5, waa)
        case(rng.normal(size=(3, 1)), a, waa, "a diagonal W_aa, one example, 5 steps")

    def general():
        rng = np.random.default_rng(95)
        waa = rng.normal(0, 0.5, size=(6, 6))
        a = _tanh_states(rng, 6, 4, 12, waa)
        case(rng.normal(size=(6, 4)), a, waa, "a random W_aa, 4 examples, 12 steps")

    def autograd():
        # the same numbers as minigrad's autograd through the unrolled cell
        import minigrad

        rng = np.random.default_rng(96)
        n_a, m, T = 5, 3, 8
        waa = rng.normal(0, 0.6, size=(n_a, n_a))
        x = rng.normal(size=(T, n_a, m))
        v = rng.normal(size=(n_a, m))
        w = minigrad.tensor(waa, requires_grad=True)
        a_t, states = minigrad.zeros(n_a, m, dtype=minigrad.float64), []
        for t in range(T):
            a_t = (w @ a_t + minigrad.tensor(x[t])).tanh()
            a_t.retain_grad()
            states.append(a_t)
        (states[-1] * minigrad.tensor(v)).sum().backward()
        expected = np.array([np.linalg.norm(s.grad.numpy()) for s in states[::-1]])
        a = np.stack([s.detach().numpy() for s in states], axis=-1)
        expect_array("the norms of the gradients that minigrad's autograd finds (retain_grad)",
                     expected, np.asarray(run(v, a, waa), dtype=np.float64), rtol=1e-8,
                     value_hints=hints(v, a, waa))

    return [
        Case("one step", one_step),
        Case("zero states: the tanh derivative is 1", zero_states),
        Case("a diagonal W_aa", diagonal),
        Case("a random W_aa and a batch", general),
        Case("against retain_grad in minigrad", autograd),
    ]


# --------------------------------------------------------------------------------------------------
# 9.3, 9.4  clipping
# --------------------------------------------------------------------------------------------------


def _grads(seed: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"dWax": scale * rng.normal(size=(4, 3)), "dWaa": scale * rng.normal(size=(4, 4)),
            "dba": scale * rng.normal(size=(4, 1))}


def _copy(g: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in g.items()}


def _as_dict(got: Any, keys: Any, what: str) -> dict[str, Any]:
    if got is None:
        fail(f"{what} returned None", "return the dictionary of clipped gradients")
    if not isinstance(got, dict):
        fail(f"{what} returned {describe(got)}, expected a dict")
    missing = [k for k in keys if k not in got]
    if missing:
        fail(f"{what}: the result has no key {missing[0]!r} (it has {sorted(got)})",
             "keep every key of the dictionary you were given")
    return got


@exercise("9.3", "clip_by_value")
def check_clip_by_value(fn: Callable[..., Any]) -> list[Case]:
    """Check ``clip_by_value(gradients, max_value)``: every entry of every array clipped to
    ``[-max_value, max_value]``, in a new dictionary; the given arrays are left unchanged."""

    def run(g: dict[str, np.ndarray], v: float) -> dict[str, Any]:
        before = _copy(g)
        got = _as_dict(call(fn, g, v), g, "clip_by_value")
        if any(not np.array_equal(g[k], before[k]) for k in g):
            fail("clip_by_value changed the arrays it was given",
                 "return new arrays: np.clip(g, -max_value, max_value) without out=")
        return got

    def compare(g: dict[str, np.ndarray], v: float, what: str) -> None:
        got = run(g, v)
        for k, arr in g.items():
            expect_array(f"{what}: {k}", np.clip(arr, -v, v), got[k], value_hints=[
                (np.minimum(arr, v), "clip both sides: entries below -max_value go up to it"),
                (np.maximum(arr, -v), "clip both sides: entries above max_value come down to it"),
                (arr, f"{k} was not clipped: clip every array of the dictionary"),
                (arr * min(1.0, v / np.linalg.norm(arr)), "that is clipping by norm; here "
                 "every entry is clipped on its own"),
            ])

    def inside():
        g = _grads(31, 0.1)
        compare(g, 5.0, "every entry already within [-5, 5]: nothing changes")

    def both_sides():
        g = {"dWax": np.array([[-7.0, 2.0], [9.0, -0.5]]), "dba": np.array([[12.0], [-12.0]])}
        compare(g, 5.0, "entries beyond both ends")

    def every_key():
        compare(_grads(32, 10.0), 1.0, "three arrays, most entries beyond [-1, 1]")

    def zero():
        compare(_grads(33), 0.0, "max_value = 0 sets everything to zero")

    return [
        Case("nothing to clip", inside),
        Case("clipped at both ends", both_sides),
        Case("every array of the dictionary", every_key),
        Case("max_value = 0", zero),
    ]


def _clip_norm(g: dict[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    total = float(np.sqrt(sum(float(np.sum(v**2)) for v in g.values())))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: v * factor for k, v in g.items()}, total


@exercise("9.4", "clip_by_norm")
def check_clip_by_norm(fn: Callable[..., Any]) -> list[Case]:
    """Check ``clip_by_norm(gradients, max_norm) -> (clipped, total_norm)``: one norm over every
    entry of every array; when it exceeds ``max_norm`` every array is scaled by
    ``max_norm / total_norm``; the norm returned is the one before clipping."""

    def run(g: dict[str, np.ndarray], max_norm: float) -> tuple[dict[str, Any], Any]:
        before = _copy(g)
        out = call(fn, g, max_norm)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            fail(f"clip_by_norm returned {describe(out)}, expected a pair (clipped, total_norm)",
                 "return clipped, total_norm")
        got, total = out
        got = _as_dict(got, g, "clip_by_norm")
        if any(not np.array_equal(g[k], before[k]) for k in g):
            fail("clip_by_norm changed the arrays it was given", "return new arrays (g * factor)")
        return got, total

    def compare(g: dict[str, np.ndarray], max_norm: float, what: str) -> None:
        got, total = run(g, max_norm)
        expected, expected_total = _clip_norm(g, max_norm)
        per_array = {k: v * min(1.0, max_norm / np.linalg.norm(v)) for k, v in g.items()}
        expect_close(f"{what}: the total norm", expected_total, total, rtol=1e-9, hints=[
            (expected_total**2, "the norm is the square root of the sum of squares"),
            (min(expected_total, max_norm), "return the norm before clipping (what "
             "clip_grad_norm_ returns: it shows how large the gradient was)"),
            (max(float(np.linalg.norm(v)) for v in g.values()), "one norm over every entry of "
             "every array, not the largest of the arrays' norms"),
        ])
        for k in g:
            expect_array(f"{what}: {k}", expected[k], got[k], rtol=1e-9, value_hints=[
                (per_array[k], "one norm for all the arrays together: clipping each array by its "
                 "own norm changes the direction of the whole gradient"),
                (g[k] * max_norm / expected_total, "leave the gradient unchanged when its norm "
                 "is already at most max_norm: scale only down, never up"),
                (np.clip(g[k], -max_norm, max_norm), "that is clipping by value; here the whole "
                 "gradient is rescaled"),
            ])

    def below():
        compare(_grads(41, 0.1), 5.0, "a gradient of norm below 5: unchanged")

    def above():
        compare(_grads(42, 10.0), 5.0, "a gradient of norm about 60, clipped to 5")

    def unequal():
        g = {"dWaa": np.full((3, 3), 4.0), "dba": np.array([[0.1], [0.2], [-0.1]])}
        compare(g, 1.0, "one large array and one small one")

    def direction():
        g = _grads(43, 3.0)
        got, _ = run(g, 2.0)
        a = np.concatenate([v.ravel() for v in g.values()])
        b = np.concatenate([np.asarray(got[k], dtype=np.float64).ravel() for k in g])
        cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
        expect(abs(cos - 1) < 1e-9, f"the clipped gradient points in another direction "
               f"(cosine {cos:.6f} with the original)",
               "scale every array by the same factor, max_norm / total_norm")
        expect_close("the norm of the clipped gradient", 2.0, float(np.linalg.norm(b)), rtol=1e-9)

    def library():
        import minigrad
        import minigrad.nn as nn

        g = _grads(44, 5.0)
        params = []
        for v in g.values():
            p = minigrad.tensor(np.zeros_like(v), requires_grad=True)
            p.grad = minigrad.tensor(v.copy())
            params.append(p)
        total_lib = float(nn.utils.clip_grad_norm_(params, 3.0))
        got, total = run(g, 3.0)
        expect_close("the total norm against nn.utils.clip_grad_norm_", total_lib, total,
                     rtol=1e-9)
        for (k, _), p in zip(g.items(), params):
            # the library divides by total + 1e-6, hence the tolerance
            expect_array(f"{k} against nn.utils.clip_grad_norm_", p.grad.numpy(), got[k],
                         rtol=1e-6, check_dtype=False)

    return [
        Case("below max_norm: nothing changes", below),
        Case("above max_norm: scaled down to it", above),
        Case("one norm over all the arrays", unequal),
        Case("the direction is kept", direction),
        Case("the same as nn.utils.clip_grad_norm_", library),
    ]


# --------------------------------------------------------------------------------------------------
# 9.5  a residual RNN
# --------------------------------------------------------------------------------------------------


def _residual(x: np.ndarray, a0: np.ndarray, p: dict[str, np.ndarray], mistake: str | None = None
              ) -> np.ndarray:
    T = x.shape[2]
    a, a_t = np.zeros((a0.shape[0], x.shape[1], T)), a0
    for t in range(T):
        step = np.tanh(p["Waa"] @ a_t + p["Wax"] @ x[:, :, t] + p["ba"])
        if mistake == "plain":
            a_t = step
        elif mistake == "a0":
            a_t = a0 + step
        elif mistake == "inside":
            a_t = np.tanh(a_t + p["Waa"] @ a_t + p["Wax"] @ x[:, :, t] + p["ba"])
        else:
            a_t = a_t + step
        a[:, :, t] = a_t
    return a


@exercise("9.5", "residual_rnn_forward")
def check_residual_rnn_forward(fn: Callable[..., Any]) -> list[Case]:
    """Check ``residual_rnn_forward(x, a0, parameters)``: the states of
    ``a<t> = a<t-1> + tanh(W_aa a<t-1> + W_ax x<t> + b_a)``, shape ``(n_a, m, T_x)``."""

    def params(seed: int, n_x: int, n_a: int, zero: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        p = {"Waa": rng.normal(0, 0.4, (n_a, n_a)), "Wax": rng.normal(0, 0.6, (n_a, n_x)),
             "ba": rng.normal(0, 0.3, (n_a, 1))}
        for k in zero:
            p[k] = np.zeros_like(p[k])
        return p

    def compare(x, a0, p, what):
        got = call(fn, x.copy(), a0.copy(), {k: v.copy() for k, v in p.items()})
        n_a, (_, m, T) = a0.shape[0], x.shape
        expect_array(what, _residual(x, a0, p), got, rtol=1e-9, shape_hints=[
            ((n_a, m), "return every state, (n_a, m, T_x), not only the last"),
            ((T, n_a, m), "time is the last axis: a[:, :, t]"),
        ], value_hints=[
            (_residual(x, a0, p, "plain"), "the skip connection is missing: add a<t-1> to "
             "tanh(...)"),
            (_residual(x, a0, p, "a0"), "the skip connection adds the previous state a<t-1>, "
             "not a<0>"),
            (_residual(x, a0, p, "inside"), "add a<t-1> after the tanh, outside it"),
            (_residual(x, np.zeros_like(a0), p), "start from the given a0, not from zeros"),
        ])

    rng = np.random.default_rng(51)

    def bias_only():
        p = params(52, 2, 3, zero=("Waa", "Wax"))
        x = rng.normal(size=(2, 2, 4))
        compare(x, np.zeros((3, 2)), p, "W_aa = W_ax = 0: each step adds tanh(b_a)")

    def one_step():
        p = params(53, 3, 4)
        compare(rng.normal(size=(3, 2, 1)), np.zeros((4, 2)), p, "one step from a0 = 0")

    def from_a0():
        p = params(54, 3, 4)
        compare(rng.normal(size=(3, 2, 5)), rng.normal(size=(4, 2)), p, "5 steps from a given a0")

    def batch_of_one():
        p = params(55, 2, 5)
        compare(rng.normal(size=(2, 1, 7)), rng.normal(size=(5, 1)), p, "one example, 7 steps")

    def library():
        import minigrad
        from minigrad.recipes.agreement import ResidualRNN

        p = params(56, 3, 4)
        x = rng.normal(size=(3, 2, 6))
        layer = ResidualRNN(3, 4).double()
        layer.cell.load_state_dict({"weight_ih": p["Wax"], "weight_hh": p["Waa"],
                                    "bias_ih": p["ba"][:, 0], "bias_hh": np.zeros(4)})
        with minigrad.no_grad():
            out, _ = layer(minigrad.tensor(x.transpose(2, 1, 0)))
        expected = out.numpy().transpose(2, 1, 0)
        got = call(fn, x.copy(), np.zeros((4, 2)), {k: v.copy() for k, v in p.items()})
        expect_array("the states of minigrad.recipes.agreement.ResidualRNN", expected, got,
                     rtol=1e-9, check_dtype=False)

    return [
        Case("the skip connection alone (W_aa = W_ax = 0)", bias_only),
        Case("one step", one_step),
        Case("several steps from a given a0", from_a0),
        Case("a batch of one", batch_of_one),
        Case("the same as ResidualRNN of the chapter's sweep", library),
    ]
