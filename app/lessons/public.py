"""The tasks as a page and a script see them: their words in every language, their
lecture section, no answer. GET /api/lessons returns them; a walkthrough page gets its
own with its HTML (templates/learn.html), so the guided path costs no request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.i18n import every_language, fill, t
from app.lessons.check import values
from app.lessons.lecture import SECTION_IDS
from app.lessons.model import TASKS, Task


def both(key: str, **vals: Any) -> dict[str, str]:
    """The catalog string `key` in every language, its placeholders filled (an
    optimizer by its name in that language)."""

    def render(lang: str) -> str:
        named = dict(vals)
        if "optimizer" in named:
            named["optimizer"] = t(f"lab.opt.{named['optimizer']}", lang)
        return fill(key, lang, **named)

    return every_language(render)


def lecture_link(section: str) -> dict[str, Any]:
    """A lecture section's id, title (every language) and place on /lecture."""
    return {"id": section, "title": both(f"lecture.{section}"), "href": f"/lecture#{section}"}


def public(task: Task) -> dict[str, Any]:
    """The task with its words (title, ask, note; a choice's labels) and lecture link."""
    out = task.public()
    vals = values(task)
    out.update({key: both(f"lesson.{task.id}.{key}", **vals) for key in ("title", "ask", "note")})
    out["lecture"] = lecture_link(task.lecture)
    if task.choices:
        out["choice_labels"] = {c: both(f"lesson.outcome.{c}") for c in task.choices}
    return out


def listing(topics: Iterable[str]) -> dict[str, Any]:
    """Each topic's tasks in order, and the lecture's sections."""
    by_topic = {topic: [public(x) for x in TASKS.values() if x.topic == topic] for topic in topics}
    return {"topics": by_topic, "lecture": [lecture_link(s) for s in SECTION_IDS]}
