"""A preset session's network: the preset built with its own options (a sequence
length, vanishing-rnn's scale), then the overrides that change it (conv settings,
pooling, activation, a recurrent net's nonlinearity, clipping, fresh weights) and
its optimizer."""

from __future__ import annotations

from typing import Any

from app.limits import at_most
from app.schemas import Overrides, SessionCreate
from app.sessions.inputs import parse_sequence
from app.settings import Limits
from engine.models import model_from_spec
from engine.network import Sequential
from engine.optim import make_optimizer
from engine.presets import DEFAULT_SEED, build_preset, list_presets, preset_options

# The presets whose length overrides.seq_len sets; those a typed number sequence fits.
SEQ_LEN_PRESETS = tuple(p.name for p in list_presets() if "seq_len" in preset_options(p.name))
NUMBER_PRESETS = tuple(p.name for p in list_presets() if p.reads_numbers)


def rebuilt(net: Sequential, spec: dict[str, Any], seed: int, reweight: Any = None) -> Sequential:
    """The network of `spec`; it keeps the old weights where every parameter keeps
    its shape (a flipped kernel, another activation), else starts from the preset's
    readable weights for the new shapes, or seeded random ones."""
    new = model_from_spec(spec, seed=seed)
    old, fresh = net.params(), new.params()
    if old.keys() == fresh.keys() and all(old[k].shape == v.shape for k, v in fresh.items()):
        new.set_params(old)
    elif reweight is not None:
        reweight(new)
    return new


def sequence_sets_length(req: SessionCreate, limits: Limits) -> SessionCreate:
    """A preset session made with a typed sequence (input.sequence) reads all but its
    last number: that many time steps is its seq_len, unless overrides say otherwise."""
    if req.preset is None or req.input is None or req.input.sequence is None:
        return req
    if req.preset not in NUMBER_PRESETS:
        return req  # resolve_input says what a typed sequence is for
    count = len(parse_sequence(req.input.sequence, limits))
    overrides = req.overrides or Overrides()
    if overrides.seq_len is None:
        overrides = overrides.model_copy(update={"seq_len": count - 1})
    return req.model_copy(update={"overrides": overrides})


def warm_up(limits: Limits) -> None:
    """Build every preset's lesson once (its dataset and trained weights are then held
    by the engine's caches): about 0.1 s when a worker starts. Otherwise the first
    digits-cnn or shapes-cnn session of each worker pays 40-50 ms for it, in the
    minute a class arrives, and every request queued behind it waits too."""
    for preset in list_presets():
        build_lesson(preset.name, DEFAULT_SEED, None, limits)


def build_lesson(name: str, seed: int, overrides: Overrides | None, limits: Limits) -> Any:
    """The preset's lesson, its builder given the overrides that are its own options
    (vanishing-rnn's scale and nonlinearity; the sequence length of the sine, memory
    and vanishing-rnn presets)."""
    wanted = {}
    if overrides is not None:
        wanted = overrides.model_dump(
            include={"scale", "nonlinearity", "seq_len"}, exclude_none=True
        )
    own = preset_options(name)
    if "scale" in wanted and "scale" not in own:
        raise ValueError(f"overrides.scale is not an option of {name}")
    if "seq_len" in wanted:
        if "seq_len" not in own:
            raise ValueError(
                f"overrides.seq_len is not an option of {name}; the presets that take it: "
                f"{', '.join(SEQ_LEN_PRESETS)}"
            )
        at_most("overrides.seq_len", wanted["seq_len"], limits, "max_seq_len")
    return build_preset(name, seed, **{k: v for k, v in wanted.items() if k in own})


def recurrent_overrides(
    name: str, net: Sequential, overrides: Overrides, seed: int, handled: set[str]
) -> tuple[Sequential, bool]:
    """A recurrent preset with another nonlinearity (an RNN) or gradient clipping (the
    weights stay), or any preset with fresh seeded weights (reinit: the same layers).
    Returns the network and whether its weights are no longer the trained ones."""
    from engine.recurrent import RecurrentNet

    patch: dict[str, Any] = {}
    if overrides.clip is not None:
        patch["clip"] = float(overrides.clip)
    if overrides.nonlinearity is not None and "nonlinearity" not in handled:
        patch["nonlinearity"] = overrides.nonlinearity
    if overrides.reinit:
        patch["reinit"] = True
    if not patch:
        return net, False
    if not isinstance(net, RecurrentNet):
        if list(patch) == ["reinit"]:  # e.g. a CNN preset: its layers, seeded random weights
            return model_from_spec(net.spec(), seed=seed), True
        others = ", ".join(k for k in patch if k != "reinit")
        raise ValueError(f"overrides {others} are for recurrent presets, not {name}")
    if "nonlinearity" in patch and net.cell != "rnn":
        raise ValueError(f"overrides.nonlinearity is for RNN presets; {name} is an {net.cell}")
    reinit = patch.pop("reinit", False)
    spec = {**net.spec(), **patch}
    if spec == net.spec() and not reinit:
        return net, False
    new = RecurrentNet.from_spec(spec, seed)
    if not reinit:
        new.set_params(net.params())
    return new, "nonlinearity" in patch or reinit


def optimizer_spec(base: dict[str, Any], overrides: Overrides | None) -> dict[str, Any]:
    spec = dict(base)
    if overrides is not None and overrides.optimizer is not None:
        spec = overrides.optimizer.model_dump(exclude_none=True)
    if overrides is not None and overrides.lr is not None:
        spec["lr"] = overrides.lr
    make_optimizer(spec)  # ValueError now rather than at the first update
    return spec
