"""The instructor guide's single-machine workflow, run line by line as instructors.md
writes it, in a copy of the course with a zip of submissions as an LMS would hand it over;
and the make targets' messages when something is missing."""

import csv
import os
import re
import shutil
import subprocess
import zipfile

import nbformat
import pytest

from conftest import REPO, honest_submission

ASSIGNMENT = "01-telephone"
MARKER = "<!-- the single-machine workflow"

pytestmark = pytest.mark.slow


def page_commands():
    """The lines of the first bash block after the marker in instructors.md."""
    text = (REPO / "instructors.md").read_text(encoding="utf-8")
    assert MARKER in text, "instructors.md lost its tested workflow block"
    block = re.search(r"```bash\n(.*?)```", text[text.index(MARKER):], re.DOTALL)
    return [line for line in block.group(1).splitlines() if line.strip()]


def make_env():
    env = dict(os.environ, VENV=str(REPO / ".venv"))
    env.pop("BPCOURSE_DB_URL", None)
    env.pop("MAKEFLAGS", None)
    return env


@pytest.fixture()
def course(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    for name in ("Makefile", "book.mk", "nbgrader_config.py", "requirements.txt",
                 "constraints.txt",
                 "bplib/pyproject.toml"):
        (course / name).parent.mkdir(exist_ok=True)
        shutil.copy2(REPO / name, course / name)  # their times: nothing to reinstall
    for folder in (f"solutions/{ASSIGNMENT}", f"exercises/{ASSIGNMENT}", "grading"):
        shutil.copytree(REPO / folder, course / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return course


def sh(course, line):
    return subprocess.run(["bash", "-c", line], cwd=course, env=make_env(),
                          capture_output=True, text=True, timeout=1200)


def lms_zip(course):
    """alice hands in the solution, bob the untouched release; the LMS nests the files."""
    source = nbformat.read(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    release = nbformat.read(REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    honest = honest_submission(source, release)
    with zipfile.ZipFile(course / "submissions.zip", "w") as archive:
        archive.writestr(f"week3/alice_{ASSIGNMENT}.ipynb", nbformat.writes(honest))
        archive.writestr(f"week3/bob_{ASSIGNMENT}.ipynb", nbformat.writes(release))
    return sum(c.metadata["nbgrader"].get("points", 0) for c in source.cells
               if c.metadata.get("nbgrader", {}).get("grade"))


def test_the_guide_s_workflow_runs_as_written(course):
    max_score = lms_zip(course)
    commands = page_commands()
    assert [c.split()[1] for c in commands] == ["release", "collect", "grade", "grades"]
    for line in commands:
        result = sh(course, line)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        if " grade " in f" {line} ":
            report = result.stdout
    assert (course / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    assert re.search(rf"alice\s+{max_score:g} / {max_score:g}", report), report
    assert re.search(rf"bob\s+0 / {max_score:g}", report), report
    assert "graded 2 of 2" in report
    assert (course / "feedback" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()
    with open(course / "grades.csv", newline="") as table:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(table)
                if row["assignment"] == ASSIGNMENT}
    assert rows == {"alice": max_score, "bob": 0.0}


@pytest.mark.parametrize("line, message", [
    ("make grade", "name the assignment: make grade A=01-telephone"),
    ("make release A=99-nope", "no assignment '99-nope'"),
    ("make grade A=01-telephone", "no submissions: expected submitted/<student>/01-telephone/"),
    ("make collect A=01-telephone ZIP=missing.zip", "name the LMS's zip of submissions"),
])
def test_missing_arguments_and_folders_are_named(course, line, message):
    result = sh(course, line)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_release_refuses_a_source_that_fails_its_own_tests(course):
    path = course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source = nbformat.read(path, 4)
    answer = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = "raise RuntimeError('a broken source')"
    nbformat.write(source, path)
    before = (course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
    result = sh(course, f"make release A={ASSIGNMENT}")
    assert result.returncode != 0 and "nothing released" in result.stdout + result.stderr
    assert (course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes() == before


def test_collect_says_so_when_no_file_matches(course):
    with zipfile.ZipFile(course / "odd.zip", "w") as archive:
        archive.writestr("notebook.ipynb", "{}")
    result = sh(course, f"make collect A={ASSIGNMENT} ZIP=odd.zip")
    assert result.returncode != 0 and "nothing collected" in result.stdout
