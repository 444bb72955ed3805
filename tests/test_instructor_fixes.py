"""Small unit tests of what an outsider instructor tripped over following instructors.md:
a Mac's or Blackboard's extra files in the LMS zip, the feedback's wording when a visible
assert stopped a test cell, ..."""

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO))
from grading import cli, judge, sandbox  # noqa: E402
from grading.collect import collect  # noqa: E402

ASSIGNMENT = "01-telephone"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def test_mac_and_blackboard_extras_are_ignored_not_students(tmp_path, monkeypatch):
    (tmp_path / "exercises" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "exercises" / ASSIGNMENT / NOTEBOOK).write_text("{}")
    attempt = "HW1_j.doe_attempt_2026-11-01-10-00-00"
    extras = [f"__MACOSX/._jane_doe_{NOTEBOOK}", f"__MACOSX/week3/._bob_{NOTEBOOK}",
              f"week3/._carl_{NOTEBOOK}", ".DS_Store", "week3/.DS_Store", "Thumbs.db",
              f"{attempt}.txt"]
    with zipfile.ZipFile(tmp_path / "lms.zip", "w") as archive:
        for name in [f"jane_doe_{NOTEBOOK}", f"{attempt}_{NOTEBOOK}"] + extras:
            archive.writestr(name, "{}")
    out = io.StringIO()
    chosen, _, refused = collect(tmp_path, ASSIGNMENT, tmp_path / "lms.zip", out=out)
    assert sorted(student for student, _ in chosen) == ["j.doe", "jane_doe"]
    assert refused == []
    text = out.getvalue()
    for name in extras:
        assert f"ignored (not a submission): {name}: " in text, text
    assert f"; {len(extras)} ignored (not a submission)" in text, text
    assert "NOT COLLECTED" not in text
    # the command's exit status: 0, as the Blackboard download itself was fine
    monkeypatch.setattr(cli, "COURSE", tmp_path)
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "lms.zip")]) == 2  # no solutions/
    (tmp_path / "solutions" / ASSIGNMENT).mkdir(parents=True)
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "lms.zip")]) == 0
    # a real file not collected still fails it
    with zipfile.ZipFile(tmp_path / "lms.zip", "a") as archive:
        archive.writestr("notes.txt", "hello")
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "lms.zip")]) == 1


def test_a_check_that_never_ran_is_named_as_such():
    checks = [{"message": "f should return a list", "answers": [[1]], "rtol": 0, "atol": 0},
              {"message": "f should be called exactly twice per input", "answers": [2],
               "rtol": 0, "atol": 0}]
    said = judge.judged_records([{"value": [1]}], checks, "AssertionError")
    assert said == ("the test stopped at AssertionError before this check ran: "
                    "f should be called exactly twice per input")
    assert judge.judged_records([{"value": [1]}], checks) == (
        "the test ended before this check ran: f should be called exactly twice per input")
    assert judge.judged_records([{"value": [1]}, {"value": 2}], checks) is None


def test_student_env_refuses_a_python_older_than_the_course_s(tmp_path):
    from grading import exchange

    old = tmp_path / "python3.11"
    old.write_text('#!/bin/sh\ncase "$*" in *version_info*) echo 3 11 2;; '
                   f'*) exec {sys.executable} "$@";; esac\n')
    old.chmod(0o755)
    with pytest.raises(SystemExit) as refused:
        exchange.check_version(old, needed=(3, 11, 5))
    message = str(refused.value)
    for part in (str(old), "is Python 3.11.2", "Python 3.11.5", "PYTHON_FOR_STUDENTS="):
        assert part in message, message
    assert exchange.check_version(old, needed=(3, 11, 2)) == (3, 11, 2)
    # the course's own Python passes against itself (what make_student_env checks)
    assert exchange.check_version(sys.executable) == tuple(sys.version_info[:3])
    # make_student_env refuses before building anything
    with pytest.raises(SystemExit) as refused:
        exchange.make_student_env(tmp_path / "env", python=str(old), course=REPO)
    assert "is Python 3.11.2" in str(refused.value) or "could not run" in str(refused.value)
    assert not (tmp_path / "env").exists()


def test_a_kernel_that_could_not_start_is_the_grader_s_failure(tmp_path):
    from grading import batch

    dead = {"status": "not graded",
            "reason": "RuntimeError: Kernel died before replying to kernel_info"}
    assert batch.kernel_did_not_start(dead)
    assert batch.kernel_did_not_start({"status": "not graded", "reason": "x",
                                       "kernel_did_not_start": True})
    # a kernel the student's code killed is the student's: not retried while unchanged
    assert not batch.kernel_did_not_start({"status": "not graded",
                                           "reason": "DeadKernelError: Kernel died"})
    assert not batch.kernel_did_not_start({"status": "graded", "reason": None})
    log = tmp_path / "grade.log"
    log.write_text("earlier student's lines\n")
    offset = log.stat().st_size
    with open(log, "a") as out:
        out.write("[AutogradeApp | INFO] Converting notebook\n"
                  "prlimit: failed to execute /c/.venv/bin/python: No such file or directory\n"
                  "Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                  "RuntimeError: Kernel died before replying to kernel_info\n"
                  "[ERROR] Traceback (most recent call last):\n"
                  "    RuntimeError: Kernel died before replying to kernel_info\n"
                  "nbgrader.converters.base.NbGraderException: Please see the above\n"
                  "[AutogradeApp | ERROR] There was an error processing\n")
    assert batch.kernel_messages(log, offset) == [
        "prlimit: failed to execute /c/.venv/bin/python: No such file or directory"]


