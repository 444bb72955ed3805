"""bplib.neuron, Zhou's per-neuron backpropagation, against independent references:
autograd, central differences, the vectorized layers of bplib.network, and the published
numbers of seed 002's worked example."""

import io

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from bplib import layers, network, neuron

SHAPES = [(1, 1, 1), (3, 4, 1), (2, 5, 3), (4, 2, 2), (6, 3, 4)]
COSTS = ["squared", "cross-entropy"]

# Seed 002 (its figure captions and last paragraph): the output before training and after
# each of six updates, as published with three decimals, and its count of parameters.
PUBLISHED_PREDICTIONS = [0.521, 0.648, 0.758, 0.836, 0.881, 0.908, 0.925]
PUBLISHED_TRAINABLE = 21


def random_problem(shape, seed):
    """A random d-q-l network (thresholds included) and one example with targets in (0, 1)."""
    rng = np.random.default_rng(seed)
    d, q, l = shape
    net = neuron.random_net(d, q, l, rng)
    return net, rng.normal(size=d), rng.uniform(0.05, 0.95, size=l)


def autograd_error(params, x, y, cost):
    """E_k written again in autograd.numpy, thresholds subtracted, independently of bplib."""
    v, gamma, w, theta = params
    b = 1 / (1 + anp.exp(-(anp.dot(x, v) - gamma)))
    y_hat = 1 / (1 + anp.exp(-(anp.dot(b, w) - theta)))
    if cost == "squared":
        return 0.5 * anp.sum((y_hat - y) ** 2)
    return -anp.sum(y * anp.log(y_hat) + (1 - y) * anp.log(1 - y_hat))


def as_tuple(net):
    return tuple(net[key] for key in neuron.KEYS)


def assert_close_nets(actual, expected, rtol=1e-7, atol=1e-10):
    assert set(actual) == set(neuron.KEYS)
    for key, value in zip(neuron.KEYS, expected, strict=True):
        assert actual[key].shape == np.shape(value), key
        np.testing.assert_allclose(actual[key], value, rtol=rtol, atol=atol, err_msg=key)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cost", COSTS)
def test_gradients_match_autograd(shape, cost):
    for seed in range(3):
        net, x, y = random_problem(shape, seed)
        expected = grad(autograd_error)(as_tuple(net), x, y, cost)
        assert_close_nets(neuron.gradients(net, x, y, cost), expected)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cost", COSTS)
def test_gradients_match_central_differences(shape, cost):
    net, x, y = random_problem(shape, seed=10)
    h = 1e-6
    expected = []
    for key in neuron.KEYS:
        estimate = np.zeros_like(net[key])
        for index in np.ndindex(net[key].shape):
            values = []
            for nudge in (h, -h):
                nudged = {k: array.copy() for k, array in net.items()}
                nudged[key][index] += nudge
                values.append(neuron.error(neuron.forward(nudged, x)["y_hat"], y, cost))
            estimate[index] = (values[0] - values[1]) / (2 * h)
        expected.append(estimate)
    assert_close_nets(neuron.gradients(net, x, y, cost), expected, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_gradients_match_the_vectorized_layers(shape):
    """Zhou's network with thresholds = minus biases is bplib.network's sigmoid net."""
    for seed in range(3):
        net, x, y = random_problem(shape, seed)
        params = neuron.to_layers(net)
        activations = network.forward(params, x.reshape(-1, 1))
        values = neuron.forward(net, x)
        np.testing.assert_allclose(values["b"], activations[1][:, 0], rtol=1e-12)
        np.testing.assert_allclose(values["y_hat"], activations[2][:, 0], rtol=1e-12)
        layer_grads = network.backprop(params, x.reshape(-1, 1), y.reshape(-1, 1))
        expected = neuron.from_layers([(dW, db) for dW, db in layer_grads])
        assert_close_nets(neuron.gradients(net, x, y), as_tuple(expected))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cost, loss", [("squared", layers.SquaredError),
                                        ("cross-entropy", layers.BinaryCrossEntropy)])
def test_gradients_match_chapter_3s_layers(shape, cost, loss):
    """The loops over neurons give what chapter 3's Sequential.backward gives for the same
    net as Linear and Sigmoid layers (thresholds = minus biases)."""
    for seed in range(3):
        net, x, y = random_problem(shape, seed)
        model, judge = layers.Sequential.from_params(neuron.to_layers(net)), loss()
        prediction = model.forward(x.reshape(-1, 1))
        np.testing.assert_allclose(prediction[:, 0], neuron.forward(net, x)["y_hat"],
                                   rtol=1e-12)
        judge.forward(prediction, y.reshape(-1, 1))
        model.backward(judge.backward())
        expected = neuron.from_layers([(layer.dW, layer.db) for layer in model.linears()])
        assert_close_nets(neuron.gradients(net, x, y, cost), as_tuple(expected))


def test_output_terms_are_minus_nielsens_output_error():
    """g_j = -delta^L_j: Nielsen's BP1 for one example is (a - y) sigma'(z)."""
    rng = np.random.default_rng(3)
    y_hat, y = rng.uniform(0.01, 0.99, 5), rng.uniform(0, 1, 5)
    delta = (y_hat - y) * y_hat * (1 - y_hat)
    np.testing.assert_allclose(neuron.output_terms(y_hat, y), -delta, rtol=1e-12)


