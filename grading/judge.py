"""The grader's side of hidden checks: nbgrader preprocessors that run in the grader's process.

A test cell has two parts: the probe (the inputs, the calls of the student's code and
`check(value, message)`) and the reference (`expect=`, `judge=`, `accept=` and the
`hidden_*` helpers only they use). The student's kernel receives only the probe:
`StripReferences` rewrites each test cell with `probe()` right before nbgrader executes
the notebook, and `verify_probes()` (run by `make release`) checks that each probe still
runs against the solution and names no reference. `JudgeChecks` runs right after the
student's notebook is executed and before the grades are saved. For each test cell it

1. runs the instructor's notebook from solutions/ in the grader's own process (once per
   batch), test cells whole, where every `check(...)` collects the solution's value, the
   message and the tolerance or judge (grading.record);
2. reads the records the student's kernel sent from that test cell: display outputs of one
   MIME type, parsed again as plain JSON, taken in order. A record carries a value and
   nothing else, so a forged record is only a claim of a value, judged like a real one;
   a missing, extra or garbled record fails the cell;
3. replaces the cell's outputs with the verdict: nothing (pass) or one error carrying the
   first failed check's message (fail), which nbgrader's SaveAutoGrades then scores.
   Nothing the student's code printed in a test cell survives, nor its error message.
   Each check's outcome (passed, failed, not run) and the diagnosis of a failing one go
   into the gradebook's own tables (grading/diagnoses.py) for the item analysis.

Every other code cell from the first test cell with hidden code on shows a note instead
of its outputs: the kernel had run hidden code by then. Before that, only text and images
are kept, each output and all of them capped. `ScanFeedback` ends `nbgrader
generate_feedback`, a second line of defence: a cell that would still show a hidden-test
or solution line, even encoded, is redacted and the page is written. `irregular_submission`
keeps links, devices, fifos and sockets out of grading altogether.
"""

import ast
import builtins
import contextlib
import io
import json
import math
import numbers
import os
import re
import secrets
import stat
from pathlib import Path

import nbformat
import numpy as np
from IPython.core.inputtransformer2 import TransformerManager
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from . import record, stubs
from .diagnose import explain, known_mistakes
from .leaks import MARKER, leaks_in_decoded, leaks_in_text, secret_lines
from .mistakes import variant_lines

_references = {}  # (path, mtime) -> (checks by grade_id, secret lines): once per batch


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def is_test_cell(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def _run(notebook, folder, name, probes=False, keep_going=False):
    """{grade_id: the checks its test cell collected} for a notebook run cell by cell in one
    fresh namespace in this process, as the validator would, with check() collecting
    instead of sending. probes: the test cells run as the student's kernel runs them.
    keep_going: a cell that raises ends there and the next one runs, as in nbgrader's
    kernel (a catalogued mistake's run: grading/mistakes.py)."""
    namespace = {"__name__": "__reference__"}
    checks = {}
    here = os.getcwd()
    os.chdir(folder)
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
                    code = (probe(cell.source)[0] if probes and is_test_cell(cell)
                            else TransformerManager().transform_cell(cell.source))
                    exec(compile(code, f"<{name}: {grade_id}>", "exec"), namespace)
                except Exception:  # noqa: BLE001 - keep_going: as nbgrader's kernel does
                    if not keep_going:
                        raise
                finally:
                    record.collector = record.namespace = None
                if is_test_cell(cell):
                    checks[grade_id] = collected
    finally:
        os.chdir(here)
    return checks


def reference(source_path):
    """({grade_id: [check, ...]}, secret lines) for an instructor notebook.

    Runs every code cell of the notebook (test cells whole) in this process (_run).
    """
    source_path = Path(source_path).resolve()
    key = (source_path, source_path.stat().st_mtime_ns)
    if key not in _references:
        notebook = nbformat.read(source_path, as_version=4)
        collected = _run(notebook, source_path.parent, source_path.name)
        checks = {grade_id: [_expected(check) for check in found]
                  for grade_id, found in collected.items()}
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
        # the solution's own value and the tolerance: only for the diagnosis of a failing
        # value (its type and shape; the catalogue's comparison), never for the verdict
        return {"judge": check["judge"], "message": check["message"], "solution":
                check["value"], "rtol": check["rtol"], "atol": check["atol"]}
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
                and all(same(g, w, rtol, atol) for g, w in zip(got, want, strict=True)))
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


def _kernel_error(outputs):
    """How the student's code stopped the test cell, if it did: the name of a built-in
    exception, else "an error". The kernel wrote it after hidden code had run in it, so
    nothing else of it is shown (its message could carry the hidden test, encoded)."""
    for output in outputs:
        if output.get("output_type") == "error":
            name = output.get("ename")
            known = isinstance(name, str) and isinstance(
                getattr(builtins, name, None), type) and issubclass(
                getattr(builtins, name), BaseException)
            if name == "RuntimeError" and output.get("evalue") in _library_messages():
                return f"RuntimeError ({output['evalue']})"  # the grader's own words
            return name if known else "an error"
    return None


