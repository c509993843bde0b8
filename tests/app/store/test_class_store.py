"""The live class store, SQLite and Redis through one suite (a real redis-server):
a class's record and seq, expiry with a real short time to live, the student cap,
presence, answers, and the end (a tombstone that keeps the record, students gone)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.classes.model import new_code, new_record, token_hash
from app.classes.store import ClassStore, open_class_store
from tests.app.store.conftest import StoreFactory

TTL = 3600.0
SHORT = 0.3  # a real time to live the tests wait out


@pytest.fixture
def classes(make_store: StoreFactory) -> Iterator[ClassStore]:
    store = open_class_store(make_store())
    yield store
    store.close()


def _new(classes: ClassStore, ttl: float = TTL, view: Any = None) -> str:
    code = new_code()
    assert classes.create(code, token_hash("teacher"), new_record(code, view), ttl)
    return code


def test_a_class_is_created_once_and_loads_with_its_teacher(classes: ClassStore) -> None:
    view = {"page": "pooling", "query": "", "frame": 3, "cell": None, "present": False}
    code = _new(classes, view=view)
    assert not classes.create(code, token_hash("other"), new_record(code, None), TTL)
    loaded = classes.load(code)
    assert loaded is not None
    record, teacher = loaded
    assert teacher == token_hash("teacher") and teacher != "teacher"
    assert (record["code"], record["seq"], record["ended"]) == (code, 1, False)
    assert record["view"] == view
    assert classes.load(new_code() + "X") is None


def test_every_change_raises_seq_by_one_and_a_failed_change_changes_nothing(
    classes: ClassStore,
) -> None:
    code = _new(classes)
    seqs = []
    for frame in range(3):
        record = classes.update(code, lambda r, f=frame: r.update(view={"frame": f}), TTL)
        seqs.append(record["seq"])
    assert seqs == [2, 3, 4]

    def refuse(r: dict[str, Any]) -> None:
        r["locked"] = True
        raise ValueError("no")

    with pytest.raises(ValueError):
        classes.update(code, refuse, TTL)
    record, _ = classes.load(code) or ({}, "")
    assert (record["seq"], record["locked"], record["view"]) == (4, False, {"frame": 2})
    if classes.backend == "sqlite":  # the SQLite hub polls the seqs
        assert classes.seqs([code, "NOSUCH"]) == {code: 4}
    with pytest.raises(LookupError):
        classes.update("NOSUCH", lambda r: None, TTL)


def test_a_class_past_its_time_to_live_is_gone_and_its_code_is_free(classes: ClassStore) -> None:
    code = _new(classes, ttl=SHORT)
    kept = _new(classes)
    s, k = token_hash("s"), token_hash("k")
    assert classes.join(code, s, "Sam", 10, SHORT) == 1
    classes.put_answer(code, "q1", s, {"answer": {"number": 1.0}, "correct": True})
    assert classes.join(kept, k, "Kim", 10, TTL) == 1
    classes.put_answer(kept, "q1", k, {"answer": {"number": 2.0}, "correct": True})
    time.sleep(SHORT + 0.2)
    assert classes.load(code) is None
    with pytest.raises(LookupError):
        classes.update(code, lambda r: None, TTL)
    assert classes.load(kept) is not None
    # Its nicknames and answers go with it (here: by the time another class starts).
    _new(classes)
    assert classes.students(code) == [] and classes.answers(code, "q1") == []
    assert [x["nick"] for x in classes.students(kept)] == ["Kim"]
    assert len(classes.answers(kept, "q1")) == 1
    # The code is free again, and the new class starts without the old one's students.
    assert classes.create(code, token_hash("new teacher"), new_record(code, None), TTL)
    loaded = classes.load(code)
    assert loaded is not None and loaded[1] == token_hash("new teacher")
    assert classes.students(code) == []
    assert classes.student(code, token_hash("s")) is None


def test_a_change_renews_the_time_to_live(classes: ClassStore) -> None:
    code = _new(classes, ttl=SHORT)
    for _ in range(3):
        time.sleep(SHORT / 2)
        classes.update(code, lambda r: None, SHORT)
    assert classes.load(code) is not None
    time.sleep(SHORT + 0.2)
    assert classes.load(code) is None


def test_students_join_up_to_the_cap_and_report_their_mode(classes: ClassStore) -> None:
    code = _new(classes)
    a, b, c = (token_hash(t) for t in "abc")
    assert classes.join(code, a, "Ann", 2, TTL) == 1
    assert classes.join(code, b, "", 2, TTL) == 2
    assert classes.join(code, c, "Cy", 2, TTL) == -1
    assert classes.student(code, c) is None
    got = classes.student(code, a)
    assert got is not None and (got["nick"], got["mode"]) == ("Ann", "follow")
    before = got["seen"]
    time.sleep(0.01)
    classes.seen(code, a, "explore", TTL)
    classes.seen(code, b, None, TTL)
    classes.seen(code, c, "explore", TTL)  # not a student: nothing happens
    now = classes.student(code, a)
    assert now is not None and now["mode"] == "explore" and now["seen"] > before
    modes = sorted((s["nick"], s["mode"]) for s in classes.students(code))
    assert modes == [("", "follow"), ("Ann", "explore")]
    assert classes.student(code, c) is None


def test_answers_are_per_question_and_a_second_replaces_the_first(classes: ClassStore) -> None:
    code = _new(classes)
    a, b = token_hash("a"), token_hash("b")
    classes.put_answer(code, "q1", a, {"answer": {"number": 1.0}, "correct": False})
    classes.put_answer(code, "q1", a, {"answer": {"number": 2.0}, "correct": True})
    classes.put_answer(code, "q1", b, {"answer": {"number": 3.0}, "correct": False})
    classes.put_answer(code, "q2", b, {"answer": {"choice": "good"}, "correct": True})
    assert classes.answer(code, "q1", a) == {"answer": {"number": 2.0}, "correct": True}
    assert classes.answer(code, "q2", a) is None
    numbers = sorted(x["answer"]["number"] for x in classes.answers(code, "q1"))
    assert numbers == [2.0, 3.0]
    assert classes.answers(code, "q2") == [{"answer": {"choice": "good"}, "correct": True}]
    assert classes.answers(code, "q3") == []


def test_the_end_keeps_the_record_a_while_without_students_or_answers(
    classes: ClassStore,
) -> None:
    code = _new(classes)
    a = token_hash("a")
    classes.join(code, a, "Ann", 10, TTL)
    record = classes.update(code, lambda r: r.update(asked=1), TTL)
    classes.put_answer(code, "q1", a, {"answer": {"number": 1.0}, "correct": True})
    record = classes.update(code, lambda r: r.update(ended=True, view=None), TTL)
    classes.end(code, record, SHORT)
    loaded = classes.load(code)
    assert loaded is not None and loaded[0]["ended"] is True
    assert loaded[0]["seq"] == record["seq"] and loaded[1] == token_hash("teacher")
    assert classes.students(code) == [] and classes.student(code, a) is None
    assert classes.answers(code, "q1") == []
    time.sleep(SHORT + 0.2)
    assert classes.load(code) is None  # the tombstone goes too
