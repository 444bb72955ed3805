"""Chapter 2's figures (the chain rule on computational graphs): each draws only what it is
given."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyBboxPatch
from matplotlib.textpath import TextToPath

from ..graph import Value, topological_order
from ._common import (DESKTOP_WIDTH, PALETTE, PHONE_WIDTH, TEXT_PALETTE, count_noun,
                      SCRIPTED_PT, free_legend, new_figure, plain_log_ticks, same_length,
                      scripts_as_math)


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
    free_legend(ax, loc="upper left", fontsize=9)
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
    ax.set_ylim(-top, top)
    ax.set_xlabel("input of the bill")
    ax.set_ylabel("∂ share/∂ input")
    ax.tick_params(axis="x", labelsize=9)
    ax.set_title(f"{count_noun(friends, 'friend')}: share {share:.2f}, "
                 f"∂ share/∂ friends = {gradients['friends']:.3f}", fontsize=9)
    if reference is not None:
        free_legend(ax, loc="upper right", fontsize=9)
    return fig


_OP_SYMBOLS = {"*": "×", "/": "÷", "-": "−", "neg": "negate"}
_WAYPOINT_HEIGHT = 0.4
# Sizes in inches (the axes' data units are inches): a box, and the room between boxes.
_BOX_WIDTH = 1.16
_LINE = 0.19  # from one line of a box's text to the next
_ROW = 0.95  # from one box of a column to the next, left to right
_COLUMN = 1.45  # from one column to the next, left to right


def _graph_layout(output):
    """(position of every node and waypoint, the chains of points every edge passes through).

    A position is (column, place in the column): each node sits one column before its
    first user, the output in the last column. An edge that skips columns gets a waypoint
    in each column it crosses, which takes a thin slot there, so it runs between the boxes
    instead of through them. Within a column, boxes and waypoints are sorted a few times
    by the mean place of their neighbours, which untangles most crossings.
    """
    order = topological_order(output)
    depth = {output: 0}  # columns before the output's
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

    def stack(items):  # first to last, centred on 0
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


def _box_lines(node, show_grad, wrap=14):
    """[(text, colour, font weight, font size)] for a node's box: its label and operation
    (on two lines if longer than wrap, three in a narrow box), its value and maybe its
    grad."""
    op = _OP_SYMBOLS.get(node.op, node.op)
    if op.startswith("**"):  # "**2" is Python; the figure says "square" or "power 0.5"
        op = "square" if op == "**2" else f"power {op[2:]}"
    header = f"{node.label} ({op})" if node.label and op else node.label or op
    header = textwrap.wrap(header, wrap, max_lines=2 if wrap >= 14 else 3,
                           placeholder="…") or [""]
    lines = [(text, "black", "bold") for text in header]
    lines.append((f"value {node.data:.4g}", TEXT_PALETTE["forward"], "normal"))
    if show_grad:
        lines.append((f"grad {node.grad:.4g}", TEXT_PALETTE["backward"], "normal"))
    # 9 pt, the book's smallest figure text (12 px where the figure is shown at its size)
    return [(text, colour, weight, 9.0) for text, colour, weight in lines]


def _spread(count, room, widest):
    """Offsets from a side's middle for `count` edge ends, so arrowheads don't coincide."""
    step = min(widest, 0.7 * room / max(count - 1, 1))
    return [(count - 1) / 2 * step - i * step for i in range(count)]


def draw_graph(output, show_grad=True, title=None, edge_labels=False, layout="auto"):
    """A computational graph, one box per node: its label and operation, its value
    (forward pass) and, if show_grad, its grad = d output / d node (backward pass). With
    edge_labels, each arrow shows its local derivative d head / d tail.

    layout "across" draws the inputs on the left and the output on the right, "down" the
    inputs at the top and the output at the bottom; "auto" draws across where that fits a
    desktop's column (DESKTOP_WIDTH), else the narrower of the two, and gives the figure a
    phone version (figure.bp_phone, drawn down) where that is narrower.
    Values and grads differ in colour *and* in the word before them. With show_grad,
    call output.backward() first. Readable up to about 20 nodes in 8 columns.
    """
    if show_grad and isinstance(output, Value) and output.grad == 0:
        raise ValueError("the grads are not computed yet: call output.backward() first, "
                         "or draw with show_grad=False")
    if layout not in ("auto", "across", "down"):
        raise ValueError(f'layout must be "auto", "across" or "down", got {layout!r}')
    if layout != "auto":
        return _draw_graph(output, show_grad, title, edge_labels, layout == "down")
    across = _draw_graph(output, show_grad, title, edge_labels, False)
    width = across.get_size_inches()[0]
    if width <= PHONE_WIDTH:
        return across
    down = _draw_graph(output, show_grad, title, edge_labels, True)
    figure = across if width <= DESKTOP_WIDTH or width <= down.get_size_inches()[0] else down
    if down is not figure and down.get_size_inches()[0] < figure.get_size_inches()[0]:
        figure.bp_phone = down
    return figure


def _draw_graph(output, show_grad, title, edge_labels, down):
    position, chains = _graph_layout(output)
    # drawn down, boxes sit side by side: their names wrap sooner, and they are as wide as
    # their longest line
    lines = {node: _box_lines(node, show_grad, 10 if down else 14)
             for node in position if isinstance(node, Value)}
    height = (0.12 + 0.2 * max(map(len, lines.values()))) * 0.95
    widths = {item: _BOX_WIDTH for item in lines}
    if down:  # each box as wide as its longest line; in each row left to right by place
        measure = TextToPath()
        widths = {node: 0.08 + max(measure.get_text_width_height_descent(
            text, FontProperties(size=size, weight=weight), ismath=False)[0] / 72
            for text, _, weight, size in box) for node, box in lines.items()}
        step = height + (0.7 if edge_labels else 0.45)
        rows = {}
        for item, (column, place) in position.items():
            rows.setdefault(column, []).append((-place, item))
        placed = {}
        for column, items in rows.items():
            slots = [widths.get(item, 0.1) for _, item in sorted(items, key=lambda p: p[0])]
            left = -(sum(slots) + 0.06 * (len(slots) - 1)) / 2
            for (_, item), slot in zip(sorted(items, key=lambda p: p[0]), slots, strict=True):
                placed[item] = (left + slot / 2, -column * step)
                left += slot + 0.06
        position = placed
    else:  # from (column, place) to inches
        step = _COLUMN * (1.6 if edge_labels else 1.0)
        position = {item: (column * step, place * _ROW)
                    for item, (column, place) in position.items()}
    half_h = height / 2

    def side(item, out, offset=0.0):  # where an edge leaves (out) or enters a box
        (x, y), half_w = position[item], widths.get(item, _BOX_WIDTH) / 2
        if down:
            return (x + offset, y - half_h if out else y + half_h)
        return (x + half_w if out else x - half_w, y + offset)

    across_place = 0 if down else 1  # the coordinate along a column
    xs, ys = zip(*position.values(), strict=False)
    margin = 0.05 if down else 0.15
    x_lim = (min(x - widths.get(item, 0) / 2 for item, (x, _) in position.items()) - margin,
             max(x + widths.get(item, 0) / 2 for item, (x, _) in position.items()) + margin)
    y_lim = (min(ys) - half_h - 0.1, max(ys) + half_h + 0.1)
    # the figure, its axes one data unit per inch, with room for the title and caption
    title = title or f"Computational graph of {output.label or 'the output'}"
    caption = ["grey boxes: inputs", "value: from the forward pass"]
    if show_grad:
        caption.append(f"grad: ∂{output.label or 'output'}/∂node, from the backward pass")
    if edge_labels:
        caption.append("on each arrow: its local derivative ∂head/∂tail")
    content_w, content_h = x_lim[1] - x_lim[0], y_lim[1] - y_lim[0]
    width = max(content_w, 3.5 if down else 5.0)
    caption = ("\n" if width < 8 else "      ").join(caption)
    # a title with ² or ₁ has them drawn by mathtext and is larger, so they reach 9 pt
    title_pt = SCRIPTED_PT if scripts_as_math(title) != title else 9
    shown_title = "\n".join(scripts_as_math(line) for line in textwrap.wrap(
        title, int(width * 72 / (0.55 * title_pt))))
    top = 0.15 + 1.4 * title_pt / 72 * (shown_title.count("\n") + 1)
    bottom = 0.15 + 0.17 * (caption.count("\n") + 1)
    fig = Figure(figsize=(width, content_h + top + bottom))
    ax = fig.add_axes([(width - content_w) / 2 / width, bottom / (content_h + top + bottom),
                       content_w / width, content_h / (content_h + top + bottom)])
    # Where each edge leaves its input and enters its node: spread out, in order of place.
    ends = {}
    for i, chain in enumerate(chains):
        ends.setdefault(("out", chain[0]), []).append((-position[chain[1]][across_place], i))
        ends.setdefault(("in", chain[-1]), []).append((-position[chain[-2]][across_place], i))
    offset = {}
    for (end, _node), edges in ends.items():
        room, widest = (widths[_node], 0.2) if down else (height, 0.114)
        for (_, i), d in zip(sorted(edges), _spread(len(edges), room, widest), strict=False):
            offset[end, i] = -d if down else d
    # _graph_layout makes one chain per (node, input slot), in this order.
    local_grads = [node.local_grads[slot] for node in topological_order(output)
                   for slot in range(len(node.inputs))]
    for i, chain in enumerate(chains):
        points = [side(chain[0], True, offset["out", i])]
        for waypoint in chain[1:-1]:
            points += [side(waypoint, False), side(waypoint, True)]
        head = side(chain[-1], False, offset["in", i])
        if len(points) > 1:
            ax.plot(*zip(*points, strict=False), color="black", linewidth=0.9, zorder=1)
        ax.annotate("", xy=head, xytext=points[-1],
                    arrowprops=dict(arrowstyle="-|>", color="black", linewidth=0.9,
                                    shrinkA=0, shrinkB=0), zorder=1)
        if edge_labels:
            (tail_x, tail_y) = points[-1]
            ax.text((tail_x + head[0]) / 2, (tail_y + head[1]) / 2, f"{local_grads[i]:.3g}",
                    ha="center", va="center", fontsize=9, color="black", zorder=2,
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="#FFF3C4",
                              edgecolor=PALETTE["neutral"], linewidth=0.6))
    for node in lines:
        x, y = position[node]
        ax.add_patch(FancyBboxPatch((x - widths[node] / 2, y - half_h), widths[node], height,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor="white" if node.inputs else "#F2F2F2",
                                    edgecolor="black", linewidth=0.9, zorder=2))
        for k, (text, colour, weight, size) in enumerate(lines[node]):
            ax.text(x, y + _LINE / 2 * (len(lines[node]) - 1) - _LINE * k, text, ha="center",
                    va="center", color=colour, fontweight=weight, fontsize=size, zorder=3)
    ax.set_xlim(*x_lim)
    ax.set_ylim(*y_lim)
    ax.set_axis_off()
    ax.set_title(shown_title, fontsize=title_pt)
    ax.text(0.5, 0, caption, transform=ax.transAxes, ha="center", va="top", fontsize=9)
    fig.bp_alt = (f"{title}, from the inputs to the output: " + "; ".join(
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
    plain_log_ticks(ax)
    ax.set_xlabel("number of diamonds n")
    ax.set_ylabel("count (log scale)")
    ax.set_title("Summing over paths doubles with each diamond; backward grows by a few edges",
                 fontsize=9)
    free_legend(ax, fontsize=9)
    return fig
