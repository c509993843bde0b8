"""A lesson task's answer, worked out from the engine when a student answers.

The page sends its session (the one it shows, in the state the task set); the answer
is read from that session's pass, or from a copy stepped on to the tensor asked about
when the page has not reached it yet (predict, then reveal: the student's own pass is
not stepped). A lab task's answer is its lecture case run by the lab (engine.lab); a
"reach" task's, the RNN page's gradient chart's two models (app/lessons/reach.py).
"""

from __future__ import annotations

from typing import Any

from app import answers
from app.classes.model import ClassError
from app.lessons.model import Task
from app.lessons.reach import gradient_reach
from app.sessions import SessionService
from app.sessions.explain import explain
from app.sessions.state import rebuild
from engine.lab import LECTURE, SURFACES


def _needed(task: Task) -> tuple[str, ...]:
    if task.kind == "cells":
        return (task.tensor, task.tensor.replace(".dout", ".dx"))
    return (task.tensor,)


def expected(service: SessionService, task: Task, sid: str | None) -> dict[str, Any]:
    """The task's answer (what a check reveals), from the engine."""
    if task.lab is not None:
        surface, k = task.lab
        lecture = LECTURE[surface]
        run = lecture.runs[k]
        lab = {"surface": surface, "start": list(SURFACES[surface].start),
               "steps": lecture.steps, "run": run.settings()}  # fmt: skip
        found = answers.lab_case(lab)
        return {"choice": found["outcome"], "case": found["choice"], "text": found["text"],
                "lab": lab}  # fmt: skip
    if task.reach:  # the RNN page's gradient chart: its two models, run here
        return gradient_reach(float(task.query["scale"]), str(task.query["nl"]), service.limits)
    if not sid:
        raise ClassError(422, "lesson_session", f"task {task.id} is answered from the page's "
                         "session: send {\"session\": <its id>}")  # fmt: skip
    with service.session(sid) as live:
        ahead = answers.stepped_to(live, _needed(task), lambda: rebuild(service.store.get(sid)))
        if task.kind == "number":
            return answers.number(ahead, task.tensor, list(task.index))
        if task.kind == "cells":
            found = answers.cells(ahead, task.tensor, list(task.index))
            exp = found["explanation"]
            if found["cells"] and (exp is None or exp.get("kind") == "copy"):
                # the delta only passes through here: show how one cell it reaches is
                # made of it (the terms of that cell's delta) instead
                first = tuple(found["cells"][0]["index"])
                found["explanation"] = explain(ahead, found["target"], first)
                found["explained"] = {"tensor": found["target"], "index": list(first)}
            return found
        if task.kind == "map":
            return answers.plane(ahead, task.tensor, list(task.index))
        return answers.size(ahead, task.tensor)


def form(service: SessionService, task: Task, sid: str | None) -> dict[str, Any]:
    """What the page needs to ask the task: a "cells" task's grid (the shape of the
    tensor the delta goes to), a "map" task's rows and columns, a lab task's run;
    nothing of the answer."""
    if task.kind == "cells":
        found = expected(service, task, sid)
        return {"target": found["target"], "target_shape": found["target_shape"]}
    if task.kind == "map":
        return {"shape": expected(service, task, sid)["shape"]}
    if task.lab is not None:
        surface, k = task.lab
        return {"surface": surface, "run": LECTURE[surface].runs[k].settings(), "position": k}
    return {}


def values(task: Task) -> dict[str, Any]:
    """The placeholders of the task's question: its page state, a lab run's rate."""
    out: dict[str, Any] = {k: v for k, v in task.query.items() if v != ""}
    if task.lab is not None:
        surface, k = task.lab
        out.update(LECTURE[surface].runs[k].settings())
        out["run"] = k + 1
    out.update(task.values)
    return out
