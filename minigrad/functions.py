"""Module-level spellings of methods, as in PyTorch: ``minigrad.exp(x)``, ``minigrad.sum(x, 0)``.

They live apart from ``tensor.py`` because their names (``sum``, ``max``, ``abs`` ...) would shadow
Python's builtins there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .tensor import Scalar, Tensor, TensorLike, as_tensor


def _unary(name: str) -> Callable[[Tensor], Tensor]:
    def f(input: Tensor) -> Tensor:  # noqa: A002
        return getattr(as_tensor(input), name)()

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}``; same as ``input.{name}()``."
    return f


exp, log, tanh, sigmoid, relu, sqrt, abs, sin, cos = (  # noqa: A001
    _unary(n) for n in ("exp", "log", "tanh", "sigmoid", "relu", "sqrt", "abs", "sin", "cos")
)


def clip(input: Tensor, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:  # noqa: A002
    """Limit every entry to [min, max]; see :meth:`Tensor.clip`."""
    return as_tensor(input).clip(min, max)


clamp = clip


def matmul(input: TensorLike, other: TensorLike) -> Tensor:  # noqa: A002
    """Matrix product with numpy's rules for 1-D and batched operands."""
    return as_tensor(input) @ other


def _reduction(name: str) -> Callable[..., Any]:
    def f(input: Tensor, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        return getattr(as_tensor(input), name)(*args, **kwargs)

    f.__name__ = name
    f.__doc__ = getattr(Tensor, name).__doc__
    return f


(
    sum,
    mean,
    max,
    min,
    var,
    std,
    logsumexp,
    argmax,
    argmin,
    reshape,
    transpose,
    permute,  # noqa: A001
    unsqueeze,
    squeeze,
    flatten,
    gather,
    softmax,
    log_softmax,
    topk,
    unbind,
    masked_fill,
) = (
    _reduction(n)
    for n in (
        "sum mean max min var std logsumexp argmax argmin reshape transpose permute unsqueeze"
        " squeeze flatten gather softmax log_softmax topk unbind masked_fill"
    ).split()
)
