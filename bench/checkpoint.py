"""Benchmark: memory and time of gradient checkpointing strategies (not a test).

For n = 16, 64, 256 layers of width 256 and a batch of 64 (float64, ReLU, cross-entropy) it prints,
for store_all, sqrt and revolve (slots = ceil(sqrt(n))):

- counted: the activations the strategy holds at its peak (``stats.peak_bytes``);
- traced:  the tracemalloc peak of the whole call, gradients written into preallocated buffers
           (``out=``, like a framework's ``.grad``), so it shows activations plus temporaries;
- time:    CPU time of this process (robust on a shared machine), best of 5 runs with the strategies
           taking turns, one BLAS thread (torch: one intra-op thread);

and the ratios to store_all. Targets: the sqrt/store_all ratio of counted peaks is at most the cost model's
``strategy_cost`` ratio, 3 sqrt(n)/(2n+1) for k = sqrt(n) (arrays of N x width; the traced ratio is printed next to it:
it also holds temporaries such as one weight gradient); sqrt time <= 1.5x (model 4/3).

Where torch is installed it runs the same model as ``nn.Sequential`` with and without
``torch.utils.checkpoint.checkpoint_sequential`` (same number of segments). tracemalloc cannot see torch
tensors, so torch's memory is the peak of the bytes held by autograd's saved tensors (a
``saved_tensors_hooks`` pair that counts every distinct storage while the graph keeps it; weights excluded),
active during both the forward and the backward pass (where the checkpointed segments are recomputed).

Usage: python bench/checkpoint.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from backprop_lib.checkpoint import grads_with_checkpoints, measure_memory, strategy_cost
from backprop_lib.mlp import MLP

WIDTH, BATCH, CLASSES = 256, 64, 10


def mib(b: float) -> str:
    return f"{b / 2**20:8.2f} MiB"


def bench_numpy(n: int, repeat: int):
    net = MLP([WIDTH] * n + [CLASSES], activation="relu", init="he", seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH, WIDTH))
    y = rng.integers(0, CLASSES, BATCH)
    out = {k: np.empty_like(v) for k, v in net.params.items()}
    ref_loss, ref = net.loss_and_grads(X, y)
    k = math.isqrt(n - 1) + 1
    rows, calls = {}, {}
    for name, slots in [("store_all", None), ("sqrt", None), ("revolve", k)]:
        (loss, grads, st), traced, _ = measure_memory(grads_with_checkpoints, net, X, y, name, slots, out=out)
        same = loss == ref_loss and all(np.array_equal(grads[key], ref[key]) for key in ref)
        label = name if slots is None else f"revolve(s={slots})"
        rows[label] = dict(counted=st.peak_bytes, traced=traced, forwards=st.layer_forwards, identical=same)
        calls[label] = (lambda name=name, slots=slots: grads_with_checkpoints(net, X, y, name, slots, out=out))
    for label, sec in interleaved_times(calls, repeat).items():
        rows[label]["seconds"] = sec
    return rows


def interleaved_times(calls: dict, repeat: int) -> dict:
    """Best time of each call over ``repeat`` rounds, the calls taking turns (fair under a varying load)."""
    best = {label: math.inf for label in calls}
    for _ in range(repeat):
        for label, fn in calls.items():
            t0 = time.process_time()
            fn()
            best[label] = min(best[label], time.process_time() - t0)
    return best


class SavedBytes:
    """Peak bytes of distinct storages held by autograd's saved tensors (parameters excluded)."""

    def __init__(self, exclude):
        self.exclude = {p.untyped_storage().data_ptr() for p in exclude}
        self.live: dict[int, list] = {}  # data_ptr -> [refcount, nbytes]
        self.current = 0
        self.peak = 0

    def pack(self, t):
        ptr = t.untyped_storage().data_ptr()
        if ptr in self.exclude:
            return t
        return _Holder(self, t, ptr)

    @staticmethod
    def unpack(h):
        return h.t if isinstance(h, _Holder) else h

    def add(self, ptr, nbytes):
        entry = self.live.setdefault(ptr, [0, nbytes])
        if entry[0] == 0:
            self.current += nbytes
            self.peak = max(self.peak, self.current)
        entry[0] += 1

    def remove(self, ptr):
        entry = self.live[ptr]
        entry[0] -= 1
        if entry[0] == 0:
            self.current -= entry[1]
            del self.live[ptr]


class _Holder:
    def __init__(self, meter, t, ptr):
        self.meter, self.t, self.ptr = meter, t, ptr
        meter.add(ptr, t.untyped_storage().nbytes())

    def __del__(self):
        self.meter.remove(self.ptr)


