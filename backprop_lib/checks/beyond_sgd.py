r"""Checks for ``exercises/06_beyond_sgd.ipynb``: optimiser updates, schedules, and a pipeline stage.

Tasks (ids are unique across the course):

``opt_momentum_step``       one step of SGD with momentum, state in and state out:
                            :math:`v \leftarrow \mu v + g,\ w \leftarrow w - \eta v`
``opt_adam_step``           one Adam step with bias correction
``opt_cosine_lr``           the cosine-annealing learning rate of epoch e
``opt_weight_decay_grads``  L2 weight decay added to the weights' gradients, not the biases'
``pipe_stage_backward``     the backward of the first layer of stage 1: the local gradients
                            and the gradient sent back to stage 0

Every expected value comes from the library: :class:`backprop_lib.optim.SGD`,
:class:`~backprop_lib.optim.Adam`, :func:`~backprop_lib.optim.cosine_schedule`, and
:meth:`backprop_lib.mlp.MLP.layer_backward` (whose results equal the single-process
gradients of :meth:`~backprop_lib.mlp.MLP.loss_and_grads`). The step checks call the
learner's function several times in a row, feeding back the state it returned, and
compare the whole sequence with the library's optimiser.
"""

from __future__ import annotations

import numpy as np

from ..mlp import MLP
from ..optim import SGD, Adam, cosine_schedule
from ._core import call, expect_array, expect_scalar, fail, task

__all__ = [
    "check_opt_momentum_step",
    "check_opt_adam_step",
    "check_opt_cosine_lr",
    "check_opt_weight_decay_grads",
    "check_pipe_stage_backward",
]


