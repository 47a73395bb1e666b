"""Realistic answers to exercises/01_chain_rule.ipynb (see tests/answers/__init__.py)."""

from . import Answer

EXERCISE = "01_chain_rule"

ANSWERS = [
    # ------------------------------------------------------------------ Task 1: central_diff
    Answer("central_diff", "forward difference instead of central", """
def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x)) / h
""", "forward difference"),
    Answer("central_diff", "backward difference", """
def central_diff(f, x, h=1e-5):
    return (f(x) - f(x - h)) / h
""", "backward difference"),
    Answer("central_diff", "divides by h instead of 2h", """
def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / h
""", "2h"),
    Answer("central_diff", "`/ 2*h` multiplies by h", """
def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / 2*h
""", "MULTIPLIES by h"),
    Answer("central_diff", "numerator without parentheses", """
def central_diff(f, x, h=1e-5):
    return f(x + h) - f(x - h) / (2 * h)
""", "divides only f(x-h)"),
    Answer("central_diff", "subtracts in the wrong order", """
def central_diff(f, x, h=1e-5):
    return (f(x - h) - f(x + h)) / (2 * h)
""", "wrong order"),
    Answer("central_diff", "adds instead of subtracting", """
def central_diff(f, x, h=1e-5):
    return (f(x + h) + f(x - h)) / (2 * h)
""", "SUBTRACTS"),
    Answer("central_diff", "divides by 4h", """
def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (4 * h)
""", "divided by 2h twice"),
    Answer("central_diff", "points x +- h/2", """
def central_diff(f, x, h=1e-5):
    return (f(x + h / 2) - f(x - h / 2)) / h
""", "x - h/2 and x + h/2"),
    Answer("central_diff", "ignores h: fixed step 1e-5", """
def central_diff(f, x, h=1e-5):
    eps = 1e-5
    return (f(x + eps) - f(x - eps)) / (2 * eps)
""", "ignored the argument h and used a small fixed step"),
    Answer("central_diff", "ignores h: fixed step 1e-6", """
def central_diff(f, x, h=1e-5):
    return (f(x + 1e-6) - f(x - 1e-6)) / 2e-6
""", "ignored the argument h and used a small fixed step"),
    Answer("central_diff", "float32 arithmetic", """
def central_diff(f, x, h=1e-5):
    return np.float32(f(x + h) - f(x - h)) / np.float32(2 * h)
""", "float32"),
    Answer("central_diff", "calls the library's central_difference", """
from backprop_lib.gradcheck import central_difference

def central_diff(f, x, h=1e-5):
    return central_difference(f, x, h)
""", "calls the library's reference implementation"),
    Answer("central_diff", "alias of the library's central_difference", """
from backprop_lib.gradcheck import central_difference as central_diff
""", "calls the library's reference implementation"),
    Answer("central_diff", "numerical_gradient of a 1-element array", """
def central_diff(f, x, h=1e-5):
    return float(numerical_gradient(lambda p: f(p[0]), np.array([x], dtype=float), h)[0])
""", "calls the library's reference implementation"),
    Answer("central_diff", "forward_difference over [x - h, x + h]", """
from backprop_lib.gradcheck import forward_difference

def central_diff(f, x, h=1e-5):
    return forward_difference(f, x - h, 2 * h)
""", "calls the library's reference implementation"),
    Answer("central_diff", "other parameter names, two statements", """
def central_diff(func, point, step=1e-5):
    upper, lower = func(point + step), func(point - step)
    return (upper - lower) / (2 * step)
""", None),
    Answer("central_diff", "divides by h, then by 2", """
def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / h / 2
""", None),
    Answer("central_diff", "a lambda, 0.5 * slope", """
central_diff = lambda f, x, h=1e-5: 0.5 * (f(x + h) - f(x - h)) / h
""", None),

    Answer("central_diff", 'mean of the forward and backward differences (the same number)', """
def central_diff(f, x, h=1e-5):
    forward = (f(x + h) - f(x)) / h
    backward = (f(x) - f(x - h)) / h
    return 0.5 * (forward + backward)
""", None),
    # ------------------------------------------------------------------ Task 2: chain_rule_derivative
    Answer("chain_rule_derivative", "forgets the inner derivative", """
def chain_rule_derivative(f, df, g, dg, x):
    return df(g(x))
""", "forgot the inner derivative"),
    Answer("chain_rule_derivative", "outer derivative at x", """
def chain_rule_derivative(f, df, g, dg, x):
    return df(x) * dg(x)
""", "instead of at g(x)"),
    Answer("chain_rule_derivative", "f instead of f'", """
def chain_rule_derivative(f, df, g, dg, x):
    return f(g(x)) * dg(x)
""", "use the derivative f'"),
    Answer("chain_rule_derivative", "composition in the wrong order", """
def chain_rule_derivative(f, df, g, dg, x):
    return dg(f(x)) * df(x)
""", "wrong order"),
    Answer("chain_rule_derivative", "adds the local derivatives", """
def chain_rule_derivative(f, df, g, dg, x):
    return df(g(x)) + dg(x)
""", "MULTIPLIES"),
    Answer("chain_rule_derivative", "inner derivative at g(x)", """
def chain_rule_derivative(f, df, g, dg, x):
    u = g(x)
    return df(u) * dg(u)
""", "evaluated g' at g(x)"),
    Answer("chain_rule_derivative", "g(x) instead of g'(x)", """
def chain_rule_derivative(f, df, g, dg, x):
    return df(g(x)) * g(x)
""", "use the derivative g'(x), not g(x)"),
    Answer("chain_rule_derivative", "f' applied to g'", """
def chain_rule_derivative(f, df, g, dg, x):
    return df(dg(x))
""", "applied f' to g'(x)"),
    Answer("chain_rule_derivative", "central difference of the composition, h = 1e-5", """
def chain_rule_derivative(f, df, g, dg, x):
    h = 1e-5
    return (f(g(x + h)) - f(g(x - h))) / (2 * h)
""", "finite difference"),
    Answer("chain_rule_derivative", "central difference of g only, h = 1e-5", """
def chain_rule_derivative(f, df, g, dg, x):
    h = 1e-5
    return df(g(x)) * (g(x + h) - g(x - h)) / (2 * h)
""", "evaluated `g` at"),
    Answer("chain_rule_derivative", "central difference of f at g(x), step 1e-6", """
def chain_rule_derivative(f, df, g, dg, x):
    u, h = g(x), 1e-6
    return (f(u + h) - f(u - h)) / (2 * h) * dg(x)
""", "evaluated `f` at"),
    Answer("chain_rule_derivative", "the library's central_difference of the composition", """
from backprop_lib.gradcheck import central_difference

def chain_rule_derivative(f, df, g, dg, x):
    return central_difference(lambda t: f(g(t)), x)
""", "finite difference"),
    Answer("chain_rule_derivative", "task 1's central_diff of the composition", """
def chain_rule_derivative(f, df, g, dg, x):
    return central_diff(lambda t: f(g(t)), x, 1e-5)
""", "finite difference"),
    Answer("chain_rule_derivative", "complex step", """
def chain_rule_derivative(f, df, g, dg, x):
    return np.imag(f(g(x + 1e-20j))) / 1e-20
""", "complex-step method"),
    Answer("chain_rule_derivative", "scalars only (float())", """
def chain_rule_derivative(f, df, g, dg, x):
    return float(df(g(x)) * dg(x))
""", "array"),
    Answer("chain_rule_derivative", "math.cos instead of the given df", """
def chain_rule_derivative(f, df, g, dg, x):
    return math.cos(g(x)) * dg(x)
""", "never called df"),
    Answer("chain_rule_derivative", "converts x to float32", """
def chain_rule_derivative(f, df, g, dg, x):
    x = np.asarray(x, dtype=np.float32)
    return df(g(x)) * dg(x)
""", "float32"),
    Answer("chain_rule_derivative", "named intermediates", """
def chain_rule_derivative(f, df, g, dg, x):
    u = g(x)              # forward through the inner function
    outer = df(u)         # local derivative of f, at u
    inner = dg(x)         # local derivative of g, at x
    return outer * inner
""", None),
    Answer("chain_rule_derivative", "inner factor first, other names", """
def chain_rule_derivative(outer, d_outer, inner, d_inner, point):
    return d_inner(point) * d_outer(inner(point))
""", None),
    Answer("chain_rule_derivative", "a loop over the points, reshaped back", """
def chain_rule_derivative(f, df, g, dg, x):
    values = [df(g(t)) * dg(t) for t in np.ravel(x)]
    return np.array(values).reshape(np.shape(x))
""", None),
    Answer("chain_rule_derivative", "computes f(g(x)) too (unused)", """
def chain_rule_derivative(f, df, g, dg, x):
    u = g(x)
    y = f(u)  # the forward value, not needed for the derivative
    return df(u) * dg(x)
""", None),

    # ------------------------------------------------------------------ Task 3: gradient_2d
    Answer("gradient_2d", "swapped partial derivatives", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([x**2 - c, 2 * x * y + 3 * c])
""", "swapped"),
    Answer("gradient_2d", "forgets both inner derivatives", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + c, x**2 + c])
""", "inner derivative of sin(3x - y)"),
    Answer("gradient_2d", "forgets the inner 3 in df/dx", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + c, x**2 - c])
