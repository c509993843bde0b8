"""Bad input that once gave a 500 (issue 15 review): an integer too large for a float,
an .npz whose .npy headers claim huge shapes or whose __spec__ is nested too deeply,
a network dtype other than float32/float64. Each is a 422 naming what is wrong."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.sessions.inputs import raw_array
from engine.models import model_from_spec
from engine.weights import save_network

BIG = "1" + "0" * 400  # an integer literal (no exponent): JSON parses it as int, not inf
ROWS = "[[[" + BIG + ",1,1,1,1]" + ",[1,1,1,1,1]" * 4 + "]]"
SPEC = {"input_shape": [4], "layers": [{"type": "dense", "in_features": 4, "out_features": 2,
                                        "name": "fc"}]}  # fmt: skip
TRY = {"input": {"array": [[1, 2, 3, 4]], "target": [0]}}


def post_raw(client: TestClient, method: str, path: str, text: str) -> Any:
    return client.request(method, path, content=text, headers={"content-type": "application/json"})


def names_big_number(r: Any, field: list[str | int], text: str) -> bool:
    """A 422 naming the field: the number check of the request body (FastAPI-style
    items) or the session's own ("array[0][0][0] is too large for a float")."""
    if r.status_code != 422:
        return False
    detail = r.json()["detail"]
    if isinstance(detail, list):
        return any(item["loc"][-len(field) :] == field for item in detail)
    return detail.startswith(text) and "too large for a float" in detail


def test_an_integer_too_large_for_a_float_is_a_422_naming_where_it_is(client: TestClient):
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    api = f"/api/sessions/{sid}"
    Field = list[str | int]
    cases: list[tuple[str, str, str, Field, str]] = [
        ("POST", "/api/sessions", '{"preset":"conv-basics","input":{"array":' + ROWS + "}}",
         ["array", 0, 0, 0], "array[0][0][0]"),
        ("PUT", f"{api}/input", '{"array":' + ROWS + "}", ["array", 0, 0, 0], "array[0][0][0]"),
        ("PUT", f"{api}/params/conv1.w", '{"array":[[[[' + BIG + ",1,1],[1,1,1],[1,1,1]]]]}",
         ["array", 0, 0, 0, 0], "array[0][0][0][0]"),
        ("PUT", f"{api}/target", '{"target":[[[[' + BIG + "]]]]}", ["target", 0, 0, 0, 0],
         "target[0][0][0][0]"),
    ]  # fmt: skip
    for method, path, body, field, text in cases:
        r = post_raw(client, method, path, body)
        assert names_big_number(r, field, text), (path, r.status_code, r.text[:200])


def test_raw_array_names_the_number_too_large_for_a_float():
    with pytest.raises(ValueError, match=r"target\[1\]\[0\] is too large for a float"):
        raw_array([[1], [10**400]], "target")
    with pytest.raises(ValueError, match=r"array\[0\] is too large for a float"):
        raw_array([-(10**309)])
    assert raw_array([10**308]).item() == 1e308  # the largest floats still fit


def npz(members: dict[str, bytes]) -> str:
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        for name, data in members.items():
            f.writestr(name, data)
    return base64.b64encode(z.getvalue()).decode()


def npy(shape: tuple[int, ...], payload: bytes = b"") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False,
                                               "shape": shape})  # fmt: skip
    return buf.getvalue() + payload


def text(value: str) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array(value))
    return buf.getvalue()


GOOD = {"__spec__.npy": text(json.dumps(SPEC)), "fc.b.npy": npy((2,), bytes(8))}
NPZ_ATTACKS = {
    "param claims 2**45": ({**GOOD, "fc.w.npy": npy((2**45,))},
                           r"fc.w: its header claims shape (35184372088832,)"),
    "param claims 30000x30000": ({**GOOD, "fc.w.npy": npy((30000, 30000))},
                                 "fc.w: its header claims shape (30000, 30000) (3600000000 bytes)"),
    "extra member claims 2**45": ({**GOOD, "fc.w.npy": npy((2, 4), bytes(32)),
                                   "zzz.npy": npy((2**45,))}, "zzz: its header claims"),
    "deeply nested __spec__": ({"__spec__.npy": text("[" * 100_000 + "]" * 100_000)},
                               "__spec__ is nested too deeply"),
}  # fmt: skip


@pytest.mark.parametrize("members, message", NPZ_ATTACKS.values(), ids=NPZ_ATTACKS)
def test_npz_headers_and_spec_are_checked_before_reading(client: TestClient, members, message):
    r = client.post("/api/sessions", json={"weights_npz": npz(members), **TRY})
    assert r.status_code == 422 and message in r.json()["detail"], r.text[:300]


@pytest.mark.parametrize("dtype", ["complex128", "U3", "longdouble", "float16", "int8"])
def test_a_weights_file_spec_with_another_dtype_is_a_422(client: TestClient, dtype):
    buf = io.BytesIO()
    save_network(model_from_spec({**SPEC, "dtype": "float64"}), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members["__spec__.npy"] = text(json.dumps({**SPEC, "dtype": dtype}))
    r = client.post("/api/sessions", json={"weights_npz": npz(members), **TRY})
    assert r.status_code == 422, r.text[:300]
    assert f"dtype '{dtype}' is not supported; choose one of float32, float64" in r.text


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_weights_file_in_float32_or_float64_steps(client: TestClient, dtype):
    buf = io.BytesIO()
    save_network(model_from_spec({**SPEC, "dtype": dtype}), buf)
    body = {"weights_npz": base64.b64encode(buf.getvalue()).decode(), **TRY}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text[:300]
    step = client.post(f"/api/sessions/{r.json()['id']}/steps", json={"until": "update"})
    assert step.status_code == 200 and np.isfinite(step.json()["loss"])


def test_a_network_spec_cannot_name_a_dtype(client: TestClient):
    r = client.post("/api/sessions", json={"network": {**SPEC, "dtype": "complex128"}})
    assert r.status_code == 422
    assert any(item["loc"][-1] == "dtype" for item in r.json()["detail"]), r.text[:300]
