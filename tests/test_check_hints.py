"""The usual mistakes that this stop's reviews taught the checks to name, each named.

Each wrong submission below is one mistake; its check must fail it and print the hint for it.
"""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.checks import ch01, ch02, ch03, ch13, ch14


def _softmax(z: np.ndarray, axis: int = 0) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _bias_outside_tanh(xt, a_prev, p):
    a_next = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt) + p["ba"]
    return a_next, _softmax(p["Wya"] @ a_next + p["by"])


def _layers_from_zeros(x, a0, layers):
    n_x, m, T_x = x.shape
    below, last = x, []
    for p in layers:
        states = np.zeros((p["Waa"].shape[0], m, T_x))
        a_t = np.zeros_like(a0[0])  # the mistake: a0 ignored
        for t in range(T_x):
            a_t = np.tanh(p["Waa"] @ a_t + p["Wax"] @ below[:, :, t] + p["ba"])
            states[:, :, t] = a_t
        last.append(a_t)
        below = states
    return below, np.stack(last)


def _mask_by_zero(s_prev, a, W_s, W_a, b, v, mask=None):
    e = np.tanh(a @ W_a.T + W_s @ s_prev + b) @ v
    if mask is not None:
        e = np.where(mask, e, 0.0)  # the mistake: 0 instead of -inf
    alpha = _softmax(e)
    return alpha, alpha @ a


def _positions_from_one(T, d):
    pos = np.arange(1, T + 1)[:, None]
    j = np.arange(d)[None, :]
    angle = pos / 10000.0 ** (2 * (j // 2) / d)
    return np.where(j % 2 == 0, np.sin(angle), np.cos(angle))


def _first_copy_only(grad, shape):  # keeps grad[0] instead of summing the broadcast copies
    while grad.ndim > len(shape):
        grad = grad[0]
    for i, size in enumerate(shape):
        if size == 1 and grad.shape[i] != 1:
            grad = np.take(grad, [0], axis=i)
    return grad


@pytest.mark.parametrize(
    ("check", "fn", "phrase"),
    [
        # W_ya taken as n_a x n_a (and b_y of n_a): the count of a missing b_y where n_a = n_y + 1
        (
            ch01.check_rnn_parameter_count,
            lambda n_x, n_a, n_y: n_a * (n_a + n_x + 1) + n_a * (n_a + 1),
            "W_ya maps a<t>",
        ),
        (ch02.check_unbroadcast, _first_copy_only, "kept the gradient of one copy"),
        (ch03.check_rnn_cell_forward, _bias_outside_tanh, "inside the tanh"),
        (ch14.check_additive_attention_step, _mask_by_zero, "must become -inf, not 0"),
        (ch14.check_positional_encoding, _positions_from_one, "positions start at 0"),
    ],
)
def test_the_mistake_is_named(check, fn, phrase: str, capsys) -> None:
    result = check(fn)
    out = capsys.readouterr().out
    assert not result.ok
    assert phrase in out, out


def test_a_last_from_zeros_is_named(capsys) -> None:
    """Not only the top states: a_last computed from zeros gets the same hint."""
    ch13.check_stacked_rnn_forward(_layers_from_zeros)
    lines = capsys.readouterr().out.splitlines()
    i = next(i for i, line in enumerate(lines) if "a_last" in line and "FAILED" in line)
    assert "layer l starts from a0[l]" in lines[i + 1]
