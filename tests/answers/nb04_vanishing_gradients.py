"""Realistic answers to exercises/04_vanishing_gradients.ipynb (see tests/answers/__init__.py)."""

from . import Answer

EXERCISE = "04_vanishing_gradients"

REFERENCE = "calls the library's reference implementation"

# The correct cell of per_layer_grad_norms (not a row of its own); the rows one edit away from it derive from it.
_PER_LAYER_GRAD_NORMS_OK = """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    L = len(weights)
    norms = np.zeros(L)
    delta = delta_out
    for l in range(L, 0, -1):
        norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])
        if l > 1:
            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])
    return norms
"""

# The correct cell of batchnorm_backward (not a row of its own); the rows one edit away from it derive from it.
_BATCHNORM_BACKWARD_OK = """
def batchnorm_backward(dout, x, gamma, eps):
    N = x.shape[0]
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * inv_std
    g = dout * gamma
    dx = inv_std / N * (N * g - g.sum(axis=0) - xhat * np.sum(g * xhat, axis=0))
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)
"""

ANSWERS = [
    # ------------------------------------------------------------------ sigmoid_chain_bound
    Answer("sigmoid_chain_bound", "sigma(0) = 1/2 taken as the largest slope", """
def sigmoid_chain_bound(weights, activation):
    max_slope = 0.5 if activation == "sigmoid" else 1.0
    return float(np.prod(np.abs(weights)) * max_slope ** len(weights))
""", "1/2 is sigma(0), the value, not the slope"),
    Answer("sigmoid_chain_bound", "no absolute value of the weights", """
def sigmoid_chain_bound(weights, activation):
    max_slope = 0.25 if activation == "sigmoid" else 1.0
    return float(np.prod(weights) * max_slope ** len(weights))
""", "use |w_l|"),
    Answer("sigmoid_chain_bound", "only the weights, no f' factor", """
def sigmoid_chain_bound(weights, activation):
    return float(np.prod(np.abs(weights)))
""", "you left out f'(z_l)"),
    Answer("sigmoid_chain_bound", "1/4 for every activation", """
def sigmoid_chain_bound(weights, activation):
    return float(np.prod(np.abs(weights)) * 0.25 ** len(weights))
""", "tanh'(z) = 1 - tanh(z)^2 is at most 1"),
    Answer("sigmoid_chain_bound", "the largest slope once, not per layer", """
def sigmoid_chain_bound(weights, activation):
    max_slope = 0.25 if activation == "sigmoid" else 1.0
    return float(np.prod(np.abs(weights)) * max_slope)
""", "not once"),
    Answer("sigmoid_chain_bound", "exponent L - 1 (thinks the output layer has no slope)", """
def sigmoid_chain_bound(weights, activation):
    max_slope = 0.25 if activation == "sigmoid" else 1.0
    return float(np.prod(np.abs(weights)) * max_slope ** (len(weights) - 1))
""", "not L - 1"),
    Answer("sigmoid_chain_bound", "sums the per-layer factors", """
def sigmoid_chain_bound(weights, activation):
    max_slope = 0.25 if activation == "sigmoid" else 1.0
    return float(sum(abs(w) * max_slope for w in weights))
""", "you added them"),
    Answer("sigmoid_chain_bound", "squares the factors (variance argument)", """
def sigmoid_chain_bound(weights, activation):
    max_slope = 0.25 if activation == "sigmoid" else 1.0
    return float(np.prod(np.asarray(weights) ** 2) * max_slope ** (2 * len(weights)))
""", "you squared the factors"),
    Answer("sigmoid_chain_bound", "largest weight to the power L", """
def sigmoid_chain_bound(weights, activation):
    max_slope = 0.25 if activation == "sigmoid" else 1.0
    return float((np.max(np.abs(weights)) * max_slope) ** len(weights))
""", "AN upper bound"),
    Answer("sigmoid_chain_bound", "the derivative for input 1 and zero biases", """
def sigmoid_chain_bound(weights, activation):
    f = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: max(z, 0.0)}[activation]
    df = {"sigmoid": lambda z: f(z) * (1 - f(z)), "tanh": lambda z: 1 - np.tanh(z) ** 2,
          "relu": lambda z: float(z > 0)}[activation]
    a, grad = 1.0, 1.0
    for w in weights:
        z = w * a
        grad *= w * df(z)
        a = f(z)
    return float(abs(grad))
""", "one particular input"),
    Answer("sigmoid_chain_bound", "ReLU's average slope 1/2 (He's argument)", """
def sigmoid_chain_bound(weights, activation):
    max_slope = {"sigmoid": 0.25, "tanh": 1.0, "relu": 0.5}[activation]
    return float(np.prod(np.abs(weights)) * max_slope ** len(weights))
""", "AVERAGE slope"),
    Answer("sigmoid_chain_bound", "ReLU falls into the sigmoid's branch", """
def sigmoid_chain_bound(weights, activation):
    max_slope = 1.0 if activation == "tanh" else 0.25
    return float(np.prod(np.abs(weights)) * max_slope ** len(weights))
""", "you used the sigmoid's 1/4 for 'relu'"),
    Answer("sigmoid_chain_bound", "the sigmoid's largest slope found on a coarse grid", """
def sigmoid_chain_bound(weights, activation):
    z = np.linspace(-6, 6, 1000)
    s = 1 / (1 + np.exp(-z))
    slopes = {"sigmoid": np.max(s * (1 - s)), "tanh": np.max(1 - np.tanh(z) ** 2), "relu": 1.0}
    return float(np.prod(np.abs(weights)) * slopes[activation] ** len(weights))
""", "found numerically"),
    Answer("sigmoid_chain_bound", "float32 weights", """
def sigmoid_chain_bound(weights, activation):
    w = np.asarray(weights, dtype=np.float32)
    max_slope = np.float32(0.25 if activation == "sigmoid" else 1.0)
    return np.prod(np.abs(w)) * max_slope ** len(w)
""", "float32"),
    Answer("sigmoid_chain_bound", "the library's chain_derivative_bound", """
from backprop_lib.diagnostics import chain_derivative_bound

def sigmoid_chain_bound(weights, activation):
    if activation == "relu":
        return float(np.prod(np.abs(weights)))
    return chain_derivative_bound(weights, activation)
""", REFERENCE),
    Answer("sigmoid_chain_bound", "the library's function under the task's name", """
from backprop_lib.diagnostics import chain_derivative_bound as sigmoid_chain_bound
""", REFERENCE),
    Answer("sigmoid_chain_bound", "the library's derivative_max for the slope", """
from backprop_lib import diagnostics

def sigmoid_chain_bound(weights, activation):
    return float(np.prod(np.abs(weights)) * diagnostics.derivative_max(activation) ** len(weights))
""", REFERENCE),
    Answer("sigmoid_chain_bound", "a loop and a dict of slopes", """
SLOPES = {"sigmoid": 1 / 4, "tanh": 1.0, "relu": 1.0}

def sigmoid_chain_bound(weights, activation):
    bound = 1.0
    for w in weights:
        bound *= abs(w) * SLOPES[activation]
    return bound
""", None),
    Answer("sigmoid_chain_bound", "the sigmoid's slope at 0 from the library's activations, in log space", """
from backprop_lib.activations import sigmoid_grad

def sigmoid_chain_bound(weights, activation):
    slope = float(sigmoid_grad(0.0)) if activation == "sigmoid" else 1.0
    return float(np.exp(np.sum(np.log(np.abs(weights))) + len(weights) * np.log(slope)))
""", None),
    Answer("sigmoid_chain_bound", "sigma(0)(1 - sigma(0)) computed, if/elif", """
def sigmoid_chain_bound(w, act):
    if act == "sigmoid":
        s = 1 / (1 + np.exp(-0.0))
        m = s * (1 - s)
    elif act in ("tanh", "relu"):
        m = 1.0
    return np.abs(w).prod() * m ** w.shape[0]
""", None),

    Answer("sigmoid_chain_bound", 'the largest weight once', """
def sigmoid_chain_bound(weights, activation):
    slope = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0}[activation]
    return float(np.max(np.abs(weights)) * slope)
""", 'you used only the largest weight, once'),
    Answer("sigmoid_chain_bound", 'ok: product of the per-layer factors', """
def sigmoid_chain_bound(weights, activation):
    slope = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0}[activation]
    return float(np.prod(np.abs(weights) * slope))
""", None),
    # ------------------------------------------------------------------ scaled_init
    Answer("scaled_init", "variance used as the std", """
def scaled_init(kind, n_in, n_out, rng):
    var = 2.0 / (n_in + n_out) if kind == "xavier" else 2.0 / n_in
    return var * rng.standard_normal((n_out, n_in))
""", "you used the variance where the standard deviation is needed"),
    Answer("scaled_init", "rng.normal given the variance as scale", """
def scaled_init(kind, n_in, n_out, rng):
    var = 2.0 / (n_in + n_out) if kind == "xavier" else 2.0 / n_in
    return rng.normal(0.0, var, size=(n_out, n_in))
""", "takes the standard deviation as `scale`"),
    Answer("scaled_init", "He with fan_out", """
def scaled_init(kind, n_in, n_out, rng):
    var = 2.0 / (n_in + n_out) if kind == "xavier" else 2.0 / n_out
    return np.sqrt(var) * rng.standard_normal((n_out, n_in))
""", "fan_in and fan_out are swapped"),
    Answer("scaled_init", "Xavier without the 2", """
def scaled_init(kind, n_in, n_out, rng):
    var = 1.0 / (n_in + n_out) if kind == "xavier" else 2.0 / n_in
    return np.sqrt(var) * rng.standard_normal((n_out, n_in))
""", "with the 2"),
    Answer("scaled_init", "He without the 2 (LeCun)", """
def scaled_init(kind, n_in, n_out, rng):
    var = 2.0 / (n_in + n_out) if kind == "xavier" else 1.0 / n_in
    return np.sqrt(var) * rng.standard_normal((n_out, n_in))
""", "He has a 2 in the numerator"),
    Answer("scaled_init", "Glorot's uniform distribution (right variance)", """
def scaled_init(kind, n_in, n_out, rng):
    fan = (n_in + n_out) / 2 if kind == "xavier" else n_in / 2
    limit = np.sqrt(3.0 / fan)
    return rng.uniform(-limit, limit, size=(n_out, n_in))
""", "looks UNIFORM"),
    Answer("scaled_init", "the uniform half-width used as the normal's std", """
def scaled_init(kind, n_in, n_out, rng):
    limit = np.sqrt(6 / (n_in + n_out)) if kind == "xavier" else np.sqrt(6 / n_in)
    return rng.normal(0, limit, size=(n_out, n_in))
""", "half-width a of Glorot's UNIFORM"),
    Answer("scaled_init", "clipped normal", """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(2 / (n_in + n_out)) if kind == "xavier" else np.sqrt(2 / n_in)
    return std * np.clip(rng.standard_normal((n_out, n_in)), -2, 2)
""", "were clipped"),
    Answer("scaled_init", "truncated normal by resampling", """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(2 / (n_in + n_out)) if kind == "xavier" else np.sqrt(2 / n_in)
    w = rng.standard_normal((n_out, n_in))
    bad = np.abs(w) > 2
    while bad.any():
        w[bad] = rng.standard_normal(bad.sum())
        bad = np.abs(w) > 2
    return std * w / 0.8796
""", "looks truncated"),
    Answer("scaled_init", "kind compared with a capital letter", """
def scaled_init(kind, n_in, n_out, rng):
    if kind == "He":
        std = np.sqrt(2 / n_in)
    else:
        std = np.sqrt(2 / (n_in + n_out))
    return std * rng.standard_normal((n_out, n_in))
""", "for kind 'he' you used Xavier's variance"),
    Answer("scaled_init", "Xavier with n_in only", """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(1 / n_in) if kind == "xavier" else np.sqrt(2 / n_in)
    return std * rng.standard_normal((n_out, n_in))
""", "you used only n_in"),
    Answer("scaled_init", "operator precedence in Xavier's variance", """
def scaled_init(kind, n_in, n_out, rng):
    var = 2 / n_in + n_out if kind == "xavier" else 2 / n_in
    return np.sqrt(var) * rng.standard_normal((n_out, n_in))
""", "operator precedence"),
    Answer("scaled_init", "square root of the fan only", """
def scaled_init(kind, n_in, n_out, rng):
    std = 2 / np.sqrt(n_in + n_out) if kind == "xavier" else 2 / np.sqrt(n_in)
    return std * rng.standard_normal((n_out, n_in))
""", "the square root covers the 2 too"),
    Answer("scaled_init", "shape (n_in, n_out)", """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(2 / (n_in + n_out)) if kind == "xavier" else np.sqrt(2 / n_in)
    return std * rng.standard_normal((n_in, n_out))
""", "(n_out, n_in) in this course"),
    Answer("scaled_init", "np.random instead of the rng argument", """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(2 / (n_in + n_out)) if kind == "xavier" else np.sqrt(2 / n_in)
    return std * np.random.randn(n_out, n_in)
""", "from the `rng` argument"),
    Answer("scaled_init", "a fresh generator with a fixed seed", """
def scaled_init(kind, n_in, n_out, rng):
    rng = np.random.default_rng(42)
    std = np.sqrt(2 / (n_in + n_out)) if kind == "xavier" else np.sqrt(2 / n_in)
    return std * rng.standard_normal((n_out, n_in))
""", "from the `rng` argument"),
    Answer("scaled_init", "rng.random (uniform on [0, 1))", """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(2 / (n_in + n_out)) if kind == "xavier" else np.sqrt(2 / n_in)
    return std * rng.random((n_out, n_in))
""", "no negative entry"),
    Answer("scaled_init", "float32 weights", """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(2 / (n_in + n_out)) if kind == "xavier" else np.sqrt(2 / n_in)
    return (std * rng.standard_normal((n_out, n_in))).astype(np.float32)
""", "float64"),
    Answer("scaled_init", "the library's init_weights", """
from backprop_lib.init import init_weights

def scaled_init(kind, n_in, n_out, rng):
    return init_weights(kind, n_in, n_out, rng)
""", REFERENCE),
    Answer("scaled_init", "the library's init_std for the std", """
import backprop_lib.init as init

def scaled_init(kind, n_in, n_out, rng):
    return init.init_std(kind, n_in, n_out) * rng.standard_normal((n_out, n_in))
""", REFERENCE),
    Answer("scaled_init", "the weights of a library MLP", """
from backprop_lib.mlp import MLP

def scaled_init(kind, n_in, n_out, rng):
    return MLP([n_in, n_out], activation="relu", init=kind, seed=int(rng.integers(1 << 30))).params["W1"]
""", REFERENCE),
    Answer("scaled_init", "rng.normal with the std", """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(2.0 / (n_in + n_out)) if kind == "xavier" else np.sqrt(2.0 / n_in)
    return rng.normal(loc=0.0, scale=std, size=(n_out, n_in))
""", None),
    Answer("scaled_init", "drawn as (n_in, n_out) and transposed, a dict of variances", """
import math

VARIANCE = {"xavier": lambda i, o: 2 / (i + o), "he": lambda i, o: 2 / i}

def scaled_init(kind, n_in, n_out, rng):
    return math.sqrt(VARIANCE[kind](n_in, n_out)) * rng.standard_normal((n_in, n_out)).T
""", None),
    Answer("scaled_init", "a flat draw reshaped", """
def scaled_init(kind, fan_in, fan_out, rng):
    if kind == "he":
        std = (2 / fan_in) ** 0.5
    else:
        std = (2 / (fan_in + fan_out)) ** 0.5
    return (rng.standard_normal(fan_in * fan_out) * std).reshape(fan_out, fan_in)
""", None),

    Answer("scaled_init", 'sqrt(2) / fan as the standard deviation', """
def scaled_init(kind, n_in, n_out, rng):
    std = np.sqrt(2) / (n_in + n_out) if kind == "xavier" else np.sqrt(2) / n_in
    return std * rng.standard_normal((n_out, n_in))
""", 'square root of the whole fraction'),
    # ------------------------------------------------------------------ per_layer_grad_norms
    Answer("per_layer_grad_norms", "no activation derivative",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "        if l > 1:\n            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])\n",
               "        delta = delta @ weights[l - 1]\n"),
           "each layer's delta needs the activation's derivative"),
    Answer("per_layer_grad_norms", "f'(a) instead of f'(z)",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])",
               "delta = (delta @ weights[l - 1]) * act_grad(activations[l - 1])"),
           "not act_grad(a_l)"),
    Answer("per_layer_grad_norms", "the sigmoid's a(1 - a) written out",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])\n",
               "            a = activations[l - 1]\n            delta = (delta @ weights[l - 1]) * a * (1 - a)\n"),
           "you wrote the sigmoid's derivative a(1 - a) yourself"),
    Answer("per_layer_grad_norms", "f'(z) of the layer above (index off by one)",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])",
               "delta = (delta @ weights[l - 1]) * act_grad(zs[l - 1])"),
           "f'(z) of the wrong layer"),
    Answer("per_layer_grad_norms", "f' applied to the linear output layer too",
           _PER_LAYER_GRAD_NORMS_OK.replace("delta = delta_out", "delta = delta_out * act_grad(zs[-1])"),
           "do not multiply it by f'(z_L)"),
    Answer("per_layer_grad_norms", "delta @ W.T",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])",
               "delta = (delta @ weights[l - 1].T) * act_grad(zs[l - 2])"),
           "(no transpose)"),
    Answer("per_layer_grad_norms", "dW with the layer's output a_l",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])",
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l])"),
           "uses the layer's INPUT a_{l-1}"),
    Answer("per_layer_grad_norms", "norms of the deltas",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])",
               "norms[l - 1] = np.linalg.norm(delta)"),
           "not of the deltas themselves"),
    Answer("per_layer_grad_norms", "norms of the bias gradients",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])",
               "norms[l - 1] = np.linalg.norm(delta.sum(axis=0))"),
           "not of the bias gradients"),
    Answer("per_layer_grad_norms", "appended from the output down, not reversed", """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    norms = []
    delta = delta_out
    for l in range(len(weights), 0, -1):
        norms.append(np.linalg.norm(delta.T @ activations[l - 1]))
        if l > 1:
            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])
    return np.array(norms)
""", "wrong order"),
    Answer("per_layer_grad_norms", "divides by the batch size again", """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    N = delta_out.shape[0]
    L = len(weights)
    norms = np.zeros(L)
    delta = delta_out
    for l in range(L, 0, -1):
        norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1] / N)
        if l > 1:
            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])
    return norms
""", "do not divide by N again"),
    Answer("per_layer_grad_norms", "spectral norm np.linalg.norm(dW, 2)",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])",
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1], 2)"),
           "largest singular value"),
    Answer("per_layer_grad_norms", "sum of squares without the root",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])",
               "norms[l - 1] = np.sum((delta.T @ activations[l - 1]) ** 2)"),
           "squared norms"),
    Answer("per_layer_grad_norms", "root-mean-square instead of the norm",
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "        norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])\n",
               "        dW = delta.T @ activations[l - 1]\n        norms[l - 1] = np.sqrt(np.mean(dW ** 2))\n"),
           "root-mean-square"),
    Answer("per_layer_grad_norms", "norm of the gradient sent to the layer's input", """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    L = len(weights)
    norms = np.zeros(L)
    delta = delta_out
    for l in range(L, 0, -1):
        da = delta @ weights[l - 1]
        norms[l - 1] = np.linalg.norm(da)
        if l > 1:
            delta = da * act_grad(zs[l - 2])
    return norms
""", "not of the gradient delta_l W_l"),
    Answer("per_layer_grad_norms", "loop stops before layer 1", """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    norms = []
    delta = delta_out
    for l in range(len(weights), 1, -1):
        norms.insert(0, np.linalg.norm(delta.T @ activations[l - 1]))
        delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])
    return np.array(norms)
""", "the loop must also give layer 1"),
    Answer("per_layer_grad_norms", "the library's linear_backward for each layer", """
from backprop_lib.layers import linear_backward

def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    L = len(weights)
    norms = np.zeros(L)
    delta = delta_out
    for l in range(L, 0, -1):
        da, dW, _ = linear_backward(delta, (activations[l - 1], weights[l - 1]))
        norms[l - 1] = np.linalg.norm(dW)
        if l > 1:
            delta = da * act_grad(zs[l - 2])
    return norms
""", REFERENCE),
    Answer("per_layer_grad_norms", "a library MLP's backward pass through the cache", """
from backprop_lib.mlp import MLP, Trace

def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    sizes = [weights[0].shape[1]] + [W.shape[0] for W in weights]
    act = "sigmoid" if np.allclose(act_grad(np.zeros(1)), 0.25) else "tanh"
    net = MLP(sizes, activation=act)
    for l, W in enumerate(weights, start=1):
        net.params[f"W{l}"] = W
    grads, _, _ = net._backward(Trace(list(zs), list(activations)), delta_out)
    return np.array([np.linalg.norm(grads[f"W{l}"]) for l in range(1, len(weights) + 1)])
""", REFERENCE),
    Answer("per_layer_grad_norms", "dW transposed (same Frobenius norm), norms collected in a list", """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    out = []
    delta = delta_out
    for l in reversed(range(1, len(weights) + 1)):
        dW = activations[l - 1].T @ delta
        out.append(np.sqrt(np.sum(dW * dW)))
        if l > 1:
            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])
    return np.array(out[::-1])
""", None),
    Answer("per_layer_grad_norms", "deltas first, then the norms (einsum)", """
def per_layer_grad_norms(Ws, zs, acts, delta_out, act_grad):
    deltas = [delta_out]
    for W, z in zip(Ws[:0:-1], zs[-2::-1]):
        deltas.insert(0, (deltas[0] @ W) * act_grad(z))
    return np.array([np.linalg.norm(np.einsum("ni,nj->ij", d, a)) for d, a in zip(deltas, acts[:-1])])
""", None),

    Answer("per_layer_grad_norms", 'L1 norm of each dW',
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])",
               "norms[l - 1] = np.sum(np.abs(delta.T @ activations[l - 1]))"),
           'L1 norm'),
    Answer("per_layer_grad_norms", 'largest entry of each dW',
           _PER_LAYER_GRAD_NORMS_OK.replace(
               "norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])",
               "norms[l - 1] = np.abs(delta.T @ activations[l - 1]).max()"),
           'largest entry'),
    Answer("per_layer_grad_norms", 'ok: all deltas first, then the norms with einsum', """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    L = len(weights)
    deltas = [None] * L
    deltas[-1] = delta_out
    for l in range(L - 1, 0, -1):
        deltas[l - 1] = (deltas[l] @ weights[l]) * act_grad(zs[l - 1])
    return np.array([np.sqrt((np.einsum('ni,nj->ij', deltas[l], activations[l]) ** 2).sum()) for l in range(L)])
""", None),
    Answer("per_layer_grad_norms", 'returns the gradients, not their norms', """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    L = len(weights)
    out = [None] * L
    delta = delta_out
    for l in range(L, 0, -1):
        out[l - 1] = delta.T @ activations[l - 1]
        if l > 1:
            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])
    return out
""", 'return their Frobenius NORMS'),
    Answer("per_layer_grad_norms", 'the loop starts one layer down: the top norm stays 0',
           """
def per_layer_grad_norms(weights, zs, activations, delta_out, act_grad):
    L = len(weights)
    norms = np.zeros(L)
    delta = (delta_out @ weights[L - 1]) * act_grad(zs[L - 2])
    for l in range(L - 1, 0, -1):
        norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])
        if l > 1:
            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])
    return norms
""",
           "the top layer's norm is missing"),
    # ------------------------------------------------------------------ clip_by_global_norm
    Answer("clip_by_global_norm", "per-element np.clip (clipping by value)", """
def clip_by_global_norm(grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}
""", "np.clip clips each ENTRY"),
    Answer("clip_by_global_norm", "each tensor clipped by its own norm", """
def clip_by_global_norm(grads, max_norm):
    return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}
""", "you clipped each tensor separately"),
    Answer("clip_by_global_norm", "sum of the per-tensor norms", """
def clip_by_global_norm(grads, max_norm):
    total = sum(np.linalg.norm(g) for g in grads.values())
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}
""", "not the sum of the per-tensor norms"),
    Answer("clip_by_global_norm", "no square root", """
def clip_by_global_norm(grads, max_norm):
    total = sum(np.sum(g ** 2) for g in grads.values())
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}
""", "you forgot the square root"),
    Answer("clip_by_global_norm", "always rescales to max_norm", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    if total == 0:
        return dict(grads)
    return {k: g * max_norm / total for k, g in grads.items()}
""", "only scale when the global norm exceeds max_norm"),
    Answer("clip_by_global_norm", "factor inverted", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    factor = min(1.0, total / max_norm)
    return {k: g * factor for k, g in grads.items()}
""", "the factor is inverted"),
    Answer("clip_by_global_norm", "root-mean-square instead of the norm", """
def clip_by_global_norm(grads, max_norm):
    flat = np.concatenate([g.ravel() for g in grads.values()])
    total = np.sqrt(np.mean(flat ** 2))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}
""", "np.mean gives the root-mean-square"),
    Answer("clip_by_global_norm", "only the weight matrices in the norm", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for k, g in grads.items() if k.startswith("W")))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}
