"""An input's target through the API: a drawing or a raw array without one has none
(its pass ends with the prediction, never scored against the previous sample's label),
a target given is the one the loss uses, and one can be given afterwards."""

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.settings import Settings

ARRAY = (np.arange(64).reshape(1, 8, 8) / 64).tolist()


def _png_of_a_one() -> str:
    img = Image.new("L", (280, 280), 255)
    img.paste(0, (120, 40, 160, 240))  # a dark vertical stroke
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


INPUTS = {"array": {"array": ARRAY}, "image": {"image": {"png": _png_of_a_one(), "invert": True}}}


def _digits(client) -> dict:
    r = client.post("/api/sessions", json={"preset": "digits-cnn"})
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["input"]["source"] == "sample" and s["input"]["label"] is not None
    assert s["needs_target"] is False
    return s


def _tensor(client, sid, name):
    r = client.get(f"/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    return np.asarray(r.json()["data"])


@pytest.mark.parametrize("kind", INPUTS)
def test_an_input_without_a_target_has_none_and_its_pass_ends_with_the_prediction(client, kind):
    s = _digits(client)  # its test image has a label: the next input must not inherit it
    sid = s["id"]
    r = client.put(f"/api/sessions/{sid}/input", json=INPUTS[kind])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["needs_target"] is True
    assert got["input"]["label"] is None and got["input"]["target_from"] is None
    assert [p["phase"] for p in got["plan"]] == ["forward"] * 8 + ["loss"]
    assert got["plan"][-1]["op"] == "softmax"
    r = client.post(f"/api/sessions/{sid}/steps", json={"until": "update"})
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["needs_target"] is True and run["loss"] is None
    assert f"PUT /api/sessions/{sid}/target" in run["note"]
    assert [st["phase"] for st in run["steps"]] == ["forward"] * 8 + ["loss"]
    probs = _tensor(client, sid, "loss.probs")
    assert probs.shape == (1, 10) and probs.sum() == pytest.approx(1, rel=1e-5)
    for name in ("loss.target", "loss.value", "conv1.dx", "conv1.w.after"):
        assert client.get(f"/api/sessions/{sid}/tensors/{name}").status_code == 404


def test_a_session_created_with_a_drawing_has_no_target(client):
    r = client.post("/api/sessions", json={"preset": "digits-cnn", "input": INPUTS["image"]})
    assert r.status_code == 201, r.text
    assert r.json()["needs_target"] is True and r.json()["input"]["label"] is None


def test_a_target_given_with_the_input_is_the_loss_target(client):
    sid = _digits(client)["id"]
    r = client.put(f"/api/sessions/{sid}/input", json={**INPUTS["image"], "target": 3})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["needs_target"] is False
    assert s["input"]["label"] == 3 and s["input"]["target_from"] == "request"
    run = client.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).json()
    assert run["needs_target"] is False and run["note"] is None
    assert run["steps"][-1]["phase"] == "update"
    assert _tensor(client, sid, "loss.target").tolist() == [3]


def test_a_target_given_afterwards_runs_loss_backward_and_update_against_it(client):
    sid = _digits(client)["id"]
    client.put(f"/api/sessions/{sid}/input", json=INPUTS["array"])
    client.post(f"/api/sessions/{sid}/steps", json={"until": "update"})
    probs = _tensor(client, sid, "loss.probs")
    r = client.put(f"/api/sessions/{sid}/target", json={"target": 7})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["needs_target"] is False and s["cursor"] == 0
    assert s["input"]["source"] == "array" and s["input"]["label"] == 7
    phases = [p["phase"] for p in s["plan"]]
    assert phases.count("backward") == 8 and phases[-1] == "update"
    run = client.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).json()
    assert [st["phase"] for st in run["steps"]] == phases and isinstance(run["loss"], float)
    assert _tensor(client, sid, "loss.target").tolist() == [7]
    # The same input: the loss step scores the very probabilities the prediction showed.
    np.testing.assert_allclose(_tensor(client, sid, "loss.probs"), probs, rtol=1e-6)
    assert run["loss"] == pytest.approx(-np.log(probs[0, 7]), rel=1e-4)


@pytest.mark.parametrize(
    ("target", "says"),
    [
        (10, "labels must be in [0, 9]"),
        (-1, "labels must be in [0, 9]"),
        ([1, 2], "target must be 1 integer class label"),
        (2.5, "integer"),
        ("seven", "target"),
    ],
)
def test_a_target_out_of_range_or_of_the_wrong_shape_is_a_422(client, target, says):
    sid = _digits(client)["id"]
    client.put(f"/api/sessions/{sid}/input", json=INPUTS["array"])
    r = client.put(f"/api/sessions/{sid}/target", json={"target": target})
    assert r.status_code == 422 and says in r.text
    r = client.put(f"/api/sessions/{sid}/input", json={**INPUTS["array"], "target": target})
    assert r.status_code == 422 and says in r.text
    assert client.get(f"/api/sessions/{sid}").json()["needs_target"] is True  # unchanged


def test_a_target_for_a_session_that_does_not_exist_is_a_404(client):
    assert client.put("/api/sessions/nope/target", json={"target": 1}).status_code == 404


