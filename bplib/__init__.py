"""bplib: the library every chapter and exercise of the backpropagation course imports.

One module per chapter (``telephone`` for chapter 1, ...), plus ``network`` (the
backpropagation that chapter 5 derives, used earlier as a black box), ``plotting``
(every figure's drawing code) and ``widgets`` (the sliders that work without a kernel).
"""

__version__ = "0.1.0"
