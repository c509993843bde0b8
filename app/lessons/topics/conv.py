"""The convolution page's guided tasks (static/js/views/conv.js: its URL state is k, p,
s, mode, input, kernel and frame; its session is the conv-basics preset).

The lecture's own example first: its 5x5 picture and 3x3 kernel (the preset's), whose
valid cross-correlation is [[4, 3, 4], [2, 4, 3], [2, 3, 4]]; then the size formula
with padding and stride, and the lecture's backward example (A-E: where an output's
delta goes, the corner pixel's delta and a pixel's that touched several outputs)."""

from app.lessons.model import Query, Task

LECTURE: Query = {"k": 3, "p": 0, "s": 1, "mode": "xcorr", "input": "", "kernel": ""}

TASKS: tuple[Task, ...] = (
    Task("conv-size", "convolution", {**LECTURE, "frame": 0}, "size", "convolution",
         tensor="conv1.out", example=True),
    Task("conv-first", "convolution", {**LECTURE, "frame": 0}, "number", "convolution",
         tensor="conv1.out", index=(0, 0, 0, 0), example=True),
    Task("conv-map", "convolution", {**LECTURE, "frame": 0}, "map", "convolution",
         tensor="conv1.out", index=(0, 0), example=True),
    Task("conv-padding", "convolution", {**LECTURE, "p": 1, "frame": 0}, "size", "convolution",
         tensor="conv1.out"),
    Task("conv-stride", "convolution", {**LECTURE, "p": 1, "s": 2, "frame": 0}, "size",
         "convolution", tensor="conv1.out"),
    # the lecture's A-E example: an output's delta reaches the pixels its window
    # covered through a kernel weight other than 0; a corner pixel (A) touched one
    # output, a pixel further in several, and its delta is the sum over them
    Task("conv-back-where", "convolution", {**LECTURE, "frame": 4}, "cells", "conv-backward",
         tensor="conv1.dout", index=(0, 0, 1, 1), example=True),
    Task("conv-back-corner", "convolution", {**LECTURE, "frame": 0}, "number", "conv-backward",
         tensor="conv1.dx", index=(0, 0, 0, 0), example=True),
    Task("conv-back-edge", "convolution", {**LECTURE, "frame": 2}, "number", "conv-backward",
         tensor="conv1.dx", index=(0, 0, 0, 2), example=True),
)  # fmt: skip
