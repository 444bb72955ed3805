"""The public edition's every notebook runs in a venv made from its requirements alone
(tests/test_public.py tests the rest of the edition). A file of its own, so that `make
test`'s scheduler runs it on the other worker than the book's, making most of the venv
while the book builds (see conftest.py)."""

import os
import subprocess
import venv

import nbformat
import pytest

import offline
from conftest import REPO, honest_submission
from test_public import (PRACTICE_LINE, URLS, answer_practice_questions, git, git_out,
                         practice_cells, public)

pytestmark = pytest.mark.slow


def wanted(requirements):
    """The packages a requirements file names, without the constraints and ./bplib."""
    return [line.split(";")[0].strip() for line in requirements.splitlines()
            if line.strip() and not line.startswith(("#", "-c", "./"))]


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A fresh venv holding what the edition's requirements name besides bplib, installed
    offline: pip may use only wheels rebuilt from the course's .venv, and reaches no index.
    It needs only the text `make public` writes as requirements.txt, so it is made while
    the book builds; the edition's own file is installed from below."""
    folder = tmp_path_factory.mktemp("student")
    wheelhouse = folder / "wheelhouse"
    wheelhouse.mkdir()
    requirements = public.requirements(URLS)
    offline.wheelhouse(wanted(requirements) + ["setuptools", "wheel"], wheelhouse)
    fresh = folder / "venv"
    venv.create(fresh, with_pip=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PIP_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse), PIP_CONFIG_FILE=os.devnull,
               PYTHONNOUSERSITE="1", PATH=f"{fresh / 'bin'}:/usr/bin:/bin")
    (folder / "requirements.txt").write_text(
        "\n".join(line for line in requirements.splitlines() if not line.startswith("./")))
    (folder / "constraints.txt").write_text((REPO / "constraints.txt").read_text())
    installed = subprocess.run(
        [str(fresh / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=1800)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return fresh, env, requirements


@pytest.fixture(scope="module")
def clone(edition_tree, tmp_path_factory):
    """The edition cloned afresh (not built: tests/test_public.py builds its site)."""
    folder = tmp_path_factory.mktemp("edition-venv")
    git("clone", "-q", str(edition_tree), str(folder / "clone"), cwd=folder)
    return folder / "clone"


@pytest.fixture(scope="module")
def student_venv(fresh_venv, clone):
    """The fresh venv after `pip install -r requirements.txt` in the edition's clone: the
    edition's own file (the one the venv was begun from) and its constraints, which add
    bplib, built from the clone."""
    fresh, env, requirements = fresh_venv
    assert (clone / "requirements.txt").read_text() == requirements
    assert (clone / "constraints.txt").read_text() == (REPO / "constraints.txt").read_text()
    installed = subprocess.run(
        [str(fresh / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    left = [line for line in git_out("status", "--porcelain", cwd=clone).splitlines()
            if line.startswith("??") and "bplib" in line]
    assert left == [], f"installing leaves files the edition's git does not ignore: {left}"
    return fresh, env


RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=900, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(notebook, sys.argv[1])
"""
EDITION_NOTEBOOKS = [f"chapters/{p.stem}" for p in sorted((REPO / "chapters").glob("*.md"))] \
    + [f"exercises/{p.name}" for p in sorted((REPO / "solutions").iterdir()) if p.is_dir()]


@pytest.mark.parametrize("name", EDITION_NOTEBOOKS)
def test_every_notebook_runs_in_the_students_venv(name, clone, student_venv, tmp_path):
    """Chapters as they are; assignments with the solutions' answers filled in."""
    fresh, env = student_venv
    if name.startswith("chapters/"):
        notebook = nbformat.read(clone / f"{name}.ipynb", as_version=4)
        workdir = clone / "chapters"
    else:
        assignment = name.split("/")[1]
        release = nbformat.read(clone / name / f"{assignment}.ipynb", as_version=4)
        source = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb",
                               as_version=4)
        notebook = answer_practice_questions(honest_submission(source, release))
        workdir = tmp_path
    path = tmp_path / "run.ipynb"
    nbformat.write(notebook, path)
    run = subprocess.run([str(fresh / "bin" / "python"), "-c", RUN_NOTEBOOK, str(path),
                          str(workdir)], env=env, capture_output=True, text=True,
                         timeout=3000, cwd=tmp_path)
    assert run.returncode == 0, f"{name} fails in the student venv:\n{run.stderr[-5000:]}"
    if name.startswith("exercises/"):
        # the practice checks run in the student's kernel (no grading, no autograd there),
        # and the solution passes every one of them
        executed = nbformat.read(path, as_version=4)
        verdicts = [match.groups() for cell in executed.cells
                    for output in cell.get("outputs", [])
                    for match in PRACTICE_LINE.finditer(output.get("text", ""))]
        assert len(verdicts) == len(practice_cells(executed)) > 0
        assert all(v[3] == "passed" and v[1] == v[2] for v in verdicts), verdicts
