"""The lecture Glassbox teaches from (lecture.zh.txt, Chinese; its figures are lost,
its text is not), cut into the sections a lesson task links to.

Each section starts at the first line that begins with its `marker`; its title is in
the catalog (lecture.<id> in en and zh-CN). GET /lecture shows the text with an
anchor per section (#<id>), so a task's link lands where the lecture discusses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# (id, the start of the section's first line), in the lecture's order
SECTIONS: tuple[tuple[str, str], ...] = (
    ("convolution", "卷积神经网络中,所谓的卷积运算"),
    ("tensor-convolution", "全连接神经网络,图像数据"),
    ("pooling", "所谓的池化"),
    ("pooling-backward", "池化层反向传播"),
    ("conv-backward", "如上图所示,我们求原图A处"),
    ("bp", "关于BP神经网络的反向误差传播算法的理解"),
    ("learning-rate", "学习率的重要性"),
    ("rnn", "RNN(循环神经网络)"),
    ("rnn-gradients", "梯度爆炸与梯度消失"),
    ("rnn-pros-cons", "RNN的优缺点"),
    ("lstm", "LSTM介绍"),
    ("forget-gate", "遗忘门"),
    ("input-gate", "输入门"),
    ("cell-update", "细胞状态更新"),
    ("output-gate", "输出门"),
    ("bilstm", "Bi LSTM"),
)
SECTION_IDS = tuple(s for s, _ in SECTIONS)
# A line that stood for one of the lecture's figures (lost): "CNN_RNN_LSTM基础知识_卷积_02"
FIGURE = re.compile(r"^CNN_RNN_LSTM基础知识_\S+_(\d+)$")
# Lines the text kept from its editor that are not the lecture's ("Reference: add a link
# description", a placeholder whose link is gone).
LEFTOVERS = ("参考:添加链接描述",)


@dataclass(frozen=True)
class Section:
    id: str
    paragraphs: tuple[str | int, ...]  # text, or the number of a lost figure


@cache
def lecture() -> tuple[Section, ...]:
    """The lecture's sections with their paragraphs (ValueError if a marker is missing
    or out of order: the text and SECTIONS must agree)."""
    text = (resources.files("app.lessons.lecture") / "lecture.zh.txt").read_text("utf-8")
    lines = [line.strip() for line in text.splitlines()]
    starts: list[int] = []
    for sid, marker in SECTIONS:
        at = next((i for i, line in enumerate(lines) if line.startswith(marker)), None)
        if at is None or (starts and at <= starts[-1]):
            raise ValueError(f"lecture section {sid!r}: no line starting {marker!r} in order")
        starts.append(at)
    out = []
    for k, (sid, _) in enumerate(SECTIONS):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        paras: list[str | int] = []
        for n, line in enumerate(lines[starts[k] : end]):
            if not line or line in LEFTOVERS or (n == 0 and line == SECTIONS[k][1]):
                continue  # (a heading: the section's title shows it)
            fig = FIGURE.match(line)
            paras.append(int(fig.group(1)) if fig else line)
        out.append(Section(sid, tuple(paras)))
    return tuple(out)


__all__ = ["SECTIONS", "SECTION_IDS", "Section", "lecture"]
