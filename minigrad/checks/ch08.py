"""Checks for chapter 8, *Sampling novel sequences* (``exercises/08_sampling.ipynb``).

=====  ==============================  ===================================
 no.   exercise                        check
=====  ==============================  ===================================
 8.1   ``softmax_with_temperature``    :func:`check_softmax_with_temperature`
 8.2   ``top_k_filter``                :func:`check_top_k_filter`
 8.3   ``top_p_filter``                :func:`check_top_p_filter`
 8.4   ``sample``                      :func:`check_sample`
=====  ==============================  ===================================

The first three take and return 1-D numpy arrays (logits, or a probability vector) and are compared
with :func:`minigrad.sampling.next_token_probs`. The last runs the student's sampling loop on small
RNNs in the notes' layout (``parameters`` a dict with ``"Wax"``, ``"Waa"``, ``"Wya"``, ``"ba"``,
``"by"``, columns as vectors) with a seeded generator, and compares the drawn ids with a reference
loop that makes the same draws. The values the usual mistakes give (multiplying by the temperature,
no renormalisation, keeping one token too many or too few, sorting the wrong way, not feeding the
drawn token back, not stopping at ``<EOS>``) are recognised and named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..sampling import next_token_probs
from .framework import Case, call, describe, exercise, expect, expect_array, fail

__all__ = [
    "check_softmax_with_temperature",
    "check_top_k_filter",
    "check_top_p_filter",
    "check_sample",
]


def _probs(seed: int, V: int) -> np.ndarray:
    p = np.random.default_rng(seed).dirichlet(np.ones(V) * 0.7)
    return p


def _as_vector(name: str, got: Any, n: int) -> np.ndarray:
    if got is None:
        fail(f"{name}: expected an array of {n} probabilities, got None",
             "did you forget to return it?")
    from ..tensor import Tensor

    arr = np.asarray(got.data if isinstance(got, Tensor) else got)
    if arr.dtype == object or arr.dtype.kind not in "fiub":
        fail(f"{name}: expected an array of numbers, got {describe(got)}")
    return arr.astype(np.float64)


# --------------------------------------------------------------------------------------------------
# 8.1  softmax with a temperature
# --------------------------------------------------------------------------------------------------


@exercise("8.1", "the softmax at a temperature")
def check_softmax_with_temperature(fn: Callable[..., Any]) -> list[Case]:
    """Check ``softmax_with_temperature(logits, temperature) -> probs``:
    ``softmax(logits / temperature)`` for a 1-D array of logits and ``temperature > 0``. Cases:
    temperature 1 (the plain softmax), a low and a high temperature, equal logits, and logits in
    the thousands (which overflow ``exp`` unless the maximum is subtracted first)."""

    def ref(z: np.ndarray, t: float) -> np.ndarray:
        return next_token_probs(z, temperature=t)

    def hints(z: np.ndarray, t: float) -> list[tuple[np.ndarray, str]]:
        e = np.exp(z - z.max())
        return [
            (ref(z, 1.0), "the temperature is missing: divide the logits by it before the "
             "softmax"),
            (ref(z * t, 1.0) if t != 0 else ref(z, 1.0), "divide the logits by the temperature; "
             "do not multiply them"),
            (e ** (1 / t), "normalise: divide by the sum so that the probabilities add up to 1"),
            (e / e.sum() / t, "the temperature divides the logits inside the exponential, not the "
             "probabilities"),
        ]

    def run(z: np.ndarray, t: float, label: str) -> None:
        got = _as_vector(label, call(fn, z.copy(), t), len(z))
        if np.isnan(got).any():
            fail(f"{label}: got nan", "exp of a large logit overflows to inf, and inf / inf is "
                 "nan: subtract the largest logit before the exponential (it does not change the "
                 "softmax)")
        expect_array(label, ref(z, t), got, check_dtype=False, rtol=1e-6, atol=1e-12,
                     value_hints=hints(z, t),
                     shape_hints=[((1, len(z)), "return a 1-D array like the logits")])

    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 6)
    return [
        Case("temperature 1: the plain softmax", lambda: run(z, 1.0, "tau = 1")),
        Case("a low temperature sharpens", lambda: run(z, 0.3, "tau = 0.3")),
        Case("a high temperature flattens", lambda: run(z, 4.0, "tau = 4")),
        Case("equal logits give a uniform distribution",
             lambda: run(np.full(5, 2.5), 0.7, "5 equal logits, tau = 0.7")),
        Case("large logits (overflow)",
             lambda: run(np.array([1000.0, 998.0, 990.0, 1001.0]), 0.5, "logits near 1000, "
                         "tau = 0.5")),
    ]


# --------------------------------------------------------------------------------------------------
# 8.2  top-k
# --------------------------------------------------------------------------------------------------


@exercise("8.2", "top-k filtering")
def check_top_k_filter(fn: Callable[..., Any]) -> list[Case]:
    """Check ``top_k_filter(probs, k) -> probs``: zero every probability but the ``k`` largest and
    renormalise. Cases: k = 1 (greedy), a middle k, k equal to the vocabulary (nothing changes),
    and unsorted input; the input array must not be modified."""

    def ref(p: np.ndarray, k: int) -> np.ndarray:
        return next_token_probs(np.log(p), top_k=k)

    def hints(p: np.ndarray, k: int) -> list[tuple[np.ndarray, str]]:
        order = np.argsort(-p, kind="stable")
        out = []
        kept = np.where(np.isin(np.arange(len(p)), order[:k]), p, 0.0)
        out.append((kept, "renormalise the kept probabilities so that they add up to 1"))
        smallest = np.where(np.isin(np.arange(len(p)), order[len(p) - k:]), p, 0.0)
        out.append((smallest / smallest.sum(), "keep the k *largest* probabilities (sort in "
                    "decreasing order, or take the end of an increasing sort)"))
        for kk, text in ((k + 1, "one token too many: keep exactly k"),
                         (k - 1, "one token too few: keep exactly k")):
            if 1 <= kk <= len(p):
                out.append((ref(p, kk), text))
        return out

    def run(p: np.ndarray, k: int, label: str) -> None:
        before = p.copy()
        got = _as_vector(label, call(fn, p, k), len(p))
        expect(np.array_equal(p, before), f"{label}: your function changed its input array",
               "work on a copy (np.where, or p.copy()) and return a new array")
        expect_array(label, ref(before, k), got, check_dtype=False, rtol=1e-9, atol=1e-12,
                     value_hints=hints(before, k))

    p = _probs(1, 8)
    return [
        Case("k = 1 keeps only the most likely token", lambda: run(p.copy(), 1, "k = 1")),
        Case("k = 3 of 8 tokens", lambda: run(p.copy(), 3, "k = 3")),
        Case("k = the vocabulary size changes nothing", lambda: run(p.copy(), 8, "k = 8")),
        Case("another distribution, k = 4", lambda: run(_probs(2, 10), 4, "k = 4 of 10")),
    ]


# --------------------------------------------------------------------------------------------------
# 8.3  top-p
# --------------------------------------------------------------------------------------------------


@exercise("8.3", "top-p (nucleus) filtering")
def check_top_p_filter(fn: Callable[..., Any]) -> list[Case]:
    """Check ``top_p_filter(probs, p) -> probs``: keep the smallest set of most likely tokens whose
    probabilities add up to at least ``p``, zero the others and renormalise. Cases: a confident
    distribution (one token passes p by itself), a flat one (many tokens needed), p = 1 (nothing
    changes) and a threshold reached exactly."""

    def ref(q: np.ndarray, top_p: float) -> np.ndarray:
        return next_token_probs(np.log(q), top_p=top_p)

    def hints(q: np.ndarray, top_p: float) -> list[tuple[np.ndarray, str]]:
        order = np.argsort(-q, kind="stable")
        csum = np.cumsum(q[order])
        out = []
        n_keep = int(np.sum(csum - q[order] < top_p - 1e-12))
        kept = np.zeros_like(q)
        kept[order[:n_keep]] = q[order[:n_keep]]
        out.append((kept, "renormalise the kept probabilities so that they add up to 1"))
        if n_keep > 1:  # stopped before the token that crosses p
            fewer = np.zeros_like(q)
            fewer[order[: n_keep - 1]] = q[order[: n_keep - 1]]
            out.append((fewer / fewer.sum(), "keep the token that takes the total to p or beyond: "
                        "the set must add up to *at least* p"))
        more = np.zeros_like(q)
        more[order[: n_keep + 1]] = q[order[: n_keep + 1]]
        out.append((more / more.sum(), "one token too many: stop as soon as the total reaches p"))
        unsorted = np.cumsum(q) - q < top_p
        un = np.where(unsorted, q, 0.0)
        out.append((un / un.sum(), "sort the probabilities from the largest down before adding "
                    "them up: the nucleus is made of the most likely tokens"))
        return out

    def run(q: np.ndarray, top_p: float, label: str) -> None:
        before = q.copy()
        got = _as_vector(label, call(fn, q, top_p), len(q))
        expect(np.array_equal(q, before), f"{label}: your function changed its input array",
               "work on a copy and return a new array")
        expect_array(label, ref(before, top_p), got, check_dtype=False, rtol=1e-9, atol=1e-12,
                     value_hints=hints(before, top_p))

    confident = np.array([0.02, 0.9, 0.05, 0.03])
    flat = _probs(3, 12) * 0.5 + 0.5 / 12
    flat /= flat.sum()
    exact = np.array([0.1, 0.5, 0.25, 0.15])  # 0.5 + 0.25 = 0.75 exactly
    return [
        Case("a confident model: one token is enough", lambda: run(confident, 0.8, "p = 0.8")),
        Case("a flat distribution needs many tokens", lambda: run(flat, 0.7, "p = 0.7 of 12")),
        Case("p = 1 keeps every token", lambda: run(_probs(4, 6), 1.0, "p = 1")),
        Case("the total reaches p exactly", lambda: run(exact, 0.75, "p = 0.75")),
        Case("unsorted probabilities", lambda: run(_probs(5, 9), 0.6, "p = 0.6 of 9")),
    ]


# --------------------------------------------------------------------------------------------------
# 8.4  the sampling loop
# --------------------------------------------------------------------------------------------------


def _rnn_params(seed: int, n_x: int, n_a: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"Wax": rng.normal(0, scale, (n_a, n_x)), "Waa": rng.normal(0, scale * 0.5, (n_a, n_a)),
            "Wya": rng.normal(0, scale, (n_x, n_a)), "ba": rng.normal(0, 0.3, (n_a, 1)),
            "by": rng.normal(0, 0.3, (n_x, 1))}


def _sample_ref(p: dict[str, np.ndarray], eos: int, max_length: int, seed: int,
                mistake: str | None = None, start: int | None = None) -> list[int]:
    rng = np.random.default_rng(seed)
    n_a, n_x = p["Wax"].shape
    a, x, out = np.zeros((n_a, 1)), np.zeros((n_x, 1)), []
    if start is not None and mistake != "start ignored":
        x[start] = 1.0
    while len(out) < max_length:
        if mistake == "state reset":
            a = np.zeros((n_a, 1))
        a = np.tanh(p["Waa"] @ a + p["Wax"] @ x + p["ba"])
        z = p["Wya"] @ a + p["by"]
        y = np.exp(z - z.max())
        y = (y / y.sum())[:, 0]
        idx = int(np.argmax(y)) if mistake == "greedy" else int(rng.choice(n_x, p=y))
        out.append(idx)
        if idx == eos and mistake != "no stop":
            break
        if mistake != "no feedback":
            x = np.zeros((n_x, 1))
            x[idx] = 1.0
    if mistake == "eos dropped" and out and out[-1] == eos:
        out = out[:-1]
    return out


_SAMPLE_MISTAKES = {
    "no feedback": "feed each drawn token back: the next input x<t+1> is the one-hot vector of "
    "the token just drawn",
    "state reset": "carry the state: a<t> is computed from a<t-1>, not from zeros at every step",
    "greedy": "draw at random with rng.choice(n_y, p=y_hat), do not take the argmax",
    "no stop": "stop as soon as the drawn token is eos",
    "eos dropped": "keep the final eos in the list you return (it tells where the sequence ended)",
    "start ignored": "with start given, the first input x<1> is the one-hot vector of start, not "
    "zeros",
}


@exercise("8.4", "the sampling loop")
def check_sample(fn: Callable[..., Any]) -> list[Case]:
    """Check ``sample(parameters, eos, max_length, rng, start=None) -> list of ids``: the notes'
    loop from ``a<0> = 0`` and ``x<1> = 0`` (or the one-hot vector of ``start``), one
    ``rng.choice(n_y, p=y_hat)`` per step, each drawn token fed back as a one-hot input, ending with
    ``eos`` (kept) or after ``max_length`` tokens. The drawn ids are compared with a reference loop
    that uses a generator with the same seed."""

    def run(p: dict[str, np.ndarray], eos: int, max_length: int, seed: int, label: str,
            start: int | None = None) -> None:
        args = ({k: v.copy() for k, v in p.items()}, eos, max_length, np.random.default_rng(seed))
        got = call(fn, *args) if start is None else call(fn, *args, start=start)
        if got is None:
            fail(f"{label}: got None", "return the list of drawn token ids")
        try:
            ids = [int(i) for i in got]
        except (TypeError, ValueError):
            fail(f"{label}: expected a list of token ids, got {describe(got)}")
        expected = _sample_ref(p, eos, max_length, seed, start=start)
        if ids == expected:
            return
        hint = None
        for m, text in _SAMPLE_MISTAKES.items():
            if ids == _sample_ref(p, eos, max_length, seed, m, start=start):
                hint = text
                break
        if hint is None and len(ids) > max_length:
            hint = f"stop after max_length = {max_length} tokens"
        if hint is None and ids[: len(expected)] == expected[: len(ids)]:
            hint = ("the first tokens agree: check where the loop stops (at eos, kept, or after "
                    "max_length tokens)")
        if hint is None and ids and expected and ids[0] != expected[0]:
            hint = ("the first token already differs: start from a<0> = 0 and x<1> = 0, and draw "
                    "exactly once per step with rng.choice(n_y, p=y_hat[:, 0])")
        fail(f"{label}: expected the ids {expected}, got {ids}", hint)

    def certain_eos():
        p = _rnn_params(20, 5, 4)
        p["by"][:] = -50.0
        p["by"][2, 0] = 50.0  # eos is certain at the first step
        run(p, 2, 10, 0, "a model sure to end at once")

    def short():
        run(_rnn_params(21, 6, 5, 1.5), 0, 25, 6, "6 tokens, eos = 0: ends at eos")

    def capped():
        p = _rnn_params(22, 5, 4)
        p["Wya"][3] = 0.0  # eos (3) is never drawn: the cap stops the loop
        p["by"][3] = -40.0
        run(p, 3, 12, 2, "eos never drawn: stop after max_length = 12")

    def several():
        p = _rnn_params(23, 8, 6, 1.2)
        for seed in range(5):
            run(p, 7, 40, 10 + seed, f"8 tokens, eos = 7, seed {10 + seed}")

    def depends_on_input():
        p = _rnn_params(24, 6, 5, 2.5)  # large weights: the next token depends on the input
        run(p, 5, 30, 3, "a model whose next token depends on the last one")

    def from_token():
        p = _rnn_params(25, 6, 5, 2.5)
        for start in (0, 3):
            run(p, 0, 30, 4 + start, f"start = {start}: x<1> is its one-hot vector", start=start)

    return [
        Case("eos at the first step", certain_eos),
        Case("a short sequence", short),
        Case("max_length when eos never comes", capped),
        Case("five seeds", several),
        Case("the drawn token is fed back", depends_on_input),
        Case("starting from a token instead of zeros", from_token),
    ]