""", "inner derivative 3"),
    Answer("gradient_2d", "inner derivative +1 for y", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + 3 * c, x**2 + c])
""", "-1"),
    Answer("gradient_2d", "inner derivative 3 in df/dy too", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + 3 * c, x**2 + 3 * c])
""", "with respect to y it is -1"),
    Answer("gradient_2d", "drops the constant factor y", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x + 3 * c, x**2 - c])
""", "2*x*y"),
    Answer("gradient_2d", "differentiates x^2 y in y as 2xy", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + 3 * c, 2 * x * y - c])
""", "is x^2"),
    Answer("gradient_2d", "derivative of sin taken as -cos", """
def gradient_2d(x, y):
    c = -np.cos(3 * x - y)
    return np.array([2 * x * y + 3 * c, x**2 - c])
""", "the derivative of sin is +cos"),
    Answer("gradient_2d", "sin instead of cos", """
def gradient_2d(x, y):
    s = np.sin(3 * x - y)
    return np.array([2 * x * y + 3 * s, x**2 - s])
""", "the derivative of sin is cos, not sin"),
    Answer("gradient_2d", "typo 3x + y", """
def gradient_2d(x, y):
    c = np.cos(3 * x + y)
    return np.array([2 * x * y + 3 * c, x**2 - c])
