"""GET /api/sessions/{id}/explain answers for every tensor a pass records (issue 12,
items 5 and 6): the terms add up to the value shown, an input says nothing computes
it, and a slope factor is named as the derivative it is."""

from __future__ import annotations

import pytest

from engine.presets import list_presets

CHECKED = [p.name for p in list_presets() if p.topic in ("convolution", "pooling", "cnn")]
CHECKED += ["memory-lstm", "sine-rnn"]


def _num(v):
    return float(v) if not isinstance(v, str) else float(v.replace("Infinity", "inf"))


def _full_pass(client, body):
    """Every tensor name of a whole pass, with its shape (partial maps included)."""
    sid = client.post("/api/sessions", json=body).json()["id"]
    steps = client.post(f"/api/sessions/{sid}/steps", json={"until": "update"}).json()["steps"]
    names = [n for s in steps for n in s["tensor_names"]]
    shapes = {}
    for n in names:
        shapes[n] = client.get(f"/api/sessions/{sid}/tensors/{n}?encoding=b64").json()["shape"]
    return sid, [(n, shapes[n]) for n in names]


@pytest.mark.parametrize("preset", CHECKED)
def test_every_recorded_tensor_answers_explain_with_terms_that_add_up(client, preset):
    sid, tensors = _full_pass(client, {"preset": preset})
    for name, shape in tensors:
        index = ",".join(str(s - 1) for s in shape)  # the last cell ("" for a scalar)
        r = client.get(f"/api/sessions/{sid}/explain", params={"tensor": name, "index": index})
        assert r.status_code == 200, f"{name}: {r.status_code} {r.text[:200]}"
        exp = r.json()
        total, value = _num(exp["total"]), _num(exp["value"])
        assert total == pytest.approx(value, rel=2e-4, abs=1e-6), f"{name}[{index}]: {exp}"


def test_a_logit_a_probability_and_a_weight_gradient_explain_themselves(client):
    """Clicks that did nothing before: a dense output, a softmax probability, dw, db,
    the loss, its delta and an updated weight."""
    sid, _ = _full_pass(client, {"preset": "digits-cnn"})
    kinds = {}
    for name, index in [("dense1.out", "0,3"), ("loss.probs", "0,3"), ("conv1.dw", "2,0,1,1"),
                        ("conv1.db", "2"), ("loss.value", ""), ("loss.dx", "0,3"),
                        ("dense1.w.after", "3,5"), ("relu1.out", "0,2,3,3")]:  # fmt: skip
        r = client.get(f"/api/sessions/{sid}/explain", params={"tensor": name, "index": index})
        assert r.status_code == 200, (name, r.text)
        kinds[name] = r.json()["kind"]
    assert kinds == {"dense1.out": "dense.out", "loss.probs": "softmax", "conv1.dw": "conv.dw",
                     "conv1.db": "bias.db", "loss.value": "loss.ce", "loss.dx": "loss.ce.dx",
                     "dense1.w.after": "update.sgd", "relu1.out": "relu"}  # fmt: skip
    probs = client.get(
        f"/api/sessions/{sid}/explain", params={"tensor": "loss.probs", "index": "0,3"}
    )
    act = probs.json()["activation"]
    assert act["fn"] == "softmax" and act["value"] == pytest.approx(_num(probs.json()["value"]))
    assert all(term["expr"].startswith("e^(") for term in probs.json()["terms"])


def test_the_input_says_nothing_computes_it(client):
    sid, _ = _full_pass(client, {"preset": "digits-cnn"})
    r = client.get(
        f"/api/sessions/{sid}/explain", params={"tensor": "conv1.in", "index": "0,0,4,4"}
    )
    assert r.status_code == 200 and r.json()["given"] == "input"
    r = client.get(f"/api/sessions/{sid}/explain", params={"tensor": "conv1.w", "index": "0,0,0,0"})
    assert r.json()["given"] == "param"


def test_an_activation_delta_names_its_slope_factor_f_prime_of_z(client):
    """Item 5: the factor's value is f'(z), so it is not named after the input z."""
    body = {"dataset": "xor", "hidden": [4], "activation": "tanh", "lr": 0.1}
    r = client.post("/api/bp/sessions", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    client.post(f"/api/sessions/{sid}/steps", json={"until": "backward"})
    exp = client.get(f"/api/sessions/{sid}/explain", params={"tensor": "tanh1.dx", "index": "0,1"})
    assert exp.status_code == 200, exp.text
    scale = exp.json()["scale"]
    assert scale["tensor"] == "tanh'(tanh1.in)"
    z = client.get(f"/api/sessions/{sid}/tensors/tanh1.in").json()["data"][0][1]
    out = client.get(f"/api/sessions/{sid}/tensors/tanh1.out").json()["data"][0][1]
    assert scale["value"] == pytest.approx(1 - out * out, rel=1e-5)
    assert scale["value"] != pytest.approx(z)


def test_momentum_update_explains_the_velocity_it_used(client):
    body = {"preset": "digits-cnn", "overrides": {"optimizer": {"type": "momentum", "lr": 0.05}}}
    sid, tensors = _full_pass(client, body)
    names = {n for n, _ in tensors}
    assert {"dense1.w.v", "dense1.w.v.before"} <= names
    r = client.get(
        f"/api/sessions/{sid}/explain", params={"tensor": "dense1.w.after", "index": "1,2"}
    )
    factors = [f["tensor"] for term in r.json()["terms"] for f in term["factors"]]
    assert "dense1.w.v" in factors and "dense1.w.before" in factors


def test_a_pooling_mask_cell_names_its_factors_as_what_they_are(client):
    """A mask cell is the count of windows that took the pixel as their maximum: its
    factors are those 0/1 choices, not the pooled values (they were named pool1.out,
    whose numbers they are not)."""
    sid, _ = _full_pass(client, {"preset": "digits-cnn"})
    exp = client.get(
        f"/api/sessions/{sid}/explain", params={"tensor": "pool1.mask", "index": "0,0,0,0"}
    ).json()
    factors = [f for term in exp["terms"] for f in term["factors"]]
    assert factors and all(f["tensor"] == "pool1 window chose it" for f in factors)
    assert all(f["value"] in (0.0, 1.0) for f in factors)
