"""Grade a whole class: every submission of one assignment, in n processes at once, then
each student's feedback and grades.csv. Run it as `python -m grading grade` (grading/cli.py).

Each worker process loads the course's ``nbgrader_config.py`` once and then grades one
student after another through nbgrader's own API (``NbGraderAPI.autograde``, then
``generate_feedback`` for that student alone), so a worker pays nbgrader's start-up cost
once, and every setting of the course (sandbox, checks, time limits) applies exactly as with
``nbgrader autograde``. Students are independent jobs: a refused feedback page, a crash or a
timeout is that student's, reported, and never stops the others. The only thing the
workers share is the gradebook, which for more than one worker must be a server database
(PostgreSQL, ``BPCOURSE_DB_URL``): SQLite takes one writer at a time.

Before grading it refuses: a source changed since its release (the grades would be judged
against another version than the gradebook's), and a machine where kernels cannot be
sandboxed unless the instructor says `--sandbox off`. The workers' environment, and so every
kernel's, holds no gradebook URL, password or other secret (`SECRET_ENV`).

Only submissions whose files or whose assignment changed since their last grading are
graded again (grading-records/graded/, grading/state.py): one that could not be graded, or
whose feedback was refused, is listed again with its reason but not retried while it is
unchanged; `force=True` regrades all. A submission whose kernel could not even start
(the grader's failure, not the student's) is always retried; when the first few kernels
of a batch all fail to start, the batch stops and prints what the kernel said.

One line is printed per student (name, score, seconds, status) and a summary; nbgrader's
own output, warnings and kernel banners go to grading-records/logs/grade-<assignment>.log.
"""

import logging
import multiprocessing
import os
import re
import sys
import time
from pathlib import Path

from grading import state

COURSE = state.COURSE
SQLITE_DEFAULT = "sqlite:///" + str(COURSE / "gradebook.db")
# Environment variables a kernel never gets: the gradebook's URL and anything that looks
# like a credential. The workers are started without them, so their kernels inherit none.
SECRET_ENV = re.compile(r"^(BPCOURSE_DB_URL|DATABASE_URL|PG[A-Z]*|AWS_.*|AZURE_.*|"
                        r"GOOGLE_APPLICATION_CREDENTIALS|JUPYTERHUB_API_.*|JPY_API_TOKEN)$|"
                        r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|_KEY$", re.I)

_api = None  # one NbGraderAPI per worker process
_db_url = None  # the gradebook's URL, kept out of the environment
_log = None


def db_url():
    """The gradebook's SQLAlchemy URL: BPCOURSE_DB_URL, or the course's SQLite file."""
    return _db_url or os.environ.get("BPCOURSE_DB_URL") or SQLITE_DEFAULT


def strip_secrets(environ=os.environ):
    """Remove the gradebook URL and credential-like variables; return their names."""
    gone = sorted(name for name in environ if SECRET_ENV.search(name))
    for name in gone:
        del environ[name]
    return gone


def _load_api(url):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    os.chdir(COURSE)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    config.CourseDirectory.db_url = url
    return NbGraderAPI(config=config)


def _init_worker(url, log_file):
    """A worker: its output (nbgrader's log, warnings, kernels' banners) goes to the log."""
    global _api, _db_url
    _db_url = url
    log = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    strip_secrets()
    _api = _load_api(url)


def _score(assignment, student):
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url()) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return None, None, 0
        return submission.score, submission.max_score, submission.total_seconds_late


NOISE = ("Please see the above traceback", "There was an error processing",
         "Please see the error log", "traceback", "Removing failed assignment")


def why(result):
    """The cause of a failed nbgrader step, in one line: the last error line of its log
    that is not nbgrader's "see the traceback above" (the cause is logged before it)."""
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if ("ERROR" in line or "Error" in line
                                         or "error" in line)
              and not any(noise.lower() in line.lower() for noise in NOISE)]
    picked = errors[-1] if errors else (lines[-1] if lines else "nbgrader gave no reason")
    picked = re.sub(r"^\[(ERROR|WARNING|INFO)\]\s*", "", picked)
    # an exception's name without its module: DeadKernelError, not nbclient.exceptions....
    picked = re.sub(r"^(?:[a-z_]\w*\.)+(?=\w*(?:Error|Exception)\w*: )", "", picked)
    return picked[:300]


