"""Practice checks: the grader's hidden checks, on other inputs, for a reader studying alone.

make public gives every test cell of an assignment that has hidden tests a *practice twin*
in the edition (never in the course's own releases under exercises/):

- The hidden test code is rewritten (an AST transform): its seeds are changed, its
  non-integral float inputs are moved by 10% (not the numbers and seeds inside a check's
  `expect=`, `judge=` or `accept=`, which are the answer's side: an input shared with the
  checked value is named once, `hidden_step = 0.5`), and every name it binds is renamed; every
  `check(value, message, ...)` becomes `practice(value)`. Docstrings, comments,
  messages, tolerances and `expect=` functions go; `judge=` functions stay, since they
  judge a value in the student's kernel just as in the grader's.
- The rewritten code is run once against the solutions, at make public time, with the
  grader's own check API (grading/record.py) collecting: each check's expected value(s),
  its message and its tolerance are stored in the practice cell as plain JSON data.
- In the student's notebook the practice cell runs the same rewritten code on the
  student's answers, compares each value with the stored one, and prints how many checks
  passed and the message of each that failed. It never holds a solution line or a line of
  a hidden test (make public's leak scan checks every line), and the graded inputs stay
  secret: the seeds and inputs differ.

A question answered with a slider (its check's value is the answer itself, judged with
`accept=`, `expect=`, `judge=` or the solution's value) cannot be twinned that way: the
stored value would be the graded answer. It gets a *practice question* instead: the same
question on other inputs (another threshold, another target, another input of the
slider), built from the notebook's own cells by a spec of a few replacements (the test
cell's metadata `practice_twin`, or QUESTION_TWINS below until the notebooks carry it):
the task's text, its check's message and, where the inputs are the slider's, a copy of
the slider (its names renamed) with the replacements made. Its right answers are computed
from the solutions at make public time and stored as data; make public refuses a twin
any of whose right answers the graded check would accept, so the stored answers never
give the graded one away.

Practice messages describe the practice inputs or are neutral: a hidden message that names
a graded example ("the chapter's line", "the worked example") or a number the twin moved
is rewritten (`practice_message`; the rule is `names_graded_input`).
"""

import ast
import json
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                    re.DOTALL | re.MULTILINE)
SEED_OFFSET = 7919
SEEDED_CALLS = {"default_rng", "RandomState", "seed", "Generator"}
SEEDED_KEYWORDS = {"rng", "seed", "random_state"}
# The keywords of check() that compute or judge the expected value: what they hold (lambdas,
# calls, literals, seeds, however nested) is the answer's side, not an input.
EXPECTED_PART = {"expect", "judge", "accept"}

SETUP = r'''# Practice checks (added to this edition; the course's grader does not use them): the
# grader's checks of each task, run on other inputs than the graded ones, with expected
# values computed from the course's solutions when this edition was made.
import json as _practice_json
import math as _practice_math

import numpy as _practice_np


def raised(function, *args, **kwargs):
    """The name of the built-in exception function(*args, **kwargs) raises, or None."""
    try:
        function(*args, **kwargs)
    except Exception as error:
        return next(c for c in type(error).__mro__ if c.__module__ == "builtins").__name__
    return None


def _practice_plain(value):
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind in (list, tuple):
        return [_practice_plain(item) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {key: _practice_plain(item) for key, item in value.items()}
    if kind is _practice_np.ndarray or (isinstance(value, _practice_np.generic)
                                        and kind.__module__ == "numpy"):
        return _practice_plain(value.tolist())
    raise TypeError(f"a {kind.__name__}, not a number, string, list or dict")


def _practice_close(value, answer, rtol, atol):
    if type(value) is bool or type(answer) is bool:
        return type(value) is type(answer) and value == answer
    if isinstance(answer, (int, float)) and isinstance(value, (int, float)):
        if isinstance(answer, int) and isinstance(value, int):
            return value == answer
        if value == answer:
            return True
        if _practice_math.isnan(answer):
            return _practice_math.isnan(value)
        return abs(value - answer) <= atol + rtol * abs(answer)
    if isinstance(answer, list):
        return (isinstance(value, list) and len(value) == len(answer)
                and all(_practice_close(v, a, rtol, atol) for v, a in zip(value, answer)))
    if isinstance(answer, dict):
        return (isinstance(value, dict) and value.keys() == answer.keys()
                and all(_practice_close(value[k], answer[k], rtol, atol) for k in answer))
    return type(value) is type(answer) and value == answer


class PracticeChecks:
    """Runs a task's practice checks in a `with` block, then prints the verdict."""

    def __init__(self, task, data):
        self.task, self.expected = task, _practice_json.loads(data)
        self.count, self.failed = 0, []

    def __call__(self, value, judge=None):
        entry = self.expected[min(self.count, len(self.expected) - 1)]
        self.count += 1
        if self.count > len(self.expected):
            self.failed.append("more checks ran than the solution's")
            return
        try:
            value = _practice_plain(value)
            right = (bool(judge(value)) if entry["judged"] else
                     any(_practice_close(value, answer, entry["rtol"], entry["atol"])
                         for answer in entry["answers"]))
        except Exception as error:  # noqa: BLE001 - a wrong value, told as such
            right = False
            entry = dict(entry, message=f"{entry['message']} ({type(error).__name__}: {error})")
        if not right:
            self.failed.append(entry["message"])

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        total = len(self.expected)
        passed = self.count - len(self.failed) if self.count <= total else 0
        verdict = "passed" if passed == total and not self.failed else "FAILED"
        print(f"Practice checks of {self.task}: {passed} of {total} passed ({verdict}).")
        shown = {}
        for message in self.failed:
            shown[message] = shown.get(message, 0) + 1
        for message, times in shown.items():
            print(f"  - {message}" + (f" ({times} times)" if times > 1 else ""))
        if error is not None and self.count >= total:
            # every practice check ran: what raised is the visible test the cell re-runs
            print(f"  - all {total} practice checks ran ({passed} passed); then the task's "
                  f"visible test, run again at the end of this cell, failed: "
                  f"{kind.__name__}: {error}")
        elif error is not None:
            print(f"  - stopped after {self.count} of {total} practice checks "
                  f"({passed} passed) by {kind.__name__} raised in this cell: {error}; "
                  f"{total - self.count} practice checks not reached")
        return True  # a practice check never stops Run All
'''


