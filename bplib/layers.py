"""Chapter 3: a network as a composition of layers, x^1 -> f^1 -> ... -> f^L -> x^(L+1) -> z.

Every layer is an object with two methods (Saito, *Deep Learning from Scratch*, ch. 5):
``forward(x)`` returns the layer's output and keeps what the backward pass will need, and
``backward(upstream)`` takes dz/d(output), returns dz/d(input), and stores the gradients of
the layer's own parameters (``Linear.dW``, ``Linear.db``). These are the seed's two
recursions (after Wu Jianxin's notes): dz/dw^i = dz/dx^(i+1) dx^(i+1)/dw^i, and
dz/dx^i = dz/dx^(i+1) dx^(i+1)/dx^i. ``jvp(tangent)`` pushes a derivative forwards instead,
for the forward-mode comparison.

Batch convention, the same in the whole course: one example per **column**. A batch ``x``
has shape ``(n_features, batch)``, ``W`` has shape ``(n_out, n_in)`` and ``b`` shape
``(n_out, 1)``, so a layer computes ``W x + b`` as written in Nielsen and in the seeds
(``Z = W A + b``), and a column is one example's activation vector, the x^i of the
derivation. ``bplib.network`` uses the same convention, and
``Sequential.from_params(params)`` builds its sigmoid network from the same ``(W, b)`` list.
"""

import numbers

import numpy as np

from .graph import Value, topological_order


