"""Engine vs PyTorch CPU, measured in the same run (one BLAS thread each).

    python -m bench.engine [--repeats 300] [--rounds 3] [--only LSTM] [--mode both|warm|alternating]

Cases (float32): the classroom CNN (1x28x28 -> conv 8 k3 -> ReLU -> maxpool 2 ->
conv 16 k3 -> ReLU -> maxpool 2 -> dense 10 -> softmax CE) forward + backward
with the full trace (every tensor recorded under its name, partial maps
included) at batch 1 and 32, and one conv 1x3x64x64 -> 16 k3 p1 forward +
backward. PyTorch runs a plain forward + backward (autograd keeps what it
needs, nothing more), so the comparison does not favour the engine. For
context the classroom rows also print the engine with no trace and no stepping
(training's path: the floor the bookkeeping sits on) and a PyTorch that keeps
every layer's output and delta, as the trace does.
Recurrent cases (input 8, hidden 32, T 50, batch 16): the engine's functional
lstm / rnn / bilstm forward + backward (every gradient: dx, dh0, the weights)
against torch.nn.LSTM / RNN / LSTM(bidirectional=True) forward + autograd of the
same gradients, both from zero initial states.
Every case is measured two ways, each side's calls in turns so that drift in
the machine's speed hits all alike; `--rounds` rounds (3) go over every case in
turn, and each side's lowest round median is reported:
- warm: turns of `--warmup` untimed calls then `--block` timed ones (10 and 10),
  each library timed as the usual timers do (timeit, torch.utils.benchmark), on
  caches and an allocator its own earlier calls have warmed (a side reaches its
  steady speed only after 5-10 calls);
- alternating: strictly alternating single calls, every call starting right
  after the other library has evicted its caches: neither ever runs this way
  in use, and it costs the side with more, smaller calls the most.
Targets are checked both ways.
Needs torch==2.13.0.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

TARGETS = {
    "classroom CNN, batch 1": 0.6,
    "classroom CNN, batch 32": 1.0,
    "conv 3->16 k3 p1": 1.2,
    "LSTM I8 H32 T50 B16": 1.3,
    "RNN I8 H32 T50 B16": 0.3,
    "BiLSTM I8 H32 T50 B16": 1.5,
}


MODES = ("warm", "alternating")


def _round_medians(
    fns: list[Callable[[], object]], calls: int, block: int = 1, warmup: int = 0
) -> list[float]:
    """One round: the functions take turns of `warmup` untimed calls then `block`
    timed ones, about `calls` timed calls each; each one's median, in ms."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(max(calls // block, 1)):
        for i, fn in enumerate(fns):
            for _ in range(warmup):
                fn()
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) * 1e3 for t in times]


def classroom_cases(batch: int) -> tuple[Callable[[], object], Callable[[], object]]:
    import torch

    from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
    from engine.network import Sequential
    from engine.optim import SGD
    from engine.stepper import Pass

    layers = [Conv2D(1, 8, 3), ReLU(), MaxPool2D(2), Conv2D(8, 16, 3), ReLU(), MaxPool2D(2)]
    net = Sequential([*layers, Flatten(), Dense(400, 10)], (1, 28, 28), seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    opt = SGD(0.01)

    def engine_pass() -> object:
        p = Pass(net, x, y, opt)
        p.run(until="backward")
        return p

    tnet = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(400, 10),
    )  # fmt: skip
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def torch_pass() -> object:
        tnet.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(tnet(tx), ty)
        loss.backward()
        return loss

    return engine_pass, torch_pass


