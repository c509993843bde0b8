"""Step captions and formulas in en and zh-CN (the lecture's terms).

One entry per (phase, op). Captions are templates filled from the layer's
description (`Layer.describe()`); formulas are language-neutral.
"""

from __future__ import annotations

from typing import Any

from engine.captions_loss import LOSS_CAPTIONS
from engine.captions_recurrent import RECURRENT_CAPTIONS

LANGS = ("en", "zh-CN")

_CAPTIONS: dict[tuple[str, str], tuple[str, str, str]] = {
    # (phase, op): (en, zh-CN, formula)
    ("forward", "conv2d"): (
        "{layer}: {f} kernel(s) of {kh}x{kw} slide over the {c}-channel input (stride {s}, "
        "padding {p}); each output channel is the sum of {c} 2-D cross-correlations plus a "
        "bias: {f}x{c} 2-D convolutions, output {oh}x{ow}.",
        "{layer}：{f} 个 {kh}x{kw} 卷积核在 {c} 通道输入上遍历（步长 {s}，填充 {p}）；"
        "输出的每个通道等于 {c} 个二维互相关结果之和再加偏置：共 {f}x{c} 次二维卷积，"
        "输出 {oh}x{ow}。",
        "out[f] = Σ_c x[c] ⋆ w[f, c] + b[f];  O = ⌊(H + 2p − K) / s⌋ + 1",
    ),
    ("forward", "conv2d_true"): (
        "{layer}: true convolution: each kernel is rotated 180 degrees before it slides "
        "(stride {s}, padding {p}); compare with cross-correlation, which deep learning "
        "calls convolution. Output {oh}x{ow}.",
        "{layer}：真正的卷积：卷积核先旋转 180 度再遍历"
        "（步长 {s}，填充 {p}）；与深度学习中称为卷积的互相关对比。"
        "输出 {oh}x{ow}。",
        "out[f] = Σ_c x[c] * rot180(w[f, c]) + b[f]",
    ),
    ("forward", "max_pool2d"): (
        "{layer}: max pooling, {kh}x{kw} windows, stride {s}: each window keeps its maximum, "
        "and the mask records where it was (for the backward pass).",
        "{layer}：最大池化，{kh}x{kw} 区域，步长 {s}：每个区域用最大值代表，"
        "并记录最大值的位置（供反向传播使用）。",
        "out = max(window);  mask = 𝟙[x = argmax(window)]",
    ),
    ("forward", "avg_pool2d"): (
        "{layer}: average pooling, {kh}x{kw} windows, stride {s}: each window is replaced by "
        "its mean.",
        "{layer}：平均池化，{kh}x{kw} 区域，步长 {s}：每个区域用平均值代表。",
        "out = Σ window / ({kh}·{kw})",
    ),
    ("forward", "relu"): (
        "{layer}: ReLU keeps positive values and sets negative ones to 0.",
        "{layer}：ReLU 激活，保留正值，负值置 0。",
        "out = max(x, 0)",
    ),
    ("forward", "leaky_relu"): (
        "{layer}: leaky ReLU keeps positive values and scales negative ones by {slope}.",
        "{layer}：Leaky ReLU 激活，正值不变，负值乘以 {slope}。",
        "out = x if x > 0 else {slope}·x",
    ),
    ("forward", "sigmoid"): (
        "{layer}: sigmoid squashes every value into (0, 1).",
        "{layer}：sigmoid 激活，把每个值压缩到 (0, 1)。",
        "out = 1 / (1 + e^−x)",
    ),
    ("forward", "tanh"): (
        "{layer}: tanh squashes every value into (−1, 1).",
        "{layer}：tanh 激活，把每个值压缩到 (−1, 1)。",
        "out = tanh(x)",
    ),
    ("forward", "flatten"): (
        "{layer}: the {shape} feature maps become one vector of {size} features for the "
        "fully connected layer.",
        "{layer}：把 {shape} 的特征图展平成 {size} 维向量，送入全连接层。",
        "out = reshape(x, (N, {size}))",
    ),
    ("forward", "dense"): (
        "{layer}: fully connected, {d} inputs to {m} outputs: each output is a weighted sum "
        "of every input plus a bias.",
        "{layer}：全连接层，{d} 个输入到 {m} 个输出：每个输出是所有输入的加权和再加偏置。",
        "out = x · Wᵀ + b",
    ),
    ("backward", "conv2d"): (
        "{layer} backward: each input pixel's delta is the sum, over every output it "
        "influenced, of that output's delta times the weight that linked them; dW sums "
        "delta x input window over all positions.",
        "{layer} 反向传播：输入每个像素的 delta 误差，等于它在前向传播中影响到的每个输出结点的 "
        "delta 误差乘上连接它们的权重之和；dW 为 delta 与输入窗口的乘积之和。",
        "dx = Σ_f δ[f] ⋆full rot180(w[f]);  dW[f, c] = x[c] ⋆ δ[f];  db[f] = Σ δ[f]",
    ),
    ("backward", "conv2d_true"): (
        "{layer} backward: as for cross-correlation, with the kernel rotated; dW is rotated "
        "back so it is the gradient of the kernel as stored.",
        "{layer} 反向传播：与互相关相同，只是卷积核旋转了；dW 再旋转回来，即存储的卷积核的梯度。",
        "dx = Σ_f δ[f] ⋆full w[f];  dW = rot180(x ⋆ δ)",
    ),
    ("backward", "max_pool2d"): (
        "{layer} backward: each pooled delta goes only to its window's max position "
        "(weight 1); the other positions get 0.",
        "{layer} 反向传播：池化后的 delta 误差只传回区域最大值所在的位置（权重为 1），"
        "其它位置的 delta 误差为 0。",
        "dx = mask · upsample(δ)",
    ),
    ("backward", "avg_pool2d"): (
        "{layer} backward: each pooled delta is divided by the window area ({area}) and "
        "given to every position of its window.",
        "{layer} 反向传播：池化后的 delta 误差除以区域大小（{area}），传给区域内的每个位置。",
        "dx = upsample(δ) / {area}",
    ),
    ("backward", "relu"): (
        "{layer} backward: the delta passes where the input was positive and is 0 elsewhere.",
        "{layer} 反向传播：输入为正处 delta 误差原样通过，其它位置为 0。",
        "dx = δ · [x > 0]",
    ),
    ("backward", "leaky_relu"): (
        "{layer} backward: the delta passes where the input was positive and is scaled by "
        "{slope} elsewhere.",
        "{layer} 反向传播：输入为正处 delta 误差原样通过，其它位置乘以 {slope}。",
        "dx = δ · (1 if x > 0 else {slope})",
    ),
    ("backward", "sigmoid"): (
        "{layer} backward: the delta is multiplied by the sigmoid's slope s (1 − s).",
        "{layer} 反向传播：delta 误差乘以 sigmoid 的导数 s (1 − s)。",
        "dx = δ · s (1 − s)",
    ),
    ("backward", "tanh"): (
        "{layer} backward: the delta is multiplied by tanh's slope 1 − tanh².",
        "{layer} 反向传播：delta 误差乘以 tanh 的导数 1 − tanh²。",
        "dx = δ · (1 − tanh²(x))",
    ),
    ("backward", "flatten"): (
        "{layer} backward: the delta vector is folded back into {shape} maps.",
        "{layer} 反向传播：把 delta 误差向量还原成 {shape} 的特征图。",
        "dx = reshape(δ, {shape})",
    ),
    ("backward", "dense"): (
        "{layer} backward: each input's delta is the sum of the output deltas times their "
        "weights; dW = deltaᵀ · input, db = sum of deltas.",
        "{layer} 反向传播：每个输入的 delta 误差等于各输出 delta 误差乘以对应权重之和；"
        "dW = δᵀ · x,db = Σ δ。",
        "dx = δ · W;  dW = δᵀ · x;  db = Σ_n δ",
    ),
    ("update", "sgd"): (
        "{layer} update: gradient descent moves each weight against its gradient, step size "
        "= learning rate {lr}.",
        "{layer} 更新：梯度下降，沿梯度的反方向更新每个权重，步长由学习率 {lr} 控制。",
        "w ← w − η·dw;  b ← b − η·db   (η = {lr})",
    ),
    ("update", "momentum"): (
        "{layer} update: SGD with momentum {momentum}: the step follows a running sum of "
        "gradients, learning rate {lr}.",
        "{layer} 更新：带动量 {momentum} 的梯度下降，步长方向为梯度的累积，学习率 {lr}。",
        "v ← μ·v + dw;  w ← w − η·v   (η = {lr}, μ = {momentum})",
    ),
    ("update", "adam"): (
        "{layer} update: Adam scales each weight's step by running averages of its gradient "
        "and squared gradient, learning rate {lr}.",
        "{layer} 更新：Adam 用梯度及其平方的滑动平均调整每个权重的步长，学习率 {lr}。",
        "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − η·m̂ / (√v̂ + ε)",
    ),
    **LOSS_CAPTIONS,
    **RECURRENT_CAPTIONS,
}


def caption(phase: str, op: str, **values: Any) -> tuple[dict[str, str], str]:
    """({"en": ..., "zh-CN": ...}, formula) for a step, filled with `values`."""
    try:
        en, zh, formula = _CAPTIONS[(phase, op)]
    except KeyError:
        raise KeyError(f"no caption for phase {phase!r}, op {op!r}") from None
    return {"en": en.format(**values), "zh-CN": zh.format(**values)}, formula.format(**values)


def caption_keys() -> list[tuple[str, str]]:
    """Every (phase, op) with a caption (tests check each has both languages)."""
    return list(_CAPTIONS)
