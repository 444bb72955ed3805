"""Grading a class that tries to cheat: the student's kernel computes, the grader judges.

One batch of adversarial submissions of Assignment 1 goes through `nbgrader autograde` and
`nbgrader generate_feedback` with the course's own nbgrader_config.py, in a copy of the
course. Each submission must get exactly the score it deserves, the honest ones graded
before, between and after them full marks, and no feedback page may show a hidden-test or
solution line. The kernel sandbox (time, memory, files, processes) has its own tests in
test_sandbox.py; here the kernel may do anything a Python process can do to itself.
The first tests check the judge's pieces directly, in this process.
"""

import ast
import base64
import codecs
import json
import os
import re
import shutil
import subprocess
import textwrap
import time

import nbformat
import numpy as np
import pytest

from bplib import network
from conftest import (BIN, REPO, all_secret_lines, gradebook_scores, html_text, leaks_in,
                      outside_requests, secret_lines, without_markers)
from grading import judge, record, stubs
from grading.leaks import leaks_in_decoded

ASSIGNMENT = "01-telephone"
FULL = 10

# --- the judge's pieces ------------------------------------------------------------------


class Liar:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class LyingFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def test_plain_accepts_numpy_and_refuses_objects():
    assert record.plain((np.float32(0.5), np.int64(3), np.bool_(True))) == [0.5, 3, True]
    assert record.plain({"a": np.arange(3)}) == {"a": [0, 1, 2]}
    assert type(record.plain(np.int64(7))) is int
    for value in (Liar(), LyingFloat(0.28), [1.0, Liar()], {1: 2.0},
                  np.array([Liar()], dtype=object)):
        with pytest.raises(record.Unsupported):
            record.plain(value)


def test_same_is_exact_for_ints_and_tolerant_for_floats():
    assert judge.same(3, 3, 1e-9, 1e-12) and not judge.same(3.0, 3, 1e-9, 1e-12)
    assert judge.same(3, 3.0, 1e-9, 1e-12)  # an int is a right float answer
    assert not judge.same(True, 1, 1e-9, 1e-12) and not judge.same(1, True, 1e-9, 1e-12)
    assert judge.same(0.1 + 0.2, 0.3, 1e-9, 1e-12)
    assert not judge.same(0.3001, 0.3, 1e-9, 1e-12)
    assert not judge.same([1.0], [1.0, 2.0], 1e-9, 1e-12)
    assert not judge.same({"a": 1.0}, {"a": 1.0, "b": 2.0}, 1e-9, 1e-12)
    assert not judge.same("1.0", 1.0, 1e-9, 1e-12)
    assert judge.same(float("nan"), float("nan"), 0, 0)


def record_output(data):
    return nbformat.v4.new_output("display_data", data={record.MIME: data})


def test_verdict_trusts_only_values_in_their_places():
    checks = [{"answers": [1.0], "message": "first", "rtol": 0, "atol": 0},
              {"answers": [[2, 3]], "message": "second", "rtol": 0, "atol": 0}]
    good = [record_output({"value": 1.0}), record_output({"value": [2, 3]})]
    assert judge.verdict(good, checks, set()) is None
    # the second check never received a value: the message says so, then names the check
    assert judge.verdict(good[:1], checks, set()) == "the test ended before this check ran: second"
    assert judge.verdict(good + good[:1], checks, set()) is not None  # an extra record
    assert judge.verdict([good[1], good[0]], checks, set()) == "first"
    forged = [record_output({"value": 1.0, "passed": True}), good[1]]
    assert judge.verdict(forged, checks, set()) == "first"
    unsupported = [record_output({"unsupported": "a Liar"}), good[1]]
    assert "not plain data" in judge.verdict(unsupported, checks, set())
    # The kernel's own words never reach the verdict (it ran after the hidden code): only
    # the name of a built-in exception.
    stopped = [nbformat.v4.new_output("error", ename="ValueError", evalue="secret line here",
                                      traceback=["secret line here"])]
    message = judge.verdict(stopped, checks, set())
    assert "ValueError" in message and "secret" not in message
    forged = [nbformat.v4.new_output("error", ename="c2VjcmV0IGxpbmU=", evalue="",
                                     traceback=[])]
    assert "c2VjcmV0" not in judge.verdict(forged, checks, set())


def test_a_judge_decides_in_the_grader_on_plain_data():
    """judge= checks take the student's plain value; anything but a true bool fails."""
    within = {"judge": lambda value: 0.86 <= value <= 0.90, "message": "range"}
    for value, right in [(0.88, True), (0.86, True), (0.85, False), ("0.88", False),
                         ([0.88], False), (None, False)]:
        assert (judge.verdict([record_output({"value": value})], [within], set())
                is None) == right, value
    numpy_bool = {"judge": lambda value: np.isclose(value, 1.0), "message": "numpy bool"}
    assert judge.verdict([record_output({"value": 1.0})], [numpy_bool], set()) is None
    truthy = {"judge": lambda value: 1, "message": "not a bool"}
    assert judge.verdict([record_output({"value": 1.0})], [truthy], set()) == "not a bool"
    # The solution's own value must pass its judge, or the reference is refused.
    collected = {"value": 0.5, "answers": [0.5], "message": "m", "rtol": 0, "atol": 0,
                 "judge": lambda value: value > 1}
    with pytest.raises(ValueError, match="fails the judge"):
        judge._expected(collected)


