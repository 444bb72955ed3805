"""The structural diagnosis of a failing value (issue 22): what the student's value shows
when it is compared with the expected one, both plain JSON data (as grading/judge.py's
`same` takes them), in the grader's process only.

`diagnose(got, want, rtol, atol)` returns a `Finding` (a kind and the sentence a student
reads) or None. A finding is claimed only when it holds exactly to the check's tolerance:
the student's values, transformed back (negated, divided by the factor, transposed,
reordered), equal the expected ones entry by entry as `same` would accept them. The
sentence says what the values show ("your values are the expected ones times −1"), never
an expected value and never code. The kinds:

  type      a value of another kind (text, None, a dict where numbers belong)
  nan, inf  NaN or infinite entries where the expected values are finite
  shape     another shape (the sentence names both shapes)
  transposed, negated, zero
  scaled    one factor for every entry: 2, ½, ¼ (σ′'s largest value), 4, a whole number n
            or 1/n (a batch's size, say), else the measured factor
  permuted  the entries (or the list's items, the layers say) in another order; "reversed"
            when it is the reverse order
  partial   right on some entries only (which: "right in the first row, wrong elsewhere")
  keys      a dict or list with some items right (which) and, where one holds, a finding
            for each wrong item

`diagnose_judged(got, solution)` is for checks decided by a judge (a range, a property):
there is no expected value to compare with, so only type, shape, NaN and infinity are
looked at (shape and type against the solution's own value).
"""

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

import numpy as np


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
            "ninth", "tenth")
MAX_ENTRIES = 1_000_000  # beyond this, no diagnosis is tried (it must stay cheap)
MAX_ORDERED = 64  # the longest first axis or list whose order is looked for


def _ordinal(index):
    return ORDINALS[index] if index < len(ORDINALS) else f"{index + 1}th"


def _listing(indices, noun):
    """"the first row", "the first and third rows", "rows 1, 4 and 12"."""
    indices = list(indices)
    if len(indices) == 1:
        return f"the {_ordinal(indices[0])} {noun}"
    if max(indices) < len(ORDINALS):
        words = [_ordinal(i) for i in indices]
        return f"the {', '.join(words[:-1])} and {words[-1]} {noun}s"
    numbers = [str(i + 1) for i in indices]
    return f"{noun}s {', '.join(numbers[:-1])} and {numbers[-1]}"


