"""The grader's side of hidden checks: nbgrader preprocessors that run in the grader's process.

`JudgeChecks` runs in `nbgrader autograde` right after the student's notebook is executed
and before the grades are saved. For each test cell it

1. runs the instructor's notebook from solutions/ in the grader's own process (once per
   batch), where every `check(...)` of the hidden tests collects the solution's value, the
   message and the tolerance (grading.record);
2. reads the records the student's kernel sent from that test cell: display outputs of one
   MIME type, parsed again as plain JSON, taken in order. A record carries a value and
   nothing else, so a forged record is only a claim of a value, judged like a real one;
   a missing, extra or garbled record fails the cell;
3. replaces the cell's outputs with the verdict: nothing (pass) or one error carrying the
   first failed check's message (fail), which nbgrader's SaveAutoGrades then scores.
   Nothing the student's code printed in a test cell survives.

Outputs of the other cells that quote a hidden-test line (a student's hook can copy test
source into a later cell) are replaced by a note. `ScanFeedback` ends `nbgrader
generate_feedback`: a page that would still show a hidden-test or solution line is not
written and the command fails.
"""

import contextlib
import io
import json
import math
import os
from pathlib import Path

import nbformat
import numpy as np
from IPython.core.inputtransformer2 import TransformerManager
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from . import record
from .leaks import leaks_in_text, secret_lines

_references = {}  # (path, mtime) -> (checks by grade_id, secret lines): once per batch


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def is_test_cell(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def reference(source_path):
    """({grade_id: [check, ...]}, secret lines) for an instructor notebook.

    Runs every code cell of the notebook in one fresh namespace in this process, as the
    validator would, with check() collecting instead of sending.
    """
    source_path = Path(source_path).resolve()
    key = (source_path, source_path.stat().st_mtime_ns)
    if key not in _references:
        notebook = nbformat.read(source_path, as_version=4)
        namespace = {"__name__": "__reference__"}
        checks = {}
        here = os.getcwd()
        os.chdir(source_path.parent)
        try:
            # as in the student's kernel during autograding: sliders draw nothing
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()), \
                    _autograding():
                for index, cell in enumerate(notebook.cells):
                    if cell.cell_type != "code":
                        continue
                    grade_id = nbgrader_meta(cell).get("grade_id", f"cell {index}")
                    collected = []
                    record.collector, record.namespace = collected, namespace
                    try:
                        # IPython syntax (the bootstrap cell's %pip) as the kernel reads it
                        code = TransformerManager().transform_cell(cell.source)
                        exec(compile(code, f"<{source_path.name}: {grade_id}>", "exec"),
                             namespace)
                    finally:
                        record.collector = record.namespace = None
                    if is_test_cell(cell):
                        checks[grade_id] = [_expected(check) for check in collected]
        finally:
            os.chdir(here)
        undecided = sorted(grade_id for grade_id, found in checks.items() if not found)
        if undecided:
            raise ValueError(f"{source_path.name}: the test cell(s) {', '.join(undecided)} "
                             "have no hidden check(): nothing in the grader would decide "
                             "their points (see the README's 'Writing a hidden check')")
        secrets = secret_lines(notebook)["HIDDEN TESTS"]
        _references[key] = (checks, secrets)
    return _references[key]


@contextlib.contextmanager
def _autograding():
    """NBGRADER_EXECUTION set while the block runs, as nbgrader sets it for the student's
    kernel (nbgrader's own utils.setenv cannot be nested: it restores the wrong key)."""
    before = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = before or "autograde"
    try:
        yield
    finally:
        if before is None:
            del os.environ["NBGRADER_EXECUTION"]


def _expected(check):
    """A collected check as the verdict needs it: its reference answers, or its judge."""
    if check["judge"] is not None:
        if not _judged(check["judge"], check["value"]):
            raise ValueError(f"the solution's own value fails the judge of the check "
                             f"{check['message']!r}")
        return {"judge": check["judge"], "message": check["message"]}
    return {key: check[key] for key in ("answers", "message", "rtol", "atol")}


def _judged(judge, value):
    """Whether judge(value) is true (a bool or numpy bool); False if it raised (a student's
    value may be any plain data)."""
    try:
        verdict = judge(value)
    except Exception:  # noqa: BLE001 - a malformed value fails, nothing more
        return False
    return isinstance(verdict, (bool, np.bool_)) and bool(verdict)


def same(got, want, rtol, atol):
    """got (the student's plain data) matches want (the reference's): same structure,
    ints and strings and bools exact, floats within the tolerance."""
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return type(got) is type(want) and got == want
    if isinstance(want, int):
        return type(got) is int and got == want
    if isinstance(want, float):
        if type(got) not in (int, float):
            return False
        if math.isnan(want) or math.isnan(got):
            return math.isnan(want) and math.isnan(got)
        if math.isinf(want) or math.isinf(got):
            return got == want
        return abs(got - want) <= atol + rtol * abs(want)
    if isinstance(want, list):
        return (type(got) is list and len(got) == len(want)
                and all(same(g, w, rtol, atol) for g, w in zip(got, want)))
    if isinstance(want, dict):
        return (type(got) is dict and set(got) == set(want)
                and all(same(got[key], want[key], rtol, atol) for key in want))
    raise TypeError(f"a reference value of type {type(want).__name__}")


def _records(outputs):
    """The check records of a test cell, in order, as plain JSON data."""
    found = []
    for output in outputs:
        if output.get("output_type") in ("display_data", "execute_result") and \
                record.MIME in output.get("data", {}):
            try:  # serialised and parsed again: only JSON's own types come out
                found.append(json.loads(json.dumps(output["data"][record.MIME])))
            except (TypeError, ValueError):
                found.append(None)
    return found


