"""bplib.graph: the scalar autodiff engine against autograd and finite differences, the
path view, the layers, the shopping graph, the error messages, and its two figures."""

import io
import math
import operator
import random

import matplotlib

matplotlib.use("Agg")

import autograd.numpy as anp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from autograd import grad  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from bplib.graph import (AddLayer, MulLayer, Value, diamond_chain,  # noqa: E402
                         forward_sweep, gradients, path_cost_table, path_product,
                         path_sum_gradient, paths, shopping, topological_order)
from bplib.plotting import TEXT_PALETTE, draw_graph, plot_path_costs  # noqa: E402
from bplib.plotting._common import DESKTOP_WIDTH, PHONE_WIDTH, text_size  # noqa: E402

# ---------------------------------------------------------------------------------------
# Random expressions, built once as a program and run three ways: with floats (to keep
# every operation where it is smooth), with Values and with autograd.

UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "pow"]
BINARY = ["+", "-", "*", "/"]
EXPONENTS = [2, 3, -1, -2, 0.5, 1.5, 1, 0]

VALUE_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "neg": operator.neg, "pow": operator.pow, "exp": Value.exp, "log": Value.log,
             "tanh": Value.tanh, "sigmoid": Value.sigmoid, "relu": Value.relu}
FLOAT_OPS = {**VALUE_OPS, "exp": math.exp, "log": math.log, "tanh": math.tanh,
             "sigmoid": lambda a: 1 / (1 + math.exp(-a)), "relu": lambda a: max(a, 0.0)}
AUTOGRAD_OPS = {**VALUE_OPS, "exp": anp.exp, "log": anp.log, "tanh": anp.tanh,
                "sigmoid": lambda a: 1 / (1 + anp.exp(-a)), "relu": lambda a: anp.maximum(a, 0.0)}


def smooth_here(op, args, result):
    """Whether op is well away from a kink, a pole, the edge of log's domain and overflow."""
    if op == "log":
        return args[0] > 0.2
    if op == "/":
        return abs(args[1]) > 0.2 and abs(result) < 50
    if op == "relu":
        return abs(args[0]) > 0.05
    if op == "exp":
        return args[0] < 4
    if op == "pow":
        base, n = args
        return (base > 0.2 or (float(n).is_integer() and (n >= 0 or abs(base) > 0.2))) and \
            abs(result) < 50
    return abs(result) < 50


def random_program(rng, n_inputs, n_ops, chain=False):
    """(inputs, program): a program is a list of (op, operand, ...) with operands
    ("node", index into inputs + results so far) or ("num", number). Recent nodes are picked
    most often, so expressions are deep; with chain=True every op uses the latest node.
    At the end every result nothing used is added into the output, so all nodes count."""
    inputs = [round(rng.uniform(-2, 2), 3) for _ in range(n_inputs)]
    floats, program, used = list(inputs), [], set()

    def pick():
        if chain:
            return len(floats) - 1
        return max(0, len(floats) - 1 - int(rng.expovariate(0.4)))

    while len(program) < n_ops:
        op, a = rng.choice(UNARY + BINARY), pick()
        if op == "pow":
            operands = [("node", a), ("num", rng.choice(EXPONENTS))]
        elif op in BINARY:
            kind = rng.random()
            other = rng.randrange(len(floats)) if not chain else rng.randrange(n_inputs)
            number = ("num", round(rng.choice([-1, 1]) * rng.uniform(0.3, 3), 2))
            operands = ([number, ("node", a)] if kind < 0.2 else [("node", a), number]
                        if kind < 0.4 else [("node", a), ("node", a)] if kind < 0.55
                        else [("node", a), ("node", other)])
            if rng.random() < 0.5:
                operands.reverse()
        else:
            operands = [("node", a)]
        args = [floats[i] if kind == "node" else i for kind, i in operands]
        try:
            result = FLOAT_OPS[op](*args)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        if isinstance(result, complex) or not smooth_here(op, args, result):
            continue
        if chain and ((op == "relu" and args[0] < 0) or (op == "pow" and args[1] == 0)):
            continue  # a zero local derivative would cut the chain's gradient off
        program.append((op, *operands))
        used |= {i for kind, i in operands if kind == "node"}
        floats.append(result)
    for i in [i for i in range(len(floats) - 1) if i not in used]:
        program.append(("+", ("node", len(floats) - 1), ("node", i)))
        floats.append(floats[-1] + floats[i])
    return inputs, program


