"""Step captions and formulas in en and zh-CN (the lecture's terms).

One entry per (phase, op). Captions are templates filled from the layer's
description (`Layer.describe()`); formulas are language-neutral.
"""

from __future__ import annotations

from typing import Any

from engine.captions_loss import LOSS_CAPTIONS

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
        "out = max(window);  mask = 1 at the first maximum",
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
    # --- recurrent layers, one time step at a time (RecurrentNet's stepped pass) ---
    ("forward", "rnn_step"): (
        "{layer}, time step t = {t} of {T}: the hidden state takes the input x_t ({d} "
        "features) and the previous hidden state h_(t-1) ({h} units): h_t = {nonlinearity}("
        "W_ih x_t + W_hh h_(t-1) + b). Mean |h_t| = {h_mean:.3f}.",
        "{layer}，时间步 t = {t}（共 {T} 步）：隐藏层的输入不仅有本时刻的输入 x_t（{d} 个特征），"
        "还有上一时刻隐藏层的输出 h_(t-1)（{h} 个单元）：h_t = {nonlinearity}(W_ih x_t + "
        "W_hh h_(t-1) + b)。隐藏状态平均绝对值 {h_mean:.3f}。",
        "h_t = {nonlinearity}(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)",
    ),
    ("forward", "lstm_step"): (
        "{layer}, time step t = {t} of {T}: from x_t and h_(t-1) the forget gate f, input "
        "gate i and output gate o (sigmoids, 0..1) and the candidate g (tanh). The cell state "
        "keeps f of the old one and adds i of the candidate: c_t = f·c_(t-1) + i·g; the "
        "hidden state is h_t = o·tanh(c_t). Mean gates: f {f_mean:.2f}, i {i_mean:.2f}, "
        "o {o_mean:.2f}.",
        "{layer}，时间步 t = {t}（共 {T} 步）：由 x_t 和 h_(t-1) 算出遗忘门 f、输入门 i、输出门 o"
        "（sigmoid，取值 0 到 1）和候选值 g（tanh）。细胞状态更新：遗忘门决定保留多少旧的细胞状态，"
        "输入门决定加入多少候选值：c_t = f·c_(t-1) + i·g；隐藏状态 h_t = o·tanh(c_t)。"
        "门的平均值：遗忘门 {f_mean:.2f}，输入门 {i_mean:.2f}，输出门 {o_mean:.2f}。",
        "f, i, o = σ(W·[x_t, h_(t−1)] + b);  g = tanh(…);  c_t = f·c_(t−1) + i·g;  "
        "h_t = o·tanh(c_t)",
    ),
    ("forward", "lstm_fwd_step"): (
        "{layer}, forward LSTM, time step t = {t} of {T}: reads the sequence left to right "
        "(x_0 first); gates and cell state as in an LSTM: c_t = f·c_(t-1) + i·g, "
        "h_t = o·tanh(c_t). Mean forget gate {f_mean:.2f}.",
        "{layer}，双向LSTM的前向 LSTM，时间步 t = {t}（共 {T} 步）：从左到右读序列（先读 x_0），"
        "遗忘门、输入门、输出门与细胞状态更新同 LSTM：c_t = f·c_(t-1) + i·g，h_t = o·tanh(c_t)。"
        "遗忘门平均值 {f_mean:.2f}。",
        "→ c_t = f·c_(t−1) + i·g;  h_t = o·tanh(c_t)",
    ),
    ("forward", "lstm_bwd_step"): (
        "{layer}, backward LSTM, time step t = {t}: reads the sequence right to left "
        "(x_(T-1) first), so its state at t has seen x_t .. x_(T-1): c_t = f·c_(t+1) + i·g, "
        "h_t = o·tanh(c_t). Mean forget gate {f_mean:.2f}.",
        "{layer}，双向LSTM的后向 LSTM，时间步 t = {t}：从右到左读序列（先读 x_(T-1)），"
        "因此它在 t 处的隐藏状态看到了 x_t 到 x_(T-1)：c_t = f·c_(t+1) + i·g，"
        "h_t = o·tanh(c_t)。遗忘门平均值 {f_mean:.2f}。",
        "← c_t = f·c_(t+1) + i·g;  h_t = o·tanh(c_t)",
    ),
    ("forward", "bilstm_concat"): (
        "{layer}: at every time step the forward and the backward LSTM's hidden states are "
        "concatenated: {h} + {h} units, so each output sees the whole sequence.",
        "{layer}：双向LSTM在每个时间步把前向和后向 LSTM 的隐藏状态拼接起来（{h} + {h} 个单元），"
        "每个输出都看到了整个序列。",
        "h_t = [h→_t ; h←_t]",
    ),
    ("forward", "dense_last"): (
        "{layer}: many-to-one: a fully connected layer on the last hidden state ({d} values) "
        "gives {m} outputs for the whole sequence.",
        "{layer}：多对一：全连接层作用在最后一个时间步的隐藏状态（{d} 个值）上，"
        "整个序列得到 {m} 个输出。",
        "out = W·h_(T−1) + b",
    ),
    ("forward", "dense_each"): (
        "{layer}: many-to-many: the same fully connected layer on every time step's hidden "
        "state ({d} values), {m} outputs per time step.",
        "{layer}：多对多：同一个全连接层作用在每个时间步的隐藏状态（{d} 个值）上，"
        "每个时间步得到 {m} 个输出。",
        "out_t = W·h_t + b   (every t)",
    ),
    ("backward", "dense_last"): (
        "{layer} backward: the output delta goes back to the last hidden state only; the "
        "other time steps get no delta from the loss.",
        "{layer} 反向传播：输出的 delta 误差只传回最后一个时间步的隐藏状态，"
        "其它时间步没有来自损失的误差。",
        "dL/dh_(T−1) = δ·W;  dW = δᵀ·h_(T−1);  db = Σ δ",
    ),
    ("backward", "dense_each"): (
        "{layer} backward: every time step's output delta goes back to its own hidden state.",
        "{layer} 反向传播：每个时间步输出的 delta 误差传回该时间步的隐藏状态。",
        "dL/dh_t = δ_t·W;  dW = Σ_t δ_tᵀ·h_t;  db = Σ_t δ_t",
    ),
    ("backward", "rnn_step"): (
        "{layer} backward through time, t = {t}: dL/dh_t = the loss's part at t + what "
        "comes back from t+1; through the {nonlinearity} it is multiplied by its slope, then "
        "by W_hh on the way to t-1. Repeated products shrink (vanishing gradient) or grow "
        "(exploding gradient) with the time span. ||dL/dh_t|| = {dh_norm:.3g}.",
        "{layer} 随时间反向传播（BPTT），t = {t}：dL/dh_t = 本时刻损失的部分 + 从 t+1 传回的部分；"
        "经过 {nonlinearity} 乘以其导数，再乘以 W_hh 传给 t-1。连乘随时间跨度变小即梯度消失，"
        "变大即梯度爆炸。||dL/dh_t|| = {dh_norm:.3g}。",
        "dh_t = ∂L_t/∂h_t + W_hhᵀ·dz_(t+1);  dz_t = dh_t ⊙ f′(z_t)",
    ),
    ("backward", "lstm_step"): (
        "{layer} backward through time, t = {t}: dh_t = the loss's part + what comes back "
        "from t+1; the cell state's delta dc_t = dh_t·o·(1 - tanh²c_t) + dc_(t+1)·f_(t+1) "
        "passes through the forget gate, not through repeated weight products, which is "
        "why an LSTM keeps long-term dependencies. ||dL/dh_t|| = {dh_norm:.3g}, "
        "||dL/dc_t|| = {dc_norm:.3g}.",
        "{layer} 随时间反向传播，t = {t}：dh_t = 本时刻损失的部分 + 从 t+1 传回的部分；"
        "细胞状态的误差 dc_t = dh_t·o·(1 - tanh²c_t) + dc_(t+1)·f_(t+1) 经遗忘门传递，"
        "而不是经过权重的连乘，所以 LSTM 能处理长期依赖、缓解梯度消失。"
        "||dL/dh_t|| = {dh_norm:.3g}，||dL/dc_t|| = {dc_norm:.3g}。",
        "dc_t = dh_t·o·(1−tanh²c_t) + dc_(t+1)·f_(t+1);  dz_f = dc_t·c_(t−1)·f(1−f);  "
        "dz_i = dc_t·g·i(1−i);  dz_g = dc_t·i·(1−g²);  dz_o = dh_t·tanh c_t·o(1−o)",
    ),
    ("backward", "lstm_fwd_step"): (
        "{layer} backward, forward LSTM, t = {t} (from the end back to the start): "
        "||dL/dh_t|| = {dh_norm:.3g}, ||dL/dc_t|| = {dc_norm:.3g}.",
        "{layer} 反向传播，双向LSTM的前向 LSTM，t = {t}（从序列末尾往回）："
        "||dL/dh_t|| = {dh_norm:.3g}，||dL/dc_t|| = {dc_norm:.3g}。",
        "dc_t = dh_t·o·(1−tanh²c_t) + dc_(t+1)·f_(t+1)",
    ),
    ("backward", "lstm_bwd_step"): (
        "{layer} backward, backward LSTM, t = {t} (from the start forward, the reverse of "
        "its reading order): ||dL/dh_t|| = {dh_norm:.3g}, ||dL/dc_t|| = {dc_norm:.3g}.",
        "{layer} 反向传播，双向LSTM的后向 LSTM，t = {t}（与其读序列的方向相反，从序列开头往后）："
        "||dL/dh_t|| = {dh_norm:.3g}，||dL/dc_t|| = {dc_norm:.3g}。",
        "dc_t = dh_t·o·(1−tanh²c_t) + dc_(t−1)·f_(t−1)",
    ),
    ("backward", "clip_grad_norm"): (
        "Gradient clipping: the global norm of all gradients is {norm_before:.3g}; above "
        "{max_norm:g} every gradient is scaled by {scale:.3g}, so the norm becomes "
        "{norm_after:.3g}. The direction is kept; exploding gradients cannot blow up the "
        "update.",
        "梯度裁剪：所有梯度的总范数为 {norm_before:.3g}；超过 {max_norm:g} 时每个梯度乘以 "
        "{scale:.3g}，范数变为 {norm_after:.3g}。方向不变，梯度爆炸不会让更新失控。",
        "n = √Σ g²;  g ← g · min(1, {max_norm:g} / n)",
    ),
    # --- recurrent layers over the whole sequence (inside a Sequential) ---
    ("forward", "rnn"): (
        "{layer}: an RNN over all {T} time steps: each hidden state takes x_t and the "
        "previous hidden state; {h} units.",
        "{layer}：循环神经网络处理全部 {T} 个时间步：每个隐藏状态由 x_t 和上一时刻的隐藏状态算出；"
        "{h} 个单元。",
        "h_t = tanh(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)",
    ),
    ("forward", "lstm"): (
        "{layer}: an LSTM over all {T} time steps: forget, input and output gates and the "
        "cell state; {h} units.",
        "{layer}：LSTM 处理全部 {T} 个时间步：遗忘门、输入门、输出门和细胞状态；{h} 个单元。",
        "c_t = f·c_(t−1) + i·g;  h_t = o·tanh(c_t)",
    ),
    ("forward", "bilstm"): (
        "{layer}: a BiLSTM over all {T} time steps: a forward and a backward LSTM of {h} "
        "units each, outputs concatenated.",
        "{layer}：双向LSTM处理全部 {T} 个时间步：前向和后向 LSTM 各 {h} 个单元，输出拼接。",
        "h_t = [h→_t ; h←_t]",
    ),
    ("backward", "rnn"): (
        "{layer} backward through time over all {T} steps.",
        "{layer} 随时间反向传播，共 {T} 个时间步。",
        "dh_t = ∂L_t/∂h_t + W_hhᵀ·dz_(t+1)",
    ),
    ("backward", "lstm"): (
        "{layer} backward through time over all {T} steps, through the cell state.",
        "{layer} 随时间反向传播，共 {T} 个时间步，误差经细胞状态传递。",
        "dc_t = dh_t·o·(1−tanh²c_t) + dc_(t+1)·f_(t+1)",
    ),
    ("backward", "bilstm"): (
        "{layer} backward through time, both directions, over all {T} steps.",
        "{layer} 随时间反向传播，两个方向，共 {T} 个时间步。",
        "dx_t = dx→_t + dx←_t",
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
