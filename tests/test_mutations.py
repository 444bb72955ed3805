"""The catalogue of mistakes (grading/mistakes.py, mistakes/<assignment>.py) as a mutation
test of the hidden checks, run through the real grader.

For every assignment with a catalogue, one nbgrader batch grades the honest solution and one
submission per catalogued mistake (the solution with that mistake applied): the solution
keeps full marks, and each mistake loses points in every test cell of its own task and in
no other ("one mistake costs only its own task"). The mutation score per assignment (the
share of mistakes caught in their own task only) is printed, and so are the hidden checks
that catch no mistake of the catalogue (reported, not failed: a check may guard against a
mistake nobody has catalogued yet). The grading sandbox is on, as in test_exercises.py.

Then unit tests of catalogue()'s validation and of matching() on a small course of their own.
"""

import ast
import time
from collections import defaultdict

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from conftest import (REPO, gradebook_cell_scores, honest_submission, html_text, leaks_in,
                      nbgrader, released_copy, submit, without_markers)
from grading.leaks import all_secret_lines
from grading import judge, mistakes

CATALOGUED = sorted(path.stem for path in (REPO / "mistakes").glob("*.py")
                    if (REPO / "solutions" / path.stem).is_dir())
SOLUTION = "the-solution"
slow = pytest.mark.slow  # the tests that use the nbgrader batch


def test_every_assignment_has_a_catalogue():
    assignments = sorted(path.name for path in (REPO / "solutions").iterdir() if path.is_dir())
    missing = sorted(set(assignments) - set(CATALOGUED))
    print(f"\ncatalogued: {', '.join(CATALOGUED)}; not yet: {', '.join(missing) or 'none'}")
    assert missing == [], f"assignments with no catalogue of mistakes: {missing}"
    sizes = {assignment: len(mistakes.catalogue(assignment)) for assignment in CATALOGUED}
    assert all(size >= 8 for size in sizes.values()), f"fewer than 8 mistakes: {sizes}"
    assert sum(sizes.values()) >= 40, f"{sum(sizes.values())} mistakes in all: {sizes}"


def cell_meta(cell):
    return cell.metadata.get("nbgrader", {})


def graded_cells(notebook):
    return [cell_meta(cell)["grade_id"] for cell in notebook.cells
            if cell.cell_type == "code" and cell_meta(cell).get("grade")
            and not cell_meta(cell).get("solution")]


@pytest.fixture(scope="module", params=CATALOGUED)
def mutations(request, tmp_path_factory):
    """One assignment's catalogue graded: the solution and every mistake in one batch."""
    assignment = request.param
    course = tmp_path_factory.mktemp(f"mutations-{assignment}")
    # mistakes/ and chapters/ too: the catalogue is validated against the copy's chapters
    release_dir = released_copy(course, assignment, "mistakes", "chapters")
    name = f"{assignment}.ipynb"
    source_path = course / "solutions" / assignment / name
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.read(release_dir / name, as_version=4)
    catalogue = mistakes.catalogue(assignment, root=course)
    submit(course, assignment, SOLUTION, honest_submission(source, release), name)
    for mistake in catalogue:
        changed = mistakes.mutated(source, mistake)
        answer = next(cell.source for cell in changed.cells
                      if cell_meta(cell).get("grade_id") == mistake.cell)
        submit(course, assignment, mistake.id, honest_submission(
            source, release, {mistake.cell: without_markers(answer)}), name)
    start = time.perf_counter()
    batch = nbgrader(course, "autograde", assignment, timeout=1200)
    seconds = time.perf_counter() - start
    students = [SOLUTION] + [mistake.id for mistake in catalogue]
    scores = gradebook_cell_scores(course, assignment, name[:-6], students)
    print(f"\n{assignment}: {len(students)} submissions autograded in {seconds:.0f} s")
    return {"assignment": assignment, "course": course, "source": source,
            "source_path": source_path, "catalogue": catalogue, "batch": batch,
            "scores": scores, "seconds": seconds}


