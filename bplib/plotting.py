"""Every figure of the course: each function only draws what it is given and returns a Figure.

pyplot creates each figure and then forgets it, so a notebook shows a figure only where
the caller displays (or glues) it, and the many frames of a slider don't pile up.
Colours come from the Okabe-Ito palette, which stays distinguishable with colour-blind
vision, and every series also differs in line style or marker.
"""

import html
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch

from .graph import Value, topological_order
from .telephone import letter_error, threaded_line

PALETTE = {
    "forward": "#0072B2",   # blue
    "backward": "#D55E00",  # vermillion
    "error": "#E69F00",     # orange
    "highlight": "#009E73",  # bluish green
    "neutral": "#999999",   # grey
}
FIGSIZE = (6, 3.5)


def _figure():
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    # Let go of pyplot's reference: the figure still draws and displays, but a notebook
    # no longer shows it by itself at the end of the cell, and slider frames don't pile up.
    plt.close(fig)
    return fig, ax


def _same_length(**series):
    lengths = {name: len(values) for name, values in series.items()}
    if len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise ValueError(f"expected non-empty series of equal length, got lengths {lengths}")


def line_html(original, heard):
    """An HTML table of a telephone line: who, what they said, their letter error.

    heard is what each player said (one str, or a list in order). Letters that differ
    from the original are wrapped in <mark> and underlined, so they stand out without colour.
    """
    heard = [heard] if isinstance(heard, str) else list(heard)
    rows = [("speaker", html.escape(original), "")]
    for k, sentence in enumerate(heard, start=1):
        error = letter_error(original, sentence)
        marked = "".join(
            f'<mark style="text-decoration: underline">{html.escape(b)}</mark>' if a != b
            else html.escape(b) for a, b in zip(original, sentence))
        rows.append((f"player {k}", marked, f"{error:.0%}"))
    body = "".join(f"<tr><td>{who}</td><td><code>{said}</code></td><td>{error}</td></tr>"
                   for who, said, error in rows)
    return ('<table class="telephone-line"><caption>Letters that differ from the '
            "speaker's sentence are marked.</caption><thead><tr><th>who</th>"
            "<th>what they said</th><th>letter error</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _count(number, noun):
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _node_xy(node, groups, players):
    """Speakers in column 0, players at position k in column k, the judge last; group 1 on top."""
    if node == "judge":
        return players + 1, (groups - 1) / 2
    group, _, position = node.split()[1].partition(".")
    return (int(position) if position else 0), groups - int(group)


def draw_threaded_line(groups, players, direction="forward"):
    """The threaded line, left to right; arrows follow the whisper or, when
    direction="backward", point back along it (the judge's broadcast)."""
    if direction not in ("forward", "backward"):
        raise ValueError(f'direction must be "forward" or "backward", got {direction!r}')
    line = threaded_line(groups, players)
    fig, ax = _figure()
    forward = direction == "forward"
    colour = PALETTE[direction]
    for node, listeners in line.items():
        for listener in listeners:
            tail, head = _node_xy(node, groups, players), _node_xy(listener, groups, players)
            start, end = (tail, head) if forward else (head, tail)
            ax.annotate("", xy=end, xytext=start, arrowprops=dict(
                arrowstyle="-|>", color=colour, linestyle="-" if forward else "--",
                shrinkA=11, shrinkB=11, linewidth=1.2))
    for node in line:
        x, y = _node_xy(node, groups, players)
        label = "J" if node == "judge" else node.replace("speaker ", "S").replace("player ", "")
        ax.scatter([x], [y], s=500, color="white", edgecolors="black", zorder=3,
                   marker="s" if node == "judge" else "o")
        ax.text(x, y, label, ha="center", va="center", fontsize=7, zorder=4)
    ax.set_xticks(range(players + 2),
                  ["speakers"] + [f"position {k}" for k in range(1, players + 1)] + ["judge"],
                  fontsize=8)
    ax.set_yticks([])
    ax.set_xlabel("S g: speaker of group g;  g.k: player at position k of group g;  J: judge",
                  fontsize=8)
    ax.set_xlim(-0.5, players + 1.5)
    ax.set_ylim(-0.6, groups - 0.4)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    what = "whispers go forward" if forward else "the judge's broadcast goes backward"
    ax.set_title(f"Threaded line, {_count(groups, 'group')} of {_count(players, 'player')}: "
                 f"{what}", fontsize=9)
    return fig


def plot_message_counts(groups_values, players, forward_counts, backward_counts, highlight=None):
    """Messages per training sentence against the number of groups (log scale)."""
    _same_length(groups_values=groups_values, forward_counts=forward_counts,
                 backward_counts=backward_counts)
    if min(min(forward_counts), min(backward_counts)) < 1:
        raise ValueError("message counts must be >= 1 to be drawn on a log scale")
    fig, ax = _figure()
    ax.plot(groups_values, forward_counts, "-o", color=PALETTE["forward"],
            label="every speaker walks the line (forward)")
    ax.plot(groups_values, backward_counts, "--s", color=PALETTE["backward"],
            label="the judge broadcasts once (backward)")
    if highlight is not None:
        if highlight not in list(groups_values):
            raise ValueError(f"highlight must be one of groups_values, got {highlight!r}")
        at = list(groups_values).index(highlight)
        ax.axvline(highlight, color=PALETTE["highlight"], linestyle=":")
        for counts in (forward_counts, backward_counts):
            ax.annotate(f"{counts[at]:,}", (highlight, counts[at]), textcoords="offset points",
                        xytext=(-6, 6), ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("number of groups")
    ax.set_ylabel("messages per training sentence")
    ax.set_title(f"Messages needed to train a threaded line of {_count(players, 'player')} "
                 "per group", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def plot_gradient_speedup(table):
    """Speed-up of backprop over finite differences against the number of parameters N."""
    if len(table) == 0:
        raise ValueError("table needs at least one row (see telephone.gradient_cost_table)")
    n = np.array([row["n_params"] for row in table], dtype=float)
    speedup = np.array([row["speedup"] for row in table], dtype=float)
    fig, ax = _figure()
    ax.plot(n, speedup, "-o", color=PALETTE["forward"], label="measured speed-up (fd / backprop)")
    # A line proportional to N through the first point: the slope the measurements should follow.
    ax.plot(n, speedup[0] * n / n[0], ":", color=PALETTE["neutral"], label="proportional to N")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of parameters N")
    ax.set_ylabel("speed-up (times faster)")
    ax.set_title("Backpropagation against finite differences: the gap grows with N", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def plot_line_error(rates, predicted, simulated, mark=None, mark_in_title=False):
    """Letter error at the end of the line against player 2's error rate:
    the predicted curve and the simulated points.

    mark draws a dotted line at one rate; with mark_in_title, mark must be one of rates and
    the title reads off the predicted error there, the number a slider's reader looks for.
    """
    _same_length(rates=rates, predicted=predicted, simulated=simulated)
    title = "How much of the sentence the line gets wrong"
    if mark_in_title:
        at = [] if mark is None else np.flatnonzero(np.isclose(rates, mark))
        if len(at) == 0:
            raise ValueError(f"with mark_in_title, mark must be one of rates, got {mark!r}")
        title = f"player 2 at {mark:.0%}: predicted letter error {predicted[at[0]]:.1%}"
    fig, ax = _figure()
    ax.plot(rates, predicted, "-", color=PALETTE["forward"], label="predicted")
    ax.plot(rates, simulated, "o", color=PALETTE["error"], markeredgecolor="black",
            label="simulated")
    if mark is not None:
        ax.axvline(mark, color=PALETTE["highlight"], linestyle=":", label=f"rate {mark:.0%}")
    ax.xaxis.set_major_formatter("{x:.0%}")
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.set_xlabel("player 2's error rate")
    ax.set_ylabel("letter error at the end of the line")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return fig


def plot_sigmoid_layer(xs, outputs, slopes, x0, out0, slope0):
    """A sigmoid layer's forward outputs and backward(1.0) slopes at xs, and the tangent
    at x0 through (x0, out0) with slope slope0: all as given, however they were computed."""
    _same_length(xs=xs, outputs=outputs, slopes=slopes)
    xs = np.asarray(xs, dtype=float)
    fig, ax = _figure()
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
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_bill_gradients(gradients, friends, share, limit=None, reference=None):
    """One bar per input: d share / d input, from the dict gradients {input name: value},
    labelled with its value. The title names the share and d share / d friends.

    limit: the largest |gradient| the axis must fit (give every slider frame the same);
    reference: a height to mark with a dotted line.
    """
    if "friends" not in gradients:
        raise ValueError(f'gradients needs a "friends" entry, got {sorted(gradients)}')
    names, values = list(gradients), [gradients[name] for name in gradients]
    top = 1.2 * (limit if limit is not None else max(map(abs, values), default=0)) or 1.0
    fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
    plt.close(fig)  # as in _figure: the caller displays it
    bars = ax.bar([name.replace("_", "\n") for name in names], values,
                  color=PALETTE["backward"], edgecolor="black")
    ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ax.axhline(0, color="black", linewidth=0.8)
    if reference is not None:
        ax.axhline(reference, color=PALETTE["neutral"], linestyle=":", label=f"{reference:g}")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_ylim(-top, top)
    ax.set_xlabel("input of the bill")
    ax.set_ylabel("d share / d input")
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(f"{_count(friends, 'friend')}: share {share:.2f}, "
                 f"d share / d friends = {gradients['friends']:.3f}", fontsize=9)
    return fig


_OP_SYMBOLS = {"*": "×", "/": "÷", "-": "−", "neg": "negate"}
_BOX_WIDTH, _WAYPOINT_HEIGHT = 0.8, 0.4


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
        for a, b in zip(chain, chain[1:]):
            right.setdefault(a, []).append(b)
            left.setdefault(b, []).append(a)
    y = {}

    def stack(items):  # top to bottom, centred on 0
        sizes = [1.0 if isinstance(item, Value) else _WAYPOINT_HEIGHT for item in items]
        top = sum(sizes) / 2
        for item, size in zip(items, sizes):
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
    (on two lines if long), its value and maybe its grad; long lines get smaller type."""
    op = _OP_SYMBOLS.get(node.op, node.op)
    header = f"{node.label} ({op})" if node.label and op else node.label or op
    header = textwrap.wrap(header, 16, max_lines=2, placeholder="…") or [""]
    lines = [(text, "black", "bold") for text in header]
    lines.append((f"value {node.data:.4g}", PALETTE["forward"], "normal"))
    if show_grad:
        lines.append((f"grad {node.grad:.4g}", PALETTE["backward"], "normal"))
    header_size = min(8.0, 8 * 15 / max(1, *map(len, header)))
    return [(text, colour, weight, header_size if weight == "bold" else 8.0)
            for text, colour, weight in lines]


def _spread(count, height):
    """Offsets from a box's middle for `count` edge ends, so arrowheads don't coincide."""
    step = min(0.12, 0.7 * height / max(count - 1, 1))
    return [(count - 1) / 2 * step - i * step for i in range(count)]


def draw_graph(output, show_grad=True, title=None):
    """A computational graph left to right, one box per node: its label and operation,
    its value (forward pass) and, if show_grad, its grad = d output / d node (backward).

    Values and grads differ in colour *and* in the word before them. With show_grad,
    call output.backward() first. Readable up to about 20 nodes in 8 columns.
    """
    if show_grad and isinstance(output, Value) and output.grad == 0:
        raise ValueError("the grads are not computed yet: call output.backward() first, "
                         "or draw with show_grad=False")
    position, chains = _graph_layout(output)
    xs, ys = zip(*position.values())
    # 1.3 inches per column, 0.85 per row; at least 5 inches wide, for the caption.
    width = max(5.0, 0.3 + 1.3 * (max(xs) + 1))
    fig, ax = plt.subplots(figsize=(width, 0.9 + 0.85 * (max(ys) - min(ys) + 1)),
                           layout="constrained")
    plt.close(fig)  # as in _figure: the caller displays it
    lines = {node: _box_lines(node, show_grad) for node in position if isinstance(node, Value)}
    half_width, height = _BOX_WIDTH / 2, 0.12 + 0.2 * max(map(len, lines.values()))
    # Where each edge leaves its input and enters its node: spread out, ordered by height.
    ends = {}
    for i, chain in enumerate(chains):
        ends.setdefault(("out", chain[0]), []).append((-position[chain[1]][1], i))
        ends.setdefault(("in", chain[-1]), []).append((-position[chain[-2]][1], i))
    offset = {}
    for (side, node), edges in ends.items():
        for (_, i), dy in zip(sorted(edges), _spread(len(edges), height)):
            offset[side, i] = dy
    for i, chain in enumerate(chains):
        (x0, y0), (x1, y1) = position[chain[0]], position[chain[-1]]
        points = [(x0 + half_width, y0 + offset["out", i])]
        for waypoint in chain[1:-1]:
            wx, wy = position[waypoint]
            points += [(wx - half_width, wy), (wx + half_width, wy)]
        if len(points) > 1:
            ax.plot(*zip(*points), color="black", linewidth=0.9, zorder=1)
        ax.annotate("", xy=(x1 - half_width, y1 + offset["in", i]), xytext=points[-1],
                    arrowprops=dict(arrowstyle="-|>", color="black", linewidth=0.9,
                                    shrinkA=0, shrinkB=0), zorder=1)
    for node in lines:
        x, y = position[node]
        ax.add_patch(FancyBboxPatch((x - half_width, y - height / 2), _BOX_WIDTH, height,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor="white" if node.inputs else "#EEEEEE",
                                    edgecolor="black", linewidth=0.9, zorder=2))
        for k, (text, colour, weight, size) in enumerate(lines[node]):
            ax.text(x, y + 0.1 * (len(lines[node]) - 1) - 0.2 * k, text, ha="center",
                    va="center", color=colour, fontweight=weight, fontsize=size, zorder=3)
    margin = ((width - 0.3) / 1.3 - max(xs)) / 2
    ax.set_xlim(-margin, max(xs) + margin)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.set_axis_off()
    ax.set_title(title or f"Computational graph of {output.label or 'the output'}", fontsize=9)
    caption = ["grey boxes: inputs", "value: from the forward pass"]
    if show_grad:
        caption.append(f"grad: d {output.label or 'output'} / d node, from the backward pass")
    caption = ("\n" if width < 8 else "      ").join(caption)
    ax.text(0.5, 0, caption, transform=ax.transAxes, ha="center", va="top", fontsize=8)
    return fig


def plot_path_costs(table):
    """Work for the sum over paths against one backward pass on diamond_chain(n), against n
    (log scale): rows of graph.path_cost_table."""
    if len(table) == 0:
        raise ValueError("table needs at least one row (see graph.path_cost_table)")
    n = [row["n"] for row in table]
    fig, ax = _figure()
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
    ax.legend(fontsize=8)
    return fig
