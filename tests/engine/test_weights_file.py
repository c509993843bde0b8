"""A weights file is checked member by member from its .npy headers before any data
is read (a 12-byte header can claim terabytes), and a network computes only in
float32 or float64 (issue 15: bad input is a ValueError, never a MemoryError,
RecursionError or a crash deeper in the engine)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from engine.models import model_from_spec
from engine.network import Sequential, network_dtype
from engine.recurrent import RecurrentNet
from engine.weights import load_network, npz_spec, read_npz, save_network

SPEC = {"input_shape": [4], "layers": [{"type": "dense", "in_features": 4, "out_features": 2,
                                        "name": "fc"}]}  # fmt: skip
RNN_SPEC = {"model": "recurrent", "cell": "lstm", "input_size": 1, "hidden_size": 3,
            "output_size": 1, "seq_len": 4, "loss": "mse", "input_shape": [4, 1]}  # fmt: skip


def npy(shape: tuple[int, ...], descr: str = "<f4", payload: bytes = b"") -> bytes:
    """An .npy member: a header claiming `shape` of `descr`, then `payload` as its data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue() + payload


def text(value: str) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array(value))
    return buf.getvalue()


def npz(members: dict[str, bytes]) -> bytes:
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        for name, data in members.items():
            f.writestr(name, data)
    return z.getvalue()


GOOD = {"__spec__.npy": text(json.dumps(SPEC)), "fc.w.npy": npy((2, 4), payload=bytes(32)),
        "fc.b.npy": npy((2,), payload=bytes(8))}  # fmt: skip


def test_a_hand_made_file_with_honest_headers_loads():
    net, meta = load_network(npz(GOOD))
    assert net.params()["fc.w"].shape == (2, 4) and meta == {}


HUGE = r"its header claims shape"
BAD_FILES = {
    "shape 2**45": ({**GOOD, "fc.w.npy": npy((2**45,))}, rf"fc.w: {HUGE} \(35184372088832,\)"),
    "30000x30000": ({**GOOD, "fc.w.npy": npy((30000, 30000))}, r"\(3600000000 bytes\)"),
    "extra member": ({**GOOD, "zzz.npy": npy((2**45,))}, f"zzz: {HUGE}"),
    "complex": ({**GOOD, "fc.w.npy": npy((2, 4), "<c16", bytes(128))},
                "fc.w has dtype complex128; parameters are float32 or float64"),
    "text param": ({**GOOD, "fc.w.npy": npy((2, 4), "<U3", bytes(96))}, "fc.w has dtype <U3"),
    "spec not text": ({**GOOD, "__spec__.npy": npy((2,), payload=bytes(8))},
                      "__spec__ must be a 0-d text array"),
    "huge spec": ({**GOOD, "__spec__.npy": npy((), f"<U{2**20}")}, f"__spec__: {HUGE}"),
    "not npy": ({**GOOD, "readme.txt": b"hello"}, "member 'readme.txt' is not a .npy array"),
    "npy 3.0": ({**GOOD, "fc.b.npy": b"\x93NUMPY\x03\x00" + bytes(8)},
                r"fc.b: .npy format version \(3, 0\)"),
}  # fmt: skip


@pytest.mark.parametrize("members, message", BAD_FILES.values(), ids=BAD_FILES)
def test_member_headers_are_checked_before_any_data_is_read(members, message):
    blob = npz(members)
    with pytest.raises(ValueError, match="not a readable .npz weights file") as err:
        read_npz(blob)
    assert err.match(message)
    with pytest.raises(ValueError, match=message):
        load_network(blob)


def test_a_spec_header_claiming_a_huge_string_is_refused_before_reading():
    blob = npz({"__spec__.npy": npy((), f"<U{2**28}")})
    with pytest.raises(ValueError, match=rf"__spec__: {HUGE} \(\) \(1073741824 bytes\)"):
        npz_spec(blob)


def test_deeply_nested_spec_json_is_a_value_error_not_a_recursion_error():
    blob = npz({"__spec__.npy": text("[" * 100_000 + "]" * 100_000)})
    for read in (npz_spec, read_npz, load_network):
        with pytest.raises(ValueError, match="__spec__ is nested too deeply"):
            read(blob)
    meta = npz({**GOOD, "__meta__.npy": text('{"a":' * 100_000 + "1" + "}" * 100_000)})
    with pytest.raises(ValueError, match="__meta__ is nested too deeply"):
        read_npz(meta)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_member_listed_twice_is_refused():
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as f:
        for name, data in [*GOOD.items(), ("fc.b.npy", npy((2,), payload=bytes(8)))]:
            f.writestr(name, data)
    with pytest.raises(ValueError, match="'fc.b.npy' appears twice"):
        read_npz(z.getvalue())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_and_float64_networks_round_trip(dtype):
    for spec in (SPEC, RNN_SPEC):
        net = model_from_spec({**spec, "dtype": dtype})
        buf = io.BytesIO()
        save_network(net, buf)
        loaded, _ = load_network(buf.getvalue())
        assert loaded.dtype == np.dtype(dtype) == loaded.params()["fc.w" if "layers" in spec
                                                                  else "head.w"].dtype  # fmt: skip


@pytest.mark.parametrize("dtype", ["complex128", "float16", "int8", "U3", "longdouble", "object",
                                   "no-such-type", None, 4, {"names": ["a"]}])  # fmt: skip
def test_any_other_dtype_is_refused_naming_the_allowed_ones(dtype):
    allowed = "is not supported; choose one of float32, float64"
    for spec in (SPEC, RNN_SPEC):
        with pytest.raises(ValueError, match=allowed):
            model_from_spec({**spec, "dtype": dtype})
    with pytest.raises(ValueError, match=allowed):
        Sequential(model_from_spec(SPEC).layers, [4], dtype=dtype)
    with pytest.raises(ValueError, match=allowed):
        RecurrentNet("rnn", 1, 2, 1, dtype=dtype)


def test_network_dtype_is_native_float():
    assert network_dtype(">f4") == np.dtype("float32") and network_dtype(np.float64).isnative
