"""The kernel-free sliders: frames precomputed, linked in the browser, cheap when grading."""

import base64
import io
import re
import subprocess
import sys

import ipywidgets as widgets
import ipywidgets.widgets.widget as widget_module
import matplotlib.pyplot as plt
import pytest
from PIL import Image

from bplib import widgets as bw


def line_figure(slope):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, slope])
    return fig


FRAME = re.compile(r'<img class="bp-frame[^"]*" src="data:image/png;base64,([^"]+)" '
                   r'width="(\d+)" height="(\d+)" data-font-px="([\d.]+)" alt="([^"]*)">')
PHONE = re.compile(r'<picture><source media="([^"]+)" srcset="data:image/png;base64,([^"]+)" '
                   r'width="(\d+)" height="(\d+)">')


def frame_image(frame):
    """The PNG bytes, the size in CSS pixels and the alt text of a figure frame."""
    img = FRAME.search(frame.value)
    assert img, f"not a figure frame: {frame.value[:80]}"
    return base64.b64decode(img.group(1)), int(img.group(2)), int(img.group(3)), img.group(5)


def links_between(source, target):
    return [link for link in widget_module._instances.values()
            if isinstance(link, widgets.widget_link.Link)
            and link.source == (source, "index") and link.target == (target, "selected_index")]


@pytest.fixture(autouse=True)
def not_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def test_frame_slider_has_one_frame_per_value_linked_in_the_browser():
    box = bw.frame_slider(line_figure, [1, 2, 3], "slope")
    slider, stack = box.children
    assert isinstance(stack, widgets.Stack)
    assert all(frame_image(frame)[0].startswith(b"\x89PNG") for frame in stack.children)
    assert [label for label, _ in slider.options] == ["1", "2", "3"]
    assert links_between(slider, stack), "the slider is not jslinked to the frames"
    assert not plt.get_fignums(), "frame figures were left open"


def test_frames_differ_for_different_values():
    stack = bw.frame_slider(line_figure, [1, 5], "slope").children[1]
    assert frame_image(stack.children[0])[0] != frame_image(stack.children[1])[0]


def test_html_frames_and_formatted_labels():
    box = bw.frame_slider(lambda rate: f"<b>{rate:.0%}</b>", [0.1, 0.25], "rate", fmt="{:.0%}")
    slider, stack = box.children
    assert [label for label, _ in slider.options] == ["10%", "25%"]
    assert [frame.value for frame in stack.children] == ["<b>10%</b>", "<b>25%</b>"]


def test_frame_grid_is_a_stack_of_stacks_driven_by_two_sliders():
    box = bw.frame_grid(lambda a, b: f"{a}-{b}", [1, 2, 3], [10, 20], ("a", "b"))
    slider_a, slider_b, grid = box.children
    assert len(grid.children) == 3
    assert [[frame.value for frame in row.children] for row in grid.children] == \
        [["1-10", "1-20"], ["2-10", "2-20"], ["3-10", "3-20"]]
    assert links_between(slider_a, grid)
    assert all(links_between(slider_b, row) for row in grid.children)


def test_autograding_draws_nothing(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    calls = []
    box = bw.frame_slider(lambda v: calls.append(v) or "x", [1, 2], "v")
    grid = bw.frame_grid(lambda a, b: calls.append(a) or "x", [1], [2], ("a", "b"))
    assert calls == []
    assert not any(isinstance(child, widgets.Stack) for child in box.children + grid.children)


def test_autograding_loads_no_matplotlib():
    """An assignment's kernel imports bplib and builds its sliders without matplotlib (about
    half a second per graded notebook); a drawing loads it when it is first needed."""
    code = ("import os, sys\n"
            "os.environ['NBGRADER_EXECUTION'] = 'autograde'\n"
            "from bplib import graph, layers, network, neuron, plotting, telephone, widgets\n"
            "widgets.frame_slider(lambda rate: plotting.plot_line_error([0], [0], [0]),\n"
            "                     [0.1, 0.2], 'rate')\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
            "plotting.plot_line_error([0.0, 0.1], [0.0, 0.1], [0.0, 0.1])\n"
            "assert 'matplotlib' in sys.modules\n"
            "assert set(plotting.__all__) <= set(dir(plotting))\n"
            "assert all(callable(getattr(plotting, name)) or name.isupper()\n"
            "           for name in plotting.__all__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("values, message", [
    ([], "at least one value"),
    ([1.0, float("nan")], "not a finite number"),
    (range(bw.MAX_FRAMES + 1), "too many"),
])
def test_bad_slider_ranges_are_explained(values, message):
    with pytest.raises(ValueError, match=message):
        bw.frame_slider(lambda v: "x", values, "v")


