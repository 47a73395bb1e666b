"""Build a small class of submissions for the grader's tests and benchmark.

For every solution notebook that exists (``solutions/*.ipynb`` and the test-only demo
exercise here) the class has: the reference solution (full marks), the untouched exercise
(zero, no crash), and two notebooks with realistic wrong answers (``wrong_a`` gets the
tasks at even positions wrong, ``wrong_b`` the odd ones: partial marks with the intended
hints). Then one notebook per hostile case, each made by editing the code cells of one of
those solution notebooks (the cases rotate over the exercises, so a new notebook is
covered without extra work). :func:`build_class` returns the expected table alongside.

Every student is a folder: ``<root>/<student>/<exercise>.ipynb``.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

from backprop_lib.exercises import BEGIN, END, generate_notebook, render, task_cells

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEMO_SOLUTION = HERE / "solutions" / "90_grading_demo.ipynb"
DEMO_CHECKS = HERE / "demo_checks.py"

# Realistic wrong answers by task: (body, the hint the check should give). A body unpacks the
# arguments with `locals()` so it does not depend on the parameter names the notebook chose
# (`locals()` at the top of the body holds every parameter in signature order, defaults and
# keyword-only ones included). Each body stands alone: it uses the notebook's setup imports and
# the library, never another task's function.
WRONG = {
    # 01_chain_rule
    "central_diff": ("f, x, h = list(locals().values())\nreturn (f(x + h) - f(x)) / h",
                     "you used the forward difference"),
    "chain_rule_derivative": ("f, df, g, dg, x = list(locals().values())\nreturn df(g(x))",
                              "you forgot the inner derivative"),
    "gradient_2d": ("x, y = list(locals().values())\nc = np.cos(3 * x - y)\n"
                    "return np.array([x**2 - c, 2 * x * y + 3 * c])",
                    "you swapped the partial derivatives"),
    "stable_sigmoid_derivative": ("(x,) = list(locals().values())\nreturn np.exp(-np.logaddexp(0, -x))",
                                  "you returned sigma(x) itself"),
    "max_rel_error_check": ("f, df, xs, h = list(locals().values())\n"
                            "a = np.array([df(t) for t in xs])\n"
                            "n = np.array([(f(t + h) - f(t - h)) / (2 * h) for t in xs])\n"
                            "return float(np.mean(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))",
                            "return the MAX over the points"),
    # 02_computational_graph
    "graph_pow_backward": ("a, n, out_grad = list(locals().values())\nreturn n * a ** n * out_grad",
                           "the exponent should drop by one"),
    "graph_tanh_backward": ("a, out_grad = list(locals().values())\nreturn (1.0 - a * a) * out_grad",
                            "use the OUTPUT t = tanh(a) in the derivative"),
    "graph_add_accumulate": ("(out,) = list(locals().values())\na, b = out.inputs\n"
                             "a.grad = out.grad\nb.grad = out.grad",
                             "you used `=` instead of `+=`"),
    "graph_topological_sort": ("(root,) = list(locals().values())\n"
                               "order = []\nstack = [(root, iter(root.inputs))]\n"
                               "while stack:\n    node, children = stack[-1]\n"
                               "    for child in children:\n        stack.append((child, iter(child.inputs)))\n"
                               "        break\n    else:\n        stack.pop()\n        order.append(node)\n"
                               "return order",
                               "visits a shared node twice"),
    "graph_grads_by_hand": ("x, y, z = list(locals().values())\nreturn x * y, x * x, x",
                            "add the gradients of BOTH paths; you kept only the path through x*y"),
    "graph_xor_training": ("model, X, y, lr, steps = list(locals().values())\nlosses = []\n"
                           "for _ in range(steps):\n    preds = [model(x) for x in X]\n"
                           "    loss = sum((p - t) ** 2 for p, t in zip(preds, y)) / len(X)\n"
                           "    loss.backward()\n    for p in model.parameters():\n        p.data -= lr * p.grad\n"
                           "    losses.append(loss.data)\nreturn losses",
                           "the gradients were not reset between steps"),
    # the first solution block of the class Scalar is its __init__: local derivatives stored doubled
    "graph_own_engine": ("self.data = float(data)\nself.grad = 0.0\nself.inputs = inputs\n"
                         "self.local_grads = tuple(2 * g for g in local_grads)",
                         "the local derivative of a + b is 1 and 1"),
    "graph_forward_mode": ("return [f([Dual(v, 1.0) for v in x]).tangent for _ in x]",
                           "seeded EVERY input with tangent 1"),
    # 03_layerwise_delta (the 1/N of the mean loss enters once, in the output delta)
    "delta_output_softmax_ce": ("logits, labels = list(locals().values())\n"
                                "return softmax(logits) - one_hot(labels, logits.shape[1])",
                                "you returned the per-example delta p - y, but the loss is the MEAN"),
    "delta_hidden_bp2": ("delta_next, W_next, z = list(locals().values())\n"
                         "return (delta_next @ W_next) * z * (1 - z)",
                         "you used z * (1 - z)"),
    "delta_param_grads": ("delta, a_prev = list(locals().values())\n"
                          "N = delta.shape[0]\nreturn delta.T @ a_prev / N, delta.sum(axis=0) / N",
                          "dW is divided by N: delta already carries the 1/N of the mean loss"),
    "delta_two_layer_backward": ("params, cache, labels = list(locals().values())\n"
                                 "X, a1, z2 = cache['X'], cache['a1'], cache['z2']\nN = X.shape[0]\n"
                                 "d2 = (softmax(z2) - one_hot(labels, z2.shape[1])) / N\n"
                                 "d1 = (d2 @ params['W2']) * sigmoid_grad(a1)\n"
                                 "return {'W1': d1.T @ X, 'b1': d1.sum(axis=0),\n"
                                 "        'W2': d2.T @ a1, 'b2': d2.sum(axis=0)}",
                                 "you applied sigma' to the activation a1 instead of to z1"),
    "delta_sgd_step": ("params, grads, lr = list(locals().values())\n"
                       "return {k: params[k] + lr * grads[k] for k in params}",
                       "sign error in the update"),
    "delta_train_digits": ("X_train, y_train, hidden, epochs, lr, batch_size, seed = list(locals().values())\n"
                           "rng = np.random.default_rng(seed)\n"
                           "params = {'W1': np.zeros((hidden, X_train.shape[1])), 'b1': np.zeros(hidden),\n"
                           "          'W2': np.zeros((10, hidden)), 'b2': np.zeros(10)}\n"
                           "N = X_train.shape[0]\n"
                           "for epoch in range(epochs):\n    order = rng.permutation(N)\n"
                           "    for start in range(0, N, batch_size):\n"
                           "        idx = order[start:start + batch_size]\n"
                           "        _, cache = two_layer_forward(params, X_train[idx])\n        n = len(idx)\n"
                           "        d2 = (softmax(cache['z2']) - one_hot(y_train[idx], 10)) / n\n"
                           "        d1 = (d2 @ params['W2']) * sigmoid_grad(cache['z1'])\n"
                           "        grads = {'W1': d1.T @ cache['X'], 'b1': d1.sum(axis=0),\n"
                           "                 'W2': d2.T @ cache['a1'], 'b2': d2.sum(axis=0)}\n"
                           "        params = {k: params[k] - lr * grads[k] for k in params}\n"
                           "return params",
                           "all hidden units are identical"),
    "delta_xw_backward": ("dZ, X, W = list(locals().values())\n"
                          "return dZ @ W, dZ.T @ X, dZ.sum(axis=0)",
                          "Reason with the shapes"),
    "delta_softmax_vjp": ("z, v = list(locals().values())\n"
                          "p = softmax(z)\nreturn v * p * (1 - p)",
                          "you treated softmax as an elementwise function"),
    # 04_vanishing_gradients
    "sigmoid_chain_bound": ("weights, activation = list(locals().values())\n"
                            "max_slope = 0.5 if activation == 'sigmoid' else 1.0\n"
                            "return float(np.prod(np.abs(weights)) * max_slope ** len(weights))",
                            "1/2 is sigma(0), the value, not the slope"),
    "scaled_init": ("kind, n_in, n_out, rng = list(locals().values())\n"
                    "var = 2.0 / (n_in + n_out) if kind == 'xavier' else 2.0 / n_in\n"
                    "return var * rng.standard_normal((n_out, n_in))",
                    "you used the variance where the standard deviation is needed"),
    "per_layer_grad_norms": ("weights, zs, activations, delta_out, act_grad = list(locals().values())\n"
                             "L = len(weights)\nnorms = np.zeros(L)\ndelta = delta_out\n"
                             "for l in range(L, 0, -1):\n"
                             "    norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])\n"
                             "    delta = delta @ weights[l - 1]\nreturn norms",
                             "each layer's delta needs the activation's derivative"),
    "clip_by_global_norm": ("grads, max_norm = list(locals().values())\n"
                            "return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}",
                            "you clipped each tensor separately"),
    "residual_block_backward": ("dout, x, W, b, scale = list(locals().values())\nz = x @ W.T + b\n"
                                "delta = scale * dout * (1.0 - np.tanh(z) ** 2)\n"
                                "return delta @ W, delta.T @ x, delta.sum(axis=0)",
                                "dx is missing the identity path"),
    "batchnorm_backward": ("dout, x, gamma, eps = list(locals().values())\n"
                           "inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)\n"
                           "xhat = (x - x.mean(axis=0)) * inv_std\n"
                           "return dout * gamma * inv_std, np.sum(dout * xhat, axis=0), dout.sum(axis=0)",
                           "you treated the batch mean and variance as constants"),
    # 05_checkpointing
    "ckpt_store_all_bytes": ("sizes, batch, itemsize = list(locals().values())\n"
                             "return batch * itemsize * 2 * sum(sizes[1:])",
                             "you forgot the input X"),
    "ckpt_segment_bounds": ("(n,) = list(locals().values())\nk = math.ceil(math.sqrt(n))\n"
                            "return list(range(0, n, k))",
                            "misses the end"),
    "ckpt_segment_backward": ("net, a_start, start, end, da_end = list(locals().values())\n"
                              "outputs, zs = {}, {}\na = a_start\n"
                              "for l in range(start + 1, end + 1):\n"
                              "    zs[l], a = net.layer_forward(l, a)\n    outputs[l] = a\n"
                              "grads = {}\nda = da_end\n"
                              "for l in range(end, start, -1):\n"
                              "    da, grads[f'W{l}'], grads[f'b{l}'], _ = net.layer_backward(\n"
                              "        l, da, outputs[l], zs[l], need_input_grad=True)\n"
                              "return da, grads",
                              "needs the layer's INPUT a_{l-1}; you passed its output a_l"),
    "ckpt_checkpointed_grads": ("net, X, y, segment_backward = list(locals().values())\n"
                                "bounds = sqrt_segments(net.n_layers)\ncheckpoints = {}\na = X\n"
                                "for start, end in zip(bounds[:-1], bounds[1:]):\n"
                                "    checkpoints[start] = a\n"
                                "    for l in range(start + 1, end + 1):\n"
                                "        _, a = net.layer_forward(l, a)\n"
                                "loss, da = net.output_loss(a, y)\ngrads = {}\n"
                                "pairs = list(zip(bounds[:-1], bounds[1:]))\n"
                                "for start, end in reversed(pairs[:-1]):  # the top segment is forgotten\n"
                                "    da, seg_grads = segment_backward(net, checkpoints[start], start, end, da)\n"
                                "    grads.update(seg_grads)\n"
                                "return loss, grads",
                                "did you forget the last segment?"),
    "ckpt_binomial_cost": ("n, slots = list(locals().values())\nr = 0\n"
                           "while math.comb(slots + r + 1, slots) < n:\n    r += 1\n"
                           "return r * n - math.comb(slots + r, slots + 1)",
                           "yours is one too small"),
    "ckpt_fewest_slots": ("n, budget = list(locals().values())\n"
                          "for s in range(1, n + 1):\n    if revolve_cost(n, s) < budget:\n        return s\n"
                          "return None",
                          "the budget is inclusive"),
    # 06_beyond_sgd
    "opt_momentum_step": ("w, grad, velocity, lr, momentum = list(locals().values())\n"
                          "velocity_new = momentum * velocity + grad\nreturn w - lr * grad, velocity_new",
                          "the update used the raw gradient, not the velocity"),
    "opt_adam_step": ("w, grad, m, v, t, lr, beta1, beta2, eps = list(locals().values())\n"
                      "m_new = beta1 * m + (1 - beta1) * grad\nv_new = beta2 * v + (1 - beta2) * grad**2\n"
                      "return w - lr * m_new / (np.sqrt(v_new) + eps), m_new, v_new",
                      "missing bias correction"),
    "opt_cosine_lr": ("lr0, epoch, t_max, eta_min = list(locals().values())\n"
                      "return eta_min + (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / t_max))",
                      "forgot the factor 1/2"),
    "opt_weight_decay_grads": ("params, grads, weight_decay = list(locals().values())\n"
                               "return {k: g + weight_decay * params[k] for k, g in grads.items()}",
                               "weight decay was applied to a bias"),
    "pipe_stage_backward": ("da, a_received, z, W, act_grad = list(locals().values())\n"
                            "delta = da * act_grad(z)\nreturn delta @ W, delta.T @ a_received, delta.mean(axis=0)",
                            "db is the SUM of delta over the batch, not the mean"),
    # the test-only demo exercise
    "grading_demo_slope": ("f, x, h = list(locals().values())\nreturn (f(x + h) - f(x)) / h",
                           "forward difference"),
    "grading_demo_row_means": ("(X,) = list(locals().values())\nreturn X.sum(axis=1)", "you summed"),
    "grading_demo_sigmoid_grad": ("(z,) = list(locals().values())\nreturn 1 / (1 + np.exp(-z))",
                                  "you returned sigmoid(z) itself"),
}
GENERIC_WRONG = ("return None", "")  # a task without a realistic wrong answer here yet

#: A task whose graded code calls another task's function (the capstone engine's backward() uses the
#: learner's topological_sort): when that task is answered wrong, this one fails too, with this hint.
DEPENDS = {"graph_own_engine": ("graph_topological_sort", "your topological_sort of Task 4")}


@dataclass(frozen=True)
class Expect:
    """What one CSV row must say: score and status exactly, ``hint`` as a substring of the feedback."""

    student: str
    exercise: str
    task: str
    score: float
    status: str | tuple[str, ...]
    hint: str = ""
    submission: str = ""  # the file name, where a student has two notebooks of one exercise


def solution_paths() -> list[Path]:
    return sorted((ROOT / "solutions").glob("*.ipynb")) + [DEMO_SOLUTION]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _set(cell: dict, text: str) -> None:
    cell["source"] = text


def _def_cell(nb: dict, function: str) -> int:
    pattern = re.compile(rf"^(?:def|class)\s+{re.escape(function)}\s*[(:]", re.MULTILINE)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and pattern.search(_src(cell)):
            return i
    raise LookupError(f"no cell defines {function}")


def replace_body(nb: dict, function: str, body: str) -> dict:
    """A copy of ``nb`` whose solution block in ``function`` is ``body`` (at the block's indent)."""
    nb = copy.deepcopy(nb)
    cell = nb["cells"][_def_cell(nb, function)]
    lines = _src(cell).split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(BEGIN))
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith(END))
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    if "list(locals().values())" in body:
        # the parameters by name: the order of locals() is CPython's business (3.10 lists the
        # parameters a nested scope uses after the others)
        body = body.replace("list(locals().values())", "[" + ", ".join(_parameters(_src(cell), function)) + "]")
    new = [indent + line for line in body.split("\n")]
    _set(cell, "\n".join(lines[:start] + new + lines[end + 1:]))
    return nb


