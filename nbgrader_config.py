# nbgrader configuration for the course (nbgrader 0.9.6). Run nbgrader from this folder, e.g.
#   .venv/bin/nbgrader generate_assignment 01-telephone --force
import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, GetGrades

from grading.judge import (ClearInstructorsHiddenTests, FeedbackExporter, FeedbackSummary,
                           JudgeChecks, RestoreMetadata, ScanFeedback, StripReferences,
                           refuse_irregular_submissions)

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# The course root is the folder holding this file, so a copy of the course (as the tests make)
# works wherever it lives; an absolute path also avoids nbgrader's "root is not absolute" warning.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# Folder names follow the course layout (solutions/01-telephone/ -> exercises/01-telephone/)
# rather than nbgrader's defaults, source/ and release/.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# The gradebook: BPCOURSE_DB_URL (a SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db,
# needed to grade in parallel or from several machines), else the SQLite file
# <root>/gradebook.db (gitignored): it holds grades, and the hidden tests that autograding
# restores, so it never belongs in the repository.
# A server database checks that every assignment belongs to a known course (SQLite does
# not), and nbgrader's exchange on JupyterHub needs the course's id too.
c.CourseDirectory.course_id = os.environ.get("BPCOURSE_COURSE_ID", "backprop-course")
c.CourseDirectory.db_url = (os.environ.get("BPCOURSE_DB_URL")
                            or "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db"))
# nbgrader's file-system exchange (a shared disk; the instructor guide's "JupyterHub"): the
# students' environment (`python -m grading student-env`) is configured with the same folder.
c.Exchange.root = os.environ.get("BPCOURSE_EXCHANGE") or "/srv/nbgrader/exchange"

# Seconds per cell, not per notebook: this is the timeout nbgrader's Execute actually applies
# (default 30). A student's slow loop fails its own cell instead of hanging the grading.
c.Execute.timeout = 60
# Every output is in once the last cell has run: stop the kernel at once instead of waiting
# for it to exit by itself (about 0.7 s a notebook); the sandbox then kills what is left.
c.Execute.shutdown_kernel = "immediate"
# Minimal tracebacks: a failing hidden test must not quote its own source lines in the feedback.
# bplib is sealed in the grading kernel before any cell runs (bplib/testing.py's seal()): a
# function a test switches off stays off for a copy of it or of its code, and bplib's files
# cannot be loaded a second time.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal",
                             "--IPKernelApp.exec_lines=__import__('bplib.testing').testing.seal()"]

# Restore and run test cells a student deleted; without this a deleted test never runs and
# its points are lost, even for a correct answer.
c.OverwriteCells.add_missing_cells = True

# Feedback goes back to students, and by default it shows the hidden tests verbatim: strip them
# (from the instructor's cells: a marker in a student's comment is the student's text).
# The first two are GenerateFeedback's defaults, kept in their order. ScanFeedback (grading/)
# comes last: a cell that would still show a hidden-test or solution line (decoded: HTML,
# base64, hex) is redacted, and the page is written.
# FeedbackSummary puts a first cell on the page: each task's points, verdict, diagnosis and
# where to reread (grading/judge.py); ScanFeedback scans it too.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor,
                                    ClearInstructorsHiddenTests, FeedbackSummary, ScanFeedback]
# A feedback page loads nothing from another site (nbconvert's template would load MathJax
# from a CDN: a student opening their feedback would contact it); math shows as TeX source.
c.GenerateFeedback.exporter_class = FeedbackExporter

# Every page made of a notebook is sanitised: the feedback pages and formgrader's (which
# builds its HTMLExporter from this config when the notebook server runs in this folder).
# JudgeChecks has already dropped every text/html, JavaScript and SVG output of the graded
# notebook; this also cleans the HTML in the student's markdown cells.
c.HTMLExporter.sanitize_html = True

# --- A submission is plain files only: a link, device, fifo or socket anywhere in
# submitted/<student>/<assignment>/ (checked with lstat before nbgrader copies or reads any
# of it) means that submission is not graded, with the reason in the log.
refuse_irregular_submissions(Autograde)

# --- Hidden checks are judged by the grader, not in the student's kernel (grading/judge.py).
# StripReferences runs right before the notebook is executed: the kernel receives each test
# cell's probe only (no expect=/judge=/accept=, no reference helper). JudgeChecks runs right
# after it and before the grades are saved. Both are placed around whichever execution step
# the pipeline has (the sandbox may replace it).
_pipeline = list(c.Autograde.autograde_preprocessors
                 if "autograde_preprocessors" in c.Autograde
                 else Autograde.class_traits()["autograde_preprocessors"].default())
_executes = [i for i, step in enumerate(_pipeline)
             if isinstance(step, type) and issubclass(step, Execute)]
if JudgeChecks not in _pipeline:
    _pipeline.insert(_executes[0] + 1, JudgeChecks)
if StripReferences not in _pipeline:
    _pipeline.insert(_executes[0], StripReferences)
c.Autograde.autograde_preprocessors = _pipeline
# Tampered cell metadata (a test cell made an answer cell, a grade flag removed) is put back
# from solutions/ before nbgrader's own steps read it: first of all, since DeduplicateIds
# and OverwriteCells stop a whole submission at a graded cell without a grade_id.
_sanitize = list(c.Autograde.sanitize_preprocessors
                 if "sanitize_preprocessors" in c.Autograde
                 else Autograde.class_traits()["sanitize_preprocessors"].default())
if RestoreMetadata not in _sanitize:
    _sanitize.insert(0, RestoreMetadata)
c.Autograde.sanitize_preprocessors = _sanitize

# `make collect` does not use nbgrader's zip_collect: grading/collect.py reads the LMS's zip
# (Canvas, Moodle, Blackboard names) and reports every file it could not collect.

# ---- Grading sandbox (grading/sandbox.py; the README's "Grading sandbox" says what it does) ----
# Each student's kernel runs as its own uid in bubblewrap: no network, no course folder, limits.
import sys  # noqa: E402

sys.path.insert(0, c.CourseDirectory.root)
from grading.sandbox import SandboxedExecute  # noqa: E402

c.Autograde.autograde_preprocessors = [
    SandboxedExecute if step is Execute else step
    for step in c.Autograde.get("autograde_preprocessors",
                                Autograde.autograde_preprocessors.default())]
# Per notebook, however many cells it has (Execute.timeout above bounds one cell).
c.SandboxedKernelManager.wall_seconds = 300
c.SandboxedKernelManager.memory_mb = 2048
c.SandboxedKernelManager.max_processes = 64