def run(program, inputs, ops):
    """The program's output, computed with the given operations on the given inputs."""
    pool = list(inputs)
    for op, *operands in program:
        pool.append(ops[op](*[pool[i] if kind == "node" else i for kind, i in operands]))
    return pool[-1]


def engine_value_and_grads(program, inputs):
    xs = [Value(x, f"x{i}") for i, x in enumerate(inputs)]
    out = run(program, xs, VALUE_OPS)
    return out.data, gradients(out, xs)


def autograd_value_and_grads(program, inputs):
    def f(xs):
        return run(program, [xs[i] for i in range(len(inputs))], AUTOGRAD_OPS)
    xs = np.array(inputs, dtype=float)
    return float(f(xs)), list(grad(f)(xs))


def assert_close(got, expected, rtol, context):
    scale = max(1.0, *(abs(e) for e in expected))
    assert np.allclose(got, expected, rtol=rtol, atol=rtol * scale), (
        f"{context}: got {got}, expected {expected}")


def test_random_expressions_against_autograd():
    for seed in range(200):
        rng = random.Random(seed)
        inputs, program = random_program(rng, rng.randint(1, 4), rng.randint(1, 40))
        value, grads = engine_value_and_grads(program, inputs)
        expected_value, expected_grads = autograd_value_and_grads(program, inputs)
        context = f"seed {seed}, program {program}"
        assert_close([value], [expected_value], 1e-10, context)
        assert_close(grads, expected_grads, 1e-9, context)


def test_random_expressions_use_every_operation_and_both_sides():
    seen = set()
    for seed in range(200):
        rng = random.Random(seed)
        _, program = random_program(rng, rng.randint(1, 4), rng.randint(1, 40))
        for op, *operands in program:
            seen.add(op)
            kinds = [kind for kind, _ in operands]
            if op in BINARY and kinds == ["num", "node"]:
                seen.add("number on the left")
            if op in BINARY and kinds == ["node", "num"]:
                seen.add("number on the right")
            if op in BINARY and operands[0] == operands[1]:
                seen.add("same node twice")
            if op == "pow":
                seen.add(f"pow {operands[1][1]}")
    assert seen >= set(UNARY + BINARY) | {"number on the left", "number on the right",
                                         "same node twice"} | {f"pow {n}" for n in EXPONENTS}


@pytest.mark.parametrize("seed", range(3))
def test_deep_chains_against_autograd(seed):
    rng = random.Random(100 + seed)
    inputs, program = random_program(rng, 2, 3000, chain=True)
    xs = [Value(x, f"x{i}") for i, x in enumerate(inputs)]
    out = run(program, xs, VALUE_OPS)
    assert len(topological_order(out)) > 3000
    expected_value, expected_grads = autograd_value_and_grads(program, inputs)
    assert_close([out.data], [expected_value], 1e-9, f"seed {seed}")
    assert_close(gradients(out, xs), expected_grads, 1e-8, f"seed {seed}")


def test_deep_chain_of_inverse_pairs():
    """Each step undoes itself (d step / dv = 1) and adds 0.001 x, so d out / dx is
    1 + 0.001 * steps: every one of the thousands of steps has to be right."""
    steps = [lambda v: (v * 2.5) / 2.5, lambda v: (v + 3) - 3, lambda v: ((v + 5).log()).exp() - 5,
             lambda v: -(-v),  # noqa: B002 (negated twice on purpose)
             lambda v: ((v + 4) ** 2) ** 0.5 - 4, lambda v: 1 / (1 / (v + 6)) - 6,
             lambda v: ((v + 2) ** 3) ** (1 / 3) - 2]
    x = Value(0.7, "x")
    out = x
    for k in range(1400):
        out = steps[k % len(steps)](out) + 0.001 * x
    assert len(topological_order(out)) > 5000
    assert out.data == pytest.approx(0.7 * 2.4)
    assert gradients(out, [x]) == pytest.approx([2.4], rel=1e-9)


def test_very_deep_chain_needs_no_recursion():
    x = Value(0.5, "x")
    out = x
    for _ in range(20000):
        out = out + 1
    out.backward()
    assert x.grad == 1.0 and out.data == 20000.5
    assert len(topological_order(out)) == 40001  # x, 20000 constants, 20000 sums
    assert len(paths(out, x)) == 1


