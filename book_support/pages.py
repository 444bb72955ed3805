"""A Sphinx extension for the book as its readers see it.

- Assignment pages (the nbgrader releases under exercises/, shown unexecuted) are titled
  "Assignment n" and open with a note on what the page is and how to run it.
- Tables get numbered captions ("Table 2.1"), in page order: those drawn by
  ``bplib.plotting.html_table`` and the text's own ``:::{table} title`` alike.
- First paint comes before the widgets: the widget state moves from <head> to the end of
  the article (static/sliders.js draws the sliders from it), and each slider frame
  image becomes a file of its own that the browser fetches only when the frame is shown.
- No page jumps while its figures load: every SVG figure's <img> (and its phone
  version's <source>) carries the figure's width and height, so the browser keeps its
  place before the lazy image arrives.
- Light or dark as the reader's system asks: with the theme's mode "auto", the theme's
  inline script in <head> picks dark or light from prefers-color-scheme before the first
  paint (the theme itself only resolves "auto" later, in its deferred script).
- Figures readable on a phone: an SVG figure drawn by bplib carries its phone version and
  its smallest text (bplib.plotting.figure_svg); the phone version becomes a file of its
  own, served by <picture> to narrow screens, and the text size a data attribute.
- Only the Font Awesome icons the pages use, as a small font, instead of the theme's
  1.5 MB script of every icon.
- Assignment pages open with their title: the locked cell that checks for bplib comes
  after it.
- No line starts with a comma: an inline formula and the punctuation touching it are
  kept together (the browser may break a line after a formula's box, even before a
  comma).
"""

import base64
import hashlib
import html
import json
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
ASSIGNMENT = re.compile(r"exercises/(\d+)-[^/]+/[^/]+$")
FRAME_DATA = re.compile(r'(src|srcset)=\\"data:image/png;base64,([A-Za-z0-9+/=]+)\\"')
FIGURE_NOTE = re.compile(r"<!--bp-figure (\{.*?\})-->", re.S)
SVG_IMG = re.compile(r'<img ([^>]*?)src="([^"]*?_images/)([^"/]+)\.svg"([^>]*)>')
SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)(pt|px)?"[^>]*?\bheight="([\d.]+)(pt|px)?"')
# the theme's inline choice of theme (pydata-sphinx-theme's layout), and what it becomes
THEME_SCRIPT = 'document.documentElement.dataset.theme = localStorage.getItem("theme") || "auto";'
THEME_CHOSEN = ('document.documentElement.dataset.theme = localStorage.getItem("theme") || '
                '(matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");')
PHONE_MEDIA = "(max-width: 600px)"  # as bplib.plotting.PHONE_MEDIA
SCROLL_BOX = ('class="bp-diagram-scroll" tabindex="0" role="region" '  # as bplib.widgets
              'aria-label="diagram: scroll sideways with the arrow keys where it is cut off"')
BOOTSTRAP_CELL = "# bplib is the course's library."
GLUED = re.compile(r'(?P<before>[(\[“‘]+)?(?P<formula><span class="math notranslate nohighlight">'
                   r'.*?</span>)(?P<after>[,.;:!?)\]’”]+)?', re.S)


def _assignment_number(docname):
    match = ASSIGNMENT.match(docname)
    return int(match.group(1)) if match else None


def _launch_links(app, docname):
    """(label, url) for the notebook's download, the JupyterHub and Binder."""
    options = app.config.html_theme_options
    launch = options.get("launch_buttons", {})
    repo = options.get("repository_url", "").rstrip("/")
    branch = options.get("repository_branch", "main")
    path = f"{docname}.ipynb"
    links = [("download the notebook", "../" * docname.count("/") + f"_sources/{path}")]
    if launch.get("jupyterhub_url") and repo:
        links.append(("open it on the course's JupyterHub",
                      f"{launch['jupyterhub_url'].rstrip('/')}/hub/user-redirect/git-pull?"
                      f"repo={repo}&urlpath=lab/tree/{repo.split('/')[-1]}/{path}"
                      f"&branch={branch}"))
    if launch.get("binderhub_url") and repo:
        org_repo = "/".join(repo.split("/")[-2:])
        links.append(("run it on Binder", f"{launch['binderhub_url'].rstrip('/')}/v2/gh/"
                                          f"{org_repo}/{branch}?urlpath=lab/tree/{path}"))
    return links


