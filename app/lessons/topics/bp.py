"""The guided tasks of the bp page (app/lessons/model.py says what a task is)."""

from app.lessons.model import Task

TASKS: tuple[Task, ...] = ()
