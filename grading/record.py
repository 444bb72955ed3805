"""The check API of hidden tests: evaluate, hand back plain data, never judge.

A hidden test calls `check(value, message, ...)` once per thing it checks. The student's
kernel runs the test cell's probe only (grading/judge.py's probe()): every keyword argument
of every check() is cut out before the kernel receives the cell, and with them whatever
only they used, so `expect=`, `judge=`, `accept=` and the reference helpers never exist
there. In the kernel `check` sends `value`, converted to plain JSON data, as a display
output of the test cell, and nothing else. The grader runs the whole test code in its own
process against the solutions, and compares (see grading/judge.py). So nothing in the
student's process decides a hidden check: whatever the student patches there can only
change the values sent, and a value is judged like any other answer.
"""

import numpy as np

MIME = "application/vnd.bp-course.check+json"

# Set by the grader while it runs the reference: then check() collects instead of sending,
# and names in accept= are looked up in the reference's namespace.
collector = None
namespace = None


class Unsupported(TypeError):
    """A value that is not plain data (an object of the student's own class, say)."""


def plain(value):
    """value as plain JSON data: None, bool, int, float, str, lists, dicts with str keys.

    Exact types only: a subclass of float (which could lie in comparisons) or any other
    object is refused, so what reaches the grader is data, not behaviour. numpy scalars
    and arrays become Python numbers and (nested) lists.
    """
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind in (list, tuple):
        return [plain(item) for item in value]
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise Unsupported("a dict whose keys are not all strings")
        return {key: plain(item) for key, item in value.items()}
    if kind is np.ndarray or (isinstance(value, np.generic) and kind.__module__ == "numpy"):
        return plain(value.tolist())
    raise Unsupported(f"a {kind.__name__}, not a number, string, list or dict")


def raised(function, *args, **kwargs):
    """The name of the built-in exception function(*args, **kwargs) raises, or None.

    A student's own exception class counts as its nearest built-in base class.
    """
    try:
        function(*args, **kwargs)
    except Exception as error:
        builtin = next(cls for cls in type(error).__mro__ if cls.__module__ == "builtins")
        return builtin.__name__
    return None


def check(value, message, *, rtol=1e-9, atol=1e-12, expect=None, accept=None, judge=None):
    """One hidden check: `value` must match what the solution gives at this point.

    message: what the student reads when the check fails.
    rtol, atol: tolerance for floats (ints, strings and bools must match exactly).
    expect: a function of no arguments, called only in the grader's process (the kernel
        never receives it), whose result replaces the solution's value (autograd's
        gradient, say).
    accept: names of variables set by the solution cells whose values are all accepted (a
        question with more than one right answer). Never write an answer itself outside a
        keyword argument of check(): the student's kernel runs the rest of the test.
    judge: a function of the student's value (as plain data: lists, not arrays), called
        only in the grader's process, that returns True when the value is right: for a
        range of right answers, or a property (an accuracy, a bound) that the grader
        computes itself with its own numpy and bplib. The solution's value must pass it.
        Send the value, never a comparison made in the student's kernel: an object of the
        student's can make `x < 1e-8` come out True. A judge a constant passes (0.0 for
        "below 1e-7") needs another check in the cell that only a computed value passes
        (grading.judge.constant_passable finds cells without one).
    """
    if collector is not None:
        # Plain data at once: the test may change an array after it was checked.
        if accept is not None:
            answers = [plain(namespace[name]) for name in accept]
        elif expect is not None:
            answers = [plain(expect())]
        else:
            answers = [plain(value)]
        collector.append({"value": plain(value), "answers": answers, "message": message,
                          "rtol": rtol, "atol": atol, "judge": judge})
        return
    try:
        data = {"value": plain(value)}
    except Unsupported as error:
        data = {"unsupported": str(error)}
    except RecursionError:
        data = {"unsupported": "a value nested too deeply"}
    from IPython.display import display
    display({MIME: data, "text/plain": "(a hidden check: judged by the grader)"}, raw=True)
