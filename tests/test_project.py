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


def _make_dry_run(*args: str) -> list[str]:
    """The commands ``make -n ARGS`` would run (nothing is executed)."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"make -n {' '.join(args)} failed: {done.stderr}"
    return done.stdout.splitlines()


def test_make_venv_installs_the_project_with_extras_pyproject_defines():
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {"lab", "test", "parity"} <= set(extras)
    assert any(_name(r) == "torch" for r in extras["parity"])
    # what `make venv` would run after pyproject.toml changed (-W: as if it were newer than the venv)
    installs = [ln for ln in _make_dry_run("-W", "pyproject.toml", "venv") if " -m pip install " in ln and " -e " in ln]
    assert len(installs) == 1, installs
    m = re.search(r"-e\s+[\"']?\.\[([^\]]*)\]", installs[0])
    assert m, installs[0]
    asked = m.group(1).split(",")
    assert {"lab", "test"} <= set(asked) and all(e in extras for e in asked), (asked, sorted(extras))
    assert "-c constraints.txt" in installs[0]  # the tested versions


def test_make_test_runs_the_suite_and_every_notebook_under_nbval():
    pytest_lines = [ln for ln in _make_dry_run("test") if " -m pytest " in ln]
    assert len(pytest_lines) == 1, pytest_lines
    words = pytest_lines[0].split()
    assert {"tests", "notebooks", "solutions", "--nbval"} <= set(words)
    assert "OPENBLAS_NUM_THREADS=1" in words  # one BLAS thread per test worker


def test_every_make_command_in_the_readme_is_a_target():
    commands = set(re.findall(r"`make ([a-z][\w-]*)", (ROOT / "README.md").read_text()))
    assert {"lab", "test"} <= commands
    for target in sorted(commands):
        _make_dry_run(target)  # fails on "No rule to make target"


def test_installed_versions_are_the_tested_ones_in_constraints():
    from importlib import metadata

    from packaging.markers import Marker

    pinned = 0
    for raw in (ROOT / "constraints.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        name, version = (part.strip() for part in requirement.split("=="))
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        pinned += 1
        assert installed == version, f"{name} {installed} is installed, constraints.txt pins {version}"
    assert pinned >= 20


def test_ci_runs_lint_and_make_test_and_installs_the_pinned_torch():
    lines = [ln.split("#", 1)[0].strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test" in lines and "make lint" in lines
    assert any("torch==2.13.0" in ln for ln in lines)


def test_benchmark_script_runs_and_explains_its_options():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "bench" / "mlp_step.py"), "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ") and "--threads" in done.stdout and "--clock" in done.stdout
