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
Loading uses `allow_pickle=False`, so a file can hold nothing but arrays.
"""

from __future__ import annotations

import io
import json
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


def read_npz(src: Source) -> tuple[dict[str, Any], dict[str, Any], dict[str, np.ndarray]]:
    """(spec, meta, params) from an .npz; ValueError says what is wrong with it."""
    if isinstance(src, bytes):
        src = io.BytesIO(src)
    try:
        with np.load(src, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"not a readable .npz weights file: {exc}") from None
    if "__spec__" not in arrays:
        raise ValueError("weights file has no __spec__ entry (the network description)")
    try:
        spec = json.loads(str(arrays.pop("__spec__")))
        meta = json.loads(str(arrays.pop("__meta__", np.array("{}"))))
    except json.JSONDecodeError as exc:
        raise ValueError(f"__spec__ or __meta__ is not valid JSON: {exc}") from None
    if not isinstance(spec, dict) or "input_shape" not in spec:
        raise ValueError("__spec__ must be an object with input_shape and layers")
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
        with zipfile.ZipFile(io.BytesIO(blob)) as z, z.open("__spec__.npy") as f:
            text = np.lib.format.read_array(f, allow_pickle=False)
        spec = json.loads(str(text))
    except KeyError:
        raise ValueError("weights file has no __spec__ entry (the network description)") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(f"not a readable .npz weights file (__spec__): {exc}") from None
    if not isinstance(spec, dict) or "input_shape" not in spec:
        raise ValueError("__spec__ must be an object with input_shape and layers")
    return spec


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