def finite_differences(program, inputs, step=1e-5):
    """Central differences of the engine's own forward pass, one input at a time."""
    def f(values):
        return run(program, [Value(v) for v in values], VALUE_OPS).data
    grads = []
    for i, x in enumerate(inputs):
        h = step * max(1.0, abs(x))
        up, down = list(inputs), list(inputs)
        up[i], down[i] = x + h, x - h
        grads.append((f(up) - f(down)) / (2 * h))
    return grads


def test_random_expressions_against_finite_differences():
    for seed in range(1000, 1060):
        rng = random.Random(seed)
        inputs, program = random_program(rng, rng.randint(1, 3), rng.randint(1, 15))
        _, grads = engine_value_and_grads(program, inputs)
        assert_close(grads, finite_differences(program, inputs), 1e-5,
                     f"seed {seed}, program {program}")


def test_forward_sweeps_against_autograd_and_backward():
    """One forward sweep per input gives what one backward pass gives for all of them."""
    for seed in range(2000, 2100):
        rng = random.Random(seed)
        inputs, program = random_program(rng, rng.randint(1, 4), rng.randint(1, 30))
        xs = [Value(x, f"x{i}") for i, x in enumerate(inputs)]
        out = run(program, xs, VALUE_OPS)
        swept = [forward_sweep(out, x)[out] for x in xs]
        _, expected = autograd_value_and_grads(program, inputs)
        context = f"seed {seed}, program {program}"
        assert_close(swept, expected, 1e-9, context)
        assert_close(swept, gradients(out, xs), 1e-12, context)


def test_forward_sweep_by_hand():
    B, C, D = Value(2, "B"), Value(3, "C"), Value(1, "D")
    F, G = B * C, C + D
    A = F * G
    tangents = forward_sweep(A, C)
    assert (tangents[C], tangents[F], tangents[G], tangents[A]) == (1, 2, 1, 2 * 4 + 6 * 1)
    assert tangents[B] == tangents[D] == 0
    x = Value(3, "x")
    square = x * x
    assert forward_sweep(square, x)[square] == 6  # both uses of x count
    with pytest.raises(ValueError, match="not in the graph"):
        forward_sweep(A, Value(1, "E"))


# ---------------------------------------------------------------------------------------
# The engine by hand


def test_each_operation_by_hand():
    x, y = Value(2.0, "x"), Value(-3.0, "y")
    cases = [  # (node, op, inputs, local derivatives, value)
        (x + y, "+", (x, y), (1, 1), -1), (x - y, "-", (x, y), (1, -1), 5),
        (x * y, "*", (x, y), (-3, 2), -6), (x / y, "/", (x, y), (-1 / 3, -2 / 9), -2 / 3),
        (-x, "neg", (x,), (-1,), -2), (x ** 3, "**3", (x,), (12,), 8),
        (x ** 0.5, "**0.5", (x,), (0.5 / math.sqrt(2),), math.sqrt(2)),
        (x.exp(), "exp", (x,), (math.exp(2),), math.exp(2)),
        (x.log(), "log", (x,), (0.5,), math.log(2)),
        (x.tanh(), "tanh", (x,), (1 - math.tanh(2) ** 2,), math.tanh(2)),
        (y.relu(), "relu", (y,), (0,), 0), (x.relu(), "relu", (x,), (1,), 2),
    ]
    s = 1 / (1 + math.exp(3))
    cases.append((y.sigmoid(), "sigmoid", (y,), (s * (1 - s),), s))
    for node, op, inputs, local_grads, value in cases:
        assert node.op == op and node.inputs == inputs and node.label == ""
        assert node.data == pytest.approx(value)
        assert node.local_grads == pytest.approx(local_grads)
        assert isinstance(node.data, float) and node.grad == 0.0
    assert x.op == "" and x.inputs == () and x.local_grads == ()


def test_sigmoid_far_out_does_not_overflow():
    assert Value(-800.0).sigmoid().data == 0.0
    assert Value(800.0).sigmoid().data == 1.0


def test_numbers_become_constant_nodes_on_either_side():
    x = Value(2.0, "x")
    for node, constant_slot, label in [(x * 2, 1, "2"), (2.5 - x, 0, "2.5"), (x + 1e-3, 1, "0.001"),
                                       (np.float64(1.5) * x, 0, "1.5"), (x / np.int64(4), 1, "4"),
                                       (3 / x, 0, "3")]:
        constant = node.inputs[constant_slot]
        assert constant.label == label and constant.op == "" and node.inputs[1 - constant_slot] is x
    assert (1 - x).data == -1 and (1 / x).data == 0.5 and (2 + x).data == 4


