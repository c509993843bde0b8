"""Turn an InputSpec into the network's input array and target.

A dataset sample, a raw nested list, or a drawn/uploaded PNG resized to the
network's input like the training data were made (ink cropped to its bounding
box, centred on a square with a margin, averaged down to the input size).

An input's target is the one the request gives, else the sample's own (a dataset
label, a typed sequence's next values), else the lesson's rule for any input
(engine.presets.builders.input_target); else it has none. A drawn digit is never
scored against the previous sample's label, nor against its own prediction: its
pass stops at the prediction until someone says what it is (PUT .../target).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

import numpy as np

from app.limits import LimitExceeded
from app.plain_errors import PlainValueError
from app.schemas import InputSpec
from app.settings import Limits
from engine.data import DatasetSplit
from engine.network import LABEL_LOSSES, Sequential
from engine.presets.builders import input_target


def _numbers_only(value: Any, path: str = "array") -> None:
    """Refuse booleans and strings hiding in a nested list (no silent coercion)."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            _numbers_only(v, f"{path}[{i}]")
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path} must hold only numbers; found {value!r}")
    elif isinstance(value, int):
        try:  # an integer literal with 400 digits parses as int, not as inf
            float(value)
        except OverflowError:
            raise ValueError(
                f"{path} is too large for a float: an integer of {value.bit_length()} bits "
                f"(the largest float is about {np.finfo(np.float64).max:.4g})"
            ) from None


def raw_array(value: list[Any], name: str = "array") -> np.ndarray:
    _numbers_only(value, name)
    try:
        arr = np.array(value, dtype=np.float64)
    except OverflowError:  # _numbers_only names the number; this is a last guard
        raise ValueError(f"{name} holds a number too large for a float") from None
    except ValueError:
        raise ValueError(f"{name} is ragged: every row must have the same length") from None
    return arr


def image_array(
    png_b64: str, shape: tuple[int, ...], invert: bool, max_pixels: int = 1_048_576
) -> np.ndarray:
    """A PNG or JPEG as (1, C, H, W) in [0, 1], C/H/W from the network's input shape;
    refused by its pixel count (limit max_image_pixels) before it is decoded."""
    from PIL import Image, UnidentifiedImageError

    if png_b64.startswith("data:"):
        png_b64 = png_b64.split(",", 1)[-1]
    try:
        raw = base64.b64decode(png_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"image.png is not base64: {exc}") from None
    try:
        img = Image.open(io.BytesIO(raw), formats=("PNG", "JPEG"))  # reads the header only
        width, height = img.size
        if width * height > max_pixels:  # before decoding (a tiny PNG can be huge)
            raise LimitExceeded(f"image.png pixels ({width}x{height})", "max_image_pixels",
                                max_pixels, width * height)  # fmt: skip
        img.load()
    except UnidentifiedImageError:
        raise ValueError("image.png is not a PNG or JPEG image (unrecognised bytes)") from None
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"image.png could not be decoded: {exc}") from None
    channels, height, width = shape
    mode = "L" if channels == 1 else "RGB"
    a = np.asarray(img.convert(mode), dtype=np.float64) / 255.0
    if a.ndim == 2:
        a = a[:, :, None]
    if invert:
        a = 1.0 - a
    a = _centre_ink(a)
    small = Image.fromarray(np.uint8(np.clip(a, 0, 1) * 255).squeeze(), mode)
    small = small.resize((width, height), Image.Resampling.BOX)
    out = np.asarray(small, dtype=np.float32) / 255.0
    if out.max() > 0:  # strokes thinned by the averaging still reach full ink, as in the data
        out = out / out.max()
    out = out[:, :, None] if out.ndim == 2 else out
    return out.transpose(2, 0, 1)[None]