class Untwinnable(ValueError):
    """A hidden test the transform cannot rewrite: make public stops and says which."""


def hidden_lines(source):
    """The (first, last) line numbers (1-based) of the hidden region, or None."""
    match = HIDDEN.search(source)
    if not match:
        return None
    first = source[:match.start()].count("\n") + 1
    return first, first + match.group(0).rstrip("\n").count("\n")


def bound_names(statements):
    """Every name the hidden code binds (targets, loops, defs, imports, with-as), except a
    method's name and the parameters of functions (only hidden_* ones are renamed)."""
    names = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[0])
        names -= {"check", "raised"}  # the grader's check API: replaced, or the setup cell's
        for node in ast.walk(statement):
            if isinstance(node, ast.ClassDef):
                # a class's methods and attributes are reached as attributes
                # (`HiddenCounted.made`), which keep their names
                names -= {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
                names -= {target.id for item in node.body
                          if isinstance(item, (ast.Assign, ast.AnnAssign))
                          for target in (item.targets if isinstance(item, ast.Assign)
                                         else [item.target])
                          if isinstance(target, ast.Name)}
    return names


def new_name(name):
    if name.startswith("hidden_"):
        return "practice_" + name[len("hidden_"):]
    if name.startswith("Hidden"):
        return "Practice" + name[len("Hidden"):]
    # on both sides: `counted.calls = 0` is inside `practice_counted.calls = 0`, and
    # `return counted` inside `return counted_p`
    return f"p_{name}_"


class Rewrite(ast.NodeTransformer):
    """Renames, reseeds and moves the inputs; for the student's cell (student=True) every
    check() becomes practice(value[, judge=...])."""

    def __init__(self, names, student):
        self.names, self.student = names, student
        self.inside = 0  # > 0 inside a function: no float input is there (seeds are)
        self.expected = 0  # > 0 in a check's expect=, judge= or accept=: no input at all
        self.removed = set()  # names bound by imports the student's kernel cannot make
        self.answers = 0  # checks of a question's answer, left out
        self.grader_only = 0  # checks judged on data only the grader has, left out
        self.moved = {}  # graded input -> practice input, for the messages

    def renamed(self, name):
        return new_name(name) if name in self.names else name

    def visit_Name(self, node):
        if node.id in self.names:
            node.id = new_name(node.id)
        elif node.id == "np" and self.student:
            node.id = "numpy"  # np.zeros((2, 5)) is a line of the hidden test; numpy.zeros...
        return node

    def visit_arg(self, node):
        if node.arg in self.names:
            node.arg = new_name(node.arg)
        return node

    def visit_FunctionDef(self, node):
        if node.name in self.names:
            node.name = new_name(node.name)
        self.strip_docstring(node)
        self.inside += 1
        self.generic_visit(node)
        self.inside -= 1
        return node

    def visit_keyword(self, node):
        if node.arg and node.arg.startswith("hidden_"):
            node.arg = new_name(node.arg)
        self.generic_visit(node)
        return node

    def visit_ClassDef(self, node):
        if node.name in self.names:
            node.name = new_name(node.name)
        self.strip_docstring(node)
        self.generic_visit(node)
        return node

    @staticmethod
    def strip_docstring(node):
        if (node.body and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
                and isinstance(node.body[0].value.value, str)):
            node.body = node.body[1:] or [ast.Pass()]

    def visit_alias(self, node):
        if node.asname in self.names:
            node.asname = new_name(node.asname)
        elif "." not in node.name and node.name in self.names:
            node.asname = new_name(node.name)  # import time -> import time as p_time_
        return node

    def visit_Import(self, node):
        if not self.student:
            self.generic_visit(node)
            return node
        kept = []
        for alias in node.names:
            if alias.name == "autograd.numpy" and alias.asname:
                kept.append(ast.alias("numpy", new_name(alias.asname)
                                      if alias.asname in self.names else alias.asname))
            elif alias.name.split(".")[0] in ("autograd", "grading"):
                self.removed.add(self.renamed(alias.asname or alias.name.split(".")[0]))
            else:
                kept.append(self.visit_alias(alias))
        return ast.Import(kept) if kept else None

    def visit_ImportFrom(self, node):
        if not self.student:
            self.generic_visit(node)
            return node
        if (node.module or "").split(".")[0] in ("autograd", "grading"):
            self.removed |= {self.renamed(alias.asname or alias.name) for alias in node.names}
            return None
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        function = node.func
        if isinstance(function, ast.Name) and function.id in self.names:
            for keyword in node.keywords:  # a function of the hidden test's own
                if keyword.arg in self.names:
                    keyword.arg = new_name(keyword.arg)
        name = function.attr if isinstance(function, ast.Attribute) else getattr(
            function, "id", "")
        if name in SEEDED_CALLS and node.args and isinstance(node.args[0], ast.Constant) \
                and type(node.args[0].value) is int and not self.expected:
            node.args[0] = ast.Constant(node.args[0].value + SEED_OFFSET)
        for keyword in node.keywords:
            if keyword.arg in SEEDED_KEYWORDS and isinstance(keyword.value, ast.Constant) \
                    and type(keyword.value.value) is int and not self.expected:
                keyword.value = ast.Constant(keyword.value.value + SEED_OFFSET)
        if name == "check" and isinstance(function, ast.Name):
            value = self.visit(node.args[0])
            keywords = []
            for keyword in node.keywords:
                if keyword.arg in ("rtol", "atol"):
                    continue
                # A judge's bounds and an expect='s numbers are no inputs: a check of a
                # visible value (which the twin does not move) expects the visible answer.
                # An input an expect= shares with the value is a name the twin moves once.
                self.expected += keyword.arg in EXPECTED_PART
                keywords.append(self.visit(keyword))
                self.expected -= keyword.arg in EXPECTED_PART
            if self.student:
                node.args = [value]
                node.keywords = [k for k in keywords if k.arg == "judge"]
                node.func = ast.Name("practice", ast.Load())
                return node
            node.args = [value] + [self.visit(arg) for arg in node.args[1:]]
            node.keywords = keywords + [k for k in node.keywords if k.arg in ("rtol", "atol")]
            return node
        self.generic_visit(node)
        return node

    def visit_Expr(self, node):
        """A check of a question's answer (a value no input of the test goes into, or
        accept=) has no twin: its expected value would be the answer itself."""
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) \
                and call.func.id == "check" and call.args:
            value = call.args[0]
            # A judge on the grader's own data (hidden_grader_..., e.g. Assignment 5's
            # held-out digits) cannot run in a reader's kernel: no twin.
            if any(keyword.arg == "judge" and any(
                    isinstance(n, ast.Name) and n.id.startswith("hidden_grader_")
                    for n in ast.walk(keyword.value)) for keyword in call.keywords):
                self.grader_only += 1
                return None
            if any(k.arg == "accept" for k in call.keywords) or (
                    not any(isinstance(n, ast.Call) for n in ast.walk(value))
                    and not any(isinstance(n, ast.Name) and n.id in self.names
                                for n in ast.walk(value))):
                self.answers += 1
                return None
        self.generic_visit(node)
        return node

    def visit_Constant(self, node):
        value = node.value
        if not self.inside and not self.expected and type(value) is float \
                and abs(value) not in (0.0, 1.0, float("inf")) and value == value:
            new = float(f"{value * 1.1:.6g}")
            self.moved[value] = new
            return ast.Constant(new)
        return node