@slow
def test_solution_keeps_full_marks(mutations):
    scores = mutations["scores"][SOLUTION]
    assert scores is not None, mutations["batch"].stderr[-3000:]
    points = {cell_meta(cell)["grade_id"]: cell_meta(cell)["points"]
              for cell in mutations["source"].cells if cell_meta(cell).get("grade")}
    assert scores == pytest.approx(points)


def lost_cells(mutations, student):
    """The test cells in which `student` scored less than the solution."""
    solution = mutations["scores"][SOLUTION]
    mine = mutations["scores"][student]
    return {grade_id for grade_id in graded_cells(mutations["source"])
            if mine[grade_id] < solution[grade_id]}


@slow
def test_each_mistake_costs_its_own_task_only(mutations, record_property):
    """Every mistake loses points in each test cell of its own task and in no other; the
    mutation score (caught in its own task only / catalogued) must be 100%."""
    problems = []
    for mistake in mutations["catalogue"]:
        if mutations["scores"][mistake.id] is None:
            problems.append(f"{mistake.id}: not graded (see the batch's log)")
            continue
        lost = lost_cells(mutations, mistake.id)
        missed = sorted(set(mistake.tests) - lost)
        extra = sorted(lost - set(mistake.tests))
        if missed:
            problems.append(f"{mistake.id}: NOT CAUGHT in its own test cell(s) {missed}: "
                            "no check of theirs fails for it (add a hidden check that does, "
                            "or fix the mistake's variant)")
        if extra:
            problems.append(f"{mistake.id}: ALSO COSTS points in {extra}, another task's "
                            "test cell(s): one mistake must cost only its own task")
    total = len(mutations["catalogue"])
    caught = total - len({problem.split(":")[0] for problem in problems})
    score = f"{caught}/{total} ({100 * caught / total:.0f}%)"
    # make test's summary prints it (conftest.py's pytest_terminal_summary)
    record_property("mutation score", f"{mutations['assignment']}: {score}")
    print(f"\n{mutations['assignment']}: mutation score {score}"
          + "".join(f"\n  {p}" for p in problems))
    assert not problems, "\n".join(problems)


@slow
def test_every_task_has_a_catalogued_mistake(mutations):
    covered = {test for mistake in mutations["catalogue"] for test in mistake.tests}
    uncovered = sorted(set(graded_cells(mutations["source"])) - covered)
    assert not uncovered, f"test cells no catalogued mistake belongs to: {uncovered}"


@slow
def test_report_hidden_checks_that_catch_no_mistake(mutations):
    """Reported, not failed: each hidden check (a test cell's check() with its message)
    that no mistake of the catalogue fails. A check catches a mistake when the mistake's
    value there, run in the grader's process, is refused, or when the cell stopped while
    computing it (after the check before it ran). A cell that stopped before its first
    check was stopped by its visible tests: no hidden check caught that mistake."""
    checks, _ = judge.reference(mutations["source_path"])
    catching, visible_only = defaultdict(set), set()
    for mistake in mutations["catalogue"]:
        sent = mistakes.mistake_values(mutations["source_path"], mistake)
        for grade_id in mistake.tests:
            values = sent.get(grade_id, [])
            if not values:
                visible_only.add(mistake.id)
            for index, check in enumerate(checks[grade_id]):
                stopped = index == len(values) and index > 0
                if stopped or (index < len(values) and judge.judged_records(
                        [{"value": values[index]}], [check]) is not None):
                    catching[grade_id, check["message"]].add(mistake.id)
    every = {(grade_id, check["message"]) for grade_id, cell in checks.items()
             for check in cell}
    idle = sorted(every - set(catching))
    print(f"\n{mutations['assignment']}: {len(every) - len(idle)} of {len(every)} hidden "
          f"checks (by message) catch a catalogued mistake; "
          f"{len(visible_only)} mistake(s) stopped by a visible test before any hidden "
          f"check ({', '.join(sorted(visible_only))}); hidden checks catching none:"
          + "".join(f"\n  {grade_id}: {message}" for grade_id, message in idle))
    assert catching or visible_only, "no mistake was caught: the report would prove nothing"