def _centre_ink(a: np.ndarray, margin: float = 0.15) -> np.ndarray:
    """Crop to where the ink (high values) is and pad it to a centred square."""
    ink = a.max(axis=2) > 0.1
    if not ink.any():
        return a
    rows, cols = np.nonzero(ink)
    crop = a[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    side = int(max(crop.shape[:2]) * (1 + 2 * margin)) + 1
    square = np.zeros((side, side, a.shape[2]))
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    return square


SEPARATORS = re.compile(r"[\s,，;；、]+")
FLOAT32_MAX = float(np.finfo(np.float32).max)


def parse_sequence(text: str, limits: Limits) -> np.ndarray:
    """Typed numbers ("0, 0.5 1"; commas, spaces or both between them) as float64 (K,):
    at least 2 (one to read and the one after it), at most limits.max_seq_len + 1 (that
    many time steps read), each a finite number (also in float32, as the network computes)."""
    tokens = [tok for tok in SEPARATORS.split(text.strip()) if tok]
    if len(tokens) - 1 > limits.max_seq_len:  # the model reads all but the last
        raise LimitExceeded("input.sequence", "max_seq_len", limits.max_seq_len,
                            f"{len(tokens)} numbers, {len(tokens) - 1} time steps")  # fmt: skip
    if len(tokens) < 2:
        raise PlainValueError(
            f"input.sequence needs at least 2 numbers (one to read and the one after it); "
            f"got {len(tokens)}",
            "plain.sequence.too_short", given=len(tokens),
        )  # fmt: skip
    values = []
    for i, tok in enumerate(tokens):
        try:
            v = float(tok)
        except ValueError:
            detail = f"input.sequence[{i}] = {tok!r} is not a number"
            raise PlainValueError(detail, "plain.sequence.nan", k=i + 1, token=tok) from None
        if not np.isfinite(v) or abs(v) > FLOAT32_MAX:
            raise PlainValueError(
                f"input.sequence[{i}] = {tok!r} is not a finite number (within float32)",
                "plain.sequence.too_big",
                k=i + 1,
                token=tok,
            )
        values.append(v)
    return np.array(values)


def _sequence_input(
    text: str, net: Sequential, limits: Limits
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A one-feature sequence model reads all but the last number; each step's target
    is the number after it (what the sine models predict)."""
    values = parse_sequence(text, limits)
    shape = tuple(net.input_shape)
    if len(shape) != 2 or shape[1] != 1 or net.loss_kind != "mse":
        raise ValueError(
            f"input.sequence is for one-feature sequence models (the sine presets); this "
            f"network takes input {shape}"
        )
    if len(values) - 1 != shape[0]:
        raise ValueError(
            f"input.sequence has {len(values)} numbers, so the network would read "
            f"{len(values) - 1} time steps; this session's network reads {shape[0]}: give "
            f"{shape[0] + 1} numbers (a new session of a sine preset takes its length from "
            "the sequence)"
        )
    x, target = values[:-1].reshape(1, -1, 1), values[1:].reshape(1, -1, 1)
    return x, target, {"source": "sequence", "numbers": len(values)}


def resolve_input(
    spec: InputSpec, net: Sequential, data: DatasetSplit | None, limits: Limits | None = None
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """(x, target or None, a description for the session) from an InputSpec."""
    if spec.sequence is not None:
        return _sequence_input(spec.sequence, net, limits or Limits())
    if spec.sample is not None:
        if data is None:
            raise ValueError("this session has no dataset; give an array or an image instead")
        xs, ys = (
            (data.x_test, data.y_test)
            if spec.sample.split == "test"
            else (data.x_train, data.y_train)
        )
        i = spec.sample.index
        if i >= len(ys):
            raise ValueError(
                f"sample.index {i} is out of range: the {spec.sample.split} split has {len(ys)}"
            )
        info: dict[str, Any] = {"source": "sample", "split": spec.sample.split, "index": i}
        if np.ndim(ys[i]) == 0:  # a class label (sequences carry a target per step)
            info["label"] = int(ys[i])
        return xs[i : i + 1], ys[i : i + 1], info
    if spec.array is not None:
        x = raw_array(spec.array)
        if x.ndim == len(net.input_shape):
            x = x[None]
        return x, None, {"source": "array"}
    assert spec.image is not None
    shape = net.input_shape
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ValueError(f"images need a (1 or 3, H, W) input; this network takes {shape}")
    pixels = (limits or Limits()).max_image_pixels
    x = image_array(spec.image.png, shape, spec.image.invert, pixels)
    return x, None, {"source": "image", "inverted": spec.image.invert}


def resolve_target(
    value: Any, net: Sequential, n: int, out_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """Labels for classification: one per sample (N,), or one per output of a
    sequence model (N, T) given the output's shape; for regression an array shaped
    like the output (`out_shape`). A flat list of the right size is folded into it."""
    if net.loss_kind in LABEL_LOSSES:
        # (N, T, K) outputs (a sequence model) take a label per step; any other output
        # one per sample (the loss says if it is not (N, classes)).
        want = tuple(out_shape[:-1]) if out_shape is not None and len(out_shape) == 3 else (n,)
        labels = [value] * n if isinstance(value, int) and not isinstance(value, bool) else value
        arr = raw_array(labels if isinstance(labels, list) else [labels], "target")
        if arr.shape != want and arr.size == int(np.prod(want)):
            arr = arr.reshape(want)
        if arr.shape != want or np.any(arr != np.round(arr)) or np.any(np.abs(arr) > 2**31):
            shape = f"shape {want}" if len(want) > 1 else f"{n}"
            raise ValueError(f"target must be {shape} integer class label(s); got {value!r}")
        return arr.astype(np.int64)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("target must be an array shaped like the network's output")
    arr = raw_array(value, "target")
    bad = ~np.isfinite(arr) | (np.abs(arr) > FLOAT32_MAX)  # NaN/Inf would poison training
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"target{list(at)} = {arr[at]!r}: every target value must be a finite number "
            f"within float32's range (|v| <= {FLOAT32_MAX:.4g}), as the network computes"
        )
    if out_shape is not None:
        if arr.size != int(np.prod(out_shape)):
            raise ValueError(
                f"target must have the output's shape {tuple(out_shape)}; got {arr.shape}"
            )
        arr = arr.reshape(out_shape)
    return arr


def choose_target(
    spec: InputSpec, net: Sequential, x: np.ndarray, own: np.ndarray | None,
    info: dict[str, Any], preset: str | None,
) -> tuple[np.ndarray | None, dict[str, Any]]:  # fmt: skip
    """(the input's target or None, its description saying where the target came from:
    `target_from` request | sample | sequence | lesson | None, and for classification
    `label`: the class, or None while it has none)."""
    target: np.ndarray | None
    source: str | None
    if spec.target is not None:
        target, source = given_target(spec.target, net, x), "request"
    elif own is not None:
        target, source = own, info["source"]  # "sample" or "sequence"
    else:
        target = input_target(preset, net, x)
        source = None if target is None else "lesson"
    return target, described(info, net, target, source)


def given_target(value: Any, net: Sequential, x: np.ndarray) -> np.ndarray:
    """A target a request gives for input x, checked against the network's output:
    labels in range for classification, the output's shape for regression."""
    n = np.asarray(x).shape[0]
    out = net.forward(x)
    target = resolve_target(value, net, n, out.shape)
    net.loss(out, target)  # ValueError (a 422) for a label out of range or a misfit
    return target


def described(
    info: dict[str, Any], net: Sequential, target: np.ndarray | None, source: str | None
) -> dict[str, Any]:
    """`info` with where the target came from and, for classification, the label."""
    info = {**info, "target_from": source}
    if net.loss_kind in LABEL_LOSSES:
        if target is None:
            info["label"] = None
        elif np.ndim(target) == 1 and len(target) == 1:  # one class (not one per time step)
            info["label"] = int(target[0])
        else:
            info.pop("label", None)
    return info
