"""Write _public/: the edition of the course that students and readers may see.

    make public        (builds the course's book first, then runs this)
    make publish       (pushes _public/ to the public repository of edition.yml)

_public/ is a git repository of its own, with its own history and the public repository
of edition.yml as its only remote: each run regenerates its files, keeps its .git and
commits what changed. It never resolves to the course's repository (a push from there
would publish solutions/): the command refuses to run if it would. It holds the chapters
as plain notebooks that read and run outside the book (tools/plain_chapters.py), the
released assignments titled "Assignment n", bplib, the book's configuration with launch
buttons pointing at the public repository, a students' page written from edition.yml, a
README and requirements, a workflow that publishes the site, and the built site
(_public/_build/html, not committed). It holds no solutions/, no hidden tests, no grading
code, no gradebook and no instructor guide. Every file of it is scanned for the lines of
the instructors' notebooks that students must never see, and one such line fails the
command.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tools"))
from conftest import all_secret_lines, leaks_in  # noqa: E402  (the one leak scan)
import bootstrap  # noqa: E402
import plain_chapters  # noqa: E402

SHARED = ["LICENSE", "LICENSE-CONTENT.md", "CITATION.cff",
          "bplib", "book_support", "chapters", "exercises", "appendix", "intro.md",
          "bibliography.md", "references.bib", "package.json",
          "package-lock.json", "constraints.txt", "book.mk"]
FROM_PUBLISH = {"Makefile": "Makefile", "README.md": "README.md",
                "requirements.txt": "requirements.txt",
                "requirements-book.txt": "requirements-book.txt",
                "workflows/publish.yml": ".github/workflows/publish.yml"}
INSTRUCTORS_ONLY = {"instructors"}  # pages of the course's book left out of the edition
SKIP = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".ipynb_checkpoints")
# (pip install -r requirements.txt builds ./bplib in place, leaving bplib/build/ behind)
GITIGNORE = ("".join(f"{line}\n" for line in (
    ".venv/", "node_modules/", "_build/", "__pycache__/", "*.egg-info/", "bplib/build/",
    ".ipynb_checkpoints/")))
# What a new run of make public keeps of _public/: its history, and what is not committed
# but slow to make again (the environment, the JavaScript, the build and its caches).
KEPT = {".git", ".venv", "node_modules", "_build"}
AUTHOR = {"GIT_AUTHOR_NAME": "make public", "GIT_AUTHOR_EMAIL": "make-public@localhost",
          "GIT_COMMITTER_NAME": "make public", "GIT_COMMITTER_EMAIL": "make-public@localhost"}


def edition():
    settings = yaml.safe_load((REPO / "edition.yml").read_text()) or {}
    unknown = set(settings) - {"repository", "site", "jupyterhub"}
    if unknown:
        raise SystemExit(f"edition.yml: unknown settings {sorted(unknown)}")
    return {key: (settings.get(key) or "").rstrip("/") for key in
            ("repository", "site", "jupyterhub")}


def python_minimum():
    """The oldest Python every version pinned in constraints.txt installs on: the largest
    lower bound of their Requires-Python, read from the installed packages (the course's
    .venv holds every pin). A pin that is not installed here is not counted."""
    from importlib import metadata
    lowest = (3, 0)
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name = line.split("#")[0].strip().split("==")[0]
        if not name or "==" not in line:
            continue
        try:
            requires = metadata.distribution(name).metadata.get("Requires-Python") or ""
        except metadata.PackageNotFoundError:
            continue
        for bound in re.findall(r">=\s*(\d+(?:\.\d+)*)", requires):
            lowest = max(lowest, tuple(int(part) for part in bound.split(".")))
    if lowest < (3, 10):
        raise SystemExit("make public: no Requires-Python found for the pins of "
                         "constraints.txt: is the course's .venv installed (make setup)?")
    return ".".join(map(str, lowest))


def readme(urls):
    """The edition's README.md (publish/README.md) for the edition as configured: it names
    the site and the launch buttons only where edition.yml sets them."""
    repository, site, hub = urls["repository"], urls["site"], urls["jupyterhub"]
    read = (f"The book is published as a website: {site}." if site else
            "Build the book as a website with `make book` (below), or open the notebooks "
            "of `chapters/` and `exercises/` in Jupyter.")
    if repository:
        buttons = "Binder, Colab" + (", the course's JupyterHub" if hub else "")
        read += (f" Every page of the site can be opened as a notebook with the launch "
                 f"buttons at its top ({buttons}), or downloaded with its download button.")
    else:
        read += " Every page of the site can be downloaded with the download button at its top."
    text = (REPO / "publish" / "README.md").read_text()
    return text.replace("@READ@", read).replace("@PYTHON@", python_minimum())


def requirements(urls):
    """publish/requirements.txt, naming Binder only where the edition has launch buttons."""
    text = (REPO / "publish" / "requirements.txt").read_text()
    return text.replace("@BINDER@", " Binder (the launch buttons) builds from this file."
                        if urls["repository"] else "")


def public_config(urls):
    """The course's _config.yml, with the buttons set from edition.yml: a button whose
    address is not configured is switched off, never pointed at a placeholder."""
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["exclude_patterns"] = [p for p in config.get("exclude_patterns", [])
                                  if p not in ("solutions", "tests")] + ["publish"]
    repository = urls["repository"]
    config["repository"] = {"url": repository, "path_to_book": "", "branch": "main"}
    config.setdefault("html", {})["use_repository_button"] = bool(repository)
    config["launch_buttons"] = {
        "notebook_interface": "jupyterlab",
        "binderhub_url": "https://mybinder.org" if repository else "",
        "colab_url": "https://colab.research.google.com" if repository else "",
        "jupyterhub_url": urls["jupyterhub"] if repository else "",
        "thebe": False,
    }
    return config


def public_toc():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())

    def keep(entries):
        kept = []
        for entry in entries:
            if entry.get("file") in INSTRUCTORS_ONLY:
                continue
            if "sections" in entry:
                entry["sections"] = keep(entry["sections"])
            kept.append(entry)
        return kept

    for part in toc.get("parts", []):
        part["chapters"] = keep(part["chapters"])
    toc["parts"] = [part for part in toc.get("parts", []) if part["chapters"]]
    return toc


def first_cell(urls, nbgrader=True):
    """The edition's first cell, for the edition as configured (tools/bootstrap.py)."""
    cell = bootstrap.bootstrap_cell(urls["site"], urls["repository"], urls["jupyterhub"])
    if not nbgrader:
        del cell.metadata["nbgrader"]
        cell.metadata["tags"] = ["remove-cell"]  # the book's page needs no install
    return cell


