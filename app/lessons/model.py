"""A guided lesson's task and the registry of every page's tasks.

A task is data: the page's URL state it sets (`query`, the keys the page's own store
keeps), what it asks about (a tensor and index of the page's session, or a lab run),
the kind of answer, and the lecture section it comes from. Its words are catalog
strings (app/locales/*/lessons.json): lesson.<id>.title, lesson.<id>.ask (the
question, with {name} placeholders filled from `values`) and lesson.<id>.note (what
to notice once it is answered). Its answer is never written here: the server works
it out from the engine when a student answers (app/lessons/check.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["number", "cells", "size", "map", "choice"]
Query = dict[str, str | int | float]  # a page's URL state


@dataclass(frozen=True)
class Task:
    """One "predict, then reveal" task of a walkthrough."""

    id: str  # unique over all pages: "<page>-<what>"
    topic: str  # the walkthrough (app.routers.pages.TOPICS)
    query: Query  # the page's URL state the task sets
    kind: Kind
    lecture: str  # the lecture section (app.lessons.lecture.SECTIONS)
    tensor: str = ""  # number: the cell's tensor; cells: a layer's dout; size: the tensor
    index: tuple[int, ...] = ()  # number, cells: the cell; map: the plane's leading index
    lab: tuple[str, int] | None = None  # choice: (surface, run of its lecture cases)
    choices: tuple[str, ...] = ()  # choice: the outcomes offered (engine.lab OUTCOMES)
    # choice: whose gradient reaches t = 1 on the RNN page's chart, at the task's scale
    # and nonlinearity (app/answers.py gradient_reach; choices: answers.REACH_CHOICES)
    reach: bool = False
    # URL keys a student may change without leaving the task (the player's position)
    free: tuple[str, ...] = ("frame", "step")
    values: dict[str, Any] = field(default_factory=dict)  # the ask's {placeholders}
    example: bool = False  # one of the lecture's own worked examples, with its numbers

    @property
    def needs_session(self) -> bool:
        """Whether the answer is read from the page's session (all but the lab's tasks
        and the gradient chart's, which run their own models)."""
        return self.lab is None and not self.reach

    def public(self) -> dict[str, Any]:
        """The task as GET /api/lessons lists it (no answer: that is worked out on a
        check, from the student's session)."""
        out: dict[str, Any] = {"id": self.id, "topic": self.topic, "kind": self.kind,
                               "query": self.query, "free": list(self.free),
                               "lecture": self.lecture, "example": self.example}  # fmt: skip
        if self.tensor:
            out["tensor"] = self.tensor
            out["index"] = list(self.index)
        if self.choices:
            out["choices"] = list(self.choices)
        if self.lab is not None:
            out["lab"] = {"surface": self.lab[0], "run": self.lab[1]}
        out["needs_session"] = self.needs_session
        return out


def _load() -> dict[str, Task]:
    from app.lessons.topics import ALL

    tasks: dict[str, Task] = {}
    for t in ALL:
        if t.id in tasks:
            raise ValueError(f"two lesson tasks are called {t.id!r}")
        tasks[t.id] = t
    return tasks


TASKS: dict[str, Task] = _load()


def task(task_id: str) -> Task:
    """The task `task_id`; LookupError naming the known ones otherwise."""
    try:
        return TASKS[task_id]
    except KeyError:
        raise LookupError(f"no lesson task {task_id!r}; tasks: {', '.join(TASKS)}") from None


def topic_tasks(topic: str) -> list[Task]:
    """A walkthrough's tasks, in order."""
    return [t for t in TASKS.values() if t.topic == topic]