@pytest.mark.parametrize("cost", COSTS)
def test_output_terms_are_minus_the_derivative_in_the_net_input(cost):
    """g_j = -dE/ds_j with s_j = beta_j - theta_j, checked with autograd for both costs."""
    rng = np.random.default_rng(4)
    s, y = rng.normal(size=4), rng.uniform(0, 1, 4)

    def cost_of_net_input(s):
        y_hat = 1 / (1 + anp.exp(-s))
        if cost == "squared":
            return 0.5 * anp.sum((y_hat - y) ** 2)
        return -anp.sum(y * anp.log(y_hat) + (1 - y) * anp.log(1 - y_hat))

    y_hat = neuron.sigmoid(s)
    np.testing.assert_allclose(neuron.output_terms(y_hat, y, cost), -grad(cost_of_net_input)(s),
                               rtol=1e-9, atol=1e-12)


def test_updates_follow_zhous_signs():
    """Delta w_hj = eta g_j b_h, Delta theta_j = -eta g_j, Delta v_ih = eta e_h x_i,
    Delta gamma_h = -eta e_h (eqs. 5.11-5.14), and step adds them without changing net."""
    net, x, y = random_problem((3, 4, 2), seed=5)
    saved = {key: array.copy() for key, array in net.items()}
    eta = 0.3
    values = neuron.forward(net, x)
    g = neuron.output_terms(values["y_hat"], y)
    e = neuron.hidden_terms(net, values["b"], g)
    change = neuron.updates(net, x, y, eta)
    np.testing.assert_allclose(change["w"], eta * np.outer(values["b"], g))
    np.testing.assert_allclose(change["theta"], -eta * g)
    np.testing.assert_allclose(change["v"], eta * np.outer(x, e))
    np.testing.assert_allclose(change["gamma"], -eta * e)
    stepped = neuron.step(net, x, y, eta)
    assert_close_nets(stepped, [saved[key] + change[key] for key in neuron.KEYS])
    assert all(np.array_equal(net[key], saved[key]) for key in neuron.KEYS)
    # a small step downhill lowers the error
    before = neuron.error(values["y_hat"], y)
    after = neuron.error(neuron.forward(neuron.step(net, x, y, 1e-3), x)["y_hat"], y)
    assert after < before


def test_seed_example_reproduces_the_published_predictions():
    net, x, y = neuron.seed_example()
    outputs = neuron.predictions(net, x, y, eta=0.5, n_updates=6, cost="cross-entropy")
    assert outputs.shape == (7, 1)
    assert [round(float(p), 3) for p in outputs[:, 0]] == PUBLISHED_PREDICTIONS
    assert neuron.n_trainable(net) == PUBLISHED_TRAINABLE


def test_seed_example_is_the_articles_draw():
    """W1 then W2 from np.random.seed(3), scaled by 0.1, zero biases (seeds/README.md)."""
    state = np.random.get_state()
    try:
        np.random.seed(3)
        W1, W2 = np.random.randn(4, 3) * 0.1, np.random.randn(1, 4) * 0.1
    finally:
        np.random.set_state(state)
    net, x, y = neuron.seed_example()
    np.testing.assert_array_equal(net["v"], W1.T)
    np.testing.assert_array_equal(net["w"], W2.T)
    assert not net["gamma"].any() and not net["theta"].any()
    np.testing.assert_array_equal(x, [7, 8, 10])
    np.testing.assert_array_equal(y, [1])


def test_layers_round_trip():
    net, _, _ = random_problem((3, 4, 2), seed=6)
    assert_close_nets(neuron.from_layers(neuron.to_layers(net)), as_tuple(net), rtol=0, atol=0)
    (W1, b1), (W2, b2) = neuron.to_layers(net)
    np.testing.assert_array_equal(b1[:, 0], -net["gamma"])
    np.testing.assert_array_equal(W2, net["w"].T)


def test_accumulated_bp_is_standard_bp_on_one_example():
    net, x, y = random_problem((2, 3, 1), seed=7)
    X, Y = x.reshape(-1, 1), y.reshape(-1, 1)
    standard = neuron.train(net, X, Y, 0.5, epochs=4)
    accumulated = neuron.train(net, X, Y, 0.5, epochs=4, accumulated=True)
    assert_close_nets(standard[0], as_tuple(accumulated[0]), rtol=1e-12)
    np.testing.assert_allclose(standard[2], accumulated[2], rtol=1e-12)


def test_accumulated_bp_follows_the_mean_gradient():
    rng = np.random.default_rng(8)
    net = neuron.random_net(2, 3, 1, rng)
    X, Y = rng.normal(size=(2, 5)), rng.uniform(0, 1, (1, 5))
    trained, seen, errors = neuron.train(net, X, Y, 0.2, epochs=1, accumulated=True)
    mean_grad = [np.mean([g[i] for g in (grad(autograd_error)(as_tuple(net), X[:, k],
                                                               Y[:, k], "squared")
                                          for k in range(5))], axis=0) for i in range(4)]
    assert_close_nets(trained, [net[key] - 0.2 * g
                                for key, g in zip(neuron.KEYS, mean_grad, strict=True)])
    assert list(seen) == [0, 5]
    assert errors[1] < errors[0]


