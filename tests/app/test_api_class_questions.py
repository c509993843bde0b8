"""Asking a live class: number, cell and choice questions whose answers the server
works out from the engine (the tests read them from the session's own API, never
type them), students' answers right and wrong (the tolerance's edge), the tally
(right only after the reveal), a student's own result, and bad questions and
answers (clear 4xx, never a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.classes.questions import NUMBER_ABS_TOL, NUMBER_REL_TOL
from app.main import create_app
from app.settings import Settings
from tests.app.test_api_classes import coded, join, start

LAB = {"surface": "bowl", "start": [-4.5, 2.0], "steps": 100, "run": {"lr": 0.105}}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("class-questions")
    with TestClient(create_app(Settings(data_dir=data, warm_up=False))) as c:
        yield c


@pytest.fixture(scope="module")
def stepped(api: TestClient) -> str:
    """A teacher's digits-cnn session through a whole pass (forward, backward, update)."""
    sid = api.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
    r = api.post(f"/api/sessions/{sid}/steps", json={"until": "update"})
    assert r.status_code == 200, r.text
    return sid


def tensor(c: TestClient, sid: str, name: str) -> np.ndarray:
    r = c.get(f"/api/sessions/{sid}/tensors/{name}")
    assert r.status_code == 200, r.text
    return np.array(r.json()["data"], dtype=np.float64)


def ask(c: TestClient, code: str, teacher: dict[str, str], body: dict[str, Any]) -> dict:
    r = c.post(f"/api/classes/{code}/questions", json=body, headers=teacher)
    assert r.status_code == 201, r.text
    question = r.json()["question"]
    assert question["revealed"] is None and "answer" not in question and "source" not in question
    return question


def answer(c: TestClient, code: str, qid: str, who: dict[str, str], body: dict) -> None:
    r = c.post(f"/api/classes/{code}/questions/{qid}/answers", json=body, headers=who)
    assert r.status_code == 202, r.text


def test_a_number_question_from_asking_to_the_reveal(api: TestClient, stepped: str) -> None:
    code, teacher = start(api)
    students = [join(api, code, f"s{k}") for k in range(4)]
    name, index = "conv1.out", [0, 1, 2, 3]
    explained = api.get(f"/api/sessions/{stepped}/explain",
                        params={"tensor": name, "index": "0,1,2,3"}).json()  # fmt: skip
    value = explained["value"]
    assert value == pytest.approx(tensor(api, stepped, name)[tuple(index)], rel=1e-6)
    tolerance = NUMBER_ABS_TOL + NUMBER_REL_TOL * abs(value)

    q = ask(api, code, teacher, {"kind": "number", "session": stepped, "tensor": name,
                                 "index": index})  # fmt: skip
    assert (q["kind"], q["tensor"], q["index"]) == ("number", name, index)
    qid = q["id"]
    # the tally's rows are the numbers given (6 significant digits)
    exact, edge, wrong = value, value + 0.98 * tolerance, value + 3 * tolerance
    answer(api, code, qid, students[0], {"number": 123.0})  # replaced by the next
    answer(api, code, qid, students[0], {"number": exact})
    answer(api, code, qid, students[1], {"number": edge})
    answer(api, code, qid, students[2], {"number": wrong})
    # students[3] does not answer

    tally = api.get(f"/api/classes/{code}/tally", headers=teacher).json()["question"]
    assert tally["id"] == qid and tally["total"] == 3 and tally["right"] is None
    rows = {row["answer"]: row["count"] for row in tally["counts"]}
    assert set(rows) == {f"{x:.6g}" for x in (exact, edge, wrong)} and sum(rows.values()) == 3
    assert rows[f"{wrong:.6g}"] == 1
    assert all(row["correct"] is None for row in tally["counts"])
    mine = api.get(f"/api/classes/{code}/questions/{qid}/mine", headers=students[1]).json()
    assert mine == {"question": qid, "answered": True, "answer": {"number": edge},
                    "correct": None, "revealed": False}  # fmt: skip

    r = api.post(f"/api/classes/{code}/questions/{qid}/reveal", json={}, headers=teacher)
    assert r.status_code == 200, r.text
    revealed = r.json()["question"]["revealed"]
    assert revealed["value"] == value and revealed["tolerance"] == pytest.approx(tolerance)
    assert revealed["explanation"] == explained
    assert api.get(f"/api/classes/{code}").json()["question"]["revealed"] == revealed

    tally = api.get(f"/api/classes/{code}/tally", headers=teacher).json()["question"]
    assert (tally["total"], tally["right"]) == (3, 2)
    right = {row["answer"]: row["correct"] for row in tally["counts"]}
    assert right[f"{wrong:.6g}"] is False and right[f"{exact:.6g}"] is True
    results = [api.get(f"/api/classes/{code}/questions/{qid}/mine", headers=s).json()
               for s in students]  # fmt: skip
    assert [m["correct"] for m in results] == [True, True, False, None]
    assert [m["answered"] for m in results] == [True, True, True, False]
    assert all(m["revealed"] for m in results)

    late = api.post(f"/api/classes/{code}/questions/{qid}/answers", json={"number": exact},
                    headers=students[3])  # fmt: skip
    coded(late, 409, "question_revealed")

    r = api.delete(f"/api/classes/{code}/questions/{qid}", headers=teacher)
    assert r.status_code == 200 and r.json()["question"] is None
    coded(api.post(f"/api/classes/{code}/questions/{qid}/answers", json={"number": 1.0},
                   headers=students[3]), 404, "question_not_open")  # fmt: skip
    assert api.get(f"/api/classes/{code}/tally", headers=teacher).json()["question"] is None


