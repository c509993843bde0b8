"""Input checks shared by the functional core.

Every check raises ValueError with a message that names the argument, what was
expected and what arrived, so a caller (or the API turning it into a 422) never
shows an obscure NumPy error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeGuard

import numpy as np

FLOAT_TYPES = (np.float32, np.float64)


def as_float(a: object, name: str, ndim: int | None = None, axes: str = "") -> np.ndarray:
    """`a` as a float32/float64 array of `ndim` dimensions (ints become float32)."""
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a numeric array: {exc}") from None
    if arr.dtype.type not in FLOAT_TYPES:
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}")
        if np.issubdtype(arr.dtype, np.complexfloating):
            raise ValueError(f"{name} must be real; got dtype {arr.dtype}")
        arr = arr.astype(np.float32)
    if ndim is not None and arr.ndim != ndim:
        layout = f" {axes}" if axes else ""
        raise ValueError(f"{name} must be {ndim}-D{layout}; got shape {tuple(arr.shape)}")
    return arr


def check_same_shape(dout: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """dout as an array of exactly `shape` (no silent broadcasting)."""
    dout = np.asarray(dout)
    if dout.shape != tuple(shape):
        raise ValueError(f"dout must have shape {tuple(shape)}; got {dout.shape}")
    return dout


def sum_is_finite(arr: np.ndarray) -> bool:
    """True proves every value of a float array finite, in one cheap call (the sum of
    the squares: a NaN or an Inf anywhere makes it NaN or Inf; BLAS's dot is the
    fastest reduction NumPy has). False means NaN or Inf, or only squares that
    overflowed (values above ~1e19 in float32): callers then take the careful path."""
    v = arr.ravel()
    return math.isfinite(v.dot(v))


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise if `arr` holds NaN or Inf (user input only: training may diverge)."""
    if arr.dtype.kind == "f" and sum_is_finite(arr):
        return
    if not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains NaN or Inf ({bad} of {arr.size} values)")


def pair(v: int | Sequence[int], name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints as a pair, each at least `minimum`."""

    def is_int(u: object) -> TypeGuard[int | np.integer]:
        return isinstance(u, int | np.integer) and not isinstance(u, bool | np.bool_)

    if is_int(v):
        a = b = int(v)
    elif isinstance(v, list | tuple | np.ndarray) and len(v) == 2 and all(map(is_int, v)):
        a, b = int(v[0]), int(v[1])
    else:
        raise ValueError(f"{name} must be an int or a pair of ints; got {v!r}")
    if a < minimum or b < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {v!r}")
    return a, b


def common_dtype(*arrays: np.ndarray) -> np.dtype:
    """float64 if any argument is float64, else float32."""
    return np.result_type(*arrays)


def out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """floor((size + 2 * padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1
