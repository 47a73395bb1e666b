"""The repository's shape: layout, environment.yml vs pyproject.toml, Makefile, CI entry."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _name(requirement: str) -> str:
    """'scikit-learn>=1.2' -> 'scikit_learn' (PEP 503 normalised, without version/extras/markers)."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "_", name).lower()


def _environment() -> tuple[list[str], list[str]]:
    """(conda dependencies, pip entries) of environment.yml, parsed without a YAML library."""
    conda, pip, in_pip, in_deps = [], [], False, False
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_deps = line.startswith("dependencies:")
            in_pip = False
            continue
        item = line.strip()
        if not (in_deps and item.startswith("- ")):
            continue
        item = item[2:].strip().strip('"').strip("'")
        if item == "pip:":
            in_pip, pip_indent = True, indent
            continue
        if in_pip and indent > pip_indent:
            pip.append(item)
        else:
            in_pip = False
            conda.append(item)
    return conda, pip


def test_top_level_layout_exists():
    for name in ("README.md", "environment.yml", "pyproject.toml", "Makefile", ".ci/run"):
        assert (ROOT / name).is_file(), name
    for name in ("notebooks", "exercises", "solutions", "backprop_lib", "tests", "bench"):
        assert (ROOT / name).is_dir(), name
    assert os.access(ROOT / ".ci" / "run", os.X_OK), ".ci/run must be executable"
    assert (ROOT / "backprop_lib" / "__init__.py").is_file()


def test_environment_yml_names_only_what_pyproject_defines():
    project = _pyproject()["project"]
    deps = {_name(r) for r in project["dependencies"]}
    extras = project.get("optional-dependencies", {})
    conda, pip = _environment()
    assert any(c.startswith("python") for c in conda) and "pip" in conda
    for c in conda:
        if not (c.startswith("python") or c == "pip"):
            assert _name(c) in deps, f"environment.yml installs {c!r} with conda, which pyproject.toml does not list"
    assert pip, "environment.yml must install the project with pip"
    installs_project = False
    for entry in pip:
        m = re.fullmatch(r"(?:-e\s+)?\"?\.(?:\[([^\]]*)\])?\"?", entry)
        if m:
            installs_project = True
            for extra in filter(None, (e.strip() for e in (m.group(1) or "").split(","))):
                assert extra in extras, f"environment.yml asks for extra [{extra}], pyproject.toml has {sorted(extras)}"
        else:
            assert _name(entry) in deps, f"environment.yml pip-installs {entry!r}, not a dependency in pyproject.toml"
    assert installs_project, "environment.yml must install the project itself (-e .[...])"


def test_environment_python_satisfies_requires_python():
    conda, _ = _environment()
    version = next(c for c in conda if c.startswith("python")).split("=")[-1]
    minimum = re.search(r">=\s*([0-9.]+)", _pyproject()["project"]["requires-python"]).group(1)
    assert tuple(map(int, version.split(".")[:2])) >= tuple(map(int, minimum.split(".")[:2]))


def test_extras_the_makefile_and_ci_use_exist():
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {"lab", "test", "parity"} <= set(extras)
    assert any(_name(r) == "torch" for r in extras["parity"])
    makefile = (ROOT / "Makefile").read_text()
    m = re.search(r"^EXTRAS\s*\??=\s*(\S+)", makefile, re.M)
    assert m and all(e in extras for e in m.group(1).split(","))


def test_makefile_has_lab_and_test_targets():
    targets = set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.M))
    assert {"lab", "test", "venv"} <= targets


def test_ci_runs_make_test_and_installs_the_pinned_torch():
    lines = [ln.split("#", 1)[0].strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test" in lines
    assert any("torch==2.13.0" in ln for ln in lines)


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme and "torch==2.13.0" in readme


def test_benchmark_scripts_are_runnable_files():
    bench = ROOT / "bench" / "mlp_step.py"
    assert bench.is_file() and '__name__ == "__main__"' in bench.read_text()
