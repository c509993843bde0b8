"""The tensor-convolution and CNN pages' guided tasks (issue 19): what their words say
(the preset's geometry, the sample's true class, a delta's sign and size, the sum a
kernel's output channel is, the one product a dense weight's gradient is) is true of the
engine's numbers, read from the API. The generic right-and-wrong checks of every task
are tests/app/test_api_lessons.py's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.lessons import TASKS
from app.main import create_app
from app.settings import Settings


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("claims-cnn")
    with TestClient(create_app(Settings(data_dir=data, warm_up=False))) as c:
        yield c


def _session(api: TestClient, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The session the task's page makes (its preset and sample) and every tensor of its
    pass, run to the end."""
    q = TASKS[task_id].query
    body: dict[str, Any] = {"preset": q.get("preset", "tensor-conv")}
    if int(q.get("sample", -1)) >= 0:
        body["input"] = {"sample": {"split": "test", "index": q["sample"]}}
    r = api.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    s = r.json()
    r = api.post(f"/api/sessions/{s['id']}/steps", json={"until": "update"},
                 params={"partials": "true"})  # fmt: skip
    assert r.status_code == 200, r.text
    tensors: dict[str, Any] = {}
    for step in r.json()["steps"]:
        for x in step["tensors"]:
            tensors[x["name"]] = x["data"] if "data" in x else tensors[x["same_as"]]
    return s, tensors


def _expected(api: TestClient, task_id: str, sid: str) -> dict[str, Any]:
    kind = TASKS[task_id].kind
    given = {"number": 0} if kind == "number" else {"size": [0, 0]}
    if kind == "cells":
        given = {"cells": [[0, 0, 0, 0]]}
    r = api.post(f"/api/lessons/{task_id}/check", json={"session": sid, "answer": given})
    assert r.status_code == 200, r.text
    return dict(r.json()["expected"])


def _layer(s: dict[str, Any], name: str) -> dict[str, Any]:
    return next(x for x in s["network"]["layers"] if x["name"] == name)


def test_the_tensor_tasks_words_are_true_of_the_preset(api: TestClient) -> None:
    s, x = _session(api, "tensor-sum")
    conv = _layer(s, "conv1")
    # 3 input channels of 5 x 5, 2 kernels of 3 x 3 x 3, stride 2, padding 1: the windows
    # the asks describe (top-left: the zero ring and rows/columns 0-1; next: columns 1-3)
    assert s["network"]["input_shape"] == [3, 5, 5]
    assert conv["params"]["w"] == [2, 3, 3, 3]
    assert conv["settings"]["stride"] == [2, 2] and conv["settings"]["padding"] == [1, 1]
    # 2 kernels x 3 channels = 6 partial maps; each output channel is its kernel's sum of
    # partials plus its bias (tensor-sum, tensor-kernel)
    partial, out, b = x["conv1.partial"][0], x["conv1.out"][0], x["conv1.b"]
    assert (len(partial), len(partial[0])) == (2, 3)
    for task_id in ("tensor-sum", "tensor-kernel"):
        _, f, r, c = TASKS[task_id].index
        value = _expected(api, task_id, s["id"])["value"]
        assert value == pytest.approx(sum(partial[f][ch][r][c] for ch in range(3)) + b[f])
        assert value == pytest.approx(out[f][r][c])
    assert TASKS["tensor-kernel"].index[1] == 1  # "kernel 1"
    for task_id in ("tensor-partial", "tensor-stride"):
        assert TASKS[task_id].index[:3] == (0, 0, 0)  # "kernel 0, channel 0", row 0
    assert TASKS["tensor-stride"].index[-1] == 1  # "row 0, column 1"


def test_the_cnn_tasks_words_are_true_of_their_networks(api: TestClient) -> None:
    s, x = _session(api, "cnn-loss-true")
    conv1, pool1 = _layer(s, "conv1"), _layer(s, "pool1")
    # an 8 x 8 digit, 12 kernels of 3 x 3, padding 1, stride 1; 2 x 2 pools; 24 maps of
    # 2 x 2 = 96 numbers into the dense layer
    assert s["network"]["input_shape"] == [1, 8, 8]
    assert conv1["params"]["w"] == [12, 1, 3, 3] and conv1["settings"]["padding"] == [1, 1]
    assert conv1["settings"]["stride"] == [1, 1] and pool1["settings"]["size"] == [2, 2]
    assert _layer(s, "conv2")["settings"]["padding"] == [1, 1]
    assert _layer(s, "pool2")["output_shape"] == [24, 2, 2]
    assert _layer(s, "dense1")["settings"]["in_features"] == 96
    # "this test image is a {digit}"; "class {digit}, which this image is not"
    label = TASKS["cnn-loss-true"].values["digit"]
    other = TASKS["cnn-loss-other"].values["digit"]
    assert s["input"]["label"] == label == TASKS["cnn-loss-true"].index[-1]
    assert other != label and TASKS["cnn-loss-other"].index[-1] == other
    # the deltas: p - 1 < 0 for the true class, p > 0 for another, far enough from 0
    # that 0 is not right either; all of them add up to 0
    true = _expected(api, "cnn-loss-true", s["id"])
    wrong = _expected(api, "cnn-loss-other", s["id"])
    assert true["value"] < -true["tolerance"] and wrong["value"] > wrong["tolerance"]
    assert sum(x["loss.dx"][0]) == pytest.approx(0, abs=1e-6)
    # dw[9, 0] is the one product (delta of class 9) x (dense1's input feature 0)
    k, j = TASKS["cnn-dense-dw"].index
    assert k == label and j == 0
    dw = _expected(api, "cnn-dense-dw", s["id"])
    assert len(dw["explanation"]["terms"]) == 1
    assert dw["value"] == pytest.approx(x["loss.dx"][0][k] * x["dense1.in"][0][j], rel=1e-5)
    # pool2's delta goes to one cell of its own channel (channel 0: the first grid)
    where = _expected(api, "cnn-pool-back-where", s["id"])
    assert [c["index"][1] for c in where["cells"]] == [0]

    shapes, _ = _session(api, "cnn-shapes-conv1-size")
    conv1 = _layer(shapes, "conv1")
    # a 16 x 16 picture, 5 x 5 kernels, no padding, stride 1
    assert shapes["network"]["input_shape"] == [1, 16, 16]
    assert conv1["settings"]["kernel"] == [5, 5] and conv1["settings"]["padding"] == [0, 0]
    assert conv1["settings"]["stride"] == [1, 1]
