"""The cost model checked before any work (issue 15): each attack is a 422 naming
the number and the limit, refused before a network is built; every preset and the
pages' largest configurations pass."""

from __future__ import annotations

import base64
import io
import tracemalloc
import zipfile

import numpy as np
import pytest
from PIL import Image

from app.settings import Limits
from engine.presets import list_presets

DENSE_4x4096 = {"input_shape": [4096], "layers": [
    {"type": "dense", "in_features": 4096, "out_features": 4096}] * 4}  # fmt: skip
CONV_12 = {"input_shape": [3, 64, 64], "layers": [
    {"type": "conv2d", "in_channels": 3 if i == 0 else 32, "out_channels": 32, "kernel": 7,
     "padding": 3} for i in range(12)]}  # fmt: skip


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every network built (a refusal must come before any)."""
    import app.sessions.service as service
    import engine.weights as weights

    built: list[dict] = []
    real = service.model_from_spec

    def counting(spec: dict, seed: int = 0):  # type: ignore[no-untyped-def]
        built.append(spec)
        return real(spec, seed=seed)

    monkeypatch.setattr(service, "model_from_spec", counting)
    monkeypatch.setattr(weights, "model_from_spec", counting)
    return built


def refused(client, body: dict, limit: str) -> str:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        r = client.post("/api/sessions", json=body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 422, r.text
    detail = str(r.json()["detail"])
    assert limit in detail and f"GLASSBOX_LIMIT_{limit.upper()}" in detail, detail
    assert peak < 8_000_000, peak  # nothing the size of the network was allocated
    return detail


# An upload's spec has no schema: an lstm layer in a plain layer list at T = 40000.
LSTM_IN_LAYERS = {"input_shape": [40000, 1], "loss": "softmax_cross_entropy", "layers": [
    {"type": "lstm", "name": "lstm1", "input_size": 1, "hidden_size": 480},
    {"type": "dense_last", "name": "head", "in_features": 480, "out_features": 2}]}  # fmt: skip


def npz(arrays: dict[str, np.ndarray]) -> str:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    return base64.b64encode(buf.getvalue()).decode()


def spec_npz(spec: dict) -> str:
    import json

    return npz({"__spec__": np.array(json.dumps(spec))})


def test_4x4096_dense_spec_is_refused_before_building(client, spy):
    detail = refused(client, {"network": DENSE_4x4096, "input": {"array": [[0.0] * 4096]}},
                     "max_params")  # fmt: skip
    assert "67125248" in detail and not spy


def test_12_conv_layers_are_refused_before_building(client, spy):
    body = {"network": CONV_12, "input": {"array": [[[[0.0]]]]}}
    assert "557024" in refused(client, body, "max_params")
    client.app.state.sessions.limits = Limits(max_params=10**9)  # its activations alone
    refused(client, body, "max_pass_bytes")
    assert not spy


def test_weights_npz_16000x16000_is_refused_from_its_spec(client, spy):
    spec = {"input_shape": [16000], "layers": [
        {"type": "dense", "in_features": 16000, "out_features": 16000}]}  # fmt: skip
    refused(client, {"weights_npz": spec_npz(spec), "input": {"array": [0.0]}}, "max_features")
    limits = Limits(max_features=20000)
    client.app.state.sessions.limits = limits
    refused(client, {"weights_npz": spec_npz(spec), "input": {"array": [0.0]}}, "max_params")
    assert not spy


def test_weights_npz_zip_bomb_is_refused_from_its_directory(client, spy):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("__spec__.npy", b"\0" * 50_000_000)  # 50 MB of zeros, ~50 KB compressed
    assert len(buf.getvalue()) < 100_000
    body = {"weights_npz": base64.b64encode(buf.getvalue()).decode(), "input": {"array": [0.0]}}
    detail = refused(client, body, "max_npz_bytes")
    assert "50000" in detail and not spy


def test_weights_npz_lstm_beyond_seq_len_and_hidden(client, spy):
    rec = {"model": "recurrent", "cell": "lstm", "input_size": 1, "hidden_size": 8,
           "output_size": 1, "seq_len": 5000, "input_shape": [5000, 1], "layers": []}  # fmt: skip
    refused(client, {"weights_npz": spec_npz(rec), "input": {"array": [0.0]}}, "max_seq_len")
    rec = {**rec, "seq_len": 10, "input_shape": [10, 1], "hidden_size": 256}
    refused(client, {"weights_npz": spec_npz(rec), "input": {"array": [0.0]}}, "max_hidden")
    assert not spy


def test_weights_npz_with_recurrent_layers_in_a_sequential_spec_is_refused(client, spy):
    """An upload's spec has no schema: an lstm layer in a plain layer list was priced as
    an activation (0 parameters, no time steps) and passed every budget at T = 40000."""
    body = {"weights_npz": spec_npz(LSTM_IN_LAYERS), "input": {"array": [0.0]}}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422, r.text
    assert "cannot be priced" in str(r.json()["detail"])
    assert not spy


def png(size: int, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    Image.new("L", (size, size)).save(buf, format=fmt)
    return base64.b64encode(buf.getvalue()).decode()


def test_4096x4096_png_is_refused_by_its_pixel_count(client):
    big = png(4096)  # 16.8 million pixels in a 22 KB file
    assert len(big) < 100_000
    client.post("/api/sessions", json={"preset": "digits-cnn"})  # its dataset loaded first
    refused(client, {"preset": "digits-cnn", "input": {"image": {"png": big}}}, "max_image_pixels")


@pytest.mark.parametrize("fmt", ["GIF", "BMP"])
def test_only_png_and_jpeg_are_read(client, fmt):
    r = client.post("/api/sessions", json={"preset": "digits-cnn",
                                           "input": {"image": {"png": png(16, fmt)}}})  # fmt: skip
    assert r.status_code == 422 and "PNG or JPEG" in str(r.json()["detail"])
    r = client.post("/api/sessions", json={"preset": "digits-cnn",
                                           "input": {"image": {"png": png(200)}}})  # fmt: skip
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("name", [p.name for p in list_presets()])
def test_every_preset_passes_and_runs_a_whole_pass_in_one_request(client, name):
    r = client.post("/api/sessions", json={"preset": name})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/sessions/{r.json()['id']}/steps", json={"until": "update"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("dataset", ["moons", "circles", "xor", "spiral", "blobs", "digits"])
def test_the_bp_page_largest_network_passes(client, dataset):
    limits = Limits()
    body = {"dataset": dataset, "hidden": [limits.max_bp_neurons] * limits.max_bp_layers,
            "optimizer": "adam"}  # fmt: skip
    r = client.post("/api/bp/sessions", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    with client.stream("POST", f"/api/sessions/{sid}/train",
                       json={"epochs": limits.max_epochs, "batch_size": 32}) as t:  # fmt: skip
        assert t.status_code == 200, t.read()


def test_the_cnn_and_rnn_presets_with_their_largest_overrides_pass(client):
    limits = Limits()
    conv = {"conv1": {"out_channels": limits.max_kernels, "kernel": 5, "padding": 2}}
    r = client.post("/api/sessions", json={"preset": "shapes-cnn", "overrides": {"conv": conv}})
    assert r.status_code in (201, 422), r.text
    if r.status_code == 422:  # a misfit names the layer, never a cost limit
        assert "max_" not in str(r.json()["detail"])
    for name in ("memory-lstm", "sine-lstm", "vanishing-rnn"):
        body = {"preset": name, "overrides": {"seq_len": limits.max_seq_len}}
        r = client.post("/api/sessions", json=body)
        assert r.status_code == 201, r.text
        r = client.post(f"/api/sessions/{r.json()['id']}/steps", json={"until": "update"})
        assert r.status_code == 200, r.text


def test_until_is_bounded_like_count(settings):
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings.limits = Limits(max_steps_per_request=30)
    with TestClient(create_app(settings)) as c:
        sid = c.post("/api/sessions", json={"preset": "memory-lstm"}).json()["id"]
        r = c.post(f"/api/sessions/{sid}/steps", json={"until": "update"})
        assert r.status_code == 422 and "max_steps_per_request" in str(r.json()["detail"])
        r = c.post(f"/api/sessions/{sid}/steps", json={"until": "forward"})
        assert r.status_code == 200 and len(r.json()["steps"]) == 21  # T = 20, then the head


def test_training_is_refused_by_its_total_cost(settings):
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings.limits = Limits(max_train_flops=10_000_000)
    with TestClient(create_app(settings)) as c:
        sid = c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        r = c.post(f"/api/sessions/{sid}/train", json={"iterations": 5000, "batch_size": 64})
        assert r.status_code == 422 and "max_train_flops" in str(r.json()["detail"])
