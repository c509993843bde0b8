"""The RNN/LSTM page's guided tasks (static/js/views/rnn.js: its URL state is preset,
step (the player's frame), scale, nl, clip, epochs, numbers and unit).

The lecture's LSTM gate walk (遗忘门, 输入门, 细胞状态更新, 输出门) on one hidden unit
at one time step of the memory-lstm preset: unit 12 at t = 6, where its forget gate f
is about 0.2 (the issue's "how much of c_(t-1) survives?"). Each number is one of the
step's recorded tensors (engine/layers/recurrent_cells.py STEP_ROLES): f = σ(f_pre),
fc = f × c_(t-1), ig = i × g, c = fc + ig, h = o × tanh(c). Then a plain RNN's hidden
state h_t = tanh(W_ih x_t + W_hh h_(t-1) + b), and the gradients chart's question
(梯度消失): with recurrent weights of scale 0.5, whose gradient still reaches t = 1, the
RNN's or the LSTM's? (app/lessons/reach.py runs the chart's two models.)"""

from app.lessons.model import Query, Task
from app.lessons.reach import REACH_CHOICES

GATE_WALK: Query = {"preset": "memory-lstm", "step": 6, "unit": 12}  # frame 6: t = 6; the
# cell diagram on unit 12 (it hides the number asked about until the check)
UNIT = (0, 12)  # sample 0, hidden unit 12
WALK = {"t": 6, "unit": 12}


def _gate(task_id: str, name: str, lecture: str) -> Task:
    return Task(task_id, "rnn", GATE_WALK, "number", lecture, tensor=f"lstm1.t6.{name}",
                index=UNIT, values=WALK)  # fmt: skip


TASKS: tuple[Task, ...] = (
    Task("rnn-hidden", "rnn", {"preset": "sine-rnn", "step": 1}, "number", "rnn",
         tensor="rnn1.t1.h", index=(0, 12), values={"t": 1, "unit": 12}),
    Task("rnn-reach", "rnn", {"scale": 0.5, "nl": "tanh"}, "choice", "rnn-gradients",
         choices=REACH_CHOICES, reach=True),
    _gate("rnn-forget-gate", "f", "forget-gate"),
    _gate("rnn-forget-keep", "fc", "forget-gate"),
    _gate("rnn-input-gate", "ig", "input-gate"),
    _gate("rnn-cell-update", "c", "cell-update"),
    _gate("rnn-output-gate", "h", "output-gate"),
)  # fmt: skip
