"""Preset metadata (names, titles and summaries in en and zh-CN) and lookup.

A preset names a network, its seeded weights, a sample and a target. The
builders live in `engine.presets.builders`; this module only describes them, so
listing presets never builds a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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

_BY_NAME = {p.name: p for p in _PRESETS}


def list_presets() -> list[Preset]:
    """Every preset, in teaching order."""
    return list(_PRESETS)


def get_preset(name: str) -> Preset:
    """One preset by name; KeyError names the ones on offer."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; on offer: {', '.join(_BY_NAME)}") from None


def build_preset(name: str, seed: int | None = None) -> Lesson:
    """Build a preset's network, sample and target (see engine.presets.builders)."""
    from engine.presets.builders import BUILDERS

    get_preset(name)
    return BUILDERS[name](seed)
