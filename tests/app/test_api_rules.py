"""The server states the rules (issue 13 item 1): GET /api/rules and the learn pages
carry the configured limits, the presets each page offers and the choices the
request schemas accept; each tensor of a step says whether it is explainable (and
the explain route agrees) and names its cells with a catalog key."""

import json
import re
from typing import get_args

import pytest
from fastapi.testclient import TestClient

from app.i18n import catalog
from app.main import create_app
from app.schemas.bp import Activation, BPLoss, BPOptimizer, Dataset
from app.settings import Limits, Settings


@pytest.fixture
def small(tmp_path):
    limits = Limits(max_epochs=7, max_bp_layers=2, max_bp_neurons=9)
    with TestClient(create_app(Settings(data_dir=tmp_path, limits=limits))) as c:
        yield c


def test_rules_carry_the_configured_limits(small):
    rules = small.get("/api/rules").json()
    assert rules["limits"]["max_epochs"] == 7
    assert rules["bp"]["max_layers"] == 2 and rules["bp"]["max_neurons"] == 9


def test_rules_list_what_the_bp_schema_accepts_in_the_pages_order(client):
    bp = client.get("/api/rules").json()["bp"]
    assert bp["datasets"] == list(get_args(Dataset)) and bp["datasets"][0] == "moons"
    assert bp["activations"] == list(get_args(Activation)) and bp["activations"][0] == "tanh"
    assert bp["losses"] == list(get_args(BPLoss))
    assert bp["optimizers"] == list(get_args(BPOptimizer))
    top = bp["lr"]["le"]  # the learning rate's bound is the one the schema enforces
    assert client.post("/api/bp/sessions", json={"lr": top}).status_code == 201
    assert client.post("/api/bp/sessions", json={"lr": top * 1.01}).status_code == 422


def test_rules_page_presets_exist_and_number_readers_are_flagged(client):
    rules = client.get("/api/rules").json()
    offered = {p["name"]: p for p in client.get("/api/presets").json()}
    assert rules["pages"]["cnn"] == ["digits-cnn", "shapes-cnn"]
    assert "memory-lstm" in rules["pages"]["rnn"] and "bilstm-memory" in rules["pages"]["rnn"]
    for name in rules["pages"]["cnn"] + rules["pages"]["rnn"]:
        assert name in offered
    readers = {p["name"] for p in rules["presets"] if p["reads_numbers"]}
    assert readers == {n for n, p in offered.items() if p["reads_numbers"]}
    assert readers == {"sine-rnn", "sine-lstm"}
    assert client.get("/api/rules").json()["rnn"]["nonlinearities"] == ["tanh", "relu"]


def test_rules_state_each_pages_defaults_within_its_choices(client):
    rules = client.get("/api/rules").json()
    assert set(rules["page_defaults"]) == set(rules["pages"])
    for page, preset in rules["page_defaults"].items():
        assert preset in rules["pages"][page], page
    bp = rules["bp"]
    plural = {"dataset": "datasets", "activation": "activations", "loss": "losses",
              "optimizer": "optimizers"}  # fmt: skip
    for field, choices in plural.items():
        assert bp["defaults"][field] in bp[choices], field
    assert 0 <= bp["defaults"]["noise"] <= 1
    assert rules["rnn"]["default_nonlinearity"] in rules["rnn"]["nonlinearities"]
    lab = rules["lab"]
    assert lab["default_optimizer"] in lab["optimizers"]
    assert lab["default_surface"] in [s["name"] for s in client.get("/api/lab/surfaces").json()]


def test_bp_defaults_are_what_the_api_builds_when_a_request_leaves_them_out(client):
    d = client.get("/api/rules").json()["bp"]["defaults"]
    s = client.post("/api/bp/sessions", json={}).json()
    assert s["dataset"]["name"].removeprefix("toy-") == d["dataset"]
    assert [la["type"] for la in s["network"]["layers"]][1] == d["activation"]
    assert s["network"]["loss"] == d["loss"] and s["optimizer"]["type"] == d["optimizer"]


def test_every_bp_choice_has_a_label_named_after_it_in_both_catalogs(client):
    """The BP page labels a choice with the catalog key made from its name (no JS map)."""
    bp = client.get("/api/rules").json()["bp"]
    keys = [f"bp.data.{d}" for d in bp["datasets"]] + [f"bp.loss.{v}" for v in bp["losses"]]
    keys += [f"lab.opt.{o}" for o in bp["optimizers"]]
    for lang in ("en", "zh-CN"):
        assert [k for k in keys if k not in catalog(lang)] == [], lang


