"""The guided tasks of the tensor page (app/lessons/model.py says what a task is)."""

from app.lessons.model import Task

TASKS: tuple[Task, ...] = ()
