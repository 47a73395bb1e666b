"""The notebook-02 checks: reference solutions pass, typical mistakes get the intended hint."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lib.checks import computational_graph as cg

from check_helpers import stub


ALL_CHECKS = [getattr(cg, name) for name in cg.__all__]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.task)
def test_untouched_stub_is_not_implemented(check):
    assert check.run(stub).status == "not_implemented"


def test_task_names_are_distinctive():
    assert all(c.task.startswith("graph_") for c in ALL_CHECKS)
    assert len(ALL_CHECKS) == 8


# The realistic wrong answers of tasks 1-6 and their hints are rows of tests/answers/nb02_computational_graph.py
# (run by tests/test_answers.py); here only what the table does not check.


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


def test_topological_sort_reversed_and_recursive_get_hints():
    r = cg.check_graph_topological_sort.run(lambda root: topo_right(root)[::-1])
    assert "root comes first" in r.message
    r = cg.check_graph_topological_sort.run(topo_recursive)
    assert "RecursionError" in r.message and "explicit stack" in r.message
    r = cg.check_graph_topological_sort.run(lambda root: topo_right(root)[:-1])
    assert "missing" in r.message and "root itself" in r.message


# --------------------------------------------------------------------------- by hand


def test_grads_by_hand_path_through_x_times_y_alone_is_told_to_add_both_paths():
    r = cg.check_graph_grads_by_hand.run(lambda x, y, z: (x * y, x * x, x))
    assert "BOTH paths" in r.message


# --------------------------------------------------------------------------- XOR loop


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


def test_xor_training_reference_passes_and_no_return_is_recognised():
    assert cg.check_graph_xor_training.run(train_xor).passed
    r = cg.check_graph_xor_training.run(lambda model, X, y, lr, steps: None)
    assert "returned None" in r.message


# --------------------------------------------------------------------------- the learner's own engine


def _programs(count=25):
    rng = np.random.default_rng(18)
    return [cg._random_program(rng, int(rng.integers(2, 4)), int(rng.integers(4, 11))) for _ in range(count)]


def test_random_programs_reuse_nodes_and_use_every_operation():
    programs = _programs()
    kinds = {op[0] for _, ops in programs for op in ops}
    assert kinds >= {"+", "*", "-", "/", "**", "neg", "tanh", "exp", "relu", "c+", "c*", "c-", "c/"}
    # a node used by two or more later operations (fan-out) in most graphs
    def fan_out(leaves, ops):
        uses = {}
        for op in ops:
            for i in ([op[2]] if op[0] in cg._REFLECTED else [op[1], op[2]] if op[0] in cg._SYMBOL else [op[1]]):
                uses[i] = uses.get(i, 0) + 1
        return max(uses.values())
    assert sum(fan_out(*p) >= 2 for p in programs) >= 15


def _torch_grads(torch, leaves, ops):
    nodes = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    for op in ops:
        kind = op[0]
        if kind in ("tanh", "exp"):
            nodes.append(getattr(torch, kind)(nodes[op[1]]))
        elif kind == "relu":
            nodes.append(torch.relu(nodes[op[1]]))
        else:
            nodes.append(cg._apply(nodes, op))
    nodes[-1].backward()
    return np.array([0.0 if n.grad is None else n.grad.item() for n in nodes[: len(leaves)]])


def test_own_engine_check_reference_matches_torch_on_its_graphs():
    torch = pytest.importorskip("torch")
    for leaves, ops in [(l, o) for _, l, o in cg._reuse_programs()] + _programs():
        _, grads = cg._reference(leaves, ops)
        expected = _torch_grads(torch, leaves, ops)
        assert np.allclose(grads[: len(leaves)], expected, rtol=1e-12, atol=1e-14), (leaves, ops)


def test_solution_engine_passes_and_matches_torch():
    from answers import namespace

    ns = namespace("02_computational_graph")
    assert cg.check_graph_own_engine.run(ns["Scalar"]).passed
    torch = pytest.importorskip("torch")
    for leaves, ops in _programs():
        out = cg._run_program(ns["Scalar"], leaves, ops)
        assert np.allclose(out["grad"][: len(leaves)], _torch_grads(torch, leaves, ops), rtol=1e-10, atol=1e-12)


def test_own_engine_bug_variants_differ_from_the_right_answer_on_the_shared_graphs():
    # each classic bug must be visible on at least one of the shared-node graphs, or its hint could never fire
    for bug in cg.ENGINE_BUGS:
        assert any(not np.allclose(cg._buggy_grads(l, o, bug), cg._reference(l, o)[1])
                   for _, l, o in cg._reuse_programs()), bug
