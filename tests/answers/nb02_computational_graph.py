"""Realistic answers to exercises/02_computational_graph.ipynb (see tests/answers/__init__.py)."""

from . import Answer

EXERCISE = "02_computational_graph"

POW = [
    Answer("graph_pow_backward", "exponent not lowered", """
def pow_backward(a, n, out_grad):
    return n * a ** n * out_grad
""", "the exponent should drop by one"),
    Answer("graph_pow_backward", "forgot the upstream gradient", """
def pow_backward(a, n, out_grad):
    return n * a ** (n - 1)
""", "chain factor"),
    Answer("graph_pow_backward", "forgot the factor n", """
def pow_backward(a, n, out_grad):
    return a ** (n - 1) * out_grad
""", "factor n in front"),
    Answer("graph_pow_backward", "factor n - 1 in front", """
def pow_backward(a, n, out_grad):
    return (n - 1) * a ** (n - 1) * out_grad
""", "the factor in front is n"),
    Answer("graph_pow_backward", "precedence a ** n-1", """
def pow_backward(a, n, out_grad):
    return n * a ** n-1 * out_grad
""", "operator precedence"),
    Answer("graph_pow_backward", "^ for the power", """
def pow_backward(a, n, out_grad):
    return n * a ^ (n - 1) * out_grad
""", "bitwise XOR"),
    Answer("graph_pow_backward", "repeated multiplication", """
def pow_backward(a, n, out_grad):
    result = 1.0
    for _ in range(n - 1):
        result *= a
    return n * result * out_grad
""", "not a loop over `range(n)`"),
    Answer("graph_pow_backward", "derivative with respect to n", """
def pow_backward(a, n, out_grad):
    return a ** n * math.log(a) * out_grad
""", "with respect to the exponent"),
    Answer("graph_pow_backward", "central difference by hand", """
def pow_backward(a, n, out_grad):
    h = 1e-5
    return ((a + h) ** n - (a - h) ** n) / (2 * h) * out_grad
""", "finite difference"),
    Answer("graph_pow_backward", "the library's central_difference", """
from backprop_lib.gradcheck import central_difference

def pow_backward(a, n, out_grad):
    return central_difference(lambda t: t ** n, a, 1e-6) * out_grad
""", "finite difference"),
    Answer("graph_pow_backward", "the engine's local rule", """
def pow_backward(a, n, out_grad):
    return (Value(a) ** n).local_grads[0] * out_grad
""", "reference implementation"),
    Answer("graph_pow_backward", "ok: out_grad first", """
def pow_backward(a, n, out_grad):
    return out_grad * n * a ** (n - 1)
""", None),
    Answer("graph_pow_backward", "ok: math.pow", """
def pow_backward(a, n, out_grad):
    return n * math.pow(a, n - 1) * out_grad
""", None),
    Answer("graph_pow_backward", "ok: a**n / a", """
def pow_backward(a, n, out_grad):
    return n * a ** n / a * out_grad
""", None),
    Answer("graph_pow_backward", 'int(n) for the exponent', """
def pow_backward(a, n, out_grad):
    n = int(n)
    return n * a ** (n - 1) * out_grad
""", 'you used int(n)'),
]

