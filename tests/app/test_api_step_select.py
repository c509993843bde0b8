"""What a page needs in one request: step k by index, tensors by name, a series."""

import numpy as np
import pytest


def _session(client, preset="digits-cnn", **extra):
    res = client.post("/api/sessions", json={"preset": preset, **extra})
    assert res.status_code == 201, res.text
    return res.json()


def _names(step):
    return [t["name"] for t in step["tensors"]]


def test_to_runs_up_to_step_k_and_returns_that_step_alone(client):
    s = _session(client)
    res = client.post(f"/api/sessions/{s['id']}/steps", json={"to": 3})
    assert res.status_code == 200, res.text
    body = res.json()
    assert [st["index"] for st in body["steps"]] == [3]
    assert body["cursor"] == 4
    assert body["steps"][0]["layer"] == s["plan"][3]["layer"]


def test_to_a_step_that_has_run_returns_the_recorded_one_without_running(client):
    s = _session(client)
    sid = s["id"]
    ran = client.post(f"/api/sessions/{sid}/steps", json={"count": 5}).json()
    version = ran["version"]
    res = client.post(f"/api/sessions/{sid}/steps", json={"to": 1}).json()
    assert [st["index"] for st in res["steps"]] == [1]
    assert res["cursor"] == 5 and res["version"] == version
    recorded = client.get(f"/api/sessions/{sid}/steps/1").json()
    assert res["steps"][0]["tensor_names"] == recorded["tensor_names"]
    assert _names(res["steps"][0]) == _names(recorded)


def test_to_at_the_end_of_a_pass_does_not_start_a_new_one(client):
    s = _session(client)
    sid, last = s["id"], len(s["plan"]) - 1
    passes = client.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).json()["passes"]
    res = client.post(f"/api/sessions/{sid}/steps", json={"to": 0}).json()
    assert res["passes"] == passes and res["cursor"] == last + 1
    assert res["steps"][0]["index"] == 0


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"to": 10_000}, "beyond this pass"),
        ({"to": -1}, "greater than or equal to 0"),
        ({"to": 2, "count": 1}, "not count and to"),
        ({"to": 2, "until": "loss"}, "not until and to"),
        ({"to": "x"}, "integer"),
    ],
)
def test_bad_to_is_a_422_saying_what_is_wrong(client, body, text):
    s = _session(client)
    res = client.post(f"/api/sessions/{s['id']}/steps", json=body)
    assert res.status_code == 422, res.text
    assert text in res.text
    assert client.get(f"/api/sessions/{s['id']}").json()["cursor"] == 0


def test_to_further_than_a_request_may_run_names_the_limit(client, settings):
    settings.limits.max_steps_per_request = 2
    s = _session(client)
    res = client.post(f"/api/sessions/{s['id']}/steps", json={"to": 4})
    assert res.status_code == 422
    assert res.json()["detail"][0]["limit"] == "max_steps_per_request"


def test_names_sends_only_the_tensors_asked_for_and_still_lists_all(client):
    s = _session(client)
    url = f"/api/sessions/{s['id']}/steps?names=conv1.out,pool*.out,loss.probs"
    steps = client.post(url, json={"until": "loss"}).json()["steps"]
    sent = [n for st in steps for n in _names(st)]
    assert sent == ["conv1.out", "pool1.out", "pool2.out", "loss.probs"]
    assert "conv1.w" in steps[0]["tensor_names"]
    full = client.get(f"/api/sessions/{s['id']}/tensors/conv1.out").json()
    first = next(t for t in steps[0]["tensors"] if t["name"] == "conv1.out")
    assert first["data"] == full["data"]


def test_names_keeps_a_same_as_reference_pointing_at_a_tensor_that_was_sent(client):
    s = _session(client)
    url = f"/api/sessions/{s['id']}/steps?names=relu1.in"
    steps = client.post(url, json={"until": "forward"}).json()["steps"]
    sent = [t for st in steps for t in st["tensors"]]
    assert [t["name"] for t in sent] == ["relu1.in"]
    assert "same_as" not in sent[0] and "data" in sent[0]


def test_names_on_a_recorded_step(client):
    s = _session(client)
    client.post(f"/api/sessions/{s['id']}/steps", json={"count": 1})
    step = client.get(f"/api/sessions/{s['id']}/steps/0?names=conv1.w,conv1.b").json()
    assert _names(step) == ["conv1.w", "conv1.b"]


