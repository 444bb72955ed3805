"""Sliders that work in the static book, with no kernel behind them.

Every frame is computed in advance and put in an ``ipywidgets.Stack``; the slider's
``index`` is linked to the Stack's ``selected_index`` with ``jslink``, a link that lives in
the browser. The saved widget state therefore contains everything the page needs, so the
slider responds in the built HTML as it does in JupyterLab.
"""

import io
import math
import numbers
import os

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from PIL import Image

MAX_FRAMES = 60      # keeps a chapter page small: every frame is stored in the page
FRAME_DPI = 80
FRAME_COLOURS = 64   # a palette this size keeps plots intact at a third of the bytes


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


def _frame(content):
    """One frame: a matplotlib Figure becomes a PNG image, a string becomes HTML."""
    if isinstance(content, Figure):
        return widgets.Image(value=_png(content), format="png")
    if isinstance(content, str):
        return widgets.HTML(content)
    if isinstance(content, widgets.Widget):
        return content
    raise TypeError("a frame must be a matplotlib Figure, an HTML string or a widget, "
                    f"not {type(content).__name__}")


def _png(figure):
    """The figure as a small palette PNG; the figure is closed."""
    rendered = io.BytesIO()
    figure.savefig(rendered, format="png", dpi=FRAME_DPI, bbox_inches="tight")
    plt.close(figure)
    image = Image.open(rendered).convert("RGB").quantize(colors=FRAME_COLOURS)
    png = io.BytesIO()
    image.save(png, format="png", optimize=True)
    return png.getvalue()


def _draw(draw, *args, described):
    try:
        return _frame(draw(*args))
    except Exception as error:
        raise RuntimeError(f"drawing the frame for {described} failed: {error}") from error


def _slider(description, values, fmt):
    labels = _labels(values, fmt, description)
    return widgets.SelectionSlider(options=list(zip(labels, values)), description=description,
                                   style={"description_width": "initial"},
                                   layout=widgets.Layout(width="30em"), continuous_update=True)


def _not_drawn(*sliders):
    note = widgets.HTML("<em>Frames are not drawn while the notebook is being autograded.</em>")
    return widgets.VBox([*sliders, note])


def frame_slider(draw, values, description, *, fmt="{}"):
    """A slider over ``values`` showing ``draw(value)``: all frames drawn now, none later."""
    values = _checked_values(values, description)
    slider = _slider(description, values, fmt)
    if autograding():
        return _not_drawn(slider)
    frames = [_draw(draw, value, described=f"{description} = {value!r}") for value in values]
    stack = widgets.Stack(frames, selected_index=0)
    widgets.jslink((slider, "index"), (stack, "selected_index"))
    return widgets.VBox([slider, stack])


def frame_grid(draw, values_a, values_b, descriptions, *, fmts=("{}", "{}")):
    """Two sliders showing ``draw(a, b)`` for every pair of values.

    A link can copy a value but not compute ``a * len(values_b) + b``, so the grid is a
    Stack of Stacks: the first slider picks a row, the second picks the same column in
    every row.
    """
    name_a, name_b = descriptions
    values_a = _checked_values(values_a, name_a)
    values_b = _checked_values(values_b, name_b)
    if len(values_a) * len(values_b) > MAX_FRAMES:
        raise ValueError(f"sliders '{name_a}' x '{name_b}': {len(values_a)} x {len(values_b)} "
                         f"frames is too many; every pair is a stored frame, so use at most "
                         f"{MAX_FRAMES} in all")
    slider_a = _slider(name_a, values_a, fmts[0])
    slider_b = _slider(name_b, values_b, fmts[1])
    if autograding():
        return _not_drawn(slider_a, slider_b)
    rows = []
    for a in values_a:
        frames = [_draw(draw, a, b, described=f"{name_a} = {a!r}, {name_b} = {b!r}")
                  for b in values_b]
        row = widgets.Stack(frames, selected_index=0)
        widgets.jslink((slider_b, "index"), (row, "selected_index"))
        rows.append(row)
    grid = widgets.Stack(rows, selected_index=0)
    widgets.jslink((slider_a, "index"), (grid, "selected_index"))
    return widgets.VBox([slider_a, slider_b, grid])
