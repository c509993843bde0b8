"""Captions and formulas of recurrent networks' steps, in en and zh-CN (see
engine.captions): a time step of an RNN, LSTM or BiLSTM forward and backward
(BPTT), the heads on hidden states, gradient clipping, and the whole-sequence ops.
"""

from __future__ import annotations

RECURRENT_CAPTIONS: dict[tuple[str, str], tuple[str, str, str]] = {
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
}
