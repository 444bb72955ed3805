"""nbgrader's exchange with real Unix users, as the instructor guide's "JupyterHub and
nbgrader's exchange" writes it: its four bash blocks run line by line on a copy of the
course in a folder every user can enter, the student lines by two throw-away Unix users
as themselves (setpriv, their own HOME):

  <a>  hands in the solution                      -> full marks
  <b>  hands in a wrong answer to one task        -> full marks less that task's points
  carol  collected from an LMS zip (no Unix user) -> her feedback is released too

then checks that each student fetched their own feedback and that neither can read the
other's files nor the course's. Needs root (useradd, setpriv), as tests/test_sandbox.py
needs root for bubblewrap: without it the file is skipped, with the reason.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

import offline
from conftest import REPO, gradebook_scores, honest_submission
from test_instructor_workflow import copy_course

ASSIGNMENT = "01-telephone"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
WRONG_TASK = "telephone-max-second-rate"
WRONG = "max_second_rate = 0.25  # read off the wrong axis\n"
BLOCKS = ["<!-- exchange: set-up", "<!-- exchange: each student hands in",
          "<!-- exchange: collect, grade, release feedback",
          "<!-- exchange: each student fetches feedback"]
ZIP_TIME = (2026, 11, 1, 9, 30, 0)
# the names in publish/requirements.txt, nbgrader, and what pip builds nothing without
STUDENT_PACKAGES = [line.split("==")[0].split("[")[0] for line in (
    REPO / "publish" / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.startswith(("#", "-", "./"))] + ["nbgrader", "setuptools"]

sys.path.insert(0, str(REPO))
from grading.collect import collect  # noqa: E402
from grading.sandbox import unavailable_reason  # noqa: E402


def _missing():
    if os.geteuid() != 0:
        return "needs root: useradd, and running commands as the students (setpriv)"
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


pytestmark = pytest.mark.slow
needs_root = pytest.mark.skipif(_missing() is not None, reason=f"{_missing()}")


def guide_blocks():
    """The lines of the guide's four exchange blocks, in order."""
    text = (REPO / "instructors.md").read_text(encoding="utf-8")
    blocks = []
    for marker in BLOCKS:
        assert marker in text, f"instructors.md lost its tested block {marker!r}"
        block = re.search(r"```bash\n(.*?)```", text[text.index(marker):], re.DOTALL)
        blocks.append([line for line in block.group(1).splitlines() if line.strip()])
    return blocks


def max_score_and_task_points():
    source = nbformat.read(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, 4)
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points", 0)
              for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")}
    return sum(points.values()), points[f"{WRONG_TASK}-tests"]


def answers(names):
    """{student: notebook text}: the solution, and the solution with one wrong task; each
    signs the first answer cell so that their feedback can be told apart."""
    source = nbformat.read(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, 4)
    release = nbformat.read(REPO / "exercises" / ASSIGNMENT / NOTEBOOK, 4)
    honest, wrong = names
    out = {}
    for name, replacements in ((honest, {}), (wrong, {WRONG_TASK: WRONG})):
        notebook = honest_submission(source, release, replacements)
        first = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))
        first.source = f"# handed in by {name}\n" + first.source
        out[name] = nbformat.writes(notebook)
    return out


