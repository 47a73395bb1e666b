r"""Parameter updates: gradient clipping, SGD, momentum, RMSProp, Adam and learning-rate schedules.

Gradient clipping by global norm (``torch.nn.utils.clip_grad_norm_``): with
:math:`g` all gradients stacked,

.. math:: g \leftarrow g \cdot \min\!\left(1, \frac{c}{\lVert g \rVert_2}\right)

so the direction is kept and only the length is capped. Clipping each tensor
separately would change the direction.
"""

from __future__ import annotations

import numpy as np

__all__ = ["global_norm", "clip_grad_norm", "sgd_update", "Optimizer", "SGD", "RMSProp", "Adam",
           "step_decay", "cosine_schedule"]


def global_norm(grads: dict[str, np.ndarray]) -> float:
    r""":math:`\sqrt{\sum_k \lVert g_k \rVert^2}` over every gradient array."""
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float,
                   eps: float = 0.0) -> tuple[dict[str, np.ndarray], float]:
    r"""Scale all gradients together so their global norm is at most ``max_norm``.

    The factor is :math:`\min(1, c / (\lVert g\rVert + \epsilon))`; ``eps=1e-6`` reproduces
    ``torch.nn.utils.clip_grad_norm_`` exactly, the default 0 is the textbook formula.
    Returns ``(clipped, norm_before)``; the input dict and arrays are not modified.
    """
    if not (isinstance(max_norm, (int, float, np.floating)) and max_norm > 0 and np.isfinite(max_norm)):
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    norm = global_norm(grads)
    if not (isinstance(eps, (int, float)) and eps >= 0):
        raise ValueError(f"eps must be a non-negative number, got {eps!r}")
    denom = norm + eps
    factor = 1.0 if denom == 0.0 else min(1.0, float(max_norm) / denom)
    return {k: g * factor for k, g in grads.items()}, norm


def sgd_update(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
    r"""In place :math:`\theta_k \leftarrow \theta_k - \eta\, g_k` for every key."""
    if set(params) != set(grads):
        raise ValueError(f"grads must have the keys of params {sorted(params)}, got {sorted(grads)}")
    for k, p in params.items():
        if grads[k].shape != p.shape:
            raise ValueError(f"grads[{k!r}] must have shape {p.shape}, got {grads[k].shape}")
        p -= lr * grads[k]


# =============================================================================
# Optimisers with state (same defaults and update rules as torch.optim)
# =============================================================================


class Optimizer:
    """Base class: ``step(params, grads)`` updates ``params`` in place; state is per key.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2, as torch.optim does);
    ``no_decay`` lists key prefixes that are left out of it (e.g. ``("b",)`` for biases).
    """

    def __init__(self, lr: float, weight_decay: float = 0.0, no_decay: tuple[str, ...] = ()):
        _positive("lr", lr)
        if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be a non-negative number, got {weight_decay!r}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.no_decay = tuple(no_decay)
        self.state: dict[str, dict] = {}
        self.steps = 0

    def _grad(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.weight_decay and not (self.no_decay and key.startswith(self.no_decay)):
            return g + self.weight_decay * p
        return g

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        if set(params) != set(grads):
            raise ValueError(f"grads must have the keys of params {sorted(params)}, got {sorted(grads)}")
        self.steps += 1
        for key, p in params.items():
            g = grads[key]
            if g.shape != p.shape:
                raise ValueError(f"grads[{key!r}] must have shape {p.shape}, got {g.shape}")
            self._update(key, p, self._grad(key, p, g), self.state.setdefault(key, {}))

    def _update(self, key: str, p: np.ndarray, g: np.ndarray, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in ("state", "steps"))
        return f"{type(self).__name__}({fields})"


def _positive(name: str, value) -> None:
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.floating))
            or not (value > 0 and np.isfinite(value))):
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def _fraction(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not (0 <= value < 1):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")


class SGD(Optimizer):
    r"""SGD with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    .. math:: v \leftarrow \mu v + (1 - \tau) g \;(v = g \text{ at the first step}), \qquad
              p \leftarrow p - \eta\,(g + \mu v \text{ if Nesterov else } v)
    """

    def __init__(self, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, no_decay: tuple[str, ...] = ()):
        super().__init__(lr, weight_decay, no_decay)
        _fraction("momentum", momentum)
        _fraction("dampening", dampening)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening, self.nesterov = float(momentum), float(dampening), bool(nesterov)

    def _update(self, key, p, g, state):
        if self.momentum:
            if "momentum_buffer" not in state:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class RMSProp(Optimizer):
    r"""RMSProp, as ``torch.optim.RMSprop`` (defaults lr=0.01, alpha=0.99, eps=1e-8).

    .. math:: s \leftarrow \alpha s + (1-\alpha) g^2, \qquad p \leftarrow p - \eta\, g / (\sqrt{s} + \epsilon)
    """

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, no_decay: tuple[str, ...] = ()):
        super().__init__(lr, weight_decay, no_decay)
        _fraction("alpha", alpha)
        _fraction("momentum", momentum)
        _positive("eps", eps)
        self.alpha, self.eps, self.momentum = float(alpha), float(eps), float(momentum)

    def _update(self, key, p, g, state):
        sq = state.setdefault("square_avg", np.zeros_like(p))
        sq *= self.alpha
        sq += (1 - self.alpha) * g * g
        avg = np.sqrt(sq) + self.eps
        if self.momentum > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(p))
            buf *= self.momentum
            buf += g / avg
            p -= self.lr * buf
        else:
            p -= self.lr * (g / avg)