def _is_number(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def _array(value):
    """A float array of value if it is a number or a rectangular nest of lists of numbers,
    else None."""
    if _is_number(value):
        return np.array(float(value))
    if not isinstance(value, list):
        return None
    try:
        array = np.array(value, dtype=object)
    except ValueError:
        return None
    if array.ndim == 0 or array.size > MAX_ENTRIES:
        return None
    if not all(_is_number(item) for item in array.reshape(-1)):
        return None
    return array.astype(float)


def _describe(value):
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a dict"
    if _is_number(value):
        return "a number"
    if isinstance(value, list):
        shaped = _array(value)
        return f"an array of shape {_shape(shaped.shape)}" if shaped is not None else "a list"
    return type(value).__name__


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _close(got, want, rtol, atol):
    """Entry by entry, as judge.same compares floats (NaN equals NaN, infinities exactly)."""
    with np.errstate(invalid="ignore", over="ignore"):
        near = np.abs(got - want) <= atol + rtol * np.abs(want)
    both_nan = np.isnan(got) & np.isnan(want)
    infinite = np.isinf(got) | np.isinf(want)
    return np.where(both_nan, True, np.where(infinite, got == want, near))


def _all_close(got, want, rtol, atol):
    return got.shape == want.shape and bool(np.all(_close(got, want, rtol, atol)))


def _non_finite(got, want):
    """A finding for NaN or infinite entries where the expected ones are finite."""
    if want is not None and want.shape == got.shape:
        nan = np.isnan(got) & ~np.isnan(want)
        inf = np.isinf(got) & ~np.isinf(want)
    else:
        nan, inf = np.isnan(got), np.isinf(got)
        if want is not None and not np.all(np.isfinite(want)):
            return None
    size = got.size
    for mask, kind, words in ((nan, "nan", "NaN (not a number)"),
                              (inf, "inf", "infinite")):
        count = int(np.sum(mask))
        if count:
            where = "your value is" if size == 1 else (
                f"all {size} of your entries are" if count == size
                else f"{count} of your {size} entries are")
            return Finding(kind, f"{where} {words}")
    return None


def _factor_words(factor, single=False):
    """How a factor reads, and whether it is a named one (2, ½, ¼, 4; for more than one
    entry also n, 1/n and small fractions). single: a single number, for which any other
    factor would be a coincidence."""
    sign = "−" if factor < 0 else ""
    size = abs(factor)
    names = {0.5: "½", 0.25: "¼ (σ′'s largest value)", 2.0: "2", 4.0: "4"}
    for value, name in names.items():
        if math.isclose(size, value, rel_tol=1e-9):
            return f"times {sign}{name}", True
    if single:
        return "", False
    for whole in (size, 1 / size):
        rounded = round(whole)
        if 3 <= rounded <= 100_000 and math.isclose(whole, rounded, rel_tol=1e-9):
            verb = "times" if whole is size else "divided by"
            return f"{verb} {sign}{rounded} (a whole number: a batch's size, say)", True
    fraction = Fraction(size).limit_denominator(12)
    if fraction.denominator > 1 and math.isclose(size, float(fraction), rel_tol=1e-9):
        return f"times {sign}{fraction.numerator}/{fraction.denominator}", True
    return f"times about {factor:.4g} (the same factor for every entry)", False


def _scaled(got, want, rtol, atol):
    """The factor c with got ≈ c·want entry by entry, if there is one (c not 0, 1, −1)."""
    norm = float(np.sum(want * want))
    if not norm or not np.all(np.isfinite(want)):
        return None
    factor = float(np.sum(got * want)) / norm
    if not math.isfinite(factor) or factor == 0 or math.isclose(abs(factor), 1, rel_tol=1e-6):
        return None
    # exact to the tolerance: the student's values, divided by the factor, are the
    # expected ones as the check compares them, and times the factor the other way round
    if not (_all_close(got / factor, want, rtol, atol)
            and _all_close(got, factor * want, rtol, atol * abs(factor))):
        return None
    return factor


def _permutation(got, want, rtol, atol):
    """The order p with got[i] ≈ want[p[i]] along the first axis (p not the identity)."""
    return _order(len(want), lambda i, j: _all_close(got[i], want[j], rtol, atol))


def _order(count, matches):
    """A permutation p (not the identity) with matches(i, p[i]) for every i: the reverse
    order if it is one, else the first item that matches, in turn (equal items are
    interchangeable)."""
    if count < 2 or count > MAX_ORDERED:
        return None
    reverse = list(range(count))[::-1]
    if all(matches(i, j) for i, j in enumerate(reverse)):
        return reverse
    order = []
    for i in range(count):
        found = next((j for j in range(count) if j not in order and matches(i, j)), None)
        if found is None:
            return None
        order.append(found)
    return None if order == list(range(count)) else order


def _order_words(order, noun):
    count = len(order)
    if order == list(range(count))[::-1]:
        return f"the expected {noun}s in reverse order", "reversed"
    moved = [f"your {_ordinal(i)} is the expected {_ordinal(j)}"
             for i, j in enumerate(order) if i != j]
    return f"the expected {noun}s in another order ({'; '.join(moved)})", "permuted"


def _partial(got, want, rtol, atol):
    right = _close(got, want, rtol, atol)
    if right.all() or not right.any():
        return None
    # An entry whose expected value is 0 tells nothing: most wrong computations give 0
    # there too (the gradient of an input that never varies). Right only where 0 is
    # expected is not "right in part"; and a part that is right must be right somewhere
    # a value is expected.
    zero = np.abs(want) <= atol
    if not (right & ~zero).any():
        return None
    if got.ndim == 2 and got.shape[0] > 1 and got.shape[1] > 1:
        rows = [i for i in range(got.shape[0]) if right[i].all() and not zero[i].all()]
        wrong_rows = [i for i in range(got.shape[0]) if not right[i].any()]
        if rows and len(rows) + len(wrong_rows) == got.shape[0]:
            return f"your values are right in {_listing(rows, 'row')}, wrong elsewhere"
        columns = [j for j in range(got.shape[1])
                   if right[:, j].all() and not zero[:, j].all()]
        wrong_columns = [j for j in range(got.shape[1]) if not right[:, j].any()]
        if columns and len(columns) + len(wrong_columns) == got.shape[1]:
            return f"your values are right in {_listing(columns, 'column')}, wrong elsewhere"
    telling = right & ~zero
    count = int(telling.sum())
    if got.ndim == 1 and count <= 10:
        return (f"your values are right in {_listing(np.flatnonzero(telling), 'entry')}, "
                "wrong elsewhere").replace("entrys", "entries")
    if zero.any():
        return (f"your values are right in {count} of the {int((~zero).sum())} entries "
                "whose expected value is not 0, wrong in the others")
    return f"your values are right in {count} of {got.size} entries, wrong elsewhere"


def _numeric(got, want, rtol, atol, integral=False):
    """The finding for two rectangular number arrays, or None."""
    found = _non_finite(got, want)
    if found:
        return found
    if not np.all(np.isfinite(want)):
        return None
    if got.shape != want.shape:
        if got.ndim == 2 and want.ndim == 2 and got.shape == want.shape[::-1] and \
                _all_close(got.T, want, rtol, atol):
            return Finding("transposed", "your value is the expected one transposed "
                                         "(rows and columns swapped)")
        return Finding("shape", f"your value has shape {_shape(got.shape)}; the check "
                                f"expects shape {_shape(want.shape)}")
    if _all_close(got, want, rtol, atol):
        return None
    size = "your value is" if got.size == 1 else "your values are"
    if np.all(got == 0):
        return Finding("zero", f"{'your value is' if got.size == 1 else 'all your values are'}"
                               " zero")
    if _all_close(-got, want, rtol, atol):
        return Finding("negated", f"{size} the expected {'one' if got.size == 1 else 'ones'}"
                                  " times −1 (the sign is flipped)")
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _all_close(got.T, want, rtol, atol):
        return Finding("transposed", "your value is the expected one transposed "
                                     "(rows and columns swapped)")
    if got.ndim >= 1:
        order = _permutation(got, want, rtol, atol)
        if order is not None:
            noun = "row" if got.ndim == 2 else "entry" if got.ndim == 1 else "item"
            words, kind = _order_words(order, noun)
            return Finding(kind, f"your values are {words}".replace("entrys", "entries"))
    factor = None if integral else _scaled(got, want, rtol, atol)
    if factor is not None:
        words, named = _factor_words(factor, single=got.size == 1)
        if named or got.size > 1:
            ones = "one" if got.size == 1 else "ones"
            return Finding("scaled", f"{size} the expected {ones} {words}")
    if got.size > 1:
        text = _partial(got, want, rtol, atol)
        if text:
            return Finding("partial", text)
    return None


def _same(got, want, rtol, atol):
    from grading.judge import same

    try:
        return same(got, want, rtol, atol)
    except TypeError:
        return False


def _items(got, want, rtol, atol, labels):
    """The finding for a dict or an irregular list, item by item (labels: how each reads)."""
    right = [label for label, g, w in labels if _same(g, w, rtol, atol)]
    wrong = [(label, g, w) for label, g, w in labels if not _same(g, w, rtol, atol)]
    if not wrong:
        return None
    details = []
    for label, g, w in wrong:
        inner = diagnose(g, w, rtol, atol)
        if inner is not None:
            details.append(f"{label}: {inner.text}")
    if not right and not details:
        return None
    parts = []
    if right:
        parts.append(f"right for {', '.join(label for label in right)}")
    parts.append(f"wrong for {', '.join(label for label, _, _ in wrong)}")
    text = "your value is " + "; ".join(parts)
    if details:
        text += " (" + "; ".join(details) + ")"
    return Finding("keys", text)


def diagnose(got, want, rtol=1e-9, atol=1e-12):
    """The Finding of the student's value `got` against the expected `want`, or None when
    nothing holds exactly (see the module's docstring)."""
    wanted = _array(want)
    if wanted is not None:
        if isinstance(got, bool) or not (_is_number(got) or isinstance(got, list)):
            return Finding("type", f"your value is {_describe(got)}; the check expects "
                                   f"{_describe(want)}")
        array = _array(got)
        if array is None:
            if isinstance(got, list) and wanted.ndim >= 1 and len(got) == len(want) and \
                    isinstance(want, list):
                pairs = enumerate(zip(got, want, strict=True))
                return _items(got, want, rtol, atol,
                              [(f"item {i + 1}", g, w) for i, (g, w) in pairs])
            return Finding("type", f"your value is {_describe(got)}; the check expects "
                                   f"{_describe(want)}")
        return _numeric(array, wanted, rtol, atol, integral=_integral(want))
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return Finding("type", f"your value is {_describe(got)}; the check expects "
                                   "a dict")
        missing, extra = sorted(set(want) - set(got), key=str), sorted(set(got) - set(want),
                                                                     key=str)
        if missing or extra:
            parts = ([f"lacks the key{'s' * (len(missing) > 1)} "
                      f"{', '.join(map(repr, missing))}"] if missing else []) + (
                # the student's own keys are never quoted: the kernel chose them
                [f"has {len(extra)} key{'s' * (len(extra) > 1)} the check does not expect"]
                if extra else [])
            return Finding("keys", "your dict " + " and ".join(parts))
        return _items(got, want, rtol, atol,
                      [(repr(key), got[key], want[key]) for key in want])
    if isinstance(want, list):  # an irregular list: per-layer arrays, say
        if not isinstance(got, list):
            return Finding("type", f"your value is {_describe(got)}; the check expects "
                                   "a list")
        if len(got) != len(want):
            return Finding("shape", f"your list has {len(got)} items; the check expects "
                                    f"{len(want)}")
        order = _item_order(got, want, rtol, atol)
        if order is not None:
            words, kind = _order_words(order, "item")
            return Finding(kind, f"your list holds {words}")
        return _items(got, want, rtol, atol, [
            (f"item {i + 1}", g, w) for i, (g, w) in enumerate(zip(got, want, strict=True))])
    if isinstance(want, (str, bool)) or want is None:
        if type(got) is not type(want):
            return Finding("type", f"your value is {_describe(got)}; the check expects "
                                   f"{_describe(want)}")
    return None


def _integral(value):
    """Whether the value holds whole numbers only (counts, indices): no factor is named."""
    if isinstance(value, list):
        return all(_integral(item) for item in value)
    return isinstance(value, Integral) and not isinstance(value, bool)


def _item_order(got, want, rtol, atol):
    return _order(len(want), lambda i, j: _same(got[i], want[j], rtol, atol))


def diagnose_judged(got, solution=None):
    """The Finding of a value a judge refused: NaN, infinity, and the type and shape against
    the solution's own value (None: not known) only."""
    array = _array(got)
    wanted = _array(solution) if solution is not None else None
    if array is not None:
        found = _non_finite(array, None)
        if found:
            return found
        if wanted is not None and array.shape != wanted.shape:
            return Finding("shape", f"your value has shape {_shape(array.shape)}; the check "
                                    f"expects shape {_shape(wanted.shape)}")
        return None
    if solution is None:
        return None
    if wanted is not None or (type(got) is not type(solution) and not (
            isinstance(solution, Integral) and _is_number(got))):
        return Finding("type", f"your value is {_describe(got)}; the check expects "
                               f"{_describe(solution)}")
    return None


# --- What a failing check's feedback adds --------------------------------------------------

def _catalogued(source_path, grade_id, index, value, rtol, atol, records=None):
    """The catalogued mistakes matching the value (and the verdicts of the cell's other
    checks, given its records): [] when none does, or when the catalogue's bodies are not
    there (NotImplementedError) — nothing broader is caught."""
    from grading import mistakes

    try:
        return list(mistakes.matching(source_path, grade_id, index, value, rtol, atol,
                                      records))
    except NotImplementedError:
        return []


def _mistake_text(mistake, course):
    from grading.sections import reread

    words, link = reread(mistake.section, course)
    where = f"{words} ({link})" if link else words
    return f"{mistake.title}. {mistake.explanation}\nReread: {where}."


def explain(source_path, grade_id, failed, check, course=None, records=None):
    """What a failed check (judge.first_failure's dict or a failed entry of judge.outcomes,
    the check as judge.reference holds it) adds to the feedback: {"kind": catalogue |
    structural | none, "what": the mistakes' ids, the structural kind, or why nothing was
    looked at, "text": what the student reads after the check's message ("" for none),
    "mistakes": the catalogued mistakes matched, "finding": the structural finding's text
    ("" for none), "seconds"}."""
    from grading import state

    started = time.perf_counter()
    course = course or state.COURSE
    kind, what, text, found, shown = "none", failed["why"], "", [], ""
    if failed["why"] == "value":
        value = failed["value"]
        found = _catalogued(source_path, grade_id, failed["index"], value,
                            check["rtol"], check["atol"], records)
        if found:
            kind, what = "catalogue", ",".join(mistake.id for mistake in found)
            text = known_mistakes(found, course)
        else:
            finding = (diagnose_judged(value, check.get("solution")) if "judge" in check
                       else _first_finding(value, check))
            if finding is not None:
                kind, what, shown = "structural", finding.kind, finding.text
                text = f"What your values show: {finding.text}."
    return {"kind": kind, "what": what, "text": text, "mistakes": found, "finding": shown,
            "seconds": time.perf_counter() - started}


def known_mistakes(found, course):
    """The feedback's words for catalogued mistakes a value matched."""
    if len(found) == 1:
        return "Your values are those of a known mistake: " + _mistake_text(found[0], course)
    return "Your values are those of known mistakes:\n" + "\n".join(
        f"- {_mistake_text(mistake, course)}" for mistake in found)


def _first_finding(value, check):
    for answer in check["answers"]:
        finding = diagnose(value, answer, check["rtol"], check["atol"])
        if finding is not None:
            return finding
    return None
