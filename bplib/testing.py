"""What the exercises' test cells use to test a student's own code.

Some tasks ask for a function that bplib also has, because the chapter needed it
(chapter 4's loops are `neuron.output_terms`, chapter 3's layer is `layers.Linear`). A test
cell switches those off while it calls the student's function, so that the task is passed
by the student's code and not by a call to the library.

The grading kernel does not have them at all: it imports a build of bplib in which every
SWITCHABLE function is a stub (grading/stubs.py; the sandbox binds it over bplib's folder),
so no child process, file read or introspection finds bplib's own version. What a later
task of an assignment builds on (GIVEN_AFTER) is given to that kernel right after the test
cell of the last task it would do, in a cell of the grader's: from then on its stub calls
bplib's own version, which is then sealed like the rest (`seal()`, run by the kernel at start-up,
before any cell: nbgrader_config.py asks for it): every function a test cell may switch off
gets a dispatching body that checks the switch, so a copy of the function or of its code
taken by the student's code is switched off as well; no Python code in the kernel may open
the files of the modules that hold them again (a second copy of a module built from its
file, or its .pyc) or change a bplib function's code. Not defended, for a function once it
is given: introspection of the seal's closures, frames or the garbage collector, ctypes,
and a test cell's switch itself: the cell asks the student's kernel for
`testing.switched_off` and the functions, so code that replaced bplib.testing (or
bplib.layers, bplib.graph) beforehand makes it switch nothing. No task is tested after
what it asks for is given (a test checks it), so these holes reach nothing a task asks for.
"""

import contextlib
import functools
import os
import sys
import types
import warnings

MESSAGE = ("this bplib function does the work of the task being tested, so it is switched "
           "off while the test runs: write the task's code yourself")

# Every function a test cell of an assignment switches off: module -> qualified names.
SWITCHABLE = {
    "bplib.layers": ("Linear.forward", "Linear.backward", "Linear.jvp", "Linear.vjp",
                     # every other backward step of chapter 3's layers: a backward pass
                     # composed of them is not the student's (Assignment 5's Task 1)
                     "Linear.jacobian", "_Elementwise.backward", "_Elementwise.jvp",
                     "_Elementwise.vjp", "_Elementwise.jacobian", "Sigmoid._slope",
                     "Tanh._slope", "ReLU._slope", "Loss.backward", "SquaredError._grad",
                     "BinaryCrossEntropy._grad", "SoftmaxCrossEntropy._grad",
                     "Sequential.backward", "Sequential.jvp", "Sequential.vjp",
                     "explicit_jacobian_gradient", "input_gradient", "jacobian_by_sweeps",
                     "checkpointed_gradient", "value_graph_gradients"),
    # chapter 2's scalar graph differentiates any formula built of Values
    "bplib.graph": ("Value.backward", "gradients", "path_sum_gradient", "forward_sweep",
                    # the order a backward pass visits the nodes in: its first half
                    "topological_order",
                    # the path sum itself: chapter 2 prints it, any derivative follows
                    "paths", "path_product"),
    "bplib.neuron": ("output_terms", "hidden_terms", "updates", "gradients", "step", "train"),
    "bplib.network": ("backprop", "_backprop", "central_differences", "numerical_gradient",
                      "train",
                      # the array-by-array comparison of Assignment 5's gradient check
                      "relative_errors",
                      # what only the functions above call: no test names them, but the
                      # grading kernel must not have them either
                      "_nudge_each", "_epoch"),
}
# Of SWITCHABLE, what each assignment's notebook still calls in its grading kernel, outside
# the test of the task that asks for it: a later task is given bplib's version (so that a
# mistake in an earlier task costs nothing there) or trains with it. The grading kernel
# starts without any SWITCHABLE function (grading/stubs.py: each is a stub there); each one
# listed here is given to it right after the test cell named (its grade_id), once every
# test of a task that bplib's version would do has run: the grader sends the function's
# source in a cell of its own after that one, which runs whether the test passed or not
# (grading.judge.StripReferences, give() below). A test runs each solution's probes and
# checks that this is exactly what they call, and only after it is given.
GIVEN_AFTER = {
    "01-telephone": {},
    # the bill slider's bars are central differences, so the graph (Task 5's work) never
    # enters this kernel
    "02-chain-rule-graphs": {},
    # Task 2 runs chains of bplib's layers; the slider (library_norms), which a student's
    # answer to its question may call, runs Sequential's backward pass (CALLED_BY_SLIDERS)
    "03-composite": {"bplib.layers": {
        "Linear.forward": "composite-linear-tests",
        "Linear.backward": "composite-linear-tests",
        "_Elementwise.backward": "composite-linear-tests",
        "Sigmoid._slope": "composite-linear-tests",
        "Tanh._slope": "composite-linear-tests",
        "Sequential.backward": "composite-backward-through-tests"}},
    "04-per-neuron": {},
    # the gradient check checks bplib's gradients, the SGD epoch steps with them; the
    # training run and the slider train with bplib's loop
    "05-full-algorithm": {"bplib.network": {
        "backprop": "full-backward-pass-tests",
        "_backprop": "full-backward-pass-tests",
        "train": "full-sgd-epoch-tests",
        "_epoch": "full-sgd-epoch-tests"}},
}
# Of GIVEN_AFTER, what only a notebook's slider code calls (a student may call the slider's
# function to answer its question; the solutions' probes do not).
CALLED_BY_SLIDERS = {"bplib.layers": ("Sequential.backward",)}


