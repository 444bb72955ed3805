"""bplib: the library every chapter and exercise of the backpropagation course imports.

One module per chapter (``telephone`` for chapter 1, ...), plus ``network`` (the
backpropagation that chapter 5 derives, used earlier as a black box), ``plotting``
(every figure's drawing code) and ``widgets`` (the sliders that work without a kernel).
"""

# The version of bplib, the one place it is written (pyproject.toml reads it from here);
# the book prints it on its first page, so a student can match an installed bplib to it.
__version__ = "1.1.0"
