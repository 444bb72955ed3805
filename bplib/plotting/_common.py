"""What every chapter's figures share: the palette, the figure size, small checks.

pyplot creates each figure and then forgets it, so a notebook shows a figure only where
the caller displays (or glues) it, and the many frames of a slider don't pile up.
Colours come from the Okabe-Ito palette, which stays distinguishable with colour-blind
vision, and every series also differs in line style or marker.
"""

import matplotlib.pyplot as plt
from IPython.display import HTML

PALETTE = {
    "forward": "#0072B2",   # blue
    "backward": "#D55E00",  # vermillion
    "error": "#E69F00",     # orange
    "highlight": "#009E73",  # bluish green
    "neutral": "#999999",   # grey
}
FIGSIZE = (6, 3.5)


def new_figure():
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    # Let go of pyplot's reference: the figure still draws and displays, but a notebook
    # no longer shows it by itself at the end of the cell, and slider frames don't pile up.
    plt.close(fig)
    return fig, ax


def same_length(**series):
    lengths = {name: len(values) for name, values in series.items()}
    if len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise ValueError(f"expected non-empty series of equal length, got lengths {lengths}")


def count_noun(number, noun):
    return f"{number} {noun}" + ("" if number == 1 else "s")



def html_table(header, rows, caption=None):
    """An HTML table of already formatted cells (pandas is not part of this course's toolbox),
    as an IPython HTML object that a notebook displays. Cells are inserted as given."""
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells, one per column of {header}")
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    title = f"<caption>{caption}</caption>" if caption else ""
    return HTML(f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
