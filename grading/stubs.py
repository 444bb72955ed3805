"""bplib as the grading kernel sees it: a copy of the package in which every function a
graded task asks a student to write is a stub, so that no copy of its code, no child process
and no file read can reach bplib's own version.

What is stubbed is one list, `bplib.testing.SWITCHABLE` (the functions the test cells switch
off). A stub raises, until the grader gives the kernel bplib's own version: what a later
task builds on (`bplib.testing.GIVEN_AFTER`) is given at the end of the test cell of the
last task it would do (grading.judge.StripReferences sends its source, `given_source()`
below); from then on the stub calls it (`bplib.testing.given`). The copy is built once per
source (its folder is named by a checksum of bplib's files, the list and this builder) and
reused by every kernel after it. The sandbox binds it read-only over bplib's folder
(grading/sandbox.py); without the sandbox the kernel finds it first on PYTHONPATH, and
bplib's own files stay on disk where the student's code may read or import them.

The build also holds a package for each automatic-differentiation package (BLOCKED) whose
import fails: the kernel finds it first, and the sandbox binds it over the real one.
"""

import ast
import compileall
import hashlib
import importlib.util
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

STUB_MESSAGE = ("bplib's own {name} is not available while grading: this is what the task "
                "asks for, write your own")
# Automatic differentiation would do the derivations the tasks ask for: in the grading
# kernel each of these packages is a package whose import fails with BLOCKED_MESSAGE. The
# build holds one for each (first on the kernel's PYTHONPATH); the sandbox also binds it
# over the real package's folder, so that no path trick reaches the real one. The
# grader's own process (expect= of the hidden tests) still imports the real autograd.
BLOCKED = ("autograd", "torch", "functorch", "jax", "jaxlib", "tensorflow")
BLOCKED_MESSAGE = ("{name} is not available while grading: automatic differentiation would "
                   "do the derivation the task asks for, so write the gradients yourself")
GIVEN_IMPORT = "\nfrom bplib.testing import given as _bp_given  # noqa: E402\n"
SKIPPED = ("__pycache__", "*.pyc", "*.egg-info", "pyproject.toml", "build", "dist")


def bplib_folder():
    """The real folder of the bplib package this process imports (its editable source)."""
    import bplib

    return Path(bplib.__file__).resolve().parent


def stubbed():
    """{module: qualified names} of what every grading kernel starts without: every
    SWITCHABLE function (what a later task builds on is given after a test cell; one build
    serves every assignment)."""
    from bplib import testing

    return {module: tuple(names) for module, names in testing.SWITCHABLE.items()}


def given_source(module, name):
    """The source of bplib's own module.name (a function or a method), dedented: what a
    test cell gives the grading kernel (bplib.testing.give)."""
    path = bplib_folder().joinpath(*module.split(".")[1:]).with_suffix(".py")
    text = path.read_text()
    node = _definitions(ast.parse(text))[name]
    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
    return textwrap.dedent("".join(text.splitlines(keepends=True)[first - 1:node.end_lineno]))


def _files(folder):
    ignore = shutil.ignore_patterns(*SKIPPED)
    found = []
    for here, folders, names in os.walk(folder):
        dropped = ignore(here, folders + names)
        folders[:] = sorted(name for name in folders if name not in dropped)
        found += [Path(here, name) for name in sorted(names) if name not in dropped]
    return found


def checksum(folder=None):
    """A digest of bplib's files, what is stubbed and this builder: a build's name."""
    folder = Path(folder or bplib_folder())
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr(sorted(stubbed().items())).encode())
    for path in _files(folder):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _definitions(tree):
    """{qualified name: its FunctionDef node} for functions and methods of classes."""
    found = {}

    def visit(body, prefix):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[prefix + node.name] = node
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
    visit(tree.body, "")
    return found


def _call(arguments):
    """The arguments of a call that passes a function's own parameters on, as they came."""
    passed = [argument.arg for argument in [*arguments.posonlyargs, *arguments.args]]
    if arguments.vararg:
        passed.append(f"*{arguments.vararg.arg}")
    passed += [f"{argument.arg}={argument.arg}" for argument in arguments.kwonlyargs]
    if arguments.kwarg:
        passed.append(f"**{arguments.kwarg.arg}")
    return ", ".join(passed)