TANH = [
    Answer("graph_tanh_backward", "1 - a**2", """
def tanh_backward(a, out_grad):
    return (1 - a ** 2) * out_grad
""", "use the OUTPUT t = tanh(a)"),
    Answer("graph_tanh_backward", "forgot the upstream gradient", """
def tanh_backward(a, out_grad):
    return 1 - math.tanh(a) ** 2
""", "chain factor"),
    Answer("graph_tanh_backward", "not squared", """
def tanh_backward(a, out_grad):
    return (1 - math.tanh(a)) * out_grad
""", "(squared)"),
    Answer("graph_tanh_backward", "precedence with out_grad", """
def tanh_backward(a, out_grad):
    t = math.tanh(a)
    return 1 - t ** 2 * out_grad
""", "operator precedence"),
    Answer("graph_tanh_backward", "squared (1 - t)", """
def tanh_backward(a, out_grad):
    return (1 - math.tanh(a)) ** 2 * out_grad
""", "squared the wrong thing"),
    Answer("graph_tanh_backward", "the sigmoid's rule", """
def tanh_backward(a, out_grad):
    t = math.tanh(a)
    return t * (1 - t) * out_grad
""", "sigmoid's rule"),
    Answer("graph_tanh_backward", "tanh(a**2)", """
def tanh_backward(a, out_grad):
    return (1 - math.tanh(a ** 2)) * out_grad
""", "tanh(a**2) is not tanh(a)**2"),
    Answer("graph_tanh_backward", "math.cosh overflows", """
def tanh_backward(a, out_grad):
    return out_grad / math.cosh(a) ** 2
""", "overflow for large |a|"),
    Answer("graph_tanh_backward", "central difference", """
def tanh_backward(a, out_grad):
    h = 1e-5
    return (math.tanh(a + h) - math.tanh(a - h)) / (2 * h) * out_grad
""", "finite difference"),
    Answer("graph_tanh_backward", "float32", """
def tanh_backward(a, out_grad):
    t = np.tanh(np.float32(a))
    return (1 - t * t) * np.float32(out_grad)
""", "float"),
    Answer("graph_tanh_backward", "the library's tanh_grad", """
from backprop_lib.activations import tanh_grad

def tanh_backward(a, out_grad):
    return float(tanh_grad(a)) * out_grad
""", "reference implementation"),
    Answer("graph_tanh_backward", "the engine", """
def tanh_backward(a, out_grad):
    x = Value(a)
    x.tanh().backward()
    return x.grad * out_grad
""", "reference implementation"),
    Answer("graph_tanh_backward", "ok: numpy", """
def tanh_backward(a, out_grad):
    return out_grad * (1 - np.tanh(a) ** 2)
""", None),
    Answer("graph_tanh_backward", "ok: (1 - t)(1 + t)", """
def tanh_backward(a, out_grad):
    t = math.tanh(a)
    return out_grad * (1 - t) * (1 + t)
""", None),
    Answer("graph_tanh_backward", "ok: 1/cosh² with numpy (cosh -> inf gives 0)", """
def tanh_backward(a, out_grad):
    with np.errstate(over="ignore"):
        return out_grad / np.cosh(a) ** 2
""", None),
]

ADD = [
    Answer("graph_add_accumulate", "= instead of +=", """
def add_backward(out):
    a, b = out.inputs
    a.grad = out.grad
    b.grad = out.grad
""", "you used `=` instead of `+=`"),
    Answer("graph_add_accumulate", "+= for a, = for b", """
def add_backward(out):
    a, b = out.inputs
    a.grad += out.grad
    b.grad = out.grad
""", "for b you used `=`"),
    Answer("graph_add_accumulate", "skips b when it is a", """
def add_backward(out):
    a, b = out.inputs
    a.grad += out.grad
    if b is not a:
        b.grad += out.grad
""", "receive out.grad twice, once per path"),
    Answer("graph_add_accumulate", "a set of the inputs", """
def add_backward(out):
    for node in set(out.inputs):
        node.grad += out.grad
""", "skipped b because it is the same node as a"),
    Answer("graph_add_accumulate", "both new values computed from the old ones", """
def add_backward(out):
    a, b = out.inputs
    new_a = a.grad + out.grad
    new_b = b.grad + out.grad
    a.grad = new_a
    b.grad = new_b
""", "the second assignment overwrote the first"),
    Answer("graph_add_accumulate", "missing out.grad factor", """
def add_backward(out):
    a, b = out.inputs
    a.grad += 1.0
    b.grad += 1.0
""", "the out.grad factor is missing"),
    Answer("graph_add_accumulate", "local derivative without out.grad", """
def add_backward(out):
    for child, local in zip(out.inputs, out.local_grads):
        child.grad += local
""", "the out.grad factor is missing"),
    Answer("graph_add_accumulate", "returns the values", """
def add_backward(out):
    a, b = out.inputs
    return a.grad + out.grad, b.grad + out.grad
""", "the engine ignores a returned value"),
    Answer("graph_add_accumulate", "updates a local copy", """
def add_backward(out):
    a, b = out.inputs
    grad_a, grad_b = a.grad, b.grad
    grad_a += out.grad
    grad_b += out.grad
""", "a float is immutable"),
    Answer("graph_add_accumulate", "splits the gradient", """
def add_backward(out):
    a, b = out.inputs
    a.grad += out.grad / 2
    b.grad += out.grad / 2
""", "you split out.grad"),
    Answer("graph_add_accumulate", "the rule of multiplication", """
def add_backward(out):
    a, b = out.inputs
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad
""", "rule of multiplication"),
    Answer("graph_add_accumulate", "clears out.grad afterwards", """
def add_backward(out):
    a, b = out.inputs
    a.grad += out.grad
    b.grad += out.grad
    out.grad = 0.0
""", "changed out.grad"),
    Answer("graph_add_accumulate", "updates .data", """
def add_backward(out):
    a, b = out.inputs
    a.data += out.grad
    b.data += out.grad
""", "changed an input's .data"),
    Answer("graph_add_accumulate", "calls the engine's backward", """
def add_backward(out):
    out.backward()
""", "reference implementation"),
    Answer("graph_add_accumulate", "ok: the generic rule with local_grads", """
def add_backward(out):
    for child, local in zip(out.inputs, out.local_grads):
        child.grad += local * out.grad
""", None),
    Answer("graph_add_accumulate", "ok: a loop over the inputs", """
def add_backward(out):
    for child in out.inputs:
        child.grad = child.grad + out.grad
""", None),
    Answer("graph_add_accumulate", "ok: indexing, returns None explicitly", """
def add_backward(out):
    out.inputs[0].grad += out.grad
    out.inputs[1].grad += out.grad
    return None
""", None),
    Answer("graph_add_accumulate", 'adds out.data instead of out.grad', """
def add_backward(out):
    a, b = out.inputs
    a.grad += out.data
    b.grad += out.data
""", 'you added out.data'),
    Answer("graph_add_accumulate", 'ok: special case for x + x', """
def add_backward(out):
    a, b = out.inputs
    if a is b:
        a.grad += 2 * out.grad
    else:
        a.grad += out.grad
        b.grad += out.grad
""", None),
]