def _kernel_error(outputs, secrets):
    """How the student's code stopped the test cell, if it did, without anything that
    quotes a hidden test."""
    for output in outputs:
        if output.get("output_type") == "error":
            name = str(output.get("ename", "an error"))[:80]
            value = str(output.get("evalue", ""))[:300]
            if leaks_in_text(name + value, secrets):
                return "an error (its message is withheld: it quoted a hidden test)"
            return f"{name}: {value}" if value else name
    return None


def verdict(outputs, checks, secrets):
    """None if every check passed, else the message to show."""
    records = _records(outputs)
    for index, check in enumerate(checks):
        if index >= len(records):
            stopped = _kernel_error(outputs, secrets)
            reason = f"the test stopped at {stopped}" if stopped else "the check did not run"
            return f"{check['message']} ({reason})"
        got = records[index]
        if type(got) is not dict or set(got) != {"value"}:
            problem = got.get("unsupported") if type(got) is dict else None
            return (f"{check['message']} (the value is {problem})"
                    if type(problem) is str else check["message"])
        if "judge" in check:
            if not _judged(check["judge"], got["value"]):
                return check["message"]
        elif not any(same(got["value"], answer, check["rtol"], check["atol"])
                     for answer in check["answers"]):
            return check["message"]
    if len(records) > len(checks):
        return "the test cell sent more check results than it has checks"
    return None


def failure(message):
    return new_output("error", ename="CheckFailed", evalue=message,
                      traceback=[f"CheckFailed: {message}"])


def _output_text(output):
    parts = [str(output.get(key, "")) for key in ("text", "ename", "evalue")]
    parts += [str(line) for line in output.get("traceback", [])]
    parts += [str(value) for value in output.get("data", {}).values()]
    return "\n".join(parts)


class JudgeChecks(NbGraderPreprocessor):
    """Decide every test cell in the grader's process (see the module's docstring)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(parent=self)
        source = Path(coursedir.format_path(coursedir.source_directory, ".",
                                            info["assignment"])) / f"{info['notebook']}.ipynb"
        checks, secrets = reference(source)
        for cell in nb.cells:
            if is_test_cell(cell):
                grade_id = nbgrader_meta(cell).get("grade_id")
                if grade_id not in checks:
                    message = "this test cell is not part of the assignment"
                else:
                    message = verdict(cell.outputs, checks[grade_id], secrets)
                cell.outputs = [] if message is None else [failure(message)]
                cell.execution_count = None
            elif cell.cell_type == "code":
                cell.outputs = [
                    new_output("stream", name="stdout",
                               text="[output removed by the grader: it quoted a hidden test]\n")
                    if leaks_in_text(_output_text(output), secrets) else output
                    for output in cell.outputs]
        return nb, resources


class RestoreMetadata(NbGraderPreprocessor):
    """Before nbgrader's OverwriteCells: give every cell whose grade_id the instructor's
    notebook knows the nbgrader metadata it has there (grade, solution, locked, points).

    OverwriteCells restores points and sources but not the flags: a test cell turned into
    an answer cell, or a grade flag removed, would otherwise stop the whole submission
    ("inconsistent checksums") or escape grading. Unknown grade_ids lose their metadata.
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(parent=self)
        source = Path(coursedir.format_path(coursedir.source_directory, ".",
                                            info["assignment"])) / f"{info['notebook']}.ipynb"
        known = {nbgrader_meta(cell)["grade_id"]: cell
                 for cell in nbformat.read(source, as_version=4).cells
                 if nbgrader_meta(cell).get("grade_id")}
        for cell in nb.cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if grade_id is None:
                continue
            if grade_id not in known:
                del cell.metadata["nbgrader"]
                continue
            restored = dict(known[grade_id].metadata["nbgrader"])
            if "checksum" in nbgrader_meta(cell):
                restored["checksum"] = nbgrader_meta(cell)["checksum"]
            cell.metadata["nbgrader"] = restored
            if cell.cell_type != known[grade_id].cell_type:
                cell.cell_type = known[grade_id].cell_type
                cell.source = known[grade_id].source if restored.get("locked") else ""
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
                else:
                    cell.pop("outputs", None)
                    cell.pop("execution_count", None)
        return nb, resources


class ScanFeedback(NbGraderPreprocessor):
    """Last step of generate_feedback: refuse a page that shows a hidden-test or solution
    line of any assignment, or a region marker (the whole notebook's text is scanned,
    sources, outputs and metadata, which is everything the page is made from)."""

    def preprocess(self, nb, resources):
        coursedir = CourseDirectory(parent=self)
        hidden, solution = set(), set()
        for source in sorted((Path(coursedir.root) / coursedir.source_directory).glob(
                "*/*.ipynb")):
            lines = secret_lines(nbformat.read(source, as_version=4))
            hidden |= lines["HIDDEN TESTS"]
            solution |= lines["SOLUTION"]
        leaks = leaks_in_text(json.dumps(nb.metadata), hidden | solution)
        for cell in nb.cells:
            outputs = "\n".join(_output_text(output) for output in cell.get("outputs", []))
            leaks |= leaks_in_text(json.dumps(cell.metadata) + outputs, hidden)
            # A student's answer may well repeat a solution line; the rest of the page not.
            mine = nbgrader_meta(cell).get("solution")
            leaks |= leaks_in_text(cell.source, hidden if mine else hidden | solution)
            if not mine:
                leaks |= leaks_in_text(outputs, solution)
        if leaks:
            student = resources.get("nbgrader", {}).get("student", "a student")
            raise RuntimeError(f"the feedback for {student} would show {len(leaks)} "
                               "hidden-test or solution line(s): it is not written")
        return nb, resources
