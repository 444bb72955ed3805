"""A wheelhouse made from the packages already installed in the course's .venv, so that a
test can make a fresh environment offline (pip with --no-index and these wheels alone):
the public edition's student venv (tests/test_public.py) and the exchange's student
environment (tests/test_exchange.py)."""

import base64
import csv
import hashlib
import io
import re
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
SITE_PACKAGES = next((REPO / ".venv" / "lib").glob("python*/site-packages"))


def wheel_of_installed(dist, site_packages, wheelhouse):
    """A wheel rebuilt from an installed distribution (its RECORD): the course's .venv is
    the only package source the student venv may use, and no network is needed."""
    name = dist.metadata["Name"]
    version = dist.version
    dist_info = Path(dist._path)  # noqa: SLF001 - the .dist-info folder
    tags = [line.split(": ", 1)[1] for line in (dist_info / "WHEEL").read_text().splitlines()
            if line.startswith("Tag: ")] or ["py3-none-any"]
    parts = [sorted({tag.split("-")[i] for tag in tags}) for i in range(3)]
    tag = "-".join(".".join(part) for part in parts)
    stem = f"{re.sub(r'[-_.]+', '_', name)}-{version}"
    path = wheelhouse / f"{stem}-{tag}.whl"
    scripts = {entry.name for entry in dist.entry_points if entry.group == "console_scripts"}
    record, buffer = [], None
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as wheel:
        for file in dist.files or []:
            posix = file.as_posix()
            if "__pycache__" in posix or posix.endswith("/RECORD") or posix.endswith(".pyc"):
                continue
            source = (site_packages / file).resolve()
            if not source.is_file():
                continue
            if posix.startswith("../"):
                rest = re.sub(r"^(\.\./)+", "", posix)
                if rest.startswith("bin/"):
                    if Path(rest).name in scripts:
                        continue
                    target = f"{stem}.data/scripts/{rest[4:]}"
                else:
                    target = f"{stem}.data/data/{rest}"
            else:
                target = posix
            data = source.read_bytes()
            wheel.writestr(target, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append((target, f"sha256={digest.decode()}", str(len(data))))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows(record + [(f"{dist_info.name}/RECORD", "", "")])
        wheel.writestr(f"{dist_info.name}/RECORD", buffer.getvalue())
    return path


def requirement_closure(requirements, site_packages):
    """The installed distributions that `requirements` (names) need, extras included."""
    installed = {canonicalize_name(d.metadata["Name"]): d
                 for d in metadata.distributions(path=[str(site_packages)])}
    found, todo = {}, [(Requirement(r), ()) for r in requirements]
    while todo:
        requirement, _ = todo.pop()
        key = canonicalize_name(requirement.name)
        dist = installed.get(key)
        if dist is None:
            continue  # pip says so below, if the student's install needs it
        extras = set(requirement.extras)
        seen = found.setdefault(key, [dist, set()])
        if key in found and extras <= seen[1] and seen[1]:
            continue
        seen[1] |= extras | {""}
        for line in dist.requires or []:
            needed = Requirement(line)
            if needed.marker is None or any(
                    needed.marker.evaluate({"extra": extra}) for extra in seen[1]):
                todo.append((Requirement(str(needed).split(";")[0]), ()))
    return [dist for dist, _ in found.values()]


def wheelhouse(requirements, folder, site_packages=SITE_PACKAGES):
    """Wheels, rebuilt into folder, of every installed distribution that `requirements`
    (names) and bplib's run-time dependencies need; editable installs (bplib, grading) are
    left out: the caller builds or installs them from their source."""
    bplib_needs = [line for line in metadata.requires("bplib") or [] if "extra" not in line]
    for dist in requirement_closure(list(requirements) + bplib_needs, site_packages):
        direct = Path(dist._path) / "direct_url.json"  # noqa: SLF001
        if direct.is_file() and "editable" in direct.read_text():
            continue
        wheel_of_installed(dist, site_packages, folder)
    return folder