_TOPO_OK = """
def topological_sort(root):
    order, visited, stack = [], {root}, [(root, iter(root.inputs))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
"""

TOPO = [
    Answer("graph_topological_sort", "no visited set (explicit stack)", """
def topological_sort(root):
    order, stack = [], [(root, iter(root.inputs))]
    while stack:
        node, children = stack[-1]
        for child in children:
            stack.append((child, iter(child.inputs)))
            break
        else:
            stack.pop()
            order.append(node)
    return order
""", "visits a shared node twice"),
    Answer("graph_topological_sort", "recursion without a visited set", """
def topological_sort(root):
    order = []
    def visit(node):
        for child in node.inputs:
            visit(child)
        order.append(node)
    visit(root)
    return order
""", "keep a `visited`"),
    Answer("graph_topological_sort", "recursion with a visited set (micrograd)", """
def topological_sort(root):
    order, visited = [], set()
    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v.inputs:
                build(child)
            order.append(v)
    build(root)
    return order
""", "explicit stack"),
    Answer("graph_topological_sort", "returned reversed", _TOPO_OK.replace("return order", "return order[::-1]"),
           "the list is reversed"),
    Answer("graph_topological_sort", "reversed order of first visit (stack)", """
def topological_sort(root):
    order, visited, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node not in visited:
            visited.add(node)
            order.append(node)
            stack.extend(node.inputs)
    return order[::-1]
""", "comes before its input"),
    Answer("graph_topological_sort", "reversed breadth-first order", """
from collections import deque

def topological_sort(root):
    order, visited, queue = [], {root}, deque([root])
    while queue:
        node = queue.popleft()
        order.append(node)
        for child in node.inputs:
            if child not in visited:
                visited.add(child)
                queue.append(child)
    return list(reversed(order))
""", "comes before its input"),
    Answer("graph_topological_sort", "pre-order (append when first reached)", """
def topological_sort(root):
    order, visited, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node not in visited:
            visited.add(node)
            order.append(node)
            stack.extend(node.inputs)
    return order
""", "pre-order"),
    Answer("graph_topological_sort", "mutable default arguments", """
def topological_sort(root, order=[], visited=set()):
    visited.add(root)
    stack = [(root, iter(root.inputs))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
""", "default arguments"),
    Answer("graph_topological_sort", "visited set of values", """
def topological_sort(root):
    order, visited, stack = [], {root.data}, [(root, iter(root.inputs))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child.data not in visited:
                visited.add(child.data)
                stack.append((child, iter(child.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
""", "Does your visited set hold values"),
    Answer("graph_topological_sort", "leaves left out", _TOPO_OK.replace(
        "            order.append(node)", "            if node.inputs:\n                order.append(node)"),
           "leaves included"),
    Answer("graph_topological_sort", "root left out", _TOPO_OK.replace("return order", "return order[:-1]"),
           "leaves included"),
    Answer("graph_topological_sort", "returns the visited set", """
def topological_sort(root):
    visited, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node not in visited:
            visited.add(node)
            stack.extend(node.inputs)
    return visited
""", "which has no order"),
    Answer("graph_topological_sort", "returns the values",
           _TOPO_OK.replace("order.append(node)", "order.append(node.data)"), "not their .data"),
    Answer("graph_topological_sort", "marks the nodes", """
def topological_sort(root):
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        if not getattr(node, "visited", False):
            node.visited = True
            order.append(node)
            stack.extend(node.inputs)
    return order[::-1]
""", "keep your bookkeeping outside the nodes"),
    Answer("graph_topological_sort", "the library's topological_order under another name", """
from backprop_lib.engine import topological_order
topological_sort = topological_order
""", "reference implementation"),
    Answer("graph_topological_sort", "through backward_steps", """
from backprop_lib.widgets import backward_steps

def topological_sort(root):
    nodes = [step.node for step in backward_steps(root)]
    return nodes[::-1]
""", "reference implementation"),
    Answer("graph_topological_sort", "ok: the (node, iterator) stack", _TOPO_OK, None),
    Answer("graph_topological_sort", "ok: Kahn's algorithm", """
def topological_sort(root):
    users, stack, seen = {}, [root], {root}
    while stack:                       # count how many nodes use each node
        node = stack.pop()
        for child in node.inputs:
            users[child] = users.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    order, ready = [], [root]
    while ready:                       # a node is ready once all its users are placed
        node = ready.pop()
        order.append(node)
        for child in node.inputs:
            users[child] -= 1
            if users[child] == 0:
                ready.append(child)
    return order[::-1]
""", None),
    Answer("graph_topological_sort", "ok: two-phase stack entries", """
def topological_sort(root):
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for child in node.inputs:
            if child not in visited:
                stack.append((child, False))
    return order
""", None),
    Answer("graph_topological_sort", 'recursion with a raised recursion limit', """
def topological_sort(root):
    import sys
    sys.setrecursionlimit(100000)
    order, seen = [], set()

    def visit(v):
        if v in seen:
            return
        seen.add(v)
        for c in v.inputs:
            visit(c)
        order.append(v)

    visit(root)
    return order
""", 'sys.setrecursionlimit'),
    Answer("graph_topological_sort", 'ok: (node, expanded) pairs, visited by id', """
def topological_sort(root):
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for c in reversed(node.inputs):
            if id(c) not in seen:
                stack.append((c, False))
    return order
""", None),
]

