"""bplib.layers against independent gradients (autograd, central differences), against
chapter 2's scalar engine and chapter 5's backprop, plus its sweeps, checkpointing,
error messages and figures."""

import autograd.numpy as anp
import matplotlib
import numpy as np
import pytest
from autograd import grad, jacobian

matplotlib.use("Agg")

from bplib import layers, network, plotting  # noqa: E402
from bplib.layers import (BinaryCrossEntropy, Linear, ReLU, Sequential, Sigmoid,  # noqa: E402
                          SoftmaxCrossEntropy, SquaredError, Tanh)

ACTIVATIONS = {"sigmoid": (Sigmoid, lambda s: 1 / (1 + anp.exp(-s))),
               "tanh": (Tanh, anp.tanh), "relu": (ReLU, lambda s: anp.maximum(s, 0))}


def autograd_losses():
    """Each loss written again in autograd.numpy, with a target maker."""
    def softmax_ce(s, y):
        top = anp.max(s, axis=0)
        lse = top + anp.log(anp.sum(anp.exp(s - top), axis=0))
        return anp.sum(y * (lse - s)) / s.shape[1]

    return {
        "squared": (SquaredError, lambda p, y: anp.sum((p - y) ** 2) / (2 * p.shape[1]),
                    lambda rng, shape: rng.normal(size=shape)),
        "bce": (BinaryCrossEntropy,
                lambda p, y: -anp.sum(y * anp.log(p) + (1 - y) * anp.log(1 - p)) / p.shape[1],
                lambda rng, shape: rng.uniform(size=shape)),
        "softmax": (SoftmaxCrossEntropy, softmax_ce,
                    lambda rng, shape: rng.dirichlet(np.ones(shape[0]), shape[1]).T),
    }


def random_case(rng, activation, loss_name):
    sizes = list(rng.integers(1, 6, size=rng.integers(2, 5)))
    batch = int(rng.integers(1, 5))
    params = [(rng.normal(size=(n_out, n_in)), rng.normal(size=(n_out, 1)))
              for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False)]
    x = rng.normal(size=(sizes[0], batch))
    layer_class, _ = ACTIVATIONS[activation]
    # BCE needs probabilities: a sigmoid on top whatever the hidden activation is.
    net = Sequential([*Sequential.from_params(params, layer_class).layers[:-1],
                      Sigmoid() if loss_name == "bce" else layer_class()])
    loss_class, _, make_target = autograd_losses()[loss_name]
    return params, x, make_target(rng, (sizes[-1], batch)), net, loss_class()


def autograd_loss(flat, shapes, x, y, activation, loss_name):
    _, act = ACTIVATIONS[activation]
    a = x
    for i in range(len(shapes)):
        W, b = flat[2 * i], flat[2 * i + 1]
        last = i == len(shapes) - 1
        a = (ACTIVATIONS["sigmoid"][1] if last and loss_name == "bce" else act)(W @ a + b)
    return autograd_losses()[loss_name][1](a, y)


