"""Gradient clipping (and, in :mod:`minigrad.nn.utils.rnn`, variable-length sequences)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...tensor import Tensor, _wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector"]


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over every gradient as if they were concatenated into one vector. Returns
    that total norm (before clipping), as PyTorch does, so you can log it.

    >>> import minigrad
    >>> w = minigrad.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()          # grad = (6, 8), norm 10
    >>> float(minigrad.nn.utils.clip_grad_norm_([w], max_norm=5.0))
    10.0
    >>> w.grad
    tensor([3., 4.])
    """
    params = _with_grads(parameters)
    if not params:
        return _wrap(np.asarray(0.0, dtype=np.float32))
    dtype = params[0].grad.dtype
    if norm_type == math.inf:
        total = max(float(np.abs(p.grad.data).max()) for p in params)
    elif norm_type == 2.0:
        total = math.sqrt(math.fsum(float(np.vdot(p.grad.data, p.grad.data)) for p in params))
    else:
        total = math.fsum(
            float(np.sum(np.abs(p.grad.data.astype(np.float64)) ** norm_type)) for p in params
        ) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is non-finite ({total}), so it"
            " cannot be clipped; pass error_if_nonfinite=False to clip anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:
            p.grad.data *= p.grad.data.dtype.type(coef)
    return _wrap(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient entry to [-clip_value, clip_value], in place."""
    if clip_value < 0:
        raise ValueError(f"clip_value must be non-negative, got {clip_value}")
    for p in _with_grads(parameters):
        np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Every parameter flattened and joined into one 1-D tensor (a copy, outside the graph)."""
    return _wrap(np.concatenate([p.data.ravel() for p in parameters]))
