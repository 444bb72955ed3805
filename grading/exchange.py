"""nbgrader's exchange with real Unix users (one server, a shared disk): the students' own
environment, the course folder closed to them, and the instructor's exchange steps.

    python -m grading student-env /opt/backprop-student   the students' environment
    python -m grading lock                                close the course folder to others
    python -m grading exchange-release 01-telephone       exercises/ into the exchange
    python -m grading exchange-collect 01-telephone       the exchange into submitted/
    python -m grading release-feedback 01-telephone       feedback/ into the exchange

The students never use the course's .venv: it lives in the instructors' folder, and opening
that folder to them would open solutions/, the gradebook and every classmate's work. Their
environment is a venv of its own, made from the public edition's requirements
(publish/requirements.txt, which `make public` copies to _public/requirements.txt: the same
list, with bplib as a wheel built from bplib/) plus the course's nbgrader, readable and
executable by everyone and writable by no one but its owner. It carries an nbgrader
configuration (its etc/jupyter/nbgrader_config.py) naming the exchange and the course, and
has nbgrader's instructor extensions (formgrader, course list, create assignment) switched
off.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from grading import state

COURSE = state.COURSE
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
# What only instructors may read: closed to group and others by `lock` (the course folder
# itself too). The rest (the course's .venv, bplib/, grading/'s code) is left readable:
# the grading sandbox's kernels, which run as uids of their own, read it.
PRIVATE = ["solutions", "gradebook.db", "autograded", "submitted", "feedback",
           "grading-records", "grading/data", "grades.csv", "grades-canvas-*",
           "grades-moodle-*", "grades-blackboard-*", ".git"]
INSTRUCTOR_EXTENSIONS = {
    "server": ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"],
    "lab": ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
            "@jupyter/nbgrader:create-assignment"]}


def exchange_root():
    """The exchange folder: BPCOURSE_EXCHANGE, else nbgrader's default (nbgrader_config.py
    reads the same variable)."""
    return os.environ.get("BPCOURSE_EXCHANGE") or DEFAULT_EXCHANGE


def course_id():
    return os.environ.get("BPCOURSE_COURSE_ID", "backprop-course")


def student_requirements(course, bplib_wheel):
    """The lines of the students' requirements: the public edition's list
    (publish/requirements.txt) with its paths made absolute and bplib as the wheel, plus
    the course's own nbgrader pin (requirements.txt)."""
    course = Path(course)
    lines = []
    for line in (course / "publish" / "requirements.txt").read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text.startswith("-c "):
            lines.append(f"-c {course / text[3:].strip()}")
        elif text.rstrip("/") == "./bplib":
            lines.append(str(bplib_wheel))
        else:
            lines.append(text)
    nbgrader = [line.strip() for line in (course / "requirements.txt").read_text().splitlines()
                if line.strip().lower().startswith("nbgrader")]
    if len(nbgrader) != 1:
        raise SystemExit("requirements.txt does not pin nbgrader once")
    return lines + nbgrader


