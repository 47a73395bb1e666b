r"""Backprop split across two processes: model parallelism with a pipeline.

The network's layers are cut in two *stages*, each living in its own worker process
(as two GPUs would each hold half a model). In the forward pass stage 0 sends its
output activation :math:`a_k` to stage 1; in the backward pass stage 1 sends the
gradient :math:`\partial L/\partial a_k` back. Nothing else crosses the boundary:
each stage keeps its own caches and computes its own weight gradients.

With ``microbatches=m`` the batch is cut in m pieces and the stages overlap (GPipe):
stage 0 already works on micro-batch 2 while stage 1 handles micro-batch 1. Filling the
pipeline at the start (stage 1 waits for stage 0's first micro-batch) and draining it at
the end (stage 0 waits for stage 1's last backward) still leave one stage idle: the
*pipeline bubble*, which :func:`pipeline_loss_and_grads`'s timeline shows and
:func:`ideal_timeline` computes for free communication: :math:`(S-1)/(m+S-1)` of the
time for S stages.

    >>> loss, grads, timeline = pipeline_loss_and_grads(net, X, y, microbatches=4)

The gradients equal ``net.loss_and_grads(X, y)``: bitwise for one micro-batch (the
same floating-point operations; each worker runs its BLAS on one thread, so compare with a
single-threaded reference, e.g. under ``threadpoolctl.threadpool_limits(1)``), to rounding
(rel. 1e-12) for several.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from .mlp import MLP

__all__ = ["pipeline_loss_and_grads", "Event", "StageError", "bubble_fraction", "ideal_timeline", "peak_cached"]


class StageError(RuntimeError):
    """A worker process died, raised, or did not answer in time."""


@dataclass(frozen=True)
class Event:
    """One piece of work on a stage: ``kind`` is "forward" or "backward"; times in seconds."""

    stage: int
    kind: str
    microbatch: int
    start: float
    end: float


def _stage_main(conn, net: MLP, layers: tuple[int, int], stage: int) -> None:  # runs in the worker
    # one BLAS thread per stage: each process stands for one device, and two stages
    # with many threads each would fight over the same cores
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    first, last = layers
    caches: dict[int, tuple[list, list]] = {}
    while True:
        msg = conn.recv()
        if msg[0] == "stop":
            conn.close()
            return
        kind, mb, array = msg
        t0 = time.perf_counter()
        try:
            if kind == "forward":
                a, acts, zs = array, [], []
                for l in range(first, last + 1):
                    acts.append(a)
                    z, a = net.layer_forward(l, a)
                    zs.append(z)
                caches[mb] = (acts, zs)
                out = a
            elif kind == "backward":
                acts, zs = caches.pop(mb)
                da, grads = array, {}
                for i, l in enumerate(range(last, first - 1, -1)):
                    j = last - first - i
                    da, dW, db, _ = net.layer_backward(l, da, acts[j], zs[j], need_input_grad=(l > first or stage > 0))
                    grads[f"W{l}"], grads[f"b{l}"] = dW, db
                out = (da, grads)
            elif kind == "crash":  # used by the tests: a worker that dies abruptly
                import os

                os._exit(3)
            else:
                raise ValueError(f"unknown message {kind!r}")
        except Exception as exc:  # report instead of dying silently
            conn.send(("error", mb, f"{type(exc).__name__}: {exc}", t0, time.perf_counter()))
            continue
        conn.send((kind, mb, out, t0, time.perf_counter()))


def _reader(conn, inbox: "queue.Queue") -> None:
    """Drain one worker's pipe into a queue (a thread of the main process).

    Reading all the time is what keeps the pipeline free of deadlocks: a worker blocked
    in ``send`` (its result bigger than the pipe's buffer) while the main process is blocked
    sending it the next message would otherwise wait for each other forever.
    """
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            inbox.put(None)
            return
        inbox.put(msg)


def _receive(inbox: "queue.Queue", proc, stage: int, deadline: float):
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StageError(f"stage {stage} (pid {proc.pid}) did not answer before the time limit")
        try:
            msg = inbox.get(timeout=min(remaining, 0.05))
        except queue.Empty:
            if not proc.is_alive() and inbox.empty():
                raise StageError(f"stage {stage} (pid {proc.pid}) died with exit code {proc.exitcode}") from None
            continue
        if msg is None:
            proc.join(timeout=1)
            raise StageError(f"stage {stage} (pid {proc.pid}) died: it closed its pipe (exit code {proc.exitcode})")
        if msg[0] == "error":
            raise StageError(f"stage {stage} failed: {msg[2]}")
        return msg


def _send(conn, proc, stage: int, msg) -> None:
    try:
        conn.send(msg)
    except (OSError, EOFError):
        proc.join(timeout=1)
        raise StageError(f"stage {stage} (pid {proc.pid}) died with exit code {proc.exitcode}") from None


def pipeline_loss_and_grads(net: MLP, X, y, loss: str = "cross_entropy", *, split: int | None = None,
                            microbatches: int = 1, timeout: float = 60.0, _crash_stage: int | None = None):
    """Loss and gradients of ``net`` computed by two worker processes.

    Parameters
    ----------
    net : MLP with at least two layers
    X, y : the batch, as for :meth:`MLP.loss_and_grads`
    split : layers 1..split go to stage 0, the rest to stage 1 (default: half)
    microbatches : number of pieces the batch is cut into (pipelining)
    timeout : seconds before a silent worker is declared dead

    Returns
    -------
    loss : float, grads : dict like ``net.params``, timeline : list of :class:`Event`
    (times relative to the start).
    """
    X, y, loss_name, split = _check_pipeline(net, X, y, loss, split, microbatches, timeout)
    bounds = np.linspace(0, X.shape[0], microbatches + 1).astype(int)
    pieces = [slice(bounds[i], bounds[i + 1]) for i in range(microbatches)]

    ctx = mp.get_context("spawn")
    stages = [(1, split), (split + 1, net.n_layers)]
    conns: list = []
    procs: list = []
    inboxes: list[queue.Queue] = []
    readers: list[threading.Thread] = []
    try:
        for s, layers in enumerate(stages):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_stage_main, args=(child, net, layers, s), daemon=True)
            proc.start()
            child.close()
            conns.append(parent)
            procs.append(proc)
            inboxes.append(queue.Queue())
            readers.append(threading.Thread(target=_reader, args=(parent, inboxes[-1]), daemon=True))
            readers[-1].start()
        deadline = time.monotonic() + timeout
        if _crash_stage is not None:
            conns[_crash_stage].send(("crash", 0, None))
        events: list[Event] = []

        def record(stage, msg):
            events.append(Event(stage, msg[0], msg[1], msg[3], msg[4]))
            return msg[2]

        # forward: all micro-batches into stage 0; relay each activation to stage 1 as it arrives
        for mb, piece in enumerate(pieces):
            _send(conns[0], procs[0], 0, ("forward", mb, X[piece]))
        for mb in range(microbatches):
            a = record(0, _receive(inboxes[0], procs[0], 0, deadline))
            _send(conns[1], procs[1], 1, ("forward", mb, a))
        outputs = [record(1, _receive(inboxes[1], procs[1], 1, deadline)) for _ in range(microbatches)]

        # GPipe's order: every forward first, then every backward. The loss is the mean over the
        # whole batch; the rows of its gradient that belong to one micro-batch, (Y_hat - Y)/N, depend only
        # on that micro-batch's outputs, so the backward could start earlier (ideal_timeline's "1f1b"
        # order): that frees caches sooner but leaves the bubble of filling and draining unchanged.
        out = np.concatenate(outputs, axis=0) if microbatches > 1 else outputs[0]
        total_loss, dout = net._output_loss(out, y, loss_name)
        for mb, piece in enumerate(pieces):
            _send(conns[1], procs[1], 1, ("backward", mb, dout[piece]))
        grads: dict[str, np.ndarray] = {}

        def accumulate(part):
            for k, g in part.items():
                grads[k] = g if k not in grads else grads[k] + g

        for _ in range(microbatches):
            msg = _receive(inboxes[1], procs[1], 1, deadline)
            da, part = record(1, msg)
            accumulate(part)
            _send(conns[0], procs[0], 0, ("backward", msg[1], da))
        for _ in range(microbatches):
            _, part = record(0, _receive(inboxes[0], procs[0], 0, deadline))
            accumulate(part)
        t0 = min(e.start for e in events)
        timeline = sorted((Event(e.stage, e.kind, e.microbatch, e.start - t0, e.end - t0) for e in events),
                          key=lambda e: (e.start, e.stage))
        return total_loss, {k: grads[k] for k in net.params}, timeline
    finally:
        _shutdown(conns, procs, readers)


def _check_pipeline(net: MLP, X, y, loss: str, split, microbatches, timeout):
    """Validate the arguments of :func:`pipeline_loss_and_grads`; returns ``(X, y, loss_name, split)``."""
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a backprop_lib.mlp.MLP, got {type(net).__name__}")
    L = net.n_layers
    if L < 2:
        raise ValueError(f"net must have at least 2 layers to split across two processes, got {L}")
    split = L // 2 if split is None else split
    if isinstance(split, bool) or not isinstance(split, (int, np.integer)) or not (1 <= split < L):
        raise ValueError(f"split must be an integer in [1, {L - 1}], got {split!r}")
    X, y, loss_name = net.check_batch(X, y, loss)
    n = X.shape[0]
    if isinstance(microbatches, bool) or not isinstance(microbatches, (int, np.integer)) or not 1 <= microbatches <= n:
        raise ValueError(f"microbatches must be an integer in [1, {n}] (the batch size), got {microbatches!r}")
    if not (timeout > 0):
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return X, y, loss_name, int(split)


def _shutdown(conns: list, procs: list, readers: list[threading.Thread]) -> None:
    """Ask every stage to stop, kill the ones that do not, and close the pipes."""
    for conn in conns:
        try:
            conn.send(("stop",))
        except (OSError, ValueError):
            pass
    for proc in procs:
        proc.join(timeout=2)
        if proc.is_alive():
            proc.kill()
            proc.join()
    for reader in readers:
        reader.join(timeout=2)
    for conn in conns:
        conn.close()


# =============================================================================
# Reading a timeline: the pipeline bubble
# =============================================================================


def bubble_fraction(timeline: list[Event], stages: int = 2) -> float:
    r"""Fraction of stage-time spent idle between the first start and the last end.

    .. math:: \text{bubble} = 1 - \frac{\sum_\text{events} (t_\text{end} - t_\text{start})}
                                       {S \cdot (T_\text{end} - T_\text{start})}

    0 means both stages were busy all the time; with S = 2 stages and one micro-batch
    it is at least 1/2 (the stages take turns).
    """
    if not timeline:
        raise ValueError("timeline is empty")
    if isinstance(stages, bool) or not isinstance(stages, (int, np.integer)) or stages < 1:
        raise ValueError(f"stages must be a positive integer, got {stages!r}")
    start = min(e.start for e in timeline)
    span = max(e.end for e in timeline) - start
    if span <= 0:
        return 0.0
    busy = sum(e.end - e.start for e in timeline)
    return float(max(0.0, 1.0 - busy / (stages * span)))


def peak_cached(timeline: list[Event], stage: int) -> int:
    """Most micro-batches whose caches ``stage`` holds at once (forward done, backward not yet).

    The memory side of a schedule: GPipe's order holds all m, the 1F1B order at most
    ``stages - stage``.
    """
    events = sorted((e for e in timeline if e.stage == stage), key=lambda e: (e.start, e.kind != "backward"))
    if not events:
        raise ValueError(f"the timeline has no events on stage {stage}")
    held = peak = 0
    for e in events:
        held += 1 if e.kind == "forward" else -1
        peak = max(peak, held)
    return peak


def _stage_order(schedule: str, s: int, S: int, m: int) -> list[tuple[str, int]]:
    """The order in which stage ``s`` of ``S`` takes the forwards and backwards of ``m`` micro-batches."""
    if schedule == "gpipe":
        return [("forward", i) for i in range(m)] + [("backward", i) for i in range(m)]
    warm = min(S - 1 - s, m)
    order = [("forward", i) for i in range(warm)]
    for i in range(m - warm):
        order += [("forward", warm + i), ("backward", i)]
    return order + [("backward", i) for i in range(m - warm, m)]


def ideal_timeline(microbatches: int, forward: float = 1.0, backward: float = 2.0, *, stages: int = 2,
                   schedule: str = "gpipe") -> list[Event]:
    r"""A pipeline schedule with fixed costs and free communication.

    Each stage needs ``forward`` time units for the forward of the whole batch and
    ``backward`` for its backward, so one micro-batch costs ``forward / m`` and
    ``backward / m``. Every piece of work starts as soon as its stage is free and its
    input exists: the forward of micro-batch i on stage s needs stage s-1's forward of i,
    the backward of i on stage s needs stage s+1's backward of i (the last stage needs its
    own forward of i: the output delta of micro-batch i, its rows of :math:`(\hat Y - Y)/N`,
    depends on nothing else).

    ``schedule`` is the order in which each stage takes its work:

    - ``"gpipe"``: all forwards, then all backwards (GPipe; what
      :func:`pipeline_loss_and_grads` does);
    - ``"1f1b"``: stage s runs ``stages - 1 - s`` forwards to fill the pipeline, then
      alternates one forward and one backward, then drains its remaining backwards.
      It frees each micro-batch's caches sooner (less memory), not time.

    With equal costs per stage both give the bubble of pipeline fill and drain,
    :math:`(S-1)/(m+S-1)` for S stages and m micro-batches (1/(m+1) for two stages).
    """
    for name, value in (("microbatches", microbatches), ("stages", stages)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (forward > 0 and backward > 0):
        raise ValueError(f"forward and backward must be positive, got {forward!r} and {backward!r}")
    if schedule not in ("gpipe", "1f1b"):
        raise ValueError(f"schedule must be 'gpipe' or '1f1b', got {schedule!r}")
    m, S = int(microbatches), int(stages)
    cost = {"forward": forward / m, "backward": backward / m}
    orders = [_stage_order(schedule, s, S, m) for s in range(S)]
    done: dict[tuple[str, int, int], float] = {}  # (kind, stage, micro-batch) -> end time
    free, nxt = [0.0] * S, [0] * S
    events: list[Event] = []
    while len(events) < 2 * S * m:
        progressed = False
        for s in range(S):
            if nxt[s] == len(orders[s]):
                continue
            kind, i = orders[s][nxt[s]]
            if kind == "forward":
                needs = ("forward", s - 1, i) if s > 0 else None
            else:
                needs = ("backward", s + 1, i) if s < S - 1 else ("forward", s, i)
            if needs is not None and needs not in done:
                continue
            t = max(free[s], done[needs] if needs is not None else 0.0)
            events.append(Event(s, kind, i, t, t + cost[kind]))
            free[s] = done[(kind, s, i)] = t + cost[kind]
            nxt[s] += 1
            progressed = True
        if not progressed:  # pragma: no cover - both orders above are deadlock-free
            raise RuntimeError("the schedule deadlocked")
    return sorted(events, key=lambda e: (e.start, e.stage))
