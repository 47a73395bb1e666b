"""The shared modules stay one story: no name is defined twice, every public name is exported."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "backprop_lib"


def top_level_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.append(node.name)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_or_class_is_defined_twice_in_a_module(path):
    names = top_level_names(path)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"{path.name} defines {duplicates} more than once (a later section shadows an earlier one)"


@pytest.mark.parametrize("module", ["plotting", "widgets"])
def test_every_public_helper_of_the_shared_modules_is_in_all(module):
    import importlib

    mod = importlib.import_module(f"backprop_lib.{module}")
    public = [n for n in top_level_names(PACKAGE / f"{module}.py") if not n.startswith("_")]
    missing = [n for n in public if n not in mod.__all__]
    assert not missing, f"backprop_lib.{module}.__all__ lacks {missing}"
    assert len(mod.__all__) == len(set(mod.__all__)), "duplicate entries in __all__"
