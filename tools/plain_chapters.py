"""The chapters as notebooks that read and run outside the book (make public).

A chapter is MyST Markdown: its text pastes numbers computed by its code (`{glue:text}`),
cites (`{cite}`), numbers figures (`{numref}`) and has admonitions, exercises and solutions
as directives. Outside the book (JupyterLab, Colab, Binder) all of that shows as raw markup,
and the code imports `myst_nb`, which a student does not have. Here each chapter becomes a
plain notebook:

- every glued value becomes the text the course's executed build computed (its outputs in
  _build/jupyter_execute), formatted exactly as the book formats it;
- every glued figure becomes an image file next to the notebook, with its caption;
- a citation becomes author-year text linked to the bibliography; a cross-reference the
  text the book shows ("Fig. 1.3", "Exercise 2.1", a page's title);
- admonitions become quotes, exercises bold headings, solutions collapsible <details>;
- `from myst_nb import glue` becomes a shim that only displays what the book displayed;
- a slider's cell opens with how to draw one of its frames where the slider does not show
  (a notebook run outside a live browser kernel prints only the widget's text);
- the first cell finds or installs bplib, exactly like the assignments' first cell.

Anything of MyST this module does not know fails the command: nothing is left half-done.
"""

import ast
import base64
import html
import json
import re
import textwrap
from pathlib import Path

import jupytext
import nbformat
from pybtex.database import parse_file

# A role (`{name}`content``) and the start of a directive fence, wherever they are left.
CAPTION = "caption: "  # numbers_in's key of a table found by its caption
ROLE = re.compile(r"\{([a-z][\w:.-]*)\}`([^`]*)`")
FENCE = re.compile(r"^(\s*)(`{3,}|:{3,})\{([\w:.-]+)\}\s*(.*)$")
TARGET = re.compile(r"^\s*\(([\w-]+)\)=\s*$")
GLUE_PREFIX = "application/papermill.record/"
SHIM = '''\
# In the book, glue() pasted values into the text; here the text already holds them, so
# glue() only shows what the book's page showed where it was called.
def glue(name, value, display=True):
    if display:
        from IPython.display import display as show
        show(value)'''


class Unconvertible(ValueError):
    """MyST markup that has no plain form here: the edition would show it raw."""


def glued_outputs(executed):
    """{name: mime bundle} of every glue() call in an executed notebook of the book (the
    outputs that myst-nb moved to <name>.glue.json, and any left in the notebook)."""
    found = {}
    store = executed.with_suffix(".glue.json")
    if store.is_file():
        for name, output in json.loads(store.read_text()).items():
            found[name] = {key.removeprefix(GLUE_PREFIX): value
                           for key, value in output.get("data", {}).items()}
    for cell in nbformat.read(executed, as_version=4).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                found.setdefault(name, {}).update({key.removeprefix(GLUE_PREFIX): value
                               for key, value in output.get("data", {}).items()})
    return found


def numbers_in(html_pages):
    """{label: "Fig. 1.3"} for every numbered figure, table and exercise of the built book.

    A caption's number belongs to the nearest figure, table or exercise before it that it
    lies inside: a figure's picture, its phone version and its alt text can put the caption
    any distance after the opening tag, so no distance is assumed."""
    numbers = {}
    opening = re.compile(r'<(figure|table|div)\b[^<>]*\bid="([\w-]+)"')
    caption = re.compile(r'<span class="caption-number">([^<]+)</span>')
    for page in html_pages:
        text = Path(page).read_text(encoding="utf-8")
        for found in caption.finditer(text):
            before = text[:found.start()]
            openings = list(opening.finditer(before))
            if not openings:
                continue
            tag, label = openings[-1].group(1), openings[-1].group(2)
            between = before[openings[-1].end():]
            inside = (f"</{tag}>" not in between if tag != "div"
                      else "<div" not in between and "</div>" not in between)
            if inside:
                numbers.setdefault(label, found.group(1).strip())
        # a table with a caption and no label is found by its caption's text
        for found in re.finditer(r'<caption>\s*<span class="caption-number">([^<]+)</span>'
                                 r'\s*<span class="caption-text">([^<]+)</span>', text):
            numbers.setdefault(caption_key(html.unescape(found.group(2))),
                               found.group(1).strip())
    return numbers


