"""The rules of convolution and pooling layers: which arithmetic of
engine.functional.explain_cnn answers a recorded tensor, with which recorded arrays.

Pooling windows are rebuilt from the recorded input (same tie rule), never read from
a layer's cache, which belongs to whatever ran last (a training batch, another pass).
A pooling layer's `dout` is explained as where that pooled delta goes (each window
position gets weight × δ: the routing the pooling page shows); where it came from is
only the layer above's dx.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.explain.base import Answer, Rule
from engine.functional import explain_cnn as C
from engine.functional import explain_dense as D
from engine.functional.explain_terms import Explanation, Factor, Term
from engine.functional.pool import PoolCache, max_pool2d_forward, pool_cache
from engine.layers import AvgPool2D, Conv2D, MaxPool2D
from engine.trace import Trace


def conv_rule(layer: Conv2D, what: str, t: dict[str, str]) -> Rule | None:
    """The rule for `<conv>.<what>` (t: the layer's tensor names), None if none answers."""
    fn = _CONV.get(what)
    if fn is None:
        return None
    return lambda trace, idx: fn(layer, trace, idx, t)


def _conv_out(layer: Conv2D, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    used = _kernel(layer, trace[t["w"]])
    x, s, p = trace[t["in"]], layer.stride, layer.padding
    exp = C.explain_conv_output(x, used, trace[t["b"]], idx, s, p)
    return _unflip(exp, layer), {"x": t["in"], "w": t["w"], "b": t["b"]}


def _conv_partial(layer: Conv2D, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    used = _kernel(layer, trace[t["w"]])
    exp = C.explain_conv_partial(trace[t["in"]], used, idx, layer.stride, layer.padding)
    return _unflip(exp, layer), {"x": t["in"], "w": t["w"]}


def _conv_dx(layer: Conv2D, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    used, shape = _kernel(layer, trace[t["w"]]), trace[t["in"]].shape
    exp = C.explain_conv_input_delta(trace[t["dout"]], used, idx, shape, layer.stride,
                                     layer.padding)  # fmt: skip
    return _unflip(exp, layer), {"dout": t["dout"], "w": t["w"]}


def _conv_dw(layer: Conv2D, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    kh, kw = layer.kernel
    f, c, u, v = idx
    at = (f, c, kh - 1 - u, kw - 1 - v) if layer.flip else idx
    exp = C.explain_conv_weight_grad(trace[t["in"]], trace[t["dout"]], at, layer.kernel,
                                     layer.stride, layer.padding)  # fmt: skip
    if layer.flip:  # the stored kernel's cell: the gradient of the rotation, rotated back
        exp = _reindex(exp, idx, "dw[f, c, u, v] = rot180(Σ δ · x)")
    return exp, {"dout": t["dout"], "x": t["in"]}


def _conv_db(layer: Conv2D, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    return D.explain_bias_grad(trace[t["dout"]], idx), {"dout": t["dout"]}


def _kernel(layer: Conv2D, w: np.ndarray) -> np.ndarray:
    """The kernel the layer slides: true convolution slides the rotation."""
    return w[:, :, ::-1, ::-1] if layer.flip else w


ConvFn = Callable[[Conv2D, Trace, tuple[int, ...], dict[str, str]], Answer]
_CONV: dict[str, ConvFn] = {
    "out": _conv_out, "partial": _conv_partial, "dx": _conv_dx, "dw": _conv_dw, "db": _conv_db,
}  # fmt: skip


def _unflip(exp: Explanation, layer: Conv2D) -> Explanation:
    """The same terms with each kernel factor's index rotated back by 180 degrees, so a
    true convolution's explanation names the stored kernel's cells."""
    if not layer.flip:
        return exp
    kh, kw = layer.kernel
    terms = []
    for term in exp.terms:
        factors = tuple(
            Factor(f.tensor, (*f.index[:2], kh - 1 - f.index[2], kw - 1 - f.index[3]),
                     f.value) if f.tensor == "w" and f.index else f
            for f in term.factors
        )  # fmt: skip
        terms.append(Term(factors, term.product, term.expr))
    return Explanation(exp.kind, exp.index, tuple(terms), exp.formula, exp.constant, exp.scale)


def _reindex(exp: Explanation, idx: tuple[int, ...], formula: str) -> Explanation:
    return Explanation(exp.kind, idx, exp.terms, formula, exp.constant, exp.scale)


def pool_rule(layer: MaxPool2D | AvgPool2D, what: str, t: dict[str, str]) -> Rule | None:
    """The rule for `<pool>.<what>` (t: the layer's tensor names), None if none answers."""
    fn = _POOL.get(what)
    if fn is None:
        return None
    return lambda trace, idx: fn(layer, trace, idx, t)


def _pool_out(layer: Pool, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    x = trace[t["in"]]
    return C.explain_pool_output(x, _windows(layer, x), idx), {"x": t["in"]}


def _pool_mask(layer: Pool, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    # the factor is "did this window choose this pixel" (0 or 1), not a pooled value
    cache = _windows(layer, trace[t["in"]])
    return C.explain_pool_mask(cache, idx), {"window": f"{layer.name} window chose it"}


def _pool_dx(layer: Pool, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    cache = _windows(layer, trace[t["in"]])
    return C.explain_pool_input_delta(trace[t["dout"]], cache, idx), {"dout": t["dout"]}


def _pool_dout(layer: Pool, trace: Trace, idx: tuple[int, ...], t: dict[str, str]) -> Answer:
    # where this pooled delta goes, not the copy of the dx above it
    cache = _windows(layer, trace[t["in"]])
    return C.explain_pool_routing(trace[t["dout"]], cache, idx), {"dout": t["dout"]}


Pool = MaxPool2D | AvgPool2D
PoolFn = Callable[[Pool, Trace, tuple[int, ...], dict[str, str]], Answer]
_POOL: dict[str, PoolFn] = {"out": _pool_out, "mask": _pool_mask, "dx": _pool_dx,
                            "dout": _pool_dout}  # fmt: skip


def _windows(layer: MaxPool2D | AvgPool2D, x: np.ndarray) -> PoolCache:
    """The layer's windows over its recorded input, and for max pooling which position
    won each (the forward's own tie rule), never the layer's cache of its last run."""
    cache = pool_cache(x.shape, layer.size, layer.stride, x.dtype)
    if isinstance(layer, MaxPool2D):
        max_pool2d_forward(x, cache)
    else:
        cache.kind = "avg"
    return cache
