"""Throughput of the instructor's grader: seconds per submission with --jobs 1 and --jobs 2.

Grades 20 copies of the solution notebooks (every notebook in solutions/; the grader
tests' demo exercise when there is none yet) and prints seconds per submission and the
speed-up of two jobs over one, both measured in this run.

    .venv/bin/python bench/grade.py [--copies 20]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from grading_fixtures import classroom  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
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
        print(f"grading {n} submissions ({args.copies} copies of {', '.join(p.name for p in solutions)})")
        per_sub = {}
        for jobs in (1, 2):
            out = tmp / f"grades_{jobs}.csv"
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "backprop_lib.grade", str(folder), "--out", str(out),
                                   "--jobs", str(jobs), "--quiet", *extra], capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            with open(out, newline="") as fh:
                rows = list(csv.DictReader(fh))
            full = all(r["status"] == "pass" for r in rows)
            per_sub[jobs] = seconds / n
            print(f"--jobs {jobs}: {seconds:.1f} s total, {seconds / n:.2f} s per submission "
                  f"({len(rows)} rows, all full marks: {full})")
        print(f"speed-up of --jobs 2 over --jobs 1: {per_sub[1] / per_sub[2]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
