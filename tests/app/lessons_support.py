"""What the guided lessons' API tests share (test_api_lessons.py,
test_api_lessons_refusals.py; their fixtures are in conftest.py): a session for a task's
page made from the server's own lists, and answers right and wrong of each kind."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from app.answers import NUMBER_ABS_TOL, NUMBER_REL_TOL
from app.i18n import SUPPORTED
from app.lessons import TASKS


def coded(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """A refusal: `status` (a 4xx), `code` if given, and a message in every language
    (each its own words); never a traceback."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    if code is not None:
        assert body.get("code") == code, body
    message = body.get("message")
    assert isinstance(message, dict) and set(message) == set(SUPPORTED), body
    assert all(isinstance(m, str) and m.strip() for m in message.values()), body
    assert message["en"] != message["zh-CN"], body
    assert "Traceback" not in r.text
    return body


# --- sessions for a task's page, from the server's own lists -------------------------


BP = "bp:"  # a Sessions key: the BP network of this JSON body (POST /api/bp/sessions)
BP_FIELDS = ("dataset", "noise", "activation", "loss", "optimizer", "lr", "seed")


class Sessions:
    """One session per preset, made when a task first needs it; a session task is
    answered from the first of its page's presets that records the tensor it asks
    about (its query's preset if it names one)."""

    def __init__(self, lessons_api: TestClient) -> None:
        self.api = lessons_api
        presets = lessons_api.get("/api/presets").json()
        rules = lessons_api.get("/api/rules").json()
        self.by_topic: dict[str, list[str]] = {}
        for p in presets:
            self.by_topic.setdefault(p["topic"], []).append(p["name"])
        for topic, names in rules["pages"].items():
            self.by_topic.setdefault(topic, [])
            self.by_topic[topic] += [n for n in names if n not in self.by_topic[topic]]
        self.made: dict[str, str] = {}

    def new(self, preset: str) -> str:
        if preset.startswith(BP):  # the BP page's network (its URL state, as bp.js builds it)
            r = self.api.post("/api/bp/sessions", json=json.loads(preset[len(BP) :]))
            assert r.status_code == 201, r.text
            return str(r.json()["id"])
        r = self.api.post("/api/sessions", json={"preset": preset})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def candidates(self, task: dict[str, Any]) -> list[str]:
        if task["topic"] == "bp":  # no presets: the network its query builds
            q = task["query"]
            body = {k: q[k] for k in BP_FIELDS if k in q}
            body["hidden"] = [int(n) for n in str(q.get("hidden", "")).split("-") if int(n or 0)]
            return [BP + json.dumps(body, sort_keys=True)]
        named = task["query"].get("preset")
        return [named] if named else self.by_topic.get(task["topic"], [])

    def answering(self, task: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """A session whose pass has the task's tensor, and the task's answer from it."""
        for preset in self.candidates(task):
            if preset not in self.made:
                self.made[preset] = self.new(preset)
            sid = self.made[preset]
            given = probe(task)
            if task["kind"] in ("cells", "map"):  # the grid the page would show
                r = self.api.get(f"/api/lessons/{task['id']}/form", params={"session": sid})
                if r.status_code != 200:
                    assert r.status_code == 422, r.text  # another network: not its tensor
                    continue
                grid = r.json()
                if task["kind"] == "cells":
                    given = {"cells": [[0] * len(grid["target_shape"])]}
                else:
                    rows, cols = grid["shape"]
                    given = {"map": [[0.0] * cols for _ in range(rows)]}
            r = check(self.api, task["id"], sid, given)
            if r.status_code == 200:
                return sid, r.json()["expected"]
            assert r.status_code == 422, r.text  # another network: not its tensor
        return None


def check(lessons_api: TestClient, task_id: str, sid: str | None, answer: dict[str, Any]) -> Any:
    body: dict[str, Any] = {"answer": answer}
    if sid is not None:
        body["session"] = sid
    return lessons_api.post(f"/api/lessons/{task_id}/check", json=body)


def probe(task: dict[str, Any]) -> dict[str, Any]:
    """An answer of the task's kind (right or not: it only fetches `expected`)."""
    return {"number": {"number": 0.0}, "size": {"size": [1, 1]}, "cells": {"cells": [[0]]},
            "map": {"map": [[0.0]]},
            "choice": {"choice": (task.get("choices") or ["?"])[0]}}[task["kind"]]  # fmt: skip


def right(task: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer as a student would give it."""
    kind = task["kind"]
    if kind == "number":
        return {"number": expected["value"]}
    if kind == "size":
        return {"size": expected["size"]}
    if kind == "cells":
        return {"cells": [c["index"] for c in expected["cells"]]}
    if kind == "map":
        return {"map": expected["map"]}
    return {"choice": expected["choice"]}


def wrong(task: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """An answer that cannot be right, made from the engine's answer."""
    kind = task["kind"]
    if kind == "number":
        return {"number": expected["value"] + 3 * expected["tolerance"] + 1}
    if kind == "size":
        rows, cols = expected["size"]
        return {"size": [rows + 1, cols]}
    if kind == "cells":
        cells = [c["index"] for c in expected["cells"]]
        first = [0] * len(expected["target_shape"])
        return {"cells": cells[1:] if first in cells else [*cells, first]}
    if kind == "map":
        rows = [list(row) for row in expected["map"]]
        rows[-1][-1] += 3 * (NUMBER_ABS_TOL + NUMBER_REL_TOL * abs(rows[-1][-1])) + 1  # past it
        return {"map": rows}
    return {"choice": next(c for c in task["choices"] if c != expected["choice"])}


SESSION_TASKS = [x for x in TASKS.values() if x.needs_session]
# answered without a session: the lab's lecture cases, the RNN gradient chart's "reach"
LAB_TASKS = [x for x in TASKS.values() if not x.needs_session]
