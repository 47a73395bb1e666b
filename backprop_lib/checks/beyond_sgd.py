r"""Checks for ``exercises/06_beyond_sgd.ipynb``: optimiser updates, schedules, and a pipeline stage.

Tasks (ids are unique across the course):

``opt_momentum_step``       one step of SGD with momentum, state in and state out, in any of the four
                            conventions the task names (the velocity as PyTorch's :math:`v`, as
                            :math:`\eta v`, or either with the opposite sign)
``opt_adam_step``           one Adam step with bias correction
``opt_cosine_lr``           the cosine-annealing learning rate of epoch e, derived from its shape
``opt_weight_decay_grads``  L2 weight decay added to the weights' gradients, not the biases'
``pipe_stage_backward``     the backward of the first layer of stage 1: the local gradients
                            and the gradient sent back to stage 0

Every expected value comes from the library: :class:`backprop_lib.optim.SGD`,
:class:`~backprop_lib.optim.Adam`, :func:`~backprop_lib.optim.cosine_schedule`, and
:meth:`backprop_lib.mlp.MLP.layer_backward` (whose results equal the single-process
gradients of :meth:`~backprop_lib.mlp.MLP.loss_and_grads`). The step checks call the
learner's function several times in a row, feeding back the state it returned, and
compare the whole sequence with the library's optimiser; the Adam check first calls it
once in the middle of training (t > 1, non-zero moments), where every classic mistake
gives a different number.

Each mistake is computed from the inputs of the call that went wrong, so a hint names
what that call did (all earlier calls matched the reference, so the inputs are right).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..activations import relu_grad, sigmoid_grad, tanh_grad
from ..layers import linear_backward
from ..mlp import MLP
from ..optim import SGD, Adam, Optimizer, RMSProp, cosine_schedule
from ..parallel import pipeline_loss_and_grads
from ._core import Mistake, call, expect_array, expect_scalar, fail, task

__all__ = [
    "check_opt_momentum_step",
    "check_opt_adam_step",
    "check_opt_cosine_lr",
    "check_opt_weight_decay_grads",
    "check_pipe_stage_backward",
]


# --------------------------------------------------------------------------- helpers


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


def _expect(out, expected, what: str, *, note: str, mistakes: dict | None = None, **tolerances) -> np.ndarray:
    """``expect_array``; when it can only print the bare values, add ``note`` (what the value should be)."""
    try:
        return expect_array(out, expected, what, mistakes=_known(mistakes or {}), **tolerances)
    except Mistake as exc:
        message = str(exc)
        if message.startswith((f"{what} is wrong: got ", f"{what} is wrong at index ")):
            raise Mistake(f"{message.rstrip('.')}. {note}") from None
        raise


def _as_array(value, shape: tuple) -> np.ndarray | None:
    """``value`` as a float64 array when it is numbers of ``shape``, else None (no failure)."""
    if not isinstance(value, (np.ndarray, list, tuple, float, int, np.generic)):
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == shape and np.all(np.isfinite(arr)) else None


def _close(a, b, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
    return a is not None and np.shape(a) == np.shape(b) and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --------------------------------------------------------------------------- opt_momentum_step


def _momentum_conventions(lr: float) -> list[tuple[float, str, str, str, str]]:
    """The forms the task accepts: (the velocity as a multiple of PyTorch's, name, velocity, update, the
    same velocity damped by (1 - momentum), a classic mistake).

    All four give the same weights as ``torch.optim.SGD(momentum=...)`` while lr is constant.
    """
    return [
        (1.0, "PyTorch's convention (the lecture's)", "velocity_new = momentum * velocity + grad",
         "w - lr * velocity_new", "momentum * velocity + (1 - momentum) * grad"),
        (lr, "the convention with lr inside the velocity (as in Ruder's overview)",
         "velocity_new = momentum * velocity + lr * grad", "w - velocity_new",
         "momentum * velocity + (1 - momentum) * lr * grad"),
        (-lr, "CS231n's convention (and Sutskever et al.'s)", "velocity_new = momentum * velocity - lr * grad",
         "w + velocity_new", "momentum * velocity - (1 - momentum) * lr * grad"),
        (-1.0, "the convention with a minus sign in the velocity", "velocity_new = momentum * velocity - grad",
         "w + lr * velocity_new", "momentum * velocity - (1 - momentum) * grad"),
    ]


def _update_forms(w: np.ndarray, v_new: np.ndarray, lr: float) -> dict[str, np.ndarray]:
    return {"w - lr * velocity_new": w - lr * v_new, "w - velocity_new": w - v_new,
            "w + velocity_new": w + v_new, "w + lr * velocity_new": w + lr * v_new}


def _convention_hint(convention, wrote: str) -> str:
    _, name, velocity, update, _ = convention
    why = []
    if ("+" in update) != ("+" in wrote):
        why.append("your step goes uphill, along the gradient")
    if "lr" in wrote and "lr" not in update:
        why.append("your velocity already contains lr, so lr was applied twice")
    if "lr" in update and "lr" not in wrote:
        why.append("the learning rate is missing")
    return (f"your velocity follows {name}, `{velocity}`; with that velocity the update is "
            f"`w_new = {update}`, but you computed `w_new = {wrote}` ({'; '.join(why)})")


def _momentum_reference(w0: np.ndarray, grads: list[np.ndarray], lr: float, momentum: float) -> list[np.ndarray]:
    """The weights after each step of torch.optim.SGD(momentum=...) (the library's SGD)."""
    return _run_optimizer(SGD(lr=lr, momentum=momentum), w0, grads)


def _first_momentum_step(out, w, g, lr, mu, w_ref, what):
    """Which accepted convention the first step's velocity follows (the velocity given is zeros)."""
    conventions = _momentum_conventions(lr)
    v_arr, w_arr = _as_array(out[1], g.shape), _as_array(out[0], g.shape)
    for convention in conventions:
        if _close(v_arr, convention[0] * g, rtol=1e-5, atol=1e-8):  # loose: expect_array judges the dtype
            return convention
    if _close(v_arr, w_ref) and any(_close(w_arr, c[0] * g) for c in conventions):
        fail(f"{what} returned (velocity_new, w_new): return them in the order (w_new, velocity_new).")
    mistakes = {}
    if mu:
        for scale, name, velocity, _, damped in conventions:
            mistakes[f"you averaged the gradient into the velocity (`{damped}`, the damped form of Andrew Ng's "
                      f"course): here, as in torch.optim.SGD, the gradient is added undamped, `{velocity}` "
                      f"({name}), so at the first step the velocity is {_first_velocity(scale, lr)}"] = \
                scale * (1 - mu) * g
        for scale, _, velocity, _, _ in conventions:
            mistakes[f"momentum multiplies the velocity you are given, not the gradient: `{velocity}`"] = \
                mu * scale * g
    if w_arr is not None and _close(v_arr, w_arr):
        fail(f"{what} returned the same array twice: return the new weights AND the new velocity, "
             "(w_new, velocity_new).")
    accepted = ", ".join(f"`{c[2]}`" for c in conventions)
    _expect(out[1], g, f"velocity_new from {what}", mistakes=mistakes, rtol=1e-9, atol=1e-12,
            note=f"At the first step the velocity you are given is zeros, so velocity_new is the gradient "
                 f"times the factor of your convention; the task accepts {accepted}.")
    fail(f"velocity_new from {what} is none of the accepted forms {accepted}.")  # pragma: no cover


def _first_velocity(scale: float, lr: float) -> str:
    return {1.0: "grad", -1.0: "-grad"}.get(scale, "lr * grad" if scale > 0 else "-lr * grad")


@task("opt_momentum_step", points=1, references=[SGD, _momentum_reference])
def check_opt_momentum_step(fn):
    """``momentum_step(w, grad, velocity, lr, momentum) -> (w_new, velocity_new)``, called in sequence."""
    cases = [(0, (5,), 0.03, 0.9, 6), (1, (3, 4), 0.05, 0.5, 5), (2, (2,), 0.2, 0.0, 3)]
    for seed, shape, lr, mu, steps in cases:
        w0 = np.random.default_rng(100 + seed).standard_normal(shape)
        grads = _grad_sequence(seed, shape, steps)
        ref = _momentum_reference(w0, grads, lr, mu)
        w, v, convention = w0.copy(), np.zeros(shape), None
        for t, g in enumerate(grads):
            what = f"momentum_step at step {t + 1} (lr={lr}, momentum={mu}, w of shape {shape})"
            out = _unpack(call(fn, w, g, v, lr, mu), 2, what, "(w_new, velocity_new)")
            if convention is None:
                convention = _first_momentum_step(out, w, g, lr, mu, ref[0], what)
            scale, name, velocity, update, damped = convention
            v_new = _expect(out[1], mu * v + scale * g, f"velocity_new from {what}", rtol=1e-9, atol=1e-12, mistakes={
                "the velocity is not carried over between steps: it must accumulate, "
                f"`{velocity}`, using the velocity you are given (the one your previous call returned)":
                    scale * g if mu and t else None,
                "you returned the velocity you were given unchanged": v if t else None,
                f"you averaged (`{damped}`, the damped form of Andrew Ng's course); here, as in "
                f"torch.optim.SGD, the gradient is added undamped: `{velocity}`":
                    mu * v + (1 - mu) * scale * g if mu else None,
                f"momentum multiplies the velocity you are given, not the gradient: `{velocity}`":
                    v + mu * scale * g if mu else None,
                f"you used momentum = 0.9 instead of the `momentum` argument (this call passes momentum={mu}): "
                f"`{velocity}` with the value you are given": 0.9 * v + scale * g if mu != 0.9 and t else None,
            }, note=f"Your first step followed {name}: `{velocity}`.")
            forms = _update_forms(w, v_new, lr)
            old = _update_forms(w, v, lr)[update]
            mistakes: dict[str, Any] = {_convention_hint(convention, form): value
                                        for form, value in forms.items() if form != update}
            mistakes.update({
                f"the update used the raw gradient, not the velocity: `w_new = {update}`":
                    w - lr * g if mu else None,
                "the update used the velocity you were given, not velocity_new (at the first step that is zeros, "
                f"so w did not move): compute velocity_new first, then `w_new = {update}`":
                    old,
                "that is Nesterov momentum (the look-ahead step along grad + momentum * velocity_new); this task "
                f"asks for classical (heavy-ball) momentum: `w_new = {update}`":
                    w - lr * (g + mu * v_new / scale) if mu else None,
            })
            w_new = _expect(out[0], ref[t], f"w_new from {what}", rtol=1e-10, atol=1e-12, mistakes=mistakes,
                            note=f"With your velocity ({name}) the update is `w_new = {update}`.")
            w, v = w_new, v_new
    return ("6 consecutive steps match torch.optim.SGD(momentum=...) for three shapes and momentum 0.9, 0.5, 0 "
            "(velocity convention accepted: PyTorch's, lr inside, or either with a minus sign)")


# --------------------------------------------------------------------------- opt_adam_step


def _adam_reference(w, g, m, v, t, lr, beta1, beta2, eps):
    """The library's Adam (as torch.optim.Adam) from state (m, v) after t - 1 steps: (w_new, m_new, v_new)."""
    opt = Adam(lr=lr, betas=(beta1, beta2), eps=eps)
    opt.state["w"] = {"step": t - 1, "exp_avg": np.array(m, dtype=np.float64),
                      "exp_avg_sq": np.array(v, dtype=np.float64)}
    params = {"w": np.array(w, dtype=np.float64)}
    opt.step(params, {"w": g})
    state = opt.state["w"]
    return params["w"], state["exp_avg"].copy(), state["exp_avg_sq"].copy()


def _adam_call(fn, w, g, m, v, t, lr, b1, b2, eps, what):
    """Call the learner's adam_step once and compare all three results; return them as float64."""
    out = _unpack(call(fn, w, g, m, v, t, lr, b1, b2, eps), 3, what, "(w_new, m_new, v_new)")
    w_ref, m_ref, v_ref = _adam_reference(w, g, m, v, t, lr, b1, b2, eps)
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    m_hat, v_hat = m_ref / c1, v_ref / c2
    if _close(_as_array(out[1], m_ref.shape), v_ref) and _close(_as_array(out[2], v_ref.shape), m_ref):
        fail(f"{what}: m_new and v_new are swapped; return (w_new, m_new, v_new) in that order.")
    m_new = _expect(out[1], m_ref, f"m_new from {what}", rtol=1e-9, atol=1e-14, mistakes={
        "you returned the bias-corrected m_hat as the state: return the uncorrected "
        "m_new = beta1 * m + (1 - beta1) * grad (the next call corrects it afresh, with its own t)": m_hat,
        "m_new is the raw gradient: it is the running average beta1 * m + (1 - beta1) * grad": g,
        "m is not carried over between steps (it restarts from zero); use the m you are given":
            (1 - b1) * g if t > 1 else None,
        "the weights of the average are swapped: beta1 * m + (1 - beta1) * grad": (1 - b1) * m + b1 * g,
        "beta1 and beta2 are swapped: m uses beta1, v uses beta2": b2 * m + (1 - b2) * g,
        f"you used beta1 = 0.9 (the default) instead of the `beta1` argument (this call passes beta1={b1:g})":
            0.9 * m + 0.1 * g if b1 != 0.9 else None,
    }, note="m_new = beta1 * m + (1 - beta1) * grad.")
    v_new = _expect(out[2], v_ref, f"v_new from {what}", rtol=1e-9, atol=1e-16, mistakes={
        "you returned the bias-corrected v_hat as the state: return the uncorrected "
        "v_new = beta2 * v + (1 - beta2) * grad**2 (the next call corrects it afresh, with its own t)": v_hat,
        "v averages the SQUARED gradient: beta2 * v + (1 - beta2) * grad**2": b2 * v + (1 - b2) * g,
        "v averages the SQUARED gradient: `grad * 2` doubles it, `grad**2` squares it":
            b2 * v + (1 - b2) * 2 * g,
        "v averages the SQUARED gradient (not its absolute value): beta2 * v + (1 - beta2) * grad**2":
            b2 * v + (1 - b2) * np.abs(g),
        "v is not carried over between steps (it restarts from zero); use the v you are given":
            (1 - b2) * g * g if t > 1 else None,
        "the weights of the average are swapped: beta2 * v + (1 - beta2) * grad**2": (1 - b2) * v + b2 * g * g,
        "beta1 and beta2 are swapped: m uses beta1, v uses beta2": b1 * v + (1 - b1) * g * g,
        f"you used beta2 = 0.999 (the default) instead of the `beta2` argument (this call passes beta2={b2:g})":
            0.999 * v + 0.001 * g * g if b2 != 0.999 else None,
    }, note="v_new = beta2 * v + (1 - beta2) * grad**2.")
    w_arr = np.asarray(out[0]) if isinstance(out[0], np.ndarray) else None
    if w_arr is not None and w_arr.dtype.kind == "f" and np.any(np.isnan(w_arr)):
        fail(f"w_new from {what} contains NaN: the square root of a negative number? Check the bias correction: "
             "`v_new / 1 - beta2**t` is `(v_new / 1) - beta2**t`, and `beta2*t` is not `beta2**t`; write "
             "`v_new / (1 - beta2**t)`.")

    def update(mh, vh, *, eps_inside=False, rate=lr, e=eps):
        return w - rate * mh / (np.sqrt(vh + e) if eps_inside else np.sqrt(vh) + e)

    w_new = _expect(out[0], w_ref, f"w_new from {what}", rtol=1e-11, atol=1e-14, mistakes={
        "missing bias correction: divide m_new by (1 - beta1**t) and v_new by (1 - beta2**t) before the update "
        "(without it the first steps have the wrong size)": update(m_ref, v_ref),
        "the bias correction uses t + 1 (did you add 1 to t, or count the steps from 0?): t is already this "
        "step's number, starting at 1, so divide by (1 - beta1**t) and (1 - beta2**t)":
            update(m_ref / (1 - b1 ** (t + 1)), v_ref / (1 - b2 ** (t + 1))),
        "the bias correction uses t - 1: t is already this step's number, starting at 1, so divide by "
        "(1 - beta1**t) and (1 - beta2**t)": (update(m_ref / (1 - b1 ** (t - 1)), v_ref / (1 - b2 ** (t - 1)))
                                             if t > 1 else None),
        "the update uses the raw gradient instead of the moment estimate m_hat": update(g, v_hat),
        "only m is bias-corrected; v_hat = v_new / (1 - beta2**t) as well": update(m_hat, v_ref),
        "only v is bias-corrected; m_hat = m_new / (1 - beta1**t) as well": update(m_ref, v_hat),
        "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps)": update(m_hat, v_hat, eps_inside=True),
        "eps was added to sqrt(v_new) before the bias correction (the 'efficient' form of Kingma & Ba, whose "
        "eps is a different constant); here eps is added to sqrt(v_hat): m_hat / (sqrt(v_hat) + eps)":
            w - lr * np.sqrt(c2) / c1 * m_ref / (np.sqrt(v_ref) + eps),
        "the square root is missing: divide by sqrt(v_hat) + eps (v estimates the SQUARED gradient)":
            w - lr * m_hat / (v_hat + eps),
        "eps was added to the step, not to the denominator: parenthesise `(np.sqrt(v_hat) + eps)`":
            w - (lr * m_hat / np.sqrt(v_hat) + eps),
        "eps was added to the step (to w_new), not to the denominator: parenthesise `(np.sqrt(v_hat) + eps)`":
            w - lr * m_hat / np.sqrt(v_hat) + eps,
        "the learning rate is missing from the update": update(m_hat, v_hat, rate=1.0),
        "the update used the moments you were given, not the new ones (m_new, v_new include this step's "
        "gradient; at the first step the old ones are zeros, so w did not move)":
            update(m / c1, v / c2),
        "the power applies to beta only: (1 - beta1)**t is not 1 - beta1**t; divide by (1 - beta1**t) and "
        "(1 - beta2**t)": update(m_ref / (1 - b1) ** t, v_ref / (1 - b2) ** t),
        "operator precedence: `m_new / 1 - beta1**t` is `(m_new / 1) - beta1**t`; write `m_new / (1 - beta1**t)`":
            update(m_ref - b1 ** t, v_hat),
        "the step goes uphill: w_new = w - lr * m_hat / (sqrt(v_hat) + eps)": 2 * w - w_ref,
        f"you used eps = 1e-8 (the default) instead of the `eps` argument (this call passes eps={eps:g})":
            update(m_hat, v_hat, e=1e-8) if eps != 1e-8 else None,
        f"you used lr = 1e-3 (the default) instead of the `lr` argument (this call passes lr={lr:g})":
            update(m_hat, v_hat, rate=1e-3) if lr != 1e-3 else None,
        "m_hat is corrected with beta2: m_hat = m_new / (1 - beta1**t) (beta1 for the first moment, beta2 "
        "for the second)": update(m_ref / c2, v_hat),
        "the bias corrections are swapped: m_hat = m_new / (1 - beta1**t) and v_hat = v_new / (1 - beta2**t)":
            update(m_ref / c2, v_ref / c1),
    }, note="w_new = w - lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m_new / (1 - beta1**t) and "
            "v_hat = v_new / (1 - beta2**t).")
    return w_new, m_new, v_new


@task("opt_adam_step", points=1, references=[Adam, RMSProp, _adam_reference])
def check_opt_adam_step(fn):
    """``adam_step(w, grad, m, v, t, lr, beta1, beta2, eps) -> (w_new, m_new, v_new)``.

    First single calls in the middle of training (t = 4 and 7, moments given), then sequences from zero.
    """
    # (seed, shape, t, lr, beta1, beta2, eps, gradient scale): state as after t - 1 steps
    for seed, shape, t, lr, b1, b2, eps, scale in ((30, (6,), 4, 0.01, 0.9, 0.999, 1e-8, 1e-3),
                                                   (31, (2, 3), 7, 0.1, 0.8, 0.99, 1e-6, 1.0)):
        rng = np.random.default_rng(seed)
        w, g = rng.standard_normal(shape), scale * rng.standard_normal(shape)
        m = scale * (1 - b1 ** (t - 1)) * 0.5 * rng.standard_normal(shape)
        v = scale ** 2 * (1 - b2 ** (t - 1)) * (0.2 + rng.random(shape))
        what = f"adam_step at step t={t} (lr={lr}, betas=({b1}, {b2}), eps={eps}, m and v from the earlier steps)"
        _adam_call(fn, w, g, m, v, t, lr, b1, b2, eps, what)
    for seed, shape, lr, b1, b2, eps, steps in ((0, (4,), 0.01, 0.9, 0.999, 1e-8, 6),
                                                (1, (2, 3), 0.1, 0.8, 0.99, 1e-6, 5)):
        w = np.random.default_rng(200 + seed).standard_normal(shape)
        m, v = np.zeros(shape), np.zeros(shape)
        for t, g in enumerate(_grad_sequence(10 + seed, shape, steps), start=1):
            what = f"adam_step at step t={t} (lr={lr}, betas=({b1}, {b2}), eps={eps})"
            w, m, v = _adam_call(fn, w, g, m, v, t, lr, b1, b2, eps, what)
    return ("w, m and v match torch.optim.Adam mid-training (t = 4 and 7) and over 5-6 consecutive steps from zero, "
            "for two settings of lr, betas and eps")


# --------------------------------------------------------------------------- opt_cosine_lr


def _cos(e, T):
    return np.cos(np.pi * e / T)


#: Wrong derivations of the cosine schedule: hint -> learning rate (lr0, epoch, t_max, eta_min).
_COSINE_MISTAKES = {
    "forgot the factor 1/2: 1 + cos runs from 2 to 0, so the schedule starts at 2 * lr0 - eta_min; map it "
    "onto [0, 1] with (1 + cos) / 2":
        lambda lr0, e, T, lo: lo + (lr0 - lo) * (1 + _cos(e, T)),
    "forgot the 1 +: cos alone runs from 1 to -1, so the schedule ends below eta_min; (1 + cos) / 2 runs "
    "from 1 to 0":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * _cos(e, T),
    "cos runs from 1 to -1 and you rescaled it as if it ran from 1 to 0 (the end point lands below eta_min): "
    "(1 + cos) / 2 runs from 1 to 0":
        lambda lr0, e, T, lo: lo + (lr0 - lo) * _cos(e, T),
    "forgot pi: the angle must run from 0 to pi, so it is pi * epoch / t_max (np.cos takes radians)":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + np.cos(e / T)),
    "the angle is in degrees, but np.cos takes radians: pi * epoch / t_max (not 180 * epoch / t_max)":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + np.cos(180 * e / T)),
    "that is a full period of the cosine, (1 + cos(2 pi e / T)) / 2 (which is also cos^2(pi e / T)): it climbs "
    "back to lr0 at the end. The schedule is HALF a period: angle pi * epoch / t_max (or cos^2 of half that "
    "angle, cos^2(pi e / (2 T)))":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + np.cos(2 * np.pi * e / T)),
    "that is a quarter period (angle pi e / (2 T)): it hits both end points, but it arrives at eta_min steeply; "
    "the schedule is flat at both ends, which takes half a period: (1 + cos(pi e / T)) / 2":
        lambda lr0, e, T, lo: lo + (lr0 - lo) * np.cos(np.pi * e / (2 * T)),
    "the floor eta_min is missing: the schedule must end at eta_min, eta_min + (lr0 - eta_min) * (1 + cos) / 2":
        lambda lr0, e, T, lo: 0.5 * lr0 * (1 + _cos(e, T)),
    "the amplitude is lr0 - eta_min, not lr0 (yours starts at lr0 + eta_min): eta_min + (lr0 - eta_min) * "
    "(1 + cos) / 2":
        lambda lr0, e, T, lo: lo + 0.5 * lr0 * (1 + _cos(e, T)),
    "the schedule is reversed (1 - cos, or a sin): it must START at lr0 and end at eta_min":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 - _cos(e, T)),
    "off by one: with the angle pi * epoch / (t_max - 1) the schedule reaches eta_min one epoch early; "
    "epoch t_max is the last one, so divide by t_max":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + _cos(e, T - 1)),
    "off by one: with the angle pi * epoch / (t_max + 1) the schedule never reaches eta_min; epoch t_max is "
    "the last one, so divide by t_max":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + _cos(e, T + 1)),
    "off by one: epoch + 1 makes the schedule one epoch ahead; epoch 0 must give lr0 exactly, so the "
    "angle is pi * epoch / t_max":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + _cos(e + 1, T)),
    "off by one: epoch - 1 makes the schedule one epoch late; epoch 0 must give lr0 exactly, so the "
    "angle is pi * epoch / t_max":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + _cos(e - 1, T)),
    "that is a straight line from lr0 to eta_min; the cosine schedule falls slowly at both ends and fastest "
    "in the middle":
        lambda lr0, e, T, lo: lr0 - (lr0 - lo) * e / T,
    "`//` is integer (floor) division: `epoch // t_max` is 0 until the last epoch; use `/`":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + np.cos(np.pi * (e // T))),
    "`np.pi * epoch // t_max` floors the angle (`//` is floor division); use `/`":
        lambda lr0, e, T, lo: lo + 0.5 * (lr0 - lo) * (1 + np.cos((np.pi * e) // T)),
}


def _real_number(out, what: str) -> float:
    if isinstance(out, np.ndarray) and out.size == 1:
        out = out.reshape(())[()]
    if out is None:
        fail(f"{what} returned None. Did you forget the `return` statement?")
    if isinstance(out, (bool, np.bool_)) or not isinstance(out, (int, float, np.integer, np.floating)):
        fail(f"{what} should return a single number (the learning rate), got "
             f"{'an array of shape ' + str(out.shape) if isinstance(out, np.ndarray) else type(out).__name__}.")
    if not np.isfinite(float(out)):
        fail(f"{what} returned {float(out)}. Look for a division by zero (t_max - t_max?) or an overflow.")
    return float(out)


@task("opt_cosine_lr", points=1, references=[cosine_schedule])
def check_opt_cosine_lr(fn):
    """``cosine_lr(lr0, epoch, t_max, eta_min)`` against :func:`backprop_lib.optim.cosine_schedule`.

    All epochs are evaluated first; a wrong derivation is recognised by its values at every epoch.
    """
    cases = ([(0.1, e, 10, 0.0) for e in (0, 1, 3, 5, 7, 9, 10)] + [(0.5, e, 20, 0.01) for e in (0, 4, 10, 13, 19, 20)]
             + [(0.03, e, 7, 0.002) for e in (2, 6)])
    outs = [call(fn, *case) for case in cases]
    names = [f"cosine_lr(lr0={lr0}, epoch={e}, t_max={T}, eta_min={lo})" for lr0, e, T, lo in cases]
    got = np.array([_real_number(out, what) for out, what in zip(outs, names)])
    ref = np.array([cosine_schedule(*case) for case in cases])
    bad = [i for i in range(len(cases)) if not np.isclose(got[i], ref[i], rtol=1e-10, atol=1e-12)]
    if bad:
        for i in bad:  # float32 results: the dtype, not the formula
            dtype = np.asarray(outs[i]).dtype
            if dtype.kind == "f" and dtype != np.float64 and np.isclose(got[i], ref[i], rtol=1e-5):
                fail(f"{names[i]} is only close to the answer ({got[i]:.17g}, expected {ref[i]:.17g}) and its dtype "
                     f"is {dtype}: compute in float64 (float32 keeps only about 7 significant digits).")
        i = bad[0]
        example = f"{names[i]} returned {got[i]:.6g}, expected {ref[i]:.6g}"
        for hint, wrong in _COSINE_MISTAKES.items():
            with np.errstate(all="ignore"):
                values = np.array([wrong(*case) for case in cases], dtype=np.float64)
            if np.allclose(got, values, rtol=1e-10, atol=1e-12):
                fail(f"{example}: {hint}.")
        for pi in (3.14, 3.1416, 3.14159, 3.141592, 3.1415926, 22 / 7):
            values = np.array([lo + 0.5 * (lr0 - lo) * (1 + np.cos(pi * e / T)) for lr0, e, T, lo in cases])
            if np.allclose(got, values, rtol=1e-10, atol=1e-12):
                j = int(np.argmax(np.abs(got - ref)))
                fail(f"{names[j]} returned {got[j]:.17g}, expected {ref[j]:.17g}: you wrote pi as {pi:.7g}; use "
                     "np.pi (or math.pi): an approximation leaves the whole schedule a little off (at epoch t_max "
                     "it must be exactly eta_min).")
        start = [j for j, c in enumerate(cases) if c[1] == 0 and not np.isclose(got[j], ref[j], rtol=1e-10)]
        end = [j for j, c in enumerate(cases) if c[1] == c[2] and not np.isclose(got[j], ref[j], rtol=1e-10)]
        mid = [j for j, c in enumerate(cases) if 2 * c[1] == c[2] and not np.isclose(got[j], ref[j], rtol=1e-10)]
        if start:
            fail(f"{names[start[0]]} returned {got[start[0]]:.6g}: at epoch 0 the schedule must be exactly lr0.")
        if end:
            fail(f"{names[end[0]]} returned {got[end[0]]:.6g}: at epoch t_max the schedule must be exactly eta_min.")
        if mid:
            fail(f"{names[mid[0]]} returned {got[mid[0]]:.6g}: halfway (epoch = t_max / 2) the schedule is exactly "
                 "halfway, (lr0 + eta_min) / 2. Both end points are right: check the shape, (1 + cos) / 2 over "
                 "half a period.")
        fail(f"{example}. The end points and the midpoint are right, but the curve between them is not "
             "(1 + cos(pi e / t_max)) / 2 of the way from eta_min to lr0.")
    for out, what, expected in zip(outs, names, ref):
        expect_scalar(out, expected, what, rtol=1e-10, atol=1e-12)  # the dtype (float32 loses digits)
    return "matches the cosine schedule at 15 epochs of three schedules, with and without a floor eta_min"


# --------------------------------------------------------------------------- opt_weight_decay_grads


def _decayed_reference(params: dict, grads: dict, weight_decay: float) -> dict:
    """grads + weight_decay * W for the weights, biases untouched: read off one SGD step with lr = 1."""
    moved = {k: p.copy() for k, p in params.items()}
    SGD(lr=1.0, weight_decay=weight_decay, no_decay=("b",)).step(moved, grads)
    return {k: params[k] - moved[k] for k in params}


@task("opt_weight_decay_grads", points=1, references=[Optimizer, SGD, RMSProp, Adam, _decayed_reference])
def check_opt_weight_decay_grads(fn):
    """``weight_decay_grads(params, grads, weight_decay) -> new grads dict``; biases (keys "b...") untouched."""
    for seed, sizes, wd in ((0, [4, 5, 3], 0.01), (1, [3, 6, 6, 2], 0.1)):
        net = MLP(sizes, seed=seed, bias_std=0.5)
        rng = np.random.default_rng(seed + 50)
        params = net.params
        grads = {k: rng.standard_normal(p.shape) for k, p in params.items()}
        ref = _decayed_reference(params, grads, wd)
        what = f"weight_decay_grads(params of an MLP{sizes}, grads, weight_decay={wd})"
        out = call(fn, params, grads, wd)
        if out is None:
            fail(f"{what} returned None. Did you forget the `return` statement? Return the new dict of gradients.")
        if not isinstance(out, dict):
            fail(f"{what} must return a dict like grads, got {type(out).__name__}.")
        if set(out) != set(grads):
            fail(f"{what} must return the same keys as grads {sorted(grads)}, got {sorted(out)}.")
        for k in params:  # W1, b1, W2, ...: the first weight is judged before the first bias
            g, p = grads[k], params[k]
            weight = k.startswith("W")
            _expect(out[k], ref[k], f"{what}[{k!r}]", rtol=1e-10, atol=1e-12, mistakes={
                "weight decay was applied to a bias: only weights (keys starting with 'W') are decayed; a bias "
                "does not multiply the input, and shrinking it only hurts the fit":
                    g + wd * p if not weight else None,
                "weight decay (with the wrong sign) was applied to a bias: biases keep their gradient":
                    g - wd * p if not weight else None,
                "weight decay was applied to a bias (as a factor (1 - weight_decay)): biases keep their gradient":
                    g * (1 - wd) if not weight else None,
                "the sign is wrong: the penalty (wd/2)|W|^2 has gradient + wd * W (it pulls the weights towards "
                "zero, so it is ADDED to the gradient that the update subtracts)":
                    g - wd * p if weight else None,
                "the penalty (wd/2)|W|^2 has gradient wd * W: the 2 of the square cancels the 1/2, so no factor "
                "1/2 remains": g + 0.5 * wd * p if weight else None,
                "the penalty (wd/2)|W|^2 has gradient wd * W, not 2 wd * W: the 1/2 cancels the 2 of the square":
                    g + 2 * wd * p if weight else None,
                "weight decay is missing from this weight's gradient: add weight_decay * W": g if weight else None,
                "you multiplied the gradient by (1 - weight_decay): decay shrinks the WEIGHTS, and in the gradient "
                "it is a term weight_decay * W added to grad": g * (1 - wd) if weight else None,
                "weight_decay multiplies the weight, not the gradient: grad + weight_decay * W":
                    g * (1 + wd) if weight else None,
                "add weight_decay * W (proportional to the weight), not the constant weight_decay":
                    g + wd if weight else None,
                "you returned the decayed weights (1 - weight_decay) * W, not a gradient: return "
                "grad + weight_decay * W": (1 - wd) * p if weight else None,
                "the penalty's gradient is weight_decay * W, not weight_decay * W**2":
                    g + wd * p ** 2 if weight else None,
                f"you used a fixed decay 0.01 instead of the `weight_decay` argument (this call passes {wd:g})":
                    g + 0.01 * p if weight and wd != 0.01 else None,
                "you added the penalty's value (a number), not its gradient weight_decay * W (one entry per weight)":
                    g + 0.5 * wd * np.sum(p ** 2) if weight else None,
                "you added weight_decay times the norm of W (a number), not the gradient weight_decay * W (one "
                "entry per weight)": g + wd * np.linalg.norm(p) if weight else None,
                "the gradient of the loss is missing: return grad + weight_decay * W, not weight_decay * W alone":
                    wd * p if weight else None,
            }, note="Weights (keys 'W...') get grad + weight_decay * W; biases (keys 'b...') keep their gradient.")
    return "weights get grad + wd * w, biases keep their gradient, and nothing is modified in place (2 networks)"


# --------------------------------------------------------------------------- pipe_stage_backward


def _relu_grad(z):
    return (z > 0).astype(np.float64)


def _tanh_grad(z):
    return 1.0 - np.tanh(z) ** 2


def _sigmoid_grad(z):
    s = 1.0 / (1.0 + np.exp(-z))
    return s * (1.0 - s)


_ACT_GRADS = {"tanh": tanh_grad, "relu": relu_grad, "sigmoid": sigmoid_grad}


def _stage_shapes(out, shapes: tuple, what: str) -> None:
    """Hints that only the shapes can give: the order of the results, db's reduction, np.outer."""
    send_shape, dW_shape, db_shape = shapes
    got = tuple(np.shape(o) if isinstance(o, (np.ndarray, np.generic, int, float)) else None for o in out)
    if got != shapes and sorted(map(str, got)) == sorted(map(str, shapes)):
        fail(f"{what} returned arrays of shapes {got}: return (da_send, dW, db), of shapes {shapes}, in that order.")
    n = send_shape[0]
    if got[2] == (n,) and (n,) != db_shape:
        fail(f"db from {what} has shape ({n},), one value per example: you summed over the units (axis=1); "
             "sum delta over the batch, axis=0.")
    if got[2] == (1,) + db_shape:
        fail(f"db from {what} has shape {got[2]}: drop keepdims=True (db is a vector of shape {db_shape}).")
    if got[2] == ():
        fail(f"db from {what} is a single number: sum delta over the batch only (axis=0), one value per unit, "
             f"shape {db_shape}.")
    if got[1] is not None and len(got[1]) == 2 and got[1] == (n * dW_shape[0], n * dW_shape[1]):
        fail(f"dW from {what} has shape {got[1]}: np.outer flattens its inputs. dW = delta.T @ a_received, "
             f"the sum over the batch of each example's outer product, shape {dW_shape}.")


@task("pipe_stage_backward", points=1, references=[MLP.layer_backward, linear_backward, pipeline_loss_and_grads])
def check_pipe_stage_backward(fn):
    """``stage_backward(da, a_received, z, W, act_grad) -> (da_send, dW, db)``.

    The first layer of stage 1 (layer ``split + 1``) of an MLP split after layer ``split``:
    compared with :meth:`MLP.layer_backward`, i.e. with the single-process gradients. The
    first network's boundary layer is square, where a transpose cannot show in the shapes.
    """
    cases = [([5, 6, 6, 3], "tanh", _tanh_grad, 1, 12), ([5, 7, 9, 4, 3], "relu", _relu_grad, 2, 10),
             ([6, 5, 4, 3], "sigmoid", _sigmoid_grad, 1, 8)]
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
        square = W.shape[0] == W.shape[1]
        what = f"stage_backward for layer {l} of an MLP{sizes} ({act}) split after layer {split}, batch {n}"
        out = _unpack(call(fn, da, a_recv, z, W, act_grad), 3, what, "(da_send, dW, db)")
        refs = (ref_send, ref_dW, ref_db)
        for perm in itertools.permutations(range(3)):
            if perm != (0, 1, 2) and all(_close(_as_array(out[j], refs[i].shape), refs[i]) for i, j in enumerate(perm)):
                fail(f"{what}: the values are right but in the wrong order; return (da_send, dW, db).")
        _stage_shapes(out, tuple(r.shape for r in refs), what)
        send = np.asarray(out[0]) if isinstance(out[0], np.ndarray) else out[0]
        if isinstance(send, np.ndarray) and send.shape == delta.shape != ref_send.shape:
            fail(f"da_send from {what} has shape {send.shape}, the shape of delta: stage 0 needs dL/da_{split} = "
                 f"delta @ W, of shape {ref_send.shape} (one value per unit of the activation it sent).")
        # wrong deltas: (hint, delta) -> every result computed from it
        wrong_deltas = [("skips the activation's derivative: first delta = da * act_grad(z)", da)]
        if square:
            wrong_deltas.append(("evaluates f' at a_received, the input stage 0 sent; f' belongs at this layer's "
                                 "pre-activation: delta = da * act_grad(z)", da * act_grad(a_recv)))
        if act == "tanh":
            wrong_deltas.append(("uses 1 - z**2: that is tanh' only in terms of the OUTPUT a = tanh(z) "
                                 "(1 - a**2); use act_grad(z), which is 1 - tanh(z)**2", da * (1 - z ** 2)))
        if act == "sigmoid":
            wrong_deltas.append(("uses z * (1 - z): that is sigma' only in terms of the OUTPUT a = sigma(z), "
                                 "a * (1 - a); use act_grad(z)", da * z * (1 - z)))
        wrong_deltas.append(("recomputes z from a_received @ W.T without the bias b; use the z you are given, the "
                             "cached pre-activation: delta = da * act_grad(z)", da * act_grad(a_recv @ W.T)))
        for other, other_grad in _ACT_GRADS.items():
            if other != act:
                wrong_deltas.append((f"hard-codes the derivative of {other}; use the act_grad you are given (this "
                                     f"network's activation is {act})", da * other_grad(z)))
        send_mistakes = {f"da_send {h}": d @ W for h, d in wrong_deltas}
        dW_mistakes = {f"dW {h}": d.T @ a_recv for h, d in wrong_deltas}
        db_mistakes = {f"db {h}": d.sum(axis=0) for h, d in wrong_deltas}
        send_mistakes.update({
            f"da_send is delta itself (dL/dz); stage 0 needs dL/da_{split} = delta @ W": delta,
            "da_send = delta @ W.T: W has shape (n_out, n_in) and z = a_received @ W.T + b, so dL/da_received = "
            "delta @ W (no transpose; for a square W the shapes cannot tell)": delta @ W.T if square else None,
            "da_send was divided by the batch size again; the 1/N of the mean loss is already in da": ref_send / n,
            "da_send must not include stage 0's activation derivative: stage 0 applies its own f' when it "
            "continues the backward pass; send delta @ W": ref_send * act_grad(a_recv),
        })
        dW_mistakes.update({
            "dW was averaged over the batch again; the 1/N is already in da (sum over the batch)": ref_dW / n,
            "dW = delta.T @ a_received uses the layer's INPUT, the activation stage 0 sent, not the "
            "pre-activation z": delta.T @ z if z.shape == a_recv.shape else None,
        })
        db_mistakes.update({
            "db is the SUM of delta over the batch, not the mean (the 1/N is already in da)": ref_db / n,
        })
        _expect(out[0], ref_send, f"da_send from {what}", rtol=1e-9, atol=1e-12, mistakes=send_mistakes,
                note="da_send = delta @ W with delta = da * act_grad(z).")
        _expect(out[1], ref_dW, f"dW from {what}", rtol=1e-9, atol=1e-12, mistakes=dW_mistakes,
                note="dW = delta.T @ a_received (shape of W), with delta = da * act_grad(z).")
        _expect(out[2], ref_db, f"db from {what}", rtol=1e-9, atol=1e-12, mistakes=db_mistakes,
                note="db = delta.sum(axis=0), with delta = da * act_grad(z).")
        full = net.loss_and_grads(X, y)[1]
        assert np.allclose(full[f"W{l}"], ref_dW)  # the split computes exactly the single-process gradient
    return ("da_send, dW and db equal the single-process backprop for a tanh, a ReLU and a sigmoid network split "
            "in two stages")
