"""Realistic answers to exercises/06_beyond_sgd.ipynb (see tests/answers/__init__.py)."""

from . import Answer

EXERCISE = "06_beyond_sgd"

MOMENTUM = [
    # ---------------------------------------------------------------- wrong
    Answer("opt_momentum_step", "raw gradient in the update", """
def momentum_step(w, grad, velocity, lr, momentum):
    velocity_new = momentum * velocity + grad
    return w - lr * grad, velocity_new
""", "the update used the raw gradient, not the velocity"),
    Answer("opt_momentum_step", "damped velocity (Andrew Ng's exponential average)", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + (1 - momentum) * grad
    return w - lr * v, v
""", "you averaged"),
    Answer("opt_momentum_step", "damped velocity with lr inside", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + (1 - momentum) * lr * grad
    return w - v, v
""", "you averaged"),
    Answer("opt_momentum_step", "ignores the velocity it is given", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = np.zeros_like(w)
    v = momentum * v + grad
    return w - lr * v, v
""", "not carried over"),
    Answer("opt_momentum_step", "updates the velocity in place", """
def momentum_step(w, grad, velocity, lr, momentum):
    velocity *= momentum
    velocity += grad
    return w - lr * velocity, velocity
""", "in place"),
    Answer("opt_momentum_step", "updates w with the old velocity (wrong order of the two lines)", """
def momentum_step(w, grad, velocity, lr, momentum):
    w_new = w - lr * velocity
    velocity_new = momentum * velocity + grad
    return w_new, velocity_new
""", "the update used the velocity you were given"),
    Answer("opt_momentum_step", "lr inside the velocity and again in the update", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + lr * grad
    return w - lr * v, v
""", "lr was applied twice"),
    Answer("opt_momentum_step", "CS231n velocity with PyTorch's minus sign in the update", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity - lr * grad
    return w - v, v
""", "CS231n's convention"),
    Answer("opt_momentum_step", "PyTorch velocity, update forgets lr", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + grad
    return w - v, v
""", "the learning rate is missing"),
    Answer("opt_momentum_step", "PyTorch velocity, step uphill", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + grad
    return w + lr * v, v
""", "uphill"),
    Answer("opt_momentum_step", "Nesterov instead of classical momentum", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + grad
    return w - lr * (grad + momentum * v), v
""", "Nesterov"),
    Answer("opt_momentum_step", "momentum multiplies the gradient", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = velocity + momentum * grad
    return w - lr * v, v
""", "momentum multiplies the velocity you are given, not the gradient"),
    Answer("opt_momentum_step", "returns (velocity, w)", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + grad
    return v, w - lr * v
""", "in the order (w_new, velocity_new)"),
    Answer("opt_momentum_step", "returns only w", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + grad
    return w - lr * v
""", "must return a tuple (w_new, velocity_new)"),
    Answer("opt_momentum_step", "the library's SGD", """
from backprop_lib.optim import SGD

def momentum_step(w, grad, velocity, lr, momentum):
    opt = SGD(lr=lr, momentum=momentum)
    params = {"w": w.copy()}
    if np.any(velocity):
        opt.state["w"] = {"momentum_buffer": velocity.copy()}
    opt.step(params, {"w": grad})
    return params["w"], opt.state["w"]["momentum_buffer"].copy()
""", "reference implementation"),
    Answer("opt_momentum_step", "float32 arithmetic", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = (momentum * velocity + grad).astype(np.float32)
    return (w - lr * v).astype(np.float32), v
""", "float32"),
    # ---------------------------------------------------------------- correct alternatives
    Answer("opt_momentum_step", "lr inside the velocity (Ruder's overview)", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + lr * grad
    return w - v, v
""", None),
    Answer("opt_momentum_step", "CS231n convention", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity - lr * grad
    return w + v, v
""", None),
    Answer("opt_momentum_step", "minus sign, lr in the update", """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity - grad
    return w + lr * v, v
""", None),
    Answer("opt_momentum_step", "other names, explicit copies, a loop over the entries", """
def momentum_step(params, g, buf, eta, mu):
    new_buf = np.empty_like(buf)
    for i in np.ndindex(buf.shape):
        new_buf[i] = mu * buf[i] + g[i]
    return params.copy() - eta * new_buf, new_buf
""", None),
    Answer("opt_momentum_step", 'momentum scales the sum of velocity and gradient', """
def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * (velocity + grad)
    return w - lr * v, v
""", 'momentum multiplies the velocity you are given'),
    Answer("opt_momentum_step", 'momentum hard-coded to 0.9', """
def momentum_step(w, grad, velocity, lr, momentum):
    v = 0.9 * velocity + grad
    return w - lr * v, v
""", 'instead of the `momentum` argument'),
]