def caption_key(caption):
    """numbers_in's key of a table found by its caption: its text as the built page shows
    it (Sphinx turns straight quotes into curly ones)."""
    text = " ".join(caption.split())
    for straight, curly in (("'", "\u2019"), ('"', "\u201c"), ('"', "\u201d")):
        text = text.replace(curly, straight)
    return CAPTION + text


def authors_year(entry):
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [" ".join(person.last_names).replace("{", "").replace("}", "")
             for person in people]
    if not names:
        who = entry.fields.get("organization") or entry.fields.get("title", "?")
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who.replace('{', '').replace('}', '')} {entry.fields.get('year', 'n.d.')}"


class Chapter:
    """What a chapter's text needs from the book: its glued values and figures, the
    numbers of its figures and exercises, the bibliography and the pages' titles."""

    def __init__(self, glued, numbers, bibliography, titles, bibliography_link):
        self.glued, self.numbers, self.titles = glued, numbers, titles
        self.bibliography, self.bibliography_link = bibliography, bibliography_link
        self.figures = {}  # file name: PNG bytes, written next to the notebook

    # --- roles
    def role(self, match):
        name, content = match.group(1), match.group(2)
        if name == "glue:text":
            key, _, spec = content.rpartition(":") if ":" in content else (content, "", "s")
            key = key or content
            if key not in self.glued or "text/plain" not in self.glued[key]:
                raise Unconvertible(f"glued value {key!r} is not in the executed book")
            from myst_nb.core.variables import format_plain_text
            return format_plain_text(self.glued[key]["text/plain"], spec or "s")
        if name == "cite":
            cited = []
            for key in (k.strip() for k in content.split(",")):
                if key not in self.bibliography.entries:
                    raise Unconvertible(f"{{cite}} of {key!r}: not in references.bib")
                cited.append(authors_year(self.bibliography.entries[key]))
            return f"([{'; '.join(cited)}]({self.bibliography_link}))"
        if name in ("numref", "ref"):
            text, label = self.explicit(content)
            number = self.numbers.get(label)
            if number is None:
                raise Unconvertible(f"{{{name}}}`{content}`: no number for {label!r} in the book")
            return text.replace("%s", number.split()[-1]) if text else number
        if name == "doc":
            text, target = self.explicit(content)
            path = target if target.startswith(".") else "./" + target
            suffix = ".ipynb" if "exercises/" in target or "chapters/" in target else ".md"
            title = text or self.titles.get(target.rsplit("/", 1)[-1], "")
            if not title:
                raise Unconvertible(f"{{doc}}`{content}`: no title known for {target!r}")
            return f"[{title}]({path}{suffix})"
        raise Unconvertible(f"role {{{name}}} has no plain form")

    @staticmethod
    def explicit(content):
        """("text", "target") of `text <target>`, or ("", "target")."""
        found = re.fullmatch(r"\s*(.*?)\s*<([^>]+)>\s*", content, flags=re.DOTALL)
        return (found.group(1), found.group(2)) if found else ("", content.strip())

    def inline(self, text):
        return ROLE.sub(self.role, text)

    # --- directives
    def directive(self, name, argument, options, body):
        body = self.markdown(body).strip("\n")
        if name == "glue:figure":
            bundle = self.glued.get(argument, {})
            if "image/svg+xml" in bundle:
                file_name = f"{argument}.svg"
                self.figures[file_name] = bundle["image/svg+xml"].encode("utf-8")
            elif "image/png" in bundle:
                file_name = f"{argument}.png"
                self.figures[file_name] = base64.b64decode(bundle["image/png"])
            else:
                raise Unconvertible(f"glued figure {argument!r} is not in the executed book")
            label = options.get("name", "")
            number = self.numbers.get(label, "")
            if label and not number:
                raise Unconvertible(f"figure {label!r} has no number in the book")
            alt = options.get("alt", "").replace("]", ")").replace("[", "(")
            caption = f"*{number}: {body}*" if number else f"*{body}*"
            return f"![{alt}](figures/{file_name})\n\n{caption}"
        if name == "table":
            label = options.get("name", "")
            number = self.numbers.get(label) if label else \
                self.numbers.get(caption_key(argument))
            if number is None:
                raise Unconvertible(f"table {label or argument!r} has no number in the book")
            return f"*{number}: {self.inline(argument)}*\n\n{body}"
        if name == "admonition":
            quoted = "\n".join(f"> {line}".rstrip() for line in body.splitlines())
            return f"> **{argument}**\n>\n{quoted}"
        if name == "exercise":
            label = options.get("label", "")
            number = self.numbers.get(label)
            if number is None:
                raise Unconvertible(f"exercise {label!r} has no number in the book")
            title = f"**{number}**" + (f" ({argument})" if argument else "")
            quoted = "\n".join(f"> {line}".rstrip() for line in body.splitlines())
            return f"> {title}\n>\n{quoted}"
        if name == "solution":
            number = self.numbers.get(argument)
            if number is None:
                raise Unconvertible(f"solution to {argument!r}: its exercise has no number")
            return (f"<details>\n<summary>Solution to {number}</summary>\n\n{body}\n\n"
                    "</details>")
        raise Unconvertible(f"directive {{{name}}} has no plain form")

    def markdown(self, text):
        """Markdown text without MyST: directives, targets, comments and roles replaced."""
        lines, out, i = text.splitlines(), [], 0
        while i < len(lines):
            line = lines[i]
            fence = FENCE.match(line)
            if fence:
                indent, marks, name, argument = fence.groups()
                j, options = i + 1, {}
                while j < len(lines) and re.match(r"\s*:[\w-]+:", lines[j]):
                    key, _, value = lines[j].strip()[1:].partition(":")
                    options[key] = value.strip()
                    j += 1
                body, depth = [], 1
                while j < len(lines):
                    inner = FENCE.match(lines[j])
                    if (inner and inner.group(2)[0] == marks[0]
                            and len(inner.group(2)) == len(marks)):
                        depth += 1
                    elif lines[j].strip() == marks:
                        depth -= 1
                        if depth == 0:
                            break
                    body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
                    j += 1
                else:
                    raise Unconvertible(f"directive {{{name}}} is never closed")
                converted = self.directive(name, argument.strip(), options, "\n".join(body))
                out += [indent + piece if piece else piece for piece in converted.splitlines()]
                i = j + 1
                continue
            if TARGET.match(line) or re.match(r"^%( |$)", line):
                i += 1
                continue
            out.append(line)
            i += 1
        return self.inline("\n".join(out))