def _library_messages():
    """What a stub or a switched-off bplib function raises: the grader's own words, so a
    verdict may quote them."""
    from bplib import testing

    return {testing.MESSAGE} | {
        stubs.STUB_MESSAGE.format(name=f"{module.removeprefix('bplib.')}.{name}")
        for module, names in testing.SWITCHABLE.items() for name in names}


def verdict(outputs, checks, secrets=()):
    """None if every check passed, else the message to show."""
    return judged_records(_records(outputs), checks, _kernel_error(outputs))


def judged_records(records, checks, stopped=None):
    """verdict() of the records a test cell sent, in order (stopped: how the cell stopped).

    The message is the instructor's: nothing of the student's kernel is quoted (it ran
    after hidden code), only the name of a built-in exception that stopped the cell."""
    failed = first_failure(records, checks, stopped)
    return None if failed is None else failed["message"]


def first_failure(records, checks, stopped=None):
    """None if every check passed, else {"message", "index": the failed check's number or
    None, "value": the student's value there (only when the check had one to judge),
    "why": "stopped" | "missing" | "not plain data" | "extra" | "value"}."""
    for index, check in enumerate(checks):
        if index >= len(records):
            # what happened, then the check that never ran: the student's code did
            # something else than the check's message says
            reason = (f"the test stopped at {stopped} before this check ran" if stopped
                      else "the test ended before this check ran")
            return {"message": f"{reason}: {check['message']}", "index": index,
                    "why": "stopped" if stopped else "missing"}
        got = records[index]
        if type(got) is not dict or set(got) != {"value"}:
            unsupported = type(got) is dict and "unsupported" in got
            return {"message": f"{check['message']} (the value is not plain data: numbers, "
                               "strings, lists or dicts)" if unsupported else check["message"],
                    "index": index, "why": "not plain data"}
        if "judge" in check:
            if not _judged(check["judge"], got["value"]):
                return {"message": check["message"], "index": index, "why": "value",
                        "value": got["value"]}
        elif not any(same(got["value"], answer, check["rtol"], check["atol"])
                     for answer in check["answers"]):
            return {"message": check["message"], "index": index, "why": "value",
                    "value": got["value"]}
    if len(records) > len(checks):
        return {"message": "the test cell sent more check results than it has checks",
                "index": None, "why": "extra"}
    return None


def outcomes(records, checks):
    """Each check's outcome as the records of its test cell decide it, in order: a list of
    {"index", "message", "outcome": passed | failed | not run, "why": value | not plain
    data (failed only), "value" (failed on a value only)}. A check with no record did not
    run (the cell stopped or ended before it); extra records decide no check."""
    found = []
    for index, check in enumerate(checks):
        entry = {"index": index, "message": check["message"], "outcome": "not run"}
        if index < len(records):
            got = records[index]
            if type(got) is not dict or set(got) != {"value"}:
                entry.update(outcome="failed", why="not plain data")
            elif judged_records([got], [check]) is None:
                entry["outcome"] = "passed"
            else:
                entry.update(outcome="failed", why="value", value=got["value"])
        found.append(entry)
    return found


def failure(message):
    return new_output("error", ename="CheckFailed", evalue=message,
                      traceback=[f"CheckFailed: {message}"])


def _output_text(output):
    parts = [str(output.get(key, "")) for key in ("text", "ename", "evalue")]
    parts += [str(line) for line in output.get("traceback", [])]
    parts += [str(value) for value in output.get("data", {}).values()]
    return "\n".join(parts)


# What of a cell's outputs may reach a page (feedback, formgrader): text and images.
# text/html, JavaScript, SVG (which can hold a script), widgets and markdown never do.
SHOWN_MIME = ("text/plain", "image/png", "image/jpeg")
# Caps: one output (as JSON) and all outputs of a graded notebook together.
MAX_OUTPUT_CHARS = 100_000
MAX_NOTEBOOK_OUTPUT_CHARS = 2_000_000
AFTER_HIDDEN = ("[output not shown in feedback: this cell ran after the hidden tests "
                "entered the kernel; run your notebook to see it]\n")


RESTORED = ("[grading ran this cell as it was released: your notebook had changed it, and "
            "only the cells you are asked to write in are kept]\n")


def _note(text):
    return new_output("stream", name="stdout", text=text)


def restored_cells(notebook, submitted):
    """grade_ids of the code cells nbgrader put back as released (OverwriteCells): locked
    cells, neither the student's nor test cells, whose source in the submitted notebook (a
    path) differs. A
    submission that cannot be read has none (it was graded as nbgrader read it)."""
    try:
        handed_in = nbformat.read(submitted, as_version=4)
        sources = {nbgrader_meta(cell).get("grade_id"): cell.source for cell in handed_in.cells
                   if isinstance(nbgrader_meta(cell), dict)}
    except Exception:  # noqa: BLE001 - any malformed file: nothing to compare with
        return set()
    return {nbgrader_meta(cell).get("grade_id") for cell in notebook.cells
            if cell.cell_type == "code" and nbgrader_meta(cell).get("locked")
            and not nbgrader_meta(cell).get("solution")
            and not nbgrader_meta(cell).get("grade")  # a test cell gets its hidden part back
            and nbgrader_meta(cell).get("grade_id") in sources
            and sources[nbgrader_meta(cell).get("grade_id")] != cell.source}


