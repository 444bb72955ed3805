"""The exercises round trip, run with nbgrader as the course runs it.

For every assignment under solutions/: the source passes validation, the release fails it,
regenerating the release reproduces the committed exercises/, a student who writes the
solutions gets full marks and one who hands in the release gets zero, broken submissions
are graded without harming the others, and neither the release nor the feedback shows a
hidden test or a solution. Everything happens in a temporary copy of the course.
"""

import ast
import re
import time
import types

import nbformat
import pytest
from nbgrader.validator import Validator

from conftest import (MARKER, MIN_SECRET_LENGTH, REPO, all_secret_lines,
                      gradebook_scores, honest_submission, html_text, leaks_in, nbgrader,
                      released_copy, secret_lines, submit, without_markers)

ASSIGNMENTS = sorted(folder.name for folder in (REPO / "solutions").iterdir()
                     if folder.is_dir() and any(folder.glob("*.ipynb")))


# One mistake each, from the issue that asked for one mistake to cost one task: the tasks
# built on them (the sliders' questions) must still earn their points.
THRESHOLDS_ADDED = (
    "def zhou_update(net, X, Y, eta, cost='squared'):\n"
    "    terms = {'squared': g_terms, 'cross-entropy': g_terms_bce}[cost]\n"
    "    m = X.shape[1]\n"
    "    new = {name: array.copy() for name, array in net.items()}\n"
    "    for k in range(m):\n"
    "        before = tanh_forward(net, X[:, k])\n"
    "        g = terms(before['y_hat'], Y[:, k])\n"
    "        e = e_terms(net['w'], before['b'], g)\n"
    "        # the thresholds moved with g and e, not against them\n"
    "        new['v'] += eta / m * np.outer(X[:, k], e)\n"
    "        new['gamma'] += eta / m * e\n"
    "        new['w'] += eta / m * np.outer(before['b'], g)\n"
    "        new['theta'] += eta / m * g\n"
    "    return new\n"
)
SUMMED_NOT_AVERAGED = (
    "def zhou_update(net, X, Y, eta, cost='squared'):\n"
    "    if cost not in ('squared', 'cross-entropy'):\n"
    "        raise ValueError(cost)\n"
    "    terms = g_terms if cost == 'squared' else g_terms_bce\n"
    "    new = {name: array.copy() for name, array in net.items()}\n"
    "    for k in range(X.shape[1]):\n"
    "        before = tanh_forward(net, X[:, k])\n"
    "        g = terms(before['y_hat'], Y[:, k])\n"
    "        e = e_terms(net['w'], before['b'], g)\n"
    "        # the examples' changes summed, not averaged: eta grows with the batch\n"
    "        new['v'] += eta * np.outer(X[:, k], e)\n"
    "        new['gamma'] -= eta * e\n"
    "        new['w'] += eta * np.outer(before['b'], g)\n"
    "        new['theta'] -= eta * g\n"
    "    return new\n"
)
LOOP_OVER_EXAMPLES = (
    "def backward_pass(params, activations, y):\n"
    "    # right numbers, one example at a time: the task says no loop over the examples\n"
    "    m = y.shape[1]\n"
    "    grads = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]\n"
    "    for k in range(m):\n"
    "        column = [a[:, [k]] for a in activations]\n"
    "        delta = (column[-1] - y[:, [k]]) / m\n"
    "        for layer in range(len(params) - 1, -1, -1):\n"
    "            dW, db = grads[layer]\n"
    "            grads[layer] = (dW + delta @ column[layer].T, db + delta)\n"
    "            if layer:\n"
    "                z = params[layer - 1][0] @ column[layer - 1] + params[layer - 1][1]\n"
    "                delta = (params[layer][0].T @ delta) / (1 + np.exp(-z))\n"
    "    return grads\n"
)
SOFTPLUS_SLOPE_OF_A = (
    "def backward_pass(params, activations, y):\n"
    "    delta = (activations[-1] - y) / y.shape[1]\n"
    "    grads = []\n"
    "    for layer in range(len(params) - 1, -1, -1):\n"
    "        a = activations[layer]\n"
    "        grads.insert(0, (delta @ a.T, delta.sum(axis=1, keepdims=True)))\n"
    "        # chapter 5's loop with the sigmoid of a, where the slope is the sigmoid of z\n"
    "        delta = (params[layer][0].T @ delta) / (1 + np.exp(-a))\n"
    "    return grads\n"
)
BP2_NOT_TRANSPOSED = (
    "def backward_pass(params, activations, y):\n"
    "    delta = (activations[-1] - y) / y.shape[1]\n"
    "    grads = []\n"
    "    for layer in range(len(params) - 1, -1, -1):\n"
    "        a = activations[layer]\n"
    "        grads.insert(0, (delta @ a.T, delta.sum(axis=1, keepdims=True)))\n"
    "        # W where BP2 has its transpose: fails as soon as a layer is not square\n"
    "        if layer:\n"
    "            z = params[layer - 1][0] @ activations[layer - 1] + params[layer - 1][1]\n"
    "            delta = (params[layer][0] @ delta) / (1 + np.exp(-z))\n"
    "    return grads\n"
)
DIVIDED_BY_BATCH = (
    "def sgd_epoch(params, x, y, batch_size, learning_rate, rng, weight_decay=0.0):\n"
    "    order = rng.permutation(x.shape[1])\n"
    "    for start in range(0, x.shape[1], batch_size):\n"
    "        cols = order[start:start + batch_size]\n"
    "        grads = network.backprop(params, x[:, cols], y[:, cols],\n"
    "                                 cost='cross-entropy')\n"
    "        # divided by the batch once more: backprop's cost is already a mean\n"
    "        params = [(W - learning_rate * (dW / len(cols) + weight_decay / x.shape[1] * W),\n"
    "                   b - learning_rate * db / len(cols))\n"
    "                  for (W, b), (dW, db) in zip(params, grads)]\n"
    "    return params\n"
)


def sgd_epoch_with(decayed_step, comment):
    """Assignment 5's epoch with weight decay, its step written as `decayed_step` (the new
    (W, b) from W, b, dW, db, learning_rate, weight_decay, n and cols)."""
    return (
        "def sgd_epoch(params, x, y, batch_size, learning_rate, rng, weight_decay=0.0):\n"
        "    order = rng.permutation(x.shape[1])\n"
        "    n = x.shape[1]\n"
        "    for start in range(0, n, batch_size):\n"
        "        cols = order[start:start + batch_size]\n"
        "        grads = network.backprop(params, x[:, cols], y[:, cols],\n"
        "                                 cost='cross-entropy')\n"
        f"        # {comment}\n"
        f"        params = [{decayed_step}\n"
        "                  for (W, b), (dW, db) in zip(params, grads)]\n"
        "    return params\n"
    )


