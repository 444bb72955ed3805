"""Sliders that work in the static book, with no kernel behind them.

Every frame is computed in advance and put in an ``ipywidgets.Stack``; the slider's
``index`` is linked to the Stack's ``selected_index`` with ``jslink``, a link that lives in
the browser. The saved widget state therefore contains everything the page needs, so the
slider responds in the built HTML as it does in JupyterLab.

A figure frame is an ``<img>`` with alt text, drawn at FRAME_DPI and shown at the size a
static figure of the same width is shown (96 CSS pixels per inch). The alt text comes
from an ``alt`` function given to the slider, or from the drawing function, which may
return ``(figure, alt)``, or from the figure (bplib.plotting describes what it draws);
otherwise it names the slider's value.
"""

import base64
import html
import io
import math
import numbers
import os

import ipywidgets as widgets

MAX_FRAMES = 60      # keeps a chapter page small: every frame is stored in the page
FRAME_DPI = 160      # sharp on 2x screens; shown at 96 px per inch like static figures
CSS_DPI = 96
FRAME_COLOURS = 64   # a palette this size keeps plots intact at a third of the bytes
SLIDER_MAX_WIDTH = "40em"
# A diagram's frame, as book_support/pages.py writes it: keyboard users reach it with Tab.
SCROLL_BOX = ('class="bp-diagram-scroll" tabindex="0" role="region" '
              'aria-label="diagram: scroll sideways with the arrow keys where it is cut off"')


