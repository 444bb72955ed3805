"""Collect an LMS's zip of submissions into submitted/<student>/<assignment>/.

Every file in the zip ends up in one of five lists: collected, replaced by a newer
submission of the same student and notebook, not replacing a newer one already collected,
ignored as no submission at all (macOS's ``__MACOSX/`` and ``._*`` files, ``.DS_Store``,
``Thumbs.db``, ``desktop.ini``, Blackboard's ``<assignment>_<user>_attempt_<time>.txt``
receipts), or not collected (with the reason). The
command exits non-zero, after collecting everything it could, when a file was not collected;
ignored files are listed but do not make it fail.

How a file is read (the student-id rule, also in the instructor guide):

1. Its name (case-insensitive) must end with one of the assignment's notebook names
   (``exercises/<assignment>/*.ipynb``), optionally followed by an LMS re-submission suffix:
   ``-1``, ``-2``, ... (Canvas) or `` (1)``, `` (2)``, ... (browsers, Blackboard); the higher
   the number, the newer the file. Whatever comes before the notebook name, minus one ``_``
   or space, names the student; when nothing does, the folder holding the file names them.
2. That part is read with the first pattern that fits:

   - Canvas: ``<name>_[late_]<user id>_<submission id>`` -> student id = Canvas user id
     (digits); ``late`` marks the submission late.
   - Moodle: ``<full name>_<participant id>_assignsubmission_file_`` -> student id = the
     participant id (digits; Moodle's "Participant <n>" identifier of the assignment).
   - Blackboard: ``<assignment>_<username>_attempt_<yyyy-mm-dd-hh-mm-ss>`` -> student id =
     the username; the latest attempt is kept. When the zip holds the attempt's receipt
     (the same ``..._attempt_<time>`` stem, ``.txt``), its ``Name: <name> (<username>)``
     line gives the username and the student's name (an assignment named ``HW_1`` is
     then read right); without a receipt the assignment part is taken to hold no ``_``.
   - otherwise ``<student id>`` itself (``alice``, ``jane_doe``, ``bob@uni.edu``).

3. A student id is NFC-normalised and lower-cased, and holds only letters (any script),
   digits and ``. _ - @ +``; anything else is not collected, with the reason.

Of several files of one student for one notebook, the newest is kept (Blackboard's
attempt time, then the re-submission number, then the time stored in the zip). So it is
across collections: a file handed in before the submission already collected for that
student (its ``timestamp.txt``) does not replace it; its line says the newer one was kept,
and that is no error (collecting an older zip again changes nothing).

A zip made without the UTF-8 flag (bit 0x800; a Mac's Archive Utility, some LMSs) stores
names as UTF-8 bytes that Python reads as cp437 (``Zoë`` becomes ``Zo├½``): such a name is
read as UTF-8 when its bytes are valid UTF-8 (member_name).

Each collected submission gets the two files nbgrader's own ``collect`` leaves next to a
notebook handed in through the exchange, so that every later step (autograde's lateness,
``nbgrader release_feedback``) treats both alike:

- ``timestamp.txt``: when it was handed in. Blackboard's attempt time when the file name
  carries one; otherwise the file's modification time stored in the zip (Canvas and Moodle
  set it to the upload time). A zip stores times without a time zone: nbgrader reads them
  as UTC.
- ``submission_secret.txt``: a random key, kept across re-collections (so an unchanged
  submission stays unchanged for incremental grading). ``nbgrader release_feedback``
  publishes the feedback under a name derived from it; a student collected from a zip
  never had the key, so their feedback goes back through the LMS (``feedback/<student>/``).
"""

import json
import re
import secrets
import shutil
import sys
import unicodedata
import zipfile
from pathlib import Path

from grading import state

RESUBMISSION = r"(?:-(?P<dash>\d+)| ?\((?P<paren>\d+)\))?"
CANVAS = re.compile(r"(?P<name>.+?)_(?:(?P<late>late)_)?(?P<id>\d+)_(?P<sub>\d+)", re.I)
MOODLE = re.compile(r"(?P<name>.+)_(?P<id>\d+)_assignsubmission_[a-z]+_?", re.I)
BLACKBOARD = re.compile(r"(?P<assignment>[^_]+)_(?P<id>.+)_attempt_"
                        r"(?P<attempt>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)", re.I)
STUDENT_ID = re.compile(r"[\w.@+-]+")


# Files every LMS zip or unzip-and-rezip holds that are no submission: macOS's metadata
# (a __MACOSX/ folder of AppleDouble "._<name>" files), Finder's and Explorer's folder
# files, and Blackboard's receipt of each attempt, <assignment>_<user>_attempt_<time>.txt,
# beside the attempt's files (its time is the one the notebook's name carries, which is
# what timestamp.txt gets). They are listed as ignored, and do not make collect fail.
FOLDER_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
BLACKBOARD_RECEIPT = re.compile(r"[^_/]+_.+_attempt_\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.txt",
                                re.I)


