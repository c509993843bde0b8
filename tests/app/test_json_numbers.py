"""NaN, +Inf and -Inf go out of every payload the same way: the strings "NaN",
"Infinity", "-Infinity" from app.encoding.json_number (issue 13: the conversion was
written four times, in encoding, views, training and bp)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from app import views
from app.encoding import explanation_payload, json_number, tensor_payload
from app.sessions import bp
from app.training.runner import public
from engine.functional.explain_terms import given
from engine.layers import Dense
from engine.network import Sequential
from engine.trace import TensorRecord
from engine.training import progress_event

CASES = [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")]


@pytest.mark.parametrize(("v", "text"), CASES, ids=["nan", "posinf", "neginf"])
def test_a_non_finite_number_goes_out_as_the_same_string_from_every_payload(v, text, monkeypatch):
    assert json_number(v) == json_number(np.float32(v)) == text
    # a tensor's data, as a list and as a 0-d value (GET .../tensors, step responses)
    row = tensor_payload(TensorRecord("a", "activation", np.array([1.5, v], np.float32), ("k",)))
    scalar = tensor_payload(TensorRecord("s", "loss", np.array(v), ()))
    assert row["data"] == [1.5, text] and scalar["data"] == text
    # an explanation's factors, products, total and value (GET/POST .../explain)
    exp = explanation_payload(given("state", "x", (0,), v, "a state"), {}, v)
    assert exp["total"] == exp["value"] == exp["terms"][0]["product"] == text
    assert exp["terms"][0]["factors"][0]["value"] == text
    # the pass's loss (GET /api/sessions/{id}, POST .../steps)
    assert views.loss_value(v) == text
    # training progress (POST .../train, SSE)
    net = Sequential([Dense(2, 1)], (2,), loss="mse", seed=0)
    event = progress_event(1, 0, v, net, np.zeros((1, 2)), np.zeros((1, 1)), 0.0)
    assert public(event)["loss"] == text
    # a BP session's metrics (GET /api/bp/sessions/{id}/metrics and the boundary)
    monkeypatch.setattr(bp, "evaluate", lambda net, x, y: (v, 0.5))
    split = SimpleNamespace(x_train=None, y_train=None, x_test=None, y_test=None)
    metrics = bp._metrics(net, split)
    assert metrics["train_loss"] == metrics["test_loss"] == text


def test_a_finite_number_goes_out_as_itself():
    assert json_number(0.1) == 0.1 and json_number(np.float64(-2.5)) == -2.5
    assert views.loss_value(None) is None
