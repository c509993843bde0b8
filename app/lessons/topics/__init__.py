"""Every walkthrough's guided tasks, in the pages' teaching order (one module a page)."""

from app.lessons.model import Task
from app.lessons.topics import bp, cnn, conv, lab, pool, rnn, tensor

ALL: tuple[Task, ...] = (
    *conv.TASKS, *tensor.TASKS, *pool.TASKS, *cnn.TASKS, *bp.TASKS, *lab.TASKS, *rnn.TASKS,
)  # fmt: skip
