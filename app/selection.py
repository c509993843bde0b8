"""What a page asks for, and nothing more: tensors by name, and per-time-step series.

A step response can carry only the tensors a page draws (`?names=conv1.out,pool1.*`),
and a pass's scalars recorded once per time step (`<layer>.t<t>.dh_norm`) can be read
as one small array per layer instead of as one tensor per step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

import numpy as np

from app.views import loss_value
from engine.layers.recurrent_cells import STEP_SERIES
from engine.trace import Trace

# A name or a glob of names: the trace's characters plus * ? [ ] (fnmatch).
_NAME = r"[A-Za-z0-9_.\-*?\[\]]+"
_PATTERN = re.compile(_NAME)
MAX_PATTERNS = 64
# The grammars above, stated in the OpenAPI schema (app/routers/sessions.py) so that
# a request the schema calls valid is one the server accepts; the checks here give a
# request outside them a 422 that says what is wrong in words, not as a regex.
NAMES_PATTERN = rf"^ *{_NAME} *(, *{_NAME} *){{0,{MAX_PATTERNS - 1}}}$"
_QUANTITY = "(" + "|".join(STEP_SERIES) + ")"
QUANTITY_PATTERN = f"^{_QUANTITY}$"
SERIES_PATTERN = rf"^ *{_QUANTITY} *(, *{_QUANTITY} *)*$"
_PER_STEP = re.compile(r"^(?P<layer>.+)\.t(?P<t>\d+)\.(?P<what>\w+)$")


def name_filter(text: str | None) -> Callable[[str], bool] | None:
    """The tensors `names` asks for (comma-separated names or fnmatch globs), or None for
    all; a ValueError (422) says what is wrong with the list."""
    if text is None:
        return None
    patterns = [p.strip() for p in text.split(",")]
    if not any(patterns):
        raise ValueError("names is empty: give tensor names or globs, e.g. conv1.out,pool1.*")
    if len(patterns) > MAX_PATTERNS:
        raise ValueError(f"names has {len(patterns)} entries; at most {MAX_PATTERNS}")
    for p in patterns:
        if not _PATTERN.fullmatch(p):
            raise ValueError(
                f"names entry {p!r} is not a tensor name or glob (letters, digits, _ . - "
                "and the glob characters * ? [ ]), e.g. conv1.out or pool1.*"
            )
    exact = {p for p in patterns if not any(c in p for c in "*?[")}
    globs = [p for p in patterns if p not in exact]
    return lambda name: name in exact or any(fnmatchcase(name, g) for g in globs)


def series_list(text: str | None) -> list[str]:
    """The quantities `series` asks for (comma-separated), each checked by its form."""
    if text is None:
        return []
    quantities = [q.strip() for q in text.split(",")]
    for q in quantities:
        _check_quantity(q)
    return quantities


def _check_quantity(quantity: str) -> None:
    if quantity not in STEP_SERIES:
        raise ValueError(
            f"{quantity!r} is not a series a pass records; these are: {', '.join(STEP_SERIES)}"
        )


def series_payload(trace: Trace, quantity: str, missing_ok: bool = False) -> dict[str, Any]:
    """Each layer's `<layer>.t<t>.<quantity>` scalars of this pass as one list indexed by
    t (null where that time step has not recorded it yet: backward runs from the last
    t down). None recorded: LookupError (404), or no layers with `missing_ok`."""
    _check_quantity(quantity)
    found: dict[str, dict[int, float | str | None]] = {}
    for name in trace.tensors:
        m = _PER_STEP.match(name)
        if m is None or m["what"] != quantity:
            continue
        value = float(np.asarray(trace[name]).reshape(()))  # STEP_SERIES are scalars
        found.setdefault(m["layer"], {})[int(m["t"])] = loss_value(value)
    if not found and not missing_ok:
        raise LookupError(
            f"no <layer>.t<t>.{quantity} in this pass yet (dh_norm and dc_norm are recorded "
            "by the backward phase: run it first)"
        )
    layers = {layer: [by_t.get(t) for t in range(max(by_t) + 1)] for layer, by_t in found.items()}
    return {"quantity": quantity, "layers": layers}
