"""Questions a teacher asks the class, answered from the engine's numbers.

Three kinds, each about something on the teacher's screen:

- "number": what is this cell? (a recorded tensor of the teacher's session); right
  within NUMBER_ABS_TOL + NUMBER_REL_TOL x |value|, the rounding a page shows;
- "cell": where does this delta go? (a cell of a layer's `dout`): the cells of that
  layer's `dx` whose explanation takes that delta with a weight other than 0 (a max
  pool's one recorded position, an average pool's whole window, the input pixels a
  convolution output touched through a kernel weight);
- "choice": which of the lecture's cases is this learning rate? (a lab descent).

The answer, and what the reveal shows, is worked out when the question is posed:
from the session as the teacher sees it then. Students' answers are checked against
it by the server, never by a page.
"""

from __future__ import annotations

from typing import Any

from app import answers
from app.answers import LECTURE_CASES, MAX_TARGET_CELLS, NUMBER_ABS_TOL, NUMBER_REL_TOL, bad
from app.sessions import SessionService

__all__ = [
    "MAX_TARGET_CELLS",
    "NUMBER_ABS_TOL",
    "NUMBER_REL_TOL",
    "answer_key",
    "check",
    "pose",
    "tally",
]


def pose(service: SessionService, ask: dict[str, Any]) -> dict[str, Any]:
    """The question (public part) with "answer" (what the reveal shows) and "source"."""
    kind = ask["kind"]
    if kind == "number":
        sid, name, index = ask["session"], ask["tensor"], list(ask["index"])
        with service.session(sid) as live:
            answer = answers.number(live, name, index)
        return {"kind": "number", "tensor": name, "index": index, "answer": answer,
                "source": {"session": sid}}  # fmt: skip
    if kind == "cell":
        sid, name, index = ask["session"], ask["tensor"], list(ask["index"])
        with service.session(sid) as live:
            found = answers.cells(live, name, index)
        target = found.pop("target")
        found.pop("target_shape")
        return {"kind": "cell", "tensor": name, "index": index, "target": target,
                "answer": found, "source": {"session": sid}}  # fmt: skip
    if kind != "choice":
        raise bad("answer_kind", f"no question kind {kind!r}", want=kind)
    found = answers.lab_case(ask["lab"])
    run = found.pop("run")
    case = found["choice"]  # one of engine.lab.outcomes.CASES
    choices = list(LECTURE_CASES) + ([case] if case not in LECTURE_CASES else [])
    return {"kind": "choice", "lab": {**ask["lab"], "run": run}, "choices": choices,
            "answer": found, "source": {}}  # fmt: skip


def check(question: dict[str, Any], given: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A student's answer in its stored form, and whether it is right."""
    return answers.check(question["kind"], question["answer"], given, question.get("choices"))


def answer_key(kind: str, answer: dict[str, Any]) -> str:
    """How answers are grouped in the tally: a number as given (6 significant digits:
    two answers in one row are the same number, so both right or both wrong; -0 is 0),
    a cell's index, a choice."""
    if kind == "number":
        return f"{answer['number'] + 0.0:.6g}"
    if kind == "cell":
        return ",".join(str(i) for i in answer["index"])
    return str(answer["choice"])


def tally(
    question: dict[str, Any], answers: list[dict[str, Any]], revealed: bool
) -> dict[str, Any]:
    """Counts of each answer (most given first); which are right once revealed."""
    counts: dict[str, list[int]] = {}
    for a in answers:
        key = answer_key(question["kind"], a["answer"])
        seen = counts.setdefault(key, [0, 0])
        seen[0] += 1
        seen[1] += bool(a["correct"])
    rows = [{"answer": k, "count": n, "correct": (c > 0) if revealed else None}
            for k, (n, c) in sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))]  # fmt: skip
    right = sum(1 for a in answers if a["correct"])
    return {"total": len(answers), "counts": rows, "right": right if revealed else None}
