"""The public edition (make public): a tree that builds by itself from a fresh clone, that
holds nothing secret, whose buttons lead only to configured places, whose assignments
install bplib from the site's wheel where it is missing, whose chapters read and run as
plain notebooks, whose every notebook runs in a venv made from its requirements alone, and
which is a git repository of its own that shares no object with the course's history."""

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import venv
from functools import partial

import nbformat
import pytest

from conftest import BIN, REPO, all_secret_lines, honest_submission

sys.path.insert(0, str(REPO / "tools"))
import bootstrap  # noqa: E402
import plain_chapters  # noqa: E402
import public  # noqa: E402

URLS = {"repository": "https://github.com/example-org/backprop-public", "site": "",
        "jupyterhub": "https://hub.example.org"}
INSTRUCTORS_ONLY = ["solutions", "mistakes", "grading", "tests", "nbgrader_config.py",
                    "instructors.md", "gradebook.db", "deploy", "edition.yml", "publish",
                    "tools"]

pytestmark = pytest.mark.slow


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                            GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"))


@pytest.fixture(scope="module")
def tree(edition_tree):
    """The edition's tree, written from the course's executed book (the session's build)
    into a repository of its own, and committed, as make public does (conftest.py makes it
    once for both workers)."""
    return edition_tree


@pytest.fixture(scope="module")
def clone(tree, tmp_path_factory):
    """The edition cloned afresh, and built there with `make book`."""
    folder = tmp_path_factory.mktemp("edition-clone")
    clone = folder / "clone"
    git("clone", "-q", str(tree), str(clone), cwd=folder)
    # the course's environment builds it: -o keeps make from reinstalling into it
    venv_dir = REPO / ".venv"
    built = subprocess.run(["make", "book", f"VENV={venv_dir}", "-o",
                            f"{venv_dir}/bin/.installed"], cwd=clone,
                           capture_output=True, text=True, timeout=3000)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    ours = subprocess.run([str(BIN / "python"), "-c", "import bplib; print(bplib.__file__)"],
                          capture_output=True, text=True, cwd=folder)
    assert ours.stdout.startswith(str(REPO / "bplib")), "the edition's build reinstalled bplib"
    return clone


def test_the_edition_holds_nothing_of_the_instructors(clone):
    for name in INSTRUCTORS_ONLY:
        assert not (clone / name).exists(), f"{name} is in the public edition"
    assert not list(clone.glob("chapters/*.md")), "chapters must be notebooks (Colab, Binder)"
    assert sorted(p.stem for p in clone.glob("chapters/*.ipynb")) == \
        sorted(p.stem for p in (REPO / "chapters").glob("*.md"))
    assert "file: instructors" not in (clone / "_toc.yml").read_text()


def test_the_edition_carries_the_licences_and_the_citation(clone):
    for name in ("LICENSE", "LICENSE-CONTENT.md", "CITATION.cff"):
        assert (clone / name).read_text() == (REPO / name).read_text(), name
    assert "creativecommons.org/licenses/by/4.0" in \
        (clone / "_build" / "html" / "intro.html").read_text()


def test_a_fresh_clone_builds_the_site_with_its_wheel(clone):
    site = clone / "_build" / "html"
    assert (site / "index.html").is_file() and (site / "students.html").is_file()
    assert (site / "wheels" / bootstrap.bplib_wheel()).is_file()


def test_the_edition_s_site_numbers_its_tables_as_the_course_s_book(clone, book_html):
    """The edition's chapters are plain notebooks, where a titled table follows a paragraph
    "*Table 3.1: title*"; the tables html_table draws are numbered on from it, so each
    chapter page numbers its tables 1, 2, 3 ... in order, as the course's book does."""
    caption = re.compile(r'<span class="caption-number">Table (\d+)\.(\d+) </span>'
                         r'|<em>Table (\d+)\.(\d+): ')

    def numbers(page):
        return [(int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4)))
                for m in caption.finditer(page.read_text(encoding="utf-8"))]

    checked = 0
    for page in sorted((clone / "_build" / "html" / "chapters").glob("*.html")):
        found = numbers(page)
        assert [n for _, n in found] == list(range(1, len(found) + 1)), (page.name, found)
        assert found == numbers(book_html / "chapters" / page.name), page.name
        checked += len(found)
    assert checked >= 8, f"only {checked} tables in the edition's chapters"


def test_the_edition_and_its_site_pass_the_leak_scan(clone, tmp_path):
    files, leaks = public.scan(clone)
    assert len(files) > 50 and any(f.suffix == ".html" for f in files)
    assert leaks == []
    # the scan sees a secret where there is one
    planted = clone / "chapters" / "planted.txt"
    planted.write_text(sorted(line for line in all_secret_lines()
                              if not line.startswith(("import ", "from ")))[0])
    try:
        assert public.scan(clone)[1], "the scan missed a planted solution line"
    finally:
        planted.unlink()


def test_student_requirements_are_a_student_s(clone):
    wanted = [line.split("[")[0] for line in (clone / "requirements.txt").read_text()
              .splitlines() if line.strip() and not line.startswith(("#", "-c"))]
    assert wanted == ["numpy", "matplotlib", "ipywidgets", "threadpoolctl", "jupyterlab",
                      "./bplib"]
    # the students' page installs each of them, at the version the edition's constraints pin
    pins = dict(line.split("==") for line in (clone / "constraints.txt").read_text()
                .splitlines() if "==" in line and not line.startswith("#"))
    pip_line = next(line for line in public.students_page(
        {"repository": "", "site": "", "jupyterhub": ""}, "w.whl").splitlines()
        if line.strip().startswith("pip install"))
    assert pip_line.split()[2:] == [f"{name}=={pins[name]}" for name in wanted[:-1]] + \
        ["w.whl"], "the students' page installs what the requirements list"