def gradient_check_with(estimate_lines, comment):
    """Assignment 5's gradient check array by array, its estimate of one entry `index` of
    `array` written as `estimate_lines` (which leave it in `estimate[index]`)."""
    return (
        "def gradient_check(cost, params, grads, h=1e-5):\n"
        f"    # {comment}\n"
        "    errors = []\n"
        "    for (W, b), pair in zip(params, grads):\n"
        "        layer = []\n"
        "        for array, given in zip((W, b), pair):\n"
        "            estimate = np.zeros(array.shape)\n"
        "            for index in np.ndindex(array.shape):\n"
        + "".join(f"                {line}\n" for line in estimate_lines) +
        "            size = np.linalg.norm(given) + np.linalg.norm(estimate)\n"
        "            apart = np.linalg.norm(given - estimate)\n"
        "            layer.append(0.0 if size == 0 else float(apart / size))\n"
        "        errors.append(tuple(layer))\n"
        "    return errors\n"
    )


POOLED_GRADIENT_CHECK = (
    "def gradient_check(cost, params, grads, h=1e-5):\n"
    "    # one relative error pooled over all arrays, where the task asks for one per array\n"
    "    squares = [0.0, 0.0, 0.0]\n"
    "    for (W, b), pair in zip(params, grads):\n"
    "        for array, given in zip((W, b), pair):\n"
    "            for index in np.ndindex(array.shape):\n"
    "                kept = array[index]\n"
    "                array[index] = kept + h\n"
    "                up = cost(params)\n"
    "                array[index] = kept - h\n"
    "                down = cost(params)\n"
    "                array[index] = kept\n"
    "                estimate = (up - down) / (2 * h)\n"
    "                squares[0] += (given[index] - estimate) ** 2\n"
    "                squares[1] += given[index] ** 2\n"
    "                squares[2] += estimate ** 2\n"
    "    size = np.sqrt(squares[1]) + np.sqrt(squares[2])\n"
    "    return 0.0 if size == 0 else float(np.sqrt(squares[0]) / size)\n"
)
ONE_SIDED_GRADIENT_CHECK = gradient_check_with([
    "kept = array[index]",
    "base = cost(params)",
    "array[index] = kept + h",
    "estimate[index] = (cost(params) - base) / h",
    "array[index] = kept",
], "one-sided differences (C(p + h) - C(p)) / h, where the task asks for central ones")
DRIFTING_GRADIENT_CHECK = gradient_check_with([
    "array[index] += h",
    "up = cost(params)",
    "array[index] -= 2 * h",
    "down = cost(params)",
    "array[index] += h  # p + h - 2h + h: not always exactly p in floating point",
    "estimate[index] = (up - down) / (2 * h)",
], "each parameter put back by arithmetic instead of to its saved value")
RESTORED_BY_ARITHMETIC = gradient_check_with([
    "kept = array[index]",
    "array[index] = kept + h",
    "up = cost(params)",
    "array[index] = kept - h",
    "down = cost(params)",
    "array[index] = array[index] + h  # (p - h) + h: not always exactly p",
    "estimate[index] = (up - down) / (2 * h)",
], "each parameter put back as (p - h) + h instead of to its saved value")

