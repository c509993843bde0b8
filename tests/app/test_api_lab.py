"""The learning-rate lab's API: its rules, the lecture cases it offers, and
paths that say how they ended and which of the lecture's cases that is."""

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Limits, Settings
from engine.lab import CASE_OF, OUTCOMES


def test_rules_state_the_configured_limits_and_each_outcomes_lecture_case(tmp_path):
    limits = Limits(max_lab_steps=300, max_lab_runs=3)
    with TestClient(create_app(Settings(data_dir=tmp_path, limits=limits))) as c:
        rules = c.get("/api/lab/rules").json()
    assert rules["steps"] == {"ge": 1, "le": 300} and rules["runs"] == {"ge": 1, "le": 3}
    assert rules["lr"] == {"gt": 0.0, "le": 1000.0}
    assert rules["momentum"] == {"ge": 0.0, "lt": 1.0, "default": 0.9}
    assert rules["optimizers"] == ["sgd", "momentum", "adam"]
    assert rules["outcomes"] == list(OUTCOMES) and rules["case_of"] == CASE_OF
    assert {"too-small", "too-large", "local-minimum", "saddle"} <= set(rules["cases"])


def test_surfaces_offer_their_lecture_cases(client):
    surfaces = {s["name"]: s for s in client.get("/api/lab/surfaces").json()}
    bowl = surfaces["bowl"]["lecture"]
    assert bowl["start"] == [-4.5, 2.0] and bowl["steps"] == 100
    assert [(r["lr"], r["shows"]) for r in bowl["runs"]] == [
        (0.001, "slow"), (0.05, "converged"), (0.099, "oscillating"), (0.11, "diverged"),
    ]  # fmt: skip
    monkey = surfaces["monkey-saddle"]["lecture"]["runs"]
    assert [r["shows"] for r in monkey] == ["toward-saddle", "escaped", "escaped"]
    assert monkey[1] == {"optimizer": "momentum", "lr": 0.05, "momentum": 0.9, "shows": "escaped"}


def test_descent_names_the_issue_cases_truly(client):
    """Bowl SGD 0.105: the loss grows from 50 to 7.6e9, diverging; monkey saddle
    SGD 0.05 from (1, 0): creeping towards the saddle point, not "too small"."""
    body = {"surface": "bowl", "start": [-4.5, 2.0], "steps": 100, "runs": [{"lr": 0.105}]}
    bowl = client.post("/api/lab/descent", json=body).json()["paths"][0]
    assert (bowl["outcome"], bowl["case"], bowl["diverged"]) == ("diverged", "too-large", False)
    assert bowl["losses"][-1] > 1e9 and bowl["text"]["en"].startswith("Diverges")
    body = {"surface": "monkey-saddle", "start": [1.0, 0.0], "steps": 200, "runs": [{"lr": 0.05}]}
    monkey = client.post("/api/lab/descent", json=body).json()["paths"][0]
    assert (monkey["outcome"], monkey["case"]) == ("toward-saddle", "saddle")
    assert "鞍点" in monkey["text"]["zh-CN"]