def named_at_first_failure(mutations, checks, mistake, grade_id):
    """(the first check of `grade_id` the mistake's own run fails, what matching() names
    there given that value and the records the cell sends, as the grader passes them), or
    (that check, None) where the run stopped before sending it a value."""
    values = mistakes.mistake_values(mutations["source_path"], mistake).get(grade_id, [])
    first = next(index for index, check in enumerate(checks[grade_id])
                 if index >= len(values) or judge.judged_records(
                     [{"value": values[index]}], [check]) is not None)
    if first >= len(values):
        return first, None
    check = checks[grade_id][first]
    return first, mistakes.matching(mutations["source_path"], grade_id, first, values[first],
                                    check.get("rtol", 1e-9), check.get("atol", 1e-12),
                                    [{"value": value} for value in values])


@slow
def test_matching_names_each_mistake_at_its_first_failed_check(mutations):
    """The verdict reports a test cell's first failed check: where the mistake sent a value
    there (the cell did not stop before it), matching() must name the mistake, given the
    value the mistake's own run sends. Prints how many mistakes can be named that way."""
    checks, _ = judge.reference(mutations["source_path"])
    named, unnamed = [], []
    for mistake in mutations["catalogue"]:
        for grade_id in mistake.tests:
            first, found = named_at_first_failure(mutations, checks, mistake, grade_id)
            if found is None:
                unnamed.append(f"{mistake.id} ({grade_id} stopped before check {first})")
                continue
            assert mistake in found, (mistake.id, grade_id, first,
                                      checks[grade_id][first]["message"])
            named.append(mistake.id)
    print(f"\n{mutations['assignment']}: matching() names {len(set(named))} of "
          f"{len(mutations['catalogue'])} mistakes at their first failed check; the others "
          "send no value there:" + "".join(f"\n  {line}" for line in unnamed))


@slow
def test_feedback_is_not_redacted_and_shows_no_variant(mutations):
    """The catalogue's variants count as secret lines in feedback (ScanFeedback), yet the
    solution's page is written whole (its own cells are the student's, and no instructor
    cell holds a variant line), and shows no variant line of its own."""
    course, assignment = mutations["course"], mutations["assignment"]
    variants = mistakes.variant_lines(course)
    assert variants, "no variant lines: the scan would prove nothing"
    for student in (SOLUTION,):
        made = nbgrader(course, "generate_feedback", assignment, "--student", student,
                        "--force")
        assert made.returncode == 0, made.stderr[-3000:]
        page = course / "feedback" / student / assignment / f"{assignment}.html"
        text = html_text(page)
        assert judge.REDACTED_SOURCE not in text and judge.REDACTED_OUTPUT.strip() not in text
        submitted = nbformat.read(course / "submitted" / student / assignment
                                  / f"{assignment}.ipynb", as_version=4)
        own = "\n".join(cell.source for cell in submitted.cells
                        if cell_meta(cell).get("solution"))
        shown = sorted(line for line in variants if line in text and line not in own)
        assert not shown, f"catalogue lines in {student}'s feedback: {shown}"


@slow
def test_a_student_s_page_names_the_catalogued_mistake(mutations):
    """The feedback page of a submission with one catalogued mistake (the first that
    matching() names alone at its first failed check) names it and says what to reread."""
    checks, _ = judge.reference(mutations["source_path"])
    for mistake in mutations["catalogue"]:
        if named_at_first_failure(mutations, checks, mistake, mistake.tests[0])[1] == [mistake]:
            break
    else:
        pytest.fail("matching() names no mistake of the catalogue alone")
    course, assignment = mutations["course"], mutations["assignment"]
    made = nbgrader(course, "generate_feedback", assignment, "--student", mistake.id,
                    "--force")
    assert made.returncode == 0, made.stderr[-3000:]
    text = " ".join(html_text(course / "feedback" / mistake.id / assignment
                              / f"{assignment}.html").split())
    for said in (mistake.title, mistake.explanation):
        assert " ".join(said.split()) in text, (mistake.id, said)
    assert "Reread:" in text


# --- catalogue() and matching() on a small course of their own ---------------------------

