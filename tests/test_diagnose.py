"""The structural diagnosis (grading/diagnose.py) on hand-built values: each kind is found
when the student's value is the expected one transformed, and nothing is claimed for noise,
a scale that is near but not exact to the check's tolerance, or a right value."""

import math

import numpy as np
import pytest

from grading.diagnose import diagnose, diagnose_judged

RNG = np.random.default_rng(22)
W = RNG.normal(size=(3, 4))  # a weight matrix, say
SQUARE = RNG.normal(size=(3, 3))
LAYERS = [RNG.normal(size=(2, 3)).tolist(), RNG.normal(size=(3,)).tolist(),
          RNG.normal(size=(1, 2)).tolist()]  # per-layer gradients: an irregular list


def kind(got, want, **tolerance):
    found = diagnose(got, want, **tolerance)
    return None if found is None else found.kind


def text(got, want, **tolerance):
    return diagnose(got, want, **tolerance).text


@pytest.mark.parametrize("got, expected_kind, words", [
    (-W, "negated", "times −1"),
    (W / 8, "scaled", "divided by 8"),
    (W * 0.25, "scaled", "¼"),
    (W * 0.5, "scaled", "½"),
    (W * 2, "scaled", "times 2"),
    (W * -2, "scaled", "times −2"),
    (W * 0.731, "scaled", "about 0.731"),
    (W.T, "transposed", "transposed"),
    (W[::-1], "reversed", "reverse order"),
    (W[[1, 0, 2]], "permuted", "your first is the expected second"),
    (np.zeros_like(W), "zero", "zero"),
    (np.full_like(W, np.nan), "nan", "NaN"),
    (np.where(W > 0, np.inf, W), "inf", "infinite"),
    (W[:, :3], "shape", "shape (3, 3)"),
])
def test_each_kind_is_found_and_said(got, expected_kind, words):
    found = diagnose(got.tolist(), W.tolist())
    assert found is not None and found.kind == expected_kind
    assert words in found.text


def test_a_square_matrix_transposed_and_rows_right_or_wrong():
    assert kind(SQUARE.T.tolist(), SQUARE.tolist()) == "transposed"
    first_row_right = W.copy()
    first_row_right[1:] += 1
    assert text(first_row_right.tolist(), W.tolist()) == \
        "your values are right in the first row, wrong elsewhere"
    column = W.copy()
    column[:, 2] *= 3
    assert "right in the first, second and fourth columns" in text(column.tolist(), W.tolist())
    entries = [1.0, 2.0, 3.0, 4.0]
    assert "right in the first and third entries" in text([1.0, 5.0, 3.0, 7.0], entries)


def test_dicts_and_irregular_lists_name_the_items():
    want = {"W": W.tolist(), "b": [1.0, 2.0]}
    found = diagnose({"W": W.tolist(), "b": [-1.0, -2.0]}, want)
    assert found.kind == "keys"
    assert "right for 'W'" in found.text and "wrong for 'b'" in found.text
    assert "'b': your values are the expected ones times −1" in found.text
    assert "lacks the key 'b'" in text({"W": W.tolist()}, want)
    assert kind(LAYERS[::-1], LAYERS) == "reversed"
    halved = [LAYERS[0], LAYERS[1], (np.array(LAYERS[2]) / 2).tolist()]
    assert "item 3: your values are the expected ones times ½" in text(halved, LAYERS)
    assert "2 items" in text(LAYERS[:2], LAYERS)


def test_types():
    assert kind("0.5", 0.5) == "type"
    assert kind(None, W.tolist()) == "type"
    assert kind(True, 1.0) == "type"
    assert kind([1.0, 2.0], {"a": 1.0}) == "type"
    assert kind(1, "one") == "type"


def test_noise_and_a_near_scale_are_not_diagnosed():
    noise = W + RNG.normal(scale=0.1, size=W.shape)
    assert diagnose(noise.tolist(), W.tolist()) is None
    near_twice = W * 2 + RNG.normal(scale=1e-4, size=W.shape)  # not exact to 1e-9
    assert diagnose(near_twice.tolist(), W.tolist()) is None
    # one factor for every entry, but not a named one: said as measured, never "2"
    found = diagnose((W * 2 * (1 + 1e-6)).tolist(), W.tolist())
    assert found.kind == "scaled" and "about 2" in found.text


def test_a_scale_near_the_tolerance_is_decided_by_it():
    noisy = W * 2 + 1e-7 * RNG.normal(size=W.shape)
    assert diagnose(noisy.tolist(), W.tolist(), rtol=1e-9, atol=1e-12) is None
    assert kind(noisy.tolist(), W.tolist(), rtol=1e-5, atol=1e-8) == "scaled"