def test_value_accepts_numbers_and_keeps_a_float():
    for number in (3, 3.0, np.float32(3), np.int64(3), np.float64(3)):
        value = Value(number)
        assert value.data == 3.0 and type(value.data) is float
    assert Value(1, label="w").label == "w"
    assert "w" in repr(Value(1.5, "w")) and "1.5" in repr(Value(1.5, "w"))


def test_backward_twice_gives_the_same_grads():
    x, y = Value(1.5, "x"), Value(-0.5, "y")
    out = (x * y + x.exp()).tanh() * x
    out.backward()
    first = [x.grad, y.grad]
    out.backward()
    assert [x.grad, y.grad] == first
    assert gradients(out, [x, y]) == first


def test_gradients_accumulate_where_a_node_is_reused():
    x = Value(3.0, "x")
    square = x * x
    square.backward()
    assert x.grad == 6.0  # d(x^2)/dx = 2x: one x from each edge
    y = Value(-2.0, "y")
    out = x * y + x.exp() + x  # x used in three places
    assert gradients(out, [x, y]) == pytest.approx([-2 + math.exp(3) + 1, 3])
    t = x + y
    z = t * t + t  # t used three times
    assert gradients(z, [x, y, t]) == pytest.approx([2 * 1 + 1] * 3)


def test_backward_resets_grads_from_another_output():
    x = Value(2.0, "x")
    (x * 10).backward()
    out = x * x
    out.backward()
    assert x.grad == 4.0


def test_topological_order_puts_inputs_first():
    rng = random.Random(7)
    for _ in range(20):
        inputs, program = random_program(rng, 3, 25)
        xs = [Value(x) for x in inputs]
        order = topological_order(run(program, xs, VALUE_OPS))
        assert len(set(order)) == len(order)
        where = {node: i for i, node in enumerate(order)}
        assert all(where[inp] < where[node] for node in order for inp in node.inputs)


# ---------------------------------------------------------------------------------------
# Paths


def count_paths(node, output):
    """Paths from node to output, counted independently: one per edge, recursively."""
    def count(v):
        return 1 if v is node else sum(count(u) for u in v.inputs)
    return count(output)


def test_path_sum_equals_backward_on_random_small_graphs():
    rng = random.Random(3)
    for case in range(100):
        inputs, program = random_program(rng, rng.randint(1, 3), rng.randint(1, 8))
        xs = [Value(x, f"x{i}") for i, x in enumerate(inputs)]
        out = run(program, xs, VALUE_OPS)
        for x, backward_grad in zip(xs, gradients(out, xs), strict=True):
            found = paths(out, x)
            assert len(found) == count_paths(x, out), f"case {case}"
            assert all(path[0] is x and path[-1] is out for path in found)
            assert all(path[i] in path[i + 1].inputs for path in found
                       for i in range(len(path) - 1))
            assert path_sum_gradient(out, x) == pytest.approx(backward_grad, rel=1e-9,
                                                              abs=1e-12), f"case {case}"


def test_paths_by_hand():
    x, y = Value(1.0, "x"), Value(2.0, "y")
    t = x + y
    z = t ** 2
    assert paths(z, x) == [[x, t, z]]
    assert path_product(paths(z, x)[0]) == 6.0  # dz/dt * dt/dx = 2t * 1
    assert paths(z, z) == [[z]] and path_sum_gradient(z, z) == 1.0
    square = x * x
    assert paths(square, x) == [[x, square], [x, square]]  # one path per edge
    assert [path_product(p) for p in paths(square, x)] == [1.0, 1.0]
    difference = y - y
    assert sorted(path_product(p) for p in paths(difference, y)) == [-1.0, 1.0]
    assert path_sum_gradient(difference, y) == 0.0
    assert path_product([x, t]) == 1.0  # a plain list of nodes works where it is unambiguous


@pytest.mark.parametrize("n", range(1, 11))
def test_diamond_chain_has_two_to_the_n_paths(n):
    x, out = diamond_chain(n)
    found = paths(out, x)
    assert len(found) == 2 ** n == count_paths(x, out)
    assert all(len(path) == 2 * n + 1 for path in found)
    assert path_sum_gradient(out, x) == pytest.approx(1.2 ** n)
    assert gradients(out, [x]) == pytest.approx([1.2 ** n])
    assert sum(len(node.inputs) for node in topological_order(out)) == 6 * n
    assert out.label == "out" and x.label == "x"