ADAM = [
    # ---------------------------------------------------------------- wrong
    Answer("opt_adam_step", "returns the bias-corrected moments as the state", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m = m / (1 - beta1**t)
    v = v / (1 - beta2**t)
    return w - lr * m / (np.sqrt(v) + eps), m, v
""", "you returned the bias-corrected m_hat as the state"),
    Answer("opt_adam_step", "no bias correction", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * m / (np.sqrt(v) + eps), m, v
""", "missing bias correction"),
    Answer("opt_adam_step", "bias correction with t + 1 (steps counted from 0)", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", "uses t + 1"),
    Answer("opt_adam_step", "bias correction with t - 1", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**(t - 1))
    v_hat = v / (1 - beta2**(t - 1))
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", "uses t - 1"),
    Answer("opt_adam_step", "eps inside the square root", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), m, v
""", "eps goes outside the square root"),
    Answer("opt_adam_step", "eps added to the step (missing parentheses)", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / np.sqrt(v_hat) + eps, m, v
""", "eps was added to the step"),
    Answer("opt_adam_step", "raw gradient instead of m_hat", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * grad / (np.sqrt(v / (1 - beta2**t)) + eps), m, v
""", "raw gradient instead of the moment estimate"),
    Answer("opt_adam_step", "v averages grad, not grad**2", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(np.abs(v_hat)) + eps), m, v
""", "SQUARED gradient"),
    Answer("opt_adam_step", "moments restart from zero every step", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = (1 - beta1) * grad
    v = (1 - beta2) * grad**2
    return w - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v
""", "not carried over"),
    Answer("opt_adam_step", "betas swapped", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta2 * m + (1 - beta2) * grad
    v = beta1 * v + (1 - beta1) * grad**2
    m_hat = m / (1 - beta2**t)
    v_hat = v / (1 - beta1**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", "beta1 and beta2 are swapped"),
    Answer("opt_adam_step", "update computed before the moments (old m, v)", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    w_new = w - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w_new, m, v
""", "the moments you were given"),
    Answer("opt_adam_step", "operator precedence in the bias correction", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / 1 - beta1**t
    v_hat = v / 1 - beta2**t
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", "`v_new / 1 - beta2**t`"),
    Answer("opt_adam_step", "paper's efficient form with eps on sqrt(v)", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return w - lr_t * m / (np.sqrt(v) + eps), m, v
""", "before the bias correction"),
    Answer("opt_adam_step", "(1 - beta)**t instead of 1 - beta**t", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1)**t
    v_hat = v / (1 - beta2)**t
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", "the power applies to beta only"),
    Answer("opt_adam_step", "grad * 2 instead of grad**2", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * 2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(np.abs(v_hat)) + eps), m, v
""", "`grad * 2` doubles it"),
    Answer("opt_adam_step", "returns (w, v, m)", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), v, m
""", "m_new and v_new are swapped"),
    Answer("opt_adam_step", "the library's Adam", """
from backprop_lib.optim import Adam

def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    opt = Adam(lr=lr, betas=(beta1, beta2), eps=eps)
    opt.state["w"] = {"step": t - 1, "exp_avg": m.copy(), "exp_avg_sq": v.copy()}
    params = {"w": w.copy()}
    opt.step(params, {"w": grad})
    return params["w"], opt.state["w"]["exp_avg"], opt.state["w"]["exp_avg_sq"]
""", "reference implementation"),
    # ---------------------------------------------------------------- correct alternatives
    Answer("opt_adam_step", "torch's form: sqrt(v) / sqrt(1 - beta2**t) + eps", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    denom = np.sqrt(v_new) / np.sqrt(1 - beta2**t) + eps
    return w - (lr / (1 - beta1**t)) * (m_new / denom), m_new, v_new
""", None),
    Answer("opt_adam_step", "paper's efficient form with eps_hat = eps * sqrt(1 - beta2**t)", """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return w - lr_t * m / (np.sqrt(v) + eps * np.sqrt(1 - beta2**t)), m, v
""", None),
    Answer("opt_adam_step", "math module, other names, interpolation form of the averages", """
import math

def adam_step(theta, g, m1, m2, step, lr=1e-3, b1=0.9, b2=0.999, epsilon=1e-8):
    m1 = m1 + (1 - b1) * (g - m1)
    m2 = m2 + (1 - b2) * (np.square(g) - m2)
    m1_hat = m1 / (1 - math.pow(b1, step))
    m2_hat = m2 / (1 - math.pow(b2, step))
    return theta - lr * m1_hat / (np.sqrt(m2_hat) + epsilon), m1, m2
""", None),
    Answer("opt_adam_step", 'm_hat corrected with beta2', """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta2**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", 'm_hat is corrected with beta2'),
    Answer("opt_adam_step", 'no square root in the denominator', """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (v_hat + eps), m, v
""", 'the square root is missing'),
    Answer("opt_adam_step", 'eps hard-coded to 1e-8', """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + 1e-8), m, v
""", 'instead of the `eps` argument'),
    Answer("opt_adam_step", 'betas hard-coded to 0.9 and 0.999', """
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = 0.9 * m + 0.1 * grad
    v = 0.999 * v + 0.001 * grad**2
    m_hat = m / (1 - 0.9**t)
    v_hat = v / (1 - 0.999**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", 'instead of the `beta1` argument'),
]

COSINE = [
    # ---------------------------------------------------------------- wrong
    Answer("opt_cosine_lr", "forgot the factor 1/2", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / t_max))
""", "forgot the factor 1/2"),
    Answer("opt_cosine_lr", "off by one: t_max - 1", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / (t_max - 1)))
""", "t_max - 1"),
    Answer("opt_cosine_lr", "off by one: t_max + 1 (counting the epochs)", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    n_epochs = t_max + 1
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / n_epochs))
""", "never reaches eta_min"),
    Answer("opt_cosine_lr", "off by one: epoch + 1", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * (epoch + 1) / t_max))
""", "epoch + 1"),
    Answer("opt_cosine_lr", "full period", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(2 * np.pi * epoch / t_max))
