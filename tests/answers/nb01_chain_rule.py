"""Realistic answers to exercises/01_chain_rule.ipynb (see tests/answers/__init__.py)."""

from . import Answer

EXERCISE = "01_chain_rule"

ANSWERS = [
    Answer("central_diff", "forward difference instead of central", """
def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x)) / h
""", "forward difference"),
    Answer("central_diff", "divides by h instead of 2h", """
def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / h
""", "2h"),
    Answer("central_diff", "other parameter names, two statements", """
def central_diff(func, point, step=1e-5):
    upper, lower = func(point + step), func(point - step)
    return (upper - lower) / (2 * step)
""", None),
]
