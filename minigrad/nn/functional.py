"""Neural-network functions on tensors, with PyTorch's names and argument order.

>>> import minigrad
>>> import minigrad.nn.functional as F
>>> logits = minigrad.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, minigrad.tensor([0]))
>>> round(loss.item(), 4)
0.2413
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, _data, _dim, _wrap, as_tensor

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ------------------------------------------------------------------ activations


def relu(input: Tensor) -> Tensor:  # noqa: A002
    """max(x, 0) elementwise."""
    return input.relu()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-x)) elementwise."""
    return input.sigmoid()


def softmax(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim`` (the max subtracted first: no overflow)."""
    return ops.Softmax.apply(input, dim=_dim(dim, input.ndim))


def log_softmax(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x): finite for logits of +-1000."""
    return ops.LogSoftmax.apply(input, dim=_dim(dim, input.ndim))


# ------------------------------------------------------------------ layers


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input @ weight.T + bias`` with ``weight`` of shape (out_features, in_features)."""
    if input.shape[-1:] != weight.shape[1:2]:
        raise ValueError(
            f"linear: input has {input.shape[-1] if input.ndim else 0} features (shape"
            f" {input.shape}) but the weight expects {weight.shape[1]} (weight shape"
            f" {weight.shape})"
        )
    if bias is None:
        return ops.Linear.apply(input, weight)
    return ops.Linear.apply(input, weight, bias)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """The rows of ``weight`` at the integer indices ``input``: shape ``input.shape + (dim,)``.

    Rows at ``padding_idx`` get no gradient.
    """
    idx = _embedding_indices(input, weight.shape[0], "embedding")
    return ops.Embedding.apply(weight, indices=idx, padding_idx=padding_idx)


def _embedding_indices(input: Any, n: int, who: str) -> np.ndarray:  # noqa: A002
    """``input`` as integer rows of an ``n``-row table, or a clear error naming ``who``."""
    idx = np.asarray(_data(input))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{who}: indices must be integers, got {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(f"{who}: index {bad} is out of range for {n} embeddings (0..{n - 1})")
    return idx


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Zero each entry with probability ``p`` and scale the others by 1/(1-p), when training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return ops.Dropout.apply(input, p=p)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """``softmax(Q K^T * scale + mask) V`` over the last two dimensions, as PyTorch computes it.

    ``query`` (..., L, E), ``key`` (..., S, E) and ``value`` (..., S, Ev) give (..., L, Ev); the
    leading dimensions (batch, heads) broadcast. ``scale`` defaults to ``1 / sqrt(E)``.
    ``attn_mask`` broadcasts to (..., L, S): a boolean mask says where a query *may* attend
    (``True``: attend; PyTorch's convention), a float mask is added to the scores. ``is_causal``
    lets position ``i`` attend to ``j <= i`` only. A row whose keys are all masked has no
    softmax: its output is NaN, as in PyTorch. ``dropout_p`` drops attention weights (pass 0 when
    evaluating).

    >>> import minigrad
    >>> q = k = v = minigrad.eye(3).unsqueeze(0)           # (1, 3, 3)
    >>> out = scaled_dot_product_attention(q, k, v, is_causal=True)
    >>> [round(float(x), 3) for x in out[0, 0]]          # the first query sees only the first key
    [1.0, 0.0, 0.0]
    """
    scale = 1.0 / float(np.sqrt(query.shape[-1])) if scale is None else float(scale)
    scores = query.matmul(key.transpose(-2, -1)) * scale
    length, source = scores.shape[-2], scores.shape[-1]
    if is_causal:
        scores = scores.masked_fill(~np.tril(np.ones((length, source), dtype=bool)), -np.inf)
    if attn_mask is not None:
        mask = _data(attn_mask) if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if mask.dtype == bool:
            scores = scores.masked_fill(~mask, -np.inf)
        else:
            bias = attn_mask if isinstance(attn_mask, Tensor) else _wrap(mask.astype(scores.dtype))
            scores = scores + bias
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights.matmul(value)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer class indices to one-hot vectors (int64), as ``torch.nn.functional.one_hot``."""
    idx = np.asarray(_data(tensor))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer indices, got {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got {idx.max()}")
    return _wrap(np.eye(num_classes, dtype=np.int64)[idx])


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims to mean 0, variance 1, then scale."""
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(dims, keepdim=True)
    centred = input - mean
    var = (centred * centred).mean(dims, keepdim=True)
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# ------------------------------------------------------------------ losses


def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy between logits and class indices (or class probabilities).

    ``input`` is (N, C), (C,), or (N, C, d1, ...) with classes on dimension 1 as in PyTorch;
    ``target`` holds class indices of shape (N,) / () / (N, d1, ...), or probabilities of the
    input's shape. Targets equal to ``ignore_index`` add nothing and are left out of the mean.
    The target is treated as a constant (no gradient flows into it).
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    x = as_tensor(input)
    t = np.asarray(_data(target))
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    probs = t.dtype.kind == "f"
    if probs:
        if t.shape != x.shape and t.shape == x.shape[:1] + x.shape[2:]:
            raise TypeError(
                f"cross_entropy: a target of shape {t.shape} must hold integer class indices, got"
                f" {t.dtype}; convert it with target.long()"
            )
        if t.shape != x.shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the input's shape {x.shape},"
                f" got {t.shape}"
            )
    elif t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got {t.dtype}")
    squeeze = x.ndim == 1
    if squeeze:
        x = x.unsqueeze(0)
        t = t[None]
    n, c = x.shape[0], x.shape[1]
    expected = (n,) + x.shape[2:]
    if not probs and t.shape != expected:
        raise ValueError(
            f"cross_entropy: input of shape {tuple(input.shape)} expects a target of shape"
            f" {expected if not squeeze else ()}, got {tuple(np.shape(_data(target)))}"
        )
    spatial = x.shape[2:]
    if spatial:  # classes to the last dimension, then one row per position
        perm = (0,) + tuple(range(2, x.ndim)) + (1,)
        x = x.permute(perm).reshape(-1, c)
        t = t.transpose(perm).reshape(-1, c) if probs else t.reshape(-1)
    if not probs:
        bad = (t != ignore_index) & ((t < 0) | (t >= c))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise IndexError(
                f"cross_entropy: target {t.flat[pos]} at position {pos} is out of range for"
                f" {c} classes (valid: 0..{c - 1}, or ignore_index={ignore_index})"
            )
    w = None
    if weight is not None:
        w = np.asarray(_data(weight), dtype=x.dtype)
        if w.shape != (c,):
            raise ValueError(f"cross_entropy: weight must have shape ({c},), got {w.shape}")
    out = ops.CrossEntropy.apply(
        x,
        target=t,
        weight=w,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )
    if reduction == "none":
        out = out.reshape(() if squeeze else expected)
    return out


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities ``input`` (N, C)."""
    _check_reduction(reduction)
    t = np.asarray(_data(target))
    if input.ndim != 2 or t.shape != input.shape[:1]:
        raise ValueError(
            f"nll_loss: expects input (N, C) and target (N,), got {input.shape} and {t.shape}"
        )
    n, c = input.shape
    valid = t != ignore_index
    if ((t < 0) | (t >= c))[valid].any():
        raise IndexError(f"nll_loss: target out of range for {c} classes")
    ts = np.where(valid, t, 0)
    w = np.ones(c, input.dtype) if weight is None else np.asarray(_data(weight), input.dtype)
    wt = w[ts] * valid
    picked = input[np.arange(n), ts] * as_tensor(wt.astype(input.dtype))
    if reduction == "none":
        return -picked
    if reduction == "sum":
        return -picked.sum()
    return -picked.sum() / float(wt.sum())


def _loss_inputs(name: str, input: Tensor, target: Any) -> Tensor:  # noqa: A002
    y = as_tensor(target, input)
    if y.shape != input.shape:
        raise ValueError(
            f"{name}: target size {tuple(y.shape)} must be the same as input size"
            f" {tuple(input.shape)}"
        )
    return y


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean (or summed) squared error."""
    y = _loss_inputs("mse_loss", input, target)
    diff = input - y
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean (or summed) absolute error."""
    y = _loss_inputs("l1_loss", input, target)
    return _reduce((input - y).abs(), reduction)


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities ``p`` in [0, 1] (logs clamped at -100)."""
    _check_reduction(reduction)
    y = _loss_inputs("binary_cross_entropy", input, target)
    p = input.data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(
            "binary_cross_entropy: all input values must be between 0 and 1 (got values from"
            f" {p.min():.4g} to {p.max():.4g}); for logits use binary_cross_entropy_with_logits"
        )
    w = None if weight is None else np.asarray(_data(weight), dtype=input.dtype)
    return _reduce(ops.BinaryCrossEntropy.apply(input, y, weight=w), reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits."""
    _check_reduction(reduction)
    y = _loss_inputs("binary_cross_entropy_with_logits", input, target)
    w = None if weight is None else np.asarray(_data(weight), dtype=input.dtype)
    pw = None if pos_weight is None else np.asarray(_data(pos_weight), dtype=input.dtype)
    out = ops.BinaryCrossEntropyWithLogits.apply(input, y, weight=w, pos_weight=pw)
    return _reduce(out, reduction)