def test_buttons_lead_only_to_configured_places(clone):
    page = (clone / "_build" / "html" / "chapters" / "01-telephone.html").read_text()
    assert "mybinder.org/v2/gh/example-org/backprop-public" in page
    assert "colab.research.google.com" in page and "chapters/01-telephone.ipynb" in page
    assert "hub.example.org/hub/user-redirect/git-pull" in page
    assert "jupyterhub.example.edu" not in page
    nothing = public.public_config({"repository": "", "site": "", "jupyterhub": ""})
    buttons = nothing["launch_buttons"]
    assert not (buttons["binderhub_url"] or buttons["colab_url"] or buttons["jupyterhub_url"])
    assert nothing["html"]["use_repository_button"] is False


def test_an_assignment_installs_bplib_from_the_served_site(clone, tmp_path):
    """Serve the built site on 127.0.0.1; in a fresh environment without bplib, the
    assignment's first cell installs it from there (pip may not reach any index)."""
    handler = partial(http.server.SimpleHTTPRequestHandler,
                      directory=str(clone / "_build" / "html"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        fresh = tmp_path / "fresh"
        venv.create(fresh, with_pip=True)
        # numpy, IPython & co. come from the course's environment through a .pth file;
        # bplib does not, since an editable install's own .pth is not read from there.
        course_site = next((REPO / ".venv" / "lib").glob("python*/site-packages"))
        fresh_site = next((fresh / "lib").glob("python*/site-packages"))
        (fresh_site / "course.pth").write_text(str(course_site) + "\n")
        python = str(fresh / "bin" / "python")
        env = dict(os.environ, PIP_NO_INDEX="1", PYTHONNOUSERSITE="1")
        missing = subprocess.run([python, "-c", "import bplib"], capture_output=True, env=env,
                                 cwd=tmp_path)  # not the repository: its bplib/ folder
        assert missing.returncode != 0, "bplib is importable without installing it: is the " \
            "course's bplib installed editable (make setup)?"
        cell = bootstrap.bootstrap_source(site)
        run = subprocess.run(
            [python, "-c", "import sys; from IPython.core.interactiveshell import "
             "InteractiveShell as S; r = S.instance().run_cell(sys.stdin.read()); "
             "sys.exit(0 if r.success else 1)"],
            input=cell, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"installed it from {site}/wheels/" in run.stdout
        where = subprocess.run([python, "-c", "import bplib, bplib.plotting; "
                                "print(bplib.__file__)"],
                               capture_output=True, text=True, env=env, cwd=tmp_path)
        assert where.returncode == 0 and str(fresh) in where.stdout, where.stderr
    finally:
        server.shutdown()


def test_in_the_course_s_environment_the_cell_does_nothing():
    cell = bootstrap.bootstrap_source("http://127.0.0.1:9")  # nothing listens there
    run = subprocess.run(
        [str(BIN / "python"), "-c", "import sys; from IPython.core.interactiveshell import "
         "InteractiveShell as S; r = S.instance().run_cell(sys.stdin.read()); "
         "sys.exit(0 if r.success else 1)"], input=cell, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "", run.stdout + run.stderr


def test_every_assignment_starts_with_the_locked_bootstrap_cell():
    expected = bootstrap.bootstrap_source(*bootstrap.edition_addresses())
    notebooks = sorted((REPO / "solutions").glob("*/*.ipynb")) + \
        sorted((REPO / "exercises").glob("*/*.ipynb"))
    assert notebooks
    for path in notebooks:
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.source == expected, f"{path}: run tools/bootstrap.py"
        assert first.metadata["nbgrader"]["locked"] is True, path


# --- The chapters as plain notebooks (issue 20, item 2) ----------------------------------

def edition_notebooks(root):
    return sorted(root.glob("chapters/*.ipynb")) + sorted(root.glob("exercises/*/*.ipynb"))


def test_no_myst_is_left_in_any_notebook_of_the_edition(clone):
    notebooks = edition_notebooks(clone)
    assert len(notebooks) == 10
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                assert plain_chapters.leftovers(cell.source) == [], \
                    f"{path.name}: {cell.source[:300]}"
            else:
                assert "myst_nb" not in cell.source, f"{path.name} imports myst_nb"
    # the scan sees MyST where there is some
    for markup in ("see {numref}`fig-x`", "```{admonition} A\nb\n```", "(ch-x)=",
                   ":::{exercise}\n:label: e\n:::", "% a comment", "{glue:text}`n:d`"):
        assert plain_chapters.leftovers(markup), markup


def test_a_caption_number_is_found_at_any_distance_from_its_figure(tmp_path):
    """A figure's picture, phone version and long alt text can put its caption far from
    the opening tag; its number is still found, and a caption is never given to a label
    it is not inside."""
    page = tmp_path / "page.html"
    alt = "a long description " * 200
    page.write_text(
        '<section id="a-section"><figure id="fig-far"><picture><source srcset="p.svg">'
        f'<img alt="{alt}" src="f.svg"></picture><figcaption><p>'
        '<span class="caption-number">Fig. 2.2 </span>x</p></figcaption></figure>'
        '<figure><img src="g.svg"><figcaption><span class="caption-number">Fig. 2.3 </span>'
        '</figcaption></figure>'
        '<table class="table" id="tab-near"><caption><span class="caption-number">Table 2.1 '
        '</span></caption></table>'
        '<div class="exercise admonition" id="ex-one"><p class="admonition-title">'
        '<span class="caption-number">Exercise 2.1 </span></p></div></section>',
        encoding="utf-8")
    assert plain_chapters.numbers_in([page]) == {
        "fig-far": "Fig. 2.2", "tab-near": "Table 2.1", "ex-one": "Exercise 2.1"}


def test_a_table_without_a_label_gets_its_number_by_its_caption(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<table class="table" id="id7"><caption><span class="caption-number">'
                    'Table 4.1 </span><span class="caption-text">Zhou’s symbols as '
                    'layers</span></caption></table>', encoding="utf-8")
    chapter = plain_chapters.Chapter({}, plain_chapters.numbers_in([page]), None, {}, "")
    table = "| a | b |\n| --- | --- |\n| 1 | 2 |"
    plain = chapter.markdown(f":::{{table}} Zhou's symbols as  layers\n{table}\n:::")
    assert plain == f"*Table 4.1: Zhou's symbols as  layers*\n\n{table}"
    with pytest.raises(plain_chapters.Unconvertible, match="no number"):
        chapter.markdown(f":::{{table}} Another caption\n{table}\n:::")


def test_the_chapters_text_holds_the_book_s_computed_values(clone):
    source = (REPO / "chapters" / "01-telephone.md").read_text()
    assert "A threaded line with {glue:text}`drawn_groups:d` groups" in source
    drawn = re.search(r"drawn_groups, drawn_players = (\d+), (\d+)", source)
    text = "\n".join(cell.source for cell in nbformat.read(
        clone / "chapters" / "01-telephone.ipynb", as_version=4).cells)
    assert f"A threaded line with {drawn.group(1)} groups of {drawn.group(2)}" in text
    # figures: an image file with its numbered caption; citations: author-year, linked
    assert re.search(r"!\[[^\]]+\]\(figures/threaded_forward_fig\.(png|svg)\)\n\n\*Fig\. 1\.\d+: ",
                     text)
    chapter5 = "\n".join(cell.source for cell in nbformat.read(
        clone / "chapters" / "05-full-algorithm.ipynb", as_version=4).cells)
    assert "([Nielsen 2015](../bibliography.md))" in chapter5
    for path in clone.glob("chapters/*.ipynb"):
        for image in re.findall(r"\]\((figures/[^)]+)\)", path.read_text()):
            assert (path.parent / image).is_file(), image


def slider_call(source):
    import ast
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             and getattr(node.func, "attr", "") in plain_chapters.SLIDERS]
    return calls[0] if calls else None


def test_a_chapter_s_slider_says_how_to_draw_a_frame_without_a_browser(tree, tmp_path):
    """Every slider cell of the edition's chapters opens with how to draw one frame where
    the slider does not show; in chapter 1 (an HTML slider, an HTML grid and a figure
    slider), doing what each says in a kernel with no browser shows the frame itself."""
    import ast
    from nbclient import NotebookClient
    expected = sum(len(re.findall(r"widgets\.frame_(?:slider|grid)\(", path.read_text()))
                   for path in (REPO / "chapters").glob("*.md"))
    found = 0
    for path in sorted(tree.glob("chapters/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        probes = []
        for cell in notebook.cells:
            call = slider_call(cell.source) if "widgets.frame_" in cell.source else None
            if call is None:
                continue
            found += 1
            assert cell.source.startswith("# Where the slider does not show"), cell.source
            hint = " ".join(line[2:] for line in cell.source.splitlines()
                            if line.startswith("# "))
            names = ["value"] if call.func.attr == "frame_slider" else ["a", "b"]
            drawn = f"{call.args[0].id}({', '.join(names)})"
            html = f"`HTML({drawn})`" in hint
            assert html or f"`{drawn}`" in hint, hint
            values = [ast.unparse(argument) for argument in call.args[1:1 + len(names)]]
            for name, value in zip(names, values, strict=True):
                assert f"{name} one of `{value}`" in hint, hint
            probes.append((cell, "from IPython.display import HTML\n" + "".join(
                f"{name} = list({value})[-1]\n" for name, value in zip(names, values, strict=True))
                + (f"HTML({drawn})" if html else drawn), html))
        if path.stem.startswith("01-"):
            assert {html for _, _, html in probes} == {True, False}
            cells = []
            for cell in notebook.cells:
                cells.append(cell)
                cells += [nbformat.v4.new_code_cell(code, metadata={"probe": html})
                          for slider, code, html in probes if slider is cell]
            notebook.cells = cells
            NotebookClient(notebook, timeout=900, kernel_name="python3",
                           resources={"metadata": {"path": str(tmp_path)}}).execute()
            shown = [(cell.metadata["probe"], set().union(*(o.get("data", {}) for o in
                                                              cell.outputs)))
                     for cell in notebook.cells if "probe" in cell.metadata]
            assert len(shown) == len(probes) == 3
            for html, kinds in shown:
                assert ("text/html" if html else "image/svg+xml") in kinds, kinds
    assert found == expected >= 10


def test_the_chapters_first_cell_is_the_assignments(clone):
    for path in clone.glob("chapters/*.ipynb"):
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.source == bootstrap.bootstrap_source(
            URLS["site"], URLS["repository"], URLS["jupyterhub"]), path


# --- Students' page and first cells (item 4) ---------------------------------------------

def test_the_students_page_promises_only_what_is_configured():
    wheel = bootstrap.bplib_wheel()
    bare = public.students_page({"repository": "", "site": "", "jupyterhub": ""}, wheel)
    for promise in ("rocket", "Binder", "Colab", "JupyterHub", "nbgrader", "Validate",
                    "installs it from", "public repository"):
        assert promise not in bare, promise
    assert f'href="wheels/{wheel}"' in bare and "download" in bare
    assert "Hand in the notebook file itself" in bare
    full = public.students_page({"repository": URLS["repository"], "site": "https://s.org",
                                 "jupyterhub": URLS["jupyterhub"]}, wheel, practice=True)
    for promise in ("rocket", URLS["repository"], URLS["jupyterhub"], "*Validate*",
                    "installs it from https://s.org", "practice checks"):
        assert promise in full, promise
    cell = bootstrap.bootstrap_source("", "", "")
    assert "installs it" not in cell.splitlines()[0] + cell.splitlines()[1]
    assert "JupyterHub" not in cell and "Binder" not in cell


def test_the_students_page_installs_the_versions_the_book_was_made_with(tmp_path):
    """The recipe for a downloaded notebook names every package of the edition's
    requirements, each at the version the course's .venv (where the book is built) holds;
    a package constraints.txt does not pin stops make public."""
    from importlib import metadata
    wheel = bootstrap.bplib_wheel()
    page = public.students_page({"repository": "", "site": "", "jupyterhub": ""}, wheel)
    assert "at the versions the book was made with" in page
    recipe = next(line.split() for line in page.splitlines()
                  if line.strip().startswith("pip install ") and wheel in line)
    assert recipe[:2] == ["pip", "install"] and recipe[-1] == wheel
    wanted = [line.split(";")[0].strip() for line in
              (REPO / "publish" / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith(("#", "-c", "./"))]
    pins = [spec.split("==") for spec in recipe[2:-1]]
    assert [name for name, _ in pins] == wanted and len(wanted) >= 4
    for name, version in pins:
        assert version == metadata.version(name), name
    (tmp_path / "publish").mkdir()
    (tmp_path / "constraints.txt").write_text("numpy==1.2.3  # a pin\nsome_thing==4.5\n")
    (tmp_path / "publish" / "requirements.txt").write_text("-c constraints.txt\nnumpy\n"
                                                           "Some-Thing\n./bplib\n")
    assert public.student_packages(tmp_path) == ["numpy==1.2.3", "Some-Thing==4.5"]
    (tmp_path / "publish" / "requirements.txt").write_text("numpy\nunpinned\n")
    with pytest.raises(SystemExit, match="names unpinned, which constraints.txt does not pin"):
        public.student_packages(tmp_path)


def test_one_name_for_an_assignment(clone):
    toc = (clone / "_toc.yml").read_text()
    for path in sorted(clone.glob("exercises/*/*.ipynb")):
        number = int(path.parent.name[:2])
        title = next(cell for cell in nbformat.read(path, as_version=4).cells
                     if cell.cell_type == "markdown").source.splitlines()[0]
        assert title.startswith(f"# Assignment {number}: "), title
        assert f"title: Assignment {number}\n" in toc
        page = (clone / "_build" / "html" / "exercises" / path.parent.name /
                f"{path.stem}.html").read_text()
        assert "Exercise" not in re.search(r"<h1>(.*?)</h1>", page, re.DOTALL).group(1)


# --- A repository of its own (item 3) ----------------------------------------------------

def test_make_public_refuses_the_course_s_repository(tmp_path):
    with pytest.raises(SystemExit, match="refusing"):
        public.own_repository(REPO)
    (tmp_path / "link").symlink_to(REPO)
    with pytest.raises(SystemExit, match="refusing"):
        public.own_repository(tmp_path / "link")
    worktree_like = tmp_path / "edition"
    worktree_like.mkdir()
    (worktree_like / ".git").write_text(f"gitdir: {REPO / '.git'}\n")
    with pytest.raises(SystemExit, match="refusing"):
        public.own_repository(worktree_like)


def test_the_edition_keeps_its_history_and_has_one_remote(tmp_path):
    edition = tmp_path / "_public"
    public.own_repository(edition)
    assert git_out("rev-parse", "--show-toplevel", cwd=edition) == str(edition.resolve())
    git("remote", "add", "private", str(REPO), cwd=edition)
    public.set_remote(edition, URLS["repository"])
    assert git_out("remote", "-v", cwd=edition).split("\n")[0].split()[:2] == \
        ["origin", URLS["repository"]]
    assert git_out("remote", cwd=edition) == "origin"
    (edition / "a.txt").write_text("one")
    first = public.commit(edition)
    public.clear(edition)  # what a new run does first: the files go, .git stays
    assert not (edition / "a.txt").exists() and (edition / ".git").is_dir()
    (edition / "a.txt").write_text("two")
    public.own_repository(edition)
    second = public.commit(edition)
    assert second != first
    assert git_out("rev-list", "--count", "HEAD", cwd=edition) == "2"
    public.set_remote(edition, "")
    assert git_out("remote", cwd=edition) == ""


def test_make_publish_refuses_without_an_address(monkeypatch, tmp_path):
    monkeypatch.setattr(public, "edition",
                        lambda: {"repository": "", "site": "", "jupyterhub": ""})
    with pytest.raises(SystemExit, match="refusing"):
        public.publish(tmp_path / "_public")


def test_no_object_of_the_course_is_reachable_from_the_edition(tree):
    """The edition's history is its own: no commit of the course, and no version of any
    instructor-only file (solutions, hidden tests, grading, the guide) ever, in any
    object reachable from it."""
    reachable = set(git_out("rev-list", "--objects", "--all", cwd=tree).split())
    commits = set(git_out("rev-list", "--all", cwd=tree).split())
    assert commits and len(git_out("rev-list", "--max-parents=0", "--all",
                                   cwd=tree).split()) == 1
    course_commits = set(git_out("rev-list", "--all", cwd=REPO).split())
    assert not commits & course_commits
    # publish/ holds the templates of the edition's own README, requirements and workflow
    private = set(git_out("rev-list", "--objects", "--all", "--",
                          *[name for name in INSTRUCTORS_ONLY if name != "publish"],
                          cwd=REPO).split()) - course_commits
    # a file the two share verbatim (bplib/__init__.py) is the same blob in both; none of
    # the instructors' files may be
    assert private and not (reachable & private)
    # the secrets of the current course are in no blob of the edition either
    blobs = git_out("rev-list", "--objects", "--all", cwd=tree)
    assert "solutions/" not in blobs and "grading/" not in blobs


def git_out(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


# --- Practice checks for a reader studying alone (item 5) --------------------------------

PRACTICE_LINE = re.compile(
    r"Practice checks of ([\w-]+): (\d+) of (\d+) passed \((passed|FAILED)\)")
ASSIGNMENTS = [p.name for p in sorted((REPO / "solutions").iterdir()) if p.is_dir()]


def practice_cells(notebook):
    return {cell.source.split("PracticeChecks(", 1)[1].split(",", 1)[0].strip("'\""): cell
            for cell in notebook.cells if "practice" in cell.metadata.get("tags", [])
            and "PracticeChecks(" in cell.source and "class PracticeChecks" not in cell.source}


def practice_data(cell):
    """(task, the stored expected entries) of a practice cell."""
    import ast
    call = next(node for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "PracticeChecks")
    return call.args[0].value, json.loads(call.args[1].value)


def question_cells(notebook):
    """{task: (answer cell, check cell)} of the practice questions (slider questions)."""
    found = {}
    for k, cell in enumerate(notebook.cells):
        if "practice_slider" in cell.metadata:
            answer = notebook.cells[k - 1]
            assert answer.source.startswith("practice_"), answer.source
            found[practice_data(cell)[0]] = (answer, cell)
    return found


def answer_practice_questions(notebook):
    """Each practice question answered with the first of its stored right answers (that it
    is right, the make-public guard and the runs below check)."""
    for answer, check in question_cells(notebook).values():
        name = answer.source.split(" = ", 1)[0]
        answer.source = f"{name} = {practice_data(check)[1][0]['answers'][0]!r}"
    return notebook


@pytest.fixture(scope="module")
def practice_runs(tree, tmp_path_factory):
    """{assignment: [(label, printed verdicts)]}: the edition's notebook with the
    solutions' answers, run in the course's kernel; then, in the same kernel, each wrong
    answer of the round trip's WRONG_ANSWERS followed by its task's practice cell (and the
    right answer put back)."""
    from nbclient import NotebookClient
    from test_exercises import WRONG_ANSWERS

    from conftest import without_markers
    runs = {}
    folder = tmp_path_factory.mktemp("practice")
    for assignment in ASSIGNMENTS:
        release = nbformat.read(tree / "exercises" / assignment / f"{assignment}.ipynb",
                                as_version=4)
        source = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb",
                               as_version=4)
        questions = question_cells(honest_submission(source, release))
        notebook = answer_practice_questions(honest_submission(source, release))
        practice = practice_cells(notebook)
        answers = {cell.metadata["nbgrader"]["grade_id"]: without_markers(cell.source)
                   for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}
        for grade_id, codes in WRONG_ANSWERS.get(assignment, {}).items():
            for k, code in enumerate(codes if isinstance(codes, list) else [codes]):
                twin = practice.get(f"{grade_id}-tests")
                if twin is None or code is None:  # None: that wrong-k student's answer is right
                    continue
                if "practice_slider" in twin.metadata:
                    continue  # a practice question: the graded answer is not its input
                notebook.cells += [nbformat.v4.new_code_cell(f"print('WRONG {grade_id} {k}')"),
                                   nbformat.v4.new_code_cell(code),
                                   nbformat.v4.new_code_cell(twin.source),
                                   nbformat.v4.new_code_cell(answers[grade_id])]
        # each practice question answered with the graded question's answer (the
        # solution's, in the kernel), then with no answer: both must fail
        for task, (answer, check) in questions.items():
            name = answer.source.split(" = ", 1)[0]
            for label, value in (("graded", name[len("practice_"):]), ("none", "None")):
                notebook.cells += [
                    nbformat.v4.new_code_cell(f"print('WRONG {task} {label}')"),
                    nbformat.v4.new_code_cell(f"{name} = {value}"),
                    nbformat.v4.new_code_cell(check.source)]
        NotebookClient(notebook, timeout=1800, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(folder)}}).execute()
        label, found = "solution", []
        for cell in notebook.cells:
            text = "".join(o.get("text", "") for o in cell.get("outputs", []))
            if text.startswith("WRONG "):
                label = text.split()[1] + " #" + text.split()[2]
            found += [(label, match.groups()) for match in PRACTICE_LINE.finditer(text)]
        runs[assignment] = (found, practice, notebook)
    return runs


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solution_passes_every_practice_check(practice_runs, assignment):
    found, practice, _ = practice_runs[assignment]
    verdicts = {groups[0]: groups for label, groups in found if label == "solution"}
    assert practice and set(verdicts) == set(practice), "a practice cell printed no verdict"
    for task, passed, total, verdict in verdicts.values():
        assert verdict == "passed" and passed == total and int(total) > 0, (task, passed, total)


# (assignment, "grade_id #k" of WRONG_ANSWERS): see test_every_wrong_answer_fails_...
# None now: zhou_update = numerical_update (Assignment 4) was one, caught only by the calls
# it made; the twin of its scaled-terms check catches it by its values.
PRACTICE_BLIND = set()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_wrong_answer_fails_its_task_s_practice_checks(practice_runs, assignment):
    from test_exercises import WRONG_ANSWERS
    found, practice, _ = practice_runs[assignment]
    wrong = {label: groups for label, groups in found
             if label != "solution" and not label.endswith(("#graded", "#none"))}
    expected = [f"{grade_id} #{k}" for grade_id, codes in WRONG_ANSWERS.get(assignment, {}).items()
                for k, code in enumerate(codes if isinstance(codes, list) else [codes])
                if f"{grade_id}-tests" in practice and code is not None
                and "practice_slider" not in practice[f"{grade_id}-tests"].metadata]
    # Caught when graded only by a fact of the student's process (the calls of the three
    # functions the task says to use), which a practice twin leaves out: its values are
    # right, so the practice checks pass. Listed, so that a twin that starts to catch it
    # fails here and the entry is taken out.
    blind = {label for label in expected if (assignment, label) in PRACTICE_BLIND}
    for label in blind:
        assert wrong[label][3] == "passed", f"{label} now fails its practice checks: unlist it"
        del wrong[label]
    expected = [label for label in expected if label not in blind]
    assert sorted(wrong) == sorted(expected)
    for label, (task, passed, total, verdict) in wrong.items():
        assert verdict == "FAILED" and task == label.split(" #")[0] + "-tests", (label, passed)
        assert int(passed) < int(total), label
    # the tasks without a twin are the questions whose answer a twin would print
    import practice as practice_module
    _, without = practice_module.twin_cells(nbformat.read(
        REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4))
    for grade_id in WRONG_ANSWERS.get(assignment, {}):
        if f"{grade_id}-tests" not in practice or \
                "practice_slider" in practice[f"{grade_id}-tests"].metadata:
            assert "question's answer" in without[f"{grade_id}-tests"], grade_id


def test_the_course_s_releases_have_no_practice_cells():
    for path in sorted((REPO / "exercises").glob("*/*.ipynb")):
        text = path.read_text()
        assert "PracticeChecks" not in text and '"practice"' not in text, path


def test_make_publish_pushes_the_edition_alone_to_its_remote(monkeypatch, tmp_path):
    remote = tmp_path / "public.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    monkeypatch.setattr(public, "edition", lambda: {"repository": str(remote), "site": "",
                                                    "jupyterhub": ""})
    edition = tmp_path / "_public"
    public.own_repository(edition)
    (edition / "README.md").write_text("the edition\n")
    public.commit(edition)
    with pytest.raises(SystemExit, match="remotes"):
        public.publish(edition)  # no remote yet: make public sets it
    public.set_remote(edition, str(remote))
    (edition / "late.txt").write_text("not committed\n")
    with pytest.raises(SystemExit, match="uncommitted"):
        public.publish(edition)
    (edition / "late.txt").unlink()
    public.publish(edition)
    assert git_out("rev-parse", "main", cwd=remote) == git_out("rev-parse", "HEAD", cwd=edition)
    assert git_out("rev-list", "--count", "main", cwd=remote) == "1"


def test_a_hidden_class_keeps_its_attributes_in_its_practice_twin():
    """Renaming a hidden test's names must not part a class attribute from its uses:
    `HiddenCounted.made` is read as an attribute, so `made = 0` in the class keeps its name
    (Assignment 5's no-loop check counts arrays that way)."""
    import ast

    import practice
    source = ("class HiddenCounted(list):\n    made = 0\n\n    def add(self):\n"
              "        HiddenCounted.made += 1\n\n\nhidden_c = HiddenCounted()\n"
              "hidden_c.add()\nhidden_total = HiddenCounted.made\n")
    names = practice.bound_names(ast.parse(source).body)
    assert names == {"HiddenCounted", "self", "hidden_c", "hidden_total"}
    rewritten = ast.unparse(practice.Rewrite(names, student=False).visit(ast.parse(source)))
    space = {}
    exec(rewritten, space)
    assert space["practice_total"] == 1 and space["PracticeCounted"].made == 1


def test_a_twin_moves_no_number_of_an_expected_value():
    """The numbers and seeds in a check's expect=, judge= or accept= (in lambdas and calls
    however nested) are the answer's side: a check of a visible value keeps the visible
    answer in its twin. An input the value and expect= share is a name, moved once."""
    import practice
    import grading.record as record
    visible = ("import numpy as np\n\n\ndef double(x):\n    return 2 * x\n\n\n"
               "def noisy(seed):\n    return float(np.random.default_rng(seed).random())\n\n\n"
               "point, seed = 1.5, 5\n")
    cell = visible + (
        "### BEGIN HIDDEN TESTS\n"
        "from grading.record import check\n"
        "hidden_rate = 0.25\n"
        "check(double(point), 'wrong double of the point', expect=lambda: 3.0)\n"
        "check(double(point), 'nested', expect=lambda: sum([1.5, (lambda: 1.5)()]))\n"
        "check(double(point), 'judged', judge=lambda value: abs(value - 3.0) < 0.01)\n"
        "check(noisy(seed), 'seeded', expect=lambda: float(np.random.default_rng(5).random()))\n"
        "check(double(hidden_rate), 'wrong double of 0.25', expect=lambda: 2 * hidden_rate)\n"
        "### END HIDDEN TESTS\n")
    moved = {}
    twin = practice.rewrite(cell, student=False, moved=moved)
    assert moved == {0.25: 0.275}, moved  # the one input; no number of an answer
    for kept in ("expect=lambda: 3.0", "[1.5, (lambda: 1.5)()]", " - 3.0) < 0.01",
                 "default_rng(5)", "practice_rate = 0.275"):
        assert kept in twin, (kept, twin)
    # run as make public runs it: each expected value is the one the checked code gives
    space = {}
    exec(visible, space)
    record.collector, record.namespace = [], space
    try:
        exec(twin, space)
        entries = record.collector
    finally:
        record.collector = record.namespace = None
    assert [entry["message"] for entry in entries] == [
        "wrong double of the point", "nested", "judged", "seeded", "wrong double of 0.25"]
    for entry in entries:
        assert (entry["judge"](entry["value"]) if entry["judge"] else
                entry["answers"] == [entry["value"]]), entry
    assert entries[-1]["value"] == 0.55


# --- Practice questions: the slider questions on other inputs -----------------------------

# Questions answered by a search the student writes, with no slider whose copy could ask
# the practice question (Assignment 5's Task 4: the best setting of a grid). A twin would
# print the answer, so they have no practice check at all.
SEARCH_QUESTIONS = {"full-train-digits-tests"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_slider_question_has_a_practice_question(tree, assignment):
    """A question answered with a slider gets the same question on other numbers: its
    message is not the graded one, its answer is stored in practice_<name>, and none of its
    stored right answers is the graded solution's answer. A search question
    (SEARCH_QUESTIONS) gets none."""
    import practice as practice_module
    source = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb",
                           as_version=4)
    _, without = practice_module.twin_cells(source)
    asked = {grade_id for grade_id, reason in without.items() if "question's answer" in reason}
    searched = asked & SEARCH_QUESTIONS
    cells = nbformat.read(tree / "exercises" / assignment / f"{assignment}.ipynb",
                          as_version=4).cells
    for k, cell in enumerate(cells[:-1]):  # a practice cell follows the cell it practises
        if cell.metadata.get("nbgrader", {}).get("grade_id") in searched:
            assert "practice" not in cells[k + 1].metadata.get("tags", []), k
    asked -= searched
    assert asked, "every assignment has a slider question"
    edition = nbformat.read(tree / "exercises" / assignment / f"{assignment}.ipynb",
                            as_version=4)
    questions = question_cells(edition)
    assert set(questions) == asked
    assert all(" = None  #" in answer.source for answer, _ in questions.values())
    for task, (answer, check) in questions.items():
        name = answer.source.split(" = ", 1)[0][len("practice_"):]
        graded = {}  # the graded answer: the solution's answer cell, run
        exec(next(cell.source for cell in source.cells
                  if cell.metadata.get("nbgrader", {}).get("solution")
                  and re.search(rf"^{name}\s*=", cell.source, flags=re.MULTILINE)), graded)
        hidden = next(cell for cell in source.cells
                      if cell.metadata.get("nbgrader", {}).get("grade_id") == task).source
        for entry in practice_data(check)[1]:
            assert entry["message"] not in hidden, "the practice question is the graded one"
            assert entry["answers"]
            for right in entry["answers"]:
                assert abs(right - graded[name]) > 1e-6, (task, right, graded[name])


def widget_models(notebook, output):
    """Every widget model reachable from a widget view output, by model id."""
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    found, todo = {}, [output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]]
    while todo:
        model_id = todo.pop()
        if model_id in found:
            continue
        found[model_id] = state[model_id]
        todo += re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(state[model_id]["state"]))
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_slider_that_the_practice_check_needs_still_works(practice_runs, assignment):
    """In the edition's notebook, run in a kernel: the slider that answers each practice
    question (its own copy with the practice inputs, or the question's slider) draws
    without an error, one frame per value, in the widget state the static page reads; and
    the copy draws other frames than the graded slider (its inputs differ)."""
    _, _, notebook = practice_runs[assignment]
    by_id = {cell.id: cell for cell in notebook.cells}
    questions = question_cells(notebook)
    assert questions
    for task, (_, check) in questions.items():
        slider = by_id[check.metadata["practice_slider"]]
        assert not [o for o in slider.outputs if o.output_type == "error"], task
        views = [o for o in slider.outputs
                 if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert len(views) == 1, task
        models = widget_models(notebook, views[0])
        stacks = [m for m in models.values() if m["model_name"] == "StackModel"]
        sliders = [m for m in models.values() if "_options_labels" in m["state"]]
        assert len(stacks) == 1 and len(sliders) == 1, task
        frames = stacks[0]["state"]["children"]
        assert len(frames) == len(sliders[0]["state"]["_options_labels"]) > 1, task
        images = [models[frame[len("IPY_MODEL_"):]]["state"].get("value", "")
                  for frame in frames]
        assert all("<img" in image for image in images), task
        if "practice_copy_of" in slider.metadata:  # a copy: not the graded frames
            graded = by_id[slider.metadata["practice_copy_of"]]
            graded_models = widget_models(notebook, next(
                o for o in graded.outputs
                if "application/vnd.jupyter.widget-view+json" in o.get("data", {})))
            graded_images = {m["state"].get("value") for m in graded_models.values()}
            assert not set(images) & graded_images, task


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_graded_answer_fails_every_practice_question(practice_runs, assignment):
    found, _, notebook = practice_runs[assignment]
    verdicts = dict(found)
    for task in question_cells(notebook):
        for label in ("graded", "none"):
            assert verdicts[f"{task} #{label}"][3] == "FAILED", (task, label)


def test_a_practice_question_that_would_give_the_graded_answer_away_is_refused(monkeypatch):
    """make public's guard: a practice question whose right answers the graded check
    accepts (here the graded threshold itself) stops make public."""
    import practice as practice_module
    monkeypatch.setitem(practice_module.QUESTION_TWINS, "telephone-max-second-rate-tests", {
        "replace": [["25%", "40%"]],  # the text changed, but the answers are the graded ones
        "answers": "[max(r for r in player_2_rates if line_error([player_1_rate, r]) <= 0.25)]"})
    path = REPO / "solutions" / "01-telephone" / "01-telephone.ipynb"
    source = nbformat.read(path, as_version=4)
    twins, without = practice_module.twin_cells(source)
    questions = practice_module.question_twins(source, without)
    with pytest.raises(SystemExit, match="give the graded answer away"):
        practice_module.expected_values(path, {}, questions)


# --- Practice messages name no graded input (item 2) --------------------------------------

def test_the_rule_for_practice_messages():
    import practice
    for message, moved in [("wrong for the chapter's line of two players", {}),
                           ("forward is not W x + b for the worked example", {}),
                           ("g_terms is wrong for the example worked out by hand", {}),
                           ("with h=0.5 the relative error is not the one", {0.5: 0.55})]:
        assert practice.names_graded_input(message, moved), message
        assert not practice.names_graded_input(practice.practice_message(message, moved),
                                               moved), message
    assert practice.practice_message("with h=0.5 the error", {0.5: 0.55}) == \
        "with h=0.55 the error"
    assert not practice.names_graded_input("wrong for three layers and a batch of 5",
                                           {0.5: 0.55, 2.0: 2.2})


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_practice_message_names_a_graded_input(tree, assignment):
    """Every practice message keeps the rule (practice.names_graded_input), and no hidden
    message that breaks it reaches the edition."""
    import ast

    import practice
    source = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb",
                           as_version=4)
    twins, _ = practice.twin_cells(source)
    edition = nbformat.read(tree / "exercises" / assignment / f"{assignment}.ipynb",
                            as_version=4)
    shown = {}
    for task, cell in practice_cells(edition).items():
        shown[task] = [entry["message"] for entry in practice_data(cell)[1]]
        moved = twins[task][2] if task in twins else {}
        for message in shown[task]:
            assert not practice.names_graded_input(message, moved), (task, message)
    for cell in source.cells:
        task = cell.metadata.get("nbgrader", {}).get("grade_id")
        if task not in twins:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check" \
                    and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                hidden = node.args[1].value
                if practice.names_graded_input(hidden, twins[task][2]):
                    assert hidden not in shown[task], (task, hidden)