def _check_batch(name, array, n_rows=None):
    """array as floats, or a clear error if it is not a finite (n_rows, batch) batch."""
    array = np.asarray(array, dtype=float)
    if array.ndim != 2 or array.shape[1] == 0 or (n_rows is not None and array.shape[0] != n_rows):
        expected = f"({'n' if n_rows is None else n_rows}, batch)"
        raise ValueError(f"{name} expected shape {expected}, one example per column, "
                         f"got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _check_upstream(array, shape):
    """An upstream gradient must have the shape of the output it belongs to."""
    if shape is None:
        raise RuntimeError("call forward() first: backward() uses what forward() kept")
    array = np.asarray(array, dtype=float)
    if array.shape != shape:
        raise ValueError(f"upstream must have the shape of the layer's output {shape}, "
                         f"got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("upstream contains NaN or infinity")
    return array


def _buffer(array):
    """The array that owns the memory behind `array` (a view keeps its whole base alive)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def unique_bytes(arrays):
    """Bytes of the memory the arrays hold, each buffer counted once: a Linear's kept input
    is often the very array the Tanh before it kept as its output, and a checkpoint is the
    array its segment's first layer keeps. Arrays are the same buffer when they share an
    owner (`_buffer`); None entries are skipped."""
    buffers = {}
    for array in arrays:
        if array is not None:
            owner = _buffer(array)
            buffers[id(owner)] = owner
    return sum(owner.nbytes for owner in buffers.values())


class Layer:
    """What every layer shares: the names of what forward keeps, and its size in bytes."""

    kept = ()

    def __init__(self):
        for name in self.kept:
            setattr(self, name, None)

    def kept_arrays(self):
        """The arrays this layer holds for its backward pass right now."""
        return [getattr(self, name) for name in self.kept if getattr(self, name) is not None]

    def stored_bytes(self):
        """Bytes of the arrays this layer holds for its backward pass right now."""
        return unique_bytes(self.kept_arrays())

    def forget(self):
        """Drop what forward kept (gradient checkpointing recomputes it later)."""
        for name in self.kept:
            setattr(self, name, None)


class Linear(Layer):
    """x -> W x + b. Keeps its input x, because dz/dW = dz/d(out) x^T."""

    kept = ("x",)

    def __init__(self, W, b):
        super().__init__()
        self.W = _check_batch("W", W)
        self.b = _check_batch("b", b, self.W.shape[0])
        if self.b.shape[1] != 1:
            raise ValueError(f"b expected shape ({self.W.shape[0]}, 1), got {self.b.shape}")
        self.dW = self.db = None

    @classmethod
    def random(cls, n_in, n_out, rng):
        """W ~ N(0, 1/n_in), b ~ N(0, 0.1^2): small random layers for examples and tests."""
        return cls(rng.normal(0, 1 / np.sqrt(n_in), (n_out, n_in)),
                   rng.normal(0, 0.1, (n_out, 1)))

    def __repr__(self):
        return f"Linear({self.W.shape[1]} -> {self.W.shape[0]})"

    def forward(self, x):
        self.x = _check_batch("Linear input", x, self.W.shape[1])
        return self.W @ self.x + self.b

    def backward(self, upstream):
        if self.x is None:
            raise RuntimeError("call forward() first: Linear.backward needs the input x")
        upstream = _check_upstream(upstream, (self.W.shape[0], self.x.shape[1]))
        self.dW = upstream @ self.x.T
        self.db = upstream.sum(axis=1, keepdims=True)  # b is added to every example
        return self.W.T @ upstream

    def jvp(self, tangent):
        """d out / d x times a tangent: forward mode, one example or a batch of tangents."""
        return self.W @ tangent

    def vjp(self, upstream):
        """upstream times d out / d x, the input part of backward alone (no checks, no dW)."""
        return self.W.T @ upstream

    def jacobian(self):
        """d out / d x for one example: the matrix W itself."""
        return self.W.copy()


class _Elementwise(Layer):
    """A function applied to every entry; d out / d x is a diagonal, kept as a vector."""

    def backward(self, upstream):
        slope = self._slope()
        return _check_upstream(upstream, None if slope is None else slope.shape) * slope

    def jvp(self, tangent):
        return self._slope() * tangent

    def vjp(self, upstream):
        return self._slope() * upstream

    def jacobian(self):
        slope = self._slope()
        if slope.shape[1] != 1:
            raise ValueError("jacobian() is for one example: forward a single column first")
        return np.diag(slope[:, 0])


class Sigmoid(_Elementwise):
    """out = 1 / (1 + e^-x). Keeps its output: sigma' = out (1 - out)."""

    kept = ("out",)

    def forward(self, x):
        x = _check_batch("Sigmoid input", x)
        out = np.exp(-np.logaddexp(0.0, -x))  # 1 / (1 + e^-x) with no overflow
        self.out = out
        return out

    def _slope(self):
        return None if self.out is None else self.out * (1 - self.out)


class Tanh(_Elementwise):
    """out = tanh x. Keeps its output: tanh' = 1 - out^2."""

    kept = ("out",)

    def forward(self, x):
        out = np.tanh(_check_batch("Tanh input", x))
        self.out = out
        return out

    def _slope(self):
        return None if self.out is None else 1 - self.out ** 2


class ReLU(_Elementwise):
    """out = max(x, 0). Keeps one bit per entry, where x > 0 (the slope there is 1)."""

    kept = ("positive",)

    def forward(self, x):
        x = _check_batch("ReLU input", x)
        self.positive = x > 0
        return np.where(self.positive, x, 0.0)

    def _slope(self):
        return None if self.positive is None else self.positive.astype(float)


class Loss(Layer):
    """The last function, z = loss(prediction, target): one number, a mean over the batch."""

    kept = ("prediction", "target")

    def forward(self, prediction, target):
        self.prediction = _check_batch("prediction", prediction)
        self.target = _check_batch("target", target, self.prediction.shape[0])
        if self.target.shape != self.prediction.shape:
            raise ValueError(f"target must have the prediction's shape "
                             f"{self.prediction.shape}, got {self.target.shape}")
        return float(self._value())

    def backward(self, upstream=1.0):
        """dz/d(prediction), times upstream (1 when z is the loss itself)."""
        if self.prediction is None:
            raise RuntimeError("call forward() first: a loss needs its prediction and target")
        if not (isinstance(upstream, numbers.Real) and np.isfinite(upstream)):
            raise ValueError(f"a loss is one number, so upstream is one number, got {upstream!r}")
        return upstream * self._grad() / self.prediction.shape[1]


class SquaredError(Loss):
    """z = sum((p - y)^2) / (2 batch): bplib.network's quadratic cost."""

    def _value(self):
        return np.sum((self.prediction - self.target) ** 2) / (2 * self.prediction.shape[1])

    def _grad(self):
        return self.prediction - self.target


class BinaryCrossEntropy(Loss):
    """z = -sum(y log p + (1 - y) log(1 - p)) / batch, for probabilities 0 < p < 1."""

    def forward(self, prediction, target):
        prediction = np.asarray(prediction, dtype=float)
        if np.any((prediction <= 0) | (prediction >= 1)):
            raise ValueError("binary cross-entropy needs probabilities strictly between 0 and "
                             "1 (log 0 is -inf); a sigmoid output is one")
        return super().forward(prediction, target)

    def _value(self):
        p, y = self.prediction, self.target
        return -np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)) / p.shape[1]

    def _grad(self):
        p, y = self.prediction, self.target
        return (p - y) / (p * (1 - p))


