"""The sine and memory presets at another sequence length: the same trained weights
over data made at that length, named so that load_split rebuilds it."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data import load_split
from engine.presets import build_preset, preset_options


@pytest.mark.parametrize(
    ("preset", "seq_len", "dataset", "features"),
    [("memory-lstm", 40, "memory40", 4), ("memory-rnn", 5, "memory5", 4),
     ("sine-lstm", 7, "sine7", 1), ("sine-rnn", 33, "sine33", 1)],
)  # fmt: skip
def test_a_preset_at_another_length_keeps_its_weights_on_data_of_that_length(
    preset, seq_len, dataset, features
):
    default = build_preset(preset)
    lesson = build_preset(preset, seq_len=seq_len)
    assert lesson.net.seq_len == seq_len and lesson.x.shape == (1, seq_len, features)
    assert lesson.data.name == dataset and lesson.data.x_test.shape[1:] == (seq_len, features)
    assert lesson.meta["trained_seq_len"] == default.net.seq_len
    for name, w in default.net.params().items():
        np.testing.assert_array_equal(lesson.net.params()[name], w)
    rebuilt = load_split(dataset)
    np.testing.assert_array_equal(rebuilt.x_train, lesson.data.x_train)
    np.testing.assert_array_equal(rebuilt.y_test, lesson.data.y_test)


def test_the_trained_length_is_the_default():
    same = build_preset("sine-lstm", seq_len=20)
    assert same.data.name == "sine" and same.net.seq_len == 20
    assert "trained_seq_len" not in same.meta


def test_only_the_presets_whose_data_has_a_length_take_it():
    assert "seq_len" in preset_options("memory-lstm")
    assert "seq_len" in preset_options("vanishing-rnn")
    for name in ("bilstm-memory", "chars-en", "seq-one-to-many", "digits-cnn"):
        assert "seq_len" not in preset_options(name)
    with pytest.raises(ValueError, match="takes no option seq_len"):
        build_preset("chars-en", seq_len=8)
    with pytest.raises(ValueError, match="seq_len must be"):
        build_preset("memory-lstm", seq_len=0)
