"""The grader's own digits: 297 images that bplib does not ship (see bplib/data/README.md).

Only the grader's process loads them, inside a hidden check's `judge=`: Assignment 5 measures
a student's trained network on images the student never had.
"""

from pathlib import Path

import numpy as np

HOLDOUT_FILE = Path(__file__).with_name("data") / "digits_holdout.npz"


def holdout_digits():
    """(x, labels): one image per column, pixels scaled from 0..16 to 0..1 as
    `bplib.network.digits` scales them."""
    with np.load(HOLDOUT_FILE) as data:
        return data["images"].T / 16.0, data["labels"].astype(int)
