"""The data of an explanation: the arithmetic behind one number.

An `Explanation` is a list of terms, each a product of named factors (tensor,
index, value), an optional constant added (a bias) and an optional factor
multiplied afterwards (an activation's slope, 1/N of a mean). Its `total` is
recomputed from the terms, so a test or a student can check that the terms
really add up to the recorded value. A term that is not a plain product (e^z,
−log p, (y − t)²) says so in its `expr`, written by the engine with its numbers.
Factor tensor names are generic ("x", "w", "b", "dout", "weight"); the caller
maps them to trace names.

Two kinds need no arithmetic: `given` (an input, a parameter, a target: nothing
in the pass computes it; the one term is the value itself) and `copy` (the same
number under another name: a layer's input is the previous layer's output).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Index = tuple[int, ...]

GIVEN = ("input", "param", "target", "state", "hyper")


@dataclass(frozen=True)
class Factor:
    tensor: str
    index: Index | None  # None: a padded zero outside the input
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"tensor": self.tensor, "index": self.index, "value": self.value}


@dataclass(frozen=True)
class Term:
    factors: tuple[Factor, ...]
    product: float
    expr: str | None = None  # the term's arithmetic when it is not the factors' product

    @classmethod
    def of(cls, *factors: Factor) -> Term:
        return cls(factors, float(np.prod([f.value for f in factors])))

    def to_dict(self) -> dict[str, Any]:
        d = {"factors": [f.to_dict() for f in self.factors], "product": self.product}
        if self.expr is not None:
            d["expr"] = self.expr
        return d


@dataclass(frozen=True)
class Then:
    """A last step applied to the sum: an activation f(z), or softmax's division.
    `fn` names it, `formula` shows it with its numbers, `value` is its result."""

    fn: str
    formula: str
    value: float


@dataclass(frozen=True)
class Explanation:
    """sum = (Σ term products + constant) · scale; total = then.value if there is a
    last step (an activation of the sum), else the sum."""

    kind: str
    index: Index
    terms: tuple[Term, ...]
    formula: str
    constant: Factor | None = None
    scale: Factor | None = None
    given: str | None = None  # one of GIVEN: nothing in the pass computes this number
    then: Then | None = None
    sum: float = field(init=False)
    total: float = field(init=False)

    def __post_init__(self) -> None:
        s = float(np.sum([t.product for t in self.terms])) if self.terms else 0.0
        if self.constant is not None:
            s += self.constant.value
        if self.scale is not None:
            s *= self.scale.value
        object.__setattr__(self, "sum", s)
        object.__setattr__(self, "total", s if self.then is None else self.then.value)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "kind": self.kind,
            "index": self.index,
            "formula": self.formula,
            "terms": [t.to_dict() for t in self.terms],
            "constant": self.constant.to_dict() if self.constant else None,
            "scale": self.scale.to_dict() if self.scale else None,
            "total": self.total,
            "given": self.given,
        }
        if self.then is not None:  # the shape recurrent gates use: z, then fn(z)
            t = self.then
            d["activation"] = {"fn": t.fn, "z": self.sum, "value": t.value, "formula": t.formula}
        return d


def checked_index(index: Sequence[int], shape: Sequence[int], what: str) -> Index:
    """`index` as a tuple of ints; ValueError naming `what` if it is outside `shape`."""
    idx = tuple(int(i) for i in index)
    if len(idx) != len(shape) or any(not 0 <= i < s for i, s in zip(idx, shape, strict=True)):
        raise ValueError(f"index {idx} is outside {what} of shape {tuple(shape)}")
    return idx


def given(what: str, tensor: str, index: Sequence[int], value: float, formula: str) -> Explanation:
    """A number nothing in the pass computes (`what` is one of GIVEN): its one term is
    itself, so the terms still add up to it."""
    if what not in GIVEN:
        raise ValueError(f"given must be one of {GIVEN}; got {what!r}")
    idx = tuple(int(i) for i in index)
    term = Term.of(Factor(tensor, idx, float(value)))
    return Explanation("given", idx, (term,), formula, given=what)


def copy_of(
    tensor: str, src_index: Sequence[int], value: float, index: Sequence[int], formula: str
) -> Explanation:
    """The same number as `tensor[src_index]` (a layer's input is the previous layer's
    output; flatten only renumbers): one term, that number."""
    term = Term.of(Factor(tensor, tuple(int(i) for i in src_index), float(value)))
    return Explanation("copy", tuple(int(i) for i in index), (term,), formula)
