"""The catalogue of typical mistakes (issue 22), instructor side only.

Each assignment's mistakes live in `mistakes/<assignment>.py` at the repository's top level,
next to `solutions/` and never released. That file defines `MISTAKES`, a list of `Mistake`:
a small code variant of the solution (old → new lines in one solution cell), the test cells
it must lose points in (its own task) and the explanation a student reads.

The grader uses the catalogue in its own process only: when a student's value fails a
check, `matching` runs the solution notebook with each mistake of that task applied (once
per mistake, cached in memory and under grading-records/mistakes/) and names the mistakes
whose value at the same check equals the student's, to the check's tolerance. Nothing runs
unless a check failed.

tests/test_mutations.py grades every catalogued mistake through nbgrader: each must cost
points in its own test cells and in no other (the instructor guide, "Adding a catalogued
mistake").
"""

import copy
import hashlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .leaks import MIN_SECRET_LENGTH, region_lines, secret_lines

COURSE = Path(__file__).resolve().parents[1]
# The named kinds of mistake, as short names: what a Mistake's `kinds` should say
# (any words are accepted, so that an item analysis can group by them).
KINDS = ("activation-derivative", "transposed", "mean-vs-sum", "one-over-m", "sign",
         "layer-order", "in-place", "one-sided-difference", "cross-entropy", "off-by-one",
         "other")