def test_learn_page_embeds_the_same_rules_as_the_api(small):
    html = small.get("/learn/bp").text
    m = re.search(r'<script id="rules" type="application/json">(.*?)</script>', html, re.S)
    assert m is not None
    assert json.loads(m.group(1)) == small.get("/api/rules").json()


def test_bp_hidden_layers_and_neurons_follow_the_limits(small, tmp_path):
    r = small.post("/api/bp/sessions", json={"hidden": [4, 4, 4]})
    assert r.status_code == 422 and r.json()["detail"][0]["limit"] == "max_bp_layers"
    r = small.post("/api/bp/sessions", json={"hidden": [10]})
    assert r.status_code == 422 and r.json()["detail"][0]["limit"] == "max_bp_neurons"
    r = small.post("/api/bp/compare", json={"hidden": [4, 4, 4], "lrs": [0.1], "epochs": 1})
    assert r.status_code == 422 and r.json()["detail"][0]["limit"] == "max_bp_layers"
    wide = Limits(max_bp_layers=6, max_bp_neurons=80, max_epochs=60)
    with TestClient(create_app(Settings(data_dir=tmp_path / "wide", limits=wide))) as c:
        r = c.post("/api/bp/sessions", json={"hidden": [80, 3, 3, 3, 3, 3]})
        assert r.status_code == 201, r.text
        body = {"hidden": [3], "lrs": [0.1], "epochs": 55, "dataset": "xor", "batch_size": 64}
        assert c.post("/api/bp/compare", json=body).status_code == 200


def test_openapi_documents_the_bp_limits(small):
    hidden = small.get("/openapi.json").json()["components"]["schemas"]["BPSessionCreate"][
        "properties"
    ]["hidden"]
    assert hidden["maxItems"] == 2 and hidden["items"]["maximum"] == 9


PASSES = [
    ("/api/sessions", {"preset": "digits-cnn"}),
    ("/api/bp/sessions", {"dataset": "moons", "hidden": [3], "optimizer": "adam"}),
    ("/api/sessions", {"preset": "bilstm-memory"}),
]


@pytest.mark.parametrize(("url", "body"), PASSES, ids=["cnn", "bp", "bilstm"])
def test_every_tensors_explainable_flag_agrees_with_explain(client, url, body):
    sid = client.post(url, json=body).json()["id"]
    plan = client.get(f"/api/sessions/{sid}").json()["plan"]
    res = client.post(f"/api/sessions/{sid}/steps", json={"count": len(plan)}).json()
    keys = set(catalog("en")) & set(catalog("zh-CN"))
    seen = 0
    for step in res["steps"]:
        for tensor in step["tensors"]:
            assert isinstance(tensor["explainable"], bool), tensor["name"]
            assert tensor["cell"] in keys, tensor["cell"]
            shape = client.get(f"/api/sessions/{sid}/tensors/{tensor['name']}").json()["shape"]
            if not shape or min(shape) == 0:
                continue
            for index in ([0] * len(shape), [n - 1 for n in shape]):
                r = client.get(
                    f"/api/sessions/{sid}/explain",
                    params={"tensor": tensor["name"], "index": ",".join(map(str, index))},
                )
                assert (r.status_code == 200) == tensor["explainable"], (tensor["name"], r.text)
            seen += 1
    assert seen > 50


def test_a_tensor_names_its_cells_by_the_lecture_terms(client):
    sid = client.post("/api/sessions", json={"preset": "memory-lstm"}).json()["id"]
    client.post(f"/api/sessions/{sid}/steps", json={"until": "forward"})
    f = client.get(f"/api/sessions/{sid}/tensors/lstm1.t3.f").json()
    assert f["cell"] == "cell.part.f" and f["explainable"] is True
    assert catalog("zh-CN")["cell.part.f"] == "遗忘门"
    assert catalog("zh-CN")["cell.part.c"] == "细胞状态"
    x = client.get(f"/api/sessions/{sid}/tensors/lstm1.in").json()
    assert x["cell"] == "cell.input"


def test_the_events_that_end_a_training_stream_are_the_queues(client):
    from app.training.queue import FINAL

    final = client.get("/api/rules").json()["training"]["final_events"]
    assert final == sorted(FINAL) and {"done", "stopping", "error"} <= set(final)