def stub_source(text, names, module):
    """The module's source with each named function's body (docstring and comments
    included) replaced by a call of what the grader gave for it (bplib.testing.given),
    which raises until it is given; every other line unchanged, and one import added at
    the end (GIVEN_IMPORT)."""
    definitions = _definitions(ast.parse(text))
    missing = sorted(set(names) - set(definitions))
    if missing:
        raise ValueError(f"{module} has no {', '.join(missing)}: bplib.testing.SWITCHABLE "
                         "names a function that does not exist")
    lines = text.splitlines(keepends=True)
    for name in sorted(names, key=lambda name: -definitions[name].lineno):
        node = definitions[name]
        indent = lines[node.lineno - 1][:node.col_offset]
        message = STUB_MESSAGE.format(name=f"{module.removeprefix('bplib.')}.{name}")
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        lines[first - 1:node.end_lineno] = [
            *(f"{indent}@{ast.unparse(decorator)}\n" for decorator in node.decorator_list),
            f"{indent}def {node.name}({ast.unparse(node.args)}):\n",
            f"{indent}    return _bp_given({module + '.' + name!r}, {message!r})"
            f"({_call(node.args)})\n"]
    # imported once, when the module is (before any student code): what the stubs call
    return "".join(lines) + GIVEN_IMPORT


def _check_build(package, names_by_module):
    """Refuse a build in which a stubbed function still has a body of its own."""
    for module, names in names_by_module.items():
        path = package.joinpath(*module.split(".")[1:]).with_suffix(".py")
        definitions = _definitions(ast.parse(path.read_text()))
        for name in names:
            body = definitions[name].body
            if not (len(body) == 1 and isinstance(body[0], ast.Return)
                    and isinstance(body[0].value, ast.Call)
                    and isinstance(body[0].value.func, ast.Call)
                    and ast.unparse(body[0].value.func.func) == "_bp_given"):
                raise RuntimeError(f"the grading build of bplib still has {module}.{name}")


def build(cache=None):
    """The folder holding the stub build's `bplib/` for every grading kernel (put it first
    on sys.path), built if this source and stubbed list have none yet. Safe when
    several graders build at once: each builds in its own temporary folder and renames it
    into place."""
    source = bplib_folder()
    cache = Path(cache or os.environ.get("BP_STUB_CACHE")
                 or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                 / "bp-grading")
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = cache / f"bplib-{checksum(source)}"
    if (target / "bplib" / "__init__.py").is_file() and _owned_by_me(target):
        return target
    names_by_module = {module: names for module, names in stubbed().items()
                       if names}
    scratch = Path(tempfile.mkdtemp(prefix="building-", dir=cache))
    try:
        package = scratch / "bplib"
        shutil.copytree(source, package, ignore=shutil.ignore_patterns(*SKIPPED))
        for module, names in names_by_module.items():
            path = package.joinpath(*module.split(".")[1:]).with_suffix(".py")
            path.write_text(stub_source(path.read_text(), names, module))
        _check_build(package, names_by_module)
        _write_blockers(scratch)
        if not compileall.compile_dir(package, quiet=1):
            raise RuntimeError(f"the grading build of bplib in {scratch} does not compile")
        for here, _, files in os.walk(scratch):
            os.chmod(here, 0o755)
            for name in files:
                os.chmod(os.path.join(here, name), 0o644)
        try:
            os.rename(scratch, target)
        except OSError:  # another grader was first: its build is the same
            shutil.rmtree(scratch, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    if not _owned_by_me(target):
        raise RuntimeError(f"{target} is not this user's own: remove it and grade again")
    return target


def blocked_folders():
    """{package: its real folders} of the BLOCKED packages this Python can import."""
    found = {}
    for name in BLOCKED:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            folders = spec.submodule_search_locations or [os.path.dirname(spec.origin or "")]
            found[name] = sorted({os.path.realpath(folder) for folder in folders if folder})
    return found


def _write_blockers(scratch):
    for name in BLOCKED:
        package = scratch / name
        package.mkdir()
        (package / "__init__.py").write_text(
            f"raise ImportError({BLOCKED_MESSAGE.format(name=name)!r})\n")


def _owned_by_me(folder):
    """A cached build is used only if this user made it and no one else can change it."""
    info = folder.stat()
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022
