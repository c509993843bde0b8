"""MaxPool2D and AvgPool2D: thin wrappers over engine.functional's pooling."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.functional import max_pool2d_mask, pool_output_shape
from engine.functional._validate import pair
from engine.functional.pool import (
    PoolCache,
    avg_pool2d_backward_kernel,
    avg_pool2d_forward,
    max_pool2d_backward_kernel,
    max_pool2d_forward,
    pool_cache,
)
from engine.layers.base import Layer
from engine.trace import Lazy


class _Pool(Layer):
    prefix = "pool"

    def __init__(
        self, size: int | tuple[int, int] = 2, stride: int | tuple[int, int] | None = None
    ):
        super().__init__()
        self.size = pair(size, "pool size", 1)
        self.stride = pair(size if stride is None else stride, "stride", 1)
        self._geometry: dict[tuple[tuple[int, ...], np.dtype], PoolCache] = {}

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        return pool_output_shape(in_shape, self.size, self.stride)

    def _cache_for(self, x: np.ndarray) -> PoolCache:
        """A fresh cache with the geometry checked for x's shape (checked once per shape)."""
        key = (x.shape, x.dtype)
        if key not in self._geometry:
            self._geometry = {key: pool_cache(x.shape, self.size, self.stride, x.dtype)}
        return self._geometry[key].fresh()

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "size": list(self.size), "stride": list(self.stride)}

    def describe(self) -> dict[str, Any]:
        s = self.stride
        return {
            "layer": self.name,
            "kh": self.size[0],
            "kw": self.size[1],
            "s": str(s[0]) if s[0] == s[1] else f"{s[0]}x{s[1]}",
            "area": self.size[0] * self.size[1],
        }


class MaxPool2D(_Pool):
    """Max pooling; records `<name>.mask`, the positions each delta will go back to."""

    op = "max_pool2d"

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        cache = self._cache_for(x)
        return max_pool2d_forward(x, cache), cache

    extra_records = (("mask", "mask", None),)

    def _extras(self, cache: Any) -> tuple[Lazy, ...]:
        return (Lazy(max_pool2d_mask, cache),)

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return max_pool2d_backward_kernel(dout, cache)


class AvgPool2D(_Pool):
    op = "avg_pool2d"

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        cache = self._cache_for(x)
        return avg_pool2d_forward(x, cache), cache

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return avg_pool2d_backward_kernel(dout, cache)