# A kernel that never answered: jupyter_client's words when the kernel process dies or
# hangs before its first reply, before any of the student's code ran. That is the grader's
# failure (a venv the sandbox cannot run, a full disk), not a fact about the submission.
KERNEL_DID_NOT_START = re.compile(r"Kernel died before replying to kernel_info|"
                                  r"Kernel didn't respond in \d+ seconds")
STOP_AFTER = 3  # the first this many kernels all failing to start stops the batch


def kernel_did_not_start(record):
    """Whether a not-graded record failed because its kernel could not start."""
    return record.get("status") == "not graded" and bool(
        record.get("kernel_did_not_start")
        or KERNEL_DID_NOT_START.search(record.get("reason") or ""))


def _log_offset():
    try:
        return os.lseek(2, 0, os.SEEK_END)
    except OSError:
        return None


PYTHON_ERROR = re.compile(r"^[\w.]*(Error|Exception|Warning)\w*: ")


def kernel_messages(log_file, offset, limit=20):
    """The lines a kernel wrote to the log from offset on, not nbgrader's own (its log
    lines start with "[", its tracebacks are indented, its exceptions named): the kernel's
    stderr, e.g. "prlimit: failed to execute .../python: No such file or directory"."""
    try:
        with open(log_file, "rb") as log:
            log.seek(offset or 0)
            text = log.read().decode("utf-8", "replace")
    except (OSError, TypeError):
        return []
    lines = []
    for line in text.splitlines():
        if (not line.strip() or line[0].isspace() or line.startswith(("[", "=====", "Traceback"))
                or PYTHON_ERROR.match(line) or line in lines):
            continue
        lines.append(line)
    return lines[-limit:]


def _grade_one(job):
    """Autograde one student, then write their feedback; never raises."""
    assignment, student, feedback, source = job
    submission = state.submission_checksum(assignment, student, COURSE)
    start = time.perf_counter()
    print(f"\n===== {state.now()} autograde {assignment} {student}", flush=True)
    offset = _log_offset()
    try:
        result = _api.autograde(assignment, student, force=True, create=True)
    except Exception as error:  # a broken worker must not stop the class
        result = {"success": False, "error": f"{type(error).__name__}: {error}"}
    print(result.get("log") or "", result.get("error") or "", flush=True)
    score = max_score = None
    late = 0
    if result["success"]:
        score, max_score, late = _score(assignment, student)
        if score is None:
            result = {"success": False, "error": "graded, but no grade is in the gradebook"}
    seconds = time.perf_counter() - start
    if result["success"]:
        try:  # with the grades, for the item analysis (make report)
            from grading.diagnoses import store_time
            store_time(db_url(), assignment, student, round(seconds, 3))
        except Exception as error:  # the grade stands; the report then lacks this time
            print(f"grading time of {student} not stored: {type(error).__name__}: {error}",
                  flush=True)
    record = {"status": "graded" if result["success"] else "not graded",
              "reason": None if result["success"] else why(result),
              "score": score, "max_score": max_score, "seconds_late": late or 0,
              "seconds": round(seconds, 2), "submission": submission, "source": source,
              "feedback": None, "feedback_reason": None, "when": state.now(),
              "gradebook": safe_url(db_url())}
    if not result["success"] and KERNEL_DID_NOT_START.search(
            f"{result.get('log') or ''}\n{result.get('error') or ''}"):
        sys.stdout.flush()
        sys.stderr.flush()
        record["kernel_did_not_start"] = True  # retried by the next `make grade`
        record["kernel_messages"] = kernel_messages(_log_path(), offset)
    if result["success"] and feedback:
        record["feedback"], record["feedback_reason"] = _feedback_one(assignment, student)
    state.write(state.graded_path(assignment, student, COURSE), record)
    return student, record


def _log_path():
    """The file this worker's stderr goes to (the grade log)."""
    try:
        return os.readlink("/proc/self/fd/2")
    except OSError:
        return None


def _feedback_one(assignment, student):
    print(f"\n===== {state.now()} feedback {assignment} {student}", flush=True)
    try:
        result = _api.generate_feedback(assignment, student, force=True)
    except Exception as error:
        result = {"success": False, "error": f"{type(error).__name__}: {error}"}
    print(result.get("log") or "", result.get("error") or "", flush=True)
    page = COURSE / "feedback" / student / assignment
    remove_keys(assignment, COURSE, student)
    if result["success"] and not any(page.glob("*.html")):
        result = {"success": False, "error": "ERROR: no feedback page was written"}
    return ("ok", None) if result["success"] else ("refused", why(result))