def _parameters(source: str, function: str) -> list[str]:
    """The parameter names of ``def function`` in a cell, in the order Python binds them."""
    tree = ast.parse(source)
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    a = fn.args
    return [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]]


def _insert_before_def(nb: dict, function: str, code: str) -> dict:
    nb = copy.deepcopy(nb)
    cell = nb["cells"][_def_cell(nb, function)]
    _set(cell, code + "\n" + _src(cell))
    return nb


def _tasks(solution: dict) -> list[tuple[str, str]]:
    return [(t["task"], t["function"]) for t in task_cells(solution)]


def _write(root: Path, student: str, name: str, nb: dict | bytes) -> Path:
    path = root / student / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        path.write_text(render(nb), encoding="utf-8")
    return path


def write_canonical(folder: Path) -> Path:
    """The demo exercise's canonical (generated) notebook, for ``--exercises``."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder.parent, folder.name, DEMO_SOLUTION.stem, generate_notebook(_load(DEMO_SOLUTION), DEMO_SOLUTION.name))
    return folder


def _all(student, name, tasks, score_of, status, hint=""):
    return [Expect(student, name, t, score_of(t), status, hint) for t, _ in tasks]


def build_class(root: Path, points: dict[str, float], *, hostile: bool = True,
                cell_timeout: float = 5.0) -> list[Expect]:
    """Write the class under ``root``; return the expected rows (``points``: task -> max score)."""
    expected: list[Expect] = []
    full = points.get
    solutions = [(p.stem, _load(p)) for p in solution_paths()]
    for name, sol in solutions:
        tasks = _tasks(sol)
        exercise = generate_notebook(sol, f"{name}.ipynb")
        _write(root, "reference", name, sol)
        expected += _all("reference", name, tasks, full, "pass")
        _write(root, "untouched", name, exercise)
        expected += _all("untouched", name, tasks, lambda t: 0, "not_implemented", "not implemented yet")
        for student, parity in (("wrong_a", 0), ("wrong_b", 1)):
            nb = sol
            wrong = {task for i, (task, _) in enumerate(tasks) if i % 2 == parity}
            for i, (task, function) in enumerate(tasks):
                if i % 2 == parity:
                    body, hint = WRONG.get(task, GENERIC_WRONG)
                    nb = replace_body(nb, function, body)
                    expected.append(Expect(student, name, task, 0, ("fail", "error"), hint))
                elif DEPENDS.get(task, ("", ""))[0] in wrong:
                    expected.append(Expect(student, name, task, 0, "fail", DEPENDS[task][1]))
                else:
                    expected.append(Expect(student, name, task, full(task), "pass"))
            _write(root, student, name, nb)
    if hostile:
        expected += _hostile(root, solutions, points, cell_timeout)
    return expected


#: The hostile cases, in order (case i edits exercise i mod n, its task i mod the number of tasks).
_HOSTILE_CASES = [
    "endless_loop", "uninterruptible_loop", "sys_exit", "os_exit", "kernel_crash", "syntax_error",
    "missing_cell", "renamed_function", "memory_hog", "exit_while_checked", "tamper_while_checked",
    "invalid_json", "empty_file", "fake_pass", "redefined_checks", "monkeypatched_checks",
    "numpy_tampering",
]

#: Cases that run code in a cell of its own before the task's function is defined: (that code, a
#: fragment of the "missing" verdict's hint; {timeout} is the cell time limit).
_BEFORE_DEF = {
    "endless_loop": ("while True:\n    pass", "did not finish within {timeout:g} s"),
    "uninterruptible_loop": ("while True:\n    try:\n        while True:\n            pass\n"
                             "    except BaseException:\n        pass", "could not be interrupted), so it was skipped"),
    "sys_exit": ("import sys\nsys.exit(3)", "it called sys.exit(3)"),
    "os_exit": ("import os\nos._exit(1)", "exited with code 1"),
    "kernel_crash": ("import ctypes\nctypes.string_at(0)", "killed by SIGSEGV"),
    "syntax_error": ("def broken(:\n    pass", "SyntaxError"),
    "memory_hog": ("hog = bytearray(3 * 1024**3)  # over the --memory limit", "MemoryError"),
}

#: Cases that fake the checks' verdicts in the notebook: (code added in a cell of its own, or None).
_FAKE_CHECKS = {
    "fake_pass": None,  # the check cells print PASS instead (see _faked_checks)
    "redefined_checks": None,  # the check functions redefined (depends on the tasks)
    "monkeypatched_checks": (
        "import backprop_lib.checks as checks\nimport backprop_lib.checks._core as core\n"
        "def fake(self, func):\n    return core.Result(self.task, self.points, self.points, 'ok', 'pass')\n"
        "core.TaskCheck._evaluate = fake\ncore.TaskCheck.run = fake\n"
        "core.grade = checks.grade = lambda t, f: core.Result(t, 1, 1, 'ok', 'pass')\n"
        "for c in core._REGISTRY.values():\n    c._body = lambda fn: 'ok'"),
    "numpy_tampering": (
        "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
        "np.isfinite = np.isnan\nimport sys, types\nimport backprop_lib, backprop_lib.gradcheck\n"
        "sys.modules['backprop_lib.gradcheck'] = backprop_lib.gradcheck = types.ModuleType('fake')"),
}

_TAMPER_BODY = ("import backprop_lib.checks._core as core\n"
                "core.expect_array = core.expect_scalar = core.expect_close = lambda *a, **k: None\n"
                "return None")


def _hostile(root: Path, solutions: list[tuple[str, dict]], points: dict, cell_timeout: float) -> list[Expect]:
    """One notebook per hostile case; case i edits exercise i mod n, its task i mod (number of tasks)."""
    expected: list[Expect] = []
    for i, case in enumerate(_HOSTILE_CASES):
        name, sol = solutions[i % len(solutions)]
        tasks = _tasks(sol)
        target, function = tasks[i % len(tasks)]
        student = f"hostile_{case}"
        if case in ("invalid_json", "empty_file"):
            data = render(sol).encode()[:200] if case == "invalid_json" else b""
            _write(root, student, name, data)
            hint = "not a valid notebook (JSON error" if case == "invalid_json" else "the file is empty"
            expected += _all(student, name, tasks, lambda t: 0, "unreadable", hint)
            continue
        if case in _FAKE_CHECKS:
            nb = _faked_checks(case, name, sol, tasks)
            expected += _all(student, name, tasks, lambda t: 0, "not_implemented", "not implemented yet")
        else:
            nb, status, hint = _broken_task(case, sol, function, cell_timeout)
            expected += _others_pass(points, student, name, tasks, target, status, hint)
        _write(root, student, name, nb)
    # The one case that needs a check declaring `references=`: the demo exercise's slope task.
    demo = _load(DEMO_SOLUTION)
    nb = replace_body(demo, "slope", "return cd(f, x, h)")
    nb = _insert_before_def(nb, "slope", "from backprop_lib.gradcheck import central_difference as cd")
    _write(root, "hostile_calls_reference", DEMO_SOLUTION.stem, nb)
    expected += _others_pass(points, "hostile_calls_reference", DEMO_SOLUTION.stem, _tasks(demo),
                             "grading_demo_slope", "fail",
                             "calls the library's reference implementation `backprop_lib.gradcheck.central_difference`")
    return expected


def _others_pass(points: dict, student: str, name: str, tasks, target: str, status, hint: str) -> list[Expect]:
    """Every task passes but ``target``, which scores 0 with ``status`` and ``hint``."""
    return [Expect(student, name, t, 0, status, hint) if t == target else Expect(student, name, t, points[t], "pass")
            for t, _ in tasks]


def _broken_task(case: str, sol: dict, function: str, cell_timeout: float) -> tuple[dict, str, str]:
    """The notebook of a case that breaks one task, the status of that task and a fragment of its hint."""
    if case in _BEFORE_DEF:
        code, hint = _BEFORE_DEF[case]
        return _insert_before_def(sol, function, code), "missing", hint.format(timeout=cell_timeout)
    if case == "missing_cell":
        nb = copy.deepcopy(sol)
        del nb["cells"][_def_cell(nb, function)]
        return nb, "missing", "Was it renamed or its cell deleted?"
    if case == "renamed_function":
        nb = copy.deepcopy(sol)
        cell = nb["cells"][_def_cell(nb, function)]
        _set(cell, re.sub(rf"def\s+{function}\s*\(", f"def {function}_v2(", _src(cell)))
        return nb, "missing", f"no function `{function}` was defined when the notebook ran: the notebook has no"
    if case == "exit_while_checked":
        return (replace_body(sol, function, "import os\nos._exit(7)"), "fail",
                "exited with code 7 (os._exit() or a crash) while your function was being checked")
    if case == "tamper_while_checked":
        # the checks run in the grader: replacing them in the sandbox changes nothing. The verdict names the
        # None: "returned None" for a task that returns one value, "should return a tuple ..., got None" for
        # one that returns several (e.g. residual_block_backward, the target since notebook 04 gained a task)
        return replace_body(sol, function, _TAMPER_BODY), "fail", "None"
    raise AssertionError(case)  # pragma: no cover


def _faked_checks(case: str, name: str, sol: dict, tasks) -> dict:
    """The exercise, untouched, with its checks' verdicts faked in the notebook itself."""
    if case == "fake_pass":
        nb = generate_notebook(sol, f"{name}.ipynb")
        for cell in nb["cells"]:
            if "backprop_lib" in cell.get("metadata", {}):
                _set(cell, f"print('PASS  {cell['metadata']['backprop_lib']['task']} (1/1): all good')")
        return nb
    code = _FAKE_CHECKS[case]
    if code is None:  # redefined_checks
        code = "\n".join(f"def check_{t}(fn, **kw):\n    print('PASS')" for t, _ in tasks)
        code += "\n" + "\n".join(f"check_{t}({f})" for t, f in tasks)
    ex = generate_notebook(sol, f"{name}.ipynb")
    ex["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": code})
    return ex


