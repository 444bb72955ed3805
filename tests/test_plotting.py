"""bplib.plotting: every figure draws, is labelled, and tells series apart without colour."""

import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from bplib.plotting import (PALETTE, draw_threaded_line, line_html,  # noqa: E402
                            plot_gradient_speedup, plot_line_error, plot_message_counts)
from bplib.telephone import (backward_messages, forward_messages,  # noqa: E402
                             gradient_cost_table, threaded_line)

OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000", "#999999"}


def check_figure(fig):
    """A Figure that renders, is labelled, and is not left open in pyplot."""
    assert isinstance(fig, Figure)
    fig.savefig(io.BytesIO(), format="png")
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel()
    assert fig not in [plt.figure(number) for number in plt.get_fignums()]
    styles = [(line.get_linestyle(), line.get_marker()) for line in ax.get_lines()]
    assert len(set(styles)) == len(styles), "series must differ by more than colour"
    return ax


def test_palette():
    assert {"forward", "backward", "error", "neutral"} <= set(PALETTE)
    assert set(PALETTE.values()) <= OKABE_ITO
    assert len(set(PALETTE.values())) == len(PALETTE)


@pytest.mark.parametrize("groups, players", [(1, 1), (1, 2), (2, 3), (4, 4)])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_draw_threaded_line(groups, players, direction):
    ax = check_figure(draw_threaded_line(groups, players, direction))
    arrows = [text for text in ax.texts if isinstance(text, Annotation)]
    assert len(arrows) == backward_messages(threaded_line(groups, players))  # one per edge
    # Forward arrows point right (towards the judge), backward ones point left.
    for arrow in arrows:
        tip_x, tail_x = arrow.xy[0], arrow.xyann[0]
        assert (tip_x > tail_x) == (direction == "forward")


def test_draw_threaded_line_bad_direction():
    with pytest.raises(ValueError, match='"forward" or "backward"'):
        draw_threaded_line(2, 2, direction="sideways")


def test_plot_message_counts():
    groups_values = list(range(1, 11))
    forward = [forward_messages(threaded_line(g, 5)) for g in groups_values]
    backward = [backward_messages(threaded_line(g, 5)) for g in groups_values]
    ax = check_figure(plot_message_counts(groups_values, 5, forward, backward, highlight=10))
    assert ax.get_yscale() == "log" and ax.get_ylabel()
    assert f"{forward[-1]:,}" in [text.get_text() for text in ax.texts]
    check_figure(plot_message_counts(groups_values, 5, forward, backward))


@pytest.mark.parametrize("args, message", [
    (([1, 2], 3, [1, 2, 3], [1, 2]), "equal length"),
    (([], 3, [], []), "non-empty"),
    (([1, 2], 3, [0, 2], [1, 2]), "log scale"),
])
def test_plot_message_counts_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        plot_message_counts(*args)


def test_plot_message_counts_bad_highlight():
    with pytest.raises(ValueError, match="highlight must be one of groups_values"):
        plot_message_counts([1, 2], 3, [2, 6], [2, 4], highlight=5)


def test_plot_gradient_speedup():
    ax = check_figure(plot_gradient_speedup(gradient_cost_table([2, 4, 8], repeats=1)))
    reference = ax.get_lines()[1]
    ratios = reference.get_ydata() / reference.get_xdata()
    assert ratios == pytest.approx(ratios[0])  # the reference line is proportional to N
    with pytest.raises(ValueError, match="at least one row"):
        plot_gradient_speedup([])


def test_plot_line_error():
    rates = [0.0, 0.25, 0.5]
    check_figure(plot_line_error(rates, [0.1, 0.3, 0.5], [0.12, 0.29, 0.52], mark=0.25))
    check_figure(plot_line_error(rates, [0.1, 0.3, 0.5], [0.12, 0.29, 0.52]))
    with pytest.raises(ValueError, match="equal length"):
        plot_line_error(rates, [0.1, 0.3], [0.1, 0.2, 0.3])


def test_line_html_marks_changes_and_escapes():
    original = "if a<b then stop"
    snippet = line_html(original, ["if a<c then stop", "if a<c then stoP"])
    text = re.sub(r"</?(table|caption|thead|tbody|tr|th|td|code|mark)\b[^>]*>", "", snippet)
    assert "<" not in text and text.count("&lt;") == 3
    marked = re.findall(r"<mark[^>]*>(.*?)</mark>", snippet)
    assert marked == ["c", "c", "P"]  # changes counted against the speaker's sentence
    assert "underline" in snippet  # not colour alone
    assert snippet.count("<tr>") == 4  # header, speaker, two players
    assert "8%" in snippet and "17%" in snippet  # 1 and 2 of 12 letters


def test_line_html_single_sentence_and_bad_length():
    assert line_html("a&b", "a&c").count("<mark") == 1
    assert "a&amp;" in line_html("a&b", "a&c")
    # Any changed character is marked, escaped too.
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", line_html("a<b", "a>b")) == ["&gt;"]
    with pytest.raises(ValueError, match="never the length"):
        line_html("hello", ["hell"])