def test_training_lowers_the_error_both_ways():
    rng = np.random.default_rng(9)
    X = rng.uniform(-1, 1, (2, 20))
    Y = (X[:1] * X[1:] > 0).astype(float)
    net = neuron.random_net(2, 4, 1, rng)
    for accumulated in (False, True):
        _, seen, errors = neuron.train(net, X, Y, 1.0, epochs=30, accumulated=accumulated)
        assert list(seen) == [20 * epoch for epoch in range(31)]
        assert errors[-1] < errors[0]


def test_loop_cost_table_uses_the_vectorized_function_it_is_given():
    rows = neuron.loop_cost_table([2, 5], network.backprop, repeats=1)
    assert [row["n"] for row in rows] == [2, 5]
    assert [row["parameters"] for row in rows] == [2 * 2 * 2 + 2 * 2, 5 * 5 * 2 + 2 * 5]
    assert all(row["agree"] < 1e-12 and row["loop_seconds"] > 0 for row in rows)

    def twice_too_large(params, x, y):
        return [(2 * dW, 2 * db) for dW, db in network.backprop(params, x, y)]

    rows = neuron.loop_cost_table([3], twice_too_large, repeats=1)
    assert rows[0]["agree"] > 1e-6  # the table notices a vectorized function that disagrees


@pytest.mark.parametrize("change, message", [
    (lambda net: net.pop("theta"), "keys"),
    (lambda net: net.update(gamma=np.zeros(2)), "gamma"),
    (lambda net: net.update(w=np.zeros((4, 1), dtype=int)), "float"),
    (lambda net: net["v"].__setitem__((0, 0), np.nan), "NaN"),
])
def test_bad_networks_are_explained(change, message):
    net, x, y = random_problem((3, 4, 1), seed=0)
    change(net)
    with pytest.raises(ValueError, match=message):
        neuron.gradients(net, x, y)


def test_bad_examples_and_settings_are_explained():
    net, x, y = random_problem((3, 4, 1), seed=0)
    with pytest.raises(ValueError, match=r"x expected shape \(3,\)"):
        neuron.forward(net, x[:2])
    with pytest.raises(ValueError, match="y expected shape"):
        neuron.updates(net, x, [0.5, 0.5], 0.1)
    with pytest.raises(ValueError, match="NaN"):
        neuron.forward(net, [1.0, np.nan, 0.0])
    with pytest.raises(ValueError, match="cost must be one of"):
        neuron.gradients(net, x, y, cost="hinge")
    for eta in (0, -0.5, float("nan"), "0.5"):
        with pytest.raises(ValueError, match="learning rate"):
            neuron.updates(net, x, y, eta)
    with pytest.raises(ValueError, match="n_updates"):
        neuron.predictions(net, x, y, 0.5, -1)
    with pytest.raises(ValueError, match="one example per column"):
        neuron.train(net, np.zeros((4, 2)), np.zeros((1, 2)), 0.5, 1)


# The drawings of chapter 4 (bplib.plotting.neuron)

def test_draw_zhou_network_names_every_symbol():
    from matplotlib.figure import Figure

    from bplib.plotting import draw_zhou_network

    fig = draw_zhou_network(d=3, q=4, l=2, i=2, h=4, j=2)
    assert isinstance(fig, Figure)
    fig.savefig(io.BytesIO(), format="png")
    texts = " ".join(text.get_text() for text in fig.axes[0].texts)
    for symbol in ("x_{1}", "x_{3}", "b_{4}", r"\hat y_{2}", "v_{24}", "w_{42}", r"\gamma_4",
                   r"\theta_2", r"\alpha_4", r"\beta_2"):
        assert symbol in texts, symbol
    with pytest.raises(ValueError, match="1 <= h <= q"):
        draw_zhou_network(d=3, q=4, l=2, h=5)


def test_chapter_4_plots_render_with_labels():
    from test_plotting import check_figure

    from bplib import plotting

    table = neuron.loop_cost_table([2, 3], network.backprop, repeats=1)
    check_figure(plotting.plot_loop_costs(table))
    check_figure(plotting.plot_error_curves({"standard": ([0, 4], [0.2, 0.1]),
                                             "accumulated": ([0, 4], [0.2, 0.15])}))
    ax = check_figure(plotting.plot_weight_tangent([0, 1, 2], [3, 2, 1.5], 1, 2, -0.75,
                                                   "v_{11}", mark=0.5))
    assert "-0.750" in ax.get_title()
    ax = check_figure(plotting.plot_predictions({"target 1": ([0.5, 0.7, 0.8], 1.0)}, 0.5,
                                                label_values=True))
    assert {"0.500", "0.700", "0.800"} <= {text.get_text() for text in ax.texts}
    with pytest.raises(ValueError, match="equal length"):
        plotting.plot_error_curves({"standard": ([0, 4], [0.2])})
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_loop_costs([])
