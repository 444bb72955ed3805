"""The first cell of every assignment: import bplib, or install it from the course's site.

    .venv/bin/python tools/bootstrap.py     (after changing edition.yml's site)

rewrites that cell in every notebook under solutions/ (a locked nbgrader cell, so a
student cannot change it) and regenerates the releases with `make release`; with
--no-release it writes the same cell into the releases under exercises/ directly (the
cell is locked, so the release holds exactly the source's). make public writes the cell
again into the edition's notebooks from edition.yml as it is then. In the course's
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


def bootstrap_source(site, repository="", jupyterhub=""):
    """The cell's code for the edition's addresses: it says only what is true there. With
    a site it installs bplib from the site's wheel; without one it cannot, and its error
    says where bplib can be had (the course's hub, Binder, the public repository, the
    site's own page for students) as far as edition.yml configures them."""
    if site:
        url = f"{site.rstrip('/')}/wheels/{bplib_wheel()}"
        return ("# bplib is the course's library. Where it is not installed (Colab, a bare\n"
                "# Python), this cell installs it; elsewhere it does nothing.\n"
                "try:\n    import bplib\nexcept ImportError:\n"
                f"    %pip install --quiet {url}\n"
                "    import bplib\n"
                f'    print("bplib was not installed here: installed it from {url}")')
    places = []
    if jupyterhub:
        places.append("open this notebook on the course's JupyterHub")
    if repository:
        places.append("open it on Binder, or run `pip install -r requirements.txt` in the "
                      f"folder of {repository}")
    places.append("install bplib's wheel (the page 'For students' of the course's book "
                  "links it)")
    advice = "; or ".join(places)
    message = f"bplib, the course's library, is not installed here: {advice}."
    lines, line = [], ""
    for word in message.split(" "):  # the message, wrapped into short string pieces
        if line and len(line) + len(word) > 70:
            lines.append(line)
            line = ""
        line += word + " "
    lines.append(line.rstrip())
    pieces = "\n".join(f"        {piece!r}" for piece in lines)
    return ("# bplib is the course's library. Where it is not installed, this cell stops\n"
            "# and says how to install it; elsewhere it does nothing.\n"
            "try:\n    import bplib\nexcept ImportError:\n"
            f"    raise ImportError(\n{pieces}\n    ) from None")


def bootstrap_cell(site, repository="", jupyterhub=""):
    cell = nbformat.v4.new_code_cell(bootstrap_source(site, repository, jupyterhub))
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": GRADE_ID, "locked": True,
                                 "schema_version": 3, "solution": False, "task": False}
    cell.metadata["deletable"] = False
    cell.metadata["editable"] = False
    return cell


def edition_addresses():
    """(site, repository, jupyterhub) of edition.yml."""
    settings = yaml.safe_load((REPO / "edition.yml").read_text()) or {}
    return tuple((settings.get(key) or "").rstrip("/")
                 for key in ("site", "repository", "jupyterhub"))


def site_of_edition():
    return edition_addresses()[0]


def write_first_cell(path, cell, released=False):
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0] if notebook.cells else None
    if first is not None and first.metadata.get("nbgrader", {}).get("grade_id") == GRADE_ID:
        cell.id = first.id
        if released:  # the release's own metadata, with the checksum of the new source
            from nbgrader.utils import compute_checksum
            first.source = cell.source
            first.metadata["nbgrader"]["checksum"] = compute_checksum(first)
            cell = first
        notebook.cells[0] = cell
    else:
        notebook.cells.insert(0, cell)
    nbformat.write(notebook, path)


def main(argv=None):
    release = "--no-release" not in (argv if argv is not None else sys.argv[1:])
    site, repository, jupyterhub = edition_addresses()
    assignments = []
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        write_first_cell(path, bootstrap_cell(site, repository, jupyterhub))
        assignments.append(path.parent.name)
        released = REPO / "exercises" / path.parent.name / path.name
        if not release:
            if not released.is_file():
                raise SystemExit(f"{released} is not released yet: run without --no-release")
            write_first_cell(released, bootstrap_cell(site, repository, jupyterhub), True)
    for assignment in assignments if release else []:
        subprocess.run(["make", "--no-print-directory", "release", f"A={assignment}"],
                       cwd=REPO, check=True)
    print(f"bootstrap cell for site {site or '(none)'} in: {', '.join(assignments)}")


if __name__ == "__main__":
    sys.exit(main())