def _grad_sequence(seed: int, shape: tuple, steps: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def _run_optimizer(opt, w0: np.ndarray, grads: list[np.ndarray]) -> list[np.ndarray]:
    """Parameters after each step of a library optimiser."""
    params = {"w": w0.copy()}
    out = []
    for g in grads:
        opt.step(params, {"w": g})
        out.append(params["w"].copy())
    return out


def _known(mistakes: dict) -> dict:
    """Drop the mistakes that do not apply to this case (value None)."""
    return {hint: value for hint, value in mistakes.items() if value is not None}


def _unpack(out, n: int, what: str, names: str):
    if out is None:
        fail(f"{what} returned None. Did you forget the `return` statement? Return {names}.")
    if not isinstance(out, (tuple, list)) or len(out) != n:
        got = f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else type(out).__name__
        fail(f"{what} must return a tuple {names}, got {got}.")
    return out


# --------------------------------------------------------------------------- opt_momentum_step


@task("opt_momentum_step", points=1)
def check_opt_momentum_step(fn):
    """``momentum_step(w, grad, velocity, lr, momentum) -> (w_new, velocity_new)``, called in sequence."""
    cases = [(0, (5,), 0.1, 0.9, 6), (1, (3, 4), 0.05, 0.5, 5), (2, (2,), 0.2, 0.0, 3)]
    for seed, shape, lr, mu, steps in cases:
        w0 = np.random.default_rng(100 + seed).standard_normal(shape)
        grads = _grad_sequence(seed, shape, steps)
        ref = _run_optimizer(SGD(lr=lr, momentum=mu), w0, grads)
        # what typical wrong implementations produce, step by step
        ema = [w0.copy()]
        v = np.zeros(shape)
        for g in grads:
            v = mu * v + (1 - mu) * g
            ema.append(ema[-1] - lr * v)
        raw = [w0.copy()]
        for g in grads:
            raw.append(raw[-1] - lr * g)
        w, v = w0.copy(), np.zeros(shape)
        v_ref = np.zeros(shape)
        for t, g in enumerate(grads):
            what = f"momentum_step at step {t + 1} (lr={lr}, momentum={mu}, w of shape {shape})"
            out = _unpack(call(fn, w, g, v, lr, mu), 2, what, "(w_new, velocity_new)")
            v_ref = mu * v_ref + g
            v_new = expect_array(out[1], v_ref, f"velocity_new from {what}", rtol=1e-9, atol=1e-12,
                                 mistakes=_known({
                                     "the velocity is not carried over between steps: it must accumulate, "
                                     "v = momentum * velocity + grad, using the velocity you are given (the one "
                                     "your previous call returned)": g if mu else None,
                                     "you returned the old velocity unchanged": v if t else None,
                                     "you averaged (v = momentum * v + (1 - momentum) * grad); here, as in "
                                     "torch.optim.SGD, the gradient is added undamped: v = momentum * v + grad":
                                         mu * v + (1 - mu) * g if mu else None}))
            w_new = expect_array(out[0], ref[t], f"w_new from {what}", rtol=1e-10, atol=1e-12, mistakes=_known({
                "the update used the raw gradient, not the velocity: w_new = w - lr * velocity_new":
                    raw[t + 1] if mu else None,
                "you averaged (v = momentum * v + (1 - momentum) * grad); here, as in torch.optim.SGD, the "
                "gradient is added undamped: v = momentum * v + grad": ema[t + 1] if mu else None,
            }))
            w, v = w_new, v_new
    return "6 consecutive steps match torch.optim.SGD(momentum=...) for three shapes and momentum 0.9, 0.5, 0"


# --------------------------------------------------------------------------- opt_adam_step


@task("opt_adam_step", points=1)
def check_opt_adam_step(fn):
    """``adam_step(w, grad, m, v, t, lr, beta1, beta2, eps) -> (w_new, m_new, v_new)``, called in sequence."""
    cases = [(0, (4,), 0.01, 0.9, 0.999, 1e-8, 6), (1, (2, 3), 0.1, 0.8, 0.99, 1e-6, 5)]
    for seed, shape, lr, b1, b2, eps, steps in cases:
        w0 = np.random.default_rng(200 + seed).standard_normal(shape)
        grads = _grad_sequence(10 + seed, shape, steps)
        ref = _run_optimizer(Adam(lr=lr, betas=(b1, b2), eps=eps), w0, grads)
        # wrong variants, each applied consistently from the start
        variants = {k: [w0.copy()] for k in ("no_bc", "raw", "m_only", "eps_in", "restart")}
        m = np.zeros(shape)
        v = np.zeros(shape)
        for t, g in enumerate(grads, start=1):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mh, vh = m / (1 - b1 ** t), v / (1 - b2 ** t)
            variants["no_bc"].append(variants["no_bc"][-1] - lr * m / (np.sqrt(v) + eps))
            variants["raw"].append(variants["raw"][-1] - lr * g / (np.sqrt(vh) + eps))
            variants["m_only"].append(variants["m_only"][-1] - lr * mh / (np.sqrt(v) + eps))
            variants["eps_in"].append(variants["eps_in"][-1] - lr * mh / np.sqrt(vh + eps))
            g_abs = np.abs(g)  # moments rebuilt from zero every step: the first-step update lr * g / (|g| + eps)
            variants["restart"].append(variants["restart"][-1] - lr * g / (g_abs + eps))
        w, m, v = w0.copy(), np.zeros(shape), np.zeros(shape)
        for t, g in enumerate(grads, start=1):
            what = f"adam_step at step t={t} (lr={lr}, betas=({b1}, {b2}), eps={eps})"
            out = _unpack(call(fn, w, g, m, v, t, lr, b1, b2, eps), 3, what, "(w_new, m_new, v_new)")
            m_ref = b1 * m + (1 - b1) * g
            v_ref = b2 * v + (1 - b2) * g * g
            expect_array(out[1], m_ref, f"m_new from {what}", rtol=1e-9, atol=1e-12, mistakes=_known({
                "m_new is the raw gradient: it is the running average beta1 * m + (1 - beta1) * grad": g,
                "m is not carried over between steps (it restarts from zero); use the m you are given":
                    (1 - b1) * g if t > 1 else None,
                "the weights are swapped: beta1 * m + (1 - beta1) * grad": (1 - b1) * m + b1 * g,
            }))
            expect_array(out[2], v_ref, f"v_new from {what}", rtol=1e-9, atol=1e-14, mistakes=_known({
                "v averages the SQUARED gradient: beta2 * v + (1 - beta2) * grad**2": b2 * v + (1 - b2) * g,
                "v is not carried over between steps (it restarts from zero); use the v you are given":
                    (1 - b2) * g * g if t > 1 else None,
            }))
            expect_array(out[0], ref[t - 1], f"w_new from {what}", rtol=1e-9, atol=1e-12, mistakes=_known({
                "missing bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t) before the update "
                "(without it the first steps are far too small)": variants["no_bc"][t],
                "the update uses the raw gradient instead of the moment estimate m_hat": variants["raw"][t],
                "only m is bias-corrected; v_hat = v / (1 - beta2**t) as well": variants["m_only"][t],
                "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps)": variants["eps_in"][t],
                "the moments restart from zero at every step: pass on the state (m, v) you returned": (
                    variants["restart"][t] if t > 1 else None),
            }))
            w, m, v = np.asarray(out[0], dtype=np.float64), np.asarray(out[1], dtype=np.float64), \
                np.asarray(out[2], dtype=np.float64)
    return "w, m and v match torch.optim.Adam over 5-6 consecutive steps for two settings of lr, betas and eps"


# --------------------------------------------------------------------------- opt_cosine_lr


@task("opt_cosine_lr", points=1)
def check_opt_cosine_lr(fn):
    """``cosine_lr(lr0, epoch, t_max, eta_min)`` against :func:`backprop_lib.optim.cosine_schedule`."""
    cases = [(0.1, e, 10, 0.0) for e in (0, 1, 3, 5, 9, 10)] + [(0.5, e, 20, 0.01) for e in (0, 7, 13, 20)]
    for lr0, epoch, t_max, eta_min in cases:
        what = f"cosine_lr(lr0={lr0}, epoch={epoch}, t_max={t_max}, eta_min={eta_min})"
        out = call(fn, lr0, epoch, t_max, eta_min)
        ref = cosine_schedule(lr0, epoch, t_max, eta_min)
        c = np.cos(np.pi * epoch / t_max)
        expect_scalar(out, ref, what, rtol=1e-10, atol=1e-12, mistakes={
            "forgot the factor 1/2: the cosine term (1 + cos) goes from 2 to 0": eta_min + (lr0 - eta_min) * (1 + c),
            "forgot the 1 +: it is (1 + cos(pi e / T)) / 2, which runs from 1 down to 0":
                eta_min + 0.5 * (lr0 - eta_min) * c,
            "forgot pi: the angle is pi * epoch / t_max": eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(epoch / t_max)),
            "eta_min is the floor: eta_min + (lr0 - eta_min) * (1 + cos(pi e / T)) / 2": 0.5 * lr0 * (1 + c),
            "the schedule is reversed (sin or a minus sign): it must START at lr0 and end at eta_min":
                eta_min + 0.5 * (lr0 - eta_min) * (1 - c),
        })
    return "matches eta_min + (lr0 - eta_min)(1 + cos(pi e / T)) / 2 at 10 epochs, with and without a floor"


