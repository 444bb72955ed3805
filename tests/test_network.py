"""bplib.network against independent gradients: autograd and central differences."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

import bplib.network as network
from bplib.network import (backprop, forward, init_params, loss, n_params,
                           numerical_gradient, sigmoid)

SHAPES = [[1, 1], [3, 2], [4, 5, 3], [2, 6, 6, 2], [5, 3, 4, 1, 2]]
BATCHES = [1, 3, 8]


def random_problem(sizes, batch, seed):
    """A network with non-zero biases (so their gradients are tested too) and a batch."""
    rng = np.random.default_rng(seed)
    params = [(W, rng.normal(size=b.shape)) for W, b in init_params(sizes, rng)]
    x = rng.normal(size=(sizes[0], batch))
    y = rng.random((sizes[-1], batch))
    return params, x, y


def autograd_loss(params, x, y):
    """The quadratic cost written again in autograd.numpy, independently of bplib."""
    a = x
    for W, b in params:
        a = 1 / (1 + anp.exp(-(anp.dot(W, a) + b)))
    return anp.sum((a - y) ** 2) / (2 * x.shape[1])


def central_differences(params, x, y, h=1e-5):
    """(C(p + h) - C(p - h)) / 2h for every parameter, on copies of params."""
    grads = []
    for layer, (W, b) in enumerate(params):
        layer_grads = []
        for which, array in enumerate((W, b)):
            g = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                values = []
                for step in (h, -h):
                    nudged = [(W2.copy(), b2.copy()) for W2, b2 in params]
                    nudged[layer][which][index] += step
                    values.append(autograd_loss(nudged, x, y))
                g[index] = (values[0] - values[1]) / (2 * h)
            layer_grads.append(g)
        grads.append(layer_grads)
    return grads


def assert_grads_close(actual, expected, atol):
    assert len(actual) == len(expected)
    for (dW, db), (eW, eb) in zip(actual, expected, strict=True):
        assert dW.shape == eW.shape and db.shape == eb.shape
        np.testing.assert_allclose(dW, eW, rtol=1e-5, atol=atol)
        np.testing.assert_allclose(db, eb, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("sizes", SHAPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_loss_and_backprop_match_autograd(sizes, batch):
    params, x, y = random_problem(sizes, batch, seed=len(sizes) * 10 + batch)
    assert loss(params, x, y) == pytest.approx(autograd_loss(params, x, y), rel=1e-12)
    assert_grads_close(backprop(params, x, y), grad(autograd_loss)(params, x, y), atol=1e-12)


@pytest.mark.parametrize("sizes", SHAPES)
def test_backprop_matches_central_differences(sizes):
    params, x, y = random_problem(sizes, batch=4, seed=len(sizes))
    assert_grads_close(backprop(params, x, y), central_differences(params, x, y), atol=1e-8)


@pytest.mark.parametrize("sizes", SHAPES)
def test_numerical_gradient_matches_backprop(sizes):
    params, x, y = random_problem(sizes, batch=5, seed=7 + len(sizes))
    fd_grads, _ = numerical_gradient(params, x, y)
    # Forward differences are first-order accurate: error about h * C'' ~ 1e-6.
    assert_grads_close(fd_grads, backprop(params, x, y), atol=1e-5)


def test_numerical_gradient_counts_calls_and_restores_params(monkeypatch):
    params, x, y = random_problem([3, 4, 2], batch=6, seed=1)
    # Values far below h do not survive (p + h) - h: only saving and restoring gets them back.
    params[0][0][0] *= 1e-7
    saved = [(W.copy(), b.copy()) for W, b in params]
    calls = []
    real_loss = network.loss

    def counting_loss(*args):
        calls.append(1)
        return real_loss(*args)

    monkeypatch.setattr(network, "loss", counting_loss)
    _, loss_calls = numerical_gradient(params, x, y)
    assert n_params(params) == 3 * 4 + 4 + 4 * 2 + 2 == 26  # counted by hand
    assert len(calls) == loss_calls == 27
    for (W, b), (W0, b0) in zip(params, saved, strict=True):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)  # bit for bit


def test_init_params_shapes_scale_and_seed():
    params = init_params([400, 300, 2], rng=0)
    assert [(W.shape, b.shape) for W, b in params] == [((300, 400), (300, 1)), ((2, 300), (2, 1))]
    assert all(np.all(b == 0) for _, b in params)
    assert params[0][0].std() == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert params[0][0].mean() == pytest.approx(0, abs=0.002)
    again = init_params([400, 300, 2], rng=np.random.default_rng(0))
    assert all(np.array_equal(W, W2) for (W, _), (W2, _) in zip(params, again, strict=True))


def test_forward_and_loss_by_hand():
    zero = [(np.zeros((2, 3)), np.zeros((2, 1)))]
    x, y = np.ones((3, 4)), np.zeros((2, 4))
    activations = forward(zero, x)
    assert len(activations) == 2 and np.array_equal(activations[0], x)
    np.testing.assert_array_equal(activations[1], np.full((2, 4), 0.5))
    # Every output is 1/2 and every target 0: C = (2 * 4 * 1/4) / (2 * 4) = 1/4.
    assert loss(zero, x, y) == pytest.approx(0.25)
    assert sigmoid(0.0) == 0.5
    assert sigmoid(np.array([-800.0, 800.0])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("bad_x, message", [
    (np.ones((2, 5)), r"x expected shape \(3, batch\).*got \(2, 5\)"),
    (np.ones(3), r"x expected shape \(3, batch\).*got \(3,\)"),
    (np.array([[np.nan], [0.0], [0.0]]), "x contains NaN or infinity"),
])
def test_bad_x_is_rejected(bad_x, message):
    params = init_params([3, 2], rng=0)
    with pytest.raises(ValueError, match=message):
        forward(params, bad_x)


def test_bad_y_is_rejected():
    params, x, y = random_problem([3, 2], batch=4, seed=0)
    with pytest.raises(ValueError, match=r"y expected shape \(2, 4\).*got \(2, 3\)"):
        loss(params, x, y[:, :3])
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        backprop(params, x, np.full_like(y, np.inf))


def test_bad_params_are_rejected():
    W1, b1 = np.ones((4, 3)), np.zeros((4, 1))
    x = np.ones((3, 2))
    with pytest.raises(ValueError,
                       match=r"params\[1\]: W expected shape \(n_out, 4\), got \(2, 5\)"):
        forward([(W1, b1), (np.ones((2, 5)), np.zeros((2, 1)))], x)
    with pytest.raises(ValueError, match=r"params\[0\]: b expected shape \(4, 1\), got \(4,\)"):
        forward([(W1, np.zeros(4))], x)
    with pytest.raises(ValueError, match="float numpy array"):
        numerical_gradient([(np.ones((4, 3), dtype=int), b1)], x, np.ones((4, 2)))
    with pytest.raises(ValueError, match="non-empty list"):
        loss([], x, x)


@pytest.mark.parametrize("call", [
    lambda: init_params([3]),
    lambda: init_params([3, 0]),
    lambda: init_params([3, 2.5]),
    lambda: init_params([3, 2], rng="seed"),
    lambda: numerical_gradient(init_params([1, 1], rng=0), np.ones((1, 1)), np.ones((1, 1)), h=0),
])
def test_other_bad_input_is_rejected(call):
    with pytest.raises(ValueError):
        call()


# Chapter 5's additions: the cross-entropy cost, ReLU hidden layers, the trainer.

def autograd_cost(params, x, y, cost, hidden):
    """Both costs and both hidden activations, written again in autograd.numpy."""
    a = x
    for layer, (W, b) in enumerate(params):
        z = anp.dot(W, a) + b
        if layer == len(params) - 1 or hidden == "sigmoid":
            a = 1 / (1 + anp.exp(-z))
        else:
            a = anp.maximum(z, 0.0)
    if cost == "quadratic":
        return anp.sum((a - y) ** 2) / (2 * x.shape[1])
    return -anp.sum(y * anp.log(a) + (1 - y) * anp.log(1 - a)) / x.shape[1]


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("hidden", ["sigmoid", "relu"])
@pytest.mark.parametrize("seed", range(6))
def test_costs_and_activations_match_autograd(cost, hidden, seed):
    rng = np.random.default_rng(100 + seed)
    sizes = [int(n) for n in rng.integers(1, 7, size=int(rng.integers(2, 6)))]
    params, x, y = random_problem(sizes, batch=int(rng.integers(1, 9)), seed=seed)
    options = {"cost": cost, "hidden": hidden}
    assert loss(params, x, y, **options) == pytest.approx(
        autograd_cost(params, x, y, cost, hidden), rel=1e-10)
    expected = grad(autograd_cost)(params, x, y, cost, hidden)
    assert_grads_close(backprop(params, x, y, **options), expected, atol=1e-12)
    fd = network.central_differences(params, x, y, **options)
    assert_grads_close(fd, expected, atol=1e-7)
    assert network.relative_error(backprop(params, x, y, **options), fd) < 1e-6


def test_cross_entropy_is_finite_when_the_output_saturates():
    W, b = np.array([[40.0]]), np.array([[0.0]])
    x, y = np.array([[1.0, -1.0]]), np.array([[0.0, 1.0]])  # sigma(40) rounds to 1.0
    # ln(1 + e^40) is 40 to double precision, for each of the two examples.
    assert loss([(W, b)], x, y, cost="cross-entropy") == pytest.approx(40.0)
    ((dW, db),) = backprop([(W, b)], x, y, cost="cross-entropy")
    assert np.all(np.isfinite(dW)) and dW[0, 0] == pytest.approx(1.0)


def test_relative_error_one_number_for_all_layers():
    a = [(np.array([[3.0]]), np.array([[4.0]]))]
    b = [(np.array([[3.0]]), np.array([[4.0 + 1e-3]]))]
    assert network.relative_error(a, a) == 0.0
    assert network.relative_error(a, b) == pytest.approx(1e-3 / (5 + np.hypot(3, 4 + 1e-3)))
    zero = [(np.zeros((1, 1)), np.zeros((1, 1)))]
    assert network.relative_error(zero, zero) == 0.0
    with pytest.raises(ValueError, match="different shapes"):
        network.relative_error(a, [(np.ones((1, 2)), np.ones((1, 1)))])


def test_one_hot_predict_and_accuracy():
    targets = network.one_hot(np.array([2, 0, 1]), n_classes=3)
    np.testing.assert_array_equal(targets, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    # A single layer that copies its input: the class is the row of the largest entry.
    identity = [(np.eye(3) * 50, np.zeros((3, 1)))]
    x = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert network.predict(identity, x).tolist() == [0, 2, 1]
    assert network.accuracy(identity, x, np.array([0, 2, 2])) == pytest.approx(2 / 3)
    for bad in (np.array([0, 3]), np.array([0.5]), np.array([[1]])):
        with pytest.raises(ValueError, match="labels must be"):
            network.one_hot(bad, n_classes=3)


def test_digits_files_are_scikit_learns_split_as_documented():
    """bplib's file and the grader's together are scikit-learn's digits, exactly, split by
    the recipe bplib/data/README.md gives; the grader's rows are not in bplib's file."""
    from sklearn.datasets import load_digits

    from grading.holdout import HOLDOUT_FILE

    reference = load_digits()
    held = np.sort(np.random.default_rng(20261202).permutation(1797)[:297])
    kept = np.setdiff1d(np.arange(1797), held)
    images, labels = network._digits_file()
    assert np.array_equal(images, reference.data[kept])
    assert np.array_equal(labels, reference.target[kept])
    with np.load(network.DIGITS_FILE) as shipped, np.load(HOLDOUT_FILE) as holdout:
        assert shipped["images"].dtype == np.uint8 and sorted(shipped) == [
            "images", "labels", "source_row"]
        assert np.array_equal(shipped["source_row"], kept)
        assert np.array_equal(holdout["source_row"], held)
        assert np.array_equal(holdout["images"], reference.data[held])
        assert np.array_equal(holdout["labels"], reference.target[held])
    # No image of the grader's is in bplib's file, not even as a duplicate drawing.
    shipped_images = {row.tobytes() for row in reference.data[kept].astype(np.uint8)}
    assert not any(row.tobytes() in shipped_images
                   for row in reference.data[held].astype(np.uint8))


def test_grader_holdout_loads_scaled_like_digits():
    from grading.holdout import holdout_digits

    x, labels = holdout_digits()
    assert x.shape == (64, 297) and labels.shape == (297,)
    assert 0 <= x.min() and x.max() == 1 and set(labels) == set(range(10))


def test_an_instructors_own_holdout_replaces_the_shipped_one(tmp_path):
    """grading-records/digits_holdout.npz of the course, when there is one, is what the
    grader measures Assignment 5's networks on; a malformed one is refused, saying why."""
    from grading.holdout import HOLDOUT_FILE, holdout_digits, holdout_file

    assert holdout_file(tmp_path) == HOLDOUT_FILE  # no file of the instructor's yet
    records = tmp_path / "grading-records"
    records.mkdir()
    rng = np.random.default_rng(7)
    images, labels = rng.integers(0, 17, size=(30, 64)), np.arange(30) % 10
    np.savez(records / "digits_holdout.npz", images=images, labels=labels)
    x, got = holdout_digits(tmp_path)
    assert np.array_equal(x, images.T / 16.0) and np.array_equal(got, labels)
    np.savez(records / "digits_holdout.npz", images=images * 2, labels=labels)
    with pytest.raises(ValueError, match="pixels 0..16"):
        holdout_digits(tmp_path)
    np.savez(records / "digits_holdout.npz", pixels=images)
    with pytest.raises(ValueError, match="'images' and 'labels'"):
        holdout_digits(tmp_path)


