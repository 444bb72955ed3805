"""`make release`'s wall-budget check: a budget too small for an honest run refuses the
release, a busy machine's one slow run does not."""

import subprocess
import sys
import time

from conftest import REPO

sys.path.insert(0, str(REPO))
from grading import cli, sandbox  # noqa: E402

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
