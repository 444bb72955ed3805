"""grades.csv for every assignment, with each row's status, and the LMS files that carry
the grades back: Moodle's grading worksheet written here, Canvas's and Blackboard's own
downloaded gradebook filled in.

grades.csv has nbgrader's export columns plus `name`, `lms`, `lms_id`, `status` and
`reason`:

- name: what the LMS called the student at collection (the file name of a Canvas or Moodle
  zip, Blackboard's attempt receipt), else the gradebook's first and last name;
- lms, lms_id: the LMS the submission was collected from (canvas, moodle, blackboard, or
  empty: the exchange or a zip of plain names) and the id it gave the student;
- graded: autograded, `score` is the grade;
- late: graded, and handed in late (the LMS said so at collection, or nbgrader's due date);
- not graded: the last attempt to grade it failed, `reason` says why; `score` is EMPTY,
  never 0 (fix the cause and grade again);
- not graded yet: collected (in submitted/) but never graded, e.g. after `make grade
  STUDENT=<another id>`; `score` is EMPTY and `reason` names the command that grades it;
- not submitted: a student the gradebook knows with no submission of that assignment.

grades-moodle-<assignment>.csv: the columns of Moodle's assignment "offline grading
worksheet" (Identifier "Participant <n>", Full name, ..., Grade, Maximum Grade, Feedback
comments), for the students collected from a Moodle zip (the participant number is what
Moodle's zip named them by); written only when some student came from Moodle.

Canvas and Blackboard match an import on their own ids: Canvas on its user id (`ID`) and an
assignment column headed `<name> (<assignment id>)`, Blackboard's Grade Center on
`Username` and a column headed `<name> [...] |<column id>`. Neither id is known here, so
`fill` takes the gradebook the instructor downloaded from the LMS and writes a copy with
the assignment's column filled for each graded student collected from that LMS (matched by
the id the LMS gave at collection); every other cell is left as downloaded, and each student
from that LMS not graded, whose cell keeps what the LMS had, is named. Nothing but the
LMS's own ids is written into its file. A fill is never left stale: each records the
grades it was made from (grading-records/fills/), and `export` removes a fill whose
assignment's grades have changed since, saying which command remakes it.
"""

import csv
import hashlib
import io
import json
import re
import sys
from pathlib import Path

from grading import state

COURSE = state.COURSE
COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
           "email", "name", "lms", "lms_id", "raw_score", "late_submission_penalty", "score",
           "max_score", "status", "reason"]
LMS_NAMES = {"canvas": "Canvas", "moodle": "Moodle", "blackboard": "Blackboard"}


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
            # a submission collected (submitted/<id>/<assignment>/) but not graded yet is
            # that student's row too, even before the gradebook knows the student
            collected_ids = {path.parent.name for path in
                             (COURSE / "submitted").glob(f"*/{assignment.name}")
                             if path.is_dir()}
            for student_id in sorted(set(students) | set(records) | collected_ids):
                student = students.get(student_id)
                row = {"assignment": assignment.name, "duedate": assignment.duedate or "",
                       "student_id": student_id,
                       "last_name": getattr(student, "last_name", "") or "",
                       "first_name": getattr(student, "first_name", "") or "",
                       "email": getattr(student, "email", "") or "",
                       "max_score": assignment.max_score}
                record = records.get(student_id) or {}
                collected = state.collected_record(assignment.name, student_id, COURSE) or {}
                given = " ".join(filter(None, (row["first_name"], row["last_name"])))
                row.update(name=collected.get("name") or given,
                           lms=collected.get("lms") or "", lms_id=collected.get("lms_id")
                           if collected.get("lms") else "")
                try:
                    submission = gradebook.find_submission(assignment.name, student_id)
                except MissingEntry:
                    submission = None
                if record.get("status") == "not graded":
                    row.update(status="not graded", reason=record.get("reason") or "")
                elif submission is None and student_id in collected_ids:
                    row.update(status="not graded yet", reason=(
                        f"collected, not graded yet: make grade A={assignment.name} "
                        f"STUDENT={student_id}"))
                elif submission is None:
                    row.update(status="not submitted", reason="")
                else:
                    late = collected.get("late") or submission.total_seconds_late > 0
                    row.update(status="late" if late else "graded", reason="",
                               timestamp=submission.timestamp or "",
                               raw_score=submission.score,
                               late_submission_penalty=submission.late_submission_penalty,
                               score=submission.score - (
                                   submission.late_submission_penalty or 0))
                rows.append(row)
    return rows


