"""The learning-rate lab's guided tasks (static/js/views/lab.js: its URL state is
surface, start, runs, steps and frame; empty runs are the surface's lecture cases).

Each task asks what one of the lecture's cases (engine.lab.lecture.LECTURE) will do
before the student plays it: the four learning rates on the bowl (学习率的重要性:
too small, good, oscillating, diverging), then a local minimum and a saddle point."""

from app.lessons.model import Query, Task

BOWL = ("converged", "slow", "oscillating", "diverged")
TRAPS = ("converged", "local-minimum", "saddle", "diverged")


def _case(task_id: str, surface: str, run: int, choices: tuple[str, ...]) -> Task:
    query: Query = {"surface": surface, "start": "", "runs": "", "steps": 0, "frame": 0}
    return Task(task_id, "learning-rate", query, "choice", "learning-rate", lab=(surface, run),
                choices=choices, example=True)  # fmt: skip


TASKS: tuple[Task, ...] = (
    _case("lab-bowl-small", "bowl", 0, BOWL),
    _case("lab-bowl-good", "bowl", 1, BOWL),
    _case("lab-bowl-oscillate", "bowl", 2, BOWL),
    _case("lab-bowl-diverge", "bowl", 3, BOWL),
    _case("lab-local-minimum", "local-minima", 0, TRAPS),
    _case("lab-saddle", "saddle", 0, TRAPS),
)