# Plausible wrong answers, most of which pass the visible tests but not the hidden ones,
# and answers that call bplib's own version of the task (answer
# grade_id -> the student's code, or a list of such codes: student "wrong-k" hands in the
# k-th wrong answer of every entry that has one, None meaning the solution, and the
# solution elsewhere, except for the sliders' questions: see SLIDER_READINGS). Their test
# cells must score zero, and the failed hidden checks are what the feedback leak scan
# needs to see.
WRONG_ANSWERS = {
    "01-telephone": {
        "telephone-max-second-rate": [
            "max_second_rate = 0.25  # read off the wrong axis\n",
            "max_second_rate = 0.15  # the additive model: 0.1 + r <= 0.25\n",
            "max_second_rate = 0.167  # 1/6 rounded: the line then loses 25.03%\n",
            "max_second_rate = 0.18  # the first slider step above 25%\n",
        ],
        # wrong-5: Task 1 wrong alone, Task 2 read off the slider (SLIDER_READINGS): the
        # slider's title reads bplib's simulation, so only Task 1's points are lost
        "telephone-line-error": [None, None, None, None, (
            "def line_error(error_rates):\n"
            "    if any(not 0 <= rate <= 1 for rate in error_rates):\n"
            "        raise ValueError('an error rate must lie in [0, 1]')\n"
            "    return float(sum(error_rates))  # the additive model: errors never overlap\n"
        )],
        "telephone-forward-count": (
            "def forward_count(groups, players):\n"
            "    if players == 1:\n"
            "        return 2 * groups\n"
            "    # a float formula: exact for small lines, not for huge ones\n"
            "    return round(groups * (1 + 2 * groups + groups**2 * (players - 2.0)))\n"
        ),
    },
    # bill_gradients is left right on purpose: it uses the wrong DivLayers and still earns
    # its points, because its hidden test gives it a correct division node.
    "02-chain-rule-graphs": {
        "graphs-div-layer": [(
            "class DivLayer:\n"
            "    def __init__(self):\n"
            "        self.x = self.y = None\n"
            "    def forward(self, x, y):\n"
            "        self.x, self.y = x, y\n"
            "        return x / y\n"
            "    def backward(self, upstream_grad):\n"
            "        if self.x is None:\n"
            "            raise RuntimeError('call forward() first')\n"
            "        # the upstream gradient is forgotten in dy\n"
            "        return upstream_grad / self.y, -self.x / self.y ** 2\n"
        ), (
            "class DivLayer:\n"
            "    def __init__(self):\n"
            "        self.x = self.y = None\n"
            "    def forward(self, x, y):\n"
            "        self.x, self.y = x, y\n"
            "        return x / y\n"
            "    def backward(self, upstream_grad):\n"
            "        if self.x is None:\n"
            "            raise RuntimeError('call forward() first')\n"
            "        # a sign slip in dy: it fails the visible test too, and must cost Task 1\n"
            "        # only, not bill_gradients and the slider question built on it\n"
            "        return upstream_grad / self.y, upstream_grad * self.x / self.y ** 2\n"
        ), None, (  # wrong-4: the sign slip alone, Task 4 read off the slider
            "class DivLayer:\n"
            "    def __init__(self):\n"
            "        self.x = self.y = None\n"
            "    def forward(self, x, y):\n"
            "        self.x, self.y = x, y\n"
            "        return x / y\n"
            "    def backward(self, upstream_grad):\n"
            "        if self.x is None:\n"
            "            raise RuntimeError('call forward() first')\n"
            "        # a sign slip in dy: it fails the visible test too, and must cost Task 1\n"
            "        # only, not bill_gradients and the slider question built on it\n"
            "        return upstream_grad / self.y, upstream_grad * self.x / self.y ** 2\n"
        )],
        "graphs-sigmoid-layer": (
            "class SigmoidLayer:\n"
            "    def __init__(self):\n"
            "        self.x = None\n"
            "    def forward(self, x):\n"
            "        self.x = x  # keeps the caller's input, not the output\n"
            "        return 1 / (1 + np.exp(-x))\n"
            "    def backward(self, upstream_grad):\n"
            "        if self.x is None:\n"
            "            raise RuntimeError('call forward() first')\n"
            "        out = 1 / (1 + np.exp(-self.x))\n"
            "        return upstream_grad * out * (1 - out)\n"
        ),
        "graphs-friends-needed": [
            "friends_needed = 4  # the last group still above -1\n",
            "friends_needed = 6  # one past the answer\n",
        ],
        # wrong-3: Task 3 wrong alone, Task 4 read off the slider (SLIDER_READINGS), whose
        # bars are central differences: only Task 3's points are lost. wrong-5: the right
        # numbers by a formula, without the layers the task asks for
        "graphs-bill-gradients": [None, None, (
            "def bill_gradients(notebook_price, notebook_count, pen_price, pen_count, tax,\n"
            "                   friends):\n"
            "    total = (notebook_price * notebook_count + pen_price * pen_count) * tax\n"
            "    share = total / friends\n"
            "    # the divisor's local derivative taken as 1 / friends, the dividend's\n"
            "    return share, {'notebook_price': notebook_count * tax / friends,\n"
            "                   'notebook_count': notebook_price * tax / friends,\n"
            "                   'pen_price': pen_count * tax / friends,\n"
            "                   'pen_count': pen_price * tax / friends,\n"
            "                   'tax': share / tax, 'friends': total / friends}\n"
        ), None, (
            "def bill_gradients(notebook_price, notebook_count, pen_price, pen_count, tax,\n"
            "                   friends):\n"
            "    total = (notebook_price * notebook_count + pen_price * pen_count) * tax\n"
            "    share = total / friends\n"
            "    # right, by the formula, and no layer is used\n"
            "    return share, {'notebook_price': notebook_count * tax / friends,\n"
            "                   'notebook_count': notebook_price * tax / friends,\n"
            "                   'pen_price': pen_count * tax / friends,\n"
            "                   'pen_count': pen_price * tax / friends,\n"
            "                   'tax': share / tax, 'friends': -share / friends}\n"
        )],
        "graphs-path-sum-gradient": (
            "def path_sum_gradient(local, source, sink):\n"
            "    edges_out = [(head, d) for (tail, head), d in local.items() if tail == source]\n"
            "    if not edges_out:\n"
            "        return 1.0  # a node with nothing after it is taken for the sink\n"
            "    return sum(d * path_sum_gradient(local, head, sink) for head, d in edges_out)\n"
        ),
        "graphs-backward-gradients": (
            "def backward_gradients(local, sink):\n"
            "    gradients = {sink: 1.0}\n"
            "    # the entries of local, last first, taken for the reverse computation order\n"
            "    for (tail, head), derivative in reversed(list(local.items())):\n"
            "        gradients.setdefault(head, 0.0)\n"
            "        gradients[tail] = gradients.get(tail, 0.0) + derivative * gradients[head]\n"
            "    return gradients\n"
        ),
    },
    # zhou_update is right in wrong-2 and wrong-4 on purpose: its test runs it with
    # numerical derivatives in place of g_terms, g_terms_bce and e_terms, so the wrong ones
    # cost only their own points. bplib has sigmoid neurons only: an answer that calls it
    # gets sigmoid numbers, and one that hands Task 4 to the notebook's own reference update
    # (a gradient step with numerical derivatives) does not use the three functions.
    "04-per-neuron": {
        "neuron-g-terms": [(
            "def g_terms(y_hat, y):\n"
            "    # the sigmoid's slope y_hat (1 - y_hat) carried over to a tanh output\n"
            "    return np.array([y_hat[j] * (1 - y_hat[j]) * (y[j] - y_hat[j])\n"
            "                     for j in range(len(y_hat))])\n"
        ), (
            "def g_terms(y_hat, y):\n"
            "    # Nielsen's output error delta = dE/dz, taken for Zhou's g_j = -dE/dz\n"
            "    return np.array([(y_hat[j] - y[j]) * (1 - y_hat[j] ** 2)\n"
            "                     for j in range(len(y_hat))])\n"
        ), None, (
            "def g_terms(y_hat, y):\n"
            "    # right numbers, but no loop over the output neurons, which the task asks for\n"
            "    return (1.0 - y_hat ** 2) * (y - y_hat)\n"
        )],
        "neuron-e-terms": [(
            "def e_terms(w, b, g):  # the library's sigmoid neurons do the task\n"
            "    net = {'v': np.zeros((1, len(b))), 'gamma': np.zeros(len(b)), 'w': w,\n"
            "           'theta': np.zeros(len(g))}\n"
            "    return neuron.hidden_terms(net, b, g)\n"
        ), (
            "def e_terms(w, b, g):\n"
            "    # the sum over output neurons forgotten: only output 1 is sent back\n"
            "    return np.array([(1 - b[h] ** 2) * w[h, 0] * g[0] for h in range(len(b))])\n"
        )],
        "neuron-g-bce": [(
            "def g_terms_bce(y_hat, y):\n"
            "    # dE/dy_hat times the tanh's slope, not simplified: nan when saturated\n"
            "    slope = 1 - y_hat ** 2\n"
            "    return np.array([-(y_hat[j] - y[j]) / slope[j] * slope[j]\n"
            "                     for j in range(len(y_hat))])\n"
        ), (
            "def g_terms_bce(y_hat, y):\n"
            "    # the 1/2 of each probability dropped in the derivation: twice too big\n"
            "    return np.array([2 * (y[j] - y_hat[j]) for j in range(len(y_hat))])\n"
        )],
        "neuron-update": [
            SUMMED_NOT_AVERAGED, None, THRESHOLDS_ADDED, None,
            "zhou_update = numerical_update  # the reference update does the task\n",
        ],
        "neuron-eta-answer": [
            "eta_answer = 0.6  # read off at 3 updates made, not 2\n",
            "eta_answer = 1.0  # 0.835 read as in the window\n",
        ],
    },
    "05-full-algorithm": {
        "full-backward-pass": [(
            "def backward_pass(params, activations, y):\n"
            "    m = y.shape[1]\n"
            "    delta = (activations[-1] - y) / m\n"
            "    grads = []\n"
            "    for layer in range(len(params) - 1, -1, -1):\n"
            "        a_prev = activations[layer]\n"
            "        grads.insert(0, (delta @ a_prev.T, delta.sum(axis=1, keepdims=True)))\n"
            "        # BP2 without the slope softplus'(z) of the layer below\n"
            "        delta = params[layer][0].T @ delta\n"
            "    return grads\n"
        ), (
            "from bplib.network import softmax_backprop  # the library does the task\n"
            "def backward_pass(params, activations, y):\n"
            "    return softmax_backprop(params, activations[0], y)\n"
        ), LOOP_OVER_EXAMPLES, SOFTPLUS_SLOPE_OF_A, BP2_NOT_TRANSPOSED],
        "full-gradient-check": [None, POOLED_GRADIENT_CHECK, RESTORED_BY_ARITHMETIC,
                                ONE_SIDED_GRADIENT_CHECK, DRIFTING_GRADIENT_CHECK],
        "full-sgd-epoch": [(
            "def sgd_epoch(params, x, y, batch_size, learning_rate, rng, weight_decay=0.0):\n"
            "    rng.permutation(x.shape[1])  # drawn, but the columns are taken in order\n"
            "    for start in range(0, x.shape[1], batch_size):\n"
            "        cols = slice(start, start + batch_size)\n"
            "        grads = network.backprop(params, x[:, cols], y[:, cols],\n"
            "                                 cost='cross-entropy')\n"
            "        params = [(W - learning_rate * (dW + weight_decay / x.shape[1] * W),\n"
            "                   b - learning_rate * db)\n"
            "                  for (W, b), (dW, db) in zip(params, grads)]\n"
            "    return params\n"
        ), None, sgd_epoch_with(
            "(W - learning_rate * (dW + weight_decay / len(cols) * W), b - learning_rate * db)",
            "the penalty divided by the mini-batch's size, where n is the training set's",
        ), DIVIDED_BY_BATCH, sgd_epoch_with(
            "(W - learning_rate * (dW + weight_decay / n * W),\n"
            "                   b - learning_rate * (db + weight_decay / n * b))",
            "the biases decayed too: the penalty holds the weights only",
        )],
        "full-train-digits": (
            "# chosen by the training cost, not by the validation accuracy\n"
            "grid_cost = {}\n"
            "for rate in grid_rates:\n"
            "    for units in grid_units:\n"
            "        _, history = training_run(library_epoch, rate, 4, hidden_units=units)\n"
            "        for epochs, cost in enumerate(history['loss'], start=1):\n"
            "            grid_cost[(rate, units, epochs)] = cost\n"
            "chosen_setting = min(grid_cost, key=grid_cost.get)\n"
        ),
        "full-smallest-rate": [
            "smallest_good_rate = 1.0  # the best accuracy, not the smallest\n",
            "smallest_good_rate = 0.1  # one slider step too far to the left\n",
        ],
    },
    "03-composite": {
        "composite-linear": [(
            "class LinearLayer:\n"
            "    def __init__(self, W, b):\n"
            "        self.W, self.b = W, b\n"
            "        self.x = None\n"
            "    def forward(self, x):\n"
            "        if np.ndim(x) != 2 or np.shape(x)[0] != self.W.shape[1]:\n"
            "            raise ValueError('x should have shape (n_in, batch)')\n"
            "        self.x = np.array(x, dtype=float)\n"
            "        return self.W @ self.x + self.b\n"
            "    def backward(self, upstream_grad):\n"
            "        if self.x is None:\n"
            "            raise RuntimeError('call forward() first')\n"
            "        self.grad_W = upstream_grad @ self.x.T\n"
            "        # the mean over the batch, where b's gradient is the sum\n"
            "        self.grad_b = upstream_grad.mean(axis=1, keepdims=True)\n"
            "        return self.W.T @ upstream_grad\n"
        ), (
            "class LinearLayer(layers.Linear):  # the library does the task\n"
            "    def backward(self, upstream_grad):\n"
            "        returned = super().backward(upstream_grad)\n"
            "        self.grad_W, self.grad_b = self.dW, self.db\n"
            "        return returned\n"
        )],
        "composite-forward-through": [(
            "def forward_through(chain, x, every=1):\n"
            "    stored = [x]  # every input kept: the checkpoints ignored\n"
            "    for f in chain:\n"
            "        stored.append(f.forward(stored[-1]))\n"
            "    return stored\n"
        )],
        "composite-backward-through": [(
            "def backward_through(chain, checkpoints, upstream_grad, every=1):\n"
            "    gradients = [upstream_grad]\n"
            "    # nothing recomputed: right only while no layer has run forward since\n"
            "    for f in reversed(chain):\n"
            "        gradients.append(f.backward(gradients[-1]))\n"
            "    return gradients[::-1]\n"
        ), None, (
            "def backward_through(chain, checkpoints, upstream_grad, every=1):\n"
            "    starts = list(range(0, len(chain), every))\n"
            "    gradients = [upstream_grad]\n"
            "    for j in reversed(range(len(starts))):\n"
            "        segment = chain[starts[j]:starts[j] + every]\n"
            "        if j < len(starts) - 1:\n"
            "            out = checkpoints[j]\n"
            "            for f in segment:\n"
            "                out = f.forward(out)\n"
            "        for f in reversed(segment):\n"
            "            gradients.append(f.backward(gradients[-1]))\n"
            "    return gradients  # the list not reversed back: dz/dx^(L+1) comes first\n"
        )],
        "composite-gradient-check": [(
            "def gradient_check(layer, x, h=1e-5, seed=0):\n"
            "    x = np.array(x, dtype=float)\n"
            "    out = layer.forward(x)\n"
            "    u = np.random.default_rng(seed).normal(size=out.shape)\n"
            "    analytic = layer.backward(u)\n"
            "    base = np.sum(u * layer.forward(x))\n"
            "    numeric = np.empty_like(x)\n"
            "    for k in np.ndindex(x.shape):  # one-sided differences\n"
            "        shifted = x.copy()\n"
            "        shifted[k] += h\n"
            "        numeric[k] = (np.sum(u * layer.forward(shifted)) - base) / h\n"
            "    return float(np.max(np.abs(analytic - numeric)))\n"
        ), (
            "def gradient_check(layer, x, h=1e-5, seed=0):\n"
            "    x = np.array(x, dtype=float)\n"
            "    u = np.random.default_rng(seed).normal(size=layer.forward(x).shape)\n"
            "    analytic = layer.backward(u)\n"
            "    shifted = x.copy()  # only the first entry is nudged\n"
            "    shifted.flat[0] += h\n"
            "    above = np.sum(u * layer.forward(shifted))\n"
            "    shifted.flat[0] -= 2 * h\n"
            "    below = np.sum(u * layer.forward(shifted))\n"
            "    return float(abs(analytic.flat[0] - (above - below) / (2 * h)))\n"
        )],
        "composite-blocks-needed": "blocks_needed = 10  # (1/2)^n < 1e-3 from the slope bound\n",
    },
}

