"""Backpropagation one neuron at a time, in Zhou Zhihua's notation (*Machine Learning*, §5.3).

Chapter 4 opens the layers of chapter 3 and follows every neuron. A network with d inputs,
q hidden neurons and l outputs is a dict of four float arrays:

- ``v``: shape (d, q), ``v[i, h]`` = v_ih, the weight from input i to hidden neuron h;
- ``gamma``: shape (q,), the hidden thresholds gamma_h;
- ``w``: shape (q, l), ``w[h, j]`` = w_hj, the weight from hidden neuron h to output j;
- ``theta``: shape (l,), the output thresholds theta_j.

Thresholds are *subtracted*: alpha_h = sum_i v_ih x_i, b_h = f(alpha_h - gamma_h),
beta_j = sum_h w_hj b_h, y_hat_j = f(beta_j - theta_j), with f the sigmoid. So a threshold
is minus a bias, and ``to_layers`` turns a network into chapter 5's ``(W, b)`` pairs.

Every function loops over neurons on purpose: the point is to see each neuron's share.
"""

import numbers

import numpy as np

from . import network

KEYS = ("v", "gamma", "w", "theta")
COSTS = ("squared", "cross-entropy")


def sigmoid(t):
    """Zhou's f, the logistic function."""
    return network.sigmoid(t)


def _check_net(net):
    """(d, q, l) after checking that net holds four finite float arrays that fit together."""
    if not isinstance(net, dict) or set(net) != set(KEYS):
        raise ValueError(f"a network is a dict with the keys {KEYS}, got {net!r}")
    for key in KEYS:
        array = net[key]
        if not (isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating)):
            raise ValueError(f"net[{key!r}] must be a float numpy array")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"net[{key!r}] contains NaN or infinity")
    v, gamma, w, theta = (net[key] for key in KEYS)
    if v.ndim != 2 or w.ndim != 2:
        raise ValueError(f"v and w must be matrices, got shapes {v.shape} and {w.shape}")
    d, q = v.shape
    l = w.shape[1]
    for key, shape in (("gamma", (q,)), ("w", (q, l)), ("theta", (l,))):
        if net[key].shape != shape:
            raise ValueError(f"net[{key!r}] expected shape {shape} for a {d}-{q}-{l} "
                             f"network, got {net[key].shape}")
    return d, q, l


def _check_vector(name, values, size):
    values = np.asarray(values, dtype=float)
    if values.shape != (size,):
        raise ValueError(f"{name} expected shape ({size},), got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity")
    return values


def _check_cost(cost):
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")


def _check_rate(eta):
    if not (isinstance(eta, numbers.Real) and np.isfinite(eta) and eta > 0):
        raise ValueError(f"the learning rate must be a positive number, got {eta!r}")


def random_net(d, q, l, rng=None, scale=1.0):
    """A d-q-l network with normal weights and thresholds of standard deviation scale."""
    rng = network._as_rng(rng)
    return {"v": scale * rng.standard_normal((d, q)), "gamma": scale * rng.standard_normal(q),
            "w": scale * rng.standard_normal((q, l)), "theta": scale * rng.standard_normal(l)}


def forward(net, x):
    """Every neuron's values for one example x: {"alpha", "b", "beta", "y_hat"}."""
    d, q, l = _check_net(net)
    x = _check_vector("x", x, d)
    v, gamma, w, theta = (net[key] for key in KEYS)
    alpha, b = np.zeros(q), np.zeros(q)
    for h in range(q):
        alpha[h] = sum(v[i, h] * x[i] for i in range(d))
        b[h] = sigmoid(alpha[h] - gamma[h])
    beta, y_hat = np.zeros(l), np.zeros(l)
    for j in range(l):
        beta[j] = sum(w[h, j] * b[h] for h in range(q))
        y_hat[j] = sigmoid(beta[j] - theta[j])
    return {"alpha": alpha, "b": b, "beta": beta, "y_hat": y_hat}


