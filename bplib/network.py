"""A small network, its backpropagation, and a mini-batch trainer.

Chapter 1 uses `backprop` as a black box to time it against finite differences; chapter 5
derives it line by line (Nielsen's BP1-BP4) and trains the network on handwritten digits.

Conventions (Nielsen, *Neural Networks and Deep Learning*, ch. 2): ``params`` is a list
of ``(W, b)`` pairs, one per layer, with ``W`` of shape ``(n_out, n_in)`` and ``b`` of
shape ``(n_out, 1)``; a batch ``x`` has one example per column, shape ``(n_in, batch)``,
and ``y`` has shape ``(n_out, batch)``. The output layer applies the sigmoid; the hidden
layers apply the sigmoid (the default) or, with ``hidden="relu"``, max(z, 0). The cost is
a mean over the batch: the quadratic cost ``C = sum((a_L - y)**2) / (2 * batch)`` (the
default) or, with ``cost="cross-entropy"``, Nielsen's cross-entropy
``C = -sum(y ln a_L + (1 - y) ln(1 - a_L)) / batch``.

The public functions check their input and explain what is wrong; `train` checks once and
then runs `_epoch`, the same arithmetic as `_forward` and `_backprop` without checks, lists
of gradients or copies, once per epoch.
"""

import numbers
from pathlib import Path

import numpy as np


def _as_rng(rng):
    """A numpy Generator from a Generator, an int seed or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator, an int seed or None, got {rng!r}")


def _check_params(params):
    """Raise ValueError unless params is a non-empty chain of matching float (W, b) layers."""
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise ValueError(f"params must be a non-empty list of (W, b) pairs, got {params!r}")
    n_in = None
    for layer, pair in enumerate(params):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"params[{layer}] must be a (W, b) pair, got {pair!r}")
        W, b = pair
        for name, array in (("W", W), ("b", b)):
            if not (isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating)):
                raise ValueError(f"params[{layer}]: {name} must be a float numpy array")
        if W.ndim != 2 or (n_in is not None and W.shape[1] != n_in):
            expected = "(n_out, n_in)" if n_in is None else f"(n_out, {n_in})"
            raise ValueError(f"params[{layer}]: W expected shape {expected}, got {W.shape}")
        if b.shape != (W.shape[0], 1):
            raise ValueError(f"params[{layer}]: b expected shape {(W.shape[0], 1)}, got {b.shape}")
        n_in = W.shape[0]


def _check_batch(name, array, n_rows, batch=None):
    """Return array as floats after checking it is finite with shape (n_rows, batch)."""
    array = np.asarray(array, dtype=float)
    if array.ndim != 2 or array.shape[0] != n_rows or array.shape[1] == 0 or (
            batch is not None and array.shape[1] != batch):
        expected = f"({n_rows}, {'batch' if batch is None else batch})"
        raise ValueError(f"{name} expected shape {expected} (one example per column), "
                         f"got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def init_params(sizes, rng=None):
    """Random layers for layer sizes [n_in, ..., n_out]: W ~ N(0, 1/n_in), b = 0."""
    if len(sizes) < 2 or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1 for n in sizes):
        raise ValueError(f"sizes must list at least two layer sizes >= 1, got {sizes!r}")
    rng = _as_rng(rng)
    return [(rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in)), np.zeros((n_out, 1)))
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False)]


def n_params(params):
    """The number of weights and biases, the N of the chapter's cost comparison."""
    _check_params(params)
    return sum(W.size + b.size for W, b in params)


def sigmoid(z):
    """The logistic function 1 / (1 + e^-z)."""
    with np.errstate(over="ignore"):  # e^-z = inf for z < -709 still gives the right limit, 0
        return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    """The rectified linear unit max(z, 0)."""
    return np.maximum(z, 0.0)


HIDDEN = {"sigmoid": sigmoid, "relu": relu}
COSTS = ("quadratic", "cross-entropy")


def _check_options(cost, hidden):
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    if hidden not in HIDDEN:
        raise ValueError(f"hidden must be one of {tuple(HIDDEN)}, got {hidden!r}")