def test_digits_split_and_standardize():
    split = network.digits(rng=0)
    x_train, labels_train, x_val, labels_val, x_test, labels_test = split
    assert [x.shape for x in split[::2]] == [(64, 1000), (64, 250), (64, 250)]
    assert [len(labels) for labels in split[1::2]] == [1000, 250, 250]
    # The three splits are disjoint and together hold every image once.
    images, labels = network._digits_file()
    together = np.concatenate([x_train, x_val, x_test], axis=1) * 16
    order = np.lexsort(together[::-1])
    assert np.array_equal(together[:, order], images.T[:, np.lexsort(images.T[::-1])])
    assert sorted(np.concatenate(split[1::2])) == sorted(labels)
    assert 0 <= x_train.min() and x_train.max() <= 1
    assert all(set(labels) == set(range(10)) for labels in split[1::2])
    again = network.digits(rng=0)
    assert all(np.array_equal(first, second) for first, second in zip(split, again, strict=True))
    other = network.digits(rng=1, validation_size=100, test_size=300)
    assert [x.shape[1] for x in other[::2]] == [1100, 100, 300]
    assert not np.array_equal(other[5][:250], labels_test)
    scaled_train, scaled_val, scaled_test = network.standardize(x_train, x_val, x_test)
    busy = x_train.std(axis=1) > 0.2
    np.testing.assert_allclose(scaled_train.mean(axis=1), 0, atol=1e-12)
    assert np.all(scaled_train.std(axis=1)[busy] > 0.6)
    assert scaled_val.shape == x_val.shape and scaled_test.shape == x_test.shape
    for bad, message in (({"test_size": 0}, "test_size must be a positive whole"),
                         ({"validation_size": 0.2}, "validation_size must be a positive"),
                         ({"test_size": 1000, "validation_size": 500}, "must leave training")):
        with pytest.raises(ValueError, match=message):
            network.digits(**bad)


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("hidden", ["sigmoid", "relu"])
def test_one_epoch_is_plain_minibatch_sgd(cost, hidden):
    """train, written out step by step: the same shuffle, batches and updates."""
    params, x, y = random_problem([3, 4, 5, 2], batch=10, seed=3)
    trained, history = network.train(params, x, y, epochs=1, batch_size=4,
                                     learning_rate=0.7, rng=5, cost=cost, hidden=hidden)
    order = np.random.default_rng(5).permutation(10)
    expected = [(W.copy(), b.copy()) for W, b in params]
    costs = []
    for batch in (order[:4], order[4:8], order[8:]):
        costs.append(autograd_cost(expected, x[:, batch], y[:, batch], cost, hidden)
                     * len(batch))
        step = grad(autograd_cost)(expected, x[:, batch], y[:, batch], cost, hidden)
        expected = [(W - 0.7 * dW, b - 0.7 * db)
                    for (W, b), (dW, db) in zip(expected, step, strict=True)]
    assert_grads_close(trained, expected, atol=1e-12)
    assert history == {"loss": [pytest.approx(sum(costs) / 10, rel=1e-12)]}
    original = random_problem([3, 4, 5, 2], batch=10, seed=3)[0]
    for (W, b), (W0, b0) in zip(params, original, strict=True):  # the caller's params are untouched
        assert np.array_equal(W, W0) and np.array_equal(b, b0)