HAND = [
    Answer("graph_grads_by_hand", "only the path through x*y", """
def grads_by_hand(x, y, z):
    return x * y, x * x, x
""", "you kept only the path through x*y"),
    Answer("graph_grads_by_hand", "only the outer path", """
def grads_by_hand(x, y, z):
    return x * y + z, x ** 2, x
""", "add the gradients of BOTH paths"),
    Answer("graph_grads_by_hand", "lost the z", """
def grads_by_hand(x, y, z):
    return 2 * x * y, x ** 2, x
""", "lost the z"),
    Answer("graph_grads_by_hand", "inner path without the upstream x", """
def grads_by_hand(x, y, z):
    return y + (x * y + z), x ** 2, x
""", "multiplied by the upstream gradient x"),
    Answer("graph_grads_by_hand", "df/dy = x", """
def grads_by_hand(x, y, z):
    return 2 * x * y + z, x, x
""", "the gradient for y is x times"),
    Answer("graph_grads_by_hand", "x*2 for x squared", """
def grads_by_hand(x, y, z):
    return 2 * x * y + z, x * 2, x
""", "`x*2` is 2x"),
    Answer("graph_grads_by_hand", "df/dz = 1", """
def grads_by_hand(x, y, z):
    return 2 * x * y + z, x ** 2, 1
""", "df/dz = x"),
    Answer("graph_grads_by_hand", "wrong order", """
def grads_by_hand(x, y, z):
    return x ** 2, 2 * x * y + z, x
""", "in the wrong order"),
    Answer("graph_grads_by_hand", "^ for the square", """
def grads_by_hand(x, y, z):
    return 2 * x * y + z, x ^ 2, x
""", "bitwise XOR"),
    Answer("graph_grads_by_hand", "central differences", """
def grads_by_hand(x, y, z):
    f = lambda x, y, z: (x * y + z) * x
    h = 1e-5
    return ((f(x + h, y, z) - f(x - h, y, z)) / (2 * h),
            (f(x, y + h, z) - f(x, y - h, z)) / (2 * h),
            (f(x, y, z + h) - f(x, y, z - h)) / (2 * h))
""", "finite difference"),
    Answer("graph_grads_by_hand", "the engine", """
def grads_by_hand(x, y, z):
    vx, vy, vz = Value(x), Value(y), Value(z)
    f = (vx * vy + vz) * vx
    f.backward()
    return vx.grad, vy.grad, vz.grad
""", "reference implementation"),
    Answer("graph_grads_by_hand", "ok: expanded", """
def grads_by_hand(x, y, z):
    return 2 * x * y + z, x ** 2, x
""", None),
    Answer("graph_grads_by_hand", "ok: per path, a list", """
def grads_by_hand(x, y, z):
    outer = x * y + z          # the outer factor x multiplies (x*y + z)
    inner = y * x              # through x*y: local y, upstream x
    return [outer + inner, x * x, x]
""", None),
    Answer("graph_grads_by_hand", "ok: numpy array", """
def grads_by_hand(x, y, z):
    return np.array([2 * x * y + z, x * x, x])
""", None),
    Answer("graph_grads_by_hand", 'df/dx from the parentheses only, plus z', """
def grads_by_hand(x, y, z):
    return y + z, x ** 2, x
""", 'use the product rule'),
    Answer("graph_grads_by_hand", 'df/dy = x*y', """
def grads_by_hand(x, y, z):
    return 2 * x * y + z, x * y, x
""", 'df/dy = x * x, not x * y'),
]