""", "biases too"),
    Answer("clip_by_global_norm", "scales the input arrays in place", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    for g in grads.values():
        g *= factor
    return dict(grads)
""", "modified its input"),
    Answer("clip_by_global_norm", "returns the input dict when nothing is clipped", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    if total <= max_norm:
        return grads
    return {k: g * (max_norm / total) for k, g in grads.items()}
""", "returned the input dict itself"),
    Answer("clip_by_global_norm", "normalises, then multiplies by the capped length (0/0 for zero gradients)", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    return {k: g / total * min(total, max_norm) for k, g in grads.items()}
""", "contains NaN"),
    Answer("clip_by_global_norm", "Python float division by a zero norm", """
import math

def clip_by_global_norm(grads, max_norm):
    total = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads.values()))
    factor = min(1.0, max_norm / total)
    return {k: g * factor for k, g in grads.items()}
""", "ZeroDivisionError"),
    Answer("clip_by_global_norm", "returns the norm too, like PyTorch", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}, total
""", "return only the clipped dict"),
    Answer("clip_by_global_norm", "always rescales, with PyTorch's eps", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    return {k: g * (max_norm / (total + 1e-6)) for k, g in grads.items()}
""", "only scale when the global norm exceeds max_norm"),
    Answer("clip_by_global_norm", "the library's clip_grad_norm", """
from backprop_lib.optim import clip_grad_norm

def clip_by_global_norm(grads, max_norm):
    clipped, _ = clip_grad_norm(grads, max_norm)
    return clipped
""", REFERENCE),
    Answer("clip_by_global_norm", "the library's global_norm for the norm", """
from backprop_lib import optim

def clip_by_global_norm(grads, max_norm):
    total = optim.global_norm(grads)
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}
""", REFERENCE),
    Answer("clip_by_global_norm", "PyTorch's clip_grad_norm_ (norm + 1e-6)", """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    coef = max_norm / (total + 1e-6)
    return {k: g * min(coef, 1.0) for k, g in grads.items()}
""", None),
    Answer("clip_by_global_norm", "one flat vector, scale only above the threshold", """
def clip_by_global_norm(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    out = {}
    for name, g in grads.items():
        out[name] = g * (max_norm / norm) if norm > max_norm else g.copy()
    return out
""", None),
    Answer("clip_by_global_norm", "math.sqrt over a loop, np.clip of the factor", """
import math

def clip_by_global_norm(gradients, c):
    sq = 0.0
    for g in gradients.values():
        sq += float((g * g).sum())
    norm = math.sqrt(sq)
    factor = 1.0 if norm == 0 else float(np.clip(c / norm, 0.0, 1.0))
    return {name: factor * g for name, g in gradients.items()}
""", None),

    Answer("clip_by_global_norm", 'the largest per-tensor norm as the global norm', """
def clip_by_global_norm(grads, max_norm):
    total = max(np.linalg.norm(g) for g in grads.values())
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}
""", 'not the largest per-tensor norm'),
    Answer("clip_by_global_norm", 'L1 norm of all entries', """
def clip_by_global_norm(grads, max_norm):
    total = sum(np.abs(g).sum() for g in grads.values())
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}
""", 'L1 norm'),
    Answer("clip_by_global_norm", 'ok: np.concatenate of the flattened arrays', """
def clip_by_global_norm(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    if total > max_norm:
        return {k: g * (max_norm / total) for k, g in grads.items()}
    return {k: g.copy() for k, g in grads.items()}
""", None),
    Answer("clip_by_global_norm", 'max_norm hard-coded to 1.0', """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    factor = min(1.0, 1.0 / total) if total > 0 else 1.0
    return {k: g * factor for k, g in grads.items()}
""", 'instead of the `max_norm` argument'),
    Answer("clip_by_global_norm", 'scales only the weight matrices', """
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: g * factor if k.startswith("W") else g.copy() for k, g in grads.items()}
""", 'you scaled only the weights'),
    # ------------------------------------------------------------------ residual_block_backward
    Answer("residual_block_backward", "no identity path in dx", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return delta @ W, delta.T @ x, delta.sum(axis=0)
""", "dx is missing the identity path"),
    Answer("residual_block_backward", "1 - a^2 of the block output", """
def residual_block_backward(dout, x, W, b, scale):
    a = x + scale * np.tanh(x @ W.T + b)
    delta = scale * dout * (1.0 - a ** 2)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "1 - a^2 uses the block's OUTPUT"),
    Answer("residual_block_backward", "forgets the scale s", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = dout * (1.0 - np.tanh(z) ** 2)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "forgot the scale s"),
    Answer("residual_block_backward", "scale applied twice", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return dout + scale * delta @ W, scale * delta.T @ x, scale * delta.sum(axis=0)
""", "you multiplied by s twice"),
    Answer("residual_block_backward", "identity path scaled by s", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return scale * dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "the identity path is not scaled"),
    Answer("residual_block_backward", "delta @ W.T", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return dout + delta @ W.T, delta.T @ x, delta.sum(axis=0)
""", "(no transpose)"),
    Answer("residual_block_backward", "no tanh derivative", """
def residual_block_backward(dout, x, W, b, scale):
    delta = scale * dout
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "forgot tanh'(z)"),
    Answer("residual_block_backward", "1 - z^2 (tanh forgotten)", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - z ** 2)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "not 1 - z^2"),
    Answer("residual_block_backward", "(1 - tanh)^2", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z)) ** 2
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "square the tanh, not (1 - tanh(z))"),
    Answer("residual_block_backward", "pre-activation without the bias", """
def residual_block_backward(dout, x, W, b, scale):
    t = np.tanh(x @ W.T)
    delta = scale * dout * (1.0 - t ** 2)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "you left out the bias b"),
    Answer("residual_block_backward", "pre-activation x @ W", """
def residual_block_backward(dout, x, W, b, scale):
    t = np.tanh(x @ W + b)
    delta = scale * dout * (1.0 - t ** 2)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "x @ W uses its transpose"),
    Answer("residual_block_backward", "dx only the identity path", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return dout, delta.T @ x, delta.sum(axis=0)
""", "dx has only the identity path"),
    Answer("residual_block_backward", "dW transposed", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return dout + delta @ W, x.T @ delta, delta.sum(axis=0)
""", "you computed its transpose"),
    Answer("residual_block_backward", "db is the batch mean", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return dout + delta @ W, delta.T @ x, delta.mean(axis=0)
""", "not the mean"),
    Answer("residual_block_backward", "db summed over the units", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=1)