# --------------------------------------------------------------------------- opt_weight_decay_grads


@task("opt_weight_decay_grads", points=1)
def check_opt_weight_decay_grads(fn):
    """``weight_decay_grads(params, grads, weight_decay) -> new grads dict``; biases (keys "b...") untouched."""
    for seed, sizes, wd in ((0, [4, 5, 3], 0.01), (1, [3, 6, 6, 2], 0.1)):
        net = MLP(sizes, seed=seed, bias_std=0.5)
        rng = np.random.default_rng(seed + 50)
        params = net.params
        grads = {k: rng.standard_normal(p.shape) for k, p in params.items()}
        # reference: one SGD step with lr = 1 moves each parameter by exactly minus its decayed gradient
        moved = {k: p.copy() for k, p in params.items()}
        SGD(lr=1.0, weight_decay=wd, no_decay=("b",)).step(moved, grads)
        ref = {k: params[k] - moved[k] for k in params}
        what = f"weight_decay_grads(params of an MLP{sizes}, grads, weight_decay={wd})"
        out = call(fn, params, grads, wd)
        if out is None:
            fail(f"{what} returned None. Did you forget the `return` statement? Return the new dict of gradients.")
        if not isinstance(out, dict):
            fail(f"{what} must return a dict like grads, got {type(out).__name__}.")
        if set(out) != set(grads):
            fail(f"{what} must return the same keys as grads {sorted(grads)}, got {sorted(out)}.")
        for k in params:
            expect_array(out[k], ref[k], f"{what}[{k!r}]", rtol=1e-10, atol=1e-12, mistakes=_known({
                "weight decay was applied to a bias: only weights (keys starting with 'W') are decayed; "
                "shrinking biases does not reduce the model's sensitivity and only hurts the fit":
                    grads[k] + wd * params[k] if k.startswith("b") else None,
                "the sign is wrong: the L2 penalty (wd/2)|w|^2 has gradient + wd * w":
                    grads[k] - wd * params[k] if k.startswith("W") else None,
                "the penalty (wd/2)|w|^2 has gradient wd * w, not wd/2 * w or 2 wd * w":
                    grads[k] + 0.5 * wd * params[k] if k.startswith("W") else None,
                "weight decay is missing from this weight's gradient": grads[k] if k.startswith("W") else None,
            }))
    return "weights get grad + wd * w, biases keep their gradient, and nothing is modified in place (2 networks)"