def test_path_cost_table():
    table = path_cost_table(range(1, 7), repeats=1)
    assert [row["n"] for row in table] == list(range(1, 7))
    for row in table:
        n = row["n"]
        assert set(row) == {"n", "paths", "path_multiplications", "backward_edges",
                            "path_seconds", "backward_seconds", "agree"}
        assert row["paths"] == 2 ** n
        assert row["path_multiplications"] == 2 * n * 2 ** n
        assert row["backward_edges"] == 6 * n
        assert 0 <= row["agree"] < 1e-12
        assert row["path_seconds"] > 0 and row["backward_seconds"] > 0
    with pytest.raises(ValueError, match="repeats must be a whole number >= 1"):
        path_cost_table([2], repeats=0)
    with pytest.raises(ValueError, match="n must be a whole number >= 1"):
        path_cost_table([0])


# ---------------------------------------------------------------------------------------
# The seed's shopping graphs and the layers


def test_shopping_two_apples():
    nodes = shopping()
    assert list(nodes) == ["apple price", "apple count", "apples", "tax", "total"]
    assert all(node.label == label for label, node in nodes.items())
    nodes["total"].backward()
    assert nodes["total"].data == pytest.approx(22)
    assert nodes["apple price"].grad == pytest.approx(2.2)
    assert nodes["apple count"].grad == pytest.approx(11)
    assert nodes["tax"].grad == pytest.approx(20)
    assert nodes["apples"].grad == pytest.approx(1.1)


def test_shopping_apples_and_oranges():
    nodes = shopping(orange_price=15, orange_count=3)
    assert list(nodes) == ["apple price", "apple count", "apples", "orange price",
                           "orange count", "oranges", "subtotal", "tax", "total"]
    grads = dict(zip(nodes, gradients(nodes["total"], list(nodes.values())), strict=True))
    assert nodes["total"].data == pytest.approx(71.5)
    assert nodes["subtotal"].data == pytest.approx(65)
    assert grads == pytest.approx({"apple price": 2.2, "apple count": 11, "apples": 1.1,
                                   "orange price": 3.3, "orange count": 16.5, "oranges": 1.1,
                                   "subtotal": 1.1, "tax": 65, "total": 1})


def test_shopping_other_prices_and_bad_input():
    nodes = shopping(apple_price=3, apple_count=4, tax=1.2)
    nodes["total"].backward()
    assert nodes["total"].data == pytest.approx(14.4)
    assert nodes["apple count"].grad == pytest.approx(3.6)
    with pytest.raises(ValueError, match="both orange_price and orange_count"):
        shopping(orange_price=15)
    with pytest.raises(TypeError, match="holds one number; got a str"):
        shopping(apple_price="10")


def test_layers_on_the_shopping_graph():
    apples, with_tax = MulLayer(), MulLayer()
    total = with_tax.forward(apples.forward(10, 2), 1.1)
    assert total == pytest.approx(22)
    d_apples, d_tax = with_tax.backward(1)
    d_price, d_count = apples.backward(d_apples)
    assert (d_price, d_count, d_tax) == pytest.approx((2.2, 11, 20))
    # Apples and oranges: two products added, then taxed.
    apples, oranges, subtotal, with_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    total = with_tax.forward(subtotal.forward(apples.forward(10, 2), oranges.forward(15, 3)),
                             1.1)
    d_subtotal, d_tax = with_tax.backward(1)
    d_apples, d_oranges = subtotal.backward(d_subtotal)
    grads = [*apples.backward(d_apples), *oranges.backward(d_oranges), d_tax]
    nodes = shopping(orange_price=15, orange_count=3)
    names = ["apple price", "apple count", "orange price", "orange count", "tax"]
    assert total == pytest.approx(nodes["total"].data)
    assert grads == pytest.approx(gradients(nodes["total"], [nodes[name] for name in names]))


def test_layers_by_hand_and_against_the_engine():
    assert AddLayer().forward(2, 3) == 5
    add = AddLayer()
    add.forward(2, 3)
    assert add.backward(1.5) == (1.5, 1.5)
    mul = MulLayer()
    assert mul.forward(4, -2) == -8
    assert mul.backward(3) == (-6, 12)
    rng = random.Random(5)
    for _ in range(20):
        a, b, upstream = (rng.uniform(-3, 3) for _ in range(3))
        for layer, op in ((AddLayer(), operator.add), (MulLayer(), operator.mul)):
            x, y = Value(a), Value(b)
            assert layer.forward(a, b) == op(x, y).data
            assert layer.backward(upstream) == pytest.approx(
                [upstream * g for g in gradients(op(x, y), [x, y])])