""", "cos(3x + y)"),
    Answer("gradient_2d", "numerical_gradient as the 'analytic' gradient", """
def gradient_2d(x, y):
    return numerical_gradient(lambda p: gradient_2d_target(p[0], p[1]), np.array([x, y]))
""", "finite difference"),
    Answer("gradient_2d", "own central differences with a small step", """
def gradient_2d(x, y):
    h = 1e-6
    dfdx = (gradient_2d_target(x + h, y) - gradient_2d_target(x - h, y)) / (2 * h)
    dfdy = (gradient_2d_target(x, y + h) - gradient_2d_target(x, y - h)) / (2 * h)
    return np.array([dfdx, dfdy])
""", "finite difference"),
    Answer("gradient_2d", "complex step through the target", """
def gradient_2d(x, y):
    step = 1e-30
    return np.array([np.imag(gradient_2d_target(x + 1j * step, y)) / step,
                     np.imag(gradient_2d_target(x, y + 1j * step)) / step])
""", "complex-step method"),
    Answer("gradient_2d", "float32 result", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + 3 * c, x**2 - c], dtype=np.float32)
""", "float32"),
    Answer("gradient_2d", "returns a tuple of two numbers", """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return 2 * x * y + 3 * c, x**2 - c
""", None),
    Answer("gradient_2d", "chain rule spelled out, a list", """
def gradient_2d(x, y):
    u = 3 * x - y                      # inner function of the sine
    du_dx, du_dy = 3.0, -1.0
    return [2 * x * y + np.cos(u) * du_dx, x * x + np.cos(u) * du_dy]
""", None),
    Answer("gradient_2d", "math module, terms in another order", """
def gradient_2d(x, y):
    return np.array([3 * math.cos(3 * x - y) + 2 * y * x, -math.cos(3 * x - y) + x**2])
""", None),

    Answer("gradient_2d", 'factor 3 kept in df/dy', """
def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + 3 * c, x**2 - 3 * c])
""", 'in df/dy you kept the factor 3'),
    Answer("gradient_2d", 'converts the angle to radians', """
def gradient_2d(x, y):
    c = math.cos(math.radians(3 * x - y))
    return np.array([2 * x * y + 3 * c, x**2 - c])
""", 'take radians'),
    # ------------------------------------------------------------------ Task 4: stable_sigmoid_derivative
    Answer("stable_sigmoid_derivative", "naive formula: overflow warnings", """
def stable_sigmoid_derivative(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
""", "RuntimeWarning"),
    Answer("stable_sigmoid_derivative", "naive formula under np.errstate(all='ignore')", """
def stable_sigmoid_derivative(x):
    with np.errstate(all="ignore"):
        s = 1 / (1 + np.exp(-x))
        return s * (1 - s)
""", "Silencing the warning"),
    Answer("stable_sigmoid_derivative", "naive sigma(x) * sigma(-x) under warnings.catch_warnings()", """
import warnings

def stable_sigmoid_derivative(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return 1 / (1 + np.exp(-x)) * (1 / (1 + np.exp(x)))
""", "an exp overflowed"),
    Answer("stable_sigmoid_derivative", "naive formula with x clipped to +-500", """
def stable_sigmoid_derivative(x):
    x = np.clip(x, -500, 500)
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
""", "clip"),
    Answer("stable_sigmoid_derivative", "exact formula with x clipped to +-30", """
def stable_sigmoid_derivative(x):
    e = np.exp(-np.abs(np.clip(x, -30, 30)))
    return e / (1 + e) ** 2
""", "about 30"),
    Answer("stable_sigmoid_derivative", "stable sigma, then sigma * (1 - sigma): cancellation", """
def stable_sigmoid_derivative(x):
    s = np.exp(-np.logaddexp(0.0, -x))
    return s * (1 - s)
""", "1 - sigma(x) = sigma(-x)"),
    Answer("stable_sigmoid_derivative", "branches for sigma, then sigma * (1 - sigma)", """
def stable_sigmoid_derivative(x):
    s = np.empty_like(x)
    pos = x >= 0
    s[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    s[~pos] = e / (1 + e)
    return s * (1 - s)
""", "cancels"),
    Answer("stable_sigmoid_derivative", "e^-x / (1 + e^-x)^2 under errstate: inf/inf", """
def stable_sigmoid_derivative(x):
    with np.errstate(all="ignore"):
        e = np.exp(-x)
        return e / (1 + e) ** 2
""", "NaN at x = -1000"),
    Answer("stable_sigmoid_derivative", "np.where still evaluates both branches", """
def stable_sigmoid_derivative(x):
    s = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
    return s * (1 - s)
""", "np.where evaluates BOTH branches"),
    Answer("stable_sigmoid_derivative", "math.exp in a loop", """
def stable_sigmoid_derivative(x):
    out = [1 / (1 + math.exp(-v)) * (1 - 1 / (1 + math.exp(-v))) for v in np.ravel(x)]
    return np.array(out).reshape(np.shape(x))
""", "OverflowError"),
    Answer("stable_sigmoid_derivative", "0.25 / cosh(x/2)^2 overflows", """
def stable_sigmoid_derivative(x):
    return 0.25 / np.cosh(x / 2) ** 2
""", "RuntimeWarning"),
    Answer("stable_sigmoid_derivative", "returns sigma itself", """
def stable_sigmoid_derivative(x):
    return np.exp(-np.logaddexp(0.0, -x))
""", "sigma(x) itself"),
    Answer("stable_sigmoid_derivative", "(1 + sigma) instead of (1 - sigma)", """
def stable_sigmoid_derivative(x):
    s = np.exp(-np.logaddexp(0.0, -x))
    return s * (1 + s)
""", "(1 + sigma(x))"),
    Answer("stable_sigmoid_derivative", "tanh's derivative", """
def stable_sigmoid_derivative(x):
    s = np.exp(-np.logaddexp(0.0, -x))
    return 1 - s**2
""", "tanh's derivative"),
    Answer("stable_sigmoid_derivative", "denominator not squared", """
def stable_sigmoid_derivative(x):
    e = np.exp(-np.abs(x))
    return e / (1 + e)
""", "not squared"),
    Answer("stable_sigmoid_derivative", "in-place on the input", """
def stable_sigmoid_derivative(x):
    np.abs(x, out=x)
    e = np.exp(-x)
    return e / (1 + e) ** 2
""", "modified its input"),
    Answer("stable_sigmoid_derivative", "float32 computation", """
def stable_sigmoid_derivative(x):
    e = np.exp(-np.abs(x)).astype(np.float32)
    return e / (1 + e) ** 2
""", "float32"),
    Answer("stable_sigmoid_derivative", "the library's sigmoid_grad", """
from backprop_lib.activations import sigmoid_grad as stable_sigmoid_derivative
""", "calls the library's reference implementation"),
    Answer("stable_sigmoid_derivative", "the library's sigmoid for both factors", """
from backprop_lib.activations import sigmoid

def stable_sigmoid_derivative(x):
    return sigmoid(x) * sigmoid(-x)
""", "calls the library's reference implementation"),
    Answer("stable_sigmoid_derivative", "the autodiff engine's sigmoid node", """
from backprop_lib.engine import Value

def stable_sigmoid_derivative(x):
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        node = Value(float(v))
        node.sigmoid().backward()
        out[i] = node.grad
    return out
""", "calls the library's reference implementation `backprop_lib.engine.Value.sigmoid`"),
    Answer("stable_sigmoid_derivative", "sigma(x) * (1 - sigma(x)) written with 1 - sigma", """
def stable_sigmoid_derivative(x):
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return s * (1 - s)
""", "1 - sigma(x) = sigma(-x)"),
    Answer("stable_sigmoid_derivative", "scipy's expit, then expit * (1 - expit)", """
from scipy.special import expit

def stable_sigmoid_derivative(x):
    s = expit(x)
    return s * (1 - s)
""", "cancels"),
    Answer("stable_sigmoid_derivative", "scipy's expit for both factors: flushes subnormals", """
from scipy.special import expit

def stable_sigmoid_derivative(x):
    return expit(x) * expit(-x)
""", "scipy.special.expit"),
    Answer("stable_sigmoid_derivative", "sigma(x) * sigma(-x) with logaddexp", """
def stable_sigmoid_derivative(x):
    return np.exp(-np.logaddexp(0, -x)) * np.exp(-np.logaddexp(0, x))
""", None),
    Answer("stable_sigmoid_derivative", "e^-|x| / (1 + e^-|x|)^2", """
def stable_sigmoid_derivative(x):
    e = np.exp(-np.abs(x))
    return e / (1 + e) ** 2
""", None),
    Answer("stable_sigmoid_derivative", "a stable sigma helper with branches, used twice", """
def _sigma(v):
    out = np.empty_like(v, dtype=np.float64)
    pos = v >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-v[pos]))
    e = np.exp(v[~pos])
    out[~pos] = e / (1.0 + e)
    return out

def stable_sigmoid_derivative(x):
    return _sigma(x) * _sigma(-x)
""", None),
    Answer("stable_sigmoid_derivative", "in log space: exp(-|x| - 2 log1p(e^-|x|))", """
def stable_sigmoid_derivative(x):
    a = np.abs(x)
    return np.exp(-a - 2 * np.log1p(np.exp(-a)))
""", None),

    Answer("stable_sigmoid_derivative", 'sigma from tanh: 1 + tanh(-x/2) cancels', """
def stable_sigmoid_derivative(x):
    s = 0.5 * (1 + np.tanh(x / 2))
    t = 0.5 * (1 + np.tanh(-x / 2))
    return s * t
""", '1 - sigma(x) = sigma(-x)'),
    Answer("stable_sigmoid_derivative", 'clip at 700, then e^-x / (1 + e^-x)^2', """
def stable_sigmoid_derivative(x):
    xc = np.clip(x, -700, 700)
    e = np.exp(-xc)
    return e / (1 + e) ** 2
""", 'overflow'),
    Answer("stable_sigmoid_derivative", 'ok: a loop over the elements with math.exp of -abs(x)', """
def stable_sigmoid_derivative(x):
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        e = math.exp(-abs(v))
        out[i] = e / (1 + e) ** 2
    return out
""", None),
    # ------------------------------------------------------------------ Task 5: max_rel_error_check
    Answer("max_rel_error_check", "CS231n notes' denominator max(|a|, |n|)", """
def max_rel_error_check(f, df, xs, h=1e-5):
    worst = 0.0
    for x in xs:
        a, n = df(x), (f(x + h) - f(x - h)) / (2 * h)
        worst = max(worst, abs(a - n) / max(1e-8, abs(a), abs(n)))
    return worst
""", "CS231n"),
    Answer("max_rel_error_check", "CS231n denominator, vectorised, unguarded", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a), np.abs(n))))