# A wrong-k student who has no wrong answer for a slider's question reads it off the slider
# as the task says (the title, or the values written under the points): the slider runs the
# student's own earlier code beside bplib's, so a mistake there must not change what is read.
SLIDER_READINGS = {
    "01-telephone": {"telephone-max-second-rate": (
        "max_second_rate = max(float(rate) for rate in player_2_rates if float(\n"
        "    draw_line_error(rate).axes[0].get_title().split('simulated letter error ')[1]\n"
        "    .split('%')[0]) <= 25)\n"
    )},
    "02-chain-rule-graphs": {"graphs-friends-needed": (
        "friends_needed = next((n for n in group_sizes if -1 < float(\n"
        "    draw_bill_gradients(n).axes[0].get_title().split('friends = ')[1].split(';')[0])\n"
        "    < 0), 0)\n"
    )},
    "03-composite": {"composite-blocks-needed": (
        "blocks_needed = next((n for n in range(1, 13) if float(\n"
        "    draw_chain(n).axes[0].get_title().rsplit('= ', 1)[1]) < 1e-3), 12)\n"
    )},
    "04-per-neuron": {"neuron-eta-answer": (
        "eta_answer = next((float(eta) for eta in slider_rates\n"
        "                   if 0.74 <= float(draw_predictions(eta).axes[0].texts[2].get_text())\n"
        "                   <= 0.81), 0.0)\n"
    )},
    "05-full-algorithm": {"full-smallest-rate": (
        "smallest_good_rate = next((rate for rate in slider_rates if float(\n"
        "    draw_rate(rate).get_suptitle().split('accuracy ')[1].split('%')[0]) >= 93), 0.0)\n"
    )},
}