def test_training_on_digits_learns():
    x_train, labels_train, x_val, labels_val, _, _ = network.digits(rng=1)
    x_train, x_val = network.standardize(x_train, x_val)
    params = init_params([64, 32, 10], rng=0)
    trained, history = network.train(params, x_train, network.one_hot(labels_train),
                                     epochs=8, batch_size=32, learning_rate=1.0, rng=0,
                                     cost="cross-entropy", x_val=x_val, labels_val=labels_val)
    assert len(history["loss"]) == len(history["val_accuracy"]) == 8
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["val_accuracy"][-1] == network.accuracy(trained, x_val, labels_val)
    # Guessing gets 10%; a network that learned anything gets far more.
    assert history["val_accuracy"][-1] > 0.9


@pytest.mark.parametrize("options, message", [
    ({"epochs": 0}, "epochs must be a positive whole number"),
    ({"epochs": 2.0}, "epochs must be a positive whole number"),
    ({"batch_size": True}, "batch_size must be a positive whole number"),
    ({"learning_rate": -0.1}, "learning_rate must be a positive number"),
    ({"learning_rate": float("nan")}, "learning_rate must be a positive number"),
    ({"cost": "hinge"}, "cost must be one of"),
    ({"hidden": "tanh"}, "hidden must be one of"),
    ({"x_val": np.ones((2, 4)), "labels_val": np.zeros(3)},
     r"labels_val expected shape \(4,\), got \(3,\)"),
    ({"x_val": np.ones((3, 4))}, r"x_val expected shape \(2, batch\)"),
])
def test_train_rejects_bad_input(options, message):
    params, x, y = random_problem([2, 3], batch=5, seed=0)
    arguments = {"epochs": 1, "batch_size": 2, "learning_rate": 0.1, **options}
    with pytest.raises(ValueError, match=message):
        network.train(params, x, y, **arguments)


