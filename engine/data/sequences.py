"""Sequence datasets for the recurrent lessons, all seeded and made on the fly.

- sine: the next value of a sine wave (many-to-many regression). Each sequence
  has its own frequency and phase, so the network has to read the wave to
  continue it. x (N, T, 1) = sin(ω t + φ), target (N, T, 1) = sin(ω (t+1) + φ).
- memory: the label is the first token; the T-1 tokens after it are noise from
  the same alphabet (many-to-one). One-hot x (N, T, A), labels (N,). Chance is
  1/A; holding the first token over T steps is the long-term dependency an RNN
  loses and an LSTM keeps.
- characters: the next character of a short built-in text (many-to-many),
  English or Chinese; one-hot x (N, T, V), labels (N, T).
- spell: one-to-many: a word's first letter is the only input (at t = 0, zeros
  after it) and the outputs are the word's next letters: "h" -> "ello".
"""

from __future__ import annotations

import re

import numpy as np

from engine.data.split import DatasetSplit

MEMORY_ALPHABET = "ABCD"
SPELL_WORDS = ("hello", "world", "gates", "cells")
TEXTS = {
    "en": (
        "hello world. hello there, hello again. a small network reads one letter at a "
        "time and guesses the next one. it keeps what it has read in its hidden state. "
        "say hello to long short-term memory: its forget gate decides what to keep. "
        "hello, hello, hello. "
    ),
    # Three Tang poems (public domain): 静夜思 (李白), 春晓 (孟浩然), 登鹳雀楼 (王之涣).
    "zh": (
        "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
        "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"
        "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
    ),
}


def sine_split(
    seq_len: int = 20, n_train: int = 512, n_test: int = 128, seed: int = 0
) -> DatasetSplit:
    """Sine waves of frequency ω in [0.25, 0.6] rad per step and random phase; y (N, T, 1)
    is each x shifted one step ahead."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    omega = rng.uniform(0.25, 0.6, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    t = np.arange(seq_len + 1)[None]
    wave = np.sin(omega * t + phase).astype(np.float32)[..., None]
    x, y = wave[:, :-1], wave[:, 1:]
    name = "sine" if seq_len == 20 else f"sine{seq_len}"  # load_sequence_split rebuilds it
    return DatasetSplit(x[:n_train], y[:n_train], x[n_train:], y[n_train:], (), name)


def memory_split(
    seq_len: int, n_train: int = 2000, n_test: int = 500, seed: int = 0
) -> DatasetSplit:
    """Sequences of `seq_len` one-hot tokens over MEMORY_ALPHABET; the label is the
    first token, the others are uniform noise."""
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1; got {seq_len}")
    rng = np.random.default_rng(seed)
    a = len(MEMORY_ALPHABET)
    tokens = rng.integers(0, a, size=(n_train + n_test, seq_len))
    x = np.eye(a, dtype=np.float32)[tokens]
    y = tokens[:, 0].astype(np.int64)
    # The name rebuilds the same split (load_sequence_split), in any worker.
    name = f"memory{seq_len}"
    if (n_train, n_test, seed) != (2000, 500, 0):
        name += f"-{n_train}-{n_test}-s{seed}"
    return DatasetSplit(
        x[:n_train], y[:n_train], x[n_train:], y[n_train:], tuple(MEMORY_ALPHABET), name
    )


def vocabulary(text: str) -> tuple[str, ...]:
    """The text's distinct characters, sorted (a class per character)."""
    return tuple(sorted(set(text)))


def encode(text: str, vocab: tuple[str, ...]) -> np.ndarray:
    """Character indices (len(text),); ValueError names a character not in vocab."""
    index = {ch: i for i, ch in enumerate(vocab)}
    missing = sorted(set(text) - set(index))
    if missing:
        raise ValueError(f"characters not in the vocabulary: {''.join(missing)!r}")
    return np.array([index[ch] for ch in text], dtype=np.int64)


def one_hot(ids: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size, dtype=np.float32)[ids]


def decode(ids: np.ndarray, vocab: tuple[str, ...]) -> str:
    return "".join(vocab[int(i)] for i in np.asarray(ids).reshape(-1))


def char_split(lang: str, seq_len: int = 16, stride: int = 1) -> DatasetSplit:
    """Every window of the built-in text: x one-hot (N, T, V), y (N, T) the next
    characters. The test set is the same text: a model this small on a text this
    short memorises it, and the test accuracy says how well."""
    if lang not in TEXTS:
        raise ValueError(f"no built-in text {lang!r}; choose one of {', '.join(TEXTS)}")
    text = TEXTS[lang]
    vocab = vocabulary(text)
    ids = encode(text, vocab)
    starts = np.arange(0, len(ids) - seq_len, stride)
    windows = ids[starts[:, None] + np.arange(seq_len + 1)]
    x, y = one_hot(windows[:, :-1], len(vocab)), windows[:, 1:]
    return DatasetSplit(x, y, x, y, vocab, f"chars-{lang}-{seq_len}")


def spell_split(words: tuple[str, ...] = SPELL_WORDS) -> DatasetSplit:
    """One sample per word (equal lengths L, distinct first letters): x (W, L-1, V) is
    the first letter one-hot at t = 0 and zeros after, y (W, L-1) the letters after it."""
    if len({len(w) for w in words}) != 1 or len({w[0] for w in words}) != len(words):
        raise ValueError("spell words need one length and distinct first letters")
    vocab = vocabulary("".join(words))
    ids = np.stack([encode(w, vocab) for w in words])
    x = np.zeros((len(words), ids.shape[1] - 1, len(vocab)), np.float32)
    x[:, 0] = one_hot(ids[:, 0], len(vocab))
    y = ids[:, 1:]
    return DatasetSplit(x, y, x, y, vocab, "spell")


def load_sequence_split(name: str) -> DatasetSplit:
    """A sequence dataset by its `DatasetSplit.name`: "sine" (or "sine<T>"), "memory<T>"
    (or "memory<T>-<train>-<test>-s<seed>"),
    "chars-<lang>-<T>" (or "chars-en", "chars-zh": windows of 16), "spell"."""
    if name == "sine":
        return sine_split()
    if name.startswith("sine") and name[4:].isdigit():
        return sine_split(int(name[4:]))
    memory = re.fullmatch(r"memory(\d+)(?:-(\d+)-(\d+)-s(\d+))?", name)
    if memory:  # "memory20", or "memory40-8-8-s3": 8 training and 8 test sequences, seed 3
        t_len, n_train, n_test, seed = memory.groups()
        if n_train is None:
            return memory_split(int(t_len))
        return memory_split(int(t_len), int(n_train), int(n_test), int(seed))
    if name.startswith("chars-") and name.count("-") == 2:  # "chars-en-4": windows of 4
        lang, t_len = name[6:].split("-")
        return char_split(lang, int(t_len))
    if name.startswith("chars-"):
        return char_split(name[6:])
    if name == "spell":
        return spell_split()
    raise ValueError(
        f"unknown sequence dataset {name!r}; known: sine, sine<T>, memory<T>, chars-en, chars-zh, "
        "chars-<lang>-<T>, spell"
    )
