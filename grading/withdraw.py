"""Remove a student from the course's grading, for one assignment or all of them: a
student who withdrew, or a collection that made a student by mistake.

    python -m grading withdraw <student> [--assignment A]      (make withdraw S=<student>)

Everything of theirs goes: submitted/, autograded/ and feedback/<student>/<assignment>/,
their gradebook rows (nbgrader's submission, and the student when no submission of theirs
is left), the course's own records (grading-records/graded/ and collected/, the
bp_diagnoses, bp_checks and bp_grading_times rows of grading/diagnoses.py). The next
`make grades` lists them nowhere. An LMS zip collected again brings them back.
"""

import shutil
import sys
from pathlib import Path

from grading import state

COURSE = state.COURSE
FOLDERS = ("submitted", "autograded", "feedback")


def assignments_of(student, course, gradebook):
    """Every assignment the student has anything in: folders, records, gradebook."""
    course = Path(course)
    found = {path.name for folder in FOLDERS
             for path in (course / folder / student).glob("*") if path.is_dir()}
    for kind in ("graded", "collected"):
        found.update(path.parent.name for path in
                     (state.records(course) / kind).glob(f"*/{student}.json"))
    try:
        student_row = gradebook.find_student(student)
        found.update(s.assignment.name for s in student_row.submissions)
    except Exception:  # nbgrader's MissingEntry: not in the gradebook
        pass
    return sorted(found)


def withdraw(student, url, assignment=None, course=COURSE, out=sys.stdout):
    """Remove the student's work and records (of one assignment, else of all); return the
    assignments it was removed from. Refuses a student the course has nothing of."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy import delete

    from grading.diagnoses import CHECKS, DIAGNOSES, TIMES, engine

    course = Path(course)
    with Gradebook(url) as gradebook:
        every = assignments_of(student, course, gradebook)
        chosen = [assignment] if assignment else every
        try:
            known = gradebook.find_student(student) is not None
        except MissingEntry:
            known = False
        if (not every and not known) or (assignment and assignment not in every):
            what = f" of {assignment}" if assignment else ""
            raise SystemExit(f"nothing{what} of a student {student!r} in submitted/, "
                             "autograded/, feedback/, the grading records or the gradebook")
        for name in chosen:
            for folder in FOLDERS:
                path = course / folder / student / name
                if path.exists():
                    shutil.rmtree(path)
                    print(f"  removed {path.relative_to(course)}/", file=out)
            for kind in ("graded", "collected"):
                record = state.records(course) / kind / name / f"{student}.json"
                if record.exists():
                    record.unlink()
                    print(f"  removed {record.relative_to(course)}", file=out)
            try:
                gradebook.remove_submission(name, student)
                print(f"  removed the gradebook's submission of {name}", file=out)
            except MissingEntry:
                pass
        for folder in FOLDERS:  # the student's own folder, once empty
            top = course / folder / student
            if top.is_dir() and not any(top.iterdir()):
                top.rmdir()
        try:
            if not gradebook.find_student(student).submissions:
                gradebook.remove_student(student)
                print(f"  removed {student} from the gradebook (no submission left)",
                      file=out)
        except MissingEntry:
            pass
    with engine(url).begin() as connection:
        for table in (DIAGNOSES, CHECKS, TIMES):
            connection.execute(delete(table).where(
                table.c.student == student, table.c.assignment.in_(chosen)))
    print(f"withdrew {student} from {', '.join(chosen) or 'the gradebook'}: run "
          "`make grades` to rewrite grades.csv and the LMS files without them", file=out)
    return chosen
