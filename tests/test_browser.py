"""The built book in headless Chromium, served on 127.0.0.1 with no network behind it.

Every chapter page: it loads, its math is typeset, every slider changes what is shown,
nothing is requested from outside the book, no local file is missing, and the console
stays free of errors.
"""

import functools
import http.server
import threading

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# As the workplace's own check of Chromium: no background traffic to the outside.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

SHOWN = """async slider => {
  // What the slider's box shows: the bytes of its visible images (each redraw of a
  // frame gets a new blob URL, so the URL alone says nothing) and its visible HTML.
  const box = slider.closest('.widget-vbox');
  const visible = el => el.offsetParent !== null;
  const digest = async url => {
    const bytes = await (await fetch(url)).arrayBuffer();
    const hash = await crypto.subtle.digest('SHA-256', bytes);
    return Array.from(new Uint8Array(hash)).map(b => b.toString(16)).join('');
  };
  const images = await Promise.all(
      Array.from(box.querySelectorAll('img')).filter(visible).map(i => digest(i.src)));
  const html = Array.from(box.querySelectorAll('.widget-html-content')).filter(visible)
      .map(h => h.innerHTML);
  return JSON.stringify([images, html]);
}"""


@pytest.fixture(scope="module")
def site(book_html):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=book_html)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One page, with everything it asked for and everything it complained about."""

    def __init__(self, browser, site, path):
        self.site = site
        self.page = browser.new_page()
        self.requests, self.failures, self.errors = [], [], []
        self.bytes = 0
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", lambda request: self.failures.append(request.url))
        self.page.on("response", self._response)
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(site + path, wait_until="networkidle")
        self.page.wait_for_timeout(500)

    def _response(self, response):
        if response.status >= 400:
            self.failures.append(f"{response.status} {response.url}")
        elif response.url.startswith(self.site):
            self.bytes += int(response.headers.get("content-length", 0))

    def outside_requests(self):
        local = (self.site, f"blob:{self.site}", "data:")
        return [url for url in self.requests if not url.startswith(local)]

    def check_clean(self):
        assert self.outside_requests() == []
        assert self.failures == []
        assert self.errors == []


def test_the_home_page_is_clean(browser, site):
    visit = Visit(browser, site, "intro.html")
    assert "backpropagation" in visit.page.inner_text("main").lower()
    visit.check_clean()


def test_exercise_pages_are_clean(browser, site, book_html):
    for page in sorted((book_html / "exercises").rglob("*.html")):
        Visit(browser, site, str(page.relative_to(book_html))).check_clean()


def test_chapter_pages(browser, site, chapter_pages):
    for path in chapter_pages:
        visit = Visit(browser, site, path)
        page = visit.page
        assert page.locator("mjx-container").count() > 0, f"{path}: no typeset math"
        assert page.locator("mjx-merror").count() == 0, f"{path}: a formula failed to typeset"
        handles = page.locator(".widget-slider [role=slider]")
        assert handles.count() > 0, f"{path}: no slider rendered"
        for i in range(handles.count()):
            handle = handles.nth(i)
            handle.scroll_into_view_if_needed()
            before = handle.evaluate(SHOWN)
            handle.focus()
            page.keyboard.press("End")
            page.wait_for_timeout(300)
            after = handle.evaluate(SHOWN)
            assert after != before, f"{path}: slider {i + 1} does not change what is shown"
            page.keyboard.press("Home")
            page.wait_for_timeout(300)
            assert handle.evaluate(SHOWN) == before, f"{path}: slider {i + 1} does not go back"
        visit.check_clean()
        print(f"{path}: {visit.bytes / 1e6:.2f} MB transferred, shared scripts included")


def test_appendix_pages_are_clean(browser, site):
    notation = Visit(browser, site, "appendix/notation.html")
    assert notation.page.locator("mjx-container").count() > 0, "notation: no typeset math"
    assert notation.page.locator("mjx-merror").count() == 0, "notation: a formula failed"
    notation.check_clean()
    glossary = Visit(browser, site, "appendix/glossary.html")
    assert "反向传播" in glossary.page.inner_text("main")
    glossary.check_clean()