class Adam(Optimizer):
    r"""Adam with bias correction, as ``torch.optim.Adam`` (lr=1e-3, betas=(0.9, 0.999), eps=1e-8).

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        p \leftarrow p - \frac{\eta}{1-\beta_1^t}\,\frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, no_decay: tuple[str, ...] = ()):
        super().__init__(lr, weight_decay, no_decay)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        _fraction("betas[0]", betas[0])
        _fraction("betas[1]", betas[1])
        _positive("eps", eps)
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)

    def _update(self, key, p, g, state):
        b1, b2 = self.betas
        t = state["step"] = state.get("step", 0) + 1
        m = state.setdefault("exp_avg", np.zeros_like(p))
        v = state.setdefault("exp_avg_sq", np.zeros_like(p))
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        step_size = self.lr / (1 - b1 ** t)
        denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + self.eps
        p -= step_size * (m / denom)


# =============================================================================
# Learning-rate schedules (as torch.optim.lr_scheduler.StepLR / CosineAnnealingLR)
# =============================================================================


def _check_schedule(lr0, epoch, period_name: str, period) -> None:
    _positive("lr0", lr0)
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
        raise ValueError(f"{period_name} must be a positive integer, got {period!r}")
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch!r}")


def step_decay(lr0: float, epoch: int, step_size: int, gamma: float = 0.1) -> float:
    r""":math:`\eta_e = \eta_0\,\gamma^{\lfloor e / \text{step\_size} \rfloor}`."""
    _check_schedule(lr0, epoch, "step_size", step_size)
    return float(lr0 * gamma ** (epoch // step_size))


def cosine_schedule(lr0: float, epoch: int, t_max: int, eta_min: float = 0.0) -> float:
    r""":math:`\eta_e = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi e / T_{max}))`."""
    _check_schedule(lr0, epoch, "t_max", t_max)
    return float(eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / t_max)))


# =============================================================================
# Decoupled weight decay (AdamW) and a per-step warmup + cosine schedule
# =============================================================================

__all__ += ["AdamW", "warmup_cosine", "Scheduled"]


class AdamW(Adam):
    r"""Adam with *decoupled* weight decay, as ``torch.optim.AdamW`` (weight_decay=0.01 by default).

    Loshchilov & Hutter (2019): the weights shrink by :math:`\eta\lambda` per step *outside* Adam's
    normalisation, instead of :math:`\lambda p` being added to the gradient (L2, ``Adam(weight_decay=)``),
    where it would be divided by :math:`\sqrt{\hat v}` like the rest of the gradient:

    .. math:: p \leftarrow (1 - \eta\lambda)\,p, \qquad
              p \leftarrow p - \frac{\eta}{1-\beta_1^t}\,\frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}

    with :math:`m, v` the moments of the loss gradient alone. ``no_decay`` key prefixes are not shrunk.
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, no_decay: tuple[str, ...] = ()):
        super().__init__(lr, betas, eps, weight_decay, no_decay)

    def _grad(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        return g  # no L2 term in the gradient: the decay is applied to the weights in _update

    def _update(self, key, p, g, state):
        if self.weight_decay and not (self.no_decay and key.startswith(self.no_decay)):
            p *= 1 - self.lr * self.weight_decay
        super()._update(key, p, g, state)


def warmup_cosine(lr0: float, step: int, warmup: int, t_max: int, eta_min: float = 0.0) -> float:
    r"""Linear warmup for ``warmup`` steps, then cosine decay to ``eta_min`` at step ``t_max``.

    .. math:: \eta_t = \eta_0 \frac{t+1}{w} \;(t < w), \qquad
              \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\left(1 + \cos\frac{\pi (t - w)}{T - w}\right)
              \;(w \le t \le T)

    (the first step already has :math:`\eta_0/w`, not 0; after :math:`T` the rate stays at ``eta_min``).
    ``warmup=0`` is the plain cosine schedule.
    """
    _check_schedule(lr0, step, "t_max", t_max)
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or not 0 <= warmup < t_max:
        raise ValueError(f"warmup must be an integer in [0, t_max={t_max}), got {warmup!r}")
    if not (isinstance(eta_min, (int, float)) and 0 <= eta_min <= lr0):
        raise ValueError(f"eta_min must be in [0, lr0={lr0}], got {eta_min!r}")
    if step < warmup:
        return float(lr0 * (step + 1) / warmup)
    t = min(step, t_max) - warmup
    return float(eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * t / (t_max - warmup))))


class Scheduled:
    """An optimiser whose learning rate is set before *every* step: ``lr = schedule(step)``, step = 0, 1, ...

    ``Scheduled(Adam(), lambda t: warmup_cosine(1e-2, t, 50, 500))`` can be passed wherever an optimiser
    goes (``train(..., optimizer=...)``); ``lrs`` records the rate used at each step.
    """

    def __init__(self, optimizer: Optimizer, schedule):
        if not callable(getattr(optimizer, "step", None)):
            raise TypeError(f"optimizer must have a step(params, grads) method, got {type(optimizer).__name__}")
        if not callable(schedule):
            raise TypeError(f"schedule must be callable as schedule(step) -> lr, got {type(schedule).__name__}")
        self.optimizer, self.schedule = optimizer, schedule
        self.lrs: list[float] = []

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        lr = self.schedule(len(self.lrs))
        _positive("schedule(step)", lr)
        self.optimizer.lr = float(lr)
        self.lrs.append(float(lr))
        self.optimizer.step(params, grads)

    def __repr__(self) -> str:
        return f"Scheduled({self.optimizer!r}, steps={len(self.lrs)})"
