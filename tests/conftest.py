"""Shared fixtures and helpers: the repository's paths, the book built once from clean, and
the lines a student must never see (defined in grading/leaks.py, shared with the grader)."""

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grading.leaks import (MARKER, MIN_SECRET_LENGTH, html_text, leaks_in,  # noqa: F401
                           secret_lines)
from grading.leaks import all_secret_lines as _all_secret_lines

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


# Scopes of `make test`'s two workers (see pytest_xdist_make_scheduler): the files that
# use the book's build run on one worker, one after another; the public edition's two files
# are a scope each; every other file is a scope of its own. FIRST is the order the
# scopes are handed out in before the rest.
BOOK_FILES = {"test_book.py", "test_browser.py", "test_lint.py"}
SCOPES = {"test_public.py": "edition", "test_edition_venv.py": "edition-venv"}
FIRST = ["book", "edition-venv", "edition"]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs nbgrader or builds the book (tens of seconds)")


def pytest_terminal_summary(terminalreporter):
    """Measurements a test records with record_property (the mutation score of each
    assignment's catalogue, tests/test_mutations.py), printed after the run whatever its
    outcome: they come back from the xdist workers with the reports."""
    said = sorted({f"{name}: {value}" for outcome in ("passed", "failed")
                   for report in terminalreporter.stats.get(outcome, [])
                   for name, value in getattr(report, "user_properties", [])})
    if said:
        terminalreporter.write_sep("=", "measured")
        for line in said:
            terminalreporter.write_line(line)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs `pytest -n 2`: each file goes to one worker whole, so that its
    module fixtures (an nbgrader batch, a PostgreSQL server) are made once, and the files
    that need the book go to one worker together. The book goes out first, then the
    edition's student venv (most of which it makes while the book builds on the other
    worker), then the edition, then the other files one by one to whichever worker is free,
    so that both end at about the same time. (xdist's own `--dist loadgroup` does not group
    with this pytest: its group names never reach the scheduler.)"""
    from xdist.scheduler import LoadScopeScheduling

    class BookAndFiles(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            name = os.path.basename(nodeid.split("::", 1)[0])
            return "book" if name in BOOK_FILES else SCOPES.get(name, name)

        def _assign_work_unit(self, node):
            for scope in reversed(FIRST):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return BookAndFiles(config, log)


def without_markers(source):
    """A solution cell's source without its BEGIN/END SOLUTION lines: what a student who
    wrote the solution hands in."""
    return "\n".join(line for line in source.splitlines()
                     if not re.match(r"\s*### (BEGIN|END) SOLUTION", line))


def honest_submission(source, release, replacements=None):
    """A copy of the release notebook with every answer cell holding the solution from the
    instructor's notebook `source`, or the code `replacements` gives for its grade_id."""
    answers = {cell.metadata["nbgrader"]["grade_id"]: without_markers(cell.source)
               for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}
    answers.update(replacements or {})
    notebook = nbformat.from_dict(release)  # a deep copy
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def nbgrader(course, *args, timeout=600):
    """Run the venv's nbgrader CLI in the course copy; return the CompletedProcess."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=timeout)


def released_copy(course, assignment, *folders):
    """A copy of the course in the folder `course` for one assignment (its solutions, the
    nbgrader config, grading/ which the config imports, and the repository's `folders`),
    released there with nbgrader: the copy's exercises/<assignment>/."""
    shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    shutil.copy(REPO / "nbgrader_config.py", course)
    for folder in ("grading", *folders):
        shutil.copytree(REPO / folder, course / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    generated = nbgrader(course, "generate_assignment", assignment, "--force")
    assert generated.returncode == 0, generated.stderr
    return course / "exercises" / assignment


def submit(course, assignment, student, notebook, name):
    """Put `notebook` in the copy's submitted/<student>/<assignment>/<name>."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / name)


def gradebook_cell_scores(course, assignment, notebook, students):
    """{student: {grade_id: score}} of every graded cell of one notebook (its stem), from
    a course copy's SQLite gradebook; None for a student with no graded submission."""
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                graded = gradebook.find_submission_notebook(notebook, assignment, student)
                found[student] = {grade.name: grade.score for grade in graded.grades}
            except MissingEntry:
                found[student] = None
    return found


def gradebook_scores(course, assignment, students):
    """{student: (score, max_score)} from a course copy's SQLite gradebook; None for a
    student with no graded submission."""
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                submission = gradebook.find_submission(assignment, student)
                found[student] = (submission.score, submission.max_score)
            except MissingEntry:
                found[student] = None
    return found


def all_secret_lines():
    """Every secret line of every instructor notebook under solutions/."""
    return _all_secret_lines(REPO / "solutions")


@pytest.fixture(scope="session")
def book_html(tmp_path_factory):
    """The whole book, built from clean (no cache) with -W --keep-going, once per run: with
    `make test`'s parallel workers (pytest-xdist) the first worker to need it builds it
    under a lock, the others wait for it and share it (a failed build fails them all).

    BOOK_HTML=_build/html reuses a build already made, to rerun the browser tests quickly
    while working on them; a full run (`make test`) always builds afresh.
    """
    if os.environ.get("BOOK_HTML"):
        return Path(os.environ["BOOK_HTML"]).resolve()
    if not (REPO / "_build" / "vendor" / ".copied").exists():
        pytest.fail("the book's JavaScript is not installed: run the tests with `make test`")
    root = run_root(tmp_path_factory)
    out, failed = root / "book", root / "book-failed.txt"
    with open(root / "book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.exists():
            pytest.fail(failed.read_text())
        if not (out / "_build" / "html" / "index.html").exists():
            result = subprocess.run(
                [str(BIN / "jupyter-book"), "build", str(REPO), "--path-output", str(out),
                 "-W", "--keep-going"],
                capture_output=True, text=True, cwd=REPO)
            if result.returncode != 0:
                failed.write_text(f"the book build failed (exit {result.returncode}):\n"
                                  f"{result.stdout[-6000:]}\n{result.stderr[-4000:]}")
                pytest.fail(failed.read_text())
    return out / "_build" / "html"


def run_root(tmp_path_factory):
    """A folder of this run that every xdist worker shares (each worker's base temp lies in
    it); without xdist, our own."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


@pytest.fixture(scope="session")
def edition_tree(tmp_path_factory, book_html):
    """The public edition's tree, written from the session's executed book into a
    repository of its own and committed, as `make public` does: made once per run, under a
    lock, by the first worker to need it, and only read after that."""
    sys.path.insert(0, str(REPO / "tools"))
    import public
    from test_public import URLS
    root = run_root(tmp_path_factory)
    tree, failed, done = root / "edition" / "tree", root / "edition-failed.txt", \
        root / "edition" / ".written"
    with open(root / "edition.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failed.exists():
            pytest.fail(failed.read_text())
        if not done.exists():
            try:
                public.own_repository(tree)
                public.set_remote(tree, URLS["repository"])
                public.write_tree(tree, URLS, build=book_html.parent,
                                  practice=public.practice_maker())
                public.commit(tree)
            except BaseException as error:
                failed.write_text(f"the edition could not be written: {error!r}")
                raise
            done.touch()
    return tree


@pytest.fixture(scope="session")
def chapter_pages():
    """The chapter sources, by the page name they are built to."""
    return {f"chapters/{path.stem}.html": path
            for path in sorted((REPO / "chapters").glob("*.md"))}


def outside_requests(page):
    """What an HTML page would load from another site as it opens: the http(s) or
    protocol-relative addresses of its scripts, stylesheets, images, frames and media, and
    of the url()s and @imports of its CSS (fonts, backgrounds). Links to follow are not
    loads."""
    from html.parser import HTMLParser

    outside = re.compile(r"\s*(?:https?:)?//", re.I)
    found = []

    class Loads(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            loads = {"script": ["src"], "link": ["href"], "img": ["src", "srcset"],
                     "iframe": ["src"], "frame": ["src"], "source": ["src", "srcset"],
                     "video": ["src", "poster"], "audio": ["src"], "embed": ["src"],
                     "object": ["data"], "input": ["src"], "track": ["src"],
                     "image": ["href", "xlink:href"], "use": ["href", "xlink:href"]}
            found.extend(f"<{tag} {name}={attrs[name]}>" for name in loads.get(tag, [])
                         if attrs.get(name) and outside.match(attrs[name]))
            if attrs.get("style"):
                self.css(attrs["style"])

        def handle_data(self, data):
            if self.lasttag == "style":
                self.css(data)

        def css(self, text):
            found.extend(re.findall(r"url\(\s*[\"']?\s*(?:https?:)?//[^)]*\)", text, re.I))
            found.extend(re.findall(r"@import\s+[\"']\s*(?:https?:)?//[^;]*", text, re.I))

    Loads().feed(page)
    return found