def others_can_run(python):
    """Whether a user with no rights of the owner's can run `python` and read its standard
    library: every folder above both open to others (x), the file executable by them.
    A pyenv or conda Python under /root or an instructor's home is not."""
    executable = Path(os.path.realpath(python))
    try:
        stdlib = subprocess.run([str(executable), "-c", "import os, sysconfig; print("
                                 "os.path.realpath(sysconfig.get_paths()['stdlib']))"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return False
    module = Path(stdlib) / "os.py"
    if not (os.stat(executable).st_mode & stat.S_IXOTH and os.stat(module).st_mode & stat.S_IROTH):
        return False
    return all(os.stat(folder).st_mode & stat.S_IXOTH
               for path in (executable, module) for folder in path.parents)


def students_python(python=None):
    """The interpreter the students' venv is based on: the one named, else the course's own
    base Python if others can run it, else the system's python3.X of the same version."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [python] if python else [
        getattr(sys, "_base_executable", sys.executable), f"/usr/bin/{version}",
        f"/usr/local/bin/{version}"]
    for candidate in candidates:
        if candidate and os.path.exists(candidate) and others_can_run(candidate):
            return candidate
    raise SystemExit(
        f"students could not run {' or '.join(c for c in candidates if c)} (a folder above it, "
        f"or its standard library, is closed to other users): name a Python {version} "
        "they can run, with --python (make student-env PYTHON_FOR_STUDENTS=...)")


def version_of(python):
    """(major, minor, micro) of an interpreter, or None if it does not run."""
    try:
        done = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:3])"],
                              capture_output=True, text=True, check=True)
        return tuple(int(part) for part in done.stdout.split())
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None


def check_version(python, needed=None):
    """Refuse a Python older than the course's own (its venv's, which the pinned packages
    were installed with): pip would fail late, with a cut-off message, on a package that
    needs a newer one (Debian 12's 3.11.2 against a pin needing 3.11.5)."""
    needed = tuple(needed or sys.version_info[:3])
    have = version_of(python)
    dotted = ".".join(map(str, needed))
    if have is None or have < needed:
        said = "does not run" if have is None else f"is Python {'.'.join(map(str, have))}"
        raise SystemExit(
            f"the students' Python {python} {said}; the course's environment is Python "
            f"{dotted} and its pinned packages may need it: name a Python {dotted} or newer "
            "that students can run with "
            "make student-env PYTHON_FOR_STUDENTS=/path/to/python3 (python -m grading "
            "student-env --python ...)")
    return have


def run(command, **kw):
    done = subprocess.run(command, capture_output=True, text=True, **kw)
    if done.returncode:
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n"
                         f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done


def make_student_env(target, exchange=None, also=(), python=None, course=COURSE,
                     out=sys.stdout):
    """Create the students' venv at target (it must not exist): see the module's text.
    pip reads its usual settings (PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX, ...)."""
    target = Path(target).absolute()
    if target.exists():
        raise SystemExit(f"{target} exists: remove it first, or name a new folder "
                         "(students keep using the old one until you switch)")
    exchange = exchange or exchange_root()
    base = students_python(python)
    check_version(base)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "bplib"  # the build leaves nothing in the course's bplib/
        shutil.copytree(Path(course) / "bplib", source, ignore=shutil.ignore_patterns(
            "__pycache__", "build", "*.egg-info"))
        run(pip + ["wheel", "--no-deps", "--no-build-isolation", str(source),
                   "-w", scratch])
        (wheel,) = Path(scratch).glob("bplib-*.whl")
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text("\n".join(student_requirements(course, wheel) + list(also))
                                + "\n")
        print(f"making the students' environment {target} (bplib {wheel.name.split('-')[1]},"
              f" the public edition's requirements and nbgrader; {base})", file=out)
        run([base, "-m", "venv", "--without-pip", str(target)])
        python = target / "bin" / "python"
        try:
            run(pip + ["--python", str(python), "install", "-r", str(requirements)])
        except SystemExit:
            shutil.rmtree(target, ignore_errors=True)
            raise
    config = target / "etc" / "jupyter"
    config.mkdir(parents=True, exist_ok=True)
    (config / "nbgrader_config.py").write_text(
        "# Written by `python -m grading student-env`: the course's exchange, for students.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"c.CourseDirectory.course_id = {course_id()!r}\n")
    # What `jupyter server extension disable --sys-prefix` and `jupyter labextension
    # disable --level=sys_prefix` write (seconds each, as commands); read after nbgrader's
    # own etc/jupyter/jupyter_server_config.d/nbgrader.json, which enables them all.
    for name in INSTRUCTOR_EXTENSIONS["server"]:
        folder = config / "jupyter_server_config.d"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {name: False}}}, indent=2))
    (config / "labconfig").mkdir(exist_ok=True)
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {name: True for name in INSTRUCTOR_EXTENSIONS["lab"]}},
        indent=2))
    open_to_all(target)
    print(f"the students' environment is ready: {target}/bin/jupyter lab, "
          f"{target}/bin/nbgrader (exchange {exchange}, course {course_id()})", file=out)
    return target