def test_accepted_answers_of_the_window_question():
    """Exactly the slider's grid value and 1/6 pass; the additive model's 0.15 fails."""
    checks, _ = judge.reference(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (window,) = checks["telephone-max-second-rate-tests"]
    for answer, right in [(0.16, True), (1 / 6, True), (float(np.float32(0.16)), True),
                          (1 - 0.75 / 0.9, True), (0.15, False), (0.167, False),
                          (0.17, False), (0.18, False), (0.25, False), (0.1666, False)]:
        passed = judge.verdict([record_output({"value": answer})], [window], set()) is None
        assert passed == right, answer


FULL_ALGORITHM = REPO / "solutions" / "05-full-algorithm" / "05-full-algorithm.ipynb"


def passes(check, value):
    return judge.verdict([record_output({"value": value})], [check], set()) is None


def test_judged_bounds_of_the_gradient_check():
    """The relative errors pass when they are one pair of numbers in [0, 1e-7) per layer
    (the visible case) or [0, 1e-8) (a random network); bools, strings, one pooled number,
    a layer missing or extra, or a pair that is not a pair fail."""
    checks, _ = judge.reference(FULL_ALGORITHM)
    judged = [check for check in checks["full-gradient-check-tests"] if "judge" in check]
    assert len(judged) == 7  # the visible case and six random networks
    for number, (check, bound) in enumerate([(judged[0], 1e-7)]
                                            + [(check, 1e-8) for check in judged[1:]]):
        layers = [n for n in range(1, 8) if passes(check, [[0.0, 0.0]] * n)]
        assert len(layers) == 1, "one number of layers is right"
        (n,) = layers
        assert number or n == 2, "the visible network has two layers"
        grid = [float(value) for value in np.linspace(-bound, 3 * bound, 81)]
        for value in grid + [0, 1, bound, float(np.nextafter(bound, 0)), float("nan"),
                             float("inf"), True, False, "0", [0.0], None]:
            right = type(value) in (int, float) and value == value and 0 <= value < bound
            for layer, which in ((0, 0), (n - 1, 1)):  # the first W and the last b
                errors = [[0.0, 0.0] for _ in range(n)]
                errors[layer][which] = value
                assert passes(check, errors) == right, (bound, value, layer, which)
        for wrong in (0.0, [0.0, 0.0], [[0.0, 0.0]] * (n + 1), [[0.0, 0.0]] * (n - 1),
                      [[0.0]] * n, [[0.0, 0.0, 0.0]] * n, "[[0.0, 0.0]]", None):
            assert not passes(check, wrong), wrong


GRID = {"rates": [0.5, 1, 2, 3, 5, 8], "units": [4, 8, 16], "epochs": [1, 2, 3, 4]}


def digits_grid():
    """{(rate, units, epochs): (validation images right of 250, accuracy on the grader's own
    digits)} over Task 4's grid as its text states it, each rate and width trained here in
    one call of bplib's network.train with training_run's seeds, the accuracies computed
    with an explicit forward pass (not bplib's)."""
    x_train_raw, labels_train, x_val_raw, labels_val, _, _ = network.digits(rng=0)
    with np.load(REPO / "grading" / "data" / "digits_holdout.npz") as grader_file:
        x_grader_raw = grader_file["images"].T / 16.0
        labels_grader = grader_file["labels"]
    x_train, x_val, x_grader = network.standardize(x_train_raw, x_val_raw, x_grader_raw)
    y_train = network.one_hot(labels_train)

    def right_here(params, x, labels):
        a = x
        for W, b in params:
            a = 1 / (1 + np.exp(-(W @ a + b)))
        return int(np.sum(a.argmax(axis=0) == labels))

    table = {}
    for rate in GRID["rates"]:
        for units in GRID["units"]:
            params = network.init_params([64, units, 10], rng=0)
            rng = np.random.default_rng(0)
            for epochs in GRID["epochs"]:
                params, _ = network.train(params, x_train, y_train, epochs=1, batch_size=32,
                                          learning_rate=rate, rng=rng, cost="cross-entropy")
                table[(rate, units, epochs)] = (
                    right_here(params, x_val, labels_val),
                    right_here(params, x_grader, labels_grader) / len(labels_grader))
    return table


def test_judges_of_the_digits_training():
    """chosen_setting's checks: a setting of the stated grid (rate, units, epochs as plain
    numbers), within one validation image of the grid's best, and a network that labels at
    least 93% of the grader's own digits (which bplib does not ship), all computed here
    with bplib's training loop and an explicit forward pass. Every setting the second
    check accepts clears the third by 2 points or more."""
    given = next(cell.source for cell in nbformat.read(FULL_ALGORITHM, as_version=4).cells
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == "full-training-run")
    assert {name: ast.literal_eval(re.search(rf"^grid_{name} = (\[.*?\])", given, re.M)[1])
            for name in GRID} == GRID, "the grid the notebook gives is the one tested here"
    checks, _ = judge.reference(FULL_ALGORITHM)
    in_grid, near_best, grader_accuracy = checks["full-train-digits-tests"]
    table = digits_grid()
    best = max(right for right, _ in table.values())
    accepted = {setting for setting, (right, _) in table.items() if right >= best - 1}
    assert 1 <= len(accepted) <= 3, accepted
    for (rate, units, epochs), (_, on_grader) in table.items():
        for sent in ([rate, units, epochs], [float(rate), units, epochs]):
            assert passes(in_grid, sent)
            assert passes(near_best, sent) == ((rate, units, epochs) in accepted), sent
            assert passes(grader_accuracy, sent) == (on_grader >= 0.93), sent
    assert {passes(grader_accuracy, list(setting)) for setting in table} == {True, False}, \
        "some settings of the grid should fall below the bound on the grader's digits"
    assert min(table[setting][1] for setting in accepted) >= 0.93 + 0.02
    for wrong in ([3, 12, 4], [3, 64, 4], [3, 16, 5], [3, 16, 0], [4, 16, 3], [2.5, 16, 4],
                  [5, 16.0, 3], [5, 16, 3.0], [5, True, 3], [True, 16, 3], [5, 16],
                  [5, 16, 3, 0], ["5", 16, 3], {"rate": 5}, "(5, 16, 3)", None,
                  [float("nan"), 16, 3], [float("inf"), 16, 3]):
        for check in (in_grid, near_best, grader_accuracy):
            assert not passes(check, wrong), (wrong, check["message"])


def test_the_chapter_s_setting_squeezed_into_the_budget_falls_short():
    """The task says so: chapter 5's best frame (eta = 3) with 16 hidden units and 4 epochs
    is a setting of the grid, but more than one validation image short of the grid's best,
    so the near-best check refuses it; the solution's searched setting passes every check.
    The best is no fluke of the grid's edge: a grid rate on each side of every accepted
    setting's rate, and the grid's largest rate does worse than the best by more than one
    image at every width and number of epochs."""
    checks, _ = judge.reference(FULL_ALGORITHM)
    in_grid, near_best, grader_accuracy = checks["full-train-digits-tests"]
    table = digits_grid()
    best = max(right for right, _ in table.values())
    chapter = [3, 16, 4]
    assert passes(in_grid, chapter) and not passes(near_best, chapter)
    assert table[tuple(chapter)][0] < best - 1
    solution = [check["solution"] for check in (in_grid, near_best, grader_accuracy)]
    assert all(value == solution[0] for value in solution)
    assert all(passes(check, solution[0]) for check in (in_grid, near_best, grader_accuracy))
    rates = GRID["rates"]
    for rate, _, _ in (setting for setting, (right, _) in table.items() if right >= best - 1):
        assert rates[0] < rate < rates[-1], rate
    assert all(right < best - 1 for (rate, _, _), (right, _) in table.items()
               if rate == rates[-1])


def test_smallest_good_rate_is_computed_by_the_grader():
    """The reference of the rate question is the smallest slider rate whose 10 epochs reach
    93% validation accuracy, found here with bplib's own training loop; every other rate
    (the best one, the step to its left) fails. The answer is clear of the bound by more
    than 4 of the 250 validation images, and so is the rate to its left."""
    checks, _ = judge.reference(FULL_ALGORITHM)
    (rate_check,) = checks["full-smallest-rate-tests"]
    x_train_raw, labels_train, x_val_raw, labels_val, _, _ = network.digits(rng=0)
    x_train, x_val = network.standardize(x_train_raw, x_val_raw)
    y_train = network.one_hot(labels_train)
    rates = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
    final = {}
    for rate in rates:
        _, history = network.train(network.init_params([64, 32, 10], rng=0), x_train,
                                   y_train, epochs=10, batch_size=32, learning_rate=rate,
                                   rng=np.random.default_rng(0), cost="cross-entropy",
                                   x_val=x_val, labels_val=labels_val)
        final[rate] = history["val_accuracy"][-1]
    smallest = min(rate for rate in rates if final[rate] >= 0.93)
    left = rates[rates.index(smallest) - 1]
    assert final[smallest] - 0.93 > 4 / 250 and 0.93 - final[left] > 4 / 250, final
    assert max(rates, key=final.get) != smallest  # the best rate is a wrong answer here
    for rate in rates:
        assert passes(rate_check, rate) == (rate == smallest), rate
    assert not passes(rate_check, str(smallest)) and not passes(rate_check, True)


def test_bounds_of_the_gradient_check_question():
    """Assignment 3's gradient_check returns a largest difference, judged by a bound: exactly
    the numbers below it pass (above it for a broken layer), bools and other data fail, and
    on x -> x^3 central differences pass where one-sided ones fail."""
    checks, _ = judge.reference(REPO / "solutions" / "03-composite" / "03-composite.ipynb")
    judged = [check for check in checks["composite-gradient-check-tests"] if "judge" in check]
    # what each message asks for, from the task's text and the visible test
    bounds = {"(Tanh)": ("below", 1e-7), "broken tanh": ("above", 1e-2),
              "(x^3)": ("below", 1e-4), "Linear layer": ("below", 1e-6),
              "wrong backward": ("above", 1e-3), "(Sigmoid)": ("below", 1e-7),
              "last entry": ("above", 0.5)}

    def passes(check, value):
        return judge.verdict([record_output({"value": value})], [check], set()) is None

    grid = [0, 0.0, *(float(value) for value in np.logspace(-12, 1, 1301))]
    for check in judged:
        (side, bound), = [bound for key, bound in bounds.items() if key in check["message"]]
        for value in grid:
            right = value < bound if side == "below" else value > bound
            assert passes(check, value) == right, (check["message"], value)
        for value in (True, False, "0.0", [0.0], None, float("nan"), -1e-9):
            assert not passes(check, value), (check["message"], value)
    assert {key for key in bounds for check in judged if key in check["message"]} == set(bounds)

    def first(key):
        return next(check for check in judged if key in check["message"])

    # The visible cases, computed here: x^3 at x = [[1.5, 2.0]] with h = 1e-3 ...
    x, h = np.array([[1.5, 2.0]]), 1e-3
    u = np.random.default_rng(0).normal(size=x.shape)
    exact = u * 3 * x**2
    central = u * ((x + h) ** 3 - (x - h) ** 3) / (2 * h)
    one_sided = u * ((x + h) ** 3 - x**3) / h
    assert passes(first("(x^3)"), float(np.max(np.abs(exact - central))))
    assert not passes(first("(x^3)"), float(np.max(np.abs(exact - one_sided))))
    # ... and tanh without the square in its slope, at the visible test's x.
    out = np.tanh(np.array([[0.3, -1.2], [0.8, 0.1]]))
    u = np.random.default_rng(0).normal(size=out.shape)
    assert passes(first("broken tanh"), float(np.max(np.abs(u * (1 - out) - u * (1 - out**2)))))


def test_accepted_answers_of_the_learning_rate_question():
    """Exactly the positive rates whose second accumulated update brings the first example
    of Assignment 4's batch into [0.74, 0.81] pass; the readings after three updates fail."""
    from bplib import neuron

    source = REPO / "solutions" / "04-per-neuron" / "04-per-neuron.ipynb"
    checks, _ = judge.reference(source)
    (window,) = checks["neuron-eta-answer-tests"]
    X = np.array([[7.0, 8.0, 10.0], [-1.0, 2.0, -3.0]]).T
    Y = np.array([[0.8, -0.5]])

    def after_updates(eta, count):
        """Written here apart from the notebook: tanh neurons, the cross-entropy's
        g = y - y_hat, e = (1 - b^2) w g, the mean of the examples' changes."""
        net = neuron.seed_example()[0]
        for _ in range(count):
            B = np.tanh(X.T @ net["v"] - net["gamma"])  # (m, q)
            G = Y.T - np.tanh(B @ net["w"] - net["theta"])  # (m, l)
            E = (1 - B**2) * (G @ net["w"].T)
            m = X.shape[1]
            net = {"v": net["v"] + eta * X @ E / m, "gamma": net["gamma"] - eta * E.mean(0),
                   "w": net["w"] + eta * B.T @ G / m, "theta": net["theta"] - eta * G.mean(0)}
        return np.tanh(np.tanh(X[:, 0] @ net["v"] - net["gamma"]) @ net["w"] - net["theta"])[0]

    def passes(answer):
        return judge.verdict([record_output({"value": answer})], [window], set()) is None

    grid = np.round(np.arange(0.5, 1.2, 0.002), 3)
    right = [0.74 <= after_updates(float(eta), 2) <= 0.81 for eta in grid]
    assert 0 < sum(right) < len(grid) and not right[0] and not right[-1]
    for eta, is_right in zip(grid, right, strict=True):
        if min(abs(after_updates(float(eta), 2) - edge) for edge in (0.74, 0.81)) > 1e-6:
            assert passes(float(eta)) == is_right, eta
    # the slider's steps: 0.8 and 0.9 are right; 0.7 and 1.0 miss; 0.6 is a reading after
    # three updates
    assert 0.74 <= after_updates(0.6, 3) <= 0.81
    for answer, is_right in [(0.8, True), (0.9, True), (0.7, False), (1.0, False), (1, False),
                             (0.6, False)]:
        assert passes(answer) == is_right, answer
    for answer in (True, "0.8", [0.8], None, 0, -1.0, float("nan"), float("inf"), 10**400):
        assert not passes(answer), answer


def test_no_release_or_chapter_quotes_a_secret_line_of_any_assignment():
    """A hidden or solution line of one notebook that another notebook's release, a chapter
    or bplib also contains shows up in the book and the public edition (found there only
    after a full build): the sources are scanned here, at once."""
    secrets = all_secret_lines()
    sources = [*sorted((REPO / "exercises").rglob("*.ipynb")),
               *sorted((REPO / "chapters").glob("*.md")),
               *sorted((REPO / "appendix").glob("*.md")),
               *sorted((REPO / "bplib").rglob("*.py")),
               REPO / "students.md", REPO / "instructors.md"]
    assert leaks_in(sources, secrets) == []
    # The feedback's own scan (judge.ScanFeedback) also matches a secret line with its
    # spaces removed, and replaces an instructor's cell that holds one by a note: a
    # visible line that contains a secret one, spaced otherwise, hides a whole test cell
    # from every student.
    redacted = [(release.parent.name, cell.metadata.get("nbgrader", {}).get("grade_id"),
                 sorted(found))
                for release in sorted((REPO / "exercises").rglob("*.ipynb"))
                for cell in nbformat.read(release, as_version=4).cells
                if (found := leaks_in_decoded(cell.source + json.dumps(cell.metadata),
                                              secrets))]
    assert redacted == []


def test_the_kernel_side_of_grading_holds_no_answer():
    """The kernel imports grading.record, so nothing in grading/ may hold a solution or a
    hidden test line (imports aside)."""
    secrets = {line for line in all_secret_lines() if not line.startswith(("import ", "from "))}
    assert secrets
    assert leaks_in(sorted((REPO / "grading").rglob("*.py")), secrets) == []


def test_every_test_cell_has_a_hidden_check():
    sources = sorted((REPO / "solutions").glob("*/*.ipynb"))
    assert len(sources) >= 5
    for source in sources:
        checks, _ = judge.reference(source)
        notebook = nbformat.read(source, as_version=4)
        test_ids = {cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
                    if judge.is_test_cell(cell)}
        assert test_ids and set(checks) == test_ids, source.name
        assert all(checks.values()), source.name


def test_a_test_cell_without_a_check_is_refused(tmp_path):
    """An assert-only hidden test would decide in the student's kernel: the grader refuses
    the whole notebook instead of grading it that way."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("answer = 42", metadata={"nbgrader": {
        "grade_id": "answer", "grade": False, "solution": True, "locked": False}}),
        nbformat.v4.new_code_cell(
            "### BEGIN HIDDEN TESTS\nassert answer == 42\n### END HIDDEN TESTS",
            metadata={"nbgrader": {"grade_id": "answer-tests", "grade": True,
                                   "solution": False, "locked": True, "points": 1}})]
    path = tmp_path / "old-style.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(ValueError, match="answer-tests have no hidden check"):
        judge.reference(path)


# --- probes: what the student's kernel runs --------------------------------------------


SOURCES = sorted((REPO / "solutions").glob("*/*.ipynb"))


@pytest.mark.parametrize("source", SOURCES, ids=[path.parent.name for path in SOURCES])
def test_every_probe_runs_and_names_no_reference(source):
    """What `make release` checks: each probe, against the solution, sends what the
    reference accepts, and no check() keyword or reference-only name is left in it."""
    assert judge.verify_probes(source) == []
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if judge.is_test_cell(cell):
            text, _ = judge.probe(cell.source)
            for word in ("expect=", "judge=", "accept=", "hidden_autograd", "hidden_below",
                         "hidden_test_accuracy", "hidden_reference_epoch",
                         "hidden_smallest_good_rate", "hidden_in_window"):
                assert word not in text, (cell.metadata["nbgrader"]["grade_id"], word)


def test_the_probe_cuts_what_only_references_use():
    source = """\
from grading.record import check
import autograd


def hidden_reference(x):
    return hidden_helper(x) * 2


def hidden_helper(x):
    return x


def hidden_send(value, expected=None):
    check(value, "m", expect=expected)


hidden_rng = np.random.default_rng(1)
hidden_x = hidden_rng.normal()
hidden_kept = hidden_x * 1
check(answer(hidden_x), "m", expect=lambda: hidden_reference(hidden_kept), rtol=0)
hidden_send(answer(2.0), lambda: autograd.grad(hidden_reference)(2.0))
check(answer(3.0), "m", judge=lambda v: v > 0)
"""
    text, removed = judge.probe(source)
    assert removed == {"hidden_reference", "hidden_helper", "hidden_kept", "autograd"}
    for name in removed | {"expect", "judge", "rtol", "expected()"}:
        assert name not in text.replace("expected=None", ""), name
    assert "hidden_rng.normal()" in text and "answer(hidden_x)" in text
    assert "hidden_send(answer(2.0), None)" in text


def write_notebook(path, cells):
    notebook = nbformat.v4.new_notebook()
    for index, (source, points) in enumerate(cells):
        metadata = {"nbgrader": {"grade_id": f"cell-{index}", "grade": bool(points),
                                 "solution": not points, "locked": bool(points),
                                 **({"points": points} if points else {})}}
        notebook.cells.append(nbformat.v4.new_code_cell(source, metadata=metadata))
    nbformat.write(notebook, path)
    return path


def test_verify_probes_finds_a_probe_out_of_step(tmp_path):
    """A reference that draws from the test's random generator: without it the probe
    sends values for other inputs, and make release says so."""
    path = write_notebook(tmp_path / "a.ipynb", [
        ("import numpy as np\ndef double(x):\n    return 2 * x\n", 0),
        ("### BEGIN HIDDEN TESTS\nfrom grading.record import check\n"
         "hidden_rng = np.random.default_rng(3)\n"
         "hidden_noise = hidden_rng.normal()\n"
         "hidden_x = hidden_rng.normal()\n"
         "check(double(hidden_x), 'm', expect=lambda: 2 * hidden_x + 0 * hidden_noise)\n"
         "### END HIDDEN TESTS\n", 1)])
    problems = judge.verify_probes(path)
    assert problems and "fails" in problems[0], problems


LOOP_RULE_ANSWERS = {
    # honest loops: a for loop, a while loop (its condition tested again at its end), a
    # comprehension, a helper of the notebook that loops
    "for": (True, """def g_terms(y_hat, y):
    terms = np.empty(len(y_hat))
    for j in range(len(y_hat)):
        terms[j] = (1 - y_hat[j] ** 2) * (y[j] - y_hat[j])
    return terms
"""),
    "while": (True, """def g_terms(y_hat, y):
    terms, j = np.empty(len(y_hat)), 0
    while j < len(y_hat):
        terms[j] = (1 - y_hat[j] ** 2) * (y[j] - y_hat[j])
        j += 1
    return terms
"""),
    "comprehension": (True, """def g_terms(y_hat, y):
    return np.array([(1 - a * a) * (t - a) for a, t in zip(y_hat, y)])
"""),
    "helper": (True, """def each(y_hat, y):
    return [(1 - a * a) * (t - a) for a, t in zip(y_hat, y)]


def g_terms(y_hat, y):
    return np.array(each(y_hat, y))
"""),
    # right numbers, vectorised, with a loop that never runs or runs once
    "dead loop": (False, """def g_terms(y_hat, y):
    for _ in ():
        pass
    return (1.0 - y_hat ** 2) * (y - y_hat)
"""),
    "loop once": (False, """def g_terms(y_hat, y):
    for _ in range(1):
        terms = (1.0 - y_hat ** 2) * (y - y_hat)
    return terms
"""),
    "no loop": (False, """def g_terms(y_hat, y):
    return (1.0 - y_hat ** 2) * (y - y_hat)
"""),
}


@pytest.mark.parametrize("answer", sorted(LOOP_RULE_ANSWERS))
def test_the_loop_rule_counts_the_turns_of_a_loop_that_runs(answer):
    """Assignment 4's loop rule: the probe counts, as the call runs, how often a loop of
    g_terms (or of a comprehension or helper it uses) goes round, and the grader judges the
    counts. Run here as the kernel runs the probe, up to Task 1's test cell."""
    name = "04-per-neuron"
    source_path = REPO / "solutions" / name / f"{name}.ipynb"
    checks, _ = judge.reference(source_path)
    notebook = nbformat.read(source_path, as_version=4)
    cut = next(index for index, cell in enumerate(notebook.cells)
               if meta(cell).get("grade_id") == "neuron-g-terms-tests")
    notebook.cells = notebook.cells[:cut + 1]
    passes, code = LOOP_RULE_ANSWERS[answer]
    next(cell for cell in notebook.cells
         if meta(cell).get("grade_id") == "neuron-g-terms").source = code
    collected = judge._run(notebook, source_path.parent, name, probes=True, keep_going=True)
    records = [{"value": found["value"]} for found in collected["neuron-g-terms-tests"]]
    verdict = judge.judged_records(records, checks["neuron-g-terms-tests"])
    if passes:
        assert verdict is None, verdict
    else:
        assert verdict.startswith("g_terms has no loop that goes round once per output"), verdict


def test_constant_passable_cells_are_found(tmp_path):
    path = write_notebook(tmp_path / "b.ipynb", [
        ("def error():\n    return 1e-12\n", 0),
        ("### BEGIN HIDDEN TESTS\nfrom grading.record import check\n"
         "check(error(), 'm', judge=lambda v: type(v) is float and 0 <= v < 1e-7)\n"
         "### END HIDDEN TESTS\n", 1)])
    assert judge.constant_passable(path) == ["cell-1"]


def test_irregular_submission(tmp_path):
    top = tmp_path / "submitted"
    folder = top / "alice" / "a1"
    folder.mkdir(parents=True)
    (folder / "a1.ipynb").write_text("{}")
    (folder / "data").mkdir()
    (folder / "data" / "x.csv").write_text("1,2")
    assert judge.irregular_submission(folder, top) is None
    (folder / "data" / "notes.txt").symlink_to("/dev/zero")
    assert "symbolic link" in judge.irregular_submission(folder, top)
    (folder / "data" / "notes.txt").unlink()
    os.mkfifo(folder / "pipe")
    assert "fifo" in judge.irregular_submission(folder, top)
    (folder / "pipe").unlink()
    # a linked student folder
    (top / "bob").symlink_to(top / "alice")
    assert "not a plain folder" in judge.irregular_submission(top / "bob" / "a1", top)
    with open(folder / "big.bin", "wb") as big:
        big.truncate(judge.MAX_SUBMISSION_BYTES + 1)
    assert "larger than" in judge.irregular_submission(folder, top)


# --- the adversarial batch ---------------------------------------------------------------

WRONG = {
    "telephone-line-error": (
        "def line_error(error_rates):\n"
        "    for rate in error_rates:\n"
        "        if not 0 <= rate <= 1:\n"
        "            raise ValueError('not a rate')\n"
        "    return float(sum(error_rates))  # the additive model\n"
    ),
    "telephone-max-second-rate": "max_second_rate = 0.15\n",
    "telephone-backward-count": (
        "def backward_count(groups, players):\n"
        "    return 2 * groups + (players - 1) * groups  # one edge per player\n"
    ),
    "telephone-forward-count": (
        "def forward_count(groups, players):\n"
        "    return groups * backward_count(groups, players)\n"
    ),
    "telephone-central-gradient": (
        "def central_gradient(f, x, h=1e-5):\n"
        "    x = np.asarray(x, dtype=float)\n"
        "    gradient = np.empty_like(x)\n"
        "    for i in range(x.size):\n"
        "        nudge = np.zeros_like(x)\n"
        "        nudge[i] = h\n"
        "        gradient[i] = (f(x + nudge) - f(x)) / h  # forward differences\n"
        "        f(x)\n"
        "    return gradient\n"
    ),
}
POINTS = {"telephone-line-error": 3, "telephone-max-second-rate": 1,
          "telephone-backward-count": 1, "telephone-forward-count": 2,
          "telephone-central-gradient": 3}

PATCH_NUMPY = """\
np.isclose = lambda *args, **kwargs: True
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
"""
PATCH_BPLIB = """\
telephone.threaded_line = lambda groups, players: (groups, players)
telephone.backward_messages = lambda line: backward_count(*line)
telephone.forward_messages = lambda line: forward_count(*line)
"""
LIARS = """\
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
    def __float__(self): return 0.28
    def __le__(self, other): return True
    def __ge__(self, other): return True
    __hash__ = object.__hash__


def line_error(error_rates):
    return Anything()


max_second_rate = Anything()
"""
LYING_NUMBERS = """\
class Sneaky(float):
    def __eq__(self, other): return True
    __hash__ = float.__hash__


class SneakyInt(int):
    def __eq__(self, other): return True
    __hash__ = int.__hash__


def line_error(error_rates):
    for rate in error_rates:
        if not 0 <= rate <= 1:
            raise ValueError('not a rate')
    return Sneaky(0.0)


def forward_count(groups, players):
    return SneakyInt(0)
"""
INPUT_TRANSFORMER = """\
def no_checks(lines):
    return ["pass\\n"] if any("check(" in line for line in lines) else lines


get_ipython().input_transformers_post.append(no_checks)
"""
EXCEPTION_HANDLER = """\
get_ipython().set_custom_exc((Exception,), lambda shell, *args, **kwargs: None)
"""
PRINT_SOURCES = """\
get_ipython().run_line_magic("xmode", "Verbose")
seen_cells = []


def show_cells(info):
    seen_cells.append(info.raw_cell)
    print("\\n".join(seen_cells))


get_ipython().events.register("pre_run_cell", show_cells)
"""
FAKE_SUCCESS = """\
from IPython.display import display
import grading.record

print("All tests " + "passed: 10/10")


def fake_check(value, *args, **kwargs):
    for _ in range(3):
        display({grading.record.MIME: {"value": 0.28, "passed": True}}, raw=True)
    print("check " + "passed!")


grading.record.check = fake_check
"""
HARD_CODED = {
    "telephone-line-error": (
        "def line_error(error_rates):\n"
        "    if any(not 0 <= rate <= 1 for rate in error_rates):\n"
        "        raise ValueError('not a rate')\n"
        "    return 0.28 if list(error_rates) == [0.1, 0.2] else 0.0\n"
    ),
    "telephone-backward-count": (
        "def backward_count(groups, players):\n"
        "    return {(1, 2): 3, (2, 3): 12}.get((groups, players), 0)\n"
    ),
    "telephone-forward-count": (
        "def forward_count(groups, players):\n"
        "    return {(1, 2): 3, (2, 3): 18}.get((groups, players), 0)\n"
    ),
    "telephone-central-gradient": (
        "def central_gradient(f, x, h=1e-5):\n"
        "    for _ in range(2 * len(x)):\n"
        "        f(np.array(x, dtype=float))\n"
        "    return np.array([-4.0, -5.0, -1.0])[:len(x)]\n"
    ),
}
NEGATED_GRADIENT = (
    "def central_gradient(f, x, h=1e-5):\n"
    "    x = np.asarray(x, dtype=float)\n"
    "    gradient = np.empty_like(x)\n"
    "    for i in range(x.size):\n"
    "        nudge = np.zeros_like(x)\n"
    "        nudge[i] = h\n"
    "        gradient[i] = (f(x - nudge) - f(x + nudge)) / (2 * h)  # the wrong way round\n"
    "    return gradient\n"
)
PATCH_BUILTINS = """\
import builtins

builtins.abs = lambda value: 0
builtins.round = lambda value, digits=None: 0
"""
NO_DISPLAY = """\
import IPython.display

IPython.display.display = lambda *args, **kwargs: None
"""
HISTORY = """\
print("\\n".join(In))
"""


def lost(*grade_ids):
    return FULL - sum(POINTS[grade_id] for grade_id in grade_ids)


def meta(cell):
    return cell.metadata.get("nbgrader", {})


def build(release, answers, answer_changes=None, before=None, after=None, change=None,
          stubs=False, files=None):
    """A submission: the release with the answers (some replaced; stubs: the release's own
    stubs), code put before or after an answer cell ({grade_id: code}), and any other
    change (a function). files: made next to the notebook by the fixture."""
    notebook = nbformat.from_dict(release)
    for cell in notebook.cells:
        grade_id = meta(cell).get("grade_id")
        if meta(cell).get("solution"):
            if not stubs:
                cell.source = (answer_changes or {}).get(grade_id, answers[grade_id])
            cell.source = (before or {}).get(grade_id, "") + cell.source
            cell.source += "\n" + (after or {}).get(grade_id, "")
    if change:
        change(notebook)
    return notebook


def graded_test_cells(notebook):
    return [cell for cell in notebook.cells if meta(cell).get("grade")
            and not meta(cell).get("solution")]


def delete_test_cells(notebook):
    tests = graded_test_cells(notebook)
    notebook.cells = [cell for cell in notebook.cells if cell not in tests]


def empty_test_cells(notebook):
    for cell in graded_test_cells(notebook):
        cell.source = "pass"


def tamper_points(notebook):
    first, second = graded_test_cells(notebook)[:2]
    first.metadata["nbgrader"]["points"] = 100
    second.metadata["nbgrader"]["grade"] = False


def make_test_cell_an_answer(notebook):
    cell = graded_test_cells(notebook)[0]
    cell.metadata["nbgrader"]["solution"] = True
    cell.source = "pass"


def add_graded_cell(grade_id, points=50):
    """A graded cell of the student's own (worth points, with or without a grade_id)."""
    def change(notebook):
        cell = nbformat.v4.new_code_cell("assert True  # my bonus task")
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                     "points": points, "schema_version": 3}
        if grade_id:
            cell.metadata["nbgrader"]["grade_id"] = grade_id
        notebook.cells.insert(len(notebook.cells) // 2, cell)
    return change


def duplicate_test_cell(notebook):
    cell = graded_test_cells(notebook)[0]
    copy = nbformat.from_dict(json.loads(json.dumps(cell)))
    copy.pop("id", None)
    copy.metadata["nbgrader"]["points"] = 50
    notebook.cells.insert(notebook.cells.index(cell) + 1, copy)


# line_error sends, from inside the test cell, an output with the check MIME type that the
# grader's JSON decoding cannot read (past Python's limits), then the wrong answer's value.
UNREADABLE_OUTPUT = """import sys
from IPython.display import display

sys.set_int_max_str_digits(0)
sys.setrecursionlimit(200_000)
wrong_line_error = line_error


def line_error(error_rates):
    display({{"application/vnd.bp-course.check+json": {{"value": {value}}},
              "text/plain": "x"}}, raw=True)
    return wrong_line_error(error_rates)
"""
DEEP_LIST = "__import__('functools').reduce(lambda v, _: [v], range(50_000), [])"


# A generic cheat kit: asserts deleted, every check()'s value computed lazily so that a stub
# that raises does not stop the cell, and a check() that sends what expect= gives, a
# candidate that judge= accepts, or a solution variable accept= names. In the grading
# kernel no check() has those any more: the kit has nothing to send.
CHEAT_KIT = """\
import ast
import grading.record as kit_record
from IPython.display import display


class KitTransformer(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()

    def visit_Call(self, node):
        self.generic_visit(node)
        if getattr(node.func, "id", None) == "check" and node.args:
            lazy = ast.Lambda(ast.arguments([], [], None, [], [], None, []), node.args[0])
            node.args[0] = ast.Call(ast.Name("kit_try", ast.Load()), [lazy], [])
        return node


get_ipython().ast_transformers.append(KitTransformer())


def kit_try(thunk):
    try:
        return thunk()
    except Exception:
        return None


KIT_CANDIDATES = [0, 0.0, 1, 1.0, 0.5, -1.0, 1e-9, 1e9, True, False, None, [], {}]


def kit_check(value, message=None, *, expect=None, judge=None, accept=None, **options):
    if expect is not None:
        value = kit_try(expect)
    elif judge is not None:
        value = next((c for c in KIT_CANDIDATES if kit_try(lambda: judge(c)) is True), value)
    elif accept is not None:
        value = globals().get(accept[0], value)
    try:
        data = {"value": kit_record.plain(value)}
    except Exception:
        data = {"value": None}
    display({kit_record.MIME: data, "text/plain": ""}, raw=True)


kit_record.check = kit_check
"""


def link(name, target):
    """files=: a symbolic link next to the notebook (target: a function of the course)."""
    def make(folder, course):
        (folder / name).symlink_to(target(course))
    return make


def fifo(folder, course):
    os.mkfifo(folder / "pipe")


HTML_AND_JS = """\
from IPython.display import HTML, Javascript, display

display(HTML("<script>alert('bp-injected-html')</script><b id='bp-injected'>bold</b>"))
display(Javascript("alert('bp-injected-js')"))
display({"image/svg+xml": "<svg><script>alert('bp-injected-svg')</script></svg>",
         "text/plain": "an svg"}, raw=True)
"""
ENCODED_HISTORY = """\
import base64, codecs
print(base64.b64encode("\\n".join(In).encode()).decode())
print("\\n".join(In).encode().hex())
print("<i>" + "</i><i>".join("\\n".join(In)) + "</i>")
"""
# An early output kept open (display_id), rewritten before every later cell with that
# cell's code, ROT13 so that no scan of the page decodes it (the outsider attacker's leak).
LATE_DISPLAY_UPDATE = """\
import codecs
from IPython.display import display, update_display

display({"text/plain": "placeholder"}, raw=True, display_id="leakbox")
_seen = []


def _grab(info):
    _seen.append(info.raw_cell)
    update_display({"text/plain": codecs.encode("\\n".join(_seen), "rot13")}, raw=True,
                   display_id="leakbox")


get_ipython().events.register("pre_run_cell", _grab)
"""
SCRATCH_COPY_MARK = "# my scratch copy of line_error, tried out on its own"


def add_markdown_script(notebook):
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell(
        "My notes <script>alert('bp-injected-markdown')</script><b>done</b> "
        "[a link](javascript:alert('bp-injected-link'))"))
    notebook.cells.insert(2, nbformat.v4.new_raw_cell(
        "<script>alert('bp-injected-raw')</script>", metadata={"format": "text/html"}))


