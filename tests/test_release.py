"""`make release`'s checks: the wall budget (a budget too small for an honest run refuses
the release, a busy machine's one slow run does not) and the points the text states
against the grade cells' metadata."""

import re
import subprocess
import sys
import time

import nbformat
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO))
from grading import cli, points, sandbox  # noqa: E402

BUSY_CHILD = ("import sys, time\nend = time.process_time() + float(sys.argv[1])\n"
              "while time.process_time() < end: pass")


def busy(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def validator_taking(*seconds, failing=()):
    """A stand-in for nbgrader's Validator whose runs take `seconds` of CPU time in turn,
    half in this process and half in a child it waits for (as a kernel is), and as much
    again asleep (which costs no CPU time: a busy machine's wait)."""
    runs = iter(seconds)

    class Validator:
        def validate(self, notebook):
            cpu = next(runs)
            busy(cpu / 2)
            subprocess.run([sys.executable, "-c", BUSY_CHILD, str(cpu / 2)], check=True)
            time.sleep(cpu)
            return notebook in failing

    return Validator


def test_check_wall_budget_bounds(monkeypatch):
    monkeypatch.setitem(sandbox.WALL_BUDGET, "x", 10)
    low, high = sandbox.BUDGET_FACTORS
    assert sandbox.check_wall_budget("x", 10 / low * 0.9) is None
    assert "less than" in sandbox.check_wall_budget("x", 10 / low * 1.1)
    assert "more than" in sandbox.check_wall_budget("x", 10 / high * 0.9)
    # each says where the budget is set, and by whom, and the value to aim for
    for honest, aim in [(3.0, f"raise it to at least {low * 3} s"),
                        (0.25, f"where {int(high * 0.25)} s would do")]:
        said = sandbox.check_wall_budget("x", honest)
        assert "WALL_BUDGET in grading/sandbox.py is the course authors' setting" in said
        assert aim in said, said
    guide = " ".join((REPO / "instructors.md").read_text(encoding="utf-8").split())
    assert "`WALL_BUDGET` in `grading/sandbox.py`, a setting of the course's authors" in guide
    assert (f"a budget under {low} honest runs on this machine refuses the release, one "
            f"over {high} gives a warning") in guide
    assert "no wall budget" in sandbox.check_wall_budget("unknown", 1.0)


def test_one_slow_run_is_timed_again(monkeypatch):
    monkeypatch.setitem(sandbox.WALL_BUDGET, "x", 1)  # 5 honest runs: at most 0.2 s each
    bad, problem = cli.timed_validation("x", ["a.ipynb"], validator_taking(0.4, 0.05))
    assert (bad, problem) == ([], None)


def test_a_budget_too_small_for_every_run_refuses(monkeypatch):
    monkeypatch.setitem(sandbox.WALL_BUDGET, "x", 1)
    bad, problem = cli.timed_validation("x", ["a.ipynb"], validator_taking(0.4, 0.3, 0.25))
    assert bad == [] and "less than" in problem
    measured = float(problem.split("(")[1].split(" s of CPU time)")[0])
    assert 0.25 <= measured < 0.35, problem  # the least CPU time; the sleep is not counted


def test_a_failing_source_is_reported_at_once(monkeypatch):
    monkeypatch.setitem(sandbox.WALL_BUDGET, "x", 1)
    notebooks = [str(REPO / "a.ipynb"), str(REPO / "b.ipynb")]
    validator = validator_taking(0.3, 0.0, failing={notebooks[1]})
    bad, _ = cli.timed_validation("x", notebooks, validator)
    assert bad == ["b.ipynb"]


SOLUTIONS = sorted((REPO / "solutions").glob("*/*.ipynb"))
TELEPHONE = REPO / "solutions" / "01-telephone" / "01-telephone.ipynb"
TASK_2 = "telephone-max-second-rate-tests"  # Task 2's only grade cell


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=lambda path: path.parent.name)
def test_every_shipped_solution_states_the_points_its_grade_cells_carry(notebook):
    assert points.problems(notebook) == []
    # and the check read the text: every grade cell sits under a heading stating points,
    # and the notebook states a total
    text = "\n".join(cell.source for cell in nbformat.read(notebook, 4).cells
                     if cell.cell_type == "markdown")
    assert "Total:" in text and re.search(r"^#+ Task 1\b.*\(\d+ points?\)$", text, re.M)


def grade_cell(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                == grade_id)