@pytest.mark.parametrize("layer", [AddLayer, MulLayer])
def test_layer_backward_before_forward(layer):
    with pytest.raises(RuntimeError, match=r"call forward\(\) first"):
        layer().backward(1.0)


# ---------------------------------------------------------------------------------------
# Errors a student will meet


@pytest.mark.parametrize("data, error, message", [
    ("abc", TypeError, r"a Value holds one number; got a str \('abc'\)"),
    (np.ones(3), TypeError, r"a Value holds one number; got an array of shape \(3,\)"),
    ([1.0], TypeError, "got a list"),
    (None, TypeError, "got a NoneType"),
    (True, TypeError, r"got a bool \(True\)"),
    (1 + 2j, TypeError, "got a complex"),
    (math.nan, ValueError, "holds one finite number; got nan"),
    (-math.inf, ValueError, "got -inf"),
])
def test_value_rejects_what_is_not_one_number(data, error, message):
    with pytest.raises(error, match=message):
        Value(data)


@pytest.mark.parametrize("other, shown", [
    ("abc", r"a str \('abc'\)"), (None, r"a NoneType \(None\)"), ([1, 2], r"a list \(\[1, 2\]\)"),
    (np.array([1.0, 2.0]), r"an array of shape \(2,\)"), (True, r"a bool \(True\)")])
def test_unsupported_types_in_arithmetic(other, shown):
    x = Value(1.0, "x")
    message = f"cannot combine a Value with {shown}: use a number or a Value"
    for combine in (operator.add, operator.sub, operator.mul, operator.truediv):
        with pytest.raises(TypeError, match=message):
            combine(x, other)
        with pytest.raises(TypeError, match=message):
            combine(other, x)  # the other side too, numpy arrays included


def test_powers_need_a_number_exponent():
    x, y = Value(2.0, "x"), Value(3.0, "y")
    with pytest.raises(TypeError,
                       match=r"only number exponents are supported .*\(y \* x.log\(\)\)"):
        x ** y
    with pytest.raises(TypeError, match="only number exponents are supported"):
        2 ** x
    with pytest.raises(TypeError, match="an exponent holds one number; got a str"):
        x ** "2"
    with pytest.raises(ValueError, match="'m' is -8: a negative number has no real power 0.5"):
        Value(-8.0, "m") ** 0.5
    assert (Value(-8.0) ** 3).data == -512


@pytest.mark.parametrize("data", [0.0, -1.0])
def test_log_of_non_positive(data):
    with pytest.raises(ValueError, match=f"log needs a positive number, but 'x' is {data:g}"):
        Value(data, "x").log()


def test_division_by_zero_names_the_node():
    x = Value(1.0, "x")
    with pytest.raises(ZeroDivisionError, match="division by zero: 'zero' is 0"):
        x / Value(0.0, "zero")
    with pytest.raises(ZeroDivisionError, match="division by zero: the unlabelled - node is 0"):
        2 / (x - 1)


@pytest.mark.parametrize("outputs", [list, tuple, np.array])
def test_gradients_of_several_outputs(outputs):
    x = Value(1.0, "x")
    with pytest.raises(ValueError, match=r"backward\(\) needs one scalar output, got a \w+ of 2 "
                                         "outputs: add the outputs into one Value first"):
        gradients(outputs([x * 2, x * 3]), [x])
    assert gradients(sum([x * 2, x * 3]), [x]) == [5.0]  # what the message suggests


def test_gradients_bad_arguments():
    x = Value(1.0, "x")
    with pytest.raises(TypeError, match="output must be a Value, got a float"):
        gradients(3.0, [x])
    with pytest.raises(TypeError, match="wrt must be a list of Values, got a Value"):
        gradients(x * 2, x)
    with pytest.raises(TypeError, match="expected a Value, got a str"):
        gradients(x * 2, ["x"])


def test_node_not_in_the_graph():
    x, w = Value(1.0, "x"), Value(2.0, "w")
    out = x * 3
    out.label = "out"
    message = "'w' is not in the graph of 'out': the output does not depend on it"
    for ask in (lambda: gradients(out, [x, w]), lambda: paths(out, w),
                lambda: path_sum_gradient(out, w)):
        with pytest.raises(ValueError, match=message):
            ask()
    with pytest.raises(ValueError, match="the unlabelled input node is not in the graph"):
        gradients(out, [Value(5.0)])