def _introduce_assignment(app, doctree):
    """Title the page "Assignment n: ..." and say what it is, before the title is read."""
    docname = app.env.docname
    number = _assignment_number(docname)
    if number is None:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        return
    title = section[0]
    text = re.sub(r"^\s*(Exercise|Assignment)\s+\d+\s*[:.]?\s*", "", title.astext())
    title.children = [nodes.Text(f"Assignment {number}: {text}")]
    chapter = next((name for name in app.env.found_docs
                    if re.match(rf"chapters/0*{number}-", name)), None)
    note = nodes.admonition(classes=["note", "bp-assignment-note"])
    note += nodes.title(text="What this page is")
    intro = nodes.paragraph()
    intro += nodes.Text(f"Assignment {number} is a graded Jupyter notebook that goes with ")
    if chapter:
        ref = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget=f"/{chapter}",
                                    refexplicit=True, refwarn=True)
        ref += nodes.inline(text=f"chapter {number}")
        intro += ref
    else:
        intro += nodes.Text(f"chapter {number}")
    intro += nodes.Text(". This page shows it as students receive it, not run: its code cells "
                        "have no output yet, and its sliders appear only once you run the "
                        "notebook, so where it speaks of \"the slider below\", the slider "
                        "shows up under that cell when you run it. To work on it, ")
    links = _launch_links(app, docname)
    for k, (label, url) in enumerate(links):
        if k:
            intro += nodes.Text(", or " if k == len(links) - 1 else ", ")
        intro += nodes.reference(text=label, refuri=url)
    intro += nodes.Text(". Answer in the cells that say ")
    intro += nodes.literal(text="raise NotImplementedError()")
    intro += nodes.Text(", run the tests under them, and hand in the notebook as your "
                        "course asks.")
    note += intro
    section.insert(1, note)
    # The locked cell that checks for bplib comes first in the notebook (it must run
    # first); on the page it follows the title and the note.
    parent = section.parent
    for node in list(parent.children[:parent.index(section)]):
        if BOOTSTRAP_CELL in node.astext():
            parent.remove(node)
            node["classes"] = node.get("classes", []) + ["bp-install-cell"]
            section.insert(2, node)


PLAIN_TABLE = re.compile(r"Table ((?:\d+\.)*)(\d+): .+", flags=re.DOTALL)


def _number_tables(app, doctree, docname):
    """Number the captions of html_table's tables and of the text's titled tables
    (``:::{table} title``), in page order: "Table 2.1", "Table 2.2", ..."""
    chapter = app.env.toc_secnumbers.get(docname, {}).get("")
    prefix = f"{'.'.join(map(str, chapter))}." if chapter else ""
    # Sphinx numbers the text's titled tables alone; their numbers follow the page order
    numbered = getattr(app.env, "toc_fignumbers", {}).get(docname, {}).get("table", {})
    count = 0
    for node in doctree.findall(lambda n: isinstance(n, (nodes.raw, nodes.table,
                                                         nodes.paragraph))):
        if isinstance(node, nodes.paragraph):
            # the public edition's chapters are plain notebooks: a titled table there is
            # the table after a paragraph "*Table 3.1: title*" (tools/plain_chapters.py),
            # which keeps the course book's number; html_table's tables count on from it
            said = PLAIN_TABLE.fullmatch(node.astext())
            if (said and len(node.children) == 1 and isinstance(node[0], nodes.emphasis)
                    and said.group(1) == prefix):
                count = int(said.group(2))
            continue
        if isinstance(node, nodes.table):
            title = next(iter(node.findall(nodes.title)), None)
            if title is None:
                continue
            count += 1
            ids = [i for i in node["ids"] if i in numbered]
            if ids:
                numbered[ids[0]] = (*(chapter or ()), count)
            else:
                title.insert(0, nodes.inline(text=f"Table {prefix}{count} ",
                                             classes=["caption-number"]))
            continue
        if 'class="table bp-table"><caption>' not in node.astext():
            continue
        count += 1
        label = f'<span class="caption-number">Table {prefix}{count} </span>'
        text = node.astext().replace("<caption>", f"<caption>{label}", 1)
        node.children = [nodes.Text(text)]


def _state_after_content(app, pagename, templatename, context, doctree):
    """Move the inline widget state from <head> to the end of the article, so the text
    comes first; the (deferred) widget manager reads it once the page is parsed."""
    scripts = context.get("script_files", [])
    states = [s for s in scripts if getattr(s, "attributes", {}).get("type") == WIDGET_STATE]
    if not states:
        return
    context["script_files"] = [s for s in scripts if s not in states]
    context["body"] = context.get("body", "") + "".join(
        f'<script type="{WIDGET_STATE}">{s.attributes["body"]}</script>' for s in states)


def _frames_to_files(html_page, images):
    """Write every frame image of the page's widget state to _images/frames/ and refer to it
    there: the page shrinks to its text, and only frames shown are fetched."""
    text = html_page.read_text(encoding="utf-8")
    depth = len(html_page.relative_to(images.parent.parent).parts) - 1

    def to_file(match):
        png = base64.b64decode(match.group(2))
        name = f"{hashlib.sha256(png).hexdigest()[:20]}.png"
        (images / name).write_bytes(png)
        return f'{match.group(1)}=\\"{"../" * depth}_images/frames/{name}\\"'

    text = FRAME_DATA.sub(to_file, text)
    html_page.write_text(text, encoding="utf-8")


