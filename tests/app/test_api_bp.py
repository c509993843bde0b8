"""BP networks on a dataset: sessions, the decision boundary, learning rates side by side."""

import json
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Limits, Settings


def _create(client, **body):
    r = client.post("/api/bp/sessions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _tensor(client, sid, name):
    r = client.get(f"/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    return np.array(r.json()["data"], dtype=np.float64)


def test_sizes_follow_the_dataset(client):
    s = _create(client, dataset="spiral", hidden=[6, 5], activation="relu", lr=0.2)
    layers = [(la["name"], la["type"]) for la in s["network"]["layers"]]
    assert layers == [("dense1", "dense"), ("relu1", "relu"), ("dense2", "dense"),
                      ("relu2", "relu"), ("dense3", "dense")]  # fmt: skip
    assert s["network"]["input_shape"] == [2]
    assert s["network"]["layers"][-1]["output_shape"] == [3]  # spiral has 3 classes
    assert s["dataset"]["name"] == "toy-spiral" and s["dataset"]["features"] == 2
    assert s["optimizer"]["lr"] == 0.2 and s["input"]["split"] == "train"
    d = _create(client, dataset="digits", hidden=[16])
    assert d["dataset"]["features"] == 64 and d["network"]["layers"][-1]["output_shape"] == [10]


def test_forward_backward_update_walk(client):
    s = _create(client, dataset="moons", hidden=[4], activation="tanh", lr=0.5, noise=0.2)
    sid = s["id"]
    r = client.post(f"/api/sessions/{sid}/steps", json={"count": len(s["plan"])})
    assert r.status_code == 200, r.text
    phases = [st["phase"] for st in r.json()["steps"]]
    assert phases == ["forward"] * 3 + ["loss"] + ["backward"] * 3 + ["update"] * 2
    x = _tensor(client, sid, "dense1.in")
    w1, b1 = _tensor(client, sid, "dense1.w"), _tensor(client, sid, "dense1.b")
    h = np.tanh(x @ w1.T + b1)
    assert np.allclose(h, _tensor(client, sid, "tanh1.out"), atol=1e-5)
    # The output delta of softmax cross-entropy is probs - onehot; the hidden deltas
    # are the output deltas sent back through w2 and tanh'.
    probs, target = _tensor(client, sid, "loss.probs"), _tensor(client, sid, "loss.target")
    dout = probs - np.eye(2)[target.astype(int)]
    assert np.allclose(dout / len(x), _tensor(client, sid, "dense2.dout"), atol=1e-5)
    w2 = _tensor(client, sid, "dense2.w")
    dh = (_tensor(client, sid, "dense2.dout") @ w2) * (1 - h**2)
    assert np.allclose(dh, _tensor(client, sid, "dense1.dout"), atol=1e-5)
    dw1 = _tensor(client, sid, "dense1.dw")
    assert np.allclose(dw1, dh.T @ x, atol=1e-5)
    after = _tensor(client, sid, "dense1.w.after")
    assert np.allclose(after, _tensor(client, sid, "dense1.w.before") - 0.5 * dw1, atol=1e-5)


def test_boundary_covers_the_data(client):
    sid = _create(client, dataset="circles", hidden=[8])["id"]
    r = client.get(f"/api/sessions/{sid}/boundary", params={"resolution": 12})
    assert r.status_code == 200, r.text
    b = r.json()
    probs = np.array(b["probs"])
    assert probs.shape == (12, 12, 2) and np.allclose(probs.sum(-1), 1, atol=1e-5)
    assert np.array(b["predicted"]).shape == (12, 12)
    pts = np.array(b["train"]["x"])
    assert pts.shape == (200, 2) and len(b["test"]["y"]) == 100
    assert b["xs"][0] < pts[:, 0].min() and b["xs"][-1] > pts[:, 0].max()
    assert b["ys"][0] < pts[:, 1].min() and b["ys"][-1] > pts[:, 1].max()
    assert 0 <= b["test_accuracy"] <= 1


def test_boundary_errors(client):
    sid = _create(client, dataset="digits", hidden=[8])["id"]
    r = client.get(f"/api/sessions/{sid}/boundary")
    assert r.status_code == 422 and "2-D" in r.text
    assert client.get("/api/sessions/nope/boundary").status_code == 404
    sid = _create(client, dataset="xor", hidden=[8])["id"]
    assert client.get(f"/api/sessions/{sid}/boundary?resolution=1000").status_code == 422


def test_training_uses_the_train_split(client):
    sid = _create(client, dataset="blobs", hidden=[8], lr=0.3)["id"]
    r = client.post(f"/api/sessions/{sid}/train", json={"epochs": 3, "batch_size": 20})
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert events[0]["samples"] == 200 and events[0]["dataset"] == "toy-blobs"
    assert events[-1]["event"] == "done" and events[-1]["test_accuracy"] > 0.8
    b = client.get(f"/api/sessions/{sid}/boundary?resolution=4").json()
    assert b["train_accuracy"] > 0.8
    m = client.get(f"/api/sessions/{sid}/metrics").json()
    assert m["train_accuracy"] == b["train_accuracy"] and 0 < m["test_loss"] < 1


def test_compare_flags_the_diverging_rate(client):
    body = {"dataset": "moons", "hidden": [8], "activation": "relu",
            "lrs": [0.01, 0.3, 3, 100], "epochs": 6}  # fmt: skip
    r = client.post("/api/bp/compare", json=body)
    assert r.status_code == 200, r.text
    runs = r.json()["runs"]
    assert [run["lr"] for run in runs] == [0.01, 0.3, 3, 100]
    assert [run["diverged"] for run in runs] == [False, False, False, True]
    assert runs[3]["nonfinite"] and runs[3]["train_loss"][-1] in ("NaN", "Infinity")
    # one shared start: the same loss before training (epoch 0)
    assert len({run["train_loss"][0] for run in runs}) == 1
    assert len(runs[0]["train_loss"]) == 7 and len(runs[0]["test_accuracy"]) == 7
    assert runs[1]["train_loss"][-1] < runs[0]["train_loss"][-1] < runs[0]["train_loss"][0]
    # a saturating network that blows up without overflowing is flagged too
    body |= {"activation": "tanh", "lrs": [0.3, 100]}
    runs = client.post("/api/bp/compare", json=body).json()["runs"]
    assert [run["diverged"] for run in runs] == [False, True]
    assert not runs[1]["nonfinite"] and math.isfinite(runs[1]["train_loss"][-1])


@pytest.mark.parametrize(
    "body",
    [
        {"dataset": "donut"},
        {"hidden": [8, 8, 8, 8, 8]},
        {"hidden": [65]},
        {"hidden": [0]},
        {"lr": 0},
        {"activation": "softplus"},
        {"noise": 2},
        {"extra": 1},
    ],
)
def test_bad_sessions(client, body):
    r = client.post("/api/bp/sessions", json=body)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "body",
    [
        {"lrs": []},
        {"lrs": [0.1] * 7},
        {"lrs": [0.1], "epochs": 51},
        {"lrs": [-1]},
    ],
)
def test_bad_compare(client, body):
    assert client.post("/api/bp/compare", json=body).status_code == 422


def test_compare_limits(tmp_path):
    limits = Limits(max_epochs=3, max_batch=8)
    with TestClient(create_app(Settings(data_dir=tmp_path, limits=limits))) as c:
        r = c.post("/api/bp/compare", json={"lrs": [0.1], "epochs": 4, "batch_size": 8})
        assert r.status_code == 422 and r.json()["detail"][0]["limit"] == "max_epochs"
        r = c.post("/api/bp/compare", json={"lrs": [0.1], "epochs": 3, "batch_size": 9})
        assert r.status_code == 422 and r.json()["detail"][0]["limit"] == "max_batch"
    limits = Limits(max_iterations=20)
    with TestClient(create_app(Settings(data_dir=tmp_path, limits=limits))) as c:
        r = c.post("/api/bp/compare", json={"lrs": [0.1], "epochs": 3, "batch_size": 32})
        assert r.status_code == 422 and r.json()["detail"][0]["limit"] == "max_iterations"
        r = c.post("/api/bp/compare", json={"lrs": [0.1], "epochs": 2, "batch_size": 32})
        assert r.status_code == 200
