"""Engine objects to JSON: tensors, steps, explanations.

Every tensor, step and explanation payload is built here, and the responses that
carry them are serialised here (`json_response`); other modules assemble plain
dicts of facts around them (app/views.py: a session's network and plan), and small
answers (presets, rules, health) go out through FastAPI as usual. Tensors go
out as {name, role, shape, axes, dtype, min, max, finite, nonfinite, data}:
`data` is a nested list (encoding "list", readable for scripts) or base64 of
little-endian float32 (encoding "b64", for the browser: a Float32Array). NaN
and Inf are never a crash and never invalid JSON: `finite` is false,
`nonfinite` counts them, and in lists they are the strings "NaN", "Infinity",
"-Infinity" (in b64 they are IEEE values, which Float32Array reads as such).

Payloads are serialised with orjson (numpy arrays natively) into bytes that
routes return directly, never through FastAPI's jsonable_encoder (measured 40x
slower on nested lists).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import orjson
from fastapi.responses import Response

from engine.explain import Explanation
from engine.trace import Step, TensorRecord

Encoding = Literal["list", "b64"]
Facts = Callable[[str], dict[str, Any]]  # a tensor's name -> extra payload fields
# JSON has no NaN or Infinity: every payload (tensor data, explanations, losses, training
# progress, BP metrics) sends them as these strings, through json_number or _list_data.
NAN, POS_INF, NEG_INF = "NaN", "Infinity", "-Infinity"
_F32_MAX = float(np.finfo(np.float32).max)


def _list_data(a: np.ndarray) -> Any:
    if a.ndim == 0:  # orjson serialises arrays, not 0-d ones
        v = a.item()
        return v if a.dtype.kind in "iub" else json_number(v)
    if a.dtype.kind in "iub":
        return np.ascontiguousarray(a, dtype=np.int64)
    if np.isfinite(a).all():
        return np.ascontiguousarray(a, dtype=np.float32)  # orjson needs C order
    obj = a.astype(object)
    obj[np.isnan(a)] = NAN
    obj[np.isposinf(a)] = POS_INF
    obj[np.isneginf(a)] = NEG_INF
    return obj.tolist() if obj.ndim else obj.item()


def _short(v: float | None, dtype: np.dtype) -> float | None:
    """A float32 value as the shortest decimal that reads back as it (0.1, not
    0.10000000149011612), like the array data beside it."""
    if v is None or dtype != np.float32:
        return v
    return float(str(np.float32(v)))


def tensor_payload(
    rec: TensorRecord, encoding: Encoding = "list", facts: Facts | None = None
) -> dict[str, Any]:
    """One tensor, ready for orjson; `facts(name)` adds what the page needs to know
    besides the numbers ({explainable, cell}: app.sessions.tensor_facts)."""
    a = rec.data
    lo, hi = (_short(v, a.dtype) for v in rec.min_max())
    finite_mask = np.isfinite(a) if a.dtype.kind == "f" else None
    finite = bool(finite_mask.all()) if finite_mask is not None else True
    # Float32 on the wire, unless a float64 tensor holds finite numbers float32 cannot
    # (|v| > 3.4e38, e.g. an exploding gradient): those would arrive as Infinity.
    wide = a.dtype == np.float64 and a.size > 0 and finite and bool(np.abs(a).max() > _F32_MAX)
    dtype = "int" if a.dtype.kind in "iub" else "float64" if wide else "float32"
    out: dict[str, Any] = {
        "name": rec.name,
        "role": rec.role,
        "shape": list(a.shape),
        "axes": list(rec.axes),
        "dtype": dtype,
        "min": lo,
        "max": hi,
        "finite": finite,
        **(facts(rec.name) if facts is not None else {}),
    }
    if not finite:
        out["nonfinite"] = {
            "nan": int(np.isnan(a).sum()),
            "posinf": int(np.isposinf(a).sum()),
            "neginf": int(np.isneginf(a).sum()),
        }
    if encoding == "b64":
        raw = np.ascontiguousarray(a, dtype="<f8" if wide else "<f4").tobytes()
        out["encoding"] = "b64"
        out["data"] = base64.b64encode(raw).decode("ascii")
    else:
        out["encoding"] = "list"
        out["data"] = np.ascontiguousarray(a) if wide else _list_data(a)
    return out


def step_payload(
    step: Step,
    tensors: Mapping[str, TensorRecord] | None,
    encoding: Encoding = "list",
    partials: bool = False,
    sent: dict[int, str] | None = None,
    facts: Facts | None = None,
    keep: Callable[[str], bool] | None = None,
) -> dict[str, Any]:
    """One step; with `tensors`, each named tensor's payload is included (only those
    whose name `keep` accepts, when it is given).

    A tensor that is the very array of one already in this response (a ReLU's
    input is the conv's output; the update's `w.before` is the forward's `w`) goes
    out as {name, role, axes, same_as: <that name>}. The F x C partial maps of a
    convolution are left out unless `partials` (they are as large as F*C outputs;
    GET .../tensors/<conv>.partial has them). `tensor_names` always lists all.
    """
    out: dict[str, Any] = {
        "index": step.index,
        "phase": step.phase,
        "layer": step.layer,
        "op": step.op,
        "t": step.t,
        "direction": step.planned.direction,
        "caption": step.caption,
        "formula": step.formula,
        "tensor_names": step.tensors,
    }
    if tensors is not None:
        out["tensors"] = []
        for name in step.tensors:
            rec = tensors[name]
            if (rec.role == "partial" and not partials) or (keep is not None and not keep(name)):
                continue
            key = id(rec.data)
            if sent is not None and key in sent:
                ref = {"name": name, "role": rec.role, "axes": list(rec.axes), "same_as": sent[key]}
                out["tensors"].append({**ref, **(facts(name) if facts is not None else {})})
            else:
                if sent is not None:
                    sent[key] = name
                out["tensors"].append(tensor_payload(rec, encoding, facts))
    return out


def explanation_payload(exp: Explanation, names: dict[str, str], value: float) -> dict[str, Any]:
    """An explanation with generic factor names mapped to trace names, and the
    recorded value it explains (so a client can see the terms add up)."""
    d = exp.to_dict()

    def rename(f: dict[str, Any] | None) -> dict[str, Any] | None:
        if f is not None:
            f["tensor"] = names.get(f["tensor"], f["tensor"])
            f["value"] = json_number(f["value"])
        return f

    for term in d["terms"]:
        term["factors"] = [rename(f) for f in term["factors"]]
        term["product"] = json_number(term["product"])
    d["constant"], d["scale"] = rename(d["constant"]), rename(d["scale"])
    d["index"] = list(d["index"])
    d["total"], d["value"] = json_number(d["total"]), json_number(value)
    if "activation" in d:
        act = d["activation"]
        act["z"], act["value"] = json_number(act["z"]), json_number(act["value"])
    return d


def json_number(v: float) -> float | str:
    """A float, or "NaN", "Infinity", "-Infinity" (JSON has no such numbers): the one
    way a number outside a tensor goes out (orjson would write null)."""
    v = float(v)
    if math.isfinite(v):
        return v
    return NAN if math.isnan(v) else (POS_INF if v > 0 else NEG_INF)


def dumps(payload: Any) -> bytes:
    """orjson with numpy support; non-finite floats outside arrays become null."""
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def json_response(payload: Any, status_code: int = 200) -> Response:
    """Pre-encoded JSON bytes: skips FastAPI's jsonable_encoder."""
    return Response(dumps(payload), status_code=status_code, media_type="application/json")