class Run:
    """The whole exchange, once; every command's result is kept for the tests."""

    def __init__(self, base, wheels):
        self.base = base
        self.course = copy_course(base / "course")
        os.chmod(self.course, 0o755)  # as a clone with umask 022: the guide's lock must act
        shutil.copytree(REPO / "bplib", self.course / "bplib", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
        (self.course / "publish").mkdir()
        shutil.copy2(REPO / "publish" / "requirements.txt", self.course / "publish")
        self.exchange = base / "exchange"
        self.student_env = base / "student-env"
        tag = secrets.token_hex(3)
        self.students = [f"bpx{tag}a", f"bpx{tag}b"]
        self.homes = {name: base / "homes" / name for name in self.students}
        (base / "homes").mkdir(mode=0o755)
        self.env = dict(os.environ, VENV=str(REPO / ".venv"),
                        BPCOURSE_EXCHANGE=str(self.exchange),
                        STUDENT_ENV=str(self.student_env),
                        BPCOURSE_DB_URL=f"sqlite:///{self.course}/gradebook.db",
                        PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels),
                        PIP_CONFIG_FILE=os.devnull)
        for name in ("MAKEFLAGS", "BP_SANDBOX", "BPCOURSE_COURSE_ID"):
            self.env.pop(name, None)
        self.results = []
        python, self.python_env = python_for_students(base)
        self.env["PYTHON_FOR_STUDENTS"] = python

    def instructor(self, line):
        started = time.monotonic()
        done = subprocess.run(["bash", "-c", line], cwd=self.course, env=self.env,
                              capture_output=True, text=True, timeout=1800)
        done.seconds = time.monotonic() - started
        self.results.append(("instructor", line, done))
        self.stop_if_failed()
        return done

    def student(self, name, command, check=True):
        home = self.homes[name]
        env = {"HOME": str(home), "USER": name, "LOGNAME": name, "LANG": "C.UTF-8",
               "PATH": "/usr/bin:/bin", "STUDENT_ENV": str(self.student_env),
               **self.python_env}
        started = time.monotonic()
        done = subprocess.run(["setpriv", f"--reuid={name}", f"--regid={name}",
                               "--init-groups", "--", *command], cwd=home, env=env,
                              capture_output=True, text=True, timeout=600)
        done.seconds = time.monotonic() - started
        if check:
            self.results.append((name, " ".join(command), done))
            self.stop_if_failed()
        return done

    def can_read(self, name, paths):
        """{path: 'read' | 'listed' | the exception's name} for student `name`."""
        script = ("import json, os, sys\nout = {}\nfor p in sys.argv[1:]:\n"
                  "    try:\n        if os.path.isdir(p):\n            os.listdir(p); "
                  "out[p] = 'listed'\n        else:\n            open(p, 'rb').read(1); "
                  "out[p] = 'read'\n    except OSError as e:\n"
                  "        out[p] = type(e).__name__\nprint(json.dumps(out))\n")
        done = self.student(name, ["/usr/bin/python3", "-c", script, *map(str, paths)],
                            check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def stop_if_failed(self):
        if self.failed():  # the later steps would only fail for this one's reason
            pytest.fail("\n\n".join(self.failed()), pytrace=False)

    def failed(self):
        return [f"{who}: {line} -> exit {done.returncode} ({done.seconds:.1f} s)\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}" for who, line, done in self.results
                if done.returncode != 0]


def python_for_students(base):
    """(a Python 3.11 every user can run, what students' processes need to run it). The
    course's own is used when others can run it. Here it is a pyenv build under /root,
    which others cannot enter, and the system's Python 3.11 is older than the
    constraints allow; so its interpreter, libpython and standard library are copied
    where everyone can read them. The copied binary still looks for libpython in /root
    first (its RUNPATH), so students' processes get LD_LIBRARY_PATH: this is the test's
    own arrangement; an instructor names a Python students can run with
    PYTHON_FOR_STUDENTS (the guide)."""
    from grading.exchange import others_can_run

    executable = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    if others_can_run(executable):
        return str(executable), {}
    prefix = Path(sys.base_prefix)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    copy = base / "python"
    (copy / "bin").mkdir(parents=True)
    shutil.copy2(executable, copy / "bin" / version)
    shutil.copytree(prefix / "lib" / version, copy / "lib" / version, ignore=lambda folder, _: {
        "site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
        *(n for n in os.listdir(folder) if n.startswith("config-"))}
        if Path(folder) == prefix / "lib" / version else set())
    (copy / "lib" / version / "site-packages").mkdir()
    for library in (prefix / "lib").glob("libpython*.so*"):
        shutil.copy2(library, copy / "lib" / library.name, follow_symlinks=True)
    for folder in [copy, *copy.rglob("*")]:
        if folder.is_dir():
            os.chmod(folder, 0o755)
    return str(copy / "bin" / version), {"LD_LIBRARY_PATH": str(copy / "lib")}


def add_user(name, home):
    subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--user-group",
                    "--shell", "/bin/bash", name], check=True, capture_output=True)
    os.chmod(home, 0o700)  # the guide: homes are private


