"""Chapter 2: the chain rule on computational graphs.

A `Value` holds one number and remembers how it was computed: the Values it came from
(`inputs`) and, for each of them, the local derivative d self / d input (`local_grads`),
worked out in the forward pass. `backward()` then walks the graph once, from the output
back to the inputs, multiplying and adding those local derivatives (the chain rule) so
that every node's `grad` is d output / d node. Karpathy's micrograd does the same.

The path view says the same thing another way: d output / d node is the sum, over every
path from the node to the output, of the product of the local derivatives along it.
`diamond_chain` builds a graph with 2^n such paths that backward handles in a few steps.

`AddLayer` and `MulLayer` are the same gates as layers with forward and backward methods
(Saito, ch. 5), and `shopping` builds the seed's shopping graphs.
"""

import math
import numbers

import numpy as np

from .timing import best_time


def _describe(thing):
    if isinstance(thing, np.ndarray):
        return f"an array of shape {thing.shape}"
    return f"a {type(thing).__name__} ({thing!r})"


def _is_number(thing):
    return isinstance(thing, numbers.Real) and not isinstance(thing, (bool, np.ndarray))


def _check_number(data, what):
    """data as a float, or a clear error if it is not one finite number."""
    if not _is_number(data):
        raise TypeError(f"{what} holds one number; got {_describe(data)}")
    if not math.isfinite(data):
        raise ValueError(f"{what} holds one finite number; got {float(data)}")
    return float(data)


def _name(node):
    return repr(node.label) if node.label else f"the unlabelled {node.op or 'input'} node"


class Value:
    """One number in a computational graph, with its gradient d output / d self."""

    # Makes numpy hand `array + Value` to Value.__radd__ (a clear error) instead of
    # building an array of Values, one per element.
    __array_ufunc__ = None

    def __init__(self, data, label="", op="", inputs=(), local_grads=()):
        self.data = _check_number(data, "a Value")
        self.grad = 0.0
        self.label = str(label)
        self.op = op
        self.inputs = tuple(inputs)
        self.local_grads = tuple(float(g) for g in local_grads)

    def __repr__(self):
        return f"Value(data={self.data:g}, grad={self.grad:g}, label={self.label!r})"

    @staticmethod
    def _as_value(other):
        """A Value as it is; a number becomes a constant node labelled by the number."""
        if isinstance(other, Value):
            return other
        if not _is_number(other):
            raise TypeError(f"cannot combine a Value with {_describe(other)}: "
                            "use a number or a Value")
        return Value(other, label=repr(other.item() if isinstance(other, np.generic) else other))

    # Each operation returns its result together with d result / d input for each input.
    def __add__(self, other):
        other = self._as_value(other)
        return Value(self.data + other.data, op="+", inputs=(self, other), local_grads=(1, 1))

    def __sub__(self, other):
        other = self._as_value(other)
        return Value(self.data - other.data, op="-", inputs=(self, other), local_grads=(1, -1))

    def __mul__(self, other):
        other = self._as_value(other)
        return Value(self.data * other.data, op="*", inputs=(self, other),
                     local_grads=(other.data, self.data))

    def __truediv__(self, other):
        other = self._as_value(other)
        if other.data == 0:
            raise ZeroDivisionError(f"division by zero: {_name(other)} is 0")
        return Value(self.data / other.data, op="/", inputs=(self, other),
                     local_grads=(1 / other.data, -self.data / other.data ** 2))

    def __radd__(self, other):  # number + Value
        return self._as_value(other) + self

    def __rsub__(self, other):
        return self._as_value(other) - self

    def __rmul__(self, other):
        return self._as_value(other) * self

    def __rtruediv__(self, other):
        return self._as_value(other) / self

    def __neg__(self):
        return Value(-self.data, op="neg", inputs=(self,), local_grads=(-1,))

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            raise TypeError("only number exponents are supported (x ** 2, x ** 0.5), not a "
                            "Value: for x ** y write (y * x.log()).exp()")
        n = _check_number(exponent, "an exponent")
        if self.data < 0 and not n.is_integer():
            raise ValueError(f"{_name(self)} is {self.data:g}: a negative number has no real "
                             f"power {n:g}")
        if self.data == 0 and n < 1 and n != 0:
            raise ZeroDivisionError(f"{_name(self)} is 0, where x ** {n:g} or its derivative "
                                    "divides by zero")
        return Value(self.data ** n, op=f"**{exponent:g}", inputs=(self,),
                     local_grads=(n * self.data ** (n - 1) if n != 0 else 0.0,))

    def __rpow__(self, base):
        raise TypeError("only number exponents are supported, not a Value: "
                        "for 2 ** x write (x * math.log(2)).exp()")

    def exp(self):
        out = math.exp(self.data)
        return Value(out, op="exp", inputs=(self,), local_grads=(out,))

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, but {_name(self)} is {self.data:g}")
        return Value(math.log(self.data), op="log", inputs=(self,), local_grads=(1 / self.data,))

    def tanh(self):
        out = math.tanh(self.data)
        return Value(out, op="tanh", inputs=(self,), local_grads=(1 - out ** 2,))

    def sigmoid(self):
        # Written so that exp never overflows: e^-|x| <= 1.
        e = math.exp(-abs(self.data))
        out = 1 / (1 + e) if self.data >= 0 else e / (1 + e)
        return Value(out, op="sigmoid", inputs=(self,), local_grads=(out * (1 - out),))

    def relu(self):
        return Value(max(self.data, 0.0), op="relu", inputs=(self,),
                     local_grads=(float(self.data > 0),))

    def backward(self):
        """Set every node's grad to d self / d node: the chain rule, output to inputs."""
        order = topological_order(self)
        for node in order:
            node.grad = 0.0  # so that a second call gives the same result, not twice it
        self.grad = 1.0
        for node in reversed(order):
            for inp, local_grad in zip(node.inputs, node.local_grads, strict=True):
                inp.grad += local_grad * node.grad  # += : a node used twice gets both parts


