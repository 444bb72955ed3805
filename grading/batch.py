"""Grade a whole class: every submission of one assignment, in n processes at once.

    python -m grading.batch grade 01-telephone --jobs 2

Each worker process loads the course's ``nbgrader_config.py`` once and then grades one
student after another through nbgrader's own API (``NbGraderAPI.autograde``), so a worker
pays nbgrader's start-up cost once, not once per student, and every setting of the course
(sandbox, checks, time limits) applies exactly as with ``nbgrader autograde``. Students are
independent jobs: the only thing the workers share is the gradebook, which for more than
one worker must be a server database (PostgreSQL, ``BPCOURSE_DB_URL``): SQLite takes one
writer at a time and nbgrader sets no busy timeout on it.

One line is printed per student as soon as that student is graded (name, score, seconds)
and a summary at the end; the exit status is 1 if any submission could not be graded.
"""

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]
SQLITE_DEFAULT = "sqlite:///" + str(COURSE / "gradebook.db")

_api = None  # one NbGraderAPI per worker process


def db_url():
    """The gradebook's SQLAlchemy URL: BPCOURSE_DB_URL, or the course's SQLite file."""
    return os.environ.get("BPCOURSE_DB_URL") or SQLITE_DEFAULT


def _load_api():
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    os.chdir(COURSE)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    return NbGraderAPI(config=config)


def _init_worker():
    global _api
    _api = _load_api()


def _score(assignment, student):
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url()) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return None, None
        return submission.score, submission.max_score


def _why(result):
    """The last informative line of a failed autograde: nbgrader logs the cause last."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if "ERROR" in line or "Error" in line] or lines
    return useful[-1][:200] if useful else "nbgrader gave no reason"


def _grade_one(job):
    assignment, student = job
    start = time.perf_counter()
    try:
        result = _api.autograde(assignment, student, force=True, create=True)
    except Exception as error:  # a broken worker must not stop the class
        result = {"success": False, "error": f"{type(error).__name__}: {error}"}
    seconds = time.perf_counter() - start
    score, max_score = _score(assignment, student) if result["success"] else (None, None)
    if result["success"] and score is None:
        result = {"success": False, "error": "graded, but no grade is in the gradebook"}
    return student, result["success"], score, max_score, seconds, \
        None if result["success"] else _why(result)


def submissions(assignment, shard=(0, 1)):
    """The students who handed in the assignment, in name order; with shard (i, n), only
    every n-th of them starting at the i-th (one machine's share of a class)."""
    found = sorted(path.parent.name for path in (COURSE / "submitted").glob(f"*/{assignment}")
                   if path.is_dir())
    if not found:
        raise SystemExit(f"no submissions of {assignment!r}: expected folders "
                         f"submitted/<student>/{assignment}/ in {COURSE}")
    index, count = shard
    return found[index::count]


def parse_shard(text):
    """'i/n' -> (i, n) with 0 <= i < n: this machine grades the i-th of n shares."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise SystemExit(f"--shard takes i/n, e.g. 0/4, got {text!r}") from None
    if not 0 <= index < count:
        raise SystemExit(f"--shard i/n needs 0 <= i < n, got {text!r}")
    return index, count


def check_assignment(assignment):
    if not (COURSE / "solutions" / assignment).is_dir():
        known = sorted(p.name for p in (COURSE / "solutions").iterdir() if p.is_dir())
        raise SystemExit(f"no assignment {assignment!r}: solutions/ holds {', '.join(known)}")


def grade(assignment, jobs, shard=(0, 1), out=sys.stdout):
    """Autograde every submission of the assignment in `jobs` processes; return the rows
    (student, ok, score, max_score, seconds, why) in the order they finished."""
    check_assignment(assignment)
    if jobs < 1:
        raise SystemExit(f"JOBS must be a whole number of at least 1, got {jobs}")
    if (jobs > 1 or shard[1] > 1) and db_url().startswith("sqlite"):
        raise SystemExit("grading in parallel needs a server gradebook: SQLite takes one "
                         "writer at a time. Set BPCOURSE_DB_URL to a PostgreSQL URL "
                         "(see the instructor guide) or use JOBS=1.")
    students = submissions(assignment, shard)
    print(f"grading {len(students)} submissions of {assignment} in {jobs} "
          f"process{'es' * (jobs > 1)}", file=out, flush=True)
    start, rows = time.perf_counter(), []
    context = multiprocessing.get_context("spawn")  # no copy of a parent's zmq state
    with context.Pool(jobs, initializer=_init_worker) as pool:
        for row in pool.imap_unordered(_grade_one, [(assignment, s) for s in students]):
            student, ok, score, max_score, seconds, why = row
            verdict = f"{score:g} / {max_score:g}" if ok else f"NOT GRADED ({why})"
            print(f"  {student:<24} {verdict:<14} {seconds:6.1f} s", file=out, flush=True)
            rows.append(row)
    total = time.perf_counter() - start
    failed = [row for row in rows if not row[1]]
    print(f"graded {len(rows) - len(failed)} of {len(rows)} in {total:.1f} s "
          f"({total / len(rows):.2f} s per submission, {jobs} process"
          f"{'es' * (jobs > 1)})", file=out, flush=True)
    for student, *_, why in failed:
        print(f"  not graded: {student}: {why}", file=out, flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grading.batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["grade"])
    parser.add_argument("assignment")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--shard", default="0/1", help="i/n: grade the i-th of n shares")
    args = parser.parse_args(argv)
    rows = grade(args.assignment, args.jobs, parse_shard(args.shard))
    return 1 if any(not row[1] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
