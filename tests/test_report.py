"""The diagnosis and the item analysis end to end (issue 22): a small class of Assignment 3
graded through the real grader (`python -m grading grade`, nbgrader's workers), whose
students were built to make known mistakes; then `python -m grading report` and each
student's feedback page.

The class (Assignment 3's test cells put their hidden checks before any visible assert, so
a wrong value reaches a check):
  honest-1, honest-2  the solution: full marks, no diagnosis at all
  negated             LinearLayer.backward returns −Wᵀu
  transposed          grad_W = x uᵀ instead of u xᵀ
  scaled              grad_b is a mean over the batch instead of a sum
  reversed            backward_through returns its list without reversing it
  catalogued          one-sided differences in gradient_check, and the catalogue (a test
                      double of grading.mistakes.matching, put into the grader's process
                      by this copy's nbgrader_config.py) knows that mistake
The same class is graded a second time with the course's own catalogue
(mistakes/03-composite.py), which holds four of these mistakes: they are named by their ids.
"""

import csv
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import REPO, honest_submission, without_markers

ASSIGNMENT = "03-composite"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SITE = "https://course.example.org/book/"
SECTION = "chapters/03-composite.html#layers-as-objects"

pytestmark = pytest.mark.slow

FAKE_CATALOGUE = f'''
# Test double (tests/test_report.py): the catalogue knows one mistake of gradient_check.
import grading.mistakes as _mistakes

_ONE_SIDED = _mistakes.Mistake(
    id="a3-one-sided", cell="composite-gradient-check", replace=(),
    tests=("composite-gradient-check-tests",), title="One-sided differences",
    explanation="Central differences are off by h squared; one-sided ones by h.",
    section="{SECTION}")


def _matching(source_path, grade_id, index, value, rtol, atol, records=None):
    with open(_calls, "a") as calls:
        calls.write(f"{{grade_id}} {{index}}\\n")
    if grade_id == "composite-gradient-check-tests":
        return [_ONE_SIDED]
    raise NotImplementedError  # as the catalogue's skeleton does


_calls = __import__("os").path.join(c.CourseDirectory.root, "matching-calls.txt")
_mistakes.matching = _matching
'''


def answers(source):
    return {cell.metadata["nbgrader"]["grade_id"]: without_markers(cell.source)
            for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}


def changed(code, old, new):
    assert code.count(old) == 1, old
    return code.replace(old, new)


def class_notebooks(source, release):
    solution = answers(source)
    linear, through = solution["composite-linear"], solution["composite-backward-through"]
    check = solution["composite-gradient-check"]
    wrong = {
        "negated": {"composite-linear": changed(
            linear, "return np.dot(self.W.T, upstream_grad)",
            "return -np.dot(self.W.T, upstream_grad)")},
        "transposed": {"composite-linear": changed(
            linear, "np.dot(upstream_grad, self.seen.T)", "np.dot(self.seen, upstream_grad.T)")},
        "scaled": {"composite-linear": changed(
            linear, "np.sum(upstream_grad, axis=1)", "np.mean(upstream_grad, axis=1)")},
        "reversed": {"composite-backward-through": changed(
            through, "return gradients[::-1]", "return gradients")},
        "catalogued": {"composite-gradient-check": changed(
            check, "numeric[k] = (above - below) / (2 * h)",
            "numeric[k] = (above - np.sum(u * output)) / h")},
    }
    notebooks = {"honest-1": honest_submission(source, release),
                 "honest-2": honest_submission(source, release)}
    notebooks.update({student: honest_submission(source, release, replacements)
                      for student, replacements in wrong.items()})
    return notebooks


def run(course, *args):
    env = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}")
    for name in ("BPCOURSE_DB_URL", "BP_SANDBOX"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "grading", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_the_class(tmp_path_factory, fake_catalogue=True)


@pytest.fixture(scope="module")
def graded_by_the_catalogue(tmp_path_factory):
    """The same class graded with the course's own catalogue (mistakes/03-composite.py)."""
    return grade_the_class(tmp_path_factory, fake_catalogue=False)


def grade_the_class(tmp_path_factory, fake_catalogue):
    course = tmp_path_factory.mktemp("report") / "course"
    course.mkdir()
    for name in ("nbgrader_config.py", "_toc.yml", f"chapters/{ASSIGNMENT}.md"):
        (course / name).parent.mkdir(exist_ok=True)
        shutil.copy2(REPO / name, course / name)
    (course / "edition.yml").write_text(f'site: "{SITE}"\n')
    folders = [f"solutions/{ASSIGNMENT}", f"exercises/{ASSIGNMENT}", "grading"]
    if not fake_catalogue:
        (course / "mistakes").mkdir()
        shutil.copy2(REPO / "mistakes" / f"{ASSIGNMENT}.py", course / "mistakes")
    for folder in folders:
        shutil.copytree(REPO / folder, course / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    if fake_catalogue:
        with open(course / "nbgrader_config.py", "a") as config:
            config.write(FAKE_CATALOGUE)
    source = nbformat.read(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, 4)
    release = nbformat.read(REPO / "exercises" / ASSIGNMENT / NOTEBOOK, 4)
    for student, notebook in class_notebooks(source, release).items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / NOTEBOOK)
    # What `make release` records, without its checks (test_instructor_workflow runs them)
    env = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}")
    env.pop("BPCOURSE_DB_URL", None)
    generated = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"),
                                "generate_assignment", ASSIGNMENT, "--force"], cwd=course,
                               env=env, capture_output=True, text=True, timeout=600)
    assert generated.returncode == 0, generated.stderr
    subprocess.run([sys.executable, "-c", "from grading import state; state.write("
                    f"state.released_path({ASSIGNMENT!r}), {{'source': state.source_checksum("
                    f"{ASSIGNMENT!r})}})"], cwd=course, check=True)
    empty = run(course, "report", ASSIGNMENT)
    grading = run(course, "grade", ASSIGNMENT, "--sandbox", "off")
    report = run(course, "report", ASSIGNMENT)
    return course, empty, grading, report