""", "CS231n"),
    Answer("max_rel_error_check", "divides by |a| only", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a))))
""", "by |a| only"),
    Answer("max_rel_error_check", "divides by |n| only", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(n))))
""", "by |n| only"),
    Answer("max_rel_error_check", "mean instead of max", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.mean(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
""", "not the mean"),
    Answer("max_rel_error_check", "one ratio of two maxima", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n)) / max(1e-8, np.max(np.abs(a) + np.abs(n))))
""", "EACH point"),
    Answer("max_rel_error_check", "no guard (nanmax hides the 0/0)", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    with np.errstate(invalid="ignore"):
        return float(np.nanmax(np.abs(a - n) / (np.abs(a) + np.abs(n))))
""", "max(1e-8, |a| + |n|)"),
    Answer("max_rel_error_check", "no guard, Python floats: ZeroDivisionError", """
def max_rel_error_check(f, df, xs, h=1e-5):
    worst = 0.0
    for x in xs:
        a, n = float(df(x)), float((f(x + h) - f(x - h)) / (2 * h))
        worst = max(worst, abs(a - n) / (abs(a) + abs(n)))
    return worst
""", "needs the guard"),
    Answer("max_rel_error_check", "guard added instead of max", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n) / (1e-8 + np.abs(a) + np.abs(n))))