ID = re.compile(r"^a\d-[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Mistake:
    """One catalogued mistake.

    id: short, unique across the course ("a4-no-sigmoid-prime").
    cell: grade_id of the solution cell the variant changes.
    replace: ((old, new), ...): each `old` occurs exactly once in that cell's source and
        is replaced by `new` (old and new may span several lines).
    tests: grade_ids of the test cells the mistake must lose points in (its own task), and
        in no other.
    explanation: what the student reads, phrased as the rule that was broken ("∂C/∂b sums
        over the examples: b is added to every example of the batch"); never solution code.
    section: the book page and anchor to reread, "chapters/04-per-neuron.html#anchor".
    title: a few words naming the mistake ("σ′ left out of the output terms").
    """

    id: str
    cell: str
    replace: tuple
    tests: tuple
    title: str
    explanation: str
    section: str
    kinds: tuple = field(default=())  # which of the named kinds it covers


class CatalogueError(ValueError):
    """A catalogue file that is not right: the message says which mistake and why."""


def _file(assignment, root):
    return Path(root) / "mistakes" / f"{assignment}.py"


def _load(path):
    """MISTAKES of a catalogue file, loaded by path (the names have dashes)."""
    spec = importlib.util.spec_from_file_location(
        "_mistakes_" + re.sub(r"\W", "_", path.stem), path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - reported with the file's name
        raise CatalogueError(f"{path}: could not be loaded: {type(error).__name__}: "
                             f"{error}") from error
    found = getattr(module, "MISTAKES", None)
    if not isinstance(found, (list, tuple)):
        raise CatalogueError(f"{path}: defines no list MISTAKES")
    return list(found)


def notebook_path(assignment, root=COURSE):
    return Path(root) / "solutions" / assignment / f"{assignment}.ipynb"


def anchors(page):
    """The anchors a chapter page (MyST Markdown) has once built: its headings' ids as
    docutils makes them (what Sphinx writes: "The judge's broadcast" -> the-judge-s-
    broadcast; a repeated title gets no new anchor of its name), its `(label)=` targets and
    its figures' and tables' `:name:`s. Lines inside fenced code are not headings."""
    from docutils.nodes import make_id

    found, fence = set(), None
    for line in Path(page).read_text(encoding="utf-8").splitlines():
        opening = re.match(r"^\s*(`{3,}|~{3,})", line)
        if opening:
            if fence is None:
                fence = opening.group(1)
            elif opening.group(1).startswith(fence) and not line.strip()[len(fence):].strip():
                fence = None
            named = re.match(r"^\s*:name:\s*(\S+)", line)
            if named:
                found.add(named.group(1))
            continue
        named = re.match(r"^\s*:name:\s*(\S+)", line)
        if named:
            found.add(named.group(1))
        if fence is not None:
            continue
        label = re.match(r"^\(([^()\s]+)\)=\s*$", line)
        if label:
            found.add(label.group(1))
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            # what docutils reads of the title: inline math and code as their text
            text = re.sub(r"\{[a-z]+\}`([^`]*)`", r"\1", heading.group(1))
            text = re.sub(r"[$`*_]", "", text)
            found.add(make_id(text))
    return found


def _validate(assignment, mistakes, root, path):
    """The problems of an assignment's catalogue ([] when it is right)."""
    source = notebook_path(assignment, root)
    if not source.is_file():
        return [f"{path}: no instructor notebook {source}"]
    notebook = nbformat.read(source, as_version=4)
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
    answer_cells = {grade_id for grade_id, cell in cells.items()
                    if grade_id and cell.metadata["nbgrader"].get("solution")}
    test_cells = {grade_id for grade_id, cell in cells.items() if grade_id and cell.cell_type
                  == "code" and cell.metadata["nbgrader"].get("grade")
                  and not cell.metadata["nbgrader"].get("solution")}
    solution = secret_lines(notebook)["SOLUTION"]
    problems = []
    for number, mistake in enumerate(mistakes, 1):
        where = f"{path.name}: mistake {number}"
        if not isinstance(mistake, Mistake):
            problems.append(f"{where} is not a grading.mistakes.Mistake")
            continue
        where = f"{path.name}: {mistake.id!r}"
        if not isinstance(mistake.id, str) or not ID.match(mistake.id) or \
                not mistake.id.startswith(f"a{int(assignment[:2])}-"):
            problems.append(f"{where}: the id should be 'a{int(assignment[:2])}-words-with-"
                            "dashes' (lower case)")
        if mistake.cell not in answer_cells:
            problems.append(f"{where}: cell {mistake.cell!r} is not an answer cell of "
                            f"{source.name} ({', '.join(sorted(answer_cells))})")
        tests = mistake.tests
        if not isinstance(tests, tuple) or not tests or any(test not in test_cells
                                                           for test in tests):
            problems.append(f"{where}: tests should be a non-empty tuple of test cells of "
                            f"{source.name} ({', '.join(sorted(test_cells))}), not {tests!r}")
        if not isinstance(mistake.replace, tuple) or not mistake.replace or not all(
                isinstance(pair, tuple) and len(pair) == 2
                and all(isinstance(text, str) for text in pair) for pair in mistake.replace):
            problems.append(f"{where}: replace should be ((old, new), ...) of strings")
        elif mistake.cell in answer_cells:
            text = cells[mistake.cell].source
            for old, new in mistake.replace:
                count = text.count(old) if old else 0
                if count != 1:
                    problems.append(f"{where}: {old!r} occurs {count} times in cell "
                                    f"{mistake.cell!r}, not once")
                elif old == new:
                    problems.append(f"{where}: a replacement that changes nothing: {old!r}")
                else:
                    text = text.replace(old, new)
        for name in ("title", "explanation"):
            value = getattr(mistake, name)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}: no {name}")
                continue
            code = {line.strip() for pair in (mistake.replace if isinstance(
                mistake.replace, tuple) else ()) for part in pair if isinstance(part, str)
                for line in part.splitlines()} | solution
            shown = sorted(line for line in code if len(line) >= MIN_SECRET_LENGTH
                           and line in value)
            if shown:
                problems.append(f"{where}: the {name} quotes code of the solution or of the "
                                f"mistake: {shown}")
        if not isinstance(mistake.kinds, tuple) or not all(
                isinstance(kind, str) and kind.strip() for kind in mistake.kinds):
            problems.append(f"{where}: kinds should be a tuple of words, such as "
                            f"{', '.join(KINDS)}; not {mistake.kinds!r}")
        section = re.match(r"^chapters/([\w-]+)\.html#([\w-]+)$", str(mistake.section))
        if not section:
            problems.append(f"{where}: section should be 'chapters/<page>.html#<anchor>', "
                            f"not {mistake.section!r}")
            continue
        page = Path(root) / "chapters" / f"{section.group(1)}.md"
        if not page.is_file():
            problems.append(f"{where}: section {mistake.section!r}: no chapter {page.name}")
        elif section.group(2) not in anchors(page):
            problems.append(f"{where}: section {mistake.section!r}: {page.name} has no "
                            f"heading or label with the anchor {section.group(2)!r}")
    return problems


_catalogues = {}  # (catalogue path, its checksum, root) -> [Mistake]


def catalogue(assignment, root=COURSE):
    """The list of Mistake of an assignment ("04-per-neuron"); [] if it has none.

    Validated (a CatalogueError lists every problem): ids unique across the course's
    catalogues, cell and tests grade_ids of solutions/<A>/<A>.ipynb, each `old` found once
    in the cell, a title and an explanation that quote no code, a section that names a
    chapter page and one of its anchors. root: the course's folder (a copy, in the tests).
    """
    path = _file(assignment, root)
    if not path.is_file():
        return []
    key = (path.resolve(), _checksum(path), Path(root).resolve())
    if key not in _catalogues:
        mistakes = _load(path)
        problems = _validate(assignment, mistakes, root, path)
        seen = {}
        for other in sorted(Path(root, "mistakes").glob("*.py")):
            for mistake in (mistakes if other.resolve() == path.resolve() else _load(other)):
                if isinstance(mistake, Mistake):
                    seen.setdefault(mistake.id, []).append(other.name)
        problems += [f"{path.name}: the id {mistake_id!r} is used more than once "
                     f"({', '.join(files)})" for mistake_id, files in sorted(seen.items())
                     if len(files) > 1 and path.name in files]
        if problems:
            raise CatalogueError("the catalogue of mistakes is not right:\n  "
                                 + "\n  ".join(problems))
        _catalogues[key] = mistakes
    return list(_catalogues[key])


def mutated(notebook, mistake):
    """A copy of the instructor's notebook with the mistake applied; a clear ValueError if
    its cell or an `old` text is not found exactly once."""
    notebook = copy.deepcopy(notebook)
    cells = [cell for cell in notebook.cells
             if cell.metadata.get("nbgrader", {}).get("grade_id") == mistake.cell]
    if len(cells) != 1:
        raise ValueError(f"mistake {mistake.id!r}: {len(cells)} cells with the grade_id "
                         f"{mistake.cell!r}, not one")
    source = cells[0].source
    for old, new in mistake.replace:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"mistake {mistake.id!r}: {old!r} occurs {count} times in cell "
                             f"{mistake.cell!r}, not once")
        source = source.replace(old, new)
    cells[0].source = source
    return notebook


