"""What every chapter's figures share: the palette, the figure size, small checks.

pyplot creates each figure and then forgets it, so a notebook shows a figure only where
the caller displays (or glues) it, and the many frames of a slider don't pile up.
Colours come from the Okabe-Ito palette, which stays distinguishable with colour-blind
vision, and every series also differs in line style or marker. Lines use PALETTE; text
uses TEXT_PALETTE, darker variants that keep a contrast of at least 4.5:1 on white.

Figures are shown as SVG where IPython shows them (sharp at any size, on any screen),
and HTML a figure needs (tables, sentences) follows the page's light or dark theme.
"""

import math
import re

import matplotlib
import matplotlib.pyplot as plt
from IPython import get_ipython
from IPython.display import HTML

PALETTE = {
    "forward": "#0072B2",   # blue
    "backward": "#D55E00",  # vermillion
    "error": "#E69F00",     # orange
    "highlight": "#009E73",  # bluish green
    "neutral": "#999999",   # grey
}
# The same hues, dark enough for text on a white figure (contrast >= 4.5:1).
TEXT_PALETTE = {
    "forward": "#0072B2",
    "backward": "#B34E00",
    "error": "#8F6000",
    "highlight": "#00795A",
    "neutral": "#6B6B6B",
}
FIGSIZE = (6, 3.5)
# No text below 9 pt; a figure 6 inches wide is shown about 576 px wide on a desktop.
matplotlib.rcParams.update({
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9,
    "ytick.labelsize": 9, "legend.fontsize": 9, "figure.facecolor": "white",
    "svg.fonttype": "path",
})


def _show_figures_as_svg():
    shell = get_ipython()
    if shell is not None and hasattr(shell, "display_formatter"):
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("svg")


_show_figures_as_svg()


def new_figure():
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    # Let go of pyplot's reference: the figure still draws and displays, but a notebook
    # no longer shows it by itself at the end of the cell, and slider frames don't pile up.
    plt.close(fig)
    return fig, ax


def same_length(**series):
    lengths = {name: len(values) for name, values in series.items()}
    if len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise ValueError(f"expected non-empty series of equal length, got lengths {lengths}")


def count_noun(number, noun):
    return f"{number} {noun}" + ("" if number == 1 else "s")


class _Text(str):
    """A str that prints without quotes, so glue shows it in prose as it is."""

    def __repr__(self):
        return str(self)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(x, digits=2):
    """x in scientific notation as a reader writes it: sci(2.8e-08) is '2.8 × 10⁻⁸'.

    digits is the number of significant digits. Numbers between 0.01 and 10 000 are
    written plainly (sci(0.5) is '0.5', sci(1500) is '1500'); the minus sign is a real
    minus, '−'.
    """
    if x == 0 or 1e-2 <= abs(x) < 1e4:
        places = digits - 1 - math.floor(math.log10(abs(x))) if x else 0
        text = f"{round(x, places):.{max(places, 0)}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
    else:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        text = f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    return _Text(text.replace("-", "−", 1) if text.startswith("-") else text)


# A cell is a number if it reads as one: digits with separators, a sign, a % or a power.
_NUMBER = re.compile(r"^[−+-]?[\d.,  ]+([eE][-+]?\d+|%|\s*×\s*10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?$")


def html_table(header, rows, caption=None):
    """An HTML table of already formatted cells (pandas is not part of this course's toolbox),
    as an IPython HTML object that a notebook displays. Cells are inserted as given.

    It takes the book's table style; columns of numbers are right-aligned with digits of
    equal width; a table wider than a phone scrolls sideways inside its own frame. The
    book numbers the caption ("Table 2.1") when it has one.
    """
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells, one per column of {header}")
    numeric = [all(_NUMBER.match(str(row[k]).strip()) for row in rows)
               for k in range(len(header))] if rows else [False] * len(header)

    def cells(tag, row):
        return "".join(f'<{tag} class="{"bp-num" if numeric[k] else "bp-text"}">{cell}</{tag}>'
                       for k, cell in enumerate(row))

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    title = f"<caption>{caption}</caption>" if caption else ""
    return HTML(f'<div class="pst-scrollable-table-container bp-table-scroll">'
                f'<table class="table bp-table">'
                f"{title}<thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody>"
                "</table></div>")