_TRAIN = """
def train_xor(model, X, y, lr, steps):
    losses = []
    for _ in range(steps):
        preds = [model(x) for x in X]
        loss = sum((p - t) ** 2 for p, t in zip(preds, y)) / len(X)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
"""

XOR = [
    Answer("graph_xor_training", "gradients never reset", _TRAIN.replace("        model.zero_grad()\n", ""),
           "the gradients were not reset between steps"),
    Answer("graph_xor_training", "+ instead of -", _TRAIN.replace("p.data -= lr", "p.data += lr"), "minus"),
    Answer("graph_xor_training", "zero_grad between backward and the update", _TRAIN.replace(
        "        model.zero_grad()\n        loss.backward()\n", "        loss.backward()\n        model.zero_grad()\n"),
        "reset after loss.backward() and before the update"),
    Answer("graph_xor_training", "loss recorded after the update", """
def train_xor(model, X, y, lr, steps):
    def mean_squared_error():
        return sum((model(x) - t) ** 2 for x, t in zip(X, y)) / len(X)
    losses = []
    loss = mean_squared_error()
    for _ in range(steps):
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        loss = mean_squared_error()
        losses.append(loss.data)
    return losses
""", "shifted by one step"),
    Answer("graph_xor_training", "sum instead of mean", _TRAIN.replace(" / len(X)", ""), "MEAN over the N examples"),
    Answer("graph_xor_training", "1/N twice", _TRAIN.replace("lr * p.grad", "lr * p.grad / len(X)"),
           "do not divide the gradient (or lr) by N again"),
    Answer("graph_xor_training", "rebinds the loop variable", _TRAIN.replace(
        "p.data -= lr * p.grad", "p = p - lr * p.grad"), "did not write into the parameters"),
    Answer("graph_xor_training", "a new model", _TRAIN.replace(
        "    losses = []\n", "    model = ValueMLP(2, [2, 1])\n    losses = []\n", 1), "do not create a new ValueMLP"),
    Answer("graph_xor_training", "one update per example", """
def train_xor(model, X, y, lr, steps):
    losses = []
    for _ in range(steps):
        total = 0.0
        for x, t in zip(X, y):
            loss = (model(x) - t) ** 2
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= lr * p.grad
            total += loss.data
        losses.append(total / len(X))
    return losses
""", "stochastic gradient descent"),
    Answer("graph_xor_training", "float(loss)",
           _TRAIN.replace("losses.append(loss.data)", "losses.append(float(loss))"), "use its `.data`"),
    Answer("graph_xor_training", "the whole batch through the model", _TRAIN.replace(
        "preds = [model(x) for x in X]", "preds = model(X)"), "one example at a time"),
    Answer("graph_xor_training", "parameters not called", _TRAIN.replace(
        "model.parameters()", "model.parameters"), "call it"),
    Answer("graph_xor_training", "the library's fit", """
from backprop_lib.nn_scalar import fit

def train_xor(model, X, y, lr, steps):
    return fit(model, X, y, lr=lr, steps=steps)
""", "reference implementation"),
    Answer("graph_xor_training", "fit one step at a time", """
from backprop_lib.nn_scalar import fit

def train_xor(model, X, y, lr, steps):
    return [fit(model, X, y, lr=lr, steps=1)[0] for _ in range(steps)]
""", "reference implementation"),
    Answer("graph_xor_training", "ok: the library's mse_loss and a manual reset", """
from backprop_lib.nn_scalar import mse_loss

def train_xor(model, X, y, lr, steps):
    params = model.parameters()
    history = []
    for step in range(steps):
        loss = mse_loss([model(x) for x in X], y)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        history.append(loss.data)
    return history
""", None),
    Answer("graph_xor_training", "ok: reset after the update, Values in the list", """
def train_xor(model, X, y, lr, steps):
    losses = []
    for _ in range(steps):
        loss = sum((model(x) - t) ** 2 for x, t in zip(X, y)) * (1.0 / len(X))
        loss.backward()
        for p in model.parameters():
            p.data = p.data - lr * p.grad
        model.zero_grad()
        losses.append(loss)
    return losses
""", None),
    Answer("graph_xor_training", "ok: loss.zero_grad() and recorded after the update", """
def train_xor(model, X, y, lr, steps):
    losses = []
    N = len(X)
    for _ in range(steps):
        loss = Value(0.0)
        for x_n, y_n in zip(X, y):
            loss = loss + (model(x_n) - y_n) ** 2 / N
        loss.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)   # the Value keeps the value it had before the update
    return losses
""", None),
    Answer("graph_xor_training", 'loss with a factor 1/2', """
def train_xor(model, X, y, lr, steps):
    losses = []
    for _ in range(steps):
        preds = [model(x) for x in X]
        loss = sum((p - t) ** 2 for p, t in zip(preds, y)) / (2 * len(X))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
""", 'without a factor 1/2'),
    Answer("graph_xor_training", 'range(1, steps): one step short', """
def train_xor(model, X, y, lr, steps):
    losses = []
    for _ in range(1, steps):
        preds = [model(x) for x in X]
        loss = sum((p - t) ** 2 for p, t in zip(preds, y)) / len(X)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
""", 'returned 14 losses'),
    Answer("graph_xor_training", 'zero_grad once, before the loop', """
def train_xor(model, X, y, lr, steps):
    losses = []
    model.zero_grad()
    for _ in range(steps):
        preds = [model(x) for x in X]
        loss = sum((p - t) ** 2 for p, t in zip(preds, y)) / len(X)
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
""", 'not reset between steps'),
    Answer("graph_xor_training", 'ok: backward per example, the gradients add up', """
def train_xor(model, X, y, lr, steps):
    losses = []
    N = len(X)
    for _ in range(steps):
        model.zero_grad()
        total = 0.0
        for x, t in zip(X, y):
            l = (model(x) - t) ** 2 / N
            l.backward()
            total += l.data
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(total)
    return losses
""", None),
]



