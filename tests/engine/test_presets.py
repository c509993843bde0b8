"""The presets: each builds, is reproducible, and the trained ones are accurate."""

import numpy as np
import pytest

from engine.data import load_digits_split, load_shapes_split
from engine.optim import make_optimizer
from engine.presets import build_preset, get_preset, list_presets
from engine.presets.builders import weights_path
from engine.presets.train import train
from engine.stepper import Pass
from engine.weights import read_npz

NAMES = [p.name for p in list_presets()]


def test_the_issue_presets_are_on_offer():
    assert {"conv-basics", "tensor-conv", "digits-cnn", "shapes-cnn"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_builds_steps_through_a_pass_and_is_reproducible(name):
    a, b = build_preset(name), build_preset(name)
    np.testing.assert_array_equal(a.x, b.x)
    for k, v in a.net.params().items():
        np.testing.assert_array_equal(v, b.net.params()[k])
    p = Pass(a.net, a.x, a.target, make_optimizer(a.optimizer))
    steps = p.run()
    assert p.done and np.isfinite(p.loss)
    assert {s.phase for s in steps} >= {"forward", "loss", "backward"}
    info = get_preset(name)
    assert info.title["en"] and info.title["zh-CN"] and info.summary["zh-CN"]


def test_unknown_preset_names_the_ones_on_offer():
    with pytest.raises(KeyError, match="on offer: conv-basics"):
        get_preset("resnet")


def test_conv_basics_is_the_lecture_example():
    lesson = build_preset("conv-basics")
    out = lesson.net.forward(lesson.x)
    np.testing.assert_array_equal(out[0, 0], [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_pooling_preset_has_the_lectures_six():
    lesson = build_preset("pooling")
    assert lesson.net.forward(lesson.x)[0, 0, 0, 0] == 6


@pytest.mark.parametrize(
    ("name", "data", "minimum"),
    [("digits-cnn", load_digits_split, 0.96), ("shapes-cnn", lambda: load_shapes_split(16), 0.95)],
)
def test_trained_presets_reach_their_accuracy(name, data, minimum):
    lesson = build_preset(name)
    split = data()
    acc = lesson.net.accuracy(split.x_test, split.y_test)
    assert acc >= minimum
    _, meta, _ = read_npz(weights_path(name).read_bytes())
    assert meta["test_accuracy"] == pytest.approx(acc, abs=2e-3)


def test_training_recipe_learns_digits_quickly():
    from engine.presets.builders import digits_architecture

    split = load_digits_split()
    acc = train(digits_architecture(0), split, epochs=2, log=lambda _: None)
    assert acc > 0.6


def test_preset_options_come_from_the_builder_and_others_are_refused():
    from engine.presets import preset_options

    assert {"scale", "nonlinearity"} <= preset_options("vanishing-rnn")
    assert preset_options("digits-cnn") == set()
    with pytest.raises(ValueError, match="digits-cnn takes no option scale"):
        build_preset("digits-cnn", scale=2.0)


@pytest.mark.parametrize(
    ("name", "data"),
    [("digits-cnn", load_digits_split), ("shapes-cnn", lambda: load_shapes_split(16))],
)
def test_trained_cnns_open_on_the_test_image_they_find_hardest(name, data):
    """The default sample is the held-out image whose true class the network gives
    the lowest probability (the engine's own softmax), so it is wrong or unsure of it
    and the backward pass has deltas to show (on an image it is sure of, ~1e-4 and less)."""
    from engine.functional.losses import softmax

    lesson, split = build_preset(name), data()
    probs = softmax(lesson.net.predict(split.x_test).astype(np.float64))
    p_true = probs[np.arange(len(split.y_test)), split.y_test]
    i = lesson.meta["sample"]
    assert i == int(np.argmin(p_true))
    np.testing.assert_array_equal(lesson.x, split.x_test[i : i + 1])
    np.testing.assert_array_equal(lesson.target, split.y_test[i : i + 1])
    p = Pass(lesson.net, lesson.x, lesson.target, make_optimizer(lesson.optimizer))
    p.run(until="loss")
    shown = p.trace["loss.probs"][0]
    assert shown[lesson.target[0]] < 0.5  # wrong, or at best a coin toss
    # Its deltas are those of a mistake: p - onehot(y) has an entry below -0.5.
    assert p.trace["loss.dx"].min() < -0.5
