"""Every figure of the course, one module per chapter, named as the chapter's module.

``plotting.telephone`` draws chapter 1's figures, ``plotting.graph`` chapter 2's, and so on;
``_common`` holds what they share (the colour palette, the figure size). Every drawing
function is also importable from ``bplib.plotting`` itself, so chapters and exercises
write ``plotting.draw_graph(...)``. Each function draws only what it is given and returns
a Figure; nothing here computes what a student is asked to compute.
"""

from ._common import FIGSIZE, PALETTE, TEXT_PALETTE, html_table, sci
from .graph import draw_graph, plot_bill_gradients, plot_path_costs, plot_sigmoid_layer
from .layers import (draw_backward_step, plot_checkpoint_costs, plot_gradient_norms,
                     plot_jacobian_costs, plot_stored_bytes, plot_sweep_costs)
from .network import (plot_batch_costs, plot_digit_grid, plot_layer_gradients,
                      plot_learning_curves, plot_slowdown)
from .neuron import (draw_zhou_network, plot_error_curves, plot_loop_costs, plot_predictions,
                     plot_weight_tangent)
from .telephone import (draw_threaded_line, line_html, plot_gradient_speedup,
                        plot_line_error, plot_message_counts)

__all__ = ["FIGSIZE", "PALETTE", "TEXT_PALETTE", "html_table", "sci",
           # chapter 1
           "draw_threaded_line", "line_html", "plot_gradient_speedup", "plot_line_error",
           "plot_message_counts",
           # chapter 2
           "draw_graph", "plot_bill_gradients", "plot_path_costs", "plot_sigmoid_layer",
           # chapter 3
           "draw_backward_step", "plot_checkpoint_costs", "plot_gradient_norms",
           "plot_jacobian_costs", "plot_stored_bytes", "plot_sweep_costs",
           # chapter 4
           "draw_zhou_network", "plot_error_curves", "plot_loop_costs", "plot_predictions",
           "plot_weight_tangent",
           # chapter 5
           "plot_batch_costs", "plot_digit_grid", "plot_layer_gradients",
           "plot_learning_curves", "plot_slowdown"]
