"""The instructor's commands, one home for each step of a term (the Makefile's instructor
targets are one line each calling these):

    python -m grading release  01-telephone            check the source, regenerate exercises/
    python -m grading collect  01-telephone f.zip      an LMS's zip into submitted/
    python -m grading grade    01-telephone [--jobs n] autograde, feedback, grades.csv
    python -m grading feedback 01-telephone            feedback/ for every graded student
    python -m grading grades                           grades.csv, Moodle's worksheets
    python -m grading grades --assignment A --canvas|--blackboard FILE [--column C]
                                                       that LMS's gradebook, A's column filled
    python -m grading report   01-telephone            item analysis: HTML page and CSVs
    python -m grading withdraw <student> [--assignment 01-telephone]  remove a student

nbgrader's exchange with real Unix users (grading/exchange.py, the instructor guide's
"JupyterHub"):

    python -m grading student-env /opt/backprop-student  the students' own environment
    python -m grading lock                               close the course folder to students
    python -m grading exchange-release 01-telephone      exercises/ into the exchange
    python -m grading exchange-collect 01-telephone      the exchange into submitted/
    python -m grading release-feedback 01-telephone      feedback/ into the exchange

Every command exits 0 when all went well, 1 when some student or file needs attention
(each is listed, with the reason, after everything else was done), 2 when it refused to
start (the message says what to do).
"""

import argparse
import contextlib
import os
import resource
import subprocess
import sys

from grading import state

COURSE = state.COURSE


def _assignment(name):
    if not (COURSE / "solutions" / name).is_dir():
        known = sorted(p.name for p in (COURSE / "solutions").iterdir() if p.is_dir()) \
            if (COURSE / "solutions").is_dir() else []
        raise SystemExit(f"no assignment '{name}': solutions/ holds {' '.join(known)}")
    return name


