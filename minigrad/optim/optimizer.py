"""Optimizers: SGD, Adam and AdamW, each matching PyTorch's update rule step for step."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor


class Optimizer:
    """Base class: holds ``param_groups`` (each a dict with ``params`` and hyperparameters) and
    per-parameter ``state``.

    ``params`` is an iterable of tensors, or of dicts giving a group its own hyperparameters:
    ``Adam([{"params": enc.parameters()}, {"params": dec.parameters(), "lr": 1e-4}], lr=1e-3)``.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[int, dict[str, Any]] = {}
        self._scratch: dict[int, np.ndarray] = {}  # one work array per parameter, not saved
        self.param_groups: list[dict[str, Any]] = []
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict[str, Any]) -> None:
        group = dict(group)
        ps = group["params"]
        group["params"] = [ps] if isinstance(ps, Tensor) else list(ps)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError("optimizing a parameter that doesn't require gradients")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (to None by default, as PyTorch 2)."""
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.data[...] = 0

    def step(self) -> None:
        raise NotImplementedError

    def _params_with_grad(self, group: dict[str, Any]) -> Iterable[tuple[Tensor, np.ndarray]]:
        for p in group["params"]:
            if p.grad is not None:
                yield p, p.grad.data

    def _work(self, p: Tensor) -> np.ndarray:
        """A scratch array shaped like ``p``, reused every step (no allocation, no page faults)."""
        buf = self._scratch.get(id(p))
        if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
            buf = self._scratch[id(p)] = np.empty_like(p.data)
        return buf

    # checkpoints ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Hyperparameters and state (moment estimates ...), parameters referred to by position."""
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {
            index[pid]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for pid, s in self.state.items()
            if pid in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)
        ):
            raise ValueError(
                "loaded optimizer state has a different number of parameter groups or parameters"
            )
        params = [p for g in self.param_groups for p in g["params"]]
        self.state = {}
        for k, s in state_dict["state"].items():
            p = params[int(k)]
            self.state[id(p)] = {
                n: (
                    np.asarray(v, dtype=p.dtype).copy()
                    if isinstance(v, np.ndarray) and v.ndim
                    else v
                )
                for n, v in s.items()
            }
        for g, saved in zip(self.param_groups, groups):
            g.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params")
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (and Nesterov) and weight decay.

    With momentum, PyTorch's convention: ``buf = momentum * buf + (1 - dampening) * g`` (the first
    step sets ``buf = g``), then ``p -= lr * buf`` (or ``lr * (g + momentum * buf)`` for Nesterov).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    def step(self) -> None:
        for group in self.param_groups:
            lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov = group["weight_decay"], group["nesterov"]
            for p, g in self._params_with_grad(group):
                d = self._work(p)  # d: the direction of this step
                if group["maximize"]:
                    np.negative(g, out=d)
                else:
                    np.copyto(d, g)
                if wd:
                    d += wd * p.data
                if mom:
                    state = self.state.setdefault(id(p), {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d.copy()
                    else:
                        buf *= mom
                        buf += (1 - damp) * d
                    if nesterov:
                        d += mom * buf
                    else:
                        np.copyto(d, buf)
                d *= lr
                p.data -= d


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) exactly as PyTorch computes it.

    ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g^2``, then
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``. ``weight_decay`` adds
    ``wd * p`` to the gradient (L2); for decoupled decay use :class:`AdamW`.
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
        )

    def step(self) -> None:
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad = group["weight_decay"], group["amsgrad"]
            for p, g in self._params_with_grad(group):
                if group["maximize"]:
                    g = -g
                state = self.state.get(id(p))
                if state is None:
                    state = self.state[id(p)] = {
                        "step": 0,
                        "exp_avg": np.zeros_like(p.data),
                        "exp_avg_sq": np.zeros_like(p.data),
                    }
                    if amsgrad:
                        state["max_exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] += 1
                t = state["step"]
                if wd:
                    if self._decoupled:
                        p.data *= 1 - lr * wd
                    else:
                        g = g + wd * p.data
                m, v, w = state["exp_avg"], state["exp_avg_sq"], self._work(p)
                # every update in place, through one scratch array w
                np.subtract(g, m, out=w)
                w *= 1 - b1
                m += w  # torch's lerp: m = m + (1 - b1)(g - m) = b1 m + (1 - b1) g
                np.multiply(g, g, out=w)
                w *= 1 - b2
                v *= b2
                v += w  # v = b2 v + (1 - b2) g^2
                bc1 = 1 - b1**t
                bc2_sqrt = math.sqrt(1 - b2**t)
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]
                    np.maximum(vmax, v, out=vmax)
                    np.sqrt(vmax, out=w)
                else:
                    np.sqrt(v, out=w)
                w /= bc2_sqrt
                w += eps  # w = sqrt(v) / sqrt(1 - b2^t) + eps
                np.divide(m, w, out=w)
                w *= lr / bc1
                p.data -= w


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019): ``p *= 1 - lr * wd`` first.

    Its default ``weight_decay`` is 0.01, as in PyTorch.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
