"""Small unit tests of what an outsider instructor tripped over following instructors.md:
a Mac's or Blackboard's extra files in the LMS zip, the feedback's wording when a visible
assert stopped a test cell, ..."""

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO))
from grading import cli, judge, sandbox  # noqa: E402
from grading.collect import collect  # noqa: E402

ASSIGNMENT = "01-telephone"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def test_mac_and_blackboard_extras_are_ignored_not_students(tmp_path, monkeypatch):
    (tmp_path / "exercises" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "exercises" / ASSIGNMENT / NOTEBOOK).write_text("{}")
    attempt = "HW1_j.doe_attempt_2026-11-01-10-00-00"
    extras = [f"__MACOSX/._jane_doe_{NOTEBOOK}", f"__MACOSX/week3/._bob_{NOTEBOOK}",
              f"week3/._carl_{NOTEBOOK}", ".DS_Store", "week3/.DS_Store", "Thumbs.db",
              f"{attempt}.txt"]
    with zipfile.ZipFile(tmp_path / "lms.zip", "w") as archive:
        for name in [f"jane_doe_{NOTEBOOK}", f"{attempt}_{NOTEBOOK}"] + extras:
            archive.writestr(name, "{}")
    out = io.StringIO()
    chosen, _, refused = collect(tmp_path, ASSIGNMENT, tmp_path / "lms.zip", out=out)
    assert sorted(student for student, _ in chosen) == ["j.doe", "jane_doe"]
    assert refused == []
    text = out.getvalue()
    for name in extras:
        assert f"ignored (not a submission): {name}: " in text, text
    assert f"; {len(extras)} ignored (not a submission)" in text, text
    assert "NOT COLLECTED" not in text
    # the command's exit status: 0, as the Blackboard download itself was fine
    monkeypatch.setattr(cli, "COURSE", tmp_path)
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "lms.zip")]) == 2  # no solutions/
    (tmp_path / "solutions" / ASSIGNMENT).mkdir(parents=True)
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "lms.zip")]) == 0
    # a real file not collected still fails it
    with zipfile.ZipFile(tmp_path / "lms.zip", "a") as archive:
        archive.writestr("notes.txt", "hello")
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "lms.zip")]) == 1


def test_a_check_that_never_ran_is_named_as_such():
    checks = [{"message": "f should return a list", "answers": [[1]], "rtol": 0, "atol": 0},
              {"message": "f should be called exactly twice per input", "answers": [2],
               "rtol": 0, "atol": 0}]
    said = judge.judged_records([{"value": [1]}], checks, "AssertionError")
    assert said == ("the test stopped at AssertionError before this check ran: "
                    "f should be called exactly twice per input")
    assert judge.judged_records([{"value": [1]}], checks) == (
        "the test ended before this check ran: f should be called exactly twice per input")
    assert judge.judged_records([{"value": [1]}, {"value": 2}], checks) is None


def test_student_env_refuses_a_python_older_than_the_course_s(tmp_path):
    from grading import exchange

    old = tmp_path / "python3.11"
    old.write_text('#!/bin/sh\ncase "$*" in *version_info*) echo 3 11 2;; '
                   f'*) exec {sys.executable} "$@";; esac\n')
    old.chmod(0o755)
    with pytest.raises(SystemExit) as refused:
        exchange.check_version(old, needed=(3, 11, 5))
    message = str(refused.value)
    for part in (str(old), "is Python 3.11.2", "Python 3.11.5", "PYTHON_FOR_STUDENTS="):
        assert part in message, message
    assert exchange.check_version(old, needed=(3, 11, 2)) == (3, 11, 2)
    # the course's own Python passes against itself (what make_student_env checks)
    assert exchange.check_version(sys.executable) == tuple(sys.version_info[:3])
    # make_student_env refuses before building anything
    with pytest.raises(SystemExit) as refused:
        exchange.make_student_env(tmp_path / "env", python=str(old), course=REPO)
    assert "is Python 3.11.2" in str(refused.value) or "could not run" in str(refused.value)
    assert not (tmp_path / "env").exists()


def test_a_kernel_that_could_not_start_is_the_grader_s_failure(tmp_path):
    from grading import batch

    dead = {"status": "not graded",
            "reason": "RuntimeError: Kernel died before replying to kernel_info"}
    assert batch.kernel_did_not_start(dead)
    assert batch.kernel_did_not_start({"status": "not graded", "reason": "x",
                                       "kernel_did_not_start": True})
    # a kernel the student's code killed is the student's: not retried while unchanged
    assert not batch.kernel_did_not_start({"status": "not graded",
                                           "reason": "DeadKernelError: Kernel died"})
    assert not batch.kernel_did_not_start({"status": "graded", "reason": None})
    log = tmp_path / "grade.log"
    log.write_text("earlier student's lines\n")
    offset = log.stat().st_size
    with open(log, "a") as out:
        out.write("[AutogradeApp | INFO] Converting notebook\n"
                  "prlimit: failed to execute /c/.venv/bin/python: No such file or directory\n"
                  "Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                  "RuntimeError: Kernel died before replying to kernel_info\n"
                  "[ERROR] Traceback (most recent call last):\n"
                  "    RuntimeError: Kernel died before replying to kernel_info\n"
                  "nbgrader.converters.base.NbGraderException: Please see the above\n"
                  "[AutogradeApp | ERROR] There was an error processing\n")
    assert batch.kernel_messages(log, offset) == [
        "prlimit: failed to execute /c/.venv/bin/python: No such file or directory"]


