"""Questions about what a page shows, answered from the engine's numbers.

A live class's questions (app/classes/questions.py) and a guided lesson's tasks
(app/lessons/) both ask a student to predict a number the engine computed, and both
check the answer here, on the server, never in a page. The kinds:

- "number": what is this cell of a recorded tensor? Right within NUMBER_ABS_TOL +
  NUMBER_REL_TOL x |value| (the rounding a page shows), with the cell's explanation;
- "cell": where does this delta go? (a cell of a layer's `dout`): the cells of that
  layer's `dx` whose explanation takes that delta with a weight other than 0 (a max
  pool's one recorded position, an average pool's whole window, the input pixels a
  convolution output touched through a kernel weight), with the amount each gets;
- "size": how many rows and columns does this tensor have?
- "map": every number of one 2-D map (a lecture's worked result, such as its 3x3
  convolution output), each right within the number tolerance;
- "choice": which of the lecture's cases is this learning rate? (a lab descent).

Each answer is worked out from a session as the student sees it (a Live); a question
about a number the page has not reached yet is answered on a copy stepped on to it
(`stepped_to`), so predicting never changes the student's own pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product
from typing import Any

from app.classes.model import ClassError
from app.encoding import json_number
from app.sessions.explain import explain
from app.sessions.state import Live
from engine.explain import NotExplainable, explain_tensor
from engine.lab import compare

# The page shows 3 significant digits: 1 % of the value takes its rounding (and a value
# typed to 2 digits); the small absolute part lets a value near 0 be typed as 0. Two
# numbers of a step that differ by 4 % (an LSTM unit's f x c_(t-1) = 0.0568 and
# i x g = 0.0589) are told apart.
NUMBER_ABS_TOL = 0.001
NUMBER_REL_TOL = 0.01
MAX_TARGET_CELLS = 4096  # a "cell" question looks at every cell of the delta's layer input
# The lecture's cases a "choice" question offers (and the answer, if it is another).
LECTURE_CASES = ("good", "too-small", "too-large", "local-minimum", "saddle")


def bad(code: str, detail: str, **values: object) -> ClassError:
    """A 422 with a catalog code (error.<code>, en and zh-CN) and an English detail."""
    return ClassError(422, code, detail, None, **values)


def index_text(index: list[int] | tuple[int, ...]) -> str:
    return ",".join(str(i) for i in index)


def stepped_to(live: Live, names: tuple[str, ...], fresh: Callable[[], Live]) -> Live:
    """`live` if its pass has recorded every one of `names`, else `fresh()` (another
    copy of the same session, rebuilt from the store) stepped on until it has them or
    its pass ends: predicting never changes the student's own pass."""
    if all(n in live.run.trace for n in names):
        return live
    ahead = fresh()
    run = ahead.run
    while not all(n in run.trace for n in names) and not run.done:
        run.step()
    return ahead


def _in_shape(index: list[int] | tuple[int, ...], shape: tuple[int, ...], name: str) -> None:
    if len(index) != len(shape) or any(not 0 <= i < s for i, s in zip(index, shape, strict=False)):
        raise bad("question_index", f"index {list(index)} is outside {name}'s shape {list(shape)}")


def recorded(live: Live, *names: str) -> None:
    """422 question_not_recorded unless the pass has recorded every one of `names`."""
    for name in names:
        if name not in live.run.trace:
            raise bad("question_not_recorded", f"{name} is not recorded in this pass: step to "
                      "where it is made first", tensor=name)  # fmt: skip


def number(live: Live, name: str, index: list[int]) -> dict[str, Any]:
    """The number at trace[name][index], its tolerance and explanation (None for a
    number no rule explains, such as an input)."""
    recorded(live, name)
    shape = tuple(live.run.trace[name].shape)
    _in_shape(index, shape, name)
    exp: dict[str, Any] | None
    try:
        exp = explain(live, name, tuple(index))
        value = exp["value"]
    except NotExplainable:  # a number no rule explains (e.g. an input): its value alone
        exp = None
        value = json_number(float(live.run.trace[name][tuple(index)]))
    if not isinstance(value, float | int) or not math.isfinite(value):
        raise bad("question_not_finite", f"{name}[{index_text(index)}] is {value}: a "
                  "question needs a finite number (this pass diverged)")  # fmt: skip
    tolerance = NUMBER_ABS_TOL + NUMBER_REL_TOL * abs(value)
    return {"value": value, "tolerance": tolerance, "explanation": exp}


def cells(
    live: Live, name: str, index: list[int], max_cells: int = MAX_TARGET_CELLS
) -> dict[str, Any]:
    """Where the delta trace[name][index] (a layer's `dout`) goes: the cells of that
    layer's `dx` it reaches with a weight other than 0, and how much each gets."""
    layer, _, what = name.partition(".")
    if what != "dout":
        raise bad("question_not_delta", f"{name} is not a layer's output delta "
                  "(<layer>.dout): ask where a delta goes of a dout cell")  # fmt: skip
    target = f"{layer}.dx"
    recorded(live, name, target)
    trace = live.run.trace
    _in_shape(index, tuple(trace[name].shape), name)
    shape = trace[target].shape
    if math.prod(shape) > max_cells:
        raise bad("question_too_big", f"{target} has {math.prod(shape)} cells; a 'cell' "
                  f"question looks at most {max_cells}")  # fmt: skip
    at_source = tuple(index)
    found = []
    for at in product(*(range(s) for s in shape)):
        try:
            exp, names = explain_tensor(live.net, trace, live.run.optimizer, target, at)
        except NotExplainable:
            why = f"{target} has no explanation here: where the delta goes is not known"
            raise bad("question_not_delta", why) from None
        for term in exp.terms:
            mine = [f for f in term.factors
                    if names.get(f.tensor, f.tensor) == name and f.index == at_source]  # fmt: skip
            others = [f for f in term.factors if f not in mine]
            if mine and all(f.value != 0 for f in others):
                found.append({"index": list(at), "amount": json_number(term.product)})
    try:
        explanation = explain(live, name, at_source)
    except (NotExplainable, LookupError):
        explanation = None
    delta = json_number(float(trace[name][at_source]))
    return {"target": target, "target_shape": list(shape), "cells": found, "delta": delta,
            "explanation": explanation}  # fmt: skip