def add_scratch_copy(answers):
    def change(notebook):
        tests = graded_test_cells(notebook)
        notebook.cells.insert(notebook.cells.index(tests[0]) + 1, nbformat.v4.new_code_cell(
            SCRATCH_COPY_MARK + "\n" + answers + "\nprint(line_error([0.5, 0.5]))"))
    return change


MARKER_COMMENT = ("# ### END SOLUTION and ### BEGIN HIDDEN TESTS: "
                  "my own note, not the instructor's\n")

FIRST, LAST = "telephone-line-error", "telephone-central-gradient"
ALL_WRONG = dict(WRONG)

# name -> (how the submission is built, the score it deserves; None: not graded at all)
CASES = {
    "00-honest-first": ({}, FULL),
    "patch-numpy": ({"before": {FIRST: PATCH_NUMPY},
                     "answer_changes": {k: WRONG[k] for k in (FIRST, LAST)}},
                    lost(FIRST, LAST)),
    "patch-bplib": ({"before": {"telephone-backward-count": PATCH_BPLIB},
                     "answer_changes": {k: WRONG[k] for k in ("telephone-backward-count",
                                                              "telephone-forward-count")}},
                    lost("telephone-backward-count", "telephone-forward-count")),
    "lying-objects": ({"answer_changes": {FIRST: LIARS, "telephone-max-second-rate": ""}},
                      lost(FIRST, "telephone-max-second-rate")),
    "lying-numbers": ({"answer_changes": {FIRST: LYING_NUMBERS,
                                          "telephone-forward-count": ""}},
                      lost(FIRST, "telephone-forward-count")),
    "input-transformer": ({"before": {FIRST: INPUT_TRANSFORMER},
                           "answer_changes": ALL_WRONG}, 0),
    "exception-handler": ({"before": {FIRST: EXCEPTION_HANDLER},
                           "answer_changes": {k: WRONG[k] for k in (FIRST, LAST)}},
                          lost(FIRST, LAST)),
    "verbose-and-print-sources": ({"before": {FIRST: PRINT_SOURCES}}, FULL),
    "fake-success-and-records": ({"before": {FIRST: FAKE_SUCCESS},
                                  "answer_changes": ALL_WRONG}, 0),
    "hard-coded-visible-answers": ({"answer_changes": HARD_CODED},
                                   lost(*HARD_CODED)),
    "m-honest-middle": ({}, FULL),
    "sys-exit-after-answer": ({"after": {FIRST: "import sys\nsys.exit(0)"}}, FULL),
    "os-exit": ({"after": {LAST: "import os\nos._exit(0)"}}, None),
    "segfault": ({"after": {LAST: "import ctypes\nctypes.string_at(0)"}}, None),
    "metadata-points": ({"change": tamper_points}, FULL),
    "metadata-test-cell-as-answer": ({"change": make_test_cell_an_answer,
                                      "answer_changes": {FIRST: WRONG[FIRST]}}, lost(FIRST)),
    "deleted-test-cells": ({"change": delete_test_cells,
                            "answer_changes": {FIRST: WRONG[FIRST]}}, lost(FIRST)),
    "emptied-test-cells": ({"change": empty_test_cells,
                            "answer_changes": {LAST: WRONG[LAST]}}, lost(LAST)),
    "patch-builtins": ({"before": {FIRST: PATCH_BUILTINS},
                        "answer_changes": {"telephone-forward-count":
                                           WRONG["telephone-forward-count"]}},
                       lost("telephone-forward-count")),
    "suppressed-display": ({"before": {FIRST: NO_DISPLAY}}, 0),
    "print-history": ({"after": {LAST: HISTORY}}, FULL),
    # issue 18
    "cheat-kit": ({"before": {FIRST: CHEAT_KIT}, "stubs": True}, 0),
    "link-to-solutions": ({"files": link("notes.txt", lambda course: course / "solutions"
                                         / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")}, None),
    "link-to-gradebook": ({"files": link("notes.txt", lambda course: course / "gradebook.db")},
                          None),
    "link-to-dev-zero": ({"files": link("data.bin", lambda course: "/dev/zero")}, None),
    "fifo": ({"files": fifo}, None),
    "html-and-js": ({"before": {FIRST: HTML_AND_JS}, "change": add_markdown_script}, FULL),
    "large-output": ({"before": {FIRST: "print('x' * 3_000_000)\n"}}, FULL),
    "encoded-history": ({"after": {LAST: ENCODED_HISTORY}}, FULL),
    "late-display-update": ({"before": {FIRST: LATE_DISPLAY_UPDATE}}, FULL),
    "scratch-copy": ({"change": "scratch"}, FULL),
    "marker-in-comment": ({"before": {FIRST: MARKER_COMMENT}}, FULL),
    "slow": ({"before": {FIRST: "import time\ntime.sleep(60)\n"}}, None),  # killed
    # a wrong value reaches the hidden checks (they run before the visible asserts, which
    # this answer fails): the feedback says what the values show
    "negated-gradient": ({"answer_changes": {LAST: NEGATED_GRADIENT}}, lost(LAST)),
    # a check output the grader cannot decode fails that check, and grading goes on
    "unreadable-huge-int": ({"answer_changes": {FIRST: WRONG[FIRST]},
                             "after": {FIRST: UNREADABLE_OUTPUT.format(value="10 ** 5000")}},
                            lost(FIRST)),
    "unreadable-deep-list": ({"answer_changes": {FIRST: WRONG[FIRST]},
                              "after": {FIRST: UNREADABLE_OUTPUT.format(value=DEEP_LIST)}},
                             lost(FIRST)),
    # graded cells the instructor's notebook does not have count for nothing
    "extra-graded-cell": ({"change": add_graded_cell("my-bonus-task")}, FULL),
    "extra-graded-cell-without-id": ({"change": add_graded_cell(None)}, FULL),
    "duplicated-test-cell": ({"change": duplicate_test_cell,
                              "answer_changes": {FIRST: WRONG[FIRST]}}, lost(FIRST)),
    "zz-honest-last": ({}, FULL),
}
NOT_GRADED = {"link-to-solutions", "link-to-gradebook", "link-to-dev-zero", "fifo"}


def nbgrader(course, *args):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course = tmp_path_factory.mktemp("adversarial")
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copy(REPO / "nbgrader_config.py", course)
    assert nbgrader(course, "generate_assignment", ASSIGNMENT, "--force").returncode == 0
    name = f"{ASSIGNMENT}.ipynb"
    source = nbformat.read(course / "solutions" / ASSIGNMENT / name, as_version=4)
    release = nbformat.read(course / "exercises" / ASSIGNMENT / name, as_version=4)
    answers = {meta(cell)["grade_id"]: without_markers(cell.source)
               for cell in source.cells if meta(cell).get("solution")}
    for student, (how, _) in CASES.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        how = dict(how)
        files = how.pop("files", None)
        if how.get("change") == "scratch":
            how["change"] = add_scratch_copy(answers[FIRST])
        nbformat.write(build(release, answers, **how), folder / name)
        if files:
            files(folder, course)

    # One honest submission alone first: what grading one submission costs.
    start = time.perf_counter()
    alone = nbgrader(course, "autograde", ASSIGNMENT, "--student", "00-honest-first")
    seconds_alone = time.perf_counter() - start
    assert alone.returncode == 0, alone.stderr[-3000:]
    start = time.perf_counter()
    graded = nbgrader(course, "autograde", ASSIGNMENT)
    seconds_batch = time.perf_counter() - start
    feedback = nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    scores = gradebook_scores(course, ASSIGNMENT, CASES)
    return {"root": course, "source": source, "scores": scores, "autograde": graded,
            "feedback": feedback, "seconds_alone": seconds_alone,
            "seconds_batch": seconds_batch}


pytestmark = pytest.mark.slow


def test_at_least_twenty_submissions():
    assert len(CASES) >= 20


@pytest.mark.parametrize("student", list(CASES))
def test_each_submission_gets_what_it_deserves(batch, student):
    deserved = CASES[student][1]
    got = batch["scores"][student]
    if student in NOT_GRADED:  # refused, or killed: no grade, reported by name
        assert got is None, got
        assert student in batch["autograde"].stderr
    elif deserved is None:  # the kernel died: no grade, or zero
        assert got in (None, (0, FULL)), batch["autograde"].stderr[-3000:]
    else:
        assert got == (deserved, FULL), batch["autograde"].stderr[-3000:]


def test_the_batch_completes(batch, record_property):
    # Kernels that died make autograde exit 1; everyone else is graded.
    assert batch["autograde"].returncode in (0, 1)
    graded = [student for student, score in batch["scores"].items() if score is not None]
    assert len(graded) >= len(CASES) - 3 - len(NOT_GRADED)
    honest = len(CASES) - 1  # the first honest one was graded alone before the batch
    print(f"\nautograde: {batch['seconds_alone']:.1f} s for one honest submission alone, "
          f"{batch['seconds_batch'] / honest:.1f} s per submission in the batch of {honest}")
    record_property("autograde_seconds_alone", batch["seconds_alone"])
    record_property("autograde_seconds_per_submission", batch["seconds_batch"] / honest)


def test_feedback_pages_hold_no_secret(batch):
    assert batch["feedback"].returncode == 0, batch["feedback"].stderr[-3000:]
    secrets = secret_lines(batch["source"])
    pages = sorted((batch["root"] / "feedback").rglob("*.html"))
    # Every graded submission has a page: all but those whose kernels died (os-exit,
    # segfault, slow: at most) and those not graded.
    assert len(CASES) - 3 - len(NOT_GRADED) <= len(pages) <= len(CASES) - 2 - len(NOT_GRADED)
    for page in pages:
        text = html_text(page)
        leaked = sorted(line for line in secrets["HIDDEN TESTS"] if line in text)
        assert not leaked, f"hidden tests in {page}: {leaked[:3]}"
        raw = page.read_text()
        assert outside_requests(raw) == [], page  # a student opening it contacts no one
        # decoded too: base64, hex, a tag between characters
        assert leaks_in_decoded(raw, secrets["HIDDEN TESTS"], markers=False) == set(), page
        assert leaks_in_decoded(text, secrets["HIDDEN TESTS"], markers=False) == set(), page
        rot13 = codecs.decode(text, "rot13")
        assert not [line for line in secrets["HIDDEN TESTS"] if line in rot13], page
    # markers too, but for the one a student wrote in a comment (the student's own text)
    assert [(page, leak) for page, leak in leaks_in(pages, secrets["HIDDEN TESTS"])
            if "marker-in-comment" not in page] == []


def page_of(batch, student):
    return batch["root"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"


def test_no_student_html_or_javascript_reaches_a_page(batch):
    raw = page_of(batch, "html-and-js").read_text()
    # The student's source is shown, escaped; none of it may be live markup.
    for injected in ("<script>alert('bp-injected", "alert('bp-injected-js')</script>",
                     "<svg><script>", "<b id='bp-injected'>", '<b id="bp-injected">',
                     "javascript:alert"):
        assert injected not in raw, injected
    autograded = nbformat.read(batch["root"] / "autograded" / "html-and-js" / ASSIGNMENT
                               / f"{ASSIGNMENT}.ipynb", 4)
    mimes = {mime for cell in autograded.cells for output in cell.get("outputs", [])
             for mime in output.get("data", {})}
    assert mimes <= set(judge.SHOWN_MIME), mimes


def test_outputs_are_capped(batch):
    page = page_of(batch, "large-output")
    assert page.stat().st_size < 1_000_000
    assert "larger than" in html_text(page)


def test_nothing_printed_after_hidden_code_reaches_feedback(batch):
    """The history printed (plain, base64, hex, tag-split) after the last test: not shown."""
    page = html_text(page_of(batch, "encoded-history"))
    assert "ran after the hidden tests" in page
    graded = nbformat.read(batch["root"] / "autograded" / "encoded-history" / ASSIGNMENT
                           / f"{ASSIGNMENT}.ipynb", 4)
    tests = [index for index, cell in enumerate(graded.cells) if judge.is_test_cell(cell)]
    for cell in graded.cells[tests[0] + 1:]:
        if cell.cell_type == "code" and not judge.is_test_cell(cell):
            assert [output.get("text") for output in cell.outputs] in (
                [], [judge.AFTER_HIDDEN]), cell.outputs


def test_the_students_own_cells_are_theirs(batch):
    """An answer equal to the solution, a scratch copy of it and a marker in a comment are
    shown as written: no page refused, no cell redacted."""
    for student in ("00-honest-first", "scratch-copy", "marker-in-comment"):
        page = html_text(page_of(batch, student))
        assert "not shown: it would show" not in page and "this cell is not shown" not in page
    assert SCRATCH_COPY_MARK in html_text(page_of(batch, "scratch-copy"))
    assert "my own note, not the instructor" in html_text(page_of(batch, "marker-in-comment"))


def test_irregular_submissions_are_not_graded_and_say_why(batch):
    log = batch["autograde"].stderr
    assert "notes.txt is a symbolic link" in log and "pipe is a fifo" in log
    for student in ("link-to-solutions", "link-to-gradebook", "link-to-dev-zero", "fifo"):
        assert not (batch["root"] / "autograded" / student).exists()


def test_a_slow_submission_costs_its_budget_only(batch):
    assert "slow" in batch["autograde"].stderr and "ran longer than" in batch["autograde"].stderr


def test_feedback_of_test_cells_is_only_the_graders(batch):
    """What the student's code printed in a test cell is gone; a failed check shows the
    check's message."""
    page = html_text(batch["root"] / "feedback" / "fake-success-and-records" / ASSIGNMENT
                     / f"{ASSIGNMENT}.html")
    assert "check passed!" not in page  # printed in every test cell, by the fake check()
    assert "CheckFailed" in page
    page = html_text(batch["root"] / "feedback" / "patch-numpy" / ASSIGNMENT
                     / f"{ASSIGNMENT}.html")
    # The first failed check of each wrong task is named (the wrong central_gradient
    # calls f three times per input).
    assert "wrong for the chapter's line of two players" in page
    assert "f should be called exactly twice per input" in page


def test_feedback_diagnoses_a_wrong_value(batch):
    """The negated gradient fails Assignment 1's visible assert, but the hidden checks ran
    before it: the verdict names the failed check and what the student's values show."""
    page = html_text(page_of(batch, "negated-gradient"))
    assert "not accurate enough for a smooth function" in page
    assert "What your values show" in page and "times −1 (the sign is flipped)" in page
    assert "What your values show" not in html_text(page_of(batch, "00-honest-first"))


def test_feedback_redacts_a_cell_with_a_secret(batch):
    """The second line of defence: a cell whose output would show a hidden-test line, even
    encoded, or an instructor's cell that would, is redacted; the page is written."""
    course = batch["root"]
    autograded = course / "autograded" / "zz-honest-last" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(autograded, as_version=4)
    hidden = sorted(secret_lines(batch["source"])["HIDDEN TESTS"])
    encoded = base64.b64encode("\n".join(hidden[:3]).encode()).decode()
    notebook.cells.insert(1, nbformat.v4.new_code_cell("print(secret)", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=encoded)]))
    notebook.cells.insert(2, nbformat.v4.new_code_cell("show()", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=hidden[3].encode().hex())]))
    instructors = next(cell for cell in notebook.cells if judge.is_test_cell(cell))
    instructors.source += "\n" + hidden[4]
    nbformat.write(notebook, autograded)
    result = nbgrader(course, "generate_feedback", ASSIGNMENT, "--student", "zz-honest-last",
                      "--force")
    assert result.returncode == 0, result.stderr[-3000:]
    page = page_of(batch, "zz-honest-last")
    raw = page.read_text()
    assert leaks_in_decoded(raw, set(hidden), markers=False) == set()
    assert encoded not in raw
    assert "it would show a hidden test" in html_text(page)
    assert "this cell is not shown" in html_text(page)