DEMO = "09-demo"
ANSWER = '''\
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    result = 2 * x  # the answer
    return result
    ### END SOLUTION
'''
TESTS = '''\
assert double(0) == 0
### BEGIN HIDDEN TESTS
from grading.record import check

check(double(2.0), "wrong for 2", rtol=1e-6, atol=0)
check(double(3.0), "wrong for 3", rtol=1e-6, atol=0)
### END HIDDEN TESTS
'''
CHAPTER = """\
---
jupytext: {}
---

(ch-demo)=
# Doubling

```{code-cell} ipython3
# Not a heading: a comment in code
```

## The rule's sign, and *why*

Text.
"""


def demo_mistake(**fields):
    """A right Mistake of the demo course, with `fields` changed."""
    entry = dict(id="a9-squared", cell="demo-answer",
                 replace=(("result = 2 * x  # the answer", "result = x * x"),),
                 tests=("demo-answer-tests",), title="squared instead of doubled",
                 explanation="Doubling adds a number to itself.",
                 section="chapters/09-demo.html#the-rule-s-sign-and-why", kinds=("other",))
    entry.update(fields)
    return entry


def demo_course(root, *entries, others=()):
    """A course in `root` with one assignment, 09-demo (an answer cell and its test cell),
    its chapter, and a catalogue of `entries` (dicts of Mistake's fields); `others`: the
    entries of a second catalogue, 08-other.py."""
    folder = root / "solutions" / DEMO
    folder.mkdir(parents=True)
    notebook = new_notebook(cells=[
        new_code_cell(ANSWER, metadata={"nbgrader": {
            "grade_id": "demo-answer", "solution": True, "grade": False, "locked": False}}),
        new_code_cell(TESTS, metadata={"nbgrader": {
            "grade_id": "demo-answer-tests", "solution": False, "grade": True,
            "locked": True, "points": 1}}),
    ])
    nbformat.write(notebook, folder / f"{DEMO}.ipynb")
    (root / "chapters").mkdir()
    (root / "chapters" / f"{DEMO}.md").write_text(CHAPTER)
    (root / "mistakes").mkdir()
    for name, found in ((DEMO, entries), ("08-other", others)):
        if found or name == DEMO:
            (root / "mistakes" / f"{name}.py").write_text(
                "from grading.mistakes import Mistake\n\nMISTAKES = [\n" + "".join(
                    f"    Mistake(**{entry!r}),\n" for entry in found) + "]\n")
    return folder / f"{DEMO}.ipynb"


def catalogue_error(tmp_path, *entries, others=()):
    demo_course(tmp_path, *entries, others=others)
    with pytest.raises(mistakes.CatalogueError) as raised:
        mistakes.catalogue(DEMO, root=tmp_path)
    return str(raised.value)


def test_a_right_catalogue_loads(tmp_path):
    demo_course(tmp_path, demo_mistake())
    found = mistakes.catalogue(DEMO, root=tmp_path)
    assert [mistake.id for mistake in found] == ["a9-squared"]
    assert found[0].replace == (("result = 2 * x  # the answer", "result = x * x"),)
    assert mistakes.catalogue("07-none", root=tmp_path) == []


def test_anchors_are_the_books():
    """What Sphinx makes of the chapters' headings, as seen in a built page (fixed here)."""
    found = mistakes.anchors(REPO / "chapters" / "02-chain-rule-graphs.md")
    assert {"ch-chain-rule-graphs", "from-the-judge-s-broadcast-to-derivatives",
            "the-smallest-chain-z-t-2-with-t-x-y", "fig-square"} <= found
    assert "glue-puts-numbers-computed-here-into-the-prose" not in "".join(found)