def test_where_a_max_pool_delta_goes_is_the_cell_its_mask_chose(
    api: TestClient, stepped: str
) -> None:
    code, teacher = start(api)
    right, wrong, outside = join(api, code), join(api, code), join(api, code)
    at = (0, 2, 1, 3)
    mask, dx = tensor(api, stepped, "pool1.mask"), tensor(api, stepped, "pool1.dx")
    k = mask.shape[2] // tensor(api, stepped, "pool1.dout").shape[2]  # the pool's window
    window = [(0, at[1], at[2] * k + i, at[3] * k + j) for i, j in product(range(k), repeat=2)]
    chosen = [list(w) for w in window if mask[w] == 1]
    assert len(chosen) == 1
    other = next(list(w) for w in window if mask[w] == 0)

    q = ask(api, code, teacher, {"kind": "cell", "session": stepped, "tensor": "pool1.dout",
                                 "index": list(at)})  # fmt: skip
    assert q["target"] == "pool1.dx" and q["index"] == list(at)
    qid = q["id"]
    answer(api, code, qid, right, {"index": chosen[0]})
    answer(api, code, qid, wrong, {"index": other})
    answer(api, code, qid, outside, {"index": [0, 0, 99, 99]})  # a miss, not an error
    revealed = api.post(f"/api/classes/{code}/questions/{qid}/reveal", json={},
                        headers=teacher).json()["question"]["revealed"]  # fmt: skip
    assert [c["index"] for c in revealed["cells"]] == chosen
    delta = tensor(api, stepped, "pool1.dout")[at]
    assert revealed["delta"] == pytest.approx(delta, rel=1e-6)
    assert revealed["cells"][0]["amount"] == pytest.approx(delta, rel=1e-6)
    assert revealed["cells"][0]["amount"] == pytest.approx(dx[tuple(chosen[0])], rel=1e-6)
    assert revealed["explanation"] == api.get(f"/api/sessions/{stepped}/explain", params={
        "tensor": "pool1.dout", "index": ",".join(map(str, at))}).json()  # fmt: skip
    got = [api.get(f"/api/classes/{code}/questions/{qid}/mine", headers=s).json()["correct"]
           for s in (right, wrong, outside)]  # fmt: skip
    assert got == [True, False, False]
    tally = api.get(f"/api/classes/{code}/tally", headers=teacher).json()["question"]
    assert (tally["total"], tally["right"]) == (3, 1)
    assert {r["answer"]: r["correct"] for r in tally["counts"]}[",".join(map(str, chosen[0]))]


def test_which_case_is_this_learning_rate_is_the_labs_own_case(api: TestClient) -> None:
    code, teacher = start(api)
    right, wrong = join(api, code), join(api, code)
    body = {"surface": LAB["surface"], "start": LAB["start"], "steps": LAB["steps"],
            "runs": [LAB["run"]]}  # fmt: skip
    path = api.post("/api/lab/descent", json=body).json()["paths"][0]
    q = ask(api, code, teacher, {"kind": "choice", "lab": LAB})
    assert path["case"] in q["choices"] and len(q["choices"]) == len(set(q["choices"])) > 1
    qid = q["id"]
    answer(api, code, qid, right, {"choice": path["case"]})
    answer(api, code, qid, wrong, {"choice": next(c for c in q["choices"] if c != path["case"])})
    tally = api.get(f"/api/classes/{code}/tally", headers=teacher).json()["question"]
    assert tally["total"] == 2 and {r["count"] for r in tally["counts"]} == {1}
    revealed = api.post(f"/api/classes/{code}/questions/{qid}/reveal", json={},
                        headers=teacher).json()["question"]["revealed"]  # fmt: skip
    assert (revealed["choice"], revealed["outcome"]) == (path["case"], path["outcome"])
    assert set(revealed["text"]) == {"en", "zh-CN"}
    got = [api.get(f"/api/classes/{code}/questions/{qid}/mine", headers=s).json()["correct"]
           for s in (right, wrong)]  # fmt: skip
    assert got == [True, False]


