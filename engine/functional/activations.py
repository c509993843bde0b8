"""Element-wise activations; each forward returns (out, cache), its backward sits beside it."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from engine.functional._validate import as_float, check_same_shape, sum_is_finite


def relu(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """max(x, 0); the cache is x."""
    return relu_kernel(as_float(x, "x"))


def relu_kernel(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The unchecked kernel behind relu (a float array)."""
    return np.maximum(x, zeros_of(x.shape, x.dtype)), x


@lru_cache(maxsize=32)
def zeros_of(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array of zeros: np.maximum against it runs NumPy's vectorised loop,
    about twice as fast as against the scalar 0 (which is broadcast)."""
    z = np.zeros(shape, dtype)
    z.flags.writeable = False
    return z


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dout where x > 0, else 0 (the gradient at exactly 0 is taken as 0, as PyTorch does)."""
    return relu_backward_kernel(check_same_shape(dout, cache.shape), cache)


def relu_backward_kernel(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The unchecked kernel behind relu_backward."""
    if sum_is_finite(dout):
        return dout * (x > 0)
    # A diverged delta: select rather than multiply, so x <= 0 gives exactly 0 (Inf * 0 is NaN).
    return np.where(x > 0, dout, dout.dtype.type(0))


def leaky_relu(x: np.ndarray, slope: float = 0.01) -> tuple[np.ndarray, tuple[np.ndarray, float]]:
    """x where x > 0, else slope * x."""
    x = as_float(x, "x")
    return np.where(x > 0, x, x * x.dtype.type(slope)), (x, slope)


def leaky_relu_backward(dout: np.ndarray, cache: tuple[np.ndarray, float]) -> np.ndarray:
    """dout where x > 0, else slope * dout."""
    x, slope = cache
    dout = check_same_shape(dout, x.shape)
    return np.where(x > 0, dout, dout * x.dtype.type(slope)).astype(x.dtype, copy=False)


def sigmoid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1 / (1 + e^-x), computed from e^-|x| so neither branch overflows; the cache is out."""
    x = as_float(x, "x")
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dout * s * (1 - s)."""
    return check_same_shape(dout, cache.shape) * cache * (1 - cache)


def tanh(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """tanh(x); the cache is out."""
    x = as_float(x, "x")
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dout * (1 - tanh^2)."""
    return check_same_shape(dout, cache.shape) * (1 - cache * cache)