def export(url, course=COURSE, out=sys.stdout, filling=()):
    """Write grades.csv and each assignment's Moodle worksheet (when a student came from
    Moodle); say how Canvas's and Blackboard's students get their grades; return the
    names written."""
    rows = _rows(url)
    written = ["grades.csv"]
    with open(course / "grades.csv", "w", newline="", encoding="utf-8") as table:
        writer = csv.DictWriter(table, COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in COLUMNS})
    for assignment in sorted({row["assignment"] for row in rows}):
        mine = [row for row in rows if row["assignment"] == assignment]
        counts = {status: sum(row["status"] == status for row in mine)
                  for status in ("graded", "late", "not graded", "not graded yet",
                                 "not submitted")}
        # the whole class (every student the gradebook, the records and submitted/ know),
        # where the grade summary above it counts the submissions graded or listed by that
        # run
        print(f"  grades.csv, {assignment} (whole class): "
              + ", ".join(f"{n} {status}" for status, n in counts.items()), file=out)
        for name in _stale_fills(course, assignment, mine):
            lms = name.split("-")[1]
            print(f"  removed {name}: the grades of {assignment} changed since it was "
                  f"filled; remake it with `make grades A={assignment} {lms.upper()}=<the "
                  f"gradebook downloaded from {LMS_NAMES[lms]}>`", file=out)
        moodle = _moodle(course, assignment, mine)
        if moodle:
            written.append(moodle)
        for lms in LMS_NAMES:
            came = sum(row["lms"] == lms for row in mine)
            if lms == "moodle":
                said = (f"{moodle} ({came} from Moodle)" if came else
                        f"no Moodle file: nobody's {assignment} came from a Moodle zip")
            elif came and lms in filling:
                said = f"{came} from {LMS_NAMES[lms]}: its download is filled below"
            elif came:
                # a fill of these very grades (a stale one was removed above) is done
                filled = sorted(path.name for path in
                                Path(course).glob(f"grades-{lms}-{assignment}.*"))
                said = (f"{came} from {LMS_NAMES[lms]}: filled in {', '.join(filled)}, "
                        "with these grades" if filled else
                        f"{came} from {LMS_NAMES[lms]}: `make grades A={assignment} "
                        f"{lms.upper()}=<the gradebook downloaded from {LMS_NAMES[lms]}>` "
                        f"fills its {assignment} column")
            else:
                continue
            print(f"  {assignment}: {said}", file=out)
    return written


def _moodle(course, assignment, rows):
    """grades-moodle-<assignment>.csv for the students collected from Moodle, or None (and
    an older file of no student now removed)."""
    name = f"grades-moodle-{assignment}.csv"
    mine = [row for row in rows if row["lms"] == "moodle"]
    if not mine:
        (course / name).unlink(missing_ok=True)
        return None
    with open(course / name, "w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(["Identifier", "Full name", "Email address", "Status", "Grade",
                         "Maximum Grade", "Grade can be changed", "Last modified (submission)",
                         "Last modified (grade)", "Feedback comments"])
        for row in mine:
            grade = row["score"] if row["status"] in ("graded", "late") else ""
            comment = f"not graded: {row['reason']}" if row["status"] == "not graded" else ""
            writer.writerow([f"Participant {row['lms_id']}", row["name"], row["email"], "",
                             grade, row["max_score"], "Yes", "", "", comment])
    return name