def hidden_part(source):
    """(visible code, the module to rewrite, the hidden statements in it). Hidden tests at
    the top level of a cell are rewritten alone; hidden tests inside a visible statement
    (`with testing.switched_off(...)`, `try: ... finally:`) are rewritten in place, in the
    whole cell, whose visible code (public, and needed around them) stays as it is."""
    lines = hidden_lines(source)
    visible = HIDDEN.sub("", source)
    if lines is None:
        return visible, None, []
    first, last = lines
    module = ast.parse(source)
    hidden = []

    def find(statements):
        for statement in statements:
            if first <= statement.lineno and statement.end_lineno <= last:
                hidden.append(statement)
            elif statement.lineno < first < statement.end_lineno:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    find(getattr(statement, field, []) or [])

    find(module.body)
    if all(statement in module.body for statement in hidden):
        module.body = hidden
    return visible, module, hidden


def rewrite(source, student, moved=None):
    """The twin's code (the grader's, or the student's cell's); `moved`, a dict, receives
    the graded inputs the twin moved (graded value -> practice value)."""
    _, module, hidden = hidden_part(source)
    names = bound_names(hidden)
    rewriter = Rewrite(names, student)
    if moved is not None:
        rewriter.moved = moved
    targets = {id(statement) for statement in hidden}

    def transform(statements):
        out = []
        for statement in statements:
            if id(statement) in targets:
                new = rewriter.visit(statement)
                if new is not None:
                    out.append(new)
            else:
                for field in ("body", "orelse", "finalbody"):
                    if getattr(statement, field, None):
                        setattr(statement, field, transform(getattr(statement, field)) or
                                [ast.Pass()])
                for handler in getattr(statement, "handlers", []) or []:
                    handler.body = transform(handler.body) or [ast.Pass()]
                out.append(statement)
        return out

    module.body = transform(module.body)
    if not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "check"
               for n in ast.walk(module)) and not student:
        raise Untwinnable("it checks only a question's answer, which a twin would print")
    if student:
        module = drop_unused_functions(module)
        for node in ast.walk(module):  # the visible code around, too
            if isinstance(node, ast.Name) and node.id == "np":
                node.id = "numpy"
        # a name the student's kernel cannot import may be left in a function that only an
        # expect= called (never called here); anywhere else, the twin could not run
        inside = {id(n) for f in ast.walk(module) if isinstance(f, (ast.FunctionDef, ast.Lambda))
                  for n in ast.walk(f)}
        used = {node.id for node in ast.walk(module) if isinstance(node, ast.Name)
                and id(node) not in inside}
        missing = used & rewriter.removed - {"raised", "check"}  # the setup cell's
        if missing:
            raise Untwinnable(f"needs {sorted(missing)}, which a student does not have")
    ast.fix_missing_locations(module)
    code = ast.unparse(module)
    if student:
        code = "import numpy\n" + code
        leaked = secret_check(code)
        if leaked:  # a statement any code has (`raise TimeoutError`): the same, in brackets
            code = re.sub(r"^(\s*)raise (\w+)$", r"\1raise (\2)", code, flags=re.MULTILINE)
            code = re.sub(r"^(\s*)except (\w+):$", r"\1except (\2):", code, flags=re.MULTILINE)
            leaked = secret_check(code)
        if leaked:
            raise Untwinnable(f"its code would hold lines of the hidden test: {leaked[:3]}")
    return code


