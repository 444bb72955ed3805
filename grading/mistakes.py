"""The catalogue of typical mistakes (issue 22), instructor side only.

Each assignment's mistakes live in `mistakes/<assignment>.py` at the repository's top level,
next to `solutions/` and never released. That file defines `MISTAKES`, a list of `Mistake`:
a small code variant of the solution (old → new lines in one solution cell), the test cells
it must lose points in (its own task) and the explanation a student reads.

The grader uses the catalogue in its own process only: when a student's value fails a
check, `matching` runs the solution notebook with each mistake of that task applied (once
per mistake, cached) and names the mistakes whose value at the same check equals the
student's, to the check's tolerance.

SKELETON: the interface below is fixed (grading/judge.py calls `matching`); the bodies are
being written (issue 22).
"""

from dataclasses import dataclass, field


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


def catalogue(assignment):
    """The list of Mistake of an assignment ("04-per-neuron"); [] if it has none."""
    raise NotImplementedError


def mutated(notebook, mistake):
    """A copy of the instructor's notebook with the mistake applied; a clear ValueError if
    its cell or an `old` text is not found exactly once."""
    raise NotImplementedError


def matching(source_path, grade_id, index, value, rtol, atol):
    """The catalogued mistakes of the test cell `grade_id` whose value at its check number
    `index` equals `value` (the student's plain data) to the tolerance, and differs from the
    solution's own value there: [] when none does. Runs in the grader's process only."""
    raise NotImplementedError
