"""Recurrent presets at another sequence length (overrides.seq_len, bounded by the
max_seq_len limit) and typed number sequences for the sine models (input.sequence)."""

import json

import numpy as np
import pytest


def _create(client, body):
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _detail(r):
    detail = r.json()["detail"]
    return detail if isinstance(detail, str) else " ".join(d["msg"] for d in detail)


@pytest.mark.parametrize(
    ("preset", "features"),
    [("memory-rnn", 4), ("memory-lstm", 4), ("sine-lstm", 1), ("vanishing-rnn", 4)],
)
@pytest.mark.parametrize("seq_len", [5, 40])
def test_a_recurrent_preset_runs_at_another_sequence_length(client, preset, features, seq_len):
    s = _create(client, {"preset": preset, "overrides": {"seq_len": seq_len}})
    assert s["network"]["input_shape"] == [seq_len, features]
    forward = [p for p in s["plan"] if p["phase"] == "forward" and p["op"].endswith("_step")]
    assert len(forward) == seq_len
    r = client.post(f"/api/sessions/{s['id']}/steps", json={"until": "update"})
    assert r.status_code == 200, r.text
    assert r.json()["cursor"] == len(s["plan"])


def test_seq_len_with_reinit_trains_on_data_of_that_length_to_a_test_accuracy(client):
    s = _create(client, {"preset": "memory-lstm",
                         "overrides": {"seq_len": 7, "reinit": True, "clip": 1}})  # fmt: skip
    assert s["trained"] is False
    body = {"epochs": 1, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.003}}
    with client.stream("POST", f"/api/sessions/{s['id']}/train", json=body) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    events = {}
    for block in text.strip().split("\n\n"):
        name, data = block.split("\n")
        events[name[7:]] = json.loads(data[6:])
    assert events["start"]["dataset"] == "memory7"
    assert events["start"]["iterations"] == 2000 // 32 + 1
    assert 0 <= events["done"]["test_accuracy"] <= 1
    assert events["done"]["chance"] == 0.25  # 4 symbols


def test_seq_len_above_the_limit_is_422_naming_the_limit(client):
    r = client.post("/api/sessions", json={"preset": "memory-rnn", "overrides": {"seq_len": 101}})
    assert r.status_code == 422
    [item] = r.json()["detail"]
    assert item["limit"] == "max_seq_len" and item["allowed"] == 100 and item["given"] == 101
    assert "GLASSBOX_LIMIT_MAX_SEQ_LEN" in item["msg"]


@pytest.mark.parametrize(
    ("preset", "seq_len", "says"),
    [
        ("chars-en", 8, "not an option of chars-en"),
        ("digits-cnn", 8, "not an option of digits-cnn"),
        ("memory-lstm", 0, "greater than or equal to 1"),
        ("memory-lstm", 2.5, "integer"),
        ("memory-lstm", "20", "integer"),
    ],
)
def test_bad_seq_len_is_422_saying_why(client, preset, seq_len, says):
    r = client.post("/api/sessions", json={"preset": preset, "overrides": {"seq_len": seq_len}})
    assert r.status_code == 422, r.text
    assert says in _detail(r)