# --------------------------------------------------------------------------- escapes (issue 16)

DAEMON_NAME = "bpg_daemon"  # the hostile daemon's process name (/proc/<pid>/comm), for the test to look for

# Finds every path on any visible process's command line (the grader's --out, the class folder)
# and damages what it can: other students' notebooks edited or deleted, files written beside the
# class folder, the CSV overwritten. Run once in the cell and again and again by a double-forked daemon.
_DAMAGE = r'''
import os, glob
def _targets():
    found = set()
    for cmd in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            args = open(cmd, "rb").read().split(b"\0")
        except OSError:
            continue
        for a in args:
            p = a.decode("utf-8", "replace")
            if p.startswith("/") and os.path.exists(p) and p not in ("/", "/tmp"):
                found.add(p)
    return found
def _damage():
    for p in _targets():
        try:
            if os.path.isdir(p):
                with open(os.path.join(os.path.dirname(p.rstrip("/")), "pwned.txt"), "w") as fh:
                    fh.write("pwned")
                for nb in glob.glob(os.path.join(p, "**", "*.ipynb"), recursive=True):
                    if "reference" in nb:
                        with open(nb, "a") as fh:
                            fh.write("pwned")
                    elif "untouched" in nb:
                        os.remove(nb)
            elif p.endswith(".csv"):
                with open(p, "w") as fh:
                    fh.write("student,score\nhostile,100\n")
        except OSError:
            pass
'''

