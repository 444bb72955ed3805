"""Shared fixtures and helpers: the repository's paths, the book built once from clean, and
the lines a student must never see (with a scan for them in built files)."""

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

MARKER = r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)"
# Shorter lines (`return x`) occur in any code; as secrets they would only raise false alarms.
MIN_SECRET_LENGTH = 12


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs nbgrader or builds the book (tens of seconds)")


def secret_lines(notebook):
    """{"SOLUTION": lines, "HIDDEN TESTS": lines}: lines that occur only inside such regions.

    A line that also occurs outside every region (an import, say) is no secret.
    """
    inside = {"SOLUTION": set(), "HIDDEN TESTS": set()}
    outside = set()
    for cell in notebook.cells:
        region = None
        for line in cell.source.splitlines():
            marker = re.search(MARKER, line)
            if marker:
                region = marker.group(2) if marker.group(1) == "BEGIN" else None
            elif region:
                inside[region].add(line.strip())
            else:
                outside.add(line.strip())
    return {kind: {line for line in lines - outside if len(line) >= MIN_SECRET_LENGTH}
            for kind, lines in inside.items()}


def all_secret_lines():
    """Every secret line of every instructor notebook under solutions/."""
    secrets = set()
    for source in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for lines in secret_lines(nbformat.read(source, as_version=4)).values():
            secrets |= lines
    return secrets


def html_text(path):
    """The text a reader sees in an HTML page: syntax-highlighting tags split code into
    pieces, so they are removed before looking for a line of code."""
    page = Path(path).read_text(encoding="utf-8", errors="replace")
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def leaks_in(paths, secrets):
    """(file, line) for every secret line or region marker found in the files."""
    found = []
    for path in paths:
        path = Path(path)
        texts = [path.read_text(encoding="utf-8", errors="replace")]
        if path.suffix == ".html":
            texts.append(html_text(path))
        for text in texts:
            found += [(str(path), secret) for secret in secrets if secret in text]
            found += [(str(path), marker.group(0)) for marker in re.finditer(MARKER, text)]
    return sorted(set(found))


@pytest.fixture(scope="session")
def book_html(tmp_path_factory):
    """The whole book, built from clean (no cache) with -W --keep-going.

    BOOK_HTML=_build/html reuses a build already made, to rerun the browser tests quickly
    while working on them; a full run (`make test`) always builds afresh.
    """
    if os.environ.get("BOOK_HTML"):
        return Path(os.environ["BOOK_HTML"]).resolve()
    if not (REPO / "_build" / "vendor" / ".copied").exists():
        pytest.fail("the book's JavaScript is not installed: run the tests with `make test`")
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
