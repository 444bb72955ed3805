"""First paint and page weight of the built book on a slow connection (a benchmark, not a test).

Serves the built book on 127.0.0.1 with gzip (as any real web server would), opens every
page in headless Chromium with an empty cache under Chromium's network emulation of slow
4G (1.6 Mbps down, 750 kbps up, 150 ms round trip), and prints for each page the time of
first contentful paint, the time its math was shown (the last formula to enter the page:
book_support/typeset.py typesets the math when the book is built, so that is when the
browser parsed it; with MathJax in the browser it was when MathJax typeset it), the time
its sliders were usable (static/sliders.js drew them), the load
event and the bytes transferred until the network was idle.

    .venv/bin/python tools/first_paint.py [BOOK_HTML_FOLDER]    # default: _build/html

Goals (issues 8 and 21), every page: first paint <= 3 s, math <= 3 s, first slider usable
<= 6 s, <= 3 MB transferred per chapter page.
"""

import functools
import gzip
import http.server
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8,
           "uploadThroughput": 750e3 / 8}
COMPRESSIBLE = (".html", ".js", ".css", ".svg", ".json", ".map", ".txt", ".ttf", ".eot")
GOAL_PAINT_S, GOAL_MATH_S, GOAL_SLIDERS_S, GOAL_BYTES = 3.0, 3.0, 6.0, 3_000_000
# Before the page is parsed: note when the last typeset formula entered the page (put
# there by the HTML parser, or by MathJax in a build that typesets in the browser).
WATCH_MATH = """
new MutationObserver(records => {
  for (const record of records) for (const node of record.addedNodes)
    if (node.nodeType === 1
        && (node.matches('mjx-container') || node.querySelector('mjx-container')))
      window.__bpMathReady = performance.now();
}).observe(document, {childList: true, subtree: true});
"""


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzipped when the browser accepts it (fonts and images as they are)."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if (path.suffix not in COMPRESSIBLE or not path.is_file()
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None


def serve(folder):
    """The book served with gzip on 127.0.0.1: (server, its address)."""
    handler = functools.partial(GzipHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def measure(browser, url):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.add_init_script(WATCH_MATH)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    transferred = []
    cdp.on("Network.loadingFinished", lambda event: transferred.append(event["encodedDataLength"]))
    page.goto(url, wait_until="load", timeout=180_000)
    page.wait_for_load_state("networkidle", timeout=180_000)
    paint = page.evaluate("""() => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return fcp ? fcp.startTime / 1000 : null; }""")
    load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd / 1000")
    math = page.evaluate("window.__bpMathReady ? window.__bpMathReady / 1000 : null")
    sliders = page.evaluate("""() => {
      const ready = document.documentElement.dataset.slidersReady;
      return ready && document.querySelector('.bp-slider input') ? ready / 1000 : null; }""")
    context.close()
    return paint, math, sliders, load, sum(transferred)


def main(folder):
    pages = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html")
                   if not p.relative_to(folder).parts[0].startswith("_")
                   and p.name not in ("genindex.html", "search.html"))
    server, site = serve(folder)
    print(f"slow 4G (1.6 Mbps, 150 ms), empty cache, gzip; goals: first paint <= "
          f"{GOAL_PAINT_S} s, math <= {GOAL_MATH_S} s, sliders <= {GOAL_SLIDERS_S} s, "
          f"<= {GOAL_BYTES / 1e6:.0f} MB per chapter page")
    print(f"{'page':56} {'first paint':>11} {'math ready':>10} {'sliders ready':>13} "
          f"{'load':>7} {'transferred':>12}")
    seconds = lambda value: f"{value:.2f}s" if value is not None else "-"  # noqa: E731
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name in pages:
            paint, math, sliders, load, size = measure(browser, site + name)
            over = paint is None or paint > GOAL_PAINT_S or (math or 0) > GOAL_MATH_S or (
                sliders or 0) > GOAL_SLIDERS_S or (
                name.startswith("chapters/") and size > GOAL_BYTES)
            print(f"{name:56} {seconds(paint):>11} {seconds(math):>10} {seconds(sliders):>13} "
                  f"{seconds(load):>7} {size / 1e6:9.2f} MB{'  over a goal' if over else ''}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html").resolve())
