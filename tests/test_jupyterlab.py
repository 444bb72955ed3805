"""The same sliders in JupyterLab with a live kernel: frames drawn by the kernel, switched
by the browser, for one slider and for a grid of two."""

import os
import socket
import subprocess
import time
import urllib.request

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from conftest import BIN
from test_browser import CHROMIUM, CHROMIUM_ARGS, SHOWN

pytestmark = pytest.mark.slow

CODE = """\
import matplotlib.pyplot as plt
from bplib.widgets import frame_grid, frame_slider

def draw(slope):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, slope])
    ax.set_title(f"slope {slope}")
    return fig

display(frame_slider(draw, [1, 2, 3], "slope"))
display(frame_grid(lambda a, b: f"<b>a = {a}, b = {b}</b>", [1, 2], [10, 20, 30], ("a", "b")))
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    root = tmp_path / "root"
    root.mkdir()
    nbformat.write(notebook, root / "sliders.ipynb")
    port, token = free_port(), "course-test"
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("JupyterLab did not start within 90 s")
            time.sleep(0.5)
    yield f"{base}/lab/tree/sliders.ipynb?token={token}"
    server.terminate()
    server.wait(timeout=30)


def test_sliders_switch_frames_in_jupyterlab(lab):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(lab)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        handles = page.locator(".jp-OutputArea .widget-slider [role=slider]")
        # A cell run before the kernel has connected is silently dropped: run it until the
        # kernel has taken it.
        prompt = page.locator(".jp-Cell .jp-InputPrompt").first
        for _ in range(12):
            page.locator(".jp-Cell").first.click()
            page.keyboard.press("Escape")
            page.keyboard.press("Control+Enter")
            try:
                page.wait_for_function("el => /\\[(\\d+|\\*)\\]/.test(el.textContent)",
                                       arg=prompt.element_handle(), timeout=5_000)
                break
            except PlaywrightTimeout:
                continue
        handles.nth(2).wait_for(timeout=60_000)
        assert handles.count() == 3
        for i in range(3):
            handle = handles.nth(i)
            before = handle.evaluate(SHOWN)
            handle.focus()
            page.keyboard.press("End")
            page.wait_for_timeout(300)
            assert handle.evaluate(SHOWN) != before, f"slider {i + 1} changes nothing"
        browser.close()
        assert errors == []