def test_nothing_is_claimed_for_a_right_value_or_a_coincidence():
    assert diagnose(W.tolist(), W.tolist()) is None
    assert diagnose((W + 1e-13).tolist(), W.tolist()) is None  # within the tolerance
    assert diagnose(0.6, 0.5) is None  # one number: 6/5 would be a coincidence
    assert kind(1.0, 0.5) == "scaled"  # twice one number: named
    assert diagnose(3, 4) is None  # whole numbers (counts): no factor
    assert kind([0, 1, 2], [0, 1, 3]) == "partial"
    assert diagnose([1.0, 2.0], [float("nan"), 1.0]) is None  # no finite reference


def test_the_text_never_holds_an_expected_value():
    want = [[0.123456, 0.654321], [0.777777, 0.888888]]
    for got in (np.negative(want), np.array(want) * 3, np.array(want).T,
                np.array(want)[::-1], np.array(want) + [[0, 1], [0, 1]]):
        found = diagnose(got.tolist(), want)
        assert found is not None
        for row in want:
            for value in row:
                assert f"{value}"[:5] not in found.text and f"{value:.3g}" not in found.text


def test_judged_checks_only_get_type_shape_and_non_finite_findings():
    assert diagnose_judged(math.nan).kind == "nan"
    assert diagnose_judged([1.0, math.inf]).kind == "inf"
    assert diagnose_judged([1.0, 2.0], [[1.0], [2.0]]).kind == "shape"
    assert diagnose_judged("a", 1.0).kind == "type"
    assert diagnose_judged(3, 1.0) is None
    assert diagnose_judged(-1.0, 1.0) is None  # out of a range: nothing more to say
    assert diagnose_judged([2.0, 4.0], [1.0, 2.0]) is None


def test_the_student_s_own_keys_are_never_quoted():
    found = diagnose({"W": 1.0, "c2VjcmV0": 2.0}, {"W": 1.0})
    assert found.kind == "keys" and "c2VjcmV0" not in found.text
    assert "1 key the check does not expect" in found.text


def test_repeated_items_in_reverse_order():
    want = [[0.25, 0.25], [0.25, 0.25], [1.0, 1.0]]  # two equal items
    assert kind(want[::-1], want) == "reversed"
    assert kind([want[2], want[0], [0.5, 0.5]], want) != "permuted"


def test_a_section_reads_as_the_chapter_and_its_title(tmp_path):
    from conftest import REPO

    from grading.sections import reread

    words, link = reread("chapters/04-per-neuron.html#the-derivation-one-step-at-a-time",
                         REPO)
    assert words == "Chapter 4, section “The derivation, one step at a time”"
    assert link is None or link.startswith("http")  # edition.yml's site, when it is set
    (tmp_path / "chapters").mkdir()
    (tmp_path / "edition.yml").write_text('site: "https://example.org/book"\n')
    assert reread("chapters/04-per-neuron.html#some-anchor", tmp_path) == (
        "Chapter 4, section “some anchor”",  # no page here: the anchor's own words
        "https://example.org/book/chapters/04-per-neuron.html#some-anchor")
    (tmp_path / "edition.yml").write_text('site: "../book"\n')  # not an address: no link
    assert reread("chapters/04-per-neuron.html#some-anchor", tmp_path)[1] is None


def test_right_only_where_zero_is_expected_is_no_partial_finding():
    """A gradient whose columns of a constant input are 0 in both: being right there says
    nothing (a corpus trial's page said "right in columns 1, 33, 40 and 57")."""
    rng = np.random.default_rng(3)
    want = rng.normal(size=(10, 64))
    want[:, [1, 33, 40, 57]] = 0.0
    got = want * rng.uniform(1.5, 2.5, size=want.shape)  # wrong everywhere a value is
    assert diagnose(got.tolist(), want.tolist(), 1e-7, 1e-9) is None
    # right in one column a value is expected there: that one is said, the zeros are not
    got[:, 5] = want[:, 5]
    assert kind(got.tolist(), want.tolist()) == "partial"
    said = text(got.tolist(), want.tolist())
    assert said.endswith("right in 10 of the 600 entries whose expected value is not 0, "
                         "wrong in the others"), said


# --- Every failing check of a cell is diagnosed (grading/judge.py's _diagnosed) -------------

def hand_checks(*pairs):
    """Checks as judge.reference holds them: (message, expected value) each."""
    return [{"message": message, "answers": [answer], "rtol": 1e-9, "atol": 1e-12}
            for message, answer in pairs]


CELL = hand_checks(("first is wrong", [1.0, 2.0]), ("second is wrong", [3.0, 4.0]),
                   ("third is wrong", [5.0, 6.0]), ("fourth is wrong", [7.0, 8.0]),
                   ("fifth is wrong", [9.0, 1.0]), ("sixth is wrong", [2.0, 3.0]))