""", "not over the units"),
    Answer("residual_block_backward", "returns (dW, dx, db)", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return delta.T @ x, dout + delta @ W, delta.sum(axis=0)
""", "(dx, dW, db)"),
    Answer("residual_block_backward", "dx aliases dout and is updated with +=", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    dx = dout
    dx += delta @ W
    return dx, delta.T @ x, delta.sum(axis=0)
""", "modified its input"),
    Answer("residual_block_backward", "central differences of the block", """
def residual_block_backward(dout, x, W, b, scale):
    def loss(x_, W_, b_):
        return np.sum(dout * (x_ + scale * np.tanh(x_ @ W_.T + b_)))
    h = 1e-5
    grads = []
    for i, p in enumerate((x, W, b)):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            args = [x.copy(), W.copy(), b.copy()]
            args[i][idx] += h
            up = loss(*args)
            args[i][idx] -= 2 * h
            g[idx] = (up - loss(*args)) / (2 * h)
        grads.append(g)
    return tuple(grads)
""", "only approximately right"),
    Answer("residual_block_backward", "the library's residual_backward", """
from backprop_lib.layers import residual_forward, residual_backward

def residual_block_backward(dout, x, W, b, scale):
    _, cache = residual_forward(x, W, b, "tanh", scale)
    return residual_backward(dout, cache)
""", REFERENCE),
    Answer("residual_block_backward", "the library's linear_backward for the branch", """
from backprop_lib.layers import linear_backward

def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    dx, dW, db = linear_backward(delta, (x, W))
    return dout + dx, dW, db
""", REFERENCE),
    Answer("residual_block_backward", "the library's numerical_gradient", """
from backprop_lib.gradcheck import numerical_gradient

def residual_block_backward(dout, x, W, b, scale):
    f = lambda x_, W_, b_: float(np.sum(dout * (x_ + scale * np.tanh(x_ @ W_.T + b_))))
    return (numerical_gradient(lambda v: f(v, W, b), x.copy()),
            numerical_gradient(lambda v: f(x, v, b), W.copy()),
            numerical_gradient(lambda v: f(x, W, v), b.copy()))
""", REFERENCE),
    Answer("residual_block_backward", "tanh_grad from the library's activations", """
from backprop_lib.activations import tanh_grad

def residual_block_backward(dout, x, W, b, scale):
    delta = scale * dout * tanh_grad(x @ W.T + b)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", None),
    Answer("residual_block_backward", "tanh recovered from the block output, dx built with +=", """
def residual_block_backward(dout, x, W, b, scale):
    a = x + scale * np.tanh(np.dot(x, W.T) + b)
    t = (a - x) / scale
    dz = dout * scale * (1 - t * t)
    dx = dout.copy()
    dx += dz @ W
    dW = np.einsum("ni,nj->ij", dz, x)
    db = np.sum(dz, axis=0)
    return dx, dW, db
""", None),
    Answer("residual_block_backward", "sech^2 and explicit loops over the batch", """
def residual_block_backward(dout, x, W, b, s):
    N, n = x.shape
    dx, dW, db = np.zeros((N, n)), np.zeros((n, n)), np.zeros(n)
    for i in range(N):
        z = W @ x[i] + b
        d = s * dout[i] / np.cosh(z) ** 2
        dx[i] = dout[i] + W.T @ d
        dW += np.outer(d, x[i])
        db += d
    return dx, dW, db
""", None),
    Answer("residual_block_backward", "the sigmoid's derivative in the branch", """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    s = 1 / (1 + np.exp(-z))
    delta = scale * dout * s * (1 - s)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0)
""", "not the sigmoid's"),
    Answer("residual_block_backward", 'db with keepdims', """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1 - np.tanh(z) ** 2)
    return dout + delta @ W, delta.T @ x, delta.sum(axis=0, keepdims=True)
""", 'without keepdims'),
    Answer("residual_block_backward", 'ok: the scale applied after the products', """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    d = dout * (1 - np.tanh(z) ** 2)
    return dout + scale * (d @ W), scale * (d.T @ x), scale * d.sum(axis=0)
""", None),
    Answer("residual_block_backward", 'ok: the three gradients in a list', """
def residual_block_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    delta = scale * dout * (1.0 - np.tanh(z) ** 2)
    return [dout + delta @ W, delta.T @ x, delta.sum(axis=0)]
""", None),
    # ------------------------------------------------------------------ batchnorm_backward
    Answer("batchnorm_backward", "correct: staged backward through the forward lines", """
def batchnorm_backward(dout, x, gamma, eps):
    N = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    xhat = xc / std
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xc, axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = -np.sum(dxhat / std, axis=0) + dvar * np.mean(-2.0 * xc, axis=0)
    dx = dxhat / std + dvar * 2.0 * xc / N + dmu / N
    return dx, dgamma, dbeta
""", None),
    Answer("batchnorm_backward", "correct: a loop over the units with the per-unit Jacobian", """
def batchnorm_backward(dout, x, gamma, eps):
    N, D = x.shape
    dx = np.zeros_like(x)
    dgamma, dbeta = np.zeros(D), np.zeros(D)
    for d in range(D):
        v = x[:, d]
        s = np.sqrt(v.var() + eps)
        xh = (v - v.mean()) / s
        J = (np.eye(N) - 1.0 / N - np.outer(xh, xh) / N) / s
        dx[:, d] = J.T @ (gamma[d] * dout[:, d])
        dgamma[d] = np.dot(dout[:, d], xh)
        dbeta[d] = dout[:, d].sum()
    return dx, dgamma, dbeta
""", None),
    Answer("batchnorm_backward", "correct: the forward quantities from the library's batchnorm_forward", """
from backprop_lib.normalization import batchnorm_forward
def batchnorm_backward(dout, x, gamma, eps):
    N = x.shape[0]
    out, _ = batchnorm_forward(x, np.ones_like(gamma), np.zeros_like(gamma), eps)
    xhat = out
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    g = dout * gamma
    dx = (g - g.mean(axis=0) - xhat * np.mean(g * xhat, axis=0)) * inv_std
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)
""", None),
    Answer("batchnorm_backward", "the library's backward", """
from backprop_lib.normalization import batchnorm_forward, batchnorm_backward as bn_bw
def batchnorm_backward(dout, x, gamma, eps):
    _, cache = batchnorm_forward(x, gamma, np.zeros_like(gamma), eps)
    return bn_bw(dout, cache)
""", REFERENCE),
    Answer("batchnorm_backward", "mean's dependence on x forgotten (mu treated as a constant)", """
def batchnorm_backward(dout, x, gamma, eps):
    mu = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - mu) * inv_std
    g = dout * gamma
    dx = (g - xhat * np.mean(g * xhat, axis=0)) * inv_std
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)
""", "the mean's dependence on x is missing"),
    Answer("batchnorm_backward", "mean and variance treated as constants", """
def batchnorm_backward(dout, x, gamma, eps):
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    dx = dout * gamma / np.sqrt(x.var(axis=0) + eps)
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)
""", "you treated the batch mean and variance as constants"),
    Answer("batchnorm_backward", "variance path forgotten", """
def batchnorm_backward(dout, x, gamma, eps):
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * inv_std
    g = dout * gamma
    dx = (g - g.mean(axis=0)) * inv_std
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)
""", "the path through the variance is missing"),
    Answer("batchnorm_backward", "the 1/N in front of the bracket forgotten",
           _BATCHNORM_BACKWARD_OK.replace(
               "dx = inv_std / N * (N * g - g.sum(axis=0) - xhat * np.sum(g * xhat, axis=0))",
               "dx = inv_std * (N * g - g.sum(axis=0) - xhat * np.sum(g * xhat, axis=0))"),
           "a 1/N factor is missing"),
    Answer("batchnorm_backward", "sums instead of means inside the bracket", """
def batchnorm_backward(dout, x, gamma, eps):
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * inv_std
    g = dout * gamma
    dx = (g - g.sum(axis=0) - xhat * np.sum(g * xhat, axis=0)) * inv_std
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)
""", "the two sums need the 1/N factor"),
    Answer("batchnorm_backward", "sample variance (ddof=1)",
           _BATCHNORM_BACKWARD_OK.replace(
               "inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)",
               "inv_std = 1.0 / np.sqrt(np.var(x, axis=0, ddof=1) + eps)"),
           "population variance"),
    Answer("batchnorm_backward", "statistics over the units (axis 1): layer norm", """
def batchnorm_backward(dout, x, gamma, eps):
    D = x.shape[1]
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - x.mean(axis=1, keepdims=True)) * inv_std
    g = dout * gamma
    dx = inv_std / D * (D * g - g.sum(axis=1, keepdims=True) - xhat * np.sum(g * xhat, axis=1, keepdims=True))
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)
""", "that is layer norm"),
    Answer("batchnorm_backward", "eps left out of the square root",
           _BATCHNORM_BACKWARD_OK.replace(
               "inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)",
               "inv_std = 1.0 / np.sqrt(x.var(axis=0))"),
           "eps belongs inside the square root"),
    Answer("batchnorm_backward", "gamma forgotten in dx",
           """
def batchnorm_backward(dout, x, gamma, eps):
    N = x.shape[0]
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * inv_std
    dx = inv_std / N * (N * dout - dout.sum(axis=0) - xhat * np.sum(dout * xhat, axis=0))
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)
""",
           "dx needs gamma"),
    Answer("batchnorm_backward", "dgamma with x instead of xhat",
           _BATCHNORM_BACKWARD_OK.replace(
               "return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)",
               "return dx, np.sum(dout * x, axis=0), dout.sum(axis=0)"),
           "the NORMALISED input"),
    Answer("batchnorm_backward", "mean over the batch for dgamma and dbeta",
           _BATCHNORM_BACKWARD_OK.replace(
               "return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)",
               "return dx, np.mean(dout * xhat, axis=0), dout.mean(axis=0)"),
           "not the mean: dout already carries the 1/N"),
    Answer("batchnorm_backward", "dgamma and dbeta not summed over the batch",
           _BATCHNORM_BACKWARD_OK.replace(
               "return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)",
               "return dx, dout * xhat, dout"),
           "shared by the whole batch"),
    Answer("batchnorm_backward", "central differences", """
def batchnorm_backward(dout, x, gamma, eps):
    def loss(v):
        return np.sum(dout * gamma * (v - v.mean(axis=0)) / np.sqrt(v.var(axis=0) + eps))
    dx = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1e-5
        dx[idx] = (loss(x + e) - loss(x - e)) / 2e-5
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)
""", "finite-difference"),
]