def drop_unused_functions(module):
    """Functions the hidden code defines only for expect= (which the student's cell does
    not have), gone from the student's cell (module level, or in a top-level with)."""
    def bodies(statements):
        yield statements
        for statement in statements:
            if isinstance(statement, ast.With):
                yield from bodies(statement.body)

    while True:
        used = {node.id for node in ast.walk(module) if isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)}
        dropped = False
        for body in bodies(module.body):
            for node in list(body):
                if isinstance(node, ast.FunctionDef) and node.name not in used:
                    body.remove(node)
                    dropped = True
        if not dropped:
            return module


def twin_cells(source_notebook):
    """{test grade_id: (reference code, student code, moved inputs)} for each test cell that
    has hidden tests and can be twinned; {grade_id: reason} for those that cannot."""
    twins, without = {}, {}
    for cell in source_notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or hidden_lines(cell.source) is None:
            continue
        try:
            moved = {}
            twins[grade_id] = (rewrite(cell.source, student=False, moved=moved),
                               rewrite(cell.source, student=True), moved)
        except Untwinnable as reason:
            without[grade_id] = str(reason)
    return twins, without


# --- Practice messages --------------------------------------------------------------------

# Definite references to a graded example: on practice inputs they would name the wrong
# one. Each becomes a neutral phrase.
GRADED_PHRASES = [
    (r"\bthe chapter's\b", "a practice"),
    (r"\bthe (?:worked|given) example\b", "a practice example"),
    (r"\bthe example (?:worked out by hand|above|of the chapter)\b", "a practice example"),
    (r"\bthe article's\b", "a practice"),
]


