"""`make bench`: one training epoch of bplib.network against the tools a reader would use.

One process, the same data and network for all: bplib's digits (the 1,000 training images
of `network.digits()`), 64-64-10 with a sigmoid hidden layer and sigmoid outputs,
quadratic cost, float64, one thread everywhere, at mini-batches of 1, 10, 32 and 256.
Each contender trains for a run of a few epochs in one call, as a training run would; the
runs are timed in rounds, each round in a new order (so that no one always runs right
after another library has filled the caches with its own data), and the fastest run
counts. Prints the time per epoch and, per batch size, the ratios the course sets goals
for. PyTorch is timed where it is installed (`make bench` installs it).
"""

import os
import sys

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy and torch load their thread pools

import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from bplib import network  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SIZES = [64, 64, 10]
BATCH_SIZES = [1, 10, 32, 256]
LEARNING_RATE = 0.5
EPOCHS = 3   # per timed run: bplib.network.train checks its input once per run
# Rounds per batch size: many for the short runs, where one burst of another process's
# work weighs most, and the fastest run is the least disturbed one.
ROUNDS = {1: 10, 10: 30, 32: 60, 256: 100}
GOALS = {"lean numpy": 1.3, "scikit-learn": 0.4, "PyTorch": 0.4}


def lean_epoch(params, x, y, rng, batch):
    """The same epoch written as tersely as numpy allows: no checks, no history."""
    (W1, b1), (W2, b2) = params
    order = rng.permutation(x.shape[1])
    xs, ys = np.asfortranarray(x[:, order]), np.asfortranarray(y[:, order])
    for start in range(0, x.shape[1], batch):
        a0, t = xs[:, start:start + batch], ys[:, start:start + batch]
        a1 = 1 / (1 + np.exp(-(W1 @ a0 + b1)))
        a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
        d2 = (a2 - t) * a2 * (1 - a2) / t.shape[1]
        d1 = (W2.T @ d2) * a1 * (1 - a1)
        W2 -= LEARNING_RATE * (d2 @ a1.T)
        b2 -= LEARNING_RATE * d2.sum(axis=1, keepdims=True)
        W1 -= LEARNING_RATE * (d1 @ a0.T)
        b1 -= LEARNING_RATE * d1.sum(axis=1, keepdims=True)


def lean_run(params, x, y, rng, batch):
    lean_params = [(W.copy(), b.copy()) for W, b in params]
    for _ in range(EPOCHS):
        lean_epoch(lean_params, x, y, rng, batch)


def torch_setup(params, x, y):
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Sigmoid(),
                                torch.nn.Linear(64, 10), torch.nn.Sigmoid())
    with torch.no_grad():
        for layer, (W, b) in zip((model[0], model[2]), params, strict=True):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b.ravel()))
    optimiser = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    return model, optimiser, torch.from_numpy(x.T.copy()), torch.from_numpy(y.T.copy())


def torch_epoch(model, optimiser, xt, yt, generator, batch):
    order = torch.randperm(xt.shape[0], generator=generator)
    xs, ys = xt[order], yt[order]
    for start in range(0, xt.shape[0], batch):
        xb, yb = xs[start:start + batch], ys[start:start + batch]
        optimiser.zero_grad()
        cost = ((model(xb) - yb) ** 2).sum() / (2 * xb.shape[0])
        cost.backward()
        optimiser.step()


def sklearn_setup(batch):
    # Each fit call starts afresh and runs EPOCHS epochs (no early stopping).
    return MLPClassifier(hidden_layer_sizes=(64,), activation="logistic", solver="sgd",
                         batch_size=batch, learning_rate_init=LEARNING_RATE, momentum=0.0,
                         max_iter=EPOCHS, warm_start=False, shuffle=True, random_state=0,
                         tol=0.0, n_iter_no_change=10**9)