""", "HALF a period"),
    Answer("opt_cosine_lr", "quarter period: hits the end points, not flat at the end", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * np.cos(np.pi / 2 * epoch / t_max)
""", "quarter period"),
    Answer("opt_cosine_lr", "cos rescaled as if it ran from 1 to 0", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * np.cos(np.pi * epoch / t_max)
""", "as if it ran from 1 to 0"),
    Answer("opt_cosine_lr", "amplitude lr0 instead of lr0 - eta_min", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + lr0 * (1 + np.cos(np.pi * epoch / t_max)) / 2
""", "the amplitude is lr0 - eta_min"),
    Answer("opt_cosine_lr", "floor eta_min ignored", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return lr0 * (1 + np.cos(np.pi * epoch / t_max)) / 2
""", "floor"),
    Answer("opt_cosine_lr", "reversed: 1 - cos", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 - np.cos(np.pi * epoch / t_max))
""", "reversed"),
    Answer("opt_cosine_lr", "forgot pi", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(epoch / t_max))
""", "forgot pi"),
    Answer("opt_cosine_lr", "degrees", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(180 * epoch / t_max))
""", "radians"),
    Answer("opt_cosine_lr", "linear decay", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return lr0 - (lr0 - eta_min) * epoch / t_max
""", "straight line"),
    Answer("opt_cosine_lr", "floor division in the angle", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * epoch // t_max))
""", "floor division"),
    Answer("opt_cosine_lr", "cos squared of the full angle", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * np.cos(np.pi * epoch / t_max) ** 2
""", "HALF a period"),
    Answer("opt_cosine_lr", "the library's cosine_schedule", """
from backprop_lib.optim import cosine_schedule as my_schedule

def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return my_schedule(lr0, epoch, t_max, eta_min)
""", "reference implementation"),
    Answer("opt_cosine_lr", "the library's cosine_schedule, aliased", """
from backprop_lib.optim import cosine_schedule
cosine_lr = cosine_schedule
""", "reference implementation"),
    Answer("opt_cosine_lr", "float32", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return np.float32(eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / t_max)))
""", "float32"),
    # ---------------------------------------------------------------- correct alternatives
    Answer("opt_cosine_lr", "cos squared of the half angle (math module)", """
import math

def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * math.cos(math.pi * epoch / (2 * t_max)) ** 2
""", None),
    Answer("opt_cosine_lr", "interpolation between the end points", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    s = 0.5 * (1 + np.cos(np.pi * epoch / t_max))
    return s * lr0 + (1 - s) * eta_min
""", None),
    Answer("opt_cosine_lr", "derived step by step", """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    theta = np.pi * epoch / t_max          # 0 .. pi
    s = (np.cos(theta) + 1) / 2            # 1 .. 0
    return float(lr0 - (1 - s) * (lr0 - eta_min))
""", None),
    Answer("opt_cosine_lr", 'lr0 * s + eta_min', """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    s = 0.5 * (1 + np.cos(np.pi * epoch / t_max))
    return lr0 * s + eta_min
""", 'the amplitude is lr0 - eta_min'),
    Answer("opt_cosine_lr", 'pi written as 3.14', """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(3.14 * epoch / t_max))