def _forward(params, x, hidden):
    """`forward` without checks: the activations [x, a1, ..., aL]."""
    activate = HIDDEN[hidden]
    activations = [x]
    for W, b in params[:-1]:
        activations.append(activate(W @ activations[-1] + b))  # a = sigma(W a_prev + b)
    W, b = params[-1]
    activations.append(sigmoid(W @ activations[-1] + b))
    return activations


def _backprop(params, activations, y, cost, hidden):
    """`backprop` without checks, from the activations of `_forward`."""
    output = activations[-1]
    batch = y.shape[1]
    # The 1/batch in every delta comes from the cost being a mean over the batch.
    if cost == "quadratic":
        delta = (output - y) * output * (1 - output) / batch  # BP1
    else:
        delta = (output - y) / batch  # BP1 for cross-entropy: sigma'(z) cancels
    grads = [None] * len(params)
    for layer in range(len(params) - 1, -1, -1):
        a_prev = activations[layer]
        dW = delta @ a_prev.T  # BP4
        db = delta.sum(axis=1, keepdims=True)  # BP3
        grads[layer] = (dW, db)
        if layer > 0:  # the input x needs no delta
            # sigma'(z) from the layer's output a: a (1 - a) for the sigmoid, 1 where a > 0
            # for ReLU (a boolean array multiplies as 0 and 1).
            slope = a_prev * (1 - a_prev) if hidden == "sigmoid" else a_prev > 0
            delta = (params[layer][0].T @ delta) * slope  # BP2
    return grads


def forward(params, x, *, hidden="sigmoid"):
    """The activations [x, a1, ..., aL], with a_l = sigma(W_l a_(l-1) + b_l)."""
    _check_params(params)
    _check_options("quadratic", hidden)
    return _forward(params, _check_batch("x", x, params[0][0].shape[1]), hidden)


def _cost(params, activations, y, cost):
    if cost == "quadratic":
        error = (activations[-1] - y).ravel()
        return float(error @ error) / (2 * y.shape[1])
    # ln a and ln(1 - a) from z itself: a rounds to 1.0 long before ln(1 - a) is -inf.
    W, b = params[-1]
    z = W @ activations[-2] + b
    return float(np.sum(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)) / y.shape[1])


def loss(params, x, y, *, cost="quadratic", hidden="sigmoid"):
    """The cost, a mean over the batch: quadratic or cross-entropy (see the module doc)."""
    _check_options(cost, hidden)
    activations = forward(params, x, hidden=hidden)
    y = _check_batch("y", y, activations[-1].shape[0], activations[-1].shape[1])
    return _cost(params, activations, y, cost)


def backprop(params, x, y, *, cost="quadratic", hidden="sigmoid"):
    """The gradient [(dC/dW, dC/db), ...] of `loss` in one backward pass: Nielsen's BP1-BP4."""
    _check_options(cost, hidden)
    activations = forward(params, x, hidden=hidden)
    y = _check_batch("y", y, activations[-1].shape[0], activations[-1].shape[1])
    return _backprop(params, activations, y, cost, hidden)


def _nudge_each(params, steps, cost, combine):
    """A gradient shaped like params: for every parameter p, the costs with p moved by
    each of `steps` in turn, combined into one estimate. p is nudged in place and then set
    back to its saved value, so params end up exactly as they were."""
    grads = []
    for W, b in params:
        layer_grads = []
        for array in (W, b):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                costs = []
                for step in steps:
                    array[index] = saved + step
                    costs.append(cost())
                array[index] = saved
                grad[index] = combine(costs)
            layer_grads.append(grad)
        grads.append(tuple(layer_grads))
    return grads


