"""Item analysis of one assignment for the instructor (issue 22): `python -m grading report
A` (`make report A=...`) reads the gradebook (nbgrader's grades and the course's own tables,
grading/diagnoses.py), so it covers the whole class however it was graded (in parallel, in
shards), and writes grading-records/report/<assignment>/:

- report.html: one page with the figures (matplotlib, PNG inside the page) and the tables;
- scores.csv: student, score, max_score;
- cells.csv: per test cell (the gradebook stores points per test cell, not per check):
  points, students graded, students with full points, pass rate, and how many students'
  failing checks there were diagnosed as each finding;
- checks.csv: the checks (each check() of a hidden test, as the grader judged it) grouped
  by test cell and message (a loop's checks share one message): how many checks, the first
  one's number in the cell (0 first, as in diagnoses.csv), students judged, students who
  passed all of them, failed any, or failed none but did not reach all (the cell stopped or
  ended before them), and the pass rate (passed all / judged);
- mistakes.csv: per catalogued mistake, its title and the students whose value matched it;
- structural.csv: the failing checks no catalogued mistake explained, by structural kind
  (and "none": nothing claimed, with the reason: value, stopped, missing, not plain data):
  students with at least one such check, and the failing checks;
- times.csv: student, grading seconds (autograding the submission, from the gradebook;
  else from grading-records/graded/);
- diagnoses.csv: every failing check's diagnosis as stored.
"""

import base64
import csv
import html
import io
from collections import Counter, defaultdict

from grading import state

COURSE = state.COURSE


def folder(assignment, course=COURSE):
    return state.records(course) / "report" / assignment


def gather(url, assignment, course=COURSE):
    """Everything the report shows, as plain data; SystemExit when nothing is graded."""
    from nbgrader.api import Gradebook, MissingEntry

    from grading.diagnoses import read_all

    scores, cells = {}, {}
    with Gradebook(url) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"nothing graded of {assignment}: it is not in the gradebook. "
                             f"Release and grade it first (make release A={assignment}, "
                             f"make grade A={assignment})") from None
        for submission in gradebook.assignment_submissions(assignment):
            if not any(grade.auto_score is not None or grade.manual_score is not None
                       for notebook in submission.notebooks for grade in notebook.grades):
                continue  # submitted, never autograded
            student = submission.student.id
            scores[student] = (submission.score, submission.max_score)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell_type != "code":
                        continue
                    key = (notebook.name, grade.name)
                    cell = cells.setdefault(key, {"notebook": notebook.name,
                                                  "grade_id": grade.name,
                                                  "points": grade.max_score, "graded": 0,
                                                  "full": 0})
                    cell["graded"] += 1
                    cell["full"] += (grade.score or 0) >= grade.max_score - 1e-9
    if not scores:
        raise SystemExit(f"nothing graded of {assignment} in this gradebook: run "
                         f"`make grade A={assignment}` first")
    diagnoses, times, outcomes = read_all(url, assignment)
    diagnoses = [row for row in diagnoses if row["student"] in scores]
    checks = {}  # (notebook, test cell, message) -> the group's checks and outcomes
    for row in outcomes:
        if row["student"] not in scores:
            continue
        group = checks.setdefault((row["notebook"], row["grade_id"], row["message"]), {
            "notebook": row["notebook"], "grade_id": row["grade_id"],
            "message": row["message"], "indices": set(), "students": defaultdict(set)})
        group["indices"].add(row["check_index"])
        group["students"][row["student"]].add(row["outcome"])
    if not times:  # graded before the table existed, or by plain `nbgrader autograde`
        times = {student: record["seconds"] for student, record
                 in state.graded_records(assignment, course).items()
                 if student in scores and record.get("seconds") is not None}
    times = {student: seconds for student, seconds in times.items() if student in scores}
    return {"scores": scores, "cells": cells, "checks": checks, "diagnoses": diagnoses,
            "times": times}


def tables(data):
    """(mistakes {id: sorted students}, structural {kind: (students, failing checks)},
    per cell {what its failing checks were diagnosed as: students})."""
    mistakes = defaultdict(set)
    structural = defaultdict(lambda: (set(), []))
    by_cell = defaultdict(lambda: defaultdict(set))
    for row in data["diagnoses"]:
        if row["kind"] == "catalogue":
            for mistake in row["what"].split(","):
                mistakes[mistake].add(row["student"])
        else:
            label = row["what"] if row["kind"] == "structural" else f"none ({row['what']})"
            structural[label][0].add(row["student"])
            structural[label][1].append(row)
        by_cell[(row["notebook"], row["grade_id"])][
            row["what"] if row["kind"] != "none" else "none"].add(row["student"])
    return ({mistake: sorted(students) for mistake, students in sorted(mistakes.items())},
            {kind: (len(students), len(rows)) for kind, (students, rows)
             in sorted(structural.items())},
            {cell: {what: len(students) for what, students in found.items()}
             for cell, found in by_cell.items()})


