"""The instructor guide's single-machine workflow, run line by line as instructors.md writes
it, in a copy of the course with a zip of submissions as LMSs hand them over; then, on the
same graded class (one nbgrader run shared by the tests below, in file order): grading only
what changed, manual scores kept, the stale-source refusal, the sandbox refusal and the
secret probe; and the commands' messages when something is missing.

The class (one zip, real LMS file-name shapes):
  1001      Canvas, a late re-submission (-1) of the solution over an older untouched one
  4242      Moodle (a folder per student), the untouched release: 0 points
  crash.bb  Blackboard, a kernel that dies: not graded, the others are
  refused   the solution, but its feedback page is refused (a test double of the feedback
            scan's refusal, added to this copy's nbgrader_config.py)
  probe     the solution plus a cell that prints the kernel's environment
  eve       put in submitted/ by hand with a wrongly named notebook: not graded
"""

import csv
import os
import re
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from conftest import REPO, honest_submission, outside_requests

ASSIGNMENT = "01-telephone"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
MARKER = "<!-- the single-machine workflow"
SECRET = "probe-secret-3141"

pytestmark = pytest.mark.slow


def page_commands():
    """The lines of the first bash block after the marker in instructors.md."""
    text = (REPO / "instructors.md").read_text(encoding="utf-8")
    assert MARKER in text, "instructors.md lost its tested workflow block"
    block = re.search(r"```bash\n(.*?)```", text[text.index(MARKER):], re.DOTALL)
    return [line for line in block.group(1).splitlines() if line.strip()]


def make_env(course, **extra):
    env = dict(os.environ, VENV=str(REPO / ".venv"))
    for name in ("BPCOURSE_DB_URL", "MAKEFLAGS", "BP_SANDBOX"):
        env.pop(name, None)
    # secrets a kernel must never see: the gradebook's URL and a password
    env.update(BPCOURSE_DB_URL=f"sqlite:///{course}/gradebook.db", PGPASSWORD=SECRET,
               COURSE_API_TOKEN=SECRET)
    env.update(extra)
    return env