# --- every other assignment: the cheat kit and the bplib bypasses, between honest neighbours

OTHERS = sorted(folder.name for folder in (REPO / "solutions").iterdir()
                if folder.is_dir() and folder.name != ASSIGNMENT and any(folder.glob("*.ipynb")))
PER_NEURON = "04-per-neuron"
CHAIN_RULE_GRAPHS = "02-chain-rule-graphs"
BYPASSES = {
    # a function rebuilt from the code object of bplib's own g_j, saved before the test
    "neuron-g-terms": """\
import types
from bplib import neuron as bypass_neuron

bypass_code = bypass_neuron.output_terms.__code__


def g_terms(y_hat, y):
    return types.FunctionType(bypass_code, bypass_neuron.__dict__)(y_hat, y, "squared")
""",
    # a second copy of bplib.neuron, loaded from its file
    "neuron-e-terms": """\
import importlib.util


def e_terms(w, b, g):
    spec = importlib.util.spec_from_file_location("bplib.bypass_copy",
                                                  bypass_neuron.__file__)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    q, l = w.shape
    net = {"v": np.zeros((1, q)), "gamma": np.zeros(q), "w": w, "theta": np.zeros(l)}
    return copy.hidden_terms(net, b, g)
""",
}


# Assignment 4's update task asks for neuron.step: every way below reaches bplib's own
# (a child process imports bplib afresh, unsealed; the files can be read; the seal keeps
# the original functions in closures a running program can find).
STEP_TASK = ("neuron-update", "neuron-update-tests")
_ORIGINAL_UPDATE = """

def _step_from(originals, net, x, y, eta, cost):
    change = originals["bplib.neuron.updates"](net, x, y, eta, cost)
    return {key: net[key] + change[key] for key in change}
"""
STEP_CHEATS = {
    "c-subprocess": """\
import pickle, subprocess, sys


def zhou_update(net, x, y, eta, cost="squared"):
    code = ("import pickle, sys\\nfrom bplib import neuron\\n"
            "pickle.dump(neuron.step(*pickle.load(sys.stdin.buffer)), sys.stdout.buffer)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                          input=pickle.dumps((net, x, y, eta, cost)))
    return pickle.loads(done.stdout)
""",
    "c-multiprocessing": """\
import multiprocessing


def zhou_update(net, x, y, eta, cost="squared"):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(neuron.step, (net, x, y, eta, cost))
""",
    "c-read-file": """\
import subprocess


def zhou_update(net, x, y, eta, cost="squared"):
    # another program reads the file: the kernel's own open() is sealed
    text = subprocess.run(["cat", neuron.__file__], capture_output=True, text=True,
                          check=True).stdout
    namespace = {"__name__": "bplib.neuron_copy"}
    exec(compile(text, "neuron_copy", "exec"), namespace)
    return namespace["step"](net, x, y, eta, cost)
""",
    "c-gc": """\
import gc


def zhou_update(net, x, y, eta, cost="squared"):
    originals = next(thing for thing in gc.get_objects() if isinstance(thing, dict)
                     and "bplib.neuron.updates" in thing)
    return _step_from(originals, net, x, y, eta, cost)
""" + _ORIGINAL_UPDATE,
    "c-closure": """\
def zhou_update(net, x, y, eta, cost="squared"):
    originals = next(cell.cell_contents for cell in testing._install.__closure__
                     if isinstance(cell.cell_contents, dict)
                     and "bplib.neuron.updates" in cell.cell_contents)
    return _step_from(originals, net, x, y, eta, cost)
""" + _ORIGINAL_UPDATE,
    "c-frames": """\
import sys


def zhou_update(net, x, y, eta, cost="squared"):
    seen = []

    def spy(frame, event, arg):
        if event == "call" and "originals" in frame.f_code.co_freevars:
            seen.append(frame.f_locals["originals"])

    sys.setprofile(spy)
    try:
        neuron.output_terms(np.array([0.5]), np.array([1.0]))  # sealed, not switched off
    finally:
        sys.setprofile(None)
    return _step_from(seen[0], net, x, y, eta, cost)
""" + _ORIGINAL_UPDATE,
    "c-ctypes": """\
import ctypes

_cell_get = ctypes.pythonapi.PyCell_Get
_cell_get.restype, _cell_get.argtypes = ctypes.py_object, [ctypes.py_object]


def zhou_update(net, x, y, eta, cost="squared"):
    contents = [_cell_get(cell) for cell in testing._install.__closure__]
    originals = next(thing for thing in contents
                     if isinstance(thing, dict) and "bplib.neuron.updates" in thing)
    return _step_from(originals, net, x, y, eta, cost)
""" + _ORIGINAL_UPDATE,
}