@pytest.mark.slow
@pytest.mark.skipif(sandbox.unavailable_reason() is not None,
                    reason=f"the grading sandbox: {sandbox.unavailable_reason()}")
def test_the_sandbox_check_starts_a_real_kernel(tmp_path):
    """`python grading/sandbox.py` (the guide's check) runs one line in a sandboxed kernel:
    with the course's .venv reached through a symlink (which the sandbox cannot run) it
    fails, with the kernel's own message."""
    good = subprocess.run([sys.executable, "grading/sandbox.py"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert good.returncode == 0 and "started and ran one line" in good.stdout, good.stderr
    link = tmp_path / "venv"
    link.symlink_to(os.path.realpath(Path(sys.executable).parent.parent))
    bad = subprocess.run([str(link / "bin" / "python"), "grading/sandbox.py"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "could not run one line" in bad.stderr and "prlimit: failed to execute" in \
        bad.stderr, bad.stderr


def test_withdraw_removes_a_student_everywhere(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook
    from sqlalchemy import insert, select

    from grading import diagnoses, export, state, withdraw

    url = f"sqlite:///{tmp_path}/gradebook.db"
    # nbgrader runs alembic by name
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    with Gradebook(url) as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_assignment("02-gradient")
        for student in ("jane", "bob"):
            gradebook.add_student(student)
            gradebook.add_submission(ASSIGNMENT, student)
        gradebook.add_submission("02-gradient", "jane")
    for student in ("jane", "bob"):
        for folder in withdraw.FOLDERS:
            (tmp_path / folder / student / ASSIGNMENT).mkdir(parents=True)
            (tmp_path / folder / student / ASSIGNMENT / NOTEBOOK).write_text("{}")
        for kind in ("graded", "collected"):
            state.write(state.records(tmp_path) / kind / ASSIGNMENT / f"{student}.json",
                        {"status": "not graded", "reason": "x", "gradebook": url})
    (tmp_path / "submitted" / "jane" / "02-gradient").mkdir()
    with diagnoses.engine(url).begin() as connection:
        for student in ("jane", "bob"):
            connection.execute(insert(diagnoses.TIMES), [{
                "assignment": ASSIGNMENT, "student": student, "graded_at": "t",
                "seconds": 1.0}])
            connection.execute(insert(diagnoses.DIAGNOSES), [{
                "assignment": ASSIGNMENT, "student": student, "notebook": "n",
                "grade_id": "g", "check_index": 0, "kind": "none", "what": "value",
                "graded_at": "t", "seconds": 0.1}])
            connection.execute(insert(diagnoses.CHECKS), [{
                "assignment": ASSIGNMENT, "student": student, "notebook": "n",
                "grade_id": "g", "check_index": 0, "message": "m", "outcome": "failed",
                "graded_at": "t"}])
    monkeypatch.setattr(export, "COURSE", tmp_path)
    assert {row["student_id"] for row in export._rows(url)} == {"jane", "bob"}

    # one assignment: jane keeps 02-gradient, and stays in the gradebook
    assert withdraw.withdraw("jane", url, ASSIGNMENT, course=tmp_path,
                             out=io.StringIO()) == [ASSIGNMENT]
    for folder in withdraw.FOLDERS:
        assert not (tmp_path / folder / "jane" / ASSIGNMENT).exists()
        assert (tmp_path / folder / "bob" / ASSIGNMENT / NOTEBOOK).exists()
    assert (tmp_path / "submitted" / "jane" / "02-gradient").is_dir()
    assert set(state.graded_records(ASSIGNMENT, tmp_path)) == {"bob"}
    assert state.collected_record(ASSIGNMENT, "jane", tmp_path) is None
    with Gradebook(url) as gradebook:
        assert [s.student.id for s in gradebook.assignment_submissions(ASSIGNMENT)] == ["bob"]
        assert [s.assignment.name for s in gradebook.find_student("jane").submissions] == [
            "02-gradient"]
    with diagnoses.engine(url).connect() as connection:
        for table in (diagnoses.TIMES, diagnoses.DIAGNOSES, diagnoses.CHECKS):
            assert [row.student for row in connection.execute(select(table))] == ["bob"]
    assert ("jane", ASSIGNMENT) not in {(row["student_id"], row["assignment"])
                                        for row in export._rows(url)
                                        if row["status"] != "not submitted"}
    # all of them: jane leaves the gradebook and every export
    assert withdraw.withdraw("jane", url, course=tmp_path, out=io.StringIO()) == [
        "02-gradient"]
    assert not (tmp_path / "submitted" / "jane").exists()
    with Gradebook(url) as gradebook:
        assert [s.id for s in gradebook.students] == ["bob"]
    assert {row["student_id"] for row in export._rows(url)} == {"bob"}
    with pytest.raises(SystemExit, match="nothing of a student 'jane'"):
        withdraw.withdraw("jane", url, course=tmp_path, out=io.StringIO())


def test_a_not_graded_record_of_a_removed_submission_is_not_exported(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    from grading import export, state

    url = f"sqlite:///{tmp_path}/gradebook.db"
    # nbgrader runs alembic by name
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    with Gradebook(url) as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
    for student in ("kept", "removed"):
        state.write(state.records(tmp_path) / "graded" / ASSIGNMENT / f"{student}.json",
                    {"status": "not graded", "reason": "x", "gradebook": url})
    (tmp_path / "submitted" / "kept" / ASSIGNMENT).mkdir(parents=True)
    monkeypatch.setattr(export, "COURSE", tmp_path)
    assert [(row["student_id"], row["status"]) for row in export._rows(url)] == [
        ("kept", "not graded")]



def test_a_collected_student_not_graded_yet_has_a_row_and_is_counted(tmp_path, monkeypatch):
    """`make grade STUDENT=1001` with 5151 collected too: grades.csv still has 5151's row,
    no score, and the command that grades it; the class's summary counts it."""
    from nbgrader.api import Gradebook

    from grading import export, state

    url = f"sqlite:///{tmp_path}/gradebook.db"
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    with Gradebook(url) as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_student("1001")
        gradebook.add_student("absent")
        gradebook.add_submission(ASSIGNMENT, "1001")
    state.write(state.graded_path(ASSIGNMENT, "1001", tmp_path),
                {"status": "graded", "reason": None, "gradebook": url})
    for student in ("1001", "5151"):
        (tmp_path / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        (tmp_path / "submitted" / student / ASSIGNMENT / NOTEBOOK).write_text("{}")
    state.write(state.records(tmp_path) / "collected" / ASSIGNMENT / "5151.json",
                {"lms": "canvas", "lms_id": "5151", "name": "Ana Ruiz", "late": False})
    monkeypatch.setattr(export, "COURSE", tmp_path)
    out = io.StringIO()
    export.export(url, course=tmp_path, out=out)
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as table:
        rows = {row["student_id"]: row for row in csv.DictReader(table)}
    assert {s: r["status"] for s, r in rows.items()} == {
        "1001": "graded", "5151": "not graded yet", "absent": "not submitted"}
    assert rows["5151"]["score"] == "" and rows["5151"]["name"] == "Ana Ruiz"
    assert f"make grade A={ASSIGNMENT} STUDENT=5151" in rows["5151"]["reason"]
    assert rows["1001"]["score"] != "" and rows["absent"]["reason"] == ""
    said = out.getvalue()
    assert re.search(rf"grades\.csv, {ASSIGNMENT} \(whole class\): 1 graded, 0 late, "
                     r"0 not graded, 1 not graded yet, 1 not submitted", said), said
    # graded now: its row says so, and nobody is left "not graded yet"
    with Gradebook(url) as gradebook:
        gradebook.add_student("5151")
        gradebook.add_submission(ASSIGNMENT, "5151")
    state.write(state.graded_path(ASSIGNMENT, "5151", tmp_path),
                {"status": "graded", "reason": None, "gradebook": url})
    assert {row["student_id"]: row["status"] for row in export._rows(url)}["5151"] == "graded"


CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                 "01 Telephone (12345)", "02 Chain Rule Graphs (12346)", "Current Score"]
CANVAS_ROWS = [["Points Possible", "", "", "", "", "9.00", "5.00", "(read only)"],
               ["Smith, Alice", "1001", "S1001", "asmith", "A", "", "4", "40"],
               ["Doe, Bob", "1002", "S1002", "bdoe", "A", "7", "", "70"],
               ["Müller, Zoë", "1003", "S1003", "zmuller", "B", "", "", ""]]


def lms_rows(rows):
    """Stand-in for export._rows: the class of the fill tests (scores as nbgrader gives)."""
    def _rows(url):
        return [dict(assignment=ASSIGNMENT, student_id=student, lms=lms, lms_id=lms_id,
                     status=status, score=score, name="", email="", max_score=9,
                     reason="DeadKernelError: Kernel died" if status == "not graded" else "")
                for student, lms, lms_id, status, score in rows]
    return _rows


CLASS = [("1001", "canvas", "1001", "late", 9.0),          # filled
         ("1002", "canvas", "1002", "not graded", None),   # left as Canvas had it
         ("1009", "canvas", "1009", "graded", 3.0),        # a Canvas id not in the file
         ("4242", "moodle", "4242", "graded", 5.0),        # came from Moodle
         ("jdoe", "", "jdoe", "graded", 8.5),              # a Unix user of the exchange
         ("j.doe", "blackboard", "J.Doe", "graded", 6.25)]


def test_canvas_s_own_gradebook_is_filled_by_canvas_ids_only(tmp_path, monkeypatch):
    from grading import batch, export

    monkeypatch.setattr(export, "_rows", lms_rows(CLASS))
    download = tmp_path / "canvas-export.csv"
    with open(download, "w", newline="", encoding="utf-8-sig") as table:
        csv.writer(table).writerows([CANVAS_HEADER, *CANVAS_ROWS])
    out = io.StringIO()
    unmatched = export.fill("canvas", download, ASSIGNMENT, "url", course=tmp_path, out=out)
    # only a Canvas student missing from Canvas's file fails it; the others are listed
    assert sorted(unmatched) == ["1009"], out.getvalue()
    assert "1009 is not in" in unmatched["1009"]
    said = out.getvalue()
    assert (f"not Canvas's  4242: from Moodle: in grades-moodle-{ASSIGNMENT}.csv" in said
            and f"not Canvas's  j.doe: from Blackboard: `make grades A={ASSIGNMENT} "
            "BLACKBOARD=" in said and "not Canvas's  jdoe: from no LMS" in said), said
    assert "NOT FILLED  1009" in said and said.count("NOT FILLED") == 1, said
    written = tmp_path / f"grades-canvas-{ASSIGNMENT}.csv"
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")  # as Canvas wrote it
    with open(written, newline="", encoding="utf-8-sig") as table:
        filled = list(csv.reader(table))
    expected = [CANVAS_HEADER, *(list(row) for row in CANVAS_ROWS)]
    expected[2][5] = "9"  # Alice; Bob's 7 stays (not graded now), nothing else changes
    assert filled == expected
    text = written.read_text(encoding="utf-8-sig")
    for foreign in ("4242", "jdoe", "j.doe", "1009"):  # only Canvas's ids in Canvas's file
        assert foreign not in text
    assert "filled for 1 of the 2 graded students from Canvas; 1 not graded, their cells " \
           "left as downloaded:" in said, said
    # each student not graded is named, with Canvas's id and name, and why: one in 400
    assert "\n  left as downloaded  1002 (Doe, Bob): not graded: DeadKernelError: Kernel died\n" \
        in said, said
    assert said.count("left as downloaded  ") == 1, said
    guide = " ".join((REPO / "instructors.md").read_text(encoding="utf-8").split())
    assert "(`left as downloaded 1002 (Doe, Bob): not graded: DeadKernelError: Kernel died`)" \
        in guide  # spaces collapsed, as in the guide's source
    assert written.read_bytes().count(b"\r\n") == len(CANVAS_ROWS) + 1  # as downloaded
    # a download with LF line ends keeps them
    lf = tmp_path / "canvas-lf.csv"
    with open(lf, "w", newline="", encoding="utf-8") as table:
        csv.writer(table, lineterminator="\n").writerows([CANVAS_HEADER, *CANVAS_ROWS])
    export.fill("canvas", lf, ASSIGNMENT, "url", course=tmp_path, out=io.StringIO())
    assert b"\r" not in written.read_bytes() and written.read_bytes().count(b"\n") == len(
        CANVAS_ROWS) + 1

    # the column: named like the assignment, or named exactly; else refused, listing them
    assert export.pick_column("canvas", CANVAS_HEADER, "02-chain-rule-graphs") == 6
    assert export.pick_column("canvas", CANVAS_HEADER, "x", "02 Chain Rule Graphs (12346)") == 6
    with pytest.raises(SystemExit, match=r"no column .* named like 03-x: name it with "
                       r"COLUMN=.*01 Telephone \(12345\); 02 Chain"):
        export.pick_column("canvas", CANVAS_HEADER, "03-x")
    with pytest.raises(SystemExit, match="not an assignment column"):
        export.pick_column("canvas", CANVAS_HEADER, ASSIGNMENT, "Current Score")
    with pytest.raises(SystemExit, match="more than one"):
        export.pick_column("canvas", CANVAS_HEADER + ["01-Telephone (9)"], ASSIGNMENT)

    # the command: exits 1 when a graded student could not be matched, 0 when all were
    (tmp_path / "solutions" / ASSIGNMENT).mkdir(parents=True)
    monkeypatch.setattr(cli, "COURSE", tmp_path)
    monkeypatch.setattr(batch, "db_url", lambda: "url")
    monkeypatch.setattr(export, "export", lambda url, course, out=None, filling=(): ["grades.csv"])
    line = ["grades", "--assignment", ASSIGNMENT, "--canvas", str(download)]
    assert cli.main(line) == 1  # 1009, from Canvas, is not in Canvas's file
    monkeypatch.setattr(export, "_rows", lms_rows([r for r in CLASS if r[0] != "1009"]))
    assert cli.main(line) == 0  # the Moodle, Blackboard and exchange students do not fail it
    assert cli.main(["grades", "--canvas", str(download)]) == 2  # which assignment?
    assert cli.main(line[:3] + ["--canvas", str(tmp_path / "nothing.csv")]) == 2
    assert cli.main(line + ["--column", "Nope (1)"]) == 2
    assert cli.main(line + ["--blackboard", str(download), "--column", "x"]) == 2


def test_blackboard_s_grade_center_download_is_filled_by_username(tmp_path, monkeypatch):
    from grading import export

    monkeypatch.setattr(export, "_rows", lms_rows(CLASS))
    header = ["Last Name", "First Name", "Username", "Student ID", "Last Access",
              "Availability", "Weighted Total [Total Pts: up to 0 Percentage] |880120",
              "01 Telephone [Total Pts: 9 Score] |880123"]
    rows = [["Doe", "Jane", "j.doe", "S9", "2026-11-01", "Available", "", ""],
            ["Roe", "Rick", "rroe", "S8", "2026-11-01", "Available", "", "2"]]
    download = tmp_path / "gc_course_fullgc_2026-11-02.xls"  # Blackboard: UTF-16, tabs
    text = "\n".join("\t".join(f'"{cell}"' for cell in row) for row in [header, *rows])
    download.write_bytes(text.encode("utf-16"))
    out = io.StringIO()
    unmatched = export.fill("blackboard", download, ASSIGNMENT, "url", course=tmp_path,
                            out=out)
    assert unmatched == {}, out.getvalue()
    assert "not Blackboard's  1001: from Canvas: `make grades A=" in out.getvalue()
    written = tmp_path / f"grades-blackboard-{ASSIGNMENT}.xls"
    assert written.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    lines = written.read_text(encoding="utf-16").splitlines()
    assert lines[1].split("\t") == ['"Doe"', '"Jane"', '"j.doe"', '"S9"', '"2026-11-01"',
                                    '"Available"', '""', '"6.25"']
    assert lines[2].split("\t")[-1] == '"2"'
    assert "1001" not in written.read_text(encoding="utf-16")
    assert "\r" not in written.read_text(encoding="utf-16")  # LF, as downloaded
    with pytest.raises(SystemExit, match="no 'Username' column"):
        (tmp_path / "not.csv").write_text("ID,01 Telephone (1)\n1,2\n")
        export.fill("blackboard", tmp_path / "not.csv", ASSIGNMENT, "url", course=tmp_path)


def test_grades_csv_names_students_and_lms_files_exist_only_with_rows(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    from grading import export, state

    url = f"sqlite:///{tmp_path}/gradebook.db"
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    with Gradebook(url) as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_student("jdoe", first_name="Jane", last_name="Doe")
        gradebook.add_student("1001")
        gradebook.add_student("kim")
        for student in ("1001", "jdoe", "kim"):
            gradebook.add_submission(ASSIGNMENT, student)
    collected = state.records(tmp_path) / "collected" / ASSIGNMENT
    state.write(collected / "1001.json", {"lms": "canvas", "lms_id": "1001",
                                          "name": "smithalice", "late": False})
    monkeypatch.setattr(export, "COURSE", tmp_path)
    stale = tmp_path / f"grades-moodle-{ASSIGNMENT}.csv"
    stale.write_text("from an earlier run\n")
    out = io.StringIO()
    assert export.export(url, course=tmp_path, out=out) == ["grades.csv"]
    assert not stale.exists()
    said = out.getvalue()
    assert f"no Moodle file: nobody's {ASSIGNMENT} came from a Moodle zip" in said, said
    assert f"1 from Canvas: `make grades A={ASSIGNMENT} CANVAS=" in said, said
    assert "Blackboard" not in said
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as table:
        rows = {row["student_id"]: row for row in csv.DictReader(table)}
    assert {s: (r["name"], r["lms"], r["lms_id"]) for s, r in rows.items()} == {
        "1001": ("smithalice", "canvas", "1001"), "jdoe": ("Jane Doe", "", ""),
        "kim": ("", "", "")}
    state.write(collected / "kim.json", {"lms": "moodle", "lms_id": "77", "name": "Kim Lee",
                                         "late": False})
    assert export.export(url, course=tmp_path, out=io.StringIO()) == [
        "grades.csv", f"grades-moodle-{ASSIGNMENT}.csv"]
    with open(stale, newline="", encoding="utf-8") as table:
        moodle = list(csv.DictReader(table))
    assert [(r["Identifier"], r["Full name"], r["Grade"]) for r in moodle] == [
        ("Participant 77", "Kim Lee", "0.0")]


def test_blackboard_s_receipt_names_the_student(tmp_path):
    (tmp_path / "exercises" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "exercises" / ASSIGNMENT / NOTEBOOK).write_text("{}")
    with zipfile.ZipFile(tmp_path / "bb.zip", "w") as archive:
        for user, name in (("J.Doe", "Jane Q. Doe"), ("rroe", None)):
            attempt = f"HW1_{user}_attempt_2026-11-01-10-00-00"
            archive.writestr(f"{attempt}_{NOTEBOOK}", "{}")
            if name:
                archive.writestr(f"{attempt}.txt", f"Name: {name} ({user})\nAssignment: HW1\n"
                                 "Date Submitted: Sunday, November 1, 2026 10:00:00 AM\n")
    collect(tmp_path, ASSIGNMENT, tmp_path / "bb.zip", out=io.StringIO())
    from grading import state
    assert state.collected_record(ASSIGNMENT, "j.doe", tmp_path)["name"] == "Jane Q. Doe"
    assert state.collected_record(ASSIGNMENT, "rroe", tmp_path)["name"] == ""  # not its id
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as archive:
        archive.writestr(f"jane_doe_{NOTEBOOK}", "{}")
    collect(tmp_path, ASSIGNMENT, tmp_path / "plain.zip", out=io.StringIO())
    assert state.collected_record(ASSIGNMENT, "jane_doe", tmp_path)["name"] == ""


def test_feedback_never_holds_the_submission_s_key_and_release_still_finds_it(
        tmp_path, monkeypatch):
    from grading import batch, exchange

    page = tmp_path / "feedback" / "carol" / ASSIGNMENT

    class API:  # what nbgrader's generate_feedback leaves: the page and the other files
        def generate_feedback(self, assignment, student, force):
            page.mkdir(parents=True, exist_ok=True)
            (page / f"{ASSIGNMENT}.html").write_text("<p>feedback</p>")
            (page / "timestamp.txt").write_text("2026-11-01 09:30:00")
            (page / "submission_secret.txt").write_text("key")
            return {"success": True}

    monkeypatch.setattr(batch, "_api", API())
    monkeypatch.setattr(batch, "COURSE", tmp_path)
    assert batch._feedback_one(ASSIGNMENT, "carol") == ("ok", None)
    assert sorted(p.name for p in page.iterdir()) == [f"{ASSIGNMENT}.html", "timestamp.txt"]
    # a key an earlier grader left in feedback/ goes at the next grading or feedback
    (tmp_path / "feedback" / "old" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "feedback" / "old" / ASSIGNMENT / "submission_secret.txt").write_text("k")
    batch.remove_keys(ASSIGNMENT, tmp_path)
    assert not list((tmp_path / "feedback").rglob("submission_secret.txt"))
    shutil.rmtree(tmp_path / "feedback" / "old")

    # nbgrader's own release_feedback, into an exchange: the page is named by the key
    # from submitted/ (what the student's fetch_feedback looks for)
    from nbgrader.utils import notebook_hash

    shutil.copy2(REPO / "nbgrader_config.py", tmp_path)
    shutil.copytree(REPO / "grading", tmp_path / "grading",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    submitted = tmp_path / "submitted" / "carol" / ASSIGNMENT
    submitted.mkdir(parents=True)
    (submitted / "submission_secret.txt").write_text("carol's key")
    (tmp_path / "feedback" / "dan" / ASSIGNMENT).mkdir(parents=True)  # refused: no page
    (tmp_path / "exchange").mkdir(mode=0o1777)  # the guide's `install -d -m 1777`
    monkeypatch.setenv("BPCOURSE_EXCHANGE", str(tmp_path / "exchange"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    # erin submitted (she holds a key) but has no feedback at all: listed, not skipped
    (tmp_path / "submitted" / "erin" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "submitted" / "erin" / ASSIGNMENT / "submission_secret.txt").write_text("k")
    out = io.StringIO()
    assert exchange.release_feedback(ASSIGNMENT, course=tmp_path, out=out) == 2
    said = out.getvalue()
    assert said.splitlines() == [
        "  released      carol",
        "  NOT RELEASED  dan: no feedback page (not graded, or its page was refused: see "
        "`make grade`'s summary)",
        "  NOT RELEASED  erin: no feedback page (not graded, or its page was refused: see "
        "`make grade`'s summary)",
        f"feedback of {ASSIGNMENT}: 1 released, 2 NOT RELEASED (listed above); nbgrader's "
        f"messages in grading-records/logs/release-feedback-{ASSIGNMENT}.log"], said
    log = (tmp_path / "grading-records" / "logs" / f"release-feedback-{ASSIGNMENT}.log")
    assert "INFO" in log.read_text() and "INFO" not in said
    released = tmp_path / "exchange" / exchange.course_id() / "feedback"
    key = notebook_hash(secret="carol's key", notebook_id=ASSIGNMENT)
    assert [p.name for p in released.iterdir()] == [f"{key}.html"]
    assert (next(released.iterdir())).read_text() == "<p>feedback</p>"
    assert not (tmp_path / exchange.STAGED).exists()
    assert not list((tmp_path / "feedback").rglob("submission_secret.txt"))


def test_make_grades_passes_the_lms_file_and_column_on():
    line = subprocess.run(
        ["make", "-n", "grades", f"A={ASSIGNMENT}", "CANVAS=my export.csv",
         "COLUMN=01 Telephone (12345)"], cwd=REPO, capture_output=True, text=True,
        check=True).stdout.replace("\\\n", " ")
    assert f'grading grades --assignment "{ASSIGNMENT}" --canvas "my export.csv"' in line
    assert '--column "01 Telephone (12345)"' in line and "--blackboard" not in line
    plain = subprocess.run(["make", "-n", "grades"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout
    assert "--canvas" not in plain and "--assignment" not in plain


def test_blackboard_s_receipt_gives_the_username_when_the_assignment_holds_underscores(
        tmp_path):
    from grading import state

    (tmp_path / "exercises" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "exercises" / ASSIGNMENT / NOTEBOOK).write_text("{}")
    with zipfile.ZipFile(tmp_path / "bb.zip", "w") as archive:
        for user, receipt in (("k.tan", "Kai Tan (k.tan)"), ("M_Ng", "Mai Ng (m_ng)"),
                              ("lo", None)):
            attempt = f"HW_1_{user}_attempt_2026-11-01-10-00-00"
            archive.writestr(f"{attempt}_{NOTEBOOK}", "{}")
            if receipt:
                archive.writestr(f"{attempt}.txt", f"Name: {receipt}\nAssignment: HW_1\n")
        # a macOS copy of a receipt naming someone else is no receipt
        archive.writestr("__MACOSX/._HW_1_lo_attempt_2026-11-01-10-00-00.txt",
                         "Name: Eve (1_lo)\n")
    out = io.StringIO()
    chosen, _, refused = collect(tmp_path, ASSIGNMENT, tmp_path / "bb.zip", out=out)
    assert refused == []
    # without a receipt the assignment part is read as holding no `_`
    assert sorted(student for student, _ in chosen) == ["1_lo", "k.tan", "m_ng"], out.getvalue()
    kai = state.collected_record(ASSIGNMENT, "k.tan", tmp_path)
    assert (kai["lms"], kai["lms_id"], kai["name"]) == ("blackboard", "k.tan", "Kai Tan")
    mai = state.collected_record(ASSIGNMENT, "m_ng", tmp_path)
    assert (mai["lms_id"], mai["name"]) == ("M_Ng", "Mai Ng")  # spelt as the file name does
    assert (tmp_path / "submitted" / "k.tan" / ASSIGNMENT / NOTEBOOK).is_file()


def test_every_file_make_grades_writes_is_ignored_by_git():
    from grading import export

    written = ["grades.csv", f"grades-moodle-{ASSIGNMENT}.csv"] + [
        f"grades-{lms}-{ASSIGNMENT}{suffix}" for lms in export.GRADEBOOKS
        for suffix in (".csv", ".xls", ".txt")]
    written += ["grading-records/fills/x.json", "gradebook.db"]
    done = subprocess.run(["git", "check-ignore", "--no-index", *written], cwd=REPO,
                          capture_output=True, text=True)
    assert sorted(done.stdout.split()) == sorted(written), done.stdout + done.stderr


def test_a_fill_is_removed_with_a_word_when_the_grades_change(tmp_path, monkeypatch):
    from grading import export

    monkeypatch.setattr(export, "_rows", lms_rows(CLASS))
    download = tmp_path / "canvas-export.csv"
    with open(download, "w", newline="", encoding="utf-8") as table:
        csv.writer(table).writerows([CANVAS_HEADER, *CANVAS_ROWS])
    export.fill("canvas", download, ASSIGNMENT, "url", course=tmp_path, out=io.StringIO())
    filled = tmp_path / f"grades-canvas-{ASSIGNMENT}.csv"
    made = filled.read_bytes()
    out = io.StringIO()
    export.export("url", course=tmp_path, out=out)  # same grades: the fill stays
    assert filled.read_bytes() == made and "removed" not in out.getvalue(), out.getvalue()
    # and the summary says it is done, not what would do it
    assert f"from Canvas: filled in grades-canvas-{ASSIGNMENT}.csv" in out.getvalue()
    assert "CANVAS=<" not in out.getvalue(), out.getvalue()
    out = io.StringIO()
    export.export("url", course=tmp_path, out=out, filling={"canvas"})  # make grades CANVAS=
    assert "from Canvas: its download is filled below" in out.getvalue(), out.getvalue()
    # a regrade changes a score: the fill goes, and the summary says how to remake it
    regraded = [("1001", "canvas", "1001", "late", 7.0), *CLASS[1:]]
    monkeypatch.setattr(export, "_rows", lms_rows(regraded))
    out = io.StringIO()
    export.export("url", course=tmp_path, out=out)
    assert not filled.exists()
    assert (f"removed grades-canvas-{ASSIGNMENT}.csv: the grades of {ASSIGNMENT} changed "
            f"since it was filled; remake it with `make grades A={ASSIGNMENT} CANVAS="
            in out.getvalue()), out.getvalue()
    # refilled, it holds the new score
    export.fill("canvas", download, ASSIGNMENT, "url", course=tmp_path, out=io.StringIO())
    with open(filled, newline="", encoding="utf-8") as table:
        assert list(csv.reader(table))[2][5] == "7"
    # a fill of unknown grades (no record of what it was made from) goes too
    older = tmp_path / f"grades-blackboard-{ASSIGNMENT}.xls"
    older.write_text("made before\n")
    out = io.StringIO()
    export.export("url", course=tmp_path, out=out)
    assert not older.exists() and filled.exists()
    assert f"removed grades-blackboard-{ASSIGNMENT}.xls" in out.getvalue()
    assert "BLACKBOARD=<the gradebook downloaded from Blackboard>" in out.getvalue()


def test_a_notebook_stopped_by_its_wall_budget_says_so_and_a_crash_does_not(tmp_path):
    """The reason a student is not graded: a kernel the wall budget stopped reads as such
    (the summary, grades.csv and the LMS files take it from batch.why), a kernel the
    student's own code ended reads as a dead kernel."""
    import traceback

    import nbformat
    from nbclient.exceptions import DeadKernelError
    from traitlets.config import Config

    from grading import batch

    config = Config()
    config.SandboxedKernelManager.enabled = False  # the timer is the same in both modes
    config.SandboxedKernelManager.wall_seconds = 8
    reasons = {}
    for name, code in [("endless", "import time\ntime.sleep(1000)"),
                       ("crash", "import os\nos._exit(1)")]:
        work = tmp_path / name
        work.mkdir()
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                                   nbformat.v4.new_code_cell(code)])
        notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}
        execute = sandbox.SandboxedExecute(config=config, kernel_name="python3")
        with pytest.raises(DeadKernelError) as died:
            execute.preprocess(notebook, {"metadata": {"path": str(work)}})
        # as nbgrader logs a failed notebook, then its own lines after it
        log = ("[AutogradeApp | ERROR] There was an error processing assignment: x\n"
               "[AutogradeApp | ERROR] " + "".join(traceback.format_exception(died.value))
               + "[AutogradeApp | ERROR] Please see the error log for details\n")
        reasons[name] = batch.why({"success": False, "log": log})
    assert reasons["endless"].startswith("WallBudgetError: the notebook ran longer than "
                                         "the wall budget of 8 s and was stopped"), reasons
    assert reasons["crash"] == "DeadKernelError: Kernel died", reasons
    guide = " ".join((REPO / "instructors.md").read_text(encoding="utf-8").split())
    assert f"`{reasons['crash']}`" in guide
    assert f"`{reasons['endless'].replace(' 8 s ', ' 25 s ')}`" in guide, reasons["endless"]


def course_with_release(tmp_path):
    (tmp_path / "exercises" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "exercises" / ASSIGNMENT / NOTEBOOK).write_text("{}")
    (tmp_path / "solutions" / ASSIGNMENT).mkdir(parents=True)
    return tmp_path


def test_collecting_an_older_zip_again_keeps_the_newer_submission(tmp_path, monkeypatch):
    course = course_with_release(tmp_path)
    monkeypatch.setattr(cli, "COURSE", course)
    older, newer = '{"jane": "30 Nov"}', '{"jane": "2 Dec"}'
    with zipfile.ZipFile(course / "first.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo(f"jane_23456_900_{NOTEBOOK}",
                                         (2026, 11, 30, 9, 0, 0)), older)
        archive.writestr(zipfile.ZipInfo(f"bob_7_901_{NOTEBOOK}", (2026, 11, 29, 9, 0, 0)),
                         "{}")
    with zipfile.ZipFile(course / "resub.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo(f"jane_23456_902_{NOTEBOOK}",
                                         (2026, 12, 2, 10, 0, 0)), newer)
    jane = course / "submitted" / "23456" / ASSIGNMENT
    assert cli.main(["collect", ASSIGNMENT, str(course / "first.zip")]) == 0
    assert cli.main(["collect", ASSIGNMENT, str(course / "resub.zip")]) == 0
    assert (jane / NOTEBOOK).read_text() == newer
    out = io.StringIO()
    chosen, _, refused = collect(course, ASSIGNMENT, course / "first.zip", out=out)
    said = out.getvalue()
    # the newer one stays, with its time; the line says so; bob is collected again as usual
    assert (jane / NOTEBOOK).read_text() == newer, said
    assert (jane / "timestamp.txt").read_text() == "2026-12-02 10:00:00"
    line = next(line for line in said.splitlines() if "23456" in line)
    assert line.split()[:2] == ["not", "replaced"], said
    assert f"jane_23456_900_{NOTEBOOK}: handed in 2026-11-30 09:00:00" in line, line
    assert "kept the newer one, handed in 2026-12-02 10:00:00, collected on " in line, line
    assert line.endswith(" from resub.zip"), line
    assert "collected 1 notebook of 1 student from first.zip; 1 older than the one already " \
           "collected, not replaced" in said, said
    assert refused == [] and "NOT COLLECTED" not in said
    # no error: the command's exit status is that of a normal collection, also when every
    # file of the zip is older than what was collected
    assert cli.main(["collect", ASSIGNMENT, str(course / "first.zip")]) == 0
    with zipfile.ZipFile(course / "jane-only.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo(f"jane_23456_900_{NOTEBOOK}",
                                         (2026, 11, 30, 9, 0, 0)), older)
    assert cli.main(["collect", ASSIGNMENT, str(course / "jane-only.zip")]) == 0
    guide = " ".join((REPO / "instructors.md").read_text(encoding="utf-8").split())
    assert "(`not replaced ... kept the newer one, handed in 2026-12-02 10:00:00, " in guide
    assert (jane / NOTEBOOK).read_text() == newer
    # the same zip again replaces (the same time), and a newer one still replaces
    assert cli.main(["collect", ASSIGNMENT, str(course / "resub.zip")]) == 0
    assert (jane / NOTEBOOK).read_text() == newer


def zip_without_utf8_flag(path, names):
    """A zip whose names are stored as the given bytes with the UTF-8 flag cleared, as a
    Mac's Archive Utility writes them: each is written under an ASCII stand-in of the same
    length (no flag), then its bytes are put in place in both headers."""
    with zipfile.ZipFile(path, "w") as archive:
        for number, raw in enumerate(names):
            stand_in = f"{number:03d}".ljust(len(raw), "Q")
            archive.writestr(zipfile.ZipInfo(stand_in, (2026, 11, 30, 9, 0, 0)), "{}")
    data = path.read_bytes()
    for number, raw in enumerate(names):
        stand_in = f"{number:03d}".ljust(len(raw), "Q").encode()
        assert data.count(stand_in) == 2  # the local header and the central directory
        data = data.replace(stand_in, raw)
    path.write_bytes(data)


def test_a_zip_without_the_utf8_flag_is_read_as_its_maker_wrote_it(tmp_path):
    course = course_with_release(tmp_path)
    moodle = f"Zoë Ålund_4242_assignsubmission_file_{NOTEBOOK}"
    zip_without_utf8_flag(course / "mac.zip", [
        moodle.encode("utf-8"), f"josé_{NOTEBOOK}".encode("utf-8"),
        f"Zoë_{NOTEBOOK}".encode("cp437")])  # an old DOS zip's name: cp437 indeed
    with zipfile.ZipFile(course / "mac.zip") as archive:  # what Python makes of it alone
        stored = archive.infolist()
        assert not any(member.flag_bits & 0x800 for member in stored)
        assert stored[0].filename.startswith("Zo├½ ├àlund_")
    out = io.StringIO()
    chosen, _, refused = collect(course, ASSIGNMENT, course / "mac.zip", out=out)
    assert refused == [], out.getvalue()
    assert sorted(student for student, _ in chosen) == ["4242", "josé", "zoë"]
    record = course / "grading-records" / "collected" / ASSIGNMENT / "4242.json"
    assert '"name": "Zoë Ålund"' in record.read_text(encoding="utf-8")
    assert f"<- {moodle}" in out.getvalue() and "├" not in out.getvalue()


def test_every_argument_of_every_command_says_what_it_is():
    """`python -m grading <command> --help` explains each of its arguments."""
    import argparse

    from grading import cli

    top = cli.parser()
    commands = next(action for action in top._actions
                    if isinstance(action, argparse._SubParsersAction))
    silent = [f"{name} {action.dest}" for name, sub in commands.choices.items()
              for action in sub._actions
              if not isinstance(action, argparse._HelpAction) and not action.help]
    assert len(commands.choices) >= 10 and silent == [], silent
