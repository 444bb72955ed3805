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

What the grader must find is computed here without it: each student's answers run in the
instructor's notebook in this process, every check's value compared with the solution's.
The report's pass rate of each check and the set of diagnosed checks (every failing check
that sent a value) must be those.
"""

import contextlib
import csv
import html
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

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


def class_mistakes(source):
    """{student: {answer cell: the student's code}} of the students who made a mistake."""
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
    return wrong


def class_notebooks(source, release):
    notebooks = {"honest-1": honest_submission(source, release),
                 "honest-2": honest_submission(source, release)}
    notebooks.update({student: honest_submission(source, release, replacements)
                      for student, replacements in class_mistakes(source).items()})
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


def first_diagnoses(rows):
    """{student: (test cell, kind, what) of the first failing check diagnosed}."""
    first = {}
    for row in sorted(rows, key=lambda row: int(row["check_index"])):
        first.setdefault(row["student"], (row["grade_id"], row["kind"], row["what"]))
    return first


def test_the_report_counts_what_the_class_was_built_to_contain(graded, outcomes_here):
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
    # every failing check that sent a value is diagnosed, once; none other (honest: none)
    outcomes, _ = outcomes_here
    failing = {(student, *key) for student in outcomes
               for key in failing_checks(outcomes, student)}
    diagnosed = [(row["student"], row["grade_id"], int(row["check_index"]))
                 for row in diagnoses]
    assert sorted(diagnosed) == sorted(failing)
    assert all(len({key for key in failing if key[0] == student}) > 1
               for student in ("negated", "scaled", "reversed", "catalogued"))
    # each student's first failure says what the mistake does, and a mistake that acts on
    # every value the same way says so at every failing check
    assert first_diagnoses(diagnoses) == {
        "negated": ("composite-linear-tests", "structural", "negated"),
        "transposed": ("composite-linear-tests", "structural", "transposed"),
        "scaled": ("composite-linear-tests", "structural", "scaled"),
        "reversed": ("composite-backward-through-tests", "structural", "reversed"),
        "catalogued": ("composite-gradient-check-tests", "catalogue", "a3-one-sided"),
    }
    for student, what in (("negated", "negated"), ("scaled", "scaled"),
                          ("catalogued", "a3-one-sided")):
        assert {row["what"] for row in diagnoses if row["student"] == student} == {what}
    assert table(course, "mistakes.csv") == [  # the test double's catalogue file: no title
        {"mistake": "a3-one-sided", "title": "", "students": "1", "which": "catalogued"}]
    # students, not failing checks: the negated student fails several checks of one cell
    labelled = [(row["what"] if row["kind"] == "structural" else f"none ({row['what']})",
                 row["student"]) for row in diagnoses if row["kind"] != "catalogue"]
    assert {row["kind"]: (int(row["students"]), int(row["failing_checks"]))
            for row in table(course, "structural.csv")} == {
        kind: (len({student for k, student in labelled if k == kind}),
               sum(k == kind for k, _ in labelled)) for kind, _ in labelled}
    assert Counter(kind for kind, _ in labelled)["negated"] > 1
    cells = {row["grade_id"]: row for row in table(course, "cells.csv")}
    by_cell = {}
    for row in diagnoses:
        by_cell.setdefault(row["grade_id"], {}).setdefault(
            row["what"] if row["kind"] != "none" else "none", set()).add(row["student"])
    for grade_id, found in by_cell.items():
        assert cells[grade_id]["students_whose_failures_were_diagnosed_as"] == "; ".join(
            f"{what}: {len(who)} student{'s' * (len(who) != 1)}"
            for what, who in sorted(found.items()))
    assert cells["composite-linear-tests"]["full_points"] == "4"  # of 7
    assert cells["composite-backward-through-tests"]["full_points"] == "6"
    assert cells["composite-forward-through-tests"]["pass_rate"] == "1.000"
    times = table(course, "times.csv")
    assert len(times) == 7 and all(float(row["seconds"]) > 0 for row in times)
    # matching ran once per failing check that had a value, never for an honest student
    calls = (course / "matching-calls.txt").read_text().split("\n")
    assert len([line for line in calls if line]) == len(failing)


def json_text(text):
    return json.dumps(text)[1:-1]


def test_the_feedback_pages_say_what_the_values_show_and_where_to_reread(graded,
                                                                         outcomes_here):
    course, _, _, _ = graded
    negated = feedback_page(course, "negated")
    assert "Your results, task by task" in negated
    assert "the expected ones times −1" in negated
    assert "reverse order" in feedback_page(course, "reversed")
    assert "transposed" in feedback_page(course, "transposed")
    # every failing check's diagnosis is said once: in the summary and in the test cell's
    # output (a page's two places), though several of the cell's checks fail with -Wᵀu
    assert negated.count("the expected ones times −1") == 2
    catalogued = feedback_page(course, "catalogued")
    assert catalogued.count("One-sided differences") == 2
    assert catalogued.count("Central differences are off by h squared") == 2
    # the task's label is the heading right above its test cell (2b under Task 2)
    source = (REPO / "solutions" / ASSIGNMENT / NOTEBOOK).read_text()
    heading = re.search(r"### (2b\. [^(\\]*)", source).group(1).strip()
    assert heading in feedback_page(course, "reversed"), heading
    assert "Chapter 3, section “Layers as objects”" in catalogued
    assert f'href="{SITE}{SECTION}"' in catalogued
    # a later failing check's message is no evidence: never on the page, only its count
    outcomes, messages = outcomes_here
    release = (REPO / "exercises" / ASSIGNMENT / NOTEBOOK).read_text()
    for student in ("negated", "scaled", "catalogued"):
        page = feedback_page(student=student, course=course)
        for grade_id in {cell for cell, _ in failing_checks(outcomes, student)}:
            failing = sorted(index for cell, index in failing_checks(outcomes, student)
                             if cell == grade_id)
            first = messages[(grade_id, failing[0])]
            assert html.escape(first) in page
            for index in failing[1:]:
                later = messages[(grade_id, index)]
                if later != first and json_text(later) not in release:
                    assert html.escape(later) not in page, (student, later)
            if len(failing) > 1:
                more = len(failing) - 1
                assert page.count(f"In all, {more} more check{'s' * (more > 1)} of this "
                                  "test failed") == 2, student
    honest = feedback_page(course, "honest-1")
    assert "What your values show" not in honest and "known mistake" not in honest


def test_the_course_s_catalogue_names_the_class_s_catalogued_mistakes(graded_by_the_catalogue):
    """Graded with the real catalogue, the class's mistakes that the catalogue holds are
    named by their ids in the gradebook's diagnoses and the report, the one it does not hold
    (a negated backward) keeps its structural diagnosis, and a page names its mistake."""
    course, _, grading, report = graded_by_the_catalogue
    assert grading.returncode == 0, grading.stdout + grading.stderr
    assert report.returncode == 0, report.stdout + report.stderr
    found = {student: (kind, what) for student, (_, kind, what)
             in first_diagnoses(table(course, "diagnoses.csv")).items()}
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
    from grading.mistakes import catalogue

    titles = {mistake.id: mistake.title for mistake in catalogue(ASSIGNMENT, REPO)}
    assert all(row["title"] == titles[row["mistake"]] != ""
               for row in table(course, "mistakes.csv"))
    page = (course / "grading-records" / "report" / ASSIGNMENT / "report.html").read_text()
    assert html.escape(titles["a3-grad-b-mean"]) in page
    page = " ".join(feedback_page(course, "scaled").split())
    assert "the mean over the batch where ∂z/∂b is a sum" in page


def test_the_score_histogram_counts_students_in_whole_numbers():
    """Three students of four points: matplotlib's own ticks would be 0, 0.25, 0.5, ..."""
    from matplotlib.figure import Figure

    from grading.report import score_histogram

    axes = Figure().subplots()
    score_histogram(axes, ASSIGNMENT, {"a": (1, 4), "b": (3, 4), "c": (4, 4)})
    ticks = axes.get_yticks()
    assert len(ticks) >= 2 and all(float(tick).is_integer() for tick in ticks), ticks


# --- Pass rate per check, computed here without the grader ---------------------------------

def is_test_cell(cell):
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def collected_checks(notebook):
    """{test cell: [what each check() collected, in order]} of an instructor's notebook run
    here, cell by cell in one namespace, with grading.record's check() collecting; a cell
    that raises ends there (its later checks collect nothing), and the next cell runs."""
    from grading import record

    namespace, found = {"__name__": "__class_run__"}, {}
    here = os.getcwd()
    os.chdir(REPO / "solutions" / ASSIGNMENT)
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            for cell in notebook.cells:
                if cell.cell_type != "code":
                    continue
                collected = []
                record.collector, record.namespace = collected, namespace
                try:
                    exec(compile(TransformerManager().transform_cell(cell.source),
                                 "<cell>", "exec"), namespace)
                except Exception:  # noqa: BLE001 - as a kernel: the next cell runs
                    pass
                finally:
                    record.collector = record.namespace = None
                if is_test_cell(cell):
                    found[cell.metadata["nbgrader"]["grade_id"]] = collected
    finally:
        os.chdir(here)
    return found


def close(got, want, rtol, atol):
    """got equals want: the same nesting, numbers within the tolerance, the rest equal."""
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            close(g, w, rtol, atol) for g, w in zip(got, want, strict=True))
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(
            close(got[key], want[key], rtol, atol) for key in want)
    if isinstance(want, float) or (isinstance(want, int) and not isinstance(want, bool)):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return False
        if math.isnan(want) or math.isnan(got):
            return math.isnan(want) and math.isnan(got)
        return got == want or abs(got - want) <= atol + rtol * abs(want)
    return type(got) is type(want) and got == want


@pytest.fixture(scope="module")
def outcomes_here():
    """({student: {(test cell, check number): passed | failed | not run}}, the solution's
    messages by (test cell, check number)): each student's answers put into the
    instructor's notebook and run in this process, each value compared with the solution's
    own run (without the grader)."""
    before = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as in the kernel: no sliders
    try:
        return expected_outcomes(nbformat.read(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, 4))
    finally:
        if before is None:
            del os.environ["NBGRADER_EXECUTION"]
        else:
            os.environ["NBGRADER_EXECUTION"] = before


def expected_outcomes(source):
    solution = collected_checks(nbformat.from_dict(source))
    students = {"honest-1": {}, "honest-2": {}, **class_mistakes(source)}
    every = {}
    for student, replacements in students.items():
        notebook = nbformat.from_dict(source)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = replacements.get(grade_id, without_markers(cell.source))
        theirs = collected_checks(notebook)
        for grade_id, checks in solution.items():
            outcomes = []
            for index, check in enumerate(checks):
                if index >= len(theirs.get(grade_id, [])):
                    outcomes.append("not run")
                    continue
                value = theirs[grade_id][index]["value"]
                passed = (bool(check["judge"](value)) if check["judge"] is not None
                          else any(close(value, answer, check["rtol"], check["atol"])
                                   for answer in check["answers"]))
                outcomes.append("passed" if passed else "failed")
            every.setdefault(student, {}).update(
                ((grade_id, index), outcome) for index, outcome in enumerate(outcomes))
    messages = {(grade_id, index): check["message"] for grade_id, checks in solution.items()
                for index, check in enumerate(checks)}
    return every, messages


def failing_checks(outcomes, student):
    return {key for key, outcome in outcomes[student].items() if outcome == "failed"}


def test_the_pass_rate_of_each_check_is_what_the_class_s_mistakes_give(graded, outcomes_here):
    """checks.csv and the page's table: the check()s of every hidden test grouped by test
    cell and message (a loop's checks share one), and for each group how many of the
    seven students passed all of its checks, failed any, or failed none but did not reach
    all, as this test's own run of each student's code against the solution's values
    says; and a test cell's full points go with passing all of its checks."""
    course, _, grading, report = graded
    assert grading.returncode == 0 and report.returncode == 0, grading.stderr + report.stderr
    outcomes, messages = outcomes_here
    groups = {}
    for (grade_id, index), message in messages.items():
        groups.setdefault((grade_id, message), []).append(index)
    full = Counter()
    for theirs in outcomes.values():
        for grade_id in {grade_id for grade_id, _ in theirs}:
            full[grade_id] += all(outcome == "passed" for (cell, _), outcome
                                  in theirs.items() if cell == grade_id)
    rows = table(course, "checks.csv")
    found = {(row["grade_id"], row["message"]): row for row in rows}
    assert len(found) == len(rows) == len(groups) < len(messages)
    assert set(found) == set(groups)
    for key, indices in groups.items():
        row = found[key]
        seen = [{outcomes[student][(key[0], index)] for index in indices}
                for student in outcomes]
        passed = sum(each == {"passed"} for each in seen)
        failed = sum("failed" in each for each in seen)
        assert (int(row["checks"]), int(row["first_check"])) == (len(indices), min(indices))
        assert (int(row["students_passed_all"]), int(row["students_failed_any"]),
                int(row["students_not_reached"])) == (passed, failed, 7 - passed - failed), (
            key, row)
        assert int(row["students_judged"]) == 7
        assert row["pass_rate"] == f"{passed / 7:.3f}"
    # the class was built to fail some checks and pass others: the counts must show both
    assert any(int(row["students_failed_any"]) for row in rows) and any(
        int(row["students_passed_all"]) == 7 for row in rows)
    assert {row["grade_id"]: int(row["full_points"]) for row in table(course, "cells.csv")} \
        == dict(full)
    page = (course / "grading-records" / "report" / ASSIGNMENT / "report.html").read_text()
    assert "<h2>Pass rate per check</h2>" in page
    failing = next(row for row in rows if int(row["students_failed_any"]))
    assert html.escape(failing["message"]) in page
    # which time is which: the report's median of each one, make grade's run over the class
    assert "median of 7 submissions" in page and "wall time divided by" in page
    assert "s per submission: the run's wall time divided by its submissions" in \
        grading.stdout + grading.stderr