@contextlib.contextmanager
def stderr_to(path):
    """The kernels' and nbgrader's messages on stderr go to the log file, not the screen."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "a") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def release(args):
    """Check that the source's text states the points its grade cells carry, that it passes
    its own tests and can be judged, regenerate
    exercises/<assignment>, record the release; name the grades it made stale."""
    log = state.log_path(f"release-{args.assignment}", COURSE)
    log.write_text(f"release {args.assignment}, {state.now()}\n")
    with stderr_to(log):
        return _release(args, log)


def timed_validation(assignment, notebooks, validator, runs=3):
    """([notebooks failing their own tests], the wall-budget problem or None). The validator
    runs the solution in a kernel of its own: an honest run. Its cost is the CPU time it
    took, this process's and the kernel's (a child, reaped when it stops): on a busy
    machine the wall clock measures other people's work too, the CPU time does not. A
    budget that looks too small is measured again, up to `runs` in all; the least decides."""
    from grading.sandbox import check_wall_budget

    def cpu_seconds():
        own, children = (resource.getrusage(who) for who in
                         (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    bad, honest = [], float("inf")
    for run in range(runs):
        started = cpu_seconds()
        failed = [os.path.relpath(nb, COURSE) for nb in notebooks if validator().validate(nb)]
        honest = min(honest, cpu_seconds() - started)
        if run == 0:
            bad = failed
        problem = check_wall_budget(assignment, honest)
        if bad or not (problem and "less than" in problem):
            break
    return bad, problem


def _release(args, log):
    import glob

    from nbgrader.validator import Validator

    assignment = args.assignment
    notebooks = sorted(glob.glob(str(COURSE / "solutions" / assignment / "*.ipynb")))
    from grading.points import problems as points_problems
    for notebook in notebooks:
        differ = points_problems(notebook)
        if differ:
            raise SystemExit(f"{assignment}: the text of {os.path.relpath(notebook, COURSE)} "
                             "states other points than its grade cells' metadata (what "
                             "grading counts): " + "; ".join(differ) + ". Make them agree: "
                             "nothing released")
    bad, budget_problem = timed_validation(assignment, notebooks, Validator)
    if bad:
        raise SystemExit("the source fails its own tests, nothing released: " + ", ".join(bad))
    from grading.judge import reference, verify_probes
    from grading.sandbox import BUDGET_FACTORS
    for notebook in notebooks:
        try:
            reference(notebook)
            problems = verify_probes(notebook)
        except Exception as error:
            raise SystemExit(f"the grader cannot judge {os.path.relpath(notebook, COURSE)} "
                             f"({type(error).__name__}: {error}): nothing released") from None
        if problems:
            raise SystemExit(f"the probes of {os.path.relpath(notebook, COURSE)} (what the "
                             "student's kernel runs) do not hold: " + "; ".join(problems)
                             + ": nothing released")
    if budget_problem and "less than" in budget_problem:
        raise SystemExit(budget_problem + ": nothing released")
    if budget_problem:  # too generous: a slow submission costs more than it should
        print(f"warning: {budget_problem} (a budget is {BUDGET_FACTORS[0]} to "
              f"{BUDGET_FACTORS[1]} honest runs, measured as the least CPU time of one); "
              "the release goes on")
    env = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}")
    with open(log, "a") as output:
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"),
                               "generate_assignment", assignment, "--force"], cwd=COURSE,
                              env=env, stdout=output, stderr=subprocess.STDOUT)
    if done.returncode:
        sys.stdout.write(log.read_text()[-3000:])
        raise SystemExit(f"nbgrader generate_assignment failed (above; all of it in "
                         f"{os.path.relpath(log, COURSE)}): nothing released")
    source = state.source_checksum(assignment, COURSE)
    state.write(state.released_path(assignment, COURSE), {"source": source, "when": state.now()})
    print(f"released exercises/{assignment}: commit it with its source")
    stale = sorted(student for student, record in state.graded_records(assignment, COURSE).items()
                   if record.get("source") != source and record.get("status") == "graded")
    if stale:
        print(f"{len(stale)} graded submission{'s' * (len(stale) != 1)} of {assignment} "
              f"{'were' if len(stale) != 1 else 'was'} graded against an older source and "
              f"{'are' if len(stale) != 1 else 'is'} now stale: {' '.join(stale)}\n"
              f"regrade {'them' if len(stale) != 1 else 'it'} with `make grade A={assignment}` "
              f"(it regrades only what changed)")
    return 0


def collect(args):
    from grading.collect import collect as run

    if not args.zip or not os.path.isfile(args.zip):
        raise SystemExit(f"name the LMS's zip of submissions: make collect A={args.assignment} "
                         f"ZIP=path/to/file.zip (not found: {args.zip or 'nothing given'})")
    chosen, _, refused = run(COURSE, args.assignment, args.zip)
    if not chosen:
        print(f"nothing collected: no file in {args.zip} was a notebook of "
              f"{args.assignment} named <student id>_<notebook> (see the instructor guide)")
        return 1
    return 1 if refused else 0


def grade(args):
    from grading import batch

    rows = batch.grade(args.assignment, args.jobs, batch.parse_shard(args.shard),
                       force=args.force, sandbox=args.sandbox, only=args.student,
                       export=args.shard == "0/1" and not args.no_export)
    trouble = [r for r in rows.values()
               if r["status"] != "graded" or r.get("feedback") == "refused"]
    return 1 if trouble and not args.students_may_fail else 0


def feedback(args):
    from grading import batch

    return 1 if batch.feedback(args.assignment, args.jobs) else 0


def grades(args):
    from grading import batch, export

    given = {lms: path for lms, path in (("canvas", args.canvas),
                                         ("blackboard", args.blackboard)) if path}
    if given and not args.of:
        raise SystemExit("name the assignment whose column to fill: make grades "
                         "A=01-telephone CANVAS=<file> (python -m grading grades "
                         "--assignment 01-telephone --canvas <file>)")
    if args.column and len(given) != 1:
        raise SystemExit("COLUMN= names the column of one LMS's file: give CANVAS= or "
                         "BLACKBOARD=, one at a time")
    for path in given.values():
        if not os.path.isfile(path):
            raise SystemExit(f"no file {path}: give the gradebook as downloaded from the LMS")
    if args.of:
        _assignment(args.of)
    url = batch.db_url()
    written = export.export(url, course=COURSE, filling=set(given))
    print(f"grades of every assignment: {', '.join(written)}")
    unmatched = {}
    for lms, path in given.items():
        unmatched.update(export.fill(lms, path, args.of, url, column=args.column,
                                     course=COURSE))
    if unmatched:
        print(f"{len(unmatched)} graded student{'s' * (len(unmatched) != 1)} of {args.of} "
              f"from {' or '.join(export.LMS_NAMES[lms] for lms in given)} could not be "
              "filled (NOT FILLED above): enter their grades by hand")
        return 1
    return 0


def withdraw(args):
    from grading import batch
    from grading.withdraw import withdraw as remove

    if not args.student:
        raise SystemExit("name the student: make withdraw S=<student id> [A=<assignment>] "
                         "(python -m grading withdraw <student> [--assignment A])")
    if args.of:
        _assignment(args.of)
    remove(args.student, batch.db_url(), assignment=args.of or None)
    return 0


def report(args):
    from grading import batch
    from grading import report as item_analysis

    item_analysis.write(args.assignment, batch.db_url(), COURSE, out=sys.stdout)
    return 0


def student_env(args):
    from grading.exchange import make_student_env

    if not args.folder:
        raise SystemExit("name the folder: make student-env DIR=/opt/backprop-student "
                         "(python -m grading student-env /opt/backprop-student)")
    make_student_env(args.folder, exchange=args.exchange, also=args.also, python=args.python)
    return 0


def lock(args):
    from grading.exchange import lock as close

    close(COURSE)
    return 0


def exchange_release(args):
    from grading.exchange import nbgrader

    return 1 if nbgrader("release_assignment", args.assignment,
                         *(["--force"] if args.force else [])) else 0


def exchange_collect(args):
    from grading.exchange import nbgrader

    return 1 if nbgrader("collect", args.assignment, "--update") else 0


def release_feedback(args):
    from grading.exchange import release_feedback as release

    return 1 if release(args.assignment) else 0



ASSIGNMENT_HELP = "the assignment, a folder of solutions/ (e.g. 01-telephone)"


def parser():
    top = argparse.ArgumentParser(prog="python -m grading", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True, metavar="command")
    one = commands.add_parser(
        "release", help="check the source, regenerate exercises/, record the release")
    one.add_argument("assignment", nargs="?", default="", help=ASSIGNMENT_HELP)
    one.set_defaults(run=release)
    one = commands.add_parser("collect", help="an LMS's zip of submissions into submitted/")
    one.add_argument("assignment", nargs="?", default="", help=ASSIGNMENT_HELP)
    one.add_argument("zip", nargs="?", default="",
                     help="the zip of submissions as downloaded from the LMS")
    one.set_defaults(run=collect)
    one = commands.add_parser("grade", help="autograde, then feedback and grades.csv")
    one.add_argument("assignment", nargs="?", default="", help=ASSIGNMENT_HELP)
    one.add_argument("--jobs", type=int, default=1, help="processes at once (PostgreSQL)")
    one.add_argument("--shard", default="0/1", help="i/n: grade the i-th of n shares "
                     "(one machine or pod of n); grades.csv is then left to `grades`")
    one.add_argument("--force", action="store_true",
                     help="regrade every submission, changed or not (make grade FORCE=1)")
    one.add_argument("--sandbox", choices=["on", "off"], default="on",
                     help="off: grade without the sandbox (make grade SANDBOX=off)")
    one.add_argument("--student", action="append", default=[],
                     help="grade only this student (repeatable; make grade STUDENT=id)")
    one.add_argument("--no-export", action="store_true", help="do not write grades.csv")
    one.add_argument("--students-may-fail", action="store_true",
                     help="exit 0 when only some students could not be graded (they are "
                     "still listed): a cluster's shard has then done its job")
    one.set_defaults(run=grade)
    one = commands.add_parser("feedback", help="feedback/ for every graded student")
    one.add_argument("assignment", nargs="?", default="", help=ASSIGNMENT_HELP)
    one.add_argument("--jobs", type=int, default=1, help="processes at once (PostgreSQL)")
    one.set_defaults(run=feedback)
    one = commands.add_parser(
        "grades", help="grades.csv and Moodle's worksheets; with --canvas or --blackboard, "
        "that LMS's downloaded gradebook with the assignment's column filled")
    one.add_argument("--assignment", dest="of", default="", metavar="A",
                     help="the assignment whose column --canvas or --blackboard fills")
    one.add_argument("--canvas", default="", metavar="FILE",
                     help="the gradebook exported from Canvas (Grades > Export)")
    one.add_argument("--blackboard", default="", metavar="FILE",
                     help="the Grade Center downloaded from Blackboard Learn (Work Offline "
                     "> Download, the full Grade Center)")
    one.add_argument("--column", default="", help="the column to fill, as headed in that "
                     "file (default: the one named like the assignment)")
    one.set_defaults(run=grades)
    one = commands.add_parser(
        "withdraw", help="remove a student (withdrawn, or collected by mistake): their "
        "submissions, grading, feedback, gradebook rows and records")
    one.add_argument("student", nargs="?", default="",
                     help="the student's id, as in submitted/")
    one.add_argument("--assignment", dest="of", default="", metavar="A",
                     help="only this assignment's")
    one.set_defaults(run=withdraw)
    one = commands.add_parser("report", help="item analysis of an assignment: "
                              "grading-records/report/<assignment>/ (HTML page, CSVs)")
    one.add_argument("assignment", nargs="?", default="", help=ASSIGNMENT_HELP)
    one.set_defaults(run=report)
    one = commands.add_parser(
        "student-env", help="the students' own environment: the public edition's "
        "requirements, bplib's wheel and nbgrader, configured for the exchange")
    one.add_argument("folder", help="where to make it (it must not exist yet)")
    one.add_argument("--exchange", default=None, help="the exchange folder (default "
                     "BPCOURSE_EXCHANGE, else /srv/nbgrader/exchange)")
    one.add_argument("--also", action="append", default=[], metavar="REQUIREMENT",
                     help="one more package, e.g. jupyterhub==<the hub's version> for a "
                     "hub's single-user servers (repeatable)")
    one.add_argument("--python", default=None, help="the Python the venv is based on, one "
                     "students can run (default: the course's, else the system's of the "
                     "same version)")
    one.set_defaults(run=student_env)
    one = commands.add_parser(
        "lock", help="close the course folder, solutions/, the gradebook, submissions, "
        "feedback and grading records to group and others")
    one.set_defaults(run=lock)
    one = commands.add_parser("exchange-release",
                              help="nbgrader release_assignment: exercises/ into the exchange")
    one.add_argument("assignment", nargs="?", default="", help=ASSIGNMENT_HELP)
    one.add_argument("--force", action="store_true",
                     help="replace a release already in the exchange")
    one.set_defaults(run=exchange_release)
    one = commands.add_parser("exchange-collect", help="nbgrader collect --update: the "
                              "exchange's newest submissions into submitted/")
    one.add_argument("assignment", nargs="?", default="", help=ASSIGNMENT_HELP)
    one.set_defaults(run=exchange_collect)
    one = commands.add_parser("release-feedback",
                              help="nbgrader release_feedback: feedback/ into the exchange")
    one.add_argument("assignment", nargs="?", default="", help=ASSIGNMENT_HELP)
    one.set_defaults(run=release_feedback)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if hasattr(args, "assignment"):
            if not args.assignment:
                raise SystemExit(f"name the assignment: make {args.command} A=01-telephone "
                                 f"(python -m grading {args.command} 01-telephone)")
            _assignment(args.assignment)
        return args.run(args)
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
            return 2
        raise
