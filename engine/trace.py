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
from typing import Any

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
    """A step of a model's plan: what will run, in which phase, on which layer; for a
    recurrent layer also at which time step and, for a BiLSTM, in which direction. A
    model builds what runs a step from these fields alone (engine.stepper)."""

    index: int
    phase: str
    layer: str
    op: str
    t: int | None = None  # the time step, for recurrent layers
    direction: str | None = None  # a BiLSTM's "fwd" or "bwd"; None for anything else


class Step:
    """One step of a pass: what ran (its planned step), which tensors it produced,
    what it means. The caption (en and zh-CN) and formula are filled from `values`
    when read."""

    __slots__ = ("_groups", "planned", "values")

    def __init__(
        self, planned: PlannedStep, groups: list[tuple[str, ...]], values: dict[str, object]
    ) -> None:
        self.planned, self._groups, self.values = planned, groups, values

    @property
    def tensors(self) -> list[str]:
        """The names this step recorded, in order."""
        return [name for names in self._groups for name in names]

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


class Lazy:
    """A derived tensor, recorded as the function (and its arguments) that computes
    it on first read."""

    __slots__ = ("args", "fn")

    def __init__(self, fn: Callable[..., np.ndarray], *args: Any) -> None:
        self.fn, self.args = fn, args

    def make(self) -> np.ndarray:
        return self.fn(*self.args)


Meta = tuple[str, tuple[str, ...]]  # a recorded tensor's role and axes
Group = tuple[tuple[str, ...], tuple[Meta, ...], tuple[Any, ...]]  # names, metas, values


class Records(Mapping[str, TensorRecord]):
    """A trace's tensors by name, as TensorRecords (made once, on first lookup)."""

    __slots__ = ("_trace",)

    def __init__(self, trace: Trace) -> None:
        self._trace = trace

    def __getitem__(self, name: str) -> TensorRecord:
        index = self._trace.index()
        item = index[name]
        if type(item) is TensorRecord:
            return item
        value, (role, axes) = item
        if type(value) is Lazy:
            rec = TensorRecord(name, role, None, axes, value.make)
        else:
            rec = TensorRecord(name, role, value, axes)
        index[name] = rec
        return rec

    def __contains__(self, name: object) -> bool:
        return name in self._trace.index()

    def __iter__(self) -> Iterator[str]:
        return iter(self._trace.index())

    def __len__(self) -> int:
        return len(self._trace.index())


class Trace:
    """The named tensors and steps of one pass, in the order they were made.

    Recording appends each layer's group of (names, roles and axes, values) to a
    log, one append per group: a pass records about fifty tensors and most are
    never looked up one by one. The name index is built from the log on the
    first lookup after recording (a later record of a name replaces it).
    """

    __slots__ = ("_index", "_log", "fresh", "steps")

    def __init__(self) -> None:
        self._log: list[Group] = []  # groups recorded since the index was last brought up to date
        self._index: dict[str, Any] = {}  # name -> (value, meta), or its TensorRecord once made
        # The groups of names recorded since the last step was closed (engine.stepper
        # hands them to the Step and starts a new list).
        self.fresh: list[tuple[str, ...]] = []
        self.steps: list[Step] = []

    @property
    def tensors(self) -> Records:
        return Records(self)

    def record(self, name: str, role: str, data: np.ndarray, axes: tuple[str, ...]) -> None:
        self.record_all((name,), ((role, axes),), (data,))

    def record_lazy(
        self, name: str, role: str, make: Callable[[], np.ndarray], axes: tuple[str, ...]
    ) -> None:
        """Record a derived tensor computed on first read."""
        self.record_all((name,), ((role, axes),), (Lazy(make),))

    def record_all(
        self, names: tuple[str, ...], metas: tuple[Meta, ...], values: tuple[Any, ...]
    ) -> None:
        """Record several tensors at once: names[i] with metas[i] = (role, axes) holds
        values[i] (an array, or a Lazy)."""
        if not len(names) == len(metas) == len(values):
            raise ValueError(
                f"record_all: {len(names)} names, {len(metas)} metas, {len(values)} values"
            )
        self._log.append((names, metas, values))
        self.fresh.append(names)

    def index(self) -> dict[str, Any]:
        """name -> (value, (role, axes)), or the name's TensorRecord once looked up."""
        if self._log:
            index = self._index
            for names, metas, values in self._log:
                index.update(zip(names, zip(values, metas, strict=True), strict=True))
            self._log = []
        return self._index

    def nbytes(self) -> int:
        """Bytes of the arrays this trace holds (a derived tensor once it was read).
        Arrays recorded under two names (a view, or one array twice) count once."""
        seen: dict[int, int] = {}
        for item in self.index().values():
            data = item._data if type(item) is TensorRecord else item[0]
            if isinstance(data, np.ndarray):
                base = data.base if isinstance(data.base, np.ndarray) else data
                seen[id(base)] = max(seen.get(id(base), 0), data.nbytes, base.nbytes)
        return sum(seen.values())

    def __getitem__(self, name: str) -> np.ndarray:
        item = self.index()[name]
        if type(item) is tuple and type(item[0]) is np.ndarray:
            return item[0]
        return self.tensors[name].data

    def __contains__(self, name: object) -> bool:
        return name in self.index()


IMAGE_AXES = ("sample", "channel", "row", "col")
KERNEL_AXES = ("kernel", "channel", "row", "col")
FEATURE_AXES = ("sample", "feature")
