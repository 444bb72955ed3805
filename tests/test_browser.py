"""The built book in headless Chromium, served on 127.0.0.1 with no network behind it.

Every chapter page: it loads, its math is typeset, every slider changes what is shown,
nothing is requested from outside the book, no local file is missing, and the console
stays free of errors. Then the book as its readers see it, on a 390 px phone and a
1366 px screen, in light and dark mode: the menu button works, nothing scrolls sideways,
widget text is legible, sliders have accessible names and values, chapters are numbered.
"""

import functools
import http.server
import re
import sys
import threading
from pathlib import Path

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


@pytest.fixture(autouse=True)
def pages_closed_after_each_test(request):
    """Each page a test opened is closed when it ends (a Visit opens a page of its own): a
    page left open keeps a renderer process, and a run of every test on every page left
    about 500 of them, which slowed the machine to a crawl."""
    browser = request.getfixturevalue("browser") if "browser" in request.fixturenames else None
    yield
    for context in list(browser.contexts if browser else []):
        context.close()


PHONE, DESKTOP = 390, 1366
READERS = [(PHONE, "light"), (PHONE, "dark"), (DESKTOP, "light"), (DESKTOP, "dark")]

# WCAG 2 contrast of two CSS colours, and the background an element is seen on.
CONTRAST = """
const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => v / 255).map(
    v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05); };
const background = el => { for (let e = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor; const v = rgb(c);
    if (v.length === 3 || (v.length === 4 && v[3] > 0.5)) return c; }
  return getComputedStyle(document.body).backgroundColor; };
"""

WIDGET_TEXT_CONTRAST = """() => {""" + CONTRAST + """
  // Every visible element of a widget or a table that holds text of its own.
  const texts = Array.from(document.querySelectorAll('.jupyter-widgets *, .bp-table *'))
    .filter(el => el.offsetParent !== null && Array.from(el.childNodes).some(
          n => n.nodeType === 3 && n.textContent.trim()));
  return texts.map(el => [el.textContent.trim().slice(0, 40),
      contrast(getComputedStyle(el).color, background(el))]);
}"""

HANDLE_CONTRAST = """handle => {""" + CONTRAST + """
  // a native range input: its thumb and filled track take the accent colour
  return contrast(getComputedStyle(handle).accentColor, background(handle.closest(
      '.widget-slider').parentElement));
}"""

MATH_CONTRAST = """() => {""" + CONTRAST + """
  // a formula is drawn in its svg's colour (fill="currentColor"), on the page's background
  return Math.min(...Array.from(document.querySelectorAll('mjx-container svg'))
    .filter(svg => svg.closest('mjx-container').offsetParent !== null)
    .map(svg => contrast(getComputedStyle(svg).color, background(svg))));
}"""

SIDEWAYS = """() => {
  // What sticks out of the viewport, other than inside a box that scrolls by itself.
  const scrolls = el => { for (let e = el.parentElement; e; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX; if (o === 'auto' || o === 'scroll') return true; }
    return false; };
  // MathJax's assistive MathML is clipped to nothing (screen readers only): its box may
  // reach past a formula that itself fits.
  const out = Array.from(document.querySelectorAll('.bd-article *')).filter(el =>
      el.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls(el) &&
      !el.closest('mjx-assistive-mml'));
  return {width: document.documentElement.scrollWidth, viewport: window.innerWidth,
          out: out.slice(0, 5).map(el => el.tagName + '.' + el.className)};
}"""


LINE_STARTS = r"""() => {
  // Punctuation right after an element (a formula, a name) that starts a line: its box
  // sits at the left edge of its block's content. A name in a paragraph as wide as the
  // line leaves the browser no other place to break; in a table (which may scroll) there
  // is always one.
  const found = [];
  const walker = document.createTreeWalker(document.querySelector('.bd-article'),
                                           NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const before = n.previousSibling;
    const at = n.textContent.search(/\S/);
    if (!before || at < 0 || !/[,.;:!?)\]]/.test(n.textContent[at]) || el.offsetParent === null
        || el.closest('pre, code, mjx-assistive-mml, script, style')) continue;
    const block = el.closest('p, li, td, th, dd, dt, caption, figcaption, div, h1, h2, h3, h4');
    const style = getComputedStyle(block);
    const box = block.getBoundingClientRect();
    const left = box.left + parseFloat(style.paddingLeft) + parseFloat(style.borderLeftWidth);
    const range = document.createRange();
    range.setStart(n, at);
    range.setEnd(n, at + 1);
    const rect = range.getClientRects()[0];
    if (!rect || Math.abs(rect.left - left) >= 2) continue;
    const wide = before.nodeType === 1 && before.matches('code')
        && before.getBoundingClientRect().width > 0.8 * box.width;
    if (wide && !block.matches('td, th')) continue;
    found.push(`${n.textContent.slice(at, at + 20)} after ${before.textContent.slice(-20)}`);
  }
  return found;
}"""


