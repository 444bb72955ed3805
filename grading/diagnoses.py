"""The checks' outcomes, the diagnoses and grading times, stored with the grades (issue 22):
three tables of the course's own in nbgrader's gradebook (the same SQLite file or PostgreSQL
database, reached with SQLAlchemy as nbgrader reaches it), so that the item analysis (`make
report`) reads the whole class however it was graded: in parallel, in shards, on several machines.

bp_diagnoses: one row per failing check of a graded notebook, written by the grader's
  process (JudgeChecks) when it judges the notebook; the rows of that (assignment, student,
  notebook) are replaced at each grading, so a regrade leaves only its own.
  kind: catalogue (a catalogued mistake matched; `what` is its id, several joined by ",")
        | structural (`what` is the structural kind: negated, scaled, ...)
        | none (nothing claimed; `what` is "value", or why there was no value to look at:
          stopped, missing, not plain data, extra)
  seconds: what the diagnosis of that check cost.
bp_checks: one row per check of every judged test cell of a graded notebook (the grader
  decides each check() of a hidden test on its own; nbgrader keeps points per test cell
  only), written with the diagnoses and replaced with them.
  check_index: the check's number in its cell (0 first, as in bp_diagnoses);
  message: the check's message (what the student reads when it fails);
  outcome: passed | failed (its value, or a record that is not plain data, fails it)
        | not run (the cell sent nothing for it: it stopped or ended before).
bp_grading_times: one row per (assignment, student): when it was last graded and how long
  autograding it took (grading/batch.py writes it).
"""

import time

from sqlalchemy import (Column, Float, Integer, MetaData, String, Table, Text,
                        create_engine, delete, insert, select)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

METADATA = MetaData()
DIAGNOSES = Table(
    "bp_diagnoses", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment", String(128), nullable=False, index=True),
    Column("student", String(128), nullable=False),
    Column("notebook", String(128), nullable=False),
    Column("grade_id", String(128), nullable=False),
    Column("check_index", Integer),
    Column("kind", String(16), nullable=False),
    Column("what", String(512), nullable=False),
    Column("graded_at", String(32), nullable=False),
    Column("seconds", Float, nullable=False),
)
CHECKS = Table(
    "bp_checks", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment", String(128), nullable=False, index=True),
    Column("student", String(128), nullable=False),
    Column("notebook", String(128), nullable=False),
    Column("grade_id", String(128), nullable=False),
    Column("check_index", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("graded_at", String(32), nullable=False),
)
OUTCOMES = ("passed", "failed", "not run")
TIMES = Table(
    "bp_grading_times", METADATA,
    Column("assignment", String(128), primary_key=True),
    Column("student", String(128), primary_key=True),
    Column("graded_at", String(32), nullable=False),
    Column("seconds", Float, nullable=False),
)

_engines = {}  # url -> engine whose tables exist: once per process


def engine(url):
    if url not in _engines:
        made = create_engine(url, poolclass=NullPool,
                             **({"connect_args": {"timeout": 60}}
                                if url.startswith("sqlite") else {}))
        try:
            METADATA.create_all(made)
        except DBAPIError:  # another process created them at the same moment
            METADATA.create_all(made)
        _engines[url] = made
    return _engines[url]


def now():
    return time.strftime("%Y-%m-%d %H:%M:%S")


def store(url, assignment, student, notebook, rows, checks=()):
    """Replace the diagnoses of one graded notebook by rows (dicts: grade_id, check_index,
    kind, what, seconds) and its checks' outcomes by checks (dicts: grade_id, check_index,
    message, outcome), in one transaction."""
    when = now()
    with engine(url).begin() as connection:
        for table in (DIAGNOSES, CHECKS):
            connection.execute(delete(table).where(
                table.c.assignment == assignment, table.c.student == student,
                table.c.notebook == notebook))
        if checks:
            connection.execute(insert(CHECKS), [
                {"assignment": assignment, "student": student, "notebook": notebook,
                 "graded_at": when, **{key: row[key] for key in (
                     "grade_id", "check_index", "message", "outcome")}}
                for row in checks])
        if rows:
            connection.execute(insert(DIAGNOSES), [
                {"assignment": assignment, "student": student, "notebook": notebook,
                 "graded_at": when, **{key: row[key] for key in (
                     "grade_id", "check_index", "kind", "what", "seconds")}}
                for row in rows])


def store_time(url, assignment, student, seconds):
    with engine(url).begin() as connection:
        connection.execute(delete(TIMES).where(TIMES.c.assignment == assignment,
                                               TIMES.c.student == student))
        connection.execute(insert(TIMES), [{"assignment": assignment, "student": student,
                                            "graded_at": now(), "seconds": seconds}])


def read(url, assignment):
    """([diagnosis row as a dict, ...], {student: seconds}) of an assignment."""
    return read_all(url, assignment)[:2]


def read_all(url, assignment):
    """([diagnosis row, ...], {student: seconds}, [check row, ...]) of an assignment, rows
    as dicts."""
    with engine(url).connect() as connection:
        checks = [dict(row._mapping) for row in connection.execute(
            select(CHECKS).where(CHECKS.c.assignment == assignment)
            .order_by(CHECKS.c.student, CHECKS.c.notebook, CHECKS.c.grade_id,
                      CHECKS.c.check_index))]
        rows = [dict(row._mapping) for row in connection.execute(
            select(DIAGNOSES).where(DIAGNOSES.c.assignment == assignment)
            .order_by(DIAGNOSES.c.student, DIAGNOSES.c.notebook, DIAGNOSES.c.grade_id,
                      DIAGNOSES.c.check_index))]
        times = {row.student: row.seconds for row in connection.execute(
            select(TIMES).where(TIMES.c.assignment == assignment))}
    return rows, times, checks
