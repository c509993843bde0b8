"""The pooling page's guided tasks (static/js/views/pool.js: its URL state is kind,
input and frame; its session is the pooling preset, a 4x4 map whose top-left window's
maximum is the lecture's 6).

Forward (max, then average) and the lecture's backward example: a max pool hands a
delta to the one recorded position, an average pool a quarter to each of the four."""

from app.lessons.model import Task

TASKS: tuple[Task, ...] = (
    Task("pool-max", "pooling", {"kind": "max", "input": "", "frame": 0}, "number", "pooling",
         tensor="pool1.out", index=(0, 0, 0, 0), example=True),
    Task("pool-avg", "pooling", {"kind": "avg", "input": "", "frame": 0}, "number", "pooling",
         tensor="pool1.out", index=(0, 0, 0, 0)),
    Task("pool-max-where", "pooling", {"kind": "max", "input": "", "frame": 0}, "cells",
         "pooling-backward", tensor="pool1.dout", index=(0, 0, 0, 0), example=True),
    Task("pool-max-amount", "pooling", {"kind": "max", "input": "", "frame": 0}, "number",
         "pooling-backward", tensor="pool1.dx", index=(0, 0, 1, 1), example=True),
    Task("pool-avg-where", "pooling", {"kind": "avg", "input": "", "frame": 0}, "cells",
         "pooling-backward", tensor="pool1.dout", index=(0, 0, 0, 0)),
    Task("pool-avg-amount", "pooling", {"kind": "avg", "input": "", "frame": 0}, "number",
         "pooling-backward", tensor="pool1.dx", index=(0, 0, 0, 0)),
)  # fmt: skip