def variant_lines(root=COURSE):
    """The lines of every catalogue's variants (each `old` and `new`, stripped, at least
    MIN_SECRET_LENGTH long): near-solution code, as instructor-only as the solutions. Left
    out (the scans look for a secret inside any text): a line found in a line outside every
    SOLUTION and HIDDEN TESTS region of an instructor notebook, or in bplib's own code
    (the course's, and the package this process imports), which is public anyway
    (AddLayer's backward is a catalogued sigmoid mistake's body)."""
    root = Path(root)
    catalogues = sorted((root / "mistakes").glob("*.py"))
    if not catalogues:
        return set()
    notebooks = sorted((root / "solutions").glob("*/*.ipynb"))
    modules = [module for folder in _bplib_folders(root) for module in sorted(folder.rglob("*.py"))]
    key = tuple((str(path), path.stat().st_mtime_ns) for path in catalogues + notebooks + modules)
    if key not in _variants:  # once per feedback batch, not once per page
        lines = set()
        for path in catalogues:
            for mistake in _load(path):
                lines |= {line.strip() for pair in mistake.replace for part in pair
                          for line in part.splitlines()}
        public = [line for source in notebooks
                  for line in region_lines(nbformat.read(source, as_version=4))[1]]
        public = "\n".join(public + [module.read_text(encoding="utf-8") for module in modules])
        _variants[key] = {line for line in lines
                          if len(line) >= MIN_SECRET_LENGTH and line not in public}
    return set(_variants[key])


_variants = {}


def _bplib_folders(root):
    """bplib's code: the course's folder, and the package the grader imports (a copy of
    the course may have no bplib/ of its own)."""
    import bplib

    return {path.resolve() for path in (root / "bplib", Path(bplib.__file__).parent)
            if path.is_dir()}


