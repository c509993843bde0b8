"""What a walk over every walkthrough does on each page, shared by the tests that walk
them all (test_axe, test_zh_walk): the map or neuron to click to open an explanation,
and the pages without a player."""

from __future__ import annotations

# What to click on each walkthrough to open an explanation, and where (the convolution
# page shows its products at every step; the learning-rate lab explains nothing).
EXPLAIN: dict[str, tuple[str, dict[str, float] | None]] = {
    "tensor-convolution": (".grid-cell.sum .heatmap-overlay", {"x": 5, "y": 5}),
    "pooling": (".pool-cell[data-tensor='pool1.out'] .heatmap-overlay", {"x": 5, "y": 5}),
    "cnn": (".overview .channel-grid .heatmap-overlay", {"x": 4, "y": 4}),
    "bp": (".bp-neuron[data-col='1']", None),
    "rnn": (".rnn-vector[data-tensor$='.f'] .heatmap-overlay", {"x": 5, "y": 5}),
}
NO_PLAYER = {"tensor-convolution"}  # its figure is all at once
