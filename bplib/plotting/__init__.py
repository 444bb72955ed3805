"""Every figure of the course, one module per chapter, named as the chapter's module.

``plotting.telephone`` draws chapter 1's figures, ``plotting.graph`` chapter 2's, and so on;
``_common`` holds what they share (the colour palette, the figure size). Every drawing
function is also importable from ``bplib.plotting`` itself, so chapters and exercises
write ``plotting.draw_graph(...)``. Each function draws only what it is given and returns
a Figure; nothing here computes what a student is asked to compute.
"""

import importlib

# Which module draws what. The modules import matplotlib, which takes about half a second,
# so each loads on first use: a notebook that imports plotting and never draws (an
# assignment being autograded, where sliders draw nothing) does not pay for it.
_DRAWN_BY = {
    "_common": ["FIGSIZE", "PALETTE", "TEXT_PALETTE", "html_table", "sci"],
    "telephone": ["draw_threaded_line", "line_html", "plot_gradient_speedup",
                  "plot_line_error", "plot_message_counts"],
    "graph": ["draw_graph", "plot_bill_gradients", "plot_path_costs", "plot_sigmoid_layer"],
    "layers": ["draw_backward_step", "plot_checkpoint_costs", "plot_gradient_norms",
               "plot_jacobian_costs", "plot_stored_bytes", "plot_sweep_costs"],
    "neuron": ["draw_zhou_network", "plot_error_curves", "plot_loop_costs",
               "plot_predictions", "plot_weight_tangent"],
    "network": ["plot_batch_costs", "plot_digit_grid", "plot_layer_gradients",
                "plot_learning_curves", "plot_slowdown"],
}
_MODULE_OF = {name: module for module, names in _DRAWN_BY.items() for name in names}
__all__ = list(_MODULE_OF)


def __getattr__(name):
    if name in _DRAWN_BY:  # a module: plotting.neuron
        return importlib.import_module(f".{name}", __name__)
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*__all__, *_DRAWN_BY])
