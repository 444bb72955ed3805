"""What every chapter's figures share (bplib.plotting._common): legible colours and fonts,
SVG figures, numbers written as readers write them, tables that fit the book."""

import re

import matplotlib
import pytest
from IPython.core.interactiveshell import InteractiveShell
from matplotlib.figure import Figure

from bplib import plotting
from bplib.plotting import _common


def contrast(a, b):
    def luminance(colour):
        channels = [int(colour[k:k + 2], 16) / 255 for k in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                   for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_are_legible_on_white_and_match_the_line_colours():
    assert set(plotting.TEXT_PALETTE) == set(plotting.PALETTE)
    for name, colour in plotting.TEXT_PALETTE.items():
        assert contrast(colour, "#FFFFFF") >= 4.5, name
    # the worked check: Okabe-Ito's own orange is far too light for text
    assert contrast(plotting.PALETTE["error"], "#FFFFFF") < 3


def test_no_default_text_below_nine_points():
    sizes = {key: matplotlib.rcParams[key] for key in
             ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
              "ytick.labelsize", "legend.fontsize")}
    points = {key: matplotlib.font_manager.FontProperties(size=size).get_size_in_points()
              for key, size in sizes.items()}
    assert min(points.values()) >= 9, points


def test_ipython_shows_figures_as_svg():
    shell = InteractiveShell.instance()
    _common._show_figures_as_svg()
    fig, ax = plotting._common.new_figure()
    ax.plot([0, 1], [1, 0])
    data, _ = shell.display_formatter.format(fig)
    assert "image/svg+xml" in data and "image/png" not in data
    assert isinstance(fig, Figure)


@pytest.mark.parametrize("x, text", [
    (2.8e-08, "2.8 × 10⁻⁸"), (-3.14e-12, "−3.1 × 10⁻¹²"), (12_345_678, "1.2 × 10⁷"),
    (0.25, "0.25"), (1534, "1500"), (0, "0"), (-0.5, "−0.5"), (0.0104, "0.01"),
    (9999.9, "10000"),
])
def test_sci_writes_numbers_as_readers_do(x, text):
    assert plotting.sci(x) == text
    assert repr(plotting.sci(x)) == text, "glue would show the quotes"


def test_sci_digits():
    assert plotting.sci(6.02214e23, digits=4) == "6.022 × 10²³"


def test_html_table_right_aligns_columns_of_numbers():
    table = plotting.html_table(["n", "name", "time"],
                                [("1,024", "tiny", plotting.sci(2.8e-8)),
                                 ("12", "x2", "35%")], caption="cap").data
    head = re.findall(r'<th class="bp-(\w+)">', table)
    cells = re.findall(r'<td class="bp-(\w+)">', table)
    assert head == ["num", "text", "num"]
    assert cells == ["num", "text", "num"] * 2
    assert 'class="table bp-table"' in table and "pst-scrollable-table-container" in table
    assert "<caption>cap</caption>" in table


def test_contrast_matches_wcag_reference_values():
    # WCAG's own examples: black on white is 21:1, #767676 is the lightest grey at 4.5:1
    assert _common.contrast("black", "white") == pytest.approx(21)
    assert _common.contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    assert _common.contrast("#777777", "#FFFFFF") < 4.5
    assert _common.contrast("#D55E00", "white") == pytest.approx(contrast("#D55E00", "#FFFFFF"))


def test_text_backgrounds_see_the_box_under_a_text_and_a_text_box():
    from matplotlib.patches import FancyBboxPatch

    figure, ax = _common.new_figure()
    ax.set_axis_off()
    ax.add_patch(FancyBboxPatch((0.1, 0.1), 0.3, 0.3, facecolor="#D55E00"))
    on_box = ax.text(0.25, 0.25, "on the box", ha="center", va="center")
    beside = ax.text(0.8, 0.8, "beside it")
    boxed = ax.text(0.8, 0.2, "own box", bbox={"facecolor": "#009E73"})
    behind = {id(text): background for text, _, background in _common.text_backgrounds(figure)}
    assert matplotlib.colors.to_hex(behind[id(on_box)]) == "#d55e00"
    assert matplotlib.colors.to_hex(behind[id(beside)]) == "#ffffff"
    assert matplotlib.colors.to_hex(behind[id(boxed)]) == "#009e73"


def test_text_size_counts_scripts_at_the_size_they_are_drawn():
    figure, ax = _common.new_figure()
    plain = ax.text(0, 0, "x1 and f2", fontsize=10)
    math = ax.text(0, 0, "first line\n$x^{1}$", fontsize=10)
    nested = ax.text(0, 0, "$x^{a_{b}}$", fontsize=10)
    unicode = ax.text(0, 0, "10⁴", fontsize=10)
    assert _common.text_size(plain) == 10
    assert _common.text_size(math) == pytest.approx(7)
    assert _common.text_size(nested) == pytest.approx(4.9)
    assert _common.text_size(unicode) < 7  # drawn smaller than mathtext's scripts
    assert _common.smallest_text(figure) == pytest.approx(4.9)


def test_log_axes_read_as_plain_numbers_at_their_full_size():
    figure, ax = _common.new_figure()
    ax.plot([0.01, 10_000], [1e-9, 1e8])
    ax.set_xscale("log")
    ax.set_yscale("log")
    figure.draw_without_rendering()
    assert _common.smallest_text(figure) < 9  # matplotlib's 10⁴: a script of 0.7
    _common.plain_log_ticks(ax)
    figure.draw_without_rendering()
    xs = [label.get_text() for label in ax.get_xticklabels()]
    assert {"0.01", "0.1", "1", "10", "100", "1,000", "10,000"} <= set(xs)
    ys = [label.get_text() for label in ax.get_yticklabels() if label.get_text()]
    assert {"1e−8", "0.0001", "1", "10,000", "1,000,000", "1e8"} <= set(ys)
    assert _common.smallest_text(figure) >= 9