def test_an_unlabelled_input_survives_the_sqlite_store_and_a_worker_switch(tmp_path: Path):
    """Two apps on one SQLite file (as two workers, or a restart): the one that did not
    make the session rebuilds it from the store and replays the same unlabelled pass."""
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        sid = a.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        a.put(f"/api/sessions/{sid}/input", json=INPUTS["image"])
        a.post(f"/api/sessions/{sid}/steps", json={"count": 3})
        s = b.get(f"/api/sessions/{sid}").json()
        assert s["needs_target"] is True and s["cursor"] == 3 and s["input"]["label"] is None
        run = b.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).json()
        assert run["needs_target"] is True and run["cursor"] == 9 and run["loss"] is None
        np.testing.assert_array_equal(_tensor(a, sid, "loss.probs"), _tensor(b, sid, "loss.probs"))
        assert a.put(f"/api/sessions/{sid}/target", json={"target": 1}).status_code == 200
        run = b.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).json()
        assert run["needs_target"] is False and run["steps"][-1]["phase"] == "update"
        assert _tensor(b, sid, "loss.target").tolist() == [1]


def test_a_typed_character_prompt_has_no_targets_until_given(client):
    s = client.post("/api/sessions", json={"preset": "chars-en"}).json()
    sid, (steps, chars) = s["id"], s["network"]["input_shape"]
    prompt = np.zeros((1, steps, chars))
    prompt[0, :, 7] = 1  # "h" at every step
    r = client.put(f"/api/sessions/{sid}/input", json={"array": prompt.tolist()})
    assert r.status_code == 200 and r.json()["needs_target"] is True
    run = client.post(f"/api/sessions/{sid}/steps", json={"until": "loss"}).json()
    assert run["steps"][-1]["op"] == "softmax" and run["loss"] is None
    assert _tensor(client, sid, "loss.probs").shape == (1, steps, chars)
    assert client.get(f"/api/sessions/{sid}/tensors/loss.target").status_code == 404
    labels = [[4] * steps]  # "e" after every "h"
    r = client.put(f"/api/sessions/{sid}/target", json={"target": labels})
    assert r.status_code == 200, r.text
    client.post(f"/api/sessions/{sid}/steps", json={"until": "loss"})
    assert _tensor(client, sid, "loss.target").tolist() == labels


def test_training_on_an_input_without_a_target_is_a_422_not_a_guessed_label(client):
    spec = {"input_shape": [3], "layers": [{"type": "dense", "in_features": 3, "out_features": 2}]}
    r = client.post("/api/sessions", json={"network": spec, "input": {"array": [1.0, 2.0, 3.0]}})
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["needs_target"] is True and s["input"]["label"] is None
    r = client.post(f"/api/sessions/{s['id']}/train", json={"iterations": 3})
    assert r.status_code == 422 and "no target" in r.json()["detail"]


def test_a_lesson_with_a_target_rule_applies_it_to_an_edited_input(client):
    """conv-basics scores the kernel against what a vertical-edge kernel makes of the
    image it is given (not of the lesson's first image); the pooling lesson's target
    map stays, as the page that edits its input needs."""
    x = np.eye(5)
    r = client.post(
        "/api/sessions", json={"preset": "conv-basics", "input": {"array": [x.tolist()]}}
    )
    s = r.json()
    assert s["needs_target"] is False and s["input"]["target_from"] == "lesson"
    client.post(f"/api/sessions/{s['id']}/steps", json={"until": "loss"})
    edge = np.array([[1, 0, -1]] * 3)
    want = [[(x[i : i + 3, j : j + 3] * edge).sum() for j in range(3)] for i in range(3)]
    assert _tensor(client, s["id"], "loss.target")[0, 0].tolist() == want
    pooled = client.post("/api/sessions", json={"preset": "pooling"}).json()
    client.post(f"/api/sessions/{pooled['id']}/steps", json={"until": "loss"})
    lesson_target = _tensor(client, pooled["id"], "loss.target")
    edited = np.arange(16).reshape(1, 4, 4).tolist()
    s = client.post("/api/sessions", json={"preset": "pooling", "input": {"array": edited}}).json()
    client.post(f"/api/sessions/{s['id']}/steps", json={"until": "loss"})
    np.testing.assert_array_equal(_tensor(client, s["id"], "loss.target"), lesson_target)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e39])
def test_a_regression_target_that_is_not_a_finite_float32_is_refused(client, bad):
    """NaN, Infinity or 1e39 as a target would make every later pass of the session
    non-finite: 422, and the session is unchanged."""
    sid = client.post("/api/sessions", json={"preset": "sine-rnn"}).json()["id"]
    client.post(f"/api/sessions/{sid}/steps", json={"until": "loss"})
    shape = client.get(f"/api/sessions/{sid}/tensors/loss.in").json()["shape"]
    target = np.zeros(shape)
    target.flat[0] = bad
    body = json.dumps({"target": target.tolist()}, allow_nan=True)
    r = client.put(f"/api/sessions/{sid}/target", content=body,
                   headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 422, r.text
    assert "finite" in r.text
    steps = client.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).json()
    assert np.isfinite(steps["loss"])


@pytest.mark.parametrize("names", [["loss", ""], ["relu1", ""], ["clip", ""]])
def test_a_layer_named_like_the_loss_or_like_another_layer_is_refused(client, names):
    """A layer called loss would overwrite the loss's tensors (loss.in, loss.dx); two
    layers of one name share their tensors: 422 before anything is built."""
    layers = [{"type": "dense", "in_features": 2, "out_features": 3, "name": names[0]},
              {"type": "relu", "name": names[1]}, {"type": "relu"}]  # fmt: skip
    body = {"network": {"input_shape": [2], "loss": "mse", "layers": layers},
            "input": {"array": [[0.5, -1.0]], "target": [[0.0, 1.0, 0.0]]}}  # fmt: skip
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422, r.text
    assert "named" in r.text