# Assignment 5's Task 1 made of chapter 3's layers (Linear, Tanh, Sequential, the softmax
# cross-entropy): their backward steps are not in the grading kernel, or switched off.
FULL_ALGORITHM_NAME = "05-full-algorithm"
LAYERS_BACKWARD_PASS = """from bplib import layers as my_layers


def backward_pass(params, activations, y):
    chain = []
    for W, b in params[:-1]:
        chain += [my_layers.Linear(W, b), my_layers.Tanh()]
    net = my_layers.Sequential(chain + [my_layers.Linear(*params[-1])])
    loss = my_layers.SoftmaxCrossEntropy()
    loss.forward(net.forward(activations[0]), y)
    net.backward(loss.backward())
    return [(layer.dW, layer.db) for layer in net.linears()]
"""
# Assignment 3's Task 1 by chapter 2's graph of Values: switched off in the test.
COMPOSITE = "03-composite"
GRAPH_LINEAR_LAYER = """\
from bplib import graph as my_graph


class LinearLayer:
    def __init__(self, W, b):
        self.W, self.b, self.seen = W, b, None

    def forward(self, x):
        if np.ndim(x) != 2 or np.shape(x)[0] != self.W.shape[1]:
            raise ValueError(f"x should have shape ({self.W.shape[1]}, batch)")
        self.seen = np.array(x, dtype=float)
        return self.W @ self.seen + self.b

    def backward(self, upstream_grad):
        if self.seen is None:
            raise RuntimeError("forward() first")
        W = [[my_graph.Value(float(w)) for w in row] for row in self.W]
        b = [my_graph.Value(float(v)) for v in self.b[:, 0]]
        x = [[my_graph.Value(float(v)) for v in row] for row in self.seen]
        u = np.asarray(upstream_grad, dtype=float)
        z = my_graph.Value(0.0)
        for i in range(len(W)):
            for k in range(self.seen.shape[1]):
                out = sum((W[i][j] * x[j][k] for j in range(len(x))), b[i])
                z = z + out * float(u[i, k])
        z.backward()
        self.grad_W = np.array([[w.grad for w in row] for row in W])
        self.grad_b = np.array([[v.grad] for v in b])
        return np.array([[v.grad for v in row] for row in x])
"""
# Assignment 4's Task 1 by autograd, one output at a time: autograd is not in the kernel.
AUTOGRAD_G_TERMS = """def g_terms(y_hat, y):
    import autograd
    import autograd.numpy as anp

    s = np.arctanh(np.asarray(y_hat, dtype=float))
    return np.array([-autograd.grad(lambda t, j=j: 0.5 * (y[j] - anp.tanh(t)) ** 2)(s[j])
                     for j in range(len(s))])
"""

# Assignment 4's Tasks 1-2 by bplib's own tanh layer (1 - a^2 times an upstream) and by
# chapter 2's graph of Values: both stay in the grading kernel (sealed, for later tasks of
# other assignments), so the test cells switch them off.
LIBRARY_TANH_TERMS = {
    "neuron-g-terms": """\
from bplib import layers as my_layers


def g_terms(y_hat, y):
    tanh = my_layers.Tanh()
    terms = np.empty(len(y_hat))
    for j in range(len(y_hat)):
        tanh.forward(np.array([[np.arctanh(y_hat[j])]]))
        terms[j] = tanh.backward(np.array([[y[j] - y_hat[j]]]))[0, 0]
    return terms
""",
    "neuron-e-terms": """\
from bplib import graph as my_graph


def e_terms(w, b, g):
    terms = np.empty(len(b))
    for h in range(len(b)):
        u = my_graph.Value(float(np.arctanh(b[h])))
        terms[h] = my_graph.gradients(u.tanh() * float(w[h] @ g), [u])[0]
    return terms
""",
}
# Assignment 2's Task 5 by chapter 2's graph of Values, built from the local derivatives
# (an outsider's trial scored 4/4 with it, and later, with the switch spoofed, 4/4 again):
# Value.backward and graph.gradients are stubs in Assignment 2's kernel throughout (the
# bill slider's bars are central differences), and Task 5's test cells switch them off.
LIBRARY_GRAPH = """\
from bplib import graph as my_graph


def my_values(local):
    into = {}
    for (tail, head), derivative in local.items():
        into.setdefault(head, []).append((tail, derivative))
        into.setdefault(tail, [])
    made = {}

    def make(name):
        if name not in made:
            made[name] = my_graph.Value(0.0, inputs=[make(t) for t, _ in into[name]],
                                        local_grads=[d for _, d in into[name]])
        return made[name]

    for name in into:
        make(name)
    return made
"""
LIBRARY_GRAPH_TASK_5 = {
    "graphs-path-sum-gradient": LIBRARY_GRAPH + """

def path_sum_gradient(local, source, sink):
    if source == sink:
        return 1.0
    made = my_values(dict(local))
    if source not in made or sink not in made:
        return 0.0
    made[sink].backward()  # a node the sink does not depend on keeps grad 0
    return made[source].grad
""",
    "graphs-backward-gradients": LIBRARY_GRAPH + """

def backward_gradients(local, sink):
    made = my_values(dict(local))
    made[sink].backward()
    return {name: node.grad for name, node in made.items()}
""",
}
# Assignment 2's Task 5b with chapter 2's topological order of Values built from the local
# derivatives, and a sweep of one's own (an outsider's trial scored 3/3 with it): the order
# is half the task, and a stub in every kernel.
TOPOLOGICAL_ORDER_TASK_5B = LIBRARY_GRAPH + """

def backward_gradients(local, sink):
    made = my_values(dict(local))
    names = {id(node): name for name, node in made.items()}
    grads = dict.fromkeys(made, 0.0)
    grads[sink] = 1.0
    for node in reversed(my_graph.topological_order(made[sink])):
        for inp, d in zip(node.inputs, node.local_grads):
            grads[names[id(inp)]] += d * grads[names[id(node)]]
    return grads
"""
# Assignment 5's Task 1 with no backward pass: the complex-step derivative of the cost, one
# parameter at a time, from the inputs alone (an outsider's trial scored 3/3 with it): the
# hidden test hands the function output activations of its own, which it ignores.
COMPLEX_STEP_BACKWARD_PASS = """\
def backward_pass(params, activations, y):
    x = np.array(activations[0], dtype=complex)
    y = np.array(y, dtype=float)

    def cost(ps):
        a = x
        for W, b in ps[:-1]:
            a = np.log1p(np.exp(W @ a + b))
        W, b = ps[-1]
        z = W @ a + b
        z = z - z.real.max(axis=0, keepdims=True)
        return -np.sum(y * (z - np.log(np.sum(np.exp(z), axis=0, keepdims=True)))) / x.shape[1]

    base = [(np.array(W, dtype=complex), np.array(b, dtype=complex)) for W, b in params]
    grads = []
    for W, b in base:
        pair = []
        for P in (W, b):
            G = np.zeros(P.shape)
            for index in np.ndindex(P.shape):
                P[index] += 1e-30j
                G[index] = cost(base).imag / 1e-30
                P[index] -= 1e-30j
            pair.append(G)
        grads.append(tuple(pair))
    return grads
"""
# Assignment 2's Task 3 two ways from an outsider's trial: honest, with the layers made once
# outside the function as the chapter's apple bill makes them (it lost Task 3 to a check
# that replaced only the name DivLayer), and a cheat that runs the division node alone and
# writes the other gradients as formulas times its d/d total (it earned 2/2).
MODULE_LEVEL_LAYERS = """\
buy_notebooks, buy_pens, add_tax = MulLayer(), MulLayer(), MulLayer()
add_items, split = AddLayer(), DivLayer()


def bill_gradients(notebook_price, notebook_count, pen_price, pen_count, tax, friends):
    subtotal = add_items.forward(buy_notebooks.forward(notebook_price, notebook_count),
                                 buy_pens.forward(pen_count, pen_price))
    share = split.forward(add_tax.forward(tax, subtotal), friends)
    d_total, d_friends = split.backward(1.0)
    d_tax, d_subtotal = add_tax.backward(d_total)
    d_notebooks, d_pens = add_items.backward(d_subtotal)
    d_notebook_price, d_notebook_count = buy_notebooks.backward(d_notebooks)
    d_pen_count, d_pen_price = buy_pens.backward(d_pens)
    return share, {"notebook_price": d_notebook_price, "notebook_count": d_notebook_count,
                   "pen_price": d_pen_price, "pen_count": d_pen_count, "tax": d_tax,
                   "friends": d_friends}
"""
# honest too: the layers made on the first call and kept (a second trial: it lost Task 3
# while the test's division node, kept from the first call, was not the one it scaled)
LAZY_KEPT_LAYERS = """\
kept = {}


def bill_gradients(notebook_price, notebook_count, pen_price, pen_count, tax, friends):
    if not kept:
        kept.update(notebooks=MulLayer(), pens=MulLayer(), items=AddLayer(), tax=MulLayer(),
                    split=DivLayer())
    subtotal = kept["items"].forward(kept["notebooks"].forward(notebook_price, notebook_count),
                                     kept["pens"].forward(pen_price, pen_count))
    share = kept["split"].forward(kept["tax"].forward(subtotal, tax), friends)
    d_total, d_friends = kept["split"].backward(1.0)
    d_subtotal, d_tax = kept["tax"].backward(d_total)
    d_notebooks, d_pens = kept["items"].backward(d_subtotal)
    d_notebook_price, d_notebook_count = kept["notebooks"].backward(d_notebooks)
    d_pen_price, d_pen_count = kept["pens"].backward(d_pens)
    return share, {"notebook_price": d_notebook_price, "notebook_count": d_notebook_count,
                   "pen_price": d_pen_price, "pen_count": d_pen_count, "tax": d_tax,
                   "friends": d_friends}
"""
DIVISION_ONLY_LAYER = """\
def bill_gradients(notebook_price, notebook_count, pen_price, pen_count, tax, friends):
    total = (notebook_price * notebook_count + pen_price * pen_count) * tax
    split = DivLayer()
    share = split.forward(total, friends)
    d_total, d_friends = split.backward(1.0)
    return share, {"notebook_price": d_total * notebook_count * tax,
                   "notebook_count": d_total * notebook_price * tax,
                   "pen_price": d_total * pen_count * tax, "pen_count": d_total * pen_price * tax,
                   "tax": d_total * total / tax, "friends": d_friends}
"""
# Assignment 4's Task 4 by the notebook's own numerical_update (the slider's reference),
# calling g_terms and e_terms once so that they count as used (an outsider's trial scored
# 3/3 with it): the hidden tests give zhou_update scaled terms, and its update must follow.
NUMERICAL_ZHOU_UPDATE = """\
def zhou_update(net, X, Y, eta, cost="squared"):
    if cost not in ("squared", "cross-entropy"):
        raise ValueError(cost)
    g_terms(np.zeros(1), np.zeros(1))
    e_terms(np.zeros((1, 1)), np.zeros(1), np.zeros(1))
    return numerical_update(net, X, Y, eta, cost)
"""
# The same after replacing bplib.testing, so that the test cells' switched_off switches
# nothing: Assignment 4's kernel keeps none of these functions (they are stubs there).
SPOOFED_SWITCH = """\
import contextlib
import types

import bplib

bplib.testing = types.SimpleNamespace(switched_off=lambda *functions: contextlib.nullcontext())
"""
# The switch spoofed, then bplib's own version of the task called: the grading kernel has
# none of it yet when the task is tested (bplib.testing.GIVEN_AFTER gives it later).
SPOOFED_LINEAR_LAYER = SPOOFED_SWITCH + """
from bplib import layers as my_layers


class LinearLayer:
    def __init__(self, W, b):
        self.W, self.b, self.inner = W, b, my_layers.Linear(W, b)

    def forward(self, x):
        if np.ndim(x) != 2 or np.shape(x)[0] != self.W.shape[1]:
            raise ValueError(f"x should have shape ({self.W.shape[1]}, batch)")
        return self.inner.forward(np.array(x, dtype=float))

    def backward(self, upstream_grad):
        returned = self.inner.backward(upstream_grad)
        self.grad_W, self.grad_b = self.inner.dW, self.inner.db
        return returned
"""
SPOOFED_SGD_EPOCH = SPOOFED_SWITCH + """
def sgd_epoch(params, x, y, batch_size, learning_rate, rng, weight_decay=0.0):
    if weight_decay == 0:
        return network.train(params, x, y, epochs=1, batch_size=batch_size,
                             learning_rate=learning_rate, rng=rng, cost="cross-entropy")[0]
    order = rng.permutation(x.shape[1])
    shrink = learning_rate * weight_decay / x.shape[1]
    now = list(params)
    for start in range(0, len(order), batch_size):
        cols = order[start:start + batch_size]
        grads = network.backprop(now, x[:, cols], y[:, cols], cost="cross-entropy")
        now = [(W - learning_rate * dW - shrink * W, b - learning_rate * db)
               for (W, b), (dW, db) in zip(now, grads)]
    return now
"""
# Chapter 2's path sum instead of Value.backward (an outsider's trial: 3/3 before it was
# stubbed).
PATHS_LINEAR_LAYER = GRAPH_LINEAR_LAYER.replace(
    "        z.backward()\n",
    "        for node in [*(v for row in W for v in row), *b, *(v for row in x for v in row)]:\n"
    "            node.grad = sum(my_graph.path_product(path)\n"
    "                            for path in my_graph.paths(z, node))\n")
