"""Sessions through the REST API: create, step, read, explain, input, delete, train."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from engine.optim import make_optimizer
from engine.presets import build_preset
from engine.stepper import Pass


def _create(client, **body):
    r = client.post("/api/sessions", json={"preset": "digits-cnn", **body})
    assert r.status_code == 201, r.text
    return r.json()


def _b64(t):
    return np.frombuffer(base64.b64decode(t["data"]), dtype="<f4").reshape(t["shape"])


def test_create_returns_an_unguessable_id_the_network_and_the_plan(client):
    s = _create(client)
    assert len(s["id"]) >= 22  # 128 random bits, url-safe base64
    assert s["cursor"] == 0 and s["passes"] == 0 and s["trained"] is True
    phases = [p["phase"] for p in s["plan"]]
    assert phases[0] == "forward" and "loss" in phases and phases[-1] == "update"
    assert s["input"]["source"] == "sample"
    assert client.get(f"/api/sessions/{s['id']}").json()["id"] == s["id"]


def test_no_endpoint_lists_sessions(client):
    _create(client)
    assert client.get("/api/sessions").status_code == 405


def test_steps_walk_forward_loss_backward_update_and_match_the_engine(client):
    s = _create(client)
    sid = s["id"]
    fwd = client.post(f"/api/sessions/{sid}/steps", json={"until": "forward"}).json()
    assert [st["phase"] for st in fwd["steps"]] == ["forward"] * 8
    loss = client.post(f"/api/sessions/{sid}/steps", json={"count": 1}).json()
    assert loss["steps"][0]["phase"] == "loss" and isinstance(loss["loss"], float)
    bwd = client.post(f"/api/sessions/{sid}/steps?encoding=b64", json={"until": "backward"})
    steps = bwd.json()["steps"]
    assert [st["layer"] for st in steps][-1] == "conv1"
    conv1 = {t["name"]: t for t in steps[-1]["tensors"]}
    # The same pass, run by the engine directly, gives the same delta map bit for bit.
    lesson = build_preset("digits-cnn")
    p = Pass(lesson.net, lesson.x, lesson.target, make_optimizer(lesson.optimizer))
    p.run(until="backward")
    np.testing.assert_array_equal(_b64(conv1["conv1.dx"]), p.trace["conv1.dx"])
    upd = client.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).json()
    assert upd["cursor"] == len(s["plan"]) and upd["passes"] == 0
    nxt = client.post(f"/api/sessions/{sid}/steps", json={}).json()
    assert nxt["cursor"] == 1 and nxt["passes"] == 1 and nxt["steps"][0]["index"] == 0


def test_step_payload_has_captions_in_both_languages_and_tensor_metadata(client):
    sid = _create(client)["id"]
    step = client.post(f"/api/sessions/{sid}/steps", json={}).json()["steps"][0]
    assert step["caption"]["en"] and step["caption"]["zh-CN"] and step["formula"]
    t = {t["name"]: t for t in step["tensors"]}["conv1.out"]
    assert t["role"] == "preact" and t["axes"] == ["sample", "channel", "row", "col"]
    assert t["shape"] == [1, 12, 8, 8] and t["finite"] is True
    data = np.array(t["data"], dtype=np.float32)
    assert data.min() == pytest.approx(t["min"]) and data.max() == pytest.approx(t["max"])


def test_steps_without_tensors_and_stepping_back(client):
    sid = _create(client)["id"]
    r = client.post(f"/api/sessions/{sid}/steps?tensors=false", json={"count": 3}).json()
    assert all("tensors" not in st for st in r["steps"])
    back = client.get(f"/api/sessions/{sid}/steps/1").json()
    assert back["layer"] == "relu1" and {t["name"] for t in back["tensors"]} == {
        "relu1.in", "relu1.out"
    }  # fmt: skip
    assert client.get(f"/api/sessions/{sid}/steps/3").status_code == 404


def test_tensor_by_name_in_both_encodings(client):
    sid = _create(client)["id"]
    client.post(f"/api/sessions/{sid}/steps", json={"until": "forward"})
    as_list = client.get(f"/api/sessions/{sid}/tensors/pool1.mask").json()
    as_b64 = client.get(f"/api/sessions/{sid}/tensors/pool1.mask?encoding=b64").json()
    np.testing.assert_array_equal(np.array(as_list["data"], dtype=np.float32), _b64(as_b64))
    assert as_list["role"] == "mask" and set(np.unique(_b64(as_b64))) <= {0.0, 1.0}
    partial = client.get(f"/api/sessions/{sid}/tensors/conv2.partial").json()
    assert partial["shape"] == [1, 24, 12, 4, 4]
    r = client.get(f"/api/sessions/{sid}/tensors/conv1.dx")
    assert r.status_code == 404 and "conv1.out" in r.json()["detail"]


@pytest.mark.parametrize(
    ("tensor", "index", "kind"),
    [
        ("conv1.out", "0,3,4,4", "conv.out"),
        ("conv1.dx", "0,0,0,0", "conv.dx"),
        ("conv2.dx", "0,5,2,2", "conv.dx"),
        ("pool1.out", "0,2,1,1", "maxpool.out"),
        ("pool1.dout", "0,2,1,1", "maxpool.route"),
        ("pool2.dx", "0,3,1,2", "maxpool.dx"),
        ("dense1.dx", "0,17", "dense.dx"),
    ],
)
def test_explanations_add_up_to_the_recorded_value(client, tensor, index, kind):
    sid = _create(client)["id"]
    client.post(f"/api/sessions/{sid}/steps", json={"until": "backward"})
    e = client.get(f"/api/sessions/{sid}/explain", params={"tensor": tensor, "index": index})
    assert e.status_code == 200, e.text
    e = e.json()
    assert e["kind"] == kind
    total = sum(t["product"] for t in e["terms"]) + (e["constant"] or {"value": 0})["value"]
    assert total == pytest.approx(e["total"], rel=1e-6, abs=1e-7)
    if kind != "maxpool.route":
        assert e["total"] == pytest.approx(e["value"], rel=1e-5, abs=1e-6)
    for term in e["terms"]:
        for f in term["factors"]:
            assert f["tensor"] in ("weight",) or f["tensor"].startswith(tensor.split(".")[0])


def test_a_corner_pixels_delta_has_one_term_per_kernel(client):
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    client.post(f"/api/sessions/{sid}/steps", json={"until": "backward"})
    corner = client.get(f"/api/sessions/{sid}/explain?tensor=conv1.dx&index=0,0,0,0").json()
    middle = client.get(f"/api/sessions/{sid}/explain?tensor=conv1.dx&index=0,0,2,2").json()
    assert len(corner["terms"]) == 1 and len(middle["terms"]) == 9


def test_explain_refuses_bad_indices_and_tensors_not_recorded(client):
    """Every recorded tensor explains itself (a scalar with an empty index); an index
    outside it, a malformed one, or a name the pass has not recorded are refused."""
    sid = _create(client)["id"]
    client.post(f"/api/sessions/{sid}/steps", json={"until": "backward"})
    assert client.get(f"/api/sessions/{sid}/explain?tensor=loss.value&index=").status_code == 200
    r = client.get(f"/api/sessions/{sid}/explain?tensor=conv1.dx&index=0,0,9,0")
    assert r.status_code == 422 and "outside 0..7" in r.json()["detail"]
    r = client.get(f"/api/sessions/{sid}/explain?tensor=conv1.dx&index=a,b")
    assert r.status_code == 422 and "comma-separated integers" in r.json()["detail"]
    assert client.get(f"/api/sessions/{sid}/explain?tensor=nope.dx&index=0").status_code == 404


def test_input_from_a_sample_an_array_and_a_drawing(client):
    sid = _create(client)["id"]
    client.post(f"/api/sessions/{sid}/steps", json={"count": 4})
    s = client.put(f"/api/sessions/{sid}/input", json={"sample": {"index": 7}}).json()
    assert s["cursor"] == 0 and s["input"]["index"] == 7
    x = client.get(f"/api/sessions/{sid}/steps", params={}).status_code  # GET not allowed
    assert x == 405
    arr = (np.arange(64).reshape(1, 8, 8) / 64).tolist()
    s = client.put(f"/api/sessions/{sid}/input", json={"array": arr, "target": [3]}).json()
    assert s["input"]["source"] == "array"
    client.post(f"/api/sessions/{sid}/steps", json={})
    got = client.get(f"/api/sessions/{sid}/tensors/conv1.in").json()["data"]
    np.testing.assert_allclose(got, [arr], rtol=1e-6)
    img = Image.new("L", (280, 280), 255)
    img.paste(0, (120, 40, 160, 240))  # a dark vertical stroke: a "1"
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    png = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    s = client.put(f"/api/sessions/{sid}/input", json={"image": {"png": png, "invert": True}})
    assert s.status_code == 200, s.text
    client.post(f"/api/sessions/{sid}/steps", json={})
    x = np.array(client.get(f"/api/sessions/{sid}/tensors/conv1.in").json()["data"])
    assert x.shape == (1, 1, 8, 8) and x.max() > 0.5 and x[0, 0, :, 0].max() < 0.1


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"sample": {"index": 100000}}, "out of range"),
        ({"array": [[1, 2], [3]]}, "ragged"),
        ({"array": [[[True] * 8] * 8]}, "only numbers"),
        ({"array": [[[1.0] * 7] * 8]}, "input must have shape"),
        ({"image": {"png": "not base64!"}}, "base64"),
        ({"sample": {"index": 0}, "array": [1]}, "exactly one"),
        ({"array": [[[0.0] * 8] * 8], "target": [12]}, "labels must be in"),
    ],
)
def test_bad_input_is_a_422_saying_what_is_wrong(client, body, text):
    sid = _create(client)["id"]
    r = client.put(f"/api/sessions/{sid}/input", json=body)
    assert r.status_code == 422 and text in r.text


def test_overrides_change_the_network_and_reinitialise_trained_weights(client):
    s = _create(
        client,
        seed=3,
        overrides={"conv": {"conv1": {"out_channels": 4, "kernel": 5, "padding": 2}},
                   "pooling": "avg", "activation": "tanh", "lr": 0.2},
    )  # fmt: skip
    layers = {lay["name"]: lay for lay in s["network"]["layers"]}
    assert layers["conv1"]["params"]["w"] == [4, 1, 5, 5]
    assert layers["conv2"]["params"]["w"] == [24, 4, 3, 3]
    assert layers["pool1"]["type"] == "avg_pool2d" and "tanh1" in layers
    assert s["trained"] is False and s["optimizer"]["lr"] == 0.2
    same = _create(client, overrides={"lr": 0.5})
    assert same["trained"] is True


def test_session_from_a_network_spec_and_from_npz_weights(client):
    from engine.weights import save_network

    conv = {"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel": 3}
    spec = {"input_shape": [1, 4, 4], "loss": "mse", "layers": [conv]}
    data = {"array": np.ones((1, 4, 4)).tolist(), "target": np.zeros((1, 2, 2, 2)).tolist()}
    body = {"network": spec, "input": data}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert client.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).status_code == 200
    net = build_preset("conv-basics").net
    buf = io.BytesIO()
    save_network(net, buf)
    data = {"array": np.eye(5)[None].tolist(), "target": np.zeros((1, 1, 3, 3)).tolist()}
    body = {"weights_npz": base64.b64encode(buf.getvalue()).decode(), "input": data}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    r = client.post("/api/sessions", json={"weights_npz": "bm90IGEgemlw", "input": body["input"]})
    assert r.status_code == 422 and "npz" in r.json()["detail"]


def test_delete(client):
    sid = _create(client)["id"]
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.get(f"/api/sessions/{sid}").status_code == 404
    assert client.delete(f"/api/sessions/{sid}").status_code == 404


def _events(text):
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], __import__("json").loads(lines["data"])))
    return out


def test_training_streams_progress_and_keeps_the_weights(client):
    sid = _create(client, overrides={"conv": {"conv1": {"out_channels": 6}}})["id"]
    before = client.get(f"/api/sessions/{sid}").json()
    r = client.post(
        f"/api/sessions/{sid}/train", json={"epochs": 3, "optimizer": {"type": "adam", "lr": 0.01}}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = _events(r.text)
    assert events[0][0] == "start" and events[-1][0] == "done"
    progress = [e for name, e in events if name == "progress"]
    assert progress[-1]["iteration"] == events[0][1]["iterations"] and progress[-1]["epoch"] == 3
    assert progress[-1]["loss"] < progress[0]["loss"]
    assert events[-1][1]["test_accuracy"] > 0.5
    after = client.get(f"/api/sessions/{sid}").json()
    assert after["trained"] is True and after["passes"] == before["passes"] + 1
    assert after["optimizer"]["type"] == "adam"


def test_each_training_run_of_a_session_shuffles_with_its_own_seed(client):
    """A page that trains one epoch per request must not get the same batch order
    every epoch: run k of a session shuffles with seed k, and says so."""
    sid = _create(client)["id"]
    seeds = []
    for _ in range(3):
        r = client.post(f"/api/sessions/{sid}/train", json={"epochs": 1, "batch_size": 64})
        events = _events(r.text)
        assert events[-1][0] == "done"
        seeds.append(events[0][1]["shuffle_seed"])
    assert seeds == [0, 1, 2]


def test_training_that_diverges_is_reported_not_crashed(client):
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/train",
                    json={"iterations": 200, "optimizer": {"type": "sgd", "lr": 50}})  # fmt: skip
    events = _events(r.text)
    assert events[-1][0] == "diverged"
    # The weights ran off to ~1e21; their squared error overflows float32.
    step = client.post(f"/api/sessions/{sid}/steps", json={"until": "loss"}).json()
    assert step["loss"] == "Infinity"
    value = {t["name"]: t for t in step["steps"][-1]["tensors"]}["loss.value"]
    assert value["finite"] is False and value["nonfinite"]["posinf"] == 1
    assert value["data"] == "Infinity"


def test_cancel_training_and_its_errors(client):
    sid = _create(client)["id"]
    assert client.delete(f"/api/sessions/{sid}/train").status_code == 202
    # A cancel raised before a training starts does not stop the next one.
    events = _events(client.post(f"/api/sessions/{sid}/train", json={"iterations": 5}).text)
    assert events[-1][0] == "done"
    assert client.delete("/api/sessions/nope/train").status_code == 404
    r = client.post(f"/api/sessions/{sid}/train", json={"epochs": 1, "iterations": 3})
    assert r.status_code == 422


def test_a_full_pass_sends_each_array_once_and_partials_on_request(client):
    sid = _create(client)["id"]
    full = client.post(f"/api/sessions/{sid}/steps?encoding=b64", json={"until": "update"}).json()
    tensors = [t for st in full["steps"] for t in st["tensors"]]
    refs = {t["name"]: t["same_as"] for t in tensors if "same_as" in t}
    assert refs["relu1.in"] == "conv1.out" and refs["conv1.w.before"] == "conv1.w"
    # Each layer's incoming delta is the layer above's dx: pool1 sits below conv2.
    assert refs["pool1.dout"] == "conv2.dx" and refs["pool2.dout"] == "flatten1.dx"
    named = {t["name"] for t in tensors}
    assert all(target in named for target in refs.values())
    assert not any(t["name"].endswith(".partial") for t in tensors)
    assert "conv1.partial" in full["steps"][0]["tensor_names"]
    sid = _create(client)["id"]
    flat = client.post(
        f"/api/sessions/{sid}/steps?encoding=b64&refs=false&partials=true", json={"until": "update"}
    ).json()
    flat_tensors = [t for st in flat["steps"] for t in st["tensors"]]
    assert not any("same_as" in t for t in flat_tensors)
    assert any(t["name"] == "conv1.partial" for t in flat_tensors)
    by_name = {t["name"]: t for t in flat_tensors}
    for name, target in refs.items():
        assert by_name[name]["data"] == by_name[target]["data"]


def test_numbers_too_large_for_float32_are_refused_and_leave_the_session_usable(client):
    body = {"network": {"input_shape": [1, 4, 4], "loss": "mse",
                        "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 1,
                                    "kernel": 3}]},
            "input": {"array": (np.ones((1, 4, 4)) * 1e300).tolist(),
                      "target": np.zeros((1, 1, 2, 2)).tolist()}}  # fmt: skip
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422 and "NaN or Inf" in r.json()["detail"]
    body["input"]["array"] = np.ones((1, 4, 4)).tolist()
    sid = client.post("/api/sessions", json=body).json()["id"]
    r = client.put(f"/api/sessions/{sid}/params/conv1.w", json={"array": [[[[1e300] * 3] * 3]]})
    assert r.status_code == 422 and "finite" in r.json()["detail"]
    assert client.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).status_code == 200


def test_softmax_on_an_output_that_is_not_classes_is_a_422(client):
    body = {"network": {"input_shape": [1, 4, 4], "layers": [{"type": "relu"}]},
            "input": {"array": np.ones((1, 4, 4)).tolist(), "target": [0]}}  # fmt: skip
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422 and "needs outputs (N, classes)" in r.json()["detail"]


def test_a_flat_regression_target_is_folded_into_the_output_shape_and_trains(client):
    body = {"network": {"input_shape": [3], "loss": "mse",
                        "layers": [{"type": "dense", "in_features": 3, "out_features": 2}]},
            "input": {"array": [1.0, 2.0, 3.0], "target": [0.5, -0.5]}}  # fmt: skip
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    events = client.post(f"/api/sessions/{r.json()['id']}/train", json={"iterations": 3}).text
    assert "event: done" in events
