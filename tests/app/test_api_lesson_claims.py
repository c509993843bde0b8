"""The BP and RNN pages' guided tasks (issue 19): the gradient chart's "reach" task is
answered by the chart's own two models, and what the tasks' words say about the numbers
(the forget gate is about 0.2, the sample's true class, the sign of a gradient, whose
gradient reaches t = 1) is true of the engine's numbers, read from the API. The generic
right-and-wrong checks of every task are tests/app/test_api_lessons.py's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.i18n import SUPPORTED
from app.lessons import TASKS
from app.lessons.reach import REACH_SHARE
from app.main import create_app
from app.settings import Settings

REACH = [x for x in TASKS.values() if x.reach]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("claims")
    with TestClient(create_app(Settings(data_dir=data, warm_up=False))) as c:
        yield c


def _check(api: TestClient, task_id: str, answer: dict[str, Any], sid: str | None = None) -> Any:
    r = api.post(f"/api/lessons/{task_id}/check", json={"session": sid, "answer": answer})
    assert r.status_code == 200, r.text
    return r.json()


def _first_to_last(api: TestClient, body: dict[str, Any]) -> float:
    """||dL/dh_1|| / ||dL/dh_T|| of a session the way the page's chart makes it
    (static/js/rnn-gradients.js norms: one pass run to its last backward step)."""
    r = api.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    last = max(k for k, p in enumerate(made["plan"]) if p["phase"] == "backward")
    assert api.post(f"/api/sessions/{made['id']}/steps", json={"to": last}).status_code == 200
    layers = api.get(f"/api/sessions/{made['id']}/series/dh_norm").json()["layers"]
    dh = [float(v) for v in next(iter(layers.values()))]
    return dh[0] / dh[-1]


@pytest.mark.parametrize("task_id", [x.id for x in REACH])
def test_a_reach_task_is_answered_by_the_charts_own_models(api: TestClient, task_id: str) -> None:
    task = TASKS[task_id]
    res = _check(api, task_id, {"choice": task.choices[0]})  # no session: it needs none
    expected = res["expected"]
    assert expected["choice"] in task.choices
    assert set(expected["text"]) == set(SUPPORTED) and all(expected["text"].values())
    chart = api.get("/api/rules").json()["rnn"]["gradient_chart"]
    lstm = _first_to_last(api, {"preset": chart["lstm"]})
    over = {"scale": task.query["scale"], "nonlinearity": task.query["nl"],
            "seq_len": expected["steps"]}  # fmt: skip
    rnn = _first_to_last(api, {"preset": chart["rnn"], "overrides": over})
    assert expected["ratio"] == {"rnn": pytest.approx(rnn), "lstm": pytest.approx(lstm)}
    reached = {m for m, r in (("rnn", rnn), ("lstm", lstm)) if r >= REACH_SHARE}
    want = {frozenset(): "reach-none", frozenset({"rnn"}): "reach-rnn",
            frozenset({"lstm"}): "reach-lstm"}.get(frozenset(reached), "reach-both")  # fmt: skip
    assert expected["choice"] == want
    assert _check(api, task_id, {"choice": want})["correct"] is True
    other = next(c for c in task.choices if c != want)
    assert _check(api, task_id, {"choice": other})["correct"] is False
    with pytest.raises(AssertionError):  # a choice not offered is a 422
        _check(api, task_id, {"choice": "converged"})


def test_the_reach_tasks_note_is_true_only_the_lstms_gradient_arrives(api: TestClient) -> None:
    # its note: below scale 1 the RNN's gradient vanishes before t = 1, the LSTM's arrives
    expected = _check(api, "rnn-reach", {"choice": "reach-rnn"})["expected"]
    assert TASKS["rnn-reach"].query["scale"] < 1
    assert expected["choice"] == "reach-lstm", expected["ratio"]


def _tensor(api: TestClient, sid: str, name: str) -> Any:
    r = api.get(f"/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _bp_session(api: TestClient, task_id: str) -> dict[str, Any]:
    """The BP page's network for the task's URL state, its pass run through."""
    q = TASKS[task_id].query
    body = {k: q[k] for k in ("dataset", "noise", "activation", "loss", "optimizer", "lr", "seed")}
    body["hidden"] = [int(n) for n in str(q["hidden"]).split("-")]
    r = api.post("/api/bp/sessions", json=body)
    assert r.status_code == 201, r.text
    s = r.json()
    assert api.post(f"/api/sessions/{s['id']}/steps", json={"until": "update"}).status_code == 200
    return dict(s)


def test_the_bp_tasks_words_are_true_of_their_network(api: TestClient) -> None:
    s = _bp_session(api, "bp-output-error")
    sid, hidden = s["id"], int(TASKS["bp-input-size"].query["hidden"])
    # sizes: 2 features (x, y), the hidden layer's neurons, 3 classes
    assert s["dataset"]["features"] == 2 and len(s["dataset"]["classes"]) == 3
    assert _check(api, "bp-input-size", {"size": [0, 0]}, sid)["expected"]["size"] == [hidden, 2]
    # the output error's class is the sample's true class; its error is negative (p < 1),
    # the other classes' are their p (positive)
    label = TASKS["bp-output-error"].index[-1]
    assert s["input"]["label"] == label
    dx = _tensor(api, sid, "loss.dx")[0]
    assert dx[label] < 0 and all(d > 0 for k, d in enumerate(dx) if k != label)
    # the update's note: dw is negative there, so w grows
    i, j = TASKS["bp-update"].index
    dw, before = _tensor(api, sid, "dense1.dw")[i][j], _tensor(api, sid, "dense1.w.before")[i][j]
    after = _check(api, "bp-update", {"number": 0}, sid)["expected"]["value"]
    assert dw < 0 and after > before


def test_the_lstm_gate_walks_words_are_true_of_its_step(api: TestClient) -> None:
    task = TASKS["rnn-forget-keep"]
    r = api.post("/api/sessions", json={"preset": task.query["preset"]})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert api.post(f"/api/sessions/{sid}/steps", json={"until": "forward"}).status_code == 200
    _, unit = task.index
    f = _check(api, "rnn-forget-gate", {"number": 0}, sid)["expected"]["value"]
    assert f == pytest.approx(0.2, abs=0.02)  # "the forget gate f is about 0.2"
    prefix = task.tensor.rsplit(".", 1)[0]
    gate = {k: _tensor(api, sid, f"{prefix}.{k}")[0][unit] for k in ("i", "g")}
    assert gate["g"] > 0.85 and gate["i"] < 0.1  # "the candidate is large ... almost closed"
