"""Throughput of the instructor's grader: seconds per honest submission, with the sandbox
(bubblewrap) and without it (``--sandbox none``), at --jobs 1 and --jobs 2.

Grades copies of the solution notebooks (every notebook in solutions/; the grader tests'
demo exercise when there is none yet) and prints seconds per submission for each setting,
the sandbox's overhead per notebook (target: under 0.3 s) and the speed-up of two jobs
over one, all measured in this run. It also prints how many jobs and BLAS threads ran and
how many cores the machine has, since the numbers mean little without them.

    .venv/bin/python bench/grade.py [--copies 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from grading_fixtures import classroom  # noqa: E402

from backprop_lib.grade import sandbox  # noqa: E402

THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _grade(folder: Path, out: Path, jobs: int, mode: str, extra: list[str]) -> tuple[float, list[dict]]:
    env = {**os.environ, **THREADS}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "backprop_lib.grade", str(folder), "--out", str(out),
                           "--jobs", str(jobs), "--sandbox", mode, "--quiet", *extra],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    with open(out, newline="") as fh:
        return seconds, list(csv.DictReader(fh))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=3)
    args = parser.parse_args()
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    info = sandbox.detect()
    modes = ["bwrap", "none"] if info.sandboxed else ["none"]
    print(f"machine: {os.cpu_count()} cores; BLAS threads per notebook: 1 "
          f"({', '.join(f'{k}=1' for k in THREADS)}); sandbox here: "
          f"{'bubblewrap' if info.sandboxed else 'none (' + str(info.warning) + ')'}")
    with tempfile.TemporaryDirectory(prefix="bench_grade_") as tmp:
        tmp = Path(tmp)
        extra: list[str] = []
        if not solutions:
            solutions = [classroom.DEMO_SOLUTION]
            canon = classroom.write_canonical(tmp / "canonical")
            extra = ["--exercises", str(canon), "--checks", str(classroom.DEMO_CHECKS)]
        folder = tmp / "class"
        for i in range(args.copies):
            student = folder / f"student{i:02d}"
            student.mkdir(parents=True)
            for nb in solutions:
                shutil.copy(nb, student / nb.name)
        n = args.copies * len(solutions)
        print(f"grading {n} honest submissions ({args.copies} copies of {', '.join(p.name for p in solutions)})")
        per_sub: dict[tuple[int, str], float] = {}
        for jobs in (1, 2):
            for mode in modes:
                seconds, rows = _grade(folder, tmp / f"grades_{jobs}_{mode}.csv", jobs, mode, extra)
                full = all(r["status"] == "pass" for r in rows)
                per_sub[jobs, mode] = seconds / n
                print(f"--jobs {jobs} --sandbox {mode:5s}: {seconds:6.1f} s total, {seconds / n:.2f} s per submission "
                      f"({len(rows)} rows, all full marks: {full})")
        if "bwrap" in modes:
            for jobs in (1, 2):
                print(f"sandbox overhead at --jobs {jobs}: {per_sub[jobs, 'bwrap'] - per_sub[jobs, 'none']:+.2f} s "
                      "per notebook (target: under 0.3 s)")
        mode = modes[0]
        print(f"speed-up of --jobs 2 over --jobs 1 (--sandbox {mode}): {per_sub[1, mode] / per_sub[2, mode]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