def test_path_product_of_something_that_is_not_a_path():
    x, y = Value(1.0, "x"), Value(2.0, "y")
    square = x * x
    with pytest.raises(ValueError, match="'y' is not an input of the unlabelled \\* node"):
        path_product([y, square])
    with pytest.raises(ValueError, match=r"'x' is an input of the unlabelled \* node 2 times"):
        path_product([x, square])


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_diamond_chain_bad_n(n):
    with pytest.raises(ValueError, match="n must be a whole number >= 1"):
        diamond_chain(n)


# ---------------------------------------------------------------------------------------
# Figures


def square_of_sum():
    x, y = Value(1.0, "x"), Value(2.0, "y")
    t = x + y
    t.label = "t"
    z = t ** 2
    z.label = "z"
    return z


def neuron():
    x1, x2, w1, w2, b = (Value(v, name) for v, name in
                         [(2.0, "x1"), (-1.0, "x2"), (0.5, "w1"), (1.5, "w2"), (0.3, "b")])
    out = (w1 * x1 + w2 * x2 + b).sigmoid()
    out.label = "out"
    return out


def twenty_nodes():
    x, y, w, b = Value(1.5, "x"), Value(2.0, "y"), Value(-0.8, "w"), Value(0.4, "b")
    z = w * x + b
    a = z.tanh()
    error = a - y
    loss = error ** 2 / 2 + 0.1 * w * w + (x * x).log() - b.exp()
    loss.label = "loss"
    return loss


def x_times_x():
    x = Value(3.0, "x")
    return x * x


def long_labels():
    node = Value(1.0, "a rather long label for one node") * Value(2.0, "another long label")
    node.label = "the product of two long labels"
    return node


GRAPHS = {
    "shopping": lambda: shopping()["total"],
    "shopping with oranges": lambda: shopping(orange_price=15, orange_count=3)["total"],
    "(x + y) ** 2": square_of_sum, "neuron": neuron, "twenty nodes": twenty_nodes,
    "diamond chain": lambda: diamond_chain(3)[1], "x * x": x_times_x,
    "one node": lambda: Value(3.0, "alone"), "long labels": long_labels,
    "unlabelled": lambda: Value(2.0) * Value(3.0) - 1,
}


def boxes_of(ax):
    return [patch for patch in ax.patches if isinstance(patch, FancyBboxPatch)]


@pytest.mark.parametrize("layout", ["across", "down"])
@pytest.mark.parametrize("show_grad", [True, False])
@pytest.mark.parametrize("name", GRAPHS)
def test_draw_graph(name, show_grad, layout):
    out = GRAPHS[name]()
    out.backward()
    nodes = topological_order(out)
    open_before = plt.get_fignums()
    fig = draw_graph(out, show_grad=show_grad, layout=layout)
    assert isinstance(fig, Figure) and plt.get_fignums() == open_before
    fig.savefig(io.BytesIO(), format="png")
    ax = fig.axes[0]
    assert ax.get_title()
    texts = [text for text in ax.texts if not isinstance(text, Annotation)]
    values = [t for t in texts if t.get_text().startswith("value ")]
    grads = [t for t in texts if t.get_text().startswith("grad ")]
    assert len(values) == len(nodes) and len(grads) == (len(nodes) if show_grad else 0)
    # the lines' hues, dark enough for text
    assert {t.get_color() for t in values} == {TEXT_PALETTE["forward"]}
    assert {t.get_color() for t in grads} <= {TEXT_PALETTE["backward"]}
    assert any("value:" in t.get_text() for t in texts)  # the caption says what each word is
    assert any("grad:" in t.get_text() for t in texts) == show_grad
    if show_grad:
        assert sorted(float(t.get_text().split()[1]) for t in grads) == pytest.approx(
            sorted(float(f"{node.grad:.4g}") for node in nodes))
    arrows = [text for text in ax.texts if isinstance(text, Annotation)]
    assert len(arrows) == sum(len(node.inputs) for node in nodes)  # one arrow per edge
    for arrow in arrows:  # edges run towards the output: left to right, or down
        if layout == "across":
            assert arrow.xy[0] > arrow.xyann[0]
        else:
            assert arrow.xy[1] < arrow.xyann[1]
    # Readable: no two boxes overlap, and every line of a node's text sits inside a box.
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [box.get_window_extent(renderer) for box in boxes_of(ax)]
    assert len(boxes) == len(nodes)
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1:])
    # Edges run between boxes, never through one.
    inside = [(box.get_x() + 1e-6, box.get_x() + box.get_width() - 1e-6, box.get_y() + 1e-6,
               box.get_y() + box.get_height() - 1e-6) for box in boxes_of(ax)]
    segments = [(arrow.xyann, arrow.xy) for arrow in arrows]
    for line in ax.get_lines():
        points = line.get_xydata()
        segments += list(zip(points, points[1:], strict=False))
    for start, end in segments:
        for t in np.linspace(0, 1, 41):
            px, py = (1 - t) * np.asarray(start) + t * np.asarray(end)
            assert not any(x0 < px < x1 and y0 < py < y1 for x0, x1, y0, y1 in inside)
    for text in values + grads + [t for t in texts if t.get_fontweight() == "bold"]:
        extent = text.get_window_extent(renderer)
        assert any(box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0
                   and extent.y1 <= box.y1 for box in boxes), text.get_text()