@pytest.mark.parametrize(
    ("names", "text"),
    [
        ("", "names is empty"),
        (" , ", "names is empty"),
        ("conv1.out,a b", "'a b' is not a tensor name or glob"),
        ("conv1/out", "is not a tensor name or glob"),
        (",".join(["x"] * 65), "at most 64"),
    ],
)
def test_bad_names_are_a_422_before_anything_runs(client, names, text):
    s = _session(client)
    res = client.post(f"/api/sessions/{s['id']}/steps", params={"names": names}, json={})
    assert res.status_code == 422, res.text
    assert text in res.json()["detail"]
    assert client.get(f"/api/sessions/{s['id']}").json()["cursor"] == 0
    res = client.get(f"/api/sessions/{s['id']}/steps/0", params={"names": names})
    assert res.status_code == 422


def _to_backward_end(client, sid, plan):
    last = max(i for i, p in enumerate(plan) if p["phase"] == "backward")
    return client.post(f"/api/sessions/{sid}/steps", json={"to": last})


def test_series_is_each_time_steps_gradient_norm_as_recorded(client):
    s = _session(client, "memory-lstm")
    sid = s["id"]
    _to_backward_end(client, sid, s["plan"])
    for q in ("dh_norm", "dc_norm"):
        res = client.get(f"/api/sessions/{sid}/series/{q}")
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["quantity"] == q and list(body["layers"]) == ["lstm1"]
        values = body["layers"]["lstm1"]
        one = client.get(f"/api/sessions/{sid}/tensors/lstm1.t3.{q}").json()
        steps = [p for p in s["plan"] if p["phase"] == "forward" and p["layer"] == "lstm1"]
        assert len(values) == len(steps)  # one per time step
        assert np.float32(values[3]) == np.float32(one["data"])


def test_series_mid_backward_has_nulls_where_no_norm_is_recorded_yet(client):
    s = _session(client, "memory-rnn")
    sid = s["id"]
    first_back = min(i for i, p in enumerate(s["plan"]) if p["op"] == "rnn_step" and
                     p["phase"] == "backward")  # fmt: skip
    client.post(f"/api/sessions/{sid}/steps", json={"to": first_back})
    values = client.get(f"/api/sessions/{sid}/series/dh_norm").json()["layers"]["rnn1"]
    assert values[-1] is not None and values[0] is None


def test_series_field_on_steps_comes_with_the_filtered_step(client):
    s = _session(client, "vanishing-rnn", overrides={"clip": 1})
    plan = s["plan"]
    last = max(i for i, p in enumerate(plan) if p["phase"] == "backward")
    url = f"/api/sessions/{s['id']}/steps?names=clip.*&series=dh_norm,dc_norm"
    body = client.post(url, json={"to": last}).json()
    assert _names(body["steps"][0]) == ["clip.norm_before", "clip.norm_after", "clip.scale"]
    dh = body["series"]["dh_norm"]["layers"]["rnn1"]
    assert None not in dh and len(dh) > 1
    assert body["series"]["dc_norm"]["layers"] == {}  # an RNN has no cell state
    alone = client.get(f"/api/sessions/{s['id']}/series/dh_norm").json()
    assert alone["layers"]["rnn1"] == dh


def test_series_errors_are_4xx_saying_what_is_wrong(client):
    s = _session(client, "memory-rnn")
    sid = s["id"]
    res = client.get(f"/api/sessions/{sid}/series/dh_norm")
    assert res.status_code == 404 and "run it first" in res.json()["detail"]
    _to_backward_end(client, sid, s["plan"])
    res = client.get(f"/api/sessions/{sid}/series/h")
    assert res.status_code == 422 and "not a series a pass records" in res.json()["detail"]
    res = client.get(f"/api/sessions/{sid}/series/dh-norm")
    assert res.status_code == 422 and "not a series a pass records" in res.json()["detail"]
    res = client.post(f"/api/sessions/{sid}/steps?series=dh norm", json={})
    assert res.status_code == 422 and "not a series a pass records" in res.json()["detail"]
    assert client.get("/api/sessions/nope/series/dh_norm").status_code == 404