# Points a wrong-k student still loses in a task that is not its mistake's, with the reason
# (none may be listed without one).
COSTS_TWICE = {
    # (assignment, k): the test cells a wrong-k student also loses, besides its own task's.
    # Empty: every mistake costs only its own task (Assignment 5's Task 4 trains with
    # bplib's epoch in its visible part and with the reference epoch in its checks).
}

# What the feedback of a wrong-k student must say, and must not say, about its mistake:
# the first failed check names the mistake even where a visible assert fails first.
FEEDBACK_NAMES = {
    ("04-per-neuron", 3): (["the threshold moves against g_j"],
                           ["zhou_update should return a dict"]),
    ("04-per-neuron", 4): (["g_terms has no loop"], []),
    ("04-per-neuron", 5): (["zhou_update should compute g_j with g_terms"], []),
    ("05-full-algorithm", 3): (["backward_pass loops over the examples"], []),
    # the pooled error of the old task: the visible assert stops on a float, the verdict
    # still says what the check wants
    ("05-full-algorithm", 2): (["one (dW error, db error) pair per layer"], []),
    ("03-composite", 3): (["the last entry is upstream_grad"], []),
    ("02-chain-rule-graphs", 5): (["the gradients should be found by the backward passes"],
                                  []),
}

# Right answers given as numpy scalars: every typed check must accept them (full marks).
NUMPY_SCALAR_ANSWERS = {
    "01-telephone": {
        "telephone-line-error": (
            "def line_error(error_rates):\n"
            "    rates = np.asarray(error_rates, dtype=float)\n"
            "    if np.any((rates < 0) | (rates > 1)):\n"
            "        raise ValueError('an error rate must lie in [0, 1]')\n"
            "    return 1 - np.prod(1 - rates)  # an np.float64\n"
        ),
        "telephone-max-second-rate": "max_second_rate = np.float32(0.16)\n",
        "telephone-backward-count": (
            "def backward_count(groups, players):\n"
            "    return np.int64(groups) * (2 + (players - 1) * groups)\n"
        ),
    },
    "02-chain-rule-graphs": {
        "graphs-friends-needed": (
            "slopes = np.array([bill_gradients(**basket, friends=n)[1]['friends']\n"
            "                   for n in group_sizes])\n"
            "friends_needed = np.argmax(slopes > -1) + 1  # an np.int64\n"
        ),
        "graphs-path-sum-gradient": (
            "def path_sum_gradient(local, source, sink):\n"
            "    if source == sink:\n"
            "        return np.float64(1.0)\n"
            "    return np.sum([d * path_sum_gradient(local, head, sink)\n"
            "                   for (tail, head), d in local.items() if tail == source])\n"
        ),
    },
    "03-composite": {
        "composite-gradient-check": (
            "def gradient_check(layer, x, h=1e-5, seed=0):\n"
            "    x = np.array(x, dtype=float)\n"
            "    u = np.random.default_rng(seed).normal(size=layer.forward(x).shape)\n"
            "    analytic = layer.backward(u)\n"
            "    numeric = np.empty_like(x)\n"
            "    for k in np.ndindex(x.shape):\n"
            "        step = np.zeros_like(x)\n"
            "        step[k] = h\n"
            "        numeric[k] = (np.sum(u * layer.forward(x + step))\n"
            "                      - np.sum(u * layer.forward(x - step))) / (2 * h)\n"
            "    return np.max(np.abs(analytic - numeric))  # an np.float64\n"
        ),
        "composite-blocks-needed": "blocks_needed = np.int64(6)\n",
    },
    "04-per-neuron": {"neuron-eta-answer": "eta_answer = np.float32(0.8)\n"},
    "05-full-algorithm": {
        "full-gradient-check": gradient_check_with([
            "kept = array[index]",
            "array[index] = kept + h",
            "up = cost(params)",
            "array[index] = kept - h",
            "down = cost(params)",
            "array[index] = kept",
            "estimate[index] = (up - down) / (2 * h)",
        ], "the errors as numpy scalars").replace("float(apart / size)", "apart / size"),
        "full-smallest-rate": "smallest_good_rate = np.float64(0.3)\n",
        "full-train-digits": (
            "grid_accuracy = {}\n"
            "for rate in grid_rates:\n"
            "    for units in grid_units:\n"
            "        _, history = training_run(library_epoch, rate, 4, hidden_units=units)\n"
            "        for epochs, accuracy in enumerate(history['val_accuracy'], start=1):\n"
            "            setting = (np.float64(rate), np.int64(units), np.int64(epochs))\n"
            "            grid_accuracy[setting] = accuracy\n"
            "chosen_setting = max(grid_accuracy, key=grid_accuracy.get)  # numpy scalars\n"
        ),
    },
}

STUDENTS = ["perfect", "untouched", "deleted-test", "syntax-error", "kernel-exit",
            "numpy-scalars", "liar"]

# Student "liar" does no work: every name an answer cell should define is an object that
# claims to equal anything, to be less and greater than anything, and answers every call,
# attribute and index with itself; and numpy's comparisons always say yes. Nothing of it
# may earn a point, since the grader judges plain values in its own process.
LIAR = """\
import numpy as _np


class _Liar(float):
    def __new__(cls):
        return super().__new__(cls, 0.5)

    def __eq__(self, other):
        return True

    __le__ = __ge__ = __lt__ = __gt__ = __eq__
    __hash__ = float.__hash__

    def __ne__(self, other):
        return False

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter([self, self])

    def __len__(self):
        return 2


for _name in ("allclose", "array_equal", "isclose", "all", "any", "isfinite"):
    setattr(_np, _name, lambda *args, **kwargs: True)
"""


