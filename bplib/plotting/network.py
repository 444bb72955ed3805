"""Chapter 5's figures (the full algorithm): each draws only what it is given."""

import matplotlib.pyplot as plt
import numpy as np

from ._common import PALETTE, free_legend, new_figure, plain_log_ticks, same_length

_LINES = [(PALETTE["forward"], "-", "o"), (PALETTE["backward"], "--", "s"),
          (PALETTE["highlight"], ":", "^"), (PALETTE["error"], "-.", "D")]


def _subplots(rows, columns, size):
    """Like `new_figure`, with several axes: pyplot lets go of the figure at once."""
    fig, axes = plt.subplots(rows, columns, figsize=size, layout="constrained")
    plt.close(fig)
    return fig, axes


def plot_learning_curves(histories, title=None, accuracy_range=(0.0, 1.0)):
    """Training cost (left) and validation accuracy (right) per epoch, one line per run.

    histories maps a label to a history of `network.train` (with a validation set).
    """
    if not histories:
        raise ValueError("give at least one history to plot")
    fig, (loss_ax, accuracy_ax) = _subplots(1, 2, (6, 3.2))
    for (label, history), (colour, style, marker) in zip(histories.items(), _LINES, strict=False):
        same_length(loss=history["loss"], val_accuracy=history["val_accuracy"])
        epochs = np.arange(1, len(history["loss"]) + 1)
        every = max(1, len(epochs) // 8)
        for ax, values in ((loss_ax, history["loss"]),
                           (accuracy_ax, history["val_accuracy"])):
            ax.plot(epochs, values, color=colour, linestyle=style, marker=marker,
                    markevery=every, markersize=4, label=label)
    loss_ax.set_yscale("log")
    plain_log_ticks(loss_ax)
    loss_ax.set(xlabel="epoch", ylabel="training cost C")
    accuracy_ax.set(xlabel="epoch", ylabel="validation accuracy", ylim=accuracy_range)
    accuracy_ax.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    for ax in (loss_ax, accuracy_ax):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    if len(histories) > 1:
        free_legend(accuracy_ax, fontsize=9, loc="lower right")
    fig.bp_alt = ((f"{title}. " if title else "") + "Training cost (first panel, log scale) and "
                  "validation accuracy (second) against the epoch: " + "; ".join(
                      f"{label}: cost from {history['loss'][0]:.3g} to "
                      f"{history['loss'][-1]:.3g}, accuracy from "
                      f"{history['val_accuracy'][0]:.1%} to {history['val_accuracy'][-1]:.1%}"
                      for label, history in histories.items()) + ".")
    return fig


def plot_digit_grid(images, true_labels, predicted_labels, columns=6):
    """Images (one 64-pixel column each) titled 'label → predicted'; more than 3 columns
    come with a phone version of 3 (figure.bp_phone), every image the same size."""
    images = np.asarray(images)
    same_length(images=images.T, true=true_labels, predicted=predicted_labels)
    rows = -(-images.shape[1] // columns)
    fig, axes = _subplots(rows, columns, (1.0 * columns, 1.2 * rows))
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, image, true, predicted in zip(axes, images.T, true_labels, predicted_labels,
                                          strict=False):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{true} → {predicted}", fontsize=9)
    if columns > 3 and images.shape[1] > 3:
        fig.bp_phone = plot_digit_grid(images, true_labels, predicted_labels, columns=3)
    return fig


def plot_layer_gradients(norms_by_setup, title=None):
    """||dC/db^l||, the length of the batch-summed error (log scale), against the layer l."""
    if not norms_by_setup:
        raise ValueError("give at least one setup to plot")
    fig, ax = new_figure()
    for (label, norms), (colour, style, marker) in zip(norms_by_setup.items(), _LINES,
                                                       strict=False):
        layers = np.arange(1, len(norms) + 1)
        ax.plot(layers, norms, color=colour, linestyle=style, marker=marker, label=label)
    ax.set_yscale("log")
    plain_log_ticks(ax)
    ax.set_xticks(layers)
    ax.set(xlabel="hidden layer l (1 = first)",
           ylabel="summed error ‖∂C/∂b‖ of layer l")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    free_legend(ax, fontsize=9)
    fig.bp_alt = ((f"{title}. " if title else "") + "The size of the error against the hidden "
                  "layer, log scale, from the first layer to the last: " + "; ".join(
                      f"{label}: {norms[0]:.2g} to {norms[-1]:.2g}, a ratio of "
                      f"{norms[-1] / norms[0]:.3g}" for label, norms in norms_by_setup.items())
                  + ".")
    return fig


def plot_batch_costs(batch_sizes, batched_seconds, one_at_a_time_seconds):
    """Time per example of one batched step and of per-example steps, against batch size."""
    same_length(batch_sizes=batch_sizes, batched=batched_seconds,
                one_at_a_time=one_at_a_time_seconds)
    fig, ax = new_figure()
    sizes = np.asarray(batch_sizes)
    ax.plot(sizes, 1e6 * np.asarray(one_at_a_time_seconds) / sizes, color=PALETTE["backward"],
            linestyle="--", marker="s", label="one example at a time")
    ax.plot(sizes, 1e6 * np.asarray(batched_seconds) / sizes, color=PALETTE["forward"],
            marker="o", label="the batch as one matrix")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    plain_log_ticks(ax)
    ax.set(xlabel="batch size m", ylabel="μs per example (gradient)")
    ax.grid(alpha=0.3)
    free_legend(ax, fontsize=9)
    return fig


def plot_slowdown(outputs, target, title=None):
    """One neuron's output against the gradient-descent step, one line per cost function."""
    fig, ax = new_figure()
    ax.axhline(target, color=PALETTE["neutral"], linewidth=1, label=f"target y = {target:g}")
    for (label, values), (colour, style, _) in zip(outputs.items(), _LINES, strict=False):
        ax.plot(np.arange(len(values)), values, color=colour, linestyle=style, label=label)
    ax.set(xlabel="gradient-descent step", ylabel="output a")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    free_legend(ax, fontsize=9)
    return fig