def autograding():
    """True while nbgrader executes the notebook; sliders then draw nothing."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def _checked_values(values, description):
    values = list(values)
    if not values:
        raise ValueError(f"slider '{description}': give at least one value")
    if len(values) > MAX_FRAMES:
        raise ValueError(f"slider '{description}': {len(values)} values is too many; every "
                         f"value is a stored frame, so use at most {MAX_FRAMES}")
    for value in values:
        if isinstance(value, numbers.Real) and not math.isfinite(value):
            raise ValueError(f"slider '{description}': value {value!r} is not a finite number")
    return values


def _labels(values, fmt, description):
    labels = [fmt.format(value) for value in values]
    if len(set(labels)) < len(labels):
        raise ValueError(f"slider '{description}': two values print the same with fmt "
                         f"{fmt!r} ({labels}); use a format with more digits")
    return labels


def _start_index(values, start, description):
    """Where the slider starts: at ``start``, which must be one of the values."""
    if start is None:
        return 0
    matches = [k for k, value in enumerate(values) if value == start]
    if not matches:
        raise ValueError(f"slider '{description}': start {start!r} is not one of its values")
    return matches[0]


def _frame(content, alt, described):
    """One frame: a matplotlib Figure becomes an image with alt text, a string HTML.

    The alt text is, first found: the slider's ``alt``, the drawing's (a pair), the
    figure's own description (``figure.bp_alt``, set by bplib.plotting), the value.
    """
    from matplotlib.figure import Figure  # loaded by then: draw() made the figure

    if isinstance(content, tuple) and len(content) == 2 and isinstance(content[1], str):
        content, alt = content[0], alt or content[1]
    if isinstance(content, Figure):
        alt = alt or getattr(content, "bp_alt", None) or f"Figure for {described}"
        return widgets.HTML(_img(content, alt))
    if isinstance(content, str):
        return widgets.HTML(content)
    if isinstance(content, widgets.Widget):
        return content
    raise TypeError("a frame must be a matplotlib Figure (or a pair of a Figure and its alt "
                    f"text), an HTML string or a widget, not {type(content).__name__}")


def _close(figure):
    import matplotlib.pyplot as plt

    plt.close(figure)


def _png(figure, close=True):
    """The figure as a small palette PNG; the figure is closed unless close is False."""
    from PIL import Image

    from .plotting._common import pad_inches

    rendered = io.BytesIO()
    figure.savefig(rendered, format="png", dpi=FRAME_DPI, bbox_inches="tight",
                   pad_inches=pad_inches(figure))
    if close:
        _close(figure)
    image = Image.open(rendered).convert("RGB").quantize(colors=FRAME_COLOURS)
    png = io.BytesIO()
    image.save(png, format="png", optimize=True)
    return png.getvalue(), image.size


def _size(pixels):
    scale = CSS_DPI / FRAME_DPI
    return f'width="{round(pixels[0] * scale)}" height="{round(pixels[1] * scale)}"'


def _img(figure, alt):
    """The frame as an <img>, inside a <picture> that serves phones a version of their own
    (plotting.phone_figure). data-font-px is the smallest text's height in the image's
    pixels: shown at a width w, it is data-font-px * w / naturalWidth CSS px. A diagram
    (shown at its own size) sits in a box that scrolls where the column is narrower."""
    from .plotting._common import PHONE_MEDIA, is_diagram, phone_figure, smallest_text

    diagram = is_diagram(figure)
    png, pixels = _png(figure, close=False)
    font_pt = smallest_text(figure) or 0  # tick labels have their text once drawn
    phone = phone_figure(figure)
    _close(figure)
    if phone is not None:
        phone_png, phone_pixels = _png(phone)
        font_pt = min(font_pt, smallest_text(phone) or font_pt)
    data = base64.b64encode(png).decode("ascii")
    img = (f'<img class="bp-frame{" bp-diagram" if diagram else ""}" '
           f'src="data:image/png;base64,{data}" {_size(pixels)} '
           f'data-font-px="{font_pt * FRAME_DPI / 72:.1f}" '
           f'alt="{html.escape(alt, quote=True)}">')
    if phone is not None:
        phone_data = base64.b64encode(phone_png).decode("ascii")
        img = (f'<picture><source media="{PHONE_MEDIA}" '
               f'srcset="data:image/png;base64,{phone_data}" {_size(phone_pixels)}>'
               f'{img}</picture>')
    if diagram:  # shown at its own size: where the screen is too narrow, its box scrolls
        return f"<span {SCROLL_BOX}>{img}</span>"
    return img


def _draw(draw, args, alt, described):
    try:
        return _frame(draw(*args), alt(*args) if alt else None, described)
    except Exception as error:
        raise RuntimeError(f"drawing the frame for {described} failed: {error}") from error


def _slider(description, values, fmt, start):
    labels = _labels(values, fmt, description)
    return widgets.SelectionSlider(
        options=list(zip(labels, values, strict=True)),
        index=_start_index(values, start, description),
        description=description, style={"description_width": "initial"},
        layout=widgets.Layout(width="100%", max_width=SLIDER_MAX_WIDTH),
        continuous_update=True)


def _not_drawn(*sliders):
    note = widgets.HTML("<em>Frames are not drawn while the notebook is being autograded.</em>")
    return widgets.VBox([*sliders, note])


def frame_slider(draw, values, description, *, fmt="{}", start=None, alt=None):
    """A slider over ``values`` showing ``draw(value)``: all frames drawn now, none later.

    ``start`` is the value shown first (the first value by default); ``alt(value)``, if
    given, describes a figure frame for readers who cannot see it.
    """
    values = _checked_values(values, description)
    slider = _slider(description, values, fmt, start)
    if autograding():
        return _not_drawn(slider)
    frames = [_draw(draw, (value,), alt, f"{description} = {label}")
              for value, (label, _) in zip(values, slider.options, strict=False)]
    stack = widgets.Stack(frames, selected_index=slider.index)
    widgets.jslink((slider, "index"), (stack, "selected_index"))
    return widgets.VBox([slider, stack])


def frame_grid(draw, values_a, values_b, descriptions, *, fmts=("{}", "{}"),
               starts=(None, None), alt=None):
    """Two sliders showing ``draw(a, b)`` for every pair of values.

    A link can copy a value but not compute ``a * len(values_b) + b``, so the grid is a
    Stack of Stacks: the first slider picks a row, the second picks the same column in
    every row. ``starts`` and ``alt(a, b)`` work as ``start`` and ``alt`` of frame_slider.
    """
    name_a, name_b = descriptions
    values_a = _checked_values(values_a, name_a)
    values_b = _checked_values(values_b, name_b)
    if len(values_a) * len(values_b) > MAX_FRAMES:
        raise ValueError(f"sliders '{name_a}' x '{name_b}': {len(values_a)} x {len(values_b)} "
                         f"frames is too many; every pair is a stored frame, so use at most "
                         f"{MAX_FRAMES} in all")
    slider_a = _slider(name_a, values_a, fmts[0], starts[0])
    slider_b = _slider(name_b, values_b, fmts[1], starts[1])
    if autograding():
        return _not_drawn(slider_a, slider_b)
    rows = []
    for a, (label_a, _) in zip(values_a, slider_a.options, strict=False):
        frames = [_draw(draw, (a, b), alt, f"{name_a} = {label_a}, {name_b} = {label_b}")
                  for b, (label_b, _) in zip(values_b, slider_b.options, strict=False)]
        row = widgets.Stack(frames, selected_index=slider_b.index)
        widgets.jslink((slider_b, "index"), (row, "selected_index"))
        rows.append(row)
    grid = widgets.Stack(rows, selected_index=slider_a.index)
    widgets.jslink((slider_a, "index"), (grid, "selected_index"))
    return widgets.VBox([slider_a, slider_b, grid])
