"""Deterministic random cases for the PyTorch comparison, shared by the golden
file's generator (tests/engine/golden/make_golden.py), the golden test and the
live test, plus the engine side of every comparison.

Every input is a float64 array whose values are exactly representable in
float32, so casting it to float32 loses nothing: the float32 comparison then
measures float32 arithmetic only, and a max-pooling argmax is the same in both
precisions. Each case is a dict of arrays (inputs and the upstream gradient
`dout`, the R of the loss sum(out * R)) and plain parameters.

No torch here: the default test run imports this module.
"""

from __future__ import annotations

import numpy as np

from engine.functional import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    conv2d_backward,
    dense,
    dense_backward,
    leaky_relu,
    leaky_relu_backward,
    max_pool2d,
    max_pool2d_backward,
    mse,
    mse_onehot,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax_cross_entropy,
    tanh,
    tanh_backward,
)

# Seeds of the golden cases; the live test adds fresh cases from FRESH_SEED.
SEEDS = {
    "conv": 1001, "pool": 2002, "dense": 3003, "act": 4004, "ce": 5005, "mse": 6006,
    "mse_onehot": 7007,
}  # fmt: skip
FRESH_SEED = 777
COUNTS = {"conv": 240, "pool": 240, "dense": 40, "act": 40, "ce": 40, "mse": 30, "mse_onehot": 30}
KINDS = tuple(COUNTS)
ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")

# What each kind compares: output names, in the order the reference returns them.
OUTPUTS = {
    "conv": ("out", "dx", "dw", "db"),
    "pool": ("max_out", "max_dx", "avg_out", "avg_dx"),
    "dense": ("out", "dx", "dw", "db"),
    "act": ("out", "dx"),
    "ce": ("loss", "dlogits"),
    "mse": ("loss", "dpred"),
    "mse_onehot": ("loss", "dpred"),
}


