"""The points a notebook's text states against the points its grade cells carry (nbgrader's
cell metadata `points`, what grading and the feedback count). `make release` refuses a
source where they differ: the feedback would print a task's heading, "(1 point)", above
"0 / 2 points".

The text states points in three places, all checked:

- a heading ending in "(N points)": the grade cells under it (up to the next heading of
  the same or a higher level) carry N points together, e.g. "## Task 5: ... (4 points)"
  over "### 5a. ... (1 point)" and "### 5b. ... (3 points)";
- the introduction's numbered list, "2. ... (1 point);": item N against the cells under
  the heading "Task N" (all of its "(N points)" added: one item may name two parts);
- "Total: N points": every grade cell of the notebook.

Every grade cell must sit under a heading that states its points.
"""

import re

import nbformat

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
STATED = re.compile(r"\((\d+(?:\.\d+)?) points?\)")
AT_END = re.compile(r"\s*\((\d+(?:\.\d+)?) points?\)\s*$")
TASK = re.compile(r"Task (\d+)\b")
ITEM = re.compile(r"^(\d+)\.\s")
TOTAL = re.compile(r"Total:\s*(\d+(?:\.\d+)?) points?")


def _points(number):
    return f"{number:g} point{'s' * (number != 1)}"


def _items(text):
    """{n: the text of item n} of the numbered lists in a markdown text (an item goes on
    over its indented lines)."""
    items, current = {}, None
    for line in text.splitlines():
        found = ITEM.match(line)
        if found:
            current = int(found.group(1))
            items[current] = line
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            items[current] += " " + line.strip()
        else:
            current = None
    return items


def problems(path):
    """[what differs, one sentence each] for the notebook at path; [] when its text and its
    grade cells agree."""
    notebook = nbformat.read(path, as_version=4)
    open_, sections, items, totals, orphans = [], [], {}, [], []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown":
            if not sections:  # the introduction: before the first heading that is a task
                items.update(_items(cell.source))
            totals += [float(n) for n in TOTAL.findall(cell.source)]
            fenced = False  # a "# comment" in a fenced code block is no heading
            for line in cell.source.splitlines():
                if line.lstrip().startswith(("```", "~~~")):
                    fenced = not fenced
                heading = not fenced and HEADING.match(line)
                if not heading:
                    continue
                level, title = len(heading.group(1)), heading.group(2)
                open_ = [s for s in open_ if s["level"] < level]
                stated = AT_END.search(title)
                task = TASK.match(title)
                if stated or task:
                    section = {"level": level, "title": AT_END.sub("", title),
                               "stated": float(stated.group(1)) if stated else None,
                               "task": int(task.group(1)) if task else None, "cells": {}}
                    open_.append(section)
                    sections.append(section)
        if meta.get("grade") and meta.get("points") is not None:
            points = float(meta["points"])
            for section in open_:
                section["cells"][meta.get("grade_id", "?")] = points
            if not any(s["stated"] is not None for s in open_):
                orphans.append(f"grade cell {meta.get('grade_id', '?')} ({_points(points)}) "
                               "is under no heading that states its points")
    found = []
    for section in sections:
        carried = sum(section["cells"].values())
        if section["stated"] is not None and carried != section["stated"]:
            cells = ", ".join(f"{name} {points:g}" for name, points in section["cells"].items())
            found.append(f"'{section['title']}' says {_points(section['stated'])}, its grade "
                         f"cells carry {_points(carried)} ({cells or 'no grade cell'})")
    tasks = {s["task"]: s for s in sections if s["task"] is not None}
    for number, text in sorted(items.items()):
        said = [float(n) for n in STATED.findall(text)]
        if not said:
            continue
        if number not in tasks:
            found.append(f"the introduction's item {number} says {_points(sum(said))}, "
                         f"but no heading names Task {number}")
            continue
        carried = sum(tasks[number]["cells"].values())
        if sum(said) != carried:
            found.append(f"the introduction's item {number} says {_points(sum(said))}, the "
                         f"grade cells of '{tasks[number]['title']}' carry {_points(carried)}")
    every = sum(float(c.metadata["nbgrader"]["points"]) for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade")
                and c.metadata["nbgrader"].get("points") is not None)
    found += [f"'Total: {_points(total)}' in the text, the grade cells carry {_points(every)}"
              for total in totals if total != every]
    return found + orphans