""", 'use np.pi'),
    Answer("opt_cosine_lr", 'pi written as 3.14159', """
def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(3.14159 * epoch / t_max))
""", 'use np.pi'),
]

WEIGHT_DECAY = [
    # ---------------------------------------------------------------- wrong
    Answer("opt_weight_decay_grads", "decays the biases too", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g + weight_decay * params[k] for k, g in grads.items()}
""", "applied to a bias"),
    Answer("opt_weight_decay_grads", "wrong sign", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g - weight_decay * params[k] if k.startswith("W") else g for k, g in grads.items()}
""", "the sign is wrong"),
    Answer("opt_weight_decay_grads", "gradient times (1 - wd)", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g * (1 - weight_decay) if k.startswith("W") else g for k, g in grads.items()}
""", "you multiplied the gradient by (1 - weight_decay)"),
    Answer("opt_weight_decay_grads", "gradient times (1 - wd) on every key", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g * (1 - weight_decay) for k, g in grads.items()}
""", "you multiplied the gradient by (1 - weight_decay)"),
    Answer("opt_weight_decay_grads", "factor 1/2 kept from the penalty", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g + weight_decay / 2 * params[k] if k.startswith("W") else g for k, g in grads.items()}
""", "no factor 1/2 remains"),
    Answer("opt_weight_decay_grads", "derivative of |W|^2 without the 1/2", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g + 2 * weight_decay * params[k] if k.startswith("W") else g for k, g in grads.items()}
""", "not 2 wd * W"),
    Answer("opt_weight_decay_grads", "adds the constant weight_decay", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g + weight_decay if k.startswith("W") else g for k, g in grads.items()}
""", "not the constant weight_decay"),
    Answer("opt_weight_decay_grads", "decays the gradient, not the weight", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g + weight_decay * g if k.startswith("W") else g for k, g in grads.items()}
