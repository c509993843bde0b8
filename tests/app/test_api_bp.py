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


def test_mse_puts_sigmoid_neurons_on_the_output_and_compares_them_with_one_hot(client):
    s = _create(client, dataset="spiral", hidden=[5], activation="tanh", loss="mse", lr=2)
    sid = s["id"]
    layers = [(la["name"], la["type"]) for la in s["network"]["layers"]]
    assert layers == [("dense1", "dense"), ("tanh1", "tanh"), ("dense2", "dense"),
                      ("sigmoid1", "sigmoid")]  # fmt: skip
    assert s["network"]["loss"] == "mse_onehot"
    r = client.post(f"/api/sessions/{sid}/steps", json={"count": len(s["plan"])})
    steps = r.json()["steps"]
    assert [st["phase"] for st in steps] == (
        ["forward"] * 4 + ["loss"] + ["backward"] * 4 + ["update"] * 2
    )
    loss_step = steps[4]
    assert loss_step["op"] == "mse_onehot" and "one-hot" in loss_step["caption"]["en"]
    assert "均方误差" in loss_step["caption"]["zh-CN"] and "/ 3" in loss_step["formula"]
    x, label = _tensor(client, sid, "dense1.in"), int(s["input"]["label"])
    h = np.tanh(x @ _tensor(client, sid, "dense1.w").T + _tensor(client, sid, "dense1.b"))
    w2, b2 = _tensor(client, sid, "dense2.w"), _tensor(client, sid, "dense2.b")
    y = 1 / (1 + np.exp(-(h @ w2.T + b2)))
    assert np.allclose(y, _tensor(client, sid, "loss.in"), atol=1e-6)
    t = np.eye(3)[[label]]
    assert np.array_equal(_tensor(client, sid, "loss.target"), t)
    assert _tensor(client, sid, "loss.labels").tolist() == [label]
    assert _tensor(client, sid, "loss.value") == pytest.approx(np.mean((y - t) ** 2), rel=1e-5)
    dy = 2 * (y - t) / 3
    assert np.allclose(_tensor(client, sid, "loss.dx"), dy, atol=1e-6)
    # the output neurons' delta: through the sigmoid, dL/dy * y (1 - y)
    delta = dy * y * (1 - y)
    assert np.allclose(_tensor(client, sid, "dense2.dout"), delta, atol=1e-6)
    assert np.allclose(_tensor(client, sid, "dense2.dw"), delta.T @ h, atol=1e-6)
    assert np.allclose(_tensor(client, sid, "dense1.dout"), (delta @ w2) * (1 - h**2), atol=1e-6)
    after = _tensor(client, sid, "dense2.w.after")
    assert np.allclose(after, w2 - 2 * _tensor(client, sid, "dense2.dw"), atol=1e-5)


def test_mse_boundary_sends_the_sigmoid_outputs_and_accuracy_is_their_argmax(client):
    sid = _create(client, dataset="blobs", hidden=[8], loss="mse", lr=3)["id"]
    r = client.post(f"/api/sessions/{sid}/train", json={"epochs": 5, "batch_size": 20})
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert all(e["accuracy"] is not None for e in events if e["event"] == "progress")
    assert events[-1]["event"] == "done" and events[-1]["test_accuracy"] > 0.8
    b = client.get(f"/api/sessions/{sid}/boundary", params={"resolution": 10}).json()
    assert b["loss"] == "mse" and "probs" not in b
    out = np.array(b["outputs"])
    assert out.shape == (10, 10, 3) and out.min() > 0 and out.max() < 1
    assert np.array_equal(np.array(b["predicted"]), out.argmax(-1))
    assert b["train_accuracy"] > 0.8 and 0 < b["train_loss"] < 0.25
    m = client.get(f"/api/sessions/{sid}/metrics").json()
    assert m["test_accuracy"] == b["test_accuracy"] == events[-1]["test_accuracy"]


def test_boundary_covers_the_data(client):
    sid = _create(client, dataset="circles", hidden=[8])["id"]
    r = client.get(f"/api/sessions/{sid}/boundary", params={"resolution": 12})
    assert r.status_code == 200, r.text
    b = r.json()
    probs = np.array(b["probs"])
    assert probs.shape == (12, 12, 2) and np.allclose(probs.sum(-1), 1, atol=1e-5)
    assert b["loss"] == "softmax_cross_entropy" and "outputs" not in b
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


def test_compare_with_mse_starts_every_rate_at_the_same_loss(client):
    body = {"dataset": "xor", "hidden": [8], "activation": "relu", "loss": "mse",
            "lrs": [0.01, 3, 100], "epochs": 20}  # fmt: skip
    r = client.post("/api/bp/compare", json=body)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["network"]["loss"] == "mse_onehot"
    assert res["network"]["layers"][-1] == {"type": "sigmoid"}
    runs = res["runs"]
    assert len({run["train_loss"][0] for run in runs}) == 1
    # sigmoid outputs keep the loss under 1: a too-large rate saturates them rather
    # than overflowing, and is flagged because the loss ends far above its start
    assert all(0 <= v <= 1 for run in runs for v in run["train_loss"])
    assert [run["diverged"] for run in runs] == [False, False, True]
    assert not runs[2]["nonfinite"]
    assert runs[1]["test_accuracy"][-1] > 0.9 > runs[0]["test_accuracy"][-1]


@pytest.mark.parametrize("loss", ["hinge", "mse_onehot", "MSE", 1, None])
def test_unknown_loss_is_a_422_naming_the_choices(client, loss):
    for path, body in (("/api/bp/sessions", {}), ("/api/bp/compare", {"lrs": [0.1]})):
        r = client.post(path, json={**body, "loss": loss})
        assert r.status_code == 422, r.text
        detail = r.json()["detail"][0]
        assert detail["loc"] == ["body", "loss"]
        assert "'softmax_cross_entropy' or 'mse'" in detail["msg"]


def test_a_network_spec_with_mse_onehot_takes_class_labels(client):
    dense = {"type": "dense", "in_features": 2, "out_features": 3}
    spec = {"input_shape": [2], "loss": "mse_onehot", "layers": [dense, {"type": "sigmoid"}]}
    ok = client.post(
        "/api/sessions", json={"network": spec, "input": {"array": [[0.1, 0.2]], "target": 2}}
    )
    assert ok.status_code == 201, ok.text
    for target, text in ((5, "labels must be in [0, 2]"), ([0.5], "integer class label")):
        r = client.post(
            "/api/sessions",
            json={"network": spec, "input": {"array": [[0.1, 0.2]], "target": target}},
        )
        assert r.status_code == 422 and text in r.text, r.text


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
