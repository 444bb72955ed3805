"""What every chapter's figures share: the palette, the figure size, small checks.

pyplot creates each figure and then forgets it, so a notebook shows a figure only where
the caller displays (or glues) it, and the many frames of a slider don't pile up.
Colours come from the Okabe-Ito palette, which stays distinguishable with colour-blind
vision, and every series also differs in line style or marker. Lines use PALETTE; text
uses TEXT_PALETTE, darker variants that keep a contrast of at least 4.5:1 on white.

Figures are shown as SVG where IPython shows them (sharp at any size, on any screen),
and HTML a figure needs (tables, sentences) follows the page's light or dark theme.
"""

import base64
import json
import math
import pickle
import re

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.ticker import FixedFormatter, FixedLocator
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
# A text with super- or subscripts is drawn this large, so that its scripts (0.7 of it in
# mathtext) are 9 pt, the book's smallest figure text, too.
SCRIPTED_PT = math.ceil(9 / 0.7)
# No text below 9 pt; a figure 6 inches wide is shown about 576 px wide on a desktop.
matplotlib.rcParams.update({
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9,
    "ytick.labelsize": 9, "legend.fontsize": 9, "figure.facecolor": "white",
    "svg.fonttype": "path",
})


# A phone's column is about 358 CSS px wide: a figure drawn this narrow is shown at its own
# size there, so its 9 pt text stays 12 px (a 6-inch figure would shrink it to 7 px).
PHONE_WIDTH = 3.6
PHONE_MEDIA = "(max-width: 600px)"
# A desktop's column (1366 px screen) is about 730 CSS px: a diagram shown at its own size
# (its text kept at 12 px) fits it if it is at most this wide, in inches at 96 px each.
DESKTOP_WIDTH = 7.5
# In an SVG figure, what the book needs to serve it to phones (book_support/pages.py).
FIGURE_NOTE = re.compile(r"<!--bp-figure (\{.*?\})-->", re.S)


# Unicode's superscript and subscript letters and digits: drawn smaller than the font size.
_SCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁱⁿ₀₁₂₃₄₅₆₇₈₉₊₋ₐₑₒₓ½"


def _script_share(properties):
    """How high a superscript digit is drawn against a digit, in the text's font (about
    0.56 in DejaVu Sans)."""
    from matplotlib.textpath import TextPath

    def height(character):
        return TextPath((0, 0), character, prop=properties).get_extents().height
    return height("¹") / height("1")