class Visit:
    """One page, with everything it asked for and everything it complained about."""

    def __init__(self, browser, site, path, width=1280, mode="light", settle=True):
        self.site = site
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        # the theme reads the reader's choice of mode from localStorage before it paints
        self.page.add_init_script(f"localStorage.setItem('mode', '{mode}');"
                                  f"localStorage.setItem('theme', '{mode}');")
        self.requests, self.failures, self.errors, self.warnings = [], [], [], []
        self.bytes = 0
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        self.page.on("console", self._console_error)
        self.page.on("console",
                     lambda msg: msg.type == "warning" and self.warnings.append(msg.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(site + path, wait_until="commit")
        if settle:
            self.loaded()
            self.page.wait_for_timeout(500)

    def loaded(self):
        """Wait for the network to be idle and for static/sliders.js, which draws the
        sliders once the page is parsed, to have drawn every view."""
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_function(
            "document.querySelectorAll('.widget-vbox').length >= document.querySelectorAll("
            "'script[type=\"application/vnd.jupyter.widget-view+json\"]').length")

    def _console_error(self, message):
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        self.errors.append(f"{message.text} ({where})" if where else message.text)

    def _response(self, response):
        if response.status >= 400:
            self.failures.append(f"{response.status} {response.url}")
        elif response.url.startswith(self.site):
            self.bytes += int(response.headers.get("content-length", 0))

    def outside_requests(self):
        local = (self.site, f"blob:{self.site}", "data:")
        return [url for url in self.requests if not url.startswith(local)]

    def _failed(self, request):
        # A lazy image still loading when a test follows a link is aborted by the
        # navigation, not broken, and so is the site's icon when the index's instant
        # redirect leaves before it arrives: a missing file shows as a 404 response instead.
        aborted = request.failure == "net::ERR_ABORTED"
        if not (aborted and (request.resource_type == "image"
                             or request.url.endswith("/_static/favicon.svg"))):
            self.failures.append(f"{request.url} ({request.failure})")

    def check_clean(self):
        assert self.outside_requests() == []
        assert self.failures == []
        assert self.errors == []
        assert self.warnings == []


def visits(browser, site, paths, width=1280, mode="light", together=5):
    """(path, Visit) of each of `paths` in turn, each page waited for as a Visit waits
    (network idle, sliders drawn, then at least 500 ms more) before the test reads it.
    The pages load `together` at a time, so that their waits overlap; none is loading
    while the test reads one. Each page is closed once the test has read it."""
    paths = list(paths)
    for start in range(0, len(paths), together):
        group = [(path, Visit(browser, site, path, width, mode, settle=False))
                 for path in paths[start:start + together]]
        for _, visit in group:
            visit.loaded()
        group[0][1].page.wait_for_timeout(500)
        for path, visit in group:
            yield path, visit
            visit.page.context.close()


def test_the_home_page_is_clean(browser, site):
    visit = Visit(browser, site, "intro.html")
    assert "backpropagation" in visit.page.inner_text("main").lower()
    visit.check_clean()


def test_exercise_pages_are_clean(browser, site, book_html):
    pages = sorted((book_html / "exercises").rglob("*.html"))
    for _, visit in visits(browser, site, [str(page.relative_to(book_html)) for page in pages]):
        visit.check_clean()


# The math as book_support/typeset.py leaves it: no TeX left in the text, no MathJax
# loaded, and every formula drawn (glyphs that exist in the page) with the MathML a
# screen reader reads beside it.
MATH = r"""() => {
  const formulas = Array.from(document.querySelectorAll('mjx-container'));
  const text = document.querySelector('.bd-article').innerText;
  const glyphs = Array.from(document.querySelectorAll('mjx-container svg use'))
    .map(use => use.getAttribute('xlink:href') || use.getAttribute('href'));
  return {
    formulas: formulas.length,
    tex: (text.match(/\\\(|\\\[|\\begin|\$\$/g) || []).length,
    mathjax: Array.from(document.scripts).filter(s => /mathjax/i.test(s.src)
        || /MathJax/.test(s.textContent)).length,
    errors: document.querySelectorAll('mjx-merror, [data-mml-node="merror"]').length,
    unread: formulas.filter(f => !f.querySelector('mjx-assistive-mml math')
        || !f.querySelector('mjx-assistive-mml').textContent.trim()
        || f.querySelector('svg').getAttribute('aria-hidden') !== 'true').length,
    undrawn: formulas.filter(f => f.querySelector('svg').getBoundingClientRect().width === 0
        && f.offsetParent !== null).length,
    missing: glyphs.filter(ref => !ref || !document.getElementById(ref.slice(1))).length,
  };
}"""


def test_math_is_typeset_when_the_book_is_built():
    """book_support/typeset.py: a formula becomes SVG with the MathML a screen reader
    reads, and a formula MathJax cannot read stops the build, naming its page."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from book_support import typeset

    [(html, glyphs)], css = typeset.typeset({"a.html": [(r"\frac{1}{m} x^2", False)]})
    assert html[0].startswith("<mjx-container") and "<svg" in html[0]
    assert "<mjx-assistive-mml" in html[0] and "<mfrac>" in html[0]
    assert "<path id=" in glyphs and "mjx-assistive-mml" in css
    with pytest.raises(RuntimeError, match=r"b\.html: Undefined control sequence \\nosuchmacro"):
        typeset.typeset({"a.html": [("x", True)], "b.html": [(r"\nosuchmacro x", False)]})


def check_math(path, page):
    math = page.evaluate(MATH)
    assert math["formulas"] > 0, f"{path}: no typeset math"
    assert {key: value for key, value in math.items() if key != "formulas" and value} == {}, \
        f"{path}: math not typeset as it should be: {math}"


def test_chapter_pages(browser, site, chapter_pages):
    for path, visit in visits(browser, site, chapter_pages):
        page = visit.page
        check_math(path, page)
        handles = page.locator(".widget-slider [role=slider]")
        assert handles.count() > 0, f"{path}: no slider rendered"
        for i in range(handles.count()):
            handle = handles.nth(i)
            handle.scroll_into_view_if_needed()
            handle.focus()
            page.keyboard.press("Home")  # a slider starts where the text needs it
            page.wait_for_timeout(300)
            before = handle.evaluate(SHOWN)
            page.keyboard.press("End")
            page.wait_for_timeout(300)
            after = handle.evaluate(SHOWN)
            assert after != before, f"{path}: slider {i + 1} does not change what is shown"
            page.keyboard.press("Home")
            page.wait_for_timeout(300)
            assert handle.evaluate(SHOWN) == before, f"{path}: slider {i + 1} does not go back"
        visit.check_clean()
        print(f"{path}: {visit.bytes / 1e6:.2f} MB transferred, shared scripts included")


def book_pages(book_html):
    return sorted(str(page.relative_to(book_html)) for page in book_html.rglob("*.html")
                  if page.parent.name in ("chapters", "exercises") or
                  page.parent.parent.name == "exercises" or page.name == "intro.html")


@pytest.mark.parametrize("width, mode", READERS)
def test_nothing_scrolls_sideways_and_every_readout_is_in_view(browser, site, book_html,
                                                                width, mode):
    for path, visit in visits(browser, site, book_pages(book_html), width, mode):
        assert visit.page.evaluate("document.documentElement.dataset.theme") == mode
        sideways = visit.page.evaluate(SIDEWAYS)
        assert sideways["width"] <= sideways["viewport"], f"{path} scrolls sideways: {sideways}"
        assert sideways["out"] == [], f"{path}: cut off at the edge: {sideways['out']}"
        starts = visit.page.evaluate(LINE_STARTS)
        assert starts == [], f"{path}: lines that start with punctuation: {starts}"
        for readout in visit.page.locator(".widget-readout").all():
            readout.scroll_into_view_if_needed()
            box = readout.bounding_box()
            assert box and 0 <= box["x"] and box["x"] + box["width"] <= width, \
                f"{path}: a slider's readout is outside the viewport: {box}"
        visit.check_clean()


@pytest.mark.parametrize("width, mode", READERS)
def test_the_visible_menu_button_opens_and_closes_the_contents(browser, site, width, mode):
    visit = Visit(browser, site, "chapters/02-chain-rule-graphs.html", width, mode)
    page = visit.page
    buttons = page.locator(".primary-toggle")
    assert buttons.count() == 1, "a second (hidden) menu button would take the handler"
    assert buttons.first.is_visible()
    sidebar = page.locator("#pst-primary-sidebar")
    links = page.locator(".bd-docs-nav a.reference", has_text="Assignment 2")
    if width == PHONE:
        assert not sidebar.is_visible()
        buttons.first.click()
        modal = page.locator("#pst-primary-sidebar-modal")
        page.wait_for_timeout(500)
        assert modal.evaluate("dialog => dialog.open"), "the menu did not open"
        assert links.first.is_visible(), "the open menu does not show the contents"
    else:
        assert sidebar.is_visible() and links.first.is_visible()
        buttons.first.click()
        page.wait_for_timeout(800)
        assert not sidebar.is_visible(), "the menu button did not collapse the sidebar"
        buttons.first.click()
        page.wait_for_timeout(800)
        assert sidebar.is_visible(), "the menu button did not bring the sidebar back"
    visit.check_clean()


@pytest.mark.parametrize("width, mode", READERS)
def test_widget_text_is_legible_and_sliders_are_accessible(browser, site, chapter_pages,
                                                          width, mode):
    for path, visit in visits(browser, site, chapter_pages, width, mode):
        page = visit.page
        texts = page.evaluate(WIDGET_TEXT_CONTRAST)
        assert texts, f"{path}: no widget text found"
        faint = [(text, round(ratio, 2)) for text, ratio in texts if ratio < 4.5]
        assert faint == [], f"{path} ({mode}): widget text below 4.5:1 contrast: {faint}"
        math = page.evaluate(MATH_CONTRAST)
        assert math >= 4.5, f"{path} ({mode}): math at {math:.2f}:1 contrast"
        for slider in page.locator(".widget-slider").all():
            label = slider.locator(".widget-label").inner_text().strip()
            handle = slider.locator("[role=slider]")
            readout = slider.locator(".widget-readout")
            assert handle.get_attribute("aria-label") == label
            assert readout.get_attribute("contenteditable") != "true", "the readout is editable"
            assert handle.evaluate(HANDLE_CONTRAST) >= 3, f"{path}: a faint slider handle"
            handle.scroll_into_view_if_needed()
            handle.focus()
            for key in ("End", "Home"):
                page.keyboard.press(key)
                page.wait_for_timeout(200)
                shown = readout.inner_text().strip()
                assert handle.get_attribute("aria-valuetext") == shown, \
                    f"{path}: slider '{label}' says {handle.get_attribute('aria-valuetext')!r} " \
                    f"while showing {shown!r}"
        frames = page.locator(".widget-subarea img")
        assert frames.count() > 0, f"{path}: no figure frame"
        visit.check_clean()


def test_every_frame_says_what_it_shows(browser, site, chapter_pages):
    """The alt text of every frame of every slider (read from the page's saved state, so
    frames not shown yet count too) describes the figure, not only the slider's value."""
    for path, visit in visits(browser, site, chapter_pages):
        frames = visit.page.evaluate(FRAME_ALTS)
        assert frames, f"{path}: no slider frame"
        for alt, sliders in frames:
            words = alt
            for description in sliders:
                words = words.replace(description, " ")
            words = re.sub(r"^Figure for\b|[=,.:;]|[-−+]?\d[\d.,%]*", " ", words).split()
            assert len(words) >= 5, f"{path}: the alt text {alt!r} only names the slider's value"
        visit.check_clean()


FRAME_ALTS = """() => {
  // [alt, descriptions of the page's sliders] for every <img> in every saved frame
  const state = {};
  document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]')
    .forEach(s => Object.assign(state, JSON.parse(s.textContent).state));
  const models = Object.values(state);
  const sliders = models.filter(m => m.model_name === 'SelectionSliderModel')
    .map(m => m.state.description);
  const alts = [];
  for (const m of models) if (m.model_name === 'HTMLModel') {
    const box = document.createElement('div');
    box.innerHTML = m.state.value.replace(/src(set)?="[^"]*"/g, '');
    box.querySelectorAll('img').forEach(img => alts.push([img.alt, sliders]));
  }
  return alts;
}"""


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_chapters_are_numbered_and_followed_by_their_assignment(browser, site, width):
    visit = Visit(browser, site, "chapters/02-chain-rule-graphs.html", width)
    page = visit.page
    captions = page.locator("figcaption .caption-number").all_inner_texts()
    assert captions and all(text.startswith("Fig. 2.") for text in captions), captions
    assert captions[0].startswith("Fig. 2.1")
    weights = page.evaluate("""() => Array.from(document.querySelectorAll('.pasted-text'))
        .map(g => [g, g.parentElement].map(e => getComputedStyle(e).fontWeight))""")
    assert weights and all(glued == around for glued, around in weights), \
        "glued numbers stand out from the sentence around them"
    following = page.locator("a.right-next")
    assert "Assignment 2" in following.inner_text()
    following.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("exercises/02-chain-rule-graphs/02-chain-rule-graphs.html")
    assert page.locator("h1").first.inner_text().startswith("Assignment 2")
    note = page.locator(".bp-assignment-note")
    assert note.is_visible() and "chapter 2" in note.inner_text()
    download = note.locator("a[href*='_sources/']")
    assert download.count() == 1 and download.get_attribute("href").endswith(".ipynb")
    assert page.request.get(download.evaluate("a => a.href")).ok
    visit.check_clean()
def test_appendix_pages_are_clean(browser, site):
    notation = Visit(browser, site, "appendix/notation.html")
    check_math("appendix/notation.html", notation.page)
    notation.check_clean()
    glossary = Visit(browser, site, "appendix/glossary.html")
    assert "反向传播" in glossary.page.inner_text("main")
    glossary.check_clean()


# The smallest text of every figure and frame shown, in CSS px: each <img> of a figure
# drawn by bplib carries the height of its smallest text in its own pixels (data-font-px);
# shown at a width w, that text is data-font-px * w / naturalWidth CSS px high.
FIGURE_TEXT = """async () => {
  const images = Array.from(document.querySelectorAll(
      '.bd-article figure img, .bd-article .cell_output img'))
    .filter(img => img.offsetParent !== null);
  // lazy images below the fold load now; a frame that never loads counts as unmeasured
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => Promise.race([
      img.decode().catch(() => null), new Promise(done => setTimeout(done, 5000))])));
  return images.map(img => ({
    src: (img.currentSrc || img.src).split('/').pop().slice(0, 40),
    font: img.dataset.fontPx === undefined ? null :
          Number(img.dataset.fontPx) * img.getBoundingClientRect().width / img.naturalWidth,
  }));
}"""


def at_first_and_last_frames(page, script):
    """What `script` finds on the page as it opens, and again once every slider has been
    moved from the keyboard to its last frame."""
    found = page.evaluate(script)
    for handle in page.locator(".widget-slider [role=slider]").all():
        handle.scroll_into_view_if_needed()
        handle.focus()
        page.keyboard.press("End")
    page.wait_for_timeout(300)
    return found + page.evaluate(script)


@pytest.mark.parametrize("width, mode", READERS)
def test_text_in_figures_is_legible(browser, site, book_html, width, mode):
    smallest = 11 if width == PHONE else 12
    for path, visit in visits(browser, site, book_pages(book_html), width, mode):
        page = visit.page
        shown = at_first_and_last_frames(page, FIGURE_TEXT)
        unmeasured = [image["src"] for image in shown if image["font"] is None]
        assert unmeasured == [], f"{path}: figures that do not say their text size"
        small = [(image["src"], round(image["font"], 1)) for image in shown
                 if image["font"] < smallest - 0.05]
        assert small == [], f"{path} at {width} px: text below {smallest} px in {small}"
        visit.check_clean()


TABLES = """() => {
  const clipped = [];
  for (const table of document.querySelectorAll('.bd-article table')) {
    if (table.offsetParent === null) continue;
    const frame = table.closest('.pst-scrollable-table-container, .bp-table-scroll') ||
                  table.parentElement;
    const box = frame.getBoundingClientRect();
    const name = (table.querySelector('caption') || table).textContent.trim().slice(0, 30);
    if (frame.scrollWidth > frame.clientWidth + 1) clipped.push([name, 'scrolls']);
    for (const cell of table.querySelectorAll('th, td, caption')) {
      const r = cell.getBoundingClientRect();
      if (r.right > box.right + 1 || r.left < box.left - 1
          || cell.scrollWidth > cell.clientWidth + 1)
        clipped.push([name, cell.textContent.trim().slice(0, 30)]);
    }
  }
  return clipped;
}"""

WIDE_TABLES = """() => Array.from(document.querySelectorAll('.bd-article table'))
  .filter(t => t.offsetParent !== null)
  .map(table => {
    const frame = table.closest('.pst-scrollable-table-container, .bp-table-scroll') ||
                  table.parentElement;
    const style = getComputedStyle(frame);
    const first = table.querySelector('tbody tr > :first-child');
    return {name: (table.querySelector('caption') || table).textContent.trim().slice(0, 30),
            wide: frame.scrollWidth > frame.clientWidth + 1,
            scrolls: ['auto', 'scroll'].includes(style.overflowX),
            cue: style.backgroundImage.includes('gradient'),
            sticky: first ? getComputedStyle(first).position === 'sticky' : false};
  })"""


@pytest.mark.parametrize("width, mode", READERS)
def test_every_table_cell_can_be_read(browser, site, book_html, width, mode):
    """On a screen every column of every table shows without a hidden scroll; on a phone a
    table wider than the column scrolls inside its frame, with a shadow at the edge that
    scrolls and its first column kept in view."""
    for path, visit in visits(browser, site, book_pages(book_html) + [
            "appendix/notation.html", "appendix/glossary.html"], width, mode):
        if width == DESKTOP:
            assert visit.page.evaluate(TABLES) == [], f"{path}: table cells cut off"
        else:
            for table in visit.page.evaluate(WIDE_TABLES):
                if table["wide"]:
                    assert table["scrolls"] and table["cue"] and table["sticky"], \
                        f"{path}: a wide table without its scroll cue or sticky column: {table}"
        visit.check_clean()


EQUATIONS = """() => Array.from(document.querySelectorAll('mjx-container[display="true"]'))
  .filter(e => e.offsetParent !== null)
  .map(e => { const math = e.querySelector('svg');
    return [e.getAttribute('aria-label') || e.textContent.slice(0, 40),
            Math.round(math.getBoundingClientRect().width), e.clientWidth]; })
  .filter(([, wide, column]) => wide > column + 1)"""


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_display_equations_fit_a_phone(browser, site, book_html, mode):
    for path, visit in visits(browser, site, book_pages(book_html) + ["appendix/notation.html"],
                              PHONE, mode):
        assert visit.page.evaluate(EQUATIONS) == [], f"{path}: equations wider than a phone"
        visit.check_clean()


@pytest.mark.parametrize("width, mode", READERS)
def test_assignment_pages_open_with_their_title(browser, site, book_html, width, mode):
    pages = {str(page.relative_to(book_html)): page.name
             for page in sorted((book_html / "exercises").rglob("*.html"))}
    for path, visit in visits(browser, site, pages, width, mode):
        name = pages[path]
        first = visit.page.evaluate("""() => {
          const article = document.querySelector('.bd-article');
          const first = article.querySelector('h1, .cell');
          return first.tagName; }""")
        assert first == "H1", f"{name}: something comes before the title"
        cut = visit.page.evaluate("""() => Array.from(document.querySelectorAll(
            '.bp-install-cell pre')).filter(p => p.scrollWidth > p.clientWidth + 1).length""")
        assert cut == 0, f"{name}: the install cell's lines are cut off"
        assert visit.page.locator("h2", has_text="Before you hand in").count() == 1, \
            f"{name}: no closing 'Before you hand in' section"
        visit.check_clean()


# Two different Chinese characters drawn in the glossary's font: with a CJK font they are
# two glyphs; without one both are the same empty box (.notdef).
CJK_GLYPHS = """() => {
  const cell = Array.from(
    document.querySelectorAll('.bd-article td, .bd-article span, .bd-article p'))
    .find(e => e.children.length === 0 && e.textContent.includes('反向传播'));
  const font = getComputedStyle(cell).font;
  const draw = text => { const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64; const ctx = canvas.getContext('2d');
    ctx.font = font; ctx.fillStyle = '#000'; ctx.textBaseline = 'top';
    ctx.fillText(text, 4, 4); return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(); };
  const tofu = draw('\\u{10FFFD}');
  return {font, differ: draw('反') !== draw('向'), boxes: [draw('反'), draw('向')]
            .filter(image => image === tofu).length,
          width: cell.getBoundingClientRect().width};
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_glossary_shows_chinese_glyphs(browser, site, mode):
    visit = Visit(browser, site, "appendix/glossary.html", PHONE, mode)
    visit.page.evaluate("document.fonts.ready")
    glyphs = visit.page.evaluate(CJK_GLYPHS)
    assert glyphs["differ"] and glyphs["boxes"] == 0, f"Chinese shows as boxes: {glyphs}"
    visit.check_clean()


@pytest.fixture(scope="module")
def slow_4g(browser, book_html):
    """tools/first_paint.py's measurement of chapter 4 (the most math) and chapter 5, made
    once for the two tests below that read it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import first_paint

    server, site = first_paint.serve(book_html)
    try:
        return first_paint, [(path, first_paint.measure(browser, site + path))
                             for path in ("chapters/04-per-neuron.html",
                                          "chapters/05-full-algorithm.html")]
    finally:
        server.shutdown()


def test_sliders_are_usable_early_on_slow_4g(slow_4g):
    first_paint, measured = slow_4g
    for path, (_paint, _math, sliders, _load, _size) in measured:
        assert sliders is not None and sliders <= first_paint.GOAL_SLIDERS_S, \
            f"{path}: sliders usable at {sliders} s"


def test_math_is_typeset_early_on_slow_4g(slow_4g):
    first_paint, measured = slow_4g
    for path, (_paint, math, _sliders, _load, _size) in measured:
        assert math is not None and math <= first_paint.GOAL_MATH_S, \
            f"{path}: math typeset at {math} s"


# --- A reader's first visit in their own colour scheme, images that keep their place while
# they load, tables that are named and fit a phone's column, sliders named for what they set.

def first_visit(browser, site, path, width, scheme):
    """A reader who never chose a mode (nothing in localStorage) and whose browser prefers
    `scheme`: the page, and the theme the page had when its <body> began (before the
    first paint, before the theme's deferred script ran)."""
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    problems = []
    page.on("console", lambda msg: msg.type in ("error", "warning") and problems.append(msg.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script("""new MutationObserver((changes, observer) => {
        if (document.body) { window.bpThemeAtBody = document.documentElement.dataset.theme;
                             observer.disconnect(); } })
      .observe(document, {childList: true, subtree: true});""")
    page.goto(site + path, wait_until="networkidle")
    page.wait_for_function(
        "document.querySelectorAll('.widget-vbox').length >= document.querySelectorAll("
        "'script[type=\"application/vnd.jupyter.widget-view+json\"]').length")
    page.wait_for_timeout(300)
    return page, problems


# What the reader sees of the page's parts that follow the mode: their colours and filters.
MODE_STYLES = """() => {
  const parts = ['body', '.bd-article p', 'figure img', '.bd-article table', 'figcaption',
                 'mjx-container svg', '.widget-html-content', '.bp-slider input',
                 '.bp-slider label', '.bd-article .admonition', '.bd-article pre'];
  return parts.map(selector => Array.from(document.querySelectorAll(selector)).slice(0, 3)
    .map(el => { const s = getComputedStyle(el);
      return [selector, s.color, s.backgroundColor, s.filter, s.accentColor, s.borderColor]; }));
}"""


@pytest.mark.parametrize("width, scheme", READERS)
def test_the_first_visit_follows_the_readers_colour_scheme(browser, site, width, scheme):
    """A browser that prefers dark gets dark on the first visit, and light gets light,
    from the first paint; the page then looks as it does for a reader who chose that mode
    with the theme button (figures, typeset math, sliders and tables assume no default);
    the theme button still switches, and the choice stays."""
    path = "chapters/04-per-neuron.html"
    page, problems = first_visit(browser, site, path, width, scheme)
    assert page.evaluate("window.bpThemeAtBody") == scheme, "the first paint is in the other mode"
    assert page.evaluate("document.documentElement.dataset.theme") == scheme
    assert page.evaluate("document.documentElement.dataset.mode") == "auto"
    chosen = Visit(browser, site, path, width, scheme)
    assert page.evaluate(MODE_STYLES) == chosen.page.evaluate(MODE_STYLES), \
        f"{path}: the first visit in {scheme} mode looks unlike a chosen {scheme} mode"
    chosen.check_clean()
    background = page.evaluate("""() => { const v = getComputedStyle(document.body)
        .backgroundColor.match(/[\\d.]+/g).map(Number); return (v[0] + v[1] + v[2]) / 3; }""")
    assert background < 80 if scheme == "dark" else background > 200, \
        f"a {scheme} reader sees a page background of grey {background}"
    assert page.evaluate(MATH_CONTRAST) >= 4.5
    faint = [text for text, ratio in page.evaluate(WIDGET_TEXT_CONTRAST) if ratio < 4.5]
    assert faint == [], f"{scheme} at first visit: widget text below 4.5:1: {faint}"
    other = "light" if scheme == "dark" else "dark"
    button = page.locator(".theme-switch-button:visible").first
    button.click()
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.dataset.theme") == other, \
        "the theme button does not switch the mode"
    page.reload(wait_until="networkidle")
    assert page.evaluate("document.documentElement.dataset.theme") == other, \
        "the reader's choice of mode is forgotten on the next page"
    assert problems == []
    page.close()


def every_page(book_html):
    """Every page of the book a reader can open (not the theme's search and index pages)."""
    return sorted(str(page.relative_to(book_html)) for page in book_html.rglob("*.html")
                  if not page.relative_to(book_html).parts[0].startswith("_")
                  and page.name not in ("search.html", "genindex.html"))


# Every image shown: its size attributes and its box before anything below the fold has
# loaded; then every image loads, and its natural size and box are read again.
IMAGE_BOXES = """async () => {
  const shown = Array.from(document.querySelectorAll('.bd-page-width img'))
    .filter(img => img.offsetParent !== null);
  const box = img => { const r = img.getBoundingClientRect(); return [r.width, r.height]; };
  const before = shown.map(img => ({
    src: (img.currentSrc || img.src).split('/').pop().slice(0, 30),
    sized: Boolean(img.getAttribute('width') && img.getAttribute('height'))
           || Boolean(img.style.aspectRatio),
    box: box(img)}));
  shown.forEach(img => { img.loading = 'eager'; });
  await Promise.all(shown.map(img => Promise.race([
      img.decode().catch(() => null), new Promise(done => setTimeout(done, 5000))])));
  return shown.map((img, k) => Object.assign(before[k], {
    natural: [img.naturalWidth, img.naturalHeight], after: box(img)}));
}"""


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_images_keep_their_place_while_they_load(browser, site, book_html, width):
    """Every image has its size before it loads (lazy figures below the fold included):
    its box has the image's aspect ratio and a height, and loading does not move it."""
    for path, visit in visits(browser, site, every_page(book_html), width):
        images = visit.page.evaluate(IMAGE_BOXES)
        for image in images:
            name = f"{path}: {image['src']}"
            assert image["sized"], f"{name} has no width and height"
            (w, h), (nw, nh) = image["box"], image["natural"]
            assert h > 0 and nh > 0, f"{name} is {w} x {h} before it loads"
            assert abs(w / h - nw / nh) <= 0.02 * nw / nh, \
                f"{name}: its box is {w:.0f} x {h:.0f} before it loads, the image {nw} x {nh}"
            assert all(abs(a - b) <= 1
                       for a, b in zip(image["box"], image["after"], strict=True)), \
                f"{name} moves the page when it loads: {image['box']} -> {image['after']}"
        visit.check_clean()


# Every table of the page, drawn or saved in a slider's frames: its accessible name (its
# caption or aria-label); and every visible table wider than its column, with what makes
# its frame a deliberate scroll box (it scrolls, shows a cue, keeps its first column).
TABLE_NAMES_AND_WIDTHS = """() => {
  const saved = [];
  document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]')
    .forEach(s => Object.values(JSON.parse(s.textContent).state).forEach(m => {
      if (m.model_name === 'HTMLModel') {
        const box = document.createElement('div');
        box.innerHTML = m.state.value.replace(/src(set)?="[^"]*"/g, '');
        saved.push(...box.querySelectorAll('table'));
      } }));
  const name = t => ((t.querySelector('caption') || {}).textContent || '').trim()
                    || (t.getAttribute('aria-label') || '').trim();
  const tables = Array.from(document.querySelectorAll('.bd-article table'));
  const unnamed = tables.concat(saved).filter(t => !name(t))
    .map(t => t.textContent.trim().slice(0, 40));
  const column = document.querySelector('.bd-article').getBoundingClientRect();
  const wide = tables.filter(t => t.offsetParent !== null).map(table => {
    const frame = table.closest('.pst-scrollable-table-container, .bp-table-scroll')
                  || table.parentElement;
    const style = getComputedStyle(frame);
    const first = table.querySelector('tbody tr > :first-child');
    return {name: name(table).slice(0, 30), over: frame.scrollWidth - frame.clientWidth,
            frame_out: frame.getBoundingClientRect().right - column.right,
            scrolls: ['auto', 'scroll'].includes(style.overflowX),
            cue: style.backgroundImage.includes('gradient'),
            sticky: first ? getComputedStyle(first).position === 'sticky' : false,
            column: frame.clientWidth};
  }).filter(t => t.over > 1 || t.frame_out > 1);
  const numbers = tables.map(t => t.querySelector(':scope > caption .caption-number'))
    .filter(n => n).map(n => n.textContent.trim());
  return {tables: tables.length, unnamed, wide, numbers};
}"""


@pytest.mark.parametrize("width, mode", READERS)
def test_every_table_is_named_and_fits_its_column(browser, site, book_html, width, mode):
    """Every table has a caption (a screen reader names it by it). No table is wider than
    its column, unless its frame is a deliberate scroll box: it scrolls, shows a cue and
    keeps its first column in view, and what it hides is more than a sliver (a table a
    few pixels too wide must fit instead: it hid a column's last digits)."""
    found = 0
    for path, visit in visits(browser, site, every_page(book_html), width, mode):
        tables = visit.page.evaluate(TABLE_NAMES_AND_WIDTHS)
        found += tables["tables"]
        assert tables["unnamed"] == [], f"{path}: tables with no caption: {tables['unnamed']}"
        # html_table's tables and the text's own are numbered together, in page order
        numbers = [re.fullmatch(r"Table (\d+\.)?(\d+)", n) for n in tables["numbers"]]
        assert all(numbers) and [int(n.group(2)) for n in numbers] == \
            list(range(1, len(numbers) + 1)), f"{path}: tables numbered {tables['numbers']}"
        for table in tables["wide"]:
            assert table["frame_out"] <= 1, f"{path}: a table's frame sticks out: {table}"
            deliberate = (table["scrolls"] and table["cue"] and table["sticky"]
                          and table["over"] >= 0.1 * table["column"])
            assert width == PHONE and deliberate, \
                f"{path} at {width} px: a table wider than its column: {table}"
        visit.check_clean()
    assert found >= 20, f"only {found} tables found in the book"


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_chapter_1s_sliders_say_what_they_set(browser, site, width):
    """Each slider that sets a player's error rate says so in its accessible name (its
    label, aria-label and saved description), not only whose it is."""
    visit = Visit(browser, site, "chapters/01-telephone.html", width)
    page = visit.page
    sliders = page.locator(".widget-slider [role=slider]").all()
    names = [(slider.get_attribute("aria-label"),
              page.locator(f"label[for='{slider.get_attribute('id')}']").inner_text().strip())
             for slider in sliders]
    players = [name for name in names if "player" in name[0] + name[1]]
    assert len(players) == 3, names
    assert all(aria == label and re.fullmatch(r"player \d's error rate", aria)
               for aria, label in players), players
    for player, count in ((1, 1), (2, 2)):
        named = page.get_by_role("slider", name=f"player {player}'s error rate", exact=True)
        assert named.count() == count, f"player {player}: {named.count()} sliders by that name"
    saved = {description for _, descriptions in page.evaluate(FRAME_ALTS)
             for description in descriptions if "player" in description}
    assert saved == {"player 1's error rate", "player 2's error rate"}, saved
    visit.check_clean()


# Figures and slider frames fit their column (issue 21, figures): every image shown, and
# the last frame of every slider, is at most as wide as the article's column, except on a
# phone where a diagram may scroll sideways inside its own box; that box must then be
# reachable with Tab (tabindex 0, role=region and a name), and no image is cut by a box
# that scrolls without being reachable. Each box that scrolls is marked for the test.
FIGURE_FIT = """async () => {
  const column = document.querySelector('.bd-article');
  const images = Array.from(document.querySelectorAll(
      '.bd-article figure img, .bd-article .cell_output img'))
    .filter(img => img.offsetParent !== null);
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => Promise.race([
      img.decode().catch(() => null), new Promise(done => setTimeout(done, 5000))])));
  const found = [];
  for (const img of images) {
    const name = (img.currentSrc || img.src).split('/').pop().slice(0, 40);
    const width = img.getBoundingClientRect().width;
    let box = img.parentElement, scroller = null;
    while (box && box !== column) {
      if (getComputedStyle(box).overflowX !== 'visible' && box.scrollWidth > box.clientWidth + 1) {
        scroller = box;
        break;
      }
      box = box.parentElement;
    }
    const reachable = scroller !== null && scroller.tabIndex === 0 &&
        scroller.getAttribute('role') === 'region' && !!scroller.getAttribute('aria-label');
    if (scroller) scroller.dataset.bpScrolls = found.length;
    found.push({name, width: Math.round(width), column: column.clientWidth,
                scrolls: scroller !== null, reachable});
  }
  return found;
}"""


@pytest.mark.parametrize("width, mode", READERS)
def test_figures_and_frames_fit_their_column(browser, site, book_html, width, mode):
    for path, visit in visits(browser, site, book_pages(book_html), width, mode):
        page = visit.page
        shown = at_first_and_last_frames(page, FIGURE_FIT)
        too_wide = [image for image in shown if image["width"] > image["column"] + 1]
        if width == DESKTOP:
            assert too_wide == [], f"{path} at {width} px: wider than the column: {too_wide}"
        unreachable = [image for image in shown + too_wide
                       if (image["scrolls"] or image in too_wide) and not image["reachable"]]
        assert unreachable == [], f"{path} at {width} px: cut, and no key reaches: {unreachable}"
        # a box that scrolls does scroll from the keyboard: Tab reaches it, arrows move it
        for box in page.locator("[data-bp-scrolls]").all():
            if not box.is_visible():
                continue
            box.scroll_into_view_if_needed()
            box.focus()
            assert box.evaluate("b => document.activeElement === b")
            before = box.evaluate("b => b.scrollLeft")
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(100)
            assert box.evaluate("b => b.scrollLeft") > before, f"{path}: an arrow key does " \
                "not scroll a figure's box"
        visit.check_clean()


BPLIB_IMAGES = """() => Array.from(document.querySelectorAll('img.bp-frame, img.bp-figure'))
  .map(img => getComputedStyle(img).filter)"""


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_figures_are_not_dimmed_in_dark_mode(browser, site, book_html, width):
    """The theme dims images in dark mode (brightness .8, contrast 1.2), which takes text
    in a figure below 4.5:1 (black on the dark-orange box 3.67:1): figures drawn by bplib,
    whose every text reaches 4.5:1 on its white figure (test_plotting), are shown as drawn."""
    seen = 0
    for path, visit in visits(browser, site, book_pages(book_html), width, "dark"):
        filters = visit.page.evaluate(BPLIB_IMAGES)
        seen += len(filters)
        assert set(filters) <= {"none"}, f"{path}: figures drawn with a filter {set(filters)}"
        visit.check_clean()
    assert seen > 20


# For each table that scrolls sideways: its frame's right edge, and the middle of its first
# body row, in page pixels; the text is made transparent so that only backgrounds show.
SCROLLING_TABLES = """() => {
  document.head.insertAdjacentHTML('beforeend',
    '<style>.bd-article table, .bd-article table * { color: transparent !important; }</style>');
  return Array.from(document.querySelectorAll('.bd-article table'))
    .filter(t => t.offsetParent !== null)
    .map((table, index) => {
      const frame = table.closest('.pst-scrollable-table-container, .bp-table-scroll') ||
                    table.parentElement;
      frame.dataset.bpIndex = index;
      const box = frame.getBoundingClientRect();
      const row = table.querySelector('tbody tr') || table.querySelector('tr');
      const cells = row.getBoundingClientRect();
      return {index, name: (table.querySelector('caption') || table).textContent.trim()
                .slice(0, 30),
              scrolls: frame.scrollWidth > frame.clientWidth + 1,
              right: box.left + frame.clientWidth, top: cells.top + window.scrollY,
              height: cells.height,
              background: getComputedStyle(document.body).backgroundColor};
    }).filter(table => table.scrolls);
}"""


def _edge_pixels(page, table):
    """The colours of the 4 px at the right edge of a table's frame, down its first body
    row (every third px), as (r, g, b)."""
    import io

    from PIL import Image

    page.evaluate("top => window.scrollTo(0, top - 200)", table["top"])
    page.wait_for_timeout(100)
    y = table["top"] - page.evaluate("window.scrollY")
    shot = page.screenshot(clip={"x": table["right"] - 4, "y": y + 2, "width": 4,
                                 "height": max(table["height"] - 4, 1)})
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    return [image.getpixel((x, y)) for x in range(image.width)
            for y in range(0, image.height, 3)]


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_wide_tables_show_their_scroll_cue_over_the_rows(browser, site, book_html, mode):
    """On a phone, a table wider than the column shows a shadow at its right edge over its
    rows (not only beside its caption) while more of it is to the right, and none once it
    is scrolled to its end."""
    checked = 0
    paths = [path for path in book_pages(book_html) + ["appendix/notation.html",
                                                         "instructors.html"]
             if (book_html / path).exists()]
    for path, visit in visits(browser, site, paths, PHONE, mode):
        page = visit.page
        for table in page.evaluate(SCROLLING_TABLES):
            background = tuple(int(c) for c in re.findall(r"\d+", table["background"])[:3])

            def darkest_change(pixels, background=background):
                return max(sum(abs(a - b) for a, b in zip(pixel, background, strict=True))
                           for pixel in pixels)
            at_start = darkest_change(_edge_pixels(page, table))
            assert at_start >= 40, f"{path}: no scroll cue over the rows of {table['name']}"
            page.evaluate("i => { const f = document.querySelector(`[data-bp-index='${i}']`);"
                          " f.scrollLeft = f.scrollWidth; }", table["index"])
            page.wait_for_timeout(200)
            assert darkest_change(_edge_pixels(page, table)) < at_start / 2, \
                f"{path}: the cue stays at the end of {table['name']}"
            checked += 1
        visit.check_clean()
    assert checked >= 3