def contenders(batch, x_train, labels_train, y_train):
    """name -> a function that trains for EPOCHS epochs at this batch size.

    Every run starts from the same weights, as `network.train` does (it copies them): a
    network trained on and on saturates, and its tiny numbers can slow the arithmetic."""
    params = network.init_params(SIZES, rng=0)
    rng = np.random.default_rng(1)
    classifier = sklearn_setup(batch)
    features = x_train.T.copy()
    runs = {
        "bplib": lambda: network.train(params, x_train, y_train, epochs=EPOCHS,
                                       batch_size=batch, learning_rate=LEARNING_RATE,
                                       rng=rng),
        "lean numpy": lambda: lean_run(params, x_train, y_train, rng, batch),
        "scikit-learn": lambda: classifier.fit(features, labels_train),
    }
    if torch is not None:
        model, optimiser, xt, yt = torch_setup(params, x_train, y_train)
        start = {name: value.clone() for name, value in model.state_dict().items()}
        generator = torch.Generator().manual_seed(0)

        def torch_run():
            model.load_state_dict(start)
            for _ in range(EPOCHS):
                torch_epoch(model, optimiser, xt, yt, generator, batch)

        runs["PyTorch"] = torch_run
    return runs


def time_epochs(runs, rounds):
    """name -> the fastest time per epoch over `rounds` runs, in rotating order."""
    for run in runs.values():
        run()  # warm-up: first calls allocate, import and compile
    names = list(runs)
    times = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            runs[name]()
            times[name].append((time.perf_counter() - start) / EPOCHS)
    return {name: min(seconds) for name, seconds in times.items()}


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of epochs
    x_train, labels_train, *_ = network.digits(rng=0)
    y_train = network.one_hot(labels_train)
    epochs = {}
    with threadpool_limits(limits=1):
        for batch in BATCH_SIZES:
            epochs[batch] = time_epochs(contenders(batch, x_train, labels_train, y_train),
                                        ROUNDS[batch])
        # backprop (a forward pass, then the backward pass) over forward alone, both with
        # their input checks, as a chapter or a student calls them.
        params = network.init_params(SIZES, rng=0)
        wide_x, wide_y = x_train[:, :256], y_train[:, :256]
        forward_s, backprop_s = [], []
        for _ in range(200):
            start = time.perf_counter()
            network.forward(params, wide_x)
            middle = time.perf_counter()
            network.backprop(params, wide_x, wide_y)
            backprop_s.append(time.perf_counter() - middle)
            forward_s.append(middle - start)
        blas = sorted({f"{pool['internal_api']} {pool.get('version')} "
                       f"({pool.get('architecture')}, {pool['num_threads']} thread)"
                       for pool in threadpool_info()})

    print(f"digits {SIZES[0]}-{SIZES[1]}-{SIZES[2]}, sigmoid, quadratic cost, float64, "
          f"{x_train.shape[1]} training images; the best of {min(ROUNDS.values())} to "
          f"{max(ROUNDS.values())} runs of {EPOCHS} epochs each")
    versions = f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}"
    print(f"{versions}, threads: {'; '.join(blas)}")
    others = [name for name in ("lean numpy", "scikit-learn", "PyTorch") if torch or
              name != "PyTorch"]
    print()
    print(f"{'batch':>5}  {'bplib ms/epoch':>14}" + "".join(
        f"  {'/ ' + name:>15}" for name in others))
    missed = []
    for batch, epoch in epochs.items():
        cells = []
        for name in others:
            ratio = epoch["bplib"] / epoch[name]
            ok = ratio <= GOALS[name]
            missed += [] if ok else [f"batch {batch}: bplib / {name} {ratio:.2f}"]
            cells.append(f"  {ratio:>10.2f}{'' if ok else ' (!)':<5}")
        print(f"{batch:>5}  {1000 * epoch['bplib']:>14.2f}" + "".join(cells))
    print("goals: " + ", ".join(f"bplib / {name} <= {goal}" for name, goal in GOALS.items()
                                if name in others) + "; (!) marks a missed goal")
    print("ms per epoch: " + "; ".join(
        f"batch {batch}: " + ", ".join(f"{name} {1000 * s:.2f}" for name, s in epoch.items())
        for batch, epoch in epochs.items()))
    ratio = min(backprop_s) / min(forward_s)
    print(f"at batch 256: forward {1e6 * min(forward_s):.1f} us, backprop "
          f"{1e6 * min(backprop_s):.1f} us, backprop / forward {ratio:.2f} (goal <= 2)")
    if missed:
        sys.exit("goals missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
