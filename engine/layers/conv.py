"""Conv2D: a thin wrapper over engine.functional.conv2d.

Its F x C partial maps (`conv1.partial`) cost as much as the convolution and F*C
times its output's memory, so the trace computes them when first read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.functional import conv2d_partials, conv_output_shape
from engine.functional._validate import pair
from engine.functional.conv import (
    conv2d_backward_input,
    conv2d_backward_kernel,
    conv2d_backward_params,
    conv2d_forward,
)
from engine.layers.base import Layer, uniform_fan_in
from engine.trace import Lazy


class Conv2D(Layer):
    op = "conv2d"
    prefix = "conv"
    out_role = "preact"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        flip: bool = False,
    ) -> None:
        super().__init__()
        # flip: true (signal-processing) convolution, the kernel rotated 180 degrees;
        # for comparing with cross-correlation. The stored kernel stays as given.
        self.flip = bool(flip)
        if self.flip:
            self.op = "conv2d_true"  # its own captions; still a Conv2D everywhere else
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        if self.in_channels < 1 or self.out_channels < 1:
            raise ValueError("in_channels and out_channels must be >= 1")
        self.kernel = pair(kernel, "kernel size", 1)
        self.stride = pair(stride, "stride", 1)
        self.padding = pair(padding, "padding", 0)

    def init_params(self, rng: np.random.Generator, dtype: np.dtype) -> None:
        kh, kw = self.kernel
        fan_in = self.in_channels * kh * kw
        self.params = {
            "w": uniform_fan_in(rng, (self.out_channels, self.in_channels, kh, kw), fan_in, dtype),
            "b": uniform_fan_in(rng, (self.out_channels,), fan_in, dtype),
        }

    def param_axes(self, key: str) -> tuple[str, ...]:
        return ("kernel", "channel", "row", "col") if key == "w" else ("kernel",)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        w = self.params["w"]
        if self.flip:
            w = np.ascontiguousarray(w[:, :, ::-1, ::-1])
        return conv2d_forward(x, w, self.params["b"], self.stride, self.padding)

    extra_records = (("partial", "partial", ("sample", "kernel", "channel", "row", "col")),)

    def _extras(self, cache: Any) -> tuple[Lazy, ...]:
        return (Lazy(conv2d_partials, cache),)

    lazy_input_delta = True

    def _backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        dx, dw, db = conv2d_backward_kernel(dout, cache)  # shares the work of both halves
        self._set_grads(dw, db)
        return dx

    def _backward_params(self, dout: np.ndarray, cache: Any) -> None:
        self._set_grads(*conv2d_backward_params(dout, cache))

    def _set_grads(self, dw: np.ndarray, db: np.ndarray) -> None:
        if self.flip:  # the gradient of the kernel as stored, not of its rotation
            dw = np.ascontiguousarray(dw[:, :, ::-1, ::-1])
        self.grads = {"w": dw, "b": db}

    def _input_delta(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return conv2d_backward_input(dout, cache)

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        w_shape = (self.out_channels, self.in_channels) + self.kernel
        return conv_output_shape(in_shape, w_shape, self.stride, self.padding)

    def spec(self) -> dict[str, Any]:
        return {
            **super().spec(),
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel": list(self.kernel),
            "stride": list(self.stride),
            "padding": list(self.padding),
            **({"flip": True} if self.flip else {}),
        }

    def describe(self) -> dict[str, Any]:
        shape = self._out_shape or (0, 0, 0, 0)
        return {
            "layer": self.name,
            "f": self.out_channels,
            "c": self.in_channels,
            "kh": self.kernel[0],
            "kw": self.kernel[1],
            "s": _fmt_pair(self.stride),
            "p": _fmt_pair(self.padding),
            "oh": shape[2],
            "ow": shape[3],
        }


def _fmt_pair(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"