def test_values_that_print_alike_are_refused():
    with pytest.raises(ValueError, match="print the same"):
        bw.frame_slider(lambda v: "x", [0.101, 0.102], "rate", fmt="{:.0%}")


def test_grid_too_large_is_refused():
    with pytest.raises(ValueError, match="too many"):
        bw.frame_grid(lambda a, b: "x", range(10), range(10), ("a", "b"))


def test_a_failing_draw_names_the_value():
    def draw(v):
        raise ZeroDivisionError("division by zero")
    with pytest.raises(RuntimeError, match=r"rate = 0\.5.*division by zero"):
        bw.frame_slider(draw, [0.5], "rate")


def test_a_frame_of_the_wrong_type_is_explained():
    with pytest.raises(RuntimeError, match="must be a matplotlib Figure"):
        bw.frame_slider(lambda v: 42, [1], "v")


def test_figure_frames_are_small_palette_pngs():
    stack = bw.frame_slider(line_figure, [1], "slope").children[1]
    image = Image.open(io.BytesIO(frame_image(stack.children[0])[0]))
    assert image.mode == "P" and len(image.getcolors()) <= bw.FRAME_COLOURS


def test_figure_frames_are_sharp_and_shown_at_the_size_of_a_static_figure():
    """2 x 1.5 inches (plus the tight bounding box's padding) at FRAME_DPI pixels per inch,
    shown at 96 CSS pixels per inch as a static SVG figure is."""
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    png, width, height, _ = frame_image(bw.frame_slider(lambda v: fig, [1], "v").children[1]
                                        .children[0])
    assert bw.FRAME_DPI >= 160
    pixels = Image.open(io.BytesIO(png)).size
    assert pixels[0] >= 2 * bw.FRAME_DPI and pixels[1] >= 1.5 * bw.FRAME_DPI
    assert (width, height) == tuple(round(n * 96 / bw.FRAME_DPI) for n in pixels)


def test_frames_carry_alt_text_from_the_drawing_or_the_slider():
    by_pair = bw.frame_slider(lambda v: (line_figure(v), f"a line of slope {v}"), [1, 2],
                              "slope").children[1]
    assert [frame_image(f)[3] for f in by_pair.children] == ["a line of slope 1",
                                                             "a line of slope 2"]
    by_function = bw.frame_grid(lambda a, b: line_figure(a * b), [1, 2], [3], ("a", "b"),
                                alt=lambda a, b: f"slope {a} times {b} & more").children[2]
    assert frame_image(by_function.children[1].children[0])[3] == "slope 2 times 3 &amp; more"
    default = bw.frame_slider(line_figure, [0.5], "rate", fmt="{:.0%}").children[1]
    assert frame_image(default.children[0])[3] == "Figure for rate = 50%"


def test_sliders_start_where_asked_and_fill_their_column():
    box = bw.frame_slider(lambda v: f"<b>{v}</b>", [1, 2, 3], "v", start=2)
    slider, stack = box.children
    assert slider.index == stack.selected_index == 1
    assert slider.layout.width == "100%" and slider.layout.max_width
    a, b, grid = bw.frame_grid(lambda a, b: "x", [1, 2], [3, 4, 5], ("a", "b"),
                               starts=(2, 5)).children
    assert (a.index, grid.selected_index) == (1, 1)
    assert b.index == 2 and all(row.selected_index == 2 for row in grid.children)
    with pytest.raises(ValueError, match="start 7 is not one of its values"):
        bw.frame_slider(lambda v: "x", [1, 2], "v", start=7)