def f32_exact(a: np.ndarray) -> np.ndarray:
    """float64 values rounded to float32 precision (casting them to float32 is lossless)."""
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def _normal(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return f32_exact(rng.standard_normal(shape) * scale)


def _pair(rng: np.random.Generator, low: int, high: int) -> tuple[int, int]:
    """(a, b) in [low, high]; half the time square (a == b)."""
    a = int(rng.integers(low, high + 1))
    b = a if rng.random() < 0.5 else int(rng.integers(low, high + 1))
    return a, b


def conv_case(rng: np.random.Generator) -> dict:
    """Batch 1-4, channels 1-4, kernels 1-4 of 1-5 x 1-5, sizes 3-16, stride 1-3,
    padding 0-2; drawn again (from the same stream) until the kernel fits."""
    while True:
        n, c, f = (int(v) for v in rng.integers(1, 5, size=3))
        h, w = _pair(rng, 3, 16)
        kh, kw = _pair(rng, 1, 5)
        stride = _pair(rng, 1, 3)
        padding = _pair(rng, 0, 2)
        if kh <= h + 2 * padding[0] and kw <= w + 2 * padding[1]:
            break
    x = _normal(rng, (n, c, h, w))
    weight = _normal(rng, (f, c, kh, kw), 1 / np.sqrt(c * kh * kw))
    b = _normal(rng, (f,))
    oh = (h + 2 * padding[0] - kh) // stride[0] + 1
    ow = (w + 2 * padding[1] - kw) // stride[1] + 1
    dout = _normal(rng, (n, f, oh, ow))
    return {"x": x, "w": weight, "b": b, "dout": dout, "stride": stride, "padding": padding}


def pool_case(rng: np.random.Generator) -> dict:
    """Batch 1-4, channels 1-4, windows 1-5 x 1-5, sizes 3-16, stride 1-3 or the
    default (= size); 40% of the inputs small integers, so max pooling has ties."""
    while True:
        n, c = (int(v) for v in rng.integers(1, 5, size=2))
        h, w = _pair(rng, 3, 16)
        size = _pair(rng, 1, 5)
        default_stride = bool(rng.random() < 0.2)
        stride = size if default_stride else _pair(rng, 1, 3)
        if size[0] <= h and size[1] <= w:
            break
    ties = bool(rng.random() < 0.4)
    if ties:
        x = rng.integers(-2, 3, size=(n, c, h, w)).astype(np.float64)
    else:
        x = _normal(rng, (n, c, h, w))
    oh, ow = (h - size[0]) // stride[0] + 1, (w - size[1]) // stride[1] + 1
    dout = _normal(rng, (n, c, oh, ow))
    return {
        "x": x,
        "dout": dout,
        "size": size,
        "stride": stride,
        "default_stride": default_stride,
        "ties": ties,
    }


def dense_case(rng: np.random.Generator) -> dict:
    n, d, m = int(rng.integers(1, 9)), int(rng.integers(1, 33)), int(rng.integers(1, 17))
    return {
        "x": _normal(rng, (n, d)),
        "w": _normal(rng, (m, d), 1 / np.sqrt(d)),
        "b": _normal(rng, (m,)),
        "dout": _normal(rng, (n, m)),
    }


def act_case(rng: np.random.Generator, index: int) -> dict:
    """Every activation in turn; a few exact zeros (relu's kink) and wide ranges."""
    name = ACTIVATIONS[index % len(ACTIVATIONS)]
    shape = tuple(int(v) for v in rng.integers(1, 7, size=int(rng.integers(1, 5))))
    x = _normal(rng, shape, float(rng.choice([1.0, 5.0, 30.0])))
    x.flat[rng.integers(0, x.size, size=max(1, x.size // 8))] = 0.0
    slope = float(np.float32(rng.choice([0.01, 0.1, 0.3]))) if name == "leaky_relu" else 0.0
    return {"x": x, "dout": _normal(rng, shape), "name": name, "slope": slope}


def ce_case(rng: np.random.Generator) -> dict:
    n, k = int(rng.integers(1, 9)), int(rng.integers(2, 11))
    scale = float(rng.choice([0.1, 1.0, 5.0, 50.0]))
    return {"logits": _normal(rng, (n, k), scale), "labels": rng.integers(0, k, size=n)}


def mse_case(rng: np.random.Generator) -> dict:
    shape = tuple(int(v) for v in rng.integers(1, 7, size=int(rng.integers(1, 5))))
    return {"pred": _normal(rng, shape), "target": _normal(rng, shape)}


def mse_onehot_case(rng: np.random.Generator) -> dict:
    """Outputs (N, K) in (0, 1) as a sigmoid gives them, or wider, and class labels."""
    n, k = int(rng.integers(1, 9)), int(rng.integers(2, 11))
    pred = f32_exact(rng.random((n, k)) * float(rng.choice([1.0, 3.0])))
    return {"pred": pred, "labels": rng.integers(0, k, size=n)}


def make_cases(kind: str, seed: int | None = None, count: int | None = None) -> list[dict]:
    """`count` cases of `kind` from one seeded stream (the golden ones by default)."""
    rng = np.random.default_rng(SEEDS[kind] if seed is None else seed)
    count = COUNTS[kind] if count is None else count
    if kind == "act":
        return [act_case(rng, i) for i in range(count)]
    make = {
        "conv": conv_case,
        "pool": pool_case,
        "dense": dense_case,
        "ce": ce_case,
        "mse": mse_case,
        "mse_onehot": mse_onehot_case,
    }[kind]
    return [make(rng) for _ in range(count)]


def _cast(case: dict, dtype: type) -> dict:
    """Float arrays cast to dtype (labels and parameters as they are)."""
    return {
        k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
        for k, v in case.items()
    }


def engine_results(kind: str, case: dict, dtype: type = np.float64) -> dict[str, np.ndarray]:
    """The engine's outputs and gradients for a case, computed in `dtype`."""
    c = _cast(case, dtype)
    if kind == "conv":
        out, cache = conv2d(c["x"], c["w"], c["b"], c["stride"], c["padding"])
        dx, dw, db = conv2d_backward(c["dout"], cache)
        res = {"out": out, "dx": dx, "dw": dw, "db": db}
    elif kind == "pool":
        stride = None if c["default_stride"] else c["stride"]
        res = {}
        for name, fwd, bwd in (
            ("max", max_pool2d, max_pool2d_backward),
            ("avg", avg_pool2d, avg_pool2d_backward),
        ):
            out, cache = fwd(c["x"], c["size"], stride)
            res[f"{name}_out"], res[f"{name}_dx"] = out, bwd(c["dout"], cache)
    elif kind == "dense":
        out, cache = dense(c["x"], c["w"], c["b"])
        dx, dw, db = dense_backward(c["dout"], cache)
        res = {"out": out, "dx": dx, "dw": dw, "db": db}
    elif kind == "act":
        fwd, bwd = {
            "relu": (relu, relu_backward),
            "leaky_relu": (lambda x: leaky_relu(x, c["slope"]), leaky_relu_backward),
            "sigmoid": (sigmoid, sigmoid_backward),
            "tanh": (tanh, tanh_backward),
        }[c["name"]]
        out, cache = fwd(c["x"])
        res = {"out": out, "dx": bwd(c["dout"], cache)}
    elif kind == "ce":
        loss, dz = softmax_cross_entropy(c["logits"], c["labels"])
        res = {"loss": np.asarray(loss), "dlogits": dz}
    elif kind == "mse":
        loss, dpred = mse(c["pred"], c["target"])
        res = {"loss": np.asarray(loss), "dpred": dpred}
    elif kind == "mse_onehot":
        loss, dpred = mse_onehot(c["pred"], c["labels"])
        res = {"loss": np.asarray(loss), "dpred": dpred}
    else:
        raise KeyError(kind)
    return {k: np.asarray(v) for k, v in res.items()}


# The golden file stores each case's arrays under "<kind>/<index>/<name>".
ARRAYS = {
    "conv": ("x", "w", "b", "dout"),
    "pool": ("x", "dout"),
    "dense": ("x", "w", "b", "dout"),
    "act": ("x", "dout"),
    "ce": ("logits", "labels"),
    "mse": ("pred", "target"),
    "mse_onehot": ("pred", "labels"),
}
PARAMS = {
    "conv": ("stride", "padding"),
    "pool": ("size", "stride", "default_stride", "ties"),
    "dense": (),
    "act": ("name", "slope"),
    "ce": (),
    "mse": (),
    "mse_onehot": (),
}


def to_arrays(kind: str, index: int, case: dict) -> dict[str, np.ndarray]:
    """A case as named arrays for np.savez: float inputs stored as float32 (lossless)."""
    out = {}
    for name in ARRAYS[kind] + PARAMS[kind]:
        v = case[name]
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            v = v.astype(np.float32)
        out[f"{kind}/{index:03d}/{name}"] = np.asarray(v)
    return out


def from_arrays(kind: str, index: int, data: object) -> dict:
    """The case stored by to_arrays, back as float64 arrays and plain parameters."""
    case = {}
    for name in ARRAYS[kind] + PARAMS[kind]:
        v = data[f"{kind}/{index:03d}/{name}"]  # type: ignore[index]
        if v.dtype.kind == "f" and v.ndim > 0:
            case[name] = v.astype(np.float64)
        elif v.ndim == 1:
            case[name] = tuple(int(u) for u in v) if name != "labels" else v.astype(np.int64)
        else:
            case[name] = v.item()
    return case
