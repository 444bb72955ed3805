"""bplib: the library every chapter and exercise of the backpropagation course imports.

One module per chapter (``telephone`` for chapter 1, ...), plus ``network`` (the
backpropagation that chapter 5 derives, used earlier as a black box), ``plotting``
(every figure's drawing code) and ``widgets`` (the sliders that work without a kernel).
"""

from importlib import metadata

# The version is written in one place, pyproject.toml, and read here from the installed
# package's metadata; the book prints it on its first page, so that a student can match an
# installed bplib to the book.
try:
    __version__ = metadata.version("bplib")
except metadata.PackageNotFoundError:  # imported from a folder, not installed
    __version__ = "unknown"
