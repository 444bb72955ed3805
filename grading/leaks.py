"""The lines a student must never see, and a scan for them.

Used by the tests (the release, the book, the feedback) and by the grader (feedback pages,
outputs of graded notebooks): one definition of a secret for both.
"""

import base64
import html
import re
from pathlib import Path

import nbformat

MARKER = r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)"
# Shorter lines (`return x`) occur in any code; as secrets they would only raise false alarms.
MIN_SECRET_LENGTH = 12


def secret_lines(notebook):
    """{"SOLUTION": lines, "HIDDEN TESTS": lines}: lines that occur only inside such regions.

    A line that also occurs outside every region (an import, say) is no secret.
    """
    inside, outside = region_lines(notebook)
    return {kind: {line for line in lines - outside if len(line) >= MIN_SECRET_LENGTH}
            for kind, lines in inside.items()}


def region_lines(notebook):
    """({"SOLUTION": lines, "HIDDEN TESTS": lines}, lines outside every region), stripped."""
    inside = {"SOLUTION": set(), "HIDDEN TESTS": set()}
    outside = set()
    for cell in notebook.cells:
        region = None
        for line in cell.source.splitlines():
            marker = re.search(MARKER, line)
            if marker:
                region = marker.group(2) if marker.group(1) == "BEGIN" else None
            elif region:
                inside[region].add(line.strip())
            else:
                outside.add(line.strip())
    return inside, outside


def all_secret_lines(solutions):
    """Every secret line of every instructor notebook in the folders under `solutions`,
    and every line of the catalogue of mistakes next to it (grading.mistakes.variant_lines:
    the variants are near-solution code)."""
    from .mistakes import variant_lines

    secrets = set()
    for source in sorted(Path(solutions).glob("*/*.ipynb")):
        for lines in secret_lines(nbformat.read(source, as_version=4)).values():
            secrets |= lines
    return secrets | variant_lines(Path(solutions).resolve().parent)


def html_text(path):
    """The text a reader sees in an HTML page: syntax-highlighting tags split code into
    pieces, so they are removed before looking for a line of code."""
    page = Path(path).read_text(encoding="utf-8", errors="replace")
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def leaks_in_text(text, secrets):
    """The secret lines and region markers found in a text."""
    found = {secret for secret in secrets if secret in text}
    return found | {marker.group(0) for marker in re.finditer(MARKER, text)}


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
HEX = re.compile(r"(?:[0-9a-fA-F]{2}){8,}")
MAX_DECODED = 4_000_000  # characters of decoded text scanned for one text


def _blobs(text):
    """The texts that base64 or hex blobs in text decode to (whitespace inside a blob, as
    base64 writes it in lines, ignored)."""
    squeezed = re.sub(r"\s+", "", text)
    found = []
    for match in BASE64.finditer(squeezed):
        blob = match.group(0).replace("-", "+").replace("_", "/").rstrip("=")
        for start in range(4):  # a blob glued to a word before it
            part = blob[start:]
            if len(part) % 4 == 1:  # a stray character at the end
                part = part[:-1]
            try:
                found.append(base64.b64decode(part + "=" * (-len(part) % 4),
                                              validate=True).decode("utf-8", "replace"))
            except ValueError:
                pass
    for match in HEX.finditer(squeezed):
        for start in range(2):
            part = match.group(0)[start:]
            found.append(bytes.fromhex(part[: len(part) - len(part) % 2]).decode(
                "utf-8", "replace"))
    return found


def decoded(text):
    """text, and what a reader or a decoder makes of it: HTML tags and entities and
    terminal colour codes removed, base64 and hex blobs decoded (twice nested at most)."""
    texts = [text]
    plain = html.unescape(re.sub(r"<[^>]*>", "", ANSI.sub("", text)))
    texts.append(plain)
    for layer in range(2):
        new = [blob for source in texts[-2 if layer == 0 else -1:] for blob in _blobs(source)]
        new = [blob for blob in new if sum(c.isprintable() or c.isspace() for c in blob)
               > 0.8 * len(blob)]
        if not new:
            break
        texts.append("\n".join(new))
    total, kept = 0, []
    for part in texts:
        total += len(part)
        if total > MAX_DECODED:
            break
        kept.append(part)
    return kept


def leaks_in_decoded(text, secrets, markers=True):
    """leaks_in_text on every decoding of text (decoded), also with all whitespace
    removed (a line split over several lines, or spaced out). markers=False: secret
    lines only."""
    squeezed = {re.sub(r"\s+", "", secret): secret for secret in secrets}
    found = set()
    for part in decoded(text):
        found |= {secret for secret in secrets if secret in part}
        flat = re.sub(r"\s+", "", part)
        found |= {secret for short, secret in squeezed.items() if short and short in flat}
        if markers:
            found |= {marker.group(0) for marker in re.finditer(MARKER, part)}
    return found


def notebook_text(path):
    """The sources and outputs of a notebook's cells as plain text: in the file's JSON a
    line with quotes in it is escaped, and would not be found."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - not a notebook after all: its raw text is scanned
        return ""
    parts = []
    for cell in notebook.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts += [str(value) for value in output.get("data", {}).values()]
            parts += [str(line) for line in output.get("traceback", [])]
    return "\n".join(parts)


def leaks_in(paths, secrets):
    """(file, line) for every secret line or region marker found in the files."""
    found = []
    for path in paths:
        path = Path(path)
        texts = [path.read_text(encoding="utf-8", errors="replace")]
        if path.suffix == ".html":
            texts.append(html_text(path))
        if path.suffix == ".ipynb":
            texts.append(notebook_text(path))
        for text in texts:
            found += [(str(path), leak) for leak in leaks_in_text(text, secrets)]
    return sorted(set(found))