def error(y_hat, y, cost="squared"):
    """E_k for one example: 1/2 sum_j (y_hat_j - y_j)^2 (Zhou eq. 5.4), or the binary
    cross-entropy -sum_j [y_j ln y_hat_j + (1 - y_j) ln(1 - y_hat_j)]."""
    _check_cost(cost)
    y_hat = np.asarray(y_hat, dtype=float)
    y = _check_vector("y", y, y_hat.size)
    if cost == "squared":
        return float(0.5 * np.sum((y_hat - y) ** 2))
    with np.errstate(divide="ignore"):  # a saturated output really costs infinity
        return float(-np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


def output_terms(y_hat, y, cost="squared"):
    """g_j = -dE_k/d(beta_j - theta_j), one output neuron at a time.

    Squared error, Zhou eq. (5.10): g_j = y_hat_j (1 - y_hat_j) (y_j - y_hat_j).
    Cross-entropy: dE/dy_hat_j = (y_hat_j - y_j) / (y_hat_j (1 - y_hat_j)) cancels
    the sigmoid's slope, and g_j = y_j - y_hat_j.
    """
    _check_cost(cost)
    y_hat = np.asarray(y_hat, dtype=float)
    y = _check_vector("y", y, y_hat.size)
    g = np.zeros(y_hat.size)
    for j in range(y_hat.size):
        slope = y_hat[j] * (1 - y_hat[j]) if cost == "squared" else 1.0
        g[j] = slope * (y[j] - y_hat[j])
    return g


def hidden_terms(net, b, g):
    """e_h = b_h (1 - b_h) sum_j w_hj g_j, Zhou eq. (5.15), one hidden neuron at a
    time."""
    _, q, l = _check_net(net)
    b, g = _check_vector("b", b, q), _check_vector("g", g, l)
    e = np.zeros(q)
    for h in range(q):
        sent_back = sum(net["w"][h, j] * g[j] for j in range(l))
        e[h] = b[h] * (1 - b[h]) * sent_back
    return e


def updates(net, x, y, eta, cost="squared"):
    """The change of every parameter for one example, Zhou eqs. (5.11)-(5.14):
    dw_hj = eta g_j b_h, dtheta_j = -eta g_j,
    dv_ih = eta e_h x_i, dgamma_h = -eta e_h."""
    _check_rate(eta)
    d, q, l = _check_net(net)
    x = _check_vector("x", x, d)
    values = forward(net, x)
    b = values["b"]
    g = output_terms(values["y_hat"], y, cost)
    e = hidden_terms(net, b, g)
    change = {key: np.zeros_like(net[key]) for key in KEYS}
    for j in range(l):
        for h in range(q):
            change["w"][h, j] = eta * g[j] * b[h]
        # the threshold is subtracted, so it moves the other way
        change["theta"][j] = -eta * g[j]
    for h in range(q):
        for i in range(d):
            change["v"][i, h] = eta * e[h] * x[i]
        change["gamma"][h] = -eta * e[h]
    return change


def gradients(net, x, y, cost="squared"):
    """dE_k/d(parameter) for every parameter: with eta = 1 an update is minus the gradient."""
    return {key: -change for key, change in updates(net, x, y, 1.0, cost).items()}


def step(net, x, y, eta, cost="squared"):
    """The network after one update on one example (a new dict; net is not changed)."""
    change = updates(net, x, y, eta, cost)
    return {key: net[key] + change[key] for key in KEYS}


def n_trainable(net):
    """How many weights and thresholds the network has: d q + q + q l + l."""
    _check_net(net)
    return sum(net[key].size for key in KEYS)


def to_layers(net):
    """Chapter 5's [(W1, b1), (W2, b2)]: W is the transposed weight matrix, b = -threshold.

    The same map turns Zhou-shaped gradients into layer-shaped ones: a bias is minus a
    threshold, so its gradient is minus the threshold's.
    """
    _check_net(net)
    return [(net["v"].T.copy(), -net["gamma"].reshape(-1, 1)),
            (net["w"].T.copy(), -net["theta"].reshape(-1, 1))]


def from_layers(params):
    """The inverse of to_layers, for a two-layer [(W1, b1), (W2, b2)]."""
    network._check_params(params)
    if len(params) != 2:
        raise ValueError(f"Zhou's network has two layers, got {len(params)}")
    (W1, b1), (W2, b2) = params
    # 0.0 - b rather than -b: a zero bias gives the threshold 0.0, not -0.0
    return {"v": W1.T.copy(), "gamma": 0.0 - b1[:, 0], "w": W2.T.copy(),
            "theta": 0.0 - b2[:, 0]}


def seed_example():
    """Seed 002's worked example as Zhou's network: (net, x, y).

    The article's author drew, after ``np.random.seed(3)``, W1 = randn(4, 3) * 0.1 and then
    W2 = randn(1, 4) * 0.1, with zero biases; a RandomState(3) gives the same numbers
    without touching numpy's global generator.
    """
    draws = np.random.RandomState(3)
    W1 = draws.randn(4, 3) * 0.1
    W2 = draws.randn(1, 4) * 0.1
    net = from_layers([(W1, np.zeros((4, 1))), (W2, np.zeros((1, 1)))])
    return net, np.array([7.0, 8.0, 10.0]), np.array([1.0])


def predictions(net, x, y, eta, n_updates, cost="cross-entropy"):
    """The outputs y_hat before the first update and after each of n_updates updates on the
    one example (x, y), as an array of shape (n_updates + 1, l)."""
    if not (isinstance(n_updates, numbers.Integral) and n_updates >= 0):
        raise ValueError(f"n_updates must be a whole number >= 0, got {n_updates!r}")
    outputs = [forward(net, x)["y_hat"]]
    for _ in range(n_updates):
        net = step(net, x, y, eta, cost)
        outputs.append(forward(net, x)["y_hat"])
    return np.array(outputs)


def mean_error(net, X, Y, cost="squared"):
    """Zhou's accumulated error E = (1/m) sum_k E_k over the examples, one per column."""
    d, _, l = _check_net(net)
    X = network._check_batch("X", X, d)
    Y = network._check_batch("Y", Y, l, X.shape[1])
    return float(np.mean([error(forward(net, X[:, k])["y_hat"], Y[:, k], cost)
                          for k in range(X.shape[1])]))


def train(net, X, Y, eta, epochs, accumulated=False, cost="squared"):
    """Standard BP (an update after every example) or accumulated BP (one update per pass,
    with the mean of the examples' changes), as in Zhou §5.3.

    Returns (net, examples_seen, mean_errors): the error over all examples at the start
    and after every epoch, against the number of examples read so far.
    """
    d, _, l = _check_net(net)
    X = network._check_batch("X", X, d)
    Y = network._check_batch("Y", Y, l, X.shape[1])
    if not (isinstance(epochs, numbers.Integral) and epochs >= 1):
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
    m = X.shape[1]
    seen, errors = [0], [mean_error(net, X, Y, cost)]
    for epoch in range(1, epochs + 1):
        if accumulated:
            total = {key: np.zeros_like(net[key]) for key in KEYS}
            for k in range(m):
                change = updates(net, X[:, k], Y[:, k], eta, cost)
                total = {key: total[key] + change[key] for key in KEYS}
            net = {key: net[key] + total[key] / m for key in KEYS}
        else:
            for k in range(m):
                net = step(net, X[:, k], Y[:, k], eta, cost)
        seen.append(epoch * m)
        errors.append(mean_error(net, X, Y, cost))
    return net, np.array(seen), np.array(errors)


def loop_cost_table(widths, vectorized_gradient, repeats=5, rng=0):
    """Time the loops of this module against a vectorized gradient, on n-n-n networks.

    vectorized_gradient(params, x, y) must return [(dC/dW, dC/db), ...] for chapter 5's
    layers (one example per column, sigmoid layers, C = sum((a - y)^2) / 2), as
    ``network.backprop`` does. One row per width n: the number of parameters, the best
    time of each (seconds) and the largest difference between their gradients.
    """
    from .timing import best_time  # timing is only needed here

    rng = network._as_rng(rng)
    rows = []
    for n in widths:
        net = random_net(n, n, n, rng, scale=1 / np.sqrt(n))
        x, y = rng.standard_normal(n), rng.uniform(0, 1, n)
        params = to_layers(net)
        loop_seconds, loops = best_time(repeats, gradients, net, x, y)
        vector_seconds, grads = best_time(repeats, vectorized_gradient, params,
                                          x.reshape(-1, 1), y.reshape(-1, 1))
        vectorized = from_layers([(np.asarray(dW), np.asarray(db)) for dW, db in grads])
        rows.append({"n": n, "parameters": n_trainable(net), "loop_seconds": loop_seconds,
                     "vectorized_seconds": vector_seconds,
                     "agree": max(float(np.max(np.abs(loops[key] - vectorized[key])))
                                  for key in KEYS)})
    return rows