@pytest.mark.parametrize("fields, message", [
    ({"cell": "demo-missing"}, "cell 'demo-missing' is not an answer cell"),
    ({"cell": "demo-answer-tests"}, "is not an answer cell"),
    ({"tests": ("demo-answer",)}, "tests should be a non-empty tuple of test cells"),
    ({"tests": ()}, "tests should be a non-empty tuple"),
    ({"replace": (("result = 3 * x", "result = x"),)}, "occurs 0 times in cell"),
    ({"replace": (("x", "y"),)}, "occurs 3 times in cell 'demo-answer', not once"),
    ({"explanation": "  "}, "no explanation"),
    ({"explanation": "Write result = x * x instead."}, "the explanation quotes code"),
    ({"section": "chapters/09-demo.html#no-such-heading"}, "has no heading or label"),
    ({"section": "chapters/09-demo.html#not-a-heading-a-comment-in-code"},
     "has no heading or label"),
    ({"section": "chapters/07-none.html#ch-demo"}, "no chapter 07-none.md"),
    ({"section": "09-demo#ch-demo"}, "section should be 'chapters/<page>.html#<anchor>'"),
    ({"id": "Squared"}, "the id should be 'a9-words-with-dashes'"),
    ({"kinds": "sign"}, "kinds should be a tuple of words"),
    ({"kinds": ("sign", "")}, "kinds should be a tuple of words"),
])
def test_catalogue_errors_are_clear(tmp_path, fields, message):
    assert message in catalogue_error(tmp_path, demo_mistake(**fields))


def test_catalogue_ids_are_unique_across_the_course(tmp_path):
    message = catalogue_error(tmp_path, demo_mistake(), others=[demo_mistake()])
    assert "'a9-squared' is used more than once (08-other.py, 09-demo.py)" in message


def test_the_section_may_be_a_label(tmp_path):
    demo_course(tmp_path, demo_mistake(section="chapters/09-demo.html#ch-demo"))
    assert len(mistakes.catalogue(DEMO, root=tmp_path)) == 1


def test_mutated_applies_the_variant_and_refuses_what_is_not_found(tmp_path):
    source = nbformat.read(demo_course(tmp_path, demo_mistake()), as_version=4)
    mistake = mistakes.catalogue(DEMO, root=tmp_path)[0]
    changed = mistakes.mutated(source, mistake)
    assert "result = x * x" in changed.cells[0].source
    assert "result = 2 * x" in source.cells[0].source, "the original notebook changed"
    gone = mistakes.Mistake(**{**demo_mistake(), "cell": "demo-gone"})
    with pytest.raises(ValueError, match="0 cells with the grade_id 'demo-gone'"):
        mistakes.mutated(source, gone)
    twice = mistakes.Mistake(**{**demo_mistake(), "replace": (("x", "y"),)})
    with pytest.raises(ValueError, match="occurs 3 times"):
        mistakes.mutated(source, twice)


def test_matching(tmp_path, monkeypatch):
    source = demo_course(tmp_path, demo_mistake(), demo_mistake(
        id="a9-tripled", replace=(("2 * x", "3 * x"),)))
    runs = []
    run = judge._run
    monkeypatch.setattr(judge, "_run", lambda *args, **kw: runs.append(args) or run(
        *args, **kw))
    names = {}

    def matching(index, value):
        found = mistakes.matching(source, "demo-answer-tests", index, value, 1e-6, 0)
        names[index, value] = [mistake.id for mistake in found]
        return names[index, value]

    # x = 3: both mistakes give 9, and both are named
    assert matching(1, 9.0) == ["a9-squared", "a9-tripled"]
    assert matching(1, 9.000001) == ["a9-squared", "a9-tripled"]  # within the tolerance
    assert matching(1, 9.1) == []  # further than the tolerance
    assert matching(1, 9) == ["a9-squared", "a9-tripled"]  # an int, as the check accepts
    assert matching(1, 6.0) == []  # the solution's own value
    assert matching(1, 9.0 * 1.0000011) == []
    # x = 2: x * x equals 2 * x, the solution's value: the squared mistake never matches
    assert matching(0, 4.0) == []
    assert matching(0, 6.0) == ["a9-tripled"]
    assert matching(5, 9.0) == []  # no such check
    # With the cell's other results: a mistake is named only where it passes and fails the
    # other checks as the student did. 9 at x = 3 with 4 at x = 2 (passed) is the squared
    # mistake alone (tripling fails x = 2); with 6 at x = 2 (failed), the tripled alone.
    for at_two, named in ((4.0, ["a9-squared"]), (6.0, ["a9-tripled"])):
        records = [{"value": at_two}, {"value": 9.0}]
        assert [mistake.id for mistake in mistakes.matching(
            source, "demo-answer-tests", 1, 9.0, 1e-6, 0, records)] == named, at_two
    assert mistakes.matching(source, "demo-answer", 0, 9.0, 1e-6, 0) == []  # not a test cell
    assert len([args for args in runs if " with a9-" in args[2]]) == 2, (
        "each mistake runs once, then comes from the cache")

    # On disk under grading-records/, keyed by the checksums: a new process runs nothing.
    assert len(list((tmp_path / "grading-records" / "mistakes" / DEMO).glob("*.json"))) == 2
    monkeypatch.setattr(mistakes, "_values", {})
    monkeypatch.setattr(judge, "_run", lambda *args, **kw: pytest.fail("ran again"))
    assert matching(1, 9.0) == ["a9-squared", "a9-tripled"]
    # A changed catalogue is a new key: its mistakes run again.
    catalogue = tmp_path / "mistakes" / f"{DEMO}.py"
    catalogue.write_text(catalogue.read_text() + "# changed\n")
    monkeypatch.setattr(judge, "_run", run)
    assert matching(0, 6.0) == ["a9-tripled"]
    assert len(list((tmp_path / "grading-records" / "mistakes" / DEMO).glob("*.json"))) == 4