def _phone_figures(images):
    """Split every SVG figure that carries a note (bplib.plotting.figure_svg): its phone
    version goes to <name>.phone.svg; returns {name: note without the SVG}."""
    notes = {}
    for svg in images.glob("*.svg"):
        text = svg.read_text(encoding="utf-8")
        match = FIGURE_NOTE.search(text)
        if not match:
            continue
        note = json.loads(match.group(1))
        if note.get("phone"):
            (images / f"{svg.stem}.phone.svg").write_bytes(base64.b64decode(note["phone"]))
        note["phone"] = bool(note.get("phone"))
        svg.write_text(text[:match.start()] + text[match.end():], encoding="utf-8")
        notes[svg.stem] = note
    return notes


def _svg_sizes(images):
    """{name: 'width="w" height="h"'} of every SVG under images, in CSS px."""
    sizes = {}
    for svg in images.glob("*.svg"):
        with svg.open(encoding="utf-8") as file:
            match = SVG_SIZE.search(file.read(4000))
        if not match:
            raise ValueError(f"{svg.name}: its <svg> gives no width and height")
        width, height = (float(match.group(k)) * (4 / 3 if match.group(k + 1) == "pt" else 1)
                         for k in (1, 3))
        # The height follows the rounded width, so the box drawn before the image loads has
        # the ratio the browser uses after (the natural one) to within half a pixel.
        shown = max(1, round(width))
        sizes[svg.name[:-len(".svg")]] = f'width="{shown}" height="{round(shown * height / width)}"'
    return sizes


def _figure_html(notes, sizes):
    """An <img> of an SVG figure as the reader's screen needs it: its width and height (no
    jump when it loads); for a noted figure, a <picture> with the phone version for narrow
    screens, a diagram in a frame that scrolls where the screen is too narrow for it,
    reachable with Tab so a keyboard can scroll it, and the smallest text in CSS px at the
    image's natural size as data-font-px."""
    def rewrite(match):
        before, folder, name, after = match.groups()
        if " width=" not in f" {before} {after}":
            after = f" {sizes[name]}{after}"
        note = notes.get(name)
        if note is None:
            return f'<img {before}src="{folder}{name}.svg"{after}>'
        font_px = (note.get("font_pt") or 0) * 4 / 3  # SVG sizes are in points
        classes = "bp-figure bp-diagram" if note.get("diagram") else "bp-figure"
        if 'class="' in before + after:
            before = before.replace('class="', f'class="{classes} ', 1)
            after = after.replace('class="', f'class="{classes} ', 1)
        else:
            before += f'class="{classes}" '
        img = (f'<img {before}src="{folder}{name}.svg" loading="lazy" '
               f'data-font-px="{font_px:.1f}"{after}>')
        if note.get("phone"):
            img = (f'<picture><source media="{PHONE_MEDIA}" srcset="{folder}{name}.phone.svg" '
                   f'{sizes[name + ".phone"]}>{img}</picture>')
        if note.get("diagram"):
            return f'<span {SCROLL_BOX}>{img}</span>'
        return img
    return rewrite


FONTAWESOME_JS = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*">'
                            r'</script>')


def _icons(out, pages):
    """The theme's icon font cut down to the icons the pages and scripts name (a few kB),
    in _static/icons.css, which overrides the theme's @font-face rules."""
    from fontTools import subset

    static = out / "_static"
    theme_css = (static / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8")
    codes = {}
    for rule in re.finditer(r'([^{}]+)\{content:"\\(f[0-9a-f]{3,4})"\}', theme_css):
        for name in re.findall(r"\.fa-([a-z0-9-]+):+before", rule.group(1)):
            codes[name] = int(rule.group(2), 16)
    text = "".join(pages) + "".join(
        path.read_text(encoding="utf-8", errors="ignore") for path in static.rglob("*.js")
        if "fontawesome" not in path.name and path.stat().st_size < 2_000_000)
    used = {codes[name] for name in re.findall(r"fa-([a-z0-9-]+)", text) if name in codes}
    # the theme marks links to GitHub and GitLab with a brand icon of its own (a.github)
    for link, icon in re.findall(r"a\.([a-z]+):+before\{content:var\(--pst-icon-([a-z-]+)\)\}",
                                 theme_css):
        char = re.search(rf'--pst-icon-{icon}:"(.)"', theme_css)
        if char and re.search(rf'<a class="(?:[^"]* )?{link}[ "]', text):
            used.add(ord(char.group(1)))
    used = sorted(used)
    faces = []
    for font, weight, family in (("fa-solid-900", 900, "Font Awesome 6 Free"),
                                 ("fa-regular-400", 400, "Font Awesome 6 Free"),
                                 ("fa-brands-400", 400, "Font Awesome 6 Brands")):
        source = static / "vendor" / "fontawesome" / "webfonts" / f"{font}.ttf"
        if not source.is_file() or not used:
            continue
        options = subset.Options()
        options.flavor = "woff"
        options.ignore_missing_unicodes = True
        cut = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=used)
        subsetter.subset(cut)
        subset.save_font(cut, str(static / f"icons-{font}.woff"), options)
        faces.append(f'@font-face {{ font-family: "{family}"; font-style: normal; '
                     f'font-weight: {weight}; font-display: block; '
                     f'src: url("icons-{font}.woff") format("woff"); }}')
    (static / "icons.css").write_text(
        "/* Written by book_support/pages.py: the icons the book uses, nothing else. */\n"
        + "\n".join(faces) + "\n", encoding="utf-8")