@pytest.mark.parametrize("name", ["shopping with oranges", "(x + y) ** 2", "neuron",
                                  "x * x", "diamond chain"])
def test_draw_graph_edge_labels_show_every_local_derivative(name):
    out = GRAPHS[name]()
    out.backward()
    nodes = topological_order(out)
    ax = draw_graph(out, edge_labels=True).axes[0]
    labels = [t for t in ax.texts if not isinstance(t, Annotation) and t.get_bbox_patch()]
    assert sorted(float(t.get_text()) for t in labels) == pytest.approx(
        sorted(float(f"{g:.3g}") for node in nodes for g in node.local_grads))
    assert any("local derivative" in t.get_text() for t in ax.texts)
    canvas = FigureCanvasAgg(ax.figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [box.get_window_extent(renderer) for box in boxes_of(ax)]
    for label in labels:  # a label sits on its arrow, outside every box
        extent = label.get_bbox_patch().get_window_extent(renderer)
        assert not any(extent.overlaps(box) for box in boxes), label.get_text()


@pytest.mark.parametrize("name", GRAPHS)
def test_draw_graph_fits_a_desktop_and_serves_phones_a_narrower_version(name):
    """auto: a graph too wide for a desktop's column is drawn down; one wider than a phone's
    column carries a version drawn down for phones where that is narrower."""
    out = GRAPHS[name]()
    out.backward()
    across = draw_graph(out, edge_labels=True, layout="across").get_size_inches()[0]
    down = draw_graph(out, edge_labels=True, layout="down").get_size_inches()[0]
    fig = draw_graph(out, edge_labels=True)
    width = fig.get_size_inches()[0]
    assert width == (across if across <= DESKTOP_WIDTH else min(across, down))
    phone = getattr(fig, "bp_phone", None)
    if width > PHONE_WIDTH and down < width:
        assert phone is not None and phone.get_size_inches()[0] == down
        assert phone.bp_alt == fig.bp_alt  # what it says holds for both
    else:
        assert phone is None
    with pytest.raises(ValueError, match="layout must be"):
        draw_graph(out, layout="sideways")


def test_draw_graph_names_powers_in_words():
    t = Value(3.0, "t")
    out = t ** 2 + t ** 0.5
    out.backward()
    texts = [text.get_text() for text in draw_graph(out).axes[0].texts]
    assert "square" in texts and "power 0.5" in texts
    assert not any("**" in text for text in texts)


def test_draw_graph_title_and_errors():
    out = square_of_sum()
    title = draw_graph(out, show_grad=False, title="t = x + y, z = t²").axes[0].title
    # the ² drawn by mathtext, large enough that it is 9 pt too
    assert title.get_text() == "t = x + y, z = t$^{2}$" and text_size(title) >= 9
    with pytest.raises(ValueError, match=r"call output.backward\(\) first, or draw with "
                                         "show_grad=False"):
        draw_graph(out)
    with pytest.raises(ValueError, match="needs one scalar output"):
        draw_graph([out, out], show_grad=False)


def test_plot_path_costs():
    open_before = plt.get_fignums()
    fig = plot_path_costs(path_cost_table(range(1, 8), repeats=1))
    assert isinstance(fig, Figure) and plt.get_fignums() == open_before
    fig.savefig(io.BytesIO(), format="png")
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() and ax.get_yscale() == "log"
    styles = [(line.get_linestyle(), line.get_marker()) for line in ax.get_lines()]
    assert len(styles) == 3 and len(set(styles)) == 3  # told apart without colour
    assert list(ax.get_lines()[0].get_ydata()) == [2 ** n for n in range(1, 8)]
    with pytest.raises(ValueError, match="at least one row"):
        plot_path_costs([])