def edition_assignments(folder, urls, practice=None):
    """The released assignments as the edition hands them out: titled "Assignment n" like
    their page and the table of contents, opening with the edition's first cell, and (with
    `practice`, see tools/practice.py) a practice check after every test cell."""
    counts = {}
    for path in sorted(folder.glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        number = int(path.parent.name.split("-")[0])
        first = notebook.cells[0]
        if first.metadata.get("nbgrader", {}).get("grade_id") != bootstrap.GRADE_ID:
            raise SystemExit(f"make public: {path} does not start with the bootstrap cell")
        cell = first_cell(urls)
        cell.id = first.id
        notebook.cells[0] = cell
        titled = 0
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source, n = re.subn(r"^# (Exercise|Assignment) \d+\b",
                                         f"# Assignment {number}", cell.source, count=1)
                titled += n
                cell.source = re.sub(r"\bthis exercise\b", "this assignment", cell.source)
        if titled != 1:
            raise SystemExit(f"make public: {path} has no title '# Exercise {number}: ...'")
        if practice is not None:
            counts[path.parent.name] = practice(path.parent.name, notebook)
        nbformat.write(notebook, path)
    return counts


def student_packages(folder=REPO):
    """The packages publish/requirements.txt names, bplib aside, each at the version
    constraints.txt pins (the one the book was made with): what a student installs with a
    downloaded notebook."""
    pins = {}
    for line in (folder / "constraints.txt").read_text().splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if version:
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    packages = []
    for line in (folder / "publish" / "requirements.txt").read_text().splitlines():
        name = line.split(";")[0].strip()
        if not name or name.startswith(("#", "-c", "./")):
            continue
        version = pins.get(re.sub(r"[-_.]+", "-", name).lower())
        if version is None:
            raise SystemExit(f"make public: publish/requirements.txt names {name}, which "
                             "constraints.txt does not pin: the students' page could not "
                             "give the version the book was made with")
        packages.append(f"{name}=={version}")
    return packages


def students_page(urls, wheel, practice=False):
    """students.md for the edition as configured: it promises only what is there."""
    repository, site, hub = urls["repository"], urls["site"], urls["jupyterhub"]
    python = python_minimum()
    where = ["## Opening an assignment", "",
             "Each chapter ends with an assignment: a Jupyter notebook in which you write a "
             "few functions, check them, and (in a course) hand it in to be graded. Its page "
             "in this book shows the notebook as you receive it, with a link to download it "
             "(`.ipynb`).", ""]
    if hub:
        where += [f"- **The course's JupyterHub** ({hub}): the button with the JupyterHub "
                  "logo at the top of a page opens its notebook there. Everything is "
                  "installed there.", ""]
    if repository:
        where += ["- **Binder** or **Colab**: the launch button (the rocket at the top of a "
                  "page) opens the page's notebook in a temporary online environment. "
                  "Download your notebook before you close the tab: these environments "
                  "forget everything when they stop.", "",
                  f"- **Your own computer**: get the notebooks from the course's public "
                  f"repository, {repository} (`exercises/` holds the assignments, "
                  "`chapters/` the chapters), then in a terminal, in its folder:", "",
                  "  ```bash", "  python -m venv .venv && source .venv/bin/activate",
                  "  pip install -r requirements.txt", "  jupyter lab", "  ```", ""]
    else:
        where += ["- **Your own computer**: download the assignment's notebook from its "
                  "page, and bplib, the course's small library, from this site: "
                  f'<a href="wheels/{wheel}">{wheel}</a>. Then in a terminal, in the folder '
                  "where you saved both (this is the recipe for downloaded notebooks: it "
                  "installs the packages at the versions the book was made with; in a copy "
                  "of the whole public edition, its README's `pip install -r "
                  "requirements.txt` installs the same and pins their dependencies too):",
                  "",
                  "  ```bash", "  python -m venv .venv && source .venv/bin/activate",
                  f"  pip install {' '.join(student_packages())} {wheel}",
                  "  jupyter lab", "  ```", ""]
    where += [f"On your own computer you need Python {python} or newer: the versions this "
              "book pins install on no older one.", ""]
    if site:
        where += ["The first cell of every assignment imports `bplib`. Where it is not "
                  f"installed (Colab, a bare Python), that cell installs it from {site} and "
                  "says so; run it first, as you would any notebook, top to bottom.", ""]
    else:
        where += ["The first cell of every assignment imports `bplib`. Where it is not "
                  "installed, that cell stops with an error that says how to install it; "
                  "install it as above and run the notebook again from the top.", ""]
    work = ["## Working through it", "",
            "Write your code where a cell says `raise NotImplementedError()`: replace that "
            "line with your answer. Keep the cells you did not write as they are: the "
            "structure of the notebook is how the grader finds your answers, and it runs "
            "those cells as they were released (an import you add to one of them is not "
            "there when your notebook is graded; your feedback names a cell you changed). "
            "Put imports of your own into your answer cells.", "",
            "Each task is followed by a cell of **visible tests**. Run it: if it finishes "
            "silently, your answer passed those tests; if it raises an `AssertionError`, its "
            "message says what was expected. If a cell fails because a name is not defined, "
            "you skipped a cell above it: use *Run All Above*.", ""]
    if practice:
        work += ["After the test cell of every task that computes something comes a cell of "
                 "**practice checks**: the checks the grader runs on your answer, on other "
                 "inputs than the graded ones. Its expected values were computed from the "
                 "course's solutions when this edition was made; the cell runs your function "
                 "in your own notebook and prints how many checks passed and the message of "
                 "each that failed. After a question you answer with a slider comes a "
                 "**practice question**: the same question on other numbers (with a slider "
                 "of its own where its inputs are the slider's), whose answer you store in "
                 "the variable it names; the cell after it checks that answer. Its answer is "
                 "never the graded one. When you study alone, these checks are your "
                 "grader.", ""]
    work += ["Sliders in an assignment run **your** functions. Where a slider also draws the "
             "same run with the course's library, `bplib`, the question after it reads that "
             "run: your line lies on the library's when your function is right, and a "
             "mistake in an earlier task costs that task's points only.", ""]
    hand_in = ["## Before you hand it in", "",
               "Restart the kernel and run every cell (*Kernel → Restart Kernel and Run All "
               "Cells*). A notebook that only works in the order you happened to run it fails "
               "the grader, which runs it top to bottom in a fresh kernel."
               + (" Every practice check should say *passed*." if practice else ""), ""]
    if hub:
        hand_in += ["On the course's JupyterHub, the *Validate* button in JupyterLab's "
                    "toolbar runs the notebook from the top in a fresh kernel and prints "
                    "either *Success! Your notebook passes all the tests.* or *VALIDATION "
                    "FAILED ON n CELL(S)!* with each failing cell; it runs only the visible "
                    "tests. There you hand in with the *Assignments* tab.", ""]
    hand_in += [("Anywhere else, hand" if hub else "Hand")
                + " in the notebook file itself (*File → Download*), the way your course "
                "collects work, without renaming it: the grader finds your "
                "answers by the notebook's cells, not by its name. Studying alone, there is "
                "nothing to hand in.", ""]
    graded = ["## How it is graded", "",
              "Every task has points, shown in its heading (they add up to the total the "
              "introduction gives). The grader runs your notebook "
              "in a fresh kernel and then its own **hidden tests**: more cases than the "
              "visible ones (random inputs, larger sizes, edge cases), computed and judged "
              "outside your notebook. A task's points are yours when all of its tests pass. "
              "A mistake in one task costs that task's points only. Answers typed in from a "
              "visible test"
              + (" or a practice check" if practice else "")
              + ", instead of computed, pass that test and fail the hidden ones.", "",
              "Your feedback shows each task's result and the messages of your failing "
              "tests. It does not show the hidden tests themselves, so that they still test "
              "the next class.", ""]
    return "\n".join(["# For students: doing the assignments", "",
                      "This page says how to open an assignment, how to check it, and how "
                      "it is graded.", ""] + where + work + hand_in + graded)


def course_addresses():
    """The addresses the course's own book is configured with: its buttons from
    _config.yml (none, as it ships: the repository is private), its site from edition.yml
    (where the assignments' first cell installs bplib from)."""
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    return {"repository": (config.get("repository") or {}).get("url") or "",
            "site": edition()["site"],
            "jupyterhub": (config.get("launch_buttons") or {}).get("jupyterhub_url") or ""}


COURSE_STUDENTS = ("% Written by `python tools/public.py --students-page` from "
                   "tools/public.py's students_page(): edit that, not this page.\n")


def course_students_page():
    """The course's own students.md: the edition's page, for the course as configured."""
    return COURSE_STUDENTS + students_page(course_addresses(), bootstrap.bplib_wheel())


def check_workflow(public):
    """The publishing workflow names `make book` and _build/html: both must exist here."""
    workflow = (public / ".github/workflows/publish.yml").read_text()
    makefile = (public / "Makefile").read_text() + (public / "book.mk").read_text()
    assert "run: make book" in workflow and "\nbook:" in makefile, "the workflow's make book"
    assert "path: _build/html" in workflow and "BUILD := _build" in makefile, \
        "the workflow publishes _build/html, which the Makefile no longer builds"


def clear(public):
    """Empty the folder for a new edition, keeping what KEPT names."""
    public.mkdir(parents=True, exist_ok=True)
    for path in public.iterdir():
        if path.name in KEPT:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def chapter_targets(public):
    """The pages that stay MyST (intro, appendix) refer to a chapter by its label, which
    the chapter's plain notebook no longer sets: such a {ref} becomes a {doc}."""
    labels = {}
    for chapter in (public / "chapters").glob("*.md"):
        found = re.search(r"^\(([\w-]+)\)=\s*$", chapter.read_text(), flags=re.MULTILINE)
        if found:
            labels[found.group(1)] = chapter.stem
    for page in list(public.glob("*.md")) + list(public.glob("appendix/*.md")):
        text = page.read_text()
        new = re.sub(r"\{ref\}`([\w-]+)`", lambda m: f"{{doc}}`/chapters/{labels[m.group(1)]}`"
                     if m.group(1) in labels else m.group(0), text)
        if new != text:
            page.write_text(new)


def write_tree(public, urls, build=REPO / "_build", practice=None):
    """The edition's files (not yet its built site) in the folder public; `build` is the
    course's executed book (make book), whose computed values the chapters' text takes."""
    clear(public)
    for name in SHARED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, public / name, ignore=SKIP)
        elif source.is_file():
            shutil.copy2(source, public / name)
        elif name not in ("appendix",):
            raise SystemExit(f"make public: {name} is missing from the course")
    for source, target in FROM_PUBLISH.items():
        (public / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / "publish" / source, public / target)
    (public / "README.md").write_text(readme(urls))
    (public / "requirements.txt").write_text(requirements(urls))
    (public / ".gitignore").write_text(GITIGNORE)
    (public / "_config.yml").write_text(
        "# The public edition's book: written by `make public` from the course's.\n"
        + yaml.safe_dump(public_config(urls), sort_keys=False, allow_unicode=True))
    (public / "_toc.yml").write_text(yaml.safe_dump(public_toc(), sort_keys=False))
    chapter_targets(public)
    for markdown in (public / "chapters").glob("*.md"):
        markdown.unlink()
    plain_chapters.convert_all(REPO, build, public / "chapters", first_cell(urls, False))
    counts = edition_assignments(public / "exercises", urls, practice)
    (public / "students.md").write_text(
        students_page(urls, bootstrap.bplib_wheel(), practice=bool(counts)))
    check_workflow(public)
    return counts


