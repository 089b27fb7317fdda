"""Checks for chapter 10, *Gated recurrent units* (``exercises/10_gru.ipynb``).

=====  ================================  =========================================
 no.   exercise                          check
=====  ================================  =========================================
 10.1  ``simplified_gru_cell_forward``   :func:`check_simplified_gru_cell_forward`
 10.2  ``gru_cell_forward``              :func:`check_gru_cell_forward`
 10.3  ``gru_jacobian``                  :func:`check_gru_jacobian`
 10.4  ``gru_state_dict``                :func:`check_gru_state_dict`
=====  ================================  =========================================

The notation is the notes': examples are columns, ``xt`` is ``(n_x, m)`` and ``c_prev`` is
``(n_a, m)``. Every weight acts on the concatenation ``[c<t-1>; x<t>]`` (the memory cell first),
so ``Wc``, ``Wu`` and ``Wr`` are ``(n_a, n_a + n_x)`` and ``bc``, ``bu``, ``br`` are ``(n_a, 1)``::

    Gamma_u = sigmoid(Wu [c<t-1>; x<t>] + bu)
    Gamma_r = sigmoid(Wr [c<t-1>; x<t>] + br)
    c~<t>   = tanh(Wc [Gamma_r * c<t-1>; x<t>] + bc)        (simplified GRU: Gamma_r = 1)
    c<t>    = Gamma_u * c~<t> + (1 - Gamma_u) * c<t-1>

The cell checks open and close each gate in turn (a bias of +-30 saturates a sigmoid), so that a
failure names the part that is off, and recognise the usual mistakes: the roles of ``Gamma_u`` and
``1 - Gamma_u`` swapped, the concatenation in the wrong order, the relevance gate applied to the
whole concatenation or after the product (PyTorch's placement). The Jacobian is compared with
central differences and each of its three terms is tested alone. The last check loads the
student's state dict into :class:`minigrad.nn.GRU` and compares whole sequences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .framework import Case, call, describe, exercise, expect, expect_array, fail

__all__ = [
    "check_simplified_gru_cell_forward",
    "check_gru_cell_forward",
    "check_gru_jacobian",
    "check_gru_state_dict",
]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _params(n_x: int, n_a: int, seed: int, reset: bool = True, scale: float = 0.7
            ) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = ("c", "u", "r") if reset else ("c", "u")
    p: dict[str, np.ndarray] = {}
    for k in names:
        p[f"W{k}"] = rng.normal(0, scale, (n_a, n_a + n_x))
        p[f"b{k}"] = rng.normal(0, 0.5, (n_a, 1))
    return p


def _gate(p: dict[str, np.ndarray], k: str, bias: float) -> dict[str, np.ndarray]:
    """A copy of ``p`` whose gate ``k`` is constant: weights zero, every bias ``bias``."""
    q = {name: v.copy() for name, v in p.items()}
    q[f"W{k}"] = np.zeros_like(q[f"W{k}"])
    q[f"b{k}"] = np.full_like(q[f"b{k}"], bias)
    return q


def _cell(xt: np.ndarray, c_prev: np.ndarray, p: dict[str, np.ndarray],
          mistake: str | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    n_a = c_prev.shape[0]
    s = np.concatenate([xt, c_prev]) if mistake == "order" else np.concatenate([c_prev, xt])
    gu = _sigmoid(p["Wu"] @ s + p["bu"])
    gates = {"gamma_u": gu}
    if "Wr" in p:
        gr = _sigmoid(p["Wr"] @ s + p["br"])
        gates["gamma_r"] = gr
        if mistake == "after":
            ct = np.tanh(gr * (p["Wc"][:, :n_a] @ c_prev) + p["Wc"][:, n_a:] @ xt + p["bc"])
        elif mistake == "no reset":
            ct = np.tanh(p["Wc"] @ s + p["bc"])
        elif mistake == "order":
            ct = np.tanh(p["Wc"] @ np.concatenate([xt, gr * c_prev]) + p["bc"])
        else:
            ct = np.tanh(p["Wc"] @ np.concatenate([gr * c_prev, xt]) + p["bc"])
    else:
        ct = np.tanh(p["Wc"] @ s + p["bc"])
    gates["c_tilde"] = ct
    if mistake == "swap":
        c = (1 - gu) * ct + gu * c_prev
    else:
        c = gu * ct + (1 - gu) * c_prev
    return c, gates


def _mistakes(xt: np.ndarray, c_prev: np.ndarray, p: dict[str, np.ndarray]
              ) -> list[tuple[np.ndarray, str]]:
    out = [
        (_cell(xt, c_prev, p, "swap")[0], "the roles of the gate are swapped: c<t> = Gamma_u * "
         "c~<t> + (1 - Gamma_u) * c<t-1>, so an open gate (Gamma_u = 1) takes the candidate"),
        (_cell(xt, c_prev, p, "order")[0], "the concatenation is [c<t-1>; x<t>], the memory cell "
         "first: np.concatenate([c_prev, xt]) (or [Gamma_r * c_prev, xt])"),
    ]
    if "Wr" in p:
        out += [
            (_cell(xt, c_prev, p, "after")[0], "the relevance gate multiplies c<t-1> before the "
             "product, W_c [Gamma_r * c<t-1>; x<t>]; multiplying W_cc c<t-1> after it is "
             "PyTorch's GRU, a different model"),
            (_cell(xt, c_prev, p, "no reset")[0], "the candidate ignores the relevance gate: "
             "c~<t> = tanh(W_c [Gamma_r * c<t-1>; x<t>] + b_c)"),
        ]
    return out


_TILDE_MISTAKES = [
    ("after", "the relevance gate multiplies c<t-1> before the product, W_c [Gamma_r * c<t-1>; "
     "x<t>]; multiplying W_cc c<t-1> after it is PyTorch's GRU, a different model"),
    ("no reset", "the candidate ignores the relevance gate: c~<t> = tanh(W_c [Gamma_r * c<t-1>; "
     "x<t>] + b_c)"),
    ("order", "the concatenation is [c<t-1>; x<t>], the memory cell first: "
     "np.concatenate([c_prev, xt])"),
]


def _unpack(out: Any, what: str, keys: tuple[str, ...]) -> tuple[Any, dict[str, Any]]:
    if out is None:
        fail(f"{what} returned None", "return c_next, gates")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"{what} returned {describe(out)}, expected a pair (c_next, gates)",
             "return c_next, {" + ", ".join(f'"{k}": ...' for k in keys) + "}")
    c, gates = out
    if not isinstance(gates, dict):
        fail(f"{what}: the second value is {describe(gates)}, expected a dict of the gates",
             "return c_next, {" + ", ".join(f'"{k}": ...' for k in keys) + "}")
    missing = [k for k in keys if k not in gates]
    if missing:
        fail(f"{what}: the gates have no key {missing[0]!r} (they have {sorted(gates)})",
             "the keys are " + ", ".join(repr(k) for k in keys))
    return c, gates


def _cell_cases(fn: Callable[..., Any], reset: bool, what: str) -> list[Case]:
    keys = ("c_tilde", "gamma_u", "gamma_r") if reset else ("c_tilde", "gamma_u")

    def compare(xt, c_prev, p, label):
        args = (xt.copy(), c_prev.copy(), {k: v.copy() for k, v in p.items()})
        c, gates = _unpack(call(fn, *args), what, keys)
        c_ref, g_ref = _cell(xt, c_prev, p)
        tilde_hints = [(_cell(xt, c_prev, p, bad)[1]["c_tilde"], text)
                       for bad, text in _TILDE_MISTAKES if reset or bad == "order"]
        for k in keys:
            expect_array(f"{label}: {k}", g_ref[k], gates[k], rtol=1e-9,
                         shape_hints=[((c_prev.shape[0],), "keep the column shape (n_a, m)")],
                         value_hints=tilde_hints if k == "c_tilde" else [])
        expect_array(f"{label}: c_next", c_ref, c, rtol=1e-9,
                     shape_hints=[((c_prev.shape[0],), "keep the column shape (n_a, m)")],
                     value_hints=_mistakes(xt, c_prev, p))

    rng = np.random.default_rng(61 if reset else 71)
    n_x, n_a, m = 3, 4, 2
    base = _params(n_x, n_a, 62 if reset else 72, reset)
    if reset:
        base_open_r = _gate(base, "r", 30.0)
    else:
        base_open_r = base

    def closed():
        compare(rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)),
                _gate(base_open_r, "u", -30.0), "update gate closed (Gamma_u = 0): c<t> = c<t-1>")

    def opened():
        compare(rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)),
                _gate(base_open_r, "u", 30.0), "update gate open (Gamma_u = 1): c<t> = c~<t>, an "
                "RNN step")

    def half():
        compare(rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)),
                _gate(base_open_r, "u", 0.0), "Gamma_u = 0.5: the average of c~<t> and c<t-1>")

    def general():
        compare(rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)), base, "random weights")

    def one():
        compare(rng.normal(size=(n_x, 1)), rng.normal(size=(n_a, 1)), base, "a batch of one")

    cases = [
        Case("the update gate closed", closed),
        Case("the update gate open", opened),
        Case("the update gate half open", half),
    ]
    if reset:
        def reset_closed():
            compare(rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)),
                    _gate(_gate(base, "u", 30.0), "r", -30.0),
                    "relevance gate closed (Gamma_r = 0): c~<t> ignores c<t-1>")

        def reset_only():
            compare(rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)), _gate(base, "u", 30.0),
                    "update gate open, relevance gate random")

        cases += [Case("the relevance gate closed", reset_closed),
                  Case("the relevance gate alone", reset_only)]
    return cases + [Case("every gate random", general), Case("a batch of one", one)]


@exercise("10.1", "simplified_gru_cell_forward")
def check_simplified_gru_cell_forward(fn: Callable[..., Any]) -> list[Case]:
    """Check ``simplified_gru_cell_forward(xt, c_prev, parameters) -> (c_next, gates)`` with
    ``gates = {"c_tilde": ..., "gamma_u": ...}``; ``parameters`` holds ``Wc, bc, Wu, bu``."""
    return _cell_cases(fn, reset=False, what="simplified_gru_cell_forward")


@exercise("10.2", "gru_cell_forward")
def check_gru_cell_forward(fn: Callable[..., Any]) -> list[Case]:
    """Check ``gru_cell_forward(xt, c_prev, parameters) -> (c_next, gates)`` with
    ``gates = {"c_tilde": ..., "gamma_u": ..., "gamma_r": ...}``."""
    return _cell_cases(fn, reset=True, what="gru_cell_forward")


# --------------------------------------------------------------------------------------------------
# 10.3  the Jacobian dc<t>/dc<t-1>
# --------------------------------------------------------------------------------------------------


def _jacobian(xt: np.ndarray, c: np.ndarray, p: dict[str, np.ndarray], drop: str | None = None
              ) -> np.ndarray:
    n_a = c.shape[0]
    _, g = _cell(xt, c, p)
    gu, gr, ct = g["gamma_u"][:, 0], g["gamma_r"][:, 0], g["c_tilde"][:, 0]
    cc = c[:, 0]
    d_gu = (gu * (1 - gu))[:, None] * p["Wu"][:, :n_a]
    d_gr = (gr * (1 - gr))[:, None] * p["Wr"][:, :n_a]
    inner = np.diag(gr) + (0 if drop == "reset path" else cc[:, None] * d_gr)
    d_ct = (1 - ct**2)[:, None] * (p["Wc"][:, :n_a] @ inner)
    J = (0 if drop == "identity" else np.diag(1 - gu)) + gu[:, None] * d_ct
    if drop != "gate":
        J = J + (ct - cc)[:, None] * d_gu
    return J


def _numerical(xt: np.ndarray, c: np.ndarray, p: dict[str, np.ndarray], h: float = 1e-6
               ) -> np.ndarray:
    n_a = c.shape[0]
    J = np.zeros((n_a, n_a))
    for j in range(n_a):
        e = np.zeros((n_a, 1))
        e[j] = h
        J[:, j] = ((_cell(xt, c + e, p)[0] - _cell(xt, c - e, p)[0]) / (2 * h))[:, 0]
    return J


@exercise("10.3", "gru_jacobian")
def check_gru_jacobian(fn: Callable[..., Any]) -> list[Case]:
    """Check ``gru_jacobian(xt, c_prev, parameters)``: the ``(n_a, n_a)`` matrix of
    ``dc_i<t> / dc_j<t-1>`` for one example (``xt`` is ``(n_x, 1)``, ``c_prev`` ``(n_a, 1)``)."""
    rng = np.random.default_rng(81)
    n_x, n_a = 3, 4
    base = _params(n_x, n_a, 82, scale=0.8)

    def compare(p, label):
        xt, c = rng.normal(size=(n_x, 1)), rng.normal(0, 0.8, size=(n_a, 1))
        got = call(fn, xt.copy(), c.copy(), {k: v.copy() for k, v in p.items()})
        right = _jacobian(xt, c, p)
        expect_array(label, right, got, rtol=1e-7, atol=1e-10, check_dtype=False,
                     shape_hints=[((n_a, 1), "return the whole Jacobian, one row per c_i<t> and "
                                   "one column per c_j<t-1>")],
                     value_hints=[
                         (right.T, "the Jacobian is transposed: row i holds the derivatives of "
                          "c_i<t>, column j those with respect to c_j<t-1>"),
                         (_jacobian(xt, c, p, "gate"), "the update gate depends on c<t-1> too: "
                          "add diag(c~<t> - c<t-1>) dGamma_u/dc<t-1>, with dGamma_u/dc<t-1> = "
                          "diag(Gamma_u (1 - Gamma_u)) W_uc"),
                         (_jacobian(xt, c, p, "reset path"), "the relevance gate depends on "
                          "c<t-1> too: the derivative of Gamma_r * c<t-1> is diag(Gamma_r) + "
                          "diag(c<t-1>) diag(Gamma_r (1 - Gamma_r)) W_rc"),
                         (_jacobian(xt, c, p, "identity"), "the direct path is missing: "
                          "(1 - Gamma_u) * c<t-1> contributes diag(1 - Gamma_u)"),
                     ])

    return [
        Case("update gate closed: the identity",
             lambda: compare(_gate(base, "u", -40.0), "Gamma_u = 0: the Jacobian is I")),
        Case("update gate open, relevance gate open: an RNN step", lambda: compare(
            _gate(_gate(base, "u", 40.0), "r", 40.0),
            "Gamma_u = Gamma_r = 1: diag(1 - c~^2) W_cc")),
        Case("gates that depend on x only", lambda: compare(
            {**base, "Wu": np.concatenate([np.zeros((n_a, n_a)), base["Wu"][:, n_a:]], 1),
             "Wr": np.concatenate([np.zeros((n_a, n_a)), base["Wr"][:, n_a:]], 1)},
            "W_uc = W_rc = 0: diag(1 - Gamma_u) + diag(Gamma_u (1 - c~^2)) W_cc diag(Gamma_r)")),
        Case("the update gate's own derivative", lambda: compare(
            {**base, "Wr": np.zeros_like(base["Wr"]), "br": np.full((n_a, 1), 40.0)},
            "Gamma_r = 1, Gamma_u depending on c<t-1>")),
        Case("every term", lambda: compare(base, "random weights")),
        Case("against central differences", lambda: _against_numerical(fn, base, rng)),
    ]


def _against_numerical(fn: Callable[..., Any], p: dict[str, np.ndarray],
                       rng: np.random.Generator) -> None:
    xt, c = rng.normal(size=(3, 1)), rng.normal(0, 0.8, size=(4, 1))
    got = call(fn, xt.copy(), c.copy(), {k: v.copy() for k, v in p.items()})
    expect_array("the Jacobian against central differences of c<t>", _numerical(xt, c, p), got,
                 rtol=1e-5, atol=1e-8, check_dtype=False)


# --------------------------------------------------------------------------------------------------
# 10.4  the notes' weights as nn.GRU's
# --------------------------------------------------------------------------------------------------

_SD_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def _diagonal_candidate(p: dict[str, np.ndarray], n_a: int) -> dict[str, np.ndarray]:
    q = {k: v.copy() for k, v in p.items()}
    q["Wc"][:, :n_a] = np.diag(np.diag(q["Wc"][:, :n_a]))
    return q


def _reference_sd(p: dict[str, np.ndarray], n_a: int) -> dict[str, np.ndarray]:
    def split(w):
        return w[:, :n_a], w[:, n_a:]

    (hr, ir), (hz, iz), (hn, in_) = split(p["Wr"]), split(p["Wu"]), split(p["Wc"])
    return {
        "weight_ih_l0": np.concatenate([ir, -iz, in_]),
        "weight_hh_l0": np.concatenate([hr, -hz, hn]),
        "bias_ih_l0": np.concatenate([p["br"][:, 0], -p["bu"][:, 0], p["bc"][:, 0]]),
        "bias_hh_l0": np.zeros(3 * n_a),
    }


@exercise("10.4", "gru_state_dict")
def check_gru_state_dict(fn: Callable[..., Any]) -> list[Case]:
    """Check ``gru_state_dict(parameters)``: a state dict for ``nn.GRU(n_x, n_a)`` that computes
    the notes' GRU exactly, for parameters whose candidate weight ``W_cc`` is diagonal."""
    import minigrad
    import minigrad.nn as nn

    n_x, n_a = 3, 4

    def get(p):
        sd = call(fn, {k: v.copy() for k, v in p.items()})
        if sd is None:
            fail("gru_state_dict returned None", "return the dictionary")
        if not isinstance(sd, dict):
            fail(f"gru_state_dict returned {describe(sd)}, expected a dict")
        missing = [k for k in _SD_KEYS if k not in sd]
        if missing:
            fail(f"the state dict has no key {missing[0]!r} (it has {sorted(sd)})",
                 "nn.GRU's keys: " + ", ".join(_SD_KEYS))
        shapes = {"weight_ih_l0": (3 * n_a, n_x), "weight_hh_l0": (3 * n_a, n_a),
                  "bias_ih_l0": (3 * n_a,), "bias_hh_l0": (3 * n_a,)}
        for k, shape in shapes.items():
            got = np.asarray(sd[k])
            expect(got.shape == shape, f"{k}: shape {got.shape}, expected {shape}",
                   "biases are 1-D, (3 n_a,): take bu[:, 0]" if "bias" in k else
                   "three blocks of n_a rows (r, z, n), one column per input or hidden unit")
        return {k: np.asarray(sd[k], dtype=np.float64) for k in _SD_KEYS}

    def gru_of(sd):
        gru = nn.GRU(n_x, n_a, dtype=minigrad.float64)
        gru.load_state_dict(sd)
        return gru

    def sequence(p, label, seed):
        rng = np.random.default_rng(seed)
        T, m = 6, 2
        x = rng.normal(size=(n_x, m, T))
        c0 = rng.normal(0, 0.5, size=(n_a, m))
        c, expected = c0, np.zeros((n_a, m, T))
        for t in range(T):
            c, _ = _cell(x[:, :, t], c, p)
            expected[:, :, t] = c
        sd = get(p)
        with minigrad.no_grad():
            out, _ = gru_of(sd)(minigrad.tensor(x.transpose(2, 1, 0)),
                                minigrad.tensor(c0.T[None]))
        got = out.numpy().transpose(2, 1, 0)
        ref = _reference_sd(p, n_a)

        def variant(**changes):
            return {**ref, **changes}

        def run(sd_):
            with minigrad.no_grad():
                o, _ = gru_of(sd_)(minigrad.tensor(x.transpose(2, 1, 0)),
                                   minigrad.tensor(c0.T[None]))
            return o.numpy().transpose(2, 1, 0)

        hints = []
        pos_z = variant(weight_ih_l0=np.concatenate([ref["weight_ih_l0"][:n_a],
                                                     -ref["weight_ih_l0"][n_a:2 * n_a],
                                                     ref["weight_ih_l0"][2 * n_a:]]),
                        weight_hh_l0=np.concatenate([ref["weight_hh_l0"][:n_a],
                                                     -ref["weight_hh_l0"][n_a:2 * n_a],
                                                     ref["weight_hh_l0"][2 * n_a:]]),
                        bias_ih_l0=np.concatenate([ref["bias_ih_l0"][:n_a],
                                                   -ref["bias_ih_l0"][n_a:2 * n_a],
                                                   ref["bias_ih_l0"][2 * n_a:]]))
        hints.append((run(pos_z), "PyTorch's z is 1 - Gamma_u: h' = (1 - z) * n + z * h. Since "
                      "1 - sigmoid(s) = sigmoid(-s), z's weights and bias are minus Gamma_u's"))
        swapped = variant(**{k: np.concatenate([ref[k][n_a:2 * n_a], ref[k][:n_a],
                                                ref[k][2 * n_a:]])
                             for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0")})
        hints.append((run(swapped), "the gates are stacked in the order r, z, n: the relevance "
                      "gate's rows first, then the update gate's, then the candidate's"))
        both = variant(bias_hh_l0=ref["bias_ih_l0"].copy())
        hints.append((run(both), "each bias once: put b_r, -b_u and b_c in bias_ih_l0 and zeros "
                      "in bias_hh_l0 (nn.GRU adds the two)"))
        expect_array(label, expected, got, rtol=1e-8, atol=1e-10, check_dtype=False,
                     value_hints=hints)

    base = _diagonal_candidate(_params(n_x, n_a, 91), n_a)

    def bias_hh():
        sd = get(base)
        b = sd["bias_hh_l0"][2 * n_a:]
        expect(np.allclose(b, 0), "the candidate's hidden bias b_hn is not zero: PyTorch "
               "multiplies it by r, the notes have no such term",
               "put b_c in bias_ih_l0 (its last n_a entries) and zeros in bias_hh_l0")

    return [
        Case("the keys and shapes of nn.GRU's state dict", lambda: get(base)),
        Case("the candidate's bias is not multiplied by the gate", bias_hh),
        Case("a sequence with the update gate alone (Gamma_r = 1)", lambda: sequence(
            _diagonal_candidate(_gate(_params(n_x, n_a, 92), "r", 40.0), n_a),
            "nn.GRU's outputs with your weights against the notes' GRU", 93)),
        Case("a sequence with every gate", lambda: sequence(
            base, "nn.GRU's outputs with your weights against the notes' GRU", 94)),
    ]
