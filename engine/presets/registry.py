"""Preset metadata (names, titles and summaries in en and zh-CN) and lookup.

A preset names a network, its seeded weights, a sample and a target. The
builders live in `engine.presets.builders`; this module only describes them, so
listing presets never builds a network.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.presets.builders import Lesson


@dataclass(frozen=True)
class Preset:
    """What a preset is, in both languages."""

    name: str
    topic: str
    title: dict[str, str]
    summary: dict[str, str]
    trained: bool = False
    reads_numbers: bool = False  # a one-feature sequence model: a typed number sequence fits


_PRESETS: tuple[Preset, ...] = (
    Preset(
        name="conv-basics",
        topic="convolution",
        title={"en": "Convolution basics", "zh-CN": "卷积基础"},
        summary={
            "en": "A 5x5 single-channel image and a 3x3 kernel: slide, multiply "
            "element-wise and sum (valid output 3x3).",
            "zh-CN": "5x5 单通道图像与 3x3 卷积核：卷积核在图像上遍历，对应元素相乘再求和"
            "（有效输出 3x3)。",
        },
    ),
    Preset(
        name="tensor-conv",
        topic="tensor-convolution",
        title={"en": "Tensor convolution", "zh-CN": "张量卷积"},
        summary={
            "en": "A 3-channel input and 2 kernels: kernels x channels 2-D "
            "convolutions, summed per kernel plus bias.",
            "zh-CN": "3 通道输入与 2 个卷积核：共 卷积核数×通道数 次二维卷积，"
            "每个卷积核的结果按通道相加再加偏置。",
        },
    ),
    Preset(
        name="pooling",
        topic="pooling",
        title={"en": "Pooling and its backward pass", "zh-CN": "池化及其反向传播"},
        summary={
            "en": "Max pooling records where each window's maximum was; its delta goes "
            "back only there. Average pooling spreads delta / area.",
            "zh-CN": "最大池化记录每个区域最大值的位置，delta 误差只传回该位置；"
            "平均池化把 delta 误差除以区域大小传给每个位置。",
        },
    ),
    Preset(
        name="digits-cnn",
        topic="cnn",
        title={"en": "Handwritten digits CNN", "zh-CN": "手写数字卷积神经网络"},
        summary={
            "en": "A trained CNN on the real 8x8 handwritten digits: conv, ReLU, "
            "max pooling, conv, ReLU, max pooling, dense, softmax.",
            "zh-CN": "在真实 8x8 手写数字上训练好的卷积神经网络：卷积、ReLU、最大池化、"
            "卷积、ReLU、最大池化、全连接、softmax。",
        },
        trained=True,
    ),
    Preset(
        name="shapes-cnn",
        topic="cnn",
        title={"en": "Shapes CNN", "zh-CN": "形状识别卷积神经网络"},
        summary={
            "en": "A trained CNN telling bars, crosses, squares and circles apart; "
            "its first-layer kernels become edge detectors.",
            "zh-CN": "训练好的卷积神经网络，区分竖条、横条、十字、方框和圆；"
            "第一层卷积核学成了边缘检测器。",
        },
        trained=True,
    ),
)

_RECURRENT: tuple[Preset, ...] = (
    Preset(
        name="sine-rnn",
        topic="rnn",
        title={"en": "RNN: continue a sine wave", "zh-CN": "RNN：预测正弦波的下一个值"},
        summary={
            "en": "A trained RNN reads a sine wave one time step at a time and predicts the "
            "next value at every step (many-to-many regression).",
            "zh-CN": "训练好的循环神经网络逐个时间步读入正弦波，在每个时间步预测下一个值"
            "（多对多回归）。",
        },
        trained=True,
        reads_numbers=True,
    ),
    Preset(
        name="sine-lstm",
        topic="lstm",
        title={"en": "LSTM: continue a sine wave", "zh-CN": "LSTM：预测正弦波的下一个值"},
        summary={
            "en": "The same task with an LSTM: watch the forget, input and output gates and "
            "the cell state at every time step.",
            "zh-CN": "同样的任务换成 LSTM：观察每个时间步的遗忘门、输入门、输出门和细胞状态。",
        },
        trained=True,
        reads_numbers=True,
    ),
    Preset(
        name="memory-rnn",
        topic="rnn",
        title={"en": "RNN: remember the first token", "zh-CN": "RNN：记住第一个符号"},
        summary={
            "en": "The label is the first of 20 tokens; the rest is noise. The loss is at the "
            "last step, so its gradient has to travel back 20 time steps.",
            "zh-CN": "标签是 20 个符号中的第一个，其余都是噪声。损失在最后一个时间步，"
            "梯度要沿时间反向传播 20 步。",
        },
        trained=True,
    ),
    Preset(
        name="memory-lstm",
        topic="lstm",
        title={"en": "LSTM: remember the first token", "zh-CN": "LSTM：记住第一个符号"},
        summary={
            "en": "The long-term dependency an LSTM is made for: its cell state carries the "
            "first token across 20 noisy steps; step through to see its forget gate do it.",
            "zh-CN": "LSTM 擅长的长期依赖：细胞状态把第一个符号带过 20 个噪声时间步；"
            "逐步查看遗忘门是怎样做到的。",
        },
        trained=True,
    ),
    Preset(
        name="memory-lstm-40",
        topic="lstm",
        title={
            "en": "LSTM: remember the first token over 40 steps",
            "zh-CN": "LSTM：跨 40 步记住第一个符号",
        },
        summary={
            "en": "The same task, the same LSTM, trained on sequences of 40 tokens: the LSTM "
            "of the gradient chart. Its gradient reaches the first step; the one trained "
            "on 20 tokens, run over 40, loses it.",
            "zh-CN": "同样的任务、同样的 LSTM，在 40 个符号的序列上训练：梯度图中的 LSTM。"
            "它的梯度能传回第一个时间步；在 20 个符号上训练的那个，跑 40 步时梯度会消失。",
        },
        trained=True,
    ),
    Preset(
        name="bilstm-memory",
        topic="lstm",
        title={"en": "BiLSTM: read both ways", "zh-CN": "双向LSTM：两个方向读序列"},
        summary={
            "en": "A forward and a backward LSTM, outputs concatenated. The backward one reads "
            "the first token last, so it does not have to remember it for long.",
            "zh-CN": "一个前向 LSTM 和一个后向 LSTM，输出拼接。后向 LSTM 最后才读到第一个符号，"
            "不需要长时间记住它。",
        },
        trained=True,
    ),
    Preset(
        name="vanishing-rnn",
        topic="rnn",
        title={"en": "Vanishing and exploding gradients", "zh-CN": "梯度消失与梯度爆炸"},
        summary={
            "en": "An untrained RNN over 40 time steps whose recurrent weights have a chosen "
            "spectral radius: step backward and watch ||dL/dh_t|| shrink (below 1) or grow.",
            "zh-CN": "未训练的循环神经网络，40 个时间步，循环权重的谱半径可调：反向传播时观察 "
            "||dL/dh_t|| 逐步变小（梯度消失）或变大（梯度爆炸）。",
        },
    ),
    Preset(
        name="chars-en",
        topic="lstm",
        title={"en": "Characters: hello", "zh-CN": "字符模型：hello"},
        summary={
            "en": "An LSTM trained on a short English text predicts the next character: "
            "h, e, l, l -> e, l, l, o.",
            "zh-CN": "在一小段英文上训练的 LSTM 预测下一个字符：h、e、l、l -> e、l、l、o。",
        },
        trained=True,
    ),
    Preset(
        name="chars-zh",
        topic="lstm",
        title={"en": "Characters: a Chinese poem", "zh-CN": "字符模型：唐诗"},
        summary={
            "en": "An LSTM trained on three Tang poems predicts the next character: "
            "床前明月 -> 前明月光.",
            "zh-CN": "在三首唐诗上训练的 LSTM 预测下一个字：床前明月 -> 前明月光。",
        },
        trained=True,
    ),
    Preset(
        name="seq-one-to-many",
        topic="rnn",
        title={"en": "One-to-many: spell a word", "zh-CN": "一对多：由一个字母写出单词"},
        summary={
            "en": "One input, many outputs: the seed letter h at the first time step only, "
            "and the network writes e, l, l, o.",
            "zh-CN": "一个输入，多个输出：只在第一个时间步输入种子字母 h，"
            "网络依次输出 e、l、l、o。",
        },
        trained=True,
    ),
    Preset(
        name="seq-many-to-one",
        topic="rnn",
        title={"en": "Many-to-one: one label per sequence", "zh-CN": "多对一：整个序列一个标签"},
        summary={
            "en": "A whole sequence in, one answer out: the memory task's LSTM reads 20 tokens "
            "and its last hidden state gives the label.",
            "zh-CN": "输入整个序列，输出一个结果：记忆任务的 LSTM 读入 20 个符号，"
            "由最后一个隐藏状态给出标签。",
        },
        trained=True,
    ),
    Preset(
        name="seq-many-to-many",
        topic="rnn",
        title={
            "en": "Many-to-many: an output at every step",
            "zh-CN": "多对多：每个时间步一个输出",
        },
        summary={
            "en": "One output per input: the sine LSTM predicts the next value at each of its "
            "20 time steps.",
            "zh-CN": "每个输入对应一个输出：正弦波 LSTM 在 20 个时间步的每一步预测下一个值。",
        },
        trained=True,
    ),
)

_BY_NAME = {p.name: p for p in _PRESETS + _RECURRENT}


def list_presets() -> list[Preset]:
    """Every preset, in teaching order."""
    return [*_PRESETS, *_RECURRENT]


def get_preset(name: str) -> Preset:
    """One preset by name; KeyError names the ones on offer."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; on offer: {', '.join(_BY_NAME)}") from None


def preset_options(name: str) -> set[str]:
    """The keyword options a preset's builder takes (e.g. vanishing-rnn's scale)."""
    from engine.presets.builders import BUILDERS

    get_preset(name)
    params = inspect.signature(BUILDERS[name]).parameters
    return {p for p in params if p != "seed"}


DEFAULT_SEED = 0  # the API's default too (app.schemas Seed), so a notebook and the page agree


def build_preset(name: str, seed: int | None = None, **options: Any) -> Lesson:
    """Build a preset's network, sample and target (see engine.presets.builders),
    with the builder's own options if it has any. No seed means DEFAULT_SEED, the
    seed an API session uses when its request names none."""
    from engine.presets.builders import BUILDERS

    unknown = set(options) - preset_options(name)
    if unknown:
        raise ValueError(f"{name} takes no option {', '.join(sorted(unknown))}")
    return BUILDERS[name](DEFAULT_SEED if seed is None else seed, **options)