def _glue(match):
    """An inline formula with the punctuation right before or after it, on one line."""
    before, formula, after = match.group("before", "formula", "after")
    if not before and not after:
        return formula
    return f'<span class="bp-nowrap">{before or ""}{formula}{after or ""}</span>'


def _rewrite_pages(app, exception):
    if exception or app.builder.format != "html":
        return
    out = Path(app.outdir)
    images = out / "_images" / "frames"
    images.mkdir(parents=True, exist_ok=True)
    notes = _phone_figures(out / "_images")
    sizes = _svg_sizes(out / "_images")
    pages = []
    for html_page in out.rglob("*.html"):
        _frames_to_files(html_page, images)
        text = html_page.read_text(encoding="utf-8")
        if THEME_SCRIPT not in text and "<html" in text and "bd-article" in text:
            raise ValueError(f"{html_page}: the theme's inline choice of light or dark mode "
                             "has changed; book_support/pages.py no longer finds it")
        text = text.replace(THEME_SCRIPT, THEME_CHOSEN)
        text = SVG_IMG.sub(_figure_html(notes, sizes), text)
        text = FONTAWESOME_JS.sub("", text)
        text = GLUED.sub(_glue, text)
        html_page.write_text(text, encoding="utf-8")
        pages.append(text)
    _icons(out, pages)


def _index_redirect(app, exception):
    """The site's index.html, written before sphinx-external-toc's bare redirect (which it
    then leaves alone): the same instant redirect to the root page, and also the site's
    language, title and icon (so a browser does not ask for /favicon.ico) and a link for a
    browser that does not follow the redirect."""
    if exception or app.builder.format != "html" or app.config.root_doc == "index":
        return
    target = html.escape(f"{app.config.root_doc}.html")
    title = html.escape(app.config.html_title or app.config.project)
    icon = (f'<link rel="icon" href="_static/{html.escape(Path(app.config.html_favicon).name)}">'
            if app.config.html_favicon else "")
    (Path(app.outdir) / "index.html").write_text(
        f'<!DOCTYPE html>\n<html lang="{html.escape(app.config.language or "en")}">\n'
        f'<head><meta charset="utf-8"><title>{title}</title>{icon}\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f'<meta http-equiv="Refresh" content="0; url={target}"></head>\n'
        f'<body><p><a href="{target}">{title}</a></p></body>\n</html>\n', encoding="utf-8")


def _unique_solution_ids(app, doctree, docname):
    """sphinx-exercise 1.2.1 gives every exercise's and solution's body the same id
    ("exercise-content", "solution-content"): a page with two would repeat it. Number them
    instead (nothing links to them)."""
    counts = {"exercise-content": 0, "solution-content": 0}
    for section in doctree.findall(nodes.section):
        for fixed in counts:
            if fixed in section["ids"]:
                counts[fixed] += 1
                section["ids"] = [f"{fixed}-{counts[fixed]}" if i == fixed else i
                                  for i in section["ids"]]


def _notebook_download(app, pagename, templatename, context, doctree):
    """Offer a MyST chapter's executed notebook as an .ipynb download. sphinx-book-theme
    only does so when a launch button is configured, and this private book has none."""
    if context.get("ipynb_source") or not str(context.get("sourcename", "")).endswith(
            (".md", ".md.txt")):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if executed.is_file():
        target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(executed, target)
        context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("doctree-resolved", _unique_solution_ids)
    app.connect("html-page-context", _notebook_download, priority=500)
    app.connect("doctree-read", _introduce_assignment, priority=400)
    app.connect("doctree-resolved", _number_tables)
    app.connect("html-page-context", _state_after_content, priority=950)
    app.connect("build-finished", _rewrite_pages)
    app.connect("build-finished", _index_redirect, priority=400)  # before the toc's
    app.add_css_file("book.css")
    app.add_css_file("icons.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
