"""The rules the pages follow, stated once by the server: the configured limits, the
presets each page offers, and the choices of the BP, RNN and lab pages.

`GET /api/rules` answers with them, and each walkthrough page has them injected by
its template (no extra request); static/js/rules.js reads them there. The lists are
read from the request schemas that enforce them, so what a page offers is what the
API accepts.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from app.schemas.bp import LR_MAX, MAX_COMPARE_RUNS, Activation, BPLoss, BPOptimizer, Dataset
from app.schemas.lab import lab_rules
from app.schemas.sessions import Overrides
from app.settings import Settings
from engine.presets import list_presets

# The preset topics each walkthrough page offers in its preset menu.
PAGE_TOPICS: dict[str, tuple[str, ...]] = {"cnn": ("cnn",), "rnn": ("rnn", "lstm")}


def choices(annotation: Any) -> list[str]:
    """The values of a Literal (or of the Literal in `Literal[...] | None`), in order."""
    out: list[str] = []
    for arg in get_args(annotation):
        out += choices(arg) if get_args(arg) else [arg] if isinstance(arg, str) else []
    return out


def _field(model: type[BaseModel], name: str) -> list[str]:
    return choices(model.model_fields[name].annotation)


def rules(settings: Settings) -> dict[str, Any]:
    """Everything a page needs to know before it asks for anything."""
    limits = settings.limits
    presets = list_presets()
    return {
        "limits": limits.model_dump(),
        "presets": [
            {
                "name": p.name,
                "topic": p.topic,
                "trained": p.trained,
                "reads_numbers": p.reads_numbers,
            }
            for p in presets
        ],  # fmt: skip
        "pages": {
            page: [p.name for p in presets if p.topic in topics]
            for page, topics in PAGE_TOPICS.items()
        },
        "bp": {
            "datasets": choices(Dataset),
            "activations": choices(Activation),
            "losses": choices(BPLoss),
            "optimizers": choices(BPOptimizer),
            "max_layers": limits.max_bp_layers,
            "max_neurons": limits.max_bp_neurons,
            "max_compare_runs": MAX_COMPARE_RUNS,
            "lr": {"gt": 0.0, "le": LR_MAX},
        },
        "rnn": {"nonlinearities": _field(Overrides, "nonlinearity")},
        "lab": lab_rules(limits),
    }
