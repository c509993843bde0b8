"""What a page needs to know about a recorded tensor besides its numbers: whether a
click on one of its cells gets an explanation, and what its cells are called.

Explainable means the explain route answers for it: this asks the same function
(app.sessions.explain.explain, the engine's explain entry point) for the tensor's
first cell, so the flag and GET .../explain cannot disagree. The cell name is a
catalog key (app/locales: "cell.activation", "cell.part.f", ...) the page resolves
in its language: an LSTM/RNN step's vectors are named by the lecture's terms (forget
gate, cell state, ...), every other tensor by its role.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from app.sessions.explain import explain
from app.sessions.state import Live

Facts = Callable[[str], dict[str, Any]]

# A recurrent step's vectors: lstm1.t3.f, bilstm1.bwd.t0.c, rnn1.t2.h (gate order i, f, g, o).
_STEP_PART = re.compile(r"\.t\d+\.([ifgoch])$")


def cell_key(name: str, role: str) -> str:
    """The catalog key naming one cell of tensor `name` (with trace role `role`)."""
    m = _STEP_PART.search(name)
    return f"cell.part.{m.group(1)}" if m else f"cell.{role}"


def is_explainable(live: Live, name: str) -> bool:
    """Whether GET .../explain answers for `name` (asked for its first cell)."""
    a = live.run.trace[name]
    if a.size == 0:
        return False
    try:
        explain(live, name, (0,) * a.ndim)
    except (KeyError, IndexError, ValueError):  # NotExplainable is a ValueError
        return False
    return True


def tensor_facts(live: Live) -> Facts:
    """name -> {explainable, cell} for the tensors of `live`'s pass.

    The explain rules go by the network, the optimizer and a name's form, not by the
    numbers nor a time step's number, except at the first and the last step (the
    initial state, the head's delta). So one tensor of each form is asked, once per
    network and process (lstm1.t5.f answers for lstm1.t3.f): asking all 1,074 tensors
    of a BiLSTM pass took 250 ms, five times the pass's own payload."""
    steps = [s.t for s in live.run.plan if s.t is not None]
    last = max(steps) if steps else -1
    network = orjson.dumps([live.net.spec(), live.run.optimizer.kind], option=orjson.OPT_SORT_KEYS)
    if len(_KNOWN) > _KNOWN_MAX:  # a bound on memory; presets refill it quickly
        _KNOWN.clear()
    known = _KNOWN.setdefault(network, {})

    def form(m: re.Match[str]) -> str:
        t = int(m.group(1))
        return ".t0." if t == 0 else ".tLAST." if t == last else ".tMID."

    def facts(name: str) -> dict[str, Any]:
        key = _TIME.sub(form, name)
        ok = known.get(key) or is_explainable(live, name)
        if ok:  # only a yes is kept: a no may come from a pass not run far enough yet
            known[key] = True
        return {
            "explainable": ok,
            "cell": cell_key(name, live.run.trace.tensors[name].role),
        }

    return facts


_TIME = re.compile(r"\.t(\d+)\.")
_KNOWN: dict[bytes, dict[str, bool]] = {}  # network -> name form -> explainable
_KNOWN_MAX = 256