# --------------------------------------------------------------------------- pipe_stage_backward


def _relu_grad(z):
    return (z > 0).astype(np.float64)


def _tanh_grad(z):
    return 1.0 - np.tanh(z) ** 2


@task("pipe_stage_backward", points=1)
def check_pipe_stage_backward(fn):
    """``stage_backward(da, a_received, z, W, act_grad) -> (da_send, dW, db)``.

    The first layer of stage 1 (layer ``split + 1``) of an MLP split after layer ``split``:
    compared with :meth:`MLP.layer_backward`, i.e. with the single-process gradients.
    """
    cases = [([6, 5, 4, 3], "tanh", _tanh_grad, 1, 12), ([5, 7, 9, 4, 3], "relu", _relu_grad, 2, 10)]
    for sizes, act, act_grad, split, n in cases:
        net = MLP(sizes, activation=act, init="xavier", seed=split, bias_std=0.1)
        rng = np.random.default_rng(split)
        X, y = rng.standard_normal((n, sizes[0])), rng.integers(0, sizes[-1], n)
        bp = net.backprop(X, y)
        l = split + 1  # the first layer of stage 1
        a_recv, z = bp.trace.activations[split], bp.trace.zs[l - 1]
        W = net.params[f"W{l}"]
        # dL/da_l, what arrives from the layers above (or the loss) inside stage 1
        da = bp.deltas[l] @ net.params[f"W{l + 1}"]
        ref_send, ref_dW, ref_db, delta = net.layer_backward(l, da, a_recv, z)
        what = f"stage_backward for layer {l} of an MLP{sizes} ({act}) split after layer {split}, batch {n}"
        out = _unpack(call(fn, da, a_recv, z, W, act_grad), 3, what, "(da_send, dW, db)")
        send = np.asarray(out[0]) if isinstance(out[0], np.ndarray) else out[0]
        if isinstance(send, np.ndarray) and send.shape == delta.shape != ref_send.shape:
            fail(f"da_send from {what} has shape {send.shape}, the shape of delta: stage 0 needs dL/da_{split} = "
                 f"delta @ W, of shape {ref_send.shape} (one value per unit of the activation it sent).")
        expect_array(out[0], ref_send, f"da_send from {what}", rtol=1e-9, atol=1e-12, mistakes={
            "da_send skips the activation's derivative: first delta = da * f'(z), then send delta @ W": da @ W,
            "da_send was divided by the batch size again; the 1/N of the mean loss is already in da":
                ref_send / n,
        })
        expect_array(out[1], ref_dW, f"dW from {what}", rtol=1e-9, atol=1e-12, mistakes={
            "dW skips the activation's derivative: delta = da * f'(z), dW = delta.T @ a_received":
                da.T @ a_recv,
            "dW was averaged over the batch again; the 1/N is already in da (sum over the batch)": ref_dW / n,
        })
        expect_array(out[2], ref_db, f"db from {what}", rtol=1e-9, atol=1e-12, mistakes={
            "db is the SUM of delta over the batch, not the mean": ref_db / n,
            "db skips the activation's derivative: db = (da * f'(z)).sum(axis=0)": da.sum(axis=0),
        })
        full = net.loss_and_grads(X, y)[1]
        assert np.allclose(full[f"W{l}"], ref_dW)  # the split computes exactly the single-process gradient
    return ("da_send, dW and db equal the single-process backprop for a tanh and a ReLU network split in two "
            "stages")
