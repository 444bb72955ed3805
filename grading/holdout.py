"""The grader's own digits: 297 images that bplib does not ship (see bplib/data/README.md).

Only the grader's process loads them, inside a hidden check's `judge=`: Assignment 5 measures
a student's trained network on images the student never had. They are the rest of
scikit-learn's digits, so they are public: an instructor who wants digits no student can
find puts their own in the course's grading-records/digits_holdout.npz (the same arrays as
HOLDOUT_FILE: `images`, one image of 64 pixels 0..16 per row, and `labels`, 0..9), which
then replaces them. The kernel never sees grading-records/.
"""

from pathlib import Path

import numpy as np

from . import state

HOLDOUT_FILE = Path(__file__).with_name("data") / "digits_holdout.npz"
OWN_HOLDOUT = "digits_holdout.npz"  # in grading-records/ of the course: the instructor's


def holdout_file(course=state.COURSE):
    """The instructor's own held-out digits if the course has them, else the shipped ones."""
    own = state.records(course) / OWN_HOLDOUT
    return own if own.is_file() else HOLDOUT_FILE


def holdout_digits(course=state.COURSE):
    """(x, labels): one image per column, pixels scaled from 0..16 to 0..1 as
    `bplib.network.digits` scales them."""
    path = holdout_file(course)
    with np.load(path) as data:
        if not {"images", "labels"} <= set(data.files):
            raise ValueError(f"{path} should hold the arrays 'images' and 'labels', not "
                             f"{sorted(data.files)}")
        images, labels = data["images"], data["labels"]
    if (images.ndim != 2 or images.shape[1] != 64 or labels.shape != (images.shape[0],)
            or len(labels) < 10 or images.min() < 0 or images.max() > 16
            or not np.isin(labels, np.arange(10)).all()):
        raise ValueError(f"{path} should hold 'images' of shape (n, 64) with pixels 0..16 "
                         f"and 'labels' of shape (n,) with digits 0..9, at least 10; it holds "
                         f"images {images.shape} and labels {labels.shape}")
    return images.T / 16.0, labels.astype(int)