def open_to_all(folder):
    """Readable (and, where it is for the owner, executable) by everyone, writable by its
    owner alone."""
    for path in [Path(folder), *Path(folder).rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        wanted = 0o755 if path.is_dir() or mode & stat.S_IXUSR else 0o644
        if stat.S_IMODE(mode) != wanted:
            os.chmod(path, wanted)


def lock(course=COURSE, out=sys.stdout):
    """Close the course folder and everything instructors alone may read to group and
    others; return the paths whose permissions changed."""
    course = Path(course)
    changed = []

    def close(path):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
            changed.append(path)

    close(course)
    for pattern in PRIVATE:
        for top in sorted(course.glob(pattern)):
            for path in [top, *(top.rglob("*") if top.is_dir() and not top.is_symlink()
                                else [])]:
                if not path.is_symlink():
                    close(path)
    print(f"{course} and its {', '.join(PRIVATE)} are closed to group and others "
          f"({len(changed)} permissions changed)", file=out)
    return changed


def nbgrader(*args, course=COURSE, log=None):
    """The course's nbgrader, in the course folder (its nbgrader_config.py), its messages
    passed on (or appended to `log`); nbgrader runs alembic by name, so the environment's
    bin comes first."""
    env = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), *args],
                          cwd=course, env=env, capture_output=True, text=True)
    if log is None:
        sys.stdout.write(done.stdout + done.stderr)
    else:
        with open(log, "a") as output:
            output.write(done.stdout + done.stderr)
    return done.returncode


STAGED = "grading-records/feedback-release"  # no characters a regular expression reads


def release_feedback(assignment, course=COURSE, out=sys.stdout):
    """nbgrader release_feedback from a staging copy of feedback/: nbgrader names each
    released page by the submission's key (submission_secret.txt), which feedback/ (what
    goes back to students) does not hold; the copy takes it from submitted/. One line per
    student who submitted or has feedback (released, or NOT RELEASED with the reason),
    then the summary; nbgrader's messages go to a log file it names. Return the number of
    students not released (no page, no key, or nbgrader failed)."""

    course = Path(course)
    staged = course / STAGED
    shutil.rmtree(staged, ignore_errors=True)
    log = state.log_path(f"release-feedback-{assignment}", course)
    log.write_text(f"release-feedback {assignment}, {state.now()}\n")
    students = sorted({path.parent.name for folder in ("feedback", "submitted")
                       for path in (course / folder).glob(f"*/{assignment}")
                       if path.is_dir()})
    missing, ready = [], []
    for student in students:
        page = course / "feedback" / student / assignment
        key = course / "submitted" / student / assignment / "submission_secret.txt"
        stamp = next((path for path in (page / "timestamp.txt",
                                        key.with_name("timestamp.txt")) if path.is_file()),
                     None)
        why = ("no feedback page (not graded, or its page was refused: see `make grade`'s "
               "summary)" if not any(page.glob("*.html")) else
               f"no {key.name} in submitted/ (give feedback/{student}/{assignment}/ "
               "through the LMS)" if not key.is_file() else
               "no timestamp.txt" if stamp is None else None)
        if why:
            missing.append((student, why))
            continue
        target = staged / student / assignment
        target.mkdir(parents=True)
        for path in [*page.glob("*.html"), stamp, key]:
            shutil.copy2(path, target / path.name)
        ready.append(student)
    failed = 0
    try:
        if ready:
            failed = nbgrader("release_feedback", assignment,
                              f"--CourseDirectory.feedback_directory={STAGED}",
                              course=course, log=log)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    if failed:
        missing += [(student, f"nbgrader release_feedback failed (see {log})")
                    for student in ready]
        ready = []
    for student in ready:
        print(f"  released      {student}", file=out)
    for student, why in sorted(missing):
        print(f"  NOT RELEASED  {student}: {why}", file=out)
    print(f"feedback of {assignment}: {len(ready)} released, {len(missing)} NOT RELEASED"
          f"{' (listed above)' if missing else ''}; nbgrader's messages in "
          f"{os.path.relpath(log, course)}", file=out)
    return len(missing)