# A hook that reads every cell the kernel receives and keeps the sources the grader gives
# (an outsider's trial: 3/3 while they came inside the test cell itself).
HOOKED_LINEAR_LAYER = """\
import ast as my_ast

my_sources = {}


def my_capture(info):
    try:
        tree = my_ast.parse(getattr(info, "raw_cell", "") or "")
    except SyntaxError:
        return
    for node in my_ast.walk(tree):
        if isinstance(node, my_ast.Call) and getattr(node.func, "attr", None) == "give":
            values = [arg.value for arg in node.args if isinstance(arg, my_ast.Constant)]
            if len(values) == 3:
                my_sources[values[1]] = values[2]


get_ipython().events.register("pre_run_cell", my_capture)


def my_given(name):
    made = {}
    exec(my_sources[name], vars(layers), made)
    return made[name.rsplit(".", 1)[-1]]


class LinearLayer:
    def __init__(self, W, b):
        self.W, self.b, self.x = W, b, None

    def forward(self, x):
        if np.ndim(x) != 2 or np.shape(x)[0] != self.W.shape[1]:
            raise ValueError(f"x should have shape ({self.W.shape[1]}, batch)")
        return my_given("Linear.forward")(self, np.array(x, dtype=float))

    def backward(self, upstream_grad):
        returned = my_given("Linear.backward")(self, upstream_grad)
        self.grad_W, self.grad_b = self.dW, self.db
        return returned
"""
# Right numbers with a loop that never runs: the loop rule counts the loop's turns.
DEAD_LOOP_G_TERMS = LOOP_RULE_ANSWERS["dead loop"][1]


def import_in_the_first_cell(notebook):
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    first.source += "\nfrom bplib.network import backprop\n"


def points_of(source):
    return {meta(cell)["grade_id"]: meta(cell)["points"] for cell in source.cells
            if meta(cell).get("grade") and "points" in meta(cell)}


@pytest.fixture(scope="module")
def every_assignment(tmp_path_factory):
    """One course with the four other assignments, graded and fed back by one nbgrader
    run each ("*"): honest first and last, the cheat kit in between, and in 04 the two
    bypasses of switched_off and every way to bplib's own neuron.step (STEP_CHEATS)."""
    course = tmp_path_factory.mktemp("every-assignment")
    for assignment in OTHERS:
        shutil.copytree(REPO / "solutions" / assignment, course / "solutions" / assignment)
    shutil.copy(REPO / "nbgrader_config.py", course)
    generated = nbgrader(course, "generate_assignment", "*", "--force")
    assert generated.returncode == 0, generated.stderr[-3000:]
    sources, students = {}, {}
    for assignment in OTHERS:
        name = f"{assignment}.ipynb"
        source = nbformat.read(course / "solutions" / assignment / name, as_version=4)
        release = nbformat.read(course / "exercises" / assignment / name, as_version=4)
        answers = {meta(cell)["grade_id"]: without_markers(cell.source)
                   for cell in source.cells if meta(cell).get("solution")}
        first = next(meta(cell)["grade_id"] for cell in source.cells
                     if meta(cell).get("solution") and cell.cell_type == "code")
        cases = {"a-honest": {}, "cheat-kit": {"before": {first: CHEAT_KIT}, "stubs": True},
                 "z-honest": {}}
        if assignment == COMPOSITE:
            cases["graph-linear-layer"] = {
                "answer_changes": {"composite-linear": GRAPH_LINEAR_LAYER}}
            cases["spoofed-linear-layer"] = {
                "answer_changes": {"composite-linear": SPOOFED_LINEAR_LAYER}}
            cases["paths-linear-layer"] = {
                "answer_changes": {"composite-linear": PATHS_LINEAR_LAYER}}
            cases["hooked-linear-layer"] = {
                "answer_changes": {"composite-linear": HOOKED_LINEAR_LAYER}}
        if assignment == CHAIN_RULE_GRAPHS:
            cases["library-graph-task-5"] = {"answer_changes": LIBRARY_GRAPH_TASK_5}
            cases["spoofed-graph-task-5"] = {"answer_changes": {
                grade_id: SPOOFED_SWITCH + code
                for grade_id, code in LIBRARY_GRAPH_TASK_5.items()}}
            cases["topological-order-5b"] = {"answer_changes": {
                "graphs-backward-gradients": TOPOLOGICAL_ORDER_TASK_5B}}
            cases["module-level-layers"] = {
                "answer_changes": {"graphs-bill-gradients": MODULE_LEVEL_LAYERS}}
            cases["division-only-layer"] = {
                "answer_changes": {"graphs-bill-gradients": DIVISION_ONLY_LAYER}}
            cases["lazy-kept-layers"] = {
                "answer_changes": {"graphs-bill-gradients": LAZY_KEPT_LAYERS}}
        if assignment == FULL_ALGORITHM_NAME:
            cases["layers-backward-pass"] = {
                "answer_changes": {"full-backward-pass": LAYERS_BACKWARD_PASS}}
            cases["spoofed-sgd-epoch"] = {
                "answer_changes": {"full-sgd-epoch": SPOOFED_SGD_EPOCH}}
            cases["complex-step-backward-pass"] = {
                "answer_changes": {"full-backward-pass": COMPLEX_STEP_BACKWARD_PASS}}
            # an honest student who imported backprop in the first cell, which is not theirs
            # (an outsider's trial: it lost Task 3 and was not told why)
            cases["edited-first-cell"] = {
                "answer_changes": {"full-sgd-epoch": answers["full-sgd-epoch"].replace(
                    "network.backprop(", "backprop(")},
                "change": import_in_the_first_cell}
        if assignment == PER_NEURON:
            cases["bypass-switched-off"] = {"answer_changes": BYPASSES}
            cases["autograd-g-terms"] = {"answer_changes": {"neuron-g-terms": AUTOGRAD_G_TERMS}}
            cases["library-tanh-terms"] = {"answer_changes": LIBRARY_TANH_TERMS}
            cases["spoofed-switch"] = {"answer_changes": {
                grade_id: SPOOFED_SWITCH + code for grade_id, code in LIBRARY_TANH_TERMS.items()}}
            cases["numerical-zhou-update"] = {
                "answer_changes": {STEP_TASK[0]: NUMERICAL_ZHOU_UPDATE}}
            cases["dead-loop-g-terms"] = {
                "answer_changes": {"neuron-g-terms": DEAD_LOOP_G_TERMS}}
            cases.update({student: {"answer_changes": {STEP_TASK[0]: code}}
                          for student, code in STEP_CHEATS.items()})
        for student, how in cases.items():
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(build(release, answers, **how), folder / name)
        sources[assignment], students[assignment] = source, list(cases)
    start = time.perf_counter()
    graded = nbgrader(course, "autograde", "*")
    seconds = time.perf_counter() - start
    feedback = nbgrader(course, "generate_feedback", "*", "--force")
    return {"root": course, "sources": sources, "autograde": graded, "feedback": feedback,
            "seconds": seconds, "students": students,
            "scores": {assignment: gradebook_scores(course, assignment, students[assignment])
                       for assignment in OTHERS}}


def test_the_cheat_kit_earns_nothing_on_any_assignment(every_assignment):
    assert every_assignment["autograde"].returncode == 0, \
        every_assignment["autograde"].stderr[-3000:]
    for assignment in OTHERS:
        scores = every_assignment["scores"][assignment]
        full = sum(points_of(every_assignment["sources"][assignment]).values())
        assert scores["a-honest"] == scores["z-honest"] == (full, full), (assignment, scores)
        assert scores["cheat-kit"] == (0, full), (assignment, scores)


def test_switched_off_holds_for_a_saved_code_object_and_a_second_copy(every_assignment):
    points = points_of(every_assignment["sources"][PER_NEURON])
    full = sum(points.values())
    lost_points = points["neuron-g-terms-tests"] + points["neuron-e-terms-tests"]
    assert every_assignment["scores"][PER_NEURON]["bypass-switched-off"] == (
        full - lost_points, full)


@pytest.mark.parametrize("student", sorted(STEP_CHEATS))
def test_no_way_to_bplibs_own_step_scores(every_assignment, student):
    """A child process, a file read, gc, closures, frames, ctypes: bplib's own neuron.step
    is not in the grading kernel (grading/stubs.py), so the task scores nothing, and only
    that task. The honest neighbours' full marks (test above) include the slider
    questions of Assignments 3-5, drawn with bplib.plotting from the grading build."""
    points = points_of(every_assignment["sources"][PER_NEURON])
    full = sum(points.values())
    assert every_assignment["scores"][PER_NEURON][student] == (
        full - points[STEP_TASK[1]], full)


def test_no_task_is_passed_by_bplibs_layers_or_autograd(every_assignment):
    """Assignment 5's backward pass composed of chapter 3's layers, Assignment 3's linear
    layer by chapter 2's graph, Assignment 4's g_j by autograd: each costs its own task
    only."""
    for assignment, student, test in (
            (COMPOSITE, "graph-linear-layer", "composite-linear-tests"),
            (FULL_ALGORITHM_NAME, "layers-backward-pass", "full-backward-pass-tests"),
            (PER_NEURON, "autograd-g-terms", "neuron-g-terms-tests")):
        points = points_of(every_assignment["sources"][assignment])
        full = sum(points.values())
        assert every_assignment["scores"][assignment][student] == (full - points[test], full)


def test_a_gradient_found_parameter_by_parameter_is_not_a_backward_pass(every_assignment):
    """Assignment 5's Task 1 by complex-step derivatives of the cost from the inputs alone
    (right to rounding: the test below): it ignores the output activations it is given,
    which a backward pass starts from, and loses Task 1 only."""
    points = points_of(every_assignment["sources"][FULL_ALGORITHM_NAME])
    full = sum(points.values())
    assert every_assignment["scores"][FULL_ALGORITHM_NAME]["complex-step-backward-pass"] == (
        full - points["full-backward-pass-tests"], full)


