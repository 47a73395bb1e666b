"""Run every benchmark script in bench/ and write bench/RESULTS.md.

Each script (every bench/*.py but this one) runs as a subprocess with a time limit;
its stdout goes verbatim into its own section. The header states the machine and
the versions the numbers were measured with. `make bench` installs the references
(torch==2.13.0, micrograd) first; the scripts run without them and say so.

    .venv/bin/python bench/report.py [--timeout 900] [--only NAME ...] [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# The notebook timings come first: they are what a learner feels.
FIRST = ["notebooks.py"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def blas() -> str:
    try:
        import numpy  # noqa: F401  (loads the BLAS that threadpoolctl then reports)
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    parts = []
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            parts.append(
                f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('num_threads')} threads"
                + (f", {lib['architecture']}" if lib.get("architecture") else "")
                + ")"
            )
    return "; ".join(parts) or "none found"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def header() -> list[str]:
    try:
        cores = f"{len(os.sched_getaffinity(0))} usable of {os.cpu_count()}"
    except AttributeError:
        cores = str(os.cpu_count())
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    rows = [
        ("date", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("commit", git_commit()),
        ("CPU", cpu_model()),
        ("cores", cores),
        ("load average at start (1, 5, 15 min)", load),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("numpy", version("numpy") or "not installed"),
        ("BLAS (threadpoolctl)", blas()),
        ("torch", version("torch") or "not installed (PyTorch rows skipped)"),
        ("micrograd", version("micrograd") or "not installed (micrograd rows skipped)"),
    ]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/report.py`), which runs every script in `bench/` and "
        "copies its output here verbatim. Ratios are against references measured in the same "
        "run on the same machine, so they travel better than the absolute times. Regenerate "
        "with `make bench`; do not edit by hand.",
        "",
        "| machine | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return lines


def scripts(only: list[str]) -> list[Path]:
    found = sorted(p for p in BENCH.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    if only:
        found = [p for p in found if p.stem in only or p.name in only]
    return sorted(found, key=lambda p: (p.name not in FIRST, p.name))


def run(script: Path, timeout: float) -> tuple[str, str, float, str]:
    """(status, stdout, seconds, stderr tail)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return f"timed out after {timeout:.0f} s", out, time.perf_counter() - start, err[-2000:]
    seconds = time.perf_counter() - start
    status = "ok" if proc.returncode == 0 else f"failed (exit code {proc.returncode})"
    return status, proc.stdout, seconds, quiet(proc.stderr)[-2000:]


def quiet(stderr: str) -> str:
    """stderr without the kernels' routine start-up warning."""
    return "\n".join(line for line in stderr.splitlines() if "running over TCP without encryption" not in line)


def section(script: Path, status: str, out: str, seconds: float, err: str) -> list[str]:
    doc = ""
    try:
        import ast

        doc = (ast.get_docstring(ast.parse(script.read_text())) or "").split("\n\n")[0].replace("\n", " ")
    except (SyntaxError, OSError):
        pass
    lines = [f"## `bench/{script.name}`", ""]
    if doc:
        lines += [doc, ""]
    lines += [f"Command: `python bench/{script.name}`, {seconds:.1f} s, {status}.", ""]
    out = out.rstrip()
    if out:
        # Markdown tables render as tables; anything else is shown as it was printed.
        looks_markdown = any(line.lstrip().startswith("|") for line in out.splitlines())
        lines += [out] if looks_markdown else ["```text", out, "```"]
    else:
        lines += ["(no output)"]
    if status != "ok" and err.strip():
        lines += ["", "Last lines of stderr:", "", "```text", err.rstrip(), "```"]
    return lines + [""]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=900.0, help="per script, seconds")
    ap.add_argument("--only", nargs="*", default=[], help="run only these scripts (names without .py)")
    ap.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = ap.parse_args()

    lines = header() + [""]
    todo = scripts(args.only)
    failed = []
    t0 = time.perf_counter()
    for script in todo:
        print(f"== bench/{script.name} ...", flush=True)
        status, out, seconds, err = run(script, args.timeout)
        print(out.rstrip(), flush=True)
        print(f"== bench/{script.name}: {status} in {seconds:.1f} s", flush=True)
        if status != "ok":
            failed.append(script.name)
            if err.strip():
                print(err.rstrip(), file=sys.stderr)
        lines += section(script, status, out, seconds, err)
    if not todo:
        lines += ["No benchmark scripts in bench/ yet.", ""]
    lines += [f"All {len(todo)} scripts ran in {time.perf_counter() - t0:.0f} s"
              + (f"; failed: {', '.join(failed)}." if failed else ".")]
    args.out.write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
          f" ({len(todo)} scripts, {len(failed)} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
