"""Chapter 3's figures (layers and the composite-function view): each draws what it is given."""


import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch

from ._common import (PALETTE, SCRIPTED_PT, TEXT_PALETTE, free_legend, new_figure,
                      plain_log_ticks, same_length, wrap_to_width)


def _two_panels(width=6.5, height=3.2):
    fig, axes = plt.subplots(1, 2, figsize=(width, height), layout="constrained")
    plt.close(fig)  # as in new_figure: the caller displays it
    return fig, axes


def plot_jacobian_costs(widths, explicit_seconds, backward_seconds, explicit_bytes,
                        backward_bytes):
    """Time and memory of the explicit Jacobian product against backward, by width."""
    same_length(widths=widths, explicit_seconds=explicit_seconds,
                backward_seconds=backward_seconds, explicit_bytes=explicit_bytes,
                backward_bytes=backward_bytes)
    fig, (time_ax, memory_ax) = _two_panels()
    for ax, explicit, backward, label in (
            (time_ax, explicit_seconds, backward_seconds, "time (ms)"),
            (memory_ax, explicit_bytes, backward_bytes, "extra memory (kB)")):
        scale = 1e3 if ax is time_ax else 1e-3
        ax.loglog(widths, np.asarray(explicit) * scale, "o-", color=PALETTE["error"],
                  label="explicit Jacobians")
        ax.loglog(widths, np.asarray(backward) * scale, "s--", color=PALETTE["backward"],
                  label="backward (VJP)")
        plain_log_ticks(ax)
        ax.set_xlabel("width n of every layer")
        ax.set_ylabel(label)
    # panels named a and b: side by side on a desktop, stacked on a phone
    time_ax.set_title("(a) time, best of several runs", fontsize=9)
    memory_ax.set_title("(b) peak memory, tracemalloc", fontsize=9)
    free_legend(time_ax, fontsize=9)
    return fig


def plot_sweep_costs(ns, forward_in, reverse_in, ms, forward_out, reverse_out, fixed):
    """Seconds for the whole Jacobian by forward and reverse sweeps: panel (a), n inputs
    varied with `fixed` outputs; panel (b), m outputs varied with `fixed` inputs."""
    same_length(ns=ns, forward_in=forward_in, reverse_in=reverse_in)
    same_length(ms=ms, forward_out=forward_out, reverse_out=reverse_out)
    fig, axes = _two_panels()
    for ax, xs, fwd, rev, xlabel in ((axes[0], ns, forward_in, reverse_in, "inputs n"),
                                     (axes[1], ms, forward_out, reverse_out, "outputs m")):
        ax.plot(xs, np.asarray(fwd) * 1e3, "o-", color=PALETTE["forward"],
                label="forward mode (JVPs)")
        ax.plot(xs, np.asarray(rev) * 1e3, "s--", color=PALETTE["backward"],
                label="reverse mode (VJPs)")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("time for the Jacobian (ms)")
        ax.set_ylim(bottom=0)
    axes[0].set_title(f"(a) m = {fixed} outputs", fontsize=9)
    axes[1].set_title(f"(b) n = {fixed} inputs", fontsize=9)
    free_legend(axes[0], fontsize=9)
    return fig


def plot_stored_bytes(depths, batches, stored_kb):
    """Kilobytes kept for the backward pass: one line per batch size, against depth.
    stored_kb[i][j] is for batches[i] and depths[j]."""
    fig, ax = new_figure()
    styles = ["o-", "s--", "^:", "d-."]
    for i, (batch, row) in enumerate(zip(batches, stored_kb, strict=False)):
        same_length(depths=depths, row=row)
        ax.plot(depths, row, styles[i % len(styles)], label=f"batch {batch}",
                color=[PALETTE["forward"], PALETTE["backward"], PALETTE["highlight"],
                       PALETTE["error"]][i % 4])
    ax.set_xlabel("depth L (hidden layers)")
    ax.set_ylabel("kept for backward (kB)")
    ax.set_title("stored bytes ∝ L × batch", fontsize=9)
    free_legend(ax, fontsize=9)
    return fig


