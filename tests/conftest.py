"""Shared fixtures: the repository's paths, the book built once from clean, and the lines
a student must never see."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET_BLOCKS = [("### BEGIN SOLUTION", "### END SOLUTION"),
                 ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]


def secret_lines(source_root=REPO / "solutions", min_length=12):
    """Every line inside a solution or hidden-test block of the instructor notebooks.

    Very short lines (``return x``) are left out: they occur in any code and would only
    produce false alarms.
    """
    secrets = set()
    for notebook in sorted(source_root.glob("*/*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            inside = False
            for line in "".join(cell["source"]).splitlines():
                stripped = line.strip()
                if any(stripped == begin for begin, _ in SECRET_BLOCKS):
                    inside = True
                elif any(stripped == end for _, end in SECRET_BLOCKS):
                    inside = False
                elif inside and len(stripped) >= min_length:
                    secrets.add(stripped)
    return secrets


def leaks_in(paths, secrets):
    """(file, secret line) for every secret line or block marker found in the files."""
    markers = {begin for begin, _ in SECRET_BLOCKS} | {end for _, end in SECRET_BLOCKS}
    found = []
    for path in paths:
        text = Path(path).read_text(errors="replace")
        # Built pages escape quotes and angle brackets; compare with both spellings.
        unescaped = (text.replace("&quot;", '"').replace("&#39;", "'").replace("&lt;", "<")
                     .replace("&gt;", ">").replace("&amp;", "&"))
        for secret in secrets | markers:
            if secret in text or secret in unescaped:
                found.append((str(path), secret))
    return found


@pytest.fixture(scope="session")
def book_html(tmp_path_factory):
    """The whole book, built from clean (no cache) with -W --keep-going."""
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [str(BIN / "jupyter-book"), "build", str(REPO), "--path-output", str(out),
         "-W", "--keep-going"],
        capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        pytest.fail(f"the book build failed (exit {result.returncode}):\n"
                    f"{result.stdout[-6000:]}\n{result.stderr[-4000:]}")
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def chapter_pages():
    """The chapter sources, by the page name they are built to."""
    return {f"chapters/{path.stem}.html": path
            for path in sorted((REPO / "chapters").glob("*.md"))}