def defined_names(source):
    """The names an answer cell's solution defines (functions, classes, variables)."""
    names = []
    for node in ast.parse(without_markers(source)).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
    return names

pytestmark = pytest.mark.slow


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def is_test_cell(cell):
    return nbgrader_meta(cell).get("grade") and not nbgrader_meta(cell).get("solution")


def total_points(notebook):
    return sum(nbgrader_meta(cell).get("points", 0) for cell in notebook.cells
               if nbgrader_meta(cell).get("grade"))


def comparable(path):
    """What must not change between two releases: every cell's type, id, source,
    metadata and outputs, and the notebook's metadata."""
    notebook = nbformat.read(path, as_version=4)
    cells = [{key: cell.get(key) for key in ("cell_type", "id", "source", "metadata", "outputs")}
             for cell in notebook.cells]
    return {"metadata": notebook.metadata, "cells": cells}


def wrong_sets(assignment):
    """[{grade_id: code}, ...]: for student wrong-k, the k-th wrong answer of every entry."""
    entries = {grade_id: codes if isinstance(codes, list) else [codes]
               for grade_id, codes in WRONG_ANSWERS.get(assignment, {}).items()}
    count = max((len(codes) for codes in entries.values()), default=0)
    return [{grade_id: codes[k] for grade_id, codes in entries.items()
             if k < len(codes) and codes[k] is not None}
            for k in range(count)]


def students(assignment):
    return STUDENTS + [f"wrong-{k + 1}" for k in range(len(wrong_sets(assignment)))]


def submissions(source, release, assignment):
    """The notebooks each student hands in, built from the release as a student would."""
    def answered(replacements=None):
        return honest_submission(source, release, replacements)

    deleted_test = answered()
    first_test = next(i for i, cell in enumerate(deleted_test.cells) if is_test_cell(cell))
    del deleted_test.cells[first_test]

    syntax_error = answered()
    first_answer = next(cell for cell in syntax_error.cells if nbgrader_meta(cell).get("solution"))
    first_answer.source += "\ndef (:\n"

    liar = nbformat.from_dict(release)
    for cell in liar.cells:
        if nbgrader_meta(cell).get("solution"):
            names = defined_names(next(c.source for c in source.cells
                                       if nbgrader_meta(c).get("grade_id")
                                       == nbgrader_meta(cell)["grade_id"]))
            cell.source = LIAR + "".join(f"{name} = _Liar()\n" for name in names)

    kernel_exit = answered()
    kernel_exit.cells.insert(1, nbformat.v4.new_code_cell("import os\nos._exit(0)"))

    return {
        "perfect": answered(),
        "untouched": nbformat.from_dict(release),
        "deleted-test": deleted_test,
        "syntax-error": syntax_error,
        "kernel-exit": kernel_exit,
        "numpy-scalars": answered(NUMPY_SCALAR_ANSWERS.get(assignment, {})),
        "liar": liar,
        **{f"wrong-{k + 1}": answered({**SLIDER_READINGS.get(assignment, {}), **wrong})
           for k, wrong in enumerate(wrong_sets(assignment))},
    }


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def course(request, tmp_path_factory):
    """A graded copy of the course for one assignment: release, autograde and feedback."""
    assignment = request.param
    course = tmp_path_factory.mktemp(assignment)
    release_dir = released_copy(course, assignment)
    sources = sorted((course / "solutions" / assignment).glob("*.ipynb"))
    assert sources, f"no notebook in solutions/{assignment}"

    for source_path in sources:
        source = nbformat.read(source_path, as_version=4)
        release = nbformat.read(release_dir / source_path.name, as_version=4)
        for student, notebook in submissions(source, release, assignment).items():
            submit(course, assignment, student, notebook, source_path.name)

    # The perfect student alone, timed: the cost of grading one submission.
    start = time.perf_counter()
    alone = nbgrader(course, "autograde", assignment, "--student", "perfect", "--force")
    seconds_alone = time.perf_counter() - start
    assert alone.returncode == 0, alone.stderr
    # Then everyone else in one batch (already graded submissions are skipped).
    start = time.perf_counter()
    batch = nbgrader(course, "autograde", assignment)
    seconds_batch = time.perf_counter() - start

    feedback = nbgrader(course, "generate_feedback", assignment, "--force")

    scores = gradebook_scores(course, assignment, students(assignment))

    return {
        "assignment": assignment, "root": course, "sources": sources,
        "release_dir": release_dir, "scores": scores, "batch": batch, "feedback": feedback,
        "full_marks": sum(total_points(nbformat.read(path, as_version=4)) for path in sources),
        "students": students(assignment),
        "seconds": {"alone": seconds_alone,
                    "batch_per_submission": seconds_batch / (len(students(assignment)) - 1)},
    }


def test_sources_pass_validation(course):
    for source in course["sources"]:
        assert Validator().validate(str(source)) == {}, source.name


def test_releases_fail_validation(course):
    for source in course["sources"]:
        result = Validator().validate(str(course["release_dir"] / source.name))
        assert result.get("failed"), f"the release of {source.name} passes its own tests"


def test_regenerated_release_matches_the_committed_one(course):
    committed_dir = REPO / "exercises" / course["assignment"]
    generated_dir = course["release_dir"]
    committed, generated = (sorted(path.relative_to(folder) for path in folder.rglob("*")
                                   if path.is_file())
                            for folder in (committed_dir, generated_dir))
    assert committed == generated, "run `nbgrader generate_assignment NAME --force` and commit"
    for name in generated:
        if name.suffix == ".ipynb":
            assert comparable(generated_dir / name) == comparable(committed_dir / name), (
                f"exercises/{course['assignment']}/{name} is stale: regenerate it with nbgrader")
        else:
            assert (generated_dir / name).read_bytes() == (committed_dir / name).read_bytes()


def test_autograde_time(course, record_property):
    seconds = course["seconds"]
    print(f"\n{course['assignment']}: autograde {seconds['alone']:.1f} s for one student alone, "
          f"{seconds['batch_per_submission']:.1f} s per submission in a batch")
    record_property("autograde_seconds", seconds)
    assert seconds["alone"] < 60


def test_solution_gets_full_marks(course):
    assert course["full_marks"] > 0
    assert course["scores"]["perfect"] == (course["full_marks"], course["full_marks"])


def test_untouched_release_gets_zero(course):
    assert course["scores"]["untouched"] == (0, course["full_marks"])


def test_deleted_test_cell_is_restored(course):
    # Restored from the gradebook and run: the points count, out of the full total.
    assert course["scores"]["deleted-test"] == (course["full_marks"], course["full_marks"])


def test_syntax_error_costs_only_its_own_task(course):
    score, max_score = course["scores"]["syntax-error"]
    assert max_score == course["full_marks"]
    assert 0 < score < max_score