# Chapter 5's later additions: per-array gradient checks and the softmax output layer.

def test_relative_errors_one_number_per_array():
    rng = np.random.default_rng(5)
    g = [(rng.normal(size=(3, 2)), rng.normal(size=(3, 1))),
         (rng.normal(size=(1, 3)), rng.normal(size=(1, 1)))]
    assert network.relative_errors(g, g) == [(0.0, 0.0), (0.0, 0.0)]
    # A zeroed array is wrong by 1 on its own, whatever the other arrays hold.
    zeroed = [(np.zeros_like(g[0][0]), g[0][1]), g[1]]
    assert network.relative_errors(zeroed, g)[0] == (1.0, 0.0)
    # An array k times too large: |k g - g| / (|k g| + |g|) = (k - 1) / (k + 1).
    scaled = [g[0], (g[1][0], 3 * g[1][1])]
    assert network.relative_errors(scaled, g)[1][1] == pytest.approx(2 / 4, rel=1e-12)
    flipped = [(-dW, -db) for dW, db in g]
    np.testing.assert_allclose(network.relative_errors(flipped, g), 1.0, rtol=1e-12)
    # The pooled error of the zeroed gradient is the same as the arrays' pooled by hand.
    flat = lambda grads: np.concatenate([a.ravel() for pair in grads for a in pair])  # noqa
    pooled = np.linalg.norm(flat(zeroed) - flat(g)) / (np.linalg.norm(flat(zeroed))
                                                     + np.linalg.norm(flat(g)))
    assert network.relative_error(zeroed, g) == pytest.approx(pooled, rel=1e-12)
    zero = [(np.zeros((1, 1)), np.zeros((1, 1)))]
    assert network.relative_errors(zero, zero) == [(0.0, 0.0)]


