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


def _net(sizes, classes, features=2, loss="softmax_cross_entropy"):
    """A dense network: `features` inputs, hidden layers of `sizes`, `classes` outputs."""
    from engine.models import model_from_spec

    layers, width = [], features
    for n in [*sizes, classes]:
        layers += [{"type": "dense", "in_features": width, "out_features": n}, {"type": "relu"}]
        width = n
    spec = {"input_shape": [features], "loss": loss, "layers": layers[:-1]}
    return _npz_of(model_from_spec(spec, seed=0))


def _put(client, sid, b64):
    return client.put(f"/api/sessions/{sid}/weights", json={"weights_npz": b64})


def test_weights_must_fit_the_sessions_dataset_not_only_its_input(client):
    sid = _bp(client, dataset="blobs")
    info = client.get(f"/api/sessions/{sid}").json()["dataset"]
    classes, features = len(info["classes"]), info["features"]
    assert classes > 2  # one output fewer still fits a sample labelled 0 or 1
    metrics = client.get(f"/api/sessions/{sid}/metrics").json()
    for b64 in (_net([4], classes - 1, features), _net([4], classes, features, loss="mse")):
        body = assert_coded(_put(client, sid, b64), 422, "bad_weights")
        assert "class" in body["detail"] or "target" in body["detail"], body["detail"]
    # refused: the session trains and is measured as before
    assert client.get(f"/api/sessions/{sid}/metrics").json() == metrics
    assert client.get(f"/api/sessions/{sid}/boundary").status_code == 200
    _train(client, sid, epochs=1)
    assert _put(client, sid, _net([3], classes, features)).status_code == 200


def test_a_recurrent_file_fits_its_regression_and_resets_preset_overrides_and_trained(client):
    from engine.presets import build_preset

    made = client.post("/api/sessions", json={"preset": "sine-rnn", "overrides": {"lr": 0.05}})
    sid = made.json()["id"]
    stored = client.app.state.sessions.store  # the overrides are not in the session's JSON
    assert made.json()["preset"] == "sine-rnn" and stored.get(sid).meta["overrides"]
    lstm = client.post("/api/sessions", json={"preset": "sine-lstm"}).json()["id"]
    blob = client.get(f"/api/sessions/{lstm}/weights.npz").content
    r = _put(client, sid, base64.b64encode(blob).decode())
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["preset"] is None and stored.get(sid).meta["overrides"] is None
    assert [la["type"] for la in out["network"]["layers"]] == ["lstm", "dense_each"]
    assert out["trained"] is read_npz(blob)[1]["trained"]
    # a file that says nothing of training (save_network without meta) is untrained
    r = _put(client, sid, _npz_of(build_preset("sine-rnn").net))
    assert r.status_code == 200 and r.json()["trained"] is False, r.text
    # a network of other samples (chars-zh reads 4 letters of 57) is refused
    chars = _npz_of(build_preset("chars-zh").net)
    assert_coded(_put(client, sid, chars), 422, "bad_weights")


MALFORMED = [
    {"input_shape": [2], "layers": "x"},
    {"input_shape": [2], "layers": [1]},
    {"input_shape": [2], "layers": [{"name": "d"}]},
    {"input_shape": [2], "layers": []},
    {"input_shape": "ab", "layers": [{"type": "relu"}]},
    {"input_shape": [True], "layers": [{"type": "relu"}]},
]


@pytest.mark.parametrize("spec", MALFORMED)
def test_a_malformed_spec_is_a_coded_422_saying_what_is_wrong(client, spec):
    import json

    buf = io.BytesIO()
    np.savez(buf, __spec__=np.array(json.dumps(spec)))
    b64 = base64.b64encode(buf.getvalue()).decode()
    sid = _bp(client)
    body = assert_coded(_put(client, sid, b64), 422, "bad_weights")
    assert "__spec__." in body["detail"], body["detail"]
    x = {"array": [[0.0, 0.0]], "target": [0]}
    r = client.post("/api/sessions", json={"weights_npz": b64, "input": x})
    assert assert_coded(r, 422, "bad_weights")["detail"] == body["detail"]


def test_a_bp_session_takes_only_networks_within_the_bp_pages_limits(client):
    bp = client.get("/api/rules").json()["bp"]
    most, deepest = bp["max_neurons"], bp["max_layers"]
    sid = _bp(client)
    info = client.get(f"/api/sessions/{sid}").json()["dataset"]
    classes, features = len(info["classes"]), info["features"]
    wide, deep = _net([most + 1], classes, features), _net([2] * (deepest + 1), classes, features)
    for b64, allowed, given in ((wide, most, most + 1), (deep, deepest, deepest + 1)):
        r = _put(client, sid, b64)
        assert r.status_code == 422, r.text
        for text in r.json()["message"].values():  # the page's plain words, with the number
            assert str(allowed) in text and str(given) in text, text
    # within them: taken, and the session stays a BP one for the next file
    assert _put(client, sid, _net([most], classes, features)).status_code == 200
    assert _put(client, sid, wide).status_code == 422
    # the limits are the BP page's: a session of another page takes the wide network
    x = {"array": [[0.0] * features], "target": [0]}
    assert client.post("/api/sessions", json={"weights_npz": wide, "input": x}).status_code == 201


