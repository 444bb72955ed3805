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
    for (dW, db), (eW, eb) in zip(actual, expected):
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
    for (W, b), (W0, b0) in zip(params, saved):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)  # bit for bit


def test_init_params_shapes_scale_and_seed():
    params = init_params([400, 300, 2], rng=0)
    assert [(W.shape, b.shape) for W, b in params] == [((300, 400), (300, 1)), ((2, 300), (2, 1))]
    assert all(np.all(b == 0) for _, b in params)
    assert params[0][0].std() == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert params[0][0].mean() == pytest.approx(0, abs=0.002)
    again = init_params([400, 300, 2], rng=np.random.default_rng(0))
    assert all(np.array_equal(W, W2) for (W, _), (W2, _) in zip(params, again))


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
