"""The notebook-02 checks: reference solutions pass, typical mistakes get the intended hint."""

from __future__ import annotations

import math

import pytest

from backprop_lib.checks import computational_graph as cg


def run(check, fn):
    return check.run(fn)


def not_implemented(*args, **kwargs):
    raise NotImplementedError("replace this line with your code")


ALL_CHECKS = [getattr(cg, name) for name in cg.__all__]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.task)
def test_untouched_stub_is_not_implemented(check):
    assert run(check, not_implemented).status == "not_implemented"


def test_task_names_are_distinctive():
    assert all(c.task.startswith("graph_") for c in ALL_CHECKS)
    assert len(ALL_CHECKS) == 7


# --------------------------------------------------------------------------- mul


def test_mul_backward_reference_passes_and_mistakes_get_hints():
    assert run(cg.check_graph_mul_backward, lambda a, b, g: (b * g, a * g)).passed
    r = run(cg.check_graph_mul_backward, lambda a, b, g: (a * g, b * g))
    assert r.status == "fail" and "swapped" in r.message
    r = run(cg.check_graph_mul_backward, lambda a, b, g: (b, a))
    assert "chain factor" in r.message
    r = run(cg.check_graph_mul_backward, lambda a, b, g: b * g)
    assert "tuple of 2 numbers" in r.message


# --------------------------------------------------------------------------- pow


def test_pow_backward_reference_passes_and_mistakes_get_hints():
    assert run(cg.check_graph_pow_backward, lambda a, n, g: n * a ** (n - 1) * g).passed
    assert "chain factor" in run(cg.check_graph_pow_backward, lambda a, n, g: n * a ** (n - 1)).message
    assert "drop by one" in run(cg.check_graph_pow_backward, lambda a, n, g: n * a ** n * g).message
    assert "factor n" in run(cg.check_graph_pow_backward, lambda a, n, g: a ** (n - 1) * g).message


# --------------------------------------------------------------------------- tanh


def test_tanh_backward_reference_passes_and_mistakes_get_hints():
    assert run(cg.check_graph_tanh_backward, lambda a, g: (1 - math.tanh(a) ** 2) * g).passed
    assert "chain factor" in run(cg.check_graph_tanh_backward, lambda a, g: 1 - math.tanh(a) ** 2).message
    assert "OUTPUT" in run(cg.check_graph_tanh_backward, lambda a, g: (1 - a * a) * g).message
    assert "squared" in run(cg.check_graph_tanh_backward, lambda a, g: (1 - math.tanh(a)) * g).message


# --------------------------------------------------------------------------- add (+= vs =)


def add_right(out):
    a, b = out.inputs
    a.grad += out.grad
    b.grad += out.grad


def add_with_equals(out):
    a, b = out.inputs
    a.grad = out.grad
    b.grad = out.grad


def add_scaled(out):
    a, b = out.inputs
    a.grad += out.grad * b.data
    b.grad += out.grad * a.data


def test_add_accumulate_reference_passes_and_equals_is_recognised():
    assert run(cg.check_graph_add_accumulate, add_right).passed
    r = run(cg.check_graph_add_accumulate, add_with_equals)
    assert r.status == "fail" and "`=` instead of `+=`" in r.message
    r = run(cg.check_graph_add_accumulate, add_scaled)
    assert r.status == "fail" and "wrong" in r.message


def test_add_accumulate_rejects_touching_out_grad():
    def clears(out):
        add_right(out)
        out.grad = 0.0

    assert "changed out.grad" in run(cg.check_graph_add_accumulate, clears).message


# --------------------------------------------------------------------------- topological sort


def topo_right(root):
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


def topo_no_visited(root):
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


def topo_recursive(root):
    order, visited = [], set()

    def visit(v):
        if v not in visited:
            visited.add(v)
            for c in v.inputs:
                visit(c)
            order.append(v)

    visit(root)
    return order


def test_topological_sort_reference_passes():
    assert run(cg.check_graph_topological_sort, topo_right).passed


def test_topological_sort_visiting_shared_node_twice_is_recognised():
    r = run(cg.check_graph_topological_sort, topo_no_visited)
    assert r.status == "fail" and "visits a shared node twice" in r.message


def test_topological_sort_reversed_and_recursive_get_hints():
    r = run(cg.check_graph_topological_sort, lambda root: topo_right(root)[::-1])
    assert "root comes first" in r.message
    r = run(cg.check_graph_topological_sort, topo_recursive)
    assert "RecursionError" in r.message and "explicit stack" in r.message
    r = run(cg.check_graph_topological_sort, lambda root: topo_right(root)[:-1])
    assert "missing" in r.message and "root itself" in r.message


# --------------------------------------------------------------------------- by hand


def test_grads_by_hand_reference_passes_and_missing_path_is_recognised():
    assert run(cg.check_graph_grads_by_hand, lambda x, y, z: (2 * x * y + z, x * x, x)).passed
    r = run(cg.check_graph_grads_by_hand, lambda x, y, z: (x * y, x * x, x))
    assert "BOTH paths" in r.message
    r = run(cg.check_graph_grads_by_hand, lambda x, y, z: (x * y + z, x * x, x))
    assert "BOTH paths" in r.message


# --------------------------------------------------------------------------- XOR loop


def make_train(zero=True, sign=-1.0):
    def train_xor(model, X, y, lr, steps):
        losses = []
        for _ in range(steps):
            preds = [model(x) for x in X]
            loss = sum((p - t) ** 2 for p, t in zip(preds, y)) / len(X)
            if zero:
                model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data += sign * lr * p.grad
            losses.append(loss.data)
        return losses

    return train_xor


def test_xor_training_reference_passes_and_mistakes_get_hints():
    assert run(cg.check_graph_xor_training, make_train()).passed
    assert "not reset" in run(cg.check_graph_xor_training, make_train(zero=False)).message
    assert "minus" in run(cg.check_graph_xor_training, make_train(sign=1.0)).message
    r = run(cg.check_graph_xor_training, lambda model, X, y, lr, steps: None)
    assert "returned None" in r.message
