"""Finite-difference gradient checks shared by every layer's tests.

A layer test builds float64 inputs, runs the forward and the backward once with
a random upstream gradient R (the loss L = sum(out * R), a random projection, so
every output element matters with its own weight), then compares the analytic
gradients with centred differences of L:

    check_layer(lambda x, w, b: conv2d(x, w, b, 2, 1), conv2d_backward, {"x": x, "w": w, "b": b})

Losses, whose forward already returns the gradient, use `check_grad` directly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_grad(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dL/dx by centred differences (L(x + eps) - L(x - eps)) / (2 eps), in float64.

    `f` takes no argument and reads `x` (a closure): each element of `x` is
    perturbed in place, `f` is evaluated twice, and the element is restored.
    Truncation error is O(eps^2) and round-off O(1e-16 / eps), both far below
    the 1e-6 tolerance for eps = 1e-6.
    """
    if x.dtype != np.float64:
        raise TypeError(f"gradient checks run in float64; got {x.dtype}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        plus = float(f())
        x[i] = old - eps
        minus = float(f())
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / max(max|a|, max|b|, 1e-12): the error relative to the array's scale.

    One norm for the whole array rather than elementwise |a - b| / |b|: an
    elementwise relative error blows up on entries that are (nearly) zero, such
    as a gradient that cancels or a padded border, even when the absolute error
    is at round-off level. The 1e-12 floor keeps an all-zero pair at error 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shape mismatch: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-12)
    return float(np.max(np.abs(a - b))) / scale


def check_grad(
    loss: Callable[[], float],
    arrays: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
    tol: float = 1e-6,
    eps: float = 1e-6,
) -> dict[str, float]:
    """Assert that each analytic gradient matches the numerical one of `loss`.

    `loss()` reads the arrays in `arrays` (each perturbed in place in turn);
    `analytic[name]` is dL/d(arrays[name]). Returns the relative errors by name.
    """
    errors = {}
    for name, x in arrays.items():
        num = numerical_grad(loss, x, eps)
        got = analytic[name]
        assert got.shape == x.shape, f"d{name} has shape {got.shape}, input {x.shape}"
        errors[name] = err = rel_error(got, num)
        assert err <= tol, (
            f"d{name}: rel error {err:.2e} > {tol:.0e}\nanalytic\n{got}\nnumeric\n{num}"
        )
    return errors


def projection(shape: tuple[int, ...], seed: int = 1234) -> np.ndarray:
    """A random R (float64, standard normal) for the loss L = sum(out * R)."""
    return np.random.default_rng(seed).standard_normal(shape)


def check_layer(
    forward: Callable[..., tuple[np.ndarray, object]],
    backward: Callable[[np.ndarray, object], object],
    arrays: dict[str, np.ndarray],
    tol: float = 1e-6,
    seed: int = 1234,
) -> dict[str, float]:
    """Gradient-check a layer given as forward(**arrays) -> (out, cache) and
    backward(dout, cache) -> one gradient or a tuple of them, in `arrays` order.

    The loss is L = sum(forward(**arrays)[0] * R) with a fixed random R, whose
    gradient with respect to out is R itself.
    """
    for name, a in arrays.items():
        assert a.dtype == np.float64, f"{name} must be float64 for a gradient check"
    out, cache = forward(**arrays)
    r = projection(out.shape, seed)
    grads = backward(r.copy(), cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    assert len(grads) == len(arrays), f"backward gave {len(grads)} gradient(s) for {list(arrays)}"
    analytic = {name: np.asarray(g) for name, g in zip(arrays, grads, strict=True)}
    return check_grad(lambda: float(np.sum(forward(**arrays)[0] * r)), arrays, analytic, tol)