def table(course, name):
    with open(course / "grading-records" / "report" / ASSIGNMENT / name,
              newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def feedback_page(course, student):
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def test_nothing_graded_is_a_clear_error(graded):
    _, empty, _, _ = graded
    assert empty.returncode == 2
    assert "nothing graded of 03-composite" in empty.stderr


def test_the_report_counts_what_the_class_was_built_to_contain(graded):
    course, _, grading, report = graded
    assert grading.returncode == 0, grading.stdout + grading.stderr
    assert report.returncode == 0, report.stdout + report.stderr
    page = (course / "grading-records" / "report" / ASSIGNMENT / "report.html").read_text()
    assert page.count("<img") >= 4 and "data:image/png;base64," in page

    scores = {row["student"]: float(row["score"]) for row in table(course, "scores.csv")}
    full = float(table(course, "scores.csv")[0]["max_score"])
    assert scores["honest-1"] == scores["honest-2"] == full
    assert len(scores) == 7 and all(scores[s] < full for s in scores if "honest" not in s)

    diagnoses = table(course, "diagnoses.csv")
    found = {row["student"]: (row["grade_id"], row["kind"], row["what"]) for row in diagnoses}
    assert len(diagnoses) == len(found) == 5  # one failing test cell each, honest ones none
    assert found == {
        "negated": ("composite-linear-tests", "structural", "negated"),
        "transposed": ("composite-linear-tests", "structural", "transposed"),
        "scaled": ("composite-linear-tests", "structural", "scaled"),
        "reversed": ("composite-backward-through-tests", "structural", "reversed"),
        "catalogued": ("composite-gradient-check-tests", "catalogue", "a3-one-sided"),
    }
    assert table(course, "mistakes.csv") == [
        {"mistake": "a3-one-sided", "students": "1", "which": "catalogued"}]
    assert {row["kind"]: int(row["failures"]) for row in table(course, "structural.csv")} \
        == {"negated": 1, "transposed": 1, "scaled": 1, "reversed": 1}
    cells = {row["grade_id"]: row for row in table(course, "cells.csv")}
    assert cells["composite-linear-tests"]["full_points"] == "4"  # of 7
    assert cells["composite-backward-through-tests"]["full_points"] == "6"
    assert cells["composite-forward-through-tests"]["pass_rate"] == "1.000"
    times = table(course, "times.csv")
    assert len(times) == 7 and all(float(row["seconds"]) > 0 for row in times)
    # matching ran once per failing check that had a value, never for an honest student
    calls = (course / "matching-calls.txt").read_text().split("\n")
    assert len([line for line in calls if line]) == 5


def test_the_feedback_pages_say_what_the_values_show_and_where_to_reread(graded):
    course, _, _, _ = graded
    negated = feedback_page(course, "negated")
    assert "Your results, task by task" in negated
    assert "the expected ones times −1" in negated
    assert "reverse order" in feedback_page(course, "reversed")
    assert "transposed" in feedback_page(course, "transposed")
    catalogued = feedback_page(course, "catalogued")
    assert "One-sided differences" in catalogued
    assert "Central differences are off by h squared" in catalogued
    assert "Chapter 3, section “Layers as objects”" in catalogued
    assert f'href="{SITE}{SECTION}"' in catalogued
    honest = feedback_page(course, "honest-1")
    assert "What your values show" not in honest and "known mistake" not in honest


def test_the_course_s_catalogue_names_the_class_s_catalogued_mistakes(graded_by_the_catalogue):
    """Graded with the real catalogue, the class's mistakes that the catalogue holds are
    named by their ids in the gradebook's diagnoses and the report, the one it does not hold
    (a negated backward) keeps its structural diagnosis, and a page names its mistake."""
    course, _, grading, report = graded_by_the_catalogue
    assert grading.returncode == 0, grading.stdout + grading.stderr
    assert report.returncode == 0, report.stdout + report.stderr
    found = {row["student"]: (row["kind"], row["what"])
             for row in table(course, "diagnoses.csv")}
    assert found == {
        "negated": ("structural", "negated"),
        "transposed": ("catalogue", "a3-grad-w-transposed"),
        "scaled": ("catalogue", "a3-grad-b-mean"),
        "reversed": ("catalogue", "a3-backward-list-not-reversed"),
        "catalogued": ("catalogue", "a3-check-one-sided"),
    }, found
    assert {row["mistake"]: row["students"] for row in table(course, "mistakes.csv")} == {
        "a3-grad-w-transposed": "1", "a3-grad-b-mean": "1",
        "a3-backward-list-not-reversed": "1", "a3-check-one-sided": "1"}
    page = " ".join(feedback_page(course, "scaled").split())
    assert "the mean over the batch where ∂z/∂b is a sum" in page
