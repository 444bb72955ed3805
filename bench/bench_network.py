"""`make bench`: one training epoch of bplib.network against the tools a reader would use.

One process, the same data and network for all: scikit-learn's digits (1,347 training
images), 64-64-10 with a sigmoid hidden layer and sigmoid outputs, quadratic cost,
mini-batches of 32, float64, one thread everywhere. Each contender trains for a run of
a few epochs in one call, as a training run would; the runs are timed in rounds, each
round in a new order (so that no one always runs right after another library has
filled the caches with its own data), and the fastest run counts. Prints the time per
epoch and the four ratios the issue sets targets for.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy and torch load their thread pools

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from bplib import network  # noqa: E402

SIZES = [64, 64, 10]
BATCH = 32
LEARNING_RATE = 0.5
EPOCHS = 5   # per timed run: bplib.network.train checks its input once per run
ROUNDS = 20


def lean_epoch(params, x, y, rng):
    """The same epoch written as tersely as numpy allows: no checks, no history."""
    (W1, b1), (W2, b2) = params
    order = rng.permutation(x.shape[1])
    xs, ys = np.asfortranarray(x[:, order]), np.asfortranarray(y[:, order])
    for start in range(0, x.shape[1], BATCH):
        a0, t = xs[:, start:start + BATCH], ys[:, start:start + BATCH]
        a1 = 1 / (1 + np.exp(-(W1 @ a0 + b1)))
        a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
        d2 = (a2 - t) * a2 * (1 - a2) / t.shape[1]
        d1 = (W2.T @ d2) * a1 * (1 - a1)
        W2 -= LEARNING_RATE * (d2 @ a1.T)
        b2 -= LEARNING_RATE * d2.sum(axis=1, keepdims=True)
        W1 -= LEARNING_RATE * (d1 @ a0.T)
        b1 -= LEARNING_RATE * d1.sum(axis=1, keepdims=True)


def torch_setup(params, x, y):
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Sigmoid(),
                                torch.nn.Linear(64, 10), torch.nn.Sigmoid())
    with torch.no_grad():
        for layer, (W, b) in zip((model[0], model[2]), params):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b.ravel()))
    optimiser = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    return model, optimiser, torch.from_numpy(x.T.copy()), torch.from_numpy(y.T.copy())


def torch_epoch(model, optimiser, xt, yt, generator):
    order = torch.randperm(xt.shape[0], generator=generator)
    xs, ys = xt[order], yt[order]
    for start in range(0, xt.shape[0], BATCH):
        xb, yb = xs[start:start + BATCH], ys[start:start + BATCH]
        optimiser.zero_grad()
        cost = ((model(xb) - yb) ** 2).sum() / (2 * xb.shape[0])
        cost.backward()
        optimiser.step()


def sklearn_setup():
    # Each fit call runs EPOCHS epochs (no early stopping); warm_start keeps the weights.
    return MLPClassifier(hidden_layer_sizes=(64,), activation="logistic", solver="sgd",
                         batch_size=BATCH, learning_rate_init=LEARNING_RATE, momentum=0.0,
                         max_iter=EPOCHS, warm_start=True, shuffle=True, random_state=0,
                         tol=0.0, n_iter_no_change=10**9)


def best(seconds):
    return min(seconds)


def main():
    x_train, labels_train, _, _ = network.digits(rng=0)
    y_train = network.one_hot(labels_train)
    params = network.init_params(SIZES, rng=0)
    rng = np.random.default_rng(1)
    lean_params = [(W.copy(), b.copy()) for W, b in params]
    model, optimiser, xt, yt = torch_setup(params, x_train, y_train)
    generator = torch.Generator().manual_seed(0)
    classifier = sklearn_setup()
    features = x_train.T.copy()

    import warnings
    from sklearn.exceptions import ConvergenceWarning
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of epochs

    contenders = {
        "bplib": lambda: network.train(params, x_train, y_train, epochs=EPOCHS,
                                       batch_size=BATCH, learning_rate=LEARNING_RATE,
                                       rng=rng),
        "lean numpy": lambda: [lean_epoch(lean_params, x_train, y_train, rng)
                               for _ in range(EPOCHS)],
        "PyTorch": lambda: [torch_epoch(model, optimiser, xt, yt, generator)
                            for _ in range(EPOCHS)],
        "scikit-learn": lambda: classifier.fit(features, labels_train),
    }
    times = {name: [] for name in contenders}
    with threadpool_limits(limits=1):
        for name, run in contenders.items():
            run()  # warm-up: first calls allocate, import and compile
        names = list(contenders)
        for round_number in range(ROUNDS):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                contenders[name]()
                times[name].append((time.perf_counter() - start) / EPOCHS)

        # backprop (a forward pass, then the backward pass) over forward alone, both with
        # their input checks, as a chapter or a student calls them.
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

    epoch = {name: best(seconds) for name, seconds in times.items()}
    print(f"digits {SIZES[0]}-{SIZES[1]}-{SIZES[2]}, sigmoid, batch {BATCH}, float64, "
          f"{x_train.shape[1]} training images; best of {ROUNDS} runs of {EPOCHS} epochs each")
    print(f"numpy {np.__version__}, torch {torch.__version__}, threads: {'; '.join(blas)}")
    for name, seconds in epoch.items():
        print(f"  {name:<13} {1000 * seconds:7.2f} ms per epoch")
    print(f"  at batch 256: forward {1e6 * best(forward_s):.1f} us, "
          f"backprop {1e6 * best(backprop_s):.1f} us")
    ratios = [
        ("bplib / lean numpy", epoch["bplib"] / epoch["lean numpy"], "<= 1.3"),
        ("bplib / PyTorch", epoch["bplib"] / epoch["PyTorch"], "<= 0.4"),
        ("bplib / scikit-learn", epoch["bplib"] / epoch["scikit-learn"], "<= 0.4"),
        ("backprop / forward (batch 256)", best(backprop_s) / best(forward_s), "<= 2"),
    ]
    print()
    print(f"{'ratio':<32}{'measured':>9}  target")
    for name, value, target in ratios:
        print(f"{name:<32}{value:>9.2f}  {target}")


if __name__ == "__main__":
    main()
