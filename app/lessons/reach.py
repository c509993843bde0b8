"""A "reach" task's answer: whose gradient still reaches the first time step on the RNN
page's gradient chart (static/js/rnn-gradients.js)?

The chart runs one backward pass of two models and draws ||dL/dh_t|| over t: the
vanishing-rnn preset at the page's recurrent weight scale and nonlinearity, over as
many steps as the LSTM, and the memory task's LSTM trained on that length
(app.rules.GRADIENT_CHART). The same two models are built and stepped here, by the
engine, and a model's gradient "reaches t = 1" when at least REACH_SHARE of the last
step's norm is left at the first step (||dL/dh_1|| / ||dL/dh_T||, the ratio the chart
states). Clipping does not change these norms (it scales the weights' gradients after
them), so the task does not ask for it.
"""

from __future__ import annotations

import math
from typing import Any

from app.encoding import json_number
from app.i18n import every_language, fill
from app.rules import GRADIENT_CHART
from app.schemas import Overrides
from app.sessions.preset_source import build_lesson
from app.settings import Limits
from engine.presets import DEFAULT_SEED
from engine.recurrent_tasks import step_norms

REACH_SHARE = 0.01  # a gradient reaches t = 1 when 1 % of ||dL/dh_T|| is left there
# the outcomes a reach task offers (their words: lesson.outcome.<choice>)
REACH_CHOICES = ("reach-rnn", "reach-lstm", "reach-both", "reach-none")
ONLY = {(): "reach-none", ("rnn",): "reach-rnn", ("lstm",): "reach-lstm"}  # else both


def _ratio(dh: Any) -> float:
    """||dL/dh_1|| / ||dL/dh_T|| (inf when the last is 0 and the first is not)."""
    first, last = float(dh[0]), float(dh[-1])
    if last == 0:
        return 0.0 if first == 0 else math.inf
    return first / last


def gradient_reach(scale: float, nonlinearity: str, limits: Limits) -> dict[str, Any]:
    """Which of the chart's two models keeps a gradient at t = 1, with each one's ratio
    ||dL/dh_1|| / ||dL/dh_T|| and the words of the answer in every language."""
    lstm = build_lesson(GRADIENT_CHART["lstm"], DEFAULT_SEED, None, limits)
    over = Overrides.model_validate(
        {"scale": scale, "nonlinearity": nonlinearity, "seq_len": lstm.net.seq_len}
    )
    rnn = build_lesson(GRADIENT_CHART["rnn"], DEFAULT_SEED, over, limits)
    ratios = {"rnn": _ratio(step_norms(rnn.net, rnn.x, rnn.target)["dh"]),
              "lstm": _ratio(step_norms(lstm.net, lstm.x, lstm.target)["dh"])}  # fmt: skip
    reached = tuple(m for m in ("rnn", "lstm") if ratios[m] >= REACH_SHARE)
    choice = ONLY.get(reached, "reach-both")
    words = {"rnn": f"{ratios['rnn']:.3g}", "lstm": f"{ratios['lstm']:.3g}",
             "share": f"{REACH_SHARE:.0%}", "T": lstm.net.seq_len}  # fmt: skip

    def text(lang: str) -> str:
        said = fill(f"lesson.outcome.{choice}", lang)
        return fill("lesson.reach.expected", lang, answer=said, **words)

    return {"choice": choice, "text": every_language(text), "share": REACH_SHARE,
            "steps": lstm.net.seq_len, "scale": scale, "nonlinearity": nonlinearity,
            "ratio": {m: json_number(r) for m, r in ratios.items()}}  # fmt: skip
