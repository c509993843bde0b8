"""Training a CNN preset over SSE, as the BP page's (issue 19 item 3): from its trained
or from seeded random weights (overrides.reinit), progress events carrying the watched
kernels, and labelled samples (a drawing) added to its training data, kept in the
session store (SQLite and Redis) and trained on."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Limits, Settings

QUICK = {"iterations": 12, "batch_size": 8}  # a few batches: this is about the stream


def events_of(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def weights(client: TestClient, sid: str) -> dict[str, np.ndarray]:
    r = client.get(f"/api/sessions/{sid}/weights.npz")
    assert r.status_code == 200
    with np.load(io.BytesIO(r.content), allow_pickle=False) as z:
        return {k: z[k] for k in z.files if not k.startswith("__")}


def blank(client: TestClient, sid: str) -> list[Any]:
    """One input of the session's shape (all zeros), from what the API says of it."""
    shape = client.get(f"/api/sessions/{sid}").json()["network"]["input_shape"]
    return np.zeros(shape).tolist()


@pytest.mark.parametrize("reinit", [False, True], ids=["trained", "random"])
def test_a_cnn_trains_over_sse_and_progress_carries_the_watched_kernels(client, reinit):
    body: dict[str, Any] = {"preset": "digits-cnn"}
    if reinit:
        body["overrides"] = {"reinit": True}
    made = client.post("/api/sessions", json=body).json()
    sid = made["id"]
    assert made["trained"] is not reinit
    shape = list(weights(client, sid)["conv1.w"].shape)
    train = {**QUICK, "watch": ["conv1.w"], "watch_every": 3}
    r = client.post(f"/api/sessions/{sid}/train", json=train)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = events_of(r.text)
    names = [n for n, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert set(names[1:-1]) == {"progress"}, names
    progress = [e for n, e in events if n == "progress"]
    its = [e["iteration"] for e in progress]
    assert its == sorted(its) and its[-1] == events[0][1]["iterations"]
    # a watched run reports on a batch clock: every `watch_every` batches (the start
    # event says how many apart) and the last, each with the kernels
    every, total = events[0][1]["every"], events[0][1]["iterations"]
    assert every == train["watch_every"]
    assert its == sorted({*range(every, total + 1, every), total})
    carried = [e for e in progress if "watch" in e]
    assert carried == progress
    for e in carried:
        kernels = e["watch"]["conv1.w"]
        assert list(e["watch"]) == ["conv1.w"] and kernels["shape"] == shape
        assert len(kernels["data"]) == np.prod(shape)
    # the last event's kernels are the weights the training saved
    saved = weights(client, sid)["conv1.w"]
    last = np.array(carried[-1]["watch"]["conv1.w"]["data"], dtype=saved.dtype)
    assert np.array_equal(last, saved.ravel())
    assert client.get(f"/api/sessions/{sid}").json()["trained"] is True


def test_reinit_gives_a_cnn_preset_random_weights_of_the_same_layers(client):
    trained = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()
    fresh = client.post("/api/sessions", json={"preset": "digits-cnn",
                                               "overrides": {"reinit": True}}).json()  # fmt: skip
    again = client.post("/api/sessions", json={"preset": "digits-cnn",
                                               "overrides": {"reinit": True}}).json()  # fmt: skip
    assert fresh["network"] == trained["network"]
    assert trained["trained"] is True and fresh["trained"] is False
    a, b, c = (weights(client, s["id"]) for s in (trained, fresh, again))
    assert a.keys() == b.keys() and all(a[k].shape == b[k].shape for k in a)
    assert not np.allclose(a["conv1.w"], b["conv1.w"])
    assert all(np.array_equal(b[k], c[k]) for k in b)  # seeded: the same seed, the same
    other = client.post("/api/sessions", json={"preset": "digits-cnn", "seed": 7,
                                               "overrides": {"reinit": True}}).json()  # fmt: skip
    assert not np.allclose(weights(client, other["id"])["conv1.w"], b["conv1.w"])
    # still refused: a recurrent override on a CNN preset
    r = client.post("/api/sessions", json={"preset": "digits-cnn",
                                           "overrides": {"reinit": True, "clip": 1}})  # fmt: skip
    assert r.status_code == 422 and "clip" in r.json()["detail"]


def test_watch_names_a_parameter_of_the_network(client):
    sid = client.post("/api/sessions", json={"preset": "shapes-cnn"}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/train", json={**QUICK, "watch": ["conv9.w"]})
    assert r.status_code == 422 and "conv9.w" in r.json()["detail"]
    assert "conv1.w" in r.json()["detail"]  # it says which there are
    r = client.post(f"/api/sessions/{sid}/train", json={**QUICK, "watch": ["a"] * 5})
    assert r.status_code == 422  # at most 4 names
    r = client.post(f"/api/sessions/{sid}/train", json={**QUICK, "watch_every": 0})
    assert r.status_code == 422


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, warm_up=False, limits=Limits(max_extra_samples=2))


def test_added_samples_are_counted_limited_and_trained_on(small):
    with TestClient(create_app(small)) as client:
        made = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()
        sid, classes = made["id"], len(made["dataset"]["classes"])
        train_size = made["dataset"]["train"]
        x = blank(client, sid)
        assert client.get(f"/api/sessions/{sid}/samples").json()["added"] == 0
        r = client.post(f"/api/sessions/{sid}/samples", json={"array": x, "label": 3})
        assert r.status_code == 201 and r.json() == {"added": 1, "limit": 2, "labels": [3]}
        # a label that is not a class, an input of another shape: 422, nothing added
        r = client.post(f"/api/sessions/{sid}/samples", json={"array": x, "label": classes})
        assert r.status_code == 422 and str(classes - 1) in r.json()["detail"]
        r = client.post(f"/api/sessions/{sid}/samples", json={"array": [[1.0]], "label": 1})
        assert r.status_code == 422
        r = client.post(f"/api/sessions/{sid}/samples", json={"label": 1})
        assert r.status_code == 422
        r = client.post(f"/api/sessions/{sid}/samples", json={"array": x, "label": 5})
        assert r.json()["labels"] == [3, 5]
        r = client.post(f"/api/sessions/{sid}/samples", json={"array": x, "label": 5})
        assert r.status_code == 422 and "max_extra_samples" in r.text
        # the session says how many it holds; its pass is untouched (the test sample)
        session = client.get(f"/api/sessions/{sid}").json()
        assert session["added_samples"] == 2 and session["input"]["source"] == "sample"
        # training takes them with the dataset's train split
        start = events_of(client.post(f"/api/sessions/{sid}/train", json=QUICK).text)[0][1]
        assert start["added_samples"] == 2 and start["samples"] == train_size + 2
        # a copy (a shared link) keeps them; clearing removes them
        copy = client.post("/api/sessions", json={"copy_of": sid}).json()["id"]
        assert client.get(f"/api/sessions/{copy}/samples").json()["labels"] == [3, 5]
        assert client.post(f"/api/sessions/{sid}/samples/clear", json={}).json()["added"] == 0
        start = events_of(client.post(f"/api/sessions/{sid}/train", json=QUICK).text)[0][1]
        assert start["added_samples"] == 0 and start["samples"] == train_size
        assert client.post("/api/sessions/nope/samples",
                           json={"array": x, "label": 1}).status_code == 404  # fmt: skip


@pytest.mark.parametrize("preset", ["conv-basics", "chars-en"])
def test_a_session_without_labelled_images_takes_no_samples(client, preset):
    """No dataset, or a sequence dataset (a label every time step: one class would make
    every later training fail), takes no sample."""
    sid = client.post("/api/sessions", json={"preset": preset}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/samples", json={"array": [[[0.0]]], "label": 0})
    assert r.status_code == 422 and "dataset" in r.json()["detail"]
    assert client.get(f"/api/sessions/{sid}/samples").json()["added"] == 0


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_added_samples_survive_the_session_store(tmp_path, request, backend):
    """Another app on the same store (another worker, or a restart) reads them back."""
    store = ""
    if backend == "redis":
        store = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/9"
    settings = Settings(data_dir=tmp_path, warm_up=False, store=store)
    with TestClient(create_app(settings)) as one:
        sid = one.post("/api/sessions", json={"preset": "shapes-cnn"}).json()["id"]
        x = (np.arange(np.prod(np.shape(blank(one, sid)))) % 7 / 7).reshape(
            np.shape(blank(one, sid))
        )
        assert one.post(f"/api/sessions/{sid}/samples",
                        json={"array": x.tolist(), "label": 2}).status_code == 201  # fmt: skip
    with TestClient(create_app(settings)) as two:
        assert two.get(f"/api/sessions/{sid}/samples").json()["labels"] == [2]
        start = events_of(two.post(f"/api/sessions/{sid}/train", json=QUICK).text)[0][1]
        assert start["added_samples"] == 1


def test_watched_parameters_go_out_every_few_batches_with_the_first_and_last():
    """engine.training.watching on the real loop, every batch reported (no clock)."""
    from engine.optim import make_optimizer
    from engine.presets import build_preset
    from engine.training import TrainPlan, train, watching

    lesson = build_preset("digits-cnn", 0)
    net, data = lesson.net, lesson.data
    plan = TrainPlan.of(len(data.x_train), 4, None, 12, 0)
    got: list[dict[str, Any]] = []
    emit = watching(got.append, net, ["conv1.w", "conv1.b"], 5, plan.iterations)
    opt = make_optimizer(lesson.optimizer)
    train(net, opt, data.x_train, data.y_train, plan, emit, lambda: False, emit_every_s=0)
    assert [e["iteration"] for e in got] == list(range(1, 13))
    assert [e["iteration"] for e in got if "watch" in e] == [1, 6, 11, 12]
    assert got[-1]["watch"]["conv1.b"]["data"] == net.params()["conv1.b"].tolist()


def test_a_long_watched_run_reports_at_most_250_times(client):
    """watch_every 1 over 501 batches would be 501 events with the kernels: the batch
    clock widens (every 3) so the stream stays small, and says so in its start event."""
    sid = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
    body = {"iterations": 501, "batch_size": 1, "watch": ["conv1.w"], "watch_every": 1}
    events = events_of(client.post(f"/api/sessions/{sid}/train", json=body).text)
    start = events[0][1]
    assert start["every"] == 3
    progress = [e for n, e in events if n == "progress"]
    assert [e["iteration"] for e in progress] == [*range(3, 502, 3)]
    assert len(progress) <= 250 and all("watch" in e for e in progress)