def test_the_complex_step_answer_is_right():
    """So the zero above is for the rule, not for the numbers: on random networks and
    batches it gives the solution's gradient."""
    source = nbformat.read(REPO / "solutions" / FULL_ALGORITHM_NAME /
                           f"{FULL_ALGORITHM_NAME}.ipynb", as_version=4)
    from bplib import network

    solution = {"np": np, "network": network}
    for cell in source.cells:
        if "def forward_softplus_softmax" in cell.source or meta(cell).get(
                "grade_id") == "full-backward-pass":
            exec(without_markers(cell.source).split("\ndemo_params")[0], solution)  # noqa: S102
    mine = {"np": np}
    exec(COMPLEX_STEP_BACKWARD_PASS, mine)  # noqa: S102
    rng = np.random.default_rng(11)
    for sizes in ([3, 2], [2, 4, 3], [4, 3, 5, 2]):
        params = [(rng.normal(size=(n_out, n_in)), rng.normal(size=(n_out, 1)))
                  for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)]
        x, y = rng.normal(size=(sizes[0], 6)), np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], 6)]
        acts = solution["forward_softplus_softmax"](params, x)
        for (dW, db), (rW, rb) in zip(mine["backward_pass"](params, acts, y),
                                      solution["backward_pass"](params, acts, y), strict=True):
            assert np.allclose(dW, rW, rtol=1e-9, atol=1e-12)
            assert np.allclose(db, rb, rtol=1e-9, atol=1e-12)


def test_assignment_4_is_not_passed_by_bplibs_tanh_layer_or_graph(every_assignment):
    """g_j by layers.Tanh().backward and e_h by graph.gradients (Value.backward): switched
    off by the tests of Tasks 1-2 and stubs in Assignment 4's kernel, so Tasks 1-2 score 0
    even when bplib.testing was replaced so that the switch switches nothing; the later
    tasks are graded with references, so they keep their points."""
    points = points_of(every_assignment["sources"][PER_NEURON])
    full = sum(points.values())
    for student in ("library-tanh-terms", "spoofed-switch"):
        assert every_assignment["scores"][PER_NEURON][student] == (
            full - points["neuron-g-terms-tests"] - points["neuron-e-terms-tests"], full)


def test_assignment_2_task_5_is_not_passed_by_bplibs_graph(every_assignment):
    """path_sum_gradient and backward_gradients by Values built from the local derivatives
    and graph.gradients, as they are and after replacing bplib.testing so that the test
    cells' switch switches nothing: the graph's backward pass is a stub in Assignment 2's
    kernel from start to end, so both parts score 0 and nothing else is lost (the slider
    question, answered after them, keeps its point); 5b by the graph's topological order
    and a sweep of one's own loses 5b. Before, outsiders' trials earned 4/4 both ways, and
    3/3 with the order."""
    points = points_of(every_assignment["sources"][CHAIN_RULE_GRAPHS])
    full = sum(points.values())
    for student in ("library-graph-task-5", "spoofed-graph-task-5"):
        assert every_assignment["scores"][CHAIN_RULE_GRAPHS][student] == (
            full - points["graphs-path-sum-gradient-tests"]
            - points["graphs-backward-gradients-tests"], full), student
    # the topological order of chapter 2's graph, with a sweep of one's own: 5b only
    assert every_assignment["scores"][CHAIN_RULE_GRAPHS]["topological-order-5b"] == (
        full - points["graphs-backward-gradients-tests"], full)


def test_assignment_2_task_3_is_graded_by_what_its_layers_send_back(every_assignment):
    """The bill through layers made once outside the function (and wired in another order),
    or made on the first call and kept, keeps full marks; the division node alone with
    formulas for the rest loses Task 3 only: the hidden test makes every layer class send
    back other multiples of its slopes, and only gradients found by the layers follow them.
    Before, the first two lost Task 3 and the third earned it (outsiders' trials)."""
    points = points_of(every_assignment["sources"][CHAIN_RULE_GRAPHS])
    full = sum(points.values())
    scores = every_assignment["scores"][CHAIN_RULE_GRAPHS]
    assert scores["module-level-layers"] == scores["lazy-kept-layers"] == (full, full)
    assert scores["division-only-layer"] == (full - points["graphs-bill-gradients-tests"], full)


def test_bplibs_own_version_is_not_in_the_kernel_while_its_task_is_tested(every_assignment):
    """Assignment 3's linear layer by bplib's Linear and Assignment 5's SGD epoch by
    bplib's network.train, with the switch spoofed (bplib.testing replaced); the linear
    layer by chapter 2's path sum, and by the sources the grader gives, read by a hook from
    the cells the kernel receives: each kernel is given bplib's versions only after that
    task's test, in a cell of the grader's (bplib.testing.GIVEN_AFTER), and never the path
    sum, so each loses its own task and nothing else (the later tasks run with what was
    given). Before, outsiders' trials earned 3/3 and 2/2 these ways."""
    for assignment, student, task in (
            (COMPOSITE, "spoofed-linear-layer", "composite-linear-tests"),
            (COMPOSITE, "paths-linear-layer", "composite-linear-tests"),
            (COMPOSITE, "hooked-linear-layer", "composite-linear-tests"),
            (FULL_ALGORITHM_NAME, "spoofed-sgd-epoch", "full-sgd-epoch-tests")):
        points = points_of(every_assignment["sources"][assignment])
        full = sum(points.values())
        assert every_assignment["scores"][assignment][student] == (
            full - points[task], full), (assignment, student)
    # the verdict quotes the words of the switch or the stub (the grader's, never the
    # student's): this student's spoof missed the notebook's own name `testing`
    from bplib import testing

    page = next((every_assignment["root"] / "feedback" / "spoofed-linear-layer").rglob(
        "*.html"))
    assert any(f"the test stopped at RuntimeError ({message}) before this check ran"
               in html_text(page) for message in (testing.MESSAGE, stubs.STUB_MESSAGE.format(
                   name="layers.Linear.forward")))


def test_a_changed_cell_that_is_not_the_students_is_named_in_feedback(every_assignment):
    """A student who put an import into Assignment 5's first cell (not theirs to change)
    and used it in the SGD epoch: nbgrader grades that cell as released, so Task 3 fails
    on the missing name, and nothing else; the feedback says, at that cell, that it ran as
    released, and no other student's page says it."""
    points = points_of(every_assignment["sources"][FULL_ALGORITHM_NAME])
    full = sum(points.values())
    assert every_assignment["scores"][FULL_ALGORITHM_NAME]["edited-first-cell"] == (
        full - points["full-sgd-epoch-tests"], full)
    note = "grading ran this cell as it was released"
    for page in (every_assignment["root"] / "feedback").rglob("*.html"):
        shown = html_text(page)
        if "edited-first-cell" in page.parts:
            assert shown.count(note) == 1, page
        else:
            assert note not in shown, page


def test_the_spoofed_answers_are_right_with_bplibs_own_version():
    """The answers above are real: with bplib's own Linear, path sum and train (as in a
    student's kernel at home), they give the solution's numbers."""
    from bplib import network

    import bplib
    from bplib import testing

    namespace = {"np": np, "network": network}
    try:
        exec(SPOOFED_LINEAR_LAYER, namespace)  # noqa: S102 - the test's own code
        exec(SPOOFED_SGD_EPOCH, namespace)  # noqa: S102
    finally:
        bplib.testing = testing
    rng = np.random.default_rng(5)
    W, b, x, u = (rng.normal(size=shape) for shape in ((3, 2), (3, 1), (2, 4), (3, 4)))
    paths = {"np": np}
    exec(PATHS_LINEAR_LAYER, paths)  # noqa: S102
    for layer in (namespace["LinearLayer"](W, b), paths["LinearLayer"](W, b)):
        assert np.allclose(layer.forward(x), W @ x + b)
        assert np.allclose(layer.backward(u), W.T @ u)
        assert np.allclose(layer.grad_W, u @ x.T)
        assert np.allclose(layer.grad_b, u.sum(1)[:, None])
    params = network.init_params([4, 3, 2], rng=1)
    xs, ys = rng.normal(size=(4, 10)), network.one_hot(rng.integers(0, 2, 10), 2)
    mine = namespace["sgd_epoch"](params, xs, ys, 3, 0.5, np.random.default_rng(0))
    order, now = np.random.default_rng(0).permutation(10), list(params)
    for start in range(0, 10, 3):
        cols = order[start:start + 3]
        grads = network.backprop(now, xs[:, cols], ys[:, cols], cost="cross-entropy")
        now = [(W - 0.5 * dW, b - 0.5 * db) for (W, b), (dW, db) in zip(now, grads, strict=True)]
    for (W1, b1), (W2, b2) in zip(mine, now, strict=True):
        assert np.allclose(W1, W2) and np.allclose(b1, b2)
    # Assignment 2's Task 5 by Values, spoofed or not, on chapter 2's A = B C (C + D)
    local = {("B", "F"): 3.0, ("C", "F"): 2.0, ("C", "G"): 1.0, ("D", "G"): 1.0,
             ("F", "A"): 4.0, ("G", "A"): 6.0}
    # (against the solution's own answers, on that graph and on random ones)
    source = nbformat.read(REPO / "solutions" / CHAIN_RULE_GRAPHS /
                           f"{CHAIN_RULE_GRAPHS}.ipynb", as_version=4)
    solution = {"np": np}
    for cell in source.cells:
        if meta(cell).get("grade_id") in LIBRARY_GRAPH_TASK_5:
            exec(without_markers(cell.source), solution)  # noqa: S102
    graphs = [local]
    rng = np.random.default_rng(3)
    for _ in range(20):
        names = [f"n{i}" for i in range(7)]
        graphs.append({(names[i], names[j]): float(rng.normal())
                       for i in range(7) for j in range(i + 1, 7) if rng.random() < 0.4})
    for spoof in ("", SPOOFED_SWITCH):
        task_5 = {"np": np}
        try:
            for code in LIBRARY_GRAPH_TASK_5.values():
                exec(spoof + code, task_5)  # noqa: S102
        finally:
            bplib.testing = testing
        exec(TOPOLOGICAL_ORDER_TASK_5B.replace("def backward_gradients",  # noqa: S102
                                               "def ordered_gradients"), task_5)
        assert task_5["path_sum_gradient"](local, "C", "A") == 14.0  # 2 * 4 + 1 * 6
        for edges in graphs:
            nodes = sorted({node for edge in edges for node in edge})
            for sink in nodes:
                mine = task_5["backward_gradients"](edges, sink)
                ordered = task_5["ordered_gradients"](edges, sink)
                right = solution["backward_gradients"](edges, sink)
                assert set(mine) == set(ordered) == set(right)
                for node in nodes:
                    assert mine[node] == pytest.approx(right[node], abs=1e-12)
                    assert ordered[node] == pytest.approx(right[node], abs=1e-12)
                    assert task_5["path_sum_gradient"](edges, node, sink) == pytest.approx(
                        solution["path_sum_gradient"](edges, node, sink), abs=1e-12)


def test_assignment_4_s_update_must_follow_the_terms_it_is_given(every_assignment):
    """zhou_update by the notebook's numerical_update, calling g_terms and e_terms only so
    that they count as used, loses Task 4 only: given scaled terms, its update does not
    follow them."""
    points = points_of(every_assignment["sources"][PER_NEURON])
    full = sum(points.values())
    assert every_assignment["scores"][PER_NEURON]["numerical-zhou-update"] == (
        full - points[STEP_TASK[1]], full)


def test_a_loop_that_never_runs_costs_its_task_only(every_assignment):
    """Right numbers from a vectorised g_terms with a dead `for _ in ():` fail the loop rule
    of Task 1, and only that task; the honest neighbours' loops pass it (full marks)."""
    points = points_of(every_assignment["sources"][PER_NEURON])
    full = sum(points.values())
    scores = every_assignment["scores"][PER_NEURON]
    assert scores["a-honest"] == scores["z-honest"] == (full, full)
    assert scores["dead-loop-g-terms"] == (full - points["neuron-g-terms-tests"], full)


