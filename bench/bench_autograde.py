"""What autograding costs per honest submission, for every assignment, measured in one run.

For each assignment, a copy of the course grades n honest submissions (the solution
written into the release) in one `nbgrader autograde` batch, and then one submission
alone, both with the course's own nbgrader_config.py (the sandbox is on when this runs as
root). The cost per submission in a batch is the difference divided by n - 1: what a
batch of a class pays for each extra student, without the start-up that a batch pays
once (nbgrader's imports, the grader's reference run of the instructor's notebook).
The sandbox's share is measured the same way with BP_SANDBOX=off, side by side.

    .venv/bin/python bench/bench_autograde.py [n] [assignment ...]

Absolute times depend on the machine and its load; compare rows of one run.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import honest_submission  # noqa: E402 (how the tests build submissions)


def course_copy(folder, assignment, students):
    course = Path(folder) / assignment
    shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    shutil.copytree(REPO / "grading", course / "grading")
    shutil.copy(REPO / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", assignment, "--force")  # fills the gradebook
    for path in sorted((course / "solutions" / assignment).glob("*.ipynb")):
        notebook = honest_submission(nbformat.read(path, as_version=4),
                          nbformat.read(course / "exercises" / assignment / path.name, 4))
        for student in students:
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, folder / path.name)
    return course


def nbgrader(course, *args, sandbox=True):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    env.pop("BPCOURSE_DB_URL", None)
    if not sandbox:
        env["BP_SANDBOX"] = "off"
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def seconds(course, assignment, *args, sandbox=True):
    start = time.perf_counter()
    nbgrader(course, "autograde", assignment, "--force", *args, sandbox=sandbox)
    return time.perf_counter() - start


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    assignments = sys.argv[2:] or sorted(path.name for path in (REPO / "solutions").iterdir()
                                         if any(path.glob("*.ipynb")))
    students = [f"s{k:02d}" for k in range(count)]
    print(f"{'assignment':<22} {'sandbox':>8} {'batch of ' + str(count):>12} {'one alone':>10} "
          f"{'per extra submission':>21}")
    with tempfile.TemporaryDirectory() as folder:
        for assignment in assignments:
            course = course_copy(folder, assignment, students)
            for sandbox in (True, False):
                batch = seconds(course, assignment, sandbox=sandbox)
                alone = seconds(course, assignment, "--student", students[0], sandbox=sandbox)
                per = (batch - alone) / (count - 1)
                print(f"{assignment:<22} {'on' if sandbox else 'off':>8} {batch:>10.1f} s "
                      f"{alone:>8.1f} s {per:>19.2f} s", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (compare rows of one run)")


if __name__ == "__main__":
    main()