def _fingerprint(rows):
    """A checksum of an assignment's grades (what a fill is made from)."""
    grades = sorted((row["student_id"], row.get("lms") or "", row.get("lms_id") or "",
                     row["status"], repr(row.get("score"))) for row in rows)
    return hashlib.sha256(json.dumps(grades).encode()).hexdigest()


def _fill_record(course, name):
    return Path(course) / "grading-records" / "fills" / f"{name}.json"


def _stale_fills(course, assignment, rows):
    """Remove the Canvas and Blackboard fills of the assignment made from other grades
    than `rows` (or whose grades were not recorded); return their names."""
    removed = []
    now = _fingerprint(rows)
    for lms in GRADEBOOKS:
        for path in sorted(Path(course).glob(f"grades-{lms}-{assignment}.*")):
            record = _fill_record(course, path.name)
            try:
                made = json.loads(record.read_text())["grades"]
            except (OSError, ValueError, KeyError):
                made = None
            if made != now:
                path.unlink()
                record.unlink(missing_ok=True)
                removed.append(path.name)
    return removed


# How each LMS's downloaded gradebook names a student and an assignment's column.
GRADEBOOKS = {
    # Canvas: Gradebook > Export; the ID column is the Canvas user id, an assignment's
    # column is "<name> (<assignment id>)"
    "canvas": {"id": "ID", "column": re.compile(r"(?P<name>.+?) \((?P<id>\d+)\)")},
    # Blackboard Learn: Grade Center > Work Offline > Download; students by Username, a
    # column by "<name> [Total Pts: ...] |<column id>"
    "blackboard": {"id": "Username",
                   "column": re.compile(r"(?P<name>.+?)\s*(?:\[[^\]]*\])?\s*\|(?P<id>\d+)")},
}


def _key(text):
    return re.sub(r"[\W_]+", "", text.casefold())


def _read_table(path):
    """(rows, how) of a downloaded gradebook: UTF-8 (with or without a byte-order mark) or
    UTF-16 (Blackboard's .xls download), comma- or tab-separated; `how` writes it back
    alike."""
    raw = Path(path).read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif raw[:3] == b"\xef\xbb\xbf":
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise SystemExit(f"{path} is not UTF-8 or UTF-16 text: give the file as the LMS "
                         "downloaded it") from None
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ","
    ends = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        raise SystemExit(f"{path} is empty: give the gradebook the LMS downloaded")
    return rows, {"encoding": encoding, "delimiter": delimiter, "ends": ends}


def pick_column(lms, header, assignment, column=None, path=""):
    """The index of the assignment's column in a downloaded gradebook's header: the one
    named `column`, else the only one whose name is the assignment's (case, spaces and
    punctuation aside)."""
    pattern = GRADEBOOKS[lms]["column"]
    columns = [name for name in header if pattern.fullmatch(name)]
    if column:
        if column not in header:
            raise SystemExit(f"{path} has no column {column!r}; its assignment columns: "
                             + "; ".join(columns))
        if not pattern.fullmatch(column):
            raise SystemExit(f"{column!r} is not an assignment column of {LMS_NAMES[lms]} "
                             f"(they carry {LMS_NAMES[lms]}'s id: "
                             + ("'<name> (<id>)'" if lms == "canvas" else "'<name> |<id>'")
                             + ")")
        return header.index(column)
    found = [name for name in columns
             if _key(pattern.fullmatch(name)["name"]) == _key(assignment)]
    if len(found) != 1:
        raise SystemExit(f"{'no' if not found else 'more than one'} column of {path} is "
                         f"named like {assignment}: name it with COLUMN=\"<column>\" "
                         f"(--column) "
                         f"(its assignment columns: {'; '.join(columns) or 'none'})")
    return header.index(found[0])


def _name_in(lms, header, line):
    """The student's name as the LMS's download gives it (Canvas's "Student", Blackboard's
    first and last name), or ""."""
    fields = {"canvas": ["Student"], "blackboard": ["First Name", "Last Name"]}[lms]
    return " ".join(line[header.index(field)].strip() for field in fields
                    if field in header and header.index(field) < len(line)).strip()


