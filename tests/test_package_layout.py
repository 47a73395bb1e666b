"""The shared modules stay one story: no name is defined or exported twice, every public helper is exported."""

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


@pytest.mark.parametrize("package", ["plotting", "widgets"])
def test_no_helper_name_is_exported_by_two_notebook_modules(package):
    import importlib

    pkg = importlib.import_module(f"backprop_lib.{package}")
    names = list(pkg.__all__)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"backprop_lib.{package} exports {duplicates} from two modules (one would shadow the other)"


HELPER_MODULES = sorted((PACKAGE / "plotting").glob("[!_]*.py")) + sorted((PACKAGE / "widgets").glob("[!_]*.py"))


@pytest.mark.parametrize("path", HELPER_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_public_helper_is_exported(path):
    import importlib

    mod = importlib.import_module(f"backprop_lib.{path.parent.name}.{path.stem}")
    public = [n for n in top_level_names(path) if not n.startswith("_")]
    missing = [n for n in public if n not in mod.__all__]
    assert not missing, f"{mod.__name__}.__all__ lacks {missing}"


def test_progress_yields_every_item_in_order():
    from backprop_lib.widgets import progress

    assert list(progress(range(5), description="x")) == [0, 1, 2, 3, 4]
    assert list(progress(iter("ab"), total=2)) == ["a", "b"]