def edited_course(tmp_path, metadata=0, heading=0, intro=0, total=0):
    """tmp_path as a course whose 01-telephone source has Task 2's points raised by the
    given amounts: in the grade cell's metadata, its heading, the introduction's item 2
    and the stated total. Returns (the old points, the new ones of each place)."""
    notebook = nbformat.read(TELEPHONE, 4)
    old = grade_cell(notebook, TASK_2).metadata["nbgrader"]["points"]
    grade_cell(notebook, TASK_2).metadata["nbgrader"]["points"] = old + metadata

    def say(number):
        return f"({number} point{'s' * (number != 1)})"

    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        if re.search(r"^## Task 2:", cell.source, re.M):
            cell.source = cell.source.replace(say(old), say(old + heading), 1)
        if re.search(r"^2\. ", cell.source, re.M):
            cell.source = re.sub(r"^(2\. .*)" + re.escape(say(old)),
                                 lambda m: m.group(1) + say(old + intro), cell.source,
                                 flags=re.M)
            stated = int(re.search(r"Total: (\d+) points", cell.source).group(1))
            cell.source = cell.source.replace(f"Total: {stated} points",
                                              f"Total: {stated + total} points")
    folder = tmp_path / "solutions" / "01-telephone"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / TELEPHONE.name)
    return old


def release_refusal(tmp_path, monkeypatch, capsys):
    """`python -m grading release 01-telephone` in tmp_path: (exit status, stderr); the
    refusal must come before the source runs."""
    monkeypatch.setattr(cli, "COURSE", tmp_path)

    def must_not_run(*args, **kwargs):
        raise AssertionError("the source ran: the points check did not refuse first")

    monkeypatch.setattr(cli, "timed_validation", must_not_run)
    status = cli.main(["release", "01-telephone"])
    return status, capsys.readouterr().err


def test_release_refuses_metadata_points_the_text_does_not_state(tmp_path, monkeypatch,
                                                                 capsys):
    old = edited_course(tmp_path, metadata=1)
    status, said = release_refusal(tmp_path, monkeypatch, capsys)
    assert status == 2
    assert "01-telephone" in said and "nothing released" in said, said
    assert re.search(rf"'Task 2: [^']*' says {old} point, its grade cells carry {old + 1} "
                     rf"points \({TASK_2} {old + 1}\)", said), said
    # the introduction's list and the total state it too
    assert re.search(rf"item 2 says {old} point, .*Task 2.* carry {old + 1} points", said)
    assert re.search(r"'Total: (\d+) points' in the text, the grade cells carry (\d+)", said)
    assert not (tmp_path / "exercises").exists()


def test_release_refuses_a_heading_that_states_other_points(tmp_path, monkeypatch, capsys):
    old = edited_course(tmp_path, heading=1)
    status, said = release_refusal(tmp_path, monkeypatch, capsys)
    assert status == 2
    assert re.search(rf"01-telephone.*'Task 2: [^']*' says {old + 1} points, its grade "
                     rf"cells carry {old} point", said), said
    assert "item 2" not in said and "Total" not in said, said  # those still agree


def test_points_changed_everywhere_together_pass(tmp_path):
    edited_course(tmp_path, metadata=1, heading=1, intro=1, total=1)
    assert points.problems(tmp_path / "solutions" / "01-telephone" / TELEPHONE.name) == []


def test_a_part_s_points_count_in_its_task_s_heading_too(tmp_path):
    """Exercise 2's Task 5 (4 points) holds 5a (1 point) and 5b (3 points): raising 5a's
    cell alone differs from both headings; a grade cell under no heading that states points
    is named."""
    source = REPO / "solutions" / "02-chain-rule-graphs" / "02-chain-rule-graphs.ipynb"
    notebook = nbformat.read(source, 4)
    cell = grade_cell(notebook, "graphs-path-sum-gradient-tests")
    cell.metadata["nbgrader"]["points"] += 1
    nbformat.write(notebook, tmp_path / "raised.ipynb")
    said = " | ".join(points.problems(tmp_path / "raised.ipynb"))
    assert re.search(r"'5a\. Sum over paths' says 1 point, its grade cells carry 2", said)
    assert re.search(r"'Task 5: [^']*' says 4 points, its grade cells carry 5", said)
    notebook = nbformat.read(source, 4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"^(## Task 1: .*?) \(1 point\)$", r"\1", cell.source,
                                 flags=re.M)
    nbformat.write(notebook, tmp_path / "unstated.ipynb")
    assert "grade cell graphs-div-layer-tests (1 point) is under no heading that states " \
        "its points" in points.problems(tmp_path / "unstated.ipynb")


def test_a_comment_in_a_fenced_code_block_is_no_heading(tmp_path):
    notebook = nbformat.read(TELEPHONE, 4)
    task = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"
                and re.search(r"^## Task 1:", c.source, re.M))
    notebook.cells.insert(task + 1, nbformat.v4.new_markdown_cell(
        "For example:\n\n```python\n# the whole answer (7 points)\nx = 1\n```"))
    nbformat.write(notebook, tmp_path / "fenced.ipynb")
    assert points.problems(tmp_path / "fenced.ipynb") == []
