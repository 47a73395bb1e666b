r"""Backprop split across two processes: model parallelism with a pipeline.

The network's layers are cut in two *stages*, each living in its own worker process
(as two GPUs would each hold half a model). In the forward pass stage 0 sends its
output activation :math:`a_k` to stage 1; in the backward pass stage 1 sends the
gradient :math:`\partial L/\partial a_k` back. Nothing else crosses the boundary:
each stage keeps its own caches and computes its own weight gradients.

With ``microbatches=m`` the batch is cut in m pieces and the stages overlap (GPipe):
stage 0 already works on micro-batch 2 while stage 1 handles micro-batch 1. The
start of the forward and the end of the backward still leave one stage idle: the
*pipeline bubble*, which :func:`pipeline_loss_and_grads`'s timeline shows.

    >>> loss, grads, timeline = pipeline_loss_and_grads(net, X, y, microbatches=4)

The gradients equal ``net.loss_and_grads(X, y)``: bitwise for one micro-batch (the
same floating-point operations), to rounding (rel. 1e-12) for several.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass

import numpy as np

from .mlp import MLP

__all__ = ["pipeline_loss_and_grads", "Event", "StageError"]


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


def _receive(conn, proc, stage: int, deadline: float):
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StageError(f"stage {stage} (pid {proc.pid}) did not answer before the time limit")
        if conn.poll(min(remaining, 0.05)):
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                proc.join(timeout=1)
                raise StageError(f"stage {stage} (pid {proc.pid}) died: it closed its pipe (exit code {proc.exitcode})") from None
            if msg[0] == "error":
                raise StageError(f"stage {stage} failed: {msg[2]}")
            return msg
        if not proc.is_alive():
            raise StageError(f"stage {stage} (pid {proc.pid}) died with exit code {proc.exitcode}")


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
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a backprop_lib.mlp.MLP, got {type(net).__name__}")
    L = net.n_layers
    if L < 2:
        raise ValueError(f"net must have at least 2 layers to split across two processes, got {L}")
    split = L // 2 if split is None else split
    if isinstance(split, bool) or not isinstance(split, (int, np.integer)) or not (1 <= split < L):
        raise ValueError(f"split must be an integer in [1, {L - 1}], got {split!r}")
    loss_name = net._loss_name(loss)
    X = net._check_X(X)
    y = net._check_y(y, X.shape[0], loss_name)
    n = X.shape[0]
    if isinstance(microbatches, bool) or not isinstance(microbatches, (int, np.integer)) or not (1 <= microbatches <= n):
        raise ValueError(f"microbatches must be an integer in [1, {n}] (the batch size), got {microbatches!r}")
    if not (timeout > 0):
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    bounds = np.linspace(0, n, microbatches + 1).astype(int)
    pieces = [slice(bounds[i], bounds[i + 1]) for i in range(microbatches)]

    ctx = mp.get_context("spawn")
    stages = [(1, split), (split + 1, L)]
    conns, procs = [], []
    try:
        for s, layers in enumerate(stages):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_stage_main, args=(child, net, layers, s), daemon=True)
            proc.start()
            child.close()
            conns.append(parent)
            procs.append(proc)
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
            a = record(0, _receive(conns[0], procs[0], 0, deadline))
            _send(conns[1], procs[1], 1, ("forward", mb, a))
        outputs = [record(1, _receive(conns[1], procs[1], 1, deadline)) for _ in range(microbatches)]

        # loss on the whole batch (the mean over all examples), then its gradient per micro-batch
        out = np.concatenate(outputs, axis=0) if microbatches > 1 else outputs[0]
        total_loss, dout = net._output_grad(out, y, loss_name)
        for mb, piece in enumerate(pieces):
            _send(conns[1], procs[1], 1, ("backward", mb, dout[piece]))
        grads: dict[str, np.ndarray] = {}

        def accumulate(part):
            for k, g in part.items():
                grads[k] = g if k not in grads else grads[k] + g

        for _ in range(microbatches):
            msg = _receive(conns[1], procs[1], 1, deadline)
            da, part = record(1, msg)
            accumulate(part)
            _send(conns[0], procs[0], 0, ("backward", msg[1], da))
        for _ in range(microbatches):
            _, part = record(0, _receive(conns[0], procs[0], 0, deadline))
            accumulate(part)
        t0 = min(e.start for e in events)
        timeline = sorted((Event(e.stage, e.kind, e.microbatch, e.start - t0, e.end - t0) for e in events),
                          key=lambda e: (e.start, e.stage))
        return total_loss, {k: grads[k] for k in net.params}, timeline
    finally:
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
        for conn in conns:
            conn.close()
