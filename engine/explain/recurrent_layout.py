"""Where a recurrent layer's tensors sit in a trace: the names of its steps, which step
comes before and after which (per direction), and which tensor holds dL/dz of each
row of the stacked weights. Shared by recurrent_rules and recurrent_back_rules."""

from __future__ import annotations

from dataclasses import dataclass

from engine.functional.explain_terms import Factor
from engine.functional.recurrent import GATES
from engine.recurrent import RecurrentNet
from engine.trace import Trace


@dataclass(frozen=True)
class Layout:
    trace: Trace
    net: RecurrentNet
    name: str  # the layer's name: rnn1, lstm1, bilstm1
    op: str  # rnn | lstm | bilstm
    steps: int  # T
    hid: int  # H (per direction)
    nonlinearity: str  # an RNN's tanh or relu

    @classmethod
    def of(cls, trace: Trace, net: RecurrentNet) -> Layout:
        rec = net.recurrent
        steps = int(trace[f"{rec.name}.in"].shape[1])
        nl = getattr(rec, "nonlinearity", "tanh")
        return cls(trace, net, rec.name, rec.op, steps, rec.hidden_size, nl)

    @property
    def bidir(self) -> bool:
        return self.op == "bilstm"

    @property
    def dirs(self) -> tuple[str, ...]:
        return Layout.directions(self.op)

    @staticmethod
    def directions(op: str) -> tuple[str, ...]:
        """The directions: a BiLSTM's "fwd" and "bwd"; "" alone for a one-way layer."""
        return ("fwd", "bwd") if op == "bilstm" else ("",)

    @property
    def rows(self) -> int:
        """Rows of the stacked weights: H for an RNN, 4H for the LSTM's gates."""
        return self.hid if self.op == "rnn" else 4 * self.hid

    def prefix(self, d: str, t: int) -> str:
        return f"{self.name}.{d}.t{t}" if d else f"{self.name}.t{t}"

    def weight(self, d: str, key: str) -> str:
        return f"{self.name}.{key}{'_reverse' if d == 'bwd' else ''}"

    def first(self, d: str) -> int:
        """The time position a direction reads first (the backward one starts at T-1)."""
        return self.steps - 1 if d == "bwd" else 0

    def before(self, d: str, t: int) -> int | None:
        """The time position read just before t in direction d (None: t is read first)."""
        s = t + 1 if d == "bwd" else t - 1
        return s if 0 <= s < self.steps else None

    def after(self, d: str, t: int) -> int | None:
        """The time position read just after t in direction d (None: t is read last)."""
        s = t - 1 if d == "bwd" else t + 1
        return s if 0 <= s < self.steps else None

    def factor(self, name: str, idx: tuple[int, ...]) -> Factor:
        """A recorded number as a factor under its trace name."""
        return Factor(name, idx, float(self.trace[name][idx]))

    def dz(self, d: str, t: int, n: int, row: int) -> Factor:
        """dL/dz at row `row` of the stacked weights, sample n, step t: an RNN's dz, or
        the LSTM gate's delta (row k·H + j is unit j of gate k in i, f, g, o)."""
        p = self.prefix(d, t)
        if self.op == "rnn":
            return self.factor(f"{p}.dz", (n, row))
        return self.factor(f"{p}.d{GATES[row // self.hid]}", (n, row % self.hid))