def test_the_limit_is_documented_in_the_openapi_schema(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Overrides"]
    node = schema["properties"]["seq_len"]
    assert "max_seq_len" in node["description"]
    assert any(b.get("maximum") == 100 for b in node.get("anyOf", [node]))


def _tensor(client, sid, name):
    r = client.get(f"/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    return np.asarray(r.json()["data"])


@pytest.mark.parametrize("preset", ["sine-rnn", "sine-lstm"])
def test_a_typed_sequence_is_read_and_each_step_predicts_the_next_number(client, preset):
    text = "0, 0.3 0.6,0.8  0.95\n1"
    s = _create(client, {"preset": preset, "input": {"sequence": text}})
    assert s["network"]["input_shape"] == [5, 1]
    assert s["input"] == {"source": "sequence", "numbers": 6, "target_from": "sequence"}
    r = client.post(f"/api/sessions/{s['id']}/steps", json={"until": "loss"})
    assert r.status_code == 200, r.text
    rec = s["network"]["layers"][0]["name"]
    xs = [float(_tensor(client, s["id"], f"{rec}.t{t}.x").ravel()[0]) for t in range(5)]
    assert xs == pytest.approx([0, 0.3, 0.6, 0.8, 0.95])
    pred = _tensor(client, s["id"], "head.out").ravel()
    assert pred.shape == (5,) and np.all(np.isfinite(pred))
    loss = r.json()["loss"]
    assert loss == pytest.approx(np.mean((pred - [0.3, 0.6, 0.8, 0.95, 1.0]) ** 2), rel=1e-4)


def test_a_typed_sequence_of_the_same_length_replaces_the_input(client):
    s = _create(client, {"preset": "sine-lstm", "input": {"sequence": "0 0.5 1"}})
    r = client.put(f"/api/sessions/{s['id']}/input", json={"sequence": "1; -1; 0.5"})
    assert r.status_code == 200, r.text
    client.post(f"/api/sessions/{s['id']}/steps", json={"until": "forward"})
    assert float(_tensor(client, s["id"], "lstm1.t1.x").ravel()[0]) == -1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0", "at least 2 numbers"),
        ("", "at least 2 numbers"),
        ("0 abc 1", "input.sequence[1] = 'abc' is not a number"),
        ("0 nan 1", "input.sequence[1] = 'nan' is not a finite number"),
        ("0 1 -inf", "input.sequence[2] = '-inf' is not a finite number"),
        ("0 1e39 1", "not a finite number (within float32)"),
    ],
)
def test_a_bad_typed_sequence_is_422_saying_which_number(client, text, says):
    r = client.post("/api/sessions", json={"preset": "sine-lstm", "input": {"sequence": text}})
    assert r.status_code == 422, r.text
    assert says in _detail(r)


def test_a_typed_sequence_longer_than_the_limit_is_422_naming_it(client):
    """The limit counts time steps: 101 numbers are 100 steps read (allowed), 102 are not."""
    text = " ".join(["0.5"] * 102)
    r = client.post("/api/sessions", json={"preset": "sine-rnn", "input": {"sequence": text}})
    assert r.status_code == 422
    [item] = r.json()["detail"]
    assert item["limit"] == "max_seq_len" and item["allowed"] == 100
    assert item["given"] == "102 numbers, 101 time steps"
    assert item["loc"] == ["body", "input", "sequence"]
    longest = " ".join(["0.5"] * 101)
    r = client.post("/api/sessions", json={"preset": "sine-rnn", "input": {"sequence": longest}})
    assert r.status_code == 201, r.text
    assert r.json()["network"]["input_shape"] == [100, 1]


def test_a_typed_sequence_takes_chinese_separators(client):
    s = _create(client, {"preset": "sine-lstm", "input": {"sequence": "0，0.5；1、0.5"}})
    assert s["input"] == {"source": "sequence", "numbers": 4, "target_from": "sequence"}


def test_a_typed_sequence_is_refused_where_it_does_not_fit(client):
    r = client.post("/api/sessions", json={"preset": "memory-lstm", "input": {"sequence": "0 1"}})
    # the preset's own network (20 steps of 4 symbols), not one rebuilt for the text
    assert r.status_code == 422 and "sine presets" in _detail(r) and "(20, 4)" in _detail(r)
    r = client.post("/api/sessions", json={"preset": "digits-cnn", "input": {"sequence": "0 1"}})
    assert r.status_code == 422 and "sine presets" in _detail(r)
    s = _create(client, {"preset": "sine-lstm", "input": {"sequence": "0 0.5 1"}})
    r = client.put(f"/api/sessions/{s['id']}/input", json={"sequence": "0 0.5 1 0.5"})
    assert r.status_code == 422 and "reads 2" in _detail(r) and "give 3 numbers" in _detail(r)
    both = {"sequence": "0 1", "array": [[0.0]]}
    r = client.put(f"/api/sessions/{s['id']}/input", json=both)
    assert r.status_code == 422 and "exactly one of" in _detail(r)
