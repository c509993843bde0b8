"""Errors a page can provoke say what was wrong in plain words, in both languages
(issue 17 item 4): a limit by its number ("a kernel can be at most 7x7"), not its
variable; a refused field by its name and rule, not pydantic's English. `detail`
keeps what scripts and admins read (the limit's name and setting, pydantic's items:
tests/app/test_api_limits.py checks it)."""

import re

import pytest
from fastapi.testclient import TestClient

from app.i18n import SUPPORTED, catalog
from app.main import create_app
from app.plain_errors import limit_message
from app.settings import Limits, Settings

CJK = re.compile(r"[\u3400-\u9fff]")
# What a student must not read: a setting's name, a limit's variable, pydantic's words.
INTERNALS = re.compile(r"GLASSBOX_|max_[a-z_]+|Input should|Value error|Field required|type=")

LIMITS = Limits(max_batch=2, max_epochs=3, max_iterations=10, max_steps_per_request=4,
                max_body_bytes=4096, max_lab_steps=50, max_lab_runs=2, max_compare_runs=2,
                max_bp_layers=2, max_bp_neurons=9, max_seq_len=12)  # fmt: skip


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("plain"), limits=LIMITS, warm_up=False)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def sid(small):
    return small.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]


def plain(r, status=422):
    """The body's message in every language, checked: plain words, no internals."""
    assert r.status_code == status, r.text
    body = r.json()
    assert "detail" in body  # scripts keep theirs
    message = body["message"]
    assert set(message) == set(SUPPORTED), message
    for lang, text in message.items():
        assert text.strip() and not INTERNALS.search(text), (lang, text)
    assert CJK.search(message["zh-CN"]) and not CJK.search(message["en"]), message
    raw = body["detail"] if isinstance(body["detail"], list) else []
    for item in raw:  # none of pydantic's (or the limit's) English sentences
        assert item["msg"] not in message["en"], (item["msg"], message)
    return message


def test_every_limit_has_its_plain_rule_in_both_languages():
    for lang in SUPPORTED:
        strings = catalog(lang)
        missing = [k for k in Limits.model_fields if f"plain.limit.{k}" not in strings]
        assert not missing, (lang, missing)


def limited(r, allowed, given):
    """A limit's 422: its message states the allowed number and what was asked."""
    message = plain(r)
    item = r.json()["detail"][0]
    assert (
        item["type"] == "limit_exceeded"
        and f"GLASSBOX_LIMIT_{item['limit'].upper()}" in item["msg"]
    )
    for text in message.values():
        assert str(allowed) in text and str(given) in text, text
    return message


@pytest.mark.parametrize(
    ("conv1", "allowed", "given"),
    [({"out_channels": 33}, 32, 33), ({"kernel": 9, "padding": 3}, 7, 9),
     ({"stride": 5}, 4, 5), ({"padding": [0, 4]}, 3, 4)],
)  # fmt: skip
def test_the_convolution_pages_limits(small, conv1, allowed, given):
    body = {"preset": "conv-basics", "overrides": {"conv": {"conv1": conv1}}}
    message = limited(small.post("/api/sessions", json=body), allowed, given)
    if "kernel" in conv1:
        assert "7×7" in message["en"] and "卷积核最大为 7×7" in message["zh-CN"]


def test_training_stepping_and_input_limits(small, sid):
    limited(small.post(f"/api/sessions/{sid}/train", json={"epochs": 4}), 3, 4)
    limited(small.post(f"/api/sessions/{sid}/train", json={"iterations": 11}), 10, 11)
    limited(small.post(f"/api/sessions/{sid}/train", json={"iterations": 1, "batch_size": 3}), 2, 3)
    limited(small.post(f"/api/sessions/{sid}/steps", json={"count": 5}), 4, 5)
    batch = [[[[0.0] * 8] * 8]] * 3
    limited(
        small.put(f"/api/sessions/{sid}/input", json={"array": batch, "target": [0, 1, 2]}), 2, 3
    )


def test_the_bp_pages_limits(small):
    limited(small.post("/api/bp/sessions", json={"hidden": [4, 4, 4]}), 2, 3)
    limited(small.post("/api/bp/sessions", json={"hidden": [10]}), 9, 10)
    body = {"hidden": [4], "lrs": [0.1, 0.2, 0.3], "epochs": 1}
    limited(small.post("/api/bp/compare", json=body), 2, 3)


