"""Chapter 1's figures (the game of telephone): each draws only what it is given."""

import html

import numpy as np

from ..telephone import letter_error, threaded_line
from ._common import PALETTE, count_noun, free_legend, new_figure, plain_log_ticks, same_length


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
            else html.escape(b) for a, b in zip(original, sentence, strict=False))
        rows.append((f"player {k}", marked, f"{error:.0%}"))
    body = "".join(f"<tr><td>{who}</td><td><code>{said}</code></td><td>{error}</td></tr>"
                   for who, said, error in rows)
    return ('<table class="telephone-line"><caption>Letters that differ from the '
            "speaker's sentence are marked.</caption><thead><tr><th>who</th>"
            "<th>what they said</th><th>letter error</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


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
    fig, ax = new_figure()
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
        ax.text(x, y, label, ha="center", va="center", fontsize=9, zorder=4)
    ax.set_xticks(range(players + 2),
                  ["speakers"] + [f"position {k}" for k in range(1, players + 1)] + ["judge"],
                  fontsize=9)
    ax.set_yticks([])
    ax.set_xlabel("S g: speaker of group g;  g.k: player at position k of group g;  J: judge",
                  fontsize=9)
    ax.set_xlim(-0.5, players + 1.5)
    ax.set_ylim(-0.6, groups - 0.4)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    what = "whispers go forward" if forward else "the judge's broadcast goes backward"
    ax.set_title(f"Threaded line, {count_noun(groups, 'group')} of "
                 f"{count_noun(players, 'player')}: "
                 f"{what}", fontsize=9)
    return fig


def plot_message_counts(groups_values, players, forward_counts, backward_counts, highlight=None,
                        forward_label="every speaker walks the line (forward)"):
    """Messages per training sentence against the number of groups (log scale);
    forward_label says whose walks forward_counts counts."""
    same_length(groups_values=groups_values, forward_counts=forward_counts,
                 backward_counts=backward_counts)
    if min(min(forward_counts), min(backward_counts)) < 1:
        raise ValueError("message counts must be >= 1 to be drawn on a log scale")
    fig, ax = new_figure()
    ax.plot(groups_values, forward_counts, "-o", color=PALETTE["forward"],
            label=forward_label)
    ax.plot(groups_values, backward_counts, "--s", color=PALETTE["backward"],
            label="the judge broadcasts once (backward)")
    if highlight is not None:
        if highlight not in list(groups_values):
            raise ValueError(f"highlight must be one of groups_values, got {highlight!r}")
        at = list(groups_values).index(highlight)
        ax.axvline(highlight, color=PALETTE["highlight"], linestyle=":")
        for counts in (forward_counts, backward_counts):
            ax.annotate(f"{counts[at]:,}", (highlight, counts[at]), textcoords="offset points",
                        xytext=(-6, 6), ha="right", fontsize=9)
    ax.set_yscale("log")
    plain_log_ticks(ax)
    ax.set_xlabel("number of groups")
    ax.set_ylabel("messages per training sentence")
    ax.set_title(f"Messages needed to train a threaded line of {count_noun(players, 'player')} "
                 "per group", fontsize=9)
    free_legend(ax, fontsize=9)
    if highlight is not None:
        fig.bp_alt = (f"Messages per training sentence against the number of groups, log "
                      f"scale: with {count_noun(highlight, 'group')}, {forward_counts[at]:,} "
                      f"when {forward_label}"
                      f", {backward_counts[at]:,} when the judge broadcasts once (backward).")
    return fig


def plot_gradient_speedup(table):
    """Speed-up of backprop over finite differences against the number of parameters N."""
    if len(table) == 0:
        raise ValueError("table needs at least one row (see telephone.gradient_cost_table)")
    n = np.array([row["n_params"] for row in table], dtype=float)
    speedup = np.array([row["speedup"] for row in table], dtype=float)
    fig, ax = new_figure()
    ax.plot(n, speedup, "-o", color=PALETTE["forward"], label="measured speed-up")
    # A line proportional to N through the first point: the slope the measurements should follow.
    ax.plot(n, speedup[0] * n / n[0], ":", color=PALETTE["neutral"], label="proportional to N")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_ticks(ax)
    ax.set_xlabel("number of parameters N")
    ax.set_ylabel("speed-up (times faster)")
    ax.set_title("Backpropagation against finite differences: the gap grows with N", fontsize=9)
    free_legend(ax, fontsize=9)
    return fig


def plot_line_error(rates, predicted, simulated, mark=None, mark_in_title=False):
    """Letter error at the end of the line against player 2's error rate:
    the predicted curve and the simulated points.

    mark draws a dotted line at one rate; with mark_in_title, mark must be one of rates and
    the title reads off the predicted error there, the number a slider's reader looks for.
    """
    same_length(rates=rates, predicted=predicted, simulated=simulated)
    title = "How much of the sentence the line gets wrong"
    if mark_in_title:
        at = [] if mark is None else np.flatnonzero(np.isclose(rates, mark))
        if len(at) == 0:
            raise ValueError(f"with mark_in_title, mark must be one of rates, got {mark!r}")
        title = f"player 2 at {mark:.0%}: predicted letter error {predicted[at[0]]:.1%}"
    fig, ax = new_figure()
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
    free_legend(ax, fontsize=9)
    return fig