""", "multiplies the weight, not the gradient"),
    Answer("opt_weight_decay_grads", "returns the decayed weights", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: (1 - weight_decay) * params[k] if k.startswith("W") else g for k, g in grads.items()}
""", "you returned the decayed weights"),
    Answer("opt_weight_decay_grads", "adds the penalty's value", """
def weight_decay_grads(params, grads, weight_decay):
    out = {}
    for k, g in grads.items():
        out[k] = g + 0.5 * weight_decay * np.sum(params[k] ** 2) if k.startswith("W") else g
    return out
""", "the penalty's value"),
    Answer("opt_weight_decay_grads", "forgets the loss gradient", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: weight_decay * params[k] if k.startswith("W") else grads[k] for k in grads}
""", "the gradient of the loss is missing"),
    Answer("opt_weight_decay_grads", "inverted condition: decays the biases, not the weights", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g + weight_decay * params[k] if k.startswith("b") else g for k, g in grads.items()}
""", "weight decay is missing from this weight's gradient"),
    Answer("opt_weight_decay_grads", "mutates grads in place", """
def weight_decay_grads(params, grads, weight_decay):
    for k in grads:
        if k.startswith("W"):
            grads[k] += weight_decay * params[k]
    return grads
""", "in place"),
    Answer("opt_weight_decay_grads", "forgets the biases in the result", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: g + weight_decay * params[k] for k, g in grads.items() if k.startswith("W")}
""", "must return the same keys"),
    Answer("opt_weight_decay_grads", "reads the decay off the library's SGD", """
from backprop_lib.optim import SGD

def weight_decay_grads(params, grads, weight_decay):
    moved = {k: p.copy() for k, p in params.items()}
    SGD(lr=1.0, weight_decay=weight_decay, no_decay=("b",)).step(moved, grads)
    return {k: params[k] - moved[k] for k in params}
""", "reference implementation"),
    # ---------------------------------------------------------------- correct alternatives
    Answer("opt_weight_decay_grads", "weights recognised by ndim, a loop", """
def weight_decay_grads(params, grads, weight_decay):
    new = {}
    for name, g in grads.items():
        if params[name].ndim == 2:
            new[name] = g + weight_decay * params[name]
        else:
            new[name] = g
    return new
""", None),
    Answer("opt_weight_decay_grads", "copy of the dict, then rebinding", """
def weight_decay_grads(params, grads, weight_decay):
    new = dict(grads)
    for name in new:
        if not name.startswith("b"):
            new[name] = new[name] + weight_decay * params[name]
    return new
""", None),
    Answer("opt_weight_decay_grads", "ok: 'W' in the key", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: grads[k] + weight_decay * params[k] if "W" in k else grads[k] for k in grads}
""", None),
    Answer("opt_weight_decay_grads", "penalty's gradient taken as wd * W**2", """
def weight_decay_grads(params, grads, weight_decay):
    return {k: grads[k] + weight_decay * params[k] ** 2 if k.startswith("W") else grads[k] for k in grads}
""", 'not weight_decay * W**2'),
    Answer("opt_weight_decay_grads", 'decay hard-coded to 0.01', """
def weight_decay_grads(params, grads, weight_decay):
    return {k: grads[k] + 0.01 * params[k] if k.startswith("W") else grads[k] for k in grads}
""", 'instead of the `weight_decay` argument'),
]

