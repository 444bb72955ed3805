"""The kernel-free sliders: frames precomputed, linked in the browser, cheap when grading."""

import io

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
    assert [frame.format for frame in stack.children] == ["png"] * 3
    assert all(bytes(frame.value).startswith(b"\x89PNG") for frame in stack.children)
    assert [label for label, _ in slider.options] == ["1", "2", "3"]
    assert links_between(slider, stack), "the slider is not jslinked to the frames"
    assert not plt.get_fignums(), "frame figures were left open"


def test_frames_differ_for_different_values():
    stack = bw.frame_slider(line_figure, [1, 5], "slope").children[1]
    assert stack.children[0].value != stack.children[1].value


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
    image = Image.open(io.BytesIO(bytes(stack.children[0].value)))
    assert image.mode == "P" and len(image.getcolors()) <= bw.FRAME_COLOURS