def check_groups(data):
    """Rows of the per-check table: one per (notebook, test cell, message), in the cell's
    order: notebook, test cell, first check's number, checks, message, students judged,
    passed all, failed any, not reached (failed none, missed some), pass rate."""
    rows = []
    for group in data["checks"].values():
        outcomes = group["students"].values()
        judged = len(outcomes)
        passed = sum(found == {"passed"} for found in outcomes)
        failed = sum("failed" in found for found in outcomes)
        rows.append([group["notebook"], group["grade_id"], min(group["indices"]),
                     len(group["indices"]), group["message"], judged, passed, failed,
                     judged - passed - failed, f"{passed / judged:.3f}"])
    return sorted(rows, key=lambda row: row[:3])


def titles(assignment, course=COURSE):
    """{mistake id: title} of the assignment's catalogue ({} without a readable one)."""
    from grading.mistakes import CatalogueError, catalogue

    try:
        return {mistake.id: mistake.title for mistake in catalogue(assignment, course)}
    except CatalogueError:
        return {}


def _figure_png(draw, width=6.4, height=3.2):
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.use("Agg")
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = figure.subplots()
    draw(axes)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _bars(axes, labels, values, xlabel, title, limit=None):
    positions = range(len(labels))
    axes.barh(list(positions), values, color="#4477aa")
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    axes.set_title(title, fontsize=10)
    if limit is not None:
        axes.set_xlim(0, limit)
    for position, value in zip(positions, values, strict=True):
        axes.annotate(f"{value:g}", (value, position), xytext=(3, 0),
                      textcoords="offset points", va="center", fontsize=8)


def score_histogram(axes, assignment, scores):
    """The scores' histogram: students (whole numbers on the axis) per score."""
    from matplotlib.ticker import MaxNLocator

    max_score = max(top for _, top in scores.values())
    axes.hist([score for score, _ in scores.values()],
              bins=[x - 0.5 for x in range(int(max_score) + 2)] if max_score <= 40 else 20,
              color="#4477aa", edgecolor="white")
    axes.set_xlabel(f"score (of {max_score:g})")
    axes.set_ylabel("students")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"{assignment}: scores of {len(scores)} students", fontsize=10)