def size(live: Live, name: str) -> dict[str, Any]:
    """The rows and columns (the last two axes) of trace[name]."""
    recorded(live, name)
    shape = tuple(live.run.trace[name].shape)
    return {"size": [int(s) for s in shape[-2:]], "shape": list(shape)}


def plane(live: Live, name: str, lead: list[int]) -> dict[str, Any]:
    """Every number of one 2-D map of trace[name] (the plane at the leading index
    `lead`), each right within the tolerance a "number" answer has."""
    recorded(live, name)
    data = live.run.trace[name]
    shape = tuple(data.shape)
    _in_shape([*lead, 0, 0], shape, name)
    values = [[json_number(float(v)) for v in row] for row in data[tuple(lead)]]
    if not all(isinstance(v, float | int) and math.isfinite(v) for row in values for v in row):
        raise bad("question_not_finite", f"{name}[{index_text(lead)}] has a number that is not "
                  "finite (this pass diverged)")  # fmt: skip
    return {"map": values, "shape": [int(s) for s in shape[-2:]]}


def _close(x: float, value: float) -> bool:
    return abs(x - value) <= NUMBER_ABS_TOL + NUMBER_REL_TOL * abs(value)


def lab_case(lab: dict[str, Any]) -> dict[str, Any]:
    """The lecture case (and outcome) of one lab descent {surface, start, steps, run}."""
    run = {k: v for k, v in lab["run"].items() if v is not None}
    if run.get("optimizer", "sgd") != "momentum":
        run.pop("momentum", None)
    start = (float(lab["start"][0]), float(lab["start"][1]))
    try:
        path = compare(lab["surface"], start, [run], int(lab["steps"]))[0]
    except ValueError as exc:  # an unknown surface, a rate or start it refuses
        raise bad("question_lab", str(exc)) from None
    return {"choice": path.case, "outcome": path.outcome, "text": path.text, "run": run}


def check(kind: str, answer: dict[str, Any], given: dict[str, Any],
          choices: list[str] | None = None) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """A student's answer in its stored form, and whether it is right. `choices`: the
    choices offered (a choice outside them is a 422). A "cells" answer is right when it
    names exactly the cells that receive the delta; a "cell" answer (one click, a live
    class) when it names one of them."""
    if kind == "number":
        if given.get("number") is None:
            raise bad("answer_kind", "this question wants a number: {\"number\": 4.0}",
                      want="number")  # fmt: skip
        x = float(given["number"])
        return {"number": x}, abs(x - answer["value"]) <= answer["tolerance"]
    if kind in ("cell", "cells"):
        right = {tuple(c["index"]) for c in answer["cells"]}
        if kind == "cell":
            if given.get("index") is None:
                raise bad("answer_kind", "this question wants a cell: {\"index\": [0, 0, 1, 2]}",
                          want="index")  # fmt: skip
            at = [int(i) for i in given["index"]]
            return {"index": at}, tuple(at) in right
        if given.get("cells") is None:
            raise bad("answer_kind", "this question wants cells: {\"cells\": [[0, 0, 1, 2]]}",
                      want="cells")  # fmt: skip
        picked = sorted({tuple(int(i) for i in c) for c in given["cells"]})
        if "target_shape" in answer:  # a cell outside the grid asked about is a mistake
            for c in picked:
                _in_shape(c, tuple(answer["target_shape"]), answer["target"])
        return {"cells": [list(c) for c in picked]}, set(picked) == right
    if kind == "map":
        got = given.get("map")
        want = answer["map"]
        if not isinstance(got, list) or [len(r) for r in got] != [len(r) for r in want]:
            rows, cols = answer["shape"]
            raise bad("answer_kind", f"this question wants the whole {rows} x {cols} map: "
                      "{\"map\": [[...], ...]}", want="map")  # fmt: skip
        numbers = [[float(x) for x in row] for row in got]
        every = all(_close(x, v) for r, w in zip(numbers, want, strict=True)
                    for x, v in zip(r, w, strict=True))  # fmt: skip
        return {"map": numbers}, every
    if kind == "size":
        got = given.get("size")
        if not isinstance(got, list) or len(got) != 2:
            raise bad("answer_kind", "this question wants rows and columns: {\"size\": [3, 3]}",
                      want="size")  # fmt: skip
        rows_cols = [int(got[0]), int(got[1])]
        return {"size": rows_cols}, rows_cols == answer["size"]
    if given.get("choice") is None:
        raise bad("answer_kind", "this question wants a choice: {\"choice\": \"too-large\"}",
                  want="choice")  # fmt: skip
    choice = str(given["choice"])
    if choices is not None and choice not in choices:
        raise bad("answer_choice", f"{choice!r} is not one of {choices}")
    return {"choice": choice}, choice == answer["choice"]
