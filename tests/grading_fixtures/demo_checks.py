"""Checks for the test-only exercise ``90_grading_demo`` (loaded with ``--checks``).

A tiny exercise that exists only so the grader's tests do not depend on which course
notebooks exist yet: three tasks, one of which declares the library function it asks the
learner to re-implement (``references=``).
"""

import numpy as np

from backprop_lib import gradcheck
from backprop_lib.checks._core import call, expect_close, task


@task("grading_demo_slope", points=2, references=[gradcheck.central_difference])
def check_grading_demo_slope(fn):
    for f, x, h in [(np.sin, 0.3, 1e-3), (np.exp, -1.0, 1e-2), (lambda t: t**3, 2.0, 1e-1)]:
        expected = gradcheck.central_difference(f, x, h)
        forward = gradcheck.forward_difference(f, x, h)
        expect_close(call(fn, f, x, h), expected, f"grading_demo_slope(f, {x}, {h})",
                     mistakes={"you wrote the forward difference (f(x+h) - f(x)) / h": forward,
                               "you divided by h instead of 2h": 2 * expected})
    return "matches the central difference on 3 functions"


@task("grading_demo_row_means")
def check_grading_demo_row_means(fn):
    X = np.random.default_rng(0).normal(size=(4, 3))
    expect_close(call(fn, X), X.mean(axis=1), "grading_demo_row_means(X)",
                 mistakes={"you summed instead of averaging": X.sum(axis=1)})
    return "row means of a 4x3 array"


@task("grading_demo_sigmoid_grad")
def check_grading_demo_sigmoid_grad(fn):
    z = np.linspace(-3, 3, 7)
    s = 1 / (1 + np.exp(-z))
    expect_close(call(fn, z), s * (1 - s), "grading_demo_sigmoid_grad(z)",
                 mistakes={"you returned sigmoid(z) itself, not its derivative": s})
    return "sigma'(z) on 7 points"