# --------------------------------------------------------------------------- Task 7: the learner's own engine
# Each wrong answer is the whole class as a learner would write it, with one classic bug: the pieces below
# are the parts learners write differently; ``_engine`` puts a class together from them.

_INIT = """
    def __init__(self, data, inputs=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self.inputs = inputs
        self.local_grads = local_grads
"""
_MUL = """
    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.data * other.data, (self, other), (other.data, self.data))
"""
_TANH = """
    def tanh(self):
        t = math.tanh(self.data)
        return Scalar(t, (self,), (1.0 - t * t,))
"""
_EXP = """
    def exp(self):
        e = math.exp(self.data)
        return Scalar(e, (self,), (e,))
"""
_RELU = """
    def relu(self):
        return Scalar(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))
"""
_POW = """
    def __pow__(self, n):
        return Scalar(self.data ** n, (self,), (n * self.data ** (n - 1),))
"""
_BACKWARD = """
    def backward(self):
        order = topological_sort(self)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.grad
"""
_REST = """
    def __add__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.data + other.data, (self, other), (1.0, 1.0))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return other + (-self)

    def __rtruediv__(self, other):
        return other * self ** -1
"""


def _engine(*, head="class Scalar:", init=_INIT, mul=_MUL, tanh=_TANH, exp=_EXP, relu=_RELU, pow=_POW,
            backward=_BACKWARD, before=""):
    return before + head + init + mul + tanh + exp + relu + pow + backward + _REST