# --- The course's own students' page (item 3) ---------------------------------------------

def test_the_course_s_students_page_is_the_edition_s_for_the_course():
    """students.md is written by students_page() for the course as configured (no launch
    button, no JupyterHub, no nbgrader in the student's environment, as it ships)."""
    page = (REPO / "students.md").read_text()
    assert page == public.course_students_page(), \
        "students.md is stale: run .venv/bin/python tools/public.py --students-page"
    addresses = public.course_addresses()
    if not addresses["repository"]:
        for promise in ("rocket", "Binder", "Colab", "public repository"):
            assert promise not in page, promise
    if not addresses["jupyterhub"]:
        for promise in ("nbgrader", "Validate", "JupyterHub", "Assignments* tab"):
            assert promise not in page, promise
    if not addresses["site"]:
        assert "installs it from" not in page


def test_the_built_edition_shows_each_practice_question(clone):
    """Assignment pages show the notebook as handed out (never executed, so no slider of an
    assignment has frames there): the practice question, its slider's code and its answer
    cell are on the page, in the order a reader runs them."""
    for path in sorted(clone.glob("exercises/*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        page = (clone / "_build" / "html" / "exercises" / path.parent.name /
                f"{path.stem}.html").read_text()
        for task, (answer, check) in question_cells(notebook).items():
            at = page.index("Practice question (not graded)")
            name = answer.source.split(" = ", 1)[0]
            assert page.index(name, at) > at, task
            slider = next(cell for cell in notebook.cells
                          if cell.id == check.metadata["practice_slider"])
            function = re.search(r"frame_slider\((\w+)", slider.source).group(1)
            assert function in page, task


def _verdict(checks, body):
    """What a practice cell prints: SETUP's PracticeChecks run on `body` (no book, no kernel)."""
    import contextlib
    import io

    import practice
    space = {}
    exec(practice.SETUP, space)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        with space["PracticeChecks"]("t-tests", json.dumps(checks)) as check:
            body(check)
    return out.getvalue()


def test_a_failing_visible_test_after_the_practice_checks_is_told_as_such():
    """The practice cell of a task re-runs the visible test at its end: its failure is the
    visible test's, after every practice check ran, not a practice check that broke."""
    entries = [{"answers": [1.0], "rtol": 0, "atol": 0, "judged": False, "message": "m"}] * 2

    def visible_fails(check):
        check(1.0)
        check(2.0)
        raise AssertionError("the update is not right")

    text = _verdict(entries, visible_fails)
    assert "1 of 2 passed" in text
    assert "visible test" in text and "the update is not right" in text
    assert "not reached" not in text

    def stops_early(check):
        check(1.0)
        raise ValueError("boom")

    text = _verdict(entries, stops_early)
    assert "1 of 2 practice checks" in text and "1 practice checks not reached" in text
    assert "visible test" not in text


def test_the_headless_hint_names_the_slider_s_drawing_function():
    import practice
    hint = practice.headless_hint(
        'widgets.frame_slider(draw_rate, slider_rates, "η", fmt="{:g}", start=1.0)')
    assert "`draw_rate(value)`" in hint and "`slider_rates`" in hint and "VBox" in hint
    assert practice.headless_hint("frame_slider(lambda d: draw(d), values, 'x')") == ""


def test_the_practice_set_up_comes_after_the_title_folded(tree):
    """The practice set-up cell stands right before the first practice cell, after the
    assignment's title and introduction; the book folds it (hide-input), a notebook runs it."""
    for path in sorted(tree.glob("exercises/*/*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        at = next(k for k, cell in enumerate(cells) if cell.id == "practice-setup")
        title = next(k for k, cell in enumerate(cells) if cell.cell_type == "markdown"
                     and cell.source.startswith("# Assignment"))
        assert title < at, path.name
        assert "practice" in cells[at + 1].metadata.get("tags", []), path.name
        assert not any("practice" in cell.metadata.get("tags", []) for cell in cells[:at])
        assert "hide-input" in cells[at].metadata["tags"], path.name
        assert cells[at].metadata["jupyter"]["source_hidden"], path.name


def test_the_readme_and_requirements_promise_only_what_is_configured():
    """README.md and requirements.txt are written for the edition as configured: no launch
    button, Binder or unnamed address where edition.yml sets none; the Python they need is
    the one the students' page names, and the pins install on it."""
    from importlib import metadata
    bare = {"repository": "", "site": "", "jupyterhub": ""}
    text = public.readme(bare) + public.requirements(bare)
    for promise in ("launch button", "Binder", "Colab", "repository's description", "@"):
        assert promise not in text, promise
    full = dict(URLS, site="https://s.org")
    text = public.readme(full) + public.requirements(full)
    for promise in ("launch buttons", "Binder", "https://s.org", "JupyterHub"):
        assert promise in text, promise
    python = public.python_minimum()
    assert f"Python {python} or newer" in public.readme(bare)
    assert f"Python {python} or newer" in public.students_page(bare, bootstrap.bplib_wheel())
    numpy_needs = re.search(r">=\s*([\d.]+)", metadata.distribution("numpy").metadata[
        "Requires-Python"]).group(1)
    as_tuple = [tuple(int(p) for p in v.split(".")) for v in (python, numpy_needs)]
    assert as_tuple[0] >= as_tuple[1], "the pinned numpy does not install on that Python"
    page = public.students_page(bare, bootstrap.bplib_wheel())
    assert "Anywhere else" not in page and "requirements.txt" in page