def test_kernel_exit_fails_alone(course):
    # os._exit kills the kernel: that submission gets no score, autograde reports the failure
    # (exit code 1), and every other student in the same batch is still graded.
    assert course["scores"]["kernel-exit"] in (None, (0, course["full_marks"]))
    assert course["batch"].returncode == 1, course["batch"].stderr
    for student in course["students"]:
        if student in ("perfect", "kernel-exit"):
            continue
        assert course["scores"][student] is not None, student
        assert (course["root"] / "autograded" / student / course["assignment"]).is_dir()


def test_lying_objects_and_patched_numpy_earn_nothing(course):
    assert course["scores"]["liar"] == (0, course["full_marks"])


def test_numpy_scalars_pass_every_typed_check(course):
    assert NUMPY_SCALAR_ANSWERS.get(course["assignment"]), "list numpy-scalar answers"
    assert course["scores"]["numpy-scalars"] == (course["full_marks"], course["full_marks"])


def test_wrong_answers_lose_exactly_their_points(course):
    # The feedback leak scan also needs them: failed hidden tests are where leaks happen.
    wrong_sets_here = wrong_sets(course["assignment"])
    assert wrong_sets_here, f"list plausible wrong answers for {course['assignment']}"
    for k, wrong in enumerate(wrong_sets_here):
        twice = COSTS_TWICE.get((course["assignment"], k + 1), [])
        lost = 0
        for source in course["sources"]:
            for cell in nbformat.read(source, as_version=4).cells:
                if nbgrader_meta(cell).get("grade_id", "").removesuffix("-tests") in wrong:
                    lost += nbgrader_meta(cell).get("points", 0) if is_test_cell(cell) else 0
        assert lost > 0, "WRONG_ANSWERS names answer cells without a '<id>-tests' cell"
        for source in course["sources"]:
            for cell in nbformat.read(source, as_version=4).cells:
                if nbgrader_meta(cell).get("grade_id", "").removesuffix("-tests") in twice:
                    lost += nbgrader_meta(cell).get("points", 0) if is_test_cell(cell) else 0
        print(f"{course['assignment']} wrong-{k + 1}: {course['scores'][f'wrong-{k + 1}']}")
        assert course["scores"][f"wrong-{k + 1}"] == (
            course["full_marks"] - lost, course["full_marks"]), sorted(wrong)


def test_feedback_names_the_mistake(course):
    """A visible assert that fails stops its test cell, but the verdict (and so the
    feedback) still gives the message of the check that names the mistake, not the one of
    the first check that did not run."""
    for (assignment, k), (said, unsaid) in FEEDBACK_NAMES.items():
        if assignment != course["assignment"]:
            continue
        for source in course["sources"]:
            graded = nbformat.read(course["root"] / "autograded" / f"wrong-{k}" / assignment
                                   / source.name, as_version=4)
            verdicts = [str(output.get("evalue", "")) for cell in graded.cells
                        if is_test_cell(cell) for output in cell.get("outputs", [])]
            text = html_text(course["root"] / "feedback" / f"wrong-{k}" / assignment
                             / (source.stem + ".html"))
            for message in said:
                assert any(message in verdict for verdict in verdicts), (k, message, verdicts)
                assert message in text, (k, message)
            for message in unsaid:
                assert not any(message in verdict for verdict in verdicts), (k, message)


def test_release_shows_no_solution_and_no_hidden_test(course):
    for source in course["sources"]:
        secrets = secret_lines(nbformat.read(source, as_version=4))
        assert secrets["SOLUTION"] and secrets["HIDDEN TESTS"], "nothing to scan for"
        release = nbformat.read(course["release_dir"] / source.name, as_version=4)
        release_text = "\n".join(cell.source for cell in release.cells)
        assert not re.search(MARKER, release_text), f"a region marker in {source.name}"
        for kind, lines in secrets.items():
            leaked = sorted(line for line in lines if line in release_text)
            assert not leaked, f"{kind} lines in the release of {source.name}: {leaked}"


def test_feedback_shows_no_hidden_test_and_no_solution(course):
    assert course["feedback"].returncode in (0, 1), course["feedback"].stderr
    for source in course["sources"]:
        secrets = secret_lines(nbformat.read(source, as_version=4))
        # From the last test cell: the deleted-test student lacks the first one until restored.
        visible_test_line = next(
            line.strip() for cell in reversed(nbformat.read(source, as_version=4).cells)
            if is_test_cell(cell)
            for line in cell.source.splitlines()
            if len(line.strip()) >= MIN_SECRET_LENGTH and "###" not in line)
        for student in course["students"]:
            page = course["root"] / "feedback" / student / course["assignment"] / (
                source.stem + ".html")
            if student == "kernel-exit":
                continue  # never autograded, so no feedback
            assert page.is_file(), f"no feedback for {student}"
            text = html_text(page)
            assert not re.search(MARKER, text), f"a region marker in {student}'s feedback"
            # The scan can see code at all: a visible test line is shown to every student.
            assert visible_test_line in text, f"{visible_test_line!r} not found in {page}"
            leaked = sorted(line for line in secrets["HIDDEN TESTS"] if line in text)
            assert not leaked, f"hidden tests in {student}'s feedback: {leaked}"
            if student == "untouched":  # the others wrote (some of) the solution themselves
                leaked = sorted(line for line in secrets["SOLUTION"] if line in text)
                assert not leaked, f"solution lines in {student}'s feedback: {leaked}"


def test_bplib_holds_no_exercise_answer():
    """bplib serves every exercise, so no solution or hidden-test line may be in it
    (imports aside: `import numbers` is everyone's)."""
    secrets = {line for line in all_secret_lines() if not line.startswith(("import ", "from "))}
    assert secrets, "no solution lines found: the scan would prove nothing"
    modules = sorted((REPO / "bplib").rglob("*.py"))
    assert leaks_in(modules, secrets) == []


# Answers with the right numbers and no loop: the task asks for a loop, so the visible test
# cell must say so before the student hands in (not only the hidden check at grading).
VECTORISED = {
    "neuron-g-terms": ("g_terms", "def g_terms(y_hat, y):\n"
                       "    return (1.0 - y_hat ** 2) * (y - y_hat)\n"),
    "neuron-e-terms": ("e_terms", "def e_terms(w, b, g):\n"
                       "    return (1.0 - b ** 2) * (w @ g)\n"),
    "neuron-g-bce": ("g_terms_bce", "def g_terms_bce(y_hat, y):\n"
                     "    return np.asarray(y, dtype=float) - y_hat\n"),
}