_DAEMON = _DAMAGE + r'''
_damage()
import ctypes, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        try:
            ctypes.CDLL(None).prctl(15, b"''' + DAEMON_NAME + r'''", 0, 0, 0)
        except Exception:
            pass
        for _ in range(60):
            _damage()
            time.sleep(0.5)
        os._exit(0)
    os._exit(0)
'''

_FORGE = r'''
import os, json, struct
def frame(header):
    body = json.dumps(header).encode()
    return b"BPG1" + struct.pack(">II", len(body), 0) + body
fake = [frame({"op": "cell_end", "index": 0, "error": None}), frame({"op": "ready"}),
        frame({"op": "result", "entries": [], "value": 1.0, "changes": [], "error": None, "refs_used": []})]
fake.append((json.dumps({"event": "task", "task": "x", "score": 1, "max_score": 1, "status": "pass",
                         "message": "forged"}) + "\n" + json.dumps({"event": "done"}) + "\n").encode())
for fd in range(3, 30):
    for data in fake:
        try:
            os.write(fd, data)
        except OSError:
            pass
os._exit(0)
'''

_IMPORT_MODULE = r'''
import importlib, types
_real = importlib.import_module
def import_module(name, package=None):
    module = _real(name, package)
    if "checks" in name:
        fake = types.ModuleType(name)
        fake.__dict__.update(module.__dict__)
        fake.grade = lambda task, func: module.Result(task, 1, 1, "ok", "pass")
        return fake
    return module
importlib.import_module = import_module
'''

