"""app.encoding: tensors as they go out on the wire."""

import base64

import numpy as np

from app.encoding import tensor_payload
from engine.trace import TensorRecord


def test_a_float64_number_beyond_float32s_range_goes_out_as_itself_not_infinity():
    """An exploding float64 gradient (vanishing-rnn is float64) of 1e39 would become
    Infinity in float32 while the tensor says it is finite: it goes out as float64."""
    a = np.array([[1e39, -2.0, 3e-300]])
    rec = TensorRecord("rnn1.t0.dh", "delta", a, ("sample", "unit"))
    listed = tensor_payload(rec, "list")
    assert listed["finite"] is True and listed["dtype"] == "float64"
    assert np.array_equal(np.asarray(listed["data"]), a)
    packed = tensor_payload(rec, "b64")
    got = np.frombuffer(base64.b64decode(packed["data"]), dtype="<f8").reshape(a.shape)
    assert packed["dtype"] == "float64" and np.array_equal(got, a)


def test_a_float64_tensor_within_float32s_range_still_goes_out_as_float32():
    rec = TensorRecord("rnn1.t0.dh", "delta", np.array([[1.5, -2.0]]), ("sample", "unit"))
    packed = tensor_payload(rec, "b64")
    assert packed["dtype"] == "float32" and len(base64.b64decode(packed["data"])) == 8