def build_site(public, venv):
    """Build the edition's book in _public/ with the course's environment; the JavaScript
    is reused from the course's own build."""
    if (REPO / "node_modules").is_dir() and not (public / "node_modules").exists():
        shutil.copytree(REPO / "node_modules", public / "node_modules", symlinks=True)
    built = subprocess.run(["make", "book", f"VENV={venv}", "-o", f"{venv}/bin/.installed"],
                           cwd=public)
    if built.returncode != 0:
        raise SystemExit("make public: the edition's book does not build")


def scan(public):
    """Every text file of the edition, its built site included, against every secret line."""
    # an import line (`import numbers`) is everyone's, not a secret
    secrets = {line for line in all_secret_lines() if not line.startswith(("import ", "from "))}
    if not secrets:
        raise SystemExit("make public: no secret lines found in solutions/: the scan would "
                         "prove nothing")
    skip = {".git", ".venv", "node_modules", "vendor", ".jupyter_cache"}
    files = [path for path in public.rglob("*") if path.is_file()
             and not skip & set(path.relative_to(public).parts)
             # .map: the theme's source maps, third-party code whose short lines
             # ("return current") may match a short solution line by chance
             and path.suffix not in (".png", ".svg", ".whl", ".woff", ".woff2", ".ttf",
                                     ".eot", ".ico", ".pickle", ".doctree", ".db", ".map")]
    return files, leaks_in(files, secrets)