def write(assignment, url, course=COURSE, out=None):
    """Write the report's files; return the folder."""
    from matplotlib.ticker import MaxNLocator

    data = gather(url, assignment, course)
    mistakes, structural, by_cell = tables(data)
    target = folder(assignment, course)
    target.mkdir(parents=True, exist_ok=True)
    scores, cells, times = data["scores"], data["cells"], data["times"]

    def csv_file(name, header, rows):
        with open(target / name, "w", newline="", encoding="utf-8") as table:
            writer = csv.writer(table)
            writer.writerow(header)
            writer.writerows(rows)

    csv_file("scores.csv", ["student", "score", "max_score"],
             [[s, f"{score:g}", f"{top:g}"] for s, (score, top) in sorted(scores.items())])
    cell_rows = []
    for key, cell in sorted(cells.items()):
        rate = cell["full"] / cell["graded"] if cell["graded"] else 0.0
        how = "; ".join(f"{what}: {n} student{'s' * (n != 1)}"
                        for what, n in sorted(by_cell.get(key, {}).items()))
        cell_rows.append([cell["notebook"], cell["grade_id"], f"{cell['points']:g}",
                          cell["graded"], cell["full"], f"{rate:.3f}", how])
    csv_file("cells.csv", ["notebook", "grade_id", "points", "graded", "full_points",
                           "pass_rate", "students_whose_failures_were_diagnosed_as"], cell_rows)
    check_rows = check_groups(data)
    csv_file("checks.csv", ["notebook", "grade_id", "first_check", "checks", "message",
                            "students_judged", "students_passed_all", "students_failed_any",
                            "students_not_reached", "pass_rate"], check_rows)
    named = titles(assignment, course)
    mistake_rows = [[m, named.get(m, ""), len(s), " ".join(s)] for m, s in mistakes.items()]
    csv_file("mistakes.csv", ["mistake", "title", "students", "which"], mistake_rows)
    csv_file("structural.csv", ["kind", "students", "failing_checks"],
             [[kind, students, count] for kind, (students, count) in structural.items()])
    csv_file("times.csv", ["student", "seconds"],
             [[s, f"{t:.2f}"] for s, t in sorted(times.items())])
    columns = ["student", "notebook", "grade_id", "check_index", "kind", "what", "graded_at",
               "seconds"]
    csv_file("diagnoses.csv", columns,
             [[row[c] if c != "seconds" else f"{row[c]:.4f}" for c in columns]
              for row in data["diagnoses"]])

    max_score = max(top for _, top in scores.values())
    figures = [("Scores", _figure_png(lambda axes: score_histogram(axes, assignment,
                                                                    scores)))]
    figures.append(("Pass rate per test cell", _figure_png(lambda axes: _bars(
        axes, [row[1] for row in cell_rows], [round(float(row[5]) * 100, 1)
                                              for row in cell_rows],
        "students with full points (%)", "Pass rate per test cell", limit=110),
        height=0.35 * len(cell_rows) + 1.2)))
    if mistakes:
        figures.append(("Catalogued mistakes", _figure_png(lambda axes: _bars(
            axes, list(mistakes), [len(s) for s in mistakes.values()], "students",
            "Students whose value matched a catalogued mistake"),
            height=0.35 * len(mistakes) + 1.2)))
    if structural:
        figures.append(("Students with failures no catalogued mistake explained", _figure_png(
            lambda axes: _bars(axes, list(structural), [students for students, _
                                                         in structural.values()],
                               "students", "Students with a failing check no catalogued "
                               "mistake explained, by what the values show"),
            height=0.35 * len(structural) + 1.2)))
    if times:
        figures.append(("Grading time", _figure_png(lambda axes: (
            axes.hist(list(times.values()), bins=min(20, max(5, len(times))),
                      color="#4477aa", edgecolor="white"),
            axes.set_xlabel("seconds to autograde one submission"),
            axes.set_ylabel("submissions"),
            axes.yaxis.set_major_locator(MaxNLocator(integer=True)),
            axes.set_title("Grading time per submission", fontsize=10)))))

    def table(header, rows):
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
                       + "</tr>" for row in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    mean = sum(score for score, _ in scores.values()) / len(scores)
    seconds = sorted(times.values())
    timing = (f"autograding one submission took {seconds[len(seconds) // 2]:.1f} s (the "
              f"median of {len(seconds)} submissions' own times), the longest "
              f"{seconds[-1]:.1f} s; `make grade` prints instead the run's wall time divided "
              "by its submissions, which parallel workers make shorter"
              if seconds else "no grading time recorded")
    parts = [f"<h1>Item analysis: {html.escape(assignment)}</h1>",
             f"<p>{len(scores)} students graded; mean score {mean:.2f} of {max_score:g}. "
             f"Grading time: {timing}. A test cell's pass rate counts the students with "
             "its full points (the gradebook keeps points per test cell); a check's counts "
             "the students whose value passed that check() of the hidden test.</p>"]
    for title, png in figures:
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
                     f"src='data:image/png;base64,{png}'>")
    parts.append("<h2>Test cells</h2>" + table(
        ["notebook", "test cell", "points", "students graded", "students with full points",
         "pass rate", "students whose failing checks were diagnosed as"], cell_rows))
    parts.append("<h2>Pass rate per check</h2><p>The check()s of a hidden test, grouped by "
                 "test cell and message (a loop's checks share one): the first one's number "
                 "in the cell (0 first), how many checks, and students: judged, passed all "
                 "of them, failed any, not reached (failed none, but the cell stopped or "
                 "ended before some).</p>" + (table(
                     ["notebook", "test cell", "first check", "checks", "message",
                      "students judged", "students passed all", "students failed any",
                      "students not reached", "pass rate"], check_rows)
                     if check_rows else "<p>No check outcome recorded (graded before "
                     "they were stored: grade again with FORCE=1).</p>"))
    parts.append("<h2>Catalogued mistakes</h2>" + (table(
        ["mistake", "title", "students", "which"], mistake_rows)
        if mistakes else "<p>No student's value matched a catalogued mistake.</p>"))
    parts.append("<h2>Failures without a catalogued mistake: students and failing checks"
                 "</h2>" + (table(
        ["what the values show", "students", "failing checks"],
        [[kind, students, count] for kind, (students, count) in structural.items()])
        if structural else "<p>None.</p>"))
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Item analysis: {html.escape(assignment)}</title><style>"
            "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
            "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #bbb;"
            "padding:.2rem .5rem;text-align:left;font-size:.9rem}img{max-width:100%}"
            "</style></head><body>" + "\n".join(parts) + "</body></html>\n")
    (target / "report.html").write_text(page, encoding="utf-8")
    if out is not None:
        kinds = Counter(row["kind"] for row in data["diagnoses"])
        print(f"item analysis of {assignment}: {len(scores)} students, "
              f"{len(data['diagnoses'])} failing checks: {kinds['catalogue']} named a "
              f"catalogued mistake, {kinds['structural']} a structural finding, "
              f"{kinds['none']} no diagnosis; "
              f"{target.relative_to(course)}/report.html and its CSV files", file=out)
    return target
