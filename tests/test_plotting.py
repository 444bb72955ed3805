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
                            plot_bill_gradients, plot_gradient_speedup, plot_line_error,
                            plot_message_counts, plot_sigmoid_layer)
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
    members = [forward_messages(threaded_line(g, 5), "members") for g in groups_values]
    ax = check_figure(plot_message_counts(groups_values, 5, members, backward,
                                          forward_label="every member walks"))
    assert [line.get_label() for line in ax.get_lines()][0] == "every member walks"


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


def test_plot_line_error_reads_the_mark_off_in_the_title():
    rates = [0.0, 0.02, 0.04]
    # Made-up numbers: the title shows what it is given, it computes no line error itself.
    ax = check_figure(plot_line_error(rates, [0.111, 0.222, 0.333], [0.1, 0.2, 0.3],
                                      mark=0.02, mark_in_title=True))
    assert ax.get_title() == "player 2 at 2%: predicted letter error 22.2%"
    plain = plot_line_error(rates, [0.111, 0.222, 0.333], [0.1, 0.2, 0.3], mark=0.02)
    assert "22.2%" not in plain.axes[0].get_title()  # the chapter's figure is unchanged
    for mark in (0.03, None):
        with pytest.raises(ValueError, match="mark must be one of rates"):
            plot_line_error(rates, [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], mark=mark,
                            mark_in_title=True)


def test_plot_sigmoid_layer_draws_the_numbers_it_is_given():
    xs = [-2.0, 0.0, 2.0]
    # Deliberately not a sigmoid: a student's wrong layer must be drawn as it is.
    outputs, slopes = [0.3, 0.4, 0.9], [0.05, 0.6, 0.07]
    ax = check_figure(plot_sigmoid_layer(xs, outputs, slopes, 0.0, 0.4, 0.6))
    assert ax.get_ylabel()
    forward, backward, tangent, point = ax.get_lines()
    assert list(forward.get_ydata()) == outputs and list(backward.get_ydata()) == slopes
    assert tangent.get_ydata() == pytest.approx([0.4 - 1.2, 0.4, 0.4 + 1.2])
    assert (point.get_xdata()[0], point.get_ydata()[0]) == (0.0, 0.4)
    assert ax.get_title() == "x = +0.0: forward gives 0.400, backward gives 0.600"
    with pytest.raises(ValueError, match="equal length"):
        plot_sigmoid_layer(xs, outputs[:2], slopes, 0.0, 0.4, 0.6)


def test_plot_bill_gradients_draws_the_numbers_it_is_given():
    gradients = {"notebook_price": 1.5, "tax": 10.0, "friends": -0.946}
    ax = check_figure(plot_bill_gradients(gradients, 5, 4.73, limit=20, reference=-1))
    assert [bar.get_height() for bar in ax.patches] == list(gradients.values())
    assert [label.get_text() for label in ax.get_xticklabels()] == [
        "notebook\nprice", "tax", "friends"]
    assert "-0.95" in [text.get_text() for text in ax.texts]  # every bar shows its value
    assert ax.get_title() == "5 friends: share 4.73, ∂ share/∂ friends = -0.946"
    assert ax.get_ylim() == pytest.approx((-24, 24))  # limit fixes the scale of every frame
    assert -1 in [line.get_ydata()[0] for line in ax.get_lines()]
    alone = check_figure(plot_bill_gradients({"friends": -2.0}, 1, 2.0)).get_title()
    assert alone.startswith("1 friend: ")
    with pytest.raises(ValueError, match='"friends" entry'):
        plot_bill_gradients({"tax": 1.0}, 2, 3.0)


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


def test_html_table_has_every_cell_and_rejects_ragged_rows():
    from bplib.plotting import html_table
    table = html_table(["a", "b"], [(1, 2), (3, 4)], caption="two rows").data
    assert table.count("<tr>") == 3 and "<caption>two rows</caption>" in table
    assert [cell in table for cell in ('num">1</td>', 'num">4</td>', 'num">b</th>')] == [True] * 3
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        html_table(["a", "b"], [(1, 2, 3)])