def not_a_submission(member):
    """Why a zip member is no submission at all (macOS metadata, a folder file, Blackboard's
    attempt receipt), or None."""
    parts = [part for part in member.split("/") if part]
    if any(part == "__MACOSX" for part in parts[:-1]):
        return "macOS metadata (__MACOSX/)"
    if parts[-1].startswith("._"):
        return "macOS metadata (an AppleDouble ._ file)"
    if parts[-1].lower() in FOLDER_FILES:
        return "a folder's settings file"
    if BLACKBOARD_RECEIPT.fullmatch(parts[-1]):
        return "Blackboard's receipt of the attempt"
    return None


def member_name(member):
    """A zip member's name as its maker wrote it: without the UTF-8 flag zipfile decodes
    the stored bytes as cp437, which turns the UTF-8 a Mac writes without the flag into
    mojibake; those bytes, when they are valid UTF-8, are UTF-8."""
    if member.flag_bits & 0x800:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member.filename


def newer_already(folder, handed_in):
    """The time the submission already in `folder` was handed in (its timestamp.txt, as
    nbgrader's collect and this one write it), when it is later than `handed_in`; else
    None."""
    from nbgrader.utils import parse_utc

    try:
        stamp = (folder / "timestamp.txt").read_text().strip()
        return stamp if parse_utc(stamp) > parse_utc(handed_in) else None
    except (OSError, ValueError, OverflowError):
        return None


class NotCollected(Exception):
    """A file of the zip that is not collected; the message is the reason."""


def notebooks_of(course, assignment):
    """The notebook file names students hand in for the assignment (from its release)."""
    names = sorted(p.name for p in (Path(course) / "exercises" / assignment).glob("*.ipynb"))
    if not names:
        raise SystemExit(f"exercises/{assignment}/ holds no notebook: run "
                         f"`make release A={assignment}` first")
    return names


def read_name(member, notebooks, receipts=None):
    """What a zip member's path says: a dict with student, notebook, lms, lms_id, name,
    late and the sort key of its version; raises NotCollected with the reason. `receipts`
    maps a Blackboard attempt's stem (casefolded) to (username, name) from its receipt."""
    parts = [part for part in member.split("/") if part]
    base = unicodedata.normalize("NFC", parts[-1])
    stem, dot, extension = base.rpartition(".")
    if extension.lower() != "ipynb" or not dot:
        raise NotCollected("not a notebook (.ipynb)")
    for notebook in notebooks:
        pattern = rf"(?:(?P<prefix>.*?)[_ ])?{re.escape(notebook[:-len('.ipynb')])}" \
                  + RESUBMISSION
        found = re.fullmatch(pattern, stem, re.I)
        if found:
            break
    else:
        raise NotCollected(f"its name holds no notebook of the assignment "
                           f"(expected {' or '.join(notebooks)}, after the student id)")
    who = found["prefix"]
    if not who:
        if len(parts) < 2:
            raise NotCollected("no student id: name it <student id>_" + notebook)
        who = unicodedata.normalize("NFC", parts[-2])
    resubmission = int(found["dash"] or found["paren"] or 0)
    info = {"notebook": notebook, "late": False, "attempt": "", "resubmission": resubmission}
    if match := CANVAS.fullmatch(who):
        info.update(lms="canvas", lms_id=match["id"], name=match["name"],
                    late=bool(match["late"]), student=match["id"])
    elif match := MOODLE.fullmatch(who.rstrip("_") + "_"):
        info.update(lms="moodle", lms_id=match["id"], name=match["name"],
                    student=match["id"])
    elif match := BLACKBOARD.fullmatch(who):
        user, name = match["id"], ""
        said = (receipts or {}).get(who.casefold())
        tail = f"_{said[0]}_attempt_{match['attempt']}" if said else ""
        if said and who.casefold().endswith(tail.casefold()) and len(who) > len(tail):
            # the receipt's username, spelt as the file name spells it
            user, name = who[len(who) - len(tail) + 1:][:len(said[0])], said[1]
        info.update(lms="blackboard", lms_id=user, name=name,
                    attempt=match["attempt"], student=user)
    else:
        info.update(lms="", lms_id=who, name="", student=who)  # an id, not a name
    student = info["student"].lower()
    if not STUDENT_ID.fullmatch(student):
        raise NotCollected(f"{info['student']!r} is not a student id (letters, digits and "
                           f". _ - @ + only): rename the file <student id>_{notebook}")
    info["student"] = student
    return info


RECEIPT_NAME = re.compile(r"^Name:\s*(?P<name>.*?)\s*\((?P<id>[^()\s]+)\)\s*$", re.M)


def receipt_name(text):
    """(username, name) from a Blackboard attempt receipt's ``Name: Jane Doe (jdoe)`` line,
    or None."""
    found = RECEIPT_NAME.search(text)
    return (found["id"].casefold(), found["name"]) if found and found["name"] else None


def kept_newer(record, stamp):
    """What a line says of the newer submission already collected, handed in at `stamp`:
    when and from which zip it was collected (its record), as far as it is known."""
    try:
        said = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        said = {}
    source = (f", collected on {said['collected']} from {said['zip']}"
              if said.get("collected") and said.get("zip") else "")
    return f"kept the newer one, handed in {stamp}{source}"


