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
# The gradebook: BPCOURSE_DB_URL (a SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db,
# needed to grade in parallel or from several machines), else the SQLite file
# <root>/gradebook.db (gitignored): it holds grades, and the hidden tests that autograding
# restores, so it never belongs in the repository.
# A server database checks that every assignment belongs to a known course (SQLite does
# not), and nbgrader's exchange on JupyterHub needs the course's id too.
c.CourseDirectory.course_id = os.environ.get("BPCOURSE_COURSE_ID", "backprop-course")
c.CourseDirectory.db_url = (os.environ.get("BPCOURSE_DB_URL")
                            or "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db"))

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

# `make collect` (nbgrader zip_collect): an LMS's zip of submissions whose files are named
# <student id>_<notebook>.ipynb, e.g. alice_01-telephone.ipynb, anywhere inside the zip.
# Another LMS's naming: set BPCOURSE_ZIP_REGEXP to a regular expression with the groups
# student_id and file_id (it is matched against each extracted file's full path).
c.FileNameCollectorPlugin.named_regexp = os.environ.get(
    "BPCOURSE_ZIP_REGEXP", r".*/(?P<student_id>[A-Za-z0-9.-]+)_(?P<file_id>[^/_]+\.ipynb)$")
