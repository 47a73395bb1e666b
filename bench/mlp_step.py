"""Speed of one training step of backprop_lib's numpy MLP against PyTorch on the CPU.

    python bench/mlp_step.py [--threads 1,2] [--repeats R] [--clock wall|cpu]

One step = forward pass, softmax cross-entropy, backward pass, SGD update, on a batch of
random inputs; numpy and PyTorch use the same shapes, dtype, weights and thread count in the
same run. For every row the script prints the median time of a step for

- ``step``: the public ``net.loss_and_grads(X, y)`` + ``net.sgd_step(grads, lr)`` (with its
  checks; ``backprop_lib.mlp.train`` runs the same path per minibatch, validated once);
- ``torch``: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``, ``F.cross_entropy``, ``loss.backward()``,
  ``torch.optim.SGD.step()``;
- ``BLAS floor``: only the matrix products the step needs, done with numpy
  (forward ``a W^T`` per layer, backward ``delta^T a`` per layer and ``delta W`` for every layer but the first);

and the ratios step/torch, step/BLAS-floor and the numpy MLP's backward/forward time
(forward = layers + loss and its gradient, backward = the layers' backward pass).

Time is wall-clock (``time.perf_counter``) by default: process CPU time would count torch's
idle worker threads spinning and flatter numpy. Every row is measured with 1 and with 2
threads (numpy's BLAS via threadpoolctl, ``torch.set_num_threads``).

Target: step/torch <= 1.1 in every row. Timings on a shared machine are noisy: medians of
many interleaved blocks; rerun before concluding.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

try:  # run from a checkout without installing
    import backprop_lib  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from backprop_lib.mlp import MLP

CONFIGS = [
    # (label, sizes, batch, dtype)
    ("784-128-10", [784, 128, 10], 128, np.float32),
    ("784-128-10", [784, 128, 10], 128, np.float64),
    ("784-256x4-10", [784, 256, 256, 256, 256, 10], 64, np.float32),
    ("784-256x4-10", [784, 256, 256, 256, 256, 10], 64, np.float64),
]
LR = 0.01


def _block_size(fn, clock, min_block: float) -> int:
    fn()
    fn()
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        if clock() - t0 >= min_block:
            return n
        n *= 2


def median_times(fns: dict, repeats: int, clock=time.perf_counter, min_block: float = 0.02) -> dict:
    """Median seconds per call of every function, measured in interleaved rounds.

    Each round times one block (>= ``min_block`` s) of every function in turn, so a burst
    of load from other processes hits all of them alike. The default clock is wall time.
    """
    sizes = {k: _block_size(fn, clock, min_block) for k, fn in fns.items()}
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            n = sizes[k]
            t0 = clock()
            for _ in range(n):
                fn()
            times[k].append((clock() - t0) / n)
    return {k: statistics.median(v) for k, v in times.items()}


def numpy_api_step(net: MLP, X: np.ndarray, y: np.ndarray):
    def step():
        _, grads = net.loss_and_grads(X, y)
        net.sgd_step(grads, LR)
    return step


def numpy_forward_backward(net: MLP, X: np.ndarray, y: np.ndarray):
    state = {}

    def forward():
        cache = net._forward(X)
        state["cache"] = cache
        state["dout"] = net._output_loss(cache.output, y, "cross_entropy")[1]

    def backward():
        net._backward(state["cache"], state["dout"])

    forward()
    return forward, backward


def blas_floor(sizes, batch: int, dtype, rng: np.random.Generator):
    """Only the matrix products of one step, on preallocated arrays of the step's shapes."""
    Ws = [rng.standard_normal((n_out, n_in)).astype(dtype) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    acts = [rng.standard_normal((batch, n)).astype(dtype) for n in sizes]
    deltas = [rng.standard_normal((batch, n)).astype(dtype) for n in sizes[1:]]

    def products():
        for l, W in enumerate(Ws):
            acts[l] @ W.T
        for l in range(len(Ws) - 1, -1, -1):
            deltas[l].T @ acts[l]
            if l > 0:
                deltas[l] @ Ws[l]
    return products


def torch_step(torch, sizes, batch: int, dtype, net: MLP, X: np.ndarray, y: np.ndarray):
    nn = torch.nn
    layers = []
    for l in range(1, len(sizes)):
        lin = nn.Linear(sizes[l - 1], sizes[l])
        layers.append(lin)
        if l < len(sizes) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).to(dtype=getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        for l, lin in enumerate(m for m in model if isinstance(m, nn.Linear)):
            lin.weight.copy_(torch.from_numpy(net.params[f"W{l + 1}"]))
            lin.bias.copy_(torch.from_numpy(net.params[f"b{l + 1}"]))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    F = torch.nn.functional

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()
    return step


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    rows = []
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            rows.append(f"{pool.get('internal_api')} {pool.get('version')} kernel={pool.get('architecture')} "
                        f"threads={pool.get('num_threads')} ({os.path.basename(pool.get('filepath', ''))})")
    return "; ".join(rows) or "no BLAS found by threadpoolctl"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated BLAS thread counts for numpy AND torch (default 1,2)")
    parser.add_argument("--repeats", type=int, default=15, help="timed blocks per measurement (median)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="wall",
                        help="wall: perf_counter (default); cpu: process CPU time (counts idle spinning threads)")
    args = parser.parse_args(argv)
    threads = [int(t) for t in str(args.threads).split(",")]

    try:
        import torch
    except ImportError:
        torch = None
    from threadpoolctl import threadpool_limits

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch is not None else 'not installed'}; "
          f"threads {threads} for numpy (threadpoolctl) and torch (torch.set_num_threads)")
    print(f"numpy BLAS: {blas_info()}")
    print(f"clock: {'process CPU time' if args.clock == 'cpu' else 'wall time'}, median of {args.repeats} "
          f"interleaved blocks; load average at start {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if torch is None:
        print("torch is not installed: the torch column is empty (pip install torch==2.13.0)")

    header = (f"{'net':<14}{'batch':>6}{'dtype':>9}{'threads':>8}{'step':>11}{'torch':>11}"
              f"{'BLAS floor':>12}{'step/torch':>11}{'step/floor':>11}{'bwd/fwd':>9}")
    print()
    print(header)
    print("-" * len(header))
    worst = 0.0
    for n_threads in threads:
        threadpool_limits(n_threads)
        if torch is not None:
            torch.set_num_threads(n_threads)
        rng = np.random.default_rng(0)
        for label, sizes, batch, dtype in CONFIGS:
            net = MLP(sizes, activation="relu", init="he", seed=0, dtype=dtype)
            X = rng.standard_normal((batch, sizes[0])).astype(dtype)
            y = rng.integers(0, sizes[-1], size=batch).astype(np.int64)
            # Each measurement gets its own copy of the weights so SGD drift cannot differ between them.
            fwd, bwd = numpy_forward_backward(net.copy(), X, y)
            fns = {"step": numpy_api_step(net.copy(), X, y), "fwd": fwd, "bwd": bwd,
                   "floor": blas_floor(sizes, batch, dtype, rng)}
            if torch is not None:
                fns["torch"] = torch_step(torch, sizes, batch, dtype, net.copy(), X, y)
            t = median_times(fns, args.repeats, clock)
            t_torch = t.get("torch", float("nan"))
            r_torch, r_floor, r_bf = t["step"] / t_torch, t["step"] / t["floor"], t["bwd"] / t["fwd"]
            worst = max(worst, r_torch)
            print(f"{label:<14}{batch:>6}{np.dtype(dtype).name:>9}{n_threads:>8}{t['step'] * 1e3:>9.3f}ms"
                  f"{t_torch * 1e3:>9.3f}ms{t['floor'] * 1e3:>10.3f}ms{r_torch:>11.2f}{r_floor:>11.2f}{r_bf:>9.2f}")
    print()
    if torch is not None:
        print(f"target: step/torch <= 1.1 in every row -> worst {worst:.2f}, "
              + ("met" if worst <= 1.1 else "NOT met (shared machine: rerun before concluding)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