_AUDIT_HOOK = r'''
import sys
import backprop_lib.checks  # as an exercise notebook's setup cell does
def _hook(event, args):
    core = sys.modules.get("backprop_lib.checks._core")  # wherever the checks are loaded, patch them
    if core is None or getattr(core, "_patched", False):
        return
    try:
        core._patched = True
        core._close = lambda *a, **k: True
        core._diagnose = lambda *a, **k: None
        core.fail = lambda *a, **k: None
    except Exception:
        pass
sys.addaudithook(_hook)
'''

_FRAME_READ = r'''import sys
frame = sys._getframe(1)
while frame is not None:
    for key in ("expected", "reference", "want"):
        if key in frame.f_locals:
            return frame.f_locals[key]
    frame = frame.f_back
return None'''

_EXEC_SOURCE = r'''import inspect
import backprop_lib.gradcheck as g
name = "central" + "_difference"  # no name the source shows
ns = dict(vars(g))
exec(inspect.getsource(getattr(g, name)), ns)
return ns[name](f, x, h)'''

_RUN_SOLUTIONS = r'''
import glob, json, os
import backprop_lib
here = os.path.dirname(os.path.dirname(os.path.abspath(backprop_lib.__file__)))
for path in glob.glob(os.path.join(here, "**", "solutions", "*.ipynb"), recursive=True):
    for cell in json.load(open(path))["cells"]:
        if cell["cell_type"] == "code":
            try:
                exec("".join(cell["source"]), globals())
            except Exception:
                pass
'''