def remove_keys(assignment, course=COURSE, student="*"):
    """nbgrader copies every file of a submission into its feedback, its key
    (submission_secret.txt) too; feedback/ goes back to the student (through the LMS), the
    key never does: release-feedback takes it from submitted/. Also clears the keys an
    earlier version of the grader left there."""
    for key in Path(course).glob(f"feedback/{student}/{assignment}/submission_secret.txt"):
        key.unlink(missing_ok=True)


def _feedback_job(job):
    assignment, student = job
    status, reason = _feedback_one(assignment, student)
    path = state.graded_path(assignment, student, COURSE)
    record = state.read(path)
    if record:
        record.update(feedback=status, feedback_reason=reason)
        state.write(path, record)
    return student, status, reason


def submissions(assignment, shard=(0, 1)):
    """The students who handed in the assignment, in name order; with shard (i, n), only
    every n-th of them starting at the i-th (one machine's share of a class)."""
    found = sorted(path.parent.name for path in (COURSE / "submitted").glob(f"*/{assignment}")
                   if path.is_dir())
    if not found:
        raise SystemExit(f"no submissions of {assignment!r}: expected folders "
                         f"submitted/<student>/{assignment}/ in {COURSE} "
                         f"(make collect, or copy them there)")
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


def check_released(assignment, url):
    """Refuse to grade against a source that is not the released one."""
    from nbgrader.api import Gradebook, MissingEntry

    released = state.read(state.released_path(assignment, COURSE))
    again = f"run `make release A={assignment}` (python -m grading release {assignment})"
    if released is None:
        raise SystemExit(f"{assignment} has not been released here: {again} first; it "
                         "records the assignment and its hidden tests in the gradebook")
    if released.get("source") != state.source_checksum(assignment, COURSE):
        raise SystemExit(f"solutions/{assignment} changed since it was released "
                         f"({released.get('when')}): grading now would judge the students "
                         f"against another version than the released one. {again}, "
                         "commit the new release, then grade again")
    with Gradebook(url) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"{assignment} is not in this gradebook ({safe_url(url)}): "
                             f"{again} with the same BPCOURSE_DB_URL") from None