def copy_course(course):
    course.mkdir()
    for name in ("Makefile", "book.mk", "nbgrader_config.py", "requirements.txt",
                 "constraints.txt", "bplib/pyproject.toml"):
        (course / name).parent.mkdir(exist_ok=True)
        shutil.copy2(REPO / name, course / name)  # their times: nothing to reinstall
    # bplib whole: the grader's process imports it from the course folder (grading/stubs.py
    # builds the kernel's bplib from it), and a bplib/ holding only pyproject.toml would be
    # an empty namespace package there
    for folder in (f"solutions/{ASSIGNMENT}", f"exercises/{ASSIGNMENT}", "grading", "bplib"):
        shutil.copytree(REPO / folder, course / folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    return course


@pytest.fixture()
def course(tmp_path):
    return copy_course(tmp_path / "course")


def sh(course, line, **extra):
    return subprocess.run(["bash", "-c", line], cwd=course, env=make_env(course, **extra),
                          capture_output=True, text=True, timeout=1800)


def notebooks():
    source = nbformat.read(REPO / "solutions" / ASSIGNMENT / NOTEBOOK, 4)
    release = nbformat.read(REPO / "exercises" / ASSIGNMENT / NOTEBOOK, 4)
    max_score = sum(c.metadata["nbgrader"].get("points", 0) for c in source.cells
                    if c.metadata.get("nbgrader", {}).get("grade"))
    return source, release, max_score


REFUSE_PAGE = '''
from nbgrader.preprocessors import NbGraderPreprocessor

class RefusePage(NbGraderPreprocessor):
    """Test double: the feedback scan refuses this one student's page."""
    def preprocess(self, nb, resources):
        if resources["nbgrader"]["student"] == "refused":
            raise ValueError("feedback page refused: it would show a hidden test")
        return nb, resources
'''


def class_zip(course):
    source, release, max_score = notebooks()
    honest = nbformat.writes(honest_submission(source, release))
    crash = honest_submission(source, release)
    crash.cells.insert(1, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    probe = honest_submission(source, release)
    probe.cells.insert(1, nbformat.v4.new_code_cell(
        "import os\nprint('PROBE', dict(os.environ))"))
    with zipfile.ZipFile(course / "submissions.zip", "w") as archive:
        archive.writestr(f"alice smith_1001_5001_{NOTEBOOK}", nbformat.writes(release))
        archive.writestr(f"alice smith_LATE_1001_5002_{ASSIGNMENT}-1.ipynb", honest)
        archive.writestr(f"Zoë Müller_4242_assignsubmission_file_/{NOTEBOOK}",
                         nbformat.writes(release))
        archive.writestr(f"HW1_Crash.BB_attempt_2026-11-01-10-00-00_{NOTEBOOK}",
                         nbformat.writes(crash))
        archive.writestr(f"refused_{NOTEBOOK}", honest)
        archive.writestr(f"probe_{NOTEBOOK}", nbformat.writes(probe))
    return max_score


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The guide's lines run on the class above: {line: result}, the course, max score."""
    course = copy_course(tmp_path_factory.mktemp("class") / "course")
    max_score = class_zip(course)
    (course / "refuse_page.py").write_text(REFUSE_PAGE)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\nfrom refuse_page import RefusePage\n"
                     "c.GenerateFeedback.preprocessors = "
                     "list(c.GenerateFeedback.preprocessors) + [RefusePage]\n")
    results = {}
    for line in page_commands():
        if line.split()[1] == "grade":  # eve hands in by hand, under a wrong name
            (course / "submitted" / "eve" / ASSIGNMENT).mkdir(parents=True)
            (course / "submitted" / "eve" / ASSIGNMENT / "telephone.ipynb").write_text("{}")
        results[line.split()[1]] = sh(course, line)
    return results, course, max_score


def student_lines(report):
    return {fields[0]: " ".join(fields[1:]) for fields in
            (line.split() for line in report.splitlines() if line.startswith("  "))
            if len(fields) > 2 and fields[-1] != ":"}


def grades_csv(course):
    with open(course / "grades.csv", newline="", encoding="utf-8") as table:
        return {row["student_id"]: row for row in csv.DictReader(table)
                if row["assignment"] == ASSIGNMENT}


def test_the_guide_s_workflow_runs_as_written(graded):
    results, course, max_score = graded
    assert list(results) == ["release", "collect", "grade", "grades"]
    for name in ("release", "collect", "grades"):
        assert results[name].returncode == 0, results[name].stdout + results[name].stderr
    report = results["grade"].stdout
    # students who could not be graded or given feedback make `make grade` fail, after
    # everyone else was graded, their feedback written and grades.csv exported
    assert results["grade"].returncode != 0, report
    lines = student_lines(report)
    assert re.fullmatch(rf"{max_score:g} / {max_score:g} [\d.]+ s graded, late",
                        lines["1001"]), report
    assert re.fullmatch(rf"0 / {max_score:g} [\d.]+ s graded", lines["4242"]), report
    assert lines["crash.bb"].startswith("NOT GRADED"), report
    assert lines["eve"].startswith("NOT GRADED"), report
    assert re.search(r"graded; NO FEEDBACK \(.*feedback page refused", lines["refused"]), report
    assert re.search(r"graded 4 of 6 in .*; 2 not graded; 1 without feedback; 1 late; "
                     r"sandbox ON", report), report
    assert re.search(r"not graded: crash\.bb: DeadKernelError: Kernel died", report), report
    assert re.search(r"not graded: eve: .*No notebooks", report), report
    assert re.search(r"no feedback: refused: .*feedback page refused", report), report
    for student in ("1001", "4242", "probe"):
        page = course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert outside_requests(page.read_text(encoding="utf-8")) == [], page
    # nbgrader's own output went to the log the summary names
    log = re.search(r"kernel messages: (\S+)", report).group(1)
    assert "[AutogradeApp]" in (course / log).read_text() or "autograde" in (
        course / log).read_text()
    assert "[INFO]" not in report and "Warning" not in report
    for name in ("release", "grade"):  # nor on stderr: kernels' warnings are in the logs
        assert "WARNING" not in results[name].stderr.upper(), results[name].stderr


def test_grades_csv_has_a_status_and_never_a_zero_for_not_graded(graded):
    _, course, max_score = graded
    rows = grades_csv(course)
    assert {s: r["status"] for s, r in rows.items()} == {
        "1001": "late", "4242": "graded", "crash.bb": "not graded", "eve": "not graded",
        "refused": "graded", "probe": "graded"}
    assert float(rows["1001"]["score"]) == max_score
    assert float(rows["4242"]["score"]) == 0
    assert rows["crash.bb"]["score"] == "" and rows["eve"]["score"] == ""
    assert "No notebooks" in rows["eve"]["reason"]
    assert rows["1001"]["name"] == "alice smith" and rows["1001"]["lms"] == "canvas"
    assert rows["4242"]["name"] == "Zoë Müller" and rows["4242"]["lms_id"] == "4242"
    # Canvas's file only from Canvas's own export (its ids), never written from scratch
    assert not (course / f"grades-canvas-{ASSIGNMENT}.csv").exists()
    assert f"1 from Canvas: `make grades A={ASSIGNMENT} CANVAS=" in graded[0]["grades"].stdout
    with open(course / f"grades-moodle-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        moodle = list(csv.DictReader(f))
    assert [(r["Identifier"], r["Full name"], float(r["Grade"])) for r in moodle] == [
        ("Participant 4242", "Zoë Müller", 0.0)]


def test_canvas_s_exported_gradebook_is_filled_through_make(graded):
    _, course, max_score = graded
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
              "01 Telephone (12345)"]
    rows = [["Points Possible", "", "", "", "", f"{max_score:g}"],
            ["Smith, Alice", "1001", "", "asmith", "A", ""],
            ["Roe, Rick", "1002", "", "rroe", "A", "3"]]
    with open(course / "canvas-export.csv", "w", newline="", encoding="utf-8") as table:
        csv.writer(table).writerows([header, *rows])
    done = sh(course, f"make grades A={ASSIGNMENT} CANVAS=canvas-export.csv")
    # the graded students collected from elsewhere are not Canvas's to fill: listed, and
    # the fill succeeds, as every Canvas student is in the export
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"not Canvas's  4242: from Moodle: in grades-moodle-{ASSIGNMENT}.csv" in done.stdout
    for student in ("probe", "refused"):
        assert f"not Canvas's  {student}: from no LMS" in done.stdout, done.stdout
    assert "NOT FILLED" not in done.stdout, done.stdout
    # a Canvas student missing from the export does fail it
    with open(course / "canvas-export.csv", "w", newline="", encoding="utf-8") as table:
        csv.writer(table).writerows([header, rows[0], rows[2]])
    missing = sh(course, f"make grades A={ASSIGNMENT} CANVAS=canvas-export.csv")
    assert missing.returncode != 0 and "NOT FILLED  1001: " in missing.stdout, missing.stdout
    with open(course / "canvas-export.csv", "w", newline="", encoding="utf-8") as table:
        csv.writer(table).writerows([header, *rows])
    assert sh(course, f"make grades A={ASSIGNMENT} CANVAS=canvas-export.csv").returncode == 0
    with open(course / f"grades-canvas-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        filled = list(csv.reader(f))
    assert filled == [header, rows[0], rows[1][:5] + [f"{max_score:g}"], rows[2]]


def test_the_kernel_s_environment_holds_no_secret(graded):
    _, course, _ = graded
    text = (course / "autograded" / "probe" / ASSIGNMENT / NOTEBOOK).read_text()
    assert "PROBE" in text  # the probe ran
    assert SECRET not in text and "BPCOURSE_DB_URL" not in text and "gradebook.db" not in text


def test_only_what_changed_is_graded_again_and_manual_scores_stay(graded):
    _, course, max_score = graded
    from nbgrader.api import Gradebook
    url = f"sqlite:///{course}/gradebook.db"
    with Gradebook(url) as gradebook:
        grade = gradebook.find_submission(ASSIGNMENT, "4242").notebooks[0].grades[0]
        grade_id, grade.manual_score = grade.name, 0.5
        gradebook.db.commit()
    # the probe's notebook changes; nothing else does (the students not graded or without
    # feedback are listed again, not retried)
    path = course / "submitted" / "probe" / ASSIGNMENT / NOTEBOOK
    path.write_text(path.read_text().replace("'PROBE'", "'PROBE2'"))
    again = sh(course, f"make grade A={ASSIGNMENT}")
    lines = student_lines(again.stdout)
    for student in ("1001", "4242"):
        assert lines[student].endswith("(unchanged, not regraded)"), again.stdout
    assert "unchanged" not in lines["probe"], again.stdout
    assert "unchanged since, not retried" in lines["crash.bb"], again.stdout
    assert re.search(r"grading 1 of 6 submissions .*\(5 unchanged", again.stdout), again.stdout
    assert re.search(r"graded 1 of 1 in .*; 2 not graded; 1 without feedback", again.stdout)
    assert again.returncode != 0  # they still need attention
    with Gradebook(url) as gradebook:
        grade = gradebook.find_grade(grade_id, NOTEBOOK[:-6], ASSIGNMENT, "4242")
        assert grade.manual_score == 0.5
    assert float(grades_csv(course)["1001"]["score"]) == max_score


def test_sandbox_off_must_be_asked_for_and_hides_secrets_too(graded):
    _, course, _ = graded
    refused = sh(course, f"make grade A={ASSIGNMENT}", BP_SANDBOX="off")
    assert refused.returncode != 0
    assert "the grading sandbox is not available here (BP_SANDBOX=off)" in refused.stderr
    assert "SANDBOX=off" in refused.stderr
    off = sh(course, f"make grade A={ASSIGNMENT} SANDBOX=off FORCE=1 STUDENT=probe")
    assert "sandbox OFF (asked for: SANDBOX=off)" in off.stdout, off.stdout + off.stderr
    assert re.search(r"graded 1 of 1 .* sandbox OFF", off.stdout), off.stdout
    text = (course / "autograded" / "probe" / ASSIGNMENT / NOTEBOOK).read_text()
    assert "PROBE2" in text and "HOME" in text  # it ran, unsandboxed (the grader's env)
    assert SECRET not in text and "BPCOURSE_DB_URL" not in text


def test_a_changed_source_is_refused_until_released_and_release_names_the_stale(graded):
    _, course, _ = graded
    path = course / "solutions" / ASSIGNMENT / NOTEBOOK
    source = nbformat.read(path, 4)
    source.cells.append(nbformat.v4.new_markdown_cell("A note added after the release."))
    nbformat.write(source, path)
    refused = sh(course, f"make grade A={ASSIGNMENT}")
    assert refused.returncode != 0
    assert f"solutions/{ASSIGNMENT} changed since it was released" in refused.stderr
    assert f"make release A={ASSIGNMENT}" in refused.stderr
    released = sh(course, f"make release A={ASSIGNMENT}")
    assert released.returncode == 0, released.stdout + released.stderr
    assert "now stale: 1001 4242 probe refused" in released.stdout, released.stdout
    assert f"make grade A={ASSIGNMENT}" in released.stdout


def test_collect_reads_every_lms_shape_and_lists_what_it_did_not_collect(course):
    _, release, _ = notebooks()
    text = nbformat.writes(release)
    newer = text.replace("\n", "\n ", 1)  # another version of the same notebook
    files = {
        # Canvas: <name>_[late_]<user id>_<submission id>_<file>, re-submissions -1, -2
        f"smith john_4711_900_{NOTEBOOK}": text,
        f"smith john_late_4711_901_{ASSIGNMENT}-1.ipynb": newer,
        # Moodle: in folders, or prefixed
        f"Zoë Müller_51_assignsubmission_file_/{NOTEBOOK}": text,
        f"sub/O'Brien Ann_52_assignsubmission_file_{NOTEBOOK}": text,
        # Blackboard: the latest attempt wins
        f"HW1_j.doe_attempt_2026-11-01-10-00-00_{NOTEBOOK}": newer,
        f"HW1_j.doe_attempt_2026-10-30-09-00-00_{NOTEBOOK}": text,
        # plain <student id>_<notebook>: underscores, @, capitals, non-ASCII, " (1)"
        f"week3/jane_doe_{NOTEBOOK}": text,
        f"bob@uni.edu_{NOTEBOOK}": text,
        "Carl_01-Telephone.ipynb": text,
        f"José_{NOTEBOOK}": text,
        f"dave_{NOTEBOOK}": text,
        f"dave_{ASSIGNMENT} (1).ipynb": newer,
        # not collected, each with its reason
        "notes.txt": "hello",
        "eve_02-gradient.ipynb": text,
        f"x y_{NOTEBOOK}": text,
        NOTEBOOK: text,
    }
    with zipfile.ZipFile(course / "lms.zip", "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    # one earlier collection: not counted in this zip's summary
    (course / "submitted" / "earlier" / ASSIGNMENT).mkdir(parents=True)
    result = sh(course, f"make collect A={ASSIGNMENT} ZIP=lms.zip")
    assert result.returncode != 0  # some files were not collected: they are listed
    out = result.stdout
    got = sorted(p.parent.parent.name
                 for p in (course / "submitted").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}"))
    assert got == sorted(["4711", "51", "52", "j.doe", "jane_doe", "bob@uni.edu", "carl",
                          "josé", "dave"])
    # the notebook, and the two files nbgrader's own collect leaves (tests/test_exchange.py)
    assert all(sorted(p.name for p in folder.iterdir()) == sorted(
        [NOTEBOOK, "submission_secret.txt", "timestamp.txt"])
        for folder in (course / "submitted").glob(f"*/{ASSIGNMENT}") if folder.parent.name
        != "earlier")
    # Blackboard's newest attempt's time
    assert (course / "submitted" / "j.doe" / ASSIGNMENT / "timestamp.txt").read_text() == \
        "2026-11-01 10:00:00"
    for student in ("4711", "j.doe", "dave"):  # the newest of several
        assert (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).read_text() == newer
    assert "collected 9 notebooks of 9 students from lms.zip; 3 older re-submissions " \
           "replaced; 4 files NOT collected" in out, out
    for name, reason in [("notes.txt", "not a notebook"),
                         ("eve_02-gradient.ipynb", "holds no notebook of the assignment"),
                         (f"x y_{NOTEBOOK}", "is not a student id"),
                         (NOTEBOOK, "no student id")]:
        assert re.search(rf"NOT COLLECTED  {re.escape(name)}: .*{reason}", out), out
    assert "earlier" not in out


@pytest.mark.parametrize("line, message", [
    ("make grade", "name the assignment: make grade A=01-telephone"),
    ("make release A=99-nope", "no assignment '99-nope'"),
    ("make grade A=01-telephone", "no submissions of '01-telephone'"),
    ("make collect A=01-telephone ZIP=missing.zip", "name the LMS's zip of submissions"),
])
def test_missing_arguments_and_folders_are_named(course, line, message):
    result = sh(course, line)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_the_command_line_has_help():
    result = subprocess.run([sys.executable, "-m", "grading", "--help"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("release", "collect", "grade", "feedback", "grades"):
        assert command in result.stdout
    grade = subprocess.run([sys.executable, "-m", "grading", "grade", "--help"], cwd=REPO,
                           capture_output=True, text=True)
    assert "--force" in grade.stdout and "--sandbox" in grade.stdout


def test_release_refuses_a_source_that_fails_its_own_tests(course):
    path = course / "solutions" / ASSIGNMENT / NOTEBOOK
    source = nbformat.read(path, 4)
    answer = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = "raise RuntimeError('a broken source')"
    nbformat.write(source, path)
    before = (course / "exercises" / ASSIGNMENT / NOTEBOOK).read_bytes()
    result = sh(course, f"make release A={ASSIGNMENT}")
    assert result.returncode != 0 and "nothing released" in result.stdout + result.stderr
    assert (course / "exercises" / ASSIGNMENT / NOTEBOOK).read_bytes() == before


def test_collect_says_so_when_no_file_matches(course):
    with zipfile.ZipFile(course / "odd.zip", "w") as archive:
        archive.writestr("notebook.ipynb", "{}")
    result = sh(course, f"make collect A={ASSIGNMENT} ZIP=odd.zip")
    assert result.returncode != 0 and "nothing collected" in result.stdout