""", "do not add"),
    Answer("max_rel_error_check", "no abs in the denominator", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, a + n)))
""", "with absolute values"),
    Answer("max_rel_error_check", "no abs in the numerator", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max((a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
""", "absolute difference |a - n|"),
    Answer("max_rel_error_check", "forward difference", """
def max_rel_error_check(f, df, xs, h=1e-5):
    worst = 0.0
    for x in xs:
        a, n = df(x), (f(x + h) - f(x)) / h
        worst = max(worst, abs(a - n) / max(1e-8, abs(a) + abs(n)))
    return worst
""", "forward difference"),
    Answer("max_rel_error_check", "central difference with `/ 2*h`", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / 2*h
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
""", "operator precedence"),
    Answer("max_rel_error_check", "ignores h", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + 1e-5) - f(xs - 1e-5)) / 2e-5
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
""", "ignored the argument h"),
    Answer("max_rel_error_check", "returns the per-point errors", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))
""", "per-point relative errors"),
    Answer("max_rel_error_check", "overwrites instead of keeping the max", """
def max_rel_error_check(f, df, xs, h=1e-5):
    worst = 0.0
    for x in xs:
        a, n = df(x), (f(x + h) - f(x - h)) / (2 * h)
        worst = abs(a - n) / max(1e-8, abs(a) + abs(n))
    return worst
""", "last point only"),
    Answer("max_rel_error_check", "float32 points", """
def max_rel_error_check(f, df, xs, h=1e-5):
    xs = xs.astype(np.float32)
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n)))
""", "float32"),
    Answer("max_rel_error_check", "float32 arrays, returned as a Python float", """
def max_rel_error_check(f, df, xs, h=1e-5):
    xs = np.asarray(xs, dtype=np.float32)
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
""", "float32"),
    Answer("max_rel_error_check", "calls the library's rel_error", """
from backprop_lib.gradcheck import rel_error

def max_rel_error_check(f, df, xs, h=1e-5):
    a = np.array([df(x) for x in xs])
    n = np.array([(f(x + h) - f(x - h)) / (2 * h) for x in xs])
    return rel_error(a, n)
""", "calls the library's reference implementation `backprop_lib.gradcheck.rel_error`"),
    Answer("max_rel_error_check", "rel_error point by point", """
from backprop_lib.gradcheck import rel_error as relative

def max_rel_error_check(f, df, xs, h=1e-5):
    return max(relative(df(x), (f(x + h) - f(x - h)) / (2 * h)) for x in xs)
""", "calls the library's reference implementation"),
    Answer("max_rel_error_check", "vectorised", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))
""", None),
    Answer("max_rel_error_check", "task 1's central_diff and a generator", """
def max_rel_error_check(f, df, xs, h=1e-5):
    def error(x):
        a, n = df(x), central_diff(f, x, h)
        return abs(a - n) / max(1e-8, abs(a) + abs(n))
    return float(max(error(x) for x in xs))
""", None),
    Answer("max_rel_error_check", "the library's central_difference (allowed)", """
from backprop_lib.gradcheck import central_difference

def max_rel_error_check(f, df, xs, h=1e-5):
    errors = []
    for x in xs:
        a, n = df(x), central_difference(f, x, h)
        errors.append(abs(a - n) / max(1e-8, abs(a) + abs(n)))
    return max(errors)
""", None),
    Answer("max_rel_error_check", 'absolute error, not relative', """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n)))
""", 'the task asks for the RELATIVE error'),
    Answer("max_rel_error_check", 'squared differences over squared magnitudes', """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max((a - n) ** 2 / np.maximum(1e-8, a**2 + n**2)))
""", 'not squares'),
    Answer("max_rel_error_check", "relative error of the whole vectors (Andrew Ng's gradient check)", """
def max_rel_error_check(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.linalg.norm(a - n) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(n)))
""", 'relative error of the whole vectors'),
]
