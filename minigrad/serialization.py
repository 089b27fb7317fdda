"""``save`` and ``load``: state dicts and checkpoints as ``.npz`` plus JSON, never pickle.

A saved object is any nesting of dicts (string keys), lists, tuples, strings, numbers, booleans,
None, numpy arrays and tensors. The arrays go into the ``.npz`` archive as plain arrays; everything
else is written as JSON into one entry of the same archive. Loading uses ``allow_pickle=False``, so
an untrusted file can at worst fail to load: it cannot run code.

>>> import minigrad, tempfile, os
>>> model = minigrad.nn.Linear(2, 1)
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> minigrad.save({"state": model.state_dict(), "config": {"in": 2, "out": 1}}, path)
>>> ckpt = minigrad.load(path)
>>> ckpt["config"], sorted(ckpt["state"])
({'in': 2, 'out': 1}, ['bias', 'weight'])
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import numpy as np

from .tensor import Tensor, _wrap

_META = "__minigrad__"
_FORMAT = "minigrad-npz-1"


def _array_key(a: np.ndarray, arrays: dict[str, np.ndarray]) -> str:
    """The archive entry of ``a``: an array met before (tied weights, whose state dict holds the
    same array under two names) is stored once and referred to twice."""
    for key, stored in arrays.items():
        if stored is a:
            return key
    key = f"a{len(arrays)}"
    arrays[key] = a
    return key


def _encode(obj: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    if isinstance(obj, Tensor):
        key = _array_key(obj.data, arrays)
        return {"__tensor__": key, "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, np.ndarray):
        return {"__array__": _array_key(obj, arrays)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"save: dict keys must be strings, got {k!r} at {path or 'top'}")
            out[k] = _encode(v, arrays, f"{path}.{k}" if path else k)
        return {"__dict__": out} if any(k.startswith("__") for k in out) else out
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(
        f"save: cannot store an object of type {type(obj).__name__} at {path or 'top'};"
        " use dicts, lists, strings, numbers, numpy arrays and tensors"
    )


def _decode(obj: Any, arrays: Any) -> Any:
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        t = _wrap(arrays[obj["__tensor__"]])
        return t.requires_grad_(True) if obj.get("requires_grad") else t
    if "__array__" in obj:
        return arrays[obj["__array__"]]
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays) for v in obj["__tuple__"])
    if "__dict__" in obj:
        obj = obj["__dict__"]
    return {k: _decode(v, arrays) for k, v in obj.items()}


def save(obj: Any, f: str | os.PathLike | io.IOBase) -> None:
    """Write ``obj`` (a state dict, or a checkpoint dict holding one) to ``f`` as ``.npz``.

    The file name is used as given (numpy would append ``.npz`` otherwise; we do not). An array
    found under several names (tied weights: the same parameter in two modules) is stored once and
    loads back as one array shared by those names, as ``torch.save`` keeps shared storage.
    """
    arrays: dict[str, np.ndarray] = {}
    meta = {"format": _FORMAT, "object": _encode(obj, arrays, "")}
    for k, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise TypeError(f"save: array {k} has dtype {a.dtype}, which cannot be stored safely")
    arrays[_META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            np.savez(fh, **arrays)
    else:
        np.savez(f, **arrays)


def load(f: str | os.PathLike | io.IOBase) -> Any:
    """Read an object written by :func:`save`; arrays come back as tensors or numpy arrays as saved.

    Raises ``ValueError`` for a file that is not a minigrad archive, never executes its contents.
    """
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else "<file>"
    try:
        npz = np.load(f, allow_pickle=False)
    except ValueError:  # numpy's guess for any file that is neither .npz nor .npy: "pickled data"
        raise ValueError(f"{name} is not a minigrad file (not an .npz archive)") from None
    except (zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{name} is not a minigrad file: {e}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):  # a plain .npy array
        raise ValueError(
            f"{name} is not a minigrad file (a single .npy array, not an .npz archive)"
        )
    try:
        with npz:
            if _META not in npz.files:
                raise ValueError(f"{name} is not a minigrad file (no {_META} entry)")
            meta = json.loads(bytes(npz[_META]).decode("utf-8"))
            arrays = {k: npz[k] for k in npz.files if k != _META}
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"{name} is not a minigrad file: {e}") from None
    if meta.get("format") != _FORMAT:
        raise ValueError(f"{name}: unknown format {meta.get('format')!r}")
    return _decode(meta["object"], arrays)
