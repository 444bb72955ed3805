"""Chapter 2's figures (the chain rule on computational graphs): each draws only what it is
given."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch

from ..graph import Value, topological_order
from ._common import PALETTE, count_noun, new_figure, same_length


def plot_sigmoid_layer(xs, outputs, slopes, x0, out0, slope0):
    """A sigmoid layer's forward outputs and backward(1.0) slopes at xs, and the tangent
    at x0 through (x0, out0) with slope slope0: all as given, however they were computed."""
    same_length(xs=xs, outputs=outputs, slopes=slopes)
    xs = np.asarray(xs, dtype=float)
    fig, ax = new_figure()
    ax.plot(xs, outputs, "-", color=PALETTE["forward"], label="forward: the output")
    ax.plot(xs, slopes, "--", color=PALETTE["backward"], label="backward(1.0): the slope")
    ax.plot(xs, out0 + slope0 * (xs - x0), ":", color=PALETTE["highlight"],
            label=f"tangent at x = {x0:+.1f}")
    ax.plot([x0], [out0], "o", color=PALETTE["forward"], markeredgecolor="black")
    ax.set_ylim(-0.1, 1.1)
    ax.set_xlabel("x, the layer's input")
    ax.set_ylabel("output or slope")
    ax.set_title(f"x = {x0:+.1f}: forward gives {out0:.3f}, backward gives {slope0:.3f}",
                 fontsize=9)
    ax.legend(loc="upper left", fontsize=9)
    return fig


def plot_bill_gradients(gradients, friends, share, limit=None, reference=None):
    """One bar per input: ∂ share/∂ input, from the dict gradients {input name: value},
    labelled with its value. The title names the share and ∂ share/∂ friends.

    limit: the largest |gradient| the axis must fit (give every slider frame the same);
    reference: a height to mark with a dotted line.
    """
    if "friends" not in gradients:
        raise ValueError(f'gradients needs a "friends" entry, got {sorted(gradients)}')
    names, values = list(gradients), [gradients[name] for name in gradients]
    top = 1.2 * (limit if limit is not None else max(map(abs, values), default=0)) or 1.0
    fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
    plt.close(fig)  # as in new_figure: the caller displays it
    bars = ax.bar([name.replace("_", "\n") for name in names], values,
                  color=PALETTE["backward"], edgecolor="black")
    ax.bar_label(bars, fmt="%.2f", fontsize=9, padding=2)
    ax.axhline(0, color="black", linewidth=0.8)
    if reference is not None:
        ax.axhline(reference, color=PALETTE["neutral"], linestyle=":", label=f"{reference:g}")
        ax.legend(loc="upper right", fontsize=9)
    ax.set_ylim(-top, top)
    ax.set_xlabel("input of the bill")
    ax.set_ylabel("∂ share/∂ input")
    ax.tick_params(axis="x", labelsize=9)
    ax.set_title(f"{count_noun(friends, 'friend')}: share {share:.2f}, "
                 f"∂ share/∂ friends = {gradients['friends']:.3f}", fontsize=9)
    return fig


_OP_SYMBOLS = {"*": "×", "/": "÷", "-": "−", "neg": "negate"}
_BOX_WIDTH, _WAYPOINT_HEIGHT = 0.8, 0.4
_COLUMN = 1.45  # inches per column of boxes


def _graph_layout(output):
    """(position of every node and waypoint, the chains of points every edge passes through).

    Each node sits one column left of its leftmost user, the output in the last column. An
    edge that skips columns gets a waypoint in each column it crosses, which takes a thin
    slot there, so it runs between the boxes instead of through them. Within a column,
    boxes and waypoints are sorted a few times by the mean height of their neighbours,
    which untangles most crossings.
    """
    order = topological_order(output)
    depth = {output: 0}  # columns to the left of the output
    for node in reversed(order):
        for inp in node.inputs:
            depth[inp] = max(depth.get(inp, 0), depth[node] + 1)
    chains = [[inp] + [(node, slot, d) for d in range(depth[inp] - 1, depth[node], -1)] + [node]
              for node in order for slot, inp in enumerate(node.inputs)]
    n_columns = max(depth.values()) + 1
    columns = [[] for _ in range(n_columns)]
    for node in order:
        columns[depth[node]].append(node)
    left, right = {}, {}
    for chain in chains:
        for item in chain[1:-1]:
            columns[item[2]].append(item)
        for a, b in zip(chain, chain[1:], strict=False):
            right.setdefault(a, []).append(b)
            left.setdefault(b, []).append(a)
    y = {}

    def stack(items):  # top to bottom, centred on 0
        sizes = [1.0 if isinstance(item, Value) else _WAYPOINT_HEIGHT for item in items]
        top = sum(sizes) / 2
        for item, size in zip(items, sizes, strict=False):
            y[item] = top - size / 2
            top -= size

    for items in columns:
        stack(items)
    for sweep in range(6):
        neighbours = right if sweep % 2 == 0 else left
        for items in (columns if sweep % 2 == 0 else columns[::-1]):
            items.sort(key=lambda item: -np.mean([y[n] for n in neighbours[item]])
                       if item in neighbours else -y[item])
            stack(items)
    x = {item: n_columns - 1 - d for d, items in enumerate(columns) for item in items}
    return {item: (x[item], y[item]) for item in y}, chains


def _box_lines(node, show_grad):
    """[(text, colour, font weight, font size)] for a node's box: its label and operation
    (on two lines if long), its value and maybe its grad."""
    op = _OP_SYMBOLS.get(node.op, node.op)
    if op.startswith("**"):  # "**2" is Python; the figure says "square" or "power 0.5"
        op = "square" if op == "**2" else f"power {op[2:]}"
    header = f"{node.label} ({op})" if node.label and op else node.label or op
    header = textwrap.wrap(header, 14, max_lines=2, placeholder="…") or [""]
    lines = [(text, "black", "bold") for text in header]
    lines.append((f"value {node.data:.4g}", PALETTE["forward"], "normal"))
    if show_grad:
        lines.append((f"grad {node.grad:.4g}", PALETTE["backward"], "normal"))
    # 9 pt, the book's smallest figure text (12 px where the figure is shown at its size)
    return [(text, colour, weight, 9.0) for text, colour, weight in lines]


def _spread(count, height):
    """Offsets from a box's middle for `count` edge ends, so arrowheads don't coincide."""
    step = min(0.12, 0.7 * height / max(count - 1, 1))
    return [(count - 1) / 2 * step - i * step for i in range(count)]


def draw_graph(output, show_grad=True, title=None, edge_labels=False):
    """A computational graph left to right, one box per node: its label and operation,
    its value (forward pass) and, if show_grad, its grad = d output / d node (backward).
    With edge_labels, each arrow shows its local derivative d head / d tail.

    Values and grads differ in colour *and* in the word before them. With show_grad,
    call output.backward() first. Readable up to about 20 nodes in 8 columns.
    """
    if show_grad and isinstance(output, Value) and output.grad == 0:
        raise ValueError("the grads are not computed yet: call output.backward() first, "
                         "or draw with show_grad=False")
    position, chains = _graph_layout(output)
    if edge_labels:  # wider gaps between the columns, to hold the labels
        position = {item: (1.6 * x, y) for item, (x, y) in position.items()}
    xs, ys = zip(*position.values(), strict=False)
    # 1.45 inches per column, 0.95 per row; at least 5 inches wide, for the caption.
    width = max(5.0, 0.3 + _COLUMN * (max(xs) + 1))
    fig, ax = plt.subplots(figsize=(width, 0.9 + 0.95 * (max(ys) - min(ys) + 1)),
                           layout="constrained")
    plt.close(fig)  # as in new_figure: the caller displays it
    lines = {node: _box_lines(node, show_grad) for node in position if isinstance(node, Value)}
    half_width, height = _BOX_WIDTH / 2, 0.12 + 0.2 * max(map(len, lines.values()))
    # Where each edge leaves its input and enters its node: spread out, ordered by height.
    ends = {}
    for i, chain in enumerate(chains):
        ends.setdefault(("out", chain[0]), []).append((-position[chain[1]][1], i))
        ends.setdefault(("in", chain[-1]), []).append((-position[chain[-2]][1], i))
    offset = {}
    for (side, _node), edges in ends.items():
        for (_, i), dy in zip(sorted(edges), _spread(len(edges), height), strict=False):
            offset[side, i] = dy
    # _graph_layout makes one chain per (node, input slot), in this order.
    local_grads = [node.local_grads[slot] for node in topological_order(output)
                   for slot in range(len(node.inputs))]
    for i, chain in enumerate(chains):
        (x0, y0), (x1, y1) = position[chain[0]], position[chain[-1]]
        points = [(x0 + half_width, y0 + offset["out", i])]
        for waypoint in chain[1:-1]:
            wx, wy = position[waypoint]
            points += [(wx - half_width, wy), (wx + half_width, wy)]
        if len(points) > 1:
            ax.plot(*zip(*points, strict=False), color="black", linewidth=0.9, zorder=1)
        ax.annotate("", xy=(x1 - half_width, y1 + offset["in", i]), xytext=points[-1],
                    arrowprops=dict(arrowstyle="-|>", color="black", linewidth=0.9,
                                    shrinkA=0, shrinkB=0), zorder=1)
        if edge_labels:
            (tail_x, tail_y), head = points[-1], (x1 - half_width, y1 + offset["in", i])
            ax.text((tail_x + head[0]) / 2, (tail_y + head[1]) / 2, f"{local_grads[i]:.3g}",
                    ha="center", va="center", fontsize=9, color="black", zorder=2,
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="#FFF3C4",
                              edgecolor=PALETTE["neutral"], linewidth=0.6))
    for node in lines:
        x, y = position[node]
        ax.add_patch(FancyBboxPatch((x - half_width, y - height / 2), _BOX_WIDTH, height,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor="white" if node.inputs else "#EEEEEE",
                                    edgecolor="black", linewidth=0.9, zorder=2))
        for k, (text, colour, weight, size) in enumerate(lines[node]):
            ax.text(x, y + 0.1 * (len(lines[node]) - 1) - 0.2 * k, text, ha="center",
                    va="center", color=colour, fontweight=weight, fontsize=size, zorder=3)
    margin = ((width - 0.3) / _COLUMN - max(xs)) / 2
    ax.set_xlim(-margin, max(xs) + margin)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.set_axis_off()
    ax.set_title(title or f"Computational graph of {output.label or 'the output'}", fontsize=9)
    caption = ["grey boxes: inputs", "value: from the forward pass"]
    if show_grad:
        caption.append(f"grad: ∂{output.label or 'output'}/∂node, from the backward pass")
    if edge_labels:
        caption.append("on each arrow: its local derivative ∂head/∂tail")
    caption = ("\n" if width < 8 else "      ").join(caption)
    ax.text(0.5, 0, caption, transform=ax.transAxes, ha="center", va="top", fontsize=9)
    fig.bp_alt = (f"{ax.get_title()}, left to right: " + "; ".join(
        f"{node.label or node.op}: value {node.data:.4g}"
        + (f", grad {node.grad:.4g}" if show_grad else "")
        for node in topological_order(output)) + ".")
    return fig


def plot_path_costs(table):
    """Work for the sum over paths against one backward pass on diamond_chain(n), against n
    (log scale): rows of graph.path_cost_table."""
    if len(table) == 0:
        raise ValueError("table needs at least one row (see graph.path_cost_table)")
    n = [row["n"] for row in table]
    fig, ax = new_figure()
    ax.plot(n, [row["paths"] for row in table], "-o", color=PALETTE["forward"],
            label="paths from x to the output")
    ax.plot(n, [row["path_multiplications"] for row in table], "--s", color=PALETTE["forward"],
            label="multiplications to sum over paths")
    ax.plot(n, [row["backward_edges"] for row in table], ":^", color=PALETTE["backward"],
            label="edges one backward pass visits")
    ax.set_yscale("log")
    ax.set_xlabel("number of diamonds n")
    ax.set_ylabel("count (log scale)")
    ax.set_title("Summing over paths doubles with each diamond; backward grows by a few edges",
                 fontsize=9)
    ax.legend(fontsize=9)
    return fig
