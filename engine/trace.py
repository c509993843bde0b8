"""The trace: every tensor of a pass under a stable dotted name, and the steps.

Names are `<layer>.<what>`: `conv1.in`, `conv1.w`, `conv1.partial`, `conv1.out`,
`pool1.mask`, `conv1.dout` (the delta arriving from above), `conv1.dx` (the
delta map handed below), `conv1.dw`, `loss.value`, `conv1.w.after`, ...
Recording stores a reference, never a copy: tensors are not mutated after
they are recorded (optimizers build new arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from engine.captions import caption as fill_caption

ROLES = (
    "input",
    "param",
    "preact",
    "activation",
    "partial",
    "mask",
    "gate",
    "state",
    "output",
    "target",
    "loss",
    "delta",
    "grad",
    "update",
)
PHASES = ("forward", "loss", "backward", "update")


class TensorRecord:
    """One named tensor: its role, its axes' names and the array itself.

    A derived tensor (a conv's partial maps, a pooling mask) may be recorded as a
    function of the layer's cache; it is computed when first read.
    """

    __slots__ = ("_data", "_make", "axes", "name", "role")

    def __init__(
        self,
        name: str,
        role: str,
        data: np.ndarray | None,
        axes: tuple[str, ...],
        make: Callable[[], np.ndarray] | None = None,
    ) -> None:
        self.name, self.role, self.axes = name, role, axes
        self._data, self._make = data, make

    @property
    def data(self) -> np.ndarray:
        if self._data is None:
            assert self._make is not None
            self._data, self._make = np.asarray(self._make()), None
        return self._data

    def validate(self) -> None:
        """Raise if the role is unknown or the axes do not match the data."""
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} for {self.name}; roles: {ROLES}")
        if len(self.axes) != self.data.ndim:
            raise ValueError(f"{self.name}: {self.data.ndim}-D data but axes {self.axes}")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def finite(self) -> bool:
        """False once training diverged into NaN or Inf."""
        return bool(np.isfinite(self.data).all())

    def min_max(self) -> tuple[float | None, float | None]:
        """The finite minimum and maximum (None when no value is finite)."""
        d = self.data
        if d.size == 0:
            return None, None
        if not np.isfinite(d).all():
            d = d[np.isfinite(d)]
            if d.size == 0:
                return None, None
        return float(d.min()), float(d.max())


@dataclass(frozen=True)
class PlannedStep:
    """A step of a model's plan: what will run, in which phase, on which layer."""

    index: int
    phase: str
    layer: str
    op: str
    t: int | None = None  # the time step, for recurrent layers


class Step:
    """One step of a pass: what ran (its planned step), which tensors it produced,
    what it means. The caption (en and zh-CN) and formula are filled from `values`
    when read."""

    __slots__ = ("planned", "tensors", "values")

    def __init__(self, planned: PlannedStep, tensors: list[str], values: dict[str, object]):
        self.planned, self.tensors, self.values = planned, tensors, values

    @property
    def index(self) -> int:
        return self.planned.index

    @property
    def phase(self) -> str:
        return self.planned.phase

    @property
    def layer(self) -> str:
        return self.planned.layer

    @property
    def op(self) -> str:
        return self.planned.op

    @property
    def t(self) -> int | None:
        return self.planned.t

    @property
    def caption(self) -> dict[str, str]:
        return fill_caption(self.phase, self.op, **self.values)[0]

    @property
    def formula(self) -> str:
        return fill_caption(self.phase, self.op, **self.values)[1]


# What a trace holds per name until it is read: (role, data or None, axes, make or None).
_Entry = tuple[str, "np.ndarray | None", tuple[str, ...], "Callable[[], np.ndarray] | None"]


class Records(Mapping[str, TensorRecord]):
    """A trace's tensors by name, as TensorRecords. Recording keeps a plain tuple
    (a pass records about fifty tensors and most are never read one by one); the
    record is made, once, when a name is first looked up."""

    __slots__ = ("_entries",)

    def __init__(self, entries: dict[str, _Entry | TensorRecord]) -> None:
        self._entries = entries

    def __getitem__(self, name: str) -> TensorRecord:
        entry = self._entries[name]
        if type(entry) is tuple:
            role, data, axes, make = entry
            entry = self._entries[name] = TensorRecord(name, role, data, axes, make)
        return entry  # type: ignore[return-value]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class Trace:
    """The named tensors and steps of one pass, in the order they were made."""

    __slots__ = ("_entries", "fresh", "steps")

    def __init__(self) -> None:
        self._entries: dict[str, _Entry | TensorRecord] = {}
        self.steps: list[Step] = []
        self.fresh: list[str] = []  # names recorded since the last step was closed

    @property
    def tensors(self) -> Records:
        return Records(self._entries)

    def record(self, name: str, role: str, data: np.ndarray, axes: tuple[str, ...]) -> None:
        self._entries[name] = (role, data, axes, None)
        self.fresh.append(name)

    def record_lazy(
        self, name: str, role: str, make: Callable[[], np.ndarray], axes: tuple[str, ...]
    ) -> None:
        """Record a derived tensor computed on first read."""
        self._entries[name] = (role, None, axes, make)
        self.fresh.append(name)

    def take_fresh(self) -> list[str]:
        names, self.fresh = self.fresh, []
        return names

    def __getitem__(self, name: str) -> np.ndarray:
        entry = self._entries[name]
        if type(entry) is tuple and entry[1] is not None:
            return entry[1]
        return self.tensors[name].data

    def __contains__(self, name: object) -> bool:
        return name in self._entries


IMAGE_AXES = ("sample", "channel", "row", "col")
KERNEL_AXES = ("kernel", "channel", "row", "col")
FEATURE_AXES = ("sample", "feature")