def given_while_grading(assignment=None):
    """{module: names} that the grading kernel of this assignment is given, at some test
    cell; for a name that is not an assignment's (None: a kernel started elsewhere), what
    any assignment is given."""
    found = {}
    chosen = ([GIVEN_AFTER[assignment]] if assignment in GIVEN_AFTER
              else GIVEN_AFTER.values())
    for given in chosen:
        for module, names in given.items():
            found[module] = found.get(module, ()) + tuple(
                name for name in names if name not in found.get(module, ()))
    return found


def given_after(assignment, grade_id):
    """[(module, qualified name), ...] given to this assignment's grading kernel at the end
    of the test cell grade_id."""
    return [(module, name) for module, names in GIVEN_AFTER.get(assignment, {}).items()
            for name, cell in names.items() if cell == grade_id]


_given = {}  # "module.name" -> bplib's own function, in a grading kernel


def give(module_name, name, source):
    """In the grading kernel: bplib's own version of a stubbed function, from its source
    (the grader sends it in a test cell's probe, GIVEN_AFTER), for its stub to call."""
    import importlib

    module = importlib.import_module(module_name)
    made = {}
    exec(compile(source, f"<bplib's {module_name}.{name}, given>", "exec"),  # noqa: S102
         module.__dict__, made)
    function = made[name.rsplit(".", 1)[-1]]
    function.__qualname__ = name
    _given[f"{module_name}.{name}"] = function


def given(key, message):
    """What the stub of key calls (grading/stubs.py): the function once given, else the
    stub's error."""
    try:
        return _given[key]
    except KeyError:
        raise RuntimeError(message) from None


def _switched_off(*args, **kwargs):
    # Its code runs as the switched-off function's, with that module's globals: no names.
    raise RuntimeError("this bplib function does the work of the task being tested, so it "
                       "is switched off while the test runs: write the task's code yourself")


def _make_seal():
    """The seal's state lives in these closures only: no module attribute can switch a
    function back on (a token from switching off is needed) or reach the originals."""
    originals = {}  # key -> a copy of the function with its original code
    off = {}  # key -> how many switched_off blocks hold it
    tokens = {}  # id(token) -> (token, keys)

    def dispatch(key, args, kwargs):
        if off.get(key):
            raise RuntimeError(MESSAGE)
        return originals[key](*args, **kwargs)

    def install(key, function):
        original = types.FunctionType(function.__code__, function.__globals__,
                                      function.__name__, function.__defaults__,
                                      function.__closure__)
        original.__kwdefaults__ = function.__kwdefaults__
        original.__qualname__ = function.__qualname__
        originals[key] = original
        with warnings.catch_warnings():  # calling a str constant: it is replaced below
            warnings.simplefilter("ignore")
            code = compile("def dispatcher(*args, **kwargs):\n"
                           "    return '__bp_dispatch__'(args, kwargs)\n", "<sealed bplib>",
                           "exec")
        body = next(const for const in code.co_consts if isinstance(const, types.CodeType))
        slot = functools.partial(dispatch, key)
        body = body.replace(co_consts=tuple(slot if const == "__bp_dispatch__" else const
                                            for const in body.co_consts),
                            co_name=function.__code__.co_name,
                            co_qualname=function.__code__.co_qualname)
        function.__code__ = body

    def key_of(function):
        for const in getattr(function, "__code__", types.SimpleNamespace(
                co_consts=())).co_consts:
            if isinstance(const, functools.partial) and const.func is dispatch:
                return const.args[0]
        return None

    def switch_off(keys):
        token = object()
        for key in keys:
            off[key] = off.get(key, 0) + 1
        tokens[id(token)] = (token, keys)
        return token

    def switch_on(token):
        _, keys = tokens.pop(id(token), (None, ()))
        for key in keys:
            off[key] -= 1

    return install, key_of, switch_off, switch_on


