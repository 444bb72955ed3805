"""Chapter 4's figures (the per-neuron derivation): each draws only what it is given."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle

from ._common import (PALETTE, SCRIPTED_PT, TEXT_PALETTE, free_legend, new_figure,
                      plain_log_ticks, same_length, wrap_to_width)


def _column(count, height=4.0):
    """count heights centred on 0, one unit apart at most, squeezed to fit in height."""
    gap = min(1.0, height / max(count - 1, 1))
    return [gap * ((count - 1) / 2 - k) for k in range(count)]


def draw_zhou_network(d=3, q=4, l=2, i=2, h=4, j=2, narrow=False):
    """Zhou's d-q-l network with every symbol on it. The edge v_ih, hidden neuron h, the
    edge w_hj and output neuron j are highlighted and carry their formulas. The figure
    carries a narrow version for phones (figure.bp_phone): its layers closer together,
    its labels on more lines, its text as large."""
    if not (d >= 1 and q >= 1 and l >= 1 and 1 <= i <= d and 1 <= h <= q and 1 <= j <= l):
        raise ValueError(f"need 1 <= i <= d, 1 <= h <= q, 1 <= j <= l, got d={d}, q={q}, "
                         f"l={l}, i={i}, h={h}, j={j}")
    fig, ax = plt.subplots(figsize=(3.5, 6.2) if narrow else (6.4, 5.4), layout="constrained")
    plt.close(fig)  # as in new_figure: the caller displays it
    gap = 2.0 if narrow else 3.0
    xs = {"in": 0.0, "hidden": gap, "out": 2 * gap}
    breaks = "\n" if narrow else " "
    ys = {"in": _column(d), "hidden": _column(q), "out": _column(l)}
    radius = 0.3
    for a, b, name in (("in", "hidden", "v"), ("hidden", "out", "w")):
        for m, ya in enumerate(ys[a], start=1):
            for n, yb in enumerate(ys[b], start=1):
                chosen = (m, n) == ((i, h) if name == "v" else (h, j))
                ax.plot([xs[a] + radius, xs[b] - radius], [ya, yb],
                        color=PALETTE["forward"] if chosen else PALETTE["neutral"],
                        linewidth=2.2 if chosen else 0.7, zorder=1)
                if chosen:
                    ax.text((xs[a] + xs[b]) / 2, (ya + yb) / 2 + 0.18,
                            f"${name}_{{{m}{n}}}$", ha="center", fontsize=SCRIPTED_PT,
                            color=TEXT_PALETTE["forward"],
                            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    labels = {"in": [f"$x_{{{m}}}$" for m in range(1, d + 1)],
              "hidden": [f"$b_{{{m}}}$" for m in range(1, q + 1)],
              "out": [rf"$\hat y_{{{m}}}$" for m in range(1, l + 1)]}
    chosen_node = {"in": i, "hidden": h, "out": j}
    for layer in ("in", "hidden", "out"):
        for m, y in enumerate(ys[layer], start=1):
            edge = PALETTE["backward"] if m == chosen_node[layer] else "black"
            ax.add_patch(Circle((xs[layer], y), radius, facecolor="white", edgecolor=edge,
                                linewidth=1.8, zorder=2))
            ax.text(xs[layer], y, labels[layer][m - 1], ha="center", va="center",
                    fontsize=SCRIPTED_PT, zorder=3)
    # every text with subscripts is SCRIPTED_PT; on a phone the formulas take more lines
    notes = {
        "hidden": (rf"$\alpha_{h} =${breaks}$\sum_i v_{{i{h}}}\,x_i$" "\n"
                   rf"$b_{h} =${breaks}$f(\alpha_{h} - \gamma_{h})$"),
        "out": (rf"$\beta_{j} =${breaks}$\sum_h w_{{h{j}}}\,b_h$" "\n"
                rf"$\hat y_{j} =${breaks}$f(\beta_{j} - \theta_{j})$"),
    }
    for layer, note in notes.items():
        y = ys[layer][chosen_node[layer] - 1]
        ax.annotate(note, (xs[layer], y - radius), xytext=(xs[layer], -2.3), ha="center",
                    va="top", fontsize=SCRIPTED_PT, color=TEXT_PALETTE["backward"], zorder=0,
                    arrowprops={"arrowstyle": "-", "color": PALETTE["backward"]})
    heads = ((("in", f"input\n$d = {d}$"), ("hidden", f"hidden\n$q = {q}$, $\\gamma_h$"),
              ("out", f"output\n$l = {l}$, $\\theta_j$")) if narrow else
             (("in", f"input layer\n$d = {d}$ inputs"),
              ("hidden", f"hidden layer, $q = {q}$\nthresholds $\\gamma_h$"),
              ("out", f"output layer, $l = {l}$\nthresholds $\\theta_j$")))
    for layer, text in heads:
        ax.text(xs[layer], 1.95, text, ha="center", va="bottom", fontsize=SCRIPTED_PT)
    ax.set_xlim(-0.9, 2 * gap + 0.9)
    ax.set_ylim(-4.3 if narrow else -3.5, 3.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"Zhou's {d}–{q}–{l} network", fontsize=11)
    if not narrow:
        fig.bp_phone = draw_zhou_network(d, q, l, i, h, j, narrow=True)
    return fig


def plot_loop_costs(table):
    """Best time of the per-neuron loops and of a vectorized backward pass, against the
    number of parameters (log-log), one point per row of neuron.loop_cost_table."""
    if not table:
        raise ValueError("the table is empty: nothing to plot")
    sizes = [row["parameters"] for row in table]
    fig, ax = new_figure()
    ax.loglog(sizes, [1e3 * row["loop_seconds"] for row in table], "o-",
              color=PALETTE["backward"], label="loops over neurons (bplib.neuron)")
    ax.loglog(sizes, [1e3 * row["vectorized_seconds"] for row in table], "s--",
              color=PALETTE["forward"], label="vectorized layers")
    plain_log_ticks(ax)
    last = table[-1]
    ax.annotate(f"{last['loop_seconds'] / last['vectorized_seconds']:,.0f}× slower",
                (last["parameters"], 1e3 * last["loop_seconds"]), xytext=(-10, 0),
                textcoords="offset points", ha="right", va="center", fontsize=9)
    ax.set_xlabel("parameters of an n–n–n network")
    ax.set_ylabel("one gradient (ms, best run)")
    ax.set_title("Loops over neurons vs vectorized layers", fontsize=10)
    free_legend(ax, loc="upper left", fontsize=9)
    return fig


def plot_error_curves(curves):
    """Mean error E against examples seen, one line per {label: (seen, errors)}."""
    if not curves:
        raise ValueError("give at least one curve")
    fig, ax = new_figure()
    styles = [("-", PALETTE["backward"]), ("--", PALETTE["forward"]),
              (":", PALETTE["highlight"])]
    for (label, (seen, errors)), (style, colour) in zip(curves.items(), styles, strict=False):
        same_length(seen=seen, errors=errors)
        ax.plot(seen, errors, style, color=colour, label=label, linewidth=1.8)
    ax.set_xlabel("examples seen")
    ax.set_ylabel("mean error E over the training set")
    ax.set_ylim(bottom=0)
    ax.set_title("Standard BP vs accumulated BP, same data, same η", fontsize=10)
    free_legend(ax, loc="upper right", fontsize=9)
    return fig


def plot_weight_tangent(weights, errors, weight, error, slope, symbol, mark=None):
    """The error as a curve in one weight, the point at the weight's current value and the
    tangent there with the given slope (the backpropagated derivative).

    symbol: the weight's name in TeX, e.g. "v_{11}"; mark: a value to show with a dotted line.
    """
    same_length(weights=weights, errors=errors)
    weights = np.asarray(weights, dtype=float)
    fig, ax = new_figure()
    ax.plot(weights, errors, "-", color=PALETTE["forward"],
            label="E as a function of the weight")
    span = 0.18 * (weights.max() - weights.min())
    near = np.linspace(weight - span, weight + span, 2)
    ax.plot(near, error + slope * (near - weight), "--", color=PALETTE["backward"],
            linewidth=2, label="tangent with the backprop slope")
    ax.plot([weight], [error], "o", color=PALETTE["backward"], markeredgecolor="black")
    if mark is not None:
        ax.axvline(mark, color=PALETTE["neutral"], linestyle=":", label="seed's value")
    low, high = min(errors), max(errors)
    ax.set_ylim(low - 0.1 * (high - low), high + 0.15 * (high - low))
    # the weight's subscripts in the label and title reach 9 pt at SCRIPTED_PT
    ax.set_xlabel(f"${symbol}$", fontsize=SCRIPTED_PT)
    ax.set_ylabel("E (cross-entropy)")
    ax.set_title(wrap_to_width(rf"${symbol} = {weight:+.2f}$: $E = {error:.3f}$, "
                               rf"$\partial E/\partial {symbol} = {slope:+.3f}$",
                               (fig.get_figwidth() - 0.3) * 72, SCRIPTED_PT),
                 fontsize=SCRIPTED_PT)
    free_legend(ax, loc="upper right", fontsize=9)
    fig.bp_alt = (f"The error E as a curve in the weight, from {errors[0]:.3f} at "
                  f"{weights[0]:+.2f} to {errors[-1]:.3f} at {weights[-1]:+.2f}; at the weight "
                  f"{weight:+.2f} the error is {error:.3f} and the tangent with the "
                  f"backpropagated slope {slope:+.3f} touches the curve.")
    return fig


def plot_predictions(curves, eta, label_values=False):
    """Predictions over the updates, one line per {label: (predictions, target)}; the
    predictions start with the one before the first update, and a dotted line marks the
    target. label_values writes each prediction next to its point."""
    if not curves:
        raise ValueError("give at least one curve")
    fig, ax = new_figure()
    styles = [("o-", PALETTE["backward"]), ("s--", PALETTE["forward"])]
    for (label, (values, target)), (style, colour) in zip(curves.items(), styles, strict=False):
        values = np.ravel(values)
        ax.plot(range(len(values)), values, style, color=colour, label=label)
        ax.axhline(target, color=colour, linestyle=":", linewidth=1)
        if label_values:
            for step_number, value in enumerate(values):
                ax.annotate(f"{value:.3f}", (step_number, value), xytext=(0, -14),
                            textcoords="offset points", ha="center", fontsize=9)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("updates made")
    ax.set_ylabel(r"prediction $\hat y$")
    last = ", ".join(f"{np.ravel(values)[-1]:.3f}" for values, _ in curves.values())
    ax.set_title(rf"$\eta = {eta:g}$: $\hat y$ after the last update: {last}", fontsize=10)
    free_legend(ax, loc="lower right", fontsize=9)
    fig.bp_alt = (f"Predictions over {len(np.ravel(next(iter(curves.values()))[0])) - 1} "
                  f"updates with learning rate {eta:g}: " + "; ".join(
                      f"{label}: " + ", ".join(f"{v:.3f}" for v in np.ravel(values))
                      for label, (values, _) in curves.items()) + ".")
    return fig