def shown_output(output):
    """The output as a page may show it: only SHOWN_MIME data, within MAX_OUTPUT_CHARS."""
    kind = output.get("output_type")
    if kind in ("display_data", "execute_result"):
        data = {mime: value for mime, value in output.get("data", {}).items()
                if mime in SHOWN_MIME}
        if not data:
            return _note("[output not shown: only text and images are]\n")
        output = new_output(kind, data=data, **(
            {"execution_count": output.get("execution_count")} if kind == "execute_result"
            else {}))
    elif kind not in ("stream", "error"):
        return _note("[output not shown: only text and images are]\n")
    if len(json.dumps(output)) > MAX_OUTPUT_CHARS:
        return _note(f"[output not shown: larger than {MAX_OUTPUT_CHARS} characters]\n")
    return output


def defuse_students_cell(cell):
    """A cell of the student's as a page may show it without running anything: no raw
    HTML in markdown (every "<" escaped; nbgrader's feedback and formgrader templates do
    not sanitise markdown themselves), no script: links, no raw cell passed to the page
    verbatim, no tags put into the page's class attributes."""
    if cell.cell_type == "markdown":
        cell.source = re.sub(r"(?i)(java|vb)script\s*:", "blocked:",
                             cell.source.replace("<", "&lt;"))
    elif cell.cell_type == "raw":
        for key in ("format", "raw_mimetype"):
            cell.metadata.pop(key, None)
    cell.metadata.pop("tags", None)


def has_hidden_tests(source):
    return any(marker.group(1) == "BEGIN" and marker.group(2) == "HIDDEN TESTS"
               for marker in re.finditer(MARKER, source))


class StripReferences(NbGraderPreprocessor):
    """Right before the student's notebook is executed: each test cell's source becomes its
    probe (probe() above), so the kernel never receives a reference; and right after the
    test cell of the last task a bplib function would do, a cell of the grader's own gives
    the kernel that function (bplib.testing.GIVEN_AFTER; gift_cell() below). Its source is
    sent only once that test cell has run, so no hook of the student's sees it while the
    task is tested; the kernel runs it whether the test cell passed or raised. JudgeChecks
    takes those cells out and puts the test cells' whole sources back once the kernel is
    done."""

    def preprocess(self, nb, resources):
        from bplib import testing

        assignment = resources.get("nbgrader", {}).get("assignment")
        token = secrets.token_hex(16)
        originals, cells = {}, []
        for index, cell in enumerate(nb.cells):
            cells.append(cell)
            if not is_test_cell(cell):
                continue
            originals[index] = cell.source
            try:
                cell.source = probe(cell.source)[0]
            except SyntaxError:  # never an instructor's cell (make release checks)
                cell.source = "raise SyntaxError('this test cell could not be prepared')\n"
            gifts = testing.given_after(assignment, nbgrader_meta(cell).get("grade_id"))
            if gifts:
                cells.append(gift_cell(gifts, token))
        nb.cells = cells
        resources["bp_test_sources"] = originals
        resources["bp_gift_token"] = token
        return nb, resources


def gift_cell(gifts, token):
    """A code cell that gives the kernel bplib's own version of each (module, name) of
    gifts (bplib.testing.give), marked with token for JudgeChecks to take it out."""
    source = "".join(
        f"__import__('bplib.testing', fromlist=['give']).give({module!r}, {name!r}, "
        f"{stubs.given_source(module, name)!r})\n" for module, name in gifts)
    cell = new_code_cell(source)
    cell.metadata["bp_gift"] = token
    return cell