_install, _key_of, _switch_off, _switch_on = _make_seal()
_sealed = []


@contextlib.contextmanager
def switched_off(*functions):
    """While the block runs, each of these functions raises a RuntimeError when called.

    The function's code is swapped, not a name, so a copy of the function taken earlier
    (``from bplib.neuron import output_terms``) is switched off as well. Methods are given
    as ``layers.Linear.forward``. Everything is restored when the block ends. A sealed
    function (see seal()) is switched by its dispatcher instead.
    """
    saved, keys = [], []
    for function in functions:
        if type(function) is not types.FunctionType or function.__code__.co_freevars:
            raise TypeError(f"switched_off takes plain functions, not {function!r}")
        key = _key_of(function)
        if key is not None:
            keys.append(key)
        else:
            saved.append((function, function.__code__))
    token = _switch_off(keys)
    try:
        for function, _ in saved:
            function.__code__ = _switched_off.__code__
        yield
    finally:
        _switch_on(token)
        for function, code in saved:
            function.__code__ = code


def _package_folder():
    return os.path.realpath(os.path.dirname(os.path.abspath(__file__)))


def _sealed_file(path, folder, stems):
    """Whether path is the source or a compiled copy of a sealed module of bplib (other
    bplib modules may still be imported for the first time after the seal)."""
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    if real == folder:
        return True
    # bplib/neuron.py and bplib/__pycache__/neuron.*.pyc, not bplib/plotting/neuron.py
    return (os.path.dirname(real) in (folder, os.path.join(folder, "__pycache__"))
            and os.path.basename(real).split(".")[0] in stems)


def _audit(folder, stems):
    def hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            if _sealed_file(args[0], folder, stems):
                raise PermissionError(f"bplib's {os.path.basename(os.fsdecode(args[0]))} is "
                                      "sealed while grading")
        elif event == "compile" and len(args) > 1 and isinstance(
                args[1], (str, bytes, os.PathLike)):
            if _sealed_file(args[1], folder, stems):
                raise PermissionError("bplib's files are sealed while grading")
        elif event == "object.__setattr__" and len(args) >= 2 and args[1] in (
                "__code__", "__globals__", "__defaults__", "__kwdefaults__"):
            module = getattr(args[0], "__module__", None) or ""
            if module == "bplib" or str(module).startswith("bplib."):
                raise PermissionError("bplib's functions are sealed while grading (a function "
                                      "a test switches off must be in "
                                      "bplib.testing.SWITCHABLE)")
    return hook


def seal():
    """Seal bplib in this process (the grading kernel, before any student code): the
    SWITCHABLE functions dispatch through the switch, bplib's files cannot be opened or
    compiled again, and no bplib function's code can be replaced. Irreversible: an audit
    hook (PEP 578) cannot be removed from Python code."""
    if _sealed:
        return
    import importlib

    for module_name, names in SWITCHABLE.items():
        module = importlib.import_module(module_name)
        for name in names:
            owner = module
            for part in name.split(".")[:-1]:
                owner = getattr(owner, part)
            function = getattr(owner, name.split(".")[-1], None)
            if type(function) is types.FunctionType and not function.__code__.co_freevars:
                _install(f"{module_name}.{name}", function)
    stems = {module_name.rsplit(".", 1)[-1] for module_name in SWITCHABLE}
    sys.addaudithook(_audit(_package_folder(), stems))
    _sealed.append(True)
