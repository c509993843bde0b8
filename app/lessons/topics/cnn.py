"""The CNN page's guided tasks (static/js/views/cnn.js: its URL state is preset, sample
and step, and the training panel's keys, which no task sets: every prompt here holds
for any weights, and the answers come from the page's own session; its session is a
digits-cnn or shapes-cnn network on a test sample).

Digits test sample 18 is a 9 the trained network recognises but not for certain (some
probability on 7 and 8), so the loss delta is readable. In the order of the player:
a feature map's size with padding 1 (and shapes-cnn's 5 x 5 kernel without padding), a
max pool's output, the size after two pools (降采样), the softmax cross-entropy's delta
at the output (p - 1 for the true class, p for another), a dense weight's gradient (that
delta times the input it multiplied), and where a max pool hands its delta back."""

from app.lessons.model import Query, Task

DIGITS: Query = {"preset": "digits-cnn", "sample": 18}
SHAPES: Query = {"preset": "shapes-cnn", "sample": 0}


def _at(query: Query, step: int) -> Query:
    """The page with its player at plan step `step`: the step that shows the asked
    tensor with the asked cell hidden, or one before it where the tensor would give the
    answer away (a size shows in a map's heading and the caption; the loss delta's
    legend is the true class's delta): -1, the pass not started, or the last forward."""
    return {**query, "step": step}


TASKS: tuple[Task, ...] = (
    Task("cnn-conv1-size", "cnn", _at(DIGITS, -1), "size", "convolution", tensor="conv1.out"),
    Task("cnn-shapes-conv1-size", "cnn", _at(SHAPES, -1), "size", "convolution",
         tensor="conv1.out"),
    Task("cnn-pool-max", "cnn", _at(DIGITS, 2), "number", "pooling", tensor="pool1.out",
         index=(0, 0, 0, 0)),
    Task("cnn-pool2-size", "cnn", _at(DIGITS, -1), "size", "pooling", tensor="pool2.out"),
    Task("cnn-loss-true", "cnn", _at(DIGITS, 7), "number", "bp", tensor="loss.dx",
         index=(0, 9), values={"digit": 9}),
    Task("cnn-loss-other", "cnn", _at(DIGITS, 7), "number", "bp", tensor="loss.dx",
         index=(0, 8), values={"digit": 8}),
    Task("cnn-dense-dw", "cnn", _at(DIGITS, 9), "number", "bp", tensor="dense1.dw",
         index=(9, 0), values={"digit": 9}),
    Task("cnn-pool-back-where", "cnn", _at(DIGITS, 11), "cells", "pooling-backward",
         tensor="pool2.dout", index=(0, 0, 1, 0)),
)  # fmt: skip
