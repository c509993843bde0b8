"""A lesson task's answer, worked out from the engine when a student answers.

The page sends its session (the one it shows, in the state the task set); the answer
is read from that session's pass, or from a copy stepped on to the tensor asked about
when the page has not reached it yet (predict, then reveal: the student's own pass is
not stepped). A lab task's answer is its lecture case run by the lab (engine.lab); a
"reach" task's, the RNN page's gradient chart's two models (app/lessons/reach.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app import answers
from app.classes.model import ClassError
from app.lessons.model import Task
from app.lessons.reach import gradient_reach
from app.rules import page_of
from app.sessions import SessionService
from app.sessions.explain import explain
from app.sessions.state import Live, rebuild
from engine.lab import LECTURE, SURFACES

LESSON_MAX_CELLS = 1024  # a "cells" task looks at most this many cells (its page's maps)


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
    with _ahead(service, task, sid) as ahead:
        if task.kind == "number":
            return answers.number(ahead, task.tensor, list(task.index))
        if task.kind == "cells":
            found = answers.cells(ahead, task.tensor, list(task.index), LESSON_MAX_CELLS)
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


@contextmanager
def _ahead(service: SessionService, task: Task, sid: str | None) -> Iterator[Live]:
    """The page's session (under its lock) with the task's tensors recorded: itself, or
    a copy stepped on to them. 422 if no session was sent or it is not of the task's
    page (another page's network need not have the task's tensors, or may be large)."""
    if not sid:
        raise ClassError(422, "lesson_session", f"task {task.id} is answered from the page's "
                         "session: send {\"session\": <its id>}")  # fmt: skip
    with service.session(sid) as live:
        page = page_of(live.meta.get("preset"), live.net)
        if page != task.topic:
            raise ClassError(422, "lesson_other_page", f"task {task.id} is about the {task.topic} "
                             f"page; session {sid} is of the {page} page", page=page)  # fmt: skip
        yield answers.stepped_to(live, _needed(task), lambda: rebuild(service.store.get(sid)))


def form(service: SessionService, task: Task, sid: str | None) -> dict[str, Any]:
    """What the page needs to ask the task: a "cells" task's grid (the shape of the
    tensor the delta goes to), a "map" task's rows and columns; nothing of the answer
    (every other task: {})."""
    if task.kind in ("cells", "map"):
        with _ahead(service, task, sid) as ahead:
            name = _needed(task)[-1]  # the map the student fills in or clicks cells of
            answers.recorded(ahead, name)
            shape = [int(n) for n in ahead.run.trace[name].shape]
        if task.kind == "cells":
            return {"target": name, "target_shape": shape}
        return {"shape": shape[-2:]}
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