@pytest.mark.parametrize("loss_name", ["squared", "bce", "softmax"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_sequential_backward_matches_autograd_on_random_nets(activation, loss_name):
    rng = np.random.default_rng(abs(hash((activation, loss_name))) % 2**32)
    for _ in range(8):
        params, x, y, net, loss = random_case(rng, activation, loss_name)
        z = loss.forward(net.forward(x), y)
        dx = net.backward(loss.backward())
        flat = [array for pair in params for array in pair]
        args = ([p[0].shape for p in params], x, y, activation, loss_name)
        assert np.isclose(z, autograd_loss(flat, *args))
        expected = grad(autograd_loss)(flat, *args)
        got = [g for layer in net.linears() for g in (layer.dW, layer.db)]
        for mine, theirs in zip(got, expected, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-7, atol=1e-10)
        # and d z / d x, the gradient passed to a layer before the first one
        dx_auto = grad(lambda xx, flat=flat, args=args:
                       autograd_loss(flat, args[0], xx, *args[2:]))(x)
        np.testing.assert_allclose(dx, dx_auto, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_sequential_backward_matches_central_differences(batch):
    rng = np.random.default_rng(batch)
    net = Sequential([Linear.random(4, 5, rng), Tanh(), Linear.random(5, 3, rng), Sigmoid(),
                      Linear.random(3, 2, rng)])
    loss = SoftmaxCrossEntropy()
    x = rng.normal(size=(4, batch))
    y = np.eye(2)[:, rng.integers(0, 2, batch)]
    loss.forward(net.forward(x), y)
    net.backward(loss.backward())
    h = 1e-6
    for layer in net.linears():
        for array, analytic in ((layer.W, layer.dW), (layer.b, layer.db)):
            numeric = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + h
                up = loss.forward(net.forward(x), y)
                array[index] = saved - h
                down = loss.forward(net.forward(x), y)
                array[index] = saved
                numeric[index] = (up - down) / (2 * h)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_same_numbers_as_the_scalar_engine_of_chapter_2():
    rng = np.random.default_rng(2)
    params = network.init_params([3, 4, 2], rng)
    params = [(W, rng.normal(size=b.shape)) for W, b in params]
    x, y = rng.normal(size=(3, 2)), rng.uniform(size=(2, 2))
    net, loss = Sequential.from_params(params), SquaredError()
    z = loss.forward(net.forward(x), y)
    net.backward(loss.backward())
    z_values, grads, n_nodes = layers.value_graph_gradients(params, x, y)
    assert np.isclose(z, z_values, rtol=1e-13)
    assert n_nodes > 10 * len(net.layers)  # many scalar nodes where there are 4 layers
    for layer, (dW, db) in zip(net.linears(), grads, strict=True):
        np.testing.assert_allclose(layer.dW, dW, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(layer.db, db, rtol=1e-11, atol=1e-14)


def test_same_numbers_as_network_backprop():
    rng = np.random.default_rng(5)
    params = network.init_params([4, 6, 3, 2], rng)
    x, y = rng.normal(size=(4, 5)), rng.uniform(size=(2, 5))
    net, loss = Sequential.from_params(params), SquaredError()
    assert np.isclose(loss.forward(net.forward(x), y), network.loss(params, x, y))
    net.backward(loss.backward())
    for layer, (dW, db) in zip(net.linears(), network.backprop(params, x, y), strict=True):
        np.testing.assert_allclose(layer.dW, dW, rtol=1e-12)
        np.testing.assert_allclose(layer.db, db, rtol=1e-12)


def test_softmax_cross_entropy_is_stable_for_huge_scores():
    scores = np.array([[1000.0, -1000.0], [0.0, 0.0]])
    loss = SoftmaxCrossEntropy()
    z = loss.forward(scores, np.array([[0.0, 1.0], [1.0, 0.0]]))
    # -log softmax: 1000 for the first column, 1000 for the second (up to e^-1000)
    assert np.isclose(z, 1000.0)
    assert np.all(np.isfinite(loss.backward()))


def test_sigmoid_does_not_overflow():
    out = Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0]])


def test_explicit_jacobians_give_the_vector_jacobian_product():
    rng = np.random.default_rng(7)
    net = Sequential([Linear.random(5, 6, rng), Tanh(), Linear.random(6, 4, rng), ReLU()])
    x, upstream = rng.normal(size=(5, 1)), rng.normal(size=(4, 1))
    explicit = layers.explicit_jacobian_gradient(net, x, upstream)
    np.testing.assert_allclose(explicit, layers.input_gradient(net, x, upstream), rtol=1e-12)
    net.forward(x)
    np.testing.assert_allclose(explicit, net.backward(upstream), rtol=1e-12)


def test_both_sweeps_give_autograds_jacobian_with_n_or_m_sweeps():
    rng = np.random.default_rng(8)
    n, m = 6, 3
    net = Sequential([Linear.random(n, 5, rng), Tanh(), Linear.random(5, m, rng), Sigmoid()])
    W1, b1, W2, b2 = (a for layer in net.linears() for a in (layer.W, layer.b))
    x = rng.normal(size=(n, 1))
    expected = jacobian(lambda v: 1 / (1 + anp.exp(-(W2 @ anp.tanh(W1 @ v + b1[:, 0])
                                                     + b2[:, 0]))))(x[:, 0])
    forward_j, forward_sweeps = layers.jacobian_by_sweeps(net, x, "forward")
    reverse_j, reverse_sweeps = layers.jacobian_by_sweeps(net, x, "reverse")
    assert (forward_sweeps, reverse_sweeps) == (n, m)
    np.testing.assert_allclose(forward_j, expected, rtol=1e-12)
    np.testing.assert_allclose(reverse_j, expected, rtol=1e-12)


@pytest.mark.parametrize("every", [1, 3, 8, 64])
def test_checkpointing_gives_the_same_gradient_and_saves_memory(every):
    rng = np.random.default_rng(9)
    chain = [layer for _ in range(32) for layer in (Linear.random(4, 4, rng), Tanh())]
    net, x, y = Sequential(chain), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    loss = SquaredError()
    plain_z = loss.forward(net.forward(x), y)
    plain_bytes = net.stored_bytes()
    plain_dx = net.backward(loss.backward())
    plain_dW = [layer.dW.copy() for layer in net.linears()]
    dx, costs = layers.checkpointed_gradient(net, loss, x, y, every)
    np.testing.assert_allclose(dx, plain_dx, rtol=1e-12)
    for layer, dW in zip(net.linears(), plain_dW, strict=True):
        np.testing.assert_allclose(layer.dW, dW, rtol=1e-12)
    assert np.isclose(costs["loss"], plain_z)
    # every segment but the last is computed a second time
    assert costs["recomputed"] == len(chain) - (len(chain) - 1) % every - 1
    segments = -(-len(chain) // every)
    column = x[:, 0].nbytes * x.shape[1]
    # the checkpoints, plus one segment's stored values and output, at the most
    assert costs["peak_bytes"] <= (segments + every + 1) * column
    if every in (3, 8):
        assert costs["peak_bytes"] < plain_bytes
    assert net.stored_bytes() == 0


def test_stored_bytes_counts_what_forward_keeps():
    x = np.zeros((10, 4))
    net = Sequential([Linear(np.zeros((6, 10)), np.zeros((6, 1))), ReLU(), Sigmoid()])
    net.forward(x)
    # Linear keeps x (40 floats), ReLU a bool mask (24 bytes), Sigmoid its output (24 floats)
    assert [layer.stored_bytes() for layer in net.layers] == [40 * 8, 24, 24 * 8]


def test_stored_bytes_counts_an_array_with_two_holders_once():
    """A Linear after a Tanh keeps the Tanh's output array itself: 3 arrays, not 4."""
    rng = np.random.default_rng(4)
    net = Sequential([Linear.random(3, 5, rng), Tanh(), Linear.random(5, 2, rng), Tanh()])
    batch = 4
    net.forward(rng.normal(size=(3, batch)))
    assert net.layers[2].x is net.layers[1].out
    # the input (3 rows), the first Tanh's output (5 rows), the second's (2 rows), 8 bytes each
    assert net.stored_bytes() == (3 + 5 + 2) * batch * 8
    # each layer alone still reports what it holds
    assert [layer.stored_bytes() for layer in net.layers] == [96, 160, 160, 64]


def test_unique_bytes_counts_a_buffer_once_whatever_refers_to_it():
    a = np.zeros((4, 6))                              # 192 bytes
    b = np.ones((2, 3))                               # 48 bytes
    assert layers.unique_bytes([a, a, b, None]) == 192 + 48
    # a view keeps its whole base alive: it counts as the base, once
    assert layers.unique_bytes([a[:, :2], a.T, a]) == 192
    assert layers.unique_bytes([a.copy(), a]) == 2 * 192


@pytest.mark.parametrize("every, arrays", [(2, 5), (8, 5), (1, 9)])
def test_checkpointing_peak_counts_each_array_once(every, arrays):
    """Four Linear(4 -> 4) + Tanh pairs, batch 3: every array is 4 x 3 floats, 96 bytes.
    Counted by hand, in arrays, at the moment of the peak:
    - every = 8 (plain): the input and the 4 Tanh outputs, which the Linears share: 5
      (with each holder counted: checkpoint + 4 Linear inputs + 4 Tanh outputs + the
      output = 10);
    - every = 2: during the last segment's forward, the checkpoints x, t1, t2, t3 (t3 is
      also the last Linear's input) and the last Tanh's output t4: 5 (double counting: 7);
    - every = 1: during the last layer's forward, the checkpoints x, s1, t1, ..., s4 (the
      input of each of the 8 layers, s the Linears' outputs) and t4: 9."""
    rng = np.random.default_rng(5)
    net = Sequential([layer for _ in range(4) for layer in (Linear.random(4, 4, rng), Tanh())])
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    _, costs = layers.checkpointed_gradient(net, SquaredError(), x, y, every)
    assert costs["peak_bytes"] == arrays * 4 * 3 * 8


@pytest.mark.parametrize("call, message", [
    (lambda: Linear(np.ones((2, 3)), np.ones((3, 1))), "b expected shape"),
    (lambda: Linear(np.ones((2, 3)), np.ones((2, 1))).forward(np.ones((2, 4))),
     r"Linear input expected shape \(3, batch\)"),
    (lambda: Linear(np.ones((2, 3)), np.ones((2, 1))).forward(np.ones(3)),
     "one example per column"),
    (lambda: Tanh().forward(np.array([[np.nan]])), "NaN"),
    (lambda: Sigmoid().backward(np.ones((1, 1))), "call forward"),
    (lambda: Linear(np.ones((2, 3)), np.ones((2, 1))).backward(np.ones((2, 1))), "call forward"),
    (lambda: BinaryCrossEntropy().forward(np.array([[1.0]]), np.array([[1.0]])), "strictly"),
    (lambda: SquaredError().forward(np.ones((2, 3)), np.ones((2, 2))), "shape"),
    (lambda: layers.checkpointed_gradient(Sequential([Tanh()]), SquaredError(),
                                          np.ones((1, 1)), np.ones((1, 1)), 0), "every"),
])
def test_clear_errors(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call()


def test_upstream_of_the_wrong_shape_is_refused():
    layer = Linear(np.ones((2, 3)), np.ones((2, 1)))
    layer.forward(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"shape of the layer's output \(2, 4\)"):
        layer.backward(np.ones((4, 2)))
    tanh = Tanh()
    tanh.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        tanh.backward(np.full((2, 2), np.nan))


def test_figures_draw_labelled_and_closed():
    import io

    import matplotlib.pyplot as plt

    figures = [
        plotting.plot_checkpoint_costs([1, 2, 4], [10, 6, 8], [3, 2, 0], 4, mark=2),
        plotting.plot_jacobian_costs([2, 4], [1e-4, 1e-3], [1e-5, 2e-5], [100, 900],
                                     [50, 60]),
        plotting.plot_sweep_costs([1, 2], [1e-3, 2e-3], [1e-3, 1e-3], [1, 2],
                                  [1e-3, 1e-3], [1e-3, 2e-3], 8),
        plotting.plot_stored_bytes([1, 2], [16, 64], [[1, 2], [4, 8]]),
        plotting.plot_gradient_norms([1e-3, 1.0], "L = 1"),
    ]
    for fig in figures:
        fig.savefig(io.BytesIO(), format="png")
        assert all(ax.get_xlabel() for ax in fig.axes)
        assert fig not in [plt.figure(number) for number in plt.get_fignums()]
        for ax in fig.axes:
            styles = [(line.get_linestyle(), line.get_marker()) for line in ax.get_lines()]
            assert len(set(styles)) == len(styles), "series must differ by more than colour"
    with pytest.raises(ValueError, match="equal length"):
        plotting.plot_checkpoint_costs([1, 2], [1.0], [0, 0], 4)


def test_checkpoint_figure_draws_the_sqrt_rule_where_the_kept_arrays_put_it():
    spacings = [1, 2, 4, 8, 16, 32, 64]
    for n_kept, rule_k in ((None, 8.0), (32, 64 / 32 ** 0.5)):
        fig = plotting.plot_checkpoint_costs(spacings, [7] * 7, [1] * 7, 64, n_kept=n_kept)
        line = fig.axes[0].get_lines()[0]
        # bars sit at 0, 1, ..., one per spacing: rule_k is bar 3 (k = 8) or between 3 and 4
        assert line.get_xdata()[0] == pytest.approx(3 + (rule_k - 8) / (16 - 8))
        assert ("≈ 11" in line.get_label()) == (n_kept == 32)


def test_backward_step_and_gradient_norm_figures_draw():
    fig = plotting.draw_backward_step(["Linear", "Tanh"], 2, [(2, 1), (3, 1), (3, 1)],
                                      [1, 3], {1})
    assert "reads $x^{3}$" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="step"):
        plotting.draw_backward_step(["Linear"], 5, [(1, 1), (1, 1)], [1], {1})
    fig = plotting.plot_gradient_norms([1e-3, 0.1, 1.0], "L = 1", reference=1e-3)
    assert "L = 1" in fig.axes[0].get_title()