STAGE = [
    # ---------------------------------------------------------------- wrong
    Answer("pipe_stage_backward", "skips the activation's derivative", """
def stage_backward(da, a_received, z, W, act_grad):
    return da @ W, da.T @ a_received, da.sum(axis=0)
""", "skips the activation's derivative"),
    Answer("pipe_stage_backward", "sends delta instead of delta @ W", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta, delta.T @ a_received, delta.sum(axis=0)
""", "stage 0 needs dL/da_"),
    Answer("pipe_stage_backward", "delta @ W.T", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W.T, delta.T @ a_received, delta.sum(axis=0)
""", "no transpose"),
    Answer("pipe_stage_backward", "a_received.T @ delta", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W, a_received.T @ delta, delta.sum(axis=0)
""", "transpose"),
    Answer("pipe_stage_backward", "mean instead of sum for db", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W, delta.T @ a_received, delta.mean(axis=0)
""", "SUM of delta over the batch"),
    Answer("pipe_stage_backward", "averages dW again", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    N = da.shape[0]
    return delta @ W, delta.T @ a_received / N, delta.sum(axis=0)
""", "averaged over the batch again"),
    Answer("pipe_stage_backward", "db summed over the units", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W, delta.T @ a_received, delta.sum(axis=1)
""", "you summed over the units"),
    Answer("pipe_stage_backward", "db with keepdims", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W, delta.T @ a_received, delta.sum(axis=0, keepdims=True)
""", "keepdims"),
    Answer("pipe_stage_backward", "f' evaluated at the received activation", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(a_received)
    return delta @ W, delta.T @ a_received, delta.sum(axis=0)
""", "evaluates f' at a_received"),
    Answer("pipe_stage_backward", "tanh derivative written as 1 - z**2", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * (1 - z ** 2)
    return delta @ W, delta.T @ a_received, delta.sum(axis=0)
""", "1 - z**2"),
    Answer("pipe_stage_backward", "hard-coded tanh derivative", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * (1 - np.tanh(z) ** 2)
    return delta @ W, delta.T @ a_received, delta.sum(axis=0)
""", "hard-codes the derivative of tanh"),
    Answer("pipe_stage_backward", "applies stage 0's derivative to what it sends", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return (delta @ W) * act_grad(a_received), delta.T @ a_received, delta.sum(axis=0)
""", "stage 0's activation derivative"),
    Answer("pipe_stage_backward", "wrong order of the results", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta.T @ a_received, delta.sum(axis=0), delta @ W
""", "in the wrong order"),
    Answer("pipe_stage_backward", "np.outer for dW", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W, np.outer(delta, a_received), delta.sum(axis=0)
""", "np.outer"),
    Answer("pipe_stage_backward", "the library's linear_backward", """
from backprop_lib.layers import linear_backward

def stage_backward(da, a_received, z, W, act_grad):
    return linear_backward(da * act_grad(z), (a_received, W))
""", "reference implementation"),
    # ---------------------------------------------------------------- correct alternatives
    Answer("pipe_stage_backward", "db from da (the derivative forgotten in one place)", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W, delta.T @ a_received, da.sum(axis=0)
""", "db skips the activation's derivative"),
    Answer("pipe_stage_backward", "einsum and a loop over the batch", """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    dW = np.zeros_like(W)
    for n in range(delta.shape[0]):
        dW += np.outer(delta[n], a_received[n])
    return np.einsum("nj,ji->ni", delta, W), dW, np.sum(delta, axis=0)
""", None),
    Answer("pipe_stage_backward", "np.multiply and .dot, positional sum", """
def stage_backward(da, a_received, z, W, act_grad):
    dz = np.multiply(da, act_grad(z))
    return dz.dot(W), dz.T.dot(a_received), dz.sum(0)
""", None),
    Answer("pipe_stage_backward", 'dW from the pre-activation z', """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W, delta.T @ z, delta.sum(axis=0)
""", 'not the pre-activation z'),
    Answer("pipe_stage_backward", 'z recomputed without the bias', """
def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(a_received @ W.T)
    return delta @ W, delta.T @ a_received, delta.sum(axis=0)
""", 'without the bias b'),
    Answer("pipe_stage_backward", 'ok: np.multiply, np.dot and np.sum, a list', """
def stage_backward(da, a_received, z, W, act_grad):
    delta = np.multiply(da, act_grad(z))
    return [np.dot(delta, W), np.dot(delta.T, a_received), np.sum(delta, axis=0)]
""", None),
]

ANSWERS = MOMENTUM + ADAM + COSINE + WEIGHT_DECAY + STAGE
