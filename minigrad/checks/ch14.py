"""Checks for chapter 14, *After RNNs: attention* (``exercises/14_attention.ipynb``).

=====  ==================================  ============================================
 no.   exercise                            check
=====  ==================================  ============================================
 14.1  ``causal_mask``                     :func:`check_causal_mask`
 14.2  ``scaled_dot_product_attention``    :func:`check_scaled_dot_product_attention`
 14.3  ``additive_attention_step``         :func:`check_additive_attention_step`
 14.4  ``positional_encoding``             :func:`check_positional_encoding`
=====  ==================================  ============================================

Everything is numpy. Sequences are rows: queries ``Q`` are ``(..., T_q, d)``, keys ``K``
``(..., T_k, d)``, values ``V`` ``(..., T_k, d_v)``; a mask is boolean and ``True`` where a
query *may* attend (PyTorch's convention). The additive attention of one decoder step takes the
encoder's outputs ``a`` as rows ``(T_x, n_a)`` and the decoder's previous state ``s_prev``
``(n_s,)``. The checks recognise the usual mistakes: no scaling or scaling by ``d`` instead of
``sqrt(d)``, a softmax over the wrong axis, a mask used the wrong way round or applied by zeroing
scores instead of setting them to minus infinity, a missing ``tanh``, an average instead of a
weighted sum, a mask that lets a position see the future, and sine and cosine swapped, their
frequencies off by a factor of two or multiplied instead of divided, or positions counted from 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect_array, fail

__all__ = [
    "check_additive_attention_step",
    "check_causal_mask",
    "check_positional_encoding",
    "check_scaled_dot_product_attention",
]


# --------------------------------------------------------------------------------------------------
# The references, and the usual mistakes
# --------------------------------------------------------------------------------------------------


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _sdpa(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: Any = None, scale: Any = None,
          fill: float = -np.inf, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    d = q.shape[-1]
    s = 1.0 / np.sqrt(d) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * s
    if mask is not None:
        scores = np.where(mask, scores, fill)
    w = _softmax(scores, axis=axis)
    return w @ v, w


def _additive(s_prev: np.ndarray, a: np.ndarray, p: dict[str, np.ndarray], mask: Any = None,
              tanh: bool = True, fill: float = -np.inf) -> tuple[np.ndarray, np.ndarray]:
    h = a @ p["W_a"].T + p["W_s"] @ s_prev + p["b"]
    e = (np.tanh(h) if tanh else h) @ p["v"]
    if mask is not None:
        e = np.where(mask, e, fill)
    alpha = _softmax(e)
    return alpha, alpha @ a


def _pe(T: int, d: int, base: float = 10000.0, two: bool = True, swap: bool = False,
        start: int = 0, multiply: bool = False) -> np.ndarray:
    pos = np.arange(start, start + T)[:, None]
    i = np.arange(d)[None, :]
    rate = base ** ((2 * (i // 2) if two else i) / d)
    angle = pos * rate if multiply else pos / rate
    even, odd = (np.cos, np.sin) if swap else (np.sin, np.cos)
    return np.where(i % 2 == 0, even(angle), odd(angle))


def _pe_halves(T: int, d: int) -> np.ndarray:
    pos = np.arange(T)[:, None]
    half = (d + 1) // 2
    angle = pos / 10000.0 ** (2 * np.arange(half)[None, :] / d)
    return np.concatenate([np.sin(angle), np.cos(angle)[:, : d - half]], axis=1)


def _pair(got: Any, what: str, names: str) -> tuple[Any, Any]:
    if got is None:
        fail(f"{what} returned None", f"return both arrays: return {names}")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{what}: expected two arrays ({names}), got {describe(got)}",
             f"return both, as a tuple: return {names}")
    return got[0], got[1]


def _unchanged(before: dict[str, np.ndarray], after: dict[str, np.ndarray], what: str) -> None:
    for k, v in before.items():
        if not np.array_equal(v, after[k]):
            fail(f"{what} changed its argument {k}",
                 "compute new arrays instead of changing the ones you are given in place")


# --------------------------------------------------------------------------------------------------
# 14.1  causal_mask
# --------------------------------------------------------------------------------------------------


@exercise("14.1", "causal_mask")
def check_causal_mask(fn: Any) -> list[Case]:
    """Check ``causal_mask(T) -> (T, T) bool``, true where query i may attend to key j <= i."""

    def one(T: int) -> None:
        got = call(fn, T)
        right = np.tril(np.ones((T, T), dtype=bool))
        if isinstance(got, np.ndarray) and got.shape == (T, T) and got.dtype != bool:
            fail(f"the mask for T = {T}: expected a boolean array, got dtype {got.dtype}",
                 "compare, or call .astype(bool): a mask of 0 and 1 is not a boolean mask "
                 "(indexing or np.where with it does something else)")
        expect_array(f"the mask for T = {T}", right, got,
                     value_hints=[(right.T, "transposed: row i is query i, and it may see the "
                                            "keys j <= i (a lower triangle, np.tril)"),
                                  (~right, "inverted: true means *may attend* here"),
                                  (np.tril(right, -1), "the diagonal is missing: a position may "
                                                       "attend to itself"),
                                  (np.triu(right.T, 1), "inverted and transposed: true where "
                                                        "j > i is what is forbidden")])

    return [
        Case("T = 4: a lower triangle, diagonal included", lambda: one(4)),
        Case("T = 1: the single position sees itself", lambda: one(1)),
        Case("T = 7", lambda: one(7)),
    ]


# --------------------------------------------------------------------------------------------------
# 14.2  scaled_dot_product_attention
# --------------------------------------------------------------------------------------------------


@exercise("14.2", "scaled_dot_product_attention")
def check_scaled_dot_product_attention(fn: Any) -> list[Case]:
    """Check ``scaled_dot_product_attention(Q, K, V, mask=None) -> (output, weights)``."""

    def run(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: Any = None):
        args = [q.copy(), k.copy(), v.copy()]
        got = call(fn, *args, mask=None if mask is None else mask.copy())
        _unchanged({"Q": q, "K": k, "V": v}, dict(zip("QKV", args)),
                   "scaled_dot_product_attention")
        return _pair(got, "scaled_dot_product_attention", "output, weights")

    def inputs(seed: int, lead: tuple[int, ...], tq: int, tk: int, d: int, dv: int):
        rng = np.random.default_rng(seed)
        return (rng.normal(size=(*lead, tq, d)) * 1.5, rng.normal(size=(*lead, tk, d)) * 1.5,
                rng.normal(size=(*lead, tk, dv)))

    def weight_hints(q, k, mask=None):
        d = q.shape[-1]
        scores = q @ np.swapaxes(k, -1, -2)
        hints = [(_sdpa(q, k, k, mask, scale=1.0)[1], "scale the scores by 1/sqrt(d): "
                  "Q K^T / sqrt(d), with d the queries' last dimension"),
                 (_sdpa(q, k, k, mask, scale=1.0 / d)[1], "divide by sqrt(d), not by d"),
                 (_sdpa(q, k, k, mask, scale=np.sqrt(d))[1], "divide by sqrt(d): you multiplied")]
        if q.shape[-2] > 1 and mask is None:
            hints.append((_softmax(scores / np.sqrt(d), axis=-2), "the softmax goes over the "
                          "keys (the last axis): each query's weights sum to 1"))
        if mask is not None:
            hints += [(_sdpa(q, k, k, ~mask)[1] if (~mask).any(-1).all() else np.zeros(1),
                       "the mask is the wrong way round: True means *may attend*"),
                      (_sdpa(q, k, k, mask, fill=0.0)[1], "a masked score must become -inf "
                       "(np.where(mask, scores, -np.inf)), not 0: exp(0) = 1 still gives it "
                       "weight"),
                      (_sdpa(q, k, k)[1], "the mask is ignored")]
        return hints

    def plain():
        q, k, v = inputs(1, (), 3, 4, 5, 2)
        out, w = run(q, k, v)
        right_out, right_w = _sdpa(q, k, v)
        expect_array("weights", right_w, w, check_dtype=False,
                     shape_hints=[((4, 3), "transposed: weights[i, j] is how much query i looks "
                                           "at key j, shape (T_q, T_k)")],
                     value_hints=weight_hints(q, k))
        expect_array("output", right_out, out, check_dtype=False,
                     shape_hints=[((3, 5), "the output is weights @ V, shape (T_q, d_v)")])

    def one_query():
        q, k, v = inputs(2, (), 1, 6, 4, 3)
        out, w = run(q, k, v)
        right_out, right_w = _sdpa(q, k, v)
        expect_array("weights (one query)", right_w, w, check_dtype=False,
                     value_hints=weight_hints(q, k))
        expect_array("output (one query)", right_out, out, check_dtype=False)

    def batched():
        q, k, v = inputs(3, (2, 3), 4, 5, 6, 2)
        out, w = run(q, k, v)
        right_out, right_w = _sdpa(q, k, v)
        expect_array("weights, batch of 2 x 3 heads", right_w, w, check_dtype=False,
                     shape_hints=[((2, 3, 5, 4), "transpose only the last two axes of K "
                                                 "(np.swapaxes(K, -1, -2)); K.T reverses all")],
                     value_hints=weight_hints(q, k))
        expect_array("output, batch of 2 x 3 heads", right_out, out, check_dtype=False)

    def masked():
        q, k, v = inputs(4, (), 4, 5, 3, 2)
        mask = np.random.default_rng(40).random((4, 5)) > 0.45
        mask[:, 2] = True
        mask[0, :] = [True, False, True, False, False]
        out, w = run(q, k, v, mask)
        right_out, right_w = _sdpa(q, k, v, mask)
        expect_array("weights with a mask", right_w, w, check_dtype=False,
                     value_hints=weight_hints(q, k, mask))
        expect_array("output with a mask", right_out, out, check_dtype=False)

    def causal():
        q, k, v = inputs(5, (2,), 5, 5, 4, 3)
        mask = np.tril(np.ones((5, 5), dtype=bool))
        out, w = run(q, k, v, mask)
        right_out, right_w = _sdpa(q, k, v, mask)
        expect_array("weights with a causal mask (broadcast over a batch of 2)", right_w, w,
                     check_dtype=False, value_hints=weight_hints(q, k, mask))
        expect_array("output with a causal mask", right_out, out, check_dtype=False)

    def large_scores():
        q, k, v = inputs(6, (), 2, 3, 4, 2)
        q, k = q * 40.0, k * 40.0
        out, w = run(q, k, v)
        right_out, right_w = _sdpa(q, k, v)
        if np.isnan(np.asarray(w, dtype=np.float64)).any():
            fail("weights: nan for large scores",
                 "subtract each row's maximum before np.exp (the softmax does not change)")
        expect_array("weights for scores in the hundreds", right_w, w, check_dtype=False)
        expect_array("output for scores in the hundreds", right_out, out, check_dtype=False)

    return [
        Case("3 queries, 4 keys, d = 5: the weights and the output", plain),
        Case("a single query", one_query),
        Case("a batch of 2 with 3 heads: leading dimensions", batched),
        Case("a boolean mask, True = may attend", masked),
        Case("a causal mask broadcast over the batch", causal),
        Case("large scores: no overflow", large_scores),
    ]


# --------------------------------------------------------------------------------------------------
# 14.3  additive_attention_step
# --------------------------------------------------------------------------------------------------


def _additive_params(n_s: int, n_a: int, n_e: int, seed: int, zero: tuple[str, ...] = ()
                     ) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = {"W_s": rng.normal(size=(n_e, n_s)), "W_a": rng.normal(size=(n_e, n_a)),
         "b": rng.normal(size=n_e) * 0.5, "v": rng.normal(size=n_e) * 1.5}
    for k in zero:
        p[k] = np.zeros_like(p[k])
    return p


@exercise("14.3", "additive_attention_step")
def check_additive_attention_step(fn: Any) -> list[Case]:
    """Check ``additive_attention_step(s_prev, a, W_s, W_a, b, v, mask=None) -> (alpha, c)``."""

    def run(s_prev, a, p, mask=None):
        args = {"s_prev": s_prev.copy(), "a": a.copy(), **{k: x.copy() for k, x in p.items()}}
        got = call(fn, args["s_prev"], args["a"], args["W_s"], args["W_a"], args["b"], args["v"],
                   mask=None if mask is None else mask.copy())
        _unchanged({"s_prev": s_prev, "a": a, **p}, args, "additive_attention_step")
        return _pair(got, "additive_attention_step", "alpha, context")

    def data(seed: int, T_x: int, n_a: int, n_s: int, n_e: int, zero: tuple[str, ...] = ()):
        rng = np.random.default_rng(seed)
        return (rng.normal(size=n_s), rng.normal(size=(T_x, n_a)),
                _additive_params(n_s, n_a, n_e, seed, zero))

    def alpha_hints(s_prev, a, p, mask=None):
        h = a @ p["W_a"].T + p["W_s"] @ s_prev + p["b"]
        e = np.tanh(h) @ p["v"]
        return [(e, "alpha is the softmax of the energies e<t'>, not the energies themselves"),
                (_additive(s_prev, a, p, mask, tanh=False)[0], "apply tanh before the dot "
                 "product with v: e<t'> = v . tanh(W_s s<t-1> + W_a a<t'> + b)"),
                (_softmax(np.tanh(a @ p["W_a"].T + p["b"]) @ p["v"]), "the decoder's state "
                 "s_prev is missing: W_s s<t-1> enters every energy"),
                (_softmax(np.tanh(a @ p["W_a"].T + p["W_s"] @ s_prev) @ p["v"]),
                 "the bias b is missing")]

    def context_hints(alpha, a):
        return [(a.mean(0), "the context is the alpha-weighted sum of the a<t'>, not their "
                            "plain average"),
                (a[-1], "the context weighs every a<t'>, not only the last one")]

    def weights_and_context(seed, T_x, n_a, n_s, n_e, zero=(), what=""):
        def case():
            s_prev, a, p = data(seed, T_x, n_a, n_s, n_e, zero)
            alpha, c = run(s_prev, a, p)
            right_alpha, right_c = _additive(s_prev, a, p)
            expect_array(f"alpha{what}", right_alpha, alpha, check_dtype=False,
                         shape_hints=[((T_x, 1), "alpha is a vector of T_x weights, shape "
                                                 "(T_x,)"),
                                      ((1, T_x), "alpha is a vector of T_x weights, shape "
                                                 "(T_x,)")],
                         value_hints=alpha_hints(s_prev, a, p))
            expect_array(f"context{what}", right_c, c, check_dtype=False,
                         shape_hints=[((T_x, n_a), "sum over the source positions: the context "
                                                   "is one vector of n_a numbers")],
                         value_hints=context_hints(right_alpha, a))
        return case

    def state_matters():
        s_prev, a, p = data(24, 5, 3, 4, 6)
        alpha1, _ = run(s_prev, a, p)
        alpha2, _ = run(-2.0 * s_prev, a, p)
        expect_array("alpha for another s_prev", _additive(-2.0 * s_prev, a, p)[0], alpha2,
                     check_dtype=False, value_hints=alpha_hints(-2.0 * s_prev, a, p))
        if np.allclose(np.asarray(alpha1, dtype=float), np.asarray(alpha2, dtype=float)):
            fail("alpha does not change with s_prev: the decoder must choose where to look")

    def masked():
        s_prev, a, p = data(25, 6, 3, 4, 5)
        mask = np.array([True, True, True, True, False, False])
        alpha, c = run(s_prev, a, p, mask)
        right_alpha, right_c = _additive(s_prev, a, p, mask)
        expect_array("alpha with the last two positions padding", right_alpha, alpha,
                     check_dtype=False,
                     value_hints=[(_additive(s_prev, a, p)[0], "the mask is ignored: padded "
                                   "positions must get alpha = 0"),
                                  (_additive(s_prev, a, p, mask, fill=0.0)[0], "a masked "
                                   "energy must become -inf, not 0: exp(0) = 1 still gives "
                                   "the padding weight"),
                                  *alpha_hints(s_prev, a, p, mask)])
        expect_array("context with padding", right_c, c, check_dtype=False)

    return [
        Case("W_a a<t'> alone (W_s and b zero): alpha", weights_and_context(
            21, 4, 3, 2, 5, zero=("W_s", "b"), what=" (W_s = 0, b = 0)")),
        Case("all terms, T_x = 6, n_a = 4, n_s = 3, n_e = 5", weights_and_context(
            22, 6, 4, 3, 5)),
        Case("one source position: alpha = [1]", weights_and_context(23, 1, 3, 2, 4)),
        Case("another decoder state, another alpha", state_matters),
        Case("padding masked out", masked),
    ]


# --------------------------------------------------------------------------------------------------
# 14.4  positional_encoding
# --------------------------------------------------------------------------------------------------


@exercise("14.4", "positional_encoding")
def check_positional_encoding(fn: Any) -> list[Case]:
    """Check ``positional_encoding(T, d) -> (T, d)``: sines in even columns, cosines in odd."""

    def one(T: int, d: int) -> None:
        got = call(fn, T, d)
        expect_array(f"the encoding for T = {T}, d = {d}", _pe(T, d), got, check_dtype=False,
                     rtol=1e-6, atol=1e-8,
                     shape_hints=[((d, T), "transposed: one row per position, shape (T, d)")],
                     value_hints=[(_pe(T, d, swap=True), "sine and cosine swapped: even "
                                   "columns (0, 2, ...) hold the sines"),
                                  (_pe(T, d, two=False), "columns 2i and 2i+1 share one "
                                   "frequency, 1 / 10000^(2i/d): use 2*(j//2), not j, in the "
                                   "exponent of column j"),
                                  (_pe_halves(T, d), "interleave: sin in column 2i, cos in "
                                   "column 2i+1 (not all sines then all cosines)"),
                                  (_pe(T, d, start=1), "the positions start at 0 "
                                   "(np.arange(T)), not at 1"),
                                  (_pe(T, d, multiply=True), "divide the position by "
                                   "10000^(2i/d); you multiplied")])

    return [
        Case("T = 5, d = 4", lambda: one(5, 4)),
        Case("T = 50, d = 16: slow and fast frequencies", lambda: one(50, 16)),
        Case("one position (T = 1): sin 0 = 0, cos 0 = 1", lambda: one(1, 6)),
        Case("odd d = 5: the last column is a sine", lambda: one(7, 5)),
    ]