_WRITE_LIBRARY = r'''
import os, backprop_lib
core = os.path.join(os.path.dirname(backprop_lib.__file__), "checks", "_core.py")
for path in (core, os.path.join(os.path.dirname(backprop_lib.__file__), "pwned.py")):
    try:
        with open(path, "a") as fh:
            fh.write("\n_REGISTRY.clear()\n")
    except OSError as exc:
        print("could not write", path, exc)
'''


def escapes(root: Path, points: dict[str, float]) -> list[Expect]:
    """The seven escapes of issue 16, each a student of the demo exercise (they need bubblewrap)."""
    demo = _load(DEMO_SOLUTION)
    name = DEMO_SOLUTION.stem
    tasks = _tasks(demo)
    untouched = generate_notebook(demo, f"{name}.ipynb")
    expected: list[Expect] = []

    def with_cell(nb: dict, code: str, at: int = 2) -> dict:
        nb = copy.deepcopy(nb)
        nb["cells"].insert(at, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                "source": code})
        return nb

    def todo(student):
        return _all(student, name, tasks, lambda t: 0, "not_implemented", "not implemented yet")

    # 1. forged results on every inherited descriptor, then exit
    _write(root, "escape_forged_results", name, with_cell(untouched, _FORGE))
    expected += todo("escape_forged_results")
    # 2. import_module wrapped (and never restored)
    _write(root, "escape_import_module", name, with_cell(untouched, _IMPORT_MODULE))
    expected += todo("escape_import_module")
    # 3. an audit hook (cannot be removed) patching the checks' private helpers; the answers are wrong
    wrong = demo
    for task, function in tasks:
        wrong = replace_body(wrong, function, WRONG[task][0])
    _write(root, "escape_audit_hook", name, with_cell(wrong, _AUDIT_HOOK))
    expected += [Expect("escape_audit_hook", name, t, 0, "fail", WRONG[t][1]) for t, _ in tasks]
    # 4. the graded function reads the check's expected value from the caller's frames
    nb = replace_body(demo, "row_means", _FRAME_READ)
    _write(root, "escape_frame_read", name, nb)
    expected += [Expect("escape_frame_read", name, t, 0 if t == "grading_demo_row_means" else points[t],
                        "fail" if t == "grading_demo_row_means" else "pass",
                        "returned None" if t == "grading_demo_row_means" else "") for t, _ in tasks]
    # 5. the library's answer run from its source; the solutions next to the package executed
    nb = replace_body(demo, "slope", _EXEC_SOURCE)
    _write(root, "escape_exec_source", name, nb)
    expected += [Expect("escape_exec_source", name, t, 0 if t == "grading_demo_slope" else points[t],
                        "fail" if t == "grading_demo_slope" else "pass",
                        "runs code built at run time" if t == "grading_demo_slope" else "") for t, _ in tasks]
    _write(root, "escape_run_solutions", name, with_cell(untouched, _RUN_SOLUTIONS))
    expected += todo("escape_run_solutions")
    # 6. the checks' core appended to on disk (would give every later submission full marks)
    _write(root, "escape_write_library", name, with_cell(untouched, _WRITE_LIBRARY))
    expected += todo("escape_write_library")
    # 7. the grader's command line read from /proc; other students' files, the class folder's
    #    surroundings and the CSV damaged; a double-forked daemon keeps trying after the grader exits
    _write(root, "escape_outside", name, with_cell(untouched, _DAEMON))
    expected += todo("escape_outside")
    return expected