def test_without_the_sandbox_the_kernel_still_imports_the_grading_build(every_assignment):
    """SANDBOX=off: the kernel finds the build first on its PYTHONPATH, so every way above
    scores the same (bplib's own files are still on disk: the warning says so)."""
    course = every_assignment["root"]
    # an honest student, the ways that need no seal to reach a bplib file, and autograd
    students = ["a-honest", "c-multiprocessing", "c-read-file", "c-subprocess", "autograd-g-terms"]
    others = set(every_assignment["students"][PER_NEURON]) - set(students)
    off = subprocess.run([str(BIN / "nbgrader"), "autograde", PER_NEURON, "--force",
                          f"--CourseDirectory.student_id_exclude={','.join(sorted(others))}"],
                         cwd=course, capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, BP_SANDBOX="off",
                                  PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"))
    assert off.returncode == 0, off.stderr[-3000:]
    assert "Grading sandbox OFF (BP_SANDBOX=off)" in off.stderr
    assert "which its kernel imports stubbed" in off.stderr
    assert gradebook_scores(course, PER_NEURON, students) == {
        student: every_assignment["scores"][PER_NEURON][student] for student in students}


def test_no_page_of_any_assignment_leaks(every_assignment):
    assert every_assignment["feedback"].returncode == 0, \
        every_assignment["feedback"].stderr[-3000:]
    hidden = set()
    for source in every_assignment["sources"].values():
        hidden |= secret_lines(source)["HIDDEN TESTS"]
    pages = sorted((every_assignment["root"] / "feedback").rglob("*.html"))
    assert len(pages) == sum(map(len, every_assignment["students"].values()))
    for page in pages:
        assert leaks_in_decoded(page.read_text(), hidden, markers=False) == set(), page
        assert leaks_in_decoded(html_text(page), hidden, markers=False) == set(), page
    print(f"\nautograde of {len(pages)} submissions of {len(OTHERS)} assignments: "
          f"{every_assignment['seconds']:.1f} s")


SEAL_SCRIPT = """
import importlib.util, types
import numpy as np
from bplib import neuron, testing

y_hat, y = np.array([0.25, 0.6]), np.array([1.0, 0.0])
right = neuron.output_terms(y_hat, y, "squared")
saved = neuron.output_terms.__code__


def copy_of_neuron():
    spec = importlib.util.spec_from_file_location("bplib.copy", neuron.__file__)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


def bypasses():
    found = {}
    with testing.switched_off(neuron.output_terms, neuron.hidden_terms):
        for name, attempt in [
                ("code", lambda: types.FunctionType(saved, neuron.__dict__)(y_hat, y, "squared")),
                ("sealed code", lambda: types.FunctionType(
                    neuron.output_terms.__code__, neuron.__dict__)(y_hat, y, "squared")),
                ("copy", lambda: copy_of_neuron().output_terms(y_hat, y, "squared")),
                ("set code", lambda: setattr(neuron.hidden_terms, "__code__", saved)),
                ("call", lambda: neuron.output_terms(y_hat, y))]:
            try:
                attempt()
                found[name] = "done"
            except (RuntimeError, PermissionError) as error:
                found[name] = type(error).__name__
    return found


before = bypasses()
testing.seal()  # in the grading kernel: before the student's first cell
saved = neuron.output_terms.__code__  # what a student's cell can save
after = bypasses()
print(before["code"], before["copy"], before["call"])
print(after["code"], after["sealed code"], after["copy"], after["set code"], after["call"])
print(np.allclose(neuron.output_terms(y_hat, y, "squared"), right))
"""


def test_seal_closes_the_bypasses_of_switched_off():
    """Unsealed (a student's own Jupyter), a saved code object and a second copy of the
    module escape switched_off; sealed (the grading kernel), neither does, the code of a
    bplib function cannot be replaced, and the library still works outside the block."""
    done = subprocess.run([str(BIN / "python"), "-c", SEAL_SCRIPT], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == [
        "done done RuntimeError",
        "RuntimeError RuntimeError PermissionError PermissionError RuntimeError", "True"]


def test_after_the_seal_other_bplib_modules_still_import():
    # the figures of chapters 3-5 share their module names with sealed modules (the slider
    # questions draw with them while grading)
    script = ("from bplib import testing\ntesting.seal()\nimport bplib.telephone, bplib.graph\n"
              "import bplib.plotting.neuron, bplib.plotting.layers, bplib.plotting.network\n"
              "print('imported')")
    done = subprocess.run([str(BIN / "python"), "-c", script], capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip() == "imported", done.stderr


GIVEN_SCRIPT = """
import contextlib, importlib, json, os, sys
import nbformat
from bplib import testing
from grading import judge

calls, switched, cell = {}, {}, [None]
for module_name, names in testing.SWITCHABLE.items():
    module = importlib.import_module(module_name)
    for name in names:
        *path, last = name.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, last)

        # switched_off swaps this function's code while a test asks for the task
        def recorder(*args, _original=original, _key=f"{module_name}.{name}", **kwargs):
            calls.setdefault(_key, cell[0])
            return _original(*args, **kwargs)
        recorder.bp_key = f"{module_name}.{name}"
        setattr(owner, last, recorder)
real_switch = testing.switched_off


@contextlib.contextmanager
def recording_switch(*functions):
    for function in functions:
        switched.setdefault(getattr(function, "bp_key", repr(function)), []).append(cell[0])
    with real_switch(*functions):
        yield


testing.switched_off = recording_switch
real_compile = compile


def tracking_compile(source, filename, *args, **kwargs):
    cell[0] = int(filename.rsplit("#", 1)[1].rstrip(">"))
    return real_compile(source, filename, *args, **kwargs)


judge.compile = tracking_compile
found = {}
for path in sys.argv[1:]:
    calls.clear()
    switched.clear()
    notebook = nbformat.read(path, 4)
    for index, one in enumerate(notebook.cells):
        if one.cell_type == "code":
            one.metadata.setdefault("nbgrader", {}).setdefault("grade_id", f"cell #{index}")
            one.metadata["nbgrader"]["grade_id"] += f"#{index}"
    judge._run(notebook, os.path.dirname(path), os.path.basename(path), probes=True)
    found[os.path.basename(os.path.dirname(path))] = {"calls": calls.copy(),
                                                      "switched": switched.copy()}
print(json.dumps(found))
"""


def test_the_grading_kernel_is_given_exactly_what_the_notebooks_call_when_they_call_it():
    """bplib.testing.GIVEN_AFTER is, for each assignment, what its solution notebook, run
    as the grading kernel runs it (test cells as probes), calls of SWITCHABLE outside the
    tests that switch it off: one fewer and an honest student fails; one more and it is in
    that kernel for nothing. Each is given at the end of a test cell before the first cell
    that calls it, and after every test cell that switches it off (the task it would do is
    tested before the kernel has it), with no exception: no task is tested after what it
    asks for is given (Assignment 2's bill slider nudges, so its kernel gets nothing)."""
    from bplib import testing

    notebooks = sorted(str(path) for path in (REPO / "solutions").glob("*/*.ipynb"))
    done = subprocess.run([str(BIN / "python"), "-c", GIVEN_SCRIPT, *notebooks],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert set(found) == set(testing.GIVEN_AFTER)
    sliders = {f"{module}.{name}" for module, names in testing.CALLED_BY_SLIDERS.items()
               for name in names}
    exceptions = set()
    for path in notebooks:
        assignment = os.path.basename(os.path.dirname(path))
        cells = nbformat.read(path, 4).cells
        where = {judge.nbgrader_meta(cell).get("grade_id"): index
                 for index, cell in enumerate(cells) if judge.is_test_cell(cell)}
        given = {f"{module}.{name}": where[grade_id] for module, names
                 in testing.GIVEN_AFTER[assignment].items()
                 for name, grade_id in names.items()}
        calls, switched = found[assignment]["calls"], found[assignment]["switched"]
        assert set(calls) == set(given) - sliders, assignment
        for key, first_call in calls.items():
            assert given[key] < first_call, (assignment, key, "called before it is given")
        for key, at in given.items():
            for cell_index in switched.get(key, []):
                if cell_index > at:
                    exceptions.add((assignment, key, judge.nbgrader_meta(
                        cells[cell_index]).get("grade_id")))
    assert not exceptions
    # Assignments 1, 2 and 4 get nothing: their tasks' bplib versions are all stubs there
    for assignment in ("01-telephone", "02-chain-rule-graphs", "04-per-neuron"):
        assert not testing.given_while_grading(assignment), assignment
    assert sliders <= {f"{module}.{name}" for module, names
                       in testing.given_while_grading().items() for name in names}
    # each is called by a non-test cell of a solution (Assignment 3's library_norms)
    slider_code = [cell.source for path in notebooks
                   for cell in nbformat.read(path, 4).cells
                   if cell.cell_type == "code" and not judge.is_test_cell(cell)]
    def split(key):  # "bplib.graph.Value.backward" -> ("bplib.graph", "Value.backward")
        return ".".join(key.split(".")[:2]), ".".join(key.split(".")[2:])

    def called_by_slider(key):
        module, name = split(key)
        made = module.removeprefix("bplib.") + "." + name.split(".")[0] + "("
        return any(made in source and name.split(".")[-1] + "(" in source
                   for source in slider_code)

    for key in sliders:  # called there, or by bplib's own code of one that is
        assert called_by_slider(key) or any(
            called_by_slider(other)
            and "." + key.rsplit(".", 1)[-1] + "(" in stubs.given_source(*split(other))
            for other in sliders), key
    assert all(set(names) <= set(testing.SWITCHABLE[module])
               for module, names in testing.given_while_grading().items())


def test_the_grading_build_stubs_the_rest_and_keeps_everything_else(tmp_path):
    """grading/stubs.py: every SWITCHABLE function not kept raises the clear error, in this
    process's import of the build and in a child's; bplib's other functions work."""

    folder = stubs.build(tmp_path / "cache")
    assert stubs.build(tmp_path / "cache") == folder  # cached by the source's checksum
    script = textwrap.dedent("""
        import importlib, json, subprocess, sys
        import bplib
        from bplib import network, plotting, testing, widgets
        from grading import stubs
        assert bplib.__file__.startswith(sys.argv[1]), bplib.__file__
        found = {}
        for module_name, names in stubs.stubbed().items():
            module = importlib.import_module(module_name)
            for name in names:
                owner = module
                for part in name.split("."):
                    owner = getattr(owner, part)
                try:
                    code = owner.__code__
                    owner(*[None] * code.co_argcount, **dict.fromkeys(code.co_varnames[
                        code.co_argcount:code.co_argcount + code.co_kwonlyargcount]))
                    found[f"{module_name}.{name}"] = "ran"
                except RuntimeError as error:
                    found[f"{module_name}.{name}"] = str(error)
        params = network.init_params([3, 4, 2], rng=0)
        testing.seal()
        # what a test cell gives (GIVEN_AFTER): the stub calls bplib's own version, sealed
        for name in ("backprop", "_backprop"):
            testing.give("bplib.network", name, json.loads(sys.argv[2])[name])
        grads = network.backprop(params, [[1.0], [2.0], [3.0]], [[0.0], [1.0]])
        with testing.switched_off(network.backprop):
            try:
                network.backprop(params, [[1.0], [2.0], [3.0]], [[0.0], [1.0]])
                switched = "ran"
            except RuntimeError as error:
                switched = str(error)
        child = subprocess.run([sys.executable, "-c", "from bplib import neuron; "
                                "neuron.step(*neuron.seed_example(), 0.5)"],
                               capture_output=True, text=True)
        blocked = {}
        for name in stubs.BLOCKED:
            try:
                importlib.import_module(name)
                blocked[name] = "imported"
            except ImportError as error:
                blocked[name] = str(error)
        print(json.dumps({"stubs": found, "grads": len(grads), "blocked": blocked,
                          "switched": switched,
                          "child": child.stderr.strip().splitlines()[-1]}))
        """)
    env = dict(os.environ, PYTHONPATH=str(folder))
    sources = json.dumps({name: stubs.given_source("bplib.network", name)
                          for name in ("backprop", "_backprop")})
    assert "def _backprop(" in sources and "_bp_testing" not in sources  # bplib's own
    done = subprocess.run([str(BIN / "python"), "-c", script, str(folder), sources], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    stubbed = {f"{module}.{name}" for module, names in stubs.stubbed().items()
               for name in names}
    assert stubbed and set(found["stubs"]) == stubbed
    for key, message in found["stubs"].items():
        short = key.removeprefix("bplib.")
        assert message.startswith(f"bplib's own {short} is not available while grading"), key
    assert found["grads"] == 2
    assert found["switched"].startswith("this bplib function does the work of the task")
    # no automatic differentiation in the kernel (autograd is in this venv: the grader's)
    assert "autograd" in stubs.blocked_folders()
    for name, message in found["blocked"].items():
        assert message.startswith(f"{name} is not available while grading"), message
    assert found["child"].startswith("RuntimeError: bplib's own neuron.step is not available")
    assert not (folder / "bplib" / "bplib.egg-info").exists()
    # one build for every assignment: each starts with every SWITCHABLE function a stub
    assert stubs.stubbed() == testing_switchable()
    child = subprocess.run([str(BIN / "python"), "-c",
                            "from bplib import graph; v = graph.Value(2.0); (v * v).backward()"],
                           env=dict(os.environ, PYTHONPATH=str(folder)),
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert child.stderr.strip().splitlines()[-1].startswith(
        "RuntimeError: bplib's own graph.Value.backward is not available while grading")


def testing_switchable():
    from bplib import testing

    return dict(testing.SWITCHABLE)


def test_the_cheats_reach_bplibs_own_step_without_the_grading_build():
    """The cheats above are real: against bplib itself, sealed as before the grading
    build, each one returns neuron.step's result while step is switched off."""
    script = textwrap.dedent("""
        import json, sys
        import numpy as np
        from bplib import neuron, testing
        testing.seal()
        net, x, y = neuron.seed_example()
        right = neuron.step(net, x, y, 0.5)
        found = {}
        for student, code in json.loads(sys.argv[1]).items():
            namespace = {"np": np, "neuron": neuron, "testing": testing}
            exec(code, namespace)
            with testing.switched_off(neuron.updates, neuron.gradients, neuron.step,
                                      neuron.train):
                try:
                    got = namespace["zhou_update"](net, x, y, 0.5)
                    found[student] = all(np.allclose(got[k], right[k]) for k in right)
                except Exception as error:
                    found[student] = type(error).__name__
        print(json.dumps(found))
        """)
    done = subprocess.run([str(BIN / "python"), "-c", script, json.dumps(STEP_CHEATS)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == dict.fromkeys(STEP_CHEATS, True)


def test_a_feedback_page_requests_nothing_from_another_site(tmp_path):
    """nbgrader's feedback template loads MathJax from a CDN, and a student's Markdown may
    show an image from anywhere: the course's feedback exporter (nbgrader_config.py) leaves
    neither, and the math stays as its TeX source."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import GenerateFeedback
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    notebook = nbformat.read(REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(
        "Mine: $e^{i\\pi} + 1 = 0$ ![pixel](https://tracker.example/p.png) "
        '<img src="//tracker.example/q.gif"> <span style="background: url(https://'
        'tracker.example/r.png)">x</span>'))
    for cell in notebook.cells:  # as GetGrades leaves them
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader["score"] = 0
    resources = {"nbgrader": {"notebook": ASSIGNMENT, "score": 1, "max_score": 2,
                              "late_penalty": 0}}
    # nbgrader's own feedback converter, set up by the course's config, makes the exporter
    converter = GenerateFeedback(config=config)
    converter.init_notebooks = lambda: None
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor, enabled=True)
    page, _ = exporter.from_notebook_node(notebook, dict(resources))
    assert outside_requests(page) == [], outside_requests(page)
    assert "e^{i\\pi} + 1 = 0" in page and "Score: 1.0 / 2.0" in page
    # the same page from nbconvert's own exporter does load them: the check can fail
    from nbconvert.exporters import HTMLExporter
    plain = HTMLExporter(parent=converter, config=converter.config)
    plain.register_preprocessor(CSSHTMLHeaderPreprocessor, enabled=True)
    loads = " ".join(outside_requests(plain.from_notebook_node(notebook, dict(resources))[0]))
    assert "mathjax" in loads.lower() and "tracker.example/p.png" in loads, loads
    guide = " ".join((REPO / "instructors.md").read_text(encoding="utf-8").split())
    assert "A feedback page loads nothing from outside" in guide
    assert "math shows there as its TeX source" in guide
