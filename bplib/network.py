"""A small sigmoid network and two ways to get its gradient.

Chapter 1 uses it as a black box to time backpropagation against finite differences;
chapter 5 derives `backprop` line by line.

Conventions (Nielsen, *Neural Networks and Deep Learning*, ch. 2): ``params`` is a list
of ``(W, b)`` pairs, one per layer, with ``W`` of shape ``(n_out, n_in)`` and ``b`` of
shape ``(n_out, 1)``; a batch ``x`` has one example per column, shape ``(n_in, batch)``,
and ``y`` has shape ``(n_out, batch)``. Every layer applies the sigmoid, and the cost is
the quadratic cost ``C = sum((a_L - y)**2) / (2 * batch)``.
"""

import numbers

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
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def n_params(params):
    """The number of weights and biases, the N of the chapter's cost comparison."""
    _check_params(params)
    return sum(W.size + b.size for W, b in params)


def sigmoid(z):
    """The logistic function 1 / (1 + e^-z)."""
    with np.errstate(over="ignore"):  # e^-z = inf for z < -709 still gives the right limit, 0
        return 1.0 / (1.0 + np.exp(-z))


def forward(params, x):
    """The activations [x, a1, ..., aL], with a_l = sigmoid(W_l a_(l-1) + b_l)."""
    _check_params(params)
    activations = [_check_batch("x", x, params[0][0].shape[1])]
    for W, b in params:
        activations.append(sigmoid(W @ activations[-1] + b))
    return activations


def loss(params, x, y):
    """The quadratic cost C = sum((a_L - y)^2) / (2 * batch)."""
    output = forward(params, x)[-1]
    y = _check_batch("y", y, output.shape[0], output.shape[1])
    return float(np.sum((output - y) ** 2) / (2 * y.shape[1]))


def backprop(params, x, y):
    """The gradient [(dC/dW, dC/db), ...] of `loss` in one backward pass: Nielsen's BP1-BP4."""
    activations = forward(params, x)
    output = activations[-1]
    y = _check_batch("y", y, output.shape[0], output.shape[1])
    # BP1; the 1/batch comes from the cost being a mean over the batch.
    delta = (output - y) * output * (1 - output) / y.shape[1]
    grads = []
    for (W, b), a_prev in zip(reversed(params), reversed(activations[:-1])):
        grads.append((delta @ a_prev.T, delta.sum(axis=1, keepdims=True)))  # BP4, BP3
        delta = (W.T @ delta) * a_prev * (1 - a_prev)  # BP2; the last one, for x, goes unused
    return grads[::-1]


def numerical_gradient(params, x, y, h=1e-6):
    """Forward differences (C(p + h) - C(p)) / h, one parameter at a time.

    Returns (grads, loss_calls): one call for C(p) and one per parameter, so
    loss_calls == n_params + 1. Each parameter is nudged in place and then set back
    to its saved value, so params end up exactly as they were.
    """
    if not (isinstance(h, numbers.Real) and np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a small positive number, got {h!r}")
    base = loss(params, x, y)
    loss_calls = 1
    grads = []
    for W, b in params:
        layer_grads = []
        for array in (W, b):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + h
                grad[index] = (loss(params, x, y) - base) / h
                array[index] = saved
                loss_calls += 1
            layer_grads.append(grad)
        grads.append(tuple(layer_grads))
    return grads, loss_calls
