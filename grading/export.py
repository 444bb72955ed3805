"""grades.csv for every assignment, with each row's status, and the grade import files of
Canvas and Moodle, one per assignment.

grades.csv has nbgrader's export columns plus `status` and `reason`:

- graded: autograded, `score` is the grade;
- late: graded, and handed in late (the LMS said so at collection, or nbgrader's due date);
- not graded: the last attempt to grade it failed, `reason` says why; `score` is EMPTY,
  never 0 (fix the cause and grade again);
- not submitted: a student the gradebook knows with no submission of that assignment.

grades-canvas-<assignment>.csv: Canvas's gradebook import columns (Student, ID, SIS User ID,
SIS Login ID, Section, then the assignment), a "Points Possible" row, and one row per
student: the Canvas user id of students collected from a Canvas zip, else the student id as
SIS Login ID. Not-graded students have an empty grade (Canvas leaves those unchanged).

grades-moodle-<assignment>.csv: the columns of Moodle's assignment "offline grading
worksheet" (Identifier "Participant <n>", Full name, ..., Grade, Maximum Grade, Feedback
comments), for the students collected from a Moodle zip (the participant number is what
Moodle's zip named them by).
"""

import csv
import sys

from grading import state

COURSE = state.COURSE
COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
           "email", "raw_score", "late_submission_penalty", "score", "max_score", "status",
           "reason"]


def _rows(url):
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook(url) as gradebook:
        students = {s.id: s for s in gradebook.students}
        for assignment in gradebook.assignments:
            from grading.batch import safe_url
            # a "not graded" record of a submission removed since (rm -rf submitted/<id>)
            # is no student's: the grade summary does not count it either
            records = {student: record for student, record
                       in state.graded_records(assignment.name, COURSE).items()
                       if record.get("gradebook") == safe_url(url)
                       and (record.get("status") != "not graded" or (
                           COURSE / "submitted" / student / assignment.name).is_dir())}
            for student_id in sorted(set(students) | set(records)):
                student = students.get(student_id)
                row = {"assignment": assignment.name, "duedate": assignment.duedate or "",
                       "student_id": student_id,
                       "last_name": getattr(student, "last_name", "") or "",
                       "first_name": getattr(student, "first_name", "") or "",
                       "email": getattr(student, "email", "") or "",
                       "max_score": assignment.max_score}
                record = records.get(student_id) or {}
                try:
                    submission = gradebook.find_submission(assignment.name, student_id)
                except MissingEntry:
                    submission = None
                if record.get("status") == "not graded":
                    row.update(status="not graded", reason=record.get("reason") or "")
                elif submission is None:
                    row.update(status="not submitted", reason="")
                else:
                    collected = state.collected_record(assignment.name, student_id,
                                                       COURSE) or {}
                    late = collected.get("late") or submission.total_seconds_late > 0
                    row.update(status="late" if late else "graded", reason="",
                               timestamp=submission.timestamp or "",
                               raw_score=submission.score,
                               late_submission_penalty=submission.late_submission_penalty,
                               score=submission.score - (
                                   submission.late_submission_penalty or 0))
                rows.append(row)
    return rows


def export(url, course=COURSE, out=sys.stdout):
    """Write grades.csv and the LMS files; return the names written."""
    rows = _rows(url)
    written = ["grades.csv"]
    with open(course / "grades.csv", "w", newline="", encoding="utf-8") as table:
        writer = csv.DictWriter(table, COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in COLUMNS})
    for assignment in sorted({row["assignment"] for row in rows}):
        mine = [row for row in rows if row["assignment"] == assignment]
        written += [_canvas(course, assignment, mine), _moodle(course, assignment, mine)]
        counts = {status: sum(row["status"] == status for row in mine)
                  for status in ("graded", "late", "not graded", "not submitted")}
        # the whole class (every student the gradebook and the records know), where the
        # grade summary above it counts the submissions graded or listed by that run
        print(f"  grades.csv, {assignment} (whole class): "
              + ", ".join(f"{n} {status}" for status, n in counts.items()), file=out)
    return written


def _canvas(course, assignment, rows):
    name = f"grades-canvas-{assignment}.csv"
    with open(course / name, "w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
        max_score = rows[0]["max_score"] if rows else ""
        writer.writerow(["Points Possible", "", "", "", "", max_score])
        for row in rows:
            collected = state.collected_record(assignment, row["student_id"], course) or {}
            grade = row["score"] if row["status"] in ("graded", "late") else ""
            if collected.get("lms") == "canvas":
                writer.writerow([collected["name"], collected["lms_id"], "", "", "", grade])
            else:
                writer.writerow([row["student_id"], "", "", row["student_id"], "", grade])
    return name


def _moodle(course, assignment, rows):
    name = f"grades-moodle-{assignment}.csv"
    with open(course / name, "w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(["Identifier", "Full name", "Email address", "Status", "Grade",
                         "Maximum Grade", "Grade can be changed", "Last modified (submission)",
                         "Last modified (grade)", "Feedback comments"])
        for row in rows:
            collected = state.collected_record(assignment, row["student_id"], course) or {}
            if collected.get("lms") != "moodle":
                continue
            grade = row["score"] if row["status"] in ("graded", "late") else ""
            comment = f"not graded: {row['reason']}" if row["status"] == "not graded" else ""
            writer.writerow([f"Participant {collected['lms_id']}", collected["name"],
                             row["email"], "", grade, row["max_score"], "Yes", "", "",
                             comment])
    return name