def log_sum_exp(z):
    """log sum_k e^z_k down each column, shifted by the column's maximum so no e^z overflows."""
    top = z.max(axis=0, keepdims=True)
    return top + np.log(np.sum(np.exp(z - top), axis=0, keepdims=True))


class SoftmaxCrossEntropy(Loss):
    """z = mean over columns of -sum_k y_k log softmax(s)_k, from the scores s (logits).

    -log softmax(s)_k = log_sum_exp(s) - s_k, so no probability is ever rounded to 0
    before its log is taken. For targets y whose columns add up to 1 the gradient is
    softmax(s) - y per column.
    """

    def _value(self):
        s, y = self.prediction, self.target
        return np.sum(y * (log_sum_exp(s) - s)) / s.shape[1]

    def _grad(self):
        s, y = self.prediction, self.target
        softmax = np.exp(s - log_sum_exp(s))
        return softmax * y.sum(axis=0, keepdims=True) - y


class Sequential:
    """Layers applied one after the other; backward runs them in reverse order."""

    def __init__(self, layers):
        self.layers = list(layers)
        if not self.layers or not all(hasattr(layer, "backward") for layer in self.layers):
            raise ValueError("Sequential needs a non-empty list of layers")

    @classmethod
    def from_params(cls, params, activation=Sigmoid):
        """The network of bplib.network: Linear(W, b) and an activation per (W, b) pair."""
        return cls([layer for W, b in params for layer in (Linear(W, b), activation())])

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, upstream):
        """dz/dx^1, from dz/d(output): each layer turns dz/dx^(i+1) into dz/dx^i."""
        for layer in reversed(self.layers):
            upstream = layer.backward(upstream)
        return upstream

    def jvp(self, tangent):
        """Forward mode: push d x^1 through every layer's Jacobian."""
        for layer in self.layers:
            tangent = layer.jvp(tangent)
        return tangent

    def vjp(self, upstream):
        """Reverse mode for the input alone: backward without the parameters' gradients."""
        for layer in reversed(self.layers):
            upstream = layer.vjp(upstream)
        return upstream

    def linears(self):
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    def kept_arrays(self):
        return [array for layer in self.layers for array in layer.kept_arrays()]

    def stored_bytes(self):
        """Bytes the layers hold for the backward pass, each buffer once: the input a
        Linear keeps is the output the activation before it keeps, one array, not two."""
        return unique_bytes(self.kept_arrays())


def explicit_jacobian_gradient(net, x, upstream):
    """dz/dx for one example x by forming every layer's Jacobian and multiplying them,
    last layer first: upstream^T J_L ... J_1, the product that backward never builds."""
    net.forward(_check_batch("x", x))
    if x.shape[1] != 1:
        raise ValueError("explicit Jacobians are for one example: x must have one column")
    product = None
    for layer in reversed(net.layers):
        jacobian = layer.jacobian()
        product = jacobian if product is None else product @ jacobian
    return (np.asarray(upstream, dtype=float).T @ product).T