def test_a_mistake_that_raises_sends_what_ran_before(tmp_path):
    source = demo_course(tmp_path, demo_mistake(
        id="a9-raises", replace=(("result = 2 * x  # the answer",
                                  "result = 2 * x\n"
                                  "    if x == 3.0:\n"
                                  "        raise ValueError('three')"),)))
    mistake = mistakes.catalogue(DEMO, root=tmp_path)[0]
    assert mistakes.mistake_values(source, mistake) == {"demo-answer-tests": [4.0]}


def test_variant_lines_are_secret_lines(tmp_path):
    """The leak scans' secret lines (grading.leaks.all_secret_lines: the book, the public
    edition, bplib) include the catalogue's variants, except lines that are public anyway:
    outside every region of an instructor notebook, or in bplib."""
    demo_course(tmp_path, demo_mistake(), demo_mistake(
        id="a9-asserted", replace=(("result = 2 * x  # the answer",
                                    "assert double(0) == 0"),)))
    (tmp_path / "bplib").mkdir()
    (tmp_path / "bplib" / "tools.py").write_text("def f(x):\n    result = x * x\n")
    secrets = all_secret_lines(tmp_path / "solutions")
    assert "result = 2 * x  # the answer" in secrets  # a solution line, as before
    # the new lines are in bplib or in the visible test: only the old line is left
    assert mistakes.variant_lines(tmp_path) == {"result = 2 * x  # the answer"}
    (tmp_path / "bplib" / "tools.py").unlink()
    assert mistakes.variant_lines(tmp_path) == {"result = x * x",
                                                "result = 2 * x  # the answer"}
    assert "result = x * x" in all_secret_lines(tmp_path / "solutions")


@slow
def test_the_catalogue_is_never_released_or_published(mutations):
    """nbgrader releases solutions/<A>/ only; the public edition copies named folders
    (tools/public.py's SHARED), mistakes/ not among them; and no released file holds a
    line of the catalogue."""
    course, assignment = mutations["course"], mutations["assignment"]
    release = sorted(path.relative_to(course / "exercises" / assignment)
                     for path in (course / "exercises" / assignment).rglob("*"))
    source = sorted(path.relative_to(course / "solutions" / assignment)
                    for path in (course / "solutions" / assignment).rglob("*"))
    assert release == source
    variants = mistakes.variant_lines(REPO)  # every assignment's notebook says what is public
    assert variants
    released = [path for path in (REPO / "exercises").rglob("*") if path.is_file()]
    assert released and leaks_in(released, variants) == []
    shared = next(node.value for node in ast.parse(
        (REPO / "tools" / "public.py").read_text()).body if isinstance(node, ast.Assign)
        and getattr(node.targets[0], "id", None) == "SHARED")
    assert "mistakes" not in ast.literal_eval(shared)