def plot_checkpoint_costs(spacings, peak_kb, recomputed, n_layers, mark=None, top=None,
                          n_kept=None):
    """Peak memory and recomputed layer forwards against the checkpoint spacing k,
    with k = mark highlighted and a dotted line where the sqrt(n) rule puts the best k:
    segments of sqrt(n_kept) kept arrays, n_layers / sqrt(n_kept) layers (n_kept, the
    arrays the chain keeps, defaults to n_layers: one array per layer, k = sqrt(n_layers))."""
    same_length(spacings=spacings, peak_kb=peak_kb, recomputed=recomputed)
    rule_k = n_layers / np.sqrt(n_layers if n_kept is None else n_kept)
    rule_label = (f"k = √{n_layers}" if n_kept is None
                  else f"√n rule ({n_kept} arrays): k ≈ {rule_k:.0f}")
    fig, (memory_ax, compute_ax) = _two_panels()
    positions = np.arange(len(spacings))
    for ax, heights, colour, label in (
            (memory_ax, peak_kb, PALETTE["forward"], "peak memory (kB)"),
            (compute_ax, recomputed, PALETTE["backward"], "recomputed layer forwards")):
        colours = [PALETTE["highlight"] if k == mark else colour for k in spacings]
        bars = ax.bar(positions, heights, color=colours, edgecolor="black")
        ax.bar_label(bars, fmt="%.0f", fontsize=9, padding=2)
        ax.set_xticks(positions, [str(k) for k in spacings])
        ax.set_xlabel("checkpoint every k layers")
        ax.set_ylabel(label)
        # the dotted line between the bars where sqrt(n) falls
        ax.axvline(np.interp(rule_k, spacings, positions), color=PALETTE["neutral"],
                   linestyle=":", label=rule_label)
    memory_ax.set_title("(a) peak memory", fontsize=9)  # side by side, or stacked on a phone
    compute_ax.set_title("(b) recomputation", fontsize=9)
    if top is not None:
        memory_ax.set_ylim(0, top[0])
        compute_ax.set_ylim(0, top[1])
    title = f"{n_layers} layers" if mark is None else (
        f"{n_layers} layers, k = {mark}: {peak_kb[list(spacings).index(mark)]:.0f} kB, "
        f"{recomputed[list(spacings).index(mark)]:.0f} recomputed")
    fig.suptitle(title, fontsize=9)
    free_legend(memory_ax, fontsize=9, loc="upper center")
    if mark is not None:
        at = list(spacings).index(mark)
        fig.bp_alt = (f"Two bar charts against the checkpoint spacing k, with k = {mark} "
                      f"highlighted: peak memory {peak_kb[at]:.0f} kB (panel a; "
                      f"{max(peak_kb):.0f} kB at most), {recomputed[at]:.0f} recomputed layer "
                      f"forwards (panel b; {max(recomputed):.0f} at most).")
    return fig


