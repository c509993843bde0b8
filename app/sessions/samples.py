"""Samples a student adds to a session's training data: a drawing and its label.

They are kept in the session (Live.added, stored as the arrays "s:x" and "s:y"
beside its weights: no pickle), at most `max_extra_samples` of them, and every
training of the session trains on them with its dataset's train split
(app/sessions/training.py puts them in the job). They change no pass: the
session's input, step and weights stay as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.limits import at_most, check_input
from app.schemas import InputSpec, SampleAdd
from app.sessions.inputs import resolve_input
from app.sessions.service import SessionService
from app.sessions.state import Live


def added_count(live: Live) -> int:
    return len(live.added["y"]) if "y" in live.added else 0


def samples_payload(live: Live, limit: int) -> dict[str, Any]:
    """What SamplesOut says: how many were added, the limit, their labels."""
    labels = [int(v) for v in live.added["y"]] if "y" in live.added else []
    return {"added": len(labels), "limit": limit, "labels": labels}


def add_sample(service: SessionService, sid: str, req: SampleAdd) -> Live:
    """Add one labelled sample (an image read as the session's input would be, or an
    array shaped like one input). 422: a session without a dataset of classes, a label
    that is not one of its classes, a sample that does not fit the network, or the
    session already holding max_extra_samples."""
    limits = service.limits
    with service.session(sid, write=True) as live:
        data = service.dataset(live)
        classes = len(data.classes) if data is not None and data.classes else 0
        # one label a sample (an image's class), not a label a time step (a sequence's)
        if not classes or np.asarray(data.y_train).ndim != 1:
            raise ValueError(
                "this session has no dataset of labelled images to add samples to (a CNN "
                "preset has; a sequence dataset labels every time step)"
            )
        if req.label >= classes:
            raise ValueError(
                f"label {req.label} is not a class of {data.name}: give 0 to {classes - 1}"
            )
        at_most("samples", added_count(live) + 1, limits, "max_extra_samples")
        x, _, _ = resolve_input(InputSpec(image=req.image, array=req.array), live.net, data, limits)
        check_input(np.asarray(x), limits)
        if x.shape[1:] != data.x_train.shape[1:] or len(x) != 1:
            raise ValueError(
                f"a sample must be one input of shape {list(data.x_train.shape[1:])}; "
                f"got {list(x.shape)}"
            )
        x = x.astype(data.x_train.dtype)
        y = np.array([req.label], dtype=np.int64)
        if live.added:
            x = np.concatenate([live.added["x"], x])
            y = np.concatenate([live.added["y"], y])
        live.added = {"x": x, "y": y}
        return live


def clear_samples(service: SessionService, sid: str) -> Live:
    """Remove the samples added to the session's training data."""
    with service.session(sid, write=True) as live:
        live.added = {}
        return live


def training_samples(live: Live) -> dict[str, np.ndarray | None]:
    """The job's "extra_x" and "extra_y": copies of the added samples (None: none)."""
    if not live.added:
        return {"extra_x": None, "extra_y": None}
    return {"extra_x": live.added["x"].copy(), "extra_y": live.added["y"].copy()}