def handed_in(attempt, date_time):
    """nbgrader's timestamp.txt: Blackboard's attempt time (yyyy-mm-dd-hh-mm-ss) if the
    name carried one, else the zip's time of the file (no time zone: nbgrader reads UTC)."""
    if attempt:
        day, hour = attempt[:10], attempt[11:].replace("-", ":")
        return f"{day} {hour}"
    year, month, day, hour, minute, second = date_time
    return f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"


def collect(course, assignment, zip_path, out=sys.stdout):
    """Collect the zip into course/submitted/; return (chosen, replaced, refused): chosen
    maps (student, notebook) to the file read for it (with "kept" when the newer one
    already collected stayed), refused is [(member, reason)]. Records what the LMS called
    each student, and when and from which zip it was collected, in
    grading-records/collected/<assignment>/<student>.json (for the LMS grade exports)."""
    course = Path(course)
    notebooks = notebooks_of(course, assignment)
    chosen, refused, replaced, ignored = {}, [], [], []
    receipts = {}  # a Blackboard attempt's stem -> (username, name) its receipt gives
    with zipfile.ZipFile(zip_path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        names = {id(member): member_name(member) for member in members}
        for member in members:
            base = names[id(member)].rsplit("/", 1)[-1]
            if BLACKBOARD_RECEIPT.fullmatch(base) and not not_a_submission(
                    names[id(member)]).startswith("macOS"):
                text = archive.read(member)[:4096].decode("utf-8", "replace")
                if said := receipt_name(text):
                    receipts[unicodedata.normalize("NFC", base[:-4]).casefold()] = said
        for member in members:
            name = names[id(member)]
            if why := not_a_submission(name):
                ignored.append((name, why))
                continue
            try:
                info = read_name(name, notebooks, receipts)
            except NotCollected as why:
                refused.append((name, str(why)))
                continue
            info["file"], info["member"] = name, member
            key = (info["student"], info["notebook"])
            version = (info["attempt"], info["resubmission"], member.date_time)
            info["version"] = version
            info["handed_in"] = handed_in(info["attempt"], member.date_time)
            if key in chosen:
                older, newer = sorted([chosen[key], info], key=lambda i: i["version"])
                replaced.append((older["file"], f"replaced by the newer {newer['file']}"))
                chosen[key] = newer
            else:
                chosen[key] = info
        for (student, notebook), info in sorted(chosen.items()):
            target = course / "submitted" / student / assignment / notebook
            record = course / "grading-records" / "collected" / assignment / f"{student}.json"
            if target.is_file() and (stamp := newer_already(target.parent,
                                                            info["handed_in"])):
                info["kept"] = kept_newer(record, stamp)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info["member"]) as source, open(target, "wb") as copy:
                shutil.copyfileobj(source, copy)
            (target.parent / "timestamp.txt").write_text(info["handed_in"])
            secret = target.parent / "submission_secret.txt"
            if not secret.is_file():
                secret.write_text(secrets.token_hex(64))
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps(
                {**{key: info[key] for key in ("lms", "lms_id", "name", "late", "file")},
                 "zip": Path(zip_path).name, "collected": state.now()},
                ensure_ascii=False, indent=1), encoding="utf-8")
    written = {key: info for key, info in chosen.items() if "kept" not in info}
    kept = {key: info for key, info in chosen.items() if "kept" in info}
    older = f"; {len(kept)} older than the one already collected, not replaced"
    students = sorted({student for student, _ in written})
    print(f"collecting {assignment} from {Path(zip_path).name}: {len(members)} files",
          file=out)
    for (student, notebook), info in sorted(written.items()):
        late = ", late" if info["late"] else ""
        lms = f" ({info['lms']}{late})" if info["lms"] or late else ""
        print(f"  collected      {student:<20} {notebook}  <- {info['file']}{lms}", file=out)
    for (student, notebook), info in sorted(kept.items()):
        print(f"  not replaced   {student:<20} {notebook}  <- {info['file']}: handed in "
              f"{info['handed_in']}, before the one already collected: {info['kept']}",
              file=out)
    for member, why in replaced:
        print(f"  replaced       {member}: {why}", file=out)
    for member, why in ignored:
        print(f"  ignored (not a submission): {member}: {why}", file=out)
    for member, why in refused:
        print(f"  NOT COLLECTED  {member}: {why}", file=out)
    print(f"collected {len(written)} notebook{'s' * (len(written) != 1)} of {len(students)} "
          f"student{'s' * (len(students) != 1)} from {Path(zip_path).name}"
          f"{f'; {len(replaced)} older re-submissions replaced' if replaced else ''}"
          f"{older if kept else ''}"
          f"{f'; {len(refused)} files NOT collected (listed above)' if refused else ''}"
          f"{f'; {len(ignored)} ignored (not a submission)' if ignored else ''}",
          file=out)
    return chosen, replaced, refused
