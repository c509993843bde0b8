"""What a page needs to know about a recorded tensor besides its numbers: whether a
click on one of its cells gets an explanation, and what its cells are called.

Explainable means the explain route answers for it: engine.explain.explainable asks
the same rule lookup that explain_tensor runs (by the name's form, the network and
the optimizer; nothing is computed), so the flag and GET .../explain cannot disagree.
The cell name is a catalog key (app/locales: "cell.activation", "cell.part.f", ...)
the page resolves in its language: an LSTM/RNN step's vectors are named by the
lecture's terms (forget gate, cell state, ...), every other tensor by its role.

The service computes the facts while it holds the session lock (the network and the
optimizer are shared with later requests of the session); the router only reads them.
A fact that fails is logged and answered "not explainable": a page loses a click,
never its step.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from app.sessions.state import Live
from engine.explain import explainable

log = logging.getLogger(__name__)

Facts = Callable[[str], dict[str, Any]]

# A recurrent step's vectors: lstm1.t3.f, bilstm1.bwd.t0.c, rnn1.t2.h (gate order i, f, g, o),
# and c's two terms lstm1.t3.fc (f · c_(t-1)) and .ig (i · g).
_STEP_PART = re.compile(r"\.t\d+\.([ifgoch]|fc|ig)$")


def cell_key(name: str, role: str) -> str:
    """The catalog key naming one cell of tensor `name` (with trace role `role`)."""
    m = _STEP_PART.search(name)
    return f"cell.part.{m.group(1)}" if m else f"cell.{role}"


def is_explainable(live: Live, name: str) -> bool:
    """Whether GET .../explain answers for `name`; false (and logged) if asking fails."""
    try:
        return explainable(live.net, live.run.optimizer, name)
    except Exception:  # a bug in a rule lookup must not fail the step that sends the tensor
        log.exception("explainable(%r) failed; the tensor is sent as not explainable", name)
        return False


def tensor_facts(live: Live, names: Iterable[str]) -> Facts:
    """name -> {explainable, cell} for `names` of `live`'s pass, computed now: call it
    under the session lock. A name not among `names` answers not explainable."""
    records = live.run.trace.tensors
    table: dict[str, dict[str, Any]] = {}
    for name in names:
        if name not in table:
            table[name] = {"explainable": is_explainable(live, name),
                           "cell": cell_key(name, records[name].role)}  # fmt: skip

    def facts(name: str) -> dict[str, Any]:
        known = table.get(name)
        if known is not None:
            return known
        log.error("no tensor facts were computed for %r; sent as not explainable", name)
        role = records[name].role if name in records else "output"  # a key the catalog has
        return {"explainable": False, "cell": cell_key(name, role)}

    return facts
