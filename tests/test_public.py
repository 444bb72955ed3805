"""The public edition (make public): a tree that builds by itself from a fresh clone, that
holds nothing secret, whose buttons lead only to configured places, and whose assignments
install bplib from the site's wheel where it is missing."""

import http.server
import os
import subprocess
import sys
import threading
import venv
from functools import partial

import nbformat
import pytest

from conftest import BIN, REPO, all_secret_lines

sys.path.insert(0, str(REPO / "tools"))
import bootstrap  # noqa: E402
import public  # noqa: E402

URLS = {"repository": "https://github.com/example-org/backprop-public", "site": "",
        "jupyterhub": "https://hub.example.org"}
INSTRUCTORS_ONLY = ["solutions", "grading", "tests", "nbgrader_config.py", "instructors.md",
                    "gradebook.db", "deploy", "edition.yml", "publish", "tools"]

pytestmark = pytest.mark.slow


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                            GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"))


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """The edition's tree, committed, cloned afresh, and built there with `make book`."""
    folder = tmp_path_factory.mktemp("edition")
    tree, clone = folder / "tree", folder / "clone"
    public.write_tree(tree, URLS)
    git("init", "-q", "-b", "main", cwd=tree)
    git("add", "-A", cwd=tree)
    git("commit", "-q", "-m", "edition", cwd=tree)
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


def test_a_fresh_clone_builds_the_site_with_its_wheel(clone):
    site = clone / "_build" / "html"
    assert (site / "index.html").is_file() and (site / "students.html").is_file()
    assert (site / "wheels" / bootstrap.bplib_wheel()).is_file()


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
    assert wanted == ["numpy", "matplotlib", "ipywidgets", "jupyterlab", "./bplib"]


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
    expected = bootstrap.bootstrap_source(bootstrap.site_of_edition())
    notebooks = sorted((REPO / "solutions").glob("*/*.ipynb")) + \
        sorted((REPO / "exercises").glob("*/*.ipynb"))
    assert notebooks
    for path in notebooks:
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.source == expected, f"{path}: run tools/bootstrap.py"
        assert first.metadata["nbgrader"]["locked"] is True, path
