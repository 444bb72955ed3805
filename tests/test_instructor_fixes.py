"""Small unit tests of what an outsider instructor tripped over following instructors.md:
a Mac's or Blackboard's extra files in the LMS zip, the feedback's wording when a visible
assert stopped a test cell, ..."""

import io
import sys
import zipfile

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO))
from grading import cli, judge  # noqa: E402
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
