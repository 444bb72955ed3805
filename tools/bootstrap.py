"""The first cell of every assignment: import bplib, or install it from the course's site.

    .venv/bin/python tools/bootstrap.py     (after changing edition.yml's site)

rewrites that cell in every notebook under solutions/ (a locked nbgrader cell, so a
student cannot change it) and regenerates the releases with `make release`. In the course's
own environment, and while autograding, bplib imports and the cell does nothing.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
GRADE_ID = "bplib-bootstrap"


def bplib_wheel():
    """The wheel's file name, as `make wheel` builds it into the site's wheels/ folder."""
    project = tomllib.loads((REPO / "bplib" / "pyproject.toml").read_text())["project"]
    return f"{project['name']}-{project['version']}-py3-none-any.whl"


def bootstrap_source(site):
    """The cell's code for a site address ('' when the edition has none yet)."""
    head = ("# bplib is the course's library. Where it is not installed (Colab, a bare\n"
            "# Python), this cell installs it; elsewhere it does nothing.\n"
            "try:\n    import bplib\nexcept ImportError:\n")
    if not site:
        return head + (
            '    raise ImportError("bplib, the course\'s library, is not installed here: '
            'open this\\n"\n'
            '                      "notebook on the course\'s JupyterHub or Binder, or run '
            '`pip install -r\\n"\n'
            '                      "requirements.txt` in the course\'s public repository.")'
            " from None")
    url = f"{site.rstrip('/')}/wheels/{bplib_wheel()}"
    return head + (f"    %pip install --quiet {url}\n"
                   "    import bplib\n"
                   f'    print("bplib was not installed here: installed it from {url}")')


def bootstrap_cell(site):
    cell = nbformat.v4.new_code_cell(bootstrap_source(site))
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": GRADE_ID, "locked": True,
                                 "schema_version": 3, "solution": False, "task": False}
    cell.metadata["deletable"] = False
    cell.metadata["editable"] = False
    return cell


def site_of_edition():
    return (yaml.safe_load((REPO / "edition.yml").read_text()) or {}).get("site") or ""


def main():
    site = site_of_edition()
    assignments = []
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        cell = bootstrap_cell(site)
        first = notebook.cells[0] if notebook.cells else None
        if first is not None and first.metadata.get("nbgrader", {}).get("grade_id") == GRADE_ID:
            cell.id = first.id
            notebook.cells[0] = cell
        else:
            notebook.cells.insert(0, cell)
        nbformat.write(notebook, path)
        assignments.append(path.parent.name)
    for assignment in assignments:
        subprocess.run(["make", "--no-print-directory", "release", f"A={assignment}"],
                       cwd=REPO, check=True)
    print(f"bootstrap cell for site {site or '(none)'} in: {', '.join(assignments)}")


if __name__ == "__main__":
    sys.exit(main())
