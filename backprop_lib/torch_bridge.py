r"""The same MLP in PyTorch, with and without ``torch.utils.checkpoint.checkpoint_sequential``.

A bridge from the numpy strategies of notebook 05 to what practitioners call: :func:`torch_checkpoint_run`
copies an :class:`~backprop_lib.mlp.MLP` (float64, its weights and activation) into a ``torch.nn.Sequential``,
runs forward and backward on ``(X, y)`` (mean cross-entropy) plainly or with ``checkpoint_sequential``, and
reports the gradients and the bytes autograd *saves for the backward pass*, counted with
``torch.autograd.graph.saved_tensors_hooks`` (each storage once; parameters not counted).

PyTorch is optional: :func:`torch_available` says whether it can be imported.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np

from .mlp import MLP

__all__ = ["torch_available", "TorchRun", "torch_checkpoint_run"]


def torch_available() -> bool:
    """True when PyTorch can be imported."""
    return importlib.util.find_spec("torch") is not None


@dataclass
class TorchRun:
    loss: float
    grads: dict[str, np.ndarray]  # same keys as MLP.params
    saved_bytes: int  # bytes autograd keeps for the backward pass (unique storages, parameters excluded)


def torch_checkpoint_run(net: MLP, X, y, segments: int | None = None) -> TorchRun:
    """Forward + backward of ``net`` in PyTorch; ``segments`` = None (store all) or checkpoint_sequential's count."""
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a backprop_lib MLP, got {type(net).__name__}")
    if net.residual and any(net.residual):
        raise ValueError("torch_checkpoint_run copies plain MLPs only (no residual blocks)")
    name = net.activation.name
    if name not in ("relu", "tanh", "sigmoid"):
        raise ValueError(f"activation must be relu, tanh or sigmoid for the PyTorch copy, got {name!r}")
    if segments is not None and (isinstance(segments, bool) or not isinstance(segments, int) or segments < 1):
        raise ValueError(f"segments must be a positive integer or None, got {segments!r}")
    import torch
    from torch.utils.checkpoint import checkpoint_sequential

    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}
    L = len(net.sizes) - 1
    layers = []
    for l in range(1, L + 1):
        lin = torch.nn.Linear(net.sizes[l - 1], net.sizes[l], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(net.params[f"W{l}"]))
            lin.bias.copy_(torch.from_numpy(net.params[f"b{l}"]))
        layers.append(lin)
        if l < L:
            layers.append(acts[name]())
    model = torch.nn.Sequential(*layers)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}  # weights and their views (W^T)
    seen: dict[int, int] = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            seen.setdefault(ptr, t.untyped_storage().nbytes())
        return t

    x = torch.from_numpy(np.asarray(X, dtype=np.float64))
    target = torch.from_numpy(np.asarray(y)).long()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        x_in = x.requires_grad_(segments is not None)  # the reentrant checkpoint needs an input that requires grad
        out = model(x_in) if segments is None else checkpoint_sequential(model, segments, x_in, use_reentrant=True)
        loss = torch.nn.functional.cross_entropy(out, target)
    loss.backward()
    grads = {}
    for l, lin in enumerate((m for m in model if isinstance(m, torch.nn.Linear)), start=1):
        if lin.weight.grad is None or lin.bias.grad is None:  # pragma: no cover - backward() fills them
            raise RuntimeError("PyTorch computed no gradient for a Linear layer")
        grads[f"W{l}"], grads[f"b{l}"] = lin.weight.grad.numpy().copy(), lin.bias.grad.numpy().copy()
    return TorchRun(float(loss.detach()), grads, int(sum(seen.values())))