def diagnosed(records, monkeypatch, catalogued=()):
    """(verdict, rows) of the cell CELL for these records, with a catalogue whose one
    mistake matches the checks numbered in `catalogued`."""
    from grading import diagnose as module
    from grading import judge
    from grading.mistakes import Mistake

    mistake = Mistake(id="a9-demo", cell="demo", replace=(), tests=("demo-tests",),
                      title="The demo mistake", explanation="Its one rule, explained.",
                      section="chapters/09-demo.html#the-rule")
    monkeypatch.setattr(module, "_catalogued", lambda source, grade_id, index, *rest:
                        [mistake] if index in catalogued else [])
    failed = judge.first_failure(records, CELL)
    return judge._diagnosed("demo.ipynb", "demo-tests", failed, CELL, records, "/nowhere")


LATER_MESSAGES = ("third is wrong", "fourth is wrong", "fifth is wrong", "sixth is wrong")


def test_every_failing_check_with_a_value_is_diagnosed_and_said_once(monkeypatch):
    """Checks 2, 3 and 5 send negated values, 4 is right, the cell stops before 6: three
    rows (none for the check that never ran); the verdict is the first failure's message
    and its finding, said once, and how many more checks failed, never their messages."""
    records = [{"value": [1.0, 2.0]}, {"value": [-3.0, -4.0]}, {"value": [-5.0, -6.0]},
               {"value": [7.0, 8.0]}, {"value": [-9.0, -1.0]}]
    verdict, rows = diagnosed(records, monkeypatch)
    assert [(row["check_index"], row["kind"], row["what"]) for row in rows] == [
        (1, "structural", "negated"), (2, "structural", "negated"),
        (4, "structural", "negated")]
    message, _, found = verdict.partition("\n\n")
    assert message == "second is wrong"
    assert found.count("times −1") == 1, verdict
    assert found.endswith("In all, 2 more checks of this test failed."), verdict
    assert "Elsewhere" not in found  # the one finding was the first check's
    for never in ("first is wrong",) + LATER_MESSAGES:
        assert never not in verdict


def test_later_checks_add_only_what_their_values_prove(monkeypatch):
    """Check 2 negated, 3 and 4 scaled by 2, 5 a str, 6 not plain data: each later finding
    is said once, as what the values show elsewhere in the test, with no message; the
    record that proves nothing adds nothing but the count."""
    records = [{"value": [1.0, 2.0]}, {"value": [-3.0, -4.0]}, {"value": [10.0, 12.0]},
               {"value": [14.0, 16.0]}, {"value": "text"}, {"unsupported": "an object"}]
    verdict, rows = diagnosed(records, monkeypatch)
    assert [(row["check_index"], row["kind"], row["what"]) for row in rows] == [
        (1, "structural", "negated"), (2, "structural", "scaled"),
        (3, "structural", "scaled"), (4, "structural", "type"),
        (5, "none", "not plain data")]
    lines = verdict.split("\n\n")[1].split("\n")
    assert lines[0].startswith("What your values show:") and "times −1" in lines[0]
    assert lines[1].startswith("Elsewhere in this test, your ") and "times 2" in lines[1]
    assert lines[2].startswith("Elsewhere in this test, your value is text; the check")
    assert lines[3:] == ["In all, 4 more checks of this test failed."]
    for never in LATER_MESSAGES:
        assert never not in verdict


def test_a_later_finding_is_said_when_the_first_failure_has_none(monkeypatch):
    """The trial's case: the first failing check's value proves nothing, a later one is the
    expected value times 2: said once, as what the values show elsewhere in the test."""
    records = [{"value": [1.0, 2.0]}, {"value": [3.1, 4.7]}, {"value": [10.0, 12.0]},
               {"value": [14.0, 16.0]}]
    verdict, rows = diagnosed(records, monkeypatch)
    assert [row["kind"] for row in rows] == ["none", "structural", "structural"]
    message, _, found = verdict.partition("\n\n")
    assert message == "second is wrong"
    assert found.split("\n") == [found.split("\n")[0],
                                 "In all, 2 more checks of this test failed."]
    assert found.startswith("Elsewhere in this test, your ") and found.count("times 2") == 1
    assert "third is wrong" not in verdict and "fourth is wrong" not in verdict