@pytest.mark.parametrize("other, message", [
    ([(np.ones((1, 2)), np.ones((1, 1)))], "dW has shapes"),
    ([(np.ones((1, 1)), np.ones((1, 1)))] * 2, "layers"),
])
def test_relative_errors_reject_mismatched_gradients(other, message):
    with pytest.raises(ValueError, match=message):
        network.relative_errors([(np.ones((1, 1)), np.ones((1, 1)))], other)


def autograd_softmax_cost(params, x, y, hidden):
    """The softmax output's cross-entropy, written again in autograd.numpy."""
    a = x
    for W, b in params[:-1]:
        z = anp.dot(W, a) + b
        a = 1 / (1 + anp.exp(-z)) if hidden == "sigmoid" else anp.maximum(z, 0.0)
    z = anp.dot(params[-1][0], a) + params[-1][1]
    probabilities = anp.exp(z) / anp.sum(anp.exp(z), axis=0)
    return -anp.sum(y * anp.log(probabilities)) / x.shape[1]


@pytest.mark.parametrize("hidden", ["sigmoid", "relu"])
@pytest.mark.parametrize("seed", range(4))
def test_softmax_cost_and_gradient_match_autograd(hidden, seed):
    rng = np.random.default_rng(200 + seed)
    sizes = [int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4)))] + [
        int(rng.integers(2, 6))]
    params, x, _ = random_problem(sizes, batch=int(rng.integers(1, 7)), seed=seed)
    y = network.one_hot(rng.integers(0, sizes[-1], size=x.shape[1]), sizes[-1])
    expected = grad(autograd_softmax_cost)(params, x, y, hidden)
    activations = network.softmax_forward(params, x, hidden=hidden)
    np.testing.assert_allclose(activations[:-1][-1], forward(params, x, hidden=hidden)[-2])
    z = params[-1][0] @ activations[-2] + params[-1][1]
    np.testing.assert_allclose(activations[-1], np.exp(z) / np.exp(z).sum(axis=0),
                               rtol=1e-12)
    assert network.softmax_loss(params, x, y, hidden=hidden) == pytest.approx(
        autograd_softmax_cost(params, x, y, hidden), rel=1e-10)
    assert_grads_close(network.softmax_backprop(params, x, y, hidden=hidden), expected,
                       atol=1e-12)


