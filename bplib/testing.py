"""What the exercises' test cells use to test a student's own code.

Some tasks ask for a function that bplib also has, because the chapter needed it
(chapter 4's loops are `neuron.output_terms`, chapter 3's layer is `layers.Linear`). A test
cell switches those off while it calls the student's function, so that the task is passed
by the student's code and not by a call to the library.
"""

import contextlib
import types


def _switched_off(*args, **kwargs):
    raise RuntimeError("this bplib function does the work of the task being tested, so it "
                       "is switched off while the test runs: write the task's code yourself")


@contextlib.contextmanager
def switched_off(*functions):
    """While the block runs, each of these functions raises a RuntimeError when called.

    The function's code is swapped, not a name, so a copy of the function taken earlier
    (``from bplib.neuron import output_terms``) is switched off as well. Methods are given
    as ``layers.Linear.forward``. Everything is restored when the block ends.
    """
    saved = []
    for function in functions:
        if type(function) is not types.FunctionType or function.__code__.co_freevars:
            raise TypeError(f"switched_off takes plain functions, not {function!r}")
        saved.append((function, function.__code__))
    try:
        for function, _ in saved:
            function.__code__ = _switched_off.__code__
        yield
    finally:
        for function, code in saved:
            function.__code__ = code
