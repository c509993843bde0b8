"""The BP page's guided tasks (static/js/views/bp.js: its URL state is the network
built, dataset, noise, hidden, activation, loss, optimizer, lr and seed, and the
player's step; its session is that network's pass on one training sample).

One small network on the spiral data (2 features, 3 classes, one hidden layer of 4
tanh neurons, softmax cross-entropy, SGD with lr 0.3), walked as the lecture's BP
section does: the layers' sizes follow the features and the classes (输入层的参数个数
取决于特征数目, 输出层取决于分类类别), a forward activation, the error at the
output, the delta sent one layer back, the weight's gradient and the update
w ← w − lr·dw. Each task sets the player to the step before its number is made, so
the numbers it needs are shown and the one asked is not yet."""

from app.lessons.model import Query, Task

NETWORK: Query = {"dataset": "spiral", "noise": 0.1, "hidden": "4", "activation": "tanh",
                  "loss": "softmax_cross_entropy", "optimizer": "sgd", "lr": 0.3,
                  "seed": 0}  # fmt: skip
# the pass's steps (the player's): 0 dense1, 1 tanh1, 2 dense2, 3 the loss, 4 dense2
# backward, 5 tanh1 backward, 6 dense1 backward, 7-8 the updates


def _at(step: int) -> Query:
    return {**NETWORK, "step": step}


TASKS: tuple[Task, ...] = (
    Task("bp-input-size", "bp", _at(0), "size", "bp", tensor="dense1.w"),
    Task("bp-output-size", "bp", _at(0), "size", "bp", tensor="dense2.w"),
    Task("bp-forward", "bp", _at(0), "number", "bp", tensor="tanh1.out", index=(0, 1)),
    Task("bp-output-error", "bp", _at(2), "number", "bp", tensor="loss.dx", index=(0, 2)),
    Task("bp-delta-back", "bp", _at(3), "number", "bp", tensor="tanh1.dx", index=(0, 0)),
    Task("bp-gradient", "bp", _at(5), "number", "bp", tensor="dense1.dw", index=(0, 0)),
    Task("bp-update", "bp", _at(6), "number", "bp", tensor="dense1.w.after", index=(0, 0),
         values={"lr": NETWORK["lr"]}),
)  # fmt: skip