def _check_step(h):
    if not (isinstance(h, numbers.Real) and np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a small positive number, got {h!r}")


def numerical_gradient(params, x, y, h=1e-6):
    """Forward differences (C(p + h) - C(p)) / h, one parameter at a time.

    Returns (grads, loss_calls): one call for C(p) and one per parameter, so
    loss_calls == n_params + 1. Each parameter is nudged in place and then set back
    to its saved value, so params end up exactly as they were.
    """
    _check_step(h)
    base = loss(params, x, y)
    calls = [1]

    def cost():
        calls[0] += 1
        return loss(params, x, y)

    grads = _nudge_each(params, (h,), cost, lambda costs: (costs[0] - base) / h)
    return grads, calls[0]


def central_differences(params, x, y, h=1e-5, *, cost="quadratic", hidden="sigmoid"):
    """(C(p + h) - C(p - h)) / 2h for every parameter: 2 N cost evaluations, error ~ h^2."""
    _check_step(h)
    loss(params, x, y, cost=cost, hidden=hidden)  # checks everything once
    return _nudge_each(params, (h, -h), lambda: loss(params, x, y, cost=cost, hidden=hidden),
                       lambda costs: (costs[0] - costs[1]) / (2 * h))


def relative_error(grads, other):
    """|g - g'| / max(|g| + |g'|, tiny) over all entries, one number for two gradients."""
    flat = [np.concatenate([array.ravel() for pair in g for array in pair])
            for g in (grads, other)]
    if flat[0].shape != flat[1].shape:
        raise ValueError("the two gradients have different shapes")
    size = np.linalg.norm(flat[0]) + np.linalg.norm(flat[1])
    return float(np.linalg.norm(flat[0] - flat[1]) / max(size, np.finfo(float).tiny))


def one_hot(labels, n_classes=10):
    """Targets of shape (n_classes, batch): column i is 1 in row labels[i], else 0."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or (
            labels.size and (labels.min() < 0 or labels.max() >= n_classes)):
        raise ValueError(f"labels must be a 1-D array of whole numbers 0..{n_classes - 1}")
    targets = np.zeros((n_classes, labels.size))
    targets[labels, np.arange(labels.size)] = 1.0
    return targets


def predict(params, x, *, hidden="sigmoid"):
    """The class of each column of x: the index of the largest output."""
    return forward(params, x, hidden=hidden)[-1].argmax(axis=0)


def accuracy(params, x, labels, *, hidden="sigmoid"):
    """The fraction of the columns of x whose predicted class is the label."""
    return float(np.mean(predict(params, x, hidden=hidden) == np.asarray(labels)))


DIGITS_FILE = Path(__file__).with_name("data") / "digits.npz"


def _digits_file():
    """(images, labels): the 1,500 digits shipped in bplib/data (see its README), one image
    of 64 pixels 0..16 per row."""
    with np.load(DIGITS_FILE) as data:
        return data["images"].astype(float), data["labels"].astype(int)


def digits(rng=0, validation_size=250, test_size=250):
    """bplib's 1,500 handwritten digits, shuffled and split three ways.

    Returns (x_train, labels_train, x_val, labels_val, x_test, labels_test): x has one
    8 x 8 image per column, 64 pixels scaled from 0..16 to 0..1; labels are the digits 0-9.
    Train on the training split, make every choice (learning rate, epochs, layer sizes) on
    the validation split, and measure the test split once, at the end.
    """
    images, labels = _digits_file()
    for name, size in (("validation_size", validation_size), ("test_size", test_size)):
        if not (isinstance(size, numbers.Integral) and not isinstance(size, bool)
                and size >= 1):
            raise ValueError(f"{name} must be a positive whole number, got {size!r}")
    if validation_size + test_size >= len(labels):
        raise ValueError(f"validation_size + test_size must leave training images: "
                         f"{validation_size} + {test_size} >= {len(labels)}")
    order = _as_rng(rng).permutation(len(labels))
    test = order[:test_size]
    validation = order[test_size:test_size + validation_size]
    train = order[test_size + validation_size:]
    x = images.T / 16.0
    return (x[:, train], labels[train], x[:, validation], labels[validation],
            x[:, test], labels[test])


def standardize(x_train, *others):
    """Shift and scale every pixel (row) by the training set's mean and spread.

    Returns the standardized x_train followed by each of `others` scaled the same way.
    Pixels that hardly vary (the image borders) would blow up, so the spread gets + 0.1.
    """
    mean = x_train.mean(axis=1, keepdims=True)
    spread = x_train.std(axis=1, keepdims=True) + 0.1
    return tuple((x - mean) / spread for x in (x_train, *others))


def _positive(name, value, integral):
    kind = numbers.Integral if integral else numbers.Real
    if not (isinstance(value, kind) and not isinstance(value, bool) and np.isfinite(value)
            and value > 0):
        raise ValueError(f"{name} must be a positive {'whole ' if integral else ''}number, "
                         f"got {value!r}")


def train(params, x, y, *, epochs, batch_size, learning_rate, rng=None, cost="quadratic",
          hidden="sigmoid", x_val=None, labels_val=None):
    """Mini-batch stochastic gradient descent: returns (trained params, history).

    Each epoch shuffles the training columns (with `rng`), cuts them into mini-batches of
    `batch_size` and takes one step W := W - learning_rate * dC/dW per mini-batch. The
    params passed in are left unchanged. history["loss"] holds each epoch's training cost,
    the mean over its mini-batches as they were met; with a validation set (x_val,
    labels_val), history["val_accuracy"] holds its accuracy after each epoch.
    """
    _check_params(params)
    _check_options(cost, hidden)
    x = _check_batch("x", x, params[0][0].shape[1])
    y = _check_batch("y", y, params[-1][0].shape[0], x.shape[1])
    _positive("epochs", epochs, integral=True)
    _positive("batch_size", batch_size, integral=True)
    _positive("learning_rate", learning_rate, integral=False)
    validating = x_val is not None or labels_val is not None
    if validating:
        x_val = _check_batch("x_val", x_val, x.shape[0])
        labels_val = np.asarray(labels_val)
        if labels_val.shape != (x_val.shape[1],):
            raise ValueError(f"labels_val expected shape ({x_val.shape[1]},), "
                             f"got {labels_val.shape}")
    rng = _as_rng(rng)
    params = [(W.astype(float), b.astype(float)) for W, b in params]  # copies
    history = {"loss": [], **({"val_accuracy": []} if validating else {})}
    # One example per row, so that a shuffle copies whole rows; its transpose is then
    # column-major, and every mini-batch a contiguous block of memory.
    rows_x, rows_y = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)
    with np.errstate(over="ignore"):  # sigmoid: e^-z = inf still gives the right limit, 0
        for _ in range(epochs):
            order = rng.permutation(x.shape[1])
            total = _epoch(params, rows_x[order].T, rows_y[order].T, batch_size,
                           learning_rate, cost, hidden)
            history["loss"].append(total / x.shape[1])
            if validating:
                predicted = _forward(params, x_val, hidden)[-1].argmax(axis=0)
                history["val_accuracy"].append(float(np.mean(predicted == labels_val)))
    return params, history


def _epoch(params, x, y, batch_size, learning_rate, cost, hidden):
    """One epoch of `train` over the columns of x in order, updating params in place.

    Returns the sum over mini-batches of cost * batch. The same arithmetic as `_forward`,
    `_cost` and `_backprop`, written out for speed: this loop runs once per mini-batch, so
    it checks nothing, builds no lists of gradients, and updates each layer as soon as its
    delta for the layer below is known (BP2 needs the weights before their step).
    """
    relu_hidden, quadratic = hidden == "relu", cost == "quadratic"
    last = len(params) - 1
    total = 0.0
    for start in range(0, x.shape[1], batch_size):
        a = x[:, start:start + batch_size]
        t = y[:, start:start + batch_size]
        activations = [a]
        for W, b in params[:last]:
            z = W @ a + b
            a = np.maximum(z, 0.0) if relu_hidden else 1.0 / (1.0 + np.exp(-z))
            activations.append(a)
        W, b = params[last]
        z = W @ a + b
        output = 1.0 / (1.0 + np.exp(-z))
        error = output - t
        if quadratic:
            total += 0.5 * float(np.vdot(error, error))
            delta = error * output * (1.0 - output) / t.shape[1]  # BP1
        else:
            total += float(np.sum(t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z)))
            delta = error / t.shape[1]  # BP1 for cross-entropy
        for layer in range(last, -1, -1):
            W, b = params[layer]
            a = activations[layer]
            if layer:
                below = W.T @ delta  # BP2, with the weights before this step
            W -= learning_rate * (delta @ a.T)  # BP4
            b -= learning_rate * delta.sum(axis=1, keepdims=True)  # BP3
            if layer:
                delta = below * (a > 0 if relu_hidden else a * (1.0 - a))
    return total


def relative_errors(grads, other):
    """The relative error of every array on its own: [(error of dC/dW, error of dC/db), ...].

    One pooled `relative_error` is dominated by the layers whose gradients are largest: a
    layer with small gradients can be entirely wrong and hardly move it. Each entry here is
    |g - g'| / max(|g| + |g'|, tiny) over one array.
    """
    if len(grads) != len(other):
        raise ValueError(f"the two gradients have {len(grads)} and {len(other)} layers")
    errors = []
    for layer, (pair, other_pair) in enumerate(zip(grads, other, strict=True)):
        layer_errors = []
        for name, array, other_array in zip(("dW", "db"), pair, other_pair, strict=True):
            array, other_array = np.asarray(array, float), np.asarray(other_array, float)
            if array.shape != other_array.shape:
                raise ValueError(f"layer {layer}: {name} has shapes {array.shape} and "
                                 f"{other_array.shape}")
            size = np.linalg.norm(array) + np.linalg.norm(other_array)
            layer_errors.append(float(np.linalg.norm(array - other_array)
                                      / max(size, np.finfo(float).tiny)))
        errors.append(tuple(layer_errors))
    return errors


def softmax(z):
    """e^z / sum_k e^z_k down each column, shifted by the column's maximum (no overflow)."""
    z = np.asarray(z, dtype=float)
    shifted = np.exp(z - z.max(axis=0, keepdims=True))
    return shifted / shifted.sum(axis=0, keepdims=True)


