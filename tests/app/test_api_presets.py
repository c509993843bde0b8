"""GET /api/presets and /api/presets/{name}."""

import numpy as np
import pytest

from engine.presets import build_preset, list_presets


def test_presets_list_every_engine_preset_with_both_languages(client):
    got = client.get("/api/presets").json()
    assert [p["name"] for p in got] == [p.name for p in list_presets()]
    for p in got:
        assert p["title"]["en"] and p["title"]["zh-CN"] and p["summary"]["zh-CN"]


def test_preset_detail_has_layers_shapes_parameters_and_dataset(client):
    d = client.get("/api/presets/digits-cnn").json()
    assert d["trained"] is True
    layers = d["network"]["layers"]
    assert [lay["name"] for lay in layers][:3] == ["conv1", "relu1", "pool1"]
    assert layers[0]["params"] == {"w": [12, 1, 3, 3], "b": [12]}
    assert layers[0]["output_shape"] == [12, 8, 8]
    assert layers[-1]["output_shape"] == [10]
    assert d["network"]["parameter_count"] == sum(
        __import__("math").prod(s) for lay in layers for s in lay["params"].values()
    )
    assert d["dataset"]["name"] == "digits" and d["dataset"]["test"] == 359
    assert d["meta"]["test_accuracy"] >= 0.96


def test_unknown_preset_is_404_listing_the_valid_names(client):
    r = client.get("/api/presets/resnet50")
    assert r.status_code == 404
    assert "conv-basics" in r.json()["detail"] and "digits-cnn" in r.json()["detail"]


@pytest.mark.parametrize("name", [p.name for p in list_presets()])
def test_every_preset_runs_through_the_api(client, name):
    """Create, a whole pass, the next pass's first steps, another sample, a short
    training: every preset on offer, never a 500."""
    assert client.get(f"/api/presets/{name}").status_code == 200
    r = client.post("/api/sessions", json={"preset": name})
    assert r.status_code == 201, r.text
    sid, plan = r.json()["id"], r.json()["plan"]
    client.app.state.sessions.live.clear()  # as after a restart: rebuilt from the store
    full = client.post(f"/api/sessions/{sid}/steps?encoding=b64", json={"until": "update"})
    assert full.status_code == 200 and len(full.json()["steps"]) == len(plan)
    assert client.post(f"/api/sessions/{sid}/steps", json={"count": 2}).json()["cursor"] == 2
    detail = client.get(f"/api/presets/{name}").json()
    if detail["dataset"]:
        r = client.put(f"/api/sessions/{sid}/input", json={"sample": {"index": 1}})
        assert r.status_code == 200, r.text
    events = client.post(f"/api/sessions/{sid}/train", json={"iterations": 2}).text
    assert "event: done" in events and "event: error" not in events


@pytest.mark.parametrize("name", [p.name for p in list_presets()])
def test_a_session_without_a_seed_shows_what_build_preset_builds(client, name):
    """A notebook's build_preset(name) and the page's session (no seed given) show
    the same example: the same weights and the same input."""
    lesson = build_preset(name)
    sid = client.post("/api/sessions", json={"preset": name}).json()["id"]
    steps = client.post(f"/api/sessions/{sid}/steps", json={"until": "forward"}).json()["steps"]
    first_in = next(t["name"] for t in steps[0]["tensors"] if t["name"].endswith(".in"))
    got = client.get(f"/api/sessions/{sid}/tensors/{first_in}").json()["data"]
    # tensors go out as float32 (vanishing-rnn computes in float64)
    np.testing.assert_array_equal(np.float32(got), np.float32(lesson.x))
    for key, value in lesson.net.params().items():
        got = client.get(f"/api/sessions/{sid}/tensors/{key}").json()["data"]
        np.testing.assert_array_equal(np.float32(got), np.float32(value), err_msg=key)


def test_the_session_schema_offers_exactly_the_engine_presets_and_refuses_others_by_name(
    client,
) -> None:
    """The server states the presets: SessionCreate.preset is an enum of the engine's
    list, and an unknown name is a 422 that names the presets on offer."""
    names = [p.name for p in list_presets()]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SessionCreate"]
    [text] = [s for s in schema["properties"]["preset"]["anyOf"] if s.get("type") == "string"]
    assert text["enum"] == names
    r = client.post("/api/sessions", json={"preset": "nope"})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "preset"]
    assert "unknown preset 'nope'" in error["msg"] and ", ".join(names) in error["msg"]