def workflow(root: Path, points: dict[str, float]) -> list[Expect]:
    """Files of a real class: renamed notebooks, another course's notebook, a failed import,
    a folder without notebooks, a duplicate, a notebook whose cells end the process again and again."""
    demo = _load(DEMO_SOLUTION)
    name = DEMO_SOLUTION.stem
    tasks = _tasks(demo)
    full = [Expect("", name, t, points[t], "pass") for t, _ in tasks]
    expected: list[Expect] = []

    def as_student(student, rows):
        return [Expect(student, e.exercise, e.task, e.score, e.status, e.hint) for e in rows]

    # renamed files recognised by their metadata, or by their check cells when the metadata is gone
    (root / "renamed").mkdir(parents=True, exist_ok=True)
    (root / "renamed" / "my_homework.ipynb").write_text(render(demo), encoding="utf-8")
    expected += as_student("renamed", full)
    bare = copy.deepcopy(demo)
    bare["metadata"].pop("backprop_lib", None)
    (root / "checkcells").mkdir(parents=True, exist_ok=True)
    (root / "checkcells" / "lab 03 - attempt 02.ipynb").write_text(render(bare), encoding="utf-8")
    expected += as_student("checkcells", full)
    # metadata wins over a misleading file name
    meta = generate_notebook(demo, f"{name}.ipynb")
    for cell in meta["cells"]:
        if cell["cell_type"] == "code" and "BEGIN" not in _src(cell):
            pass
    solved_meta = copy.deepcopy(demo)
    solved_meta["metadata"]["backprop_lib"] = meta["metadata"]["backprop_lib"]
    (root / "misleading").mkdir(parents=True, exist_ok=True)
    (root / "misleading" / "02_computational_graph.ipynb").write_text(render(solved_meta), encoding="utf-8")
    expected += as_student("misleading", full)
    # another course's notebook with a course-like number: one unknown-exercise row
    other = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": "print('hello, python')"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "othercourse").mkdir(parents=True, exist_ok=True)
    (root / "othercourse" / "01_intro_to_python.ipynb").write_text(render(other), encoding="utf-8")
    expected.append(Expect("othercourse", "", "", 0, "unknown_exercise", "no exercise metadata and no check cells"))
    # a failed `from helpers import` is the feedback, not a later NameError
    nb = replace_body(demo, "row_means", "return mean_rows(X)")
    nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": "from helpers import mean_rows"})
    _write(root, "failed_import", name, nb)
    expected += [Expect("failed_import", name, t, 0 if t == "grading_demo_row_means" else points[t],
                        "fail" if t == "grading_demo_row_means" else "pass",
                        "which imports it, failed: ModuleNotFoundError" if t == "grading_demo_row_means" else "")
                 for t, _ in tasks]
    # a folder with no notebook at all
    (root / "pyonly").mkdir(parents=True, exist_ok=True)
    (root / "pyonly" / "01_chain_rule.py").write_text("print('hi')\n")
    (root / "pyonly" / "02_computational_graph.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    expected.append(Expect("pyonly", "", "", 0, "no_notebook",
                           "no notebook found: 01_chain_rule.py, 02_computational_graph.zip"))
    expected.append(Expect("pyonly", "", "", 0, "ignored_file", "not a notebook", "01_chain_rule.py"))
    expected.append(Expect("pyonly", "", "", 0, "ignored_file", "an archive", "02_computational_graph.zip"))
    # four cells that end the process: the rest is still graded while time remains
    nb = copy.deepcopy(demo)
    for _ in range(4):
        nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                               "source": "import os\nos._exit(3)"})
    _write(root, "four_exits", name, nb)
    expected += as_student("four_exits", full)
    # a duplicate: two copies of the same exercise, one of them wrong; the best counts, once
    _write(root, "duplicate", name, demo)
    wrong = replace_body(demo, "row_means", WRONG["grading_demo_row_means"][0])
    path = root / "duplicate" / f"{name} (1).ipynb"
    path.write_text(render(wrong), encoding="utf-8")
    expected += [Expect("duplicate", name, e.task, e.score, e.status, "", f"{name}.ipynb") for e in full]
    expected += [Expect("duplicate", name, t, 0 if t == "grading_demo_row_means" else points[t],
                        "fail" if t == "grading_demo_row_means" else "pass", "", path.name) for t, _ in tasks]
    return expected