def _check_output(output):
    if isinstance(output, (list, tuple, np.ndarray)):
        raise ValueError(f"backward() needs one scalar output, got a {type(output).__name__} "
                         f"of {np.size(output)} outputs: add the outputs into one Value first, "
                         "e.g. sum(outputs)")
    if not isinstance(output, Value):
        raise TypeError(f"output must be a Value, got a {type(output).__name__} ({output!r})")


def topological_order(output):
    """Every node output depends on, each after all of its inputs (so inputs first)."""
    _check_output(output)
    order, seen, stack = [], set(), [(output, False)]
    while stack:  # a depth-first search with its own stack: no recursion limit on deep graphs
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((inp, False) for inp in reversed(node.inputs))
    return order


def _check_in_graph(output, nodes):
    order = topological_order(output)
    in_graph = set(order)
    for node in nodes:
        if not isinstance(node, Value):
            raise TypeError(f"expected a Value, got a {type(node).__name__} ({node!r})")
        if node not in in_graph:
            raise ValueError(f"{_name(node)} is not in the graph of {_name(output)}: "
                             "the output does not depend on it")
    return order


def gradients(output, wrt):
    """[d output / d node for node in wrt], by one backward pass."""
    if not isinstance(wrt, (list, tuple)):
        raise TypeError(f"wrt must be a list of Values, got a {type(wrt).__name__}")
    _check_in_graph(output, wrt)
    output.backward()
    return [node.grad for node in wrt]


class Path(list):
    """A path's nodes, node first. `slots[i]` says which input of path[i + 1] path[i] is:
    in x * x, x reaches the product along two edges, so two paths differ only there."""

    def __init__(self, nodes, slots):
        super().__init__(nodes)
        self.slots = tuple(slots)


def paths(output, node):
    """Every path from node to output, each a list of nodes, node first. Where a node
    uses an input twice (x * x), each of the two edges makes its own path."""
    order = _check_in_graph(output, [node])
    depends_on_node = {node}  # only these can lie on a path from node
    for later in order:
        if any(inp in depends_on_node for inp in later.inputs):
            depends_on_node.add(later)
    # Walk back from the output. A step is (a node, which input of the next node it is,
    # the step of the next node), so each partial path shares the steps it came along.
    found, stack = [], [(output, None, None)]
    while stack:
        step = stack.pop()
        if step[0] is node:
            nodes, slots = [], []
            while step is not None:
                nodes.append(step[0])
                slots.append(step[1])
                step = step[2]
            found.append(Path(nodes, slots[:-1]))
            continue
        for slot in reversed(range(len(step[0].inputs))):
            if step[0].inputs[slot] in depends_on_node:
                stack.append((step[0].inputs[slot], slot, step))
    return found


def path_product(path):
    """The product of the local derivatives along a path (from `paths`, or a list of nodes
    in which no node is used twice by the next one)."""
    product = 1.0
    for i, (node, user) in enumerate(zip(path, path[1:], strict=False)):
        if isinstance(path, Path):
            uses = [path.slots[i]]
        else:
            uses = [slot for slot, inp in enumerate(user.inputs) if inp is node]
        if not uses:
            raise ValueError(f"{_name(node)} is not an input of {_name(user)}: not a path")
        if len(uses) > 1:
            raise ValueError(f"{_name(node)} is an input of {_name(user)} {len(uses)} times, "
                             "not once: pass a path from paths(), which says which edge")
        product *= user.local_grads[uses[0]]
    return product