def test_learning_curves_read_a_train_history_and_say_its_numbers():
    """plot_learning_curves takes what network.train returns with a validation set, and its
    alt text gives the first and last cost and validation accuracy of each run."""
    import numpy as np

    from bplib import network
    from bplib.plotting import network as network_plots
    x, labels, x_val, labels_val, _, _ = network.digits(rng=0)
    x, x_val = network.standardize(x, x_val)
    params = network.init_params([64, 16, 10], rng=0)
    trained, history = network.train(params, x, network.one_hot(labels), epochs=2,
                                     batch_size=32, learning_rate=1.0, rng=0, x_val=x_val,
                                     labels_val=labels_val)
    fig = network_plots.plot_learning_curves({"a run": history}, title="two epochs")
    first, last = history["val_accuracy"][0], history["val_accuracy"][-1]
    assert f"accuracy from {first:.1%} to {last:.1%}" in fig.bp_alt
    assert f"cost from {history['loss'][0]:.3g}" in fig.bp_alt
    assert np.isclose(last, network.accuracy(trained, x_val, labels_val))


def _with_phone_versions(figures):
    """(name, "desktop" or "phone", figure) for each named figure and its phone version,
    where it has one."""
    from bplib.plotting._common import phone_figure

    for name, fig in figures:
        yield name, "desktop", fig
        phone = phone_figure(fig)
        if phone is not None:
            yield name, "phone", phone


def _chapter_figures():
    """The figures whose legends once hid data, drawn from the numbers their chapters use:
    Fig 1.3 and chapter 1's groups slider, Fig 2.8, Fig 5.5 (a short run of each cost)."""
    from bplib import graph, network
    from bplib.plotting import plot_learning_curves, plot_path_costs

    groups = list(range(1, 13))
    lines = [threaded_line(n, 5) for n in groups]
    counts = ([forward_messages(line, "members") for line in lines],
              [backward_messages(line) for line in lines])
    label = "every member walks the line (forward)"
    yield "Fig 1.3", plot_message_counts(groups, 5, *counts, forward_label=label)
    for highlight in (1, 6, 12):
        yield f"groups = {highlight}", plot_message_counts(
            groups, 5, *counts, highlight=highlight, forward_label=label)
    yield "Fig 2.8", plot_path_costs(graph.path_cost_table(range(1, 16), repeats=1))
    x, labels, x_val, labels_val, _, _ = network.digits(rng=0)
    x, x_val = network.standardize(x, x_val)
    params = network.init_params([64, 32, 10], rng=0)
    histories = {cost: network.train(params, x, network.one_hot(labels), epochs=6,
                                     batch_size=32, learning_rate=0.5, rng=2, cost=cost,
                                     x_val=x_val, labels_val=labels_val)[1]
                 for cost in ("cross-entropy", "quadratic")}
    yield "Fig 5.5", plot_learning_curves(histories, accuracy_range=(0.0, 1.0))


def test_legends_hide_no_data_in_the_figure_or_its_phone_version():
    from bplib.plotting._common import legend_hides_data

    checked = 0
    for name, version, figure in _with_phone_versions(_chapter_figures()):
        figure.draw_without_rendering()
        renderer = figure._get_renderer()
        for ax in figure.axes:
            if ax.get_legend() is not None:
                checked += 1
                assert not legend_hides_data(ax, renderer), f"{name} ({version})"
    assert checked >= 12  # every figure above has a legend, in both versions


def test_legend_hides_data_sees_a_legend_on_a_line_and_free_legend_moves_it():
    import numpy as np

    from bplib.plotting._common import free_legend, legend_hides_data, new_figure

    fig, ax = new_figure()
    xs = np.linspace(0, 1, 50)
    for k in range(6):  # lines through every corner and the middle of the axes
        ax.plot(xs, (xs + k / 5) % 1.0 if k else xs, label=f"line {k}")
    ax.plot(xs, 1 - xs, label="falling")
    ax.legend(loc="center")
    assert legend_hides_data(ax)
    legend = free_legend(ax)
    assert not legend_hides_data(ax)
    fig.draw_without_rendering()
    below = legend.get_window_extent(fig._get_renderer()).y1
    assert below <= ax.get_window_extent(fig._get_renderer()).y0  # it went under the axes


PHONE_COLUMN_PX = 356  # a 390 px phone's column, less a scroll box's border


def _shown_width_px(figure):
    from bplib.plotting._common import pad_inches

    figure.draw_without_rendering()  # saved with a margin each side; 96 CSS px per inch
    return (figure.get_tightbbox().width + 2 * pad_inches(figure)) * 96


