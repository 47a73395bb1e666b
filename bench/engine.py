"""Benchmark: backprop_lib.engine.Value against micrograd on the same graphs.

Run:  python bench/engine.py      (micrograd rows are skipped if it is not installed:
                                   pip install micrograd, or the `bench` extra)

Each workload is built by one function that only uses the operators both engines
share (+, *, relu), once per engine; "build" times the forward pass that creates the
graph, "backward" times ``root.backward()`` on it. Prints the median over repeats and
the ratio ours / micrograd (below 1.0 means ours is faster).
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backprop_lib.engine import Value  # noqa: E402

try:
    from micrograd.engine import Value as MicroValue
except ImportError:  # the bench extra is optional
    MicroValue = None


def mlp_batch(V, seed=0, batch=64, sizes=(2, 16, 16, 1)):
    """A 2-16-16-1 ReLU MLP, forward over a batch of 64 points, mean squared error."""
    rnd = random.Random(seed)
    layers = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        W = [[V(rnd.uniform(-1, 1)) for _ in range(nin)] for _ in range(nout)]
        b = [V(0.0) for _ in range(nout)]
        layers.append((W, b))
    data = [([rnd.uniform(-1, 1) for _ in range(sizes[0])], rnd.choice([-1.0, 1.0])) for _ in range(batch)]

    def build():
        loss = V(0.0)
        for x, y in data:
            a = x
            for i, (W, b) in enumerate(layers):
                z = []
                for row, bias in zip(W, b):
                    s = bias
                    for w, xi in zip(row, a):
                        s = s + w * xi
                    z.append(s.relu() if i < len(layers) - 1 else s)
                a = z
            d = a[0] + (-y)
            loss = loss + d * d
        return loss * (1.0 / batch)

    return build


def wide_sum(V, n=100_000, seed=0):
    """sum_i a_i * b_i over 100,000 pairs, added pairwise (a wide, shallow tree)."""
    rnd = random.Random(seed)
    a = [V(rnd.uniform(-1, 1)) for _ in range(n)]
    b = [V(rnd.uniform(-1, 1)) for _ in range(n)]

    def build():
        terms = [x * y for x, y in zip(a, b)]
        while len(terms) > 1:
            pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
            if len(terms) % 2:
                pairs.append(terms[-1])
            terms = pairs
        return terms[0]

    return build


def deep_chain(V, n=100_000):
    """x -> x * 1.0001 + 0.0001, repeated 100,000 times: a graph 200,000 nodes deep."""
    x = V(0.5)

    def build():
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.0001
        return y

    return build


WORKLOADS = [
    ("MLP 2-16-16-1, batch 64", mlp_batch, 7),
    ("wide sum of 100,000 products", wide_sum, 5),
    ("deep chain of 100,000 steps", deep_chain, 3),
]


def _once(build):
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        root = build()
        t1 = time.perf_counter()
        root.backward()
        t2 = time.perf_counter()
    finally:
        gc.enable()
    return t1 - t0, t2 - t1


def measure(make, engines, repeats):
    """Median (build, backward) seconds per engine; the engines alternate within each
    repeat so that load from other processes hits both alike."""
    builds = {name: make(V) for name, V in engines.items()}
    times = {name: [] for name in engines}
    failed = {}
    for _ in range(repeats):
        for name, build in builds.items():
            if name in failed:
                continue
            try:
                times[name].append(_once(build))
            except RecursionError:
                failed[name] = "RecursionError"
    return {
        name: failed.get(name) or tuple(statistics.median(t[i] for t in times[name]) for i in (0, 1))
        for name in engines
    }


def main() -> int:
    if MicroValue is None:
        print("micrograd is not installed (pip install micrograd): showing backprop_lib times only.\n")
    header = f"{'workload':32s} {'phase':9s} {'ours':>10s} {'micrograd':>10s} {'ratio':>7s}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    micrograd_failed = False
    for name, make, repeats in WORKLOADS:
        engines = {"ours": Value}
        if MicroValue is not None:
            engines["micrograd"] = MicroValue
        result = measure(make, engines, repeats)
        ours, theirs = result["ours"], result.get("micrograd")
        micrograd_failed |= theirs == "RecursionError"
        for phase, i in (("build", 0), ("backward", 1)):
            if isinstance(theirs, tuple):
                ratio = ours[i] / theirs[i]
                worst = max(worst, ratio)
                cells = f"{theirs[i] * 1e3:8.1f}ms {ratio:7.2f}"
            elif theirs is None:
                cells = f"{'skipped':>10s} {'':>7s}"
            else:
                cells = f"{'fails':>10s} {'n/a':>7s}" if phase == "backward" else f"{'':>10s} {'':>7s}"
            print(f"{name:32s} {phase:9s} {ours[i] * 1e3:8.1f}ms {cells}")
    if micrograd_failed:
        print("\nmicrograd's recursive topological sort raises RecursionError on the deep chain "
              f"(Python's recursion limit is {sys.getrecursionlimit()}).")
    if MicroValue is not None:
        print(f"\nworst ratio ours/micrograd: {worst:.2f} (below 1.0: ours is faster on every row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