def remove_user(name):
    uid = subprocess.run(["id", "-u", name], capture_output=True, text=True).stdout.strip()
    if uid:  # nothing of theirs may outlive the test
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == int(uid):
                    os.kill(int(pid), 9)
            except OSError:
                pass
    subprocess.run(["userdel", "--remove", name], capture_output=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    wheels = offline.wheelhouse(STUDENT_PACKAGES, tmp_path_factory.mktemp("wheels"))
    base = Path(tempfile.mkdtemp(prefix="bp-exchange-", dir="/tmp"))
    os.chmod(base, 0o755)  # every user may enter it, as /srv or /home
    run = Run(base, wheels)
    try:
        for name in run.students:
            add_user(name, run.homes[name])
        setup, hand_in, grade, fetch = guide_blocks()
        honest, wrong = run.students
        secret = run.course / "solutions" / ASSIGNMENT / NOTEBOOK
        run.before_lock = run.can_read(honest, [secret])
        for line in setup:
            run.instructor(line)
        staging = base / "staging"
        staging.mkdir(mode=0o755)
        for name, text in answers(run.students).items():
            (staging / f"{name}.ipynb").write_text(text)
            os.chmod(staging / f"{name}.ipynb", 0o644)

        def work(name):  # the two students at once, as in a class
            run.student(name, ["bash", "-c", hand_in[0]])
            run.student(name, ["cp", str(staging / f"{name}.ipynb"),
                               f"{ASSIGNMENT}/{NOTEBOOK}"])
            for line in hand_in[1:]:
                run.student(name, ["bash", "-c", line])

        def feedback(name):
            for line in fetch:
                run.student(name, ["bash", "-c", line])

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(work, run.students))
        # a third student hands in through an LMS's zip (the guide's step 2)
        with zipfile.ZipFile(run.course / "lms.zip", "w") as archive:
            archive.writestr(zipfile.ZipInfo(f"carol_{NOTEBOOK}", ZIP_TIME),
                             answers(["carol", "-"])["carol"])
        run.instructor(f"make collect A={ASSIGNMENT} ZIP=lms.zip")
        for line in grade:
            run.instructor(line)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(feedback, run.students))
        for who, line, done in run.results:
            print(f"{done.seconds:6.1f} s  {who}: {line}")
        yield run
    finally:
        for name in run.students:
            remove_user(name)
        shutil.rmtree(base, ignore_errors=True)


@needs_root
def test_every_line_of_the_guide_succeeds(run):
    assert run.results and not run.failed(), "\n\n".join(run.failed())
    assert run.before_lock == {str(run.course / "solutions" / ASSIGNMENT / NOTEBOOK): "read"}, \
        "the course copy must be readable before `make lock`, or the checks below prove nothing"


@needs_root
def test_the_grades_are_what_each_student_handed_in(run):
    max_score, task = max_score_and_task_points()
    honest, wrong = run.students
    assert task > 0
    assert gradebook_scores(run.course, ASSIGNMENT, [honest, wrong, "carol"]) == {
        honest: (max_score, max_score), wrong: (max_score - task, max_score),
        "carol": (max_score, max_score)}
    grade = next(done for _, line, done in run.results if line.startswith("make grade"))
    sandbox = "OFF" if unavailable_reason() else "ON"
    assert f"sandbox {sandbox}" in grade.stdout, grade.stdout