def wide_chart(value):
    fig, axes = plt.subplots(1, 2, figsize=(6.5, 3), layout="constrained")
    for ax in axes:
        ax.plot([0, 1], [0, value])
        ax.set_xlabel("a label of 9 points", fontsize=9)
    axes[0].set_title("a title long enough that a phone must wrap it onto two lines", fontsize=10)
    return fig


def test_a_wide_chart_gets_a_phone_version_with_text_a_phone_can_read():
    """A phone's column is 358 CSS px: its frame is at most about that wide, so its 9 pt
    text stays at least 11 px there; the desktop frame keeps its own size."""
    value = bw.frame_slider(wide_chart, [1], "v").children[1].children[0].value
    phone = PHONE.search(value)
    assert phone and "max-width" in phone.group(1), value[:120]
    desktop = frame_image(bw.frame_slider(wide_chart, [1], "v").children[1].children[0])
    png = base64.b64decode(phone.group(2))
    pixels = Image.open(io.BytesIO(png)).size
    assert (int(phone.group(3)), int(phone.group(4))) == tuple(
        round(n * 96 / bw.FRAME_DPI) for n in pixels)
    assert desktop[1] > 500 and int(phone.group(3)) <= 380
    font_px = float(FRAME.search(value).group(4))
    assert font_px == pytest.approx(9 * bw.FRAME_DPI / 72)
    # the stacked panels: taller than wide, unlike the desktop frame
    assert int(phone.group(4)) > int(phone.group(3)) and desktop[2] < desktop[1]
    shown = min(358, int(phone.group(3)))
    assert font_px * shown / pixels[0] >= 11


def test_a_diagram_keeps_its_size_and_has_no_phone_version():
    def diagram(value):
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, f"box {value}", fontsize=9)
        ax.set_axis_off()
        return fig
    value = bw.frame_slider(diagram, [1], "v").children[1].children[0].value
    assert "<picture>" not in value and 'class="bp-frame bp-diagram"' in value


def test_bplib_figures_describe_what_they_show():
    from bplib import plotting

    box = bw.frame_slider(lambda rate: plotting.plot_predictions(
        {"target 1": ([0.5, 0.61, 0.7], 1.0)}, rate), [0.5], "η")
    alt = frame_image(box.children[1].children[0])[3]
    assert "0.610" in alt and "0.5" in alt and not alt.startswith("Figure for")


SLIDER_CALL = re.compile(r"widgets\.frame_(slider|grid)\(")


def slider_calls():
    """Every frame_slider/frame_grid call of the book's chapters and the assignments'
    sources, as (file, keyword arguments)."""
    import ast
    import json

    from conftest import REPO

    sources = [(path, path.read_text()) for path in sorted((REPO / "chapters").glob("*.md"))]
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        sources += [(path, "".join(cell["source"])) for cell in cells
                    if cell["cell_type"] == "code"]
    calls = []
    for path, text in sources:
        for match in SLIDER_CALL.finditer(text):
            tail = text[match.start():]
            for end in range(tail.index(")") + 1, len(tail) + 1):
                try:
                    call = ast.parse(tail[:end]).body[0].value
                    break
                except SyntaxError:
                    continue
            calls.append((path.name, match.group(1), {k.arg for k in call.keywords}))
    return calls


def test_every_slider_of_the_book_declares_where_it_starts():
    """README: a slider starts at the case the text discusses, so every call says which."""
    calls = slider_calls()
    assert len(calls) >= 15, calls
    missing = [(name, kind) for name, kind, keywords in calls
               if ("start" if kind == "slider" else "starts") not in keywords]
    assert missing == [], f"sliders without a declared start: {missing}"
