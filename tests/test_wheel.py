"""bplib as a student installs it: the built wheel, in an empty virtual environment, with
nothing but the dependencies bplib/pyproject.toml declares, and no network.

Offline, and with no package index: every dependency is installed from a wheel repacked
from the copy already installed in this test's own environment (its files as its RECORD
lists them, its metadata and its WHEEL tags), so pip resolves bplib's declared
requirements against real metadata and installs only what they pull in. Nothing is
downloaded and no cache is read (`--no-index`, pip's configuration files switched off).
In that environment every bplib module is imported, and the code cells of every chapter
run (with a stand-in for myst_nb's `glue`, the book's only extra): each public function a
chapter uses is called as the chapter calls it, and the chapters' own asserts hold.
"""

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import jupytext
import pytest
from packaging import tags
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "chapters").glob("*.md"))


def installed_closure(requirements):
    """{name: distribution} of this environment that `requirements` need, recursively, with
    environment markers (and extras) evaluated for this Python."""
    found = {}
    pending = [(text, "") for text in requirements]
    while pending:
        text, extra = pending.pop()
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        extras = sorted(requirement.extras)
        key = (name, tuple(extras))
        if key in found:
            continue
        distribution = metadata.distribution(requirement.name)
        found[key] = distribution
        for needed in distribution.requires or []:
            pending += [(needed, wanted) for wanted in ["", *extras]]
    return {name: distribution for (name, _), distribution in found.items()}


def _record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def repack(distribution, folder):
    """A wheel of an installed distribution, from its own files: what its RECORD lists
    inside site-packages (scripts outside it are left out: pip writes them anew from the
    entry points), a fresh RECORD, and the first tag of its WHEEL file that this Python
    supports in the name (a wheel tagged py2.py3 is installed as py2 first)."""
    site = Path(distribution.locate_file(""))
    files = [str(path) for path in distribution.files]
    (info,) = {path.split("/")[0] for path in files if path.split("/")[0].endswith(".dist-info")}
    supported = {str(tag) for tag in tags.sys_tags()}
    tag = next(line.split(":", 1)[1].strip()
               for line in distribution.read_text("WHEEL").splitlines()
               if line.startswith("Tag:") and line.split(":", 1)[1].strip() in supported)
    skip = {f"{info}/{name}" for name in ("RECORD", "INSTALLER", "REQUESTED",
                                          "direct_url.json")}
    wheel = folder / f"{info.removesuffix('.dist-info')}-{tag}.whl"
    record = io.StringIO()
    rows = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as archive:
        for path in files:
            if path.startswith("..") or path in skip or "__pycache__/" in path:
                continue
            data = (site / path).read_bytes()
            archive.writestr(path, data)
            rows.writerow([path, _record_hash(data), len(data)])
        rows.writerow([f"{info}/RECORD", "", ""])
        archive.writestr(f"{info}/RECORD", record.getvalue())
    return wheel


def chapter_script(chapter, folder):
    """The chapter's code cells as one Python file, IPython magics left out."""
    notebook = jupytext.read(chapter)
    cells = ["\n".join(line for line in cell.source.splitlines()
                       if not line.lstrip().startswith("%"))
             for cell in notebook.cells if cell.cell_type == "code"]
    script = folder / f"{chapter.stem}.py"
    script.write_text("\n\n".join(cells) + "\n")
    return script


IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
from pathlib import Path

import bplib
from bplib import network, timing

assert "site-packages" in bplib.__file__, bplib.__file__
modules = [info.name for info in pkgutil.walk_packages(bplib.__path__, "bplib.")]
for name in modules:
    importlib.import_module(name)
assert bplib.__version__ == sys.argv[1], (bplib.__version__, sys.argv[1])
assert not timing.one_blas_thread(), "threadpoolctl is no dependency: no limit, no error"
split = network.digits(rng=0)
assert [x.shape[1] for x in split[::2]] == [1000, 250, 250]
assert (Path(bplib.__file__).parent / "data" / "README.md").is_file()
print(" ".join(sorted(modules)))
"""


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory):
    """An empty venv holding the bplib wheel and exactly its declared dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    wheels = root / "wheels"
    wheels.mkdir()
    source = root / "bplib"
    shutil.copytree(REPO / "bplib", source, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info"))
    quiet = dict(capture_output=True, text=True,
                 env={**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1",
                      "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    def run(*command):
        done = subprocess.run(command, **quiet)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]

    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        str(source), "-w", str(wheels))
    (built,) = wheels.glob("bplib-*.whl")
    with zipfile.ZipFile(built) as archive:  # the wheel's own metadata
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [line.split(":", 1)[1].strip()
                    for line in archive.read(name).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
    closure = installed_closure(requires)
    for distribution in closure.values():
        repack(distribution, wheels)
    venv = root / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
        "--find-links", str(wheels), str(built))
    return python, requires, set(closure)


def test_wheel_installs_with_its_declared_dependencies_alone(student_venv):
    python, requires, closure = student_venv
    listed = subprocess.run(
        [str(python), "-c", "from importlib import metadata; print('\\n'.join("
         "d.metadata['Name'] for d in metadata.distributions()))"],
        check=True, capture_output=True, text=True).stdout.split()
    installed = {canonicalize_name(name) for name in listed}
    assert installed == closure | {"bplib"}, installed ^ (closure | {"bplib"})
    # What the course's environment has and a student's need not: none of it is there.
    assert not installed & {"scikit-learn", "threadpoolctl", "myst-nb", "grading",
                            "nbgrader", "autograd", "scipy"}
    assert {canonicalize_name(Requirement(text).name) for text in requires} <= installed


def test_every_module_imports_and_the_data_ship(student_venv):
    python, _, _ = student_venv
    version = tomllib.loads((REPO / "bplib" / "pyproject.toml").read_text())["project"][
        "version"]
    done = subprocess.run([str(python), "-c", IMPORT_EVERYTHING, version],
                          capture_output=True, text=True, cwd=python.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {"bplib.network", "bplib.plotting.network", "bplib.widgets"} <= set(
        done.stdout.split())


def test_every_chapter_runs_in_the_student_environment(student_venv, tmp_path):
    """The chapters side by side, one process each and one per core (they are
    independent), one BLAS thread each (the timings the chapters assert compare calls in
    one process; several processes with many threads each on a few cores would disturb
    them); sliders build without drawing, as when autograding."""
    python, _, _ = student_venv
    stub = tmp_path / "stub" / "myst_nb"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("def glue(name, value, display=True):\n    pass\n")
    env = {key: value for key, value in os.environ.items()
           if not re.match(r"(PYTHON|VIRTUAL_ENV)", key)}
    env.update(PYTHONPATH=str(stub.parent), MPLBACKEND="Agg", NBGRADER_EXECUTION="autograde",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    waiting, running, failed = list(CHAPTERS), {}, {}
    while waiting or running:
        while waiting and len(running) < (os.cpu_count() or 1):
            chapter = waiting.pop(0)
            running[chapter.stem] = subprocess.Popen(
                [str(python), str(chapter_script(chapter, tmp_path))], cwd=REPO / "chapters",
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        name = next(iter(running))
        process = running.pop(name)
        _, error = process.communicate(timeout=300)
        if process.returncode:
            failed[name] = error[-2000:]
    assert len(CHAPTERS) >= 5 and not failed, failed