def input_gradient(net, x, upstream):
    """upstream^T d out / d x by vector-Jacobian products alone: what backward does for
    the input, without the parameters' gradients (for a like-for-like comparison)."""
    net.forward(x)
    return net.vjp(upstream)


def jacobian_by_sweeps(net, x, mode):
    """(the whole Jacobian d out / d x at one example x, the number of sweeps) by forward
    mode (one jvp per input: a column each) or reverse mode (one vjp per output: a row)."""
    x = _check_batch("x", x)
    if x.shape[1] != 1:
        raise ValueError("x must be one example, one column")
    n_out = net.forward(x).shape[0]
    if mode == "forward":
        columns = [net.jvp(unit) for unit in np.eye(x.shape[0])[:, :, None]]
        return np.hstack(columns), len(columns)
    if mode == "reverse":
        rows = [net.vjp(unit).T for unit in np.eye(n_out)[:, :, None]]
        return np.vstack(rows), len(rows)
    raise ValueError(f"mode must be 'forward' or 'reverse', got {mode!r}")


def checkpointed_gradient(net, loss, x, y, every):
    """One forward and backward pass that keeps only every `every`-th layer's input
    (a checkpoint, Chen et al. 2016) and recomputes a segment's stored values just before
    its backward pass; the last segment keeps them, as its backward comes at once.
    Returns (dz/dx, measured costs): the most bytes held at any time (checkpoints, what
    the layers keep and the newest output, each buffer counted once: a checkpoint is the
    array its segment's first layer keeps) and how many layer forwards were computed a
    second time."""
    if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
        raise ValueError(f"every must be a whole number >= 1, got {every!r}")
    layers = net.layers
    for layer in layers:  # whatever an earlier pass left behind is not ours to count
        layer.forget()
    starts = list(range(0, len(layers), every))
    checkpoints, peak, recomputed = {}, 0, 0
    held = lambda: unique_bytes([*checkpoints.values(), *net.kept_arrays(), out])  # noqa: E731
    out = _check_batch("x", x)
    for start in starts:
        checkpoints[start] = out
        for layer in layers[start:start + every]:
            out = layer.forward(out)
            peak = max(peak, held())
            if start != starts[-1]:
                layer.forget()
    z = loss.forward(out, y)
    upstream = loss.backward()
    for start in reversed(starts):
        segment = layers[start:start + every]
        out = checkpoints.pop(start)
        if start != starts[-1]:
            for layer in segment:  # the recomputation: this segment's stored values, again
                out = layer.forward(out)
                recomputed += 1
                peak = max(peak, held())
        for layer in reversed(segment):
            upstream = layer.backward(upstream)
            layer.forget()
    return upstream, {"loss": z, "peak_bytes": peak, "recomputed": recomputed}


def value_graph_gradients(params, x, y, activation="sigmoid"):
    """The same network built from chapter 2's scalar Values, one node per number:
    (loss, [(dz/dW, dz/db), ...], number of nodes) for bplib.network's quadratic cost."""
    x, y = _check_batch("x", x), _check_batch("y", y)
    weights = [[[Value(w) for w in row] for row in W] for W, _ in params]
    biases = [[Value(bias) for bias in b[:, 0]] for _, b in params]
    total = Value(0.0)
    for column in range(x.shape[1]):
        a = [Value(v) for v in x[:, column]]
        for W, b in zip(weights, biases, strict=True):
            a = [getattr(sum((w * v for w, v in zip(row, a, strict=True)), bias), activation)()
                 for row, bias in zip(W, b, strict=True)]
        total = total + sum((out - target) ** 2
                            for out, target in zip(a, y[:, column], strict=True))
    z = total / (2 * x.shape[1])
    z.backward()
    grads = [(np.array([[w.grad for w in row] for row in W]),
              np.array([[bias.grad] for bias in b])) for W, b in zip(weights, biases, strict=True)]
    return z.data, grads, len(topological_order(z))