def test_put_weights_shares_the_clients_heavy_requests(tmp_path):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    settings = Settings(data_dir=tmp_path, warm_up=False, client_heavy_requests=1)
    with TestClient(create_app(settings)) as c:
        sid = _bp(c)
        b64 = base64.b64encode(_weights(c, sid)[0]).decode()
        limiter = c.app.state.fairshare
        assert limiter.enter("testclient")  # as a training of this client in progress
        try:
            assert_coded(_put(c, sid, b64), 429, "too_busy")
        finally:
            limiter.leave("testclient")
        assert _put(c, sid, b64).status_code == 200


def test_weights_are_refused_while_the_session_trains_or_waits_to(tmp_path):
    import json
    import threading

    import httpx

    from tests.processes import app_server

    long = {"iterations": 5000, "batch_size": 64}  # runs until cancelled
    with (
        app_server(tmp_path, {"GLASSBOX_TRAIN_WORKERS": "1"}) as url,
        httpx.Client(base_url=url, timeout=60, trust_env=False) as c,
    ):
        running, waiting = (
            c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"] for _ in "ab"
        )
        blob = base64.b64encode(c.get(f"/api/sessions/{running}/weights.npz").content).decode()
        events: dict[str, list[str]] = {running: [], waiting: []}
        seen = {sid: threading.Event() for sid in events}

        def train(sid, body):
            with c.stream("POST", f"/api/sessions/{sid}/train", json=body) as r:
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        events[sid].append(json.loads(line[6:])["event"])
                        seen[sid].set()

        threads = [threading.Thread(target=train, args=(running, long)),
                   threading.Thread(target=train, args=(waiting, {"epochs": 1}))]  # fmt: skip
        threads[0].start()
        assert seen[running].wait(30)
        threads[1].start()
        assert seen[waiting].wait(30) and events[waiting][0] == "queued", events
        for sid in (running, waiting):
            body = assert_coded(_put(c, sid, blob), 409, "training_running")
            assert "train" in body["detail"]
        assert c.delete(f"/api/sessions/{running}/train").status_code == 202
        for th in threads:
            th.join(60)
        assert events[running][-1] == "cancelled" and events[waiting][-1] == "done", events
        for sid in (running, waiting):  # the trainings are over: the file is taken
            assert _put(c, sid, blob).status_code == 200


def test_every_session_names_the_page_that_shows_it(client):
    """`page` is where /learn/<page>?session=<id> opens the session (static/js/share.js
    reads it): its preset's page, else by its layers; every preset's is a real page."""
    from engine.presets import list_presets

    expected = {"digits-cnn": "cnn", "memory-lstm": "rnn", "sine-rnn": "rnn",
                "conv-basics": "convolution", "pooling": "pooling",
                "tensor-conv": "tensor-convolution"}  # fmt: skip
    for preset in list_presets():
        page = client.post("/api/sessions", json={"preset": preset.name}).json()["page"]
        assert page == expected.get(preset.name, page)
        assert client.get(f"/learn/{page}").status_code == 200, (preset.name, page)
    assert client.get(f"/api/sessions/{_bp(client)}").json()["page"] == "bp"
    conv = {
        "input_shape": [1, 4, 4],
        "loss": "mse",
        "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel": 3}],
    }
    given = {"array": np.ones((1, 4, 4)).tolist(), "target": np.zeros((1, 1, 2, 2)).tolist()}
    r = client.post("/api/sessions", json={"network": conv, "input": given})
    assert r.status_code == 201, r.text
    assert r.json()["page"] == "cnn"
    # A recurrent network from a file (no preset any more): the RNN page.
    rnn = client.post("/api/sessions", json={"preset": "sine-rnn"}).json()["id"]
    lstm = client.post("/api/sessions", json={"preset": "sine-lstm"}).json()["id"]
    blob = base64.b64encode(client.get(f"/api/sessions/{lstm}/weights.npz").content).decode()
    r = client.put(f"/api/sessions/{rnn}/weights", json={"weights_npz": blob})
    assert r.status_code == 200, r.text
    assert (r.json()["preset"], r.json()["page"]) == (None, "rnn")
