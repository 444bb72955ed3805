"""Every figure of the course, one module per chapter, named as the chapter's module.

``plotting.telephone`` draws chapter 1's figures, ``plotting.graph`` chapter 2's, and so on;
``_common`` holds what they share (the colour palette, the figure size). Every drawing
function is also importable from ``bplib.plotting`` itself, so chapters and exercises
write ``plotting.draw_graph(...)``. Each function draws only what it is given and returns
a Figure; nothing here computes what a student is asked to compute.
"""

from ._common import FIGSIZE, PALETTE, html_table
from .graph import draw_graph, plot_bill_gradients, plot_path_costs, plot_sigmoid_layer
from .layers import (draw_backward_step, plot_checkpoint_costs, plot_gradient_norms,
                     plot_jacobian_costs, plot_stored_bytes, plot_sweep_costs)
from .telephone import (draw_threaded_line, line_html, plot_gradient_speedup,
                        plot_line_error, plot_message_counts)

__all__ = ["FIGSIZE", "PALETTE", "html_table", "draw_graph", "draw_threaded_line", "line_html",
           "plot_bill_gradients", "plot_gradient_speedup", "plot_line_error",
           "plot_message_counts", "plot_path_costs", "plot_sigmoid_layer",
           "draw_backward_step", "plot_checkpoint_costs", "plot_gradient_norms",
           "plot_jacobian_costs", "plot_stored_bytes", "plot_sweep_costs"]
