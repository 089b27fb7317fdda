"""Data types and the default floating point type.

minigrad's dtypes are numpy's: ``minigrad.float32 == np.dtype("float32")``. Tensors created from
Python floats take the default dtype, float32 unless changed with :func:`set_default_dtype`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

# PyTorch spellings
half, float, double = float16, float32, float64  # noqa: A001 - mirrors torch.float
long, int = int64, int32  # noqa: A001 - mirrors torch.long / torch.int
bool = bool_  # noqa: A001 - mirrors torch.bool

_default_dtype: np.dtype = float32

DTypeLike = Any  # np.dtype, a numpy scalar type, or a name such as "float64"


def as_dtype(dtype: DTypeLike) -> np.dtype:
    """Turn ``dtype`` (a numpy dtype, type or name) into a ``np.dtype``; None: the default."""
    if dtype is None:
        return _default_dtype
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"not a dtype: {dtype!r}") from e


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the floating point dtype that tensors made from Python floats get (float32 or float64).

    >>> import minigrad
    >>> minigrad.set_default_dtype(minigrad.float64)
    >>> minigrad.tensor([1.0]).dtype
    dtype('float64')
    >>> minigrad.set_default_dtype(minigrad.float32)
    """
    global _default_dtype
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"the default dtype must be a floating point type, got {d}")
    _default_dtype = d


def get_default_dtype() -> np.dtype:
    """The floating point dtype that tensors made from Python floats get (float32 at start)."""
    return _default_dtype


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"