@pytest.mark.slow
@pytest.mark.skipif(sandbox.unavailable_reason() is not None,
                    reason=f"the grading sandbox: {sandbox.unavailable_reason()}")
def test_the_sandbox_check_starts_a_real_kernel(tmp_path):
    """`python grading/sandbox.py` (the guide's check) runs one line in a sandboxed kernel:
    with the course's .venv reached through a symlink (which the sandbox cannot run) it
    fails, with the kernel's own message."""
    good = subprocess.run([sys.executable, "grading/sandbox.py"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert good.returncode == 0 and "started and ran one line" in good.stdout, good.stderr
    link = tmp_path / "venv"
    link.symlink_to(os.path.realpath(Path(sys.executable).parent.parent))
    bad = subprocess.run([str(link / "bin" / "python"), "grading/sandbox.py"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "could not run one line" in bad.stderr and "prlimit: failed to execute" in \
        bad.stderr, bad.stderr


def test_withdraw_removes_a_student_everywhere(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook
    from sqlalchemy import insert, select

    from grading import diagnoses, export, state, withdraw

    url = f"sqlite:///{tmp_path}/gradebook.db"
    # nbgrader runs alembic by name
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    with Gradebook(url) as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_assignment("02-gradient")
        for student in ("jane", "bob"):
            gradebook.add_student(student)
            gradebook.add_submission(ASSIGNMENT, student)
        gradebook.add_submission("02-gradient", "jane")
    for student in ("jane", "bob"):
        for folder in withdraw.FOLDERS:
            (tmp_path / folder / student / ASSIGNMENT).mkdir(parents=True)
            (tmp_path / folder / student / ASSIGNMENT / NOTEBOOK).write_text("{}")
        for kind in ("graded", "collected"):
            state.write(state.records(tmp_path) / kind / ASSIGNMENT / f"{student}.json",
                        {"status": "not graded", "reason": "x", "gradebook": url})
    (tmp_path / "submitted" / "jane" / "02-gradient").mkdir()
    with diagnoses.engine(url).begin() as connection:
        for student in ("jane", "bob"):
            connection.execute(insert(diagnoses.TIMES), [{
                "assignment": ASSIGNMENT, "student": student, "graded_at": "t",
                "seconds": 1.0}])
            connection.execute(insert(diagnoses.DIAGNOSES), [{
                "assignment": ASSIGNMENT, "student": student, "notebook": "n",
                "grade_id": "g", "check_index": 0, "kind": "none", "what": "value",
                "graded_at": "t", "seconds": 0.1}])
    monkeypatch.setattr(export, "COURSE", tmp_path)
    assert {row["student_id"] for row in export._rows(url)} == {"jane", "bob"}

    # one assignment: jane keeps 02-gradient, and stays in the gradebook
    assert withdraw.withdraw("jane", url, ASSIGNMENT, course=tmp_path,
                             out=io.StringIO()) == [ASSIGNMENT]
    for folder in withdraw.FOLDERS:
        assert not (tmp_path / folder / "jane" / ASSIGNMENT).exists()
        assert (tmp_path / folder / "bob" / ASSIGNMENT / NOTEBOOK).exists()
    assert (tmp_path / "submitted" / "jane" / "02-gradient").is_dir()
    assert set(state.graded_records(ASSIGNMENT, tmp_path)) == {"bob"}
    assert state.collected_record(ASSIGNMENT, "jane", tmp_path) is None
    with Gradebook(url) as gradebook:
        assert [s.student.id for s in gradebook.assignment_submissions(ASSIGNMENT)] == ["bob"]
        assert [s.assignment.name for s in gradebook.find_student("jane").submissions] == [
            "02-gradient"]
    with diagnoses.engine(url).connect() as connection:
        for table in (diagnoses.TIMES, diagnoses.DIAGNOSES):
            assert [row.student for row in connection.execute(select(table))] == ["bob"]
    assert ("jane", ASSIGNMENT) not in {(row["student_id"], row["assignment"])
                                        for row in export._rows(url)
                                        if row["status"] != "not submitted"}
    # all of them: jane leaves the gradebook and every export
    assert withdraw.withdraw("jane", url, course=tmp_path, out=io.StringIO()) == [
        "02-gradient"]
    assert not (tmp_path / "submitted" / "jane").exists()
    with Gradebook(url) as gradebook:
        assert [s.id for s in gradebook.students] == ["bob"]
    assert {row["student_id"] for row in export._rows(url)} == {"bob"}
    with pytest.raises(SystemExit, match="nothing of a student 'jane'"):
        withdraw.withdraw("jane", url, course=tmp_path, out=io.StringIO())


def test_a_not_graded_record_of_a_removed_submission_is_not_exported(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    from grading import export, state

    url = f"sqlite:///{tmp_path}/gradebook.db"
    # nbgrader runs alembic by name
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    with Gradebook(url) as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
    for student in ("kept", "removed"):
        state.write(state.records(tmp_path) / "graded" / ASSIGNMENT / f"{student}.json",
                    {"status": "not graded", "reason": "x", "gradebook": url})
    (tmp_path / "submitted" / "kept" / ASSIGNMENT).mkdir(parents=True)
    monkeypatch.setattr(export, "COURSE", tmp_path)
    assert [(row["student_id"], row["status"]) for row in export._rows(url)] == [
        ("kept", "not graded")]
