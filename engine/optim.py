"""Optimizers: SGD, SGD with momentum, Adam (PyTorch's update rules).

Each holds its hyperparameters and per-parameter state (momentum's velocity, Adam's
moments and step count); the update itself is engine.functional.optim's, the same
functions the learning-rate lab steps with. `step(key, p, g)` returns a NEW array
of p's dtype: the trace keeps references to the weights a pass used, so weights are
never changed in place.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from engine.functional.optim import adam_update, momentum_update, sgd_update


class Optimizer:
    kind: ClassVar[str] = ""

    def __init__(self, lr: float) -> None:
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number; got {lr}")
        self.lr = float(lr)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps: dict[str, int] = {}

    def step(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The parameter after one update from gradient g (a new array)."""
        self.steps[key] = self.steps.get(key, 0) + 1
        return self._update(key, p, g)

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def hyper(self) -> dict[str, float]:
        return {"lr": self.lr}

    def spec(self) -> dict[str, Any]:
        return {"type": self.kind, **self.hyper()}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Flat {"<param>/<slot>": array} plus step counts, for npz (no pickle)."""
        out = {f"{k}/{slot}": a for k, slots in self.state.items() for slot, a in slots.items()}
        out.update({f"{k}/t": np.array(t) for k, t in self.steps.items()})
        return out

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.state, self.steps = {}, {}
        for name, a in arrays.items():
            key, slot = name.rsplit("/", 1)
            if slot == "t":
                self.steps[key] = int(a)
            else:
                self.state.setdefault(key, {})[slot] = np.array(a)


class SGD(Optimizer):
    """w <- w - lr * dw."""

    kind = "sgd"

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        # lr in p's own type: a float32 parameter is updated in float32
        return sgd_update(p, g, p.dtype.type(self.lr)).astype(p.dtype, copy=False)


class Momentum(Optimizer):
    """v <- mu * v + dw; w <- w - lr * v (PyTorch's SGD with momentum, no dampening)."""

    kind = "momentum"

    def __init__(self, lr: float, momentum: float = 0.9) -> None:
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}")
        self.momentum = float(momentum)

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        slot = self.state.setdefault(key, {})
        v = slot.get("v", np.zeros_like(p))
        lr = p.dtype.type(self.lr)
        p_new, v = momentum_update(p, g, v, lr, self.momentum)
        slot["v"] = v.astype(p.dtype, copy=False)
        return p_new.astype(p.dtype, copy=False)

    def hyper(self) -> dict[str, float]:
        return {"lr": self.lr, "momentum": self.momentum}


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba; PyTorch's defaults)."""

    kind = "adam"

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"betas must be in [0, 1); got {beta1}, {beta2}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        slot = self.state.setdefault(key, {"m": np.zeros_like(p), "v": np.zeros_like(p)})
        p_new, m, v = adam_update(
            p, g, slot["m"], slot["v"], self.steps[key], self.lr, self.beta1, self.beta2, self.eps
        )
        slot["m"], slot["v"] = m.astype(p.dtype, copy=False), v.astype(p.dtype, copy=False)
        return p_new.astype(p.dtype, copy=False)

    def hyper(self) -> dict[str, float]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(spec: dict[str, Any]) -> Optimizer:
    """An optimizer from {"type": "sgd" | "momentum" | "adam", "lr": ..., ...}."""
    spec = dict(spec)
    kind = spec.pop("type", "sgd")
    if kind not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {kind!r}; choose one of {', '.join(OPTIMIZERS)}")
    try:
        return OPTIMIZERS[kind](**spec)
    except TypeError as exc:
        raise ValueError(f"bad settings for optimizer {kind!r}: {exc}") from None