def fill(lms, download, assignment, url, column=None, course=COURSE, out=sys.stdout):
    """Write grades-<lms>-<assignment><suffix>: the gradebook downloaded from the LMS with
    the assignment's column filled for every graded student collected from that LMS whose
    id is in it, in the download's encoding, separators and line ends. Students graded
    from another LMS or the exchange are listed, not the LMS's to fill. Return {student:
    why} of the graded students collected from this LMS that it could not fill."""
    rows, how = _read_table(download)
    header, id_column = rows[0], GRADEBOOKS[lms]["id"]
    if id_column not in header:
        raise SystemExit(f"{download} has no {id_column!r} column: is it the gradebook "
                         f"downloaded from {LMS_NAMES[lms]}? (its columns: "
                         f"{', '.join(header)})")
    where, at = header.index(id_column), pick_column(lms, header, assignment, column,
                                                     download)
    lines = {}
    for number, line in enumerate(rows[1:], 1):
        if len(line) > max(where, at) and line[where].strip():
            lines.setdefault(line[where].strip().casefold(), number)
    every = [row for row in _rows(url) if row["assignment"] == assignment]
    graded = [row for row in every if row["status"] in ("graded", "late")]
    filled, unmatched, elsewhere, left = [], {}, {}, {}
    for row in every:  # not graded: their cells stay as the LMS had them, each one named
        number = lines.get((row["lms_id"] or "").casefold())
        if row["lms"] == lms and row["status"] not in ("graded", "late") and number:
            name = _name_in(lms, header, rows[number]) or row["name"]
            left[row["student_id"]] = (f"{row['lms_id']} ({name})" if name
                                       else row["lms_id"],
                                       f"{row['status']}: {row['reason']}".rstrip(": "))
    for row in graded:
        if row["lms"] != lms:
            other = row["lms"]
            elsewhere[row["student_id"]] = (
                f"from Moodle: in grades-moodle-{assignment}.csv" if other == "moodle" else
                f"from {LMS_NAMES[other]}: `make grades A={assignment} {other.upper()}=...`"
                f" fills {LMS_NAMES[other]}'s file" if other else
                "from no LMS (the exchange, or a zip's plain <student id>_<notebook> "
                "file): in grades.csv")
        elif row["lms_id"].casefold() not in lines:
            unmatched[row["student_id"]] = (f"{LMS_NAMES[lms]}'s {id_column} "
                                            f"{row['lms_id']} is not in {download}")
        else:
            rows[lines[row["lms_id"].casefold()]][at] = f"{row['score']:.6g}"
            filled.append(row["student_id"])
    name = f"grades-{lms}-{assignment}{Path(download).suffix or '.csv'}"
    for older in Path(course).glob(f"grades-{lms}-{assignment}.*"):
        older.unlink()  # one fill per LMS and assignment, whatever the download's extension
    with open(course / name, "w", newline="", encoding=how["encoding"]) as table:
        csv.writer(table, delimiter=how["delimiter"], lineterminator=how["ends"],
                   quoting=csv.QUOTE_ALL if lms == "blackboard" else csv.QUOTE_MINIMAL
                   ).writerows(rows)
    record = _fill_record(course, name)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"grades": _fingerprint(every), "download": str(download),
                                  "column": header[at]}))
    came = sum(row["lms"] == lms for row in graded)
    print(f"{name}: {download} with column {header[at]!r} filled for {len(filled)} of "
          f"the {came} graded students from {LMS_NAMES[lms]}"
          f"{f'; {len(left)} not graded, their cells left as downloaded:' if left else ''}",
          file=out)
    for _, (who, why) in sorted(left.items()):
        print(f"  left as downloaded  {who}: {why}", file=out)
    for student, why in sorted(elsewhere.items()):
        print(f"  not {LMS_NAMES[lms]}'s  {student}: {why}", file=out)
    for student, why in sorted(unmatched.items()):
        print(f"  NOT FILLED  {student}: {why}", file=out)
    return unmatched