def _number_pattern(value):
    # only forms that read as a float: "x^3" or "two layers" name no moved 3.0 or 2.0
    forms = {form for form in (repr(value), f"{value:g}") if "." in form or "e" in form}
    return r"(?<![\w.])(?:" + "|".join(re.escape(form) for form in forms) + r")(?![\w]|\.\d)"


def names_graded_input(message, moved):
    """The rule every practice message keeps: it names no graded example (GRADED_PHRASES)
    and no graded number that its twin moved (`moved`: graded value -> practice value)."""
    return any(re.search(pattern, message, flags=re.IGNORECASE)
               for pattern, _ in GRADED_PHRASES) or any(
        re.search(_number_pattern(value), message) for value in moved)


def practice_message(message, moved):
    """The hidden check's message, made true of the practice inputs: a moved number becomes
    the practice one, a graded example a practice example."""
    for value, new in sorted(moved.items(), key=lambda item: -len(repr(item[0]))):
        message = re.sub(_number_pattern(value), f"{new:g}", message)
    for pattern, neutral in GRADED_PHRASES:
        message = re.sub(pattern, neutral, message, flags=re.IGNORECASE)
    return message


# --- Practice questions: the slider questions, on other inputs ---------------------------

# The spec of each slider question's practice twin, by its test cell's grade_id, for the
# notebooks that do not carry it yet as the test cell's metadata "practice_twin" (which
# wins). "replace": [old, new] pairs made in the task's text, in its check's message and in
# the slider's code (whole tokens only; each must be found, the message must change; a
# change in the slider's code makes a copy of the slider for the twin). "answers": a Python
# expression, run after the graded test cell in a kernel holding the solutions, whose list
# is every right answer of the twin. Nothing here reaches the edition but the replaced
# text and the computed answers.
QUESTION_TWINS = {
    "telephone-max-second-rate-tests": {
        "replace": [["25%", "40%"]],
        "answers": "[max(r for r in player_2_rates if line_error([player_1_rate, r]) <= 0.4),"
                   " 1 - 0.6 / (1 - player_1_rate)]",
    },
    "graphs-friends-needed-tests": {
        "replace": [["-1", "-0.5"]],
        "answers": "[min(f for f in group_sizes"
                   " if -0.5 < bill_gradients(**basket, friends=f)[1]['friends'] < 0)]",
    },
    "composite-blocks-needed-tests": {
        "replace": [["10^{-3}", "10^{-4}"], ["1e-3", "1e-4"]],
        "answers": "[min(n for n in range(1, 13) if library_norms(n)[0] < 1e-4)]",
    },
    "neuron-eta-answer-tests": {
        "replace": [["0.74", "0.60"], ["0.81", "0.70"],
                    ["Any rate that meets the condition is accepted, also one between the "
                     "slider's values.", "Pick one of the slider's rates."]],
        "answers": "[float(r) for r in slider_rates if 0.60 <= first_predictions("
                   "numerical_update, float(r))[2] <= 0.70]",
    },
    "full-smallest-rate-tests": {
        "replace": [["93%", "90%"]],
        "answers": "[min(r for r in slider_rates if training_run(library_epoch, "
                   "learning_rate=r, epochs=10)[1]['val_accuracy'][-1] >= 0.90)]",
    },
}


def _token(old):
    """old as a whole token; a space in it matches any white space (a line break)."""
    return re.compile(r"(?<![\w.])" + r"\s+".join(map(re.escape, old.split(" ")))
                      + r"(?![\w]|\.\d)")


def _replaced(text, pairs):
    for old, new in pairs:
        text = _token(old).sub(new, text)
    return text