@needs_root
def test_each_student_fetched_their_own_feedback(run):
    honest, wrong = run.students
    for name, other in ((honest, wrong), (wrong, honest)):
        pages = list((run.homes[name] / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(pages) == 1, f"{name} fetched {pages}"
        text = pages[0].read_text(encoding="utf-8")
        assert f"handed in by {name}" in text and other not in text
    wrong_page = next((run.homes[wrong] / ASSIGNMENT / "feedback").glob("*/*.html"))
    assert "0.25" in wrong_page.read_text(encoding="utf-8")


@needs_root
def test_the_zip_student_has_nbgrader_s_files_and_her_feedback_was_released(run):
    from nbgrader.utils import notebook_hash

    folder = run.course / "submitted" / "carol" / ASSIGNMENT
    assert (folder / "timestamp.txt").read_text() == "2026-11-01 09:30:00"  # the zip's time
    key = (folder / "submission_secret.txt").read_text()
    assert len(key) >= 64
    released = run.exchange / "backprop-course" / "feedback" / \
        f"{notebook_hash(secret=key, notebook_id=ASSIGNMENT)}.html"
    assert "handed in by carol" in released.read_text(encoding="utf-8")
    # what goes back to students through the LMS never holds a submission's key
    pages = list((run.course / "feedback").rglob("*.html"))
    assert pages and not list((run.course / "feedback").rglob("submission_secret.txt"))


@needs_root
def test_no_student_reads_another_s_files_or_the_course_s(run):
    honest, wrong = run.students
    course, exchange = run.course, run.exchange / "backprop-course"
    for name, other in ((honest, wrong), (wrong, honest)):
        theirs = run.homes[other]
        paths = [theirs, theirs / ASSIGNMENT / NOTEBOOK,
                 next((theirs / ASSIGNMENT / "feedback").glob("*/*.html")),
                 exchange / "inbound", exchange / "feedback",
                 course, course / "solutions" / ASSIGNMENT / NOTEBOOK, course / "gradebook.db",
                 course / "submitted" / other / ASSIGNMENT / NOTEBOOK,
                 course / "autograded" / other / ASSIGNMENT / NOTEBOOK,
                 course / "feedback" / other / ASSIGNMENT / f"{ASSIGNMENT}.html",
                 course / "grading-records" / "graded" / ASSIGNMENT / f"{other}.json",
                 course / "grades.csv"]
        for path in paths:
            assert path.exists(), path  # as root: the check below is about permissions
        seen = run.can_read(name, paths)
        assert seen == {str(p): "PermissionError" for p in paths}, seen
        # their own work they can read, and the released assignment
        own = run.can_read(name, [run.homes[name] / ASSIGNMENT / NOTEBOOK,
                                  exchange / "outbound" / ASSIGNMENT / NOTEBOOK])
        assert set(own.values()) == {"read"}, own


@needs_root
def test_the_students_environment_is_theirs_to_run_not_to_change(run):
    name = run.students[0]
    done = run.student(name, [str(run.student_env / "bin" / "python"), "-c",
                              "import bplib, nbgrader, jupyterlab; print(bplib.__version__)"],
                       check=False)
    assert done.returncode == 0 and done.stdout.strip(), done.stderr
    site = next((run.student_env / "lib").glob("python*/site-packages"))
    seen = run.student(name, ["bash", "-c", f"touch {site}/x || echo refused"], check=False)
    assert "refused" in seen.stdout and not (site / "x").exists()
    config = (run.student_env / "etc" / "jupyter" / "nbgrader_config.py").read_text()
    assert repr(str(run.exchange)) in config and "backprop-course" in config


def test_the_exchange_commands_have_help():
    result = subprocess.run([sys.executable, "-m", "grading", "--help"], cwd=REPO,
                            capture_output=True, text=True)
    for command in ("student-env", "lock", "exchange-release", "exchange-collect",
                    "release-feedback"):
        assert command in result.stdout, result.stdout
    empty = subprocess.run([sys.executable, "-m", "grading", "student-env", ""], cwd=REPO,
                           capture_output=True, text=True)
    assert empty.returncode == 2 and "name the folder" in empty.stderr


def test_a_zip_s_submission_gets_nbgrader_s_timestamp_and_a_kept_key(tmp_path):
    """No root needed: the collection's own files, Blackboard's attempt time or the zip's."""
    course = tmp_path / "course"
    shutil.copytree(REPO / "exercises" / ASSIGNMENT, course / "exercises" / ASSIGNMENT)
    text = (REPO / "exercises" / ASSIGNMENT / NOTEBOOK).read_text()
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo(
            f"HW1_j.doe_attempt_2026-11-01-10-05-07_{NOTEBOOK}", (2026, 12, 1, 0, 0, 0)), text)
        archive.writestr(zipfile.ZipInfo(f"dave_{NOTEBOOK}", ZIP_TIME), text)
    collect(course, ASSIGNMENT, tmp_path / "a.zip", out=open(os.devnull, "w"))
    stamps = {s: (course / "submitted" / s / ASSIGNMENT / "timestamp.txt").read_text()
              for s in ("j.doe", "dave")}
    assert stamps == {"j.doe": "2026-11-01 10:05:07", "dave": "2026-11-01 09:30:00"}
    key = (course / "submitted" / "dave" / ASSIGNMENT / "submission_secret.txt").read_text()
    collect(course, ASSIGNMENT, tmp_path / "a.zip", out=open(os.devnull, "w"))
    again = (course / "submitted" / "dave" / ASSIGNMENT / "submission_secret.txt").read_text()
    assert again == key  # an unchanged submission stays unchanged (incremental grading)