def test_a_new_question_replaces_the_open_one_up_to_the_cap(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, warm_up=False, class_max_questions=2)
    with TestClient(create_app(settings)) as c:
        code, teacher = start(c)
        student = join(c, code)
        first = ask(c, code, teacher, {"kind": "choice", "lab": LAB})
        second = ask(c, code, teacher, {"kind": "choice", "lab": LAB})
        assert (first["id"], second["id"]) == ("q1", "q2")
        coded(c.post(f"/api/classes/{code}/questions/q1/answers", json={"choice": "good"},
                     headers=student), 404, "question_not_open")  # fmt: skip
        coded(c.post(f"/api/classes/{code}/questions/q1/reveal", json={}, headers=teacher),
              404, "question_not_open")  # fmt: skip
        body = coded(c.post(f"/api/classes/{code}/questions", json={"kind": "choice", "lab": LAB},
                            headers=teacher), 409, "class_questions_full")  # fmt: skip
        assert "2" in body["message"]["en"]
        assert c.get(f"/api/classes/{code}").json()["question"]["id"] == "q2"


def test_bad_questions_and_answers_are_clear_4xx(api: TestClient, stepped: str) -> None:
    code, teacher = start(api)
    fresh = api.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
    cell = {"kind": "cell", "session": stepped}
    number = {"kind": "number", "session": stepped}
    asks: list[tuple[dict[str, Any], int, str | None]] = [
        ({"kind": "number", "tensor": "conv1.out", "index": [0, 0, 0, 0]}, 422, None),
        ({"kind": "choice"}, 422, None),
        ({"kind": "guess", "session": stepped}, 422, None),
        ({**number, "session": "no-such-session", "tensor": "conv1.out", "index": [0, 0, 0, 0]},
         404, "session_gone"),
        ({**number, "tensor": "nope.out", "index": [0, 0, 0, 0]}, 422, "question_not_recorded"),
        ({**number, "session": fresh, "tensor": "conv1.out", "index": [0, 0, 0, 0]},
         422, "question_not_recorded"),
        ({**number, "tensor": "conv1.out", "index": [0, 0, 99, 0]}, 422, "question_index"),
        ({**number, "tensor": "conv1.out", "index": [0, 0]}, 422, "question_index"),
        ({**number, "tensor": "conv1.in", "index": [0, 0, 99, 0]}, 422, "question_index"),
        ({**number, "tensor": "conv1.out", "index": [-1, 0, 0, 0]}, 422, None),
        ({**cell, "session": fresh, "tensor": "pool1.dout", "index": [0, 0, 0, 0]},
         422, "question_not_recorded"),
        ({**cell, "tensor": "pool1.dout", "index": [0, 0, 9, 0]}, 422, "question_index"),
        ({**cell, "tensor": "pool1.dout", "index": [0]}, 422, "question_index"),
        ({**cell, "tensor": "pool1.out", "index": [0, 0, 0, 0]}, 422, "question_not_delta"),
        ({**cell, "tensor": "pool1", "index": [0, 0, 0, 0]}, 422, "question_not_delta"),
        ({"kind": "choice", "lab": {**LAB, "surface": "nope"}}, 422, "question_lab"),
        ({"kind": "choice", "lab": {**LAB, "steps": 10**9}}, 422, None),
        ({"kind": "choice", "lab": {**LAB, "start": [1e308, 0]}}, 422, None),
        ({"kind": "choice", "lab": {**LAB, "run": {"lr": -1}}}, 422, None),
    ]  # fmt: skip
    for body, status, error in asks:
        r = api.post(f"/api/classes/{code}/questions", json=body, headers=teacher)
        assert r.status_code == status, (body, r.status_code, r.text)
        if error is not None:
            coded(r, status, error)
    assert api.get(f"/api/classes/{code}").json()["seq"] == 1  # nothing was asked

    student = join(api, code)
    qid = ask(api, code, teacher, {**number, "tensor": "conv1.out", "index": [0, 0, 0, 0]})["id"]
    url = f"/api/classes/{code}/questions/{qid}/answers"
    for body in ({"choice": "good"}, {"index": [0, 0, 0, 0]}, {}, {"number": None}):
        coded(api.post(url, json=body, headers=student), 422, "answer_kind")
    for raw in (b'{"number": NaN}', b'{"number": Infinity}', b'{"number": 1e400}',
                b'{"number": "4"}', b'{"number": 1, "extra": 2}', b"[1]"):  # fmt: skip
        r = api.post(url, content=raw, headers={**student, "Content-Type": "application/json"})
        assert r.status_code == 422, (raw, r.status_code, r.text)
    coded(api.post(f"/api/classes/{code}/questions/q9/answers", json={"number": 1.0},
                   headers=student), 404, "question_not_open")  # fmt: skip
    assert api.get(f"/api/classes/{code}/tally", headers=teacher).json()["question"]["total"] == 0

    qid = ask(api, code, teacher, {"kind": "choice", "lab": LAB})["id"]
    url = f"/api/classes/{code}/questions/{qid}/answers"
    coded(api.post(url, json={"choice": "not-a-case"}, headers=student), 422, "answer_choice")
    coded(api.post(url, json={"number": 1.0}, headers=student), 422, "answer_kind")
    assert api.post(url, json={"choice": "c" * 33}, headers=student).status_code == 422