def _check_distributions(y, n_rows, batch):
    """Targets for the softmax cost: non-negative columns that add up to 1."""
    y = _check_batch("y", y, n_rows, batch)
    if np.any(y < 0) or not np.allclose(y.sum(axis=0), 1.0):
        raise ValueError("softmax targets must be probabilities: every column >= 0 and "
                         "adding up to 1 (one_hot labels are)")
    return y


def softmax_forward(params, x, *, hidden="sigmoid"):
    """The activations [x, a1, ..., aL] with a softmax output layer, aL = softmax(zL)."""
    activations = forward(params, x, hidden=hidden)
    W, b = params[-1]
    activations[-1] = softmax(W @ activations[-2] + b)
    return activations


def softmax_loss(params, x, y, *, hidden="sigmoid"):
    """The cross-entropy of a softmax output, -sum(y ln aL) / batch.

    ln softmax(z)_k = z_k - log sum_j e^z_j, computed from z so that no probability is
    rounded to 0 before its logarithm is taken.
    """
    activations = forward(params, x, hidden=hidden)
    y = _check_distributions(y, activations[-1].shape[0], activations[-1].shape[1])
    W, b = params[-1]
    z = W @ activations[-2] + b
    top = z.max(axis=0, keepdims=True)
    log_sum = top + np.log(np.sum(np.exp(z - top), axis=0, keepdims=True))
    return float(np.sum(y * (log_sum - z)) / y.shape[1])


def softmax_backprop(params, x, y, *, hidden="sigmoid"):
    """The gradient of `softmax_loss` in one backward pass.

    BP1 for a softmax output with the cross-entropy is delta^L = (aL - y) / batch (for
    targets whose columns add up to 1): the same line as for sigmoid outputs with the
    cross-entropy, so BP2-BP4 of `_backprop` do the rest unchanged.
    """
    activations = softmax_forward(params, x, hidden=hidden)
    y = _check_distributions(y, activations[-1].shape[0], activations[-1].shape[1])
    return _backprop(params, activations, y, "cross-entropy", hidden)


def correct_class_outputs(params, x, labels, *, hidden="sigmoid"):
    """For each column of x, the network's output for its own label: a^L_label."""
    labels = np.asarray(labels)
    output = forward(params, x, hidden=hidden)[-1]
    if labels.shape != (output.shape[1],) or not np.issubdtype(labels.dtype, np.integer) or (
            labels.min() < 0 or labels.max() >= output.shape[0]):
        raise ValueError(f"labels must be {output.shape[1]} whole numbers "
                         f"0..{output.shape[0] - 1}, one per column of x")
    return output[labels, np.arange(labels.size)]
