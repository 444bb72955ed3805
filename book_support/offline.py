"""A Sphinx extension that keeps every built page free of requests outside the book.

Jupyter Book 1 always loads sphinx-thebe, which writes an inline script naming a CDN on
every page (twice, which the browser reports as a redeclared constant). The book has no
live-code button, so the script is dropped.
"""


def _drop_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files", [])
    context["script_files"] = [
        script for script in scripts
        if "THEBE_JS_URL" not in (getattr(script, "attributes", {}).get("body") or "")
        and not str(getattr(script, "filename", script)).startswith("sphinx-thebe.js")
    ]


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
