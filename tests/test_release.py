"""`make release`'s wall-budget check: a budget too small for an honest run refuses the
release, a busy machine's one slow run does not."""

import sys
import time

from conftest import REPO

sys.path.insert(0, str(REPO))
from grading import cli, sandbox  # noqa: E402


def validator_taking(*seconds, failing=()):
    """A stand-in for nbgrader's Validator whose runs take `seconds` in turn."""
    runs = iter(seconds)

    class Validator:
        def validate(self, notebook):
            time.sleep(next(runs))
            return notebook in failing

    return Validator


def test_check_wall_budget_bounds(monkeypatch):
    monkeypatch.setitem(sandbox.WALL_BUDGET, "x", 10)
    low, high = sandbox.BUDGET_FACTORS
    assert sandbox.check_wall_budget("x", 10 / low * 0.9) is None
    assert "less than" in sandbox.check_wall_budget("x", 10 / low * 1.1)
    assert "more than" in sandbox.check_wall_budget("x", 10 / high * 0.9)
    assert "no wall budget" in sandbox.check_wall_budget("unknown", 1.0)


def test_one_slow_run_is_timed_again(monkeypatch):
    monkeypatch.setitem(sandbox.WALL_BUDGET, "x", 1)  # 5 honest runs: at most 0.2 s each
    bad, problem = cli.timed_validation("x", ["a.ipynb"], validator_taking(0.4, 0.05))
    assert (bad, problem) == ([], None)


def test_a_budget_too_small_for_every_run_refuses(monkeypatch):
    monkeypatch.setitem(sandbox.WALL_BUDGET, "x", 1)
    bad, problem = cli.timed_validation("x", ["a.ipynb"], validator_taking(0.4, 0.3, 0.25))
    assert bad == [] and "less than" in problem and "(0.3 s)" in problem


def test_a_failing_source_is_reported_at_once(monkeypatch):
    monkeypatch.setitem(sandbox.WALL_BUDGET, "x", 1)
    notebooks = [str(REPO / "a.ipynb"), str(REPO / "b.ipynb")]
    validator = validator_taking(0.3, 0.0, failing={notebooks[1]})
    bad, _ = cli.timed_validation("x", notebooks, validator)
    assert bad == ["b.ipynb"]