def test_a_catalogued_mistake_is_named_once_per_cell(monkeypatch):
    """Checks 1, 3 and 5 fail and all three match the catalogue's mistake: every row names
    it, the verdict names and explains it once, and no later check's message."""
    records = [{"value": [0.0, 2.5]}, {"value": [3.0, 4.0]}, {"value": [5.5, 6.0]},
               {"value": [7.0, 8.0]}, {"value": [9.0, 1.5]}, {"value": [2.0, 3.0]}]
    verdict, rows = diagnosed(records, monkeypatch, catalogued={0, 2, 4})
    assert [(row["check_index"], row["kind"], row["what"]) for row in rows] == [
        (0, "catalogue", "a9-demo"), (2, "catalogue", "a9-demo"), (4, "catalogue", "a9-demo")]
    assert verdict.count("The demo mistake") == 1
    assert verdict.count("Its one rule, explained.") == 1 and verdict.count("Reread:") == 1
    assert verdict.startswith("first is wrong\n\nYour values are those of a known mistake")
    assert verdict.endswith("In all, 2 more checks of this test failed.")
    for never in LATER_MESSAGES:
        assert never not in verdict


def test_a_mistake_matched_only_later_is_named_once_as_elsewhere(monkeypatch):
    """The first failure (check 2) is negated, checks 3 and 5 match the catalogue: the
    mistake is named once, as what the values show elsewhere in the test."""
    records = [{"value": [1.0, 2.0]}, {"value": [-3.0, -4.0]}, {"value": [5.5, 6.0]},
               {"value": [7.0, 8.0]}, {"value": [9.0, 1.5]}]
    verdict, _ = diagnosed(records, monkeypatch, catalogued={2, 4})
    assert verdict.count("The demo mistake") == 1 and verdict.count("Reread:") == 1
    assert "Elsewhere in this test, your values are those of a known mistake: The demo " \
        "mistake." in verdict
    assert "times −1" in verdict and "fifth is wrong" not in verdict


def test_a_cell_shows_at_most_three_findings(monkeypatch):
    """Five checks fail, each with a finding of its own: three are said, then how many
    more checks failed and that more findings were left out."""
    from grading import judge

    records = [{"value": [-1.0, -2.0]}, {"value": [6.0, 8.0]}, {"value": "text"},
               {"value": [0.0, 0.0]}, {"value": [9.0, 5.0]}, {"value": [2.0, 3.0]}]
    verdict, rows = diagnosed(records, monkeypatch)
    assert len({row["what"] for row in rows}) == 5, rows
    found = verdict.split("\n\n")[1].split("\n")
    assert len(found) == judge.MAX_FINDINGS + 1
    assert found[-1] == ("In all, 4 more checks of this test failed; 2 more findings about "
                         "their values not listed here.")


def test_each_check_s_outcome():
    """judge.outcomes: passed, failed (a wrong value, or a record that is not plain data),
    not run (no record: the cell stopped before it); extra records decide nothing."""
    from grading.judge import outcomes

    records = [{"value": [1.0, 2.0]}, {"value": [3.0, 4.5]}, {"unsupported": "an object"}]
    found = outcomes(records, CELL)
    assert [entry["outcome"] for entry in found] == [
        "passed", "failed", "failed", "not run", "not run", "not run"]
    assert [entry["message"] for entry in found] == [check["message"] for check in CELL]
    assert found[1]["why"] == "value" and found[1]["value"] == [3.0, 4.5]
    assert found[2]["why"] == "not plain data" and "value" not in found[2]
    right = [{"value": check["answers"][0]} for check in CELL]
    assert {entry["outcome"] for entry in outcomes(right + [{"value": 0}], CELL)} == {
        "passed"}


# --- The feedback page's task label (grading/judge.py's FeedbackSummary) ---------------------

def test_a_task_is_labelled_by_the_nearest_heading_above_its_test_cell():
    """Assignment 2's Task 5 and its part 5a share one markdown cell: the test cell of 5a
    is labelled "5a. ...", not "Task 5 ..." (an outside trial's every page did that)."""
    import nbformat

    from conftest import REPO
    from grading.judge import FeedbackSummary, _markdown_text

    source = nbformat.read(REPO / "solutions" / "02-chain-rule-graphs" /
                           "02-chain-rule-graphs.ipynb", as_version=4)
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code":
            cell.outputs = []
            if meta.get("grade") and not meta.get("solution"):
                meta["score"] = meta["points"]
    nb, _ = FeedbackSummary().preprocess(source, {})
    summary = nb.cells[0].source
    headings = [line.lstrip("#").strip() for cell in source.cells
                if cell.cell_type == "markdown" for line in cell.source.splitlines()
                if line.startswith("#")]
    for grade_id, part in (("graphs-path-sum-gradient-tests", "5a."),
                           ("graphs-backward-gradients-tests", "5b."),
                           ("graphs-div-layer-tests", "Task 1:")):
        heading = next(h for h in headings if h.startswith(part))
        assert f"- **{_markdown_text(heading)} (`{grade_id}`)**: " in summary, summary

