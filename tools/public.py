"""Write _public/: the edition of the course that students and readers may see.

    make public        (builds the course's book first, then runs this)

_public/ is a complete repository of its own: the chapters (as notebooks, so that Colab
and Binder open something that runs), the released assignments, bplib, the book's
configuration with launch buttons pointing at the public repository (edition.yml), a
student README and requirements, a workflow that publishes the site, and the built site
(_public/_build/html). It holds no solutions/, no hidden tests, no grading code, no
gradebook and no instructor guide. Every file of it is scanned for the lines of the
instructors' notebooks that students must never see, and one such line fails the command.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from conftest import all_secret_lines, leaks_in  # noqa: E402  (the one leak scan)

SHARED = ["bplib", "book_support", "chapters", "exercises", "appendix", "intro.md",
          "students.md", "bibliography.md", "references.bib", "package.json",
          "package-lock.json", "constraints.txt", "book.mk"]
FROM_PUBLISH = {"Makefile": "Makefile", "README.md": "README.md",
                "requirements.txt": "requirements.txt",
                "requirements-book.txt": "requirements-book.txt",
                "workflows/publish.yml": ".github/workflows/publish.yml"}
INSTRUCTORS_ONLY = {"instructors"}  # pages of the course's book left out of the edition
SKIP = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".ipynb_checkpoints")
GITIGNORE = ".venv/\nnode_modules/\n_build/\n__pycache__/\n*.egg-info/\n.ipynb_checkpoints/\n"


def edition():
    settings = yaml.safe_load((REPO / "edition.yml").read_text()) or {}
    unknown = set(settings) - {"repository", "site", "jupyterhub"}
    if unknown:
        raise SystemExit(f"edition.yml: unknown settings {sorted(unknown)}")
    return {key: (settings.get(key) or "").rstrip("/") for key in
            ("repository", "site", "jupyterhub")}


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


def chapters_as_notebooks(folder):
    """Each MyST chapter becomes an .ipynb (jupytext), the form Colab and Binder open."""
    for markdown in sorted(folder.glob("*.md")):
        jupytext.write(jupytext.read(markdown), markdown.with_suffix(".ipynb"))
        markdown.unlink()


def check_workflow(public):
    """The publishing workflow names `make book` and _build/html: both must exist here."""
    workflow = (public / ".github/workflows/publish.yml").read_text()
    makefile = (public / "Makefile").read_text() + (public / "book.mk").read_text()
    assert "run: make book" in workflow and "\nbook:" in makefile, "the workflow's make book"
    assert "path: _build/html" in workflow and "BUILD := _build" in makefile, \
        "the workflow publishes _build/html, which the Makefile no longer builds"


def write_tree(public, urls):
    """The edition's files (not yet its built site) in the folder public."""
    shutil.rmtree(public, ignore_errors=True)
    public.mkdir(parents=True)
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
    (public / ".gitignore").write_text(GITIGNORE)
    (public / "_config.yml").write_text(
        "# The public edition's book: written by `make public` from the course's.\n"
        + yaml.safe_dump(public_config(urls), sort_keys=False, allow_unicode=True))
    (public / "_toc.yml").write_text(yaml.safe_dump(public_toc(), sort_keys=False))
    chapters_as_notebooks(public / "chapters")
    check_workflow(public)


def build_site(public, venv):
    """Build the edition's book in _public/ with the course's environment; the JavaScript
    and the notebooks' execution cache are reused from the course's own build."""
    if (REPO / "node_modules").is_dir():
        shutil.copytree(REPO / "node_modules", public / "node_modules", symlinks=True)
    built = subprocess.run(["make", "book", f"VENV={venv}"], cwd=public)
    if built.returncode != 0:
        raise SystemExit("make public: the edition's book does not build")


def scan(public):
    """Every text file of the edition, its built site included, against every secret line."""
    # an import line (`import numbers`) is everyone's, not a secret
    secrets = {line for line in all_secret_lines() if not line.startswith(("import ", "from "))}
    if not secrets:
        raise SystemExit("make public: no secret lines found in solutions/: the scan would "
                         "prove nothing")
    skip = {".venv", "node_modules", "vendor", ".jupyter_cache"}
    files = [path for path in public.rglob("*") if path.is_file()
             and not skip & set(path.relative_to(public).parts)
             # .map: the theme's source maps, third-party code whose short lines
             # ("return current") may match a short solution line by chance
             and path.suffix not in (".png", ".svg", ".whl", ".woff", ".woff2", ".ttf",
                                     ".eot", ".ico", ".pickle", ".doctree", ".db", ".map")]
    return files, leaks_in(files, secrets)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "_public")
    args = parser.parse_args(argv)
    public = args.out.resolve()
    urls = edition()
    write_tree(public, urls)
    build_site(public, Path(sys.executable).parent.parent)
    files, leaks = scan(public)
    if leaks:
        for path, line in leaks[:20]:
            print(f"LEAK {Path(path).relative_to(public)}: {line}", file=sys.stderr)
        raise SystemExit(f"make public: {len(leaks)} secret lines in _public/: not publishable")
    print(f"_public/ written: {len(files)} files scanned, no solution or hidden test; "
          f"the site is in _public/_build/html")
    missing = {"repository": "no launch buttons and no repository link are shown",
               "site": "assignments opened elsewhere say how to install bplib instead of "
                       "installing it",
               "jupyterhub": "no JupyterHub button is shown"}
    for key, url in urls.items():
        if not url:
            print(f"  edition.yml has no {key}: {missing[key]}")


if __name__ == "__main__":
    main()