ENGINE = [
    Answer("graph_own_engine", "= instead of +=", _engine(backward="""
    def backward(self):
        order = topological_sort(self)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad = local * node.grad
"""), "uses `=`", function="Scalar"),
    Answer("graph_own_engine", "micrograd's build without the visited set (recursion visits a node twice)",
           _engine(backward="""
    def backward(self):
        topo = []
        def build(v):
            for child in v.inputs:
                build(child)
            topo.append(v)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.grad
"""), "more than once", function="Scalar"),
    Answer("graph_own_engine", "recursive backward: each node recurses into its inputs", _engine(backward="""
    def backward(self):
        self.grad = 1.0
        def propagate(node):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.grad
                propagate(child)
        propagate(self)
"""), "recurses into a node's inputs", function="Scalar"),
    Answer("graph_own_engine", "micrograd's recursive topological sort (right, but recursive)", _engine(backward="""
    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v.inputs:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.grad
"""), "recursion limit", function="Scalar"),
    Answer("graph_own_engine", "backward in forward order", _engine(backward="""
    def backward(self):
        order = topological_sort(self)
        self.grad = 1.0
        for node in order:
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.grad
"""), "REVERSE", function="Scalar"),
    Answer("graph_own_engine", "no seed out.grad = 1", _engine(backward="""
    def backward(self):
        order = topological_sort(self)
        for node in reversed(order):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.grad
"""), "SEED", function="Scalar"),
    Answer("graph_own_engine", "seed set after the loop", _engine(backward="""
    def backward(self):
        for node in reversed(topological_sort(self)):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.grad
        self.grad = 1.0
"""), "BEFORE the first node passes", function="Scalar"),
    Answer("graph_own_engine", "local times node.data", _engine(backward="""
    def backward(self):
        order = topological_sort(self)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.data
"""), "node.data (the node's VALUE)", function="Scalar"),
    Answer("graph_own_engine", "multiplication's local derivatives not swapped", _engine(mul="""
    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.data * other.data, (self, other), (self.data, other.data))
"""), "multiplication swaps", function="Scalar"),
    Answer("graph_own_engine", "tanh's derivative from the input", _engine(tanh="""
    def tanh(self):
        return Scalar(math.tanh(self.data), (self,), (1 - self.data ** 2,))
"""), "you used the input", function="Scalar"),
    Answer("graph_own_engine", "exp's derivative is the input", _engine(exp="""
    def exp(self):
        return Scalar(math.exp(self.data), (self,), (self.data,))
"""), "not a (the input)", function="Scalar"),
    Answer("graph_own_engine", "relu passes the gradient always", _engine(relu="""
    def relu(self):
        return Scalar(max(0.0, self.data), (self,), (1.0,))
"""), "0 for a < 0", function="Scalar"),
    Answer("graph_own_engine", "power rule without lowering the exponent", _engine(pow="""
    def __pow__(self, n):
        return Scalar(self.data ** n, (self,), (n * self.data ** n,))
"""), "lowers the exponent", function="Scalar"),
    Answer("graph_own_engine", "the library's topological_order",
           _engine(before="from backprop_lib.engine import topological_order\n\n", backward="""
    def backward(self):
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            for child, local in zip(node.inputs, node.local_grads):
                child.grad += local * node.grad
"""), "reference implementation", function="Scalar"),
    Answer("graph_own_engine", "a subclass of Value", """
class Scalar(Value):
    pass
""", "subclass of the library's Value", function="Scalar"),
    Answer("graph_own_engine", "wraps a Value inside", """
class Scalar:
    def __init__(self, data, node=None):
        self.node = node if node is not None else Value(data)

    @property
    def data(self):
        return self.node.data

    @property
    def grad(self):
        return self.node.grad

    def _lift(self, other):
        return other.node if isinstance(other, Scalar) else other

    def __add__(self, other): return Scalar(None, self.node + self._lift(other))
    def __radd__(self, other): return Scalar(None, other + self.node)
    def __mul__(self, other): return Scalar(None, self.node * self._lift(other))
    def __rmul__(self, other): return Scalar(None, other * self.node)
    def __sub__(self, other): return Scalar(None, self.node - self._lift(other))
    def __rsub__(self, other): return Scalar(None, other - self.node)
    def __truediv__(self, other): return Scalar(None, self.node / self._lift(other))
    def __rtruediv__(self, other): return Scalar(None, other / self.node)
    def __pow__(self, n): return Scalar(None, self.node ** n)
    def __neg__(self): return Scalar(None, -self.node)
    def tanh(self): return Scalar(None, self.node.tanh())
    def exp(self): return Scalar(None, self.node.exp())
    def relu(self): return Scalar(None, self.node.relu())
    def backward(self): self.node.backward()
""", "reference implementation", function="Scalar"),
    Answer("graph_own_engine", "ok: micrograd-style _backward closures, iterative sort inline", """
class Scalar:
    def __init__(self, data, _children=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = _children
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        out = Scalar(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        out = Scalar(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, n):
        out = Scalar(self.data ** n, (self,))
        def _backward():
            self.grad += n * self.data ** (n - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Scalar(t, (self,))
        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Scalar(math.exp(self.data), (self,))
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Scalar(self.data if self.data > 0 else 0.0, (self,))
        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()

    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other ** -1
    def __rtruediv__(self, other): return other * self ** -1
""", None, function="Scalar"),
    Answer("graph_own_engine", "ok: zeroes every grad first, math.pow, relu as a product", _engine(
        pow="""
    def __pow__(self, n):
        return Scalar(math.pow(self.data, n), (self,), (n * math.pow(self.data, n - 1),))
""", relu="""
    def relu(self):
        on = self.data > 0
        return Scalar(self.data * on, (self,), (float(on),))
""", backward="""
    def backward(self):
        order = topological_sort(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in order[::-1]:
            for child, local in zip(node.inputs, node.local_grads):
                child.grad = child.grad + local * node.grad
"""), None, function="Scalar"),
]