SLIDERS = {"frame_slider": 1, "frame_grid": 2}  # bplib.widgets' sliders: how many values


def frame_kinds(executed):
    """{code cell source: "figure" or "html"} for each slider cell of the executed
    notebook: what its drawing function returns, read off the frames the book stored (a
    figure's frame is an <img class="bp-frame...">, an HTML string's frame is itself)."""
    notebook = nbformat.read(executed, as_version=4)
    state = notebook.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    kinds = {}
    for cell in notebook.cells:
        views = [output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
                 for output in cell.get("outputs", [])
                 if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
        if cell.cell_type != "code" or not views:
            continue
        frames, todo, seen = [], list(views), set()
        while todo:
            model_id = todo.pop()
            if model_id in seen or model_id not in state:
                continue
            seen.add(model_id)
            model = state[model_id]
            if model["model_name"] == "HTMLModel":
                frames.append(model["state"].get("value", ""))
            todo += re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(model["state"]))
        figures = sum('class="bp-frame' in frame for frame in frames)
        if frames:
            kinds[cell.source] = "figure" if figures == len(frames) else (
                "html" if not figures else "mixed")
    return kinds


def slider_hint(source, kind):
    """The comment that opens a slider cell in the plain notebook: how to draw one frame in
    a new cell, by calling the drawing function the slider was given with its values."""
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             and getattr(node.func, "attr", getattr(node.func, "id", "")) in SLIDERS]
    if len(calls) != 1 or kind not in ("figure", "html"):
        raise Unconvertible(f"a slider cell whose frames cannot be described ({kind}): "
                            f"{source[:80]!r}")
    call = calls[0]
    count = SLIDERS[getattr(call.func, "attr", getattr(call.func, "id", ""))]
    if len(call.args) < 1 + count or not isinstance(call.args[0], ast.Name):
        raise Unconvertible(f"a slider not drawn by a named function: {source[:80]!r}")
    names = ["value"] if count == 1 else ["a", "b"]
    drawn = f"`{call.args[0].id}({', '.join(names)})`"
    if kind == "html":
        drawn = f"`from IPython.display import HTML` and `HTML({drawn[1:-1]})`"
    values = ", ".join(f"{name} one of `{ast.unparse(argument)}`"
                       for name, argument in zip(names, call.args[1:1 + count], strict=True))
    text = ("Where the slider does not show (a notebook run outside a live browser kernel "
            "prints only its text, `VBox(children=...)`), draw one frame in a new cell with "
            f"{drawn}, {values}.")
    return "\n".join(textwrap.wrap(" ".join(text.split()), 88, initial_indent="# ",
                                   subsequent_indent="# ",
                                   break_on_hyphens=False, break_long_words=False)) + "\n"