def safe_url(url):
    """A database URL without its password."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def sandbox_mode(sandbox):
    """'on', or 'off (reason)' when allowed; refuses when it is off without being asked."""
    if sandbox == "off":
        os.environ["BP_SANDBOX"] = "off"
        return "OFF (asked for: SANDBOX=off): student code runs as you, with your files " \
               "(bplib's own versions of the tasks included: the kernel imports them " \
               "stubbed, but they are on disk) and the network"
    from grading.sandbox import unavailable_reason

    reason = unavailable_reason()
    if reason:
        raise SystemExit(f"the grading sandbox is not available here ({reason}): refusing "
                         "to run student code unsandboxed. Grade as root with bubblewrap "
                         "(`python grading/sandbox.py` checks), or say SANDBOX=off "
                         "(--sandbox off) to grade without it")
    return "ON (each kernel: its own uid, bubblewrap, no network)"


def _quiet_warnings(log_file):
    logging.captureWarnings(True)
    logger = logging.getLogger("py.warnings")
    logger.handlers[:] = [logging.FileHandler(log_file)]
    logger.propagate = False
    # nbgrader's own loggers in this process (export, gradebook) too
    for name in ("traitlets", "NbGraderAPI", "alembic"):
        logging.getLogger(name).handlers[:] = [logging.FileHandler(log_file)]
        logging.getLogger(name).propagate = False


def _line(student, record, out, skipped=False):
    if record["status"] == "graded":
        verdict = f"{record['score']:g} / {record['max_score']:g}"
        status = "graded" + (", late" if record.get("late") else "")
        if skipped:
            status += " (unchanged, not regraded)"
        if record.get("feedback") == "refused":
            status += f"; NO FEEDBACK ({record['feedback_reason']})"
    else:
        verdict, status = "NOT GRADED", f"({record['reason']})"
        if skipped:
            status += " unchanged since, not retried (FORCE=1 retries)"
        elif kernel_did_not_start(record):
            status += " the kernel could not start: retried by the next `make grade`"
    print(f"  {student:<24} {verdict:<14} {record.get('seconds') or 0:6.1f} s  {status}",
          file=out, flush=True)


def grade(assignment, jobs=1, shard=(0, 1), out=sys.stdout, force=False, sandbox="on",
          feedback=True, export=True, only=()):
    """Autograde the submissions of the assignment in `jobs` processes, each student's
    feedback, then grades.csv; return {student: record} of this share of the class."""
    check_assignment(assignment)
    if jobs < 1:
        raise SystemExit(f"JOBS must be a whole number of at least 1, got {jobs}")
    global _db_url
    _db_url = url = db_url()
    if (jobs > 1 or shard[1] > 1) and url.startswith("sqlite"):
        raise SystemExit("grading in parallel needs a server gradebook: SQLite takes one "
                         "writer at a time. Set BPCOURSE_DB_URL to a PostgreSQL URL "
                         "(see the instructor guide) or use JOBS=1.")
    mode = sandbox_mode(sandbox)
    students = submissions(assignment, shard)
    if only:
        missing = sorted(set(only) - set(students))
        if missing:
            raise SystemExit(f"no submission of {assignment} from {', '.join(missing)}")
        students = [s for s in students if s in only]
    check_released(assignment, url)
    from grading.diagnoses import engine
    engine(url)  # the course's own tables, made once here, before the workers start
    hidden = strip_secrets()  # from here on, no process this one starts sees them
    log_file = state.log_path(f"grade-{assignment}" + (f"-shard{shard[0]}of{shard[1]}"
                                                       if shard[1] > 1 else ""), COURSE)
    log_file.write_text(f"grading {assignment}, {state.now()}; sandbox {mode}; "
                        f"removed from the kernels' environment: {', '.join(hidden) or '-'}\n")
    _quiet_warnings(log_file)
    source = state.source_checksum(assignment, COURSE)
    previous = state.graded_records(assignment, COURSE)  # of any gradebook
    in_gradebook = _submitted_in_gradebook(assignment, url)
    todo, unchanged = [], {}
    for student in students:
        record = previous.get(student)
        same = (not force and record is not None and record.get("source") == source
                and record.get("gradebook") == safe_url(url)
                and record.get("submission") == state.submission_checksum(
                    assignment, student, COURSE))
        if same and record.get("status") == "not graded" and not kernel_did_not_start(record):
            unchanged[student] = record  # it would fail again: FORCE=1 tries anyway
        elif (same and record.get("status") == "graded" and student in in_gradebook
              and (record.get("feedback") is not None or not feedback)):
            unchanged[student] = record
        else:
            todo.append(student)
    print(f"grading {len(todo)} of {len(students)} submissions of {assignment} in {jobs} "
          f"process{'es' * (jobs > 1)}"
          f"{f' ({len(unchanged)} unchanged since their last grading)' if unchanged else ''}"
          f"; sandbox {mode}", file=out, flush=True)
    start, rows = time.perf_counter(), {}
    if todo:
        context = multiprocessing.get_context("spawn")  # no copy of a parent's zmq state
        dead = []  # students whose kernel could not start, while no other result came
        with context.Pool(min(jobs, len(todo)), initializer=_init_worker,
                          initargs=(url, str(log_file))) as pool:
            for student, record in pool.imap_unordered(
                    _grade_one, [(assignment, s, feedback, source) for s in todo]):
                record["late"] = _late(assignment, student, record)
                _line(student, record, out)
                rows[student] = record
                if len(dead) == len(rows) - 1 and kernel_did_not_start(record):
                    dead.append(record)
                if dead and len(dead) == len(rows) == min(STOP_AFTER, len(todo)):
                    pool.terminate()
                    break
        if dead and len(dead) == len(rows):
            _stop_on_dead_kernels(assignment, todo, rows, dead, log_file, out)
    for student, record in unchanged.items():
        record["late"] = _late(assignment, student, record)
        _line(student, record, out, skipped=True)
    total = time.perf_counter() - start
    rows.update(unchanged)
    failed = {s: r for s, r in rows.items() if r["status"] != "graded"}
    no_feedback = {s: r for s, r in rows.items() if r.get("feedback") == "refused"}
    late = sum(bool(r.get("late")) for r in rows.values() if r["status"] == "graded")
    graded_now = sum(rows[s]["status"] == "graded" for s in todo)
    # wall time over submissions; make report gives the median of each one's own time
    rate = (f" ({total / len(todo):.2f} s per submission: the run's wall time divided by "
            f"its submissions, {jobs} process{'es' * (jobs > 1)})") if todo else ""
    print(f"graded {graded_now} of {len(todo)} in {total:.1f} s{rate}"
          f"; {len(unchanged)} unchanged (not regraded); {len(failed)} not graded; "
          f"{len(no_feedback)} without feedback; {late} late; sandbox {mode.split(' ')[0]}",
          file=out, flush=True)
    for student, record in sorted(failed.items()):
        print(f"  not graded: {student}: {record['reason']}", file=out, flush=True)
    for student, record in sorted(no_feedback.items()):
        print(f"  no feedback: {student}: {record['feedback_reason']}", file=out, flush=True)
    remove_keys(assignment)
    if export:
        from grading import export as exporter
        written = exporter.export(url, out=out)
        print(f"grades: {', '.join(written)}", file=out, flush=True)
    print(f"nbgrader's output, warnings and kernel messages: "
          f"{os.path.relpath(log_file, COURSE)}", file=out, flush=True)
    return rows


def _stop_on_dead_kernels(assignment, todo, rows, dead, log_file, out):
    """Every kernel tried so far died before it could run anything: the grader, not the
    students. Stop, with the kernel's own messages; nobody is recorded as unchanged."""
    messages = next((r["kernel_messages"] for r in dead if r.get("kernel_messages")), [])
    print(f"STOPPED: the first {len(dead)} kernel{'s' * (len(dead) != 1)} all died before "
          f"running any code ({dead[0]['reason']}); that is this machine's set-up, not the "
          f"submissions. {len(todo) - len(rows)} not tried. The kernel said:", file=out)
    for line in messages or ["(nothing: see " + os.path.relpath(log_file, COURSE) + ")"]:
        print(f"    {line}", file=out)
    print("Check with `.venv/bin/python grading/sandbox.py` (it starts one sandboxed "
          "kernel). A .venv that is a symlink, or shared with another copy of the course, "
          f"cannot run in the sandbox: `make setup` in this copy. Then `make grade "
          f"A={assignment}` tries these students again (no FORCE needed).", file=out,
          flush=True)
    raise SystemExit(f"grading of {assignment} stopped: no kernel could start (above)")