def draw_backward_step(names, step, shapes, reads, with_params, narrow=False):
    """The chain x^1 -> f^1 -> ... -> x^(L+1) -> z during backward step `step`:
    step 0 is the forward pass done; step 1 is the loss, step s >= 2 runs f^(L+2-s).
    The stored x^j that the step reads, and the gradient it writes, are highlighted;
    gradients written by earlier steps are drawn, later ones are not. names[i] names
    f^(i+1), shapes[i] is the shape of x^(i+1), reads[i] the j of the x^j that f^(i+1)
    keeps, and with_params holds the numbers i of the layers f^i with parameters w^i.
    The chain runs left to right; narrow (the phone version the figure carries as
    figure.bp_phone) draws it top to bottom, the gradients in a column beside it."""
    n_layers = len(names)
    if not 0 <= step <= n_layers + 1:
        raise ValueError(f"step must be between 0 and {n_layers + 1}, got {step}")
    row = 0.85  # narrow: from one x^i to the next, downwards
    bottom = -(n_layers + 1) * row - 1.0
    # labels with scripts are SCRIPTED_PT, so the figure is as wide as a desktop's column
    width = 3.6 if narrow else 7.2
    fig, ax = plt.subplots(figsize=(width, 0.95 * (0.5 - bottom) + 1.3) if narrow
                           else (width, 3.4), layout="constrained")
    plt.close(fig)
    if narrow:
        ax.set_xlim(-1.6, 2.0)
        ax.set_ylim(bottom, 0.5)
        ax.set_aspect("equal")
    else:
        ax.set_xlim(-0.5, n_layers + 1.5)
        ax.set_ylim(-1.2, 1.65)
    ax.axis("off")

    def at(place, height):  # place along the chain, height above it, as drawn
        return ((0.8 - height) * 1.1, -place * row) if narrow else (place, height)
    running = n_layers + 2 - step if step else None  # f^running works; the loss is L + 1
    read = None if running is None else (
        n_layers + 1 if running == n_layers + 1 else reads[running - 1])

    def box(place, height, text, face, edge="black", width=0.8):
        x, y = at(place, height)
        ax.add_patch(FancyBboxPatch((x - width / 2, y - 0.28), width, 0.56,
                                    boxstyle="round,pad=0.04", facecolor=face,
                                    edgecolor=edge, linewidth=2 if edge != "black" else 1))
        ax.text(x, y, text, ha="center", va="center", fontsize=SCRIPTED_PT)

    for i in range(n_layers + 1):  # x^1 .. x^(L+1), at x positions 0 .. L
        face = PALETTE["highlight"] if i + 1 == read else "white"
        box(i, 0.8, f"$x^{{{i + 1}}}$\n{shapes[i][0]}×{shapes[i][1]}", face)
        if running is not None and i + 1 >= running:
            writing = i + 1 == running
            box(i, -0.45, f"$\\partial z/\\partial x^{{{i + 1}}}$",
                PALETTE["backward"] if writing else "#f3d1bd",
                edge=PALETTE["backward"] if writing else "black")
    box(n_layers + 1, 0.8, "$z$", "white")
    for i in range(n_layers + 1):
        ax.annotate("", xy=at(i + 0.6, 0.8), xytext=at(i + 0.4, 0.8),
                    arrowprops={"arrowstyle": "->", "color": PALETTE["forward"]})
        label = "loss" if i == n_layers else f"$f^{{{i + 1}}}$\n{names[i]}"
        if narrow:  # beside the arrow, left of the chain
            ax.text(-0.55, -(i + 0.5) * row, label, ha="right", va="center",
                    fontsize=SCRIPTED_PT, color=TEXT_PALETTE["forward"])
        else:
            ax.text(i + 0.5, 1.12, label, ha="center", va="bottom", fontsize=SCRIPTED_PT,
                    color=TEXT_PALETTE["forward"])
    if running is None:
        ax.set_title("forward done: every $x^i$ is stored, no gradient yet")
    else:
        corner, size = (((-0.45, -(running + 0.42) * row), (2.35, 1.84 * row)) if narrow
                        else ((running - 1.45, -0.8), (1.9, 1.9)))
        ax.add_patch(FancyBboxPatch(corner, *size, boxstyle="round,pad=0.02", fill=False,
                                    edgecolor=PALETTE["highlight"], linestyle="--"))
        if running == n_layers + 1:
            ax.set_title(f"step {step}: the loss reads $x^{{{read}}}$, writes "
                         f"$\\partial z/\\partial x^{{{running}}}$")
        else:
            weights = (f"$\\partial z/\\partial w^{{{running}}}$, "
                       if running in with_params else "")
            ax.set_title(f"step {step}: $f^{{{running}}}$ reads $x^{{{read}}}$ and "
                         f"$\\partial z/\\partial x^{{{running + 1}}}$, writes {weights}"
                         f"$\\partial z/\\partial x^{{{running}}}$")
    # a long title on several lines: the frame stays as wide as its chain
    ax.title.set_fontsize(SCRIPTED_PT)
    ax.title.set_text(wrap_to_width(ax.get_title(), (width - 0.3) * 72, SCRIPTED_PT))
    ax.text(*((-1.5, bottom + 0.1) if narrow else (-0.5, -1.1)),
            "green: stored value read now\ndark orange: gradient written now", fontsize=9)
    chain = ", ".join(f"f{i + 1} {name}" for i, name in enumerate(names))
    if running is None:
        now = "the forward pass is done: every x is stored and no gradient is computed yet"
    elif running == n_layers + 1:
        now = (f"the loss reads the stored x{read} and writes the gradient of z with respect "
               f"to x{running}")
    else:
        params = f"the gradient of its weights w{running} and " if running in with_params \
            else ""
        now = (f"f{running} ({names[running - 1]}) reads the stored x{read} and the gradient "
               f"with respect to x{running + 1}, and writes {params}the gradient with respect "
               f"to x{running}")
    fig.bp_alt = f"Backward step {step} of {n_layers + 1} along the chain {chain}: {now}."
    if not narrow:
        fig.bp_phone = draw_backward_step(names, step, shapes, reads, with_params, narrow=True)
    return fig


def plot_gradient_norms(norms, label, reference=1.0):
    """|dz/dx^i| for i = 1 .. L+1 on a log scale, as given, with a dotted line at reference;
    label (e.g. "6 blocks (L = 12 layers)") starts the title."""
    fig, ax = new_figure()
    layer_numbers = np.arange(1, len(norms) + 1)
    ax.semilogy(layer_numbers, norms, "o-", color=PALETTE["backward"])
    ax.axhline(reference, color=PALETTE["neutral"], linestyle=":")
    ax.set_ylim(1e-8, 10)
    plain_log_ticks(ax)
    ax.set_xticks(layer_numbers)
    # the index i as a word, not as a superscript a phone could not read
    ax.set_xlabel("i, the layer's input x (i = 1: the network's input)")
    ax.set_ylabel("|∂z/∂x| at x of layer i")
    ax.set_title(f"{label}: |∂z/∂x| at the input = {norms[0]:.3g}", fontsize=9)
    return fig
