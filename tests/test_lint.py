"""An open course others can pick up: the linter passes, and the licence, citation and
contributing files exist, are linked from the README and reach every page of the book."""

import re
import subprocess

import jupytext
import yaml

from conftest import BIN, REPO

FILES = ["LICENSE", "LICENSE-CONTENT.md", "CITATION.cff", "CONTRIBUTING.md"]
# the SPDX identifiers CITATION.cff may name (the course's two licences)
LICENCES = {"MIT", "CC-BY-4.0"}


def ruff(*args, cwd=REPO):
    return subprocess.run([str(BIN / "ruff"), "check", "--no-cache", *args], cwd=cwd,
                          capture_output=True, text=True)


def as_notebook(chapter, notebook):
    """A MyST chapter's code cells as jupytext hands them over, in an .ipynb, so that ruff
    reads them as a notebook (a cell may use what an earlier cell defined; an import must
    still open its own cell). Ruff skips a notebook that does not say its language is
    Python, and jupytext does not say it."""
    content = jupytext.read(chapter)
    content.metadata["language_info"] = {"name": "python"}
    jupytext.write(content, notebook, fmt="ipynb")
    return notebook


def chapters_as_notebooks(folder):
    return [as_notebook(chapter, folder / f"{chapter.stem}.ipynb")
            for chapter in sorted((REPO / "chapters").glob("*.md"))]


def test_ruff_finds_nothing_in_the_code():
    result = ruff(".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing_in_the_chapters_code_cells(tmp_path):
    notebooks = chapters_as_notebooks(tmp_path)
    assert len(notebooks) == len(list((REPO / "chapters").glob("*.md")))
    result = ruff("--config", str(REPO / "pyproject.toml"), *map(str, notebooks))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_can_fail(tmp_path):
    """The configuration is read and reports a real mistake, in code and in a chapter."""
    (tmp_path / "bad.py").write_text("import os\n\ndef f():\n    return undefined_name\n")
    chapter = tmp_path / "chapter.md"
    chapter.write_text((REPO / "chapters" / "01-telephone.md").read_text()
                       + "\n```{code-cell} ipython3\nprint(undefined_name)\n```\n")
    as_notebook(chapter, tmp_path / "chapter.ipynb")
    for target in ("bad.py", "chapter.ipynb"):
        result = ruff("--config", str(REPO / "pyproject.toml"), target, cwd=tmp_path)
        assert result.returncode == 1, (target, result.stdout)
        assert "F821" in result.stdout, (target, result.stdout)
    assert "F401" in ruff("--config", str(REPO / "pyproject.toml"), "bad.py",
                          cwd=tmp_path).stdout


def test_open_course_files_exist_and_the_readme_links_them():
    readme = (REPO / "README.md").read_text()
    for name in FILES:
        assert (REPO / name).is_file(), f"{name} is missing"
        assert f"]({name})" in readme, f"README.md does not link {name}"
    assert "MIT License" in (REPO / "LICENSE").read_text()
    content = (REPO / "LICENSE-CONTENT.md").read_text()
    assert "CC BY 4.0" in content and "creativecommons.org/licenses/by/4.0" in content


def test_citation_file_is_valid_cff_and_matches_the_book():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "date-released", "license"):
        assert cff.get(key), f"CITATION.cff has no {key}"
    assert all(author.get("name") or author.get("family-names")
               for author in cff["authors"])
    # one SPDX identifier: a list would mean "either licence"
    assert cff["license"] in LICENCES
    bplib = (REPO / "bplib" / "pyproject.toml").read_text()
    assert f'version = "{cff["version"]}"' in bplib, "CITATION.cff and bplib share a version"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"]))
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert cff["title"].startswith(config["title"])


def test_every_page_of_the_book_states_the_licences(book_html):
    pages = sorted(book_html.rglob("*.html"))
    pages = [page for page in pages if "_static" not in page.parts]
    assert len(pages) > 10
    for page in pages:
        html = page.read_text()
        if 'class="bp-licence"' not in html:
            # the search and index pages, and index.html, which only redirects to the intro
            redirect = re.search(r'http-equiv="refresh"', html, re.IGNORECASE)
            assert page.name in {"search.html", "genindex.html"} or redirect, \
                f"{page} has no licence"
            continue
        assert "creativecommons.org/licenses/by/4.0/" in html, page
        assert "MIT licence" in html, page
    intro = (book_html / "intro.html").read_text()
    assert 'id="how-to-cite"' in intro and "CITATION.cff" in intro