def _checksum(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_values = {}  # (source path, source, catalogue and bplib checksums, id) -> values
_library = []


def _library_checksum():
    """A checksum of the bplib this process imports (its values are in a mistake's run):
    once per process."""
    if not _library:
        import bplib

        digest = hashlib.sha256()
        for module in sorted(Path(bplib.__file__).parent.rglob("*.py")):
            digest.update(module.read_bytes())
        _library.append(digest.hexdigest())
    return _library[0]


def mistake_values(source_path, mistake):
    """{test cell's grade_id: [the value each of its checks collected]} for the solution
    notebook with the mistake applied, run in this process as grading.judge.reference runs
    the solution, cells after the mistake's last test cell left out. A cell that raises
    ends there (its later checks send nothing, as in a student's kernel) and the run goes
    on. Cached in memory, and on disk under grading-records/mistakes/, both keyed by the
    checksums of the source, of the catalogue and of bplib."""
    from . import judge

    source_path = Path(source_path).resolve()
    root = source_path.parents[2]
    assignment = source_path.parent.name
    key = (source_path, _checksum(source_path), _checksum(_file(assignment, root)),
           _library_checksum(), mistake.id)
    if key in _values:
        return _values[key]
    stored = (root / "grading-records" / "mistakes" / assignment
              / f"{hashlib.sha256(json.dumps(key[1:]).encode()).hexdigest()[:32]}.json")
    try:
        _values[key] = json.loads(stored.read_text(encoding="utf-8"))
        return _values[key]
    except (OSError, ValueError):
        pass
    notebook = mutated(nbformat.read(source_path, as_version=4), mistake)
    last = max(index for index, cell in enumerate(notebook.cells)
               if cell.metadata.get("nbgrader", {}).get("grade_id") in mistake.tests)
    notebook.cells = notebook.cells[:last + 1]
    collected = judge._run(notebook, source_path.parent, f"{source_path.name} "
                           f"with {mistake.id}", keep_going=True)
    values = {grade_id: [check["value"] for check in checks]
              for grade_id, checks in collected.items()}
    _values[key] = values
    try:
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(values), encoding="utf-8")
        os.replace(partial, stored)
    except OSError:
        pass  # a folder the grader cannot write to: the memory cache still holds them
    return values


def matching(source_path, grade_id, index, value, rtol, atol, records=None):
    """The catalogued mistakes of the test cell `grade_id` whose value at its check number
    `index` equals `value` (the student's plain data) to the tolerance, and differs from the
    solution's own value there: [] when none does. With `records` (every check result the
    student's cell sent), a mistake must also pass and fail the cell's other checks as the
    student did: a mistake that would fail a check the student passed (or pass one the
    student failed) is not the student's, whatever it gives at `index`. Runs in the
    grader's process only."""
    from . import judge

    source_path = Path(source_path).resolve()
    mistakes = [mistake for mistake in catalogue(source_path.parent.name,
                                                 source_path.parents[2])
                if grade_id in mistake.tests]
    if not mistakes:
        return []
    checks, _ = judge.reference(source_path)
    if grade_id not in checks or not 0 <= index < len(checks[grade_id]):
        return []
    check = checks[grade_id][index]
    found = []
    for mistake in mistakes:
        sent = mistake_values(source_path, mistake).get(grade_id, [])
        if index >= len(sent):
            continue
        theirs = sent[index]
        if judge.judged_records([{"value": theirs}], [check]) is None:
            continue  # the solution's own value there: the mistake does not show at it
        try:
            if not judge.same(value, theirs, rtol, atol):
                continue
        except TypeError:  # a value of a type no check sends
            continue
        if records is None or _same_verdicts(records, sent, checks[grade_id], index):
            found.append(mistake)
    return found


def _same_verdicts(records, sent, checks, index):
    """Whether the mistake's values pass and fail each check other than `index`, where
    both the student's cell and the mistake's run sent a value, as the student's did."""
    from . import judge

    for other, check in enumerate(checks):
        if other == index or other >= len(records) or other >= len(sent):
            continue
        if type(records[other]) is not dict or set(records[other]) != {"value"}:
            continue
        passed = [judge.judged_records([record], [check]) is None
                  for record in (records[other], {"value": sent[other]})]
        if passed[0] != passed[1]:
            return False
    return True