class JudgeChecks(NbGraderPreprocessor):
    """Decide every test cell in the grader's process (see the module's docstring), and
    keep of the kernel's outputs only what may reach a student:

    - a test cell shows the grader's verdict only;
    - every other code cell from the first test cell with hidden code on shows a note: it
      ran in a kernel where hidden code had run, so whatever it printed may carry it;
    - before that, only text and images, each output capped, all of them capped.
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(parent=self)
        source = Path(coursedir.format_path(coursedir.source_directory, ".",
                                            info["assignment"])) / f"{info['notebook']}.ipynb"
        checks, secrets = reference(source)
        submitted = Path(coursedir.format_path(coursedir.submitted_directory,
                                               info.get("student", "."), info["assignment"])
                         ) / f"{info['notebook']}.ipynb"
        token = resources.pop("bp_gift_token", None)
        nb.cells = [cell for cell in nb.cells
                    if token is None or cell.metadata.get("bp_gift") != token]
        for index, original in resources.pop("bp_test_sources", {}).items():
            nb.cells[index].source = original
        hidden_ran = False
        total = 0
        diagnosed, judged = [], []
        for cell in nb.cells:
            if cell.cell_type != "code" and students_own(cell):
                defuse_students_cell(cell)
            if is_test_cell(cell):
                grade_id = nbgrader_meta(cell).get("grade_id")
                if grade_id not in checks:
                    message = "this test cell is not part of the assignment"
                else:
                    records = _records(cell.outputs)
                    failed = first_failure(records, checks[grade_id],
                                           _kernel_error(cell.outputs))
                    judged += [{"grade_id": grade_id, "check_index": entry["index"],
                                "message": entry["message"], "outcome": entry["outcome"]}
                               for entry in outcomes(records, checks[grade_id])]
                    message = None
                    if failed is not None:  # only a failing check costs a diagnosis
                        message, rows = _diagnosed(source, grade_id, failed, checks[grade_id],
                                                   records, coursedir.root)
                        diagnosed += rows
                cell.outputs = [] if message is None else [failure(message)]
                cell.execution_count = None
                hidden_ran = hidden_ran or has_hidden_tests(cell.source)
            elif cell.cell_type == "code":
                if hidden_ran:
                    cell.outputs = [_note(AFTER_HIDDEN)] if cell.outputs else []
                    cell.execution_count = None
                    continue
                cell.outputs = [
                    _note("[output removed by the grader: it quoted a hidden test]\n")
                    if leaks_in_text(_output_text(output), secrets) else shown_output(output)
                    for output in cell.outputs]
                total += sum(len(json.dumps(output)) for output in cell.outputs)
        if total > MAX_NOTEBOOK_OUTPUT_CHARS:
            for cell in nb.cells:
                if cell.cell_type == "code" and not is_test_cell(cell) and cell.outputs:
                    cell.outputs = [_note(f"[outputs not shown: the notebook's outputs are "
                                          f"larger than {MAX_NOTEBOOK_OUTPUT_CHARS} "
                                          "characters]\n")]
        # a cell the student changed but may not (nbgrader graded it as released): say so
        restored = restored_cells(nb, submitted)
        for cell in nb.cells:
            if cell.cell_type == "code" and nbgrader_meta(cell).get("grade_id") in restored:
                cell.outputs = [_note(RESTORED), *cell.outputs]
        _store_diagnoses(info, diagnosed, judged, self.log)
        return nb, resources


MAX_FINDINGS = 3  # what one failing test cell's verdict says at most


def _diagnosed(source, grade_id, failed, checks, records, course):
    """(the verdict of a failing test cell, its diagnosis rows): every failing check that
    sent a value (or a record that is not plain data) is diagnosed, the first failed one
    first (a check that never ran gets nothing, unless it is the first failure, whose
    reason is the row's).

    The verdict is the first failed check's message and its diagnosis. A check's message
    is written as the likely cause when that check is the first to fail, so the later
    failing checks' messages are never shown: only what their values prove, each said
    once in the cell, "Elsewhere in this test": a catalogued mistake the verdict has not
    named yet, a structural finding not said yet. At most MAX_FINDINGS findings in all,
    then how many more checks failed."""
    found = explain(source, grade_id, failed, checks[failed["index"]]
                    if failed["index"] is not None else {}, course=course, records=records)
    rows = [{"grade_id": grade_id, "check_index": failed["index"], **found}]
    findings = [found["text"]] if found["text"] else []
    named = {mistake.id for mistake in found["mistakes"]}
    said = {found["finding"]} - {""}
    later_failed = 0
    for entry in outcomes(records, checks):
        if entry["outcome"] != "failed" or failed["index"] is None \
                or entry["index"] <= failed["index"]:
            continue
        later_failed += 1
        later = explain(source, grade_id, entry, checks[entry["index"]], course=course,
                        records=records)
        rows.append({"grade_id": grade_id, "check_index": entry["index"], **later})
        new = [mistake for mistake in later["mistakes"] if mistake.id not in named]
        if new:
            named |= {mistake.id for mistake in new}
            text = known_mistakes(new, course)
            findings.append("Elsewhere in this test, " + text[0].lower() + text[1:])
        elif later["finding"] and later["finding"] not in said:
            said.add(later["finding"])
            findings.append(f"Elsewhere in this test, {later['finding']}.")
    lines = findings[:MAX_FINDINGS]
    if later_failed:
        left = len(findings) - len(lines)
        lines.append(f"In all, {later_failed} more check{'s' * (later_failed > 1)} of this "
                     "test failed" + (f"; {left} more finding{'s' * (left > 1)} about their "
                                      "values not listed here" if left else "") + ".")
    verdict = failed["message"] + ("\n\n" + "\n".join(lines) if lines else "")
    return verdict, rows


def _store_diagnoses(info, diagnosed, judged, log):
    """The failing checks' diagnoses and every check's outcome into the gradebook
    (grading/diagnoses.py), replacing that notebook's earlier ones. Without a gradebook
    URL (a notebook judged outside nbgrader's converters) there is nothing to store."""
    url = info.get("db_url")
    if not url or "student" not in info:
        return
    from .diagnoses import store

    store(url, info["assignment"], info["student"], info["notebook"], diagnosed, judged)
    if diagnosed:
        log.info("diagnoses of %s: %s", info["student"], ", ".join(
            f"{row['grade_id']}: {row['kind']} {row['what']}" for row in diagnosed))


class RestoreMetadata(NbGraderPreprocessor):
    """First of the sanitizing steps: give every cell whose grade_id the instructor's
    notebook knows the nbgrader metadata it has there (grade, solution, locked, points).

    OverwriteCells restores points and sources but not the flags: a test cell turned into
    an answer cell, or a grade flag removed, would otherwise stop the whole submission
    ("inconsistent checksums") or escape grading. A graded cell that is not the
    instructor's (an unknown grade_id, none at all, or a second cell with a grade_id already
    seen) loses its nbgrader metadata: it is graded as nothing, an ordinary cell, instead
    of stopping the whole submission in nbgrader (KeyError: 'grade_id').
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(parent=self)
        source = Path(coursedir.format_path(coursedir.source_directory, ".",
                                            info["assignment"])) / f"{info['notebook']}.ipynb"
        known = {nbgrader_meta(cell)["grade_id"]: cell
                 for cell in nbformat.read(source, as_version=4).cells
                 if nbgrader_meta(cell).get("grade_id")}
        seen = set()
        for cell in nb.cells:
            if "nbgrader" not in cell.metadata:
                continue
            grade_id = nbgrader_meta(cell).get("grade_id")
            if grade_id not in known or grade_id in seen:
                del cell.metadata["nbgrader"]
                continue
            seen.add(grade_id)
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


def students_own(cell):
    """Whether the cell's source is the student's: an answer cell, or a cell the student
    added (RestoreMetadata removed any nbgrader metadata the instructor's notebook does not
    have). Every other cell was restored from the instructor's notebook."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) or not meta.get("grade_id")


class ClearInstructorsHiddenTests(ClearHiddenTests):
    """nbgrader's ClearHiddenTests for the instructor's cells only: a student's comment
    that mentions a hidden-tests marker is the student's text (nbgrader's own would cut
    the student's code after it, or fail the page)."""

    def preprocess_cell(self, cell, resources, index):
        if students_own(cell):
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


SUMMARY_ID = "bp-feedback-summary"


def _markdown_text(text):
    """The grader's text as markdown that shows it as written: no HTML, no emphasis."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]#|])", r"\\\1", text)


class FeedbackSummary(NbGraderPreprocessor):
    """In generate_feedback, after GetGrades and before ScanFeedback: a first cell that says,
    for each task (test cell), its points, the verdict, what the grader found in a failing
    value (a catalogued mistake or what the values show) and where to reread, with a link
    when the book's address is known. It is made of the test cells' verdicts only (the
    grader's own text), and carries nbgrader metadata, so ScanFeedback scans it as an
    instructor's cell."""

    def preprocess(self, nb, resources):
        lines, title = [], None
        for cell in nb.cells:
            if cell.cell_type == "markdown" and not students_own(cell):
                # the nearest heading above the test cell, of any level ("5a. ...")
                headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", cell.source, re.M)
                title = headings[-1] if headings else title
            if not is_test_cell(cell):
                continue
            meta = nbgrader_meta(cell)
            score, points = meta.get("score"), meta.get("points")
            earned = (f"{score:g} / {points:g} points" if isinstance(score, numbers.Real)
                      and isinstance(points, numbers.Real) else f"{points or 0:g} points")
            errors = [output for output in cell.get("outputs", [])
                      if output.get("output_type") == "error"]
            name = f"{_markdown_text(title)} (`{meta.get('grade_id')}`)" if title \
                else f"`{meta.get('grade_id')}`"
            if not errors:
                lines.append(f"- **{name}**: {earned}, passed.")
                continue
            message, _, found = str(errors[0].get("evalue", "")).partition("\n\n")
            entry = f"- **{name}**: {earned}, failed: {_markdown_text(message)}"
            for line in found.splitlines():
                link = re.match(r"^(.*Reread: )(.+?) \((https?://[^\s()]+)\)\.$", line)
                if link:
                    shown = (f"{_markdown_text(link.group(1))}[{_markdown_text(link.group(2))}]"
                             f"(<{link.group(3)}>).")
                else:
                    shown = _markdown_text(line)
                entry += f"  \n  {shown}"
            lines.append(entry)
        if lines:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                "## Your results, task by task\n\n" + "\n".join(lines) + "\n",
                metadata={"nbgrader": {"grade_id": SUMMARY_ID, "grade": False,
                                       "solution": False, "locked": True,
                                       "schema_version": 3}}))
        return nb, resources


REDACTED_SOURCE = "[this cell is not shown: it would show a hidden test or a solution]"
REDACTED_OUTPUT = "[output not shown: it would show a hidden test or a solution]\n"


class ScanFeedback(NbGraderPreprocessor):
    """Last step of generate_feedback, a second line of defence: a cell that would still
    show a hidden-test or solution line of any assignment, or a line of the catalogue of
    mistakes' variants (mistakes/), is redacted, never the page.

    Scanned on decoded text (leaks.decoded: HTML removed, base64 and hex blobs decoded):
    the outputs of every cell, and the sources and metadata of the instructor's cells.
    The student's own cells (students_own) are theirs: an answer that equals the
    solution's code is no leak, and a marker in their comment is not a marker. A solution
    line in an output counts only if the student's own cells do not hold it.
    """

    def preprocess(self, nb, resources):
        coursedir = CourseDirectory(parent=self)
        hidden, solution = set(), set()
        for source in sorted((Path(coursedir.root) / coursedir.source_directory).glob(
                "*/*.ipynb")):
            lines = secret_lines(nbformat.read(source, as_version=4))
            hidden |= lines["HIDDEN TESTS"]
            solution |= lines["SOLUTION"]
        solution |= variant_lines(coursedir.root)  # the catalogue of mistakes' code
        own = "\n".join(cell.source for cell in nb.cells if students_own(cell))
        in_outputs = hidden | {line for line in solution if line not in own}
        student = resources.get("nbgrader", {}).get("student", "a student")
        for key in list(nb.metadata):
            if key not in ("kernelspec", "language_info", "nbgrader") and leaks_in_decoded(
                    json.dumps(nb.metadata[key]), hidden | solution):
                del nb.metadata[key]
        for index, cell in enumerate(nb.cells):
            if students_own(cell):
                defuse_students_cell(cell)
            outputs = "\n".join(_output_text(output) for output in cell.get("outputs", []))
            found = leaks_in_decoded(outputs, in_outputs, markers=False)
            found |= {marker for marker in leaks_in_decoded(outputs, set())
                      if marker not in own}
            if found:
                cell.outputs = [_note(REDACTED_OUTPUT)]
                self.log.warning("feedback for %s: outputs of cell %d redacted (%d secret "
                                 "line(s))", student, index, len(found))
            if not students_own(cell) and leaks_in_decoded(
                    cell.source + json.dumps(cell.metadata), hidden | solution):
                cell.source = REDACTED_SOURCE
                cell.metadata = {key: value for key, value in cell.metadata.items()
                                 if key == "nbgrader"}
                self.log.warning("feedback for %s: source of cell %d redacted", student,
                                 index)
        return nb, resources


# What a feedback page would load from another site: a script (nbconvert's templates load
# MathJax from a CDN), a stylesheet, a font, an image (a student's Markdown image), a frame.
_OUTSIDE = r"""\s*["']?\s*(?:https?:)?//"""
_OUTSIDE_SCRIPT = re.compile(rf"<script\b[^>]*\bsrc\s*={_OUTSIDE}[^>]*>.*?</script\s*>",
                             re.I | re.S)
_MATHJAX_CONFIG = re.compile(r"<script\b[^>]*text/x-mathjax-config[^>]*>.*?</script\s*>",
                             re.I | re.S)
_OUTSIDE_TAG = re.compile(rf"<(?:script|link|img|image|iframe|frame|source|track|video|audio|"
                          rf"embed|object|input|use)\b[^>]*?\b(?:src|href|xlink:href|srcset|"
                          rf"data|poster|background)\s*={_OUTSIDE}[^>]*>", re.I)
_OUTSIDE_IMPORT = re.compile(rf"@import\s+(?:url\(){_OUTSIDE}[^;]*;", re.I)
_OUTSIDE_URL = re.compile(rf"url\({_OUTSIDE}[^)]*\)", re.I)


def offline(page):
    """An HTML page that requests nothing from another site: the scripts, stylesheets,
    images, frames and CSS fonts or images it would load from an http(s) or
    protocol-relative address are removed (MathJax's configuration with MathJax)."""
    page = _OUTSIDE_SCRIPT.sub("", page)
    page = _MATHJAX_CONFIG.sub("", page)
    page = _OUTSIDE_TAG.sub("", page)
    page = _OUTSIDE_IMPORT.sub("", page)
    return _OUTSIDE_URL.sub("none", page)


class FeedbackExporter(HTMLExporter):
    """nbgrader generate_feedback's exporter (nbgrader_config.py): HTMLExporter, whose page
    is made offline() so that a student opening their feedback contacts no one. Math then
    shows as its TeX source: MathJax was the CDN's."""

    def from_notebook_node(self, nb, resources=None, **kw):
        page, resources = super().from_notebook_node(nb, resources, **kw)
        return offline(page), resources


# --- Probes: what of a test cell the student's kernel runs --------------------------------
#
# A test cell computes the student's values (the probe) and the expected ones (the
# reference: expect=, judge=, accept= and the hidden_* helpers only they use). The grader
# runs the whole cell against the solutions in its own process (reference() above); the
# student's kernel runs only the probe: every keyword argument of every check() call is cut
# out, then every definition, assignment or import whose name nothing left reads any more,
# and every argument passed to a parameter of a cell's own function that the function no
# longer reads (a helper that took an expected-value function), until nothing changes.
# `make release` runs verify_probes(): each probe, run against the solution, must send
# values the reference accepts, and no name the cut removed may be left in it.

_STRIPPED = object()


def _loaded_names(tree):
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store)}


