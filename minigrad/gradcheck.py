"""Checking analytic gradients against finite differences.

:func:`gradcheck` compares, for every input that requires grad, the gradient that ``backward``
computes with the central difference ``(f(x + eps) - f(x - eps)) / (2 eps)`` taken entry by entry,
in float64. A non-scalar output is reduced with a fixed random weighting first (``sum(v * f(x))``):
that checks ``v^T J`` for a random ``v``, which a wrong Jacobian fails with probability one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, _wrap, no_grad


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numerical one."""


def _as_inputs(inputs: Tensor | Sequence[Any]) -> list[Any]:
    return [inputs] if isinstance(inputs, Tensor) else list(inputs)


def _scalar_of(out: Any, weights: list[np.ndarray] | None) -> tuple[Tensor, list[np.ndarray]]:
    outs = [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]
    if not outs:
        raise TypeError("gradcheck: the function must return a tensor or a tuple of tensors")
    if weights is None:
        rng = np.random.default_rng(1234)
        weights = [rng.uniform(0.5, 1.5, o.shape) * rng.choice([-1, 1], o.shape) for o in outs]
    total = None
    for o, w in zip(outs, weights):
        term = (o.to(np.float64) * _wrap(w)).sum()
        total = term if total is None else total + term
    return total, weights


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True if ``fn``'s analytic gradients match central finite differences.

    ``inputs`` are the arguments of ``fn`` (tensors, and anything else passed through). Tensors that
    require grad are copied to float64 and checked; the others are passed unchanged. On a mismatch
    it raises :class:`GradcheckError` (or returns False with ``raise_exception=False``) naming the
    input, the index, and both values.

    >>> import minigrad
    >>> x = minigrad.randn(3, 4, dtype=minigrad.float64, requires_grad=True)
    >>> minigrad.gradcheck(lambda t: (t * t).tanh(), [x])
    True
    """
    args = _as_inputs(inputs)
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    args = [
        _wrap(a.data.astype(np.float64)).requires_grad_(True) if i in checked else a
        for i, a in enumerate(args)
    ]

    out, weights = _scalar_of(fn(*args), None)
    if not out.requires_grad:
        raise GradcheckError(
            "gradcheck: the output does not depend on any input that requires grad"
        )
    out.backward()
    analytic = {
        i: (args[i].grad.data.copy() if args[i].grad is not None else np.zeros_like(args[i].data))
        for i in checked
    }

    def value() -> float:
        with no_grad():
            return float(_scalar_of(fn(*args), weights)[0].item())

    for i in checked:
        x = args[i].data
        numeric = np.zeros_like(x)
        flat = x.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = value()
            flat[j] = orig - eps
            minus = value()
            flat[j] = orig
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        a = analytic[i]
        bad = ~np.isclose(a, numeric, rtol=rtol, atol=atol)
        if bad.any():
            idx = tuple(int(k) for k in np.argwhere(bad)[0])
            msg = (
                f"gradcheck failed for input {i} (shape {tuple(x.shape)}) at index {idx}:"
                f" analytic {a[idx]:.8g}, numeric {numeric[idx]:.8g}"
                f" ({int(bad.sum())} of {bad.size} entries differ; atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