# --- The edition's own repository --------------------------------------------------------

def git(*args, cwd, check=True):
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **AUTHOR})
    if check and result.returncode != 0:
        raise SystemExit(f"make public: git {' '.join(args)} failed in {cwd}:\n"
                         f"{result.stderr.strip()}")
    return result.stdout.strip()


def course_git_dirs():
    """The course's git directories (its own and, for a worktree, the common one)."""
    found = set()
    for flag in ("--git-dir", "--git-common-dir"):
        out = git("rev-parse", flag, cwd=REPO, check=False)
        if out:
            found.add((REPO / out).resolve())
    return found


def own_repository(public):
    """Make sure `public` is a git repository of its own (git init where it is none yet),
    or refuse: a folder inside the course without a .git of its own resolves to the
    course's repository, and a push from there publishes solutions/."""
    public = public.resolve()
    if public == REPO or REPO.is_relative_to(public):
        raise SystemExit(f"make public: refusing: {public} is the course's repository "
                         "(or holds it)")
    dot_git = public / ".git"
    if dot_git.exists() and not dot_git.is_dir():
        raise SystemExit(f"make public: refusing: {dot_git} is a file (a worktree or "
                         "submodule link): the edition must be a repository of its own")
    if not dot_git.exists():
        public.mkdir(parents=True, exist_ok=True)
        git("init", "-q", "-b", "main", cwd=public)
    top = Path(git("rev-parse", "--show-toplevel", cwd=public)).resolve()
    git_dir = (public / git("rev-parse", "--git-common-dir", cwd=public)).resolve()
    if top != public or git_dir in course_git_dirs():
        raise SystemExit(f"make public: refusing: {public} resolves to the repository "
                         f"{top} ({git_dir}), not a repository of its own")
    return public