def test_the_rnn_and_lab_pages_limits(small):
    typed = ", ".join(["0.5"] * 14)  # 13 time steps read
    body = {"preset": "sine-rnn", "input": {"sequence": typed}}
    message = plain(
        small.post("/api/sessions", json=body)
    )  # 13 numbers: 12 steps read, 1 to predict
    assert "12" in message["en"] and "12" in message["zh-CN"] and "numbers" not in message["zh-CN"]
    for typed, says in (("0.5", "at least 2"), ("0.5, x", "(“x”)"), ("1, 1e300", "too large")):
        body = {"preset": "sine-rnn", "input": {"sequence": typed}}
        assert says in plain(small.post("/api/sessions", json=body))["en"]
    lab = {"surface": "bowl", "start": [1.0, 1.0], "runs": [{"lr": 0.1}], "steps": 51}
    limited(small.post("/api/lab/descent", json=lab), 50, 51)
    limited(
        small.post("/api/lab/descent", json={**lab, "steps": 10, "runs": [{"lr": 0.1}] * 3}), 2, 3
    )


def test_a_body_too_large_is_413_in_plain_words(small):
    r = small.post(
        "/api/sessions", json={"preset": "digits-cnn", "input": {"array": [[0.0] * 2000]}}
    )
    message = plain(r, 413)
    assert "max_body_bytes = 4096" in r.json()["detail"]
    assert "4.1 KB" in message["en"] and "4.1 KB" in message["zh-CN"]


def test_sizes_in_bytes_read_as_megabytes():
    message = limit_message("max_pass_bytes", 8_000_000, 9_500_000)
    assert "8 MB" in message["en"] and "9.5 MB" in message["en"] and "8 MB" in message["zh-CN"]


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        # BP: a learning rate out of range, a layer of no neurons, a dataset not on offer
        ("/api/bp/sessions", {"lr": 0}, ("learning rate", "学习率")),
        ("/api/bp/sessions", {"lr": 500}, ("learning rate", "学习率")),
        ("/api/bp/sessions", {"hidden": [0]}, ("at least 1", "不能小于 1")),
        ("/api/bp/sessions", {"dataset": "mnist"}, ("one of", "之一")),
        ("/api/bp/sessions", {"noise": "lots"}, ("number", "数字")),
        # a CNN sample number below 0, not a whole number
        ("/api/sessions", {"preset": "digits-cnn", "input": {"sample": {"index": -1}}},
         ("sample number", "样本编号")),
        ("/api/sessions", {"preset": "digits-cnn", "input": {"sample": {"index": 1.5}}},
         ("whole number", "整数")),
        # the RNN's weight scale, the lab's learning rate, a request that is not JSON
        ("/api/sessions", {"preset": "vanishing-rnn", "overrides": {"scale": -5}},
         ("scale", "缩放")),
        ("/api/lab/descent", {"surface": "bowl", "start": [1, 1], "runs": [{"lr": -1}], "steps": 5},
         ("learning rate", "学习率")),
        ("/api/sessions", {}, ("", "")),
    ],
)  # fmt: skip
def test_validation_errors_in_plain_words(small, path, body, says):
    message = plain(small.post(path, json=body))
    assert says[0] in message["en"] and says[1] in message["zh-CN"], message


def test_a_step_request_and_malformed_json(small, sid):
    message = plain(small.post(f"/api/sessions/{sid}/steps", json={"count": 0}))
    assert "The number of steps must be at least 1" in message["en"], message
    r = small.post(
        "/api/sessions", content=b'{"preset": ', headers={"content-type": "application/json"}
    )
    assert "JSON" in plain(r)["en"] and r.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"1e999"])
def test_a_number_that_is_not_finite_is_named_in_plain_words(small, number):
    raw = b'{"preset": "digits-cnn", "overrides": {"lr": ' + number + b"}}"
    r = small.post("/api/sessions", content=raw, headers={"content-type": "application/json"})
    message = plain(r)
    assert r.json()["detail"][0]["type"] == "finite_number"
    assert "learning rate" in message["en"] and "finite" in message["en"], message
    assert "学习率" in message["zh-CN"] and "有限" in message["zh-CN"], message


def test_too_short_says_characters_items_or_empty(small):
    copy = plain(small.post("/api/sessions", json={"copy_of": ""}))  # a text of min length 1
    assert "must not be empty" in copy["en"] and "不能为空" in copy["zh-CN"], copy
    start = {"surface": "bowl", "start": [1.0], "runs": [{"lr": 0.1}], "steps": 5}
    r = small.post("/api/lab/descent", json=start)  # a list of 2
    said = plain(r)
    assert "at least 2 items" in said["en"] and "至少需要 2 项" in said["zh-CN"], said
    long = plain(small.post("/api/sessions", json={"copy_of": "x" * 65}))
    assert "at most 64 characters" in long["en"] and "64 个字符" in long["zh-CN"], long