def _is_check(call):
    function = call.func
    return (isinstance(function, ast.Name) and function.id == "check") or (
        isinstance(function, ast.Attribute) and function.attr == "check")


def _bound_names(statement):
    """The names a definition, a plain assignment or an import binds (None: other kinds
    of statement, never removed)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = []
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    names.append(node.id)
                elif not isinstance(node, (ast.Tuple, ast.List, ast.Store, ast.Starred)):
                    return None  # x.attr = ..., x[i] = ...: an effect, kept
        return names
    return None


class _Cut(ast.NodeTransformer):
    """One pass: remove the statements and arguments that only the reference needs."""

    def __init__(self, dead, dead_parameters):
        self.dead, self.dead_parameters, self.changed = dead, dead_parameters, False

    def visit_Call(self, node):
        self.generic_visit(node)
        if _is_check(node) and node.keywords:
            node.keywords, self.changed = [], True
        name = node.func.id if isinstance(node.func, ast.Name) else None
        for index, parameter in self.dead_parameters.get(name, ()):
            if index is not None and index < len(node.args) and not (
                    isinstance(node.args[index], ast.Constant)
                    and node.args[index].value is None):
                if not isinstance(node.args[index], ast.Starred):
                    node.args[index], self.changed = ast.Constant(None), True
            for keyword in node.keywords:
                if keyword.arg == parameter and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is None):
                    keyword.value, self.changed = ast.Constant(None), True
        return node

    def _body(self, statements):
        kept = []
        for statement in statements:
            names = _bound_names(statement)
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                aliases = [alias for alias in statement.names
                           if (alias.asname or alias.name.split(".")[0]) not in self.dead]
                if len(aliases) != len(statement.names):
                    self.changed = True
                    if not aliases:
                        continue
                    statement.names = aliases
            elif names and all(name in self.dead for name in names):
                self.changed = True
                continue
            kept.append(self.visit(statement))
        return kept or [ast.Pass()]

    def generic_visit(self, node):
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0],
                                                                         ast.stmt):
                setattr(node, field, self._body(statements))
        for handler in getattr(node, "handlers", []) or []:
            handler.body = self._body(handler.body)
        for field, value in ast.iter_fields(node):
            if field in ("body", "orelse", "finalbody", "handlers"):
                continue
            if isinstance(value, list):
                value[:] = [self.visit(item) if isinstance(item, ast.AST) else item
                            for item in value]
            elif isinstance(value, ast.AST):
                setattr(node, field, self.visit(value))
        return node


def _parameters(function):
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    found = [(index, argument.arg) for index, argument in enumerate(positional)]
    found += [(None, argument.arg) for argument in arguments.kwonlyargs]
    return found


def probe(source):
    """(the probe of a test cell's source, the names cut out of it): see above."""
    code = TransformerManager().transform_cell(source)
    tree = ast.parse(code)
    first_loads = _loaded_names(tree)
    first_bodies = {}  # what each of the cell's functions read before the cut
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first_bodies.setdefault(function.name, set()).update(
                _loaded_names(ast.Module(body=function.body, type_ignores=[])))
    removed = set()
    while True:
        # Keywords of check() first, so that what only they read is seen as unread.
        cutter = _Cut(set(), {})
        tree = cutter.visit(tree)
        loads = _loaded_names(tree)
        dead = {name for statement in ast.walk(tree)
                for name in (_bound_names(statement) or []) if name not in loads}
        dead |= {(alias.asname or alias.name.split(".")[0])
                 for statement in ast.walk(tree)
                 if isinstance(statement, (ast.Import, ast.ImportFrom))
                 for alias in statement.names} - loads
        # Only what the test read before the cut: a name nothing ever read (an assignment
        # the student's code may look up, say) is left alone.
        dead &= first_loads
        dead_parameters = {}
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inside = _loaded_names(ast.Module(body=function.body, type_ignores=[]))
                before = first_bodies.get(function.name, set())
                unused = [(index, name) for index, name in _parameters(function)
                          if name not in inside and name in before]
                if unused:
                    dead_parameters[function.name] = unused
        cutter = _Cut(dead, dead_parameters)
        tree = cutter.visit(tree)
        removed |= dead
        if not cutter.changed:
            break
    return ast.unparse(tree) + "\n", removed - _loaded_names(tree)


REFERENCE_KEYWORDS = ("expect", "judge", "accept")
# Values a student's code can return without computing anything.
CONSTANTS = (0, 0.0, 1, 1.0, -1.0, 0.5, True, False, None, "", [], {})


def verify_probes(source_path):
    """The problems of an instructor notebook's probes ([] when there are none), for
    `make release`: each test cell's probe (what the student's kernel runs) must still run
    against the solution and send values its reference accepts, and nothing the cut
    removed (a reference name, a check()'s keyword argument) may be left in it."""
    source_path = Path(source_path).resolve()
    checks, _ = reference(source_path)
    notebook = nbformat.read(source_path, as_version=4)
    problems = []
    for cell in notebook.cells:
        if not is_test_cell(cell):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        try:
            text, removed = probe(cell.source)
        except SyntaxError as error:
            problems.append(f"{grade_id}: the test cell is not Python: {error}")
            continue
        tree = ast.parse(text)
        if any(isinstance(node, ast.Call) and _is_check(node) and node.keywords
               for node in ast.walk(tree)):
            problems.append(f"{grade_id}: a check() in the probe still has keyword arguments")
        words = _loaded_names(tree) | {
            name for node in ast.walk(tree) for name in (_bound_names(node) or [])}
        words |= {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
        words |= {word for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  for word in re.findall(r"[A-Za-z_]\w*", node.value)}
        if removed & words:
            problems.append(f"{grade_id}: the probe still names what only the reference "
                            f"uses: {', '.join(sorted(removed & words))}")
    try:
        sent = _run(notebook, source_path.parent, source_path.name, probes=True)
    except Exception as error:  # noqa: BLE001 - reported, with its cause
        return problems + [f"the probes do not run against the solution: "
                           f"{type(error).__name__}: {error}"]
    for grade_id, cell_checks in checks.items():
        records = [{"value": check["value"]} for check in sent.get(grade_id, [])]
        message = judged_records(records, cell_checks)
        if message is not None:
            problems.append(f"{grade_id}: its probe, run against the solution, fails: "
                            f"{message}")
    return problems


def constant_passable(source_path):
    """The test cells with a judge= check in which every check passes some constant
    (CONSTANTS): a student who returns constants (per check) would earn their points.
    Such a cell needs a check that only a computed value passes (an expect= on another
    input, say)."""
    checks, _ = reference(source_path)
    weak = []
    for grade_id, cell_checks in checks.items():
        if any("judge" in check for check in cell_checks) and all(
                any(judged_records([{"value": value}], [check]) is None
                    for value in CONSTANTS) for check in cell_checks):
            weak.append(grade_id)
    return weak


# --- A submission is plain files only -------------------------------------------------------

MAX_SUBMISSION_BYTES = 50 * 1024 * 1024  # all files of one student's assignment together
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


class IrregularSubmission(Exception):
    """A submission that is not graded: its reason is the message."""


def irregular_submission(folder, top=None):
    """Why the submission folder must not be graded (None: it may). Checked with lstat,
    never following a link: the folder and every folder from `top` (the course's
    submitted/) down to it must be real folders, and everything inside plain files and
    folders, under the size limits."""
    folder = Path(os.path.abspath(folder))
    chain = [folder]
    if top is not None:
        top = Path(os.path.abspath(top))
        chain = [parent for parent in folder.parents if parent == top or top in parent.parents]
        chain = [*reversed(chain), folder]
    for path in chain:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return f"{path} does not exist"
        if not stat.S_ISDIR(mode):
            return f"{path} is not a plain folder ({_kind(mode)})"
    total = 0
    for parent, folders, files in os.walk(folder, followlinks=False):
        for name in folders + files:
            path = os.path.join(parent, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                return f"{os.path.relpath(path, folder)} is a {_kind(mode)}, not a plain file"
            size = os.lstat(path).st_size
            total += size
            if name.endswith(".ipynb") and size > MAX_NOTEBOOK_BYTES:
                return (f"{os.path.relpath(path, folder)} is larger than "
                        f"{MAX_NOTEBOOK_BYTES // 2**20} MB")
    if total > MAX_SUBMISSION_BYTES:
        return f"the files are larger than {MAX_SUBMISSION_BYTES // 2**20} MB together"
    return None


def _kind(mode):
    for test, name in ((stat.S_ISLNK, "symbolic link"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISREG, "file")):
        if test(mode):
            return name
    return "special file"


def refuse_irregular_submissions(autograde_class):
    """Make autograde_class (nbgrader's Autograde) check every submission with
    irregular_submission() before it copies or reads anything of it: an irregular one is
    not graded, with the reason in the log (nbgrader reports it and grades the others).
    nbgrader_config.py calls this, so it holds however autograde is started."""
    if getattr(autograde_class.init_destination, "_bp_checked", False):
        return

    original = autograde_class.init_destination

    def init_destination(self, assignment_id, student_id):
        if self._sanitizing:
            folder = self._format_source(assignment_id, student_id)
            top = self.coursedir.format_path(self.coursedir.submitted_directory, ".", ".")
            reason = irregular_submission(folder, top)
            if reason:
                message = (f"submission of {student_id} for {assignment_id} NOT GRADED: "
                           f"{reason}")
                self.log.error(message)
                raise IrregularSubmission(message)
        return original(self, assignment_id, student_id)

    init_destination._bp_checked = True
    autograde_class.init_destination = init_destination