def slider_copy(source):
    """The slider cell with every name it binds at its top level renamed practice_...: the
    copy leaves the graded slider's names (which later cells may read) as they are. Renamed
    token by token, so the cell keeps its layout and comments."""
    import io
    import tokenize

    names = set()
    for statement in ast.parse(source).body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)):
            names |= {node.id for node in ast.walk(statement)
                      if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    lines = source.splitlines(keepends=True)
    edits, depth = [], 0
    for k, token in enumerate(tokens):
        if token.type == tokenize.OP:
            depth += token.string in "([{"
            depth -= token.string in ")]}"
        if token.type != tokenize.NAME or token.string not in names:
            continue
        before = tokens[k - 1].string if k else ""
        after = tokens[k + 1].string if k + 1 < len(tokens) else ""
        if before == "." or (depth and after == "="):  # an attribute, a keyword argument
            continue
        edits.append(token.start)
    for row, col in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + "practice_" + line[col:]
    return "".join(lines)


def headless_hint(slider):
    """How to see one frame of the slider cell `slider` without a live widget (a notebook
    run outside a browser shows only the slider's text, `VBox(children=(...`): call its
    drawing function, the first argument of frame_slider(...), with one value. "" where
    that argument is not a plain name."""
    calls = [node for node in ast.walk(ast.parse(slider)) if isinstance(node, ast.Call)
             and getattr(node.func, "attr", getattr(node.func, "id", "")) == "frame_slider"]
    if not calls or not calls[0].args or not isinstance(calls[0].args[0], ast.Name):
        return ""
    args = calls[0].args
    values = (f" (one of `{args[1].id}`)" if len(args) > 1 and isinstance(args[1], ast.Name)
              else "")
    return (f"Where the slider does not show (a notebook run outside a live browser kernel "
            f"prints only `VBox(children=(SelectionSlider...`), draw one frame in a new "
            f"cell: `{args[0].id}(value)` with the slider's value{values}. ")


def question_twin(notebook, test_index, spec):
    """The practice twin of the slider question whose test cell is notebook.cells[test_index]:
    a dict with the twin's Markdown, its slider copy (or None: the question's own slider
    serves), the slider's grade_id, the answer's name, the message, and the reference code
    that computes its right answers at make public time."""
    test = notebook.cells[test_index]
    grade_id = test.metadata["nbgrader"]["grade_id"]
    hidden = "\n".join(line for line in HIDDEN.search(test.source).group(0).splitlines()
                       if "HIDDEN TESTS" not in line)
    calls = [node for node in ast.walk(ast.parse(hidden))
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check"]
    names = {call.args[0].id for call in calls if isinstance(call.args[0], ast.Name)}
    messages = {call.args[1].value for call in calls if len(call.args) > 1
                and isinstance(call.args[1], ast.Constant)}
    if len(names) != 1 or len(messages) != 1:
        raise Untwinnable("a question's twin needs one answer name and one message")
    (answer,), (message,) = names, messages

    def cell_kind(cell):
        return cell.metadata.get("nbgrader", {})

    answer_index = max((k for k, cell in enumerate(notebook.cells[:test_index])
                        if cell.cell_type == "code" and cell_kind(cell).get("solution")
                        and re.search(rf"^{answer}\s*=", cell.source, flags=re.MULTILINE)),
                       default=None)
    if answer_index is None:
        raise Untwinnable(f"no answer cell sets {answer}")
    text_index = max((k for k, cell in enumerate(notebook.cells[:answer_index])
                      if cell.cell_type == "markdown" and f"`{answer}`" in cell.source),
                     default=None)
    slider_index = max((k for k, cell in enumerate(notebook.cells[:answer_index])
                        if cell.cell_type == "code" and "frame_slider(" in cell.source),
                       default=None)
    if text_index is None or slider_index is None:
        raise Untwinnable(f"no task text naming `{answer}`, or no slider before its answer")
    text, slider = notebook.cells[text_index].source, notebook.cells[slider_index].source
    pairs = spec["replace"]
    for old, _ in pairs:
        if not any(_token(old).search(where) for where in (text, message, slider)):
            raise Untwinnable(f"its practice_twin spec replaces {old!r}, which the task's "
                              "text, message and slider do not hold")
    twin_message = _replaced(message, pairs)
    if twin_message == message:
        raise Untwinnable("its practice_twin spec leaves the message (and so the graded "
                          "question) as it is")
    copied = _replaced(slider, pairs)
    copy = slider_copy(copied) if copied != slider else None
    twin_text = _replaced(text, pairs).replace(f"`{answer}`", f"`practice_{answer}`")
    heading = re.match(r"#+\s*(Task \d+)[^\n]*\n*", twin_text)
    task = heading.group(1) if heading else "the task above"
    twin_text = twin_text[heading.end():] if heading else twin_text
    lead = (f"### Practice question (not graded): {task} on other inputs\n\n"
            f"The same question as {task}'s, with other numbers: its answer is not the "
            f"graded one. " + ("It has its own slider, below." if copy else
                               f"Answer it with {task}'s slider above.") + "\n\n")
    tail = (f"\n\n{headless_hint(copy or slider)}Write your answer in `practice_{answer}` "
            "below; the cell after it checks it.")
    return {"grade_id": grade_id, "answer": answer, "message": twin_message,
            "markdown": lead + twin_text.strip() + tail, "slider": copy,
            "slider_grade_id": cell_kind(notebook.cells[slider_index]).get("grade_id"),
            "hidden": hidden, "answers": spec["answers"]}


def question_twins(source_notebook, without):
    """{test grade_id: question twin} for the questions (in `without`) that have a spec."""
    questions = {}
    for index, cell in enumerate(source_notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in without or "question's answer" not in without[grade_id]:
            continue
        spec = cell.metadata.get("practice_twin") or QUESTION_TWINS.get(grade_id)
        if spec is None:
            continue
        try:
            questions[grade_id] = question_twin(source_notebook, index, spec)
        except Untwinnable as reason:
            raise SystemExit(f"make public: the practice question of {grade_id}: "
                             f"{reason}") from None
    return questions


QUESTION_REFERENCE = """import grading.record as _practice_record
_practice_record.collector, _practice_record.namespace = [], globals()
try:
{hidden}
finally:
    _practice_graded, _practice_record.collector = _practice_record.collector, None
_practice_answers = _practice_record.plain(list({answers}))
_practice_log[{grade_id!r}] = [dict(
    answers=_practice_answers, rtol=g["rtol"], atol=g["atol"], judge=None, judged=False,
    message={message!r}, right=bool(_practice_answers), question=True,
    graded_right=[a for a in _practice_answers if (
        bool(g["judge"](a)) if g["judge"] is not None else
        any(_practice_near(a, b, g["rtol"], g["atol"]) for b in g["answers"]))])
    for g in _practice_graded]
"""

NEAR = """def _practice_near(a, b, rtol, atol):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= atol + rtol * abs(b)
    return a == b
"""


REFERENCE_HEAD = """import grading.record as _practice_record
_practice_record.collector, _practice_record.namespace = [], globals()
try:
{code}
finally:
    _practice_log[{grade_id!r}] = [
        dict(entry, judge=None, judged=entry["judge"] is not None,
             right=(entry["judge"] is None or bool(entry["judge"](entry["value"]))))
        for entry in _practice_record.collector]
    _practice_record.collector = None
"""


def expected_values(solution_path, twins, questions=None):
    """{grade_id: [check entries]}: the reference twins run against the solutions, in a
    kernel of the course's environment, with the grader's check API collecting; for each
    practice question, its right answers, and refused if the graded check takes one."""
    from nbclient import NotebookClient

    questions = questions or {}
    notebook = nbformat.read(solution_path, as_version=4)
    cells = [nbformat.v4.new_code_cell("_practice_log = {}\n" + NEAR)]
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code":
            visible = HIDDEN.sub("", cell.source)
            cells.append(nbformat.v4.new_code_cell(
                re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION.*$", "", visible, flags=re.MULTILINE)))
        if grade_id in twins:
            code = "\n".join("    " + line for line in twins[grade_id][0].splitlines())
            cells.append(nbformat.v4.new_code_cell(REFERENCE_HEAD.format(code=code,
                                                                         grade_id=grade_id)))
        if grade_id in questions:
            question = questions[grade_id]
            hidden = "\n".join("    " + line for line in question["hidden"].splitlines())
            cells.append(nbformat.v4.new_code_cell(QUESTION_REFERENCE.format(
                hidden=hidden, answers=question["answers"], grade_id=grade_id,
                message=question["message"])))
    cells.append(nbformat.v4.new_code_cell(
        "import json\nprint('PRACTICE' + json.dumps(_practice_log))"))
    run = nbformat.v4.new_notebook(cells=cells, metadata=notebook.metadata)
    NotebookClient(run, timeout=1800, kernel_name="python3",
                   resources={"metadata": {"path": str(solution_path.parent)}}).execute()
    text = "".join(output.get("text", "") for output in run.cells[-1].outputs)
    log = json.loads(text[text.index("PRACTICE") + len("PRACTICE"):])
    for grade_id, entries in log.items():
        if not entries:
            raise SystemExit(f"make public: practice twin of {grade_id} made no check")
        wrong = [e["message"] for e in entries if not e["right"]]
        if wrong:
            raise SystemExit(f"make public: the solution fails its own practice judge in "
                             f"{grade_id}: {wrong[:3]}")
        given_away = [e["graded_right"] for e in entries if e.get("graded_right")]
        if given_away:
            raise SystemExit(f"make public: the practice question of {grade_id} would give "
                             f"the graded answer away: the graded check takes its right "
                             f"answers {given_away[0]}; change its inputs further")
    return log


def shown_message(message):
    """The check's message, unless it quotes a secret line (`forward should return x / y`
    quotes the solution's `return x / y`): then a plain one."""
    return "a check of this task failed" if secret_check(message) else message


def question_cells(question, entries, slider_id):
    """The practice question's cells: its text, its slider (a copy, where its inputs are
    the slider's), the reader's answer and its practice check."""
    grade_id = question["grade_id"]
    text = nbformat.v4.new_markdown_cell(question["markdown"])
    text.id = f"{grade_id}-question"[-64:]
    cells = [text]
    if question["slider"]:
        slider = nbformat.v4.new_code_cell(question["slider"])
        slider.metadata["practice_copy_of"] = slider_id  # the graded slider it copies
        slider.id = slider_id = f"{grade_id}-question-slider"[-64:]
        cells.append(slider)
    answer = nbformat.v4.new_code_cell(
        f"practice_{question['answer']} = None  # your answer to the practice question")
    answer.id = f"{grade_id}-question-answer"[-64:]
    check = student_cell(grade_id, f"practice(practice_{question['answer']})", entries)
    check.metadata["practice_slider"] = slider_id  # the cell whose slider answers it
    cells += [answer, check]
    for cell in cells:
        cell.metadata.setdefault("tags", ["practice"])
    return cells


def student_cell(grade_id, code, entries):
    # the message last: in the hidden test it may stand on a line of its own, `"...",`
    data = json.dumps([{"answers": e["answers"], "rtol": e["rtol"], "atol": e["atol"],
                        "judged": e["judged"], "message": shown_message(e["message"])}
                       for e in entries],
                      separators=(",", ":"))
    body = "\n".join("    " + line for line in code.splitlines())
    source = (f"# Practice checks of this task: not graded. They print how many passed and\n"
              f"# the message of each that failed (see the page 'For students').\n"
              f"practice = PracticeChecks({grade_id!r}, {data!r})\n"
              f"with practice:\n{body}")
    cell = nbformat.v4.new_code_cell(source)
    cell.id = f"{grade_id}-practice"[-64:]  # stable: a new run changes no id
    cell.metadata["tags"] = ["practice", "hide-input"]  # on the book's page, folded
    return cell


_SECRETS = []


def secret_check(text):
    """The lines of the instructors' notebooks (make public's scan) found in text."""
    if not _SECRETS:
        sys.path.insert(0, str(REPO / "tests"))
        from conftest import all_secret_lines
        _SECRETS.extend(line for line in all_secret_lines()
                        if not line.startswith(("import ", "from ")))
    return sorted(secret for secret in _SECRETS if secret in text)


def add_practice_cells(assignment, notebook):
    """Add the practice twins and questions to the edition's `notebook` of `assignment`;
    returns how many practice checks it holds."""
    solution_path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    source = nbformat.read(solution_path, as_version=4)
    twins, without = twin_cells(source)
    questions = question_twins(source, without)
    log = expected_values(solution_path, twins, questions)
    ids = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.id for cell in notebook.cells}
    setup = nbformat.v4.new_code_cell(SETUP)
    setup.id = "practice-setup"
    setup.metadata["tags"] = ["practice", "hide-input"]  # the book folds it (myst-nb)
    setup.metadata["jupyter"] = {"source_hidden": True}  # JupyterLab collapses it; it runs
    cells, count = [], 0
    for cell in notebook.cells:
        cell.metadata.pop("practice_twin", None)  # its answers expression: not the reader's
        cells.append(cell)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in twins:
            entries = [dict(entry, message=practice_message(entry["message"],
                                                            twins[grade_id][2]))
                       for entry in log[grade_id]]
            cells.append(student_cell(grade_id, twins[grade_id][1], entries))
            count += len(log[grade_id])
        elif grade_id in questions:
            question = questions[grade_id]
            cells += question_cells(question, log[grade_id], ids[question["slider_grade_id"]])
            count += len(log[grade_id])
    leaked = secret_check("\n".join(c.source for c in cells if "practice" in
                                    c.metadata.get("tags", [])))
    if leaked:
        raise SystemExit(f"make public: practice cells of {assignment} hold hidden-test "
                         f"lines: {leaked[:5]}")
    # the set-up right before the first practice cell: after the title and introduction
    first = next((k for k, c in enumerate(cells) if "practice" in c.metadata.get("tags", [])),
                 None)
    if first is not None:
        cells.insert(first, setup)
    notebook.cells = cells
    for grade_id, reason in without.items():
        if grade_id not in questions:
            print(f"  {assignment}: {grade_id} has no practice twin ({reason})")
    return count
