"""A Sphinx extension: the book's math typeset when the book is built, not in the browser.

Sphinx writes every formula as TeX (``\\(...\\)`` in a ``span.math``, ``\\[...\\]`` in a
``div.math``) for MathJax to typeset in the reader's browser; on slow 4G that took until
4-5 s, after MathJax (270 kB) and its fonts had arrived. Here MathJax typesets every
formula of the book once, in node (typeset.js, from the book's own node_modules), as SVG:
the glyphs are paths, kept once per page at the start of its body, so a formula shows as
soon as it is parsed and no font is fetched, and its colour is the text's (dark mode).
Screen readers read the MathML that MathJax puts beside each formula (mjx-assistive-mml),
as they did with MathJax in the browser. The pages no longer load MathJax; its stylesheet
for the SVG output is _static/math.css. A formula MathJax cannot read fails the build.
"""

import html
import json
import re
import subprocess
from pathlib import Path

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
SCRIPT = Path(__file__).with_name("typeset.js")
MATH = re.compile(r'(<(span|div) class="math notranslate nohighlight">)(.*?)(</\2>)', re.S)
DELIMITED = re.compile(r"^\s*\\([\[(])(.*)\\[\])]\s*$", re.S)
BODY = re.compile(r"<body[^>]*>")
CSS = "math.css"


def _drop_mathjax(app, pagename, templatename, context, doctree):
    """No MathJax script (nor its inline configuration) on any page."""
    def is_mathjax(script):
        body = getattr(script, "attributes", {}).get("body") or ""
        return (str(getattr(script, "filename", script) or "").startswith(
            app.config.mathjax_path) or body.startswith("window.MathJax"))

    context["script_files"] = [s for s in context.get("script_files", [])
                               if not is_mathjax(s)]


def _formula(match):
    """(tex, display) of a math span or div."""
    found = DELIMITED.match(html.unescape(match.group(3)))
    if not found:
        raise ValueError(f"math without \\( \\) or \\[ \\] delimiters: {match.group(0)[:200]}")
    return found.group(2), found.group(1) == "["


def typeset(pages):
    """For each page, {name: [(tex, display), ...]}: MathJax's SVG output of each formula,
    in order, and the glyphs they use (an <svg> of <defs>); and the stylesheet they need."""
    pages = [{"page": name, "formulas": list(formulas)} for name, formulas in pages.items()]
    result = subprocess.run(["node", str(SCRIPT), str(NODE_MODULES)],
                            input=json.dumps(pages), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"typesetting the book's math failed:\n{result.stderr}")
    typeset = json.loads(result.stdout)
    if [len(page["html"]) for page in typeset["pages"]] != [len(page["formulas"])
                                                            for page in pages]:
        raise RuntimeError("typeset.js returned a different number of formulas")
    return [(page["html"], page["glyphs"]) for page in typeset["pages"]], typeset["css"]


def _typeset_pages(app, exception):
    if exception or app.builder.format != "html":
        return
    out = Path(app.outdir)
    pages = {page: page.read_text(encoding="utf-8") for page in sorted(out.rglob("*.html"))}
    pages = {page: text for page, text in pages.items() if MATH.search(text)}
    typeset_pages, css = typeset({str(page.relative_to(out)): [
        _formula(match) for match in MATH.finditer(text)] for page, text in pages.items()})
    for (page, text), (svg, glyphs) in zip(pages.items(), typeset_pages, strict=True):
        formulas = iter(svg)
        text = MATH.sub(lambda m, formulas=formulas: m.group(1) + next(formulas) + m.group(4),
                        text)
        # the glyphs come first in the body, so a formula shows as soon as it is parsed
        text, found = BODY.subn(lambda m, glyphs=glyphs: m.group(0) + glyphs, text, count=1)
        if not found:
            raise ValueError(f"{page}: no <body> to put the formulas' glyphs in")
        page.write_text(text, encoding="utf-8")
    (out / "_static" / CSS).write_text(
        "/* Written by book_support/typeset.py: MathJax's styles for its SVG output. */\n"
        + css + "\n", encoding="utf-8")


def setup(app):
    app.connect("html-page-context", _drop_mathjax, priority=900)
    app.connect("build-finished", _typeset_pages)
    app.add_css_file(CSS)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
