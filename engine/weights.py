"""Save and load a network's weights as .npz (no pickle).

Layout of the file (documented in the README too):
- `__spec__`: a 0-d unicode array holding JSON: {"input_shape", "loss", "dtype",
  "layers": [{"type", "name", ...hyper-parameters}]} (see Sequential.spec); a
  recurrent network's spec adds "model": "recurrent" and its settings ("cell",
  "input_size", "hidden_size", "output_size", "head", "seq_len", "clip",
  "nonlinearity"; see RecurrentNet.spec). Without "model" it is a Sequential.
- `__meta__`: a 0-d unicode array holding JSON with free-form facts (preset,
  seed, test accuracy, engine version).
- one array per parameter, keyed `<layer>.<param>`: `conv1.w` (F, C, KH, KW),
  `conv1.b` (F,), `dense1.w` (out, in) as in PyTorch's nn.Linear, `dense1.b` (out,);
  `lstm1.w_ih` (4H, D), `lstm1.w_hh` (4H, H), `lstm1.b_ih`, `lstm1.b_hh` (4H,) as in
  torch.nn.LSTM (`rnn1.*` with H rows; `bilstm1.*_reverse` for the backward
  direction), `head.w` (out, hidden), `head.b` (out,).
Loading uses `allow_pickle=False`, so a file can hold nothing but arrays; each
member's .npy header is checked (dtype; shape within the member's size) before its
data is read. A network's dtype is float32 or float64 (engine.network.DTYPES).
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from engine import __version__
from engine.models import model_from_spec
from engine.network import Sequential

Source = str | os.PathLike[str] | IO[bytes] | bytes


def save_network(net: Sequential, dest: str | os.PathLike[str] | IO[bytes], **meta: Any) -> None:
    """Write net's spec, `meta` and parameters to an .npz file or binary stream."""
    arrays: dict[str, Any] = {  # Any: so no array can be taken for savez's own keywords
        "__spec__": np.array(json.dumps(net.spec())),
        "__meta__": np.array(json.dumps({"engine": __version__, **meta})),
        **net.params(),
    }
    # All are numbers or text: nothing is pickled (read_npz loads with allow_pickle=False).
    # (savez's allow_pickle keyword is newer than NumPy 2.0, which pyproject allows.)
    np.savez_compressed(dest, **arrays)


PARAM_DTYPES = ("float32", "float64")  # a parameter's; __spec__ and __meta__ are 0-d text
TEXT_KEYS = ("__spec__", "__meta__")
# Every way a zip or .npy member can fail to read, as a ValueError naming the file.
READ_ERRORS = (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError, RuntimeError,
               NotImplementedError, MemoryError)  # fmt: skip


def _member_header(f: IO[bytes], key: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from the .npy header at the start of f (its data is not read)."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"{key}: .npy format version {version} (save_network writes 1.0)")
    return shape, dtype


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, np.ndarray]:
    """(key, array) of one .npz member, its header checked before any data is read:
    a dtype save_network writes (text for __spec__/__meta__, else float32/float64)
    and a shape whose bytes fit in the size the zip directory declares for it (a
    12-byte header can claim terabytes)."""
    if not info.filename.endswith(".npy"):
        raise ValueError(f"member {info.filename!r} is not a .npy array")
    key = info.filename[: -len(".npy")]
    with z.open(info) as f:
        shape, dtype = _member_header(f, key)
        room = info.file_size - f.tell()
    if key in TEXT_KEYS:
        if dtype.kind != "U" or shape != ():
            raise ValueError(f"{key} must be a 0-d text array; got {dtype} of shape {shape}")
    elif dtype.name not in PARAM_DTYPES:
        raise ValueError(f"{key} has dtype {dtype}; parameters are {' or '.join(PARAM_DTYPES)}")
    need = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if need > room:
        raise ValueError(f"{key}: its header claims shape {shape} ({need} bytes) but the "
                         f"member holds {room} bytes of data")  # fmt: skip
    with z.open(info) as f:
        return key, np.lib.format.read_array(f, allow_pickle=False)


def _json(arrays: dict[str, np.ndarray], key: str, default: str) -> Any:
    try:
        return json.loads(str(arrays.pop(key, np.array(default))))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{key} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"{key} is nested too deeply to be a network description") from None


def _spec(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or "input_shape" not in spec:
        raise ValueError("__spec__ must be an object with input_shape and layers")
    return spec


def read_npz(src: Source) -> tuple[dict[str, Any], dict[str, Any], dict[str, np.ndarray]]:
    """(spec, meta, params) from an .npz; ValueError says what is wrong with it."""
    if isinstance(src, bytes):
        src = io.BytesIO(src)
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(src) as z:
            for info in z.infolist():
                key, arr = _read_member(z, info)
                if key in arrays:
                    raise ValueError(f"member {info.filename!r} appears twice")
                arrays[key] = arr
    except READ_ERRORS as exc:
        raise ValueError(f"not a readable .npz weights file: {exc}") from None
    if "__spec__" not in arrays:
        raise ValueError("weights file has no __spec__ entry (the network description)")
    spec = _spec(_json(arrays, "__spec__", "{}"))
    meta = _json(arrays, "__meta__", "{}")
    return spec, meta, arrays


def npz_size(blob: bytes) -> int:
    """The total uncompressed size of an .npz's members, from its zip directory alone
    (nothing is decompressed): check it before reading (a small zip can expand to
    gigabytes). zipfile never reads a member past the size its directory declares."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            return sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(f"not a readable .npz weights file: {exc}") from None


def npz_spec(blob: bytes) -> dict[str, Any]:
    """The `__spec__` of an .npz, read without reading its parameters."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            _, text = _read_member(z, z.getinfo("__spec__.npy"))
    except KeyError:
        raise ValueError("weights file has no __spec__ entry (the network description)") from None
    except READ_ERRORS as exc:
        raise ValueError(f"not a readable .npz weights file (__spec__): {exc}") from None
    return _spec(_json({"__spec__": text}, "__spec__", "{}"))


def load_network(
    src: Source, check: Callable[[dict[str, Any]], object] | None = None
) -> tuple[Sequential, dict[str, Any]]:
    """(network, meta) from an .npz written by save_network (a Sequential, or a
    RecurrentNet for a recurrent spec); every parameter must be present with its
    shape. `check(spec)` runs on the spec before any parameter is read or anything
    built (bytes only: it raises to refuse the file)."""
    if check is not None and isinstance(src, bytes):
        check(npz_spec(src))
    spec, meta, params = read_npz(src)
    net = model_from_spec(spec)
    missing = sorted(set(net.params()) - set(params))
    if missing:
        raise ValueError(f"weights file lacks parameters: {', '.join(missing)}")
    net.set_params(params)
    return net, meta
