"""Captions and formulas of the loss step, in en and zh-CN (see engine.captions).

Filled with {k} (outputs per sample), {n} (samples) and {nk} (n x k). The last two
are the loss step of an input without a target (engine.stepper): it predicts and
says the loss needs the target.
"""

from __future__ import annotations

LOSS_CAPTIONS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("loss", "softmax_cross_entropy"): (
        "Loss: softmax turns the {k} scores into probabilities; the cross-entropy is −log of "
        "the probability of the true class. The error at the output is p − onehot(y).",
        "损失：softmax 把 {k} 个得分变成概率，交叉熵是正确类别概率的负对数。"
        "输出层的误差为 p − onehot(y)。",
        "L = −(1/N) Σ log softmax(z)[y];  δ = (softmax(z) − onehot(y)) / N",
    ),
    ("loss", "mse"): (
        "Loss: mean squared error between the output and the target; the error at the output "
        "is 2 (out − target) / size.",
        "损失：输出与目标的均方误差；输出层的误差为 2 (out − target) / size。",
        "L = mean((out − t)²);  δ = 2 (out − t) / size",
    ),
    ("loss", "mse_onehot"): (
        "Loss: mean squared error between the {k} outputs y and the one-hot target t "
        "(1 for the true class, 0 for the others), averaged over all {nk} numbers. The error "
        "at the output is dL/dy = 2 (y − t) / {nk}; with a sigmoid output layer, going back "
        "through it multiplies this by y (1 − y), which gives the output neurons' δ.",
        "损失：{k} 个输出 y 与 one-hot 目标 t（正确类别为 1，其余为 0）的均方误差，"
        "对全部 {nk} 个数取平均。输出层的误差 dL/dy = 2 (y − t) / {nk}；"
        "若输出层为 sigmoid，反向经过它时再乘以 y (1 − y)，得到输出神经元的 delta 误差 δ。",
        "L = (1/{nk}) Σ (y − onehot(label))²;  dL/dy = 2 (y − t) / {nk};  δ = dL/dy · y (1 − y)",
    ),
    ("loss", "softmax"): (
        "Prediction: softmax turns the {k} scores into probabilities. This input has no label "
        "yet, so there is no loss to compute: the pass stops here. Give its true class to run "
        "the loss, the backward pass and the update.",
        "预测：softmax 把 {k} 个得分变成概率。这个输入还没有标签，无法计算损失，"
        "本次传播到此为止。给出它的正确类别后，才能计算损失、反向传播并更新权重。",
        "p = softmax(z) = e^z / Σ e^z;  L(p, y): y = ?",
    ),
    ("loss", "no_target"): (
        "Prediction: the {k} output values are the network's answer. This input has no target "
        "yet, so there is no loss to compute: the pass stops here. Give its target to run the "
        "loss, the backward pass and the update.",
        "预测：{k} 个输出值就是网络的答案。这个输入还没有目标值，无法计算损失，"
        "本次传播到此为止。给出目标值后，才能计算损失、反向传播并更新权重。",
        "L(y, t): t = ?",
    ),
}
