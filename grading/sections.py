"""Where a student should reread, as a feedback page can say it: a catalogued mistake's
`section` ("chapters/04-per-neuron.html#the-derivation-one-step-at-a-time") becomes the
chapter's number and the section's title, plus a link when the book's address is known
(edition.yml's `site`). A relative link would not resolve from a feedback file (it is read
from the student's own folder or the LMS), so without an address there is no link.
"""

import re
from functools import lru_cache
from pathlib import Path

import yaml

from grading import state


def _slug(title):
    from docutils.nodes import make_id

    return make_id(title)


@lru_cache(maxsize=None)
def _chapters(course):
    """{page without suffix ("chapters/04-per-neuron"): chapter number} of the numbered part
    of _toc.yml."""
    try:
        toc = yaml.safe_load((Path(course) / "_toc.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    for part in toc.get("parts", []):
        if part.get("numbered"):
            return {entry["file"]: number
                    for number, entry in enumerate(part.get("chapters", []), start=1)}
    return {}


@lru_cache(maxsize=None)
def _titles(path):
    """{anchor: section title} of a MyST page: each heading's slug, and a label `(x)=` on
    the line before a heading (code blocks left out)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}, None
    found, first, fence, label = {}, None, None, None
    for line in lines:
        opening = re.match(r"^\s*(`{3,}|~{3,})", line)
        if opening and fence is None:
            fence = opening.group(1)
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        named = re.match(r"^\((\S+)\)=\s*$", line)
        heading = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if heading:
            title = heading.group(2)
            if first is None and len(heading.group(1)) == 1:
                first = title
            found.setdefault(_slug(title), title)
            if label:
                found.setdefault(label, title)
        label = named.group(1) if named else None
    return found, first


def site(course):
    try:
        settings = yaml.safe_load((Path(course) / "edition.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return ""
    address = (settings.get("site") or "").strip()
    return address if re.match(r"^https?://", address) else ""


def reread(section, course=state.COURSE):
    """(words, link or None) for a section "chapters/<page>.html#anchor"."""
    course = str(course)
    page, _, anchor = section.partition("#")
    stem = re.sub(r"\.(html|md|ipynb)$", "", page)
    number = _chapters(course).get(stem)
    if number is None:  # a course copy without _toc.yml: the page's own number
        digits = re.match(r"(\d+)-", Path(stem).name)
        number = int(digits.group(1)) if digits else None
    titles, chapter_title = _titles(str(Path(course) / f"{stem}.md"))
    title = titles.get(anchor) if anchor else None
    if title is None and anchor and not titles:  # the page is not here: the anchor's words
        title = anchor.replace("-", " ")
    where = f"Chapter {number}" if number else f"the page {Path(stem).name}"
    if chapter_title and not title:
        where += f", “{chapter_title}”"
    if title:
        where += f", section “{title}”"
    address = site(course)
    link = f"{address.rstrip('/')}/{stem}.html" + (f"#{anchor}" if anchor else "") \
        if address else None
    return where, link