_SCRIPT_OF = {**{c: ("^", d) for c, d in zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁱⁿ", "0123456789+-in", strict=True)},
              **{c: ("_", d) for c, d in zip("₀₁₂₃₄₅₆₇₈₉₊₋ₐₑₒₓ", "0123456789+-aeox",
                                             strict=True)}}


def scripts_as_math(text):
    """text with its unicode super- and subscripts (t², w₁) and ½ written as mathtext,
    whose scripts are 0.7 of the font rather than about 0.56: "t$^{2}$", "w$_{1}$"."""
    text = text.replace("½", r"$\frac{1}{2}$")
    out, run, kind = [], "", None
    for character in text + " ":
        script = _SCRIPT_OF.get(character)
        if script and script[0] == kind:
            run += script[1]
            continue
        if run:
            out.append(f"${kind}{{{run}}}$")
        run, kind = (script[1], script[0]) if script else ("", None)
        if not script:
            out.append(character)
    return "".join(out)[:-1]


def text_size(text):
    """The size in points at which a Text's smallest letters are drawn: its font size, or
    less where it has super- or subscripts (mathtext's are 0.7 of the font, nested ones
    0.49; unicode's ¹ and ₂ are drawn smaller still)."""
    from matplotlib.mathtext import MathTextParser

    properties = text.get_fontproperties()
    size = text.get_fontsize()
    content = text.get_text()
    for line in content.split("\n"):
        if not text.get_usetex() and line.count("$") >= 2 and line.count("$") % 2 == 0 \
                and re.search(r"[\^_]", line):
            glyphs = MathTextParser("path").parse(line, dpi=72, prop=properties).glyphs
            size = min([glyph[1] for glyph in glyphs] + [size])
    if any(character in _SCRIPTS for character in content):
        size = min(size, text.get_fontsize() * _script_share(properties))
    return size


def smallest_text(figure):
    """The size in points of the smallest visible text in the figure (None if none),
    super- and subscripts counted at the size they are drawn (text_size). Tick labels
    exist once the figure is drawn, so draw it first."""
    from matplotlib.text import Text

    sizes = [text_size(text) for text in figure.findobj(Text)
             if text.get_visible() and text.get_text().strip()]
    return min(sizes) if sizes else None


def plain_log_ticks(ax):
    """The log axes of ax labelled with plain numbers (10, 1,000, 0.01) instead of 10³ and
    10⁻², whose small exponents a phone cannot read; beyond a million or below 0.00001,
    as 1e7 and 1e−8, at the labels' own size."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    def plain(value, _position=None):
        if value <= 0:
            return ""
        exponent = math.floor(math.log10(value) + 1e-9)
        if abs(value / 10 ** exponent - 1) > 1e-6 and not 1e-5 <= value < 1e7:
            return ""
        if value >= 1e7 or value < 1e-5:
            return f"1e{exponent}".replace("-", "−")
        if value >= 1:
            return f"{value:,.0f}"
        return f"{value:.12f}".rstrip("0")

    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_major_formatter(FuncFormatter(plain))
            axis.set_minor_formatter(NullFormatter())


def relative_luminance(colour):
    """WCAG 2's relative luminance of a matplotlib colour."""
    from matplotlib.colors import to_rgb

    def linear(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground, background):
    """WCAG 2's contrast ratio of two colours, from 1 to 21 (text needs 4.5)."""
    light, dark = sorted((relative_luminance(foreground), relative_luminance(background)),
                         reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_backgrounds(figure):
    """[(text, text colour, colour behind it)] for every visible text of a drawn figure:
    behind a text is its own box if it has one, else the topmost filled patch under its
    middle drawn before it (boxes of a diagram), else its axes' or the figure's face."""
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    figure.draw_without_rendering()
    renderer = figure._get_renderer()
    found = []
    for text in figure.findobj(Text):
        if not (text.get_visible() and text.get_text().strip()):
            continue
        box = text.get_bbox_patch()
        if box is not None and box.get_fill():
            found.append((text, text.get_color(), box.get_facecolor()))
            continue
        middle = text.get_window_extent(renderer)
        x, y = (middle.x0 + middle.x1) / 2, (middle.y0 + middle.y1) / 2
        ax = text.axes
        behind = figure.get_facecolor()
        if ax is not None and ax.contains_point((x, y)):
            behind = ax.get_facecolor() if ax.axison or ax.patch.get_visible() else behind
            under = [patch for patch in ax.findobj(Patch)
                     if patch is not ax.patch and patch.get_visible() and patch.get_fill()
                     and patch.get_zorder() <= text.get_zorder()
                     and patch.contains_point((x, y))]
            if under:
                behind = max(enumerate(under), key=lambda k_patch: (
                    k_patch[1].get_zorder(), k_patch[0]))[1].get_facecolor()
        found.append((text, text.get_color(), behind))
    return found


def shown_width(text, size):
    """The width in points of a one-line text (with $...$ formulas) at size points."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    return TextToPath().get_text_width_height_descent(
        text, FontProperties(size=size), ismath=text.count("$") >= 2)[0]


def wrap_to_width(text, width, size):
    """text broken into lines at most width points wide at size points (as measured), at
    spaces outside $...$."""
    lines, line = [], ""
    for word in text.split(" "):
        joined = f"{line} {word}" if line else word
        if line and line.count("$") % 2 == 0 and word.count("$") % 2 == 0 \
                and shown_width(joined, size) > width:
            lines.append(line)
            line = word
        else:
            line = joined
    return "\n".join([*lines, line])


def _wrap(text, width):
    """text broken into lines of about width characters, never inside $...$."""
    words, lines, line = text.split(" "), [], ""
    for word in words:
        joined = f"{line} {word}" if line else word
        if len(joined) > width and line and line.count("$") % 2 == 0:
            lines.append(line)
            line = word
        else:
            line = joined
    return "\n".join([*lines, line])


def pad_inches(figure):
    """The white margin a saved figure gets: a diagram keeps its own, a thin one, so that
    it fits a phone's column at its own size."""
    return 0.02 if is_diagram(figure) else 0.1


def is_diagram(figure):
    """True for a drawing with no axis (graphs, networks): it is not re-laid out for phones."""
    return not any(ax.axison for ax in figure.axes)


def phone_figure(figure):
    """A copy of figure laid out for a phone's column, or None where the figure is already
    narrow enough or a diagram (its text sits among boxes and arrows, so it is shown at its
    own size): a diagram's function may draw a phone version itself, figure.bp_phone.

    Panels side by side are stacked, long titles and x-axis labels wrapped, named ticks
    that would touch broken into lines; text keeps its size in points.
    The figure itself is re-laid out if it cannot be copied, so draw it before this.
    """
    if getattr(figure, "bp_phone", None) is not None:  # drawn by its plotting function
        return figure.bp_phone
    width, height = figure.get_size_inches()
    if width <= PHONE_WIDTH + 0.2 or is_diagram(figure):
        return None
    try:
        phone = pickle.loads(pickle.dumps(figure))
    except (AttributeError, TypeError, pickle.PicklingError):
        phone = figure  # something in it cannot be copied: draw the figure first
    panels = [ax for ax in phone.axes if ax.get_subplotspec() is not None]
    grids = {id(ax.get_subplotspec().get_gridspec()) for ax in panels}
    columns = sorted({ax.get_subplotspec().colspan.start for ax in panels})
    rows = 1
    if len(grids) == 1 and len(columns) > 1 and \
            panels[0].get_subplotspec().get_gridspec().nrows == 1:
        rows = len(columns)
        stacked = phone.add_gridspec(rows, 1)
        for ax in panels:
            ax.set_subplotspec(stacked[columns.index(ax.get_subplotspec().colspan.start), 0])
    if rows > 1:
        phone.set_size_inches(PHONE_WIDTH, rows * max(2.4, 0.75 * height))
    else:
        phone.set_size_inches(PHONE_WIDTH, max(2.4, 1.3 * height * PHONE_WIDTH / width))
    # titles and x-axis labels longer than the column would widen the figure past it:
    # wrapped at an estimate of their width, then shorter until the figure fits
    texts = [ax.title for ax in phone.axes] + [ax.xaxis.label for ax in phone.axes] + (
        [phone._suptitle] if phone._suptitle else [])
    texts = [(text, text.get_text()) for text in texts if text.get_text()]
    for share in (1.0, 0.85, 0.7, 0.55):
        for text, original in texts:
            characters = int(share * PHONE_WIDTH * 72 / (0.55 * text.get_fontsize()))
            text.set_text(_wrap(original, characters) if len(original) > characters
                          else original)
        phone.draw_without_rendering()  # lays it out (constrained layout)
        if phone.get_tightbbox().width <= PHONE_WIDTH + 0.05:
            break
    for ax in phone.axes:  # ticks set with names that would touch: one word a line
        locator = ax.xaxis.get_major_locator()
        if not isinstance(locator, FixedLocator) or len(locator.locs) < 2:
            continue
        names = ax.xaxis.get_major_formatter().format_ticks(locator.locs)
        size = ax.xaxis.get_ticklabels()[0].get_fontsize() if ax.xaxis.get_ticklabels() \
            else matplotlib.rcParams["xtick.labelsize"]
        room = ax.get_position().width * PHONE_WIDTH * 72 / len(names)
        if max(len(name) for name in names) * 0.55 * size > room:
            ax.xaxis.set_major_formatter(FixedFormatter([name.replace(" ", "\n")
                                                         for name in names]))
    _refit_legends(phone)  # a legend that fit the wide figure may hide data here
    return phone


def figure_svg(figure):
    """The figure as SVG (text drawn as paths), with a note the book reads: its smallest
    text in points and its phone version (or "scroll" for a diagram)."""
    import io

    def svg(fig):
        out = io.StringIO()
        fig.savefig(out, format="svg", bbox_inches="tight", pad_inches=pad_inches(fig))
        return out.getvalue()

    text = svg(figure)
    note = {"font_pt": smallest_text(figure), "diagram": is_diagram(figure)}
    phone = phone_figure(figure)
    note["phone"] = base64.b64encode(svg(phone).encode()).decode() if phone else None
    if phone is not None and note["font_pt"] is not None:  # both are drawn now
        note["font_pt"] = min(note["font_pt"], smallest_text(phone) or note["font_pt"])
    end = text.rindex("</svg>")
    return f"{text[:end]}<!--bp-figure {json.dumps(note)}-->{text[end:]}"


def _show_figures_as_svg():
    shell = get_ipython()
    if shell is not None and hasattr(shell, "display_formatter"):
        from matplotlib.figure import Figure
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("svg")
        shell.display_formatter.formatters["image/svg+xml"].for_type(Figure, figure_svg)


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


LEGEND_PLACES = ("upper left", "upper right", "lower left", "lower right", "upper center",
                 "lower center", "center left", "center right")


def _shown_data(ax, renderer):
    """What the axes show, in display coordinates: points along every data line (between
    its vertices too), and the boxes of bars, scattered markers and labels on the data."""
    import numpy as np
    from matplotlib.patches import Rectangle

    points, boxes = [], []
    for line in ax.lines:
        if not line.get_visible() or line.get_transform() is not ax.transData:
            continue  # reference lines across the whole axes (axhline) are not data
        xy = np.ma.masked_invalid(line.get_xydata().astype(float))
        shown = ax.transData.transform(xy[~np.ma.getmaskarray(xy).any(axis=1)])
        for a, b in zip(shown, shown[1:], strict=False):
            points.extend(a + (b - a) * t for t in np.linspace(0, 1, 12))
        points.extend(shown)
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible():
            boxes.append(patch.get_window_extent(renderer))
    for collection in ax.collections:
        if collection.get_visible() and len(collection.get_offsets()):
            points.extend(collection.get_offset_transform().transform(
                collection.get_offsets()))
    for text in ax.texts:
        if text.get_visible() and text.get_text().strip():
            boxes.append(text.get_window_extent(renderer))
    return points, boxes


def legend_hides_data(ax, renderer=None):
    """True if the axes' legend covers a data point, a line between two, a bar or a label
    on the data (points count with a margin of 3 display pixels, for their markers)."""
    legend = ax.get_legend()
    if legend is None:
        return False
    if renderer is None:
        ax.figure.draw_without_rendering()
        renderer = ax.figure._get_renderer()
    box = legend.get_window_extent(renderer).padded(3)
    points, boxes = _shown_data(ax, renderer)
    return any(box.contains(x, y) for x, y in points) or any(
        box.overlaps(other) for other in boxes)


def free_legend(ax, **options):
    """The axes' legend in the first place where it hides no data (checked in the figure as
    drawn, so call it last): loc if given, then LEGEND_PLACES; else below the axes, under
    its x-axis label."""
    options.setdefault("fontsize", 9)
    first = options.pop("loc", None)
    figure = ax.figure
    for place in ([first] if first else []) + [p for p in LEGEND_PLACES if p != first]:
        ax.legend(loc=place, **options)
        if not legend_hides_data(ax):
            return ax.get_legend()
    figure.draw_without_rendering()
    renderer = figure._get_renderer()
    # as far below the axes as its tick labels and x-axis label reach, in font sizes
    under = (ax.get_window_extent(renderer).y0 - ax.get_tightbbox(renderer).y0) \
        * 72 / figure.dpi / options["fontsize"]
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), borderaxespad=under + 0.3,
                     ncols=1 if figure.get_figwidth() < 5 else 2, **options)


def _refit_legends(figure):
    """Each legend placed again where it hides no data, after the figure was re-laid out."""
    for ax in figure.axes:
        legend = ax.get_legend()
        if legend is not None and legend_hides_data(ax):
            free_legend(ax, fontsize=legend.get_texts()[0].get_fontsize()
                        if legend.get_texts() else 9)