def classroom_untraced(batch: int) -> Callable[[], object]:
    """The engine's floor: the same forward + backward with no trace and no
    stepping (the path training takes), to show what the bookkeeping costs."""
    from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
    from engine.network import Sequential

    layers = [Conv2D(1, 8, 3), ReLU(), MaxPool2D(2), Conv2D(8, 16, 3), ReLU(), MaxPool2D(2)]
    net = Sequential([*layers, Flatten(), Dense(400, 10)], (1, 28, 28), seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def engine_pass() -> object:
        _, dout = net.loss(net.forward(x), y)
        return net.backward(dout, need_dx=False)

    return engine_pass


def classroom_torch_kept(batch: int) -> Callable[[], object]:
    """PyTorch doing what the engine's trace does: every layer's output and the
    delta at every layer kept (retain_grad), not only what autograd needs."""
    import torch

    tnet = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(400, 10),
    )  # fmt: skip
    rng = np.random.default_rng(0)
    tx = torch.from_numpy(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    ty = torch.from_numpy(rng.integers(0, 10, batch))

    def torch_pass() -> object:
        tnet.zero_grad(set_to_none=True)
        kept, h = [], tx
        for module in tnet:
            h = module(h)
            h.retain_grad()
            kept.append(h)
        torch.nn.functional.cross_entropy(h, ty).backward()
        return kept

    return torch_pass


def conv_cases() -> tuple[Callable[[], object], Callable[[], object]]:
    import torch

    from engine.functional import conv2d, conv2d_backward

    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 3, 64, 64)).astype(np.float32)
    w = rng.standard_normal((16, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    dout = rng.standard_normal((1, 16, 64, 64)).astype(np.float32)

    def engine_conv() -> object:
        out, cache = conv2d(x, w, b, 1, 1)
        return conv2d_backward(dout, cache)

    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    tdout = torch.from_numpy(dout)

    def torch_conv() -> object:
        out = torch.nn.functional.conv2d(tx, tw, tb, padding=1)
        return torch.autograd.grad(out, (tx, tw, tb), tdout)

    return engine_conv, torch_conv


def recurrent_cases(kind: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """fwd + bwd of one recurrent layer at input 8, hidden 32, T 50, batch 16."""
    import torch

    from engine.functional import (
        bilstm,
        bilstm_backward,
        lstm,
        lstm_backward,
        rnn,
        rnn_backward,
    )

    n, t, d, h = 16, 50, 8, 32
    torch.manual_seed(0)
    if kind == "rnn":
        module: torch.nn.Module = torch.nn.RNN(d, h, batch_first=True)
    else:
        module = torch.nn.LSTM(d, h, batch_first=True, bidirectional=kind == "bilstm")
    params = [p.detach().numpy().copy() for p in module.parameters()]
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, t, d)).astype(np.float32)
    dout = rng.standard_normal((n, t, h * (2 if kind == "bilstm" else 1))).astype(np.float32)
    forward, backward = {
        "rnn": (lambda: rnn(x, None, *params), rnn_backward),
        "lstm": (lambda: lstm(x, None, None, *params), lstm_backward),
        "bilstm": (lambda: bilstm(x, None, None, *params), bilstm_backward),
    }[kind]

    def engine_pass() -> object:
        _, cache = forward()
        return backward(dout, cache)

    tx, tdout = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)
    tparams = tuple(module.parameters())

    def torch_pass() -> object:
        out, _ = module(tx)
        return torch.autograd.grad(out, (tx, *tparams), tdout)

    return engine_pass, torch_pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--mode", choices=("both", *MODES), default="both")
    parser.add_argument("--block", type=int, default=10, help="timed calls per warm turn")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls before them")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every case")
    args = parser.parse_args()
    if min(args.repeats, args.rounds, args.block) < 1 or args.warmup < 0:
        parser.error("--repeats, --rounds and --block must be at least 1, --warmup at least 0")
    import torch
    from threadpoolctl import threadpool_limits

    from engine.runtime import tune_allocator

    tuned = tune_allocator()
    torch.set_num_threads(1)
    makers: dict[str, Callable[[], tuple[Callable[[], object], Callable[[], object]]]] = {
        "classroom CNN, batch 1": lambda: classroom_cases(1),
        "classroom CNN, batch 32": lambda: classroom_cases(32),
        "conv 3->16 k3 p1": conv_cases,
        "LSTM I8 H32 T50 B16": lambda: recurrent_cases("lstm"),
        "RNN I8 H32 T50 B16": lambda: recurrent_cases("rnn"),
        "BiLSTM I8 H32 T50 B16": lambda: recurrent_cases("bilstm"),
    }
    cases = {name: make() for name, make in makers.items() if args.only in name}
    modes = MODES if args.mode == "both" else (args.mode,)
    turns = {"warm": (args.block, args.warmup), "alternating": (1, 0)}
    print(f"torch {torch.__version__}, numpy {np.__version__}, 1 BLAS thread, float32, "
          f"allocator tuned: {tuned}; warm: turns of {args.warmup} untimed + {args.block} "
          "timed calls; alternating: single calls")  # fmt: skip
    head = "".join(f" | {m + ': engine ms':>22} {'torch ms':>8} {'ratio':>5}" for m in modes)
    print(f"{'case':28}{head} | target")
    # Each case's functions: engine, torch (and for the CNN the two context rows).
    groups: dict[str, list[Callable[[], object]]] = {}
    for name, (eng, ref) in cases.items():
        groups[name] = [eng, ref]
        if "classroom" in name:  # context: the engine's floor, a like-for-like PyTorch
            batch = int(name.rsplit(" ", 1)[1])
            groups[name] += [classroom_untraced(batch), classroom_torch_kept(batch)]
    best = {(n, m): [float("inf")] * len(g) for n, g in groups.items() for m in modes}
    with threadpool_limits(limits=1):
        for fns in groups.values():
            for fn in fns:
                for _ in range(5):
                    fn()
        # Rounds go over every case in turn, so a burst of load from another tenant of
        # the machine (seconds long) slows one round of a case, not all of them; each
        # function keeps its lowest round median (timeit's advice, the minimum).
        for _ in range(args.rounds):
            for name, fns in groups.items():
                calls = args.repeats if "batch 32" not in name else max(args.repeats // 4, 20)
                for m in modes:
                    medians = _round_medians(fns, calls // args.rounds, *turns[m])
                    best[name, m] = [min(a, b) for a, b in zip(best[name, m], medians, strict=True)]
    missed: dict[str, list[str]] = {m: [] for m in modes}
    for name in groups:
        cells, bare, kept = "", "", ""
        for m in modes:
            e_ms, t_ms, *more = best[name, m]
            ratio = e_ms / t_ms
            if ratio > TARGETS[name]:
                missed[m].append(name)
            cells += f" | {e_ms:22.3f} {t_ms:8.3f} {ratio:5.2f}"
            if more:
                bare_ms, kept_ms = more
                bare += f" | {bare_ms:22.3f} {'':8} {bare_ms / t_ms:5.2f}"
                kept += f" | {'':22} {kept_ms:8.3f} {e_ms / kept_ms:5.2f}"
        print(f"{name:28}{cells} | {TARGETS[name]:.2f}")
        if bare:
            print(f"{'  engine, no trace/steps':28}{bare} |")
            print(f"{'  torch keeping every tensor':28}{kept} |")
    for m in modes:
        print(f"{m}: " + ("missed: " + ", ".join(missed[m]) if missed[m] else "all targets met"))


if __name__ == "__main__":
    main()