def test_visible_tests_of_assignment_4_ask_for_loops():
    """Run in this process: the release's cells up to Task 3's test, with the solution's
    answers; each test cell of Tasks 1 to 3 passes them, and fails a vectorised answer
    naming the missing loop."""
    name = "04-per-neuron"
    source = nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4)
    release = nbformat.read(REPO / "exercises" / name / f"{name}.ipynb", as_version=4)
    answers = {cell.metadata["nbgrader"]["grade_id"]: without_markers(cell.source)
               for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}
    namespace = {"__name__": "__main__"}
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type != "code":
            continue
        exec(compile(answers.get(grade_id, cell.source), grade_id, "exec"), namespace)
        if grade_id.removesuffix("-tests") in VECTORISED and grade_id.endswith("-tests"):
            function, vectorised = VECTORISED[grade_id.removesuffix("-tests")]
            right = namespace[function]
            exec(compile(vectorised, "vectorised", "exec"), namespace)
            with pytest.raises(AssertionError, match=f"{function} has no loop"):
                exec(compile(cell.source, grade_id, "exec"), namespace)
            namespace[function] = right
        if grade_id == "neuron-g-bce-tests":
            break
    else:
        pytest.fail("no test cell of Task 3 in the release")


def test_assignment_4_slider_names_the_value_after_two_updates():
    """The slider of Task 5 (the release's cells run here with the solution's answers): its
    title gives the reference prediction after exactly two updates, the value written at
    the point 2, its ticks are whole updates, and your line is drawn over the reference."""
    name = "04-per-neuron"
    source = nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4)
    release = nbformat.read(REPO / "exercises" / name / f"{name}.ipynb", as_version=4)
    answers = {cell.metadata["nbgrader"]["grade_id"]: without_markers(cell.source)
               for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}
    namespace = {"__name__": "__main__"}
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and not grade_id.endswith("-tests"):
            exec(compile(answers.get(grade_id, cell.source), grade_id, "exec"), namespace)
        if grade_id == "neuron-imports":  # the frames are drawn below, not all 30 of them
            namespace["widgets"] = types.SimpleNamespace(frame_slider=lambda *args, **kw: None)
        if grade_id == "neuron-rate-slider":
            break
    ax = namespace["draw_predictions"](0.8).axes[0]
    after_two = namespace["first_predictions"](namespace["numerical_update"], 0.8)[2]
    assert ax.get_title().endswith(f"two updates (the point at 2): {after_two:.3f}")
    assert ax.texts[2].get_text() == f"{after_two:.3f}"
    assert list(ax.get_xticks()) == [0, 1, 2, 3, 4]
    reference, yours = ax.lines[0], ax.lines[-1]
    assert yours.get_label() == "your zhou_update"
    assert yours.get_zorder() > reference.get_zorder()
    assert reference.get_linewidth() > 2 * yours.get_linewidth()
    assert reference.get_marker() != yours.get_marker()
    assert reference.get_markersize() > 2 * yours.get_markersize()


def test_assignment_2_bill_slider_bars_are_the_gradients_to_the_decimals_shown():
    """The bill slider's bars are central differences (so that Assignment 2's grading kernel
    never needs chapter 2's graph): as its text says, for every group size they are within
    1e-6 of the gradients of bplib's graph (the error for `friends` is about
    total h^2 / friends^4, the others' rounding only), the title's d share / d friends is
    what a right bill_gradients returns, to its three decimals, and each bar's label (two
    decimals) is the exact gradient's, but where that lies on a tie of the rounding."""
    from bplib import graph

    name = "02-chain-rule-graphs"
    source = nbformat.read(REPO / "solutions" / name / f"{name}.ipynb", as_version=4)
    namespace = {"__name__": "__main__"}
    for cell in source.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id in ("graphs-imports", "graphs-div-layer", "graphs-bill-gradients",
                        "graphs-bill-slider"):
            exec(compile(cell.source, grade_id, "exec"), namespace)
        if grade_id == "graphs-imports":  # no frames drawn: the bars are compared below
            namespace["widgets"] = types.SimpleNamespace(frame_slider=lambda *args, **kw: None)
    basket, h = namespace["basket"], 1e-4
    assert "h=1e-4" in next(cell.source for cell in source.cells if cell.metadata.get(
        "nbgrader", {}).get("grade_id") == "graphs-bill-slider")
    assert "$h = 10^{-4}$" in next(cell.source for cell in source.cells if cell.metadata.get(
        "nbgrader", {}).get("grade_id") == "graphs-bill-slider-intro")
    for friends in namespace["group_sizes"]:
        share, bars = namespace["nudged_gradients"](friends)
        nodes = {key: graph.Value(float(value)) for key, value in {**basket,
                                                                   "friends": friends}.items()}
        top = (nodes["notebook_price"] * nodes["notebook_count"]
               + nodes["pen_price"] * nodes["pen_count"]) * nodes["tax"] / nodes["friends"]
        exact = dict(zip(nodes, graph.gradients(top, list(nodes.values())), strict=True))
        assert share == pytest.approx(top.data, abs=1e-12) and set(bars) == set(exact)
        total = top.data * friends
        right = namespace["bill_gradients"](**basket, friends=friends)[1]["friends"]
        assert f"{bars['friends']:.3f}" == f"{right:.3f}" == f"{exact['friends']:.3f}"
        for key, value in exact.items():
            error = abs(bars[key] - value)
            assert error < 1e-6, (friends, key, error)
            tie = abs(abs(value) * 100 % 1 - 0.5) < 1e-6  # 1.925: 1.92 and 1.93 both right
            assert tie or f"{bars[key]:.2f}" == f"{value:.2f}", (friends, key)
            if key == "friends":  # the truncation error the text states
                # (and rounding, about 1e-10 here, that matters only for large groups)
                assert error == pytest.approx(total * h ** 2 / friends ** 4, rel=0.01,
                                              abs=1e-10)
            else:
                assert error < 1e-9, (friends, key, error)


def test_each_graded_slider_question_says_how_to_draw_a_frame_without_widgets():
    """A slider whose reading is a graded answer (a value, not a function, in one of the
    next three cells) is next to a sentence saying which call draws one of its frames in a
    new cell: without live widgets (a headless run, a viewer that shows none) the question
    can still be answered."""
    asked = 0
    for path in sorted((REPO / "exercises").glob("*/*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for index, cell in enumerate(cells):
            drawn = re.search(r"widgets\.frame_slider\(\s*(\w+),", cell.source)
            if cell.cell_type != "code" or not drawn:
                continue
            answers = [other for other in cells[index + 1:index + 4]
                       if other.metadata.get("nbgrader", {}).get("solution")]
            if not answers or "def " in answers[0].source:
                continue
            asked += 1
            said = " ".join(other.source for other in cells[max(0, index - 1):index + 2]
                            if other.cell_type == "markdown")
            assert "draw one frame in a new cell" in said.lower() and \
                f"`{drawn.group(1)}(" in said, \
                f"{path.name}: the slider of {drawn.group(1)} says no call that draws a frame"
    assert asked == 5, f"{asked} graded slider questions found, one per assignment expected"
