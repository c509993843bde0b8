"""Sessions passed on: a copy (POST /api/sessions {"copy_of"}), a session's weights as
an .npz (GET .../weights.npz) read back as a new session or into another one (PUT
.../weights), and their errors (coded, in both languages)."""

import base64
import io

import numpy as np
import pytest

from engine.weights import read_npz, save_network
from tests.app.test_error_codes import assert_coded

SMALL_BP = {"dataset": "blobs", "hidden": [4], "lr": 0.5}


def _bp(client, **body):
    r = client.post("/api/bp/sessions", json={**SMALL_BP, **body})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _train(client, sid, epochs=2):
    r = client.post(f"/api/sessions/{sid}/train", json={"epochs": epochs, "batch_size": 32})
    assert r.status_code == 200 and "event: done" in r.text, r.text


def _weights(client, sid):
    """The session's weights as the API gives them (the .npz it sends)."""
    r = client.get(f"/api/sessions/{sid}/weights.npz")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    return r.content, read_npz(r.content)[2]


def _pass(client, sid):
    """Every tensor of one whole pass, by name, as float32 arrays."""
    plan = client.get(f"/api/sessions/{sid}").json()["plan"]
    r = client.post(f"/api/sessions/{sid}/steps?encoding=b64&refs=false", json={"count": len(plan)})
    assert r.status_code == 200, r.text
    out = {}
    for step in r.json()["steps"]:
        for t in step["tensors"]:
            out[t["name"]] = np.frombuffer(base64.b64decode(t["data"]), "<f4").reshape(t["shape"])
    return out


def test_a_copy_has_the_trained_weights_and_changes_apart(client):
    sid = _bp(client)
    _train(client, sid)
    r = client.post("/api/sessions", json={"copy_of": sid})
    assert r.status_code == 201, r.text
    copy = r.json()
    original = client.get(f"/api/sessions/{sid}").json()
    assert copy["id"] != sid and copy["trained"] is True
    for key in ("network", "optimizer", "plan", "cursor", "input", "dataset"):
        assert copy[key] == original[key], key
    ours, theirs = _pass(client, copy["id"]), _pass(client, sid)
    assert ours.keys() == theirs.keys() and len(ours) > 10
    for name, value in theirs.items():
        np.testing.assert_array_equal(ours[name], value, err_msg=name)
    # training the copy leaves the original's weights as they were
    before = _weights(client, sid)[1]
    assert _weights(client, copy["id"])[1].keys() == before.keys()
    _train(client, copy["id"], epochs=1)
    after = _weights(client, sid)[1]
    moved = _weights(client, copy["id"])[1]
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)
    assert any(not np.array_equal(moved[k], v) for k, v in before.items())
    # the copy trains on the same dataset (its metrics are there)
    assert client.get(f"/api/sessions/{copy['id']}/metrics").status_code == 200


def test_copying_a_session_that_is_gone_is_a_coded_404(client):
    body = assert_coded(client.post("/api/sessions", json={"copy_of": "nope"}), 404, "copy_gone")
    assert "nope" in body["detail"]
    sid = _bp(client)
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert_coded(client.post("/api/sessions", json={"copy_of": sid}), 404, "copy_gone")


@pytest.mark.parametrize(
    "body, text",
    [
        ({"copy_of": "x", "preset": "digits-cnn"}, "exactly one of"),
        ({"copy_of": "x", "seed": 3}, "copy_of takes no seed"),
        ({"copy_of": ""}, "at least 1"),
    ],
)
def test_copy_of_with_anything_else_is_a_422_saying_so(client, body, text):
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422 and text in r.text, r.text


def test_downloaded_weights_are_the_sessions_in_pytorch_layout_and_open_again(client):
    sid = _bp(client, hidden=[5, 3])
    _train(client, sid)
    blob, params = _weights(client, sid)
    metrics = client.get(f"/api/sessions/{sid}/metrics").json()
    spec = read_npz(blob)[0]
    dense = [la for la in spec["layers"] if la["type"] == "dense"]
    assert [params[f"{d['name']}.w"].shape for d in dense] == [(5, 2), (3, 5), (3, 3)]  # (out, in)
    tensors = _pass(client, sid)  # the pass starts from them (its update steps move them on)
    for name, value in params.items():
        np.testing.assert_array_equal(value, tensors[name], err_msg=name)
    # uploaded as a new session (with an input of its own), its weights are the same
    x = tensors["dense1.in"].tolist()
    new = client.post(
        "/api/sessions",
        json={"weights_npz": base64.b64encode(blob).decode(), "input": {"array": x, "target": [0]}},
    )
    assert new.status_code == 201, new.text
    again = _weights(client, new.json()["id"])[1]
    assert again.keys() == params.keys()
    for name, value in params.items():
        np.testing.assert_array_equal(again[name], value, err_msg=name)
    # read into another session on the same dataset: its network, on its input
    other = _bp(client, hidden=[2])
    r = client.put(
        f"/api/sessions/{other}/weights", json={"weights_npz": base64.b64encode(blob).decode()}
    )
    assert r.status_code == 200, r.text
    outs = [la["settings"].get("out_features") for la in r.json()["network"]["layers"]]
    assert [o for o in outs if o] == [5, 3, 3] and r.json()["trained"] is True
    for name, value in _weights(client, other)[1].items():
        np.testing.assert_array_equal(value, params[name], err_msg=name)
    # the same network on the same dataset: the same loss and accuracy
    assert client.get(f"/api/sessions/{other}/metrics").json() == metrics


def _npz_of(net):
    buf = io.BytesIO()
    save_network(net, buf)
    return base64.b64encode(buf.getvalue()).decode()


def test_weights_that_cannot_be_read_or_do_not_fit_are_coded_422s(client):
    from engine.presets import build_preset

    sid = _bp(client)
    before = _weights(client, sid)[1]
    junk = base64.b64encode(b"not a zip at all").decode()
    for payload in (junk, "%%%"):
        r = client.put(f"/api/sessions/{sid}/weights", json={"weights_npz": payload})
        assert_coded(r, 422, "bad_weights")
    # a CNN for 8x8 images does not take the blobs' 2 features
    cnn = _npz_of(build_preset("digits-cnn").net)
    body = assert_coded(
        client.put(f"/api/sessions/{sid}/weights", json={"weights_npz": cnn}), 422, "bad_weights"
    )
    assert "does not fit" in body["detail"]
    # refused files leave the session as it was
    for name, value in _weights(client, sid)[1].items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    # and the same words when a new session is made from a file that is not one
    x = {"array": [[0.0, 0.0]], "target": [0]}
    r = client.post("/api/sessions", json={"weights_npz": junk, "input": x})
    assert_coded(r, 422, "bad_weights")
    assert client.get("/api/sessions/nope/weights.npz").status_code == 404
    assert client.put("/api/sessions/nope/weights", json={"weights_npz": cnn}).status_code == 404