def test_softmax_bp1_is_output_minus_target_by_finite_differences():
    # dC/dz of C = -sum y ln softmax(z), by central differences on z itself.
    rng = np.random.default_rng(3)
    z, y = rng.normal(size=(4, 1)), network.one_hot(np.array([2]), 4)
    cost = lambda z: -float(np.sum(y * np.log(network.softmax(z))))  # noqa: E731
    h, numeric = 1e-6, np.zeros_like(z)
    for k in range(4):
        step = np.zeros_like(z)
        step[k] = h
        numeric[k] = (cost(z + step) - cost(z - step)) / (2 * h)
    np.testing.assert_allclose(numeric, network.softmax(z) - y, atol=1e-9)


def test_softmax_columns_are_distributions_and_do_not_overflow():
    z = np.array([[1000.0, -3.0], [1001.0, 0.0], [999.0, 3.0]])
    p = network.softmax(z)
    assert np.all(np.isfinite(p)) and np.all(p > 0)
    np.testing.assert_allclose(p.sum(axis=0), 1.0)
    np.testing.assert_allclose(p, network.softmax(z - 7.0))  # a shift changes nothing
    np.testing.assert_allclose(p[:, 0], np.exp([-1.0, 0.0, -2.0]) / np.sum(
        np.exp([-1.0, 0.0, -2.0])))


def test_softmax_rejects_targets_that_are_not_distributions():
    params, x, _ = random_problem([2, 3], batch=2, seed=0)
    with pytest.raises(ValueError, match="add"):
        network.softmax_backprop(params, x, np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        network.softmax_loss(params, x, np.ones((2, 2)) / 2)


def test_correct_class_outputs_pick_each_label():
    params, x, _ = random_problem([3, 4], batch=5, seed=1)
    labels = np.array([0, 3, 3, 1, 2])
    got = network.correct_class_outputs(params, x, labels)
    # The output of the labelled row is what a one-hot target selects.
    selected = np.sum(forward(params, x)[-1] * network.one_hot(labels, 4), axis=0)
    np.testing.assert_array_equal(got, selected)
    with pytest.raises(ValueError, match="whole numbers"):
        network.correct_class_outputs(params, x, np.array([0, 4, 0, 0, 0]))