def leftovers(text):
    """The MyST-only markup left in a Markdown text (roles, directives, targets)."""
    found = [m.group(0) for m in ROLE.finditer(text)]
    found += [line for line in text.splitlines()
              if FENCE.match(line) or TARGET.match(line) or re.match(r"^%( |$)", line)]
    return found


def plain_chapter(source, chapter, first_cell, kinds=None):
    """The notebook of the MyST chapter `source`, as described at the top; `kinds` are its
    slider cells' frame kinds (frame_kinds of its executed notebook)."""
    kinds = kinds or {}
    notebook = jupytext.read(source)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = chapter.markdown(cell.source)
            left = leftovers(cell.source)
            if left:
                raise Unconvertible(f"{source.name}: MyST left in the text: {left[:3]}")
        elif cell.cell_type == "code":
            if "myst_nb" in cell.source:
                cell.source = re.sub(r"^from myst_nb import glue$", SHIM, cell.source,
                                     flags=re.MULTILINE)
                if "myst_nb" in cell.source:
                    raise Unconvertible(f"{source.name}: myst_nb used beyond glue")
            if any(f"{name}(" in cell.source for name in SLIDERS):
                cell.source = slider_hint(cell.source, kinds.get(cell.source)) + cell.source
    notebook.cells.insert(0, nbformat.from_dict(first_cell))  # a copy per chapter
    for number, cell in enumerate(notebook.cells):
        cell.id = f"{source.stem}-{number}"  # stable: a new run of make public changes no id
    notebook.metadata.pop("jupytext", None)
    return notebook


def page_titles(repo):
    """{page stem: its first heading} of the book's Markdown pages."""
    titles = {}
    for page in list(repo.glob("*.md")) + list(repo.glob("appendix/*.md")) + \
            list(repo.glob("chapters/*.md")):
        heading = re.search(r"^# (.+)$", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
        if heading:
            titles[page.stem] = heading.group(1).strip()
    return titles


def convert_all(repo, build, folder, first_cell):
    """Write folder/<chapter>.ipynb (and folder/figures/) for every chapter of the course,
    from the course's executed build `build` (its _build folder)."""
    build = Path(build)
    if not (build / "jupyter_execute" / "chapters").is_dir() or not (build / "html").is_dir():
        raise SystemExit(f"make public: no executed book in {build}: run `make book` first")
    numbers = numbers_in(sorted((build / "html").rglob("*.html")))
    bibliography = parse_file(str(repo / "references.bib"))
    titles = page_titles(repo)
    written = []
    for source in sorted((repo / "chapters").glob("*.md")):
        executed = build / "jupyter_execute" / "chapters" / f"{source.stem}.ipynb"
        if not executed.is_file():
            raise SystemExit(f"make public: {executed} is missing: run `make book` first")
        chapter = Chapter(glued_outputs(executed), numbers, bibliography, titles,
                          "../bibliography.md")
        notebook = plain_chapter(source, chapter, first_cell, frame_kinds(executed))
        target = folder / f"{source.stem}.ipynb"
        nbformat.write(notebook, target)
        if chapter.figures:
            (folder / "figures").mkdir(exist_ok=True)
            for name, png in chapter.figures.items():
                (folder / "figures" / name).write_bytes(png)
        written.append(target)
    return written
