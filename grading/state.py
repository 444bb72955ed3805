"""What the instructor's commands remember between runs, in grading-records/ (gitignored):

- released/<assignment>.json: the checksum of solutions/<assignment>/ when it was last
  released into the gradebook (so that grading against a changed source is refused);
- graded/<assignment>/<student>.json: the last grading of a submission: its status
  (graded / not graded), the reason, the checksums of the submission and of the source it
  was graded against (so that only what changed is graded again);
- collected/<assignment>/<student>.json: what the LMS called the student (for the LMS grade
  exports), and whether the LMS marked the submission late;
- logs/: nbgrader's own output, kernel banners and warnings.

One file per student: several processes or machines grading shares of one class never
write the same file.
"""

import hashlib
import json
import os
import time
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]
RECORDS = "grading-records"


def records(course=COURSE):
    return Path(course) / RECORDS


def folder_checksum(folder):
    """sha256 over the relative paths and contents of every file under folder (checkpoints
    and caches left out); None if the folder does not exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink() or any(
                part in (".ipynb_checkpoints", "__pycache__") for part in path.parts):
            continue
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def source_checksum(assignment, course=COURSE):
    return folder_checksum(Path(course) / "solutions" / assignment)


def submission_checksum(assignment, student, course=COURSE):
    return folder_checksum(Path(course) / "submitted" / student / assignment)


def read(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)  # readers never see half a file


def released_path(assignment, course=COURSE):
    return records(course) / "released" / f"{assignment}.json"


def graded_path(assignment, student, course=COURSE):
    return records(course) / "graded" / assignment / f"{student}.json"


def graded_records(assignment, course=COURSE):
    """{student: record} of every submission of the assignment graded so far."""
    folder = records(course) / "graded" / assignment
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = read(path)
        if data:
            found[path.stem] = data
    return found


def collected_record(assignment, student, course=COURSE):
    return read(records(course) / "collected" / assignment / f"{student}.json")


def log_path(name, course=COURSE):
    path = records(course) / "logs" / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def now():
    return time.strftime("%Y-%m-%d %H:%M:%S")
