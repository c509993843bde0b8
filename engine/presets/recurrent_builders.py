"""Build the recurrent presets: architectures, training recipes and lessons.

The trained ones load weights made by `python -m engine.presets.train` (seeded)
and shipped in engine/presets/weights/; `vanishing-rnn` is untrained, its
recurrent weights scaled to a chosen spectral radius.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from engine import memory_sweep
from engine.data import DatasetSplit
from engine.data.sequences import (
    MEMORY_ALPHABET,
    SPELL_WORDS,
    TEXTS,
    char_split,
    decode,
    encode,
    memory_split,
    one_hot,
    sine_split,
    spell_split,
)
from engine.recurrent import RecurrentNet
from engine.recurrent_tasks import MEMORY_RECIPE, Recipe, memory_net
from engine.weights import load_network

if TYPE_CHECKING:
    from engine.presets.builders import Lesson


def _lesson(*args: Any, **kwargs: Any) -> Lesson:
    """A Lesson (engine.presets.builders imports this module, so import it late)."""
    from engine.presets.builders import Lesson

    return Lesson(*args, **kwargs)


MEMORY_T = 20
# The gradient chart's length: an LSTM trained on the memory task at 40 steps (the
# one trained at MEMORY_T, run over 40 steps, loses its gradient: see the README).
MEMORY_LONG_T = 40
CHAR_T = 16  # training windows; the lessons step through 4 characters
LESSON_TEXT = {"en": ("hell", "ello"), "zh": ("床前明月", "前明月光")}
GENERATE_SEED = {"en": "hel", "zh": "床"}


@dataclass(frozen=True)
class Trained:
    """A trained preset: its architecture, data and recipe (for the training script)."""

    build: Callable[[int], RecurrentNet]
    data: Callable[[], DatasetSplit]
    recipe: Recipe


def _sine_net(cell: str) -> Callable[[int], RecurrentNet]:
    def build(seed: int) -> RecurrentNet:
        return RecurrentNet(cell, 1, 16, 1, "many-to-many", "mse", seq_len=20, clip=1.0,
                            forget_bias=1.0 if cell == "lstm" else 0.0, seed=seed)  # fmt: skip

    return build


def _char_net(lang: str) -> Callable[[int], RecurrentNet]:
    def build(seed: int) -> RecurrentNet:
        v = len(char_split(lang, CHAR_T).classes)
        return RecurrentNet("lstm", v, 32, v, "many-to-many", seq_len=CHAR_T, clip=1.0,
                            forget_bias=1.0, seed=seed)  # fmt: skip

    return build


def _spell_net(seed: int) -> RecurrentNet:
    data = spell_split()
    v, t_len = len(data.classes), data.x_train.shape[1]
    return RecurrentNet("lstm", v, 16, v, "many-to-many", seq_len=t_len, clip=1.0,
                        forget_bias=1.0, seed=seed)  # fmt: skip


TRAINED: dict[str, Trained] = {
    "sine-rnn": Trained(_sine_net("rnn"), sine_split, Recipe(60, 1e-2)),
    "sine-lstm": Trained(_sine_net("lstm"), sine_split, Recipe(60, 1e-2)),
    "memory-rnn": Trained(
        lambda seed: memory_net("rnn", MEMORY_T, seed),
        lambda: memory_split(MEMORY_T),
        MEMORY_RECIPE,
    ),
    "memory-lstm": Trained(
        lambda seed: memory_net("lstm", MEMORY_T, seed),
        lambda: memory_split(MEMORY_T),
        MEMORY_RECIPE,
    ),
    "memory-lstm-40": Trained(
        lambda seed: memory_net("lstm", MEMORY_LONG_T, seed),
        lambda: memory_split(MEMORY_LONG_T),
        MEMORY_RECIPE,
    ),
    "bilstm-memory": Trained(
        lambda seed: memory_net("bilstm", MEMORY_T, seed),
        lambda: memory_split(MEMORY_T),
        MEMORY_RECIPE,
    ),  # fmt: skip
    "chars-en": Trained(_char_net("en"), lambda: char_split("en", CHAR_T), Recipe(100, 1e-2, 16)),
    "chars-zh": Trained(_char_net("zh"), lambda: char_split("zh", CHAR_T), Recipe(100, 1e-2, 16)),
    "seq-one-to-many": Trained(_spell_net, spell_split, Recipe(300, 1e-2, 4)),
}


def _load(weights: str) -> tuple[RecurrentNet, dict[str, Any]]:
    from engine.presets.builders import weights_path

    with weights_path(weights).open("rb") as fh:
        net, meta = load_network(fh.read())
    assert isinstance(net, RecurrentNet)
    return net, meta


def _first_right(net: RecurrentNet, data: DatasetSplit) -> int:
    """The first test sample the network gets right (0 if none)."""
    pred = net.predict(data.x_test[:64]).argmax(axis=-1)
    right = (pred == data.y_test[:64]).reshape(len(pred), -1).all(axis=1)
    return int(np.flatnonzero(right)[0]) if right.any() else 0


# The sequence length a trained preset may be run at: the weights do not depend on
# it, only the data do (the sequences are made for that length).
SPLIT_AT: dict[str, Callable[[int], DatasetSplit]] = {
    "sine-rnn": sine_split,
    "sine-lstm": sine_split,
    "memory-rnn": memory_split,
    "memory-lstm": memory_split,
    "memory-lstm-40": memory_split,
}


def _sequence_lesson(name: str, weights: str, seed: int | None) -> Lesson:
    net, meta = _load(weights)
    net.seed = seed or 0
    return _on_data(name, net, TRAINED[weights].data(), {**meta, "weights": weights})


def _resized_lesson(name: str, seed: int | None, seq_len: int | None = None) -> Lesson:
    """A trained sine or memory preset (`name` is its weights too) on sequences of
    `seq_len` steps (default: the length it was trained at), the same weights."""
    net, meta = _load(name)
    net.seed = seed or 0
    if seq_len is None or seq_len == net.seq_len:
        return _on_data(name, net, TRAINED[name].data(), {**meta, "weights": name})
    if not 1 <= seq_len <= 10_000:
        raise ValueError(f"seq_len must be a whole number of time steps >= 1; got {seq_len}")
    info = {**meta, "weights": name, "trained_seq_len": net.seq_len, "seq_len": seq_len}
    net = net.with_seq_len(seq_len)
    net.seed = seed or 0
    return _on_data(name, net, SPLIT_AT[name](seq_len), info)


def _memory_lesson(name: str, seed: int | None, seq_len: int | None = None) -> Lesson:
    """memory-rnn or memory-lstm (_resized_lesson), its meta stating the accuracy-vs-
    length experiment the RNN page trains these models in (engine.memory_sweep)."""
    lesson = _resized_lesson(name, seed, seq_len)
    lesson.meta["sweep"] = memory_sweep.info()
    return lesson


def _on_data(name: str, net: RecurrentNet, data: DatasetSplit, meta: dict[str, Any]) -> Lesson:
    """The lesson on one test sequence: the first one a classifier gets right."""
    i = 0 if net.loss_kind == "mse" else _first_right(net, data)
    x, y = data.x_test[i : i + 1], data.y_test[i : i + 1]
    opt = {"type": "sgd", "lr": 0.05}
    return _lesson(name, net, x, y, opt, data, {**meta, "sample": i})


def _char_lesson(name: str, lang: str, seed: int | None) -> Lesson:
    """The trained character model on 4 characters ("hell" -> "ello"); its meta holds
    the text and a greedy continuation of a seed (one-to-many generation)."""
    net, meta = _load(name)
    vocab = char_split(lang, CHAR_T).classes
    text_in, text_out = LESSON_TEXT[lang]
    lesson_net = net.with_seq_len(len(text_in))
    lesson_net.seed = seed or 0
    x = one_hot(encode(text_in, vocab), len(vocab))[None]
    y = encode(text_out, vocab)[None]
    start = GENERATE_SEED[lang]
    seed_x = one_hot(encode(start, vocab), len(vocab))[None]
    generated = start + decode(net.generate(seed_x, 40).argmax(axis=-1), vocab)
    data = char_split(lang, len(text_in))
    info = {"text": TEXTS[lang], "vocabulary": "".join(vocab), "input": text_in,
            "target": text_out, "generated": generated, "sample": 0}  # fmt: skip
    return _lesson(name, lesson_net, x, y, {"type": "sgd", "lr": 0.1}, data, {**meta, **info})


def _spell_lesson(seed: int | None) -> Lesson:
    """One-to-many: the seed letter "h" alone at t = 0 -> the network writes "ello"."""
    net, meta = _load("seq-one-to-many")
    net.seed = seed or 0
    data = spell_split()
    i = 0  # "hello"
    info = {"words": list(SPELL_WORDS), "seed_letter": SPELL_WORDS[i][0], "sample": i}
    x, y = data.x_test[i : i + 1], data.y_test[i : i + 1]
    return _lesson("seq-one-to-many", net, x, y, {"type": "sgd", "lr": 0.1}, data, {**meta, **info})


# The gradient chart's slider: the spectral radii on offer (the page reads them from
# the preset's meta, so the range is stated once, here).
SCALE_RANGE = {"min": 0.25, "max": 3.0, "step": 0.05}
# The input weights are PyTorch's draw times this: the inputs nudge the state rather
# than saturate it, so tanh works near 0, where its slope is about 1.
INPUT_SCALE = 0.1
VANISHING_HIDDEN = 32


def chart_recurrent_weights(
    rng: np.random.Generator, hidden: int, radius: float, nonlinearity: str
) -> np.ndarray:
    """W_hh (H, H) of spectral radius `radius`, chosen so that one step back through
    time multiplies ||dL/dh|| by about `radius` (what the chart is there to show):
    - tanh: `radius` x a random orthogonal matrix: every eigenvalue and every singular
      value has size `radius`, so a step back scales the gradient by `radius` times
      tanh's slope, which is about 1 while the state stays small;
    - relu: `radius` x the identity (the IRNN initialisation of relu RNNs): with
      non-negative inputs every unit stays on, relu's slope is 1, and a step back
      scales the gradient by exactly `radius`. (With weights of both signs relu
      switches about half the units off, and their gradient with them: see the
      README's gradient-norm table.)"""
    if nonlinearity == "relu":
        return radius * np.eye(hidden)
    q, r = np.linalg.qr(rng.standard_normal((hidden, hidden)))
    return radius * q * np.sign(np.diag(r))  # the sign fix makes Q uniformly random


def vanishing_rnn(
    seed: int | None = None, scale: float = 1.0, nonlinearity: str = "tanh", seq_len: int = 40
) -> Any:
    """An untrained RNN (32 units) on one memory sequence of `seq_len` tokens, its
    recurrent weights W_hh of spectral radius `scale` (chart_recurrent_weights), the
    input weights small (INPUT_SCALE; non-negative for relu), no biases; float64,
    so the exploding end stays finite. Step the backward pass and watch ||dL/dh_t||
    shrink (scale < 1: vanishing gradient) or grow (scale > 1: exploding gradient)
    from t = T-1 back to 0.

    The loss is the mean squared error between the 4 outputs at the last step and the
    one-hot of the label (mse_onehot): its gradient 2 (y - onehot) / 4 cannot vanish
    at the last step, as softmax cross-entropy's p - onehot does once the logits of a
    network whose state explodes saturate the softmax (a loss of -0.0, every
    gradient 0)."""
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale (the spectral radius) must be a positive number; got {scale}")
    s = 0 if seed is None else seed
    a, hid = len(MEMORY_ALPHABET), VANISHING_HIDDEN
    net = RecurrentNet("rnn", a, hid, a, loss="mse_onehot", seq_len=seq_len,
                       nonlinearity=nonlinearity, seed=s, dtype=np.float64)  # fmt: skip
    w_hh = chart_recurrent_weights(np.random.default_rng(s + 1), hid, scale, nonlinearity)
    w_ih = net.params()["rnn1.w_ih"] * INPUT_SCALE
    if nonlinearity == "relu":
        w_ih = np.abs(w_ih)
    net.set_params({"rnn1.w_hh": w_hh, "rnn1.w_ih": w_ih,
                    "rnn1.b_ih": np.zeros(hid), "rnn1.b_hh": np.zeros(hid)})  # fmt: skip
    data = memory_split(seq_len, n_train=8, n_test=8, seed=s)
    meta = {"scale": scale, "nonlinearity": nonlinearity, "spectral_radius": scale,
            "scale_range": SCALE_RANGE, "loss": "mse_onehot",
            "w_hh": "identity" if nonlinearity == "relu" else "orthogonal"}  # fmt: skip
    return _lesson("vanishing-rnn", net, data.x_test[:1], data.y_test[:1],
                  {"type": "sgd", "lr": 0.05}, data, meta)  # fmt: skip


RECURRENT_BUILDERS: dict[str, Callable[[int | None], Lesson]] = {
    "sine-rnn": partial(_resized_lesson, "sine-rnn"),
    "sine-lstm": partial(_resized_lesson, "sine-lstm"),
    "memory-rnn": partial(_memory_lesson, "memory-rnn"),
    "memory-lstm": partial(_memory_lesson, "memory-lstm"),
    "memory-lstm-40": partial(_resized_lesson, "memory-lstm-40"),
    "bilstm-memory": lambda seed: _sequence_lesson("bilstm-memory", "bilstm-memory", seed),
    "vanishing-rnn": vanishing_rnn,
    "chars-en": lambda seed: _char_lesson("chars-en", "en", seed),
    "chars-zh": lambda seed: _char_lesson("chars-zh", "zh", seed),
    "seq-one-to-many": _spell_lesson,
    "seq-many-to-one": lambda seed: _sequence_lesson("seq-many-to-one", "memory-lstm", seed),
    "seq-many-to-many": lambda seed: _sequence_lesson("seq-many-to-many", "sine-lstm", seed),
}
