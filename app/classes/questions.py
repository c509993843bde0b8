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

import math
from itertools import product
from typing import Any

from app.classes.model import ClassError
from app.encoding import json_number
from app.sessions import SessionService
from app.store.base import SessionNotFound
from engine.explain import NotExplainable, explain_tensor
from engine.lab import compare

NUMBER_ABS_TOL = 0.01
NUMBER_REL_TOL = 0.01
MAX_TARGET_CELLS = 4096  # a "cell" question looks at every cell of the delta's layer input
# The lecture's cases a "choice" question offers (and the answer, if it is another).
LECTURE_CASES = ("good", "too-small", "too-large", "local-minimum", "saddle")


def _bad(code: str, detail: str, **values: object) -> ClassError:
    return ClassError(422, code, detail, None, **values)


def _index_text(index: list[int]) -> str:
    return ",".join(str(i) for i in index)


def pose(service: SessionService, ask: dict[str, Any]) -> dict[str, Any]:
    """The question (public part) with "answer" (what the reveal shows) and "source"."""
    kind = ask["kind"]
    if kind == "number":
        return _number(service, ask)
    if kind == "cell":
        return _cell(service, ask)
    return _choice(ask)


def _number(service: SessionService, ask: dict[str, Any]) -> dict[str, Any]:
    sid, name, index = ask["session"], ask["tensor"], list(ask["index"])
    exp: dict[str, Any] | None
    try:
        exp = service.explain(sid, name, _index_text(index))
        value = exp["value"]
    except NotExplainable:  # a number no rule explains (e.g. an input): its value alone
        exp = None
        _, record, _ = service.tensor(sid, name)
        if len(index) != record.data.ndim or any(
            not 0 <= i < s for i, s in zip(index, record.data.shape, strict=False)
        ):
            raise _bad("question_index", f"index {index} is outside {name}'s shape "
                       f"{list(record.data.shape)}") from None  # fmt: skip
        value = json_number(float(record.data[tuple(index)]))
    except SessionNotFound:
        raise
    except LookupError:  # a tensor this pass has not recorded (yet)
        raise _bad("question_not_recorded", f"{name} is not recorded in this pass yet: step "
                   "to where it is made first", tensor=name) from None  # fmt: skip
    except ValueError as exc:  # an index that does not fit the tensor
        raise _bad("question_index", str(exc)) from None
    if not isinstance(value, float | int) or not math.isfinite(value):
        raise _bad("question_not_finite", f"{name}[{_index_text(index)}] is {value}: a "
                   "question needs a finite number (this pass diverged)")  # fmt: skip
    tolerance = NUMBER_ABS_TOL + NUMBER_REL_TOL * abs(value)
    return {"kind": "number", "tensor": name, "index": index,
            "answer": {"value": value, "tolerance": tolerance, "explanation": exp},
            "source": {"session": sid}}  # fmt: skip


def _cell(service: SessionService, ask: dict[str, Any]) -> dict[str, Any]:
    sid, name, index = ask["session"], ask["tensor"], tuple(ask["index"])
    layer, _, what = name.partition(".")
    if what != "dout":
        raise _bad("question_not_delta", f"{name} is not a layer's output delta "
                   "(<layer>.dout): ask where a delta goes of a dout cell")  # fmt: skip
    target = f"{layer}.dx"
    with service.session(sid) as live:
        trace = live.run.trace
        if name not in trace or target not in trace:
            raise _bad("question_not_recorded", f"{name} and {target} are not both recorded "
                       "yet: step through the backward pass first", tensor=target)  # fmt: skip
        shape = trace[target].shape
        if math.prod(shape) > MAX_TARGET_CELLS:
            raise _bad("question_too_big", f"{target} has {math.prod(shape)} cells; a "
                       f"'cell' question looks at most {MAX_TARGET_CELLS}")  # fmt: skip
        if len(index) != len(trace[name].shape) or any(
            not 0 <= i < s for i, s in zip(index, trace[name].shape, strict=False)
        ):
            raise _bad("question_index", f"index {list(index)} is outside {name}'s shape "
                       f"{list(trace[name].shape)}")  # fmt: skip
        cells = []
        for at in product(*(range(s) for s in shape)):
            try:
                exp, names = explain_tensor(live.net, trace, live.run.optimizer, target, at)
            except NotExplainable:
                why = f"{target} has no explanation here: where the delta goes is not known"
                raise _bad("question_not_delta", why) from None
            for term in exp.terms:
                mine = [f for f in term.factors
                        if names.get(f.tensor, f.tensor) == name and f.index == index]  # fmt: skip
                others = [f for f in term.factors if f not in mine]
                if mine and all(f.value != 0 for f in others):
                    cells.append({"index": list(at), "amount": json_number(term.product)})
        delta = json_number(float(trace[name][index]))
    try:
        explanation = service.explain(sid, name, _index_text(list(index)))
    except (NotExplainable, LookupError):
        explanation = None
    return {"kind": "cell", "tensor": name, "index": list(index), "target": target,
            "answer": {"cells": cells, "delta": delta, "explanation": explanation},
            "source": {"session": sid}}  # fmt: skip


def _choice(ask: dict[str, Any]) -> dict[str, Any]:
    lab = ask["lab"]
    run = {k: v for k, v in lab["run"].items() if v is not None}
    if run.get("optimizer", "sgd") != "momentum":
        run.pop("momentum", None)
    start = (float(lab["start"][0]), float(lab["start"][1]))
    try:
        path = compare(lab["surface"], start, [run], int(lab["steps"]))[0]
    except ValueError as exc:  # an unknown surface, a rate or start it refuses
        raise _bad("question_lab", str(exc)) from None
    case = path.case  # one of engine.lab.outcomes.CASES
    choices = list(LECTURE_CASES) + ([case] if case not in LECTURE_CASES else [])
    return {"kind": "choice", "lab": {**lab, "run": run}, "choices": choices,
            "answer": {"choice": case, "outcome": path.outcome, "text": path.text},
            "source": {}}  # fmt: skip


def check(question: dict[str, Any], given: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A student's answer in its stored form, and whether it is right."""
    kind, answer = question["kind"], question["answer"]
    if kind == "number":
        if given.get("number") is None:
            raise _bad("answer_kind", "this question wants a number: {\"number\": 4.0}",
                       want="number")  # fmt: skip
        x = float(given["number"])
        return {"number": x}, abs(x - answer["value"]) <= answer["tolerance"]
    if kind == "cell":
        if given.get("index") is None:
            raise _bad("answer_kind", "this question wants a cell: {\"index\": [0, 0, 1, 2]}",
                       want="index")  # fmt: skip
        at = [int(i) for i in given["index"]]
        return {"index": at}, any(c["index"] == at for c in answer["cells"])
    if given.get("choice") is None:
        raise _bad("answer_kind", "this question wants a choice: {\"choice\": \"too-large\"}",
                   want="choice")  # fmt: skip
    choice = str(given["choice"])
    if choice not in question["choices"]:
        raise _bad("answer_choice", f"{choice!r} is not one of {question['choices']}")
    return {"choice": choice}, choice == answer["choice"]


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
