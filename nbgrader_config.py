# nbgrader configuration for the course (nbgrader 0.9.6). Run nbgrader from this folder, e.g.
#   .venv/bin/nbgrader generate_assignment 01-telephone --force
import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# The course root is the folder holding this file, so a copy of the course (as the tests make)
# works wherever it lives; an absolute path also avoids nbgrader's "root is not absolute" warning.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# Folder names follow the course layout (solutions/01-telephone/ -> exercises/01-telephone/)
# rather than nbgrader's defaults, source/ and release/.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# The gradebook is the default SQLite file <root>/gradebook.db (gitignored): it holds grades,
# and the hidden tests that autograding restores, so it never belongs in the repository.

# Seconds per cell, not per notebook: this is the timeout nbgrader's Execute actually applies
# (default 30). A student's slow loop fails its own cell instead of hanging the grading.
c.Execute.timeout = 60
# Minimal tracebacks: a failing hidden test must not quote its own source lines in the feedback.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]

# Restore and run test cells a student deleted; without this a deleted test never runs and
# its points are lost, even for a correct answer.
c.OverwriteCells.add_missing_cells = True

# Feedback goes back to students, and by default it shows the hidden tests verbatim: strip them.
# The first two are GenerateFeedback's defaults, kept in their order.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]

# ---- Grading sandbox (grading/sandbox.py; the README's "Grading sandbox" says what it does) ----
# Each student's kernel runs as its own uid in bubblewrap: no network, no course folder, limits.
import sys  # noqa: E402

from nbgrader.converters import Autograde  # noqa: E402
from nbgrader.preprocessors import Execute  # noqa: E402

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