# --------------------------------------------------------------------------- Task 8: forward mode

FORWARD = [
    Answer("graph_forward_mode", "every input seeded with tangent 1", """
def gradient_forward_mode(f, x):
    return [f([Dual(v, 1.0) for v in x]).tangent for _ in x]
""", "seeded EVERY input with tangent 1"),
    Answer("graph_forward_mode", "one pass with all tangents 1, one number returned", """
def gradient_forward_mode(f, x):
    return f([Dual(v, 1.0) for v in x]).tangent
""", "the sum of the partial derivatives"),
    Answer("graph_forward_mode", "seeds not reset between passes", """
def gradient_forward_mode(f, x):
    seeds = [0.0] * len(x)
    grad = []
    for i in range(len(x)):
        seeds[i] = 1.0
        grad.append(f([Dual(v, s) for v, s in zip(x, seeds)]).tangent)
    return grad
""", "not reset between passes"),
    Answer("graph_forward_mode", "the value instead of the tangent", """
def gradient_forward_mode(f, x):
    grad = []
    for i in range(len(x)):
        out = f([Dual(x[j], 1.0 if j == i else 0.0) for j in range(len(x))])
        grad.append(out.value)
    return grad
""", ".tangent"),
    Answer("graph_forward_mode", "only the seeded input as a Dual", """
def gradient_forward_mode(f, x):
    grad = []
    for i in range(len(x)):
        inputs = list(x)
        inputs[i] = Dual(x[i], 1.0)
        grad.append(f(inputs).tangent)
    return grad
""", "pass EVERY input as a Dual", status="fail"),
    Answer("graph_forward_mode", "reverse mode with Value", """
def gradient_forward_mode(f, x):
    leaves = [Value(v) for v in x]
    f(leaves).backward()
    return [leaf.grad for leaf in leaves]
""", "that is reverse mode"),
    Answer("graph_forward_mode", "central differences on Duals without tangents", """
def gradient_forward_mode(f, x):
    h = 1e-6
    grad = []
    for i in range(len(x)):
        up = [Dual(v + (h if j == i else 0.0)) for j, v in enumerate(x)]
        down = [Dual(v - (h if j == i else 0.0)) for j, v in enumerate(x)]
        grad.append((f(up).value - f(down).value) / (2 * h))
    return grad
""", "finite difference"),
    Answer("graph_forward_mode", "off by one: range(len(x) - 1)", """
def gradient_forward_mode(f, x):
    return [f([Dual(x[j], 1.0 if j == i else 0.0) for j in range(len(x))]).tangent for i in range(len(x) - 1)]
""", "one partial derivative per input"),
    Answer("graph_forward_mode", "returns the Duals", """
def gradient_forward_mode(f, x):
    return [f([Dual(x[j], 1.0 if j == i else 0.0) for j in range(len(x))]) for i in range(len(x))]
""", "returned Dual numbers"),
    Answer("graph_forward_mode", "the library's jvp", """
from backprop_lib.forward_mode import jvp

def gradient_forward_mode(f, x):
    return [jvp(f, x, [1.0 if j == i else 0.0 for j in range(len(x))])[1] for i in range(len(x))]
""", "reference implementation"),
    Answer("graph_forward_mode", "the library's gradient_forward", """
from backprop_lib.forward_mode import gradient_forward as gradient_forward_mode
""", "reference implementation"),
    Answer("graph_forward_mode", "every pass run twice", """
def gradient_forward_mode(f, x):
    grad = []
    for i in range(len(x)):
        seeded = [Dual(x[j], 1.0 if j == i else 0.0) for j in range(len(x))]
        f(seeded)
        grad.append(f(seeded).tangent)
    return grad
""", "exactly one pass per input"),
    Answer("graph_forward_mode", "ok: a numpy identity matrix for the seeds", """
def gradient_forward_mode(f, x):
    seeds = np.eye(len(x))
    return np.array([f([Dual(v, t) for v, t in zip(x, row)]).tangent for row in seeds])
""", None),
    Answer("graph_forward_mode", "ok: a tuple, seeds as ints", """
def gradient_forward_mode(f, x):
    out = ()
    for i, _ in enumerate(x):
        out += (f([Dual(v, int(j == i)) for j, v in enumerate(x)]).tangent,)
    return out
""", None),
]

ANSWERS = POW + TANH + ADD + TOPO + HAND + XOR + ENGINE + FORWARD