def _late(assignment, student, record):
    collected = state.collected_record(assignment, student, COURSE) or {}
    return bool(collected.get("late") or (record.get("seconds_late") or 0) > 0)


def _submitted_in_gradebook(assignment, url):
    from nbgrader.api import Gradebook

    with Gradebook(url) as gradebook:
        return {s.student.id for s in gradebook.assignment_submissions(assignment)}


def feedback(assignment, jobs=1, out=sys.stdout):
    """Each graded student's feedback, one student at a time; return {student: reason} of
    the students whose page was refused or failed."""
    check_assignment(assignment)
    global _db_url
    _db_url = url = db_url()
    students = sorted(p.parent.name for p in (COURSE / "autograded").glob(f"*/{assignment}")
                      if p.is_dir())
    if not students:
        raise SystemExit(f"nothing graded of {assignment}: run `make grade A={assignment}`")
    strip_secrets()
    log_file = state.log_path(f"feedback-{assignment}", COURSE)
    log_file.write_text(f"feedback {assignment}, {state.now()}\n")
    _quiet_warnings(log_file)
    failed = {}
    context = multiprocessing.get_context("spawn")
    with context.Pool(min(jobs, len(students)), initializer=_init_worker,
                      initargs=(url, str(log_file))) as pool:
        for student, status, reason in pool.imap_unordered(
                _feedback_job, [(assignment, s) for s in students]):
            print(f"  {student:<24} {'feedback written' if status == 'ok' else 'NO FEEDBACK'}"
                  f"{f' ({reason})' if reason else ''}", file=out, flush=True)
            if status != "ok":
                failed[student] = reason
    remove_keys(assignment)
    print(f"feedback for {len(students) - len(failed)} of {len(students)} students in "
          f"feedback/<student>/{assignment}/; {len(failed)} without feedback", file=out)
    for student, reason in sorted(failed.items()):
        print(f"  no feedback: {student}: {reason}", file=out)
    print(f"nbgrader's output: {os.path.relpath(log_file, COURSE)}", file=out)
    return failed


def main(argv=None):
    """`python -m grading.batch grade A ...`: the same as `python -m grading grade A ...`."""
    from grading.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