def test_wide_diagrams_carry_a_phone_version_that_fits_a_phone():
    """Diagrams are shown at their own size (their text would shrink): Fig 2.6, Fig 4.1,
    Fig 5.3 and chapter 3's backward-step frames are wider than a phone, and their phone
    versions fit one, text as large."""
    import numpy as np

    from bplib import graph
    from bplib.plotting import (draw_backward_step, draw_graph, draw_zhou_network,
                                plot_digit_grid)
    from bplib.plotting._common import phone_figure, smallest_text

    basket = graph.shopping(apple_price=10, apple_count=2, tax=1.1, orange_price=15,
                            orange_count=3)
    basket["total"].backward()
    digits = np.random.default_rng(0).random((64, 12))
    for name, figure in (
            ("Fig 2.6", draw_graph(basket["total"], edge_labels=True, title="a basket")),
            ("Fig 4.1", draw_zhou_network(d=3, q=4, l=2)),
            ("Fig 5.3", plot_digit_grid(digits, list(range(12)), [(k + 1) % 10
                                                                   for k in range(12)])),
            *((f"backward step {step}", draw_backward_step(
                ["Linear", "Tanh", "Linear", "Sigmoid"], step,
                [(3, 1), (4, 1), (4, 1), (2, 1), (2, 1)], [1, 3, 3, 5], {1, 3}))
              for step in range(6))):
        phone = phone_figure(figure)
        if _shown_width_px(figure) > PHONE_COLUMN_PX:
            assert phone is not None, name
        if phone is not None:
            assert _shown_width_px(phone) <= PHONE_COLUMN_PX, name
            assert smallest_text(phone) >= smallest_text(figure), name


def _figures_with_text_on_colour():
    """Chapter figures and frames, and the diagrams with text on coloured boxes: Fig 2.6 (a
    graph with grads and edge labels), chapter 3's backward steps, Fig 4.1, chapter 3's
    gradient norms, chapter 4's weight tangent."""
    import numpy as np

    from bplib import graph
    from bplib.plotting import draw_backward_step, draw_graph, draw_zhou_network
    from bplib.plotting.layers import plot_gradient_norms
    from bplib.plotting.neuron import plot_weight_tangent

    yield from _chapter_figures()
    basket = graph.shopping(apple_price=10, apple_count=2, tax=1.1, orange_price=15,
                            orange_count=3)
    basket["total"].backward()
    yield "Fig 2.6", draw_graph(basket["total"], edge_labels=True, title="a basket")
    for step in range(6):
        yield f"backward step {step}", draw_backward_step(
            ["Linear", "Tanh", "Linear", "Sigmoid"], step,
            [(3, 1), (4, 1), (4, 1), (2, 1), (2, 1)], [1, 3, 3, 5], {1, 3})
    yield "Fig 4.1", draw_zhou_network(d=3, q=4, l=2)
    yield "gradient norms", plot_gradient_norms(np.logspace(-7, 0, 7), "L = 6")
    weights = np.linspace(-1, 1, 21)
    yield "weight tangent", plot_weight_tangent(weights, weights ** 2, 0.3, 0.09, 0.6,
                                                "v_{11}", mark=0.1)


def test_every_text_in_figures_reads_at_4_5_to_1_and_no_script_below_9_points():
    """Every text colour against what is behind it (its box, a filled patch under it, the
    white figure), in each figure and its phone version; the book shows them undimmed in
    dark mode too (book.css), so this is what a reader sees in both modes. And no text,
    super- and subscripts counted at their own size, below 9 pt (12 CSS px at the size a
    figure is shown)."""
    from bplib.plotting._common import contrast, smallest_text, text_backgrounds

    pairs = 0
    for name, version, figure in _with_phone_versions(_figures_with_text_on_colour()):
        for text, colour, background in text_backgrounds(figure):
            pairs += 1
            ratio = contrast(colour, background)
            assert ratio >= 4.5, (f"{name} ({version}): {text.get_text()!r} in {colour} "
                                  f"on {background}: {ratio:.2f}")
        assert smallest_text(figure) >= 9, f"{name} ({version})"
    assert pairs > 500


def test_message_counts_alt_text_says_group_or_groups():
    counts = ([3, 6], [2, 4])
    one = plot_message_counts([1, 2], 3, *counts, highlight=1).bp_alt
    two = plot_message_counts([1, 2], 3, *counts, highlight=2).bp_alt
    assert "with 1 group," in one and "1 groups" not in one
    assert "with 2 groups," in two
