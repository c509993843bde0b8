"""Guided lessons: on each walkthrough, short tasks that set the page to a state and
ask the student to predict a number, a size, the cells a delta reaches or a lab
outcome before they see it; the server checks the answer from the engine's numbers
(app/answers.py). The lecture's worked examples are tasks too, each linked to the
lecture's section that discusses it (app/lessons/lecture.py)."""

from app.lessons.model import TASKS, Task, task, topic_tasks

__all__ = ["TASKS", "Task", "task", "topic_tasks"]
