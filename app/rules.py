"""The rules the pages follow, stated once by the server: the configured limits, the
presets each page offers, and the choices of the BP, RNN and lab pages with the one
each starts on.

`GET /api/rules` answers with them, and each walkthrough page has them injected by
its template (no extra request); static/js/rules.js reads them there. The lists are
read from the request schemas that enforce them, so what a page offers is what the
API accepts.
"""

from __future__ import annotations

import inspect
from typing import Any, get_args

from pydantic import BaseModel

from app.schemas.bp import LR_MAX, Activation, BPLoss, BPNetwork, BPOptimizer, Dataset
from app.schemas.lab import lab_rules
from app.schemas.sessions import Overrides
from app.settings import Settings
from app.training.queue import FINAL
from engine import memory_sweep
from engine.layers.conv import Conv2D
from engine.layers.recurrent import RecurrentLayer
from engine.network import Sequential
from engine.presets import list_presets
from engine.presets.builders import BUILDERS
from engine.presets.recurrent_builders import SCALE_RANGE

PRESET_TOPICS = {p.name: p.topic for p in list_presets()}

# The preset topics each walkthrough page offers in its preset menu.
PAGE_TOPICS: dict[str, tuple[str, ...]] = {"cnn": ("cnn",), "rnn": ("rnn", "lstm")}


def page_of_topic(topic: str) -> str:
    """The walkthrough page that shows presets of `topic` (its own, unless a page of
    several topics, PAGE_TOPICS, offers it in its menu)."""
    return next((page for page, topics in PAGE_TOPICS.items() if topic in topics), topic)


def page_of(preset: str | None, net: Sequential) -> str:
    """The walkthrough page that shows a session: its preset's; a network made from a
    spec or a file on the RNN page if it has a recurrent layer, on the CNN page if it
    has a convolution, else on the BP page (a session's `page`, which ?session= opens)."""
    if preset is not None:
        return page_of_topic(PRESET_TOPICS[preset])
    if any(isinstance(layer, RecurrentLayer) for layer in net.layers):
        return "rnn"
    return "cnn" if any(isinstance(layer, Conv2D) for layer in net.layers) else "bp"


# The preset each walkthrough page opens on when its URL names none (one of its list).
PAGE_DEFAULTS: dict[str, str] = {"cnn": "digits-cnn", "rnn": "memory-lstm"}
# The gradient chart's two presets: an RNN whose recurrent weights the slider scales, and
# the memory task's LSTM trained at the chart's length (40 steps), run where it learned.
GRADIENT_CHART: dict[str, str] = {"rnn": "vanishing-rnn", "lstm": "memory-lstm-40"}
# The BP page's starting choices are the API's own defaults (BPNetwork), so the page
# and a script that leaves them out build the same network.
BP_CHOICES = ("dataset", "noise", "activation", "loss", "optimizer")


def choices(annotation: Any) -> list[str]:
    """The values of a Literal (or of the Literal in `Literal[...] | None`), in order."""
    out: list[str] = []
    for arg in get_args(annotation):
        out += choices(arg) if get_args(arg) else [arg] if isinstance(arg, str) else []
    return out


def _field(model: type[BaseModel], name: str) -> list[str]:
    return choices(model.model_fields[name].annotation)


def _bounds(model: type[BaseModel], name: str) -> dict[str, Any]:
    """A number field's bounds as its schema states them ({ge, le, gt, lt}: those it has)."""
    keys = ("ge", "le", "gt", "lt")
    return {
        k: getattr(m, k) for m in model.model_fields[name].metadata for k in keys
        if getattr(m, k, None) is not None
    }  # fmt: skip


def _option_default(preset: str, option: str) -> Any:
    """The default a preset's builder gives one of its options (engine.presets)."""
    return inspect.signature(BUILDERS[preset]).parameters[option].default


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
                "title": p.title,  # {en, zh-CN}: what a page's preset choice shows
                "trained": p.trained,
                "reads_numbers": p.reads_numbers,
            }
            for p in presets
        ],  # fmt: skip
        "pages": {
            page: [p.name for p in presets if p.topic in topics]
            for page, topics in PAGE_TOPICS.items()
        },
        "page_defaults": dict(PAGE_DEFAULTS),
        "bp": {
            "datasets": choices(Dataset),
            "activations": choices(Activation),
            "losses": choices(BPLoss),
            "optimizers": choices(BPOptimizer),
            "max_layers": limits.max_bp_layers,
            "max_neurons": limits.max_bp_neurons,
            "max_compare_runs": limits.max_compare_runs,
            "defaults": {k: BPNetwork.model_fields[k].default for k in BP_CHOICES},
            "lr": {"gt": 0.0, "le": LR_MAX},
            "noise": _bounds(BPNetwork, "noise"),
        },
        "rnn": {
            "nonlinearities": _field(Overrides, "nonlinearity"),
            # the gradient chart's starting choice: the vanishing-rnn preset's own
            "default_nonlinearity": _option_default(GRADIENT_CHART["rnn"], "nonlinearity"),
            "gradient_chart": dict(GRADIENT_CHART),
            # the gradient chart's slider (vanishing-rnn's scales) and the accuracy-vs-
            # length experiment with its reference run: the RNN page asks no preset
            "scale_range": dict(SCALE_RANGE),
            "sweep": memory_sweep.info(),
        },
        "lab": lab_rules(limits),
        # the events that end a training stream (app/training/queue.py)
        "training": {"final_events": sorted(FINAL)},
    }