def bench_torch(n: int, repeat: int):
    import torch
    from torch.utils.checkpoint import checkpoint_sequential

    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers = []
    for l in range(n):
        lin = torch.nn.Linear(WIDTH, CLASSES if l == n - 1 else WIDTH).double()
        layers.append(lin)
        if l < n - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    rng = np.random.default_rng(0)
    # reentrant checkpointing only backpropagates into segments whose input requires grad
    X = torch.tensor(rng.standard_normal((BATCH, WIDTH)), requires_grad=True)
    y = torch.tensor(rng.integers(0, CLASSES, BATCH))
    k = math.isqrt(n - 1) + 1
    segments = math.ceil(n / k)

    def step(kind):
        model.zero_grad(set_to_none=False)
        if kind == "store_all":
            out = model(X)
        else:
            out = checkpoint_sequential(model, segments, X, use_reentrant=True)
        torch.nn.functional.cross_entropy(out, y).backward()

    for p in model.parameters():  # allocate .grad once, like the numpy out= buffers
        p.grad = torch.zeros_like(p)
    rows, grads = {}, {}
    for kind in ("store_all", "checkpoint_sequential"):
        meter = SavedBytes(model.parameters())
        with torch.autograd.graph.saved_tensors_hooks(meter.pack, meter.unpack):
            step(kind)
        grads[kind] = [p.grad.clone() for p in model.parameters()]
        rows[kind] = dict(saved=meter.peak)
    for kind, sec in interleaved_times({kind: (lambda kind=kind: step(kind)) for kind in rows}, repeat).items():
        rows[kind]["seconds"] = sec
    same = all(torch.equal(a, b) for a, b in zip(grads["store_all"], grads["checkpoint_sequential"]))
    rows["checkpoint_sequential"]["identical"] = same and all(bool(g.abs().sum() > 0) for g in grads["store_all"])
    return rows, segments


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only n = 16, 64")
    args = parser.parse_args(argv)
    depths = [16, 64] if args.quick else [16, 64, 256]
    repeat = 5
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    ok = True
    t_start = time.perf_counter()
    print(f"width {WIDTH}, batch {BATCH}, float64, ReLU; one BLAS thread; time = process CPU time, "
          f"best of {repeat} interleaved runs")
    with threadpool_limits(1):
        for n in depths:
            rows = bench_numpy(n, repeat)
            base = rows["store_all"]
            print(f"\n== numpy, n = {n} layers " + "=" * 60)
            print(f"{'strategy':16s} {'counted peak':>14s} {'ratio':>7s} {'traced peak':>14s} {'ratio':>7s} "
                  f"{'time':>10s} {'ratio':>7s} {'forwards':>9s}  identical")
            for name, r in rows.items():
                print(f"{name:16s} {mib(r['counted']):>14s} {r['counted'] / base['counted']:7.3f} "
                      f"{mib(r['traced']):>14s} {r['traced'] / base['traced']:7.3f} "
                      f"{r['seconds'] * 1e3:8.1f}ms {r['seconds'] / base['seconds']:7.2f} "
                      f"{r['forwards']:9d}  {r['identical']}")
            target = strategy_cost("sqrt", n).arrays / strategy_cost("store_all", n).arrays
            sq = rows["sqrt"]
            mem_ok = sq["counted"] / base["counted"] <= target
            time_ok = sq["seconds"] / base["seconds"] <= 1.5
            ok &= mem_ok and time_ok and all(r["identical"] for r in rows.values())
            print(f"targets: sqrt counted peak <= model {strategy_cost('sqrt', n).arrays}/"
                  f"{strategy_cost('store_all', n).arrays} = {target:.3f} of store_all (traced "
                  f"{sq['traced'] / base['traced']:.3f}): {'PASS' if mem_ok else 'FAIL'}; "
                  f"sqrt time <= 1.5x (model 4/3): {'PASS' if time_ok else 'FAIL'}")
            if have_torch:
                trows, segments = bench_torch(n, repeat)
                tb = trows["store_all"]
                print(f"-- torch {__import__('torch').__version__}, same model, checkpoint_sequential with "
                      f"{segments} segments (saved-tensor bytes):")
                for name, r in trows.items():
                    print(f"{name:22s} {mib(r['saved']):>14s} {r['saved'] / tb['saved']:7.3f} "
                          f"{r['seconds'] * 1e3:8.1f}ms {r['seconds'] / tb['seconds']:7.2f}"
                          + (f"  grads identical to store_all: {r['identical']}" if "identical" in r else ""))
                print(f"numpy sqrt / torch checkpoint_sequential: memory "
                      f"{sq['counted'] / trows['checkpoint_sequential']['saved']:.2f}x, "
                      f"time {sq['seconds'] / trows['checkpoint_sequential']['seconds']:.2f}x")
    if not have_torch:
        print("\n(torch not installed: skipped the checkpoint_sequential comparison)")
    print(f"\ntotal {time.perf_counter() - t_start:.1f} s; all targets met: {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