def set_remote(public, repository):
    """The public repository as the edition's only remote (none when it is not set)."""
    for remote in git("remote", cwd=public).split():
        if remote != "origin" or not repository:
            git("remote", "remove", remote, cwd=public)
    if repository:
        if "origin" in git("remote", cwd=public).split():
            git("remote", "set-url", "origin", repository, cwd=public)
        else:
            git("remote", "add", "origin", repository, cwd=public)


def commit(public):
    """Commit the regenerated files; nothing when nothing changed. Returns the commit."""
    git("add", "-A", cwd=public)
    if git("status", "--porcelain", cwd=public):
        git("commit", "-q", "-m", "The edition, regenerated by make public", cwd=public)
    return git("rev-parse", "HEAD", cwd=public)


def publish(public):
    """make publish: push the committed edition to its remote, or refuse."""
    urls = edition()
    if not urls["repository"]:
        raise SystemExit("make publish: refusing: edition.yml has no repository, so the "
                         "edition has nowhere to go (set it, then run make public)")
    public = own_repository(public)
    remotes = git("remote", "-v", cwd=public).split("\n")
    if {line.split()[1] for line in remotes if line} != {urls["repository"]}:
        raise SystemExit("make publish: refusing: _public/'s remotes are not exactly "
                         f"{urls['repository']}: run make public again")
    if git("status", "--porcelain", cwd=public):
        raise SystemExit("make publish: refusing: _public/ has uncommitted changes: run "
                         "make public again")
    files, leaks = scan(public)
    if leaks:
        raise SystemExit(f"make publish: refusing: {len(leaks)} secret lines in _public/")
    subprocess.run(["git", "push", "origin", "main"], cwd=public, check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "_public")
    parser.add_argument("--publish", action="store_true", help="push the edition (make publish)")
    parser.add_argument("--students-page", action="store_true",
                        help="write the course's own students.md (from students_page)")
    args = parser.parse_args(argv)
    if args.publish:
        return publish(args.out)
    if args.students_page:
        (REPO / "students.md").write_text(course_students_page())
        return None
    public = own_repository(args.out)
    urls = edition()
    set_remote(public, urls["repository"])
    counts = write_tree(public, urls, practice=practice_maker())
    build_site(public, Path(sys.executable).parent.parent)
    files, leaks = scan(public)
    if leaks:
        for path, line in leaks[:20]:
            print(f"LEAK {Path(path).relative_to(public)}: {line}", file=sys.stderr)
        raise SystemExit(f"make public: {len(leaks)} secret lines in _public/: not publishable")
    head = commit(public)
    print(f"_public/ written and committed ({head[:12]}): {len(files)} files scanned, no "
          f"solution or hidden test; the site is in _public/_build/html")
    for assignment, count in sorted(counts.items()):
        print(f"  {assignment}: {count} practice checks")
    missing = {"repository": "no launch buttons and no repository link are shown",
               "site": "an assignment opened elsewhere says how to install bplib instead of "
                       "installing it",
               "jupyterhub": "no JupyterHub button is shown"}
    for key, url in urls.items():
        if not url:
            print(f"  edition.yml has no {key}: {missing[key]}")
    if not urls["repository"]:
        print("\n" + "!" * 78 + "\n  NOT PUBLISHABLE: edition.yml has no repository. _public/ "
              "is a local preview\n  only; `make publish` refuses until edition.yml names "
              "the public repository.\n" + "!" * 78)


def practice_maker():
    """tools/practice.py's practice cells, when it is there."""
    try:
        import practice
    except ImportError:
        return None
    return practice.add_practice_cells


if __name__ == "__main__":
    main()