def path_sum_gradient(output, node):
    """d output / d node as the sum over paths of the product of local derivatives."""
    return sum(path_product(path) for path in paths(output, node))


def forward_sweep(output, seed):
    """{node: d node / d seed} for every node output depends on: forward mode, one sweep.

    It reads the same local derivatives as backward(), in the other direction: a node's
    tangent is the sum over its inputs of local derivative times the input's tangent. One
    sweep gives every node's derivative with respect to ONE input (the seed); backward()
    gives ONE output's derivative with respect to every node.
    """
    order = _check_in_graph(output, [seed])
    tangent = {}
    for node in order:
        tangent[node] = 1.0 if node is seed else sum(
            local_grad * tangent[inp]
            for inp, local_grad in zip(node.inputs, node.local_grads, strict=True))
    return tangent


def _check_count(name, value, smallest):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < smallest:
        raise ValueError(f"{name} must be a whole number >= {smallest}, got {value!r}")


def diamond_chain(n):
    """(x, out) for n diamonds in a row: v -> a = 0.5 v and b = 0.7 v -> v' = a + b.

    Each diamond doubles the number of paths from x to out (2^n of them, each 2n edges
    long), while the graph only grows by 6 edges, so backward visits 6n edges.
    """
    _check_count("n", n, 1)
    x = v = Value(1.0, "x")
    for k in range(1, n + 1):
        a, b = v * 0.5, v * 0.7
        a.label, b.label = f"a{k}", f"b{k}"
        v = a + b
        v.label = "out" if k == n else f"v{k}"
    return x, v


def path_cost_table(ns, repeats=3):
    """Sum over paths against backward on diamond_chain(n), one row (a dict) per n."""
    _check_count("repeats", repeats, 1)
    rows = []
    for n in ns:
        x, out = diamond_chain(n)
        found = paths(out, x)
        path_seconds, path_grad = best_time(repeats, path_sum_gradient, out, x)
        backward_seconds, _ = best_time(repeats, out.backward)
        rows.append({"n": n, "paths": len(found),
                     "path_multiplications": sum(len(path) - 1 for path in found),
                     "backward_edges": sum(len(node.inputs) for node in topological_order(out)),
                     "path_seconds": path_seconds, "backward_seconds": backward_seconds,
                     "agree": abs(path_grad - x.grad)})
    return rows


class AddLayer:
    """An addition gate as a layer (Saito, *Deep Learning from Scratch*, ch. 5).

    Its backward needs nothing from the forward pass: it hands the upstream gradient to
    both inputs. It only checks that forward came first, so a mix-up fails loudly.
    """

    def __init__(self):
        self.forward_done = False

    def forward(self, x, y):
        self.forward_done = True
        return x + y

    def backward(self, upstream_grad):
        if not self.forward_done:
            raise RuntimeError("call forward() first: backward() answers a forward pass")
        return upstream_grad, upstream_grad


class MulLayer:
    """A multiplication gate as a layer: it keeps x and y, because d(xy)/dx = y and
    d(xy)/dy = x, so each input's gradient is the upstream gradient times the other input."""

    def __init__(self):
        self.x = self.y = None

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, upstream_grad):
        if self.x is None:
            raise RuntimeError("call forward() first: backward() needs the x and y it saw")
        return upstream_grad * self.y, upstream_grad * self.x


def shopping(apple_price=10, apple_count=2, tax=1.1, orange_price=None, orange_count=None):
    """The shopping graph, {label: Value}: apples (and oranges), then tax on the total.

    Without oranges: total = apple_price * apple_count * tax. With orange_price and
    orange_count: subtotal = apples + oranges, total = subtotal * tax.
    """
    if (orange_price is None) != (orange_count is None):
        raise ValueError("give both orange_price and orange_count, or neither")
    nodes = {"apple price": Value(apple_price, "apple price"),
             "apple count": Value(apple_count, "apple count")}
    nodes["apples"] = bought = nodes["apple price"] * nodes["apple count"]
    if orange_price is not None:
        nodes["orange price"] = Value(orange_price, "orange price")
        nodes["orange count"] = Value(orange_count, "orange count")
        nodes["oranges"] = nodes["orange price"] * nodes["orange count"]
        nodes["subtotal"] = bought = nodes["apples"] + nodes["oranges"]
    nodes["tax"] = Value(tax, "tax")
    nodes["total"] = bought * nodes["tax"]
    for label, node in nodes.items():
        node.label = label
    return nodes
