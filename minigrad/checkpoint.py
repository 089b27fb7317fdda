"""Checkpoints: a model's weights, the configuration that rebuilds it, and its vocabulary, in one
:func:`minigrad.save` file (``.npz`` arrays plus JSON; never pickle).

>>> import minigrad, tempfile, os
>>> from minigrad.checkpoint import save_checkpoint, load_checkpoint, register_model
>>> @register_model
... class Tiny(minigrad.nn.Module):
...     def __init__(self, n: int):
...         super().__init__()
...         self.config = {"n": n}
...         self.lin = minigrad.nn.Linear(n, n)
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.npz")
>>> save_checkpoint(path, Tiny(3), meta={"note": "an example"})
>>> ckpt = load_checkpoint(path)
>>> type(ckpt.model).__name__, ckpt.config, ckpt.meta["note"]
('Tiny', {'n': 3}, 'an example')

A model can be rebuilt when its class is registered (:func:`register_model`; the models of
:mod:`minigrad.models` are) and it exposes ``config``, the keyword arguments of its constructor
(or pass ``config=`` to :func:`save_checkpoint`).
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple, TypeVar

import numpy as np

from .serialization import load, save
from .tensor import Tensor
from .text import Vocab

__all__ = [
    "Checkpoint",
    "load_checkpoint",
    "register_model",
    "registered_models",
    "save_checkpoint",
]

FORMAT = "minigrad-checkpoint-1"

_REGISTRY: dict[str, type] = {}
T = TypeVar("T", bound=type)


def register_model(cls: T) -> T:
    """Class decorator: let checkpoints rebuild models of this class by its name."""
    _REGISTRY[cls.__name__] = cls
    return cls


def registered_models() -> dict[str, type]:
    """The classes checkpoints can rebuild, by name."""
    _register_builtin()
    return dict(_REGISTRY)


def _register_builtin() -> None:
    from .models import RNNLanguageModel

    _REGISTRY.setdefault("RNNLanguageModel", RNNLanguageModel)


class Checkpoint(NamedTuple):
    """What :func:`load_checkpoint` returns: the rebuilt model (in eval mode), its vocabulary
    (or None), its constructor configuration, and the free-form ``meta`` dict saved with it."""

    model: Any
    vocab: Vocab | None
    config: dict[str, Any]
    meta: dict[str, Any]


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    vocab: Vocab | None = None,
    config: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    dtype: str | None = None,
) -> None:
    """Write ``model``'s weights, ``config`` (default ``model.config``), ``vocab`` and ``meta``
    (JSON-able: training settings, history, validation loss...) to ``path``.

    ``dtype="float16"`` stores the floating-point weights in half precision, which halves the
    file; :func:`load_checkpoint` copies them back into the model's own dtype (float32), so the
    model computes as before with weights rounded to about three significant digits. Tied
    weights are stored once.
    """
    if config is None:
        config = getattr(model, "config", None)
        if config is None:
            raise ValueError(
                f"{type(model).__name__} has no .config; pass config= (the keyword arguments that"
                " rebuild it)"
            )
    state = model.state_dict()
    if dtype is not None:
        target = np.dtype(dtype)
        if target.kind != "f":
            raise ValueError(f"dtype must be a floating-point type such as 'float16', got {dtype}")
        cast: dict[int, np.ndarray] = {}  # one copy per array, so that tied weights stay tied

        def convert(t: Any) -> Any:
            a = t.data if isinstance(t, Tensor) else np.asarray(t)
            if a.dtype.kind != "f":
                return a
            if id(a) not in cast:
                cast[id(a)] = a.astype(target)
            return cast[id(a)]

        state = type(state)((k, convert(v)) for k, v in state.items())
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    save(
        {
            "format": FORMAT,
            "class": type(model).__name__,
            "config": dict(config),
            "vocab": vocab.to_dict() if vocab is not None else None,
            "meta": dict(meta or {}),
            "state_dict": state,
        },
        path,
    )


def load_checkpoint(path: str | os.PathLike, model: Any = None) -> Checkpoint:
    """Read a checkpoint and rebuild its model (or load the weights into ``model`` if given).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that is not a
    minigrad checkpoint or whose model class is not registered.
    """
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"no checkpoint at {name}")
    obj = load(path)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError(
            f"{name} is a minigrad file but not a checkpoint (no {FORMAT!r} format tag)"
        )
    config = dict(obj["config"])
    if model is None:
        _register_builtin()
        cls = _REGISTRY.get(obj["class"])
        if cls is None:
            raise ValueError(
                f"{name} holds a {obj['class']}, which is not a registered model class; import"
                " the module that defines it (decorated with @register_model), or pass model="
            )
        model = cls(**config)
    model.load_state_dict(obj["state_dict"])
    if hasattr(model, "eval"):
        model.eval()
    vocab = Vocab.from_dict(obj["vocab"]) if obj.get("vocab") is not None else None
    return Checkpoint(model, vocab, config, _plain(obj.get("meta") or {}))


def _plain(x: Any) -> Any:
    """OrderedDicts from :func:`minigrad.load` to plain dicts, recursively."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x
